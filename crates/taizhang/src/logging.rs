//! Logs go to stderr (stdout is for command output), filtered by `RUST_LOG` (default: info),
//! as text or JSON lines (`--log-format`). Colours only on a terminal: a log file or a
//! collector gets plain text, not escape codes.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init(format: api::LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        api::LogFormat::Text => logs.init(),
        api::LogFormat::Json => logs.json().init(),
    }
}
