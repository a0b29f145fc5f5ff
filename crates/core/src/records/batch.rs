//! `POST /api/batch`: several creates, updates, upserts and deletes under the caller's auth and
//! rules, in ONE transaction. Every request is planned first (rules compiled, passwords
//! hashed); then all run together, and the realtime/events changes go out after the commit.

use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};

use super::Records;
use super::write::{Outcome, WriteInput, WritePlan};
use crate::error::{Error, Result};
use crate::rules::{RequestContext, RequestInfo};
use crate::settings::{BatchSettings, Settings};

/// What a batch may hold and how long it may run, from the `batch` settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchLimits {
    pub max_requests: usize,
    /// The batch's own body limit, instead of the server-wide one.
    pub max_body: usize,
    /// A batch not done by then is rolled back.
    pub timeout: Duration,
}

/// PB-COMPAT: 128 MiB, the batch body limit when `maxBodySize` is 0.
const DEFAULT_MAX_BODY: i64 = 128 << 20;

impl BatchLimits {
    /// The limits in force, or PocketBase's 403 when batches are off (a zero `maxRequests`
    /// disables them as well). PB-COMPAT: a zero `maxBodySize` is 128 MiB, a zero `timeout`
    /// 3 seconds.
    pub fn of(settings: &Settings) -> Result<BatchLimits> {
        BatchLimits::new(&settings.batch())
    }

    fn new(batch: &BatchSettings) -> Result<BatchLimits> {
        let max = batch.max_requests.unwrap_or(50);
        if !batch.enabled || max <= 0 {
            return Err(Error::Forbidden("Batch requests are not allowed.".into()));
        }
        Ok(BatchLimits {
            max_requests: max as usize,
            max_body: batch
                .max_body_size
                .filter(|n| *n > 0)
                .unwrap_or(DEFAULT_MAX_BODY) as usize,
            timeout: Duration::from_secs(batch.timeout.filter(|n| *n > 0).unwrap_or(3)),
        })
    }
}

/// PB-COMPAT: a batch whose `requests` do not validate: "Invalid batch request data.".
fn invalid(code: &str, message: String) -> Error {
    match Error::field("requests", code, message) {
        Error::BadRequest { data, .. } => Error::BadRequest {
            message: "Invalid batch request data.".into(),
            data,
        },
        other => other,
    }
}

/// One request of a batch, already routed.
#[derive(Debug, Clone)]
pub struct BatchOp {
    pub action: BatchAction,
    pub collection: String,
    pub input: WriteInput,
    /// `expand` and `fields` of the request's URL, for its response body.
    pub expand: String,
    pub fields: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BatchAction {
    Create,
    Update(String),
    /// PUT: update when `id` names an existing record, create otherwise.
    Upsert,
    Delete(String),
}

/// One response of a successful batch.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BatchResponse {
    pub status: u16,
    pub body: Json,
}

/// A failed batch: which request failed and why.
#[derive(Debug)]
pub enum BatchFailure {
    /// The batch as a whole is invalid (no requests, or too many).
    Refused(Error),
    Request {
        index: usize,
        error: Error,
    },
    /// PB-COMPAT: the batch ran past its `timeout` and was rolled back.
    Timeout,
}

impl Records {
    /// Runs the batch's `requests` (`{method, url, body}`, turned into record actions by
    /// `route`, `None` for one it cannot run) in one transaction, in the `batch` request
    /// context. A batch not done by its timeout (planning, password hashing included) is
    /// rolled back.
    pub async fn batch(
        &self,
        req: RequestInfo,
        limits: &BatchLimits,
        requests: &[Json],
        route: impl Fn(&Json, usize) -> Option<BatchOp>,
    ) -> std::result::Result<Vec<BatchResponse>, BatchFailure> {
        if requests.is_empty() {
            return Err(BatchFailure::Refused(invalid(
                "validation_required",
                "Cannot be blank.".into(),
            )));
        }
        let max = limits.max_requests;
        if requests.len() > max {
            return Err(BatchFailure::Refused(invalid(
                "validation_length_too_long",
                format!("The length must be no more than {max}."),
            )));
        }
        let mut ops = Vec::with_capacity(requests.len());
        for (index, request) in requests.iter().enumerate() {
            // PB-COMPAT: an action the batch does not support fails as a generic bad request.
            let op = route(request, index).ok_or_else(|| BatchFailure::Request {
                index,
                error: Error::bad_request("Something went wrong while processing your request."),
            })?;
            ops.push(op);
        }
        let req = &req.in_context(RequestContext::Batch);
        let deadline = Some(Instant::now() + limits.timeout);
        let timed_out = || deadline.is_some_and(|d| Instant::now() >= d);
        let mut plans = Vec::with_capacity(ops.len());
        for (index, op) in ops.iter().enumerate() {
            if timed_out() {
                return Err(BatchFailure::Timeout);
            }
            let plan = self
                .plan_op(req, op)
                .await
                .map_err(|error| BatchFailure::Request { index, error })?;
            plans.push(plan);
        }
        let outcomes =
            self.run_all(plans, deadline)
                .await
                .map_err(|(index, error)| match error {
                    Error::TimedOut => BatchFailure::Timeout,
                    error => BatchFailure::Request { index, error },
                })?;
        let mut out = Vec::with_capacity(outcomes.len());
        for (index, (outcome, op)) in outcomes.into_iter().zip(&ops).enumerate() {
            let response = match outcome {
                Outcome::Created(r) | Outcome::Updated(r) | Outcome::Skipped(r) => {
                    let shown = self
                        .present(req, vec![r], &op.expand, &op.fields)
                        .await
                        .map_err(|error| BatchFailure::Request { index, error })?;
                    BatchResponse {
                        status: 200,
                        body: shown.into_iter().next().unwrap_or(Json::Null),
                    }
                }
                Outcome::Deleted(_) => BatchResponse {
                    status: 204,
                    body: Json::Null,
                },
            };
            out.push(response);
        }
        Ok(out)
    }

    async fn plan_op(&self, base: &RequestInfo, op: &BatchOp) -> Result<WritePlan> {
        let mut req = base.clone();
        req.body = op.input.body.clone();
        match &op.action {
            BatchAction::Create => {
                self.plan_create(&req, &op.collection, op.input.clone())
                    .await
            }
            BatchAction::Update(id) => {
                self.plan_update(&req, &op.collection, id, op.input.clone())
                    .await
            }
            BatchAction::Delete(id) => self.plan_delete(&req, &op.collection, id).await,
            BatchAction::Upsert => {
                let id = op
                    .input
                    .body
                    .get("id")
                    .and_then(Json::as_str)
                    .unwrap_or("")
                    .to_owned();
                let create = Box::new(
                    self.plan_create(&req, &op.collection, op.input.clone())
                        .await?,
                );
                if id.is_empty() {
                    return Ok(*create);
                }
                let mut input = op.input.clone();
                input.body.remove("id");
                // An update plan may not be possible yet (the record may not exist until an
                // earlier request of this batch runs); execution decides between the two.
                let update = self
                    .plan_update(&req, &op.collection, &id, input)
                    .await
                    .ok()
                    .map(Box::new);
                let collection = self.schema.require_fresh(&op.collection).await?;
                Ok(WritePlan::Upsert {
                    collection,
                    id,
                    update,
                    create,
                })
            }
        }
    }
}

/// PocketBase's body for a failed batch.
pub fn failure_body(index: usize, response: Json) -> Json {
    json!({ "requests": { index.to_string(): { "code": "batch_request_failed", "message": "Batch request failed.", "response": response } } })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(batch: BatchSettings) -> Result<BatchLimits> {
        BatchLimits::new(&batch)
    }

    #[test]
    fn batches_are_refused_when_off_or_without_requests() {
        for batch in [
            BatchSettings::default(),
            BatchSettings {
                enabled: true,
                max_requests: Some(0),
                ..Default::default()
            },
        ] {
            assert!(matches!(limits(batch), Err(Error::Forbidden(_))));
        }
    }

    #[test]
    fn zeros_and_absent_values_take_pocketbase_defaults() {
        let on = BatchSettings {
            enabled: true,
            timeout: Some(0),
            max_body_size: Some(0),
            ..Default::default()
        };
        assert_eq!(
            limits(on).ok(),
            Some(BatchLimits {
                max_requests: 50,
                max_body: 128 << 20,
                timeout: Duration::from_secs(3),
            })
        );
    }
}
