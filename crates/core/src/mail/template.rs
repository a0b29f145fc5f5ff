//! Email templates: PocketBase's placeholders (`{APP_NAME}`, `{APP_URL}`, `{TOKEN}`, `{OTP}`,
//! `{ALERT_INFO}`, `{RECORD:field}`) replaced by values, HTML-escaped in bodies.

use serde_json::Value as Json;

use super::Message;

/// A template from collection options: `{"subject": ..., "body": ...}`.
#[derive(Debug, Clone, Default)]
pub struct Template {
    pub subject: String,
    pub body: String,
}

impl Template {
    pub fn from_json(v: &Json) -> Template {
        let s = |k: &str| v.get(k).and_then(Json::as_str).unwrap_or("").to_owned();
        Template {
            subject: s("subject"),
            body: s("body"),
        }
    }

    /// The message to `to`, placeholders filled from `vars` (name without braces, value).
    pub fn render(&self, to: &str, vars: &[(&str, &str)]) -> Message {
        Message {
            to: to.to_owned(),
            subject: fill(&self.subject, vars, false),
            html: fill(&self.body, vars, true),
            about: None,
        }
    }
}

fn fill(text: &str, vars: &[(&str, &str)], html: bool) -> String {
    let mut out = text.to_owned();
    for (name, value) in vars {
        let value = if html {
            escape(value)
        } else {
            (*value).to_owned()
        };
        out = out.replace(&format!("{{{name}}}"), &value);
    }
    out
}

/// HTML-escapes a value put into a body.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A plain-text version of an HTML body: tags dropped, `href`s kept after their link text.
pub fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            break;
        };
        let tag = &rest[start..start + end + 1];
        if let Some(href) = tag
            .split("href=\"")
            .nth(1)
            .and_then(|h| h.split('"').next())
        {
            out.push_str(href);
            out.push(' ');
        }
        if tag.starts_with("</p") || tag.starts_with("<br") {
            out.push('\n');
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placeholders_are_filled_and_escaped_in_the_body_only() {
        let t = Template::from_json(
            &json!({"subject": "Verify {APP_NAME}", "body": "<a href=\"{APP_URL}/#/{TOKEN}\">{APP_NAME}</a>"}),
        );
        let m = t.render(
            "a@example.com",
            &[
                ("APP_NAME", "A&B"),
                ("APP_URL", "http://x"),
                ("TOKEN", "t.k.n"),
            ],
        );
        assert_eq!(m.to, "a@example.com");
        assert_eq!(m.subject, "Verify A&B");
        assert_eq!(m.html, "<a href=\"http://x/#/t.k.n\">A&amp;B</a>");
    }

    #[test]
    fn plain_text_keeps_links_and_text() {
        assert_eq!(
            plain_text("<p>Hi &amp; bye</p><a href=\"http://x/t\">Go</a>"),
            "Hi & bye\nhttp://x/t Go"
        );
    }
}
