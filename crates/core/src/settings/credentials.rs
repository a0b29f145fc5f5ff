//! Passwords inside the broker targets' URLs (`brokers.targets[].url`, such as
//! `amqp://user:password@host`): shown as `******`, like the other secrets are left out, and
//! kept when an update sends the masked URL back (a dashboard saving what it was shown).

use serde_json::Value as Json;

/// What a password reads as in the API's output.
const MASK: &str = "******";

/// The byte range of the password in `url`'s user info, when there is one.
fn password(url: &str) -> Option<std::ops::Range<usize>> {
    let start = url.find("://")? + 3;
    let end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    let at = start + url[start..end].rfind('@')?;
    let colon = start + url[start..at].find(':')?;
    Some(colon + 1..at)
}

fn targets(settings: &mut Json) -> impl Iterator<Item = &mut Json> {
    settings
        .pointer_mut("/brokers/targets")
        .and_then(Json::as_array_mut)
        .into_iter()
        .flatten()
}

/// Masks the password of every target's URL.
pub(super) fn mask(settings: &mut Json) {
    for target in targets(settings) {
        if let Some(url) = target["url"].as_str()
            && let Some(range) = password(url)
            && !range.is_empty()
        {
            let mut masked = url.to_owned();
            masked.replace_range(range, MASK);
            target["url"] = Json::String(masked);
        }
    }
}

/// Puts back, in `next`, the password of each target whose URL carries the mask, from the
/// target of the same name in `current`.
pub(super) fn restore(current: &Json, next: &mut Json) {
    let stored = |name: &str| {
        current
            .pointer("/brokers/targets")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .find(|t| t["name"].as_str() == Some(name))
            .and_then(|t| t["url"].as_str())
            .and_then(|url| password(url).map(|r| url[r].to_owned()))
    };
    for target in targets(next) {
        let (Some(name), Some(url)) = (target["name"].as_str(), target["url"].as_str()) else {
            continue;
        };
        if let Some(range) = password(url)
            && &url[range.clone()] == MASK
            && let Some(secret) = stored(name)
        {
            let mut full = url.to_owned();
            full.replace_range(range, &secret);
            target["url"] = Json::String(full);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_password_is_masked_and_restored_by_target_name() {
        let current = json!({"brokers": {"targets": [
            {"name": "mq", "url": "amqp://guest:s3cr:et@127.0.0.1:5672/%2f"},
            {"name": "r", "url": "redis://:pw@host/0"},
            {"name": "n", "url": "nats://127.0.0.1:4222"}
        ]}});
        let mut shown = current.clone();
        mask(&mut shown);
        assert_eq!(
            shown["brokers"]["targets"][0]["url"],
            "amqp://guest:******@127.0.0.1:5672/%2f"
        );
        assert_eq!(
            shown["brokers"]["targets"][1]["url"],
            "redis://:******@host/0"
        );
        assert_eq!(
            shown["brokers"]["targets"][2]["url"],
            "nats://127.0.0.1:4222"
        );
        restore(&current, &mut shown);
        assert_eq!(shown, current);
    }
}
