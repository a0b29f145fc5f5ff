//! A collection: its kind, fields, indexes, API rules and kind-specific options, in
//! PocketBase's JSON shape.

use serde_json::{Map, Value as Json, json};

use super::field::{Field, FieldKind};
use crate::error::{FieldErrors, field_error_json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectionKind {
    Base,
    Auth,
    View,
}

impl CollectionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CollectionKind::Base => "base",
            CollectionKind::Auth => "auth",
            CollectionKind::View => "view",
        }
    }
    pub fn parse(s: &str) -> Option<CollectionKind> {
        match s {
            "base" | "" => Some(CollectionKind::Base),
            "auth" => Some(CollectionKind::Auth),
            "view" => Some(CollectionKind::View),
            _ => None,
        }
    }
}

/// The rule names of every collection, then those only auth collections have.
pub const RULES: [&str; 5] = [
    "listRule",
    "viewRule",
    "createRule",
    "updateRule",
    "deleteRule",
];
pub const AUTH_RULES: [&str; 2] = ["authRule", "manageRule"];
/// oxbase's own collection options (PocketBase has neither).
const HISTORY: &str = "history";
const HISTORY_MAX_VERSIONS: &str = "historyMaxVersions";

#[derive(Debug, Clone, PartialEq)]
pub struct Collection {
    pub id: String,
    pub name: String,
    pub kind: CollectionKind,
    pub system: bool,
    pub fields: Vec<Field>,
    /// `CREATE [UNIQUE] INDEX` statements as the user gave them.
    pub indexes: Vec<String>,
    /// Rules by name (`listRule`...); `None` means superusers only, `""` means everyone.
    pub rules: Map<String, Json>,
    /// Kind-specific options: `viewQuery` for views; `passwordAuth`, `authToken`... for auth.
    pub options: Map<String, Json>,
    pub created: String,
    pub updated: String,
}

fn auth_option_defaults() -> Map<String, Json> {
    match serde_json::from_str(include_str!("auth_options.json")) {
        Ok(Json::Object(m)) => m,
        _ => Map::new(),
    }
}

impl Collection {
    /// A new collection of `kind` with the system fields PocketBase gives it.
    pub fn new(name: &str, kind: CollectionKind) -> Collection {
        let mut c = Collection {
            id: crate::ids::collection_id(kind.as_str(), name),
            name: name.to_owned(),
            kind,
            system: false,
            fields: Vec::new(),
            indexes: Vec::new(),
            rules: RULES
                .iter()
                .map(|r| ((*r).to_owned(), Json::Null))
                .collect(),
            options: Map::new(),
            created: String::new(),
            updated: String::new(),
        };
        match kind {
            CollectionKind::Base => c.fields = vec![id_field()],
            CollectionKind::View => {
                c.options.insert("viewQuery".into(), json!(""));
            }
            CollectionKind::Auth => {
                c.fields = auth_system_fields();
                for (k, v) in auth_option_defaults() {
                    if AUTH_RULES.contains(&k.as_str()) {
                        c.rules.insert(k, v);
                    } else {
                        c.options.insert(k, v);
                    }
                }
            }
        }
        c.ensure_auth_indexes();
        c
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn is_auth(&self) -> bool {
        self.kind == CollectionKind::Auth
    }

    /// The rule named `name`: `None` for superusers only, `Some("")` for everyone.
    pub fn rule(&self, name: &str) -> Option<&str> {
        self.rules.get(name).and_then(Json::as_str)
    }

    pub fn option_str(&self, key: &str) -> &str {
        self.options.get(key).and_then(Json::as_str).unwrap_or("")
    }

    /// The lifetime in seconds of the tokens configured under `option` (`authToken`,
    /// `fileToken`...).
    pub fn token_duration(&self, option: &str) -> i64 {
        let default = if option == "authToken" { 604_800 } else { 180 };
        self.options
            .get(option)
            .and_then(|t| t.get("duration"))
            .and_then(Json::as_i64)
            .unwrap_or(default)
    }

    /// The collection's own secret for the tokens under `option` (never sent out).
    pub fn token_secret(&self, option: &str) -> &str {
        self.options
            .get(option)
            .and_then(|t| t.get("secret"))
            .and_then(Json::as_str)
            .unwrap_or("")
    }

    /// The auth token secret.
    pub fn auth_token_secret(&self) -> &str {
        self.token_secret("authToken")
    }

    /// PocketBase's API shape. Secrets (`authToken.secret`...) are left out.
    pub fn to_json(&self) -> Json {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        for r in RULES {
            m.insert(r.into(), self.rules.get(r).cloned().unwrap_or(Json::Null));
        }
        m.insert("name".into(), json!(self.name));
        m.insert("type".into(), json!(self.kind.as_str()));
        m.insert(
            "fields".into(),
            Json::Array(self.fields.iter().map(Field::to_json).collect()),
        );
        m.insert("indexes".into(), json!(self.indexes));
        m.insert("created".into(), json!(self.created));
        m.insert("updated".into(), json!(self.updated));
        m.insert("system".into(), json!(self.system));
        if self.is_auth() {
            for r in AUTH_RULES {
                m.insert(r.into(), self.rules.get(r).cloned().unwrap_or(Json::Null));
            }
        }
        for (k, v) in &self.options {
            m.insert(k.clone(), strip_secrets(k, v));
        }
        Json::Object(m)
    }

    /// The stored form: the API shape plus secrets.
    pub fn to_stored_json(&self) -> Json {
        let mut out = self.to_json();
        if let Json::Object(m) = &mut out {
            for (k, v) in &self.options {
                m.insert(k.clone(), v.clone());
            }
        }
        out
    }

    /// Reads a collection back from its stored form.
    pub fn from_stored(stored: &Json) -> Option<Collection> {
        let kind = CollectionKind::parse(stored.get("type")?.as_str()?)?;
        let mut c = Collection::new(stored.get("name")?.as_str()?, kind);
        c.id = stored.get("id")?.as_str()?.to_owned();
        c.apply(stored, true).ok()?;
        c.created = stored
            .get("created")
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_owned();
        c.updated = stored
            .get("updated")
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_owned();
        Some(c)
    }

    /// Applies a create or update request body. Only keys present change. Structural checks
    /// that need other collections (relations, rules, uniqueness) are the service's job.
    pub fn apply(&mut self, input: &Json, trusted: bool) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        let Some(obj) = input.as_object() else {
            return Err(FieldErrors::new());
        };
        // The name is checked by the service, with the other collections at hand.
        if let Some(name) = obj.get("name") {
            self.name = name.as_str().unwrap_or("").trim().to_owned();
        }
        if trusted && let Some(s) = obj.get("system").and_then(Json::as_bool) {
            self.system = s;
        }
        let rule_names: Vec<&str> = RULES.iter().chain(AUTH_RULES.iter()).copied().collect();
        for r in rule_names {
            if let Some(v) = obj.get(r) {
                if AUTH_RULES.contains(&r) && !self.is_auth() {
                    continue;
                }
                match v {
                    Json::Null | Json::String(_) => {
                        self.rules.insert(r.to_owned(), v.clone());
                    }
                    _ => {
                        errors.insert(
                            r.into(),
                            field_error_json(
                                "validation_invalid_rule",
                                "Must be a string or null.",
                            ),
                        );
                    }
                }
            }
        }
        if let Some(fields) = obj.get("fields") {
            match self.apply_fields(fields) {
                Ok(()) => {}
                Err(e) => {
                    errors.insert("fields".into(), e);
                }
            }
        }
        if let Some(indexes) = obj.get("indexes") {
            match indexes {
                Json::Array(list) if list.iter().all(Json::is_string) => {
                    self.indexes = list
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect();
                }
                Json::Null => self.indexes.clear(),
                _ => {
                    errors.insert(
                        "indexes".into(),
                        field_error_json(
                            "validation_invalid_value",
                            "Must be a list of index statements.",
                        ),
                    );
                }
            }
        }
        self.apply_options(obj, trusted);
        self.apply_history(obj, &mut errors);
        self.ensure_auth_indexes();
        if self.is_auth() {
            let mut option_errors = FieldErrors::new();
            super::auth_options::validate(&self.options, &mut option_errors);
            if option_errors.is_empty() && !trusted {
                super::auth_options::validate_methods(
                    &self.options,
                    &self.fields,
                    &self.indexes,
                    &mut option_errors,
                );
            }
            errors.extend(option_errors);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn apply_fields(&mut self, input: &Json) -> Result<(), Json> {
        let Some(list) = input.as_array() else {
            return Err(field_error_json(
                "validation_invalid_value",
                "Must be a list of fields.",
            ));
        };
        // Errors by position in the request's list; shifted to the saved list's positions below.
        let mut errors: Vec<(usize, Json)> = Vec::new();
        let mut fields = Vec::with_capacity(list.len());
        for (i, raw) in list.iter().enumerate() {
            match Field::from_json(raw) {
                Ok(mut f) => {
                    // Keep the identity of an existing field given by id, so a rename is a rename.
                    if let Some(old) = self.fields.iter().find(|o| o.id == f.id) {
                        if old.kind != f.kind {
                            // PB-COMPAT: reported on the field itself, not on its `type`.
                            errors.push((
                                i,
                                field_error_json(
                                    "validation_field_type_change",
                                    "Field type cannot be changed.",
                                ),
                            ));
                        }
                        if old.system {
                            f.system = true;
                        }
                    }
                    fields.push(f);
                }
                Err(e) => errors.push((i, serde_json::to_value(e).unwrap_or(Json::Null))),
            }
        }
        // An auth collection's request bodies carry these keys for themselves.
        if self.is_auth() {
            for (i, f) in fields.iter().enumerate() {
                if ["passwordConfirm", "oldPassword"].contains(&f.name.as_str()) {
                    errors.push((i, json!({"name": field_error_json("validation_reserved_field_name", "The field name is reserved and cannot be used.")})));
                }
            }
        }
        // Names are unique, case-insensitively.
        for (i, f) in fields.iter().enumerate() {
            if fields[..i]
                .iter()
                .any(|o| o.name.eq_ignore_ascii_case(&f.name))
            {
                errors.push((i, json!({"name": field_error_json("validation_duplicated_field_name", "Duplicated or invalid field name.")})));
            }
        }
        // System fields cannot be removed. PB-COMPAT: a missing `id` goes first, the other
        // missing system fields after the given ones (as PocketBase places them).
        let mut missing = Vec::new();
        for old in self.fields.iter().filter(|f| f.system) {
            if !fields.iter().any(|f| f.id == old.id) {
                if let Some(pos) = fields.iter().position(|f| f.name == old.name) {
                    fields[pos].id = old.id.clone();
                    fields[pos].system = true;
                } else {
                    missing.push(old.clone());
                }
            }
        }
        let (front, back): (Vec<Field>, Vec<Field>) =
            missing.into_iter().partition(|f| f.name == "id");
        let mut shift = front.len();
        fields.splice(0..0, front);
        fields.extend(back);
        if self.kind != CollectionKind::View && !fields.iter().any(|f| f.name == "id") {
            fields.insert(0, id_field());
            shift += 1;
        }
        if !errors.is_empty() {
            // PB-COMPAT: errors name the field's position in the saved list (`fields.1` for
            // the first field given without `id`).
            let mut by_position = Map::new();
            for (i, e) in errors {
                by_position.entry((i + shift).to_string()).or_insert(e);
            }
            return Err(Json::Object(by_position));
        }
        self.fields = fields;
        Ok(())
    }

    /// oxbase's own options `history` (keep every version of every record, docs/history.md)
    /// and `historyMaxVersions` (0: all): kept only when set, so that a collection without
    /// them has PocketBase's shape exactly.
    fn apply_history(&mut self, obj: &Map<String, Json>, errors: &mut FieldErrors) {
        if let Some(v) = obj.get(HISTORY) {
            match v {
                Json::Bool(true) if self.kind != CollectionKind::View => {
                    self.options.insert(HISTORY.into(), json!(true));
                }
                Json::Bool(false) | Json::Null => {
                    self.options.remove(HISTORY);
                }
                _ => {
                    let message = if v.is_boolean() {
                        "View collections have no history."
                    } else {
                        "Must be a boolean."
                    };
                    errors.insert(
                        HISTORY.into(),
                        field_error_json("validation_invalid_value", message),
                    );
                }
            }
        }
        if let Some(v) = obj.get(HISTORY_MAX_VERSIONS) {
            match v {
                Json::Null => {
                    self.options.remove(HISTORY_MAX_VERSIONS);
                }
                Json::Number(n) if n.as_u64() == Some(0) => {
                    self.options.remove(HISTORY_MAX_VERSIONS);
                }
                Json::Number(n) if n.as_u64().is_some() => {
                    self.options.insert(HISTORY_MAX_VERSIONS.into(), v.clone());
                }
                _ => {
                    errors.insert(
                        HISTORY_MAX_VERSIONS.into(),
                        field_error_json(
                            "validation_invalid_value",
                            "Must be a whole number, 0 or more.",
                        ),
                    );
                }
            }
        }
    }

    /// Whether every version of this collection's records is kept (`history: true`).
    pub fn keeps_history(&self) -> bool {
        self.options.get(HISTORY).and_then(Json::as_bool) == Some(true)
    }

    /// How many versions of a record are kept at most (`historyMaxVersions`; 0: all).
    pub fn history_max_versions(&self) -> i64 {
        self.options
            .get(HISTORY_MAX_VERSIONS)
            .and_then(Json::as_i64)
            .unwrap_or(0)
    }

    fn apply_options(&mut self, obj: &Map<String, Json>, trusted: bool) {
        let keys: Vec<String> = match self.kind {
            CollectionKind::View => vec!["viewQuery".into()],
            CollectionKind::Auth => auth_option_defaults()
                .keys()
                .filter(|k| !AUTH_RULES.contains(&k.as_str()))
                .cloned()
                .collect(),
            CollectionKind::Base => Vec::new(),
        };
        for k in keys {
            if let Some(v) = obj.get(&k) {
                let mut v = v.clone();
                // Secrets are set by the server, never by the request body.
                if !trusted
                    && let (Some(old), Json::Object(new)) =
                        (self.options.get(&k).and_then(|o| o.get("secret")), &mut v)
                {
                    new.insert("secret".into(), old.clone());
                }
                if !trusted && k == "oauth2" {
                    keep_client_secrets(self.options.get(&k), &mut v);
                }
                // PB-COMPAT: a partial object (`{"otp": {"enabled": true}}`) updates only the
                // keys it names, as PocketBase's decoding into the existing options does.
                match self.options.get_mut(&k) {
                    Some(old) => merge_json(old, v),
                    None => {
                        self.options.insert(k, v);
                    }
                }
            }
        }
        if self.is_auth() {
            for key in [
                "authToken",
                "passwordResetToken",
                "emailChangeToken",
                "verificationToken",
                "fileToken",
            ] {
                let entry = self
                    .options
                    .entry(key.to_owned())
                    .or_insert_with(|| json!({"duration": 3600}));
                if let Json::Object(m) = entry
                    && m.get("secret")
                        .and_then(Json::as_str)
                        .is_none_or(str::is_empty)
                {
                    m.insert("secret".into(), json!(crate::ids::random_string(50)));
                }
            }
        }
    }

    /// Auth collections keep PocketBase's unique indexes on `tokenKey` and `email`. An existing
    /// one keeps its name (PocketBase names them once, after the id a new collection is first
    /// given, even when the body then sets another id) and follows the table's name.
    fn ensure_auth_indexes(&mut self) {
        if !self.is_auth() {
            return;
        }
        for (column, filter) in [("tokenKey", ""), ("email", " WHERE `email` != ''")] {
            let existing = self.indexes.iter().position(|stmt| {
                oxbase_sql::ddl::parse_index(stmt).is_some_and(|i| {
                    i.unique && i.columns.len() == 1 && i.columns[0].name.as_str() == column
                })
            });
            match existing {
                // A superuser may have edited it (`COLLATE NOCASE` makes logins
                // case-insensitive): only the table's name changes.
                Some(at) => {
                    if let Some(renamed) = on_table(&self.indexes[at], &self.name) {
                        self.indexes[at] = renamed;
                    }
                }
                None => self.indexes.push(format!(
                    "CREATE UNIQUE INDEX `idx_{column}_{}` ON `{}` (`{column}`){filter}",
                    self.id, self.name
                )),
            }
        }
    }
}

/// An index statement naming `table` after `ON` instead of the table it names; `None` when it
/// already does or the table cannot be found in it.
fn on_table(stmt: &str, table: &str) -> Option<String> {
    let current = oxbase_sql::ddl::parse_index(stmt)?.table;
    if current == table {
        return None;
    }
    for (open, close) in [("`", "`"), ("\"", "\""), ("[", "]"), ("", " ")] {
        for on in [" ON ", " on "] {
            let needle = format!("{on}{open}{current}{close}");
            if let Some(at) = stmt.find(&needle) {
                let replaced = format!("{on}`{table}`{}", if close == " " { " " } else { "" });
                let mut out = stmt.to_owned();
                out.replace_range(at..at + needle.len(), &replaced);
                return Some(out);
            }
        }
    }
    None
}

/// Deep-merges `new` into `old`: objects key by key, anything else replaced.
fn merge_json(old: &mut Json, new: Json) {
    match (old, new) {
        (Json::Object(o), Json::Object(n)) => {
            for (k, v) in n {
                match o.get_mut(&k) {
                    Some(slot) => merge_json(slot, v),
                    None => {
                        o.insert(k, v);
                    }
                }
            }
        }
        (slot, new) => *slot = new,
    }
}

/// An option as the API shows it: without the token secrets, and without the OAuth2
/// providers' `clientSecret` (left out, as PocketBase's `omitempty` does, even for superusers).
fn strip_secrets(key: &str, v: &Json) -> Json {
    let mut v = v.clone();
    if let Json::Object(m) = &mut v {
        m.remove("secret");
        if key == "oauth2"
            && let Some(Json::Array(providers)) = m.get_mut("providers")
        {
            for p in providers.iter_mut().filter_map(Json::as_object_mut) {
                p.remove("clientSecret");
            }
        }
    }
    v
}

/// Since the API never shows a provider's `clientSecret`, a provider sent back without the key
/// keeps the secret stored for the provider of the same name, as in PocketBase (an explicit
/// `""` or `null` clears it, and the check then asks for one).
fn keep_client_secrets(old: Option<&Json>, new: &mut Json) {
    let Some(old) = old
        .and_then(|o| o.get("providers"))
        .and_then(Json::as_array)
    else {
        return;
    };
    let Some(providers) = new.get_mut("providers").and_then(Json::as_array_mut) else {
        return;
    };
    for p in providers.iter_mut().filter_map(Json::as_object_mut) {
        if p.contains_key("clientSecret") {
            continue;
        }
        let name = p.get("name").and_then(Json::as_str).unwrap_or("");
        if let Some(secret) = old
            .iter()
            .find(|o| o.get("name").and_then(Json::as_str) == Some(name))
            .and_then(|o| o.get("clientSecret"))
        {
            p.insert("clientSecret".into(), secret.clone());
        }
    }
}

/// The `id` field every base and auth collection has.
pub fn id_field() -> Field {
    let mut f = Field::new("id", FieldKind::Text)
        .with("autogeneratePattern", json!("[a-z0-9]{15}"))
        .with("max", json!(15))
        .with("min", json!(15))
        .with("pattern", json!("^[a-z0-9]+$"))
        .with("primaryKey", json!(true));
    f.system = true;
    f.required = true;
    f
}

fn auth_system_fields() -> Vec<Field> {
    let mut password = Field::new("password", FieldKind::Password).with("min", json!(8));
    password.system = true;
    password.hidden = true;
    password.required = true;
    let mut token_key = Field::new("tokenKey", FieldKind::Text)
        .with("autogeneratePattern", json!("[a-zA-Z0-9]{50}"))
        .with("max", json!(60))
        .with("min", json!(30));
    token_key.system = true;
    token_key.hidden = true;
    token_key.required = true;
    let mut email = Field::new("email", FieldKind::Email);
    email.system = true;
    email.required = true;
    let mut visibility = Field::new("emailVisibility", FieldKind::Bool);
    visibility.system = true;
    let mut verified = Field::new("verified", FieldKind::Bool);
    verified.system = true;
    vec![id_field(), password, token_key, email, visibility, verified]
}

/// `created` and `updated` autodate fields, as PocketBase's default collections carry.
pub fn autodate_fields(system: bool) -> Vec<Field> {
    let mut created = Field::new("created", FieldKind::Autodate);
    created.system = system;
    let mut updated = Field::new("updated", FieldKind::Autodate).with("onUpdate", json!(true));
    updated.system = system;
    vec![created, updated]
}

#[cfg(test)]
mod tests {
    #[test]
    fn partial_option_objects_merge_into_the_existing_ones() {
        let mut old = json!({"enabled": false, "duration": 180, "emailTemplate": {"subject": "s", "body": "b"}});
        super::merge_json(
            &mut old,
            json!({"enabled": true, "emailTemplate": {"subject": "t"}, "list": [1]}),
        );
        assert_eq!(
            old,
            json!({"enabled": true, "duration": 180, "emailTemplate": {"subject": "t", "body": "b"}, "list": [1]})
        );
    }

    use super::*;

    #[test]
    fn system_auth_indexes_are_named_once_and_follow_renames() {
        let mut c = Collection::new("members", CollectionKind::Auth);
        let first_id = c.id.clone();
        c.apply(&json!({"id": "explicitid12345", "name": "people"}), false)
            .unwrap();
        assert_eq!(c.indexes.len(), 2, "{:?}", c.indexes);
        assert!(
            c.indexes
                .iter()
                .all(|i| i.contains(&first_id) && i.contains("`people`"))
        );
        // An edited index keeps its edit (and is not added again).
        c.indexes[1] = format!(
            "CREATE UNIQUE INDEX `idx_email_{first_id}` ON `people` (`email` COLLATE NOCASE) WHERE `email` != ''"
        );
        c.apply(&json!({"name": "folks"}), false).unwrap();
        assert_eq!(c.indexes.len(), 2, "{:?}", c.indexes);
        assert!(
            c.indexes[1].contains("ON `folks` (`email` COLLATE NOCASE)"),
            "{:?}",
            c.indexes
        );
    }

    #[test]
    fn new_auth_collection_has_system_fields_and_indexes() {
        let c = Collection::new("members", CollectionKind::Auth);
        let names: Vec<_> = c.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "id",
                "password",
                "tokenKey",
                "email",
                "emailVisibility",
                "verified"
            ]
        );
        assert_eq!(c.indexes.len(), 2);
        assert_eq!(c.field("id").map(|f| f.id.as_str()), Some("text3208210256"));
        assert!(c.auth_token_secret().is_empty() || c.auth_token_secret().len() == 50);
    }

    #[test]
    fn apply_keeps_system_fields_and_rejects_duplicates() {
        let mut c = Collection::new("posts", CollectionKind::Base);
        let err = c.apply(
            &json!({"fields": [{"name": "a", "type": "text"}, {"name": "A", "type": "bool"}]}),
            false,
        );
        assert!(err.is_err());
        c.apply(
            &json!({"fields": [{"name": "title", "type": "text"}]}),
            false,
        )
        .unwrap();
        assert_eq!(c.fields[0].name, "id");
        assert_eq!(c.fields.len(), 2);
    }

    #[test]
    fn secrets_are_not_in_the_api_shape() {
        let mut c = Collection::new("members", CollectionKind::Auth);
        c.apply(&json!({}), true).unwrap();
        assert!(c.to_json()["authToken"].get("secret").is_none());
        assert!(c.to_stored_json()["authToken"].get("secret").is_some());
    }
}
