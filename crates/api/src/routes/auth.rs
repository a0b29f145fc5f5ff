use axum::extract::State;
use axum::Json;
use oxbase_core::identity::Auth;
use oxbase_core::records::input::to_text;
use oxbase_core::Error;
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Context, Path};
use crate::AppState;

/// `POST /api/collections/{collection}/auth-with-password`
pub async fn auth_with_password(State(state): State<AppState>, Path(collection): Path<String>, ctx: Context, Body(input): Body) -> ApiResult<Json<Value>> {
    let Context { info: mut req, params: q } = ctx;
    req.context = "password".into();
    let field = |k: &str| input.body.get(k).map(to_text).unwrap_or_default();
    let (token, record) = state.app.auth().with_password(&req, &collection, &field("identity"), &field("password"), &field("identityField")).await?;
    req.auth = Auth::from_record(record.clone());
    let shown = state.app.records().present(&req, vec![record], q.str("expand"), q.str("fields")).await?;
    Ok(Json(json!({"token": token, "record": shown.into_iter().next().unwrap_or_default()})))
}

/// `POST /api/collections/{collection}/auth-refresh`
pub async fn auth_refresh(State(state): State<AppState>, Path(collection): Path<String>, ctx: Context) -> ApiResult<Json<Value>> {
    let Context { info: req, params: q } = ctx;
    let Some(record) = req.auth.record().cloned() else {
        return Err(ApiError(Error::Unauthorized("The request requires valid record authorization token.".into())));
    };
    let c = state.app.schema().require(&collection)?;
    if record.collection.id != c.id {
        return Err(ApiError(Error::Forbidden("The request requires valid record authorization token.".into())));
    }
    let token = oxbase_core::auth::tokens::issue(&record)?;
    let shown = state.app.records().present(&req, vec![record], q.str("expand"), q.str("fields")).await?;
    Ok(Json(json!({"token": token, "record": shown.into_iter().next().unwrap_or_default()})))
}

/// `GET /api/collections/{collection}/auth-methods`
pub async fn auth_methods(State(state): State<AppState>, Path(collection): Path<String>) -> ApiResult<Json<Value>> {
    let c = state.app.schema().require(&collection)?;
    if !c.is_auth() {
        return Err(ApiError(Error::bad_request("The collection is not an auth collection.")));
    }
    let pa = c.options.get("passwordAuth").cloned().unwrap_or(json!({"enabled": true, "identityFields": ["email"]}));
    Ok(Json(json!({
        "password": pa,
        "oauth2": {"enabled": false, "providers": []},
        "mfa": {"enabled": false, "duration": 0},
        "otp": {"enabled": false, "duration": 0},
    })))
}
