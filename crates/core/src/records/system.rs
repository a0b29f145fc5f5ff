//! Rows the server writes for itself in the system collections (`_otps`, `_mfas`,
//! `_authOrigins`, `_externalAuths`): built in code, so no rule and no input coercion apply.

use serde_json::json;

use super::write::{Outcome, WritePlan};
use super::{Record, Records};
use crate::error::{Error, FieldErrors, Result};
use crate::schema::FieldKind;

impl Records {
    /// Inserts `record` as given, with a new id and its autodates set; the change is emitted
    /// like any other.
    pub async fn insert_system(&self, mut record: Record) -> Result<Record> {
        record
            .data
            .insert("id".into(), json!(crate::ids::record_id()));
        let now = crate::dates::now();
        let collection = record.collection.clone();
        for f in collection
            .fields
            .iter()
            .filter(|f| f.kind == FieldKind::Autodate)
        {
            record.data.insert(f.name.clone(), json!(now));
        }
        match self
            .run(WritePlan::Create {
                record,
                errors: FieldErrors::new(),
                rule: None,
                targets: Vec::new(),
                uploads: Vec::new(),
                auth_peers: Vec::new(),
                origin: super::versions::Origin::default(),
            })
            .await?
        {
            Outcome::Created(r) | Outcome::Skipped(r) => Ok(r),
            _ => Err(Error::internal("a create plan did not create")),
        }
    }
}
