//! `Sql`: a fragment of SQL text plus the values bound to it.
//!
//! The text is dialect-neutral: every bound value is written as `?` and `Dialect::render` turns
//! the placeholders into the dialect's own (`?` for SQLite, `$1, $2...` for PostgreSQL). Values are
//! never spliced into the text; identifiers go through [`Ident`], which only accepts safe names.

use crate::Value;

/// The fixed columns queries name on an alias: a record's `id`, and the `value` and `key` of a
/// JSON iteration (`Dialect::json_each_as`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Id,
    Value,
    Key,
}

impl Column {
    pub fn as_str(self) -> &'static str {
        match self {
            Column::Id => "id",
            Column::Value => "value",
            Column::Key => "key",
        }
    }
}

/// A validated SQL identifier (table, column, alias): `[A-Za-z0-9_]+` (PocketBase's names, a
/// leading digit included: always written quoted), at most 63 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ident(String);

impl Ident {
    /// Accepts only safe names; returns `None` for anything else.
    pub fn new(name: &str) -> Option<Ident> {
        Ident::valid(name).then(|| Ident(name.to_owned()))
    }
    fn valid(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= 63
            && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The identifier quoted; both dialects accept standard double quotes.
    pub fn quoted(&self) -> String {
        format!("\"{}\"", self.0)
    }
}

impl std::fmt::Display for Ident {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// SQL text with `?` placeholders and the parameters they stand for, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sql {
    text: String,
    params: Vec<Value>,
}

impl Sql {
    pub fn new() -> Sql {
        Sql::default()
    }
    /// A fragment of trusted SQL text (keywords, operators, quoted identifiers); never user data.
    pub fn raw(text: impl Into<String>) -> Sql {
        Sql {
            text: text.into(),
            params: Vec::new(),
        }
    }
    /// A single bound parameter: `?`.
    pub fn param(value: impl Into<Value>) -> Sql {
        Sql {
            text: "?".into(),
            params: vec![value.into()],
        }
    }
    /// `"table" AS "alias"`.
    pub fn aliased(table: &Ident, alias: &Ident) -> Sql {
        let mut sql = Sql::ident(table);
        sql.push(" AS ").push_ident(alias);
        sql
    }
    /// `"alias"."column"`.
    pub fn qualified(alias: &Ident, column: Column) -> Sql {
        let mut sql = Sql::ident(alias);
        sql.push(".\"").push(column.as_str()).push("\"");
        sql
    }
    /// A quoted identifier alone.
    pub fn ident(ident: &Ident) -> Sql {
        let mut sql = Sql::raw(String::with_capacity(ident.as_str().len() + 2));
        sql.push_ident(ident);
        sql
    }
    /// Appends trusted SQL text.
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }
    /// Appends a quoted identifier.
    pub fn push_ident(&mut self, ident: &Ident) -> &mut Self {
        self.text.push('"');
        self.text.push_str(ident.as_str());
        self.text.push('"');
        self
    }
    /// Appends `name` quoted, if it is a valid identifier (as `Ident::new` judges), without
    /// making an `Ident` of it: the columns of every insert and update go through here.
    pub fn push_name(&mut self, name: &str) -> Option<&mut Self> {
        if !Ident::valid(name) {
            return None;
        }
        self.text.push('"');
        self.text.push_str(name);
        self.text.push('"');
        Some(self)
    }
    /// Appends a `?` placeholder bound to `value`.
    pub fn push_param(&mut self, value: impl Into<Value>) -> &mut Self {
        self.text.push('?');
        self.params.push(value.into());
        self
    }
    /// Appends another fragment with its parameters.
    pub fn push_sql(&mut self, other: &Sql) -> &mut Self {
        self.text.push_str(&other.text);
        self.params.extend(other.params.iter().cloned());
        self
    }
    /// Joins fragments with a separator (`" AND "`, `", "`...).
    pub fn join(parts: impl IntoIterator<Item = Sql>, sep: &str) -> Sql {
        let mut out = Sql::new();
        for (i, part) in parts.into_iter().enumerate() {
            if i > 0 {
                out.push(sep);
            }
            out.push_sql(&part);
        }
        out
    }
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
    /// The dialect-neutral text, with `?` placeholders.
    pub fn text(&self) -> &str {
        &self.text
    }
    /// The parameters, to bind other values to the same text (a statement run row by row).
    pub fn params_mut(&mut self) -> &mut [Value] {
        &mut self.params
    }
    pub fn params(&self) -> &[Value] {
        &self.params
    }
    pub fn into_parts(self) -> (String, Vec<Value>) {
        (self.text, self.params)
    }
}

/// `?` placeholders as `$1, $2...` (PostgreSQL's). Placeholders inside quoted strings or
/// identifiers are left alone (the compiler never produces any, but hand-written fragments might).
pub(crate) fn number_placeholders(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut n = 0;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '?' => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
                continue;
            }
            None => {}
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_numbers_placeholders_outside_quotes() {
        let mut sql = Sql::raw("SELECT '?' FROM t WHERE a = ");
        sql.push_param(1i64).push(" AND \"b?\" = ").push_param("x");
        assert_eq!(
            number_placeholders(sql.text()),
            "SELECT '?' FROM t WHERE a = $1 AND \"b?\" = $2"
        );
        assert_eq!(sql.params().len(), 2);
    }

    #[test]
    fn ident_rejects_unsafe_names() {
        assert!(Ident::new("title").is_some());
        assert!(Ident::new("_a1").is_some());
        assert!(
            Ident::new("1a").is_some(),
            "quoted, a leading digit is fine"
        );
        assert!(Ident::new(&"a".repeat(64)).is_none());
        assert!(Ident::new("a\"b").is_none());
        assert!(Ident::new("").is_none());
    }
}
