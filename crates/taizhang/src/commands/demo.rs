//! `taizhang demo`: seed the demo county through the real command path.

use std::process::ExitCode;

use anyhow::Context;
use commands::CommandHandler;
use eventstore::PgEventStore;

pub async fn run(store: &PgEventStore) -> anyhow::Result<ExitCode> {
    store.migrate().await.context("migration failed")?;
    let today = commands::county_today();
    let handler = CommandHandler::new(store.clone()).with_today(move || today);
    let summary = demo::seed(&handler, today, "演示数据 (taizhang demo)")
        .await
        .context("seeding the demo county failed")?;
    tracing::info!(?summary, "demo county seeded");
    if summary.events_written == 0 {
        println!(
            "the demo county is already there ({} commands, nothing new written)",
            summary.commands
        );
    } else {
        println!(
            "demo county seeded: {} units, {} projects, {} supervision items, {} events",
            summary.units, summary.projects, summary.supervision_items, summary.events_written
        );
    }
    println!("next: taizhang serve, then open http://127.0.0.1:8080/graphql");
    Ok(ExitCode::SUCCESS)
}
