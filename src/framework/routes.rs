//! A Rust app's routes: axum handlers on a `Router<App>`, asked before the built-in routes
//! (`oxbase_api::custom`). Which requests they take is decided by a table that mirrors the
//! router's (the same path syntax, matched by the same `matchit`), so a request no route
//! takes goes on to the built-in routes without being read.
//!
//! Handlers reach the app with `State<App>`, the caller with [`Caller`], the built-in routes
//! with [`BuiltIn`], and a JSON body with [`JsonBody`]; an error is an `ApiError` (from any
//! `oxbase_core::Error` by `?`), answered in the standard `{status, message, data}` body.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::Method;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::{MethodFilter, MethodRouter};
use oxbase_api::custom::{BoxResponse, CustomRequest, CustomRoutes, Next};
use oxbase_api::error::ApiError;
use oxbase_core::identity::Auth;
use oxbase_core::{App, Error};
use tower::ServiceExt;

/// The routes as registered, before an app serves them.
#[derive(Clone, Default)]
pub(crate) struct RouteTable {
    router: Router<App>,
    taken: Taken,
}

/// Which requests the routes take: each distinct path, with its methods.
#[derive(Clone, Default)]
struct Taken {
    paths: matchit::Router<usize>,
    by_path: HashMap<String, usize>,
    methods: Vec<Vec<Method>>,
}

impl RouteTable {
    pub(crate) fn is_empty(&self) -> bool {
        self.taken.methods.is_empty()
    }

    /// Adds `method path`; a path axum would refuse, or a route registered twice, is an error
    /// (axum would panic).
    pub(crate) fn add(
        &mut self,
        method: Method,
        path: &str,
        route: MethodRouter<App>,
    ) -> Result<(), String> {
        let named = format!("route {method} {path}");
        if !path.starts_with('/') {
            return Err(format!("{named}: a path starts with `/`"));
        }
        if path
            .split('/')
            .any(|s| s.starts_with(':') || s.starts_with('*'))
        {
            return Err(format!(
                "{named}: parameters are written `{{name}}` and `{{*rest}}`"
            ));
        }
        let taken = &mut self.taken;
        let index = match taken.by_path.get(path) {
            Some(&index) if taken.methods[index].contains(&method) => {
                return Err(format!("{named} is registered twice"));
            }
            Some(&index) => index,
            None => {
                let index = taken.methods.len();
                taken
                    .paths
                    .insert(path, index)
                    .map_err(|e| format!("{named}: {e}"))?;
                taken.by_path.insert(path.to_owned(), index);
                taken.methods.push(Vec::new());
                index
            }
        };
        taken.methods[index].push(method);
        self.router = std::mem::take(&mut self.router).route(path, route);
        Ok(())
    }

    /// The routes of `app`, ready to serve.
    pub(crate) fn serve(&self, app: &App) -> Arc<dyn CustomRoutes> {
        Arc::new(AppRoutes {
            router: self.router.clone().with_state(app.clone()),
            taken: self.taken.clone(),
        })
    }
}

impl Taken {
    fn takes(&self, method: &Method, path: &str) -> bool {
        let Ok(found) = self.paths.at(path) else {
            return false;
        };
        let methods = &self.methods[*found.value];
        // axum answers HEAD with the GET handler.
        methods.contains(method) || (*method == Method::HEAD && methods.contains(&Method::GET))
    }
}

/// The method filter of a route's method; only those axum can route.
pub(crate) fn method_filter(method: &Method) -> Result<MethodFilter, String> {
    MethodFilter::try_from(method.clone())
        .map_err(|_| format!("route method {method} is not one axum routes"))
}

/// One app's routes.
struct AppRoutes {
    router: Router,
    taken: Taken,
}

impl CustomRoutes for AppRoutes {
    fn matches(&self, method: &Method, path: &str) -> bool {
        self.taken.takes(method, path)
    }

    fn call(&self, request: CustomRequest) -> BoxResponse {
        let CustomRequest {
            next,
            mut parts,
            body,
            auth,
            ..
        } = request;
        parts.extensions.insert(auth);
        parts.extensions.insert(BuiltIn(next));
        let request = Request::from_parts(parts, Body::from(body));
        let router = self.router.clone();
        Box::pin(async move {
            match router.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        })
    }
}

/// The caller of a route: a guest, a superuser or an auth record, from the `Authorization`
/// header as the built-in routes read it.
pub struct Caller(pub Auth);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Caller(
            parts.extensions.get::<Auth>().cloned().unwrap_or_default(),
        ))
    }
}

/// The built-in routes, for a route that wraps one: `send` hands them a request (the one the
/// route received, or another) and returns their answer.
#[derive(Clone)]
pub struct BuiltIn(Next);

impl BuiltIn {
    pub async fn send(self, request: Request) -> Response {
        match self.0.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for BuiltIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<BuiltIn>()
            .cloned()
            .ok_or_else(|| ApiError(Error::internal("BuiltIn outside an app route")))
    }
}

/// A JSON body, refused in the standard error body (axum's `Json` answers in plain text).
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(JsonBody(value)),
            // PB-COMPAT: PocketBase's message for a body it cannot bind.
            Err(_) => Err(ApiError(Error::bad_request(
                "Failed to load the submitted data due to invalid formatting.",
            ))),
        }
    }
}
