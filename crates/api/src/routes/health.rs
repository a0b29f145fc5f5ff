use axum::Json;
use axum::extract::{Request, State};
use serde_json::{Value, json};

use crate::AppState;
use crate::middleware::client_ip;

/// Headers that suggest a reverse proxy in front (PocketBase's list, after the configured
/// `trustedProxy.headers`), so the dashboard can remind superusers to configure it.
const PROXY_HEADERS: [&str; 2] = ["CF-Connecting-IP", "Fly-Client-IP"];

/// `GET /api/health`: superusers also learn their IP as the server sees it and whether a
/// proxy header arrived.
pub async fn health(State(state): State<AppState>, request: Request) -> Json<Value> {
    // The floor of every benchmark: a guest's check reads no token.
    let superuser = match request.headers().get(axum::http::header::AUTHORIZATION) {
        Some(token) => {
            let token = token.to_str().unwrap_or("");
            state.app.auth().authenticate(token).await.is_superuser()
        }
        None => false,
    };
    let data = if superuser {
        let headers = request.headers();
        let trusted = state.app.settings().trusted_proxy().headers;
        let proxy_header = trusted
            .iter()
            .map(String::as_str)
            .chain(PROXY_HEADERS)
            .find(|h| headers.get(*h).is_some_and(|v| !v.is_empty()))
            .unwrap_or("");
        json!({
            // PB-COMPAT: PocketBase says whether a backup could start now; oxbase has no
            // backups yet, so none can.
            "canBackup": false,
            "realIP": client_ip(&state, headers, request.extensions()),
            "possibleProxyHeader": proxy_header,
        })
    } else {
        json!({})
    };
    Json(json!({"message": "API is healthy.", "code": 200, "data": data}))
}
