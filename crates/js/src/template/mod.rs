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

    /// Each case: a template, its data (JSON) and what PocketBase 0.40.6's
    /// `$template.loadString(template).render(data)` gave.
    const CASES: &[[&str; 3]] = &[
        ["[{{.missing}}]", "{}", "[]"],
        ["[{{.a.b}}]", r#"{"a": {}}"#, "[]"],
        [
            "{{.i}} {{.f}} {{.big}} {{.neg}}",
            r#"{"i": 3, "f": 1.5, "big": 1e21, "neg": -2}"#,
            "3 1.5 1e&#43;21 -2",
        ],
        ["{{.a}}", r#"{"a": [1, "x", true]}"#, "[1 x true]"],
        ["{{.m}}", r#"{"m": {"b": 2, "a": "<"}}"#, "map[a:&lt; b:2]"],
        [
            "{{.s}}",
            r#"{"s": "<a href=\"x\">'&+\"</a>"}"#,
            "&lt;a href=&#34;x&#34;&gt;&#39;&amp;&#43;&#34;&lt;/a&gt;",
        ],
        [
            r#"<a title="{{.s}}">x</a>"#,
            r#"{"s": "\"<>&' +"}"#,
            r#"<a title="&#34;&lt;&gt;&amp;&#39; &#43;">x</a>"#,
        ],
        [
            "<a title={{.s}}>x</a>",
            r#"{"s": "a b"}"#,
            "<a title=a&#32;b>x</a>",
        ],
        [
            r#"<a href="{{.u}}">x</a>"#,
            r#"{"u": "javascript:alert(1)"}"#,
            r##"<a href="#ZgotmplZ">x</a>"##,
        ],
        [
            r#"<a href="/p?q={{.u}}">x</a>"#,
            r#"{"u": "a b&c"}"#,
            r#"<a href="/p?q=a%20b%26c">x</a>"#,
        ],
        [
            "<script>var x = {{.s}};</script>",
            r#"{"s": "a\"b"}"#,
            r#"<script>var x = "a\"b";</script>"#,
        ],
        ["{{raw .s}}", r#"{"s": "<b>"}"#, "<b>"],
        [
            "{{if .a}}A{{else if .b}}B{{else}}C{{end}}",
            r#"{"a": 0, "b": ""}"#,
            "C",
        ],
        [
            "{{range $i, $e := .l}}{{$i}}={{$e}};{{else}}none{{end}}",
            r#"{"l": ["x", "y"]}"#,
            "0=x;1=y;",
        ],
        [
            "{{range $k, $v := .m}}{{$k}}={{$v}};{{end}}",
            r#"{"m": {"b": 1, "a": 2}}"#,
            "a=2;b=1;",
        ],
        ["{{range .l}}x{{else}}none{{end}}", r#"{"l": []}"#, "none"],
        [
            "{{with .u}}{{.name}}{{end}}",
            r#"{"u": {"name": "n"}}"#,
            "n",
        ],
        ["a  {{- .x -}}  b", r#"{"x": 1}"#, "a1b"],
        [
            r#"{{len .l}} {{index .l 1}} {{eq .a 1}} {{ne .a 1}} {{lt .a 2}} {{and .a .b}} {{or .b .a}} {{not .a}} {{printf "%s-%d-%v" "x" 5 .a}} {{print "a" 1 2 "b"}}"#,
            r#"{"l": [1, 2], "a": 1, "b": 0}"#,
            "2 2 true false true 0 1 false x-5-1 a1 2b",
        ],
        [
            "{{$x := .a}}{{$x}}{{$x = 5}}{{$x}} {{$.a}}",
            r#"{"a": 1}"#,
            "15 1",
        ],
        [
            r#"{{define "T"}}[{{.}}]{{end}}{{template "T" .n}}"#,
            r#"{"n": "<"}"#,
            "[&lt;]",
        ],
        [r#"{{.s | printf "%q"}}"#, r#"{"s": "a"}"#, "&#34;a&#34;"],
        ["a{{/* c */}}b", "{}", "ab"],
        ["{{.}}", "null", ""],
        ["{{range .l}}[{{.}}]{{end}}", r#"{"l": [null, 1]}"#, "[][1]"],
        [
            r#"<div data-x="{{.n}}">"#,
            r#"{"n": 3}"#,
            r#"<div data-x="3">"#,
        ],
        [r#"{{eq .s "a" "b"}}"#, r#"{"s": "b"}"#, "true"],
        ["{{len .m}}", r#"{"m": {"a": 1}}"#, "1"],
        // Other places a value may land in HTML.
        ["a<!-- c {{.x}} -->b", r#"{"x": 1}"#, "ab"],
        [
            "<style>p{color:{{.c}}}</style>",
            r#"{"c": "red"}"#,
            "<style>p{color:red}</style>",
        ],
        [
            "<style>p{color:{{.c}}}</style>",
            r#"{"c": "</style><script>alert(1)</script>"}"#,
            "<style>p{color:ZgotmplZ}</style>",
        ],
        [
            r#"<p style="color:{{.c}}">"#,
            r#"{"c": "red;background:url(x)"}"#,
            r#"<p style="color:ZgotmplZ">"#,
        ],
        [
            r#"<p style="color:{{.c}}">"#,
            r##"{"c": "#fff"}"##,
            r#"<p style="color:#fff">"#,
        ],
        [
            "<textarea>{{.c}}</textarea>",
            r#"{"c": "</textarea><b>"}"#,
            "<textarea>&lt;/textarea&gt;&lt;b&gt;</textarea>",
        ],
        [
            "<script>var s = '{{.c}}';</script>",
            r#"{"c": "a'b</script>"}"#,
            r"<script>var s = 'a\u0027b\u003c\/script\u003e';</script>",
        ],
        [
            r#"<a onclick="f({{.c}})">"#,
            r#"{"c": "x\"y"}"#,
            r#"<a onclick="f(&#34;x\&#34;y&#34;)">"#,
        ],
        [
            r#"<img src="/img/{{.n}}.png">"#,
            r#"{"n": 5}"#,
            r#"<img src="/img/5.png">"#,
        ],
        [
            "<script>var o = {{.o}};</script>",
            r#"{"o": {"a": [1, "x"], "b": null}}"#,
            r#"<script>var o = {"a":[1,"x"],"b":null};</script>"#,
        ],
    ];

    fn text(t: &str, data: &str) -> String {
        let data: Json = serde_json::from_str(data).expect("test data");
        render(Source::Text(t), &data).unwrap_or_else(|e| format!("ERR: {e}"))
    }

    #[test]
    fn renders_and_escapes_as_go_html_template() {
        for [template, data, expected] in CASES {
            assert_eq!(text(template, data), *expected, "{template}");
        }
    }

    #[test]
    fn errors_as_go_words_them() {
        assert!(text("{{if}}", "{}").contains("missing value for if"));
        assert!(
            text("{{.a.b.c}}", r#"{"a": null}"#).contains("nil pointer evaluating interface {}.b")
        );
        assert!(text("{{if .a}}x", "{}").starts_with("ERR: "));
        assert!(text("{{nope 1}}", "{}").starts_with("ERR: "));
    }
}
