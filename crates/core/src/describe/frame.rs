//! The frame every operation shares: who may call it (`security`), the errors it answers,
//! the query parameters (the filter language in `filter`'s description), pages, and the
//! schemas of errors and sign-ins.

use serde_json::{Map, Value as Json, json};

/// Who may call an endpoint.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone; a token, if sent, identifies the caller.
    Anyone,
    /// An authenticated record (any auth collection).
    Authenticated,
    /// Superusers only.
    Superusers,
}

/// The filter language, in the `filter` parameter's description.
pub const FILTER_LANGUAGE: &str = "A filter in PocketBase's syntax, ANDed with the collection's rule: `field OPERATOR operand`, joined with `&&`, `||` and parentheses; `//` starts a comment.\n\n\
Operators: `=` `!=` `>` `>=` `<` `<=` `~` (contains / LIKE, `%` wildcards allowed) `!~` (does not contain); \
the `?` forms (`?=` `?!=` `?>` `?>=` `?<` `?<=` `?~` `?!~`) match when any item of a multi-value operand matches.\n\n\
Operands: field names and dotted relation paths (`author.name`, back-relations `comments_via_post.text`), \
strings in single or double quotes, numbers, `true`, `false`, `null`; \
field modifiers `:isset`, `:changed`, `:length`, `:each`, `:lower`.\n\n\
Macros: `@request.auth.*` (the caller's record; `@request.auth.id = \"\"` for guests), `@request.body.*`, `@request.query.*`, \
`@request.headers.*` (lower-case, `-` as `_`), `@request.method`, `@request.context`; \
`@collection.<name>.<field>` (any other collection, `:alias` to join it twice); \
`@now` `@second` `@minute` `@hour` `@weekday` `@day` `@month` `@year` `@yesterday` `@tomorrow` \
`@todayStart` `@todayEnd` `@monthStart` `@monthEnd` `@yearStart` `@yearEnd`; \
functions `geoDistance(lonA, latA, lonB, latB)` and `strftime(format, time)`.\n\n\
Example: `(title ~ 'rust' || views > 10) && author.verified = true && created >= @todayStart`.";

/// The field error codes listed in the error body's description.
const FIELD_CODES: &str = "validation_required, validation_invalid_value, validation_not_unique, validation_length_out_of_range, \
validation_min_text_constraint, validation_max_text_constraint, validation_min_number_constraint, validation_max_number_constraint, \
validation_only_int_constraint, validation_is_email, validation_is_url, validation_match_invalid, validation_in_invalid, \
validation_values_mismatch, validation_too_many_values, validation_not_enough_values, validation_missing_rel_records, \
validation_invalid_mime_type, validation_file_size_limit, validation_too_many_files, validation_json_size_limit, \
validation_invalid_old_password, validation_invalid_token, validation_email_domain_not_allowed, validation_url_domain_not_allowed";

/// The path parameters of a templated path (`{collection}`, `{id}`...).
pub fn path_parameters(path: &str) -> Vec<Json> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect()
}

/// A reference to a shared query parameter.
pub fn param_ref(name: &str) -> Json {
    json!({"$ref": format!("#/components/parameters/{name}")})
}

/// Who may call an operation, as OpenAPI's `security`: an empty requirement means a guest may.
pub fn security(access: Access) -> Json {
    match access {
        Access::Anyone => json!([{}, {"pbAuth": []}]),
        Access::Authenticated | Access::Superusers => json!([{"pbAuth": []}]),
    }
}

/// The responses of an operation: its success, then the errors it may answer.
pub fn responses((status, ok): (&str, Json), access: Access) -> Json {
    let mut out = Map::new();
    out.insert(status.to_owned(), ok);
    for code in ["400", "404", "429"] {
        out.insert(
            code.into(),
            json!({"$ref": format!("#/components/responses/E{code}")}),
        );
    }
    if access != Access::Anyone {
        out.insert("401".into(), json!({"$ref": "#/components/responses/E401"}));
    }
    out.insert("403".into(), json!({"$ref": "#/components/responses/E403"}));
    Json::Object(out)
}

/// A page of `item`s.
pub fn page_schema(item: Json) -> Json {
    json!({
        "type": "object",
        "properties": {
            "page": {"type": "integer"},
            "perPage": {"type": "integer"},
            "totalItems": {"type": "integer", "description": "-1 with `skipTotal`"},
            "totalPages": {"type": "integer", "description": "-1 with `skipTotal`"},
            "items": {"type": "array", "items": item},
        },
        "required": ["page", "perPage", "totalItems", "totalPages", "items"],
    })
}

pub fn parameters() -> Json {
    let q = |name: &str, schema: Json, description: &str| json!({"name": name, "in": "query", "required": false, "schema": schema, "description": description});
    json!({
        "page": q("page", json!({"type": "integer", "minimum": 1, "default": 1}), "The page (1-based)."),
        "perPage": q("perPage", json!({"type": "integer", "minimum": 1, "maximum": 1000, "default": 30}), "Items per page (at most 1000)."),
        "sort": q("sort", json!({"type": "string"}), "Comma-separated fields, `-` for descending (`-created,id`); `@random` and `@rowid` are accepted."),
        "filter": q("filter", json!({"type": "string"}), FILTER_LANGUAGE),
        "expand": q("expand", json!({"type": "string"}), "Relations to resolve into `expand`, comma-separated, dotted for nested ones (`author,comments_via_post.author`), up to 6 levels."),
        "fields": q("fields", json!({"type": "string"}), "The keys to return, comma-separated, dotted inside `expand` (`id,title,expand.author.name`); `*` for all at a level; `field:excerpt(200,true)` cuts text."),
        "skipTotal": q("skipTotal", json!({"type": "boolean"}), "Skip counting (`totalItems` and `totalPages` are -1): faster."),
    })
}

pub fn error_responses() -> Json {
    let e = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    json!({
        "E400": e("Invalid request: `data` holds the field errors."),
        "E401": e("A token is required (or it is invalid)."),
        "E403": e("The caller may not do this."),
        "E404": e("Not found (or not visible to the caller)."),
        "E429": e("Too many requests (rate limits)."),
    })
}

pub fn base_schemas() -> Map<String, Json> {
    let mut m = Map::new();
    m.insert("Error".into(), json!({
        "type": "object",
        "description": format!("Every error's body. For a 400, `data` maps each invalid field to `{{code, message, params?}}`; codes include: {FIELD_CODES}."),
        "properties": {
            "status": {"type": "integer"},
            "message": {"type": "string"},
            "data": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/FieldError"}},
        },
        "required": ["status", "message", "data"],
        "examples": [{"status": 400, "message": "Failed to create record.", "data": {"title": {"code": "validation_required", "message": "Cannot be blank."}}}],
    }));
    m.insert(
        "FieldError".into(),
        json!({
            "type": "object",
            "properties": {
                "code": {"type": "string", "examples": ["validation_required"]},
                "message": {"type": "string"},
                "params": {"type": "object"},
            },
            "required": ["code", "message"],
        }),
    );
    m.insert("AnyRecord".into(), json!({
        "type": "object",
        "description": "A record of any collection: `collectionId`, `collectionName`, `id` and the collection's visible fields (unless the `fields` query parameter narrows them).",
        "properties": {
            "collectionId": {"type": "string"},
            "collectionName": {"type": "string"},
            "id": {"type": "string"},
            "expand": {"type": "object"},
        },
        "additionalProperties": true,
    }));
    m.insert("AuthResponse".into(), json!({
        "type": "object",
        "properties": {
            "token": {"type": "string", "description": "Send it in the `Authorization` header."},
            "record": {"$ref": "#/components/schemas/AnyRecord"},
            "meta": {"type": "object", "description": "OAuth2 only: the provider's user data."},
        },
        "required": ["token", "record"],
    }));
    m.insert("MfaRequired".into(), json!({
        "type": "object",
        "description": "Answered (401) when the collection requires a second factor: repeat the sign-in with another method and `mfaId`.",
        "properties": {"mfaId": {"type": "string"}},
        "required": ["mfaId"],
    }));
    m
}
