//! Random identifiers and secrets.

use std::sync::atomic::{AtomicU64, Ordering};

use rand::Rng;

const ALPHANUMERIC_LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
/// Base 36 in byte order, so that the text sorts as the number.
const DIGITS_36: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
const ALPHANUMERIC: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// A PocketBase-style record id: 15 lowercase alphanumerics.
pub fn record_id() -> String {
    random_from(15, ALPHANUMERIC_LOWER)
}

/// A record-style id (15 lowercase alphanumerics) that sorts by creation time: 11 characters
/// of a microsecond count in base 36, then 4 random ones. Written in that order, such ids
/// append to an index rather than land anywhere in it (the log's entries).
pub fn sortable_id() -> String {
    let mut id = String::with_capacity(15);
    push_sortable_id(&mut id);
    id
}

/// The microsecond count the last sortable id of this process used.
static LAST_MICROS: AtomicU64 = AtomicU64::new(0);

/// Appends a [`sortable_id`] to `out` (the log writer reuses one buffer for all its entries).
/// The count is the clock's, moved past the last one used: the writer makes several ids per
/// microsecond, and ids of one process must never clash (an insert that meets a taken id
/// loses its entry). The random part keeps instances sharing a table apart.
pub fn push_sortable_id(out: &mut String) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    let previous = LAST_MICROS
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
            Some(now.max(last + 1))
        })
        .unwrap_or(now);
    let micros = now.max(previous + 1);
    let mut id = [b'0'; 15];
    let mut rest = micros;
    for slot in id[..11].iter_mut().rev() {
        *slot = DIGITS_36[(rest % 36) as usize];
        rest /= 36;
    }
    let mut rng = rand::rng();
    for slot in &mut id[11..] {
        *slot = ALPHANUMERIC_LOWER[rng.random_range(0..ALPHANUMERIC_LOWER.len())];
    }
    out.extend(id.iter().map(|&b| char::from(b)));
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
    fn sortable_ids_look_like_record_ids_and_sort_by_time() {
        let a = super::sortable_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = super::sortable_id();
        for id in [&a, &b] {
            assert_eq!(id.len(), 15);
            assert!(
                id.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            );
        }
        assert!(a < b, "{a} {b}");
    }

    #[test]
    fn sortable_ids_made_back_to_back_never_clash() {
        // Many per microsecond, from several threads: each thread's ids rise, none repeats.
        let threads: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| {
                    let ids: Vec<String> = (0..20_000).map(|_| super::sortable_id()).collect();
                    assert!(ids.windows(2).all(|w| w[0] < w[1]));
                    ids
                })
            })
            .collect();
        let mut all = std::collections::HashSet::new();
        for t in threads {
            for id in t.join().unwrap_or_default() {
                assert!(all.insert(id[..11].to_owned()), "a repeated count: {id}");
            }
        }
        assert_eq!(all.len(), 80_000);
    }

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
