//! Logs go to stderr (stdout is for command output), filtered by `RUST_LOG` (default: info),
//! as text or JSON lines (`--log-format`).

use tracing_subscriber::EnvFilter;

pub fn init(format: api::LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        api::LogFormat::Text => logs.init(),
        api::LogFormat::Json => logs.json().init(),
    }
}
