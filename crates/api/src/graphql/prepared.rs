//! Queries seen before, for one version of the schema: the parsed document of a query text,
//! and what validating it answered for the same operation and variables. Clients send the
//! same few query texts again and again; parsing and validating one cost about a tenth of a
//! list of 50 records (measured), the same each time.
//!
//! Validation depends on the variables' values (an argument's type is checked against the
//! value a variable brings), so a validation is reused only for variables that validate
//! alike: equal ones, or, once the query is parsed and every variable it declares is of a
//! built-in scalar type, values of the same kinds ([`shape`]: any string is a `String`, any
//! 32-bit integer an `Int`). A parsed document does not depend on them. Only successes are
//! kept: a refused query is refused again, with its own errors, by the full path.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::{BaseType, ExecutableDocument};
use async_graphql::{ServerError, ServerResult, ValidationResult, Variables};
use parking_lot::Mutex;
use serde_json::Value as Json;

use super::direct::{self, Plan};
use super::selection::Info;

/// Longer query texts are not kept (the memory a kept entry may take).
const MAX_QUERY_BYTES: usize = 16 * 1024;
/// Entries kept at most in each map; past it the map starts over (clients have few queries).
const MAX_ENTRIES: usize = 512;

/// What is known of the queries run against one schema.
pub(super) struct Prepared {
    parsed: Mutex<HashMap<String, Arc<ExecutableDocument>>>,
    validated: Mutex<HashMap<String, Validated>>,
    info: Arc<Info>,
}

/// A validation that succeeded, and the direct plan of its query once asked for (`None`
/// inside: not plain, the executor answers).
struct Validated {
    result: ValidationResult,
    plan: Option<Option<Arc<Plan>>>,
}

impl Prepared {
    pub fn new(info: Arc<Info>) -> Prepared {
        Prepared {
            parsed: Mutex::default(),
            validated: Mutex::default(),
            info,
        }
    }

    /// The request's entry, when its query is short enough to be kept: handed to the
    /// extension through the request's data.
    pub fn entry(
        self: &Arc<Self>,
        query: &str,
        operation: Option<&str>,
        variables: Option<&Json>,
    ) -> Option<Entry> {
        // A NUL would make two keys alike (an operation name cannot hold one).
        if query.len() > MAX_QUERY_BYTES || operation.is_some_and(|o| o.contains('\0')) {
            return None;
        }
        // Looked up once here: the parse and the plan of this request take it from the entry.
        let doc = self.parsed.lock().get(query).cloned();
        let shaped = match (variables, &doc) {
            (Some(Json::Object(given)), Some(doc)) if !given.is_empty() => {
                shape(doc, operation, given)
            }
            _ => None,
        };
        let variables = shaped
            .or_else(|| variables.map(|v| v.to_string()))
            .unwrap_or_default();
        let validation_key = format!("{}\0{variables}\0{query}", operation.unwrap_or(""));
        Some(Entry {
            prepared: self.clone(),
            query_at: validation_key.len() - query.len(),
            operation_len: operation.map_or(0, str::len),
            validation_key,
            doc,
        })
    }
}

/// The kinds of the variables `given` to `operation` of `doc`, as validation tells them
/// apart: `#` then a letter per declared variable, when every declared one is of a built-in
/// scalar type (`String`, `ID`, `Int`, `Float`, `Boolean`; nullable or not; not a list) and
/// each value given is one whose validity for that type does not depend on the value itself
/// (a string for `String` or `ID`, a 32-bit integer for `Int` or `Float`, a fraction for
/// `Float`, a boolean, null) and names a declared variable. `None` otherwise: validation may
/// answer differently for another value (an enum's name, a 64-bit number), and the values
/// themselves are the key. A JSON text never starts with `#`.
fn shape(
    doc: &ExecutableDocument,
    operation: Option<&str>,
    given: &serde_json::Map<String, Json>,
) -> Option<String> {
    let op = direct::operation_of(doc, operation)?;
    let declared = &op.variable_definitions;
    if given
        .keys()
        .any(|name| !declared.iter().any(|d| d.node.name.node.as_str() == name))
    {
        return None;
    }
    let int32 = |n: &serde_json::Number| n.as_i64().is_some_and(|i| i32::try_from(i).is_ok());
    let mut key = String::with_capacity(1 + declared.len());
    key.push('#');
    for definition in declared {
        let BaseType::Named(ty) = &definition.node.var_type.node.base else {
            return None;
        };
        let kind = match (ty.as_str(), given.get(definition.node.name.node.as_str())) {
            ("String" | "ID" | "Int" | "Float" | "Boolean", None) => '-',
            ("String" | "ID" | "Int" | "Float" | "Boolean", Some(Json::Null)) => 'n',
            ("String" | "ID", Some(Json::String(_))) => 's',
            ("Int" | "Float", Some(Json::Number(n))) if int32(n) => 'i',
            ("Float", Some(Json::Number(n))) if n.is_f64() => 'f',
            ("Boolean", Some(Json::Bool(_))) => 'b',
            _ => return None,
        };
        key.push(kind);
    }
    Some(key)
}

fn remember<V>(map: &Mutex<HashMap<String, V>>, key: String, value: V) {
    let mut map = map.lock();
    if map.len() >= MAX_ENTRIES {
        map.clear();
    }
    map.insert(key, value);
}

/// One request's keys into [`Prepared`]: the validation's key, which ends with the query text
/// (the parsed document's key), from `query_at`.
pub(super) struct Entry {
    prepared: Arc<Prepared>,
    validation_key: String,
    query_at: usize,
    /// The operation name's length: it starts the key.
    operation_len: usize,
    /// The query's parsed document, when it was parsed before this request.
    doc: Option<Arc<ExecutableDocument>>,
}

impl Entry {
    fn query(&self) -> &str {
        &self.validation_key[self.query_at..]
    }

    fn operation(&self) -> Option<&str> {
        Some(&self.validation_key[..self.operation_len]).filter(|o| !o.is_empty())
    }

    /// The direct plan of a query validated before for the same operation and variables (or
    /// variables of the same [`shape`]: a plan reads the values at each run).
    pub fn plan(&self) -> Option<Arc<Plan>> {
        let prepared = &self.prepared;
        let mut validated = prepared.validated.lock();
        let known = validated.get_mut(&self.validation_key)?;
        if let Some(plan) = &known.plan {
            return plan.clone();
        }
        let doc = match &self.doc {
            Some(doc) => doc.clone(),
            None => prepared.parsed.lock().get(self.query()).cloned()?,
        };
        let plan = direct::plan(&doc, self.operation(), &prepared.info).map(Arc::new);
        known.plan = Some(plan.clone());
        plan
    }
}

/// The schema's extension that answers parsing and validation from [`Prepared`] when the
/// request carries an [`Entry`].
pub(super) struct Memo;

impl ExtensionFactory for Memo {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Memo)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for Memo {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let Some(entry) = ctx.data_opt::<Entry>() else {
            return next.run(ctx, query, variables).await;
        };
        if let Some(doc) = &entry.doc {
            return Ok(ExecutableDocument::clone(doc));
        }
        let doc = next.run(ctx, query, variables).await?;
        remember(
            &entry.prepared.parsed,
            entry.query().to_owned(),
            Arc::new(doc.clone()),
        );
        Ok(doc)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let Some(entry) = ctx.data_opt::<Entry>() else {
            return next.run(ctx).await;
        };
        if let Some(known) = entry.prepared.validated.lock().get(&entry.validation_key) {
            return Ok(known.result);
        }
        let result = next.run(ctx).await?;
        remember(
            &entry.prepared.validated,
            entry.validation_key.clone(),
            Validated { result, plan: None },
        );
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shape_of(query: &str, given: Json) -> Option<String> {
        let doc = async_graphql::parser::parse_query(query).expect("a query");
        let Json::Object(given) = given else {
            panic!("an object")
        };
        shape(&doc, None, &given)
    }

    #[test]
    fn values_of_the_same_kinds_share_a_shape() {
        let q = "query($id: ID!, $f: String, $n: Int, $x: Float, $b: Boolean) { a }";
        let one = shape_of(
            q,
            json!({"id": "a", "f": "x > 1", "n": 3, "x": 1.5, "b": true}),
        );
        let two = shape_of(
            q,
            json!({"id": "zz", "f": "", "n": -7, "x": 2.25, "b": false}),
        );
        assert_eq!(one.as_deref(), Some("#ssifb"));
        assert_eq!(one, two);
        assert_eq!(
            shape_of(q, json!({"id": "a", "f": null})).as_deref(),
            Some("#sn---")
        );
        // An integer is an `Int` for a `Float` too, but not a fraction.
        assert_eq!(
            shape_of(q, json!({"id": "a", "x": 2})).as_deref(),
            Some("#s--i-")
        );
    }

    #[test]
    fn values_whose_validity_depends_on_them_are_their_own_key() {
        let q = "query($id: ID!, $n: Int) { a }";
        for given in [
            json!({"id": "a", "n": 1_i64 << 40}),
            json!({"id": "a", "n": 1.5}),
            json!({"id": "a", "n": "3"}),
            json!({"id": 5}),
            json!({"id": "a", "other": 1}),
            json!({"id": ["a"]}),
        ] {
            assert_eq!(shape_of(q, given.clone()), None, "{given}");
        }
        // Types other than the built-in scalars: an enum's or an input's validity is the value's.
        assert_eq!(shape_of("query($d: Dir) { a }", json!({"d": "ASC"})), None);
        assert_eq!(shape_of("query($l: [ID]) { a }", json!({"l": null})), None);
        assert_eq!(shape_of("query($j: JSON) { a }", json!({"j": "x"})), None);
    }
}
