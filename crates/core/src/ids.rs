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

/// PocketBase's id for a new collection: `pbc_` and the CRC-32 of its type and name, so the
/// same schema gets the same ids on both servers (the caller adds a suffix when it is taken).
pub fn collection_id(kind: &str, name: &str) -> String {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(kind.as_bytes());
    hasher.update(name.as_bytes());
    format!("pbc_{}", hasher.finalize())
}

#[cfg(test)]
mod tests {
    #[test]
    fn collection_ids_are_pocketbase_checksums() {
        // PocketBase 0.40.6 named a collection "staff" of type auth this way.
        assert_eq!(super::collection_id("auth", "staff"), "pbc_829252413");
    }

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
