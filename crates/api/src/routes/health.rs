use axum::Json;
use axum::extract::{Request, State};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiResult;
use crate::middleware::client_ip;
use crate::request_log::AuthSlot;

/// Headers that suggest a reverse proxy in front (PocketBase's list, after the configured
/// `trustedProxy.headers`), so the dashboard can remind superusers to configure it.
const PROXY_HEADERS: [&str; 2] = ["CF-Connecting-IP", "Fly-Client-IP"];

/// `GET /api/health`: liveness (the process answers). Superusers also learn their IP as the
/// server sees it and whether a proxy header arrived. With `?ready=1` it is the readiness
/// check: a 503 while the database (or the bus between instances) does not answer.
pub async fn health(State(state): State<AppState>, request: Request) -> ApiResult<Json<Value>> {
    if asks_readiness(request.uri().query()) {
        state.app.ready().await?;
    }
    // The floor of every benchmark: a guest's check reads no token.
    let superuser = match request.headers().get(axum::http::header::AUTHORIZATION) {
        Some(token) => {
            let token = token.to_str().unwrap_or("");
            let auth = state.app.auth().authenticate(token).await;
            if let Some(slot) = request.extensions().get::<AuthSlot>() {
                slot.set(&auth);
            }
            auth.is_superuser()
        }
        None => false,
    };
    let data = if superuser {
        let headers = request.headers();
        let trusted = state.app.settings().trusted_proxy();
        let proxy_header = trusted
            .headers
            .iter()
            .map(String::as_str)
            .chain(PROXY_HEADERS)
            .find(|h| headers.get(*h).is_some_and(|v| !v.is_empty()))
            .unwrap_or("");
        json!({
            "canBackup": state.app.backups().is_idle(),
            "realIP": client_ip(&state, headers, request.extensions()),
            "possibleProxyHeader": proxy_header,
        })
    } else {
        json!({})
    };
    Ok(Json(
        json!({"message": "API is healthy.", "code": 200, "data": data}),
    ))
}

/// `ready=1` (or any value but `0` and `false`) among the query parameters.
fn asks_readiness(query: Option<&str>) -> bool {
    query.is_some_and(|q| {
        q.split('&').any(|pair| match pair.split_once('=') {
            Some(("ready", value)) => !matches!(value, "" | "0" | "false"),
            None => pair == "ready",
            _ => false,
        })
    })
}
