//! Logging: `RUST_LOG` decides what reaches stdout; `--dev` defaults to debug, otherwise
//! info. `--logFormat json` writes one JSON object per line (timestamp, level, message,
//! fields), for log shippers. Independently of stdout, the server's own events at or above
//! `logs.minLevel` go to the app's log store (`/api/logs`), as PocketBase's do.

use parking_lot::RwLock;
use serde_json::{Map, Value as Json};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets, filter_fn};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::cli::LogFormat;
use oxbase_core::logs::{Logs, level};

/// The log store of the running app, once it is open.
static APP_LOGS: RwLock<Option<Logs>> = RwLock::new(None);

pub fn init(dev: bool, format: LogFormat) {
    let default = if dev {
        "debug,hyper=info,tower_http=debug"
    } else {
        "info"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let stdout = tracing_subscriber::fmt::layer().with_target(false);
    let stdout = match format {
        LogFormat::Text => stdout.with_filter(filter).boxed(),
        LogFormat::Json => stdout
            .json()
            .flatten_event(true)
            .with_filter(filter)
            .boxed(),
    };
    let _ = tracing_subscriber::registry()
        .with(stdout)
        .with(
            AppLogs
                .with_filter(app_log_targets())
                .with_filter(filter_fn(|meta| meta.is_event())),
        )
        .try_init();
}

/// Which events the log store may get: the server's own, down to debug (`logs.minLevel`
/// decides at each event). A static filter: every other crate's callsites stay disabled, at
/// no cost. The log writer's own complaints would feed it; a mail logged while SMTP is off
/// carries its one-time links, kept out of the store.
fn app_log_targets() -> Targets {
    Targets::new()
        .with_target("oxbase", LevelFilter::DEBUG)
        .with_target("oxbase_core", LevelFilter::DEBUG)
        .with_target("oxbase_api", LevelFilter::DEBUG)
        .with_target("oxbase_core::logs", LevelFilter::OFF)
        .with_target("oxbase::mail", LevelFilter::OFF)
}

/// From now on the server's events go to `logs` too.
pub fn store_app_logs_in(logs: &Logs) {
    *APP_LOGS.write() = Some(logs.clone());
}

/// Hands each event to the app's log store.
struct AppLogs;

impl<S: Subscriber> Layer<S> for AppLogs {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let level = match *event.metadata().level() {
            Level::ERROR => level::ERROR,
            Level::WARN => level::WARN,
            Level::INFO => level::INFO,
            Level::DEBUG | Level::TRACE => level::DEBUG,
        };
        let logs = APP_LOGS.read();
        let Some(logs) = logs.as_ref().filter(|l| l.keeps(level)) else {
            return;
        };
        let mut fields = Fields::default();
        event.record(&mut fields);
        logs.app(level, fields.message, fields.attrs);
    }
}

/// An event's message and its other fields as JSON attributes.
#[derive(Default)]
struct Fields {
    message: String,
    attrs: Map<String, Json>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, Json::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Json::String(value.to_owned()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
}

impl Fields {
    fn put(&mut self, field: &Field, value: Json) {
        match (field.name(), value) {
            ("message", Json::String(message)) => self.message = message,
            (name, value) => {
                self.attrs.insert(name.to_owned(), value);
            }
        }
    }
}
