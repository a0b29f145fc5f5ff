//! Subscription topics: `collection/*` (or its legacy form, the bare `collection`),
//! `collection/RECORD_ID`, optionally followed by
//! `?options=<url-encoded JSON {"query": {...}, "headers": {...}}>` as the SDK sends them.

use serde_json::{Map, Value as Json};

/// PB-COMPAT: limits on a client's subscriptions.
pub const MAX_SUBSCRIPTIONS: usize = 1000;
pub const MAX_TOPIC_LEN: usize = 2500;

#[derive(Debug, Clone, PartialEq)]
pub struct Topic {
    /// The exact string subscribed to: also the SSE event name.
    pub raw: String,
    pub collection: String,
    /// `None` for `*`.
    pub record_id: Option<String>,
    pub query: Map<String, Json>,
    pub headers: Map<String, Json>,
}

impl Topic {
    /// PB-COMPAT: any topic up to `MAX_TOPIC_LEN` is accepted (the SDK subscribes to
    /// `PB_CONNECT` itself, apps to custom topics); one that is not `collection/*` or
    /// `collection/id` simply names no collection, so no record change is delivered to it.
    /// `None` only for a topic too long or with unreadable `?options=`.
    pub fn parse(raw: &str) -> Option<Topic> {
        if raw.len() > MAX_TOPIC_LEN {
            return None;
        }
        let (path, query_string) = raw.split_once('?').unwrap_or((raw, ""));
        let (collection, target) = match path.split_once('/') {
            Some((c, t)) if !c.is_empty() && !t.is_empty() && !t.contains('/') => (c, t),
            // PB-COMPAT: a bare collection name or id is PocketBase's deprecated form of
            // `collection/*`, still delivered (by the list rule, under that exact name).
            None if !path.is_empty() => (path, "*"),
            _ => ("", "*"),
        };
        let mut topic = Topic {
            raw: raw.to_owned(),
            collection: collection.to_owned(),
            record_id: (target != "*").then(|| target.to_owned()),
            query: Map::new(),
            headers: Map::new(),
        };
        for (k, v) in form_pairs(query_string) {
            if k == "options" {
                let options: Json = serde_json::from_str(&v).ok()?;
                topic.query = stringify(options.get("query"));
                // PB-COMPAT: header names as rules see them: `X-Key` is `@request.headers.x_key`.
                topic.headers = stringify(options.get("headers"))
                    .into_iter()
                    .map(|(k, v)| (k.to_ascii_lowercase().replace('-', "_"), v))
                    .collect();
            }
        }
        Some(topic)
    }

    pub fn option(&self, key: &str) -> &str {
        self.query.get(key).and_then(Json::as_str).unwrap_or("")
    }
}

fn stringify(v: Option<&Json>) -> Map<String, Json> {
    let Some(Json::Object(m)) = v else {
        return Map::new();
    };
    m.iter()
        .map(|(k, v)| {
            let s = match v {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), Json::String(s))
        })
        .collect()
}

fn form_pairs(s: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(s.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_collection_wildcard_and_record_topics() {
        let t = Topic::parse("posts/*").unwrap();
        assert_eq!(
            (t.collection.as_str(), t.record_id.as_deref()),
            ("posts", None)
        );
        let t = Topic::parse("posts/abc").unwrap();
        assert_eq!(t.record_id.as_deref(), Some("abc"));
        // a bare name is the wildcard's legacy form
        let t = Topic::parse("posts").unwrap();
        assert_eq!(
            (t.collection.as_str(), t.record_id.as_deref()),
            ("posts", None)
        );
        // other topics are accepted and name no collection
        assert_eq!(Topic::parse("posts/a/b").unwrap().collection, "");
        assert_eq!(Topic::parse("/x").unwrap().collection, "");
        assert!(Topic::parse(&"x".repeat(MAX_TOPIC_LEN + 1)).is_none());
    }

    #[test]
    fn parses_sdk_options() {
        let raw = "posts/*?options=%7B%22query%22%3A%7B%22filter%22%3A%22title%3D'x'%22%2C%22expand%22%3A%22author%22%7D%2C%22headers%22%3A%7B%7D%7D";
        let t = Topic::parse(raw).unwrap();
        assert_eq!(t.option("filter"), "title='x'");
        assert_eq!(t.option("expand"), "author");
        assert_eq!(t.raw, raw);
    }
}
