//! Backup keys: the names of backup files. A key is one file name (never a path), so it can
//! neither leave the backups folder nor name a bucket's other objects.

use chrono::Utc;

/// PocketBase's pattern for the name a superuser gives a new backup.
pub fn valid_new_name(name: &str) -> bool {
    name.strip_suffix(".zip").is_some_and(|stem| {
        !stem.is_empty()
            && stem
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    })
}

/// Whether `key` may name a backup file: one non-empty file name of at most 255 bytes, no
/// separator, no `.` or `..`, no control character, not hidden.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 255
        && !key.starts_with('.')
        && !key.contains(['/', '\\'])
        && !key.chars().any(char::is_control)
}

/// The key an uploaded file is stored under: its name without any folder part, as PocketBase
/// keeps it (`../../x.zip` is `x.zip`); `None` when nothing valid is left.
pub fn upload_key(original: &str) -> Option<String> {
    let base = original.rsplit(['/', '\\']).next().unwrap_or("").trim();
    valid_key(base).then(|| base.to_owned())
}

/// PocketBase's generated names: `{prefix}{app name in snake case, 50 bytes at most}_{UTC
/// time as YYYYMMDDhhmmss}.zip`.
pub fn generated(prefix: &str, app_name: &str) -> String {
    let mut app = snake_case(app_name);
    if app.len() > 50 {
        let mut end = 50;
        while !app.is_char_boundary(end) {
            end -= 1;
        }
        app.truncate(end);
    }
    format!("{prefix}{app}_{}.zip", Utc::now().format("%Y%m%d%H%M%S"))
}

/// PocketBase's `inflector.Snakecase`: words (runs of letters and digits, split before an
/// upper-case letter that follows a lower-case one) joined by `_`, in lower case.
fn snake_case(s: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    let mut pending_separator = false;
    for c in s.chars() {
        if !c.is_alphanumeric() {
            pending_separator = !out.is_empty();
            previous_lower = false;
            continue;
        }
        if (pending_separator || (c.is_uppercase() && previous_lower)) && !out.is_empty() {
            out.push('_');
        }
        pending_separator = false;
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        out.extend(c.to_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_names_follow_pocketbase_pattern() {
        assert!(valid_new_name("one.zip"));
        assert!(valid_new_name("a_b-1.zip"));
        assert!(!valid_new_name("Bad.zip"));
        assert!(!valid_new_name(".zip"));
        assert!(!valid_new_name("a.tar"));
        assert!(!valid_new_name("../a.zip"));
    }

    #[test]
    fn keys_are_single_file_names() {
        assert!(valid_key("Weird Name.zip"));
        assert!(valid_key("@auto_pb_backup_acme_20260101000000.zip"));
        for bad in [
            "",
            ".",
            "..",
            "../x.zip",
            "a/b.zip",
            "a\\b.zip",
            "/etc/passwd",
            ".hidden",
            "a\nb",
        ] {
            assert!(!valid_key(bad), "{bad:?}");
        }
        assert!(!valid_key(&"a".repeat(256)));
    }

    #[test]
    fn uploads_keep_their_base_name() {
        assert_eq!(upload_key("../../evil.zip").as_deref(), Some("evil.zip"));
        assert_eq!(upload_key("C:\\x\\b.zip").as_deref(), Some("b.zip"));
        assert_eq!(upload_key("dir/"), None);
        assert_eq!(upload_key(".."), None);
    }

    #[test]
    fn generated_names_are_snake_cased_and_dated() {
        let name = generated("pb_backup_", "Acme");
        assert!(name.starts_with("pb_backup_acme_"), "{name}");
        assert!(name.ends_with(".zip"));
        assert_eq!(snake_case("My App 2"), "my_app_2");
        assert_eq!(snake_case("myApp"), "my_app");
        assert!(valid_new_name(&generated("pb_backup_", "Acme")));
        assert!(generated("x", &"a".repeat(80)).len() < 80);
    }
}
