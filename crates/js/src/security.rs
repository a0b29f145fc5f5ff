//! `$security`: random strings, digests, HMACs, constant-time comparison and JWTs, as
//! PocketBase's `security` package gives them to JS (hex digests, HS256/HS512 tokens).

use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use md5::Md5;
use rand::Rng;
use serde_json::{Map, Value as Json, json};
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;

const ALPHANUMERIC: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// The op `name` of `$security` (or `None`: not one of them).
pub fn op(name: &str, args: &Json) -> Option<Result<Json, String>> {
    let s = |i: usize| args.get(i).and_then(Json::as_str).unwrap_or("").to_owned();
    let n = |i: usize| args.get(i).and_then(Json::as_f64).unwrap_or(0.0).max(0.0) as usize;
    Some(match name {
        "security.randomString" => Ok(json!(random_string(n(0), ALPHANUMERIC))),
        "security.randomStringWithAlphabet" => Ok(json!(random_string(n(0), &s(1)))),
        "security.hash" => Ok(json!(match s(0).as_str() {
            "md5" => hex::encode(Md5::digest(s(1).as_bytes())),
            "sha512" => hex::encode(Sha512::digest(s(1).as_bytes())),
            _ => hex::encode(Sha256::digest(s(1).as_bytes())),
        })),
        "security.hmac" => Ok(json!(hmac_hex(&s(0), &s(1), &s(2)))),
        "security.equal" => Ok(json!(bool::from(s(0).as_bytes().ct_eq(s(1).as_bytes())))),
        "security.createJWT" => create_jwt(args.get(0), &s(1), n(2)),
        "security.parseJWT" => parse_jwt(&s(0), Some(&s(1))),
        "security.parseUnverifiedJWT" => parse_jwt(&s(0), None),
        "security.encrypt" => encrypt(s(0).as_bytes(), &s(1)),
        "security.decrypt" => decrypt(&s(0), &s(1)),
        _ => return None,
    })
}

fn random_string(len: usize, alphabet: &str) -> String {
    let chars: Vec<char> = alphabet.chars().collect();
    if chars.is_empty() {
        return String::new();
    }
    let mut rng = rand::rng();
    (0..len.min(1 << 20))
        .map(|_| chars[rng.random_range(0..chars.len())])
        .collect()
}

fn hmac_hex(algorithm: &str, data: &str, key: &str) -> String {
    if algorithm == "sha512" {
        let mut mac = Hmac::<Sha512>::new_from_slice(key.as_bytes()).expect("any key length");
        mac.update(data.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    } else {
        let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
        mac.update(data.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// PocketBase's `security.NewJWT`: HS256, `exp` set to now plus `seconds`.
fn create_jwt(payload: Option<&Json>, key: &str, seconds: usize) -> Result<Json, String> {
    let mut claims: Map<String, Json> = payload
        .and_then(Json::as_object)
        .cloned()
        .unwrap_or_default();
    let exp = chrono_now() + seconds as i64;
    claims.insert("exp".into(), json!(exp));
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(key.as_bytes()),
    )
    .map(Json::String)
    .map_err(|e| e.to_string())
}

fn parse_jwt(token: &str, key: Option<&str>) -> Result<Json, String> {
    match key {
        Some(key) => {
            let mut v = Validation::new(Algorithm::HS256);
            v.algorithms = vec![Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];
            v.required_spec_claims.clear();
            v.leeway = 0;
            jsonwebtoken::decode::<Map<String, Json>>(
                token,
                &DecodingKey::from_secret(key.as_bytes()),
                &v,
            )
            .map(|d| Json::Object(d.claims))
            .map_err(|e| e.to_string())
        }
        None => jsonwebtoken::dangerous::insecure_decode_claims::<Map<String, Json>>(token)
            .map(Json::Object)
            .map_err(|e| e.to_string()),
    }
}

/// PocketBase's `security.Encrypt`: AES-GCM (the key's length picks AES-128, -192 or -256),
/// a random nonce before the sealed data, all in standard base64.
fn encrypt(data: &[u8], key: &str) -> Result<Json, String> {
    use aws_lc_rs::aead::{Aad, LessSafeKey, NONCE_LEN, Nonce};
    use base64::Engine;
    let key = LessSafeKey::new(aead_key(key)?);
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill(&mut nonce);
    let mut sealed = data.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::empty(),
        &mut sealed,
    )
    .map_err(|_| "encryption failed".to_owned())?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    Ok(json!(base64::engine::general_purpose::STANDARD.encode(out)))
}

/// PocketBase's `security.Decrypt`, the text of the data it sealed.
fn decrypt(text: &str, key: &str) -> Result<Json, String> {
    use aws_lc_rs::aead::{Aad, LessSafeKey, NONCE_LEN, Nonce};
    use base64::Engine;
    let key = LessSafeKey::new(aead_key(key)?);
    let raw = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| e.to_string())?;
    if raw.len() < NONCE_LEN {
        return Err("malformed ciphertext".into());
    }
    let (nonce, sealed) = raw.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| "malformed ciphertext")?;
    let mut sealed = sealed.to_vec();
    let plain = key
        .open_in_place(nonce, Aad::empty(), &mut sealed)
        .map_err(|_| "cipher: message authentication failed".to_owned())?;
    Ok(json!(String::from_utf8_lossy(plain)))
}

fn aead_key(key: &str) -> Result<aws_lc_rs::aead::UnboundKey, String> {
    use aws_lc_rs::aead::{AES_128_GCM, AES_192_GCM, AES_256_GCM, UnboundKey};
    let algorithm = match key.len() {
        16 => &AES_128_GCM,
        24 => &AES_192_GCM,
        32 => &AES_256_GCM,
        n => return Err(format!("crypto/aes: invalid key size {n}")),
    };
    UnboundKey::new(algorithm, key.as_bytes()).map_err(|_| "invalid key".to_owned())
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_and_hmacs_are_hex() {
        let hash = |algo: &str| op("security.hash", &json!([algo, "abc"])).unwrap().unwrap();
        assert_eq!(hash("md5"), json!("900150983cd24fb0d6963f7d28e17f72"));
        assert_eq!(
            hash("sha256"),
            json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        let mac = op("security.hmac", &json!(["sha256", "data", "key"]))
            .unwrap()
            .unwrap();
        assert_eq!(
            mac,
            json!("5031fe3d989c6d1537a013fa6e739da23463fdaec3b70137d828e36ace221bd0")
        );
    }

    #[test]
    fn jwts_round_trip_and_check_their_key() {
        let token = op("security.createJWT", &json!([{"a": 1}, "k", 60]))
            .unwrap()
            .unwrap();
        let token = token.as_str().unwrap();
        let claims = op("security.parseJWT", &json!([token, "k"]))
            .unwrap()
            .unwrap();
        assert_eq!(claims["a"], json!(1));
        assert!(
            op("security.parseJWT", &json!([token, "other"]))
                .unwrap()
                .is_err()
        );
        let unverified = op("security.parseUnverifiedJWT", &json!([token]))
            .unwrap()
            .unwrap();
        assert_eq!(unverified["a"], json!(1));
    }

    #[test]
    fn encryption_round_trips_and_checks_its_key() {
        let key = "12345678901234567890123456789012";
        let sealed = op("security.encrypt", &json!(["secret text", key]))
            .unwrap()
            .unwrap();
        let sealed = sealed.as_str().unwrap();
        let opened = op("security.decrypt", &json!([sealed, key]))
            .unwrap()
            .unwrap();
        assert_eq!(opened, json!("secret text"));
        let other = "x2345678901234567890123456789012";
        assert!(
            op("security.decrypt", &json!([sealed, other]))
                .unwrap()
                .is_err()
        );
        assert!(
            op("security.encrypt", &json!(["x", "short"]))
                .unwrap()
                .is_err()
        );
    }

    #[test]
    fn random_strings_use_the_alphabet() {
        let s = op("security.randomStringWithAlphabet", &json!([20, "ab"]))
            .unwrap()
            .unwrap();
        let s = s.as_str().unwrap();
        assert_eq!(s.len(), 20);
        assert!(s.chars().all(|c| c == 'a' || c == 'b'));
    }
}
