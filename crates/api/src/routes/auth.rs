use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use oxbase_core::auth::forms::{
    EmailChangeForm, EmailForm, ImpersonateForm, NewEmailForm, OAuth2LoginForm, OtpLoginForm,
    PasswordLoginForm, PasswordResetForm, TokenForm,
};
use oxbase_core::auth::login::{Client, Login};
use oxbase_core::identity::Auth;
use oxbase_core::records::Record;
use oxbase_core::rules::{RequestContext, RequestInfo};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Body, BodyRejection, Caller, Context, Params, Path};
use crate::middleware::ClientIp;

/// `POST /api/collections/{collection}/auth-with-password`
pub async fn auth_with_password(
    State(state): State<AppState>,
    Path(collection): Path<String>,
    ClientIp(ip): ClientIp,
    ctx: Context,
    Body(input): Body,
) -> ApiResult<Response> {
    let Context {
        info: mut req,
        params: q,
    } = ctx;
    req.context = RequestContext::Password;
    let login = state
        .app
        .auth()
        .with_password(
            &req,
            &collection,
            PasswordLoginForm::parse(&input.body),
            &Client { ip },
        )
        .await?;
    login_response(&state, req, login, &q).await
}

/// `POST /api/collections/{collection}/request-otp`
pub async fn request_otp(
    State(state): State<AppState>,
    Path(collection): Path<String>,
    Body(input): Body,
) -> ApiResult<Json<Value>> {
    let otp_id = state
        .app
        .auth()
        .request_otp(&collection, EmailForm::parse(&input.body))
        .await?;
    Ok(Json(json!({"otpId": otp_id})))
}

/// `POST /api/collections/{collection}/auth-with-otp`
pub async fn auth_with_otp(
    State(state): State<AppState>,
    Path(collection): Path<String>,
    ClientIp(ip): ClientIp,
    ctx: Context,
    Body(input): Body,
) -> ApiResult<Response> {
    let Context {
        info: mut req,
        params: q,
    } = ctx;
    req.context = RequestContext::Otp;
    let login = state
        .app
        .auth()
        .with_otp(
            &req,
            &collection,
            OtpLoginForm::parse(&input.body),
            &Client { ip },
        )
        .await?;
    login_response(&state, req, login, &q).await
}

/// `POST /api/collections/{collection}/auth-with-oauth2`
pub async fn auth_with_oauth2(
    State(state): State<AppState>,
    Path(collection): Path<String>,
    ClientIp(ip): ClientIp,
    ctx: Context,
    Body(input): Body,
) -> ApiResult<Response> {
    let Context {
        info: mut req,
        params: q,
    } = ctx;
    req.context = RequestContext::OAuth2;
    let (login, meta) = state
        .app
        .auth()
        .with_oauth2(
            &req,
            &collection,
            OAuth2LoginForm::parse(&input.body),
            &Client { ip },
        )
        .await?;
    match login {
        Login::Authenticated { token, record } => {
            req.auth = Auth::from_record(record.clone());
            // `{token, record}` plus PocketBase's `meta` about the provider user.
            let Json(mut body) = auth_response(&state, &req, token, record, &q).await?;
            body["meta"] = meta;
            Ok(Json(body).into_response())
        }
        mfa => login_response(&state, req, mfa, &q).await,
    }
}

/// `GET|POST /api/oauth2-redirect`: where providers send the browser back in the SDK's popup
/// flow. `state` is the realtime client id that waits on `@oauth2`; the code goes to it.
pub async fn oauth2_redirect(
    method: axum::http::Method,
    State(state): State<AppState>,
    Params(query): Params,
    body: Result<Body, BodyRejection>,
) -> Response {
    // Providers answer with a query string, or a form POST (`response_mode=form_post`).
    let form = body.map(|Body(input)| input.body).unwrap_or_default();
    let get = |k: &str| {
        form.get(k)
            .or_else(|| query.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let (client_id, code, error) = (get("state"), get("code"), get("error"));
    let message = json!({"state": client_id, "code": code, "error": error});
    // Sign in with Apple posts the user's name here, once: kept before the code goes out, so
    // the exchange it triggers (on any instance) finds it.
    let apple_user = get("user");
    if error.is_empty()
        && !code.is_empty()
        && !apple_user.is_empty()
        && let Err(e) = state
            .app
            .auth()
            .remember_apple_name(&code, &apple_user)
            .await
    {
        tracing::warn!(error = %e, "could not keep the name of an Apple sign-in");
    }
    let delivered = !client_id.is_empty()
        && state
            .app
            .realtime()
            .send_to(&client_id, "@oauth2", &message);
    let ok = delivered && error.is_empty() && !code.is_empty();
    // PocketBase's answer: a redirect to the dashboard's result page (307 for GET, 303 for a
    // form POST), relative so it works behind any prefix.
    let page = if ok {
        "../_/#/auth/oauth2-redirect-success"
    } else {
        "../_/#/auth/oauth2-redirect-failure"
    };
    let status = if method == axum::http::Method::GET {
        StatusCode::TEMPORARY_REDIRECT
    } else {
        StatusCode::SEE_OTHER
    };
    (status, [(axum::http::header::LOCATION, page)]).into_response()
}

/// `{token, record}` for a completed login; PB-COMPAT: `401 {"mfaId"}` when a second factor
/// is needed (not the standard error body: the SDK hands it to the app as is).
async fn login_response(
    state: &AppState,
    mut req: RequestInfo,
    login: Login,
    q: &Params,
) -> ApiResult<Response> {
    match login {
        Login::MfaRequired { mfa_id } => {
            Ok((StatusCode::UNAUTHORIZED, Json(json!({"mfaId": mfa_id}))).into_response())
        }
        Login::Authenticated { token, record } => {
            req.auth = Auth::from_record(record.clone());
            Ok(auth_response(state, &req, token, record, q)
                .await?
                .into_response())
        }
    }
}

/// `POST /api/collections/{collection}/auth-refresh`
pub async fn auth_refresh(
    State(state): State<AppState>,
    Path(collection): Path<String>,
    headers: HeaderMap,
    ctx: Context,
) -> ApiResult<Json<Value>> {
    let Context {
        info: req,
        params: q,
    } = ctx;
    let raw = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (token, record) = state.app.auth().refresh(&req.auth, raw, &collection)?;
    auth_response(&state, &req, token, record, &q).await
}

/// `POST /api/collections/{collection}/impersonate/{id}` (superusers only)
pub async fn impersonate(
    State(state): State<AppState>,
    Path((collection, id)): Path<(String, String)>,
    ctx: Context,
    Body(input): Body,
) -> ApiResult<Json<Value>> {
    let Context {
        info: mut req,
        params: q,
    } = ctx;
    let (token, record) = state
        .app
        .auth()
        .impersonate(
            &req.auth,
            &collection,
            &id,
            &ImpersonateForm::parse(&input.body),
        )
        .await?;
    // Shown as the impersonated record sees itself (no hidden fields), as in PocketBase.
    req.auth = Auth::from_record(record.clone());
    auth_response(&state, &req, token, record, &q).await
}

/// `{token, record}`, the record shown as `req` may see it (with `expand` and `fields`).
async fn auth_response(
    state: &AppState,
    req: &RequestInfo,
    token: String,
    record: Record,
    q: &Params,
) -> ApiResult<Json<Value>> {
    let shown = state
        .app
        .records()
        .present(req, vec![record], q.str("expand"), q.str("fields"))
        .await?;
    Ok(Json(
        json!({"token": token, "record": shown.into_iter().next().unwrap_or_default()}),
    ))
}

/// `POST /api/collections/{collection}/request-verification`
pub async fn request_verification(
    State(state): State<AppState>,
    Path(collection): Path<String>,
    Body(input): Body,
) -> ApiResult<StatusCode> {
    state
        .app
        .auth()
        .request_verification(&collection, EmailForm::parse(&input.body))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/collections/{collection}/confirm-verification`
pub async fn confirm_verification(
    State(state): State<AppState>,
    Path(collection): Path<String>,
    Body(input): Body,
) -> ApiResult<StatusCode> {
    state
        .app
        .auth()
        .confirm_verification(&collection, TokenForm::parse(&input.body))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/collections/{collection}/request-password-reset`
pub async fn request_password_reset(
    State(state): State<AppState>,
    Path(collection): Path<String>,
    Body(input): Body,
) -> ApiResult<StatusCode> {
    state
        .app
        .auth()
        .request_password_reset(&collection, EmailForm::parse(&input.body))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/collections/{collection}/confirm-password-reset`
pub async fn confirm_password_reset(
    State(state): State<AppState>,
    Path(collection): Path<String>,
    Body(input): Body,
) -> ApiResult<StatusCode> {
    state
        .app
        .auth()
        .confirm_password_reset(&collection, PasswordResetForm::parse(&input.body))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/collections/{collection}/request-email-change` (the authenticated record)
pub async fn request_email_change(
    State(state): State<AppState>,
    Path(collection): Path<String>,
    Caller(auth): Caller,
    Body(input): Body,
) -> ApiResult<StatusCode> {
    state
        .app
        .auth()
        .request_email_change(&auth, &collection, NewEmailForm::parse(&input.body))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/collections/{collection}/confirm-email-change`
pub async fn confirm_email_change(
    State(state): State<AppState>,
    Path(collection): Path<String>,
    Body(input): Body,
) -> ApiResult<StatusCode> {
    state
        .app
        .auth()
        .confirm_email_change(&collection, EmailChangeForm::parse(&input.body))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/collections/{collection}/auth-methods`
pub async fn auth_methods(
    State(state): State<AppState>,
    Path(collection): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(state.app.auth().methods(&collection)?))
}
