//! `POST /api/batch`: routes each request of the batch to a record action, then runs them all
//! in one transaction through the record service.

use std::time::Duration;

use axum::Json;
use axum::extract::{FromRequest, Request, State};
use axum::http::{StatusCode, header};
use oxbase_core::Error;
use oxbase_core::records::batch::{BatchAction, BatchFailure, BatchOp, failure_body};
use oxbase_core::records::input::BodyKind;
use oxbase_core::records::write::WriteInput;
use serde_json::Value;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Context, query_map};

pub async fn batch(
    State(state): State<AppState>,
    ctx: Context,
    request: Request,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let settings = state.app.settings();
    let max = settings
        .get(&["batch", "maxRequests"])
        .as_i64()
        .unwrap_or(50);
    // PB-COMPAT: a zero maxRequests disables batches as well.
    if !settings
        .get(&["batch", "enabled"])
        .as_bool()
        .unwrap_or(false)
        || max <= 0
    {
        return Err(ApiError(Error::Forbidden(
            "Batch requests are not allowed.".into(),
        )));
    }
    let max = max as usize;
    // PB-COMPAT: the batch has its own body limit (`maxBodySize`, 128 MiB when 0) instead of
    // the server-wide one, and a transaction timeout (`timeout` seconds, 3 when 0).
    let max_body = settings
        .get(&["batch", "maxBodySize"])
        .as_i64()
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_MAX_BODY) as usize;
    let timeout = Duration::from_secs(
        settings
            .get(&["batch", "timeout"])
            .as_u64()
            .filter(|n| *n > 0)
            .unwrap_or(3),
    );
    let too_large = || ApiError(Error::TooLarge("Request entity too large.".into()));
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max_body) {
        return Err(too_large());
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, max_body)
        .await
        .map_err(|_| too_large())?;
    let Body(input) = Body::from_request(
        Request::from_parts(parts, axum::body::Body::from(bytes)),
        &state,
    )
    .await?;

    let requests = input
        .body
        .get("requests")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if requests.is_empty() {
        return Err(ApiError(Error::field(
            "requests",
            "validation_required",
            "Cannot be blank.",
        )));
    }
    if requests.len() > max {
        return Err(ApiError(Error::field(
            "requests",
            "validation_length_too_long",
            format!("The length must be no more than {max}."),
        )));
    }
    let mut ops = Vec::with_capacity(requests.len());
    for (i, r) in requests.iter().enumerate() {
        ops.push(route(r, i, &input).ok_or_else(|| {
            // PB-COMPAT: an action the batch does not support fails as a generic bad request.
            let response = ApiError(Error::bad_request(
                "Something went wrong while processing your request.",
            ))
            .to_body()
            .1;
            failed(failure_body(i, response))
        })?);
    }
    let mut info = ctx.info;
    info.context = "batch".into();
    match state.app.records().batch(&info, ops, Some(timeout)).await {
        Ok(responses) => Ok((
            StatusCode::OK,
            Json(serde_json::to_value(responses).unwrap_or_default()),
        )),
        Err(BatchFailure::Request { index, error }) => {
            let response = ApiError(error).to_body().1;
            Err(failed(failure_body(index, response)))
        }
        Err(BatchFailure::Timeout) => Err(failed(Value::Object(Default::default()))),
    }
}

/// PB-COMPAT: 128 MiB, the batch body limit when `maxBodySize` is 0.
const DEFAULT_MAX_BODY: i64 = 128 << 20;

/// 400 "Batch transaction failed." with `data`.
fn failed(data: Value) -> ApiError {
    ApiError(Error::BadRequest {
        message: "Batch transaction failed.".into(),
        data: data
            .as_object()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .collect(),
    })
}

/// Request `index` of a batch, `{method, url, body}`, → a record action, for the record routes
/// only. PB-COMPAT: its files come as multipart parts named `requests.<index>.<field>`.
fn route(request: &Value, index: usize, batch: &WriteInput) -> Option<BatchOp> {
    let method = request
        .get("method")
        .and_then(Value::as_str)?
        .to_ascii_uppercase();
    let url = request.get("url").and_then(Value::as_str)?;
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (collection, id) = match segments.as_slice() {
        ["api", "collections", c, "records"] => (*c, None),
        ["api", "collections", c, "records", id] => (*c, Some(*id)),
        _ => return None,
    };
    let action = match (method.as_str(), id) {
        ("POST", None) => BatchAction::Create,
        ("PUT", None) => BatchAction::Upsert,
        ("PATCH", Some(id)) => BatchAction::Update(id.to_owned()),
        ("DELETE", Some(id)) => BatchAction::Delete(id.to_owned()),
        _ => return None,
    };
    let mut body = request
        .get("body")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let prefix = format!("requests.{index}.");
    let mut files = Vec::new();
    for (key, value) in batch
        .body
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?, v)))
    {
        let names: Vec<&str> = match value {
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
            v => v.as_str().into_iter().collect(),
        };
        files.extend(
            batch
                .files
                .iter()
                .filter(|f| names.contains(&f.name.as_str()))
                .cloned(),
        );
        body.insert(key.to_owned(), value.clone());
    }
    let q = query_map(Some(query));
    let text = |k: &str| q.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    Some(BatchOp {
        action,
        collection: percent_decoded(collection),
        input: WriteInput {
            body,
            kind: Some(batch.kind.unwrap_or(BodyKind::Json)),
            files,
        },
        expand: text("expand"),
        fields: text("fields"),
    })
}

fn percent_decoded(s: &str) -> String {
    form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}
