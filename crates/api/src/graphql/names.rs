//! GraphQL names for PocketBase's. PocketBase allows `\w+` names for collections and fields,
//! which may start with a digit, and `__` prefixes GraphQL reserves: those get a `_`/`x`
//! prefix; any other character becomes `_`.

/// A GraphQL-safe name for `name` (`/[_A-Za-z][_0-9A-Za-z]*/`, not starting with `__`).
pub fn safe(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    if s.starts_with("__") {
        s.insert(0, 'x');
    }
    s
}

/// `posts` → `Posts`: the prefix of a collection's type names.
pub fn pascal(name: &str) -> String {
    let s = safe(name);
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_graphql_safe() {
        assert_eq!(safe("posts"), "posts");
        assert_eq!(safe("1st"), "_1st");
        assert_eq!(safe("__x"), "x__x");
        assert_eq!(safe("a-b"), "a_b");
        assert_eq!(pascal("posts"), "Posts");
        assert_eq!(pascal("_pb_users"), "_pb_users");
    }
}
