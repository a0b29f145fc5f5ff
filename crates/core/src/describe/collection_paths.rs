//! The typed paths of one collection: its records' list, view, create, update and delete, and
//! for an auth collection its sign-in flows, with the collection's own schemas.

use serde_json::{Map, Value as Json, json};

use super::Audience;
use super::frame::{Access, page_schema, param_ref, responses, security};
use super::schemas::{component, reference};
use crate::schema::{Collection, CollectionKind};

/// The tag grouping a collection's operations.
pub fn tag(c: &Collection) -> String {
    format!("collection: {}", c.name)
}

/// Adds the paths of `c` that `audience` may call.
pub fn add(paths: &mut Map<String, Json>, c: &Collection, audience: Audience) {
    let base = format!("/api/collections/{}", c.name);
    let record = reference(&component(c, "Record"));
    let mut list = Map::new();
    let mut one = Map::new();
    if audience.may_call(c, "listRule") {
        let ok = json!({"description": "A page of records", "content": {"application/json": {"schema": page_schema(record.clone())}}});
        let params = [
            "page",
            "perPage",
            "sort",
            "filter",
            "expand",
            "fields",
            "skipTotal",
        ];
        list.insert(
            "get".into(),
            op(c, "list", "listRule", &params, None, ("200", ok), audience),
        );
    }
    if audience.may_call(c, "viewRule") {
        let ok = json!({"description": "The record", "content": {"application/json": {"schema": record.clone()}}});
        one.insert(
            "get".into(),
            op(
                c,
                "view",
                "viewRule",
                &["expand", "fields"],
                None,
                ("200", ok),
                audience,
            ),
        );
    }
    if c.kind != CollectionKind::View {
        let ok = json!({"description": "The record", "content": {"application/json": {"schema": record.clone()}}});
        if audience.may_call(c, "createRule") {
            let body = body(c, "Create");
            list.insert(
                "post".into(),
                op(
                    c,
                    "create",
                    "createRule",
                    &["expand", "fields"],
                    Some(body),
                    ("200", ok.clone()),
                    audience,
                ),
            );
        }
        if audience.may_call(c, "updateRule") {
            let body = body(c, "Update");
            one.insert(
                "patch".into(),
                op(
                    c,
                    "update",
                    "updateRule",
                    &["expand", "fields"],
                    Some(body),
                    ("200", ok),
                    audience,
                ),
            );
        }
        if audience.may_call(c, "deleteRule") {
            let ok = json!({"description": "Deleted"});
            one.insert(
                "delete".into(),
                op(c, "delete", "deleteRule", &[], None, ("204", ok), audience),
            );
        }
    }
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}});
    if !list.is_empty() {
        paths.insert(format!("{base}/records"), Json::Object(list));
    }
    if !one.is_empty() {
        one.insert("parameters".into(), json!([id]));
        paths.insert(format!("{base}/records/{{id}}"), Json::Object(one));
    }
    if c.is_auth() {
        auth_flows(paths, c, &base, record, audience);
    }
}

fn body(c: &Collection, suffix: &str) -> Json {
    json!({
        "required": true,
        "content": {
            "application/json": {"schema": reference(&component(c, suffix))},
            "multipart/form-data": {"schema": reference(&component(c, &format!("{suffix}Form")))},
        },
    })
}

/// One record operation; its description names the rule (to superusers, who may read rules).
fn op(
    c: &Collection,
    action: &str,
    rule: &str,
    params: &[&str],
    body: Option<Json>,
    ok: (&str, Json),
    audience: Audience,
) -> Json {
    let rule_text = match c.rule(rule) {
        None => "superusers only".to_owned(),
        Some("") => "anyone".to_owned(),
        Some(r) if audience == Audience::Superusers => format!("`{r}`"),
        Some(_) => "the collection's rule".to_owned(),
    };
    let access = if c.rule(rule).is_none() {
        Access::Superusers
    } else {
        Access::Anyone
    };
    let mut o = json!({
        "tags": [tag(c)],
        "summary": format!("{}{} {} record{}", action[..1].to_uppercase(), &action[1..], c.name, if action == "list" { "s" } else { "" }),
        "description": format!("`{rule}`: {rule_text}."),
        "operationId": format!("{action}_{}", c.name),
        "security": security(access),
        "responses": responses(ok, access),
    });
    if !params.is_empty() {
        o["parameters"] = Json::Array(params.iter().map(|p| param_ref(p)).collect());
    }
    if let Some(body) = body {
        o["requestBody"] = body;
    }
    o
}

/// The sign-in flows of an auth collection, answering its own record schema.
fn auth_flows(
    paths: &mut Map<String, Json>,
    c: &Collection,
    base: &str,
    record: Json,
    audience: Audience,
) {
    let auth_ok = json!({"description": "Signed in", "content": {"application/json": {"schema": {
        "type": "object",
        "properties": {"token": {"type": "string"}, "record": record, "meta": {"type": "object"}},
        "required": ["token", "record"],
    }}}});
    let str_props = |names: &[&str]| -> Json {
        let props: Map<String, Json> = names
            .iter()
            .map(|n| ((*n).to_owned(), json!({"type": "string"})))
            .collect();
        json!({"type": "object", "properties": props})
    };
    // Each flow: its body's fields and the required ones.
    let flows: [(&str, &[&str], &[&str]); 4] = [
        (
            "auth-with-password",
            &["identity", "password", "identityField", "mfaId"],
            &["identity", "password"],
        ),
        (
            "auth-with-otp",
            &["otpId", "password", "mfaId"],
            &["otpId", "password"],
        ),
        (
            "auth-with-oauth2",
            &["provider", "code", "codeVerifier", "redirectURL", "mfaId"],
            &["provider", "code", "redirectURL"],
        ),
        ("auth-refresh", &[], &[]),
    ];
    for (flow, fields, required) in flows {
        let mut schema = str_props(fields);
        if !required.is_empty() {
            schema["required"] = json!(required);
        }
        if flow == "auth-with-oauth2" {
            schema["properties"]["createData"] = json!({"type": "object", "description": "Fields of a record created on first sign-in."});
        }
        let access = if flow == "auth-refresh" {
            Access::Authenticated
        } else {
            Access::Anyone
        };
        let mut o = json!({
            "tags": [tag(c)],
            "summary": format!("{flow} ({})", c.name),
            "operationId": format!("{}_{}", flow.replace('-', "_"), c.name),
            "parameters": [param_ref("expand"), param_ref("fields")],
            "security": security(access),
            "responses": responses(("200", auth_ok.clone()), access),
        });
        if flow != "auth-refresh" {
            o["responses"]["401"] = json!({
                "description": "A second factor is required (`mfaId`), or the sign-in failed.",
                "content": {"application/json": {"schema": {"anyOf": [
                    reference("MfaRequired"),
                    reference("Error"),
                ]}}},
            });
        }
        if !fields.is_empty() {
            o["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": schema}}});
        }
        paths.insert(format!("{base}/{flow}"), json!({"post": o}));
    }
    paths.insert(
        format!("{base}/auth-methods"),
        json!({"get": {
            "tags": [tag(c)],
            "summary": format!("Auth methods of {}", c.name),
            "operationId": format!("auth_methods_{}", c.name),
            "security": security(Access::Anyone),
            "responses": responses(("200", json!({"description": "The methods", "content": {"application/json": {"schema": {"type": "object"}}}})), Access::Anyone),
        }}),
    );
    if audience == Audience::Superusers {
        let mut o = json!({
            "tags": [tag(c)],
            "summary": format!("Impersonate a record of {}", c.name),
            "operationId": format!("impersonate_{}", c.name),
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
            "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {"duration": {"type": "integer", "description": "The token's lifetime in seconds (0: the collection's)."}}}}}},
            "security": security(Access::Superusers),
            "responses": responses(("200", auth_ok), Access::Superusers),
        });
        o["x-superusers-only"] = json!(true);
        paths.insert(format!("{base}/impersonate/{{id}}"), json!({"post": o}));
    }
}
