//! Command-line interface: flags, environment, and the help text users read.

use clap::{Parser, Subcommand};

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// taizhang (台账): an append-only, tamper-evident ledger of a county's investment projects.
///
/// Every change is an event in PostgreSQL; nothing is ever updated or deleted. Configure the
/// database with --database-url or DATABASE_URL.
#[derive(Debug, Parser)]
#[command(name = "taizhang", version)]
pub struct Cli {
    /// PostgreSQL connection URL.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,

    /// Seconds to keep trying to reach the database before giving up.
    #[arg(
        long,
        env = "TAIZHANG_CONNECT_TIMEOUT",
        default_value_t = 10,
        global = true
    )]
    pub connect_timeout: u64,

    /// Log format on stderr: text or json (one object per line).
    #[arg(
        long,
        env = "TAIZHANG_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: api::LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or upgrade the database schema.
    ///
    /// Creates the event store's tables, functions and append-only triggers, and the login-less
    /// taizhang_service role (append and read, never update or delete). Safe to run again:
    /// applied migrations are skipped.
    Migrate,

    /// Check that nobody rewrote history (exit code 0 only when everything matches).
    ///
    /// Recomputes every event's SHA-256 hash chain, every stream head and every seal from the
    /// stored rows. Prints the first mismatch with its stream, version and global position (or seal number),
    /// followed by the others. Exit code 0 when everything matches, 1 when something does not,
    /// 2 when verification could not run (e.g. no database).
    Verify,

    /// Seal the global log now.
    ///
    /// Writes a digest of all events since the previous seal, chained to it, so that even a
    /// consistent rewrite of a whole stream (hashes included) is detected by `verify`.
    ///
    /// Prints the new seal, or says there was nothing new to seal.
    Seal,

    /// Run, inspect, resume and rebuild the projections (the reporting read models).
    Projections {
        #[command(subcommand)]
        command: crate::commands::projections::ProjectionsCommand,
    },

    /// Serve the GraphQL API, the playground, health checks and metrics.
    ///
    /// Opens http://LISTEN/graphql (the GraphiQL playground in a browser; POST or GET for
    /// clients), ws://LISTEN/graphql/ws (subscriptions: graphql-transport-ws and graphql-ws),
    /// /healthz, /readyz and /metrics. Applies migrations and runs the projectors in-process
    /// unless told not to. Stops gracefully on SIGTERM or Ctrl-C.
    ///
    /// Every request but /healthz (and, unless --protect-ops-endpoints, /readyz and /metrics)
    /// needs an API token (`taizhang tokens create`); events record the token as their actor.
    /// --insecure-no-auth turns this off, for a laptop demo only (docs/security.md).
    ///
    /// --demo seeds the demo county first and prints the playground URL with an admin token.
    Serve(Box<crate::commands::serve::ServeCommand>),

    /// Seed the demo county: 5 units, 60 projects over last year and this year.
    ///
    /// Every command goes through the same rules as the API's mutations, dated relative to
    /// today. Running it again adds nothing. Applies migrations first.
    Demo,

    /// Create, list and revoke API tokens (访问令牌); see docs/security.md.
    ///
    /// A token is shown once at creation and stored only as a hash. On first run, `taizhang
    /// tokens create --name NAME --role admin` is the way in.
    Tokens {
        #[command(subcommand)]
        command: crate::commands::tokens::TokensCommand,
    },

    /// Ask a running server's /healthz (exit code 0 when it answers 200, else 1).
    ///
    /// For container health checks: probes the address of --listen / TAIZHANG_LISTEN, the one
    /// `serve` listens on (0.0.0.0 and [::] are probed on loopback). Needs no database.
    Healthcheck(crate::commands::healthcheck::HealthcheckArgs),

    /// Write every event as JSON lines in EventStoreDB's event format (docs/export-format.md).
    ///
    /// One header line (format, source, count, head position), one line per event in global
    /// order (eventId, eventType, data, metadata with $correlationId/$causationId, stream,
    /// version, position, schemaVersion, recordedAt, hash, prevHash), one trailer line (count and
    /// a digest of all event hashes). Events appended while it runs are left out. Progress and
    /// the summary go to stderr.
    Export {
        /// Write to this file (written as FILE.part, renamed when complete); `-` or none: stdout.
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
    },

    /// Load an export file into an empty store, keeping ids, versions, times, metadata and hashes.
    ///
    /// Checks the whole file first (JSON, fields, every stream's hash chain, count and digest);
    /// refuses a broken or truncated file, or a store that already holds events, and then
    /// writes nothing. Writes everything in one transaction, then runs `verify`. Exit code 0
    /// when imported and verified, 1 when verify finds a mismatch, 2 when refused or failed.
    Import {
        /// The export file.
        file: std::path::PathBuf,
    },

    /// Print the GraphQL schema (SDL), as checked in at schema.graphql.
    Schema {
        /// Write it to this file instead of stdout.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
}
