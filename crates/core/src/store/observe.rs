//! What the store tells about each statement it runs: a trace span (`db.query`, a child of the
//! caller's, when traces are collected and the caller is traced) and its duration in the
//! histogram `oxbase_db_query_duration_seconds{database, kind}` (when metrics are on). Both are
//! off by default, and then a statement costs a level check and a flag load: no clock read, no
//! allocation.
//!
//! `kind` is the connection's role, not the statement's verb: `write` for every statement of a
//! write transaction (its reads too, which hold the writer), `read` for the readers'.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use oxbase_sql::Dialect;
use tracing::Level;
use tracing::span::EnteredSpan;

use super::Conn;
use crate::error::Result;

/// The target of the statements' spans: a subscriber collects them by it (`oxbase serve
/// --otlpEndpoint`), at TRACE level so that nothing else enables them by accident.
pub const SPAN_TARGET: &str = "oxbase::sql";

/// The histogram's name, as `/metrics` shows it.
pub const QUERY_DURATION: &str = "oxbase_db_query_duration_seconds";

/// What a connection runs statements for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Read,
    Write,
}

/// Whether statements are timed. The histograms live in the process's one `metrics` recorder,
/// so this switch is process-wide too: `measure_queries` flips it once the recorder is
/// installed (handles taken before would be the no-op recorder's forever).
static MEASURE: AtomicBool = AtomicBool::new(false);

/// Starts timing statements into `oxbase_db_query_duration_seconds`.
pub fn measure_queries() {
    MEASURE.store(true, Ordering::Relaxed);
}

/// Whether a recorder takes the metrics (gauges that cost a query to refresh skip it otherwise).
pub fn measuring() -> bool {
    MEASURE.load(Ordering::Relaxed)
}

/// One statement being run: its span is entered until it is dropped, and its duration is
/// recorded then.
pub(crate) struct Statement {
    span: EnteredSpan,
    timing: Option<(Instant, &'static metrics::Histogram)>,
}

/// Starts observing a statement of `text` on a `dialect` connection used for `kind`.
pub(crate) fn statement(dialect: Dialect, kind: Kind, text: &str) -> Statement {
    // Only under a traced operation (a request): a statement of background work (a cron
    // job, the realtime dispatcher) would otherwise be a trace of its own, every minute.
    let traced =
        tracing::enabled!(target: SPAN_TARGET, Level::TRACE) && !tracing::Span::current().is_none();
    let span = if traced {
        tracing::span!(
            target: SPAN_TARGET,
            Level::TRACE,
            "db.query",
            otel.name = operation(text),
            otel.kind = "client",
            db.system = system(dialect),
            db.query.text = text,
        )
    } else {
        tracing::Span::none()
    };
    let timing = MEASURE
        .load(Ordering::Relaxed)
        .then(|| (Instant::now(), histogram(dialect, kind)));
    Statement {
        span: span.entered(),
        timing,
    }
}

impl Statement {
    /// The text as sent, when the driver rewrote it (PostgreSQL's `$1` placeholders).
    pub(crate) fn sent_as(&self, text: &str) {
        self.span.record("db.query.text", text);
    }
}

impl Drop for Statement {
    fn drop(&mut self) {
        if let Some((started, histogram)) = self.timing {
            histogram.record(started.elapsed().as_secs_f64());
        }
    }
}

/// `f`, run under the caller's span wherever it runs (a reader thread, the writer's, a blocking
/// thread), so that the spans of its statements are children of the request's. Only while
/// statement spans are collected; otherwise `f` as it is.
pub(crate) fn in_caller_span<R, F>(f: F) -> impl FnOnce(&mut dyn Conn) -> Result<R> + Send + 'static
where
    F: FnOnce(&mut dyn Conn) -> Result<R> + Send + 'static,
{
    let caller = tracing::enabled!(target: SPAN_TARGET, Level::TRACE).then(tracing::Span::current);
    move |conn: &mut dyn Conn| match caller {
        Some(span) => span.in_scope(|| f(conn)),
        None => f(conn),
    }
}

/// `db.system`, as OpenTelemetry names the two databases.
fn system(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "sqlite",
        Dialect::Postgres => "postgresql",
    }
}

/// The statement's first word (`SELECT`, `INSERT`...): the span's name, as OpenTelemetry's
/// database conventions suggest (never the text, which may be long).
fn operation(text: &str) -> &str {
    let text = text.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
    let end = text
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    match &text[..end] {
        "" => "SQL",
        word => word,
    }
}

/// The histogram of one label set, made once: a registry lookup per statement would cost more
/// than a short lookup's own work.
fn histogram(dialect: Dialect, kind: Kind) -> &'static metrics::Histogram {
    static HISTOGRAMS: OnceLock<[metrics::Histogram; 4]> = OnceLock::new();
    let all = HISTOGRAMS.get_or_init(|| {
        let make = |dialect, kind: Kind| {
            let kind = match kind {
                Kind::Read => "read",
                Kind::Write => "write",
            };
            metrics::histogram!(QUERY_DURATION, "database" => system(dialect), "kind" => kind)
        };
        [
            make(Dialect::Sqlite, Kind::Read),
            make(Dialect::Sqlite, Kind::Write),
            make(Dialect::Postgres, Kind::Read),
            make(Dialect::Postgres, Kind::Write),
        ]
    });
    let index = match (dialect, kind) {
        (Dialect::Sqlite, Kind::Read) => 0,
        (Dialect::Sqlite, Kind::Write) => 1,
        (Dialect::Postgres, Kind::Read) => 2,
        (Dialect::Postgres, Kind::Write) => 3,
    };
    &all[index]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_is_named_by_the_statements_first_word() {
        assert_eq!(operation("SELECT * FROM t"), "SELECT");
        assert_eq!(operation("  INSERT INTO t VALUES (?)"), "INSERT");
        assert_eq!(operation("(SELECT 1) UNION (SELECT 2)"), "SELECT");
        assert_eq!(operation("SAVEPOINT \"__guarded\""), "SAVEPOINT");
        assert_eq!(operation(""), "SQL");
        assert_eq!(operation("?"), "SQL");
    }
}
