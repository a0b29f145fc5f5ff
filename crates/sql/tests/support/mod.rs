//! A small fake resolver for tests: a `posts` collection with a few typed fields, relations,
//! back-relations, a multi-value JSON field and some `@request` values.

#![allow(dead_code)]

use oxbase_sql::filter::parse;
use oxbase_sql::{
    CompileError, Dialect, FieldResolver, Operand, Sql, Value, ValueType, compile_filter,
};

pub struct Fake(pub Dialect);

fn col(name: &str) -> Sql {
    Sql::raw(format!("\"posts\".\"{name}\""))
}

fn single(sql: Sql, ty: ValueType) -> Result<Operand, CompileError> {
    Ok(Operand::Single { sql, ty })
}

/// A stored column's values (SQLite's column affinity applies).
fn stored(operand: Operand) -> Result<Operand, CompileError> {
    Ok(Operand::Stored(Box::new(operand)))
}

fn column(name: &str, ty: ValueType) -> Result<Operand, CompileError> {
    stored(Operand::Single { sql: col(name), ty })
}

fn many(select: &str, ty: ValueType) -> Operand {
    Operand::Many {
        select: Sql::raw(select),
        ty,
        first: None,
        shared: None,
    }
}

impl FieldResolver for Fake {
    fn resolve(&self, ident: &str) -> Result<Operand, CompileError> {
        let d = self.0;
        use ValueType::*;
        match ident {
            "id" | "title" | "created" => column(ident, Text),
            "views" | "lon" | "lat" => column(ident, Number),
            "active" => column(ident, Bool),
            "misc" => single(col(ident), Any),
            "data" => column("data", Json),
            "data.a.b" => single(d.json_extract_value(&col("data"), &["a", "b"]), JsonValue),
            "data.items.0" => single(
                d.json_extract_value(&col("data"), &["items", "0"]),
                JsonValue,
            ),
            "title:lower" => single(d.lower(&col("title")), Text),
            "tags" | "tags:each" => {
                let mut s = Sql::raw("SELECT \"je\".\"value\" AS v FROM ");
                s.push_sql(&d.json_array_elements(&col("tags")));
                Ok(Operand::Many {
                    select: s,
                    ty: Text,
                    first: None,
                    shared: None,
                })
            }
            "@collection.labels.name" => stored(Operand::Scoped {
                single: Sql::raw("\"c1\".\"name\""),
                every: Sql::raw("SELECT \"c2\".\"name\" AS v FROM \"labels\" AS \"c2\""),
                ty: Text,
            }),
            "tags:length" => single(d.json_array_length(&col("tags")), Number),
            "author.name" => stored(Operand::Single {
                sql: Sql::raw(
                    "(SELECT \"u\".\"name\" FROM \"users\" AS \"u\" WHERE \"u\".\"id\" = \"posts\".\"author\")",
                ),
                ty: Text,
            }),
            "comments_via_post.text" => stored(many(
                "SELECT \"c\".\"text\" AS v FROM \"comments\" AS \"c\" WHERE \"c\".\"post\" = \"posts\".\"id\"",
                Text,
            )),
            "comments_via_post.votes" => stored(many(
                "SELECT \"c\".\"votes\" AS v FROM \"comments\" AS \"c\" WHERE \"c\".\"post\" = \"posts\".\"id\"",
                Number,
            )),
            "comments_via_post.created" => stored(many(
                "SELECT \"c\".\"created\" AS v FROM \"comments\" AS \"c\" WHERE \"c\".\"post\" = \"posts\".\"id\"",
                Text,
            )),
            "@collection.users.name" => stored(many(
                "SELECT \"cu\".\"name\" AS v FROM \"users\" AS \"cu\"",
                Text,
            )),
            "@request.auth.id" => single(Sql::param("u123"), Text),
            "@request.auth.name" => single(Sql::param(""), Text),
            "@request.auth.age" => single(Sql::param(Value::Int(30)), Any),
            "@request.body.title:isset" => single(Sql::param(true), Bool),
            "@request.query.missing" => single(Sql::raw("NULL"), Any),
            "@now" => single(Sql::param("2024-05-01 10:00:00.000Z"), Text),
            "@rowid" => column("_rowid_", Number),
            // An owner's email the caller may not see: NULL where hidden.
            "email" => Ok(Operand::Masked(Box::new(column("email", Text)?))),
            "secret" => Err(CompileError::forbidden(ident)),
            _ => Err(CompileError::unknown_field(ident)),
        }
    }

    /// The posts' own NOT NULL columns (`email` too, but it is masked).
    fn never_null(&self, ident: &str) -> bool {
        matches!(
            ident,
            "id" | "title" | "created" | "views" | "active" | "email" | "@rowid"
        )
    }
}

/// The filter compiled for both dialects, rendered with its parameters (or the error).
pub fn both(filter: &str) -> String {
    let mut out = format!("filter: {filter}\n");
    let expr = match parse(filter) {
        Ok(e) => e,
        Err(e) => return format!("{out}parse error: {e}\n"),
    };
    for d in [Dialect::Sqlite, Dialect::Postgres] {
        out.push_str(&format!("\n{d:?}:\n"));
        match compile_filter(&expr, &Fake(d), d) {
            Ok(sql) => {
                out.push_str(&d.render(&sql));
                out.push_str(&format!("\nparams: {:?}\n", sql.params()));
                assert_eq!(
                    count_placeholders(&Dialect::Sqlite.render(&sql)),
                    sql.params().len()
                );
            }
            Err(e) => out.push_str(&format!("error: {e}\n")),
        }
    }
    out
}

/// `?` outside quoted strings and identifiers.
pub fn count_placeholders(text: &str) -> usize {
    let mut quote = None;
    let mut n = 0;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '?' => n += 1,
            None => {}
        }
    }
    n
}
