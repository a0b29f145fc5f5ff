//! The provider side of the authorization-code flow: the authorization URL with PKCE, the
//! code exchange at the token endpoint, and the user-info request.

use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use super::http::{client, failed, read_json};
use super::id_token;
use super::providers::{ExternalUser, Extra, Provider, parse_user, primary_email};
use crate::error::Result;

/// What the token endpoint answered.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    /// OpenID Connect's signed user, "" when not given.
    pub id_token: String,
    /// Seconds, 0 when not given.
    pub expires_in: i64,
    /// The whole answer (VK puts the address in it).
    pub raw: Json,
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

/// Exchanges `code` for tokens: client credentials in the body, or as HTTP Basic auth for the
/// providers that want it.
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
    ];
    if !p.spec.basic_auth {
        form.push(("client_id", &p.client_id));
        if !p.client_secret.is_empty() {
            form.push(("client_secret", &p.client_secret));
        }
    }
    if p.pkce && !verifier.is_empty() {
        form.push(("code_verifier", verifier));
    }
    let mut request = client()?
        .post(&p.token_url)
        .header("Accept", "application/json")
        .form(&form);
    if p.spec.basic_auth {
        request = request.basic_auth(&p.client_id, Some(&p.client_secret));
    }
    let response = request
        .send()
        .await
        .map_err(|e| failed("token request", e))?;
    let body = read_json(response)
        .await
        .map_err(|e| failed("token exchange", e))?;
    let text = |k: &str| body.get(k).and_then(Json::as_str).unwrap_or("").to_owned();
    let access_token = text("access_token");
    if access_token.is_empty() {
        return Err(failed(
            "token exchange",
            format!("no access_token in {body}"),
        ));
    }
    Ok(Tokens {
        access_token,
        refresh_token: text("refresh_token"),
        id_token: text("id_token"),
        expires_in: body.get("expires_in").and_then(Json::as_i64).unwrap_or(0),
        raw: body,
    })
}

/// The user-info request: a GET, or a POST of the GraphQL query, with the provider's headers.
async fn user_info(
    p: &Provider,
    url: &str,
    access_token: &str,
) -> std::result::Result<Json, String> {
    let http = client().map_err(|e| e.to_string())?;
    let mut request = match p.spec.extra {
        Extra::GraphQl(query) if url == p.user_info_url => {
            http.post(url).json(&serde_json::json!({ "query": query }))
        }
        _ => http.get(url),
    };
    for (name, value) in p.spec.headers {
        request = request.header(*name, value.replace("{clientId}", &p.client_id));
    }
    let response = request
        .bearer_auth(access_token)
        .header("Accept", "application/json")
        .header("User-Agent", "oxbase")
        .send()
        .await
        .map_err(|e| e.to_string())?;
    read_json(response).await
}

/// Where the provider lists the user's addresses.
fn emails_url(p: &Provider) -> String {
    let base = p.user_info_url.trim_end_matches('/');
    match base.strip_suffix("/user") {
        // Gitee: `/api/v5/emails` next to `/api/v5/user`.
        Some(root) if p.name == "gitee" => format!("{root}/emails"),
        _ => format!("{base}/emails"),
    }
}

/// The provider's user behind `tokens`: its user-info answer, or the checked `id_token`.
pub async fn fetch_user(p: &Provider, tokens: &Tokens) -> Result<ExternalUser> {
    let raw = if p.uses_id_token() {
        id_token::verified_claims(p, &tokens.id_token)
            .await
            .map_err(|e| failed("id_token check", e))?
    } else {
        user_info(p, &p.user_info_url, &tokens.access_token)
            .await
            .map_err(|e| failed("user info", e))?
    };
    let mut user = parse_user(p.spec, &raw).map_err(|e| failed("user info", format!("{e:?}")))?;
    let wants_emails = match p.name.as_str() {
        "gitee" => user.email.is_empty(),
        _ => p.spec.extra == Extra::Emails,
    };
    if wants_emails {
        // Optional: a refused or odd answer (missing scope) leaves the address empty.
        if let Some((email, verified)) = user_info(p, &emails_url(p), &tokens.access_token)
            .await
            .ok()
            .and_then(|emails| primary_email(&p.name, &emails))
        {
            user.email = email;
            user.email_verified = verified;
        }
    }
    // VK gives the address with the token.
    if p.name == "vk"
        && let Some(email) = tokens.raw.get("email").and_then(Json::as_str)
    {
        user.email = email.to_owned();
    }
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

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
            extra: Default::default(),
            spec: crate::auth::oauth2::providers::spec("oidc").expect("oidc"),
        };
        assert_eq!(
            auth_url(&p, "st", "ch"),
            "http://idp/auth?client_id=app+id&code_challenge=ch&code_challenge_method=S256&response_type=code&scope=openid+email&state=st&redirect_uri="
        );
    }
}
