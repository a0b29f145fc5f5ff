//! Walking relation paths: a forward relation (`author.name`) or a back-relation
//! (`comments_via_post.text`) becomes FROM items and join conditions of a correlated subquery,
//! with the related collection's list rule ANDed in for client filters.
//!
//! SQL: relation walks as correlated subqueries (see `resolver`).

use std::sync::Arc;

use oxbase_sql::{Column, CompileError, Dialect, Ident, Sql};

use super::{Purpose, ROOT, RecordResolver, column, ident};
use crate::schema::{Collection, Field, FieldKind};

/// A path being walked: FROM items and join conditions of a correlated subquery.
#[derive(Clone)]
pub(super) struct Walk {
    pub(super) collection: Arc<Collection>,
    pub(super) alias: String,
    pub(super) from: Vec<Sql>,
    pub(super) conds: Vec<Sql>,
    pub(super) multi: bool,
    /// The order PocketBase's joins meet the rows of a multi-valued walk in (for a sort's first
    /// value, [`oxbase_sql::Operand::Many`]): a multiple relation's positions; `None` for the value itself
    /// (a back-relation).
    pub(super) order: Vec<Option<Sql>>,
}

impl Walk {
    /// The first value of a multi-valued walk in [`Walk::order`] (NULL when there is none).
    pub(super) fn first(&self, value: &Sql, dialect: Dialect) -> Option<Sql> {
        if self.order.is_empty() {
            return None;
        }
        let mut s = Sql::raw("(");
        s.push_sql(&self.subquery(value, false)).push(" ORDER BY ");
        let keys = self
            .order
            .iter()
            .map(|k| dialect.nulls_first(k.clone().unwrap_or_else(|| value.clone())));
        s.push_sql(&Sql::join(keys.collect::<Vec<_>>(), ", "))
            .push(" LIMIT 1)");
        Some(s)
    }

    pub(super) fn subquery(&self, select: &Sql, as_v: bool) -> Sql {
        let mut s = Sql::raw("SELECT ");
        s.push_sql(select);
        if as_v {
            s.push(" AS v");
        }
        s.push(" FROM ")
            .push_sql(&Sql::join(self.from.clone(), ", "));
        if !self.conds.is_empty() {
            s.push(" WHERE ")
                .push_sql(&Sql::join(self.conds.clone(), " AND "));
        }
        s
    }
}

impl RecordResolver<'_> {
    pub(super) fn hop_relation(&self, walk: &mut Walk, field: &Field) -> Result<(), CompileError> {
        let target = self
            .schema
            .get(field.str_opt("collectionId"))
            .ok_or_else(|| CompileError::UnknownField(field.name.clone()))?;
        let col = column(&walk.alias, &field.name)?;
        let alias = self.next_alias("r")?;
        let target_id = Sql::qualified(&alias, Column::Id);
        if field.is_multi() {
            let je = self.next_alias("j")?;
            walk.from.push(self.dialect.json_each_as(&col, &je));
            let mut cond = target_id;
            cond.push(" = ")
                .push_sql(&Sql::qualified(&je, Column::Value));
            walk.conds.push(cond);
            walk.multi = true;
            walk.order.push(Some(Sql::qualified(&je, Column::Key)));
        } else {
            let mut cond = target_id;
            cond.push(" = ").push_sql(&col);
            walk.conds.push(cond);
        }
        walk.from.push(Sql::aliased(&ident(&target.name)?, &alias));
        self.guard_join(walk, &target, &alias)?;
        walk.collection = target;
        walk.alias = alias.as_str().to_owned();
        Ok(())
    }

    pub(super) fn hop_back_relation(
        &self,
        walk: &mut Walk,
        coll: &str,
        field_name: &str,
    ) -> Result<(), CompileError> {
        let unknown = || CompileError::UnknownField(format!("{coll}_via_{field_name}"));
        let source = self.schema.get(coll).ok_or_else(unknown)?;
        let field = source
            .field(field_name)
            .filter(|f| f.kind == FieldKind::Relation)
            .ok_or_else(unknown)?;
        if field.str_opt("collectionId") != walk.collection.id {
            return Err(unknown());
        }
        // PB-COMPAT: refused, as PocketBase's stand-in for the new record makes it (its create
        // rule then fails with a 400); nothing can refer to a record not yet created anyway.
        if self.creating && walk.alias == ROOT {
            return Err(CompileError::Invalid(
                "a create rule cannot walk a back-relation from the new record".into(),
            ));
        }
        self.check_field_access(field)?;
        let alias = self.next_alias("r")?;
        let current_id = column(&walk.alias, "id")?;
        let back_col = column(alias.as_str(), &field.name)?;
        let cond = if field.is_multi() {
            let je = self.next_alias("j")?;
            let mut s = Sql::raw("EXISTS (SELECT 1 FROM ");
            s.push_sql(&self.dialect.json_each_as(&back_col, &je));
            s.push(" WHERE ")
                .push_sql(&Sql::qualified(&je, Column::Value))
                .push(" = ")
                .push_sql(&current_id)
                .push(")");
            s
        } else {
            let mut s = back_col;
            s.push(" = ").push_sql(&current_id);
            s
        };
        walk.from.push(Sql::aliased(&ident(&source.name)?, &alias));
        walk.conds.push(cond);
        walk.multi = true;
        // PB-COMPAT: SQLite meets the back-related rows of PocketBase's join through an
        // automatic index on the relation column that also holds the sorted value: lowest first.
        walk.order.push(None);
        self.guard_join(walk, &source, &alias)?;
        walk.collection = source;
        walk.alias = alias.as_str().to_owned();
        Ok(())
    }

    /// A client filter that reaches into another collection may only see the records that
    /// collection's list rule lets the requester see: the rule is ANDed into the join, as
    /// PocketBase does, and a collection only superusers may list cannot be walked into at
    /// all (PocketBase's 400: the filter names fields the caller may not read).
    fn guard_join(
        &self,
        walk: &mut Walk,
        target: &Arc<Collection>,
        alias: &Ident,
    ) -> Result<(), CompileError> {
        if !self.untrusted() {
            return Ok(());
        }
        match target.rule("listRule") {
            None => {
                return Err(
                    self.forbidden(&format!("the superuser-only collection {:?}", target.name))
                );
            }
            Some(rule) if rule.trim().is_empty() => {}
            Some(rule) => {
                let child = self.child(target.clone(), alias.as_str(), Purpose::Rule);
                let mut cond = Sql::raw("(");
                cond.push_sql(&child.compile(rule)?).push(")");
                walk.conds.push(cond);
            }
        }
        Ok(())
    }
}
