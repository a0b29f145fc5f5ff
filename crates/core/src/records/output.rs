//! A record as the API returns it: `collectionId`, `collectionName`, visible fields, `expand`,
//! then narrowed by the `fields` query parameter.

use serde_json::{Map, Value as Json, json};

use crate::error::{Error, Result};
use crate::identity::Auth;
use crate::schema::FieldKind;
use crate::schema::Record;

/// PocketBase's JSON of a record as `auth` may see it. `with_expand` adds the `expand` object
/// (empty when nothing resolved), as PocketBase does when an expand path applied to it. The
/// record's values move into the JSON.
pub fn to_json(record: Record, auth: &Auth, with_expand: bool) -> Json {
    let superuser = auth.is_superuser();
    let is_owner = auth
        .record()
        .is_some_and(|r| r.collection.id == record.collection.id && r.id() == record.id());
    render(record, superuser, is_owner, with_expand)
}

/// The record as a superuser sees it, for code acting for no caller (webhooks).
pub fn as_superuser_sees(record: Record) -> Json {
    render(record, true, false, false)
}

fn render(record: Record, superuser: bool, is_owner: bool, with_expand: bool) -> Json {
    let email_visible = record.get("emailVisibility").as_bool().unwrap_or(false);
    let Record {
        collection,
        mut data,
        expand,
    } = record;
    let mut out = Map::new();
    out.insert("collectionId".into(), json!(collection.id));
    out.insert("collectionName".into(), json!(collection.name));
    for f in &collection.fields {
        if f.name == "tokenKey" || (f.hidden && (!superuser || f.kind == FieldKind::Password)) {
            continue;
        }
        // PB-COMPAT: a visible password field is always blank; its hash never leaves.
        if f.kind == FieldKind::Password {
            out.insert(f.name.clone(), json!(""));
            continue;
        }
        if collection.is_auth() && f.name == "email" && !(email_visible || superuser || is_owner) {
            continue;
        }
        let (name, value) = data
            .remove_entry(&f.name)
            .unwrap_or_else(|| (f.name.clone(), Json::Null));
        out.insert(name, value);
    }
    if with_expand || !expand.is_empty() {
        out.insert("expand".into(), Json::Object(expand));
    }
    Json::Object(out)
}

/// One entry of the `fields` query parameter: a dotted path, optionally `:excerpt(max, ellipsis)`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldPick {
    pub path: Vec<String>,
    pub excerpt: Option<(usize, bool)>,
}

/// Parses `fields=*,id,expand.author.name,body:excerpt(100,true)`. Empty means everything.
/// PocketBase's one modifier is `excerpt(max[, ellipsis])`; any other, or a `max` that is no
/// number, is its 400.
pub fn parse_fields(input: &str) -> Result<Vec<FieldPick>> {
    let invalid = || Error::bad_request("Something went wrong while processing your request.");
    let mut out = Vec::new();
    for part in split_top_level(input) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (path, excerpt) = match part.split_once(':') {
            Some((p, modifier)) => {
                let args = modifier
                    .strip_prefix("excerpt(")
                    .and_then(|a| a.strip_suffix(')'))
                    .ok_or_else(invalid)?;
                let args: Vec<&str> = args.split(',').map(str::trim).collect();
                if args.len() > 2 {
                    return Err(invalid());
                }
                let max = args[0].parse().map_err(|_| invalid())?;
                // PB-COMPAT: as PocketBase's cast reads it: `true`/`1`/`t`..., else false.
                let ellipsis = args
                    .get(1)
                    .is_some_and(|b| matches!(*b, "1" | "t" | "T" | "true" | "TRUE" | "True"));
                (p, Some((max, ellipsis)))
            }
            None => (part, None),
        };
        out.push(FieldPick {
            path: path.split('.').map(str::to_owned).collect(),
            excerpt,
        });
    }
    Ok(out)
}

fn split_top_level(input: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in input.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&input[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&input[start..]);
    parts
}

/// Keeps only the picked fields of a record's JSON (applied recursively into `expand`).
pub fn pick(value: &Json, picks: &[FieldPick]) -> Json {
    if picks.is_empty() {
        return value.clone();
    }
    match value {
        Json::Array(items) => Json::Array(items.iter().map(|v| pick(v, picks)).collect()),
        Json::Object(obj) => {
            let mut out = Map::new();
            for p in picks {
                let Some(first) = p.path.first() else {
                    continue;
                };
                if p.path.len() == 1 {
                    let keys: Vec<&String> = if first == "*" {
                        // Every key no other pick names (`*,expand.a.b` keeps `expand` to `b`).
                        let named = |k: &String| picks.iter().any(|q| q.path.first() == Some(k));
                        obj.keys().filter(|k| !named(k)).collect()
                    } else {
                        obj.keys().filter(|k| *k == first).collect()
                    };
                    for k in keys {
                        let v = &obj[k];
                        let v = match (p.excerpt, v) {
                            (Some((max, ellipsis)), Json::String(s)) => {
                                json!(excerpt(s, max, ellipsis))
                            }
                            _ => v.clone(),
                        };
                        out.insert(k.clone(), v);
                    }
                } else if let Some(child) = obj.get(first) {
                    let rest = [FieldPick {
                        path: p.path[1..].to_vec(),
                        excerpt: p.excerpt,
                    }];
                    let sub = pick(child, &rest);
                    merge(out.entry(first.clone()).or_insert(Json::Null), sub);
                }
            }
            Json::Object(out)
        }
        other => other.clone(),
    }
}

fn merge(target: &mut Json, add: Json) {
    match (target, add) {
        (Json::Object(t), Json::Object(a)) => {
            for (k, v) in a {
                merge(t.entry(k).or_insert(Json::Null), v);
            }
        }
        (Json::Array(t), Json::Array(a)) => {
            for (slot, v) in t.iter_mut().zip(a.iter().cloned()) {
                merge(slot, v);
            }
            if t.is_empty() {
                *t = a;
            }
        }
        (t, a) => *t = a,
    }
}

/// Plain text of at most `max` characters (HTML tags stripped), with `...` when cut.
pub fn excerpt(s: &str, max: usize, ellipsis: bool) -> String {
    let mut text = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= max {
        return text;
    }
    let mut cut: String = text.chars().take(max).collect();
    cut = cut.trim_end().to_owned();
    if ellipsis {
        cut.push_str("...");
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_nested_expand_paths_and_excerpts() {
        let v = json!({"id": "1", "body": "<p>Hello big world</p>", "expand": {"author": {"id": "2", "name": "N"}}});
        let picks = parse_fields("id,body:excerpt(9,true),expand.author.name").unwrap();
        assert_eq!(
            pick(&v, &picks),
            json!({"id": "1", "body": "Hello big...", "expand": {"author": {"name": "N"}}})
        );
    }

    #[test]
    fn star_keeps_every_key_the_other_picks_do_not_name() {
        let v = json!({"id": "1", "a": 2, "expand": {"x": {"n": 1, "m": 2}}});
        assert_eq!(pick(&v, &parse_fields("*").unwrap()), v);
        assert_eq!(
            pick(&v, &parse_fields("*,expand.x.n").unwrap()),
            json!({"id": "1", "a": 2, "expand": {"x": {"n": 1}}})
        );
        for bad in ["a:excerpt(x)", "a:excerpt()", "a:nope", "a:excerpt(1,2,3)"] {
            assert!(parse_fields(bad).is_err(), "{bad}");
        }
        assert!(parse_fields("a:excerpt(5,x)").is_ok());
    }
}
