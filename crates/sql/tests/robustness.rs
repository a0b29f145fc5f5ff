//! Robustness: random text and random token soups never panic the parser or the compiler,
//! compiled SQL always has exactly one bound parameter per placeholder, and oversized or deeply
//! nested input is rejected quickly with an error instead of exhausting the stack.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use oxbase_sql::filter::{Limits, parse, parse_with};
use oxbase_sql::sort::parse_sort;
use oxbase_sql::{Dialect, compile_filter, compile_sort};
use proptest::prelude::*;
use support::{Fake, count_placeholders};

fn check(input: &str) {
    let _ = parse_sort(input).map(|items| {
        for d in [Dialect::Sqlite, Dialect::Postgres] {
            let _ = compile_sort(&items, &Fake(d), d);
        }
    });
    let Ok(expr) = parse(input) else { return };
    for d in [Dialect::Sqlite, Dialect::Postgres] {
        if let Ok(sql) = compile_filter(&expr, &Fake(d), d) {
            assert_eq!(
                count_placeholders(sql.text()),
                sql.params().len(),
                "{input}"
            );
        }
    }
}

const TOKENS: &[&str] = &[
    "title",
    "views",
    "active",
    "data",
    "data.a.b",
    "tags",
    "tags:length",
    "tags:each",
    "author.name",
    "comments_via_post.text",
    "comments_via_post.votes",
    "@collection.users.name",
    "@request.auth.id",
    "@request.auth.name",
    "@request.query.missing",
    "@now",
    "misc",
    "secret",
    "nope",
    "'x'",
    "''",
    "\"q\"",
    "'a_b%'",
    "1",
    "-2.5",
    "0",
    "true",
    "false",
    "null",
    "=",
    "!=",
    "~",
    "!~",
    "<",
    "<=",
    ">",
    ">=",
    "?=",
    "?!=",
    "?~",
    "?!~",
    "?<",
    "?<=",
    "?>",
    "?>=",
    "&&",
    "||",
    "(",
    ")",
    ",",
    "geoDistance(",
    "strftime(",
    "'%Y'",
    "// c\n",
    " ",
    "\n",
    "-",
    ".",
    ":",
    "@",
    "#",
    "'",
    "\\",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(input in "\\PC{0,120}") {
        check(&input);
    }

    #[test]
    fn random_ascii_never_panics(input in "[ -~\\n]{0,200}") {
        check(&input);
    }

    #[test]
    fn token_soup_never_panics(parts in prop::collection::vec((0..TOKENS.len(), any::<bool>()), 0..40)) {
        let mut input = String::new();
        for (i, space) in parts {
            input.push_str(TOKENS[i]);
            if space {
                input.push(' ');
            }
        }
        check(&input);
    }

    #[test]
    fn well_formed_comparisons_compile(
        l in 0..20usize,
        op in prop::sample::select(vec!["=", "!=", "~", "!~", "<", "<=", ">", ">=", "?=", "?!=", "?~", "?!~", "?<", "?<=", "?>", "?>="]),
        r in 0..29usize,
    ) {
        let input = format!("{} {op} {}", TOKENS[l], TOKENS[r]);
        check(&input);
    }
}

fn quickly<T>(f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
    out
}

#[test]
fn ten_thousand_terms_are_rejected_quickly() {
    let input = vec!["title = 'x'"; 10_000].join(" && ");
    assert!(quickly(|| parse(&input)).is_err());
    let unlimited_len = Limits {
        max_len: usize::MAX,
        ..Limits::default()
    };
    let e = quickly(|| parse_with(&input, unlimited_len)).unwrap_err();
    assert!(e.message.contains("too many expressions"), "{e}");
}

#[test]
fn a_hundred_thousand_nested_parentheses_are_rejected_quickly() {
    let input = format!("{}a = 1{}", "(".repeat(100_000), ")".repeat(100_000));
    assert!(quickly(|| parse(&input)).is_err());
    let unlimited_len = Limits {
        max_len: usize::MAX,
        ..Limits::default()
    };
    let e = quickly(|| parse_with(&input, unlimited_len)).unwrap_err();
    assert!(e.message.contains("nested too deeply"), "{e}");
    let unclosed = "(".repeat(100_000);
    assert!(quickly(|| parse_with(&unclosed, unlimited_len)).is_err());
}

#[test]
fn huge_input_is_rejected_by_length_first() {
    let input = "x".repeat(10_000_000);
    let e = quickly(|| parse(&input)).unwrap_err();
    assert!(e.message.contains("too long"), "{e}");
}

#[test]
fn deep_hand_built_expressions_are_rejected_by_the_compiler() {
    use oxbase_sql::filter::Expr;
    let mut expr = parse("title = 'x'").unwrap();
    for _ in 0..200 {
        expr = Expr::And(vec![expr.clone(), parse("views > 1").unwrap()]);
    }
    assert!(compile_filter(&expr, &Fake(Dialect::Sqlite), Dialect::Sqlite).is_err());
}
