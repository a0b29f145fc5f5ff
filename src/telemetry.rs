//! Logging: `RUST_LOG` decides; `--dev` defaults to debug, otherwise info. `--logFormat json`
//! writes one JSON object per line (timestamp, level, message, fields), for log shippers.

use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

pub fn init(dev: bool, format: LogFormat) {
    let default = if dev {
        "debug,hyper=info,tower_http=debug"
    } else {
        "info"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = match format {
        LogFormat::Text => logs.try_init(),
        LogFormat::Json => logs.json().flatten_event(true).try_init(),
    };
}
