//! `auth-methods`: what a client may log in with, in PocketBase's shape.

use serde_json::{Value as Json, json};

use super::AuthService;
use crate::error::Result;

impl AuthService {
    pub fn methods(&self, collection: &str) -> Result<Json> {
        let c = super::auth_collection_of(self.schema.get(collection))?;
        let password = c
            .options
            .get("passwordAuth")
            .cloned()
            .unwrap_or(json!({"enabled": true, "identityFields": ["email"]}));
        let password_on = password
            .get("enabled")
            .and_then(Json::as_bool)
            .unwrap_or(false);
        let identity = |f: &str| {
            password_on
                && password
                    .get("identityFields")
                    .and_then(Json::as_array)
                    .is_some_and(|l| l.iter().any(|v| v == f))
        };
        let toggle = |key: &str| {
            let o = c.options.get(key);
            let on = o.and_then(|o| o.get("enabled")).and_then(Json::as_bool) == Some(true);
            let duration = if on {
                o.and_then(|o| o.get("duration"))
                    .and_then(Json::as_i64)
                    .unwrap_or(0)
            } else {
                0
            };
            json!({"enabled": on, "duration": duration})
        };
        let oauth2 = self.oauth2_methods(&c);
        Ok(json!({
            "password": password,
            // PB-COMPAT: the pre-0.23 fields PocketBase still sends for older SDKs.
            "authProviders": oauth2["providers"].clone(),
            "usernamePassword": identity("username"),
            "emailPassword": identity("email"),
            "oauth2": oauth2,
            "mfa": toggle("mfa"),
            "otp": toggle("otp"),
        }))
    }
}
