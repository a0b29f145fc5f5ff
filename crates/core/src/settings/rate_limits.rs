//! Validation of the `rateLimits` settings (the limiter itself is `crate::ratelimit`).

use serde_json::Value as Json;

use crate::error::{field_error_json, FieldErrors};

/// Field errors of a `rateLimits.rules` list, keyed `rateLimits.rules.<i>.<field>`.
pub fn validate_rules(config: &Json, errors: &mut FieldErrors) {
    let list = config.get("rules").and_then(Json::as_array).cloned().unwrap_or_default();
    for (i, r) in list.iter().enumerate() {
        let mut add = |field: &str, code: &str, message: &str| {
            errors.insert(format!("rateLimits.rules.{i}.{field}"), field_error_json(code, message));
        };
        let label = r.get("label").and_then(Json::as_str).unwrap_or("");
        if label.is_empty() {
            add("label", "validation_required", "Cannot be blank.");
        } else if !valid_label(label) {
            add("label", "validation_match_invalid", "Must be in a valid format.");
        }
        for field in ["maxRequests", "duration"] {
            if r.get(field).and_then(Json::as_u64).unwrap_or(0) == 0 {
                add(field, "validation_required", "Cannot be blank.");
            }
        }
        if !["", "@guest", "@auth"].contains(&r.get("audience").and_then(Json::as_str).unwrap_or("")) {
            add("audience", "validation_in_invalid", "Must be a valid value.");
        }
    }
}

/// `[METHOD ]/path` or `collection:action` (`*` for any collection).
fn valid_label(label: &str) -> bool {
    let word = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if let Some((collection, action)) = label.split_once(':') {
        return (collection == "*" || word(collection)) && word(action);
    }
    let path = match label.split_once(' ') {
        Some((method, path)) if word(method) => path,
        Some(_) => return false,
        None => label,
    };
    path.starts_with('/') && path.chars().all(|c| c.is_ascii_alphanumeric() || "_/-.*".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn labels_are_validated() {
        for ok in ["/api/", "GET /api/x", "*:auth", "users:create", "/api/files/*"] {
            assert!(valid_label(ok), "{ok}");
        }
        for bad in ["bad label", "api", "a:b:c", "*:", "GET  x"] {
            assert!(!valid_label(bad), "{bad}");
        }
        let mut errors = FieldErrors::new();
        validate_rules(&json!({"rules": [{"label": "x y", "maxRequests": 0, "duration": 1, "audience": "z"}]}), &mut errors);
        let keys: Vec<&String> = errors.keys().collect();
        assert_eq!(keys, ["rateLimits.rules.0.audience", "rateLimits.rules.0.label", "rateLimits.rules.0.maxRequests"]);
    }
}
