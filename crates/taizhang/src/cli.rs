//! Command-line interface: flags, environment, and the help text users read; and which store
//! (backend and file or server) the flags select.

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use eventstore::{Backend, Location};

/// The data directory when neither --data-dir nor TAIZHANG_DATA_DIR is given: relative to the
/// working directory, so that `taizhang serve` in an empty folder just works.
pub const DEFAULT_DATA_DIR: &str = "taizhang-data";

/// The SQLite store's file name inside the data directory.
pub const STORE_FILE: &str = "taizhang.sqlite3";

/// taizhang (台账): an append-only, tamper-evident ledger of a county's investment projects.
///
/// Every change is an event; nothing is ever updated or deleted. Without DATABASE_URL the ledger
/// lives in an embedded SQLite file, DATA_DIR/taizhang.sqlite3 (--data-dir or TAIZHANG_DATA_DIR,
/// default ./taizhang-data, created if missing); DATABASE_URL=postgres://… puts it in PostgreSQL.
#[derive(Debug, Parser)]
#[command(name = "taizhang", version)]
pub struct Cli {
    /// Where the store lives: postgres://…, postgresql://… (PostgreSQL) or sqlite://PATH (a SQLite
    /// file). When unset, the SQLite file taizhang.sqlite3 in --data-dir.
    // hide_env_values: `--help` must not print a password from the environment.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,

    /// Directory of the embedded SQLite store (taizhang.sqlite3), used when no DATABASE_URL is
    /// set; created if missing. Relative paths start at the working directory.
    #[arg(
        long,
        env = "TAIZHANG_DATA_DIR",
        default_value = DEFAULT_DATA_DIR,
        global = true
    )]
    pub data_dir: PathBuf,

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

    /// The seal key and the receipts file (docs/ledger-format.md, "Receipts").
    #[command(flatten)]
    pub sealing: receipts::SealArgs,

    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The store these flags select (see [`resolve_store`]).
    pub fn store(&self) -> Result<StoreTarget, ConfigError> {
        resolve_store(self.database_url.as_deref(), &self.data_dir)
    }
}

/// A store location that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("DATABASE_URL is not usable: {0}")]
    Url(#[source] eventstore::StoreError),

    #[error("cannot create the data directory {} (无法创建数据目录): {source}", dir.display())]
    DataDir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "the data directory {} cannot be written into a sqlite:// URL (it must be UTF-8 without \
         '?'); choose another --data-dir or set DATABASE_URL=sqlite://PATH",
        dir.display()
    )]
    DataDirPath { dir: PathBuf },
}

/// Where the store is, and why there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreTarget {
    /// The URL handed to the store (and to `serve`): DATABASE_URL as given, or
    /// `sqlite://<absolute data dir>/taizhang.sqlite3`.
    pub url: String,
    pub location: Location,
    /// True when the data directory chose the store (no DATABASE_URL).
    pub from_data_dir: bool,
}

impl StoreTarget {
    pub fn backend(&self) -> Backend {
        self.location.backend()
    }

    /// What is opened, for people: the SQLite file, or the PostgreSQL URL without its password.
    pub fn describe(&self) -> String {
        match &self.location {
            Location::Sqlite { path } => format!("sqlite file {}", path.display()),
            Location::Postgres { url } => format!("postgresql at {}", redact(url)),
        }
    }
}

/// The store the configuration selects: DATABASE_URL when set (postgres://, postgresql:// or
/// sqlite://PATH; any other scheme is refused), else the SQLite file `taizhang.sqlite3` in
/// `data_dir`, which is created if missing. The data directory is made absolute (against the
/// working directory) so that logs name the file unambiguously and a server that changes its
/// directory later still opens the same file.
pub fn resolve_store(
    database_url: Option<&str>,
    data_dir: &Path,
) -> Result<StoreTarget, ConfigError> {
    if let Some(url) = database_url.filter(|u| !u.trim().is_empty()) {
        let location = Location::parse(url).map_err(ConfigError::Url)?;
        return Ok(StoreTarget {
            url: url.to_owned(),
            location,
            from_data_dir: false,
        });
    }
    std::fs::create_dir_all(data_dir).map_err(|source| ConfigError::DataDir {
        dir: data_dir.to_owned(),
        source,
    })?;
    let dir = std::path::absolute(data_dir).map_err(|source| ConfigError::DataDir {
        dir: data_dir.to_owned(),
        source,
    })?;
    let file = dir.join(STORE_FILE);
    let url = match file.to_str() {
        Some(text) if !text.contains('?') => format!("sqlite://{text}"),
        _ => return Err(ConfigError::DataDirPath { dir }),
    };
    Ok(StoreTarget {
        url,
        location: Location::Sqlite { path: file },
        from_data_dir: true,
    })
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
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
    /// stored rows, and on SQLite that positions run without holes up to the AUTOINCREMENT
    /// counter. Prints the first mismatch with its stream, version and global position (or seal
    /// number), followed by the others. Alone this proves self-consistency only; with --receipt
    /// (receipts kept outside the database) it proves the ledger still holds, unchanged, what
    /// each receipt covers. Exit code 0 when everything matches, 1 when something does not, 2
    /// when verification could not run (e.g. no database).
    Verify(crate::commands::verify::VerifyArgs),

    /// Seal the global log now and print the receipt.
    ///
    /// Writes a digest of all events since the previous seal, chained to it, so that even a
    /// consistent rewrite of a whole stream (hashes included) is detected by `verify`. Prints the
    /// seal and its receipt (one JSON line, signed with --seal-key-file when set, appended to
    /// --receipts-file when set): keep it outside the database. Or says there was nothing new.
    Seal,

    /// Make or show the Ed25519 key that signs seal receipts (kept outside the database).
    Keys {
        #[command(subcommand)]
        command: crate::commands::keys::KeysCommand,
    },

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

        /// Export even when `verify` finds a mismatch (for forensics); the header then says
        /// `"verified": false`. Without it a store that fails verify is refused.
        #[arg(long)]
        unverified: bool,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }

    #[test]
    fn database_url_wins_over_the_data_dir() {
        let dir = std::env::temp_dir().join(format!("tz-cli-{}", uuid::Uuid::new_v4()));
        let pg = resolve_store(Some("postgres://u:pw@db:5432/tz"), &dir).expect("postgres");
        assert_eq!(pg.backend(), Backend::Postgres);
        assert_eq!(pg.url, "postgres://u:pw@db:5432/tz");
        assert_eq!(pg.describe(), "postgresql at postgres://u:***@db:5432/tz");
        assert!(
            !dir.exists(),
            "no data directory made when DATABASE_URL is set"
        );

        let lite = resolve_store(Some("sqlite:///var/t.sqlite3"), &dir).expect("sqlite");
        assert_eq!(lite.describe(), "sqlite file /var/t.sqlite3");
        assert!(!lite.from_data_dir);

        let err = resolve_store(Some("mysql://h/db"), &dir).expect_err("mysql");
        assert!(
            err.to_string()
                .contains("postgres://, postgresql:// or sqlite://"),
            "{err}"
        );
    }

    #[test]
    fn without_database_url_the_data_dir_holds_a_sqlite_file() {
        let dir = std::env::temp_dir()
            .join(format!("tz-cli-{}", uuid::Uuid::new_v4()))
            .join("nested");
        for unset in [None, Some(""), Some("  ")] {
            let target = resolve_store(unset, &dir).expect("data dir");
            assert!(dir.is_dir(), "created");
            assert!(target.from_data_dir);
            let file = dir.join(STORE_FILE);
            assert_eq!(target.url, format!("sqlite://{}", file.display()));
            assert_eq!(target.location, Location::Sqlite { path: file.clone() });
            // The URL selects the same file when handed on (to `serve`).
            assert_eq!(
                Location::parse(&target.url).ok(),
                Some(target.location.clone())
            );
        }
        let _ = std::fs::remove_dir_all(dir.parent().expect("parent"));

        // A data directory below a file cannot be created: the error names it.
        let blocker = std::env::temp_dir().join(format!("tz-cli-{}", uuid::Uuid::new_v4()));
        std::fs::write(&blocker, b"").expect("file");
        let below = blocker.join("data");
        let err = resolve_store(None, &below)
            .expect_err("below a file")
            .to_string();
        assert!(err.contains(&below.display().to_string()), "{err}");
        let _ = std::fs::remove_file(&blocker);
    }
}
