//! Logins: password login, and `finish_login`, where every method (password, OTP, OAuth2)
//! ends: the auth rule, the second factor when MFA applies, the auth origin (login alerts),
//! then the token.
//!
//! SQL: a password login looks its identity up in every identity field at once.

use std::cell::Cell;

use oxbase_sql::Sql;
use serde_json::{Value as Json, json};

use super::forms::{Errors, PasswordLoginForm};
use super::{AuthService, tokens};
use crate::error::{Error, Result};
use crate::password;
use crate::records::Record;
use crate::records::query::{paren, select_by_id, select_root, update_column};
use crate::rules::{Purpose, RecordResolver, RequestInfo};

/// How a login ended.
#[derive(Debug)]
pub enum Login {
    Authenticated {
        token: String,
        record: Record,
    },
    /// PB-COMPAT: MFA applies and this was the first factor: answered `401 {"mfaId": ...}`;
    /// the client repeats a login of another method with this id.
    MfaRequired {
        mfa_id: String,
    },
}

/// Where a login comes from (the user agent is read from the request headers).
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub ip: String,
}

/// PB-COMPAT: the SDK sends `mfaId` as a query parameter (`authWithOTP(id, code, {mfaId})`);
/// the body is read too.
pub(super) fn mfa_id(req: &RequestInfo, in_body: &str) -> String {
    if !in_body.is_empty() {
        return in_body.to_owned();
    }
    req.query
        .get("mfaId")
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_owned()
}

impl AuthService {
    /// `auth-with-password`: the record whose identity field matches `identity` and whose
    /// password verifies, then `finish_login` (auth rule, MFA, origin, token).
    pub async fn with_password(
        &self,
        req: &RequestInfo,
        collection: &str,
        form: Result<PasswordLoginForm>,
        client: &Client,
    ) -> Result<Login> {
        let c = self.auth_collection(collection).await?;
        let form = form?;
        let identity_field = &form.identity_field;
        let (identity, password) = (form.identity.as_str(), form.password.as_str());
        let pa = c.options.get("passwordAuth");
        if !pa
            .and_then(|p| p.get("enabled"))
            .and_then(Json::as_bool)
            .unwrap_or(true)
        {
            return Err(Error::Forbidden(
                "The collection is not configured to allow password authentication.".into(),
            ));
        }
        let mut fields: Vec<String> = pa
            .and_then(|p| p.get("identityFields"))
            .and_then(Json::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_else(|| vec!["email".into()]);
        if !identity_field.is_empty() {
            fields.retain(|f| f == identity_field);
            if fields.is_empty() {
                let mut errors = Errors::default();
                errors.add(
                    "identityField",
                    "validation_in_invalid",
                    "Must be a valid value.",
                );
                errors.check()?;
            }
        }
        let fail = || {
            metrics::counter!("oxbase_auth_failures_total", "method" => "password").increment(1);
            Error::bad_request("Failed to authenticate.")
        };
        if identity.is_empty() || password.is_empty() {
            return Err(Error::BadRequest {
                message: "An error occurred while validating the submitted data.".into(),
                data: {
                    let mut d = crate::error::FieldErrors::new();
                    if identity.is_empty() {
                        d.insert(
                            "identity".into(),
                            json!({"code": "validation_required", "message": "Cannot be blank."}),
                        );
                    }
                    if password.is_empty() {
                        d.insert(
                            "password".into(),
                            json!({"code": "validation_required", "message": "Cannot be blank."}),
                        );
                    }
                    d
                },
            });
        }
        let mut conds = Vec::new();
        for f in fields.iter().filter(|f| c.field(f).is_some()) {
            conds.push(super::identity_match(&c, f, identity)?);
        }
        if conds.is_empty() {
            return Err(fail());
        }
        let mut select = select_root(&c)?;
        select
            .push(" WHERE ")
            .push_sql(&Sql::join(conds, " OR "))
            .push(" LIMIT 1");
        let coll = c.clone();
        let record = self
            .schema
            .db()
            .read(move |conn| Ok(Record::from_rows(&coll, conn.query(&select)?).pop()))
            .await?;
        let pwd = password.to_owned();
        // A missing account still costs one verification, so it takes as long as a wrong password.
        let stored = record.as_ref().map_or_else(
            || password::dummy_hash().to_owned(),
            |r| r.get_str("password").to_owned(),
        );
        let ok = password::verify_async(pwd, stored).await;
        let record = match record {
            Some(r) if ok => r,
            _ => return Err(fail()),
        };
        if password::needs_rehash(record.get_str("password")) {
            self.rehash(&record, password).await?;
        }
        self.finish_login(req, record, "password", &mfa_id(req, &form.mfa_id), client)
            .await
    }

    /// Replaces a verified hash of another kind (bcrypt, from a user imported from PocketBase)
    /// or with other parameters by a fresh one.
    /// The token key stays: the password did not change, so sessions stay valid.
    async fn rehash(&self, record: &Record, password: &str) -> Result<()> {
        let hash = password::hash_async(password.to_owned()).await?;
        let sql = update_column(&record.collection, record.id(), "password", hash.into())?;
        self.schema
            .db()
            .write(move |conn| conn.execute(&sql).map(|_| ()))
            .await?;
        self.identities.forget(record);
        Ok(())
    }

    /// The collection's `authRule` (null: nobody), judged on the record for the request as
    /// it came (a login is a guest's request, as in PocketBase).
    async fn check_auth_rule(&self, req: &RequestInfo, record: &Record) -> Result<()> {
        let allowed = match record.collection.rule("authRule") {
            None => false,
            Some(rule) => self.matches_rule(req, record, rule).await?,
        };
        if allowed {
            return Ok(());
        }
        Err(Error::Forbidden(
            "The request doesn't satisfy the collection requirements to authenticate.".into(),
        ))
    }

    /// Whether `rule` holds for `record`, judged for `req` (an empty rule always holds).
    pub(super) async fn matches_rule(
        &self,
        req: &RequestInfo,
        record: &Record,
        rule: &str,
    ) -> Result<bool> {
        if rule.trim().is_empty() {
            return Ok(true);
        }
        let c = record.collection.clone();
        let predicate = {
            let counter = Cell::new(0);
            let resolver = RecordResolver::new(
                &self.schema,
                c.clone(),
                req,
                Purpose::Rule,
                self.schema.db().dialect(),
                &counter,
            );
            resolver.compile(rule).map_err(Error::internal)?
        };
        let select = select_by_id(&c, record.id(), Some(&paren(predicate)))?;
        self.schema
            .db()
            .read(move |conn| Ok(!conn.query(&select)?.is_empty()))
            .await
    }

    /// The end of every successful first step: the auth rule, MFA, the origin, the token.
    pub(super) async fn finish_login(
        &self,
        req: &RequestInfo,
        record: Record,
        method: &str,
        mfa_id: &str,
        client: &Client,
    ) -> Result<Login> {
        self.check_auth_rule(req, &record).await?;
        if self.mfa_required(req, &record).await? {
            if mfa_id.is_empty() {
                return Ok(Login::MfaRequired {
                    mfa_id: self.start_mfa(&record, method).await?,
                });
            }
            self.complete_mfa(&record, method, mfa_id).await?;
        }
        let user_agent = req
            .headers
            .get("user_agent")
            .and_then(Json::as_str)
            .unwrap_or("");
        self.note_origin(&record, &client.ip, user_agent).await?;
        Ok(Login::Authenticated {
            token: tokens::issue(&record)?,
            record,
        })
    }
}
