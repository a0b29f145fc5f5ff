//! The `rateLimits` section of the settings: its rules read with PocketBase's types and
//! checked as PocketBase checks them. Enforcing the limits is not done here.

use std::sync::OnceLock;

use regex::Regex;
use serde_json::{Map, Value as Json, json};

use crate::error::{FieldErrors, field_error_json};

/// One rule as PocketBase types it (`label`, `audience` strings; `duration`, `maxRequests`
/// integers; a missing key is the zero value).
struct Rule<'a> {
    label: &'a str,
    audience: &'a str,
    duration: i64,
    max_requests: i64,
}

/// The rules of `section`, or `None` when one of them does not have PocketBase's types (its
/// JSON decoding would fail, so the request fails to load).
fn rules(section: &Json) -> Option<Vec<Rule<'_>>> {
    let Some(list) = section.get("rules") else {
        return Some(Vec::new());
    };
    let list = match list {
        Json::Null => return Some(Vec::new()),
        Json::Array(list) => list,
        _ => return None,
    };
    list.iter()
        .map(|rule| {
            let rule = rule.as_object()?;
            Some(Rule {
                label: text(rule, "label")?,
                audience: text(rule, "audience")?,
                duration: int(rule, "duration")?,
                max_requests: int(rule, "maxRequests")?,
            })
        })
        .collect()
}

/// A string value; missing or null is "" (Go's zero value).
fn text<'a>(rule: &'a Map<String, Json>, key: &str) -> Option<&'a str> {
    match rule.get(key) {
        None | Some(Json::Null) => Some(""),
        Some(v) => v.as_str(),
    }
}

/// An integer value; missing or null is 0. A fraction does not decode into Go's integers.
fn int(rule: &Map<String, Json>, key: &str) -> Option<i64> {
    match rule.get(key) {
        None | Some(Json::Null) => Some(0),
        Some(v) => v.as_i64(),
    }
}

/// Whether the section's rules have PocketBase's types.
pub fn loads(settings: &Json) -> bool {
    settings
        .get("rateLimits")
        .is_none_or(|s| rules(s).is_some())
}

/// PB-COMPAT: a label is a tag (`name`), `collection:action`, `*:action`, a path (`/api/`) or
/// `METHOD /path`; `\w` is ASCII in Go.
fn label_is_valid(label: &str) -> bool {
    static LABEL: OnceLock<Option<Regex>> = OnceLock::new();
    let re = LABEL.get_or_init(|| {
        let w = "[0-9A-Za-z_]";
        Regex::new(&format!(
            r"^({w}+ /[0-9A-Za-z_/-]*|/[0-9A-Za-z_/-]*|{w}+:{w}+|\*:{w}+|{w}+)$"
        ))
        .ok()
    });
    re.as_ref().is_some_and(|re| re.is_match(label))
}

fn at_least_one(value: i64) -> Option<Json> {
    match value {
        0 => Some(field_error_json("validation_required", "Cannot be blank.")),
        v if v < 1 => Some(
            json!({"code": "validation_min_greater_equal_than_required", "message": "Must be no less than 1.", "params": {"threshold": 1}}),
        ),
        _ => None,
    }
}

/// Adds the errors of the `rateLimits` section, keyed by dotted path (`rateLimits.rules.0.label`).
/// PB-COMPAT: every rule is checked; conflicts are looked for only among valid rules, and only
/// the first one is reported.
pub fn validate(settings: &Json, errors: &mut FieldErrors) {
    let Some(section) = settings.get("rateLimits") else {
        return;
    };
    let Some(rules) = rules(section) else { return };
    if section
        .get("enabled")
        .and_then(Json::as_bool)
        .unwrap_or(false)
        && rules.is_empty()
    {
        errors.insert(
            "rateLimits.rules".into(),
            field_error_json("validation_required", "Cannot be blank."),
        );
        return;
    }
    let before = errors.len();
    for (i, rule) in rules.iter().enumerate() {
        let mut add = |key: &str, e: Json| {
            errors.insert(format!("rateLimits.rules.{i}.{key}"), e);
        };
        if rule.label.is_empty() {
            add(
                "label",
                field_error_json("validation_required", "Cannot be blank."),
            );
        } else if !label_is_valid(rule.label) {
            add(
                "label",
                field_error_json("validation_match_invalid", "Must be in a valid format."),
            );
        }
        if let Some(e) = at_least_one(rule.max_requests) {
            add("maxRequests", e);
        }
        if let Some(e) = at_least_one(rule.duration) {
            add("duration", e);
        }
        if !["", "@guest", "@auth"].contains(&rule.audience) {
            add(
                "audience",
                field_error_json("validation_in_invalid", "Must be a valid value."),
            );
        }
    }
    if errors.len() > before {
        return;
    }
    // PB-COMPAT: two rules conflict when `label@@audience` of one starts the other's, so the
    // same label for everyone and for guests conflicts, but not for guests and for users.
    let mut seen: Vec<String> = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let key = format!("{}@@{}", rule.label, rule.audience);
        if seen
            .iter()
            .any(|k| k.starts_with(&key) || key.starts_with(k.as_str()))
        {
            errors.insert(
                format!("rateLimits.rules.{i}.label"),
                json!({
                    "code": "validation_conflicting_rate_limit_rule",
                    "message": format!("Rate limit rule configuration with label {} already exists or conflicts with another rule.", rule.label),
                    "params": {"label": rule.label},
                }),
            );
            return;
        }
        seen.push(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_take_pocketbase_forms() {
        for ok in [
            "*:auth",
            "users:create",
            "/api/",
            "/",
            "GET /api/x",
            "tag_1",
        ] {
            assert!(label_is_valid(ok), "{ok}");
        }
        for bad in ["", "bad label!", "a:b:c", "GET api", "ünï"] {
            assert!(!label_is_valid(bad), "{bad}");
        }
    }

    #[test]
    fn the_same_label_conflicts_unless_the_audiences_differ_and_neither_is_everyone() {
        let check = |rules: Json| {
            let mut errors = FieldErrors::new();
            validate(&json!({"rateLimits": {"rules": rules}}), &mut errors);
            errors
        };
        let rule = |label: &str, audience: &str| json!({"label": label, "audience": audience, "maxRequests": 1, "duration": 1});
        assert!(
            check(json!([rule("a", ""), rule("a", "@guest")]))
                .contains_key("rateLimits.rules.1.label")
        );
        assert!(check(json!([rule("a", "@auth"), rule("a", "@guest")])).is_empty());
        assert!(check(json!([rule("/api", ""), rule("/api/", "")])).is_empty());
    }
}
