//! The `id_token` of an OpenID Connect token response, read as the provider's user when there
//! is no user-info endpoint (Apple always; `oidc*` without a user-info URL).
//!
//! Checked before use: the signature against the provider's JSON Web Key Set, `aud` = the
//! client id, `exp` (required) and `iat` with PocketBase's five minutes of leeway, and `iss`
//! against the allowed issuers when there are any. HMAC and `none` are never accepted: the
//! key must be a public key of the set, found by the token's `kid`.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value as Json;

use super::http::bounded_json;
use super::providers::Provider;

/// PB-COMPAT: PocketBase's `idTokenLeeway` (5 minutes) for `exp` and `iat`.
const LEEWAY_SECONDS: u64 = 300;
pub const APPLE_ISSUER: &str = "https://appleid.apple.com";
pub const APPLE_JWKS_URL: &str = "https://appleid.apple.com/auth/keys";

/// The claims of `id_token`, once checked; `Err` says why not (for the log).
pub async fn verified_claims(p: &Provider, id_token: &str) -> Result<Json, String> {
    if id_token.is_empty() {
        return Err("empty id_token".into());
    }
    let header = jsonwebtoken::decode_header(id_token).map_err(|e| e.to_string())?;
    let issuers = allowed_issuers(p);
    let unverified: Json =
        jsonwebtoken::dangerous::insecure_decode_claims(id_token).map_err(|e| e.to_string())?;
    let iss = unverified.get("iss").and_then(Json::as_str).unwrap_or("");
    if !issuers.is_empty() && !issuers.iter().any(|i| i == iss) {
        return Err(format!("iss must be one of {issuers:?}, got {iss:?}"));
    }
    let kid = header.kid.clone().unwrap_or_default();
    if kid.is_empty() {
        return Err("missing kid header value".into());
    }
    let jwks_url = jwks_url(p, &issuers, iss).await?;
    let set: JwkSet = serde_json::from_value(bounded_json(&jwks_url).await?)
        .map_err(|e| format!("invalid JSON Web Key Set at {jwks_url}: {e}"))?;
    let jwk = set
        .find(&kid)
        .ok_or_else(|| format!("JWK with kid {kid:?} was not found"))?;
    if let Some(alg) = jwk.common.key_algorithm
        && alg.to_string() != format!("{:?}", header.alg)
    {
        return Err(format!(
            "the token's alg {:?} is not its key's {alg}",
            header.alg
        ));
    }
    if matches!(
        header.alg,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
    ) {
        return Err("HMAC-signed id_token".into());
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = Validation::new(header.alg);
    validation.leeway = LEEWAY_SECONDS;
    validation.set_audience(&[&p.client_id]);
    validation.set_required_spec_claims(&["exp", "aud"]);
    if !issuers.is_empty() {
        validation.set_issuer(&issuers);
    }
    let claims = jsonwebtoken::decode::<Json>(id_token, &key, &validation)
        .map_err(|e| e.to_string())?
        .claims;
    let now = chrono::Utc::now().timestamp();
    if let Some(iat) = claims.get("iat").and_then(Json::as_i64)
        && iat > now + LEEWAY_SECONDS as i64
    {
        return Err("the id_token was issued in the future".into());
    }
    Ok(claims)
}

/// Apple's issuer always; for OIDC, `extra.issuers` (none: any).
fn allowed_issuers(p: &Provider) -> Vec<String> {
    if p.spec.name == "apple" {
        vec![APPLE_ISSUER.to_owned()]
    } else {
        p.extra_list("issuers")
    }
}

/// Where the keys are: `extra.jwksURL`; Apple's; else the `jwks_uri` of the discovery document
/// of the first allowed issuer, or of the token's own issuer (the token came straight from the
/// provider's token endpoint).
///
/// PB-COMPAT: PocketBase skips the signature check of an OIDC `id_token` when `jwksURL` is
/// not set; oxbase always checks it, finding the keys by discovery.
async fn jwks_url(p: &Provider, issuers: &[String], iss: &str) -> Result<String, String> {
    let configured = p.extra_text("jwksURL");
    if !configured.is_empty() {
        return Ok(configured);
    }
    if p.spec.name == "apple" {
        return Ok(APPLE_JWKS_URL.to_owned());
    }
    let issuer = issuers.first().map_or(iss, String::as_str);
    if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
        return Err("no jwksURL and no issuer to discover the keys from".into());
    }
    let discovery = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    bounded_json(&discovery)
        .await?
        .get("jwks_uri")
        .and_then(Json::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("no jwks_uri in {discovery}"))
}
