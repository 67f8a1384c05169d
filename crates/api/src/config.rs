//! Server configuration: flags and environment variables (`taizhang serve --help` shows them all).

use std::net::SocketAddr;
use std::time::Duration;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The flags of `taizhang serve`. Every flag can also be given by the environment variable named
/// in its help.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address and port to listen on (port 0 picks a free port).
    #[arg(long, env = "TAIZHANG_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Apply pending database migrations at start.
    #[arg(long, env = "TAIZHANG_MIGRATE", default_value_t = true, action = clap::ArgAction::Set)]
    pub migrate: bool,

    /// Run the projectors in this process (one active instance per projection across processes;
    /// others stand by). Turn off when a separate process runs them.
    #[arg(long, env = "TAIZHANG_PROJECTORS", default_value_t = true, action = clap::ArgAction::Set)]
    pub projectors: bool,

    /// Maximum database connections of the server's pool.
    #[arg(long, env = "TAIZHANG_DB_POOL", default_value_t = 16)]
    pub db_pool: u32,

    /// Milliseconds a mutation waits for the read models to include its write.
    #[arg(long, env = "TAIZHANG_WRITE_WAIT_MS", default_value_t = 5000)]
    pub write_wait_ms: u64,

    /// /readyz fails when a projection is more than this many events behind.
    #[arg(long, env = "TAIZHANG_READY_MAX_LAG", default_value_t = 1000)]
    pub ready_max_lag: i64,

    /// Seconds a shutdown waits for in-flight requests before closing connections.
    #[arg(long, env = "TAIZHANG_SHUTDOWN_GRACE", default_value_t = 10)]
    pub shutdown_grace: u64,

    /// Seal the global log every this many seconds (a digest chained to the previous seal, checked
    /// by `taizhang verify`), from the start on, and once more at shutdown; 0 turns periodic
    /// sealing off (the seal at shutdown stays). Receipts are signed and recorded as
    /// --seal-key-file and --receipts-file say.
    #[arg(long, env = "TAIZHANG_SEAL_EVERY", default_value_t = 300)]
    pub seal_every: u64,

    /// Let web pages of this origin (`https://bi.example.gov.cn`, scheme, host and port only)
    /// call the API from a browser (CORS); repeat for several, or give
    /// TAIZHANG_CORS_ORIGINS as a comma-separated list. Off by default: no origin but the
    /// server's own. Tokens still decide what a call may do.
    #[arg(
        long = "cors-origin",
        env = "TAIZHANG_CORS_ORIGINS",
        value_name = "ORIGIN",
        value_delimiter = ',',
        value_parser = parse_origin
    )]
    pub cors_origins: Vec<String>,

    #[command(flatten)]
    pub limits: Limits,

    /// API tokens, rate limits, protected ops endpoints, the insecure mode (docs/security.md).
    #[command(flatten)]
    pub auth: auth::AuthArgs,
}

/// An origin as browsers send it in `Origin`: `http://` or `https://`, a host, an optional port,
/// nothing after (no path, no trailing slash; no wildcard, the list is an allow-list).
pub fn parse_origin(s: &str) -> Result<String, String> {
    let s = s.trim();
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or_else(|| format!("{s:?}: an origin starts with http:// or https://"))?;
    let host_ok = !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !host_ok {
        return Err(format!(
            "{s:?}: an origin is scheme://host[:port], with no path, slash or wildcard"
        ));
    }
    Ok(s.to_ascii_lowercase())
}

/// Query limits. The defaults protect a 2-core server from one expensive request.
#[derive(Debug, Clone, clap::Args)]
pub struct Limits {
    /// Maximum nesting depth of a query (introspection is exempt).
    #[arg(long, env = "TAIZHANG_MAX_DEPTH", default_value_t = 12)]
    pub max_depth: usize,
    /// Maximum complexity (fields counted, lists weighted by their page size).
    #[arg(long, env = "TAIZHANG_MAX_COMPLEXITY", default_value_t = 5000)]
    pub max_complexity: usize,
    /// Maximum selections in one request, counted with every fragment spread expanded
    /// (`__typename` included): what the server would have to validate and answer.
    #[arg(long, env = "TAIZHANG_MAX_SELECTIONS", default_value_t = 2000)]
    pub max_selections: usize,
    /// Maximum aliases in one request.
    #[arg(long, env = "TAIZHANG_MAX_ALIASES", default_value_t = 30)]
    pub max_aliases: usize,
    /// Maximum directives in one request.
    #[arg(long, env = "TAIZHANG_MAX_DIRECTIVES", default_value_t = 20)]
    pub max_directives: usize,
    /// Maximum page size (`first`/`last`) of a connection.
    #[arg(long, env = "TAIZHANG_MAX_PAGE", default_value_t = 200)]
    pub max_page: usize,
    /// Maximum request body in bytes.
    #[arg(long, env = "TAIZHANG_MAX_BODY", default_value_t = 1_048_576)]
    pub max_body: usize,
    /// Maximum milliseconds one query or mutation may run (a mutation's wait for the read
    /// models, --write-wait-ms, comes on top).
    #[arg(long, env = "TAIZHANG_MAX_EXECUTION_MS", default_value_t = 10_000)]
    pub max_execution_ms: u64,
    /// Maximum items in one batch mutation.
    #[arg(long, env = "TAIZHANG_MAX_BATCH", default_value_t = 200)]
    pub max_batch: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 12,
            max_complexity: 5000,
            max_selections: 2000,
            max_aliases: 30,
            max_directives: 20,
            max_page: 200,
            max_body: 1_048_576,
            max_execution_ms: 10_000,
            max_batch: 200,
        }
    }
}

/// Everything the server needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub serve: ServeArgs,
    /// How seals are signed and where their receipts go (crates/receipts).
    pub sealing: receipts::Sealing,
}

impl Config {
    /// Defaults suitable for tests: listen on a free loopback port, authentication on, and rate
    /// limits far above what a test sends (the rate-limit tests set their own).
    pub fn for_tests(database_url: impl Into<String>) -> Config {
        Config {
            database_url: database_url.into(),
            serve: ServeArgs {
                listen: SocketAddr::from(([127, 0, 0, 1], 0)),
                migrate: true,
                projectors: true,
                db_pool: 16,
                // Generous: tests run beside other builds on a small machine.
                write_wait_ms: 30_000,
                ready_max_lag: 1000,
                shutdown_grace: 5,
                seal_every: 0,
                cors_origins: Vec::new(),
                limits: Limits::default(),
                auth: auth::AuthArgs {
                    rate_limit: 10_000.0,
                    rate_burst: 10_000,
                    // The tests' bad tokens all come from 127.0.0.1; `hardening.rs` sets it low.
                    auth_failures_per_minute: 10_000,
                    ..auth::AuthArgs::default()
                },
            },
            sealing: receipts::Sealing::default(),
        }
    }

    pub fn write_wait(&self) -> Duration {
        Duration::from_millis(self.serve.write_wait_ms)
    }
}
