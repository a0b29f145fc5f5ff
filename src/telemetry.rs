//! Logging: `RUST_LOG` decides; `--dev` defaults to debug, otherwise info.

use tracing_subscriber::EnvFilter;

pub fn init(dev: bool) {
    let default = if dev {
        "debug,hyper=info,tower_http=debug"
    } else {
        "info"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}
