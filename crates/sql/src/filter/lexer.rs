//! The lexer: filter text → tokens with byte spans. Iterative, no recursion, one pass.
//!
//! Follows `fexpr`'s scanner (PocketBase's filter tokenizer): identifiers start with a letter,
//! `_`, `@` or `#` and continue with letters, digits, `_`, `.`, `:`, and may not end with `.` or
//! `:`; numbers are `-?digits(.digits)?`; strings are single- or double-quoted; `//` starts a
//! comment to the end of the line; whitespace is space, tab, CR, LF.

use std::ops::Range;

use super::ast::Op;
use crate::ParseError;

#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    Ident(String),
    Text(String),
    /// The number as written; the parser converts it.
    Number(String),
    Op(Op),
    And,
    Or,
    LParen,
    RParen,
    Comma,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Range<usize>,
}

/// Splits `input` into tokens (comments and whitespace dropped).
pub fn tokenize(input: &str) -> Result<Vec<Token>, ParseError> {
    let bytes = input.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let kind = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'/' => {
                if bytes.get(i + 1) != Some(&b'/') {
                    return Err(ParseError::new(
                        "unexpected character '/' (comments start with \"//\")",
                        i..i + 1,
                    ));
                }
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'(' => {
                i += 1;
                TokenKind::LParen
            }
            b')' => {
                i += 1;
                TokenKind::RParen
            }
            b',' => {
                i += 1;
                TokenKind::Comma
            }
            b'&' | b'|' => {
                while i < bytes.len() && matches!(bytes[i], b'&' | b'|') {
                    i += 1;
                }
                match &input[start..i] {
                    "&&" => TokenKind::And,
                    "||" => TokenKind::Or,
                    other => {
                        return Err(ParseError::new(
                            format!("invalid join operator {other:?} (expected \"&&\" or \"||\")"),
                            start..i,
                        ));
                    }
                }
            }
            b'=' | b'?' | b'!' | b'<' | b'>' | b'~' => {
                while i < bytes.len() && matches!(bytes[i], b'=' | b'?' | b'!' | b'<' | b'>' | b'~')
                {
                    i += 1;
                }
                let sym = &input[start..i];
                match Op::from_symbol(sym) {
                    Some(op) => TokenKind::Op(op),
                    None => {
                        return Err(ParseError::new(
                            format!("invalid operator {sym:?}"),
                            start..i,
                        ));
                    }
                }
            }
            b'\'' | b'"' => {
                let (text, end) = scan_text(input, start)?;
                i = end;
                TokenKind::Text(text)
            }
            b'-' | b'0'..=b'9' => {
                i = scan_number(input, start)?;
                TokenKind::Number(input[start..i].to_owned())
            }
            c if is_ident_start(c) => {
                i += 1;
                while i < bytes.len() && is_ident_continue(bytes[i]) {
                    i += 1;
                }
                let ident = &input[start..i];
                validate_ident(ident, start)?;
                TokenKind::Ident(ident.to_owned())
            }
            _ => {
                let ch = input[i..].chars().next().unwrap_or('\u{fffd}');
                let end = i + ch.len_utf8();
                return Err(ParseError::new(
                    format!("unexpected character {ch:?}"),
                    i..end,
                ));
            }
        };
        tokens.push(Token {
            kind,
            span: start..i,
        });
    }
    Ok(tokens)
}

pub(crate) fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || matches!(c, b'_' | b'@' | b'#')
}

pub(crate) fn is_ident_continue(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b':')
}

/// Checks a complete identifier: not only a special start character, not ending in `.` or `:`,
/// no empty path segment (`a..b`).
pub(crate) fn validate_ident(ident: &str, offset: usize) -> Result<(), ParseError> {
    let span = offset..offset + ident.len();
    let ok = match ident.as_bytes() {
        [] => false,
        [only] => only.is_ascii_alphabetic(),
        [first, .., last] => {
            is_ident_start(*first)
                && ident.bytes().skip(1).all(is_ident_continue)
                && !matches!(last, b'.' | b':')
                && !ident.contains("..")
                && !ident.contains("::")
                && !ident.contains(".:")
                && !ident.contains(":.")
        }
    };
    if ok {
        Ok(())
    } else {
        Err(ParseError::new(
            format!("invalid identifier {ident:?}"),
            span,
        ))
    }
}

/// `-?digits(.digits)?` starting at `start`; returns the end offset.
fn scan_number(input: &str, start: usize) -> Result<usize, ParseError> {
    let bytes = input.as_bytes();
    let mut i = start;
    if bytes[i] == b'-' {
        i += 1;
    }
    let int_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let mut ok = i > int_start;
    if ok && i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        ok = i > frac_start;
    }
    if ok {
        Ok(i)
    } else {
        // include whatever digits and dots follow, so the span covers the bad literal
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
            i += 1;
        }
        Err(ParseError::new(
            format!("invalid number {:?}", &input[start..i]),
            start..i,
        ))
    }
}

/// A quoted string starting at `start` (on the quote), with PocketBase's escapes: `\'`, `\"`,
/// `\\`, `\n`, `\t` and `\r` stand for their character; any other backslash is kept with
/// the character after it (so LIKE escapes such as `\%` survive).
// PB-COMPAT: measured against PocketBase 0.40.6 (`pb.filter` in the SDK escapes quotes this way).
fn scan_text(input: &str, start: usize) -> Result<(String, usize), ParseError> {
    let bytes = input.as_bytes();
    let quote = bytes[start];
    let mut out = String::new();
    let mut i = start + 1;
    let mut run_start = i;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if i + 1 < bytes.len() => {
                let decoded = match bytes[i + 1] {
                    c @ (b'\\' | b'\'' | b'"') => Some(c as char),
                    b'n' => Some('\n'),
                    b't' => Some('\t'),
                    b'r' => Some('\r'),
                    _ => None,
                };
                if let Some(c) = decoded {
                    out.push_str(&input[run_start..i]);
                    out.push(c);
                    run_start = i + 2;
                }
                // A backslash always takes the next byte with it (it may be the quote).
                i += 2;
            }
            b if b == quote => {
                out.push_str(&input[run_start..i]);
                return Ok((out, i + 1));
            }
            _ => i += 1,
        }
    }
    Err(ParseError::new(
        "unterminated string (missing closing quote)",
        start..input.len(),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Vec<TokenKind> {
        tokenize(input)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    fn err(input: &str) -> ParseError {
        tokenize(input).unwrap_err()
    }

    #[test]
    fn tokens_carry_byte_spans() {
        let tokens = tokenize("title ?~ 'é' && n>=-1.5").unwrap();
        let spans: Vec<_> = tokens.iter().map(|t| t.span.clone()).collect();
        assert_eq!(
            spans,
            vec![0..5, 6..8, 9..13, 14..16, 17..18, 18..20, 20..24]
        );
    }

    #[test]
    fn strings_unescape_like_pocketbase() {
        assert_eq!(
            kinds(r#"'it\'s' "a\"b" 'x\%y' "q\'" 'end\\' 'a\nb\tc\rd' '\b\0'"#),
            vec![
                TokenKind::Text("it's".into()),
                TokenKind::Text("a\"b".into()),
                TokenKind::Text(r"x\%y".into()),
                TokenKind::Text("q'".into()),
                TokenKind::Text(r"end\".into()),
                TokenKind::Text("a\nb\tc\rd".into()),
                TokenKind::Text(r"\b\0".into()),
            ]
        );
        // A backslash before a multi-byte character keeps both.
        assert_eq!(kinds(r"'\é'"), vec![TokenKind::Text(r"\é".into())]);
    }

    #[test]
    fn comments_run_to_the_end_of_the_line() {
        assert_eq!(
            kinds("a // x && ?? '\n= 1 // tail"),
            vec![
                TokenKind::Ident("a".into()),
                TokenKind::Op(Op::from_symbol("=").unwrap()),
                TokenKind::Number("1".into()),
            ]
        );
    }

    #[test]
    fn unterminated_string_spans_to_the_end() {
        let e = err("a = 'abc");
        assert_eq!(e.span, 4..8);
        assert!(e.message.contains("unterminated"));
    }

    #[test]
    fn invalid_operator_is_reported_with_its_span() {
        assert_eq!(err("a =! b").span, 2..4);
        assert_eq!(err("a ?? b").span, 2..4);
        assert_eq!(err("a = 1 & b = 2").span, 6..7);
        assert_eq!(err("a = 1 ||| b = 2").span, 6..9);
    }

    #[test]
    fn invalid_numbers_and_identifiers() {
        assert_eq!(err("a = 1.").span, 4..6);
        assert_eq!(err("a = -").span, 4..5);
        assert_eq!(err("a = -.5").span, 4..7);
        assert_eq!(err("a. = 1").span, 0..2);
        assert_eq!(err("@ = 1").span, 0..1);
        assert_eq!(err("a..b = 1").span, 0..4);
        assert_eq!(err("a:= 1").span, 0..2);
    }

    #[test]
    fn unexpected_characters_use_char_spans() {
        assert_eq!(err("a = é").span, 4..6);
        assert_eq!(err("a / b").span, 2..3);
        assert_eq!(err("a = [1]").span, 4..5);
    }
}
