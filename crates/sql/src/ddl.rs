//! DDL rendering: record tables, views and indexes for both dialects.
//!
//! Index statements arrive from superusers in PocketBase's form
//! (`CREATE UNIQUE INDEX `idx_x` ON `posts` (`title`) WHERE ...`); they are parsed into an
//! [`IndexDef`] and rendered again with validated, quoted identifiers against the table's
//! current name. The optional `WHERE` predicate is kept as given: like PocketBase, index
//! predicates are trusted superuser SQL.

use crate::{Dialect, Ident, Sql};

/// How a record field is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// The `id` primary key.
    PrimaryKey,
    Text,
    Number,
    Bool,
    /// Nullable JSON document.
    Json,
    /// A JSON array, `[]` by default (multi-value select, file and relation fields).
    JsonArray,
    /// A geographic point `{"lon":0,"lat":0}`.
    GeoPoint,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: Ident,
    pub kind: ColumnKind,
}

/// The column definition (type, default, nullability) of a kind.
pub fn column_type(dialect: Dialect, kind: ColumnKind) -> &'static str {
    match (dialect, kind) {
        (Dialect::Sqlite, ColumnKind::PrimaryKey) => {
            "TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL"
        }
        (Dialect::Sqlite, ColumnKind::Text) => "TEXT DEFAULT '' NOT NULL",
        (Dialect::Sqlite, ColumnKind::Number) => "NUMERIC DEFAULT 0 NOT NULL",
        (Dialect::Sqlite, ColumnKind::Bool) => "BOOLEAN DEFAULT FALSE NOT NULL",
        (Dialect::Sqlite, ColumnKind::Json) => "JSON DEFAULT NULL",
        (Dialect::Sqlite, ColumnKind::JsonArray) => "JSON DEFAULT '[]' NOT NULL",
        (Dialect::Sqlite, ColumnKind::GeoPoint) => "JSON DEFAULT '{\"lon\":0,\"lat\":0}' NOT NULL",
        (Dialect::Postgres, ColumnKind::PrimaryKey) => "TEXT PRIMARY KEY NOT NULL",
        (Dialect::Postgres, ColumnKind::Text) => "TEXT DEFAULT '' NOT NULL",
        (Dialect::Postgres, ColumnKind::Number) => "DOUBLE PRECISION DEFAULT 0 NOT NULL",
        (Dialect::Postgres, ColumnKind::Bool) => "BOOLEAN DEFAULT FALSE NOT NULL",
        (Dialect::Postgres, ColumnKind::Json) => "JSONB DEFAULT NULL",
        (Dialect::Postgres, ColumnKind::JsonArray) => "JSONB DEFAULT '[]'::jsonb NOT NULL",
        (Dialect::Postgres, ColumnKind::GeoPoint) => {
            "JSONB DEFAULT '{\"lon\":0,\"lat\":0}'::jsonb NOT NULL"
        }
    }
}

pub fn create_table(dialect: Dialect, table: &Ident, columns: &[Column]) -> Sql {
    let mut sql = Sql::raw("CREATE TABLE ");
    sql.push_ident(table).push(" (");
    for (i, col) in columns.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.push_ident(&col.name)
            .push(" ")
            .push(column_type(dialect, col.kind));
    }
    sql.push(")");
    sql
}

pub fn drop_table(table: &Ident) -> Sql {
    let mut sql = Sql::raw("DROP TABLE IF EXISTS ");
    sql.push_ident(table);
    sql
}

pub fn rename_table(from: &Ident, to: &Ident) -> Sql {
    let mut sql = Sql::raw("ALTER TABLE ");
    sql.push_ident(from).push(" RENAME TO ").push_ident(to);
    sql
}

/// `CREATE VIEW name AS <query>`; the query is a superuser's SELECT, checked by the caller.
pub fn create_view(name: &Ident, query: &str) -> Sql {
    let mut sql = Sql::raw("CREATE VIEW ");
    sql.push_ident(name).push(" AS ").push(query);
    sql
}

pub fn drop_view(name: &Ident) -> Sql {
    let mut sql = Sql::raw("DROP VIEW IF EXISTS ");
    sql.push_ident(name);
    sql
}

/// One column of an index.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexColumn {
    pub name: Ident,
    pub desc: bool,
    pub collate: Option<Ident>,
}

/// A parsed `CREATE [UNIQUE] INDEX` statement.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexDef {
    pub name: Ident,
    pub unique: bool,
    pub table: String,
    pub columns: Vec<IndexColumn>,
    pub where_sql: Option<String>,
}

/// Parses PocketBase's index statement form. Returns `None` when it is not one.
pub fn parse_index(stmt: &str) -> Option<IndexDef> {
    let mut rest = stmt.trim().trim_end_matches(';');
    let word = |rest: &mut &str, expect: &str| -> bool {
        let t = rest.trim_start();
        if t.len() >= expect.len() && t[..expect.len()].eq_ignore_ascii_case(expect) {
            *rest = &t[expect.len()..];
            true
        } else {
            false
        }
    };
    if !word(&mut rest, "CREATE") {
        return None;
    }
    let unique = word(&mut rest, "UNIQUE");
    if !word(&mut rest, "INDEX") {
        return None;
    }
    if word(&mut rest, "IF") && !(word(&mut rest, "NOT") && word(&mut rest, "EXISTS")) {
        return None;
    }
    let (name, r) = take_ident(rest)?;
    rest = r;
    if !word(&mut rest, "ON") {
        return None;
    }
    let (table, r) = take_raw_ident(rest)?;
    rest = r.trim_start();
    let body = rest.strip_prefix('(')?;
    let close = body.find(')')?;
    let cols_text = &body[..close];
    let mut after = body[close + 1..].trim();
    let mut columns = Vec::new();
    for part in cols_text.split(',') {
        let mut tokens = part.split_whitespace();
        let (col, _) = take_ident(tokens.next()?)?;
        let mut desc = false;
        let mut collate = None;
        while let Some(t) = tokens.next() {
            if t.eq_ignore_ascii_case("DESC") {
                desc = true;
            } else if t.eq_ignore_ascii_case("COLLATE") {
                collate = Some(take_ident(tokens.next()?)?.0);
            } else if !t.eq_ignore_ascii_case("ASC") {
                return None;
            }
        }
        columns.push(IndexColumn {
            name: col,
            desc,
            collate,
        });
    }
    let where_sql = if after.is_empty() {
        None
    } else if word(&mut after, "WHERE") {
        Some(after.trim().to_owned())
    } else {
        return None;
    };
    (!columns.is_empty()).then_some(IndexDef {
        name,
        unique,
        table,
        columns,
        where_sql,
    })
}

fn take_raw_ident(input: &str) -> Option<(String, &str)> {
    let t = input.trim_start();
    let (open, close) = match t.chars().next()? {
        '`' => ('`', '`'),
        '"' => ('"', '"'),
        '[' => ('[', ']'),
        _ => {
            let end = t
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(t.len());
            return Some((t[..end].to_owned(), &t[end..]));
        }
    };
    let inner = &t[open.len_utf8()..];
    let end = inner.find(close)?;
    Some((inner[..end].to_owned(), &inner[end + close.len_utf8()..]))
}

fn take_ident(input: &str) -> Option<(Ident, &str)> {
    let (raw, rest) = take_raw_ident(input)?;
    Some((Ident::new(&raw)?, rest))
}

/// Renders an index against `table` (its current name, whatever the statement said).
pub fn create_index(index: &IndexDef, table: &Ident) -> Sql {
    let mut sql = Sql::raw(if index.unique {
        "CREATE UNIQUE INDEX "
    } else {
        "CREATE INDEX "
    });
    sql.push_ident(&index.name)
        .push(" ON ")
        .push_ident(table)
        .push(" (");
    for (i, col) in index.columns.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.push_ident(&col.name);
        if let Some(c) = &col.collate {
            sql.push(" COLLATE ").push(c.as_str());
        }
        if col.desc {
            sql.push(" DESC");
        }
    }
    sql.push(")");
    if let Some(w) = &index.where_sql {
        sql.push(" WHERE ").push(&w.replace('`', "\""));
    }
    sql
}

pub fn drop_index(name: &Ident) -> Sql {
    let mut sql = Sql::raw("DROP INDEX IF EXISTS ");
    sql.push_ident(name);
    sql
}


impl Dialect {
    /// A one-element JSON array holding `expr` (a single value becoming a multi-value field).
    pub fn json_array_of(self, expr: &Sql) -> Sql {
        let mut s = Sql::raw(match self {
            Dialect::Sqlite => "json_array(",
            Dialect::Postgres => "jsonb_build_array(",
        });
        s.push_sql(expr).push(")");
        s
    }

    /// The last element of a JSON array as text, NULL when empty.
    pub fn json_last_element(self, expr: &Sql) -> Sql {
        let mut s = Sql::raw("(");
        s.push_sql(expr);
        s.push(match self {
            Dialect::Sqlite => " ->> '$[#-1]')",
            Dialect::Postgres => "::jsonb ->> -1)",
        });
        s
    }
}

impl Dialect {
    /// A FROM-clause item iterating a JSON array column, aliased `alias`, whose elements are in
    /// `alias.value` as text. A value that is not a JSON array counts as a one-element array,
    /// as PocketBase does for legacy single values.
    pub fn json_each_as(self, expr: &Sql, alias: &Ident) -> Sql {
        let mut s = Sql::new();
        match self {
            Dialect::Sqlite => {
                s.push("json_each(CASE WHEN json_valid(")
                    .push_sql(expr)
                    .push(") AND json_type(");
                s.push_sql(expr)
                    .push(") = 'array' THEN ")
                    .push_sql(expr)
                    .push(" ELSE json_array(");
                s.push_sql(expr).push(") END) AS ").push_ident(alias);
            }
            Dialect::Postgres => {
                s.push("jsonb_array_elements_text(CASE WHEN jsonb_typeof(to_jsonb(")
                    .push_sql(expr);
                s.push(")) = 'array' THEN to_jsonb(")
                    .push_sql(expr)
                    .push(") ELSE jsonb_build_array(");
                s.push_sql(expr)
                    .push(") END) AS ")
                    .push_ident(alias)
                    .push("(value)");
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_renders_pocketbase_index_statements() {
        let idx = parse_index(
            "CREATE UNIQUE INDEX `idx_email_x` ON `users` (`email`) WHERE `email` != ''",
        )
        .unwrap();
        assert!(idx.unique);
        assert_eq!(idx.table, "users");
        let table = Ident::new("members").unwrap();
        assert_eq!(
            create_index(&idx, &table).text(),
            "CREATE UNIQUE INDEX \"idx_email_x\" ON \"members\" (\"email\") WHERE \"email\" != ''"
        );
        let plain = parse_index("create index idx_a on posts (a DESC, b COLLATE NOCASE)").unwrap();
        assert!(!plain.unique);
        assert!(plain.columns[0].desc);
        assert_eq!(
            plain.columns[1].collate.as_ref().map(Ident::as_str),
            Some("NOCASE")
        );
    }

    #[test]
    fn rejects_what_is_not_an_index() {
        assert!(parse_index("DROP TABLE users").is_none());
        assert!(parse_index("CREATE INDEX `a;b` ON t (c)").is_none());
        assert!(parse_index("CREATE INDEX a ON t ()").is_none());
    }

    #[test]
    fn table_columns_per_dialect() {
        let cols = [Column {
            name: Ident::new("id").unwrap(),
            kind: ColumnKind::PrimaryKey,
        }];
        let t = Ident::new("t").unwrap();
        assert!(
            create_table(Dialect::Sqlite, &t, &cols)
                .text()
                .contains("randomblob")
        );
        assert!(
            create_table(Dialect::Postgres, &t, &cols)
                .text()
                .contains("TEXT PRIMARY KEY")
        );
    }
}
