//! Request bodies applied to a record: PocketBase's coercion of values per field type and the
//! `field+`, `+field`, `field-` modifiers.

use serde_json::{Map, Value as Json, json};

use crate::schema::record::{Record, as_list};
use crate::schema::{Field, FieldKind};

/// Where a body came from: form values are all strings, so JSON fields parse them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Json,
    Form,
}

/// Applies `body` to `record`. Returns the auth-only keys (`password`, `passwordConfirm`,
/// `oldPassword`) and the plain values of password fields separately: they are not stored as
/// given. Values for hidden fields are
/// ignored unless `superuser`.
pub fn apply(
    record: &mut Record,
    body: &Map<String, Json>,
    kind: BodyKind,
    superuser: bool,
) -> Map<String, Json> {
    let collection = record.collection.clone();
    let mut secrets = Map::new();
    for (key, raw) in application_order(body) {
        let (name, modifier) = split_modifier(key);
        if ["password", "passwordConfirm", "oldPassword"].contains(&name) && collection.is_auth() {
            // PB-COMPAT: `password+` and the like set nothing (no modifier on passwords).
            if modifier.is_none() {
                secrets.insert(name.to_owned(), json!(to_text(raw)));
            }
            continue;
        }
        let Some(field) = collection.field(name) else {
            continue;
        };
        // Password fields are never stored as given: the caller checks and hashes them.
        if field.kind == FieldKind::Password {
            if modifier.is_none() {
                secrets.insert(name.to_owned(), json!(to_text(raw)));
            }
            continue;
        }
        // PB-COMPAT: non-superusers cannot set hidden fields; their values are dropped.
        if field.kind == FieldKind::Autodate || (field.hidden && !superuser) {
            continue;
        }
        let value = match modifier {
            None => cast(field, raw, kind),
            // PB-COMPAT: `title+` or `+n` names no setter in PocketBase: it changes nothing.
            Some(m) if !supports(field, m) => continue,
            Some(m) => modify(field, record.get(name), raw, m, kind),
        };
        record.data.insert(name.to_owned(), value);
    }
    secrets
}

/// The keys of `body` in the order PocketBase applies them (`Record.ReplaceModifiers`):
/// shorter first, so a plain `tags` is set before `tags+` or `+tags` change it.
fn application_order(body: &Map<String, Json>) -> Vec<(&String, &Json)> {
    let mut keys: Vec<(&String, &Json)> = body.iter().collect();
    keys.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| a.0.cmp(b.0)));
    keys
}

/// `body` as rules see it under `@request.body` (PocketBase's `ReplaceModifiers`): every key
/// that sets a field, modifiers included, is replaced by that field's final value in
/// `record` (to which the body was applied), so a rule judges exactly what will be stored.
/// Fields the caller may not set are left out; keys that name no field stay as given.
pub fn resolved_body(
    record: &Record,
    body: &Map<String, Json>,
    superuser: bool,
) -> Map<String, Json> {
    let mut out = Map::new();
    for (key, raw) in body {
        let (name, modifier) = split_modifier(key);
        let field = record.collection.field(name);
        let field = field.filter(|f| modifier.is_none_or(|m| supports(f, m)));
        match field {
            // Passwords are never stored as given: the rule sees what was sent.
            Some(f) if f.kind == FieldKind::Password => {
                out.insert(key.clone(), raw.clone());
            }
            Some(f) if f.hidden && !superuser => {}
            Some(f) => {
                out.insert(f.name.clone(), record.get(&f.name).clone());
            }
            None => {
                out.insert(key.clone(), raw.clone());
            }
        }
    }
    out
}

/// Whether `body` changes a field of `collection` relative to its stored value (`n+`,
/// `tags-`, `+files`): then its final values depend on the stored record.
pub fn has_modifiers(collection: &crate::schema::Collection, body: &Map<String, Json>) -> bool {
    body.keys().any(|key| match split_modifier(key) {
        (name, Some(m)) => collection.field(name).is_some_and(|f| supports(f, m)),
        _ => false,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Modifier {
    Append,
    Prepend,
    Subtract,
}

fn split_modifier(key: &str) -> (&str, Option<Modifier>) {
    if let Some(name) = key.strip_suffix('+') {
        (name, Some(Modifier::Append))
    } else if let Some(name) = key.strip_prefix('+') {
        (name, Some(Modifier::Prepend))
    } else if let Some(name) = key.strip_suffix('-') {
        (name, Some(Modifier::Subtract))
    } else {
        (key, None)
    }
}

/// Whether `field` has a setter for `m` (PocketBase's `FindSetter`): numbers add and
/// subtract, lists append, prepend and remove; other modifiers set nothing.
fn supports(field: &Field, m: Modifier) -> bool {
    match field.kind {
        FieldKind::Number => m != Modifier::Prepend,
        FieldKind::Select | FieldKind::Relation | FieldKind::File => true,
        _ => false,
    }
}

fn modify(field: &Field, current: &Json, raw: &Json, m: Modifier, kind: BodyKind) -> Json {
    match field.kind {
        FieldKind::Number => {
            let base = current.as_f64().unwrap_or(0.0);
            let delta = to_number(raw);
            number(if m == Modifier::Subtract {
                base - delta
            } else {
                base + delta
            })
        }
        FieldKind::Select | FieldKind::Relation | FieldKind::File => {
            let mut items = as_list(current);
            let given = list_of(raw, kind);
            match m {
                Modifier::Append => items.extend(given),
                Modifier::Prepend => {
                    items.splice(0..0, given);
                }
                Modifier::Subtract => items.retain(|i| !given.contains(i)),
            }
            shape_list(field, dedupe(items))
        }
        _ => current.clone(),
    }
}

/// PocketBase's cast of an input value to a field's type.
pub fn cast(field: &Field, raw: &Json, kind: BodyKind) -> Json {
    match field.kind {
        FieldKind::Number => number(to_number(raw)),
        FieldKind::Bool => json!(to_bool(raw)),
        FieldKind::Date => json!(crate::dates::normalize(&to_text(raw)).unwrap_or_default()),
        // PB-COMPAT: a string holding valid JSON is stored as that JSON, in any body kind.
        FieldKind::Json => match raw {
            Json::String(s) => json_text(s),
            // PB-COMPAT: repeated form parts are a list of their values as PocketBase infers
            // form values (`1`, `true`, `[1]` → [1, true, "[1]"]).
            Json::Array(parts) if kind == BodyKind::Form => Json::Array(
                parts
                    .iter()
                    .map(|p| match p {
                        Json::String(s) => infer_form_value(s),
                        other => other.clone(),
                    })
                    .collect(),
            ),
            _ => raw.clone(),
        },
        FieldKind::GeoPoint => {
            let v = match (kind, raw) {
                (_, Json::String(s)) => serde_json::from_str(s).unwrap_or(Json::Null),
                _ => raw.clone(),
            };
            json!({"lon": v.get("lon").map_or(0.0, to_number), "lat": v.get("lat").map_or(0.0, to_number)})
        }
        FieldKind::Select | FieldKind::Relation | FieldKind::File => {
            shape_list(field, dedupe(list_of(raw, kind)))
        }
        // PB-COMPAT: PocketBase's string cast gives up on arrays and objects: ''.
        _ if matches!(raw, Json::Array(_) | Json::Object(_)) => json!(""),
        _ => json!(to_text(raw)),
    }
}

/// A form value as PocketBase reads it: `true`/`false` are booleans, a number written in its
/// shortest form (`12`, `-1.5`, not `0.0`, `1e3` or `007`; Rust's `f64` display, like Go's
/// `FormatFloat(v, 'f', -1, 64)`, writes no exponent) is a number, anything else text.
fn infer_form_value(s: &str) -> Json {
    match s {
        "true" => return json!(true),
        "false" => return json!(false),
        _ => {}
    }
    let numeric = s.starts_with(|c: char| c == '-' || c.is_ascii_digit())
        && s.chars()
            .all(|c| c == '-' || c == '.' || c.is_ascii_digit());
    if numeric
        && let Ok(v) = s.parse::<f64>()
        && v.is_finite()
        && v.to_string() == s
    {
        return number(v);
    }
    json!(s)
}

/// The JSON a text holds, or the text itself when it holds none.
fn json_text(s: &str) -> Json {
    serde_json::from_str(s).unwrap_or_else(|_| json!(s))
}

fn shape_list(field: &Field, items: Vec<String>) -> Json {
    if field.is_multi() {
        json!(items)
    } else {
        // PB-COMPAT: a single-value field keeps the last of several given values.
        json!(items.last().cloned().unwrap_or_default())
    }
}

fn list_of(raw: &Json, kind: BodyKind) -> Vec<String> {
    match raw {
        Json::Array(items) => items
            .iter()
            .map(to_text)
            .filter(|s| !s.is_empty())
            .collect(),
        Json::String(s) if kind == BodyKind::Form && s.starts_with('[') => {
            serde_json::from_str::<Json>(s)
                .map(|v| as_list(&v))
                .unwrap_or_else(|_| vec![s.clone()])
        }
        Json::Null => Vec::new(),
        other => {
            let s = to_text(other);
            if s.is_empty() { Vec::new() } else { vec![s] }
        }
    }
}

fn dedupe(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

fn number(x: f64) -> Json {
    if !x.is_finite() {
        return json!(0);
    }
    if x.fract() == 0.0 && x.abs() < 9e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

pub fn to_text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => match n.as_f64() {
            Some(x) if x.fract() == 0.0 && x.abs() < 9e15 => (x as i64).to_string(),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

pub fn to_number(v: &Json) -> f64 {
    match v {
        Json::Number(n) => n.as_f64().unwrap_or(0.0),
        // PB-COMPAT: text that is no number counts as 1 when it reads as true (PocketBase's
        // cast), else 0.
        Json::String(s) => match s.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => x,
            Ok(_) => 0.0,
            Err(_) => f64::from(u8::from(to_bool(v))),
        },
        Json::Bool(b) => f64::from(u8::from(*b)),
        _ => 0.0,
    }
}

pub fn to_bool(v: &Json) -> bool {
    match v {
        Json::Bool(b) => *b,
        Json::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        Json::String(s) => matches!(s.trim(), "1" | "t" | "T" | "true" | "TRUE" | "True"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Collection, CollectionKind};
    use std::sync::Arc;

    fn posts() -> Arc<Collection> {
        let mut c = Collection::new("posts", CollectionKind::Base);
        c.apply(
            &json!({"fields": [
                {"name": "n", "type": "number"},
                {"name": "tags", "type": "select", "maxSelect": 3, "values": ["a", "b", "c"]},
                {"name": "one", "type": "select", "values": ["a", "b"]},
                {"name": "data", "type": "json"},
                {"name": "ok", "type": "bool"}
            ]}),
            false,
        )
        .unwrap();
        Arc::new(c)
    }

    #[test]
    fn casts_values_like_pocketbase() {
        let mut r = Record::new(posts());
        let body = json!({"n": "7", "tags": "a", "one": ["a", "b"], "ok": "true", "data": "{\"x\":1}", "unknown": 1});
        apply(&mut r, body.as_object().unwrap(), BodyKind::Form, false);
        assert_eq!(r.get("n"), &json!(7));
        assert_eq!(r.get("tags"), &json!(["a"]));
        assert_eq!(r.get("one"), &json!("b"));
        assert_eq!(r.get("ok"), &json!(true));
        assert_eq!(r.get("data"), &json!({"x": 1}));
        assert!(r.data.get("unknown").is_none());
        // Repeated form parts of a json field: the JSON each part holds.
        let parts = json!({"data": ["1", "2", "x", "[1]", "true", "0.0", "-1.5", "007"]});
        apply(&mut r, parts.as_object().unwrap(), BodyKind::Form, false);
        assert_eq!(
            r.get("data"),
            &json!([1, 2, "x", "[1]", true, "0.0", -1.5, "007"])
        );
        apply(&mut r, parts.as_object().unwrap(), BodyKind::Json, false);
        assert_eq!(
            r.get("data"),
            &json!(["1", "2", "x", "[1]", "true", "0.0", "-1.5", "007"])
        );
    }

    #[test]
    fn modifiers_add_append_prepend_and_remove() {
        let mut r = Record::new(posts());
        r.data.insert("n".into(), json!(5));
        r.data.insert("tags".into(), json!(["b"]));
        let body = json!({"n+": 2, "tags+": "c", "+tags": "a"});
        apply(&mut r, body.as_object().unwrap(), BodyKind::Json, false);
        assert_eq!(r.get("n"), &json!(7));
        assert_eq!(r.get("tags"), &json!(["a", "b", "c"]));
        apply(
            &mut r,
            json!({"n-": 10, "tags-": ["a", "c"]}).as_object().unwrap(),
            BodyKind::Json,
            false,
        );
        assert_eq!(r.get("n"), &json!(-3));
        assert_eq!(r.get("tags"), &json!(["b"]));
    }

    #[test]
    fn modifiers_without_a_setter_change_nothing() {
        let mut r = Record::new(posts());
        r.data.insert("n".into(), json!(5));
        r.data.insert("data".into(), json!({"x": 1}));
        let body = json!({"+n": 2, "data+": "{\"y\":2}", "ok-": true});
        apply(&mut r, body.as_object().unwrap(), BodyKind::Json, false);
        assert_eq!(r.get("n"), &json!(5));
        assert_eq!(r.get("data"), &json!({"x": 1}));
        assert_eq!(r.get("ok"), &json!(false));
        // ...and rules see such keys as sent, since they set no field.
        let resolved = resolved_body(&r, body.as_object().unwrap(), false);
        assert_eq!(Json::Object(resolved), body);
    }
}
