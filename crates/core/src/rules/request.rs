//! `RequestInfo`: what `@request.*` sees in rules and filters.

use serde_json::{Map, Value as Json};

use crate::identity::Auth;

/// Where a request comes from, as `@request.context` names it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RequestContext {
    #[default]
    Default,
    OAuth2,
    Otp,
    Password,
    Realtime,
    ProtectedFile,
    Batch,
}

impl RequestContext {
    /// PB-COMPAT: the names PocketBase's rules compare `@request.context` with.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestContext::Default => "default",
            RequestContext::OAuth2 => "oauth2",
            RequestContext::Otp => "otp",
            RequestContext::Password => "password",
            RequestContext::Realtime => "realtime",
            RequestContext::ProtectedFile => "protectedFile",
            RequestContext::Batch => "batch",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct RequestInfo {
    pub auth: Auth,
    /// `GET`, `POST`...
    pub method: String,
    pub context: RequestContext,
    pub query: Map<String, Json>,
    /// Header names lower-cased with `-` turned into `_`, as PocketBase exposes them.
    pub headers: Map<String, Json>,
    pub body: Map<String, Json>,
    /// The request's path (no query string: it may carry tokens), for the record history's
    /// "from which request"; empty for the application's own writes.
    pub url: String,
}

impl RequestInfo {
    pub fn new(auth: Auth) -> RequestInfo {
        RequestInfo {
            auth,
            method: "GET".into(),
            ..Default::default()
        }
    }

    /// The same request in another context.
    pub fn in_context(mut self, context: RequestContext) -> RequestInfo {
        self.context = context;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_see_pocketbase_context_names() {
        assert_eq!(RequestInfo::default().context.as_str(), "default");
        assert_eq!(RequestContext::ProtectedFile.as_str(), "protectedFile");
        assert_eq!(RequestContext::OAuth2.as_str(), "oauth2");
    }
}
