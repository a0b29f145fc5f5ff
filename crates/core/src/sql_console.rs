//! `POST /api/sql`: a superuser's SQL, run as written (`pb.sql.run`), answered as PocketBase
//! answers it: `{execTime, affectedRows, columns: [{name, type, nullable}], rows}` with the
//! values as text, at most 1,000 rows, within 3 minutes.
//!
//! PB-COMPAT: PocketBase runs anything it guesses is a write (by the statement's first word)
//! in a write transaction. Here a statement runs read-only unless the request says
//! `"write": true`, so a console left open cannot change or drop anything by a slip, and the
//! guess (`WITH ... DELETE` is not caught by it) does not decide.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value as Json;

use crate::error::{Error, FieldErrors, Result, field_error_json};
use crate::identity::Auth;
use crate::rules::superusers_only;
use crate::store::Db;
use crate::store::console::{ConsoleColumn, ConsoleLimits};

const MAX_ROWS: usize = 1000;
const TIMEOUT: Duration = Duration::from_secs(180);
const MAX_QUERY_CHARS: usize = 5000;

/// The answer, in PocketBase's field order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SqlResult {
    pub exec_time: u64,
    pub affected_rows: u64,
    pub columns: Vec<ConsoleColumn>,
    pub rows: Vec<Vec<Option<String>>>,
}

/// The request body, read once the caller is known to be a superuser.
struct SqlForm {
    query: String,
    write: bool,
}

impl SqlForm {
    fn parse(body: &Json) -> Result<SqlForm> {
        let query = match body.get("query") {
            None | Some(Json::Null) => String::new(),
            Some(Json::String(s)) => s.clone(),
            Some(_) => {
                return Err(Error::bad_request(
                    "An error occurred while loading the submitted data.",
                ));
            }
        };
        let invalid = |code: &str, message: &str, params: Option<Json>| {
            let mut error = field_error_json(code, message);
            if let Some(params) = params {
                error["params"] = params;
            }
            let mut data = FieldErrors::new();
            data.insert("query".into(), error);
            Err(Error::form(data))
        };
        if query.is_empty() {
            return invalid("validation_required", "Cannot be blank.", None);
        }
        if query.chars().count() > MAX_QUERY_CHARS {
            return invalid(
                "validation_length_too_long",
                "The length must be no more than 5000.",
                Some(serde_json::json!({"max": MAX_QUERY_CHARS, "min": 0})),
            );
        }
        let write = body.get("write").and_then(Json::as_bool).unwrap_or(false);
        Ok(SqlForm { query, write })
    }
}

/// Runs a superuser's statement.
pub async fn run(db: &Db, caller: &Auth, body: Result<Json>) -> Result<SqlResult> {
    superusers_only(caller)?;
    let form = SqlForm::parse(&body?)?;
    let query = form.query.trim().to_owned();
    if query.is_empty() {
        return Err(Error::bad_request(
            "Failed to execute query. Raw error:\nempty query.",
        ));
    }
    let limits = ConsoleLimits {
        write: form.write,
        max_rows: MAX_ROWS,
        timeout: TIMEOUT,
    };
    let started = Instant::now();
    let console = if form.write {
        db.write(move |conn| conn.console(&query, &limits)).await?
    } else {
        db.read(move |conn| conn.console(&query, &limits)).await?
    };
    Ok(SqlResult {
        exec_time: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        affected_rows: console.affected_rows,
        columns: console.columns,
        rows: console.rows,
    })
}
