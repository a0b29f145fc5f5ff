//! Field validation of a record about to be written, with PocketBase's error codes.
//! Checks that need the database (relation targets, uniqueness) are in `write`.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;

use regex::Regex;
use serde_json::{Value as Json, json};

use crate::error::FieldErrors;
use crate::files::Upload;
use crate::schema::record::{Record, as_list};
use crate::schema::{Field, FieldKind};

/// PB-COMPAT: a text field with `max: 0` is limited to 5000 characters.
const DEFAULT_TEXT_MAX: usize = 5000;
/// PB-COMPAT: default size limits of editor and json fields.
const DEFAULT_EDITOR_MAX: usize = 5 << 20;
const DEFAULT_JSON_MAX: usize = 1 << 20;

fn err(code: &str, message: String) -> Json {
    json!({"code": code, "message": message})
}

/// Validates every field of `record`; returns the errors keyed by field name.
pub fn validate(record: &Record) -> FieldErrors {
    let mut errors = FieldErrors::new();
    for field in &record.collection.fields {
        if field.kind == FieldKind::Password || field.kind == FieldKind::Autodate {
            continue;
        }
        if let Some(e) = validate_field(field, record.get(&field.name)) {
            errors.insert(field.name.clone(), e);
        }
    }
    errors
}

fn is_blank(v: &Json) -> bool {
    match v {
        Json::Null => true,
        Json::String(s) => s.is_empty(),
        Json::Array(a) => a.is_empty(),
        Json::Number(n) => n.as_f64() == Some(0.0),
        Json::Bool(b) => !b,
        Json::Object(o) => o.is_empty(),
    }
}

pub fn validate_field(field: &Field, v: &Json) -> Option<Json> {
    if is_blank(v) {
        let blank_allowed = field.kind == FieldKind::GeoPoint && !field.required;
        return (field.required && !blank_allowed)
            .then(|| err("validation_required", "Cannot be blank.".into()));
    }
    match field.kind {
        FieldKind::Text => text(field, v.as_str().unwrap_or("")),
        FieldKind::Editor => {
            let max = field
                .num_opt("maxSize")
                .filter(|m| *m > 0.0)
                .map_or(DEFAULT_EDITOR_MAX, |m| m as usize);
            (v.as_str().unwrap_or("").len() > max).then(|| {
                json!({"code": "validation_content_size_limit", "message": format!("The maximum allowed content size is {max} bytes."), "params": {"maxSize": max}})
            })
        }
        FieldKind::Number => number(field, v.as_f64().unwrap_or(0.0)),
        FieldKind::Email => email(field, v.as_str().unwrap_or("")),
        FieldKind::Url => url(field, v.as_str().unwrap_or("")),
        FieldKind::Date => date(field, v.as_str().unwrap_or("")),
        FieldKind::Select => select(field, &as_list(v)),
        FieldKind::Relation => count(field, as_list(v).len()),
        // Checked with the uploads they came with: see `files`.
        FieldKind::File => None,
        FieldKind::Json => {
            let max = field
                .num_opt("maxSize")
                .filter(|m| *m > 0.0)
                .map_or(DEFAULT_JSON_MAX, |m| m as usize);
            (v.to_string().len() > max).then(|| {
                err(
                    "validation_json_size_limit",
                    format!("The maximum allowed JSON size is {max} bytes."),
                )
            })
        }
        FieldKind::GeoPoint => geo_point(v),
        _ => None,
    }
}

/// Whether `s` matches a field's pattern. Compiled patterns are cached: validation runs on
/// every write, and compiling a regex costs far more than matching it. The cache holds the
/// patterns of the schema, a small set; an invalid pattern never matches.
fn matches_pattern(pattern: &str, s: &str) -> bool {
    static CACHE: OnceLock<Mutex<HashMap<String, Option<Arc<Regex>>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    let compiled = {
        let mut map = cache.lock();
        if map.len() > 1024 {
            map.clear();
        }
        map.entry(pattern.to_owned())
            .or_insert_with(|| Regex::new(pattern).ok().map(Arc::new))
            .clone()
    };
    compiled.is_some_and(|re| re.is_match(s))
}

/// Length and pattern of a text (also used for passwords before hashing).
pub fn text(field: &Field, s: &str) -> Option<Json> {
    let len = s.chars().count();
    let min = field.num_opt("min").unwrap_or(0.0) as usize;
    let max = field
        .num_opt("max")
        .filter(|m| *m > 0.0)
        .map_or(DEFAULT_TEXT_MAX, |m| m as usize);
    if len < min {
        return Some(
            json!({"code": "validation_min_text_constraint", "message": format!("Must be at least {min} character(s)."), "params": {"min": min}}),
        );
    }
    if len > max {
        return Some(
            json!({"code": "validation_max_text_constraint", "message": format!("Must be no more than {max} character(s)."), "params": {"max": max}}),
        );
    }
    let pattern = field.str_opt("pattern");
    if !pattern.is_empty() && !matches_pattern(pattern, s) {
        return Some(err(
            "validation_invalid_format",
            "Invalid value format.".into(),
        ));
    }
    None
}

fn number(field: &Field, x: f64) -> Option<Json> {
    if field.bool_opt("onlyInt") && x.fract() != 0.0 {
        return Some(err(
            "validation_only_int_constraint",
            "Decimal numbers are not allowed.".into(),
        ));
    }
    if let Some(min) = field.options.get("min").filter(|m| m.is_number())
        && x < min.as_f64().unwrap_or(0.0)
    {
        return Some(
            json!({"code": "validation_min_number_constraint", "message": format!("Must be greater or equal than {min}."), "params": {"min": min}}),
        );
    }
    if let Some(max) = field.options.get("max").filter(|m| m.is_number())
        && x > max.as_f64().unwrap_or(0.0)
    {
        return Some(
            json!({"code": "validation_max_number_constraint", "message": format!("Must be less or equal than {max}."), "params": {"max": max}}),
        );
    }
    None
}

fn domain_check(field: &Field, domain: &str, code: &str) -> Option<Json> {
    let domain = domain.to_ascii_lowercase();
    let only = field.list_opt("onlyDomains");
    let except = field.list_opt("exceptDomains");
    let listed = |l: &[String]| l.iter().any(|d| d.eq_ignore_ascii_case(&domain));
    ((!only.is_empty() && !listed(&only)) || listed(&except))
        .then(|| err(code, "Domain is not allowed.".into()))
}

/// Whether `s` is an email address as PocketBase's validator accepts it.
pub fn is_email(s: &str) -> bool {
    static EMAIL: OnceLock<Option<Regex>> = OnceLock::new();
    let re = EMAIL
        .get_or_init(|| Regex::new(r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$").ok());
    re.as_ref()
        .is_some_and(|re| s.len() <= 254 && re.is_match(s))
}

fn email(field: &Field, s: &str) -> Option<Json> {
    if !is_email(s) {
        return Some(err(
            "validation_is_email",
            "Must be a valid email address.".into(),
        ));
    }
    domain_check(
        field,
        s.rsplit('@').next().unwrap_or(""),
        "validation_email_domain_not_allowed",
    )
}

/// Whether `s` is a URL as PocketBase's validator (govalidator's `IsURL`) accepts it: an
/// optional scheme of a short list, an optional user, a host (IPv4, [IPv6], or a name,
/// unicode allowed), an optional port and path. `mailto:a@b.c` passes (as `user@host`), as there.
fn is_url(s: &str) -> bool {
    static URL: OnceLock<Option<Regex>> = OnceLock::new();
    const IP6: &str = r"(([0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:|([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,5}(:[0-9a-fA-F]{1,4}){1,2}|([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4}){1,3}|([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|([0-9a-fA-F]{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:((:[0-9a-fA-F]{1,4}){1,6})|:((:[0-9a-fA-F]{1,4}){1,7}|:)|fe80:(:[0-9a-fA-F]{0,4}){0,4}%[0-9a-zA-Z]+|::(ffff(:0{1,4})?:)?((25[0-5]|(2[0-4]|1?[0-9])?[0-9])\.){3}(25[0-5]|(2[0-4]|1?[0-9])?[0-9])|([0-9a-fA-F]{1,4}:){1,4}:((25[0-5]|(2[0-4]|1?[0-9])?[0-9])\.){3}(25[0-5]|(2[0-4]|1?[0-9])?[0-9]))";
    const IP4: &str = r"([1-9][0-9]?|1[0-9][0-9]|2[01][0-9]|22[0-3]|24[0-9]|25[0-5])(\.([0-9]{1,2}|1[0-9][0-9]|2[0-4][0-9]|25[0-5])){2}(\.([0-9][0-9]?|1[0-9][0-9]|2[0-4][0-9]|25[0-5]))";
    const SUB: &str = r"((www\.)|([a-zA-Z0-9]+([-_.]?[a-zA-Z0-9])*[a-zA-Z0-9]\.[a-zA-Z0-9]+))";
    let re = URL.get_or_init(|| {
        let pattern = format!(
            r"^((ftp|tcp|udp|wss?|https?)://)?([^\s]+(:[^\s]*)?@)?(({IP4}|(\[{IP6}\])|(([a-zA-Z0-9]([a-zA-Z0-9-_]+)?[a-zA-Z0-9]([-.][a-zA-Z0-9]+)*)|({SUB}?))?(([a-zA-Z\x{{00a1}}-\x{{ffff}}0-9]+-?-?)*[a-zA-Z\x{{00a1}}-\x{{ffff}}0-9]+)(\.([a-zA-Z\x{{00a1}}-\x{{ffff}}]+))?))\.?(:([0-9]{{1,5}}))?((/|\?|#)[^\s]*)?$"
        );
        Regex::new(&pattern).ok()
    });
    let runes = s.chars().count();
    if runes <= 3 || runes >= 2083 || s.starts_with('.') {
        return false;
    }
    // Go's url.Parse first, on the text with `http://` in front when it has a port but no
    // scheme: a host must not start with a dot, a port must be digits, a bare path needs a dot.
    let parsed = if s.contains(':') && !s.contains("://") {
        format!("http://{s}")
    } else {
        s.to_owned()
    };
    let (host, path) = match parsed.split_once("://") {
        Some((_, rest)) => {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            (url_host(&rest[..end]), &rest[end..])
        }
        None => (Some(String::new()), parsed.as_str()),
    };
    let Some(host) = host else {
        return false;
    };
    if host.starts_with('.') || (host.is_empty() && !path.is_empty() && !path.contains('.')) {
        return false;
    }
    re.as_ref().is_some_and(|re| re.is_match(s))
}

/// The host of a URL's authority (user and port taken off); `None` when the port is no number.
fn url_host(authority: &str) -> Option<String> {
    let host_port = authority.rsplit('@').next().unwrap_or("");
    if let Some(v6) = host_port.strip_prefix('[') {
        let (host, port) = v6.split_once(']')?;
        let port_ok = port.is_empty()
            || port
                .strip_prefix(':')
                .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()));
        return port_ok.then(|| host.to_owned());
    }
    match host_port.split_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => Some(host.to_owned()),
        Some(_) => None,
        None => Some(host_port.to_owned()),
    }
}

fn url(field: &Field, s: &str) -> Option<Json> {
    if !is_url(s) {
        return Some(err("validation_invalid_url", "Must be a valid url.".into()));
    }
    let authority = s.split_once("://").map_or(s, |(_, rest)| rest);
    let authority = authority.split(['/', '?', '#']).next().unwrap_or("");
    let host = url_host(authority).unwrap_or_default();
    domain_check(field, &host, "validation_url_domain_not_allowed")
}

/// PB-COMPAT: latitude is checked first, so a point out of range on both axes reports it.
fn geo_point(v: &Json) -> Option<Json> {
    let lon = v.get("lon").and_then(Json::as_f64).unwrap_or(0.0);
    let lat = v.get("lat").and_then(Json::as_f64).unwrap_or(0.0);
    if !(-90.0..=90.0).contains(&lat) {
        return Some(err(
            "validation_invalid_latitude",
            "Latitude must be between -90 and 90 degrees.".into(),
        ));
    }
    if !(-180.0..=180.0).contains(&lon) {
        return Some(err(
            "validation_invalid_longitude",
            "Longitude must be between -180 and 180 degrees.".into(),
        ));
    }
    None
}

/// PB-COMPAT: date bounds fail with the generic threshold codes, the bound written as Go
/// prints a time in the message and as RFC 3339 in `params.threshold`. Both dates are in the
/// canonical form, so comparing the strings compares the instants.
fn date(field: &Field, s: &str) -> Option<Json> {
    let bound = |key: &str| {
        field
            .options
            .get(key)
            .and_then(Json::as_str)
            .and_then(crate::dates::normalize)
            .filter(|b| !b.is_empty())
    };
    if let Some(min) = bound("min").filter(|min| s < min.as_str()) {
        return Some(threshold_error(
            "validation_min_greater_equal_than_required",
            "Must be no less than",
            &min,
        ));
    }
    if let Some(max) = bound("max").filter(|max| s > max.as_str()) {
        return Some(threshold_error(
            "validation_max_less_equal_than_required",
            "Must be no greater than",
            &max,
        ));
    }
    None
}

/// `2024-01-02 03:04:05.120Z` → (`2024-01-02 03:04:05.12 +0000 UTC`, `2024-01-02T03:04:05.12Z`):
/// Go drops the trailing zeros of the fraction, and the dot with them.
fn threshold_error(code: &str, prefix: &str, bound: &str) -> Json {
    let (seconds, fraction) = bound
        .trim_end_matches('Z')
        .split_once('.')
        .unwrap_or((bound.trim_end_matches('Z'), ""));
    let fraction = fraction.trim_end_matches('0');
    let dot = if fraction.is_empty() { "" } else { "." };
    let shown = format!("{seconds}{dot}{fraction} +0000 UTC");
    let rfc3339 = format!("{}{dot}{fraction}Z", seconds.replacen(' ', "T", 1));
    json!({"code": code, "message": format!("{prefix} {shown}."), "params": {"threshold": rfc3339}})
}

fn select(field: &Field, items: &[String]) -> Option<Json> {
    let allowed = field.list_opt("values");
    if let Some(bad) = items.iter().find(|i| !allowed.contains(i)) {
        return Some(
            json!({"code": "validation_invalid_value", "message": format!("Invalid value {bad}."), "params": {"value": bad}}),
        );
    }
    count(field, items.len())
}

/// PB-COMPAT: a file field with `maxSize: 0` takes files up to 5 MiB.
pub const DEFAULT_FILE_MAX: u64 = 5 << 20;

/// The largest file a file field takes.
pub fn file_max_size(field: &Field) -> u64 {
    field
        .num_opt("maxSize")
        .filter(|m| *m > 0.0)
        .map_or(DEFAULT_FILE_MAX, |m| m as u64)
}

/// How many bytes of uploads a request to `collection` may carry beyond the server-wide body
/// limit: every file field's largest file times its number of files.
pub fn upload_allowance(collection: &crate::schema::Collection) -> usize {
    let total: u64 = collection
        .fields
        .iter()
        .filter(|f| f.kind == FieldKind::File)
        .map(|f| file_max_size(f).saturating_mul(f.max_select() as u64))
        .sum();
    usize::try_from(total).unwrap_or(usize::MAX)
}

/// The file fields of `record`: how many files, and that each one is either kept from
/// `previous` or one of `uploads` within the field's size and type limits.
pub fn files(record: &Record, previous: Option<&Record>, uploads: &[Upload]) -> FieldErrors {
    let mut errors = FieldErrors::new();
    for field in record
        .collection
        .fields
        .iter()
        .filter(|f| f.kind == FieldKind::File)
    {
        let names = record.get_list(&field.name);
        let old = previous
            .map(|p| p.get_list(&field.name))
            .unwrap_or_default();
        if let Some(e) = file_field(field, &names, &old, uploads) {
            errors.insert(field.name.clone(), e);
        }
    }
    errors
}

fn file_field(field: &Field, names: &[String], old: &[String], uploads: &[Upload]) -> Option<Json> {
    let max = field.max_select();
    if names.len() > max {
        return Some(
            json!({"code": "validation_too_many_files", "message": format!("The maximum allowed files is {max}."), "params": {"maxSelect": max}}),
        );
    }
    let upload = |name: &String| uploads.iter().find(|u| &u.name == name);
    let invalid: Vec<&String> = names
        .iter()
        .filter(|n| !old.contains(n) && upload(n).is_none())
        .collect();
    if !invalid.is_empty() {
        let list = invalid
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        return Some(
            json!({"code": "validation_invalid_file", "message": format!("Invalid new files: [{list}]."), "params": {"invalidFiles": invalid}}),
        );
    }
    let max_size = file_max_size(field);
    let allowed = field.list_opt("mimeTypes");
    for u in names.iter().filter_map(upload) {
        if u.size > max_size {
            return Some(json!({
                "code": "validation_file_size_limit",
                "message": format!("Failed to upload {} - the maximum allowed file size is {max_size} bytes.", u.original),
                "params": {"file": u.original, "maxSize": max_size}
            }));
        }
        if !crate::files::upload::mime_allowed(&u.mime, &allowed) {
            return Some(err(
                "validation_invalid_mime_type",
                format!(
                    "\"{}\" mime type must be one of: {}.",
                    u.name,
                    allowed.join(", ")
                ),
            ));
        }
    }
    None
}

fn count(field: &Field, n: usize) -> Option<Json> {
    let max = field.max_select();
    if field.is_multi() && n > max {
        return Some(
            json!({"code": "validation_too_many_values", "message": format!("Select no more than {max}."), "params": {"maxSelect": max}}),
        );
    }
    let min = field.num_opt("minSelect").unwrap_or(0.0) as usize;
    (n < min).then(|| {
        err(
            "validation_not_enough_values",
            format!("Select at least {min}."),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_limits_and_pattern() {
        let f = Field::new("t", FieldKind::Text)
            .with("min", json!(2))
            .with("max", json!(3))
            .with("pattern", json!("^[a-z]+$"));
        assert_eq!(
            validate_field(&f, &json!("a")).unwrap()["code"],
            "validation_min_text_constraint"
        );
        assert_eq!(
            validate_field(&f, &json!("abcd")).unwrap()["code"],
            "validation_max_text_constraint"
        );
        assert_eq!(
            validate_field(&f, &json!("A1")).unwrap()["code"],
            "validation_invalid_format"
        );
        assert!(validate_field(&f, &json!("ab")).is_none());
    }

    #[test]
    fn required_blank_values() {
        let mut f = Field::new("n", FieldKind::Number);
        f.required = true;
        assert_eq!(
            validate_field(&f, &json!(0)).unwrap()["code"],
            "validation_required"
        );
    }

    #[test]
    fn emails_urls_and_selects() {
        let e = Field::new("e", FieldKind::Email).with("onlyDomains", json!(["example.com"]));
        assert!(validate_field(&e, &json!("a@example.com")).is_none());
        assert_eq!(
            validate_field(&e, &json!("a@other.com")).unwrap()["code"],
            "validation_email_domain_not_allowed"
        );
        assert_eq!(
            validate_field(&e, &json!("nope")).unwrap()["code"],
            "validation_is_email"
        );
        let u = Field::new("u", FieldKind::Url);
        assert!(validate_field(&u, &json!("https://example.com/x")).is_none());
        // As PocketBase answers (govalidator's IsURL).
        for (url, valid) in [
            ("ftp://x", true),
            ("x", false),
            ("x.io", true),
            ("mailto:a@b.c", true),
            ("http://", false),
            ("javascript:alert(1)", false),
            ("//x.io", false),
            ("x.io/path?q=1", true),
            ("http://user:pw@x.io:8080/a", true),
            ("http://[::1]:80/", true),
            ("http://127.0.0.1", true),
            ("HTTPS://X.IO", false),
            ("gopher://x.io", false),
            ("http://-x.io", false),
            ("http://x_y.io", true),
            ("http://ü.de", true),
            ("http://x..io", false),
            ("localhost:8090", true),
            ("http://x.io:abc", false),
        ] {
            assert_eq!(validate_field(&u, &json!(url)).is_none(), valid, "{url}");
        }
        let s = Field::new("s", FieldKind::Select)
            .with("values", json!(["a"]))
            .with("maxSelect", json!(2));
        assert_eq!(
            validate_field(&s, &json!(["a", "z"])).unwrap()["code"],
            "validation_invalid_value"
        );
    }

    #[test]
    fn date_bounds_print_the_threshold_as_go_does() {
        let d = Field::new("d", FieldKind::Date)
            .with("min", json!("2024-01-01 10:20:30.120Z"))
            .with("max", json!("2024-12-31"));
        let e = validate_field(&d, &json!("2023-01-01 00:00:00.000Z")).unwrap();
        assert_eq!(e["code"], "validation_min_greater_equal_than_required");
        assert_eq!(
            e["message"],
            "Must be no less than 2024-01-01 10:20:30.12 +0000 UTC."
        );
        assert_eq!(e["params"]["threshold"], "2024-01-01T10:20:30.12Z");
        let e = validate_field(&d, &json!("2025-01-01 00:00:00.000Z")).unwrap();
        assert_eq!(
            e["message"],
            "Must be no greater than 2024-12-31 00:00:00 +0000 UTC."
        );
        assert_eq!(e["params"]["threshold"], "2024-12-31T00:00:00Z");
        assert!(validate_field(&d, &json!("2024-06-01 00:00:00.000Z")).is_none());
    }
}
