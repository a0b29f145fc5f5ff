//! Where in an HTML document a value lands, and how Go's `html/template` escapes it there:
//! element text and quoted attributes (`&#34;`, `&lt;`...), unquoted attributes (spaces too),
//! URL attributes (unsafe schemes become `#ZgotmplZ`, a query part is percent-encoded), event
//! handler attributes and `<script>` bodies (a JavaScript value, or inside a JavaScript
//! string its escaped text), `<style>` bodies and `style` attributes (a value that could leave
//! its CSS value becomes `ZgotmplZ`). HTML comments are left out, as Go leaves them out. The
//! context follows the template's literal text only: escaped values never change it.

use serde_json::Value as Json;

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Text,
    TagName,
    InTag,
    AttrName,
    AfterName,
    BeforeValue,
    Value(Option<char>),
    /// Inside `<script>` (true) or `<style>` (false), up to its closing tag.
    RawText(bool),
    Comment,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum UrlPart {
    Start,
    Path,
    Query,
}

#[derive(Debug, Clone)]
pub struct Context {
    state: State,
    tag: String,
    closing: bool,
    attr: String,
    url: UrlPart,
    /// Inside a JavaScript string literal (its quote), in a script or an event attribute.
    js_quote: Option<char>,
    /// The last character was a backslash inside that literal.
    js_escaped: bool,
}

impl Default for Context {
    fn default() -> Self {
        Context {
            state: State::Text,
            tag: String::new(),
            closing: false,
            attr: String::new(),
            url: UrlPart::Start,
            js_quote: None,
            js_escaped: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum AttrKind {
    Plain,
    Url,
    Js,
    Css,
}

fn attr_kind(name: &str) -> AttrKind {
    let name = name.strip_prefix("data-").unwrap_or(name);
    if name.starts_with("on") {
        return AttrKind::Js;
    }
    if name == "style" {
        return AttrKind::Css;
    }
    const URLS: [&str; 15] = [
        "action",
        "archive",
        "background",
        "cite",
        "classid",
        "codebase",
        "data",
        "formaction",
        "href",
        "icon",
        "longdesc",
        "manifest",
        "poster",
        "profile",
        "src",
    ];
    if URLS.contains(&name) || name.contains("src") || name.contains("uri") || name.contains("url")
    {
        AttrKind::Url
    } else {
        AttrKind::Plain
    }
}

impl Context {
    /// Moves the context past literal template text; the text to write (without comments).
    pub fn feed(&mut self, text: &str) -> String {
        let chars: Vec<char> = text.chars().collect();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        while i < chars.len() {
            let ch = chars[i];
            let ahead = |s: &str| {
                chars[i..]
                    .iter()
                    .take(s.len())
                    .collect::<String>()
                    .eq_ignore_ascii_case(s)
            };
            // How many characters this step reads, and whether they are written.
            let mut step = 1;
            let mut write = true;
            match self.state {
                State::Text => {
                    if ahead("<!--") {
                        self.state = State::Comment;
                        step = 4;
                        write = false;
                    } else if ch == '<'
                        && chars
                            .get(i + 1)
                            .is_some_and(|n| n.is_ascii_alphabetic() || *n == '/')
                    {
                        self.open_tag(chars[i + 1] == '/');
                        if self.closing {
                            step = 2;
                        }
                    }
                }
                State::Comment => {
                    write = false;
                    if ahead("-->") {
                        self.state = State::Text;
                        step = 3;
                    }
                }
                State::RawText(script) => {
                    let end = if script { "</script" } else { "</style" };
                    if ahead(end) {
                        self.open_tag(true);
                        step = 2;
                    } else if script {
                        self.js_char(ch);
                    }
                }
                State::TagName => match ch {
                    '>' => self.end_tag(),
                    c if c.is_whitespace() => self.state = State::InTag,
                    c => self.tag.push(c.to_ascii_lowercase()),
                },
                State::InTag => match ch {
                    '>' => self.end_tag(),
                    c if c.is_whitespace() || c == '/' => {}
                    c => {
                        self.state = State::AttrName;
                        self.attr = c.to_ascii_lowercase().to_string();
                    }
                },
                State::AttrName => match ch {
                    '>' => self.end_tag(),
                    '=' => self.state = State::BeforeValue,
                    c if c.is_whitespace() => self.state = State::AfterName,
                    c => self.attr.push(c.to_ascii_lowercase()),
                },
                State::AfterName => match ch {
                    '>' => self.end_tag(),
                    '=' => self.state = State::BeforeValue,
                    c if c.is_whitespace() => {}
                    c => {
                        self.state = State::AttrName;
                        self.attr = c.to_ascii_lowercase().to_string();
                    }
                },
                State::BeforeValue => match ch {
                    '>' => self.end_tag(),
                    '"' | '\'' => self.open_value(Some(ch)),
                    c if c.is_whitespace() => {}
                    c => {
                        self.open_value(None);
                        self.value_char(c);
                    }
                },
                State::Value(Some(q)) => {
                    if ch == q {
                        self.state = State::InTag;
                    } else {
                        self.value_char(ch);
                    }
                }
                State::Value(None) => match ch {
                    '>' => self.end_tag(),
                    c if c.is_whitespace() => self.state = State::InTag,
                    c => self.value_char(c),
                },
            }
            if write {
                out.extend(&chars[i..(i + step).min(chars.len())]);
            }
            i += step;
        }
        out
    }

    fn open_tag(&mut self, closing: bool) {
        self.state = State::TagName;
        self.tag.clear();
        self.closing = closing;
        self.js_quote = None;
        self.js_escaped = false;
    }

    fn open_value(&mut self, quote: Option<char>) {
        self.state = State::Value(quote);
        self.url = UrlPart::Start;
        self.js_quote = None;
        self.js_escaped = false;
    }

    /// Follows JavaScript string literals, in a script or an event attribute.
    fn js_char(&mut self, ch: char) {
        if self.js_escaped {
            self.js_escaped = false;
            return;
        }
        match (self.js_quote, ch) {
            (Some(_), '\\') => self.js_escaped = true,
            (Some(q), c) if c == q => self.js_quote = None,
            (None, c @ ('\'' | '"' | '`')) => self.js_quote = Some(c),
            _ => {}
        }
    }

    fn value_char(&mut self, ch: char) {
        if attr_kind(&self.attr) == AttrKind::Js {
            self.js_char(ch);
        }
        if ch == '?' || ch == '#' {
            self.url = UrlPart::Query;
        } else if self.url == UrlPart::Start {
            self.url = UrlPart::Path;
        }
    }

    fn end_tag(&mut self) {
        self.state = match (self.closing, self.tag.as_str()) {
            (false, "script") => State::RawText(true),
            (false, "style") => State::RawText(false),
            _ => State::Text,
        };
    }

    /// `value` (a string as Go prints it) escaped for where it lands; `json` is the value
    /// itself, for a JavaScript context. Moves a URL attribute past its start.
    pub fn escape(&mut self, text: &str, json: Option<&Json>) -> String {
        match self.state {
            State::RawText(true) => self.js(text, json),
            State::RawText(false) => css_value(text),
            State::Comment => String::new(),
            State::BeforeValue => {
                self.open_value(None);
                self.in_value(text, json)
            }
            State::Value(_) => self.in_value(text, json),
            _ => html(text, false),
        }
    }

    /// A value in JavaScript: inside a string literal its escaped text, else a value.
    fn js(&self, text: &str, json: Option<&Json>) -> String {
        match self.js_quote {
            Some(_) => js_string(text),
            None => js_value(text, json),
        }
    }

    fn in_value(&mut self, text: &str, json: Option<&Json>) -> String {
        let unquoted = self.state == State::Value(None);
        match attr_kind(&self.attr) {
            AttrKind::Plain => html(text, unquoted),
            AttrKind::Js => html(&self.js(text, json), unquoted),
            AttrKind::Css => html(&css_value(text), unquoted),
            AttrKind::Url => {
                let url = match self.url {
                    UrlPart::Query => percent(text, true),
                    UrlPart::Start if !safe_scheme(text) => "#ZgotmplZ".to_owned(),
                    _ => percent(text, false),
                };
                if self.url == UrlPart::Start {
                    self.url = if text.contains(['?', '#']) {
                        UrlPart::Query
                    } else {
                        UrlPart::Path
                    };
                }
                html(&url, unquoted)
            }
        }
    }
}

/// `text` with each character of `table` written as its escape, and any other as `other`
/// writes it.
fn escape_chars(text: &str, table: &[(char, &str)], other: impl Fn(char, &mut String)) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match table.iter().find(|(c, _)| *c == ch) {
            Some((_, escaped)) => out.push_str(escaped),
            None => other(ch, &mut out),
        }
    }
    out
}

/// Go's `htmlEscaper` (and `htmlNospaceEscaper` for an unquoted attribute).
pub fn html(s: &str, nospace: bool) -> String {
    const TABLE: [(char, &str); 7] = [
        ('"', "&#34;"),
        ('&', "&amp;"),
        ('\'', "&#39;"),
        ('+', "&#43;"),
        ('<', "&lt;"),
        ('>', "&gt;"),
        ('\0', "\u{FFFD}"),
    ];
    escape_chars(s, &TABLE, |c, out| {
        if nospace && (c.is_whitespace() || c == '=' || c == '`') {
            out.push_str(&format!("&#{};", u32::from(c)));
        } else {
            out.push(c);
        }
    })
}

/// A URL's scheme is one Go lets through (`http`, `https`, `mailto`, or none).
fn safe_scheme(url: &str) -> bool {
    match url.split_once(':') {
        Some((scheme, _)) if !scheme.contains('/') => ["http", "https", "mailto"]
            .iter()
            .any(|s| s.eq_ignore_ascii_case(scheme)),
        _ => true,
    }
}

/// Go's `urlEscaper` (a query part: all but unreserved characters) or `urlNormalizer` (keeps
/// the characters a URL may hold).
fn percent(s: &str, query: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (!query
                && matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'&'
                        | b'*'
                        | b'+'
                        | b','
                        | b'/'
                        | b':'
                        | b';'
                        | b'='
                        | b'?'
                        | b'@'
                        | b'['
                        | b']'
                        | b'%'
                        | b'\''
                        | b'('
                        | b')'
                ));
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

/// Go's `cssValueFilter`: a value that could leave its CSS value (quotes, parentheses,
/// slashes, braces...) or run code becomes `ZgotmplZ`.
fn css_value(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let unsafe_char = |c: char| {
        matches!(
            c,
            '\0' | '"'
                | '\''
                | '('
                | ')'
                | '/'
                | ';'
                | '@'
                | '['
                | '\\'
                | ']'
                | '`'
                | '{'
                | '}'
                | '<'
                | '>'
        )
    };
    if text.chars().any(unsafe_char) || lower.contains("expression") || lower.contains("mozbinding")
    {
        "ZgotmplZ".to_owned()
    } else {
        text.to_owned()
    }
}

/// Go's `jsStrEscaper`: text inside a JavaScript string literal.
fn js_string(text: &str) -> String {
    const TABLE: [(char, &str); 17] = [
        ('\0', "\\u0000"),
        ('\t', "\\t"),
        ('\n', "\\n"),
        ('\r', "\\r"),
        ('\u{b}', "\\u000b"),
        ('\u{c}', "\\f"),
        ('"', "\\u0022"),
        ('&', "\\u0026"),
        ('\'', "\\u0027"),
        ('+', "\\u002b"),
        ('/', "\\/"),
        ('<', "\\u003c"),
        ('>', "\\u003e"),
        ('\\', "\\\\"),
        ('`', "\\u0060"),
        ('\u{2028}', "\\u2028"),
        ('\u{2029}', "\\u2029"),
    ];
    escape_chars(text, &TABLE, |c, out| out.push(c))
}

/// Go's `jsValEscaper`: the value as JSON (`<`, `>`, `&` as `\u003c`...), set apart by
/// spaces when it starts or ends like an identifier.
fn js_value(text: &str, json: Option<&Json>) -> String {
    let encoded = match json {
        Some(v) => v.to_string(),
        None => Json::String(text.to_owned()).to_string(),
    };
    let encoded = encoded
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029");
    let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$');
    if ident(encoded.chars().next()) || ident(encoded.chars().last()) {
        format!(" {encoded} ")
    } else {
        encoded
    }
}
