//! Parser tests: structure, precedence, error messages and spans, limits.

#![allow(clippy::unwrap_used)]

use super::*;

fn err(input: &str) -> ParseError {
    parse(input).unwrap_err()
}

fn ident(name: &str, span: std::ops::Range<usize>) -> Term {
    Term {
        kind: TermKind::Ident(name.into()),
        span,
    }
}

#[test]
fn a_comparison_keeps_operand_spans() {
    let expr = parse("title ~ 'rust'").unwrap();
    assert_eq!(
        expr,
        Expr::Compare(Comparison {
            left: ident("title", 0..5),
            op: Op {
                kind: CmpOp::Like,
                any: false
            },
            right: Term {
                kind: TermKind::Text("rust".into()),
                span: 8..14
            },
            span: 0..14,
        })
    );
}

#[test]
fn and_binds_tighter_than_or() {
    let expr = parse("a = 1 || b = 2 && c = 3").unwrap();
    let Expr::Or(parts) = expr else {
        panic!("expected Or")
    };
    assert_eq!(parts.len(), 2);
    assert!(matches!(parts[0], Expr::Compare(_)));
    assert!(matches!(&parts[1], Expr::And(p) if p.len() == 2));
}

#[test]
fn parentheses_group() {
    let expr = parse("(a = 1 || b = 2) && c = 3").unwrap();
    let Expr::And(parts) = expr else {
        panic!("expected And")
    };
    assert!(matches!(&parts[0], Expr::Or(p) if p.len() == 2));
}

#[test]
fn literals_and_keywords() {
    let expr = parse("a = TRUE && b != null && c > -2.5 && d < 9223372036854775808").unwrap();
    let Expr::And(parts) = expr else { panic!() };
    let rights: Vec<_> = parts
        .iter()
        .map(|p| match p {
            Expr::Compare(c) => c.right.kind.clone(),
            _ => panic!(),
        })
        .collect();
    assert_eq!(
        rights,
        vec![
            TermKind::Bool(true),
            TermKind::Null,
            TermKind::Number(Number::Float(-2.5)),
            TermKind::Number(Number::Float(9223372036854775808.0)),
        ]
    );
}

#[test]
fn function_calls_need_the_paren_right_after_the_name() {
    let expr = parse("geoDistance(lon, lat, 1.5, -2) < 25").unwrap();
    let Expr::Compare(c) = expr else { panic!() };
    let TermKind::Call { name, args } = c.left.kind else {
        panic!()
    };
    assert_eq!(name, "geoDistance");
    assert_eq!(args.len(), 4);
    assert_eq!(c.left.span, 0..30);
    // with a space, `f (` is an identifier followed by a group: not a comparison
    assert_eq!(err("f (a) = 1").span, 2..3);
}

#[test]
fn empty_and_whitespace_only_input_is_an_error() {
    assert_eq!(err("").message, "empty filter expression");
    assert_eq!(err("  // just a comment").span, 0..19);
}

#[test]
fn errors_point_at_the_offending_token() {
    assert_eq!(err("a = ").span, 4..4);
    assert_eq!(err("a 1").span, 2..3);
    assert_eq!(err("a = 1 b = 2").span, 6..7);
    assert_eq!(err("a = 1 &&").span, 8..8);
    assert_eq!(err("(a = 1").span, 0..1);
    assert_eq!(err("a = 1)").span, 5..6);
    assert_eq!(err("() && a = 1").span, 0..2);
    assert_eq!(err("a = (1)").span, 4..5);
    assert_eq!(err("f(a b) = 1").span, 4..5);
    assert_eq!(err("f(a, = 1").span, 5..6);
    assert_eq!(err("f(a").span, 1..2);
    assert_eq!(err("= 1").span, 0..1);
}

#[test]
fn error_display_includes_the_position() {
    assert_eq!(
        err("a = 1 b").to_string(),
        "expected \"&&\" or \"||\", found identifier \"b\" (at byte 6)"
    );
}

#[test]
fn input_length_is_limited() {
    let long = format!("a = '{}'", "x".repeat(4000));
    let e = err(&long);
    assert!(e.message.contains("too long"), "{e}");
    assert!(parse_with(&long, Limits::for_rules()).is_ok());
}

#[test]
fn nesting_is_limited_without_recursion_blowup() {
    let deep = format!("{}a = 1{}", "(".repeat(100_000), ")".repeat(100_000));
    let e = parse_with(
        &deep,
        Limits {
            max_len: usize::MAX,
            ..Limits::default()
        },
    )
    .unwrap_err();
    assert!(e.message.contains("nested too deeply"), "{e}");
    assert_eq!(e.span, 32..33);
    let ok = format!("{}a = 1{}", "(".repeat(32), ")".repeat(32));
    assert!(parse(&ok).is_ok());
}

#[test]
fn comparisons_are_limited() {
    let many = vec!["a = 1"; 10_000].join(" && ");
    let e = parse_with(
        &many,
        Limits {
            max_len: usize::MAX,
            ..Limits::default()
        },
    )
    .unwrap_err();
    assert!(e.message.contains("too many expressions"), "{e}");
    let at_limit = vec!["a=1"; 200].join("&&");
    assert!(parse(&at_limit).is_ok());
}

#[test]
fn function_nesting_is_limited() {
    assert!(parse("f(g(h(1))) = 1").is_ok());
    let e = err("f(g(h(i(1)))) = 1");
    assert!(
        e.message.contains("function calls nested too deeply"),
        "{e}"
    );
    assert_eq!(e.span, 6..8);
}
