//! `/api/webhooks/dead-letters`, `/api/brokers/dead-letters`, `/api/mail/dead-letters`: the
//! jobs of the queue that ran out of attempts (superusers only), one set of handlers for the
//! three kinds ([`Kind`] picks the kind's dead letters in the app).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use oxbase_core::App;
use oxbase_core::jobs::DeadLetters;
use serde::Serialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Caller, Path};

/// A kind of job whose dead letters the API serves.
pub trait Kind: Send + Sync + 'static {
    /// How one is shown.
    type Letter: Serialize + From<oxbase_core::jobs::JobRow> + Send + 'static;
    fn of(app: &App) -> &DeadLetters<Self::Letter>;
}

/// Webhook deliveries (`url`, `payload`: the body).
pub struct Webhooks;
impl Kind for Webhooks {
    type Letter = oxbase_core::webhooks::DeadLetter;
    fn of(app: &App) -> &DeadLetters<Self::Letter> {
        app.webhooks().dead_letters()
    }
}

/// Broker events (`target`, `payload`: the CloudEvent).
pub struct Brokers;
impl Kind for Brokers {
    type Letter = oxbase_core::brokers::DeadLetter;
    fn of(app: &App) -> &DeadLetters<Self::Letter> {
        app.brokers().dead_letters()
    }
}

/// Outgoing mail (`to`, `subject`, `template`: never the body).
pub struct Mail;
impl Kind for Mail {
    type Letter = oxbase_core::mail::DeadMail;
    fn of(app: &App) -> &DeadLetters<Self::Letter> {
        app.auth().mailer().dead_letters()
    }
}

/// `GET .../dead-letters`: `{"items": [...]}`, oldest first.
pub async fn list<K: Kind>(
    State(state): State<AppState>,
    Caller(auth): Caller,
) -> ApiResult<Json<Value>> {
    let items = K::of(&state.app).list(&auth).await?;
    Ok(Json(json!({ "items": items })))
}

/// `GET .../dead-letters/{id}`
pub async fn view<K: Kind>(
    State(state): State<AppState>,
    Caller(auth): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<K::Letter>> {
    Ok(Json(K::of(&state.app).view(&auth, &id).await?))
}

/// `POST .../dead-letters/{id}/replay`: queued again; answers before the attempt.
pub async fn replay<K: Kind>(
    State(state): State<AppState>,
    Caller(auth): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    K::of(&state.app).replay(&auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
