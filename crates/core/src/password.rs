//! Password hashing: argon2id for new hashes; bcrypt hashes (PocketBase's, in users imported
//! from it) verify too, and `needs_rehash` tells the login to replace them, and argon2id
//! hashes made with other parameters, with a fresh hash.

use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{Error, Result};

/// The parameters of new hashes: argon2id, 7 MiB, 5 passes, 1 lane. OWASP lists this among its
/// equivalent argon2id settings (46 MiB × 1 pass, 19 MiB × 2, 12 MiB × 3, 9 MiB × 4, 7 MiB × 5:
/// the same memory × time, so the same cost to an attacker, "the only difference is a trade off
/// between CPU and RAM usage"). The smallest block is chosen because a server holds one per
/// login in flight: with the crate's default (19 MiB × 2) two concurrent logins added 38 MiB to
/// the peak RSS, here 14 MiB, for the same CPU per hash.
const M_COST_KIB: u32 = 7 * 1024;
const T_COST: u32 = 5;
const P_COST: u32 = 1;

fn hasher() -> Argon2<'static> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash(password: &str) -> Result<String> {
    hasher()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(Error::internal)
}

/// Whether `password` matches `stored` (constant-time inside the hasher, with the parameters
/// the stored hash names): an argon2 PHC string, or a bcrypt hash (`$2a$`, `$2b$`, `$2y$`).
pub fn verify(password: &str, stored: &str) -> bool {
    if is_bcrypt(stored) {
        return bcrypt::verify(password, stored).unwrap_or(false);
    }
    match PasswordHash::new(stored) {
        Ok(parsed) => hasher()
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

/// Whether a hash that verified should be replaced by a fresh one: bcrypt, or argon2 with
/// other parameters than new hashes get.
pub fn needs_rehash(stored: &str) -> bool {
    if is_bcrypt(stored) {
        return true;
    }
    PasswordHash::new(stored).is_ok_and(|phc| {
        phc.algorithm != Algorithm::Argon2id.ident()
            || Params::try_from(&phc).map_or(true, |p| {
                (p.m_cost(), p.t_cost(), p.p_cost()) != (M_COST_KIB, T_COST, P_COST)
            })
    })
}

/// At most this many hashes run at once: each takes its block of memory and a core's worth of
/// time, so more in parallel only adds memory and queueing. A process-wide limit, since the
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
        assert!(a.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{a}");
    }

    #[test]
    fn a_hash_with_other_parameters_verifies_and_needs_a_rehash() {
        use argon2::password_hash::PasswordHasher;
        // The crate's default parameters (19 MiB, 2 passes): what this module made before.
        let stored = argon2::Argon2::default()
            .hash_password(b"secret123")
            .unwrap()
            .to_string();
        assert!(stored.contains("m=19456,t=2"), "{stored}");
        assert!(super::verify("secret123", &stored));
        assert!(!super::verify("secret124", &stored));
        assert!(super::needs_rehash(&stored));
    }

    #[test]
    fn malformed_or_foreign_hashes_never_verify() {
        let good = super::hash("pw").unwrap();
        for stored in [
            "",
            "$argon2id$",
            &good.replace("$v=19$", "$v=7$"),
            &good.replace("m=7168", "m=1"),
            &good[..good.len() - 4],
            &good.replace("$argon2id$", "$scrypt$"),
        ] {
            assert!(!super::verify("pw", stored), "{stored}");
        }
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
