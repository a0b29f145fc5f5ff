//! The auth flows of an auth collection as mutations.

use std::sync::Arc;

use async_graphql::ErrorExtensions;
use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputValue, ResolverContext, TypeRef,
};
use oxbase_core::auth::forms::PasswordLoginForm;
use oxbase_core::auth::login::{Client, Login};
use oxbase_core::identity::Auth;
use oxbase_core::rules::RequestContext;
use oxbase_core::schema::Collection;
use serde_json::{Map, Value as Json};

use super::selection::{Info, expand_of_record};
use super::{gql_error, services};

/// The auth flows of an auth collection, each a mutation over the core's `AuthService`
/// with REST's form (so a bad form or a refusal is REST's error).
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Flow {
    Password,
    Refresh,
    Otp,
    OAuth2,
    RequestOtp,
    RequestPasswordReset,
    ConfirmPasswordReset,
    RequestVerification,
    ConfirmVerification,
}

impl Flow {
    pub(super) const ALL: [Flow; 9] = [
        Flow::Password,
        Flow::Refresh,
        Flow::Otp,
        Flow::OAuth2,
        Flow::RequestOtp,
        Flow::RequestPasswordReset,
        Flow::ConfirmPasswordReset,
        Flow::RequestVerification,
        Flow::ConfirmVerification,
    ];

    /// The mutation's name before the collection's type prefix.
    fn name(self) -> &'static str {
        match self {
            Flow::Password => "authWithPassword",
            Flow::Refresh => "authRefresh",
            Flow::Otp => "authWithOTP",
            Flow::OAuth2 => "authWithOAuth2",
            Flow::RequestOtp => "requestOTP",
            Flow::RequestPasswordReset => "requestPasswordReset",
            Flow::ConfirmPasswordReset => "confirmPasswordReset",
            Flow::RequestVerification => "requestVerification",
            Flow::ConfirmVerification => "confirmVerification",
        }
    }

    /// Its arguments: REST's body keys, and whether each is required.
    fn arguments(self) -> &'static [(&'static str, bool)] {
        match self {
            Flow::Password => &[("identity", true), ("password", true), ("mfaId", false)],
            Flow::Refresh => &[],
            Flow::Otp => &[("otpId", true), ("password", true), ("mfaId", false)],
            Flow::OAuth2 => &[
                ("provider", true),
                ("code", true),
                ("codeVerifier", false),
                ("redirectURL", true),
                ("createData", false),
                ("mfaId", false),
            ],
            Flow::RequestOtp | Flow::RequestPasswordReset | Flow::RequestVerification => {
                &[("email", true)]
            }
            Flow::ConfirmPasswordReset => &[
                ("token", true),
                ("password", true),
                ("passwordConfirm", true),
            ],
            Flow::ConfirmVerification => &[("token", true)],
        }
    }

    /// A login answers `<P>Auth`; `requestOTP` the OTP id; the others `true`.
    fn result(self, auth_type: &str) -> TypeRef {
        match self {
            Flow::Password | Flow::Refresh | Flow::Otp | Flow::OAuth2 => {
                TypeRef::named_nn(auth_type)
            }
            Flow::RequestOtp => TypeRef::named_nn(TypeRef::STRING),
            _ => TypeRef::named_nn(TypeRef::BOOLEAN),
        }
    }
}

/// The arguments as REST's body (JSON values as sent; absent ones left out).
fn flow_body(ctx: &ResolverContext<'_>, flow: Flow) -> async_graphql::Result<Map<String, Json>> {
    let mut body = Map::new();
    for (key, _) in flow.arguments() {
        if let Some(v) = ctx.args.get(key) {
            body.insert((*key).to_owned(), v.as_value().clone().into_json()?);
        }
    }
    Ok(body)
}

pub(super) fn auth_mutation(
    c: &Collection,
    flow: Flow,
    p: &str,
    auth_type: &str,
    info: &Arc<Info>,
) -> Field {
    use oxbase_core::auth::forms::{
        EmailForm, OAuth2LoginForm, OtpLoginForm, PasswordResetForm, TokenForm,
    };
    let (coll, info) = (c.name.clone(), info.clone());
    let mut field = Field::new(
        format!("{}{p}", flow.name()),
        flow.result(auth_type),
        move |ctx| {
            let (coll, info) = (coll.clone(), info.clone());
            FieldFuture::new(async move {
                let (app, caller) = services(&ctx)?;
                let auth = app.auth();
                let body = flow_body(&ctx, flow)?;
                let client = Client {
                    ip: caller.ip.clone(),
                };
                let mut req = caller.info.clone();
                let done = || Ok(Some(FieldValue::value(true)));
                let (login, meta) = match flow {
                    Flow::RequestOtp => {
                        let id = auth
                            .request_otp(&coll, EmailForm::parse(&body))
                            .await
                            .map_err(gql_error)?;
                        return Ok(Some(FieldValue::value(id)));
                    }
                    Flow::RequestPasswordReset => {
                        auth.request_password_reset(&coll, EmailForm::parse(&body))
                            .await
                            .map_err(gql_error)?;
                        return done();
                    }
                    Flow::ConfirmPasswordReset => {
                        auth.confirm_password_reset(&coll, PasswordResetForm::parse(&body))
                            .await
                            .map_err(gql_error)?;
                        return done();
                    }
                    Flow::RequestVerification => {
                        auth.request_verification(&coll, EmailForm::parse(&body))
                            .await
                            .map_err(gql_error)?;
                        return done();
                    }
                    Flow::ConfirmVerification => {
                        auth.confirm_verification(&coll, TokenForm::parse(&body))
                            .await
                            .map_err(gql_error)?;
                        return done();
                    }
                    Flow::Refresh => {
                        let (token, record) = auth
                            .refresh(&req.auth, &caller.authorization, &coll)
                            .map_err(gql_error)?;
                        (Login::Authenticated { token, record }, Json::Null)
                    }
                    Flow::Password => {
                        req.context = RequestContext::Password;
                        // Parsed as REST parses it: a malformed form is the login's own error.
                        let form = PasswordLoginForm::parse(&body);
                        let login = auth.with_password(&req, &coll, form, &client).await;
                        (login.map_err(gql_error)?, Json::Null)
                    }
                    Flow::Otp => {
                        req.context = RequestContext::Otp;
                        let form = OtpLoginForm::parse(&body);
                        let login = auth.with_otp(&req, &coll, form, &client).await;
                        (login.map_err(gql_error)?, Json::Null)
                    }
                    Flow::OAuth2 => {
                        req.context = RequestContext::OAuth2;
                        let form = OAuth2LoginForm::parse(&body);
                        auth.with_oauth2(&req, &coll, form, &client)
                            .await
                            .map_err(gql_error)?
                    }
                };
                let (token, record) = match login {
                    Login::Authenticated { token, record } => (token, record),
                    Login::MfaRequired { mfa_id } => {
                        return Err(async_graphql::Error::new("MFA required.").extend_with(
                            |_, e| {
                                e.set("status", 401);
                                e.set("mfaId", mfa_id.clone());
                            },
                        ));
                    }
                };
                req.auth = Auth::from_record(record.clone());
                let expand = expand_of_record(&info, &coll, ctx.ctx.field());
                let shown = app
                    .records()
                    .present(&req, vec![record], &expand, "")
                    .await
                    .map_err(gql_error)?;
                let record = shown.into_iter().next().unwrap_or_default();
                Ok(Some(FieldValue::owned_any(
                    serde_json::json!({"token": token, "record": record, "meta": meta}),
                )))
            })
        },
    );
    for (key, required) in flow.arguments() {
        let ty = match *key {
            "createData" => TypeRef::named("JSON"),
            _ if *required => TypeRef::named_nn(TypeRef::STRING),
            _ => TypeRef::named(TypeRef::STRING),
        };
        field = field.argument(InputValue::new(*key, ty));
    }
    field
}
