use axum::Json;
use serde_json::{Value, json};

/// `GET /api/health`
pub async fn health() -> Json<Value> {
    Json(json!({"message": "API is healthy.", "code": 200, "data": {}}))
}
