//! The dynamic schema of the collections: per collection a record type, a list type, a list
//! query, a view by id and a subscription; create, update and delete mutations (not for
//! views); the auth flows of each auth collection (`logins`). Relations are `<field>_rel` (the
//! related record(s)) beside the raw id(s) in `<field>`; back-relations are
//! `<source>_via_<field>`, both fetched as the selection asks (`selection`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_graphql::ErrorExtensions;
use async_graphql::Value as GqlValue;
use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputValue, Object, ResolverContext, Scalar, Schema,
    SchemaError, Subscription, SubscriptionField, SubscriptionFieldFuture, TypeRef,
};
use oxbase_core::App;
use oxbase_core::records::actions::Shown;
use oxbase_core::records::list::{ListParams, ListQuery};
use oxbase_core::records::write::WriteInput;
use oxbase_core::schema::{Collection, CollectionKind, FieldKind};
use serde_json::{Map, Value as Json};

use super::lists::{DEFAULT_BACK_LIMIT, ListArgs, list_page};
use super::logins::{Flow, auth_mutation};
use super::names::{pascal, safe};
use super::rec::{Page, Rec, json_value, ready};
use super::selection::{
    Info, MAX_EXPAND_DEPTH, Rel, RootField, ValueField, expand_below, expand_of_list,
    expand_of_record,
};
use super::{Limits, gql_error, services};

fn multi(f: &oxbase_core::schema::Field) -> bool {
    f.options
        .get("maxSelect")
        .and_then(Json::as_i64)
        .unwrap_or(1)
        > 1
}

fn scalar_type(f: &oxbase_core::schema::Field) -> Option<TypeRef> {
    let one = |name: &str| TypeRef::named(name);
    let list = |name: &str| TypeRef::named_nn_list(name);
    Some(match f.kind {
        FieldKind::Password => return None,
        FieldKind::Number => one(TypeRef::FLOAT),
        FieldKind::Bool => one(TypeRef::BOOLEAN),
        FieldKind::Json | FieldKind::GeoPoint => one("JSON"),
        FieldKind::Select | FieldKind::File | FieldKind::Relation if multi(f) => {
            list(TypeRef::STRING)
        }
        _ => one(TypeRef::STRING),
    })
}

/// The schema of the collections, and what the resolvers (and `direct`) know of it.
pub fn schema(app: &App, limits: Limits) -> Result<(Schema, Arc<Info>), SchemaError> {
    let collections: Vec<Arc<Collection>> = app.schema().all();
    let by_id: HashMap<&str, &Arc<Collection>> =
        collections.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut info = Info::default();
    for c in &collections {
        info.types.insert(c.name.clone(), pascal(&c.name));
    }
    // Relations, forward and back, by the GraphQL field name they get.
    for c in &collections {
        for f in c.fields.iter().filter(|f| f.kind == FieldKind::Relation) {
            let Some(target) = f
                .options
                .get("collectionId")
                .and_then(Json::as_str)
                .and_then(|id| by_id.get(id))
            else {
                continue;
            };
            info.rels.entry(c.name.clone()).or_default().insert(
                format!("{}_rel", safe(&f.name)),
                Rel::Forward {
                    field: f.name.clone(),
                    target: target.name.clone(),
                    many: multi(f),
                },
            );
            info.rels.entry(target.name.clone()).or_default().insert(
                safe(&format!("{}_via_{}", c.name, f.name)),
                Rel::Back {
                    source: c.name.clone(),
                    field: f.name.clone(),
                },
            );
        }
    }
    let mut root_names = HashSet::new();
    for c in &collections {
        let mut taken = HashSet::new();
        let scalars = c
            .fields
            .iter()
            .filter_map(|f| {
                let ty = scalar_type(f)?;
                let gql = safe(&f.name);
                taken.insert(gql.clone()).then(|| {
                    let list = matches!(ty, TypeRef::NonNull(_));
                    (
                        gql,
                        ValueField {
                            name: f.name.clone(),
                            list,
                        },
                    )
                })
            })
            .collect();
        info.scalars.insert(c.name.clone(), scalars);
        let name = safe(&c.name);
        if root_names.insert(format!("{name}List")) {
            let list = RootField::List(c.name.clone());
            info.roots.insert(format!("{name}List"), list);
        }
        if root_names.insert(name.clone()) {
            info.roots.insert(name, RootField::View(c.name.clone()));
        }
    }
    let info = Arc::new(info);

    let mut query = Object::new("Query");
    let mut mutation = Object::new("Mutation");
    let mut subscription = Subscription::new("Subscription");
    let mut objects = Vec::new();
    let mut subscription_names = HashSet::new();
    for c in &collections {
        let p = pascal(&c.name);
        let record_type = format!("{p}Record");
        let list_type = format!("{p}List");
        objects.push(record_object(c, &record_type, &info));
        objects.push(
            Object::new(&list_type)
                .field(json_field("page", TypeRef::named_nn(TypeRef::INT)))
                .field(json_field("perPage", TypeRef::named_nn(TypeRef::INT)))
                .field(json_field("totalItems", TypeRef::named_nn(TypeRef::INT)))
                .field(json_field("totalPages", TypeRef::named_nn(TypeRef::INT)))
                .field(json_field(
                    "hasNextPage",
                    TypeRef::named_nn(TypeRef::BOOLEAN),
                ))
                .field(json_field("endCursor", TypeRef::named(TypeRef::STRING)))
                .field(items_field(&record_type)),
        );
        let name = safe(&c.name);
        // A name another collection's root field took first is left to it.
        let list_name = format!("{name}List");
        if matches!(info.roots.get(&list_name), Some(RootField::List(of)) if *of == c.name) {
            query = query.field(list_query(c, &list_name, &list_type, &info));
        }
        if matches!(info.roots.get(&name), Some(RootField::View(of)) if *of == c.name) {
            query = query.field(view_query(c, &name, &record_type, &info));
        }
        let event_type = format!("{p}Event");
        objects.push(
            Object::new(&event_type)
                .field(json_field("action", TypeRef::named_nn(TypeRef::STRING)))
                .field(record_field(&record_type)),
        );
        if subscription_names.insert(name.clone()) {
            subscription = subscription.field(events_subscription(c, &name, &event_type, &info));
        }
        if c.kind != CollectionKind::View {
            mutation = mutation
                .field(write_mutation(
                    c,
                    &format!("create{p}"),
                    &record_type,
                    &info,
                    false,
                ))
                .field(write_mutation(
                    c,
                    &format!("update{p}"),
                    &record_type,
                    &info,
                    true,
                ))
                .field(delete_mutation(c, &format!("delete{p}")));
        }
        if c.kind == CollectionKind::Auth {
            let auth_type = format!("{p}Auth");
            objects.push(
                Object::new(&auth_type)
                    .field(json_field("token", TypeRef::named_nn(TypeRef::STRING)))
                    .field(record_field(&record_type))
                    .field(json_field("meta", TypeRef::named("JSON"))),
            );
            for flow in Flow::ALL {
                mutation = mutation.field(auth_mutation(c, flow, &p, &auth_type, &info));
            }
        }
    }
    let mut builder = Schema::build("Query", Some("Mutation"), Some("Subscription"))
        .register(Scalar::new("JSON"))
        .enable_uploading()
        .limit_depth(limits.depth)
        .limit_complexity(limits.complexity)
        .extension(super::prepared::Memo);
    for o in objects {
        builder = builder.register(o);
    }
    let schema = builder
        .register(query)
        .register(mutation)
        .register(subscription)
        .finish()?;
    Ok((schema, info))
}

/// A field read from the parent's JSON (a list's numbers, an auth answer's token).
fn json_field(name: &'static str, ty: TypeRef) -> Field {
    Field::new(name, ty, move |ctx| {
        let parent = match ctx.parent_value.try_downcast_ref::<Page>() {
            Ok(page) => Ok(&page.numbers),
            Err(_) => ctx.parent_value.try_downcast_ref::<Json>(),
        };
        ready(parent.map(|parent| json_value(parent.get(name))))
    })
}

fn items_field(record_type: &str) -> Field {
    Field::new("items", TypeRef::named_nn_list_nn(record_type), |ctx| {
        ready(
            ctx.parent_value.try_downcast_ref::<Page>().map(|page| {
                FieldValue::list(page.items.iter().map(|r| FieldValue::borrowed_any(r)))
            }),
        )
    })
}

/// The `record` of an auth answer or of a subscription event.
fn record_field(record_type: &str) -> Field {
    Field::new("record", TypeRef::named_nn(record_type), |ctx| {
        FieldFuture::new(async move {
            let parent = ctx.parent_value.try_downcast_ref::<Json>()?;
            Ok(Some(FieldValue::owned_any(Rec::new(
                parent["record"].clone(),
                0,
            ))))
        })
    })
}

fn record_object(c: &Collection, record_type: &str, info: &Arc<Info>) -> Object {
    let mut o = Object::new(record_type);
    let mut taken = HashSet::new();
    for (gql, scalar) in info.scalars.get(&c.name).into_iter().flatten() {
        let field = c.fields.iter().find(|f| f.name == scalar.name);
        let Some(ty) = field.and_then(scalar_type) else {
            continue;
        };
        taken.insert(gql.clone());
        let name = scalar.name.clone();
        o = o.field(Field::new(gql, ty, move |ctx| {
            let rec = ctx.parent_value.try_downcast_ref::<Rec>();
            ready(rec.map(|rec| json_value(rec.json.get(&name))))
        }));
    }
    let Some(rels) = info.rels.get(&c.name) else {
        return o;
    };
    for (gql, rel) in rels {
        if !taken.insert(gql.clone()) {
            continue;
        }
        o = o.field(match rel {
            Rel::Forward {
                field,
                target,
                many,
            } => forward_field(gql, field, target, *many, info),
            Rel::Back { source, field } => back_field(gql, source, field, info),
        });
    }
    o
}

fn forward_field(gql: &str, field: &str, target: &str, many: bool, info: &Arc<Info>) -> Field {
    let record_type = format!("{}Record", info.types[target]);
    let ty = if many {
        TypeRef::named_nn_list_nn(&record_type)
    } else {
        TypeRef::named(&record_type)
    };
    let (field, target, info) = (field.to_owned(), target.to_owned(), info.clone());
    Field::new(gql, ty, move |ctx| {
        let rec = match ctx.parent_value.try_downcast_ref::<Rec>() {
            Ok(rec) => rec,
            Err(e) => return ready(Err(e)),
        };
        if rec.depth < MAX_EXPAND_DEPTH {
            // Expanded with the page by the core, as REST's `expand` would.
            let related = rec
                .expanded(&field)
                .iter()
                .map(|r| FieldValue::borrowed_any(r));
            return match one_or_many(many, related.collect()) {
                Some(value) => ready(Ok(value)),
                None => FieldFuture::Value(None),
            };
        }
        // Past the core's expand depth: one view per id, under the view rule.
        let (field, target, info) = (field.clone(), target.clone(), info.clone());
        FieldFuture::new(async move {
            let (app, caller) = services(&ctx)?;
            let expand = expand_below(&info, &target, ctx.ctx.field(), 0);
            let ids: Vec<String> = match rec.json.get(&field) {
                Some(Json::String(s)) if !s.is_empty() => vec![s.clone()],
                Some(Json::Array(a)) => a
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            };
            let mut related = Vec::new();
            for id in ids {
                if let Ok(json) = app
                    .records()
                    .view(&caller.info, &target, &id, &expand, "")
                    .await
                {
                    related.push(FieldValue::owned_any(Rec::new(json, 0)));
                }
            }
            Ok(one_or_many(many, related))
        })
    })
}

/// A relation's answer: the list, or its one record (none: null, not an object of nulls).
fn one_or_many(many: bool, mut records: Vec<FieldValue<'_>>) -> Option<FieldValue<'_>> {
    if many {
        Some(FieldValue::list(records))
    } else if records.is_empty() {
        None
    } else {
        Some(records.swap_remove(0))
    }
}

fn back_field(gql: &str, source: &str, field: &str, info: &Arc<Info>) -> Field {
    let record_type = format!("{}Record", info.types[source]);
    let (source, field, info) = (source.to_owned(), field.to_owned(), info.clone());
    Field::new(gql, TypeRef::named_nn_list_nn(&record_type), move |ctx| {
        let (source, field, info) = (source.clone(), field.clone(), info.clone());
        FieldFuture::new(async move {
            let rec = ctx.parent_value.try_downcast_ref::<Rec>()?;
            let filter = opt_string(&ctx, "filter")?;
            let sort = opt_string(&ctx, "sort")?;
            let limit = match ctx.args.get("limit") {
                Some(v) if !v.is_null() => v.i64()?,
                _ => DEFAULT_BACK_LIMIT,
            }
            .max(0);
            let take = usize::try_from(limit).unwrap_or(0);
            if rec.has_expand()
                && filter.is_none()
                && sort.is_none()
                && rec.depth < MAX_EXPAND_DEPTH
            {
                // Expanded with the page (see `expand_below`): absent means none visible.
                let related = rec.expanded(&format!("{source}_via_{field}"));
                return Ok(Some(FieldValue::list(
                    related
                        .iter()
                        .take(take)
                        .map(|r| FieldValue::borrowed_any(r)),
                )));
            }
            // Its own list, under the source's list rule, as REST's with this filter.
            let (app, caller) = services(&ctx)?;
            let Some(id) = rec.json.get("id").and_then(Json::as_str) else {
                return Ok(Some(FieldValue::list(Vec::<FieldValue>::new())));
            };
            if id.contains(['"', '\\']) {
                return Ok(Some(FieldValue::list(Vec::<FieldValue>::new())));
            }
            let mut f = format!("{field} ?= \"{id}\"");
            if let Some(user) = filter.as_deref().filter(|s| !s.trim().is_empty()) {
                f = format!("({user}) && ({f})");
            }
            let expand = expand_below(&info, &source, ctx.ctx.field(), 0);
            let per_page = limit.max(1).to_string();
            let q = ListQuery::parse(ListParams {
                page: "1",
                per_page: &per_page,
                sort: sort.as_deref().unwrap_or(""),
                filter: &f,
                expand: &expand,
                fields: "",
                skip_total: "true",
            });
            let list = app
                .records()
                .list(&caller.info, &source, q)
                .await
                .map_err(gql_error)?;
            Ok(Some(FieldValue::list(
                list.items
                    .into_iter()
                    .take(take)
                    .map(|json| FieldValue::owned_any(Rec::new(json, 0))),
            )))
        })
    })
    .argument(InputValue::new("filter", TypeRef::named(TypeRef::STRING)))
    .argument(InputValue::new("sort", TypeRef::named(TypeRef::STRING)))
    .argument(InputValue::new("limit", TypeRef::named(TypeRef::INT)))
}

/// A string argument; absent and null are `None`.
fn opt_string(ctx: &ResolverContext<'_>, name: &str) -> async_graphql::Result<Option<String>> {
    match ctx.args.get(name) {
        Some(v) if !v.is_null() => Ok(Some(v.string()?.to_owned())),
        _ => Ok(None),
    }
}

fn list_query(c: &Collection, gql: &str, list_type: &str, info: &Arc<Info>) -> Field {
    let (coll, info) = (c.name.clone(), info.clone());
    Field::new(gql, TypeRef::named_nn(list_type), move |ctx| {
        let (coll, info) = (coll.clone(), info.clone());
        FieldFuture::new(async move {
            let (app, caller) = services(&ctx)?;
            let arg = |n: &str| -> async_graphql::Result<String> {
                Ok(match ctx.args.get(n) {
                    None => String::new(),
                    Some(v) => match v.as_value() {
                        GqlValue::Null => String::new(),
                        GqlValue::Number(n) => n.to_string(),
                        _ => v.string()?.to_owned(),
                    },
                })
            };
            let args = ListArgs {
                page: arg("page")?,
                per_page: arg("perPage")?,
                sort: arg("sort")?,
                filter: arg("filter")?,
                first: match ctx.args.get("first") {
                    Some(v) if !v.is_null() => Some(v.i64()?),
                    _ => None,
                },
                after: opt_string(&ctx, "after")?,
            };
            let expand = expand_of_list(&info, &coll, ctx.ctx.field());
            // Counted only when the selection reads the total (`hasNextPage` of a page
            // is `page < totalPages`): a count may scan every row the rule lets through.
            let selected = ctx.ctx.look_ahead();
            let reads_total = ["totalItems", "totalPages", "hasNextPage"]
                .iter()
                .any(|f| selected.field(f).exists());
            let page = list_page(app, caller, &coll, args, &expand, reads_total).await?;
            Ok(Some(FieldValue::owned_any(page)))
        })
    })
    .argument(InputValue::new("filter", TypeRef::named(TypeRef::STRING)))
    .argument(InputValue::new("sort", TypeRef::named(TypeRef::STRING)))
    .argument(InputValue::new("page", TypeRef::named(TypeRef::INT)))
    .argument(InputValue::new("perPage", TypeRef::named(TypeRef::INT)))
    .argument(InputValue::new("first", TypeRef::named(TypeRef::INT)))
    .argument(InputValue::new("after", TypeRef::named(TypeRef::STRING)))
}

fn view_query(c: &Collection, name: &str, record_type: &str, info: &Arc<Info>) -> Field {
    let (coll, info) = (c.name.clone(), info.clone());
    Field::new(name, TypeRef::named(record_type), move |ctx| {
        let (coll, info) = (coll.clone(), info.clone());
        FieldFuture::new(async move {
            let (app, caller) = services(&ctx)?;
            let id = ctx.args.try_get("id")?.string()?.to_owned();
            let expand = expand_below(&info, &coll, ctx.ctx.field(), 0);
            let json = app
                .records()
                .view(&caller.info, &coll, &id, &expand, "")
                .await
                .map_err(gql_error)?;
            Ok(Some(FieldValue::owned_any(Rec::new(json, 0))))
        })
    })
    .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::STRING)))
}

/// `posts(id, filter)` on `Subscription`: the realtime events of the collection (or of one
/// record) the caller may see, as SSE delivers them (`super::ws`).
fn events_subscription(
    c: &Collection,
    name: &str,
    event_type: &str,
    info: &Arc<Info>,
) -> SubscriptionField {
    let (coll, info) = (c.name.clone(), info.clone());
    SubscriptionField::new(name, TypeRef::named_nn(event_type), move |ctx| {
        let (coll, info) = (coll.clone(), info.clone());
        SubscriptionFieldFuture::new(async move {
            let (app, caller) = services(&ctx)?;
            let id = opt_string(&ctx, "id")?;
            let filter = opt_string(&ctx, "filter")?.unwrap_or_default();
            // The relations the selection reads are expanded by the hub, under their rules.
            let expand = expand_of_record(&info, &coll, ctx.ctx.field());
            let events = super::ws::events(
                app,
                caller.info.auth.clone(),
                &coll,
                id.as_deref(),
                &filter,
                &expand,
            )
            .map_err(gql_error)?;
            Ok(futures_util::StreamExt::map(events, |json| {
                Ok::<_, async_graphql::Error>(FieldValue::owned_any(json))
            }))
        })
    })
    .argument(InputValue::new("id", TypeRef::named(TypeRef::STRING)))
    .argument(InputValue::new("filter", TypeRef::named(TypeRef::STRING)))
}

/// The `data` argument as a record body, with the files of a multipart request (the GraphQL
/// multipart request spec: a file mapped to `variables.data.cover`, or to
/// `variables.data.docs.0` in a list, stands where its field's value is) staged as REST
/// stages multipart parts: the body names each by its stored name, the core validates them.
async fn write_input(ctx: &ResolverContext<'_>, app: &App) -> async_graphql::Result<WriteInput> {
    let mut body = body_of(ctx)?;
    let mut files = Vec::new();
    for value in body.values_mut() {
        let slots: Vec<&mut Json> = match value {
            Json::Array(items) => items.iter_mut().collect(),
            one => vec![one],
        };
        for slot in slots {
            let Json::String(s) = slot else { continue };
            let Ok(upload) = <async_graphql::Upload as async_graphql::InputType>::parse(Some(
                GqlValue::String(s.clone()),
            )) else {
                continue;
            };
            let file = upload.value(ctx.ctx)?;
            let mut staging = app.files().stage(&file.filename).await.map_err(gql_error)?;
            staging.write(&file.content).await.map_err(gql_error)?;
            let staged = staging.finish().await.map_err(gql_error)?;
            staged.name.clone_into(s);
            files.push(staged);
        }
    }
    Ok(WriteInput {
        body,
        files,
        ..WriteInput::default()
    })
}

/// The `data` argument as a body map (a JSON object).
fn body_of(ctx: &ResolverContext<'_>) -> async_graphql::Result<Map<String, Json>> {
    let Some(v) = ctx.args.get("data") else {
        return Ok(Map::new());
    };
    match v.as_value().clone().into_json()? {
        Json::Object(m) => Ok(m),
        Json::Null => Ok(Map::new()),
        _ => Err(async_graphql::Error::new("data must be an object")
            .extend_with(|_, e| e.set("status", 400))),
    }
}

fn write_mutation(
    c: &Collection,
    name: &str,
    record_type: &str,
    info: &Arc<Info>,
    update: bool,
) -> Field {
    let (coll, info) = (c.name.clone(), info.clone());
    let field = Field::new(name, TypeRef::named_nn(record_type), move |ctx| {
        let (coll, info) = (coll.clone(), info.clone());
        FieldFuture::new(async move {
            let (app, caller) = services(&ctx)?;
            let input = write_input(&ctx, app).await?;
            let expand = expand_below(&info, &coll, ctx.ctx.field(), 0);
            let shown = Shown {
                expand: &expand,
                fields: "",
            };
            let req = caller.info.clone();
            let written = if update {
                let id = ctx.args.try_get("id")?.string()?.to_owned();
                app.records()
                    .update_shown(req, &coll, &id, input, shown)
                    .await
            } else {
                app.records().create_shown(req, &coll, input, shown).await
            };
            let json = written.map_err(gql_error)?;
            Ok(Some(FieldValue::owned_any(Rec::new(json, 0))))
        })
    })
    .argument(InputValue::new("data", TypeRef::named("JSON")));
    if update {
        field.argument(InputValue::new("id", TypeRef::named_nn(TypeRef::STRING)))
    } else {
        field
    }
}

fn delete_mutation(c: &Collection, name: &str) -> Field {
    let coll = c.name.clone();
    Field::new(name, TypeRef::named_nn(TypeRef::BOOLEAN), move |ctx| {
        let coll = coll.clone();
        FieldFuture::new(async move {
            let (app, caller) = services(&ctx)?;
            let id = ctx.args.try_get("id")?.string()?.to_owned();
            app.records()
                .delete_with_body(caller.info.clone(), &coll, &id, WriteInput::default())
                .await
                .map_err(gql_error)?;
            Ok(Some(FieldValue::value(true)))
        })
    })
    .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::STRING)))
}
