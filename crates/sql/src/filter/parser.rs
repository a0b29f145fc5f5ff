//! The parser: tokens → [`Expr`]. Recursive descent whose depth is counted and capped before
//! every descent (parentheses and function calls), so no input can overflow the stack; the
//! number of comparisons is capped too.

use std::ops::Range;

use super::Limits;
use super::ast::{Comparison, Expr, Number, Term, TermKind};
use super::lexer::{Token, TokenKind};
use crate::ParseError;

pub(super) struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
    input_len: usize,
    limits: Limits,
    depth: usize,
    call_depth: usize,
    comparisons: usize,
}

impl<'a> Parser<'a> {
    pub(super) fn new(tokens: &'a [Token], input_len: usize, limits: Limits) -> Parser<'a> {
        Parser {
            tokens,
            pos: 0,
            input_len,
            limits,
            depth: 0,
            call_depth: 0,
            comparisons: 0,
        }
    }

    /// The whole input as one expression.
    pub(super) fn parse_all(mut self) -> Result<Expr, ParseError> {
        if self.tokens.is_empty() {
            return Err(ParseError::new(
                "empty filter expression",
                0..self.input_len,
            ));
        }
        let expr = self.or_expr()?;
        match self.peek() {
            None => Ok(expr),
            Some(t) if t.kind == TokenKind::RParen => Err(ParseError::new(
                "unmatched closing parenthesis",
                t.span.clone(),
            )),
            Some(t) => Err(ParseError::new(
                format!("expected \"&&\" or \"||\", found {}", describe(&t.kind)),
                t.span.clone(),
            )),
        }
    }

    fn peek(&self) -> Option<&'a Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<&'a Token> {
        let t = self.tokens.get(self.pos);
        self.pos += 1;
        t
    }

    fn end_span(&self) -> Range<usize> {
        self.input_len..self.input_len
    }

    fn or_expr(&mut self) -> Result<Expr, ParseError> {
        let mut parts = vec![self.and_expr()?];
        while matches!(self.peek(), Some(t) if t.kind == TokenKind::Or) {
            self.pos += 1;
            parts.push(self.and_expr()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Or(parts)
        })
    }

    fn and_expr(&mut self) -> Result<Expr, ParseError> {
        let mut parts = vec![self.primary()?];
        while matches!(self.peek(), Some(t) if t.kind == TokenKind::And) {
            self.pos += 1;
            parts.push(self.primary()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::And(parts)
        })
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        match self.peek() {
            Some(t) if t.kind == TokenKind::LParen => {
                let open = t.span.clone();
                self.pos += 1;
                self.enter(&open)?;
                if matches!(self.peek(), Some(t) if t.kind == TokenKind::RParen) {
                    return Err(ParseError::new(
                        "empty parentheses",
                        open.start..open.end + 1,
                    ));
                }
                let inner = self.or_expr()?;
                match self.next() {
                    Some(t) if t.kind == TokenKind::RParen => {}
                    Some(t) => {
                        return Err(ParseError::new(
                            format!(
                                "expected \"&&\", \"||\" or \")\", found {}",
                                describe(&t.kind)
                            ),
                            t.span.clone(),
                        ));
                    }
                    None => return Err(ParseError::new("missing closing parenthesis", open)),
                }
                self.depth -= 1;
                Ok(inner)
            }
            _ => self.comparison().map(Expr::Compare),
        }
    }

    fn enter(&mut self, at: &Range<usize>) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            return Err(ParseError::new(
                format!(
                    "expression nested too deeply (max {} levels)",
                    self.limits.max_depth
                ),
                at.clone(),
            ));
        }
        Ok(())
    }

    fn comparison(&mut self) -> Result<Comparison, ParseError> {
        let left = self.term("a left operand (field, text, number or function)")?;
        let op = match self.next() {
            Some(Token {
                kind: TokenKind::Op(op),
                ..
            }) => *op,
            Some(t) => {
                return Err(ParseError::new(
                    format!(
                        "expected a comparison operator, found {}",
                        describe(&t.kind)
                    ),
                    t.span.clone(),
                ));
            }
            None => {
                return Err(ParseError::new(
                    "expected a comparison operator",
                    self.end_span(),
                ));
            }
        };
        let right = self.term("a right operand (field, text, number or function)")?;
        self.comparisons += 1;
        let span = left.span.start..right.span.end;
        if self.comparisons > self.limits.max_comparisons {
            return Err(ParseError::new(
                format!("too many expressions (max {})", self.limits.max_comparisons),
                span,
            ));
        }
        Ok(Comparison {
            left,
            op,
            right,
            span,
        })
    }

    fn term(&mut self, what: &str) -> Result<Term, ParseError> {
        let Some(t) = self.next() else {
            return Err(ParseError::new(format!("expected {what}"), self.end_span()));
        };
        let span = t.span.clone();
        let kind = match &t.kind {
            TokenKind::Text(s) => TermKind::Text(s.clone()),
            TokenKind::Number(n) => TermKind::Number(parse_number(n)),
            TokenKind::Ident(name) => {
                // a function call: the name immediately followed by `(`
                if matches!(self.peek(), Some(p) if p.kind == TokenKind::LParen && p.span.start == span.end)
                {
                    return self.call(name, span);
                }
                match name.to_ascii_lowercase().as_str() {
                    // PB-COMPAT: PocketBase resolves these as literals when no field of that
                    // name exists; field names can never be these words here.
                    "true" => TermKind::Bool(true),
                    "false" => TermKind::Bool(false),
                    "null" => TermKind::Null,
                    _ => TermKind::Ident(name.clone()),
                }
            }
            other => {
                return Err(ParseError::new(
                    format!("expected {what}, found {}", describe(other)),
                    span,
                ));
            }
        };
        Ok(Term { kind, span })
    }

    fn call(&mut self, name: &str, name_span: Range<usize>) -> Result<Term, ParseError> {
        let open = self
            .next()
            .map(|t| t.span.clone())
            .unwrap_or_else(|| self.end_span());
        if self.depth + 1 > self.limits.max_depth || self.call_depth >= MAX_CALL_DEPTH {
            return Err(ParseError::new(
                format!("function calls nested too deeply (max {})", MAX_CALL_DEPTH),
                name_span.start..open.end,
            ));
        }
        self.depth += 1;
        self.call_depth += 1;
        let mut args = Vec::new();
        let end;
        loop {
            if matches!(self.peek(), Some(t) if t.kind == TokenKind::RParen) && args.is_empty() {
                end = self.next().map(|t| t.span.end).unwrap_or(self.input_len);
                break;
            }
            if args.len() >= MAX_CALL_ARGS {
                let at = self
                    .peek()
                    .map(|t| t.span.clone())
                    .unwrap_or_else(|| self.end_span());
                return Err(ParseError::new(
                    format!("too many function arguments (max {MAX_CALL_ARGS})"),
                    at,
                ));
            }
            args.push(self.term("a function argument (field, text, number or function)")?);
            match self.next() {
                Some(t) if t.kind == TokenKind::Comma => {}
                Some(t) if t.kind == TokenKind::RParen => {
                    end = t.span.end;
                    break;
                }
                Some(t) => {
                    return Err(ParseError::new(
                        format!(
                            "expected \",\" or \")\" in call to {name}, found {}",
                            describe(&t.kind)
                        ),
                        t.span.clone(),
                    ));
                }
                None => {
                    return Err(ParseError::new(
                        format!("missing closing parenthesis of the call to {name}"),
                        open,
                    ));
                }
            }
        }
        self.depth -= 1;
        self.call_depth -= 1;
        Ok(Term {
            kind: TermKind::Call {
                name: name.to_owned(),
                args,
            },
            span: name_span.start..end,
        })
    }
}

/// Function calls may nest this deep (fexpr's `maxFuncDepth`).
pub const MAX_CALL_DEPTH: usize = 3;
/// A function call takes at most this many arguments.
pub const MAX_CALL_ARGS: usize = 16;

fn parse_number(lexeme: &str) -> Number {
    if !lexeme.contains('.')
        && let Ok(n) = lexeme.parse::<i64>()
    {
        return Number::Int(n);
    }
    // the lexer only lets `-?digits(.digits)?` through, which always parses as f64
    Number::Float(lexeme.parse::<f64>().unwrap_or(f64::NAN))
}

fn describe(kind: &TokenKind) -> String {
    match kind {
        TokenKind::Ident(s) => format!("identifier {s:?}"),
        TokenKind::Text(s) => format!("text {s:?}"),
        TokenKind::Number(n) => format!("number {n}"),
        TokenKind::Op(op) => format!("operator \"{op}\""),
        TokenKind::And => "\"&&\"".into(),
        TokenKind::Or => "\"||\"".into(),
        TokenKind::LParen => "\"(\"".into(),
        TokenKind::RParen => "\")\"".into(),
        TokenKind::Comma => "\",\"".into(),
    }
}
