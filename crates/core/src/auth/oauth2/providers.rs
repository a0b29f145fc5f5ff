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

const OIDC_KEYS: Keys = Keys {
    id: "/sub",
    name: &["/name"],
    username: "/preferred_username",
    email: "/email",
    verified: Verified::Claims(&["/email_verified"]),
    avatar: "/picture",
    active: None,
};
const NO_KEYS: Keys = Keys {
    id: "/id",
    name: &[],
    username: "",
    email: "",
    verified: Verified::Unknown,
    avatar: "",
    active: None,
};
const BASE: Spec = Spec {
    name: "",
    display_name: "",
    auth_url: "",
    token_url: "",
    user_info_url: "",
    scopes: &[],
    pkce: true,
    keys: OIDC_KEYS,
    extra: Extra::None,
    headers: &[],
    basic_auth: false,
};
const OIDC_SCOPES: &[&str] = &["openid", "email", "profile"];
const OIDC: Spec = Spec {
    display_name: "OIDC",
    scopes: OIDC_SCOPES,
    extra: Extra::IdToken,
    ..BASE
};

/// PB-COMPAT: the providers of PocketBase 0.40 (`tools/auth/*.go`), by name, with its URLs,
/// scopes and user fields. Where PocketBase drops an address it cannot vouch for, oxbase keeps
/// it as unverified (the record gets it, unverified; see `link` for what that allows).
pub const SPECS: &[Spec] = &[
    Spec {
        name: "google",
        display_name: "Google",
        auth_url: "https://accounts.google.com/o/oauth2/v2/auth",
        token_url: "https://oauth2.googleapis.com/token",
        user_info_url: "https://www.googleapis.com/oauth2/v3/userinfo",
        scopes: OIDC_SCOPES,
        ..BASE
    },
    Spec {
        name: "microsoft",
        display_name: "Microsoft",
        auth_url: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
        token_url: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        user_info_url: "https://graph.microsoft.com/oidc/userinfo",
        scopes: OIDC_SCOPES,
        ..BASE
    },
    Spec {
        name: "github",
        display_name: "GitHub",
        auth_url: "https://github.com/login/oauth/authorize",
        token_url: "https://github.com/login/oauth/access_token",
        user_info_url: "https://api.github.com/user",
        scopes: &["read:user", "user:email"],
        keys: Keys {
            name: &["/name"],
            username: "/login",
            avatar: "/avatar_url",
            ..NO_KEYS
        },
        extra: Extra::Emails,
        ..BASE
    },
    Spec {
        name: "gitlab",
        display_name: "GitLab",
        auth_url: "https://gitlab.com/oauth/authorize",
        token_url: "https://gitlab.com/oauth/token",
        user_info_url: "https://gitlab.com/api/v4/user",
        scopes: &["read_user"],
        keys: Keys {
            name: &["/name"],
            username: "/username",
            email: "/email",
            verified: Verified::Claims(&["/confirmed_at"]),
            avatar: "/avatar_url",
            ..NO_KEYS
        },
        ..BASE
    },
    Spec {
        name: "discord",
        display_name: "Discord",
        auth_url: "https://discord.com/api/oauth2/authorize",
        token_url: "https://discord.com/api/oauth2/token",
        user_info_url: "https://discord.com/api/users/@me",
        scopes: &["identify", "email"],
        // The avatar URL is built from `avatar` (see `finish_user`).
        keys: Keys {
            name: &["/global_name"],
            username: "/username",
            email: "/email",
            verified: Verified::Claims(&["/verified"]),
            ..NO_KEYS
        },
        ..BASE
    },
    Spec {
        name: "facebook",
        display_name: "Facebook",
        auth_url: "https://www.facebook.com/v18.0/dialog/oauth",
        token_url: "https://graph.facebook.com/v18.0/oauth/access_token",
        user_info_url: "https://graph.facebook.com/me?fields=name,email,picture.type(large)",
        scopes: &["email"],
        keys: Keys {
            name: &["/name"],
            email: "/email",
            avatar: "/picture/data/url",
            ..NO_KEYS
        },
        ..BASE
    },
    // Apple has no user-info endpoint: the user is in the `id_token`, its name only in the
    // `user` field of the first redirect (see `exchange::fetch_user`).
    Spec {
        name: "apple",
        display_name: "Apple",
        auth_url: "https://appleid.apple.com/auth/authorize",
        token_url: "https://appleid.apple.com/auth/token",
        scopes: &["name", "email"],
        keys: Keys {
            username: "",
            avatar: "",
            ..OIDC_KEYS
        },
        extra: Extra::IdToken,
        ..BASE
    },
    Spec {
        name: "bitbucket",
        display_name: "Bitbucket",
        auth_url: "https://bitbucket.org/site/oauth2/authorize",
        token_url: "https://bitbucket.org/site/oauth2/access_token",
        user_info_url: "https://api.bitbucket.org/2.0/user",
        scopes: &["account"],
        pkce: false,
        keys: Keys {
            id: "/uuid",
            name: &["/display_name"],
            username: "/username",
            avatar: "/links/avatar/href",
            active: Some(("/account_status", "active")),
            ..NO_KEYS
        },
        extra: Extra::Emails,
        ..BASE
    },
    Spec {
        name: "gitee",
        display_name: "Gitee",
        auth_url: "https://gitee.com/oauth/authorize",
        token_url: "https://gitee.com/oauth/token",
        user_info_url: "https://gitee.com/api/v5/user",
        scopes: &["user_info", "emails"],
        keys: Keys {
            name: &["/name"],
            username: "/login",
            email: "/email",
            avatar: "/avatar_url",
            ..NO_KEYS
        },
        extra: Extra::Emails,
        ..BASE
    },
    Spec {
        name: "gitea",
        display_name: "Gitea/Forgejo",
        auth_url: "https://gitea.com/login/oauth/authorize",
        token_url: "https://gitea.com/login/oauth/access_token",
        user_info_url: "https://gitea.com/api/v1/user",
        scopes: &["read:user", "user:email"],
        keys: Keys {
            name: &["/full_name"],
            username: "/login",
            email: "/email",
            avatar: "/avatar_url",
            ..NO_KEYS
        },
        ..BASE
    },
    Spec {
        name: "kakao",
        display_name: "Kakao",
        auth_url: "https://kauth.kakao.com/oauth/authorize",
        token_url: "https://kauth.kakao.com/oauth/token",
        user_info_url: "https://kapi.kakao.com/v2/user/me",
        scopes: &["account_email", "profile_nickname", "profile_image"],
        keys: Keys {
            username: "/properties/nickname",
            email: "/kakao_account/email",
            verified: Verified::Claims(&[
                "/kakao_account/is_email_valid",
                "/kakao_account/is_email_verified",
            ]),
            avatar: "/properties/profile_image",
            ..NO_KEYS
        },
        ..BASE
    },
    Spec {
        name: "livechat",
        display_name: "LiveChat",
        auth_url: "https://accounts.livechat.com/",
        token_url: "https://accounts.livechat.com/token",
        user_info_url: "https://accounts.livechat.com/v2/accounts/me",
        keys: Keys {
            id: "/account_id",
            name: &["/name"],
            email: "/email",
            verified: Verified::Claims(&["/email_verified"]),
            avatar: "/avatar_url",
            ..NO_KEYS
        },
        ..BASE
    },
    // Self-hosted: every URL comes from the configuration.
    Spec {
        name: "mailcow",
        display_name: "mailcow",
        scopes: &["profile"],
        keys: Keys {
            name: &["/full_name"],
            username: "/username",
            email: "/email",
            verified: Verified::Trusted,
            active: Some(("/active", "1")),
            ..NO_KEYS
        },
        ..BASE
    },
    Spec {
        name: "patreon",
        display_name: "Patreon",
        auth_url: "https://www.patreon.com/oauth2/authorize",
        token_url: "https://www.patreon.com/api/oauth2/token",
        user_info_url: "https://www.patreon.com/api/oauth2/v2/identity?fields%5Buser%5D=full_name,email,vanity,image_url,is_email_verified",
        scopes: &["identity", "identity[email]"],
        keys: Keys {
            id: "/data/id",
            name: &["/data/attributes/full_name"],
            username: "/data/attributes/vanity",
            email: "/data/attributes/email",
            verified: Verified::Claims(&["/data/attributes/is_email_verified"]),
            avatar: "/data/attributes/image_url",
            ..NO_KEYS
        },
        ..BASE
    },
    // PB-COMPAT: Spotify's address is unverified and PocketBase does not read it; neither do we.
    Spec {
        name: "spotify",
        display_name: "Spotify",
        auth_url: "https://accounts.spotify.com/authorize",
        token_url: "https://accounts.spotify.com/api/token",
        user_info_url: "https://api.spotify.com/v1/me",
        scopes: &["user-read-private"],
        keys: Keys {
            name: &["/display_name"],
            avatar: "/images/0/url",
            ..NO_KEYS
        },
        ..BASE
    },
    Spec {
        name: "strava",
        display_name: "Strava",
        auth_url: "https://www.strava.com/oauth/authorize",
        token_url: "https://www.strava.com/api/v3/oauth/token",
        user_info_url: "https://www.strava.com/api/v3/athlete",
        scopes: &["profile:read_all"],
        keys: Keys {
            name: &["/firstname", "/lastname"],
            username: "/username",
            avatar: "/profile",
            ..NO_KEYS
        },
        ..BASE
    },
    Spec {
        name: "twitch",
        display_name: "Twitch",
        auth_url: "https://id.twitch.tv/oauth2/authorize",
        token_url: "https://id.twitch.tv/oauth2/token",
        user_info_url: "https://api.twitch.tv/helix/users",
        scopes: &["user:read:email"],
        keys: Keys {
            id: "/data/0/id",
            name: &["/data/0/display_name"],
            username: "/data/0/login",
            email: "/data/0/email",
            verified: Verified::Trusted,
            avatar: "/data/0/profile_image_url",
            ..NO_KEYS
        },
        headers: &[("Client-Id", "{clientId}")],
        ..BASE
    },
    // X (Twitter) wants confidential clients to authenticate with HTTP Basic.
    Spec {
        name: "twitter",
        display_name: "X/Twitter",
        auth_url: "https://x.com/i/oauth2/authorize",
        token_url: "https://api.x.com/2/oauth2/token",
        user_info_url: "https://api.x.com/2/users/me?user.fields=id,name,username,profile_image_url,confirmed_email",
        scopes: &["users.read", "users.email", "tweet.read"],
        // `confirmed_email`: X reports only an address its user confirmed.
        keys: Keys {
            id: "/data/id",
            name: &["/data/name"],
            username: "/data/username",
            email: "/data/confirmed_email",
            verified: Verified::Trusted,
            avatar: "/data/profile_image_url",
            ..NO_KEYS
        },
        basic_auth: true,
        ..BASE
    },
    // VK gives the address in the token response (see `exchange::fetch_user`).
    Spec {
        name: "vk",
        display_name: "ВКонтакте",
        auth_url: "https://oauth.vk.com/authorize",
        token_url: "https://oauth.vk.com/access_token",
        user_info_url: "https://api.vk.com/method/users.get?fields=photo_max,screen_name&v=5.131",
        scopes: &["email"],
        pkce: false,
        keys: Keys {
            id: "/response/0/id",
            name: &["/response/0/first_name", "/response/0/last_name"],
            username: "/response/0/screen_name",
            avatar: "/response/0/photo_max",
            ..NO_KEYS
        },
        ..BASE
    },
    // The avatar URL is built from `default_avatar_id` (see `finish_user`).
    Spec {
        name: "yandex",
        display_name: "Yandex",
        auth_url: "https://oauth.yandex.com/authorize",
        token_url: "https://oauth.yandex.com/token",
        user_info_url: "https://login.yandex.ru/info",
        scopes: &["login:email", "login:avatar", "login:info"],
        keys: Keys {
            name: &["/real_name"],
            username: "/login",
            email: "/default_email",
            ..NO_KEYS
        },
        ..BASE
    },
    // Box requires a verified address to authorize: its login is one.
    Spec {
        name: "box",
        display_name: "Box",
        auth_url: "https://account.box.com/api/oauth2/authorize",
        token_url: "https://api.box.com/oauth2/token",
        user_info_url: "https://api.box.com/2.0/users/me",
        scopes: &["root_readonly"],
        keys: Keys {
            name: &["/name"],
            email: "/login",
            verified: Verified::Trusted,
            avatar: "/avatar_url",
            active: Some(("/status", "active")),
            ..NO_KEYS
        },
        ..BASE
    },
    // PB-COMPAT: "instagram2", PocketBase's name for Instagram Login ("instagram" was the old,
    // removed Basic Display API). PocketBase also copies the granted `permissions` of the token
    // response into `rawUser`; oxbase does not.
    Spec {
        name: "instagram2",
        display_name: "Instagram",
        auth_url: "https://www.instagram.com/oauth/authorize",
        token_url: "https://api.instagram.com/oauth/access_token",
        user_info_url: "https://graph.instagram.com/me?fields=id,username,account_type,user_id,name,profile_picture_url,followers_count,follows_count,media_count",
        scopes: &["instagram_business_basic"],
        keys: Keys {
            id: "/user_id",
            name: &["/name"],
            username: "/username",
            avatar: "/profile_picture_url",
            ..NO_KEYS
        },
        ..BASE
    },
    // Lark (feishu.cn by default; override the URLs for larksuite.com).
    Spec {
        name: "lark",
        display_name: "Lark",
        auth_url: "https://accounts.feishu.cn/open-apis/authen/v1/authorize",
        token_url: "https://open.feishu.cn/open-apis/authen/v2/oauth/token",
        user_info_url: "https://open.feishu.cn/open-apis/authen/v1/user_info",
        keys: Keys {
            id: "/data/union_id",
            name: &["/data/name"],
            avatar: "/data/avatar_url",
            ..NO_KEYS
        },
        ..BASE
    },
    Spec {
        name: "linear",
        display_name: "Linear",
        auth_url: "https://linear.app/oauth/authorize",
        token_url: "https://api.linear.app/oauth/token",
        user_info_url: "https://api.linear.app/graphql",
        scopes: &["read"],
        pkce: false,
        keys: Keys {
            id: "/data/viewer/id",
            name: &["/data/viewer/name"],
            username: "/data/viewer/displayName",
            email: "/data/viewer/email",
            avatar: "/data/viewer/avatarUrl",
            active: Some(("/data/viewer/active", "true")),
            ..NO_KEYS
        },
        extra: Extra::GraphQl("query Me { viewer { id displayName name email avatarUrl active } }"),
        ..BASE
    },
    // Notion wants HTTP Basic client auth at its token endpoint and a version header.
    Spec {
        name: "notion",
        display_name: "Notion",
        auth_url: "https://api.notion.com/v1/oauth/authorize",
        token_url: "https://api.notion.com/v1/oauth/token",
        user_info_url: "https://api.notion.com/v1/users/me",
        keys: Keys {
            id: "/bot/owner/user/id",
            name: &["/bot/owner/user/name"],
            email: "/bot/owner/user/person/email",
            avatar: "/bot/owner/user/avatar_url",
            ..NO_KEYS
        },
        headers: &[("Notion-Version", "2022-06-28")],
        basic_auth: true,
        ..BASE
    },
    // PB-COMPAT: PocketBase does not read Planning Center's addresses (several, unverified).
    Spec {
        name: "planningcenter",
        display_name: "Planning Center",
        auth_url: "https://api.planningcenteronline.com/oauth/authorize",
        token_url: "https://api.planningcenteronline.com/oauth/token",
        user_info_url: "https://api.planningcenteronline.com/people/v2/me",
        scopes: &["people"],
        keys: Keys {
            id: "/data/id",
            name: &["/data/attributes/name"],
            avatar: "/data/attributes/avatar",
            active: Some(("/data/attributes/status", "active")),
            ..NO_KEYS
        },
        ..BASE
    },
    Spec {
        name: "monday",
        display_name: "monday.com",
        auth_url: "https://auth.monday.com/oauth2/authorize",
        token_url: "https://auth.monday.com/oauth2/token",
        user_info_url: "https://api.monday.com/v2",
        scopes: &["me:read"],
        keys: Keys {
            id: "/data/me/id",
            name: &["/data/me/name"],
            email: "/data/me/email",
            verified: Verified::Claims(&["/data/me/is_verified"]),
            avatar: "/data/me/photo_small",
            active: Some(("/data/me/enabled", "true")),
            ..NO_KEYS
        },
        extra: Extra::GraphQl("query { me { id enabled name email is_verified photo_small }}"),
        ..BASE
    },
    Spec {
        name: "trakt",
        display_name: "Trakt",
        auth_url: "https://trakt.tv/oauth/authorize",
        token_url: "https://api.trakt.tv/oauth/token",
        user_info_url: "https://api.trakt.tv/users/settings",
        keys: Keys {
            id: "/user/ids/uuid",
            name: &["/user/name"],
            username: "/user/username",
            avatar: "/user/images/avatar/full",
            ..NO_KEYS
        },
        headers: &[("trakt-api-key", "{clientId}"), ("trakt-api-version", "2")],
        ..BASE
    },
    // The photo is used only when public (see `finish_user`).
    Spec {
        name: "wakatime",
        display_name: "WakaTime",
        auth_url: "https://wakatime.com/oauth/authorize",
        token_url: "https://wakatime.com/oauth/token",
        user_info_url: "https://wakatime.com/api/v1/users/current",
        scopes: &["email"],
        keys: Keys {
            id: "/data/id",
            name: &["/data/display_name"],
            username: "/data/username",
            email: "/data/email",
            verified: Verified::Claims(&["/data/is_email_confirmed"]),
            avatar: "/data/photo",
            ..NO_KEYS
        },
        ..BASE
    },
    Spec {
        name: "oidc",
        ..OIDC
    },
    Spec {
        name: "oidc2",
        ..OIDC
    },
    Spec {
        name: "oidc3",
        ..OIDC
    },
];

/// The defaults of a provider name PocketBase knows.
pub fn spec(name: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.name == name)
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

/// A scalar as text: strings as they are, numbers and booleans written out.
fn scalar(raw: &Json, ptr: &str) -> String {
    match raw.pointer(ptr).filter(|_| !ptr.is_empty()) {
        Some(Json::String(v)) => v.trim().to_owned(),
        Some(Json::Number(n)) => n.to_string(),
        Some(Json::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

fn truthy(raw: &Json, ptr: &str) -> bool {
    let v = scalar(raw, ptr);
    !v.is_empty() && v != "false" && v != "0"
}

/// Why a provider's answer is not a user we can sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserError {
    NoId,
    Inactive,
}

/// Reads a provider's user answer with its spec's keys.
pub fn parse_user(spec: &Spec, raw: &Json) -> Result<ExternalUser, UserError> {
    let k = &spec.keys;
    if let Some((ptr, expected)) = k.active
        && scalar(raw, ptr) != expected
    {
        return Err(UserError::Inactive);
    }
    let name = k
        .name
        .iter()
        .map(|p| scalar(raw, p))
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let mut u = ExternalUser {
        id: scalar(raw, k.id),
        name,
        username: scalar(raw, k.username),
        email: scalar(raw, k.email),
        email_verified: match k.verified {
            Verified::Unknown => false,
            Verified::Trusted => true,
            Verified::Claims(ptrs) => ptrs.iter().all(|p| truthy(raw, p)),
        },
        avatar_url: scalar(raw, k.avatar),
        raw: raw.clone(),
    };
    finish_user(spec.name, raw, &mut u);
    if u.id.is_empty() || u.id == "0" {
        return Err(UserError::NoId);
    }
    Ok(u)
}

/// The few values no pointer reaches.
fn finish_user(provider: &str, raw: &Json, u: &mut ExternalUser) {
    match provider {
        "discord" => {
            let hash = scalar(raw, "/avatar");
            if !hash.is_empty() {
                u.avatar_url = format!("https://cdn.discordapp.com/avatars/{}/{hash}.png", u.id);
            }
        }
        "yandex" => {
            let id = scalar(raw, "/default_avatar_id");
            if !truthy(raw, "/is_avatar_empty") && !id.is_empty() {
                u.avatar_url = format!("https://avatars.yandex.net/get-yapic/{id}/islands-200");
            }
        }
        "wakatime" if !truthy(raw, "/data/photo_public") => u.avatar_url.clear(),
        // mailcow's usernames are addresses: the part before the @.
        "mailcow" => {
            if let Some((local, _)) = u.username.split_once('@') {
                u.username = local.to_owned();
            }
        }
        // Apple sends the name only once, in the redirect's `user` field (merged into the
        // claims as `user`).
        "apple" if u.name.is_empty() => {
            u.name = [
                scalar(raw, "/user/name/firstName"),
                scalar(raw, "/user/name/lastName"),
            ]
            .join(" ")
            .trim()
            .to_owned();
        }
        _ => {}
    }
}

/// The verified primary address of an `emails` answer (GitHub, Bitbucket, Gitee shapes), and
/// whether the provider says it is verified.
pub fn primary_email(provider: &str, emails: &Json) -> Option<(String, bool)> {
    let list = match provider {
        "bitbucket" => emails.get("values")?.as_array()?,
        _ => emails.as_array()?,
    };
    list.iter().find_map(|e| {
        let email = e.get("email")?.as_str()?.to_owned();
        let (primary, verified) = match provider {
            "bitbucket" => (truthy(e, "/is_primary"), truthy(e, "/is_confirmed")),
            "gitee" => (
                e.get("scope")
                    .and_then(Json::as_array)
                    .is_some_and(|s| s.iter().any(|v| v == "primary")),
                scalar(e, "/state") == "confirmed",
            ),
            _ => (truthy(e, "/primary"), truthy(e, "/verified")),
        };
        primary.then_some((email, verified))
    })
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
