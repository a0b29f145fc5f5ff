//! PocketBase's rate limits (`rateLimits` in the settings), enforced in process: each rule
//! allows `maxRequests` per `duration` seconds per client IP. A request is counted against the
//! single most specific rule that matches it:
//!
//! 1. `collection:action` (e.g. `users:auth`), then `*:action`, for collection endpoints;
//! 2. a path label, `[METHOD ]/path`: exact, or a prefix when it ends with `/` (`/api/`); the
//!    longest matching label wins, one with a method before one without.
//!
//! A rule's `audience` narrows it to guests (`@guest`) or authenticated callers (`@auth`).
//! Counting is a fixed window per (rule, client), starting at the client's first request
//! (never aligned to the wall clock, so a burst is never split by a boundary it did not
//! choose); windows that ended are swept when the table grows, so memory stays bounded by the
//! number of recently active clients. Instances that relay over Redis (`--pubsub redis://`)
//! count in Redis instead, in the same windows, so the budget is shared by all of them;
//! should Redis fail, each instance counts on its own until it is back.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::settings::Settings;

/// What the limiter needs to know about a request.
#[derive(Debug, Clone, Copy)]
pub struct RateRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// `(collection name, action tag)` for collection endpoints: `("users", "auth")`.
    pub action: Option<(&'a str, &'a str)>,
    pub client_ip: &'a str,
    pub authenticated: bool,
}

/// One configured rule.
#[derive(Debug, Clone, PartialEq)]
struct Rule {
    label: String,
    audience: String,
    max_requests: u64,
    duration: Duration,
}

struct Window {
    started: Instant,
    count: u64,
}

/// Table size past which ended windows are swept.
const SWEEP_AT: usize = 10_000;

pub struct RateLimiter {
    settings: Settings,
    windows: Mutex<HashMap<(String, String), Window>>,
    /// Counters shared by every instance: a Redis connection and the key prefix of this
    /// deployment (its database).
    shared: Option<(redis::aio::MultiplexedConnection, String)>,
    /// Where local windows read the time.
    clock: Clock,
}

impl RateLimiter {
    pub fn new(settings: Settings, clock: Clock) -> RateLimiter {
        RateLimiter {
            settings,
            windows: Mutex::default(),
            shared: None,
            clock,
        }
    }

    /// A limiter whose counters live in Redis under `prefix`, shared by the instances.
    pub fn shared(
        settings: Settings,
        redis: redis::aio::MultiplexedConnection,
        prefix: String,
        clock: Clock,
    ) -> RateLimiter {
        RateLimiter {
            settings,
            windows: Mutex::default(),
            shared: Some((redis, prefix)),
            clock,
        }
    }

    /// Whether rate limiting is on (one cheap read: requests skip the rest when it is off).
    pub fn enabled(&self) -> bool {
        self.settings.rate_limits_enabled()
    }

    /// Whether any enabled rule looks at the caller's identity (so the HTTP layer knows
    /// whether it must resolve the token before asking).
    pub fn needs_identity(&self) -> bool {
        let config = self.settings.rate_limits();
        enabled(&config) && rules(&config).iter().any(|r| !r.audience.is_empty())
    }

    /// Counts the request; `TooManyRequests` when its rule's budget for this window is spent.
    pub async fn check(&self, req: &RateRequest<'_>) -> Result<()> {
        if let Some((redis, prefix)) = &self.shared {
            let config = self.settings.rate_limits();
            if !enabled(&config) || excluded(&config, req.client_ip) {
                return Ok(());
            }
            let rules = rules(&config);
            let Some(rule) = find_rule(&rules, req) else {
                return Ok(());
            };
            match count_shared(redis.clone(), prefix, rule, req.client_ip).await {
                Ok(n) if n > rule.max_requests => {
                    return Err(Error::TooManyRequests("Too Many Requests.".into()));
                }
                Ok(_) => return Ok(()),
                Err(e) => {
                    tracing::warn!(error = %e, "shared rate-limit counter unavailable; counting locally")
                }
            }
        }
        self.check_at(req, self.clock.instant())
    }

    fn check_at(&self, req: &RateRequest, now: Instant) -> Result<()> {
        let config = self.settings.rate_limits();
        if !enabled(&config) || excluded(&config, req.client_ip) {
            return Ok(());
        }
        let rules = rules(&config);
        let Some(rule) = find_rule(&rules, req) else {
            return Ok(());
        };
        let mut windows = self.windows.lock();
        if windows.len() >= SWEEP_AT {
            windows.retain(|_, w| now.duration_since(w.started) < Duration::from_secs(3600));
            if windows.len() >= SWEEP_AT {
                windows.clear();
            }
        }
        let key = (
            format!("{}|{}", rule.label, rule.audience),
            req.client_ip.to_owned(),
        );
        let window = windows.entry(key).or_insert(Window {
            started: now,
            count: 0,
        });
        if now.duration_since(window.started) >= rule.duration {
            *window = Window {
                started: now,
                count: 0,
            };
        }
        if window.count >= rule.max_requests {
            // PB-COMPAT: PocketBase's message.
            return Err(Error::TooManyRequests("Too Many Requests.".into()));
        }
        window.count += 1;
        Ok(())
    }
}

/// Counts one request of `ip` against `rule` in Redis: one key per window, made by the
/// window's first request and expiring with it. Returns the count including this request.
async fn count_shared(
    mut redis: redis::aio::MultiplexedConnection,
    prefix: &str,
    rule: &Rule,
    ip: &str,
) -> redis::RedisResult<u64> {
    let millis = u64::try_from(rule.duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1);
    let key = format!("oxbase:rl:{prefix}:{}|{}:{ip}", rule.label, rule.audience);
    // SET NX starts a window only when none is running; INCR keeps the key's expiry.
    let (_, count): (Option<String>, u64) = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg(&key)
        .arg(0u64)
        .arg("PX")
        .arg(millis)
        .arg("NX")
        .incr(&key, 1u64)
        .query_async(&mut redis)
        .await?;
    Ok(count)
}

fn enabled(config: &Json) -> bool {
    config.get("enabled").and_then(Json::as_bool) == Some(true)
}

fn excluded(config: &Json, ip: &str) -> bool {
    config
        .get("excludedIPs")
        .and_then(Json::as_array)
        .is_some_and(|l| l.iter().any(|v| v.as_str() == Some(ip)))
}

fn rules(config: &Json) -> Vec<Rule> {
    let list = config
        .get("rules")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    list.iter()
        .filter_map(|r| {
            Some(Rule {
                label: r.get("label")?.as_str()?.trim().to_owned(),
                audience: r
                    .get("audience")
                    .and_then(Json::as_str)
                    .unwrap_or("")
                    .to_owned(),
                max_requests: r.get("maxRequests")?.as_u64()?,
                duration: Duration::from_secs(r.get("duration")?.as_u64()?),
            })
        })
        .filter(|r| r.max_requests > 0 && !r.duration.is_zero())
        .collect()
}

fn audience_fits(rule: &Rule, authenticated: bool) -> bool {
    match rule.audience.as_str() {
        "@guest" => !authenticated,
        "@auth" => authenticated,
        _ => true,
    }
}

fn find_rule<'r>(rules: &'r [Rule], req: &RateRequest) -> Option<&'r Rule> {
    let fits = |r: &&Rule| audience_fits(r, req.authenticated);
    if let Some((collection, action)) = req.action {
        for label in [format!("{collection}:{action}"), format!("*:{action}")] {
            if let Some(rule) = rules.iter().filter(fits).find(|r| r.label == label) {
                return Some(rule);
            }
        }
    }
    rules
        .iter()
        .filter(fits)
        .filter_map(|r| path_match(&r.label, req.method, req.path).map(|score| (score, r)))
        .max_by_key(|(score, _)| *score)
        .map(|(_, r)| r)
}

/// How specifically a path label matches (longer is more specific; a method adds one), or
/// `None` when it does not.
fn path_match(label: &str, method: &str, path: &str) -> Option<usize> {
    let (label_method, label_path) = match label.split_once(' ') {
        Some((m, p)) => (Some(m), p.trim()),
        None => (None, label),
    };
    if !label_path.starts_with('/') || label_method.is_some_and(|m| !m.eq_ignore_ascii_case(method))
    {
        return None;
    }
    let matches = if label_path.ends_with('/') {
        path.starts_with(label_path)
    } else {
        path == label_path
    };
    matches.then(|| label_path.len() * 2 + usize::from(label_method.is_some()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(label: &str, audience: &str) -> Rule {
        Rule {
            label: label.into(),
            audience: audience.into(),
            max_requests: 1,
            duration: Duration::from_secs(1),
        }
    }

    fn req<'a>(
        method: &'a str,
        path: &'a str,
        action: Option<(&'a str, &'a str)>,
        authenticated: bool,
    ) -> RateRequest<'a> {
        RateRequest {
            method,
            path,
            action,
            client_ip: "1.2.3.4",
            authenticated,
        }
    }

    #[test]
    fn the_most_specific_rule_wins() {
        let rules = [
            rule("/api/", ""),
            rule("*:auth", ""),
            rule("users:auth", ""),
            rule("/api/batch", ""),
            rule("POST /api/batch", ""),
        ];
        let auth = req(
            "POST",
            "/api/collections/users/auth-with-password",
            Some(("users", "auth")),
            false,
        );
        assert_eq!(
            find_rule(&rules, &auth).map(|r| r.label.as_str()),
            Some("users:auth")
        );
        let other = req(
            "POST",
            "/api/collections/posts/auth-with-password",
            Some(("posts", "auth")),
            false,
        );
        assert_eq!(
            find_rule(&rules, &other).map(|r| r.label.as_str()),
            Some("*:auth")
        );
        assert_eq!(
            find_rule(&rules, &req("POST", "/api/batch", None, false)).map(|r| r.label.as_str()),
            Some("POST /api/batch")
        );
        assert_eq!(
            find_rule(&rules, &req("GET", "/api/batch", None, false)).map(|r| r.label.as_str()),
            Some("/api/batch")
        );
        assert_eq!(
            find_rule(&rules, &req("GET", "/api/batch/x", None, false)).map(|r| r.label.as_str()),
            Some("/api/")
        );
        assert!(find_rule(&rules, &req("GET", "/index.html", None, false)).is_none());
    }

    #[test]
    fn audiences_narrow_rules() {
        let rules = [rule("/api/", "@guest"), rule("/api/health", "@auth")];
        assert_eq!(
            find_rule(&rules, &req("GET", "/api/health", None, false)).map(|r| r.label.as_str()),
            Some("/api/")
        );
        assert_eq!(
            find_rule(&rules, &req("GET", "/api/health", None, true)).map(|r| r.label.as_str()),
            Some("/api/health")
        );
        assert!(find_rule(&rules, &req("GET", "/api/x", None, true)).is_none());
    }
}
