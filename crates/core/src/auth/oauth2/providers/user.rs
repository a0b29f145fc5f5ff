//! Reading a provider's user answer into one shape, with its spec's keys.

use serde_json::Value as Json;

use super::{Spec, Verified};

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
