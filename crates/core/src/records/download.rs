//! Which stored file a download request may read: `GET /api/files/{collection}/{id}/{name}`.

use super::query::select_by_id;
use super::{Record, Records};
use crate::error::{Error, Result};
use crate::files::{self, names, thumbs};
use crate::rules::{RequestInfo, RuleKind};
use crate::schema::FieldKind;

/// A file the request may read.
#[derive(Debug, Clone)]
pub struct FileTarget {
    /// Where the bytes are: the original, or the thumbnail asked for.
    pub path: String,
    /// The name to serve it under (`100x100_a.png` for a thumbnail).
    pub name: String,
    /// Whether its field is protected (only reachable with a file token or a public view rule).
    pub protected: bool,
    /// The record that holds it and its file field's name (for `onFileDownloadRequest`).
    pub record: Record,
    pub field: String,
    /// Whether a thumbnail was asked for and the original is served instead (PocketBase's
    /// `thumbError`: a size not declared, or not an image).
    pub thumb_missed: bool,
}

impl Records {
    /// The file `name` of record `id` with the thumbnail `thumb` (`""` for the original),
    /// if `req` may read it. Files of unprotected fields are public, as in PocketBase; a
    /// protected one needs the view rule to let `req` (the file token's identity) see the
    /// record. Anything else is a 404, so nothing tells whether the file exists.
    pub async fn file(
        &self,
        req: &RequestInfo,
        collection: &str,
        id: &str,
        name: &str,
        thumb: &str,
    ) -> Result<FileTarget> {
        let c = self
            .schema
            .get_fresh(collection)
            .await?
            .ok_or_else(Error::not_found)?;
        if !names::is_safe(name) {
            return Err(Error::not_found());
        }
        let select = select_by_id(&c, id, None)?;
        let coll = c.clone();
        let record = self
            .schema
            .db()
            .lookup(move |conn| Ok(Record::from_rows(&coll, conn.query(&select)?).pop()))
            .await?
            .ok_or_else(Error::not_found)?;
        let field = c
            .fields
            .iter()
            .find(|f| {
                f.kind == FieldKind::File && record.get_list(&f.name).iter().any(|n| n == name)
            })
            .ok_or_else(Error::not_found)?;
        let protected = field.bool_opt("protected");
        let field_name = field.name.clone();
        if protected && !self.passes(req, &record, RuleKind::View).await? {
            return Err(Error::not_found());
        }
        let original = files::file_path(&c.id, record.id(), name);
        // PB-COMPAT: only declared sizes (and the dashboard's 100x100) are made; any other
        // size gets the original.
        let declared =
            thumb == thumbs::DEFAULT_THUMB || field.list_opt("thumbs").iter().any(|t| t == thumb);
        if !thumb.is_empty()
            && declared
            && let Some(path) = self.files.thumbnail(&original, thumb).await
        {
            return Ok(FileTarget {
                path,
                name: format!("{thumb}_{name}"),
                protected,
                record,
                field: field_name,
                thumb_missed: false,
            });
        }
        Ok(FileTarget {
            path: original,
            name: name.to_owned(),
            protected,
            record,
            field: field_name,
            thumb_missed: !thumb.is_empty(),
        })
    }
}
