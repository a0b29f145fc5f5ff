//! OAuth2 providers: what each named provider needs by default (URLs, scopes, how to read its
//! user), merged with a collection's `oauth2.providers` entries, where `clientId` and
//! `clientSecret` are set and any URL may be overridden. `oidc`, `oidc2` and `oidc3` are
//! generic OpenID Connect providers: their URLs come from the configuration.

use serde_json::{Map, Value as Json};

use crate::schema::Collection;

/// How a provider's user-info answer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserInfoKind {
    /// OpenID Connect claims: `sub`, `email`, `email_verified`, `name`, `picture`...
    Oidc,
    GitHub,
    GitLab,
    Discord,
    Facebook,
}

/// One enabled provider of a collection.
#[derive(Debug, Clone, PartialEq)]
pub struct Provider {
    pub name: String,
    pub display_name: String,
    pub client_id: String,
    pub client_secret: String,
    pub auth_url: String,
    pub token_url: String,
    pub user_info_url: String,
    pub scopes: Vec<String>,
    pub pkce: bool,
    pub kind: UserInfoKind,
}

struct Defaults {
    display_name: &'static str,
    auth_url: &'static str,
    token_url: &'static str,
    user_info_url: &'static str,
    scopes: &'static [&'static str],
    kind: UserInfoKind,
}

const OIDC_SCOPES: &[&str] = &["openid", "email", "profile"];

fn defaults(name: &str) -> Option<Defaults> {
    let d = |display_name, auth_url, token_url, user_info_url, scopes, kind| Defaults {
        display_name,
        auth_url,
        token_url,
        user_info_url,
        scopes,
        kind,
    };
    Some(match name {
        "google" => d(
            "Google",
            "https://accounts.google.com/o/oauth2/v2/auth",
            "https://oauth2.googleapis.com/token",
            "https://www.googleapis.com/oauth2/v3/userinfo",
            OIDC_SCOPES,
            UserInfoKind::Oidc,
        ),
        "microsoft" => d(
            "Microsoft",
            "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
            "https://login.microsoftonline.com/common/oauth2/v2.0/token",
            "https://graph.microsoft.com/oidc/userinfo",
            OIDC_SCOPES,
            UserInfoKind::Oidc,
        ),
        "github" => d(
            "GitHub",
            "https://github.com/login/oauth/authorize",
            "https://github.com/login/oauth/access_token",
            "https://api.github.com/user",
            &["read:user", "user:email"],
            UserInfoKind::GitHub,
        ),
        "gitlab" => d(
            "GitLab",
            "https://gitlab.com/oauth/authorize",
            "https://gitlab.com/oauth/token",
            "https://gitlab.com/api/v4/user",
            &["read_user"],
            UserInfoKind::GitLab,
        ),
        "discord" => d(
            "Discord",
            "https://discord.com/api/oauth2/authorize",
            "https://discord.com/api/oauth2/token",
            "https://discord.com/api/users/@me",
            &["identify", "email"],
            UserInfoKind::Discord,
        ),
        "facebook" => d(
            "Facebook",
            "https://www.facebook.com/v18.0/dialog/oauth",
            "https://graph.facebook.com/v18.0/oauth/access_token",
            "https://graph.facebook.com/me?fields=name,email,picture.type(large)",
            &["email"],
            UserInfoKind::Facebook,
        ),
        "oidc" | "oidc2" | "oidc3" => d("OIDC", "", "", "", OIDC_SCOPES, UserInfoKind::Oidc),
        _ => return None,
    })
}

/// The collection's usable providers: known names, with a client id and every URL set.
pub fn configured(c: &Collection) -> Vec<Provider> {
    let oauth2 = c.options.get("oauth2");
    if oauth2
        .and_then(|o| o.get("enabled"))
        .and_then(Json::as_bool)
        != Some(true)
    {
        return Vec::new();
    }
    let list = oauth2
        .and_then(|o| o.get("providers"))
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    list.iter()
        .filter_map(|p| p.as_object().and_then(provider))
        .collect()
}

fn provider(cfg: &Map<String, Json>) -> Option<Provider> {
    let s = |k: &str| {
        cfg.get(k)
            .and_then(Json::as_str)
            .unwrap_or("")
            .trim()
            .to_owned()
    };
    let name = s("name");
    let d = defaults(&name)?;
    let or = |v: String, fallback: &str| if v.is_empty() { fallback.to_owned() } else { v };
    let scopes = match cfg.get("scopes").and_then(Json::as_array) {
        Some(list) if !list.is_empty() => list
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => d.scopes.iter().map(|s| (*s).to_owned()).collect(),
    };
    let p = Provider {
        display_name: or(s("displayName"), d.display_name),
        client_id: s("clientId"),
        client_secret: s("clientSecret"),
        auth_url: or(s("authURL"), d.auth_url),
        token_url: or(s("tokenURL"), d.token_url),
        user_info_url: or(s("userInfoURL"), d.user_info_url),
        scopes,
        // PKCE unless turned off explicitly (a few providers reject it).
        pkce: cfg.get("pkce").and_then(Json::as_bool).unwrap_or(true),
        kind: d.kind,
        name,
    };
    let complete = !p.client_id.is_empty()
        && [&p.auth_url, &p.token_url, &p.user_info_url]
            .iter()
            .all(|u| u.starts_with("http://") || u.starts_with("https://"));
    complete.then_some(p)
}

/// The user a provider reports, in one shape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExternalUser {
    pub id: String,
    pub name: String,
    pub username: String,
    pub email: String,
    /// Whether the PROVIDER says the address is verified. Unknown counts as not verified.
    pub email_verified: bool,
    pub avatar_url: String,
    pub raw: Json,
}

/// Where a provider's answer keeps each value (JSON pointers; "" when it has none).
struct Keys {
    id: &'static str,
    name: &'static str,
    username: &'static str,
    email: &'static str,
    /// A `true` (or a non-empty string other than "false", like GitLab's `confirmed_at`).
    verified: &'static str,
    avatar: &'static str,
}

fn keys(kind: UserInfoKind) -> Keys {
    let k = |id, name, username, email, verified, avatar| Keys {
        id,
        name,
        username,
        email,
        verified,
        avatar,
    };
    match kind {
        UserInfoKind::Oidc => k(
            "/sub",
            "/name",
            "/preferred_username",
            "/email",
            "/email_verified",
            "/picture",
        ),
        // GitHub's address comes from /user/emails, where it says which are verified.
        UserInfoKind::GitHub => k("/id", "/name", "/login", "", "", "/avatar_url"),
        UserInfoKind::GitLab => k(
            "/id",
            "/name",
            "/username",
            "/email",
            "/confirmed_at",
            "/avatar_url",
        ),
        UserInfoKind::Discord => k(
            "/id",
            "/global_name",
            "/username",
            "/email",
            "/verified",
            "",
        ),
        UserInfoKind::Facebook => k("/id", "/name", "", "/email", "", "/picture/data/url"),
    }
}

/// Reads a user-info answer.
pub fn parse_user(kind: UserInfoKind, raw: &Json) -> ExternalUser {
    let text = |ptr: &str| match raw.pointer(ptr).filter(|_| !ptr.is_empty()) {
        Some(Json::String(v)) => v.clone(),
        Some(Json::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let k = keys(kind);
    let verified = match raw.pointer(k.verified).filter(|_| !k.verified.is_empty()) {
        Some(Json::Bool(b)) => *b,
        Some(Json::String(v)) => !v.is_empty() && v != "false",
        _ => false,
    };
    let mut u = ExternalUser {
        id: text(k.id),
        name: text(k.name),
        username: text(k.username),
        email: text(k.email),
        email_verified: verified,
        avatar_url: text(k.avatar),
        raw: raw.clone(),
    };
    let discord_avatar = text("/avatar");
    if kind == UserInfoKind::Discord && !discord_avatar.is_empty() {
        u.avatar_url = format!(
            "https://cdn.discordapp.com/avatars/{}/{discord_avatar}.png",
            u.id
        );
    }
    u
}

/// GitHub's `/user/emails`: the primary address, and whether it is verified.
pub fn github_primary_email(emails: &Json) -> Option<(String, bool)> {
    let list = emails.as_array()?;
    let primary = list
        .iter()
        .find(|e| e.get("primary") == Some(&Json::Bool(true)))?;
    Some((
        primary.get("email")?.as_str()?.to_owned(),
        primary.get("verified") == Some(&Json::Bool(true)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::CollectionKind;
    use serde_json::json;

    #[test]
    fn named_providers_get_their_defaults_and_generic_oidc_needs_urls() {
        let mut c = Collection::new("users", CollectionKind::Auth);
        c.options.insert(
            "oauth2".into(),
            json!({"enabled": true, "providers": [
                {"name": "google", "clientId": "id", "clientSecret": "s"},
                {"name": "oidc", "clientId": "id"},
                {"name": "oidc2", "clientId": "id", "authURL": "http://idp/auth", "tokenURL": "http://idp/token", "userInfoURL": "http://idp/me", "displayName": "Corp"},
                {"name": "unknown", "clientId": "id"},
                {"name": "github"}
            ]}),
        );
        let names: Vec<(String, String)> = configured(&c)
            .into_iter()
            .map(|p| (p.name, p.display_name))
            .collect();
        assert_eq!(
            names,
            [
                ("google".to_owned(), "Google".to_owned()),
                ("oidc2".to_owned(), "Corp".to_owned())
            ]
        );
        c.options.insert(
            "oauth2".into(),
            json!({"enabled": false, "providers": [{"name": "google", "clientId": "id"}]}),
        );
        assert!(configured(&c).is_empty());
    }

    #[test]
    fn users_are_read_per_provider_and_unknown_verification_is_not_verified() {
        let oidc = parse_user(
            UserInfoKind::Oidc,
            &json!({"sub": "s1", "email": "a@x.io", "email_verified": true, "name": "A"}),
        );
        assert_eq!(
            (oidc.id.as_str(), oidc.email.as_str(), oidc.email_verified),
            ("s1", "a@x.io", true)
        );
        let no_claim = parse_user(UserInfoKind::Oidc, &json!({"sub": "s1", "email": "a@x.io"}));
        assert!(!no_claim.email_verified);
        let gitlab = parse_user(
            UserInfoKind::GitLab,
            &json!({"id": 5, "username": "g", "email": "a@x.io", "confirmed_at": "2020-01-01T00:00:00Z"}),
        );
        assert_eq!((gitlab.id.as_str(), gitlab.email_verified), ("5", true));
        let stringly = parse_user(
            UserInfoKind::Oidc,
            &json!({"sub": "s", "email_verified": "false"}),
        );
        assert!(!stringly.email_verified);
        let fb = parse_user(
            UserInfoKind::Facebook,
            &json!({"id": "9", "email": "a@x.io"}),
        );
        assert!(!fb.email_verified);
        let gh = parse_user(UserInfoKind::GitHub, &json!({"id": 42, "login": "octo"}));
        assert_eq!((gh.id.as_str(), gh.username.as_str()), ("42", "octo"));
        let emails = json!([{"email": "b@x.io", "primary": false, "verified": true}, {"email": "a@x.io", "primary": true, "verified": false}]);
        assert_eq!(
            github_primary_email(&emails),
            Some(("a@x.io".to_owned(), false))
        );
        let discord = parse_user(
            UserInfoKind::Discord,
            &json!({"id": "7", "username": "d", "email": "a@x.io", "verified": true, "avatar": "h"}),
        );
        assert!(discord.email_verified);
        assert_eq!(
            discord.avatar_url,
            "https://cdn.discordapp.com/avatars/7/h.png"
        );
    }
}
