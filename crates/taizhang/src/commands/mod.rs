//! One module per command.

mod demo;
mod export;
mod export_format;
pub mod healthcheck;
mod import;
mod migrate;
mod progress;
pub mod projections;
mod schema;
mod seal;
pub mod serve;
pub mod tokens;
mod verify;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use eventstore::PgEventStore;
use sqlx::postgres::PgPoolOptions;

use crate::cli::{Cli, Command};

/// Exit code when the command itself failed (as opposed to verify finding a mismatch).
pub const EXIT_ERROR: u8 = 2;

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // These manage their own connection (or need none).
    match cli.command {
        Command::Schema { output } => return schema::run(output.as_deref()),
        Command::Serve(args) => return serve::run(cli.database_url, *args).await,
        Command::Healthcheck(args) => return Ok(healthcheck::run(&args)),
        _ => {}
    }
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(cli.connect_timeout))
        .connect(&cli.database_url)
        .await
        .with_context(|| {
            format!(
                "cannot connect to PostgreSQL at {} (set --database-url or DATABASE_URL)",
                redact(&cli.database_url)
            )
        })?;
    let store = PgEventStore::new(pool);
    match cli.command {
        Command::Migrate => migrate::run(&store).await,
        Command::Verify => verify::run(&store).await,
        Command::Seal => seal::run(&store).await,
        Command::Demo => demo::run(&store).await,
        Command::Projections { command } => projections::run(&store, command).await,
        Command::Tokens { command } => tokens::run(&store, command).await,
        Command::Export { output } => export::run(&store, "postgresql", output.as_deref()).await,
        Command::Import { file } => import::run(&store, &file).await,
        Command::Schema { .. } | Command::Serve(_) | Command::Healthcheck(_) => {
            unreachable!("dispatched above")
        }
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
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

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
