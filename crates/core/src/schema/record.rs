//! A record: one row of a collection, held as API-typed JSON values by field name.

use std::sync::Arc;

use oxbase_sql::Value;
use serde_json::{Map, Value as Json, json};

use crate::schema::{Collection, Field, FieldKind};
use crate::store::Rows;

#[derive(Debug, Clone)]
pub struct Record {
    pub collection: Arc<Collection>,
    /// Field name to value, typed as the API shows it (numbers, bools, arrays, objects).
    pub data: Map<String, Json>,
    /// Expanded relations, by field (or back-relation) name.
    pub expand: Map<String, Json>,
}

impl Record {
    pub fn new(collection: Arc<Collection>) -> Record {
        let data = collection
            .fields
            .iter()
            .map(|f| (f.name.clone(), zero_value(f)))
            .collect();
        Record {
            collection,
            data,
            expand: Map::new(),
        }
    }

    pub fn id(&self) -> &str {
        self.get_str("id")
    }

    pub fn get(&self, field: &str) -> &Json {
        self.data.get(field).unwrap_or(&Json::Null)
    }

    pub fn get_str(&self, field: &str) -> &str {
        self.data.get(field).and_then(Json::as_str).unwrap_or("")
    }

    /// Sets a field's value, as the API would show it (PocketBase's `record.Set`); a write
    /// checks and normalizes it as it does the request's values.
    pub fn set(&mut self, field: &str, value: impl Into<Json>) {
        self.data.insert(field.to_owned(), value.into());
    }

    /// The ids a relation (or the names a select/file field) holds, single or multiple.
    pub fn get_list(&self, field: &str) -> Vec<String> {
        as_list(self.get(field))
    }

    /// Decodes the rows of a `SELECT *` on the collection's table (moving their values).
    pub fn from_rows(collection: &Arc<Collection>, rows: Rows) -> Vec<Record> {
        let fields: Vec<(usize, &Field)> = collection
            .fields
            .iter()
            .filter_map(|f| rows.column_index(&f.name).map(|i| (i, f)))
            .collect();
        rows.rows
            .into_iter()
            .map(|mut row| {
                let data = fields
                    .iter()
                    .map(|(i, f)| {
                        let value = std::mem::replace(&mut row[*i], Value::Null);
                        (f.name.clone(), decode(f, value))
                    })
                    .collect();
                Record {
                    collection: collection.clone(),
                    data,
                    expand: Map::new(),
                }
            })
            .collect()
    }

    /// The value of a field as the database stores it.
    pub fn column_value(&self, field: &Field) -> Value {
        encode(field, self.get(&field.name))
    }
}

/// A list field's items as strings: `"a"` → `["a"]`, `""` → `[]`.
pub fn as_list(v: &Json) -> Vec<String> {
    match v {
        Json::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .filter(|s| !s.is_empty())
            .collect(),
        Json::String(s) if !s.is_empty() => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// The value a field has when nothing was set.
pub fn zero_value(f: &Field) -> Json {
    match f.kind {
        FieldKind::Number => json!(0),
        FieldKind::Bool => json!(false),
        FieldKind::Json => Json::Null,
        FieldKind::GeoPoint => json!({"lon": 0, "lat": 0}),
        FieldKind::Select | FieldKind::File | FieldKind::Relation if f.is_multi() => json!([]),
        _ => json!(""),
    }
}

fn decode(f: &Field, v: Value) -> Json {
    match f.kind {
        FieldKind::Number => match v {
            Value::Int(i) => json!(i),
            Value::Float(x) if x.fract() == 0.0 && x.abs() < 9e15 => json!(x as i64),
            Value::Float(x) => json!(x),
            Value::Text(s) => s.parse::<f64>().map(|x| json!(x)).unwrap_or(json!(0)),
            _ => json!(0),
        },
        FieldKind::Bool => match v {
            Value::Int(i) => json!(i != 0),
            Value::Bool(b) => json!(b),
            Value::Text(s) => json!(s == "1" || s.eq_ignore_ascii_case("true")),
            _ => json!(false),
        },
        FieldKind::Json | FieldKind::GeoPoint => match v {
            Value::Text(s) => match serde_json::from_str(&s) {
                Ok(json) => json,
                Err(_) => Json::String(s),
            },
            Value::Int(i) => json!(i),
            Value::Float(x) => json!(x),
            Value::Null => {
                if f.kind == FieldKind::GeoPoint {
                    zero_value(f)
                } else {
                    Json::Null
                }
            }
            other => json!(format!("{other:?}")),
        },
        FieldKind::Select | FieldKind::File | FieldKind::Relation if f.is_multi() => match v {
            Value::Text(s) => match serde_json::from_str::<Json>(&s) {
                Ok(Json::Array(a)) => Json::Array(a),
                _ if s.is_empty() => json!([]),
                _ => json!([s]),
            },
            _ => json!([]),
        },
        _ => match v {
            Value::Text(s) => Json::String(s),
            Value::Int(i) => json!(i.to_string()),
            Value::Float(x) => json!(x.to_string()),
            Value::Null => json!(""),
            Value::Bool(b) => json!(b.to_string()),
            Value::Blob(b) => json!(String::from_utf8_lossy(&b)),
        },
    }
}

/// A float as Go's `encoding/json` writes it: the shortest text that reads back, an exponent
/// (`1e-07`, `1e+21`) below 1e-6 and from 1e21 up.
fn go_float(x: f64) -> String {
    if !x.is_finite() {
        return "0".to_owned();
    }
    let abs = x.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let e = format!("{x:e}");
        let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
        let (sign, digits) = match exp.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', exp),
        };
        return format!("{mantissa}e{sign}{digits:0>2}");
    }
    format!("{x}")
}

fn encode(f: &Field, v: &Json) -> Value {
    match f.kind {
        FieldKind::Number => match v.as_f64() {
            Some(x) if x.fract() == 0.0 && x.abs() < 9e15 => Value::Int(x as i64),
            Some(x) => Value::Float(x),
            None => Value::Int(0),
        },
        FieldKind::Bool => Value::Bool(v.as_bool().unwrap_or(false)),
        FieldKind::Json => match v {
            Json::Null => Value::Null,
            other => Value::Text(other.to_string()),
        },
        // PB-COMPAT: stored as PocketBase writes it, `{"lon":1.5,"lat":2}` (lon first, numbers
        // as Go writes them): comparisons and sorts read this text.
        FieldKind::GeoPoint => {
            let coord = |k: &str| go_float(v.get(k).and_then(Json::as_f64).unwrap_or(0.0));
            Value::Text(format!(
                "{{\"lon\":{},\"lat\":{}}}",
                coord("lon"),
                coord("lat")
            ))
        }
        FieldKind::Select | FieldKind::File | FieldKind::Relation if f.is_multi() => {
            Value::Text(Json::Array(as_list(v).into_iter().map(Json::String).collect()).to_string())
        }
        _ => Value::Text(match v {
            Json::String(s) => s.clone(),
            Json::Null => String::new(),
            other => other.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::go_float;

    #[test]
    fn floats_are_written_as_go_writes_them() {
        assert_eq!(go_float(1.0), "1");
        assert_eq!(go_float(-5.0), "-5");
        assert_eq!(go_float(1.5), "1.5");
        assert_eq!(go_float(0.0), "0");
        assert_eq!(go_float(1e-7), "1e-07");
        assert_eq!(go_float(1.5e21), "1.5e+21");
        assert_eq!(go_float(0.000001), "0.000001");
    }
}
