//! Password hashing: argon2id for new hashes; bcrypt hashes (PocketBase's, in users imported
//! from it) verify too, and `needs_rehash` tells the login to replace them with argon2id.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};

use crate::error::{Error, Result};

pub fn hash(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(Error::internal)
}

/// Whether `password` matches `stored` (constant-time inside the hasher): an argon2 PHC
/// string, or a bcrypt hash (`$2a$`, `$2b$`, `$2y$`).
pub fn verify(password: &str, stored: &str) -> bool {
    if is_bcrypt(stored) {
        return bcrypt::verify(password, stored).unwrap_or(false);
    }
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

fn is_bcrypt(stored: &str) -> bool {
    ["$2a$", "$2b$", "$2y$", "$2x$"]
        .iter()
        .any(|p| stored.starts_with(p))
}

/// Whether a hash that verified should be replaced by a fresh argon2id one (it is bcrypt).
pub fn needs_rehash(stored: &str) -> bool {
    is_bcrypt(stored)
}

/// At most this many hashes run at once: each argon2 hash takes ~19 MiB and a core's worth
/// of time, so more in parallel only adds memory and queueing. A process-wide limit, since the
/// cores are process-wide too.
fn hashing_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    })
}

/// `hash` on the blocking pool, bounded by the hashing slots.
pub async fn hash_async(password: String) -> Result<String> {
    let _slot = hashing_slots().acquire().await.map_err(Error::internal)?;
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .map_err(Error::internal)?
}

/// `verify` on the blocking pool, bounded by the hashing slots.
pub async fn verify_async(password: String, stored: String) -> bool {
    let Ok(_slot) = hashing_slots().acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || verify(&password, &stored))
        .await
        .unwrap_or(false)
}

/// A valid hash of nothing in particular, verified when no account matches.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash(&crate::ids::random_string(32)).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_verify_and_differ() {
        let a = super::hash("secret123").unwrap();
        let b = super::hash("secret123").unwrap();
        assert_ne!(a, b);
        assert!(super::verify("secret123", &a));
        assert!(!super::verify("wrong", &a));
        assert!(!super::verify("secret123", "not a hash"));
        assert!(!super::needs_rehash(&a));
    }

    #[test]
    fn bcrypt_hashes_from_pocketbase_verify_and_need_a_rehash() {
        // A bcrypt hash like the ones PocketBase stores (cost 4 here, to stay fast).
        let stored = bcrypt::hash("pass12345", 4).unwrap();
        assert!(stored.starts_with("$2b$"));
        assert!(super::verify("pass12345", &stored));
        assert!(!super::verify("pass12346", &stored));
        assert!(super::needs_rehash(&stored));
        let go_style = stored.replacen("$2b$", "$2a$", 1);
        assert!(super::verify("pass12345", &go_style));
    }
}
