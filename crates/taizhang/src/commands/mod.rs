//! One module per command.

mod demo;
mod export;
mod export_format;
pub mod healthcheck;
mod import;
pub mod keys;
mod migrate;
mod progress;
pub mod projections;
mod schema;
mod seal;
pub mod serve;
pub mod tokens;
pub mod verify;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use eventstore::{AnyEventStore, Location, PgEventStore};
use sqlx::postgres::PgPoolOptions;

/// `serve` names the database in its messages without the password.
pub(crate) use crate::cli::redact;
use crate::cli::{Cli, Command, StoreTarget};

/// Exit code when the command itself failed (as opposed to verify finding a mismatch).
pub const EXIT_ERROR: u8 = 2;

/// Connections per command: enough for export's reads beside a verify, small enough not to
/// crowd a server that shares the database.
const POOL_SIZE: u32 = 4;

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // These need no store.
    match cli.command {
        Command::Schema { output } => return schema::run(output.as_deref()),
        Command::Healthcheck(args) => return Ok(healthcheck::run(&args)),
        Command::Keys { command } => return keys::run(&command, &cli.sealing),
        _ => {}
    }
    let target = cli.store()?;
    let sealing = receipts::Sealing::from_args(&cli.sealing)?;
    tracing::info!(
        backend = target.backend().name(),
        store = %target.describe(),
        from_data_dir = target.from_data_dir,
        "event store"
    );
    if let Command::Serve(args) = cli.command {
        // The server opens the store itself (and logs it again with its own settings).
        return serve::run(target.url, *args, sealing).await;
    }
    // One line for people at a terminal; stderr, because stdout may be an export or a token.
    eprintln!("{}", store_line(&target));
    let store = open(&target, Duration::from_secs(cli.connect_timeout)).await?;
    match cli.command {
        Command::Migrate => migrate::run(&store).await,
        Command::Verify(args) => verify::run(&store, &args, &sealing).await,
        Command::Seal => seal::run(&store, &sealing).await,
        Command::Demo => {
            let code = demo::run(&store).await?;
            seal::after_write(&store, &sealing).await?;
            Ok(code)
        }
        Command::Projections { command } => projections::run(&store, command).await,
        Command::Tokens { command } => {
            let code = tokens::run(&store, command).await?;
            seal::after_write(&store, &sealing).await?;
            Ok(code)
        }
        Command::Export { output, unverified } => {
            export::run(
                &store,
                store.backend().name(),
                output.as_deref(),
                unverified,
            )
            .await
        }
        Command::Import { file } => import::run(&store, &file, &sealing).await,
        Command::Schema { .. }
        | Command::Serve(_)
        | Command::Healthcheck(_)
        | Command::Keys { .. } => {
            unreachable!("dispatched above")
        }
    }
}

/// "store: …" with where the choice came from, so that a user who expected PostgreSQL sees at
/// once that DATABASE_URL was not set.
fn store_line(target: &StoreTarget) -> String {
    if target.from_data_dir {
        format!(
            "store: {} (no DATABASE_URL; the data directory's embedded store) / 数据库: SQLite",
            target.describe()
        )
    } else {
        format!("store: {} (DATABASE_URL)", target.describe())
    }
}

/// Opens the store `target` names. PostgreSQL keeps trying for `connect_timeout` (a database
/// that is still starting, as under Docker Compose); a SQLite file is created if missing and
/// migrated.
async fn open(target: &StoreTarget, connect_timeout: Duration) -> anyhow::Result<AnyEventStore> {
    match &target.location {
        Location::Postgres { url } => {
            let pool = PgPoolOptions::new()
                .max_connections(POOL_SIZE)
                .acquire_timeout(connect_timeout)
                .connect(url)
                .await
                .with_context(|| {
                    format!(
                        "cannot connect to PostgreSQL at {} (set --database-url or DATABASE_URL)",
                        redact(url)
                    )
                })?;
            Ok(AnyEventStore::Postgres(PgEventStore::new(pool)))
        }
        Location::Sqlite { path } => {
            let store = AnyEventStore::connect(&target.url, POOL_SIZE)
                .await
                .with_context(|| {
                    format!(
                        "cannot open the SQLite store file {} (set --data-dir, TAIZHANG_DATA_DIR \
                         or DATABASE_URL; 无法打开 SQLite 数据库文件)",
                        path.display()
                    )
                })?;
            // The file belongs to whoever runs the binary: there is no privileged role to keep
            // schema changes apart, so every command brings it up to date, and `verify` or
            // `import` on a fresh data directory work without a `migrate` first.
            store.migrate().await.with_context(|| {
                format!("cannot migrate the SQLite store file {}", path.display())
            })?;
            Ok(store)
        }
    }
}
