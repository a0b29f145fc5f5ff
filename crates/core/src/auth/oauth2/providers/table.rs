//! The named providers' defaults, one `Spec` each: URLs, scopes, and where their user answer
//! keeps each value.

use super::{Extra, Keys, Spec, Verified};

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
