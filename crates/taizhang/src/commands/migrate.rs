//! `taizhang migrate`

use std::process::ExitCode;

use anyhow::Context;
use eventstore::PgEventStore;

pub async fn run(store: &PgEventStore) -> anyhow::Result<ExitCode> {
    store.migrate().await.context("migration failed")?;
    tracing::info!("database schema is up to date");
    println!("migrations applied");
    Ok(ExitCode::SUCCESS)
}
