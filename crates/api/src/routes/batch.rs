//! `POST /api/batch`: routes each request of the batch to a record action, then runs them all
//! in one transaction through the record service.

use axum::Json;
use axum::extract::{FromRequest, Request, State};
use axum::http::{StatusCode, header};
use oxbase_core::Error;
use oxbase_core::records::batch::{BatchAction, BatchFailure, BatchLimits, BatchOp, failure_body};
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
    let limits = BatchLimits::of(state.app.settings())?;
    let too_large = || ApiError(Error::TooLarge("Request entity too large.".into()));
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limits.max_body) {
        return Err(too_large());
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, limits.max_body)
        .await
        .map_err(|_| too_large())?;
    let Body(input) = Body::from_request(
        Request::from_parts(parts, axum::body::Body::from(bytes)),
        &state,
    )
    .await?;
    let requests = match input.body.get("requests") {
        Some(Value::Array(requests)) => requests.as_slice(),
        _ => &[],
    };
    let routed = |r: &Value, i: usize| route(r, i, &input);
    match state
        .app
        .records()
        .batch(ctx.info, &limits, requests, routed)
        .await
    {
        Ok(responses) => Ok((
            StatusCode::OK,
            Json(serde_json::to_value(responses).unwrap_or_default()),
        )),
        Err(BatchFailure::Refused(error)) => Err(ApiError(error)),
        Err(BatchFailure::Request { index, error }) => {
            let response = ApiError(error).to_body().1;
            Err(failed(failure_body(index, response)))
        }
        Err(BatchFailure::Timeout) => Err(failed(Value::Object(Default::default()))),
    }
}

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
