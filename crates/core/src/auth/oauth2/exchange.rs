//! The provider side of the authorization-code flow: the authorization URL with PKCE, the
//! code exchange at the token endpoint, and the user-info request.

use std::time::Duration;

use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use super::providers::{ExternalUser, Provider, UserInfoKind, github_primary_email, parse_user};
use crate::error::{Error, Result};

/// What the token endpoint answered.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds, 0 when not given.
    pub expires_in: i64,
}

/// A PKCE pair: the verifier the client keeps, and its S256 challenge.
pub fn pkce_pair() -> (String, String) {
    let verifier = crate::ids::random_from(
        64,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~",
    );
    let challenge = base64url(&Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn base64url(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// PB-COMPAT: the authorization URL ends with an empty `redirect_uri=`, to which the SDK
/// appends its own redirect URL.
pub fn auth_url(p: &Provider, state: &str, challenge: &str) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("client_id", &p.client_id);
    if p.pkce {
        q.append_pair("code_challenge", challenge)
            .append_pair("code_challenge_method", "S256");
    }
    q.append_pair("response_type", "code")
        .append_pair("scope", &p.scopes.join(" "))
        .append_pair("state", state);
    let sep = if p.auth_url.contains('?') { '&' } else { '?' };
    format!("{}{sep}{}&redirect_uri=", p.auth_url, q.finish())
}

fn client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .map_err(Error::internal)
}

/// The provider refused or failed: the client sees PocketBase's message, the log the why.
fn failed(what: &str, detail: impl std::fmt::Display) -> Error {
    tracing::warn!(%detail, "oauth2 {what} failed");
    Error::bad_request(if what.starts_with("token") {
        "Failed to fetch OAuth2 token."
    } else {
        "Failed to fetch OAuth2 user."
    })
}

/// Exchanges `code` for tokens (client credentials in the body, as most providers accept).
pub async fn exchange(
    p: &Provider,
    code: &str,
    verifier: &str,
    redirect_url: &str,
) -> Result<Tokens> {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_url),
        ("client_id", &p.client_id),
    ];
    if !p.client_secret.is_empty() {
        form.push(("client_secret", &p.client_secret));
    }
    if p.pkce && !verifier.is_empty() {
        form.push(("code_verifier", verifier));
    }
    let response = client()?
        .post(&p.token_url)
        .header("Accept", "application/json")
        .form(&form)
        .send()
        .await
        .map_err(|e| failed("token request", e))?;
    let status = response.status();
    let body: Json = response
        .json()
        .await
        .map_err(|e| failed("token response", e))?;
    let access_token = body
        .get("access_token")
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_owned();
    if !status.is_success() || access_token.is_empty() {
        return Err(failed("token exchange", format!("{status} {body}")));
    }
    Ok(Tokens {
        access_token,
        refresh_token: body
            .get("refresh_token")
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_owned(),
        expires_in: body.get("expires_in").and_then(Json::as_i64).unwrap_or(0),
    })
}

async fn get_json(url: &str, access_token: &str) -> Result<Json> {
    let response = client()?
        .get(url)
        .bearer_auth(access_token)
        .header("Accept", "application/json")
        .header("User-Agent", "oxbase")
        .send()
        .await
        .map_err(|e| failed("user info request", e))?;
    let status = response.status();
    let body: Json = response
        .json()
        .await
        .map_err(|e| failed("user info response", e))?;
    if !status.is_success() {
        return Err(failed("user info", format!("{status} {body}")));
    }
    Ok(body)
}

/// The provider's user behind `access_token`.
pub async fn fetch_user(p: &Provider, access_token: &str) -> Result<ExternalUser> {
    let raw = get_json(&p.user_info_url, access_token).await?;
    let mut user = parse_user(p.kind, &raw);
    if p.kind == UserInfoKind::GitHub {
        let emails_url = format!("{}/emails", p.user_info_url.trim_end_matches('/'));
        if let Some((email, verified)) = get_json(&emails_url, access_token)
            .await
            .ok()
            .as_ref()
            .and_then(github_primary_email)
        {
            user.email = email;
            user.email_verified = verified;
        }
    }
    if user.id.is_empty() {
        return Err(failed("user info", "no user id in the answer"));
    }
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::oauth2::providers::UserInfoKind;

    #[test]
    fn the_challenge_is_the_s256_of_the_verifier() {
        // RFC 7636, appendix B.
        assert_eq!(
            base64url(&Sha256::digest(
                b"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
            )),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let (v, c) = pkce_pair();
        assert_eq!(v.len(), 64);
        assert_eq!(c, base64url(&Sha256::digest(v.as_bytes())));
    }

    #[test]
    fn the_auth_url_ends_with_an_empty_redirect_uri() {
        let p = Provider {
            name: "oidc".into(),
            display_name: "X".into(),
            client_id: "app id".into(),
            client_secret: String::new(),
            auth_url: "http://idp/auth".into(),
            token_url: String::new(),
            user_info_url: String::new(),
            scopes: vec!["openid".into(), "email".into()],
            pkce: true,
            kind: UserInfoKind::Oidc,
        };
        assert_eq!(
            auth_url(&p, "st", "ch"),
            "http://idp/auth?client_id=app+id&code_challenge=ch&code_challenge_method=S256&response_type=code&scope=openid+email&state=st&redirect_uri="
        );
    }
}
