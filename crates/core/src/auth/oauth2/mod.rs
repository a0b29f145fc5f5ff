//! OAuth2 / OpenID Connect sign-in, authorization-code flow with PKCE:
//!
//! 1. `auth-methods` lists each enabled provider with a fresh `state`, PKCE verifier and
//!    challenge, and its authorization URL (`exchange::auth_url`).
//! 2. The client sends the user there; the provider redirects back with a `code` (to the
//!    app, or to `/api/oauth2-redirect`, which forwards it over realtime to the SDK).
//! 3. `auth-with-oauth2` exchanges the code (with the verifier), reads the provider's user,
//!    decides which record it signs in to (`link`: the takeover guard), creating one when
//!    none matches, and ends like every login (`finish_login`).
//!
//! - `providers`: the named providers of PocketBase (one table) and generic OIDC ones, from
//!   the collection's `oauth2` options.
//! - `exchange`: the HTTP side (token endpoint, user info).
//! - `id_token`: the signed user of OpenID Connect (Apple; OIDC without user info).
//! - `apple`: Apple's client secret (a JWT the app signs) and the name of its first redirect.
//! - `link`: which record a provider identity may sign in to.
//! - `avatar`: the provider's avatar, downloaded into a mapped file field.

pub mod apple;
pub mod avatar;
pub mod exchange;
mod http;
pub mod id_token;
pub mod link;
pub mod providers;

use serde_json::{Map, Value as Json, json};

use super::AuthService;
use super::forms::{Errors, OAuth2LoginForm};
use super::login::{Client, Login, mfa_id};
use crate::error::{Error, Result};
use crate::identity::Auth;
use crate::records::Record;
use crate::records::write::WriteInput;
use crate::rules::{RequestInfo, superusers_only};
use crate::schema::{Collection, FieldKind};
use link::Decision;
use providers::ExternalUser;

const EXTERNAL_AUTHS: &str = "_externalAuths";

/// What `auth-with-oauth2` returns besides the login: PocketBase's `meta`.
pub type Meta = Json;

impl AuthService {
    /// The `oauth2` part of `auth-methods`: each provider with a fresh state and PKCE pair.
    pub(super) fn oauth2_methods(&self, c: &Collection) -> Json {
        let providers: Vec<Json> = providers::configured(c)
            .iter()
            .map(|p| {
                let state = crate::ids::random_string(30);
                let (verifier, challenge) = if p.pkce {
                    exchange::pkce_pair()
                } else {
                    (String::new(), String::new())
                };
                let url = exchange::auth_url(p, &state, &challenge);
                // PB-COMPAT: `authUrl` is the pre-0.23 name; `logo` is an SVG in PocketBase,
                // empty here (apps show their own).
                json!({
                    "name": p.name,
                    "displayName": p.display_name,
                    "logo": "",
                    "state": state,
                    "authURL": url,
                    "authUrl": url,
                    "codeVerifier": verifier,
                    "codeChallenge": challenge,
                    "codeChallengeMethod": if p.pkce { "S256" } else { "" },
                })
            })
            .collect();
        let enabled = c
            .options
            .get("oauth2")
            .and_then(|o| o.get("enabled"))
            .and_then(Json::as_bool)
            == Some(true);
        json!({"enabled": enabled && !providers.is_empty(), "providers": providers})
    }

    /// `auth-with-oauth2`: `provider`, `code`, `codeVerifier`, `redirectURL`, optional
    /// `createData` for a new record.
    pub async fn with_oauth2(
        &self,
        req: &RequestInfo,
        collection: &str,
        form: Result<OAuth2LoginForm>,
        client: &Client,
    ) -> Result<(Login, Meta)> {
        let c = self.auth_collection(collection).await?;
        if c.options
            .get("oauth2")
            .and_then(|o| o.get("enabled"))
            .and_then(Json::as_bool)
            != Some(true)
        {
            return Err(Error::Forbidden(
                "The collection is not configured to allow OAuth2 authentication.".into(),
            ));
        }
        let OAuth2LoginForm {
            provider: name,
            code,
            code_verifier: verifier,
            redirect_url: redirect,
            create_data,
            mfa_id: mfa_in_body,
        } = form?;
        let mut errors = Errors::default();
        errors.required("provider", &name);
        errors.required("code", &code);
        errors.required("redirectURL", &redirect);
        errors.check()?;
        let Some(provider) = providers::configured(&c)
            .into_iter()
            .find(|p| p.name == name)
        else {
            // PB-COMPAT: PocketBase's message and params for an unknown provider.
            let mut data = crate::error::FieldErrors::new();
            let message = format!("Provider with name {name} is missing or is not enabled.");
            data.insert("provider".into(), json!({"code": "validation_invalid_provider", "message": message, "params": {"name": name}}));
            return Err(Error::BadRequest {
                message: "An error occurred while loading the submitted data.".into(),
                data,
            });
        };
        let tokens = exchange::exchange(&provider, &code, &verifier, &redirect).await?;
        let mut user = exchange::fetch_user(&provider, &tokens).await?;
        if provider.name == "apple"
            && user.name.is_empty()
            && let Some(name) = apple::take_name(self.schema.db(), &code).await?
        {
            user.name = name;
        }
        let (record, is_new) = self
            .oauth2_record(req, &c, &provider.name, &user, create_data)
            .await?;
        let expiry = if tokens.expires_in > 0 {
            crate::dates::format(chrono::Utc::now() + chrono::Duration::seconds(tokens.expires_in))
        } else {
            String::new()
        };
        let meta = json!({
            "id": user.id, "name": user.name, "username": user.username, "email": user.email,
            "avatarURL": user.avatar_url, "isNew": is_new, "rawUser": user.raw,
            "accessToken": tokens.access_token, "refreshToken": tokens.refresh_token, "expiry": expiry,
        });
        let login = self
            .finish_login(req, record, "oauth2", &mfa_id(req, &mfa_in_body), client)
            .await?;
        Ok((login, meta))
    }

    /// `POST /api/settings/apple/generate-client-secret` (superusers only, checked before
    /// `body`, the request's JSON object as read or why it could not be, is looked at).
    pub fn apple_client_secret(&self, caller: &Auth, body: Result<Json>) -> Result<Json> {
        superusers_only(caller)?;
        let body = body?;
        let empty = Map::new();
        apple::generate_client_secret(body.as_object().unwrap_or(&empty))
    }

    /// `GET /api/collections/meta/oauth2-providers` (superusers only): every named provider as
    /// `{name, displayName, logo}`, for the dashboard's provider picker. PB-COMPAT: PocketBase
    /// sends each provider's SVG logo; none is shipped here (`logo` is empty), and the order is
    /// the table's.
    pub fn oauth2_providers(&self, caller: &Auth) -> Result<Json> {
        superusers_only(caller)?;
        Ok(Json::Array(
            providers::SPECS
                .iter()
                .map(|spec| {
                    serde_json::json!({"name": spec.name, "displayName": spec.display_name, "logo": ""})
                })
                .collect(),
        ))
    }

    /// `/api/oauth2-redirect` got Apple's `user` field with `code`: keep the name for the
    /// `auth-with-oauth2` call that follows (Apple sends it nowhere else).
    pub async fn remember_apple_name(&self, code: &str, user: &str) -> Result<()> {
        apple::remember_name(self.schema.db(), code, user).await
    }

    /// The record the provider identity signs in to (linking or creating it), and whether it
    /// is new.
    async fn oauth2_record(
        &self,
        req: &RequestInfo,
        c: &std::sync::Arc<Collection>,
        provider: &str,
        user: &ExternalUser,
        create_data: Map<String, Json>,
    ) -> Result<(Record, bool)> {
        let externals = self.schema.require(EXTERNAL_AUTHS)?;
        let row = self
            .find_where(
                &externals,
                &[
                    ("collectionRef", &c.id),
                    ("provider", provider),
                    ("providerId", &user.id),
                ],
            )
            .await?
            .pop();
        let linked = match &row {
            Some(row) => self.find_by_id(c, row.get_str("recordRef")).await?,
            None => None,
        };
        let current = req
            .auth
            .record()
            .filter(|r| r.collection.id == c.id)
            .cloned();
        let by_email = if user.email.is_empty() {
            None
        } else {
            self.find_by_email(c, &user.email).await?
        };
        match link::decide(linked, current, by_email, user) {
            Decision::Linked(r) => Ok((r, false)),
            Decision::Link(r) => {
                self.link_external(&r, provider, &user.id).await?;
                Ok((r, false))
            }
            Decision::Create => {
                let r = self.create_from_oauth2(req, c, user, create_data).await?;
                self.link_external(&r, provider, &user.id).await?;
                Ok((r, true))
            }
            Decision::Refuse(message) => Err(Error::bad_request(message)),
        }
    }

    async fn link_external(
        &self,
        record: &Record,
        provider: &str,
        provider_id: &str,
    ) -> Result<()> {
        let externals = self.schema.require(EXTERNAL_AUTHS)?;
        // One account per provider and record (PocketBase's unique index says the same).
        if !self
            .find_where(
                &externals,
                &[
                    ("collectionRef", &record.collection.id),
                    ("recordRef", record.id()),
                    ("provider", provider),
                ],
            )
            .await?
            .is_empty()
        {
            return Err(Error::bad_request(
                "The record is already linked to another account of this provider.",
            ));
        }
        let mut row = Record::new(externals);
        row.data
            .insert("collectionRef".into(), json!(record.collection.id));
        row.data.insert("recordRef".into(), json!(record.id()));
        row.data.insert("provider".into(), json!(provider));
        row.data.insert("providerId".into(), json!(provider_id));
        self.records.insert_system(row).await.map(|_| ())
    }

    /// A new record for a provider user: `createData`, the provider's address, the mapped
    /// fields (`oauth2.mappedFields`), a random password. The collection's create rule applies
    /// to the caller. The address counts as verified only if the provider verified it.
    async fn create_from_oauth2(
        &self,
        req: &RequestInfo,
        c: &Collection,
        user: &ExternalUser,
        mut body: Map<String, Json>,
    ) -> Result<Record> {
        let password = crate::ids::random_string(32);
        body.insert("password".into(), json!(password));
        body.insert("passwordConfirm".into(), json!(password));
        if !user.email.is_empty() {
            body.insert("email".into(), json!(user.email));
        }
        let mapped = c
            .options
            .get("oauth2")
            .and_then(|o| o.get("mappedFields"))
            .cloned()
            .unwrap_or(Json::Null);
        for (key, value) in [
            ("name", &user.name),
            ("username", &user.username),
            ("id", &user.id),
            ("avatarURL", &user.avatar_url),
        ] {
            let field = mapped.get(key).and_then(Json::as_str).unwrap_or("");
            // A file field gets the avatar itself (`create_with_avatar`).
            let settable = c.field(field).is_some_and(|f| f.kind != FieldKind::File);
            if field != "id" && settable && !value.is_empty() {
                body.entry(field.to_owned()).or_insert_with(|| json!(value));
            }
        }
        let avatar_field = mapped.get("avatarURL").and_then(Json::as_str).unwrap_or("");
        let record = self
            .create_with_avatar(req, c, body, avatar_field, &user.avatar_url)
            .await?;
        if user.email_verified && !user.email.is_empty() {
            return self
                .update_as_system(&record, json!({"verified": true}))
                .await;
        }
        Ok(record)
    }

    /// Creates the record, with the avatar at `url` in the file field `field` when there is
    /// one. PB-COMPAT: an avatar that fails to download, or that the field refuses (size,
    /// type), is left out rather than failing the sign-up.
    async fn create_with_avatar(
        &self,
        req: &RequestInfo,
        c: &Collection,
        body: Map<String, Json>,
        field: &str,
        url: &str,
    ) -> Result<Record> {
        let write = |body, files| WriteInput {
            body,
            kind: None,
            files,
        };
        let is_file = c.field(field).is_some_and(|f| f.kind == FieldKind::File);
        let upload = if is_file && !url.is_empty() && !body.contains_key(field) {
            avatar::download(self.records.files(), url)
                .await
                .inspect_err(|e| tracing::warn!(error = %e, "oauth2 avatar download failed"))
                .ok()
        } else {
            None
        };
        let Some(upload) = upload else {
            return self
                .records
                .create(req, &c.name, write(body, Vec::new()))
                .await;
        };
        let mut with_avatar = body.clone();
        with_avatar.insert(field.to_owned(), json!(upload.name));
        match self
            .records
            .create(req, &c.name, write(with_avatar, vec![upload]))
            .await
        {
            Err(Error::BadRequest { data, .. }) if data.contains_key(field) => {
                tracing::warn!(field, "oauth2 avatar refused by its field");
                self.records
                    .create(req, &c.name, write(body, Vec::new()))
                    .await
            }
            other => other,
        }
    }

    /// Drops the provider links of `record` (when its address gets verified: links made
    /// while nobody had proved the address are not trusted; see `link`).
    pub(super) async fn forget_external_auths(&self, record: &Record) -> Result<()> {
        let externals = self.schema.require(EXTERNAL_AUTHS)?;
        let system = self.system_request()?;
        for row in self
            .find_where(
                &externals,
                &[
                    ("collectionRef", &record.collection.id),
                    ("recordRef", record.id()),
                ],
            )
            .await?
        {
            self.records
                .delete(&system, EXTERNAL_AUTHS, row.id())
                .await?;
        }
        Ok(())
    }
}
