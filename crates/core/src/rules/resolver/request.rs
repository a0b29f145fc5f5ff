//! `@request.*` in rules: the method, context, query, headers, body (with `:isset`,
//! `:changed`, `:length`...) and the auth record (its fields as bound values, deeper paths
//! walked from its row), as bound parameters or sets of them.
//!
//! SQL: `@request.*` values as bound parameters and derived tables (see `resolver`).

use oxbase_sql::{Column, CompileError, Operand, Sql, Value, ValueType};
use serde_json::Value as Json;

use super::{RecordResolver, Walk, column, ident};
use crate::rules::memo::auth_value;
use crate::schema::{Field, FieldKind};

impl RecordResolver<'_> {
    pub(super) fn resolve_request(
        &self,
        rest: &str,
        modifier: Option<&str>,
    ) -> Result<Operand, CompileError> {
        let req = self.request;
        let (area, key) = rest.split_once('.').unwrap_or((rest, ""));
        if area != "auth" {
            self.read_volatile();
        }
        match area {
            "method" => Ok(literal(&Json::String(req.method.clone()), modifier)),
            "context" => Ok(literal(
                &Json::String(req.context.as_str().to_owned()),
                modifier,
            )),
            "query" => Ok(literal(&lookup(&req.query, key), modifier)),
            "headers" => Ok(literal(
                &lookup(&req.headers, &key.to_ascii_lowercase().replace('-', "_")),
                modifier,
            )),
            "body" => self.resolve_body(key, modifier),
            "auth" => self.resolve_auth(key, modifier),
            _ => Err(CompileError::UnknownField(format!("@request.{rest}"))),
        }
    }

    fn resolve_body(&self, key: &str, modifier: Option<&str>) -> Result<Operand, CompileError> {
        let body = &self.request.body;
        // Modifier suffixes of body keys (`tags+`) set the same field.
        let present = |k: &str| {
            body.contains_key(k)
                || body.contains_key(&format!("{k}+"))
                || body.contains_key(&format!("+{k}"))
                || body.contains_key(&format!("{k}-"))
        };
        match modifier {
            Some("isset") => Ok(Operand::Single {
                sql: Sql::param(Value::Bool(present(key))),
                ty: ValueType::Bool,
            }),
            Some("changed") => {
                let Some(field) = self.collection.field(key) else {
                    return Ok(Operand::Single {
                        sql: Sql::param(Value::Bool(false)),
                        ty: ValueType::Bool,
                    });
                };
                if !present(key) {
                    return Ok(Operand::Single {
                        sql: Sql::param(Value::Bool(false)),
                        ty: ValueType::Bool,
                    });
                }
                // Changed: the body value differs from the stored one.
                let stored = column(&self.alias, &field.name)?;
                let given = lookup(body, key);
                let mut s = Sql::raw("(CASE WHEN COALESCE(");
                let given_sql = Sql::param(json_param(&normalize_body_value(field, &given)));
                s.push_sql(&stored)
                    .push(", '') = COALESCE(")
                    .push_sql(&given_sql)
                    .push(", '') THEN FALSE ELSE TRUE END)");
                Ok(Operand::Single {
                    sql: s,
                    ty: ValueType::Bool,
                })
            }
            _ => {
                let value = lookup(body, key);
                let value = match self.collection.field(key) {
                    Some(f) if !matches!(value, Json::Null) => normalize_body_value(f, &value),
                    _ => value,
                };
                Ok(literal(&value, modifier))
            }
        }
    }

    fn resolve_auth(&self, key: &str, modifier: Option<&str>) -> Result<Operand, CompileError> {
        let Some(record) = self.request.auth.record() else {
            // A guest: every auth field is NULL (so `@request.auth.id = ''` holds).
            return Ok(Operand::Single {
                sql: Sql::param(Value::Null),
                ty: ValueType::Any,
            });
        };
        let segments: Vec<&str> = key.split('.').collect();
        if segments.len() == 1 {
            let known = matches!(key, "collectionId" | "collectionName")
                || record.collection.field(key).is_some();
            if !known {
                // PB-COMPAT: a field the caller's auth collection lacks reads as NULL (a rule
                // may serve callers of several auth collections).
                return Ok(Operand::Single {
                    sql: Sql::param(Value::Null),
                    ty: ValueType::Any,
                });
            }
            self.read_auth_key(key);
            return Ok(literal(&auth_value(record, key), modifier));
        }
        // The walk starts from the auth record's id.
        self.read_auth_key("id");
        // A deeper path walks from the auth record's row.
        let alias = self.next_alias("a")?;
        let mut id_cond = Sql::qualified(&alias, Column::Id);
        id_cond.push(" = ");
        id_cond.push_param(record.id().to_owned());
        let walk = Walk {
            collection: record.collection.clone(),
            alias: alias.as_str().to_owned(),
            from: vec![Sql::aliased(&ident(&record.collection.name)?, &alias)],
            conds: vec![id_cond],
            multi: false,
            order: Vec::new(),
        };
        self.walk_path(walk, &segments, modifier)
    }
}

/// A body value as the field would store it, so comparisons agree with stored values.
fn normalize_body_value(field: &Field, v: &Json) -> Json {
    match field.kind {
        FieldKind::Number => match v {
            Json::String(s) => s
                .trim()
                .parse::<f64>()
                .map(Json::from)
                .unwrap_or(Json::from(0)),
            Json::Bool(b) => Json::from(u8::from(*b)),
            other => other.clone(),
        },
        FieldKind::Bool => match v {
            Json::String(s) => {
                Json::Bool(matches!(s.as_str(), "1" | "true" | "TRUE" | "True" | "t"))
            }
            Json::Number(n) => Json::Bool(n.as_f64().unwrap_or(0.0) != 0.0),
            other => other.clone(),
        },
        FieldKind::Select | FieldKind::Relation | FieldKind::File if field.is_multi() => match v {
            Json::String(s) if s.is_empty() => Json::Array(Vec::new()),
            Json::String(_) => Json::Array(vec![v.clone()]),
            other => other.clone(),
        },
        _ => v.clone(),
    }
}

fn lookup(map: &serde_json::Map<String, Json>, key: &str) -> Json {
    let mut parts = key.split('.');
    let Some(first) = parts.next() else {
        return Json::Null;
    };
    let mut cur = map.get(first).cloned().unwrap_or(Json::Null);
    for p in parts {
        cur = match &cur {
            Json::Object(o) => o.get(p).cloned().unwrap_or(Json::Null),
            Json::Array(a) => p
                .parse::<usize>()
                .ok()
                .and_then(|i| a.get(i).cloned())
                .unwrap_or(Json::Null),
            _ => Json::Null,
        };
    }
    cur
}

/// A request value as an operand: arrays become sets, with the usual modifiers.
fn literal(value: &Json, modifier: Option<&str>) -> Operand {
    match (modifier, value) {
        (Some("length"), Json::Array(items)) => Operand::Single {
            sql: Sql::param(items.len() as i64),
            ty: ValueType::Number,
        },
        (Some("length"), Json::Null) => Operand::Single {
            sql: Sql::param(0i64),
            ty: ValueType::Number,
        },
        (Some("length"), _) => Operand::Single {
            sql: Sql::param(1i64),
            ty: ValueType::Number,
        },
        (Some("lower"), Json::String(s)) => Operand::Single {
            sql: Sql::param(s.to_lowercase()),
            ty: ValueType::Text,
        },
        (Some("lower"), Json::Array(items)) => {
            let lowered: Vec<Json> = items
                .iter()
                .map(|i| Json::String(i.as_str().unwrap_or("").to_lowercase()))
                .collect();
            Operand::Many {
                select: values_select(&lowered),
                ty: ValueType::Text,
                first: None,
                shared: None,
            }
        }
        (_, Json::Array(items)) => Operand::Many {
            select: values_select(items),
            ty: ValueType::Any,
            first: None,
            shared: None,
        },
        (_, v) => Operand::Single {
            sql: Sql::param(json_param(v)),
            ty: json_type(v),
        },
    }
}

/// A JSON value as a bound parameter.
pub(super) fn json_param(v: &Json) -> Value {
    match v {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => n
            .as_i64()
            .map(Value::Int)
            .unwrap_or_else(|| Value::Float(n.as_f64().unwrap_or(0.0))),
        Json::String(s) => Value::Text(s.clone()),
        other => Value::Text(other.to_string()),
    }
}

pub(super) fn json_type(v: &Json) -> ValueType {
    match v {
        Json::Number(_) => ValueType::Number,
        Json::Bool(_) => ValueType::Bool,
        Json::String(_) => ValueType::Text,
        _ => ValueType::Any,
    }
}

/// A set of bound values as a `SELECT ... AS v` (for `@request.body.tags` and the like).
fn values_select(items: &[Json]) -> Sql {
    if items.is_empty() {
        return Sql::raw("SELECT NULL AS v WHERE 1=0");
    }
    Sql::join(
        items.iter().map(|i| {
            let mut s = Sql::raw("SELECT ");
            s.push_param(json_param(i)).push(" AS v");
            s
        }),
        " UNION ALL ",
    )
}
