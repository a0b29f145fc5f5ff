//! `RequestInfo`: what `@request.*` sees in rules and filters.

use serde_json::{Map, Value as Json};

use crate::identity::Auth;

#[derive(Debug, Clone, Default)]
pub struct RequestInfo {
    pub auth: Auth,
    /// `GET`, `POST`...
    pub method: String,
    /// `default`, `oauth2`, `otp`, `password`, `realtime`, `protectedFile`, `batch`.
    pub context: String,
    pub query: Map<String, Json>,
    /// Header names lower-cased with `-` turned into `_`, as PocketBase exposes them.
    pub headers: Map<String, Json>,
    pub body: Map<String, Json>,
}

impl RequestInfo {
    pub fn new(auth: Auth) -> RequestInfo {
        RequestInfo {
            auth,
            method: "GET".into(),
            context: "default".into(),
            ..Default::default()
        }
    }
}
