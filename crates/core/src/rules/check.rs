//! Which rule applies to whom: superusers pass every rule, a null rule lets only superusers
//! through, an empty rule lets everyone through, anything else is a SQL predicate.

use std::cell::Cell;

use oxbase_sql::Sql;

use super::memo;
use super::request::RequestInfo;
use super::resolver::{Purpose, RecordResolver};
use crate::error::{Error, FieldErrors, Result, field_error_json};
use crate::schema::{Collection, Schema};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    List,
    View,
    Create,
    Update,
    Delete,
    Auth,
    Manage,
}

impl RuleKind {
    pub fn key(self) -> &'static str {
        match self {
            RuleKind::List => "listRule",
            RuleKind::View => "viewRule",
            RuleKind::Create => "createRule",
            RuleKind::Update => "updateRule",
            RuleKind::Delete => "deleteRule",
            RuleKind::Auth => "authRule",
            RuleKind::Manage => "manageRule",
        }
    }
}

/// The outcome of a rule for one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Access {
    /// No condition (superuser, or an empty rule).
    All,
    /// Superusers only (a null rule).
    SuperusersOnly,
    /// Only the rows matching this predicate on `ROOT`.
    Where(Sql),
}

/// Decides and compiles `kind`'s rule of `collection` for `request`.
pub fn access(
    schema: &Schema,
    collection: &std::sync::Arc<Collection>,
    kind: RuleKind,
    request: &RequestInfo,
) -> Result<Access> {
    if request.auth.is_superuser() {
        return Ok(Access::All);
    }
    match collection.rule(kind.key()) {
        None => Ok(Access::SuperusersOnly),
        Some(rule) if rule.trim().is_empty() => Ok(Access::All),
        Some(rule) => {
            let sql = memo::compiled(schema, collection, kind.key(), request, || {
                let counter = Cell::new(0);
                let mut resolver = RecordResolver::new(
                    schema,
                    collection.clone(),
                    request,
                    Purpose::Rule,
                    schema.db().dialect(),
                    &counter,
                );
                if kind == RuleKind::Create {
                    resolver = resolver.creating();
                }
                let sql = resolver.compile(rule).map_err(|e| {
                    // PB-COMPAT: a stored rule that no longer compiles (another collection's
                    // field it names was renamed) is PocketBase's generic 400, not a 500.
                    tracing::warn!(rule = kind.key(), collection = %collection.name, error = %e,
                        "a stored rule does not compile");
                    Error::bad_request("Something went wrong while processing your request.")
                })?;
                Ok((sql, resolver.reads()))
            })?;
            Ok(Access::Where(sql))
        }
    }
}

/// Compiles every rule of a collection about to be saved; errors are keyed by rule name.
pub fn validate_rules(schema: &Schema, collection: &Collection) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let collection = std::sync::Arc::new(collection.clone());
    let request = RequestInfo::default();
    for (name, rule) in &collection.rules {
        let Some(rule) = rule.as_str().filter(|r| !r.trim().is_empty()) else {
            continue;
        };
        let counter = Cell::new(0);
        let resolver = RecordResolver::new(
            schema,
            collection.clone(),
            &request,
            Purpose::Rule,
            schema.db().dialect(),
            &counter,
        );
        if let Err(e) = resolver.compile(rule) {
            errors.insert(
                name.clone(),
                field_error_json(
                    "validation_invalid_rule",
                    format!("Invalid rule. Raw error: {e}"),
                ),
            );
        }
    }
    errors
}
