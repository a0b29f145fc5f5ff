//! Reading and restoring the record history (docs/history.md); `versions` writes it.
//!
//! Who may read a record's versions is who may view the record: its `viewRule`, judged on the
//! record as stored now, or, for a deleted record, on its last version (the same SQL, run on
//! the version's values as realtime judges a deletion); superusers always. Each version is
//! shown as the record view shows the record to the caller (hidden fields, the password hash
//! and `tokenKey` left out, `emailVisibility` honoured, `fields` picked).
//!
//! A restore (superusers only) writes a version back through the ordinary write path, so it is
//! a change like any other (rules aside), with a version of its own: an update when the record
//! exists, the record created again (with its id, password hash and token key) when it was
//! deleted. File fields keep the record's current files (or none, for a record created again):
//! a replaced or deleted file is gone from storage.

use std::sync::Arc;

use serde_json::{Map, Value as Json, json};

use super::Records;
use super::list::{ListQuery, ListResult};
use super::versions::Origin;
use super::visibility::{Verdict, verdict};
use super::write::{Outcome, UpdateRule, WriteInput, WritePlan};
use crate::error::{Error, FieldErrors, Result};
use crate::identity::Auth;
use crate::rules::{RequestInfo, RuleKind, superusers_only};
use crate::schema::{Collection, FieldKind, Record};
use crate::store::history::{self, VersionRow};

impl Records {
    /// `GET /api/collections/{collection}/records/{id}/history`: the record's versions, newest
    /// first, a page at a time (`page`, `perPage`, `fields`; no filter, sort or expand).
    pub async fn history(
        &self,
        req: &RequestInfo,
        collection: &str,
        id: &str,
        q: ListQuery,
    ) -> Result<ListResult> {
        let paging = q.paging?;
        let c = self.schema.require_fresh(collection).await?;
        if !c.keeps_history() && !req.auth.is_superuser() {
            // Nothing to show, and nothing to learn about the record either.
            return Err(Error::not_found());
        }
        self.require_viewable(req, &c, id).await?;
        let (cid, rid) = (c.id.clone(), id.to_owned());
        let per_page = paging.per_page;
        let offset = (paging.page - 1).saturating_mul(per_page);
        let (total, rows) = self
            .schema
            .db()
            .read(move |conn| {
                let total = history::count(conn, &cid, &rid)?;
                Ok((total, history::page(conn, &cid, &rid, per_page, offset)?))
            })
            .await?;
        let records = rows.iter().map(|row| version_record(&c, row)).collect();
        let shown = self.present(req, records, "", &q.fields).await?;
        let items = rows
            .into_iter()
            .zip(shown)
            .map(|(row, record)| version_json(row, record, &req.auth))
            .collect();
        Ok(ListResult {
            page: paging.page,
            per_page,
            total_items: total,
            total_pages: (total + per_page - 1) / per_page,
            items,
        })
    }

    /// `POST /api/collections/{collection}/records/{id}/history/{version}/restore`
    /// (superusers only): the record as that version left it, written as a change of its
    /// own; answers the record as restored.
    pub async fn restore(
        &self,
        req: &RequestInfo,
        collection: &str,
        id: &str,
        version: &str,
        fields: &str,
    ) -> Result<Json> {
        superusers_only(&req.auth)?;
        let c = self.schema.require_fresh(collection).await?;
        let number: i64 = version
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(Error::not_found)?;
        let row = self
            .version(&c, id, number)
            .await?
            .ok_or_else(Error::not_found)?;
        let old = version_record(&c, &row);
        let origin = Origin::of(req);
        let plan = match self.fetch_where(&c, id, None).await {
            Ok(current) => update_plan(self, &c, current, &old, origin),
            Err(Error::NotFound(_)) => create_plan(self, &c, old, origin),
            Err(e) => return Err(e),
        };
        let record = match self.run(plan).await? {
            // A model hook may skip the write: the record as it left it, as on any write.
            Outcome::Created(r) | Outcome::Updated(r) | Outcome::Skipped(r) => r,
            Outcome::Deleted(_) => return Err(Error::internal("a restore deleted")),
        };
        let shown = self.present(req, vec![record], "", fields).await?;
        Ok(shown.into_iter().next().unwrap_or(Json::Null))
    }

    /// A record's version numbered `number` (0: its latest).
    async fn version(&self, c: &Collection, id: &str, number: i64) -> Result<Option<VersionRow>> {
        let (cid, rid) = (c.id.clone(), id.to_owned());
        self.schema
            .db()
            .lookup(move |conn| history::get(conn, &cid, &rid, number))
            .await
    }

    /// 404 (403 for a superusers-only rule) unless `req` may view the record: as stored, or
    /// as its last version left it when it is gone.
    async fn require_viewable(
        &self,
        req: &RequestInfo,
        c: &Arc<Collection>,
        id: &str,
    ) -> Result<()> {
        match self.fetch_visible(req, c, RuleKind::View, id).await {
            Err(Error::NotFound(_)) => {}
            other => return other.map(|_| ()),
        }
        // No such record now (or not visible): a deleted one is judged on its last version.
        let Some(last) = self.version(c, id, 0).await? else {
            return Err(Error::not_found());
        };
        if last.action != "delete" {
            return Err(Error::not_found());
        }
        let last = version_record(c, &last);
        let allowed = match verdict(&self.schema, req, c, RuleKind::View, "")? {
            Verdict::Nobody => return Err(Error::forbidden()),
            v => self.passing(&v, &[&last]).await?.first() == Some(&true),
        };
        if allowed {
            Ok(())
        } else {
            Err(Error::not_found())
        }
    }
}

/// A version's values as a record of the collection as it is now.
fn version_record(c: &Arc<Collection>, row: &VersionRow) -> Record {
    let mut record = Record::new(c.clone());
    if let Ok(Json::Object(data)) = serde_json::from_str::<Json>(&row.data) {
        record.data = data;
    }
    record
}

/// A version as the API shows it. Which request made it is for superusers only; who made it,
/// for superusers and for its author: viewing a record does not tell a caller who else edits
/// it (the users collection's rules may hide them).
fn version_json(mut row: VersionRow, record: Json, caller: &Auth) -> Json {
    let superuser = caller.is_superuser();
    let own = caller
        .record()
        .is_some_and(|r| r.collection.id == row.auth_collection && r.id() == row.auth_id);
    if !superuser && !own {
        row.auth_collection.clear();
        row.auth_id.clear();
    }
    let mut out = json!({
        "id": row.id,
        "collectionId": row.collection_id,
        "recordId": row.record_id,
        "version": row.version,
        "action": row.action,
        "authCollection": row.auth_collection,
        "authId": row.auth_id,
        "created": row.created,
        "record": record,
    });
    if superuser && let Json::Object(m) = &mut out {
        m.insert("request".into(), json!(row.request));
        m.insert("requestId".into(), json!(row.request_id));
    }
    out
}

/// Whether a restore writes this field back: not the id, autodates, files (gone from
/// storage once replaced), nor an update's credentials (a restore changes no password).
fn restored(f: &crate::schema::Field, credentials: bool) -> bool {
    match f.kind {
        FieldKind::File | FieldKind::Autodate => false,
        FieldKind::Password => credentials,
        _ if f.name == "id" => false,
        _ if f.name == "tokenKey" => credentials,
        _ => true,
    }
}

/// An update writing `old`'s values over `current` (as a superuser would, without rules).
fn update_plan(
    records: &Records,
    c: &Arc<Collection>,
    current: Record,
    old: &Record,
    origin: Origin,
) -> WritePlan {
    let mut values = Map::new();
    for f in c.fields.iter().filter(|f| restored(f, false)) {
        if let Some(v) = old.data.get(&f.name) {
            values.insert(f.name.clone(), v.clone());
        }
    }
    WritePlan::Update {
        collection: c.clone(),
        id: current.id().to_owned(),
        rule: UpdateRule::Compiled(None),
        input: WriteInput::default(),
        superuser: true,
        // Written as given, after the (empty) body: the values as stored, not as input.
        auth_changes: values,
        targets: records.relation_targets(c),
        origin,
    }
}

/// The deleted record created again as the version left it (id and credentials included).
fn create_plan(records: &Records, c: &Arc<Collection>, old: Record, origin: Origin) -> WritePlan {
    let mut record = Record::new(c.clone());
    for f in &c.fields {
        let keep = f.kind == FieldKind::Autodate || restored(f, true) || f.name == "id";
        if keep && let Some(v) = old.data.get(&f.name) {
            record.data.insert(f.name.clone(), v.clone());
        }
    }
    let now = crate::dates::now();
    for f in c
        .fields
        .iter()
        .filter(|f| f.kind == FieldKind::Autodate && f.bool_opt("onUpdate"))
    {
        record.data.insert(f.name.clone(), json!(now));
    }
    let errors: FieldErrors = super::validate::validate(&record);
    let auth_peers = if c.is_auth() {
        let all = records.schema.all().into_iter();
        all.filter(|o| o.is_auth() && o.id != c.id).collect()
    } else {
        Vec::new()
    };
    WritePlan::Create {
        record,
        errors,
        rule: None,
        targets: records.relation_targets(c),
        uploads: Vec::new(),
        auth_peers,
        origin,
    }
}
