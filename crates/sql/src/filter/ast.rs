//! The syntax tree of a filter expression, as produced by [`super::parse`]. Every node keeps the
//! byte span it came from so later stages can point at the text.

use std::fmt;
use std::ops::Range;

/// A boolean expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// All of the parts (`a && b && c`); at least two.
    And(Vec<Expr>),
    /// Any of the parts (`a || b`); at least two.
    Or(Vec<Expr>),
    /// One comparison `left op right`.
    Compare(Comparison),
}

/// `left op right`, e.g. `title ~ 'rust'`.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub left: Term,
    pub op: Op,
    pub right: Term,
    pub span: Range<usize>,
}

/// An operand of a comparison or an argument of a function.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    pub kind: TermKind,
    pub span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TermKind {
    /// A field path, macro or request/collection reference, modifiers included
    /// (`author.name`, `tags:length`, `@request.auth.id`, `@now`); resolved by the
    /// [`crate::FieldResolver`].
    Ident(String),
    /// A quoted string, with `\'`/`\"` unescaped.
    Text(String),
    /// A number literal: `12`, `-3`, `1.5`.
    Number(Number),
    /// `true` / `false` (any letter case).
    Bool(bool),
    /// `null` (any letter case).
    Null,
    /// A function call `name(arg, ...)`.
    Call { name: String, args: Vec<Term> },
}

/// A number literal: integers that fit `i64` stay integers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
}

/// A comparison operator: the base operator and whether it is an any-of (`?`) form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Op {
    pub kind: CmpOp,
    /// `?=`, `?~`...: at least one value of a multi-value operand must match (instead of all).
    pub any: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Neq,
    Like,
    NotLike,
    Lt,
    Lte,
    Gt,
    Gte,
}

impl Op {
    /// Parses an operator's exact spelling (`=`, `?!~`...).
    pub fn from_symbol(s: &str) -> Option<Op> {
        let (any, base) = match s.strip_prefix('?') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let kind = match base {
            "=" => CmpOp::Eq,
            "!=" => CmpOp::Neq,
            "~" => CmpOp::Like,
            "!~" => CmpOp::NotLike,
            "<" => CmpOp::Lt,
            "<=" => CmpOp::Lte,
            ">" => CmpOp::Gt,
            ">=" => CmpOp::Gte,
            _ => return None,
        };
        Some(Op { kind, any })
    }

    pub fn symbol(self) -> &'static str {
        let base = match self.kind {
            CmpOp::Eq => "=",
            CmpOp::Neq => "!=",
            CmpOp::Like => "~",
            CmpOp::NotLike => "!~",
            CmpOp::Lt => "<",
            CmpOp::Lte => "<=",
            CmpOp::Gt => ">",
            CmpOp::Gte => ">=",
        };
        if !self.any {
            return base;
        }
        match self.kind {
            CmpOp::Eq => "?=",
            CmpOp::Neq => "?!=",
            CmpOp::Like => "?~",
            CmpOp::NotLike => "?!~",
            CmpOp::Lt => "?<",
            CmpOp::Lte => "?<=",
            CmpOp::Gt => "?>",
            CmpOp::Gte => "?>=",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

impl Expr {
    /// The number of comparisons in the expression.
    pub fn comparisons(&self) -> usize {
        match self {
            Expr::And(parts) | Expr::Or(parts) => parts.iter().map(Expr::comparisons).sum(),
            Expr::Compare(_) => 1,
        }
    }
}
