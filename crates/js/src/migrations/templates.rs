//! The JS migration files PocketBase's `migratecmd` writes (`plugins/migratecmd/templates.go`),
//! byte for byte: a blank one (`migrate create`), a snapshot of every collection (`migrate
//! collections`), and the create, delete and diff migrations of `--automigrate`.
//!
//! Definitions go in as the API's JSON (`Collection::to_json`). Go marshals them through a map,
//! so keys come out sorted at every level, indented by two spaces under a two-space prefix,
//! with integral numbers written as integers: `go_json` writes the same.

use serde_json::{Map, Value as Json};

/// Why no diff migration was written.
#[derive(Debug, PartialEq, Eq)]
pub enum Empty {
    /// The change left the definition as it was (PocketBase's `ErrEmptyTemplate`).
    NoChange,
}

/// The first line of every template: the editor's type declarations, in the data folder next
/// to the migrations folder (PocketBase's is `../pb_data/types.d.ts`).
pub fn types_directive(data_dir_name: &str) -> String {
    format!("/// <reference path=\"../{data_dir_name}/types.d.ts\" />\n")
}

/// `migrate create NAME`.
pub fn blank(directive: &str) -> String {
    format!(
        "{directive}migrate((app) => {{\n  // add up queries...\n}}, (app) => {{\n  // add down queries...\n}})\n"
    )
}

/// `migrate collections`: every collection, imported as it is (nothing to revert).
pub fn snapshot(directive: &str, collections: &[Json]) -> String {
    let list: Vec<Json> = collections.iter().map(portable).collect();
    format!(
        "{directive}migrate((app) => {{\n  const snapshot = {};\n\n  return app.importCollections(snapshot, false);\n}}, (app) => {{\n  return null;\n}})\n",
        go_json(&Json::Array(list))
    )
}

/// A collection created: up saves it, down deletes it.
pub fn create(directive: &str, collection: &Json) -> String {
    format!(
        "{directive}migrate((app) => {{\n  const collection = new Collection({});\n\n  return app.save(collection);\n}}, (app) => {{\n  const collection = app.findCollectionByNameOrId({});\n\n  return app.delete(collection);\n}})\n",
        go_json(&portable(collection)),
        quoted(id_of(collection))
    )
}

/// A collection deleted: up deletes it, down saves it again.
pub fn delete(directive: &str, collection: &Json) -> String {
    format!(
        "{directive}migrate((app) => {{\n  const collection = app.findCollectionByNameOrId({});\n\n  return app.delete(collection);\n}}, (app) => {{\n  const collection = new Collection({});\n\n  return app.save(collection);\n}})\n",
        quoted(id_of(collection)),
        go_json(&portable(collection))
    )
}

/// A collection changed from `old` to `new`: up applies the differences, down reverts them.
pub fn diff(directive: &str, new: &Json, old: &Json) -> Result<String, Empty> {
    let (new_map, old_map) = (portable(new), portable(old));
    let mut up = Vec::new();
    let mut down = Vec::new();
    let excluded = ["fields", "created", "updated"];
    let up_diff = diff_maps(object(&old_map), object(&new_map), &excluded);
    if !up_diff.is_empty() {
        let down_diff = diff_maps(object(&new_map), object(&old_map), &excluded);
        up.push("// update collection data".to_owned());
        up.push(format!(
            "unmarshal({}, collection)\n",
            go_json(&Json::Object(up_diff))
        ));
        down.push("// update collection data".to_owned());
        down.push(format!(
            "unmarshal({}, collection)\n",
            go_json(&Json::Object(down_diff))
        ));
    }
    let (old_fields, new_fields) = (fields(&old_map), fields(&new_map));
    let position = |list: &[Json], id: &str| list.iter().position(|f| id_of(f) == id);
    for (i, field) in old_fields.iter().enumerate() {
        if position(new_fields, id_of(field)).is_none() {
            up.push("// remove field".to_owned());
            up.push(format!(
                "collection.fields.removeById({})\n",
                quoted(id_of(field))
            ));
            down.push("// add field".to_owned());
            down.push(add_at(i, field));
        }
    }
    for (i, field) in new_fields.iter().enumerate() {
        if position(old_fields, id_of(field)).is_none() {
            up.push("// add field".to_owned());
            up.push(add_at(i, field));
            down.push("// remove field".to_owned());
            down.push(format!(
                "collection.fields.removeById({})\n",
                quoted(id_of(field))
            ));
        }
    }
    // PB-COMPAT: as there, a field that only moved is no change.
    for (i, field) in new_fields.iter().enumerate() {
        let Some(j) = position(old_fields, id_of(field)) else {
            continue;
        };
        if go_json(field) == go_json(&old_fields[j]) {
            continue;
        }
        up.push("// update field".to_owned());
        up.push(add_at(i, field));
        down.push("// update field".to_owned());
        down.push(add_at(j, &old_fields[j]));
    }
    if up.is_empty() && down.is_empty() {
        return Err(Empty::NoChange);
    }
    Ok(format!(
        "{directive}migrate((app) => {{\n  const collection = app.findCollectionByNameOrId({})\n\n  {}\n\n  return app.save(collection)\n}}, (app) => {{\n  const collection = app.findCollectionByNameOrId({})\n\n  {}\n\n  return app.save(collection)\n}})\n",
        quoted(id_of(old)),
        up.join("\n  ").trim(),
        quoted(id_of(new)),
        down.join("\n  ").trim()
    ))
}

fn add_at(at: usize, field: &Json) -> String {
    format!(
        "collection.fields.addAt({at}, new Field({}))\n",
        go_json(field)
    )
}

/// A definition as the templates write it: no timestamps, no OAuth2 providers (their
/// secrets stay out of the files, as in PocketBase).
fn portable(collection: &Json) -> Json {
    let mut c = collection.clone();
    if let Json::Object(m) = &mut c {
        m.remove("created");
        m.remove("updated");
        if let Some(Json::Object(oauth2)) = m.get_mut("oauth2") {
            oauth2.remove("providers");
        }
    }
    c
}

fn object(v: &Json) -> &Map<String, Json> {
    static EMPTY: std::sync::LazyLock<Map<String, Json>> = std::sync::LazyLock::new(Map::new);
    v.as_object().unwrap_or(&EMPTY)
}

fn fields(v: &Json) -> &[Json] {
    v.get("fields").and_then(Json::as_array).map_or(&[], |f| f)
}

fn id_of(v: &Json) -> &str {
    v.get("id").and_then(Json::as_str).unwrap_or("")
}

fn quoted(s: &str) -> String {
    Json::String(s.to_owned()).to_string()
}

/// PocketBase's `diffMaps`: the keys of `new` whose values differ from `old`'s (nested objects
/// by their changed keys only), and `null` for the keys `new` lost.
fn diff_maps(
    old: &Map<String, Json>,
    new: &Map<String, Json>,
    excluded: &[&str],
) -> Map<String, Json> {
    let mut diff = Map::new();
    for (k, v_new) in new {
        if excluded.contains(&k.as_str()) {
            continue;
        }
        match old.get(k) {
            None => {
                diff.insert(k.clone(), v_new.clone());
            }
            Some(v_old) if go_json(v_old) != go_json(v_new) => match (v_old, v_new) {
                (Json::Object(o), Json::Object(n)) => {
                    let sub = diff_maps(o, n, &[]);
                    if !sub.is_empty() {
                        diff.insert(k.clone(), Json::Object(sub));
                    }
                }
                _ => {
                    diff.insert(k.clone(), v_new.clone());
                }
            },
            Some(_) => {}
        }
    }
    for k in old.keys() {
        if !diff.contains_key(k) && !excluded.contains(&k.as_str()) && !new.contains_key(k) {
            diff.insert(k.clone(), Json::Null);
        }
    }
    diff
}

/// `json.MarshalIndent(v, "  ", "  ")` of a Go map, unescaped as PocketBase does: sorted keys
/// (serde_json's map is ordered by key), integral numbers without a fraction.
pub fn go_json(v: &Json) -> String {
    let pretty = serde_json::to_string_pretty(&integral(v)).unwrap_or_default();
    pretty.replace('\n', "\n  ")
}

/// Go writes a float64 that holds an integer without its `.0`.
fn integral(v: &Json) -> Json {
    match v {
        Json::Number(n) if n.is_f64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => Json::from(f as i64),
            _ => v.clone(),
        },
        Json::Array(items) => Json::Array(items.iter().map(integral).collect()),
        Json::Object(m) => Json::Object(m.iter().map(|(k, v)| (k.clone(), integral(v))).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DIRECTIVE: &str = "/// <reference path=\"../pb_data/types.d.ts\" />\n";

    #[test]
    fn blank_is_pocketbases() {
        assert_eq!(
            blank(DIRECTIVE),
            "/// <reference path=\"../pb_data/types.d.ts\" />\nmigrate((app) => {\n  // add up queries...\n}, (app) => {\n  // add down queries...\n})\n"
        );
    }

    #[test]
    fn create_writes_the_definition_without_timestamps_or_providers() {
        let c = json!({"id": "pbc_1", "name": "posts", "created": "x", "updated": "y",
            "listRule": null, "oauth2": {"enabled": false, "providers": [{"name": "google"}]}, "fields": []});
        assert_eq!(
            create(DIRECTIVE, &c),
            r#"/// <reference path="../pb_data/types.d.ts" />
migrate((app) => {
  const collection = new Collection({
    "fields": [],
    "id": "pbc_1",
    "listRule": null,
    "name": "posts",
    "oauth2": {
      "enabled": false
    }
  });

  return app.save(collection);
}, (app) => {
  const collection = app.findCollectionByNameOrId("pbc_1");

  return app.delete(collection);
})
"#
        );
    }

    #[test]
    fn diff_writes_changed_data_and_fields_both_ways() {
        let old = json!({"id": "pbc_1", "name": "posts", "listRule": "", "updated": "a",
            "fields": [{"id": "f1", "name": "title", "type": "text", "max": 10.0}, {"id": "f2", "name": "gone", "type": "bool"}]});
        let new = json!({"id": "pbc_1", "name": "posts", "listRule": "a = 1", "updated": "b",
            "fields": [{"id": "f1", "name": "title", "type": "text", "max": 20}, {"id": "f3", "name": "new", "type": "bool"}]});
        assert_eq!(
            diff(DIRECTIVE, &new, &old).unwrap(),
            r#"/// <reference path="../pb_data/types.d.ts" />
migrate((app) => {
  const collection = app.findCollectionByNameOrId("pbc_1")

  // update collection data
  unmarshal({
    "listRule": "a = 1"
  }, collection)

  // remove field
  collection.fields.removeById("f2")

  // add field
  collection.fields.addAt(1, new Field({
    "id": "f3",
    "name": "new",
    "type": "bool"
  }))

  // update field
  collection.fields.addAt(0, new Field({
    "id": "f1",
    "max": 20,
    "name": "title",
    "type": "text"
  }))

  return app.save(collection)
}, (app) => {
  const collection = app.findCollectionByNameOrId("pbc_1")

  // update collection data
  unmarshal({
    "listRule": ""
  }, collection)

  // add field
  collection.fields.addAt(1, new Field({
    "id": "f2",
    "name": "gone",
    "type": "bool"
  }))

  // remove field
  collection.fields.removeById("f3")

  // update field
  collection.fields.addAt(0, new Field({
    "id": "f1",
    "max": 10,
    "name": "title",
    "type": "text"
  }))

  return app.save(collection)
})
"#
        );
    }

    #[test]
    fn nested_changes_keep_only_the_changed_keys_and_lost_keys_become_null() {
        let old = json!({"id": "c", "passwordAuth": {"enabled": true, "identityFields": ["email"]}, "viewQuery": "x", "fields": []});
        let new = json!({"id": "c", "passwordAuth": {"enabled": false, "identityFields": ["email"]}, "fields": []});
        let up = diff_maps(object(&old), object(&new), &["fields"]);
        assert_eq!(
            Json::Object(up),
            json!({"passwordAuth": {"enabled": false}, "viewQuery": null})
        );
    }

    #[test]
    fn an_unchanged_definition_writes_nothing() {
        let c = json!({"id": "c", "updated": "a", "fields": [{"id": "f", "name": "x"}]});
        let mut later = c.clone();
        later["updated"] = json!("b");
        assert_eq!(diff(DIRECTIVE, &later, &c), Err(Empty::NoChange));
    }
}
