//! Random identifiers and secrets.

use rand::Rng;

const ALPHANUMERIC_LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const ALPHANUMERIC: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// A PocketBase-style record id: 15 lowercase alphanumerics.
pub fn record_id() -> String {
    random_from(15, ALPHANUMERIC_LOWER)
}

/// A random string of `len` characters from `[a-zA-Z0-9]` (token keys, secrets).
pub fn random_string(len: usize) -> String {
    random_from(len, ALPHANUMERIC)
}

pub fn random_from(len: usize, alphabet: &[u8]) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

/// PocketBase's collection ids: `pbc_` followed by a number.
pub fn collection_id() -> String {
    format!(
        "pbc_{}",
        rand::rng().random_range(1_000_000_000u64..4_294_967_295)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn record_ids_are_15_lowercase_alphanumerics() {
        let id = super::record_id();
        assert_eq!(id.len(), 15);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
    }
}
