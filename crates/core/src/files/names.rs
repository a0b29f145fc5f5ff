//! Stored file names, as PocketBase makes them: the original name sanitised to snake case, a
//! random suffix, and the cleaned extension (`My Photo.PNG` → `my_photo_a1b2c3d4e5.PNG`).
//! Nothing of the client's path survives, so a name can never climb out of its folder.

const SUFFIX_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
/// PB-COMPAT: names shorter than this get extra random characters, longer ones are cut.
const MIN_STEM: usize = 3;
const MAX_STEM: usize = 100;
const MAX_EXT: usize = 20;

/// The name a file uploaded as `original` is stored under. `fallback_ext` (with its dot) is
/// used when the original has no usable extension, e.g. one detected from the content.
pub fn stored_name(original: &str, fallback_ext: &str) -> String {
    let base = original.rsplit(['/', '\\']).next().unwrap_or("");
    let (stem, ext) = split_extension(base);
    let mut ext = clean_extension(ext);
    if ext.len() <= 1 {
        ext = clean_extension(fallback_ext);
    }
    if ext.len() > MAX_EXT {
        ext = format!(".{}", &ext[ext.len() - MAX_EXT..]);
    }
    let mut stem = snake_case(stem);
    let length = stem.chars().count();
    if length < MIN_STEM {
        stem.push_str(&crate::ids::random_from(10, SUFFIX_ALPHABET));
    } else if length > MAX_STEM {
        stem = stem.chars().take(MAX_STEM).collect();
    }
    format!(
        "{stem}_{}{ext}",
        crate::ids::random_from(10, SUFFIX_ALPHABET)
    )
}

/// Whether `name` could be a stored name: one path segment without control characters.
/// Names in a record were made by [`stored_name`]; this guards names read from requests.
pub fn is_safe(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
        && !name.chars().any(char::is_control)
}

fn split_extension(base: &str) -> (&str, &str) {
    match base.rfind('.') {
        Some(i) if i > 0 => (&base[..i], &base[i..]),
        _ => (base, ""),
    }
}

/// PB-COMPAT: the extension keeps ASCII word characters and `.*-+=#`, nothing else.
fn clean_extension(ext: &str) -> String {
    ext.chars()
        .filter(|c| c.is_ascii_alphanumeric() || "_.*-+=#".contains(*c))
        .collect()
}

/// Words split at every non-alphanumeric character, lower-cased, joined by `_`; a capital
/// inside a word starts a new one (`myTestDB` → `my_test_db`).
fn snake_case(s: &str) -> String {
    let mut out = String::new();
    for word in s
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push('_');
        }
        let chars: Vec<char> = word.chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            if c.is_uppercase() {
                let prev_lower = i > 0 && chars[i - 1].is_lowercase();
                let next_lower = i > 0 && chars.get(i + 1).is_some_and(|n| n.is_lowercase());
                if prev_lower || next_lower {
                    out.push('_');
                }
                out.extend(c.to_lowercase());
            } else {
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(name: &str) -> (String, String) {
        let (stem, ext) = split_extension(name);
        let (base, suffix) = stem.rsplit_once('_').expect("a random suffix");
        assert_eq!(suffix.len(), 10);
        assert!(
            suffix
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
        (base.to_owned(), ext.to_owned())
    }

    #[test]
    fn names_are_snake_cased_with_a_random_suffix() {
        assert_eq!(
            parts(&stored_name("My Fancy File!!.TXT", "")),
            ("my_fancy_file".into(), ".TXT".into())
        );
        assert_eq!(
            parts(&stored_name("myTestDB.png", "")),
            ("my_test_db".into(), ".png".into())
        );
        let short = parts(&stored_name("a.txt", "")).0;
        assert_eq!(
            short.len(),
            11,
            "a short name gets 10 random characters: {short}"
        );
    }

    #[test]
    fn paths_and_control_characters_never_survive() {
        for hostile in [
            "../../etc/passwd",
            "..\\..\\boot.ini",
            "a/../../b.txt",
            "x\0y\r\n.txt",
            "/abs/path.sh",
            "..",
            ".",
        ] {
            let name = stored_name(hostile, "");
            assert!(is_safe(&name), "{hostile:?} became {name:?}");
            assert!(!name.contains(".."), "{hostile:?} became {name:?}");
        }
        assert_eq!(parts(&stored_name("../../etc/passwd", "")).0, "passwd");
    }

    #[test]
    fn extensions_are_cleaned_limited_or_detected() {
        assert_eq!(parts(&stored_name("archive.t<a>r", "")).1, ".tar");
        assert_eq!(parts(&stored_name("noext", ".png")).1, ".png");
        let long = stored_name(&format!("f.{}", "x".repeat(40)), "");
        assert_eq!(parts(&long).1.len(), MAX_EXT + 1);
        let stem = parts(&stored_name(&"y".repeat(300), "")).0;
        assert_eq!(stem.len(), MAX_STEM);
    }

    #[test]
    fn safe_names_are_single_segments() {
        assert!(is_safe("a_1234567890.png"));
        assert!(!is_safe("../a"));
        assert!(!is_safe("a/b"));
        assert!(!is_safe("a\nb"));
        assert!(!is_safe(""));
    }
}
