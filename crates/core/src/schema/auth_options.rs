//! Validation of an auth collection's options, with PocketBase's codes and nesting
//! (`{"otp": {"duration": {...}}}`, `{"oauth2": {"providers": {"0": {...}}}}`).

use serde_json::{Map, Value as Json, json};

use super::field::Field;
use crate::error::{FieldErrors, field_error_json};

const TOKENS: [&str; 5] = [
    "authToken",
    "passwordResetToken",
    "emailChangeToken",
    "verificationToken",
    "fileToken",
];
/// Templates by path; each needs a subject and a body.
const TEMPLATES: [&[&str]; 5] = [
    &["verificationTemplate"],
    &["resetPasswordTemplate"],
    &["confirmEmailChangeTemplate"],
    &["otp", "emailTemplate"],
    &["authAlert", "emailTemplate"],
];
/// PB-COMPAT: the provider names PocketBase 0.40 accepts (`tools/auth`), all of which oxbase
/// runs. `auth::oauth2::providers::SPECS` holds their defaults; a test there keeps the two
/// lists equal (the schema does not import auth).
pub const PROVIDER_NAMES: [&str; 32] = [
    "google",
    "microsoft",
    "github",
    "gitlab",
    "discord",
    "facebook",
    "apple",
    "bitbucket",
    "gitee",
    "gitea",
    "kakao",
    "livechat",
    "mailcow",
    "patreon",
    "spotify",
    "strava",
    "twitch",
    "twitter",
    "vk",
    "yandex",
    "box",
    "instagram2",
    "lark",
    "linear",
    "notion",
    "planningcenter",
    "monday",
    "trakt",
    "wakatime",
    "oidc",
    "oidc2",
    "oidc3",
];

fn required() -> Json {
    field_error_json("validation_required", "Cannot be blank.")
}

/// Puts `error` at `path` inside `errors` (creating the nested objects).
fn put(errors: &mut FieldErrors, path: &[&str], error: Json) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let mut node = errors
        .entry((*first).to_owned())
        .or_insert_with(|| json!({}));
    for p in rest {
        if !node.is_object() {
            *node = json!({});
        }
        node = node
            .as_object_mut()
            .map(|m| m.entry((*p).to_owned()).or_insert_with(|| json!({})))
            .unwrap_or_else(|| unreachable!());
    }
    *node = error;
}

fn number(o: &Map<String, Json>, path: &[&str]) -> i64 {
    let mut v = o.get(path[0]);
    for p in &path[1..] {
        v = v.and_then(|x| x.get(*p));
    }
    v.and_then(Json::as_i64).unwrap_or(0)
}

fn enabled(o: &Map<String, Json>, key: &str) -> bool {
    o.get(key)
        .and_then(|v| v.get("enabled"))
        .and_then(Json::as_bool)
        == Some(true)
}

pub fn validate(o: &Map<String, Json>, errors: &mut FieldErrors) {
    for key in TOKENS {
        if number(o, &[key, "duration"]) <= 0 {
            put(errors, &[key, "duration"], required());
        }
    }
    for path in TEMPLATES {
        let mut t = o.get(path[0]);
        for p in &path[1..] {
            t = t.and_then(|x| x.get(*p));
        }
        for part in ["subject", "body"] {
            if t.and_then(|x| x.get(part))
                .and_then(Json::as_str)
                .is_none_or(|s| s.trim().is_empty())
            {
                put(errors, &[path, &[part]].concat(), required());
            }
        }
    }
    if enabled(o, "otp") {
        let duration = number(o, &["otp", "duration"]);
        if duration <= 0 {
            put(errors, &["otp", "duration"], required());
        } else if duration < 10 {
            put(
                errors,
                &["otp", "duration"],
                json!({"code": "validation_min_greater_equal_than_required", "message": "Must be no less than 10.", "params": {"threshold": 10}}),
            );
        }
        if number(o, &["otp", "length"]) <= 0 {
            put(errors, &["otp", "length"], required());
        }
    }
    if enabled(o, "mfa") && number(o, &["mfa", "duration"]) <= 0 {
        put(errors, &["mfa", "duration"], required());
    }
    if enabled(o, "oauth2") {
        let providers = o
            .get("oauth2")
            .and_then(|v| v.get("providers"))
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        for (i, p) in providers.iter().enumerate() {
            let index = i.to_string();
            let text = |k: &str| {
                p.get(k)
                    .and_then(Json::as_str)
                    .unwrap_or("")
                    .trim()
                    .to_owned()
            };
            let name = text("name");
            if !PROVIDER_NAMES.contains(&name.as_str()) {
                let e = json!({"code": "validation_missing_provider", "message": format!("Invalid or missing provider with name {name}."), "params": {"name": name}});
                put(errors, &["oauth2", "providers", &index, "name"], e);
                continue;
            }
            for k in ["clientId", "clientSecret"] {
                if text(k).is_empty() {
                    put(errors, &["oauth2", "providers", &index, k], required());
                }
            }
            // PB-COMPAT: a URL is checked when given, for every provider; none is required
            // (an `oidc` entry without its URLs is accepted, and not offered).
            for k in ["authURL", "tokenURL", "userInfoURL"] {
                let url = text(k);
                if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
                    put(
                        errors,
                        &["oauth2", "providers", &index, k],
                        field_error_json("validation_is_url", "Must be a valid URL."),
                    );
                }
            }
        }
    }
}

/// The checks PocketBase makes once the options themselves are valid, in its order, reporting
/// only the first failure: password auth needs identity fields; MFA needs two enabled auth
/// methods and a valid rule; each identity field must exist and have a single-column UNIQUE
/// index. Run on request bodies only: a definition stored by an earlier version still loads.
pub fn validate_methods(
    o: &Map<String, Json>,
    fields: &[Field],
    indexes: &[String],
    errors: &mut FieldErrors,
) {
    let identity_fields = o
        .get("passwordAuth")
        .and_then(|p| p.get("identityFields"))
        .and_then(Json::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if enabled(o, "passwordAuth") && identity_fields.is_empty() {
        put(errors, &["passwordAuth", "identityFields"], required());
        return;
    }
    if enabled(o, "mfa") {
        let methods = ["passwordAuth", "oauth2", "otp"]
            .iter()
            .filter(|m| enabled(o, m))
            .count();
        if methods < 2 {
            put(
                errors,
                &["mfa", "enabled"],
                field_error_json(
                    "validation_mfa_not_enough_auths",
                    "MFA requires at least 2 auth methods to be enabled.",
                ),
            );
            return;
        }
        let rule = o
            .get("mfa")
            .and_then(|m| m.get("rule"))
            .and_then(Json::as_str)
            .unwrap_or("");
        if !rule.trim().is_empty()
            && let Err(e) = oxbase_sql::filter::parse(rule)
        {
            put(
                errors,
                &["mfa", "rule"],
                field_error_json(
                    "validation_invalid_rule",
                    format!("Invalid rule. Raw error: {e}"),
                ),
            );
            return;
        }
    }
    if !enabled(o, "passwordAuth") {
        return;
    }
    for name in identity_fields.iter().map(|n| n.as_str().unwrap_or("")) {
        let error = if !fields.iter().any(|f| f.name == name) {
            json!({"code": "validation_missing_field", "message": format!("Invalid or missing field {name}."), "params": {"fieldName": name}})
        } else if !has_single_column_unique_index(indexes, name) {
            json!({"code": "validation_missing_unique_constraint", "message": format!("The field {name} doesn't have a UNIQUE constraint."), "params": {"fieldName": name}})
        } else {
            continue;
        };
        put(errors, &["passwordAuth", "identityFields"], error);
        return;
    }
}

/// Whether one of `indexes` is UNIQUE on `column` alone (a `WHERE` part is allowed, as the
/// system index on `email` has one).
fn has_single_column_unique_index(indexes: &[String], column: &str) -> bool {
    indexes
        .iter()
        .filter_map(|stmt| oxbase_sql::ddl::parse_index(stmt))
        .any(|i| {
            i.unique
                && i.columns.len() == 1
                && i.columns[0].name.as_str().eq_ignore_ascii_case(column)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(options: Json) -> Json {
        let mut defaults: Map<String, Json> =
            serde_json::from_str(include_str!("auth_options.json")).unwrap();
        for key in TOKENS {
            defaults.insert(key.into(), json!({"duration": 100}));
        }
        for (k, v) in options.as_object().cloned().unwrap() {
            defaults.insert(k, v);
        }
        let mut errors = FieldErrors::new();
        validate(&defaults, &mut errors);
        Json::Object(errors.into_iter().collect())
    }

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(errors_of(json!({})), json!({}));
    }

    #[test]
    fn pocketbase_s_rules_for_durations_templates_otp_mfa_and_providers() {
        let e = errors_of(json!({
            "authToken": {"duration": 0},
            "otp": {"enabled": true, "duration": 5, "length": 0, "emailTemplate": {"subject": "", "body": "b"}},
            "mfa": {"enabled": true, "duration": 600, "rule": "a = ("},
            "oauth2": {"enabled": true, "providers": [{"name": "google"}, {"name": "nope"}, {"name": "oidc", "clientId": "a", "clientSecret": "b", "authURL": "not-a-url"}, {"name": "apple", "clientId": "a", "clientSecret": "b"}, {"name": "instagram", "clientId": "a", "clientSecret": "b"}]},
        }));
        assert_eq!(e["authToken"]["duration"]["code"], "validation_required");
        assert_eq!(
            e["otp"]["duration"]["code"],
            "validation_min_greater_equal_than_required"
        );
        assert_eq!(e["otp"]["length"]["code"], "validation_required");
        assert_eq!(
            e["otp"]["emailTemplate"]["subject"]["code"],
            "validation_required"
        );
        assert!(
            e.get("mfa").is_none(),
            "the rule is checked with the methods"
        );
        assert_eq!(
            e["oauth2"]["providers"]["0"]["clientId"]["code"],
            "validation_required"
        );
        assert_eq!(
            e["oauth2"]["providers"]["1"]["name"]["code"],
            "validation_missing_provider"
        );
        assert_eq!(
            e["oauth2"]["providers"]["2"]["authURL"]["code"],
            "validation_is_url"
        );
        assert!(e["oauth2"]["providers"]["2"].get("tokenURL").is_none());
        assert!(
            e["oauth2"]["providers"].get("3").is_none(),
            "apple is known"
        );
        assert_eq!(
            e["oauth2"]["providers"]["4"]["name"]["code"], "validation_missing_provider",
            "PocketBase's name is instagram2"
        );
    }

    fn method_errors(options: Json, fields: &[&str], indexes: &[&str]) -> Json {
        let mut o: Map<String, Json> =
            serde_json::from_str(include_str!("auth_options.json")).unwrap();
        for (k, v) in options.as_object().cloned().unwrap() {
            o.insert(k, v);
        }
        let fields: Vec<Field> = fields
            .iter()
            .map(|n| Field::new(n, super::super::FieldKind::Text))
            .collect();
        let indexes: Vec<String> = indexes.iter().map(|s| (*s).to_owned()).collect();
        let mut errors = FieldErrors::new();
        validate_methods(&o, &fields, &indexes, &mut errors);
        Json::Object(errors.into_iter().collect())
    }

    #[test]
    fn mfa_needs_two_methods_before_its_rule_is_checked() {
        let one = json!({"mfa": {"enabled": true, "rule": "a = ("}, "passwordAuth": {"enabled": true, "identityFields": ["email"]}, "otp": {"enabled": false}, "oauth2": {"enabled": false}});
        let e = method_errors(
            one,
            &["email"],
            &["CREATE UNIQUE INDEX i ON t (email) WHERE email != ''"],
        );
        assert_eq!(
            e,
            json!({"mfa": {"enabled": {"code": "validation_mfa_not_enough_auths", "message": "MFA requires at least 2 auth methods to be enabled."}}})
        );
        let two = json!({"mfa": {"enabled": true, "rule": "a = ("}, "passwordAuth": {"enabled": true, "identityFields": ["email"]}, "otp": {"enabled": true}});
        let e = method_errors(two, &["email"], &["CREATE UNIQUE INDEX i ON t (email)"]);
        assert_eq!(e["mfa"]["rule"]["code"], "validation_invalid_rule");
    }

    #[test]
    fn identity_fields_need_a_single_column_unique_index() {
        let opts =
            |f: &str| json!({"passwordAuth": {"enabled": true, "identityFields": ["email", f]}});
        let email = "CREATE UNIQUE INDEX `idx_email` ON `m` (`email`) WHERE `email` != ''";
        let e = method_errors(opts("username"), &["email", "username"], &[email]);
        assert_eq!(
            e,
            json!({"passwordAuth": {"identityFields": {"code": "validation_missing_unique_constraint", "message": "The field username doesn't have a UNIQUE constraint.", "params": {"fieldName": "username"}}}})
        );
        for not_alone in [
            "CREATE INDEX idx_u ON m (username)",
            "CREATE UNIQUE INDEX idx_u ON m (username, email)",
        ] {
            let e = method_errors(
                opts("username"),
                &["email", "username"],
                &[email, not_alone],
            );
            assert_eq!(
                e["passwordAuth"]["identityFields"]["code"], "validation_missing_unique_constraint",
                "{not_alone}"
            );
        }
        let unique = "CREATE UNIQUE INDEX idx_x ON m (username)";
        assert_eq!(
            method_errors(opts("username"), &["email", "username"], &[email, unique]),
            json!({})
        );
        let e = method_errors(opts("nope"), &["email"], &[email]);
        assert_eq!(
            e["passwordAuth"]["identityFields"]["code"],
            "validation_missing_field"
        );
        assert_eq!(
            e["passwordAuth"]["identityFields"]["message"],
            "Invalid or missing field nope."
        );
        let off = json!({"passwordAuth": {"enabled": false, "identityFields": ["nope"]}});
        assert_eq!(method_errors(off, &["email"], &[]), json!({}));
    }
}
