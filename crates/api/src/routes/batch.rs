//! `POST /api/batch`: routes each request of the batch to a record action, then runs them all
//! in one transaction through the record service.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use oxbase_core::records::batch::{failure_body, BatchAction, BatchOp};
use oxbase_core::records::input::BodyKind;
use oxbase_core::records::write::WriteInput;
use oxbase_core::Error;
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::extract::{query_map, Body, Context};
use crate::AppState;

pub async fn batch(State(state): State<AppState>, ctx: Context, Body(input): Body) -> ApiResult<(StatusCode, Json<Value>)> {
    let settings = state.app.settings();
    if !settings.get(&["batch", "enabled"]).as_bool().unwrap_or(false) {
        return Err(ApiError(Error::Forbidden("Batch requests are not allowed.".into())));
    }
    let requests = input.body.get("requests").and_then(Value::as_array).cloned().unwrap_or_default();
    if requests.is_empty() {
        return Err(ApiError(Error::field("requests", "validation_required", "Cannot be blank.")));
    }
    let max = settings.get(&["batch", "maxRequests"]).as_u64().unwrap_or(50) as usize;
    if requests.len() > max {
        return Err(ApiError(Error::field("requests", "validation_length_too_long", format!("The length must be no more than {max}."))));
    }
    let mut ops = Vec::with_capacity(requests.len());
    for (i, r) in requests.iter().enumerate() {
        ops.push(route(r, input.kind).ok_or_else(|| {
            let response = ApiError(Error::NotFound("The requested resource wasn't found.".into())).to_body().1;
            ApiError(Error::BadRequest { message: "Batch transaction failed.".into(), data: failure_body(i, response).as_object().cloned().unwrap_or_default().into_iter().collect() })
        })?);
    }
    let mut info = ctx.info;
    info.context = "batch".into();
    match state.app.records().batch(&info, ops).await {
        Ok(responses) => Ok((StatusCode::OK, Json(serde_json::to_value(responses).unwrap_or_default()))),
        Err(failure) => {
            let response = ApiError(failure.error).to_body().1;
            let data = failure_body(failure.index, response).as_object().cloned().unwrap_or_default();
            Err(ApiError(Error::BadRequest { message: "Batch transaction failed.".into(), data: data.into_iter().collect() }))
        }
    }
}

/// `{method, url, body}` → a record action, for the record routes only.
fn route(request: &Value, kind: Option<BodyKind>) -> Option<BatchOp> {
    let method = request.get("method").and_then(Value::as_str)?.to_ascii_uppercase();
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
    let body = request.get("body").and_then(Value::as_object).cloned().unwrap_or_default();
    let q = query_map(Some(query));
    let text = |k: &str| q.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    Some(BatchOp {
        action,
        collection: percent_decoded(collection),
        input: WriteInput { body, kind: Some(kind.unwrap_or(BodyKind::Json)) },
        expand: text("expand"),
        fields: text("fields"),
    })
}

fn percent_decoded(s: &str) -> String {
    form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}
