//! What list queries read, shared by the resolvers (`build`) and the direct answers
//! (`direct`): REST's list of a collection for the caller, paged by number or by cursor.

use oxbase_core::App;
use oxbase_core::records::list::{ListParams, ListQuery};

use super::rec::{Page, Rec};
use super::{cursor, gql_error};

/// A back-relation's default number of records.
pub(super) const DEFAULT_BACK_LIMIT: i64 = 100;

/// The arguments of a list query, as given (`page`, `perPage`, `sort`, `filter` as REST's
/// text; `first`/`after` for cursor paging).
pub(super) struct ListArgs {
    pub page: String,
    pub per_page: String,
    pub sort: String,
    pub filter: String,
    pub first: Option<i64>,
    pub after: Option<String>,
}

/// A list query's page: REST's list of `coll` for `caller`, with `expand`; counted when
/// `reads_total` (and not paged by cursor).
pub(super) async fn list_page(
    app: &App,
    caller: &super::Caller,
    coll: &str,
    args: ListArgs,
    expand: &str,
    reads_total: bool,
) -> async_graphql::Result<Page> {
    let ListArgs {
        mut page,
        mut per_page,
        mut sort,
        mut filter,
        first,
        after,
    } = args;
    // Cursor paging (`first`, `after`): REST's list from the cursor on.
    let first = first.map(|n| n.clamp(1, 999));
    let by_cursor = first.is_some() || after.is_some();
    let collection = app.schema().get(coll);
    let keys = match &collection {
        Some(c) if by_cursor => Some(cursor::keys(c, &sort).map_err(gql_error)?),
        Some(c) => cursor::keys(c, &sort).ok(),
        None => None,
    };
    let first = first.unwrap_or(30);
    if let (true, Some(keys)) = (by_cursor, &keys) {
        sort = cursor::sort(keys);
        if let Some(after) = &after {
            let from = cursor::after(keys, after).map_err(gql_error)?;
            filter = if filter.trim().is_empty() {
                from
            } else {
                format!("({filter}) && ({from})")
            };
        }
        page = "1".into();
        per_page = (first + 1).to_string();
    }
    let counted = !by_cursor && reads_total;
    let q = ListQuery::parse(ListParams {
        page: &page,
        per_page: &per_page,
        sort: &sort,
        filter: &filter,
        expand,
        fields: "",
        skip_total: if counted { "" } else { "true" },
    });
    let list = app
        .records()
        .list(&caller.info, coll, q)
        .await
        .map_err(gql_error)?;
    let mut items = list.items;
    let (per_page, more) = if by_cursor {
        let more = items.len() as i64 > first;
        items.truncate(usize::try_from(first).unwrap_or(0));
        (first, more)
    } else {
        (list.per_page, list.page < list.total_pages)
    };
    let end = keys
        .as_ref()
        .and_then(|k| items.last().and_then(|r| cursor::of(k, r)));
    let numbers = serde_json::json!({
        "page": list.page,
        "perPage": per_page,
        "totalItems": list.total_items,
        "totalPages": list.total_pages,
        "hasNextPage": more,
        "endCursor": end,
    });
    let items = items.into_iter().map(|json| Rec::new(json, 0)).collect();
    Ok(Page { numbers, items })
}
