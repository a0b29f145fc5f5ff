//! The filter/rule language: [`parse`] turns text into an [`Expr`]. Pure and bounded: the input
//! length, the nesting depth and the number of comparisons are limited ([`Limits`]), and every
//! error carries the byte span of the offending text.
//!
//! What this module does not do: resolve identifiers (see [`crate::FieldResolver`]) or produce
//! SQL (see [`crate::compile`]).
//!
//! # Grammar (EBNF)
//!
//! ```text
//! filter      = or_expr ;
//! or_expr     = and_expr , { "||" , and_expr } ;
//! and_expr    = primary , { "&&" , primary } ;          (* && binds tighter than || *)
//! primary     = "(" , or_expr , ")" | comparison ;
//! comparison  = term , operator , term ;
//! term        = call | identifier | text | number ;     (* true, false, null: identifiers *)
//! call        = identifier , "(" , [ term , { "," , term } ] , ")" ;   (* no space before "(" *)
//! operator    = [ "?" ] , ( "=" | "!=" | "~" | "!~" | "<" | "<=" | ">" | ">=" ) ;
//! identifier  = ( letter | "_" | "@" | "#" ) , { letter | digit | "_" | "." | ":" } ;
//!               (* not ending in "." or ":", no empty segment, not a lone "_", "@" or "#" *)
//! number      = [ "-" ] , digit , { digit } , [ "." , digit , { digit } ] ;
//! text        = "'" , { char - "'" | "\'" } , "'" | '"' , { char - '"' | '\"' } , '"' ;
//! comment     = "//" , { char - newline } ;             (* anywhere whitespace may be *)
//! whitespace  = " " | tab | CR | LF ;
//! ```
//!
//! `true`, `false` and `null` (any case) are literals. Identifiers keep their modifiers
//! (`title:lower`, `tags:length`, `tags:each`, `@request.body.x:isset`, `field:changed`) and are
//! resolved as a whole by the application.
//!
//! # Operators
//!
//! | operator | meaning | multi-value operand |
//! |---|---|---|
//! | `=` | equal; NULL and `''` are equal (PocketBase's empty normalisation) | every value |
//! | `!=` | not equal, null-safe | every value |
//! | `>` `>=` `<` `<=` | ordering (NULL never matches) | every value |
//! | `~` | contains / LIKE, case-insensitive; `%` is wrapped around a literal without `%` | every value |
//! | `!~` | does not contain; NULL does not contain anything | every value |
//! | `?=` `?!=` `?>` `?>=` `?<` `?<=` `?~` `?!~` | same comparison | at least one value |
//!
//! # Limits
//! [`Limits::default`] follows PocketBase: at most 3500 bytes (`MaxFilterLength`), at most 200
//! comparisons (`DefaultFilterExprLimit`), and here also at most 32 levels of nesting.
//! Rules written by a superuser may be longer: use [`parse_with`] with larger limits.

pub mod ast;
pub mod lexer;
mod parser;

pub use ast::{CmpOp, Comparison, Expr, Number, Op, Term, TermKind};
pub use parser::{MAX_CALL_ARGS, MAX_CALL_DEPTH};

use crate::ParseError;

/// Bounds on what [`parse_with`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum input length in bytes.
    pub max_len: usize,
    /// Maximum nesting of parentheses and function calls.
    pub max_depth: usize,
    /// Maximum number of comparisons.
    pub max_comparisons: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_len: 3500,
            max_depth: 32,
            max_comparisons: 200,
        }
    }
}

impl Limits {
    /// Generous limits for rules stored in collections (written by superusers): 64 KiB, 64
    /// levels, 2000 comparisons. Still bounded, so a stored rule cannot exhaust the stack.
    pub fn for_rules() -> Limits {
        Limits {
            max_len: 64 * 1024,
            max_depth: 64,
            max_comparisons: 2000,
        }
    }
}

/// Parses a filter or rule with the default (PocketBase) limits.
pub fn parse(input: &str) -> Result<Expr, ParseError> {
    parse_with(input, Limits::default())
}

/// Parses a filter or rule with explicit limits.
pub fn parse_with(input: &str, limits: Limits) -> Result<Expr, ParseError> {
    if input.len() > limits.max_len {
        return Err(ParseError::new(
            format!(
                "filter too long ({} bytes, max {})",
                input.len(),
                limits.max_len
            ),
            limits.max_len..input.len(),
        ));
    }
    let tokens = lexer::tokenize(input)?;
    parser::Parser::new(&tokens, input.len(), limits).parse_all()
}

#[cfg(test)]
mod tests;
