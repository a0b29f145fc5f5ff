//! The values resolvers pass down: a record with its expanded relations split out, and a list's
//! page. A record is converted once, by move, when it arrives from the core; its fields and
//! expanded relations are then read by reference and answered at once, so a page of records
//! costs no copy of the page and no future per field.

use async_graphql::dynamic::{FieldFuture, FieldValue};
use async_graphql::{Name, Value as GqlValue};
use serde_json::Value as Json;

/// A record as REST shows it, with what the query's `expand` fetched split out as records of
/// their own, and how many expand levels below the fetch that produced it it sits.
pub(super) struct Rec {
    /// The record's fields (no `expand`).
    pub json: Json,
    pub depth: usize,
    /// The expanded relations by key (a field, or `<source>_via_<field>`): `None` when the
    /// record came without `expand` (nothing was asked of it), an absent key when nothing
    /// visible is there.
    expand: Option<Vec<(String, Vec<Rec>)>>,
}

impl Rec {
    pub fn new(mut json: Json, depth: usize) -> Rec {
        let expand = match &mut json {
            Json::Object(map) => map.remove("expand"),
            _ => None,
        };
        let expand = expand.map(|expand| match expand {
            Json::Object(map) => map
                .into_iter()
                .map(|(key, related)| {
                    let records = match related {
                        Json::Array(items) => items,
                        one @ Json::Object(_) => vec![one],
                        _ => Vec::new(),
                    };
                    let records = records
                        .into_iter()
                        .map(|json| Rec::new(json, depth + 1))
                        .collect();
                    (key, records)
                })
                .collect(),
            _ => Vec::new(),
        });
        Rec {
            json,
            depth,
            expand,
        }
    }

    /// Whether the record came with an `expand` (possibly empty).
    pub fn has_expand(&self) -> bool {
        self.expand.is_some()
    }

    /// The records expanded under `key` (none when nothing visible is there).
    pub fn expanded(&self, key: &str) -> &[Rec] {
        self.expand
            .iter()
            .flatten()
            .find(|(k, _)| k == key)
            .map_or(&[], |(_, records)| records.as_slice())
    }
}

/// A list's answer: its numbers (`page`, `totalItems`, `hasNextPage`...) and its records.
pub(super) struct Page {
    pub numbers: Json,
    pub items: Vec<Rec>,
}

/// A JSON value as a GraphQL value (JSON's `null` is GraphQL's null).
pub(super) fn gql(value: &Json) -> GqlValue {
    match value {
        Json::Null => GqlValue::Null,
        Json::Bool(b) => GqlValue::Boolean(*b),
        Json::Number(n) => GqlValue::Number(n.clone()),
        Json::String(s) => GqlValue::String(s.clone()),
        Json::Array(items) => GqlValue::List(items.iter().map(gql).collect()),
        Json::Object(map) => {
            GqlValue::Object(map.iter().map(|(k, v)| (Name::new(k), gql(v))).collect())
        }
    }
}

/// A field's answer, known without waiting: no boxed future.
pub(super) fn ready(value: async_graphql::Result<FieldValue<'_>>) -> FieldFuture<'_> {
    match value {
        Ok(value) => FieldFuture::Value(Some(value)),
        Err(e) => FieldFuture::new(async move { Err::<Option<FieldValue<'_>>, _>(e) }),
    }
}

/// A JSON value as a field's answer.
pub(super) fn json_value(value: Option<&Json>) -> FieldValue<'static> {
    match value {
        None | Some(Json::Null) => FieldValue::NULL,
        Some(v) => FieldValue::value(gql(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expand_is_split_into_records_one_level_down() {
        let rec = Rec::new(
            json!({"id": "a", "expand": {"room": {"id": "r", "expand": {}}, "tags": [{"id": "t1"}, {"id": "t2"}]}}),
            0,
        );
        assert!(rec.has_expand() && rec.json.get("expand").is_none());
        let room = rec.expanded("room");
        assert_eq!((room.len(), room[0].depth), (1, 1));
        assert!(room[0].has_expand() && room[0].expanded("x").is_empty());
        let tags: Vec<_> = rec.expanded("tags").iter().map(|t| &t.json["id"]).collect();
        assert_eq!(tags, ["t1", "t2"]);
        assert!(rec.expanded("missing").is_empty());
        assert!(!Rec::new(json!({"id": "b"}), 0).has_expand());
    }

    #[test]
    fn json_converts_as_async_graphql_does() {
        let value = json!({"a": [1, 2.5, -3, true, null, "x"], "b": {"c": {}}, "d": 1e300});
        assert_eq!(
            gql(&value),
            GqlValue::from_json(value.clone()).unwrap_or_default()
        );
    }
}
