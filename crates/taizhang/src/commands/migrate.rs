//! `taizhang migrate`

use std::process::ExitCode;

use anyhow::Context;
use eventstore::AnyEventStore;

pub async fn run(store: &AnyEventStore) -> anyhow::Result<ExitCode> {
    store.migrate().await.context("migration failed")?;
    tracing::info!("database schema is up to date");
    println!("migrations applied");
    Ok(ExitCode::SUCCESS)
}
