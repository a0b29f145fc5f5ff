//! What a response's body must say for the run to count it (issue #24: the benchmark checks what
//! it counts). A 2xx with the wrong body is an error like a 500: a run with any is FAILED.
//!
//! Every response gets a cheap check: substring searches over the body (`str::matches`, a
//! two-way search, after one UTF-8 validation), for the needles built once with the plan
//! (`"id":"x…"`, `"room":"r…"` once per item, `"totalItems":N`, …). Both servers write compact
//! JSON, so the needles are exact. One response in `FULL_EVERY` per worker (the first one
//! included) is also parsed with serde_json and checked field by field: the structure the
//! substring counts stand for (items an array of records of that room, each expanded relation
//! the record its id names). Parsing every list response would cost the single-threaded client
//! about as much as the server spends on it; the byte searches cost a few microseconds.

use serde_json::Value;

/// One response in this many (per worker, starting with the first) gets the full JSON check.
pub const FULL_EVERY: u64 = 16;

/// The expectation attached to a request.
#[derive(Clone, Debug, Default)]
pub enum Check {
    /// Any 2xx (seeding and setup requests).
    #[default]
    Status,
    /// A JSON object (the floor: `/api/health`, nginx's fixed body).
    Object,
    /// The record with this id.
    Record { id: String, needle: String },
    /// A REST page of `messages` of one room.
    Page(Page),
    /// The record the request created or updated: these string fields with these values.
    Written {
        fields: Vec<(String, String)>,
        needles: Vec<String>,
    },
    /// An auth response: a token, and the record of this user.
    Token { user: String, needle: String },
    /// The body contains this text (a hook route's answer).
    Contains(String),
    /// A GraphQL page (`data.<field>.items`) of `messages` of one room.
    Graphql { field: String, page: Page },
}

/// A page of messages of one room: how many items, the total when asked, the expanded room.
#[derive(Clone, Debug)]
pub struct Page {
    pub room: String,
    pub items: usize,
    pub total: Option<usize>,
    /// Whether each item carries its room expanded (REST `expand=room`, GraphQL `room_rel`).
    pub expand: bool,
    room_needle: String,
    /// Found once per item when its room is expanded.
    expand_needle: String,
    total_needles: [String; 2],
}

impl Page {
    /// A REST page (`expand=room`: each expanded room is a record of `rooms`).
    pub fn rest(room: &str, items: usize, total: Option<usize>, expand: bool) -> Page {
        Page::new(
            room,
            items,
            total,
            expand,
            "\"collectionName\":\"rooms\"".into(),
        )
    }

    /// A GraphQL page whose items select `room_rel { id … }` first.
    pub fn graphql(room: &str, items: usize, total: Option<usize>) -> Page {
        Page::new(
            room,
            items,
            total,
            true,
            format!("\"room_rel\":{{\"id\":\"{room}\""),
        )
    }

    fn new(
        room: &str,
        items: usize,
        total: Option<usize>,
        expand: bool,
        expand_needle: String,
    ) -> Page {
        let t = total.unwrap_or(0);
        Page {
            room: room.to_owned(),
            items,
            total,
            expand,
            expand_needle,
            room_needle: format!("\"room\":\"{room}\""),
            total_needles: [
                format!("\"totalItems\":{t},"),
                format!("\"totalItems\":{t}}}"),
            ],
        }
    }
}

impl Check {
    pub fn record(id: &str) -> Check {
        Check::Record {
            id: id.to_owned(),
            needle: format!("\"id\":\"{id}\""),
        }
    }

    pub fn written(fields: &[(&str, &str)]) -> Check {
        Check::Written {
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            needles: fields
                .iter()
                .map(|(k, v)| format!("\"{k}\":{}", Value::from(*v)))
                .collect(),
        }
    }

    pub fn token(user: &str) -> Check {
        Check::Token {
            user: user.to_owned(),
            needle: format!("\"id\":\"{user}\""),
        }
    }

    /// Checks a 2xx body: the byte searches always, the full JSON check when `full`.
    pub fn verify(&self, body: &[u8], full: bool) -> Result<(), String> {
        if matches!(self, Check::Status) {
            return Ok(());
        }
        let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_owned())?;
        self.cheap(text)?;
        if full {
            let v: Value =
                serde_json::from_str(text).map_err(|e| format!("the body is not JSON: {e}"))?;
            self.deep(&v)?;
        }
        Ok(())
    }

    fn cheap(&self, text: &str) -> Result<(), String> {
        let has = |needle: &str| {
            if text.contains(needle) {
                Ok(())
            } else {
                Err(format!("no `{needle}` in the body"))
            }
        };
        match self {
            Check::Status => Ok(()),
            Check::Object => {
                let t = text.trim();
                if t.starts_with('{') && t.ends_with('}') {
                    Ok(())
                } else {
                    Err("the body is not a JSON object".into())
                }
            }
            Check::Record { needle, .. } | Check::Token { needle, .. } => {
                if let Check::Token { .. } = self {
                    has("\"token\":\"ey")?;
                }
                has(needle)
            }
            Check::Written { needles, .. } => needles.iter().try_for_each(|n| has(n)),
            Check::Contains(s) => has(s),
            Check::Page(p) | Check::Graphql { page: p, .. } => {
                let n = text.matches(p.room_needle.as_str()).count();
                if n != p.items {
                    return Err(format!(
                        "{n} items of room {} in the page, expected {}",
                        p.room, p.items
                    ));
                }
                if p.total.is_some() && !p.total_needles.iter().any(|t| text.contains(t.as_str())) {
                    return Err(format!(
                        "no `{}` in the body",
                        p.total_needles[0].trim_end_matches(',')
                    ));
                }
                if p.expand {
                    let rooms = text.matches(p.expand_needle.as_str()).count();
                    if rooms != p.items {
                        return Err(format!(
                            "{rooms} expanded rooms in a page of {} items",
                            p.items
                        ));
                    }
                }
                Ok(())
            }
        }
    }

    fn deep(&self, v: &Value) -> Result<(), String> {
        match self {
            Check::Status | Check::Contains(_) => Ok(()),
            Check::Object => v
                .as_object()
                .map(|_| ())
                .ok_or_else(|| "the body is not a JSON object".into()),
            Check::Record { id, .. } => field_is(v, "id", id),
            Check::Written { fields, .. } => {
                if v["id"].as_str().is_none_or(|id| id.len() != 15) {
                    return Err(format!("no 15-character id in the record: {v}"));
                }
                fields.iter().try_for_each(|(k, want)| field_is(v, k, want))
            }
            Check::Token { user, .. } => {
                if v["token"]
                    .as_str()
                    .is_none_or(|t| t.split('.').count() != 3)
                {
                    return Err("no JWT in `token`".into());
                }
                field_is(&v["record"], "id", user)
            }
            Check::Page(p) => p.deep(v, "expand", "room"),
            Check::Graphql { field, page } => {
                if let Some(errors) = v.get("errors") {
                    return Err(format!("GraphQL errors: {errors}"));
                }
                page.deep(&v["data"][field.as_str()], "", "room_rel")
            }
        }
    }
}

impl Page {
    /// `expand_key`: where an item's expanded relations are ("" = on the item itself, GraphQL's
    /// `room_rel`); `room_key`: the expanded room's key there.
    fn deep(&self, page: &Value, expand_key: &str, room_key: &str) -> Result<(), String> {
        let items = page["items"]
            .as_array()
            .ok_or_else(|| format!("no `items` array in {page}"))?;
        if items.len() != self.items {
            return Err(format!("{} items, expected {}", items.len(), self.items));
        }
        if let Some(total) = self.total
            && page["totalItems"].as_u64() != Some(total as u64)
        {
            return Err(format!(
                "totalItems {}, expected {total}",
                page["totalItems"]
            ));
        }
        for item in items {
            field_is(item, "room", &self.room)?;
            if item["id"].as_str().is_none() {
                return Err(format!("an item without an id: {item}"));
            }
            if self.expand {
                let holder = if expand_key.is_empty() {
                    item
                } else {
                    &item[expand_key]
                };
                field_is(&holder[room_key], "id", &self.room)
                    .map_err(|e| format!("expanded room: {e}"))?;
            }
        }
        Ok(())
    }
}

fn field_is(v: &Value, key: &str, want: &str) -> Result<(), String> {
    match v[key].as_str() {
        Some(got) if got == want => Ok(()),
        _ => Err(format!("`{key}` is {}, expected {want:?}", v[key])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_of_another_record_is_wrong() {
        let c = Check::record("x00000000000001");
        assert!(
            c.verify(br#"{"id":"x00000000000001","text":"a"}"#, true)
                .is_ok()
        );
        assert!(
            c.verify(br#"{"id":"x00000000000002","text":"a"}"#, false)
                .is_err()
        );
        // The byte search passes (the id is in the body), the full check does not.
        let nested = br#"{"id":"x00000000000002","other":{"id":"x00000000000001"}}"#;
        assert!(c.verify(nested, false).is_ok());
        assert!(c.verify(nested, true).is_err());
    }

    #[test]
    fn a_write_must_answer_the_written_fields() {
        let c = Check::written(&[("room", "r00000000000000"), ("text", "say \"hi\"")]);
        let good = br#"{"id":"abcdefghijklmno","room":"r00000000000000","text":"say \"hi\""}"#;
        assert!(c.verify(good, true).is_ok());
        let other = br#"{"id":"abcdefghijklmno","room":"r00000000000000","text":"say"}"#;
        assert!(c.verify(other, false).is_err());
        let no_id = br#"{"room":"r00000000000000","text":"say \"hi\""}"#;
        assert!(c.verify(no_id, true).is_err());
    }

    #[test]
    fn an_auth_answer_needs_a_token_for_that_user() {
        let c = Check::token("u00000000000000");
        assert!(
            c.verify(
                br#"{"token":"eyA.b.c","record":{"id":"u00000000000000"}}"#,
                true
            )
            .is_ok()
        );
        assert!(
            c.verify(br#"{"token":"","record":{"id":"u00000000000000"}}"#, false)
                .is_err()
        );
    }

    #[test]
    fn totals_and_expands_are_checked() {
        let room = "r00000000000000";
        let item = |expand: bool| {
            let e = if expand {
                format!(r#","expand":{{"room":{{"collectionName":"rooms","id":"{room}"}}}}"#)
            } else {
                String::new()
            };
            format!(r#"{{"id":"x00000000000000","room":"{room}"{e}}}"#)
        };
        let body = |expand: bool, total: usize| {
            format!(
                r#"{{"page":1,"perPage":50,"totalItems":{total},"totalPages":1,"items":[{},{}]}}"#,
                item(expand),
                item(expand)
            )
        };
        let c = Check::Page(Page::rest(room, 2, Some(2), true));
        assert!(c.verify(body(true, 2).as_bytes(), true).is_ok());
        assert!(c.verify(body(true, 3).as_bytes(), false).is_err());
        assert!(c.verify(body(false, 2).as_bytes(), false).is_err());
    }

    #[test]
    fn graphql_errors_are_wrong() {
        let c = Check::Graphql {
            field: "messagesList".into(),
            page: Page::graphql("r00000000000000", 0, Some(0)),
        };
        let ok = br#"{"data":{"messagesList":{"page":1,"perPage":50,"totalItems":0,"totalPages":0,"items":[]}}}"#;
        assert!(c.verify(ok, true).is_ok());
        let err = br#"{"data":{"messagesList":{"page":1,"perPage":50,"totalItems":0,"totalPages":0,"items":[]}},"errors":[{"message":"no"}]}"#;
        assert!(c.verify(err, true).is_err());
    }
}
