//! Errors of the filter language: [`ParseError`] for text that is not a valid filter or sort
//! (always with a byte span into the input) and [`CompileError`] for a valid expression that
//! cannot become SQL (unknown field, forbidden identifier, wrong function arguments, limits).
//!
//! Both are safe to show to API clients: they never contain SQL text or bound values other than
//! the identifiers and literals the client wrote.

use std::ops::Range;

/// The input is not a well-formed filter or sort expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at byte {})", span.start)]
pub struct ParseError {
    /// A human sentence, e.g. `expected an operator, found "&&"`.
    pub message: String,
    /// Byte range of the offending text in the input (empty at the end of input).
    pub span: Range<usize>,
}

impl ParseError {
    pub fn new(message: impl Into<String>, span: Range<usize>) -> ParseError {
        ParseError {
            message: message.into(),
            span,
        }
    }
}

/// A well-formed expression that cannot be compiled to SQL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    /// The identifier names nothing the resolver knows (`titel = 'x'`).
    #[error("unknown field {0:?}")]
    UnknownField(String),
    /// The identifier exists but the client may not use it here (hidden field, `@collection`
    /// in a context that forbids it...).
    #[error("the field {0:?} is not allowed in this context")]
    Forbidden(String),
    /// A function the language does not have.
    #[error("unknown function {0:?}")]
    UnknownFunction(String),
    /// Anything else that is wrong with the expression (bad function arguments, a multi-value
    /// operand where one value is needed...).
    #[error("{0}")]
    Invalid(String),
    /// The expression is over a size or depth limit.
    #[error("{0}")]
    TooComplex(String),
}

impl CompileError {
    /// For resolvers: `ident` names no field.
    pub fn unknown_field(ident: impl Into<String>) -> CompileError {
        CompileError::UnknownField(ident.into())
    }
    /// For resolvers: `ident` may not be used by this client or in this context.
    pub fn forbidden(ident: impl Into<String>) -> CompileError {
        CompileError::Forbidden(ident.into())
    }
    /// Any other invalid use, with a human message.
    pub fn invalid(message: impl Into<String>) -> CompileError {
        CompileError::Invalid(message.into())
    }
}
