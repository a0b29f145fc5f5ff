//! The one HTTP client: hyper over HTTP/1.1 keep-alive, to 127.0.0.1 only.

use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::check::Check;

/// A pooled client bound to one server's base URL.
#[derive(Clone)]
pub struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
    base: String,
}

/// One request, pre-built once and replayed many times (cloning is reference counting).
#[derive(Clone, Debug)]
pub struct Req {
    pub method: Method,
    pub path: String,
    pub token: Option<String>,
    pub body: Option<Bytes>,
    /// What a 2xx body must say for a measured run to count it.
    pub check: Check,
}

impl Req {
    pub fn get(path: impl Into<String>, token: Option<&str>) -> Req {
        Req {
            method: Method::GET,
            path: path.into(),
            token: token.map(str::to_owned),
            body: None,
            check: Check::Status,
        }
    }

    /// The same request, with what its answers must say.
    pub fn expect(mut self, check: Check) -> Req {
        self.check = check;
        self
    }

    pub fn json(
        method: Method,
        path: impl Into<String>,
        token: Option<&str>,
        body: &serde_json::Value,
    ) -> Req {
        Req {
            method,
            path: path.into(),
            token: token.map(str::to_owned),
            body: Some(Bytes::from(body.to_string())),
            check: Check::Status,
        }
    }
}

impl Http {
    /// `pool` is the number of idle keep-alive connections kept (the concurrency).
    pub fn new(base: &str, pool: usize) -> Http {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(pool.max(1))
            .pool_idle_timeout(Duration::from_secs(60))
            .build(connector);
        Http {
            client,
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// Sends and reads the whole body; returns (status, body). Bounded by `timeout`.
    pub async fn send(&self, req: &Req, timeout: Duration) -> Result<(u16, Bytes)> {
        let mut builder = Request::builder()
            .method(req.method.clone())
            .uri(format!("{}{}", self.base, req.path));
        if let Some(t) = &req.token {
            builder = builder.header("authorization", t.as_str());
        }
        let body = match &req.body {
            Some(b) => {
                builder = builder.header("content-type", "application/json");
                Full::new(b.clone())
            }
            None => Full::new(Bytes::new()),
        };
        let request = builder.body(body).context("building a request")?;
        let fut = async {
            let resp = self.client.request(request).await?;
            let status = resp.status().as_u16();
            let bytes = resp.into_body().collect().await?.to_bytes();
            Ok::<_, anyhow::Error>((status, bytes))
        };
        tokio::time::timeout(timeout, fut)
            .await
            .map_err(|_| anyhow!("timed out after {timeout:?}: {} {}", req.method, req.path))?
    }

    /// Sends a JSON request and expects a 2xx with a JSON body.
    pub async fn json(&self, req: &Req) -> Result<serde_json::Value> {
        let (status, body) = self.send(req, Duration::from_secs(60)).await?;
        if !(200..300).contains(&status) {
            return Err(anyhow!(
                "{} {} → {status}: {}",
                req.method,
                req.path,
                String::from_utf8_lossy(&body)
            ));
        }
        if body.is_empty() {
            return Ok(serde_json::Value::Null);
        }
        serde_json::from_slice(&body)
            .with_context(|| format!("{} {}: body is not JSON", req.method, req.path))
    }
}

/// Percent-encodes a query-string value.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
