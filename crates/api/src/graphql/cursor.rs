//! Cursor paging of list queries (`first`, `after`): a cursor is the sort key and id of a
//! record, hex-encoded JSON (opaque to clients); the next page is REST's list with the
//! caller's filter ANDed with "after this key" written in the filter language, so the list
//! rule, the filter and the sort stay REST's.

use oxbase_core::Error;
use oxbase_core::schema::{Collection, FieldKind};
use serde_json::{Value as Json, json};

/// One key of the sort: a plain column and its direction.
pub(super) struct Key {
    field: String,
    desc: bool,
}

/// The keys of `sort` with `id` last (the tie-breaker), when every key is a plain,
/// single-valued field; else the refusal.
pub(super) fn keys(c: &Collection, sort: &str) -> Result<Vec<Key>, Error> {
    let mut keys = Vec::new();
    for item in sort.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (desc, name) = match item.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, item.strip_prefix('+').unwrap_or(item)),
        };
        let plain = c.fields.iter().any(|f| {
            f.name == name
                && f.max_select() <= 1
                && !matches!(
                    f.kind,
                    FieldKind::Json | FieldKind::GeoPoint | FieldKind::Password
                )
        });
        if !plain {
            return Err(Error::field(
                "sort",
                "validation_invalid_sort",
                "Cursor paging sorts by plain single-value fields only.",
            ));
        }
        keys.push(Key {
            field: name.to_owned(),
            desc,
        });
    }
    if !keys.iter().any(|k| k.field == "id") {
        keys.push(Key {
            field: "id".into(),
            desc: false,
        });
    }
    Ok(keys)
}

/// The sort REST is asked for: the keys, in order.
pub(super) fn sort(keys: &[Key]) -> String {
    keys.iter()
        .map(|k| format!("{}{}", if k.desc { "-" } else { "" }, k.field))
        .collect::<Vec<_>>()
        .join(",")
}

/// The cursor of `record` (as the caller was shown it); `None` when a key is not shown.
pub(super) fn of(keys: &[Key], record: &Json) -> Option<String> {
    let values = keys
        .iter()
        .map(|k| record.get(&k.field).filter(|v| !v.is_null()).cloned())
        .collect::<Option<Vec<_>>>()?;
    let text = json!({"s": sort(keys), "v": values}).to_string();
    Some(text.bytes().map(|b| format!("{b:02x}")).collect())
}

/// "After `cursor`" in the filter language, for these keys.
pub(super) fn after(keys: &[Key], cursor: &str) -> Result<String, Error> {
    let invalid = || Error::field("after", "validation_invalid_cursor", "Invalid cursor.");
    if !cursor.len().is_multiple_of(2) || !cursor.is_ascii() {
        return Err(invalid());
    }
    let bytes = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&cursor[i..i + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| invalid())?;
    let decoded: Json = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    // A cursor of another sort would skip or repeat records.
    if decoded["s"].as_str() != Some(sort(keys).as_str()) {
        return Err(invalid());
    }
    let values = decoded["v"].as_array().ok_or_else(invalid)?;
    if values.len() != keys.len() {
        return Err(invalid());
    }
    let literals = values
        .iter()
        .map(literal)
        .collect::<Option<Vec<_>>>()
        .ok_or_else(invalid)?;
    // (k1 > v1) || (k1 = v1 && k2 > v2) || ... with `<` for descending keys.
    let mut alternatives = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let mut terms: Vec<String> = keys[..i]
            .iter()
            .zip(&literals)
            .map(|(k, v)| format!("{} = {v}", k.field))
            .collect();
        let op = if key.desc { "<" } else { ">" };
        terms.push(format!("{} {op} {}", key.field, literals[i]));
        alternatives.push(format!("({})", terms.join(" && ")));
    }
    Ok(alternatives.join(" || "))
}

/// A value as a filter literal (strings quoted with PocketBase's escapes).
fn literal(v: &Json) -> Option<String> {
    Some(match v {
        Json::String(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        Json::Number(n) => n.to_string(),
        Json::Bool(b) => b.to_string(),
        _ => return None,
    })
}
