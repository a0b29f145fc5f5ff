//! Fields of a collection: their type, common flags and the type's options, normalised to the
//! exact JSON shape PocketBase uses (every option present, with its default).

use serde_json::{Map, Value as Json, json};

use crate::error::{FieldErrors, field_error_json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Editor,
    Number,
    Bool,
    Email,
    Url,
    Date,
    Autodate,
    Select,
    File,
    Relation,
    Json,
    GeoPoint,
    Password,
}

impl FieldKind {
    pub const ALL: [FieldKind; 14] = [
        FieldKind::Text,
        FieldKind::Editor,
        FieldKind::Number,
        FieldKind::Bool,
        FieldKind::Email,
        FieldKind::Url,
        FieldKind::Date,
        FieldKind::Autodate,
        FieldKind::Select,
        FieldKind::File,
        FieldKind::Relation,
        FieldKind::Json,
        FieldKind::GeoPoint,
        FieldKind::Password,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Editor => "editor",
            FieldKind::Number => "number",
            FieldKind::Bool => "bool",
            FieldKind::Email => "email",
            FieldKind::Url => "url",
            FieldKind::Date => "date",
            FieldKind::Autodate => "autodate",
            FieldKind::Select => "select",
            FieldKind::File => "file",
            FieldKind::Relation => "relation",
            FieldKind::Json => "json",
            FieldKind::GeoPoint => "geoPoint",
            FieldKind::Password => "password",
        }
    }

    pub fn parse(s: &str) -> Option<FieldKind> {
        FieldKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The type's options with PocketBase's defaults.
    fn default_options(self) -> Json {
        match self {
            FieldKind::Text => {
                json!({"autogeneratePattern": "", "max": 0, "min": 0, "pattern": "", "primaryKey": false})
            }
            FieldKind::Editor => json!({"convertURLs": false, "maxSize": 0}),
            FieldKind::Number => json!({"max": null, "min": null, "onlyInt": false}),
            FieldKind::Bool | FieldKind::GeoPoint => json!({}),
            FieldKind::Email | FieldKind::Url => json!({"exceptDomains": [], "onlyDomains": []}),
            FieldKind::Date => json!({"max": "", "min": ""}),
            FieldKind::Autodate => json!({"onCreate": true, "onUpdate": false}),
            FieldKind::Select => json!({"maxSelect": 1, "values": []}),
            FieldKind::File => {
                json!({"maxSelect": 1, "maxSize": 0, "mimeTypes": [], "protected": false, "thumbs": []})
            }
            FieldKind::Relation => {
                json!({"cascadeDelete": false, "collectionId": "", "maxSelect": 1, "minSelect": 0})
            }
            FieldKind::Json => json!({"maxSize": 0}),
            FieldKind::Password => json!({"cost": 0, "max": 0, "min": 0, "pattern": ""}),
        }
    }
}

/// One field of a collection.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub id: String,
    pub name: String,
    pub kind: FieldKind,
    pub system: bool,
    pub hidden: bool,
    pub presentable: bool,
    pub required: bool,
    /// The type's options (`min`, `max`, `values`, `collectionId`...), all present.
    pub options: Map<String, Json>,
}

impl Field {
    pub fn new(name: &str, kind: FieldKind) -> Field {
        let options = match kind.default_options() {
            Json::Object(m) => m,
            _ => Map::new(),
        };
        Field {
            id: default_field_id(kind, name),
            name: name.to_owned(),
            kind,
            system: false,
            hidden: false,
            presentable: false,
            required: false,
            options,
        }
    }

    pub fn with(mut self, key: &str, value: Json) -> Field {
        self.options.insert(key.to_owned(), value);
        self
    }

    /// Parses a field from the API's JSON, keeping only the known options of its type and
    /// filling the missing ones with defaults. Errors are keyed by option name.
    pub fn from_json(input: &Json) -> Result<Field, FieldErrors> {
        let mut errors = FieldErrors::new();
        let obj = input.as_object().cloned().unwrap_or_default();
        let name = obj
            .get("name")
            .and_then(Json::as_str)
            .unwrap_or("")
            .trim()
            .to_owned();
        let kind = obj
            .get("type")
            .and_then(Json::as_str)
            .and_then(FieldKind::parse);
        let Some(kind) = kind else {
            errors.insert(
                "type".into(),
                field_error_json("validation_required", "Missing or invalid field type."),
            );
            return Err(errors);
        };
        let mut field = Field::new(&name, kind);
        if let Some(id) = obj
            .get("id")
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty())
        {
            field.id = id.to_owned();
        }
        let flag = |k: &str| obj.get(k).and_then(Json::as_bool).unwrap_or(false);
        field.system = flag("system");
        field.hidden = flag("hidden");
        field.presentable = flag("presentable");
        field.required = flag("required");
        let known: Vec<String> = field.options.keys().cloned().collect();
        for key in known {
            if let Some(v) = obj.get(&key) {
                field.options.insert(key, v.clone());
            }
        }
        field.validate_options(&mut errors);
        if errors.is_empty() {
            Ok(field)
        } else {
            Err(errors)
        }
    }

    fn validate_options(&mut self, errors: &mut FieldErrors) {
        if let Some(e) = field_name_error(&self.name) {
            errors.insert("name".into(), e);
        }
        for key in ["min", "max", "maxSelect", "minSelect", "maxSize", "cost"] {
            let Some(v) = self.options.get(key) else {
                continue;
            };
            let nullable = self.kind == FieldKind::Number || (self.kind == FieldKind::Date);
            let ok = v.is_number()
                || (nullable && v.is_null())
                || (self.kind == FieldKind::Date && v.is_string());
            if !ok {
                errors.insert(
                    key.into(),
                    field_error_json("validation_invalid_value", "Must be a number."),
                );
            }
        }
        if self.kind == FieldKind::Select
            && let Some(e) = select_max_error(&self.options)
        {
            errors.insert("maxSelect".into(), e);
        }
        if let Some(Json::Number(n)) = self.options.get("maxSelect")
            && n.as_f64().unwrap_or(0.0) < 1.0
        {
            self.options.insert("maxSelect".into(), json!(1));
        }
        match self.kind {
            FieldKind::Select => {
                let values = self.options.get("values").and_then(Json::as_array);
                if values.is_none_or(|v| v.is_empty() || v.iter().any(|x| !x.is_string())) {
                    errors.insert(
                        "values".into(),
                        field_error_json("validation_required", "Cannot be blank."),
                    );
                }
            }
            FieldKind::Relation if self.str_opt("collectionId").is_empty() => {
                errors.insert(
                    "collectionId".into(),
                    field_error_json("validation_required", "Cannot be blank."),
                );
            }
            FieldKind::Text | FieldKind::Password => {
                let pattern = self.str_opt("pattern");
                if !pattern.is_empty() && regex::Regex::new(pattern).is_err() {
                    errors.insert(
                        "pattern".into(),
                        field_error_json("validation_invalid_regex", "Invalid regular expression."),
                    );
                }
            }
            _ => {}
        }
    }

    pub fn str_opt(&self, key: &str) -> &str {
        self.options.get(key).and_then(Json::as_str).unwrap_or("")
    }
    pub fn num_opt(&self, key: &str) -> Option<f64> {
        self.options.get(key).and_then(Json::as_f64)
    }
    pub fn bool_opt(&self, key: &str) -> bool {
        self.options
            .get(key)
            .and_then(Json::as_bool)
            .unwrap_or(false)
    }
    pub fn list_opt(&self, key: &str) -> Vec<String> {
        self.options
            .get(key)
            .and_then(Json::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
    pub fn max_select(&self) -> usize {
        self.num_opt("maxSelect")
            .map(|n| n.max(1.0) as usize)
            .unwrap_or(1)
    }

    /// Whether the field holds a list (a JSON array column): multi select, file and relation.
    pub fn is_multi(&self) -> bool {
        matches!(
            self.kind,
            FieldKind::Select | FieldKind::File | FieldKind::Relation
        ) && self.max_select() > 1
    }

    /// PocketBase's API shape of the field.
    pub fn to_json(&self) -> Json {
        let mut m = Map::new();
        // PB-COMPAT: autodate fields carry neither `help` nor `required`.
        if self.kind != FieldKind::Autodate {
            m.insert("help".into(), json!(""));
            m.insert("required".into(), json!(self.required));
        }
        m.insert("hidden".into(), json!(self.hidden));
        m.insert("id".into(), json!(self.id));
        m.insert("name".into(), json!(self.name));
        m.insert("presentable".into(), json!(self.presentable));
        m.insert("system".into(), json!(self.system));
        m.insert("type".into(), json!(self.kind.as_str()));
        for (k, v) in &self.options {
            m.insert(k.clone(), v.clone());
        }
        Json::Object(m)
    }
}

/// PB-COMPAT: a select's `maxSelect` lies between 0 and its number of values, reported with
/// the generic threshold codes (a select without values only gets the `values` error).
fn select_max_error(options: &Map<String, Json>) -> Option<Json> {
    let max_select = options.get("maxSelect").and_then(Json::as_f64)?;
    let values = options
        .get("values")
        .and_then(Json::as_array)
        .map_or(0, Vec::len);
    if max_select < 0.0 {
        return Some(
            json!({"code": "validation_min_greater_equal_than_required", "message": "Must be no less than 0.", "params": {"threshold": 0}}),
        );
    }
    (values > 0 && max_select > values as f64).then(|| {
        json!({"code": "validation_max_less_equal_than_required", "message": format!("Must be no greater than {values}."), "params": {"threshold": values}})
    })
}

/// PB-COMPAT: the longest collection or field name, in bytes. PocketBase allows 255 for
/// collections and 100 for fields, but PostgreSQL cuts identifiers at 63 bytes (two long names
/// would become one table); one limit on both databases keeps every SQLite app movable to
/// PostgreSQL (`migrate-db`).
pub const MAX_NAME_LEN: usize = 63;

/// Field and collection names, as PocketBase's `^\w+$`: ASCII letters, digits and underscores,
/// in any order (`9f`, `_x`, `3f2a9c` are names), at most [`MAX_NAME_LEN`] bytes.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

fn length_error(name: &str) -> Option<Json> {
    if name.is_empty() {
        return Some(field_error_json("validation_required", "Cannot be blank."));
    }
    (name.len() > MAX_NAME_LEN).then(|| {
        json!({
            "code": "validation_length_out_of_range",
            "message": format!("The length must be between 1 and {MAX_NAME_LEN}."),
            "params": {"max": MAX_NAME_LEN, "min": 1},
        })
    })
}

fn format_error(name: &str) -> Option<Json> {
    (!is_valid_name(name))
        .then(|| field_error_json("validation_match_invalid", "Must be in a valid format."))
}

/// `_via_` is the back-relation syntax of filters (`posts_via_author`).
fn via_error(name: &str) -> Option<Json> {
    name.to_ascii_lowercase().contains("_via_").then(|| {
        field_error_json(
            "validation_found_via",
            "The value cannot contain \"_via_\".",
        )
    })
}

/// PocketBase's checks of a collection name that need no other collection, in its order (the
/// first failing one is reported): blank, too long, `_via_`, not `^\w+$`.
pub fn collection_name_error(name: &str) -> Option<Json> {
    length_error(name)
        .or_else(|| via_error(name))
        .or_else(|| format_error(name))
}

/// Names no field may take (case-sensitive, as in PocketBase): the filter literals, the row
/// id, and the keys every record's JSON carries.
const EXCLUDED_FIELD_NAMES: [&str; 7] = [
    "null",
    "true",
    "false",
    "_rowid_",
    "collectionId",
    "collectionName",
    "expand",
];

/// PocketBase's checks of a field name, in its order: blank, too long, not `^\w+$`, a
/// reserved name, `_via_`.
pub fn field_name_error(name: &str) -> Option<Json> {
    length_error(name)
        .or_else(|| format_error(name))
        .or_else(|| {
            EXCLUDED_FIELD_NAMES
                .contains(&name)
                .then(|| field_error_json("validation_not_in_invalid", "Must not be in list."))
        })
        .or_else(|| via_error(name))
}

/// PocketBase's default field id: the type and the CRC-32 of the name (`text3208210256` for
/// `id`), so ids of system fields match PocketBase's.
pub fn default_field_id(kind: FieldKind, name: &str) -> String {
    format!("{}{}", kind.as_str(), crc32fast::hash(name.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_json_fills_defaults_and_drops_unknown_options() {
        let f = Field::from_json(&json!({"name": "title", "type": "text", "max": 10, "bogus": 1}))
            .unwrap();
        let out = f.to_json();
        assert_eq!(out["max"], 10);
        assert_eq!(out["min"], 0);
        assert_eq!(out["pattern"], "");
        assert!(out.get("bogus").is_none());
    }

    #[test]
    fn select_without_values_is_rejected() {
        let err = Field::from_json(&json!({"name": "s", "type": "select"})).unwrap_err();
        assert!(err.contains_key("values"));
    }

    #[test]
    fn select_max_select_is_at_most_the_number_of_values() {
        let err = Field::from_json(
            &json!({"name": "s", "type": "select", "values": ["a", "b"], "maxSelect": 3}),
        )
        .unwrap_err();
        assert_eq!(
            err["maxSelect"]["code"],
            "validation_max_less_equal_than_required"
        );
        assert_eq!(err["maxSelect"]["params"]["threshold"], 2);
        let err = Field::from_json(
            &json!({"name": "s", "type": "select", "values": ["a"], "maxSelect": -1}),
        )
        .unwrap_err();
        assert_eq!(
            err["maxSelect"]["code"],
            "validation_min_greater_equal_than_required"
        );
        assert!(
            Field::from_json(
                &json!({"name": "s", "type": "select", "values": ["a", "b"], "maxSelect": 2})
            )
            .is_ok()
        );
    }

    #[test]
    fn names_are_word_characters_in_any_order() {
        assert!(is_valid_name("a_1"));
        assert!(is_valid_name("1a"));
        assert!(is_valid_name("_"));
        assert!(!is_valid_name("a-b"));
        assert!(!is_valid_name("é"));
        assert!(!is_valid_name(""));
        assert!(is_valid_name(&"a".repeat(MAX_NAME_LEN)));
        assert!(!is_valid_name(&"a".repeat(MAX_NAME_LEN + 1)));
    }

    #[test]
    fn field_names_follow_pocketbase_s_rules_in_its_order() {
        let code =
            |n: &str| field_name_error(n).map(|e| e["code"].as_str().unwrap_or("").to_owned());
        assert_eq!(code("9f"), None);
        assert_eq!(code("TRUE"), None, "the list is case-sensitive");
        assert_eq!(code("collectionname"), None);
        assert_eq!(code(""), Some("validation_required".into()));
        assert_eq!(code("null").as_deref(), Some("validation_not_in_invalid"));
        assert_eq!(code("expand").as_deref(), Some("validation_not_in_invalid"));
        assert_eq!(code("a-b").as_deref(), Some("validation_match_invalid"));
        assert_eq!(code("a_VIA_b").as_deref(), Some("validation_found_via"));
        assert_eq!(
            code(&"c".repeat(64)).as_deref(),
            Some("validation_length_out_of_range")
        );
    }
}
