//! `$template`: PocketBase renders Go's `html/template`; this is the subset hook apps use,
//! parsed and run here (no crate implements Go's template syntax with its HTML escaping).
//! Documented in `docs/hooks.md`; what it leaves out fails to parse or to run with an error,
//! never renders differently in silence.

mod escape;
mod exec;
mod parse;

use serde_json::Value as Json;

/// What `$template` asks to render: files (the first one's name is the template run, as Go's
/// `ParseFiles`) or a text.
pub enum Source<'a> {
    Files(&'a [String]),
    Text(&'a str),
}

/// Renders `source` with `data`; the error as Go words it.
pub fn render(source: Source<'_>, data: &Json) -> Result<String, String> {
    let mut set = parse::Set::default();
    let name = match source {
        Source::Text(text) => {
            parse::parse_into(&mut set, "", text)?;
            String::new()
        }
        Source::Files(paths) => {
            let Some(first) = paths.first() else {
                return Err("template: no files named in call to ParseFiles".into());
            };
            for path in paths {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    let why = match e.kind() {
                        std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
                        _ => e.to_string(),
                    };
                    format!("open {path}: {why}")
                })?;
                parse::parse_into(&mut set, base(path), &text)?;
            }
            base(first).to_owned()
        }
    };
    exec::render(&set, &name, data)
}

fn base(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(t: &str, data: Json) -> String {
        render(Source::Text(t), &data).unwrap_or_else(|e| format!("ERR: {e}"))
    }

    // Each expectation is what PocketBase 0.40.6's `$template.loadString(t).render(data)` gave.
    #[test]
    fn renders_as_go_html_template() {
        assert_eq!(text("[{{.missing}}]", json!({})), "[]");
        assert_eq!(text("[{{.a.b}}]", json!({"a": {}})), "[]");
        assert_eq!(
            text(
                "{{.i}} {{.f}} {{.big}} {{.neg}}",
                json!({"i": 3, "f": 1.5, "big": 1e21, "neg": -2})
            ),
            "3 1.5 1e&#43;21 -2"
        );
        assert_eq!(text("{{.a}}", json!({"a": [1, "x", true]})), "[1 x true]");
        assert_eq!(
            text("{{.m}}", json!({"m": {"b": 2, "a": "<"}})),
            "map[a:&lt; b:2]"
        );
        assert_eq!(
            text("{{.s}}", json!({"s": "<a href=\"x\">'&+\"</a>"})),
            "&lt;a href=&#34;x&#34;&gt;&#39;&amp;&#43;&#34;&lt;/a&gt;"
        );
        assert_eq!(
            text("<a title=\"{{.s}}\">x</a>", json!({"s": "\"<>&' +"})),
            "<a title=\"&#34;&lt;&gt;&amp;&#39; &#43;\">x</a>"
        );
        assert_eq!(
            text("<a title={{.s}}>x</a>", json!({"s": "a b"})),
            "<a title=a&#32;b>x</a>"
        );
        assert_eq!(
            text(
                "<a href=\"{{.u}}\">x</a>",
                json!({"u": "javascript:alert(1)"})
            ),
            "<a href=\"#ZgotmplZ\">x</a>"
        );
        assert_eq!(
            text("<a href=\"/p?q={{.u}}\">x</a>", json!({"u": "a b&c"})),
            "<a href=\"/p?q=a%20b%26c\">x</a>"
        );
        assert_eq!(
            text("<script>var x = {{.s}};</script>", json!({"s": "a\"b"})),
            "<script>var x = \"a\\\"b\";</script>"
        );
        assert_eq!(text("{{raw .s}}", json!({"s": "<b>"})), "<b>");
        assert_eq!(
            text(
                "{{if .a}}A{{else if .b}}B{{else}}C{{end}}",
                json!({"a": 0, "b": ""})
            ),
            "C"
        );
        assert_eq!(
            text(
                "{{range $i, $e := .l}}{{$i}}={{$e}};{{else}}none{{end}}",
                json!({"l": ["x", "y"]})
            ),
            "0=x;1=y;"
        );
        assert_eq!(
            text(
                "{{range $k, $v := .m}}{{$k}}={{$v}};{{end}}",
                json!({"m": {"b": 1, "a": 2}})
            ),
            "a=2;b=1;"
        );
        assert_eq!(
            text("{{range .l}}x{{else}}none{{end}}", json!({"l": []})),
            "none"
        );
        assert_eq!(
            text("{{with .u}}{{.name}}{{end}}", json!({"u": {"name": "n"}})),
            "n"
        );
        assert_eq!(text("a  {{- .x -}}  b", json!({"x": 1})), "a1b");
        assert_eq!(
            text(
                r#"{{len .l}} {{index .l 1}} {{eq .a 1}} {{ne .a 1}} {{lt .a 2}} {{and .a .b}} {{or .b .a}} {{not .a}} {{printf "%s-%d-%v" "x" 5 .a}} {{print "a" 1 2 "b"}}"#,
                json!({"l": [1, 2], "a": 1, "b": 0})
            ),
            "2 2 true false true 0 1 false x-5-1 a1 2b"
        );
        assert_eq!(
            text(
                "{{$x := .a}}{{$x}}{{$x = 5}}{{$x}} {{$.a}}",
                json!({"a": 1})
            ),
            "15 1"
        );
        assert_eq!(
            text(
                r#"{{define "T"}}[{{.}}]{{end}}{{template "T" .n}}"#,
                json!({"n": "<"})
            ),
            "[&lt;]"
        );
        assert_eq!(
            text(r#"{{.s | printf "%q"}}"#, json!({"s": "a"})),
            "&#34;a&#34;"
        );
        assert_eq!(text("a{{/* c */}}b", json!({})), "ab");
        assert_eq!(text("{{.}}", Json::Null), "");
        assert_eq!(
            text("{{range .l}}[{{.}}]{{end}}", json!({"l": [null, 1]})),
            "[][1]"
        );
        assert_eq!(
            text("<div data-x=\"{{.n}}\">", json!({"n": 3})),
            "<div data-x=\"3\">"
        );
        assert_eq!(text(r#"{{eq .s "a" "b"}}"#, json!({"s": "b"})), "true");
        assert_eq!(text("{{len .m}}", json!({"m": {"a": 1}})), "1");
    }

    // The same, for the other places a value may land in HTML.
    #[test]
    fn escapes_by_context_as_go() {
        assert_eq!(text("a<!-- c {{.x}} -->b", json!({"x": 1})), "ab");
        let style = "<style>p{color:{{.c}}}</style>";
        assert_eq!(
            text(style, json!({"c": "red"})),
            "<style>p{color:red}</style>"
        );
        assert_eq!(
            text(style, json!({"c": "</style><script>alert(1)</script>"})),
            "<style>p{color:ZgotmplZ}</style>"
        );
        assert_eq!(
            text(
                "<p style=\"color:{{.c}}\">",
                json!({"c": "red;background:url(x)"})
            ),
            "<p style=\"color:ZgotmplZ\">"
        );
        assert_eq!(
            text("<p style=\"color:{{.c}}\">", json!({"c": "#fff"})),
            "<p style=\"color:#fff\">"
        );
        assert_eq!(
            text(
                "<textarea>{{.c}}</textarea>",
                json!({"c": "</textarea><b>"})
            ),
            "<textarea>&lt;/textarea&gt;&lt;b&gt;</textarea>"
        );
        assert_eq!(
            text(
                "<script>var s = '{{.c}}';</script>",
                json!({"c": "a'b</script>"})
            ),
            "<script>var s = 'a\\u0027b\\u003c\\/script\\u003e';</script>"
        );
        assert_eq!(
            text("<a onclick=\"f({{.c}})\">", json!({"c": "x\"y"})),
            "<a onclick=\"f(&#34;x\\&#34;y&#34;)\">"
        );
        assert_eq!(
            text("<img src=\"/img/{{.n}}.png\">", json!({"n": 5})),
            "<img src=\"/img/5.png\">"
        );
        assert_eq!(
            text(
                "<script>var o = {{.o}};</script>",
                json!({"o": {"a": [1, "x"], "b": null}})
            ),
            "<script>var o = {\"a\":[1,\"x\"],\"b\":null};</script>"
        );
    }

    #[test]
    fn errors_as_go_words_them() {
        assert!(text("{{if}}", json!({})).contains("missing value for if"));
        assert!(
            text("{{.a.b.c}}", json!({"a": null}))
                .contains("nil pointer evaluating interface {}.b")
        );
        assert!(text("{{if .a}}x", json!({})).starts_with("ERR: "));
        assert!(text("{{nope 1}}", json!({})).starts_with("ERR: "));
    }
}
