//! JSON Schemas of a collection's records: as the API returns them (visible fields, system
//! keys, `expand`), and as a create or update body takes them (JSON and multipart).

use std::sync::Arc;

use serde_json::{Map, Value as Json, json};

use super::Audience;
use crate::schema::{Collection, Field, FieldKind};

/// The name of a collection's component schema: `posts` + `Record` → `postsRecord`.
pub fn component(collection: &Collection, suffix: &str) -> String {
    format!("{}{suffix}", collection.name)
}

/// A `$ref` to a component schema.
pub fn reference(name: &str) -> Json {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// What a schema describes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A value as the API returns it.
    Output,
    /// A value in a JSON body.
    Json,
    /// A value in a multipart body: files are uploads.
    Multipart,
}

/// Whether `audience` ever sees `field` in a record (PB-COMPAT: `tokenKey` never leaves,
/// hidden fields only for superusers, and a hidden password never).
fn shown(field: &Field, audience: Audience) -> bool {
    field.name != "tokenKey"
        && !(field.hidden && (audience == Audience::Public || field.kind == FieldKind::Password))
}

/// A record as `audience` receives it (`<name>Record`).
pub fn output(collection: &Collection, audience: Audience, expand: Option<Json>) -> Json {
    let mut properties = Map::new();
    properties.insert(
        "collectionId".into(),
        json!({"type": "string", "const": collection.id, "readOnly": true}),
    );
    properties.insert(
        "collectionName".into(),
        json!({"type": "string", "const": collection.name, "readOnly": true}),
    );
    for f in collection.fields.iter().filter(|f| shown(f, audience)) {
        properties.insert(f.name.clone(), value(f, Mode::Output));
    }
    if let Some(expand) = expand {
        properties.insert("expand".into(), expand);
    }
    // No `required`: the `fields` query parameter may leave any key out. Without it every
    // property is present, except an auth record's `email` (PB-COMPAT: shown only when
    // visible, to its owner or to superusers) and `expand` (present when asked for).
    json!({
        "type": "object",
        "title": collection.name,
        "description": format!("A record of `{}` as the API returns it: every property is present unless the `fields` query parameter narrows it (an auth record's `email` only when `emailVisibility` is on, for its owner, or for superusers; `expand` when asked for).", collection.name),
        "properties": properties,
    })
}

/// The `expand` object of a record of `collection`: each relation field, by name, holds the
/// related record (or a list of them when `maxSelect` > 1), for the related collections
/// `audience` sees. Back-relations (`<collection>_via_<field>`) are open-ended.
pub fn expand(collection: &Collection, all: &[Arc<Collection>], audience: Audience) -> Json {
    let mut properties = Map::new();
    for f in &collection.fields {
        if f.kind != FieldKind::Relation || !shown(f, audience) {
            continue;
        }
        let target = f.str_opt("collectionId");
        let Some(related) = all.iter().find(|c| c.id == target && audience.sees(c)) else {
            continue;
        };
        let one = reference(&component(related, "Record"));
        let schema = if f.is_multi() {
            json!({"type": "array", "items": one})
        } else {
            one
        };
        properties.insert(f.name.clone(), schema);
    }
    json!({
        "type": "object",
        "description": "The relations named in the `expand` query parameter, resolved (only those the caller may view). Back-relations are keyed `<collection>_via_<field>` and hold a list of records.",
        "properties": properties,
        "additionalProperties": true,
    })
}

/// A create (`create` true) or update body of `collection`, as JSON or multipart.
pub fn input(collection: &Collection, create: bool, multipart: bool) -> Json {
    let mode = if multipart {
        Mode::Multipart
    } else {
        Mode::Json
    };
    let mut properties = Map::new();
    let mut required = Vec::new();
    for f in &collection.fields {
        if f.kind == FieldKind::Autodate || f.name == "tokenKey" {
            continue;
        }
        // PB-COMPAT: files are only sent in multipart bodies.
        if f.kind == FieldKind::File && !multipart {
            continue;
        }
        let mut schema = value(f, mode);
        if f.name == "id" {
            schema = json!({"type": "string", "description": "An id of your choosing (15 characters `a-z0-9` by default); generated when left out."});
            if !create {
                continue;
            }
        }
        properties.insert(f.name.clone(), schema);
        if is_multi_kind(f) {
            // PB-COMPAT: `field+` appends to and `field-` removes from a multi-value field
            // (`+field` prepends).
            let one = single_value(f, mode);
            let items = json!({"oneOf": [one, {"type": "array", "items": one}]});
            properties.insert(format!("{}+", f.name), items.clone());
            properties.insert(format!("+{}", f.name), items.clone());
            properties.insert(format!("{}-", f.name), items);
        }
        if f.kind == FieldKind::Number {
            // PB-COMPAT: `field+` / `field-` add to and subtract from a number.
            properties.insert(format!("{}+", f.name), json!({"type": "number"}));
            properties.insert(format!("{}-", f.name), json!({"type": "number"}));
        }
        if create && f.required && f.name != "id" && f.str_opt("autogeneratePattern").is_empty() {
            required.push(json!(f.name));
        }
    }
    if collection.is_auth() {
        properties.insert(
            "passwordConfirm".into(),
            json!({"type": "string", "writeOnly": true, "description": "The password again; required with `password`."}),
        );
        if create {
            required.push(json!("passwordConfirm"));
        } else {
            properties.insert(
                "oldPassword".into(),
                json!({"type": "string", "writeOnly": true, "description": "The current password; required when a non-superuser changes the password."}),
            );
        }
    }
    let mut schema = json!({"type": "object", "properties": properties});
    if !required.is_empty() {
        schema["required"] = Json::Array(required);
    }
    schema
}

/// A standalone JSON Schema (2020-12) of a record of `collection` (its `expand` left open).
pub fn standalone(collection: &Collection, audience: Audience) -> Json {
    let mut schema = output(
        collection,
        audience,
        Some(json!({"type": "object", "description": "Resolved relations, by field name."})),
    );
    if let Json::Object(m) = &mut schema {
        let mut head = Map::new();
        head.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        head.insert(
            "$id".into(),
            json!(format!("/api/collections/{}/schema.json", collection.name)),
        );
        head.append(m);
        *m = head;
    }
    schema
}

fn is_multi_kind(f: &Field) -> bool {
    matches!(
        f.kind,
        FieldKind::Select | FieldKind::File | FieldKind::Relation
    ) && f.is_multi()
}

/// The schema of `field`'s value.
fn value(f: &Field, mode: Mode) -> Json {
    let mut schema = if is_multi_kind(f) {
        let mut list = json!({
            "type": "array",
            "items": single_value(f, mode),
            "maxItems": f.max_select(),
            "uniqueItems": true,
        });
        if f.required && mode != Mode::Output {
            list["minItems"] = json!(f.num_opt("minSelect").unwrap_or(0.0).max(1.0) as u64);
        }
        list
    } else {
        single_value(f, mode)
    };
    if let Some(obj) = schema.as_object_mut() {
        if f.hidden {
            obj.insert("description".into(), json!("Hidden: superusers only."));
        }
        if f.kind == FieldKind::Autodate {
            obj.insert("readOnly".into(), json!(true));
        }
        if f.kind == FieldKind::Password {
            obj.insert("writeOnly".into(), json!(true));
        }
    }
    schema
}

/// The schema of one value of `field` (one item of a multi-value field).
fn single_value(f: &Field, mode: Mode) -> Json {
    // A value read back may be blank even when required (a field made required later keeps
    // the blanks it had), except the primary key.
    let blank_ok = (!f.required || mode == Mode::Output) && !f.bool_opt("primaryKey");
    match f.kind {
        FieldKind::Text | FieldKind::Password => {
            let mut s = json!({"type": "string"});
            let pattern = f.str_opt("pattern");
            if !pattern.is_empty() && mode != Mode::Output {
                s["pattern"] = json!(pattern);
            }
            if f.kind == FieldKind::Password && mode == Mode::Output {
                // PB-COMPAT: a visible password field is always blank.
                return json!({"type": "string", "const": ""});
            }
            lengths(s, f, blank_ok)
        }
        FieldKind::Editor => json!({"type": "string", "description": "HTML"}),
        FieldKind::Email => json!({"type": "string", "format": "email"}),
        FieldKind::Url => json!({"type": "string", "format": "uri"}),
        FieldKind::Date | FieldKind::Autodate => json!({
            "type": "string",
            "description": "A UTC date: `YYYY-MM-DD HH:MM:SS.sssZ` (empty when unset).",
            "examples": ["2024-01-31 12:00:00.000Z"],
        }),
        FieldKind::Number => number(f, blank_ok),
        FieldKind::Bool => json!({"type": "boolean"}),
        FieldKind::Select => {
            let mut values: Vec<Json> = f.list_opt("values").into_iter().map(Json::from).collect();
            if blank_ok && !f.is_multi() {
                values.push(json!(""));
            }
            json!({"type": "string", "enum": values})
        }
        FieldKind::File if mode == Mode::Multipart => {
            json!({"type": "string", "format": "binary"})
        }
        FieldKind::File => {
            json!({"type": "string", "description": "A file name, served at /api/files/{collection}/{record}/{name}."})
        }
        FieldKind::Relation => {
            json!({"type": "string", "description": "The id of a related record."})
        }
        FieldKind::Json => json!({"description": "Any JSON value."}),
        FieldKind::GeoPoint => json!({
            "type": "object",
            "properties": {"lon": {"type": "number"}, "lat": {"type": "number"}},
            "required": ["lon", "lat"],
        }),
    }
}

/// `minLength`/`maxLength` of a text. PB-COMPAT: a blank optional text skips its limits.
fn lengths(mut s: Json, f: &Field, blank_ok: bool) -> Json {
    let min = f.num_opt("min").unwrap_or(0.0) as u64;
    let max = f.num_opt("max").unwrap_or(0.0) as u64;
    if max > 0 {
        s["maxLength"] = json!(max);
    }
    if min > 0 {
        if blank_ok {
            s["anyOf"] = json!([{"maxLength": 0}, {"minLength": min}]);
        } else {
            s["minLength"] = json!(min);
        }
    } else if !blank_ok {
        s["minLength"] = json!(1);
    }
    s
}

/// A number with its bounds. PB-COMPAT: an optional zero skips them.
fn number(f: &Field, blank_ok: bool) -> Json {
    let ty = if f.bool_opt("onlyInt") {
        "integer"
    } else {
        "number"
    };
    let mut bounds = Map::new();
    if let Some(min) = f.num_opt("min") {
        bounds.insert("minimum".into(), json!(min));
    }
    if let Some(max) = f.num_opt("max") {
        bounds.insert("maximum".into(), json!(max));
    }
    let mut s = json!({"type": ty});
    if bounds.is_empty() {
        return s;
    }
    if blank_ok {
        s["anyOf"] = json!([{"const": 0}, Json::Object(bounds)]);
    } else if let Json::Object(m) = &mut s {
        m.append(&mut bounds);
    }
    s
}
