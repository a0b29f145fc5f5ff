//! What a write prepares before its transaction: generated text values, and password fields
//! checked and hashed (hashing is slow: it never runs inside the transaction).

use serde_json::{Map, Value as Json, json};

use super::failed;
use crate::error::{FieldErrors, Result};
use crate::password;
use crate::records::input;
use crate::records::validate;
use crate::schema::Record;
use crate::schema::{Collection, FieldKind};

/// Text fields with an `autogeneratePattern` and no value get one.
pub(super) fn autogenerate(record: &mut Record) {
    let collection = record.collection.clone();
    for f in collection
        .fields
        .iter()
        .filter(|f| f.kind == FieldKind::Text)
    {
        let pattern = f.str_opt("autogeneratePattern");
        if !pattern.is_empty() && record.get_str(&f.name).is_empty() {
            record
                .data
                .insert(f.name.clone(), json!(generate_from_pattern(pattern)));
        }
    }
}

/// Generates a string for the simple patterns PocketBase uses: `[a-z0-9]{15}`. Other
/// patterns get a record id.
fn generate_from_pattern(pattern: &str) -> String {
    let parsed = pattern
        .strip_prefix('[')
        .and_then(|rest| rest.split_once("]{"))
        .and_then(|(set, count)| {
            let len: usize = count.strip_suffix('}')?.parse().ok()?;
            Some((set, len.min(255)))
        });
    let Some((set, len)) = parsed else {
        return crate::ids::record_id();
    };
    let chars: Vec<char> = set.chars().collect();
    let mut alphabet = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if i + 2 < chars.len() && chars[i + 1] == '-' {
            alphabet.extend(
                (chars[i]..=chars[i + 2])
                    .filter(char::is_ascii)
                    .map(|c| c as u8),
            );
            i += 3;
        } else {
            if chars[i].is_ascii() {
                alphabet.push(chars[i] as u8);
            }
            i += 1;
        }
    }
    if alphabet.is_empty() {
        return crate::ids::record_id();
    }
    crate::ids::random_from(len, &alphabet)
}

/// The password fields of a write other than an auth collection's own `password` (which has
/// its confirmation rules): each given value checked against the field's limits and hashed,
/// keyed by field name. `creating`: a required field must be given.
pub(super) async fn hash_password_fields(
    c: &Collection,
    given: &Map<String, Json>,
    creating: bool,
    errors: &mut FieldErrors,
) -> Result<Vec<(String, Json)>> {
    let mut out = Vec::new();
    for f in c
        .fields
        .iter()
        .filter(|f| f.kind == FieldKind::Password && !(c.is_auth() && f.name == "password"))
    {
        let plain = given.get(&f.name).map(input::to_text).unwrap_or_default();
        if plain.is_empty() {
            if creating && f.required {
                errors.insert(
                    f.name.clone(),
                    json!({"code": "validation_required", "message": "Cannot be blank."}),
                );
            }
            continue;
        }
        if let Some(e) = validate::text(f, &plain) {
            errors.insert(f.name.clone(), e);
            continue;
        }
        out.push((f.name.clone(), json!(password::hash_async(plain).await?)));
    }
    Ok(out)
}

/// Checks the password fields of a new auth record and sets its server-owned fields; the
/// caller hashes the password when there is no error.
pub(super) fn prepare_auth_create(
    record: &mut Record,
    secrets: &Map<String, Json>,
    errors: &mut FieldErrors,
) {
    let pwd = secrets.get("password").and_then(Json::as_str).unwrap_or("");
    let confirm = secrets
        .get("passwordConfirm")
        .and_then(Json::as_str)
        .unwrap_or("");
    let field = record.collection.field("password").cloned();
    // PocketBase's order: the confirmation first; the password's own limits only once both
    // were given and match.
    if pwd.is_empty() {
        errors.insert("password".into(), required());
    }
    if confirm.is_empty() {
        errors.insert("passwordConfirm".into(), required());
    } else if pwd != confirm {
        errors.insert("passwordConfirm".into(), mismatch());
    } else if let Some(e) = field.as_ref().and_then(|f| validate::text(f, pwd)) {
        errors.insert("password".into(), e);
    }
    // A superuser may give one (checked against the field's limits like any value).
    if record.get_str("tokenKey").is_empty() {
        record
            .data
            .insert("tokenKey".into(), json!(crate::ids::random_string(50)));
    }
}

/// The changes of an auth record's own fields, checked up front: the password (hashed
/// here), and `email` and `verified`, which only managers may change directly (others go
/// through the email-change and verification flows, as in PocketBase).
pub(super) async fn prepare_auth_update(
    current: &Record,
    manager: bool,
    body: &Map<String, Json>,
) -> Result<Map<String, Json>> {
    let mut out = Map::new();
    let mut errors = FieldErrors::new();
    let new_email = body
        .get("email")
        .is_some_and(|v| input::to_text(v) != current.get_str("email"));
    if new_email {
        // A new token key invalidates every token issued for the old address.
        out.insert("tokenKey".into(), json!(crate::ids::random_string(50)));
    }
    if !manager {
        if new_email {
            errors.insert("email".into(), mismatch());
        }
        if body
            .get("verified")
            .is_some_and(|v| input::to_bool(v) != input::to_bool(current.get("verified")))
        {
            errors.insert("verified".into(), mismatch());
        }
    }
    let pwd = body
        .get("password")
        .map(input::to_text)
        .filter(|p| !p.is_empty());
    if let Some(pwd) = &pwd {
        check_new_password(current, manager, body, pwd, &mut errors).await;
    }
    if !errors.is_empty() {
        return Err(failed("update", errors));
    }
    if let Some(pwd) = pwd {
        out.insert("password".into(), json!(password::hash_async(pwd).await?));
        // A new token key invalidates every token issued before the change.
        out.insert("tokenKey".into(), json!(crate::ids::random_string(50)));
    }
    Ok(out)
}

async fn check_new_password(
    current: &Record,
    manager: bool,
    body: &Map<String, Json>,
    pwd: &str,
    errors: &mut FieldErrors,
) {
    let confirm = body
        .get("passwordConfirm")
        .map(input::to_text)
        .unwrap_or_default();
    if confirm.is_empty() {
        errors.insert("passwordConfirm".into(), required());
    } else if pwd != confirm {
        errors.insert("passwordConfirm".into(), mismatch());
    }
    if !manager {
        let old = body
            .get("oldPassword")
            .map(input::to_text)
            .unwrap_or_default();
        if old.is_empty() {
            errors.insert("oldPassword".into(), required());
        } else if !password::verify_async(old, current.get_str("password").to_owned()).await {
            errors.insert(
                "oldPassword".into(),
                json!({"code": "validation_invalid_old_password",
                       "message": "Missing or invalid old password."}),
            );
        }
    }
    if let Some(e) = current
        .collection
        .field("password")
        .and_then(|f| validate::text(f, pwd))
    {
        errors.insert("password".into(), e);
    }
}

pub(super) fn mismatch() -> Json {
    json!({"code": "validation_values_mismatch", "message": "Values don't match."})
}

fn required() -> Json {
    json!({"code": "validation_required", "message": "Cannot be blank."})
}

#[cfg(test)]
mod tests {
    use super::generate_from_pattern;

    #[test]
    fn generates_from_character_class_patterns() {
        let id = generate_from_pattern("[a-z0-9]{15}");
        assert_eq!(id.len(), 15);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
        let key = generate_from_pattern("[a-zA-Z0-9]{50}");
        assert_eq!(key.len(), 50);
        assert_eq!(generate_from_pattern("[x]{3}"), "xxx");
        assert_eq!(generate_from_pattern("weird(").len(), 15);
    }
}
