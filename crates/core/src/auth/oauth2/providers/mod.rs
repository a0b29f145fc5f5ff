//! OAuth2 providers: what each named provider needs by default (URLs, scopes, how to read its
//! user), merged with a collection's `oauth2.providers` entries, where `clientId` and
//! `clientSecret` are set and any URL may be overridden. `oidc`, `oidc2` and `oidc3` are
//! generic OpenID Connect providers: their URLs come from the configuration; without a
//! user-info URL their user is read from the validated `id_token` (see `id_token`).
//!
//! One table (`SPECS`) describes every named provider; reading a user is JSON pointers into
//! the provider's answer (`Keys`), plus the few extra steps a provider needs (`Extra`).

use serde_json::{Map, Value as Json};

use crate::schema::Collection;

/// How far a provider vouches for the address it reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// It does not say: the address counts as not verified.
    Unknown,
    /// It only ever reports addresses its user proved (Box, Twitch, mailcow).
    Trusted,
    /// Verified when every one of these values is true (`true`, `1`, or a non-empty string
    /// other than "false", like GitLab's `confirmed_at`).
    Claims(&'static [&'static str]),
}

/// Where a provider's answer keeps each value (JSON pointers; "" when it has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keys {
    pub id: &'static str,
    /// Joined with a space (first and last names).
    pub name: &'static [&'static str],
    pub username: &'static str,
    pub email: &'static str,
    pub verified: Verified,
    pub avatar: &'static str,
    /// A value the account must have (`(pointer, value)`): inactive accounts are refused.
    pub active: Option<(&'static str, &'static str)>,
}

/// What a provider needs beyond one GET of its user-info URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extra {
    None,
    /// The primary address from `{userInfoURL}/emails` (GitHub, Bitbucket, Gitee).
    Emails,
    /// The user is the token response's `id_token`, checked against the provider's keys
    /// (Apple always; OIDC without a user-info URL).
    IdToken,
    /// The user-info URL is a GraphQL endpoint: POST this query (Linear, monday.com).
    GraphQl(&'static str),
}

/// A named provider's defaults.
#[derive(Debug, PartialEq)]
pub struct Spec {
    pub name: &'static str,
    pub display_name: &'static str,
    pub auth_url: &'static str,
    pub token_url: &'static str,
    pub user_info_url: &'static str,
    pub scopes: &'static [&'static str],
    pub pkce: bool,
    pub keys: Keys,
    pub extra: Extra,
    /// Extra headers of the user-info request; `{clientId}` is replaced by the client id.
    pub headers: &'static [(&'static str, &'static str)],
    /// The token endpoint wants the client credentials as HTTP Basic auth, not in the body.
    pub basic_auth: bool,
}

mod table;
mod user;

pub use table::{SPECS, spec};
pub use user::{ExternalUser, UserError, parse_user, primary_email};

/// One enabled provider of a collection.
#[derive(Debug, Clone, PartialEq)]
pub struct Provider {
    pub name: String,
    pub display_name: String,
    pub client_id: String,
    pub client_secret: String,
    pub auth_url: String,
    pub token_url: String,
    /// Empty for Apple, and for an OIDC provider that reads its user from the `id_token`.
    pub user_info_url: String,
    pub scopes: Vec<String>,
    pub pkce: bool,
    /// The provider's `extra` options (`jwksURL`, `issuers` for OIDC and Apple).
    pub extra: Map<String, Json>,
    pub spec: &'static Spec,
}

impl Provider {
    /// Reads the user from the `id_token` rather than a user-info request.
    pub fn uses_id_token(&self) -> bool {
        self.spec.extra == Extra::IdToken && self.user_info_url.is_empty()
    }
    /// A text of `extra` ("" when unset).
    pub fn extra_text(&self, key: &str) -> String {
        self.extra
            .get(key)
            .and_then(Json::as_str)
            .unwrap_or("")
            .trim()
            .to_owned()
    }
    /// A list of texts of `extra` (a single text counts as a list of one).
    pub fn extra_list(&self, key: &str) -> Vec<String> {
        match self.extra.get(key) {
            Some(Json::Array(list)) => list
                .iter()
                .filter_map(Json::as_str)
                .filter(|s| !s.trim().is_empty())
                .map(|s| s.trim().to_owned())
                .collect(),
            Some(Json::String(s)) if !s.trim().is_empty() => vec![s.trim().to_owned()],
            _ => Vec::new(),
        }
    }
}

/// The collection's usable providers: known names, with a client id and every URL they need.
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

fn is_url(u: &str) -> bool {
    u.starts_with("http://") || u.starts_with("https://")
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
    let d = spec(&name)?;
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
        // The provider's default unless set (a few providers reject PKCE).
        pkce: cfg.get("pkce").and_then(Json::as_bool).unwrap_or(d.pkce),
        extra: cfg
            .get("extra")
            .and_then(Json::as_object)
            .cloned()
            .unwrap_or_default(),
        spec: d,
        name,
    };
    let user_info_ok = is_url(&p.user_info_url) || p.uses_id_token();
    let complete =
        !p.client_id.is_empty() && is_url(&p.auth_url) && is_url(&p.token_url) && user_info_ok;
    complete.then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::CollectionKind;
    use crate::schema::auth_options::PROVIDER_NAMES;
    use serde_json::json;

    fn user(name: &str, raw: Json) -> ExternalUser {
        parse_user(spec(name).expect("known provider"), &raw).expect("a user")
    }

    /// (id, name, username, email, verified, avatar)
    fn fields(u: &ExternalUser) -> (&str, &str, &str, &str, bool, &str) {
        (
            &u.id,
            &u.name,
            &u.username,
            &u.email,
            u.email_verified,
            &u.avatar_url,
        )
    }

    #[test]
    fn the_table_has_every_name_the_collection_options_accept() {
        let names: Vec<&str> = SPECS.iter().map(|s| s.name).collect();
        assert_eq!(names.len(), PROVIDER_NAMES.len());
        for n in PROVIDER_NAMES {
            assert!(names.contains(&n), "{n}");
        }
        for s in SPECS {
            let self_hosted = s.name.starts_with("oidc") || s.name == "mailcow";
            assert_eq!(s.auth_url.is_empty(), self_hosted, "{}", s.name);
            assert!(!s.display_name.is_empty(), "{}", s.name);
        }
    }

    #[test]
    fn named_providers_get_their_defaults_and_generic_oidc_needs_urls() {
        let mut c = Collection::new("users", CollectionKind::Auth);
        c.options.insert(
            "oauth2".into(),
            json!({"enabled": true, "providers": [
                {"name": "google", "clientId": "id", "clientSecret": "s"},
                {"name": "oidc", "clientId": "id"},
                {"name": "oidc2", "clientId": "id", "authURL": "http://idp/auth", "tokenURL": "http://idp/token", "userInfoURL": "http://idp/me", "displayName": "Corp"},
                {"name": "oidc3", "clientId": "id", "authURL": "http://idp/auth", "tokenURL": "http://idp/token", "extra": {"jwksURL": "http://idp/jwks"}},
                {"name": "apple", "clientId": "id"},
                {"name": "bitbucket", "clientId": "id"},
                {"name": "mailcow", "clientId": "id"},
                {"name": "unknown", "clientId": "id"},
                {"name": "github"}
            ]}),
        );
        let got = configured(&c);
        let names: Vec<(&str, &str)> = got
            .iter()
            .map(|p| (p.name.as_str(), p.display_name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("google", "Google"),
                ("oidc2", "Corp"),
                ("oidc3", "OIDC"),
                ("apple", "Apple"),
                ("bitbucket", "Bitbucket")
            ]
        );
        assert!(!got[1].uses_id_token(), "oidc2 has a user-info URL");
        assert!(got[2].uses_id_token() && got[3].uses_id_token());
        assert_eq!(got[2].extra_text("jwksURL"), "http://idp/jwks");
        assert!(!got[4].pkce, "Bitbucket rejects PKCE");
        c.options.insert(
            "oauth2".into(),
            json!({"enabled": false, "providers": [{"name": "google", "clientId": "id"}]}),
        );
        assert!(configured(&c).is_empty());
    }

    #[test]
    fn oidc_github_gitlab_facebook_and_discord_users() {
        let oidc = user(
            "oidc",
            json!({"sub": "s1", "email": "a@x.io", "email_verified": true, "name": "A", "picture": "http://p"}),
        );
        assert_eq!(fields(&oidc), ("s1", "A", "", "a@x.io", true, "http://p"));
        assert!(!user("oidc", json!({"sub": "s1", "email": "a@x.io"})).email_verified);
        assert!(!user("oidc", json!({"sub": "s", "email_verified": "false"})).email_verified);
        let gitlab = user(
            "gitlab",
            json!({"id": 5, "username": "g", "email": "a@x.io", "confirmed_at": "2020-01-01T00:00:00Z"}),
        );
        assert_eq!((gitlab.id.as_str(), gitlab.email_verified), ("5", true));
        assert!(!user("facebook", json!({"id": "9", "email": "a@x.io"})).email_verified);
        let gh = user("github", json!({"id": 42, "login": "octo"}));
        assert_eq!((gh.id.as_str(), gh.username.as_str()), ("42", "octo"));
        let discord = user(
            "discord",
            json!({"id": "7", "username": "d", "email": "a@x.io", "verified": true, "avatar": "h"}),
        );
        assert!(discord.email_verified);
        assert_eq!(
            discord.avatar_url,
            "https://cdn.discordapp.com/avatars/7/h.png"
        );
    }

    #[test]
    fn emails_lists_give_the_primary_address_and_its_verification() {
        let gh = json!([{"email": "b@x.io", "primary": false, "verified": true}, {"email": "a@x.io", "primary": true, "verified": false}]);
        assert_eq!(
            primary_email("github", &gh),
            Some(("a@x.io".to_owned(), false))
        );
        let bb = json!({"values": [{"email": "o@x.io", "is_primary": false, "is_confirmed": true}, {"email": "p@x.io", "is_primary": true, "is_confirmed": true}]});
        assert_eq!(
            primary_email("bitbucket", &bb),
            Some(("p@x.io".to_owned(), true))
        );
        let gitee = json!([{"email": "s@x.io", "state": "confirmed", "scope": ["committed"]}, {"email": "p@x.io", "state": "unconfirmed", "scope": ["primary"]}]);
        assert_eq!(
            primary_email("gitee", &gitee),
            Some(("p@x.io".to_owned(), false))
        );
        assert_eq!(primary_email("gitee", &json!({"email": "private"})), None);
    }

    #[test]
    fn nested_answers_are_read_by_pointer() {
        let twitch = user(
            "twitch",
            json!({"data": [{"id": "t1", "login": "tw", "display_name": "Tw", "email": "t@x.io", "profile_image_url": "http://i"}]}),
        );
        assert_eq!(
            fields(&twitch),
            ("t1", "Tw", "tw", "t@x.io", true, "http://i")
        );
        let patreon = user(
            "patreon",
            json!({"data": {"id": "p1", "attributes": {"full_name": "P Q", "vanity": "pq", "email": "p@x.io", "is_email_verified": false, "image_url": "http://i"}}}),
        );
        assert_eq!(
            fields(&patreon),
            ("p1", "P Q", "pq", "p@x.io", false, "http://i")
        );
        let notion = user(
            "notion",
            json!({"bot": {"owner": {"type": "user", "user": {"id": "n1", "name": "N", "avatar_url": "http://a", "person": {"email": "n@x.io"}}}}}),
        );
        assert_eq!(
            fields(&notion),
            ("n1", "N", "", "n@x.io", false, "http://a")
        );
        let trakt = user(
            "trakt",
            json!({"user": {"username": "tr", "name": "T R", "ids": {"slug": "tr", "uuid": "u-1"}, "images": {"avatar": {"full": "http://f"}}}}),
        );
        assert_eq!(fields(&trakt), ("u-1", "T R", "tr", "", false, "http://f"));
        let lark = user(
            "lark",
            json!({"code": 0, "data": {"union_id": "on_1", "name": "L", "avatar_url": "http://l"}}),
        );
        assert_eq!(fields(&lark), ("on_1", "L", "", "", false, "http://l"));
        let spotify = user(
            "spotify",
            json!({"id": "sp", "display_name": "S", "email": "unverified@x.io", "images": [{"url": "http://s"}]}),
        );
        assert_eq!(fields(&spotify), ("sp", "S", "", "", false, "http://s"));
        let insta = user(
            "instagram2",
            json!({"id": "app-scoped", "user_id": "ig1", "username": "ig", "name": "I"}),
        );
        assert_eq!(insta.id, "ig1");
        let x = user(
            "twitter",
            json!({"data": {"id": "x1", "name": "X", "username": "xx", "confirmed_email": "x@x.io"}}),
        );
        assert_eq!(fields(&x), ("x1", "X", "xx", "x@x.io", true, ""));
    }

    #[test]
    fn names_are_joined_and_numbers_become_ids() {
        let strava = user(
            "strava",
            json!({"id": 123, "firstname": "Ann", "lastname": "Lee", "username": "al", "profile": "http://p"}),
        );
        assert_eq!(
            fields(&strava),
            ("123", "Ann Lee", "al", "", false, "http://p")
        );
        let vk = user(
            "vk",
            json!({"response": [{"id": 77, "first_name": "Иван", "last_name": "", "screen_name": "ivan", "photo_max": "http://v"}]}),
        );
        assert_eq!(fields(&vk), ("77", "Иван", "ivan", "", false, "http://v"));
        let kakao = user(
            "kakao",
            json!({"id": 9, "properties": {"nickname": "k", "profile_image": "http://k"}, "kakao_account": {"email": "k@x.io", "is_email_valid": true, "is_email_verified": true}}),
        );
        assert_eq!(fields(&kakao), ("9", "", "k", "k@x.io", true, "http://k"));
        let half = user(
            "kakao",
            json!({"id": 9, "kakao_account": {"email": "k@x.io", "is_email_valid": false, "is_email_verified": true}}),
        );
        assert!(!half.email_verified, "both flags must hold");
    }

    #[test]
    fn provider_specific_fixups() {
        let yandex = user(
            "yandex",
            json!({"id": "y1", "login": "y", "real_name": "Y", "default_email": "y@ya.ru", "is_avatar_empty": false, "default_avatar_id": "av"}),
        );
        assert_eq!(
            yandex.avatar_url,
            "https://avatars.yandex.net/get-yapic/av/islands-200"
        );
        let no_avatar = user(
            "yandex",
            json!({"id": "y1", "is_avatar_empty": true, "default_avatar_id": "av"}),
        );
        assert_eq!(no_avatar.avatar_url, "");
        let waka = |public: bool| {
            user(
                "wakatime",
                json!({"data": {"id": "w", "display_name": "W", "username": "w", "email": "w@x.io", "is_email_confirmed": true, "photo": "http://w", "photo_public": public}}),
            )
        };
        assert_eq!(
            fields(&waka(true)),
            ("w", "W", "w", "w@x.io", true, "http://w")
        );
        assert_eq!(waka(false).avatar_url, "");
        let mailcow = user(
            "mailcow",
            json!({"id": "m1", "username": "me@mail.example", "email": "me@mail.example", "full_name": "Me", "active": 1}),
        );
        assert_eq!(
            fields(&mailcow),
            ("m1", "Me", "me", "me@mail.example", true, "")
        );
        let apple = user(
            "apple",
            json!({"sub": "001.abc", "email": "a@privaterelay.appleid.com", "email_verified": "true", "user": {"name": {"firstName": "Ann", "lastName": "Lee"}}}),
        );
        assert_eq!(
            fields(&apple),
            (
                "001.abc",
                "Ann Lee",
                "",
                "a@privaterelay.appleid.com",
                true,
                ""
            )
        );
    }

    #[test]
    fn inactive_accounts_and_answers_without_an_id_are_refused() {
        let s = |n| spec(n).expect("known");
        for (name, raw) in [
            (
                "bitbucket",
                json!({"uuid": "{u}", "account_status": "closed"}),
            ),
            ("box", json!({"id": "b", "status": "inactive"})),
            ("mailcow", json!({"id": "m", "active": 0})),
            (
                "linear",
                json!({"data": {"viewer": {"id": "l", "active": false}}}),
            ),
            (
                "monday",
                json!({"data": {"me": {"id": "m", "enabled": false}}}),
            ),
            (
                "planningcenter",
                json!({"data": {"id": "p", "attributes": {"status": "inactive"}}}),
            ),
        ] {
            assert_eq!(
                parse_user(s(name), &raw),
                Err(UserError::Inactive),
                "{name}"
            );
        }
        let active = parse_user(
            s("box"),
            &json!({"id": "b", "status": "active", "login": "b@x.io", "name": "B"}),
        )
        .expect("active");
        assert_eq!(
            (active.email.as_str(), active.email_verified),
            ("b@x.io", true)
        );
        assert_eq!(
            parse_user(s("twitch"), &json!({"data": []})),
            Err(UserError::NoId)
        );
        assert_eq!(
            parse_user(s("strava"), &json!({"id": 0})),
            Err(UserError::NoId)
        );
    }
}
