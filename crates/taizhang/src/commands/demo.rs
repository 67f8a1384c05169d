//! `taizhang demo` and `taizhang serve --demo`: seed the demo county through the real command path.

use std::future::Future;
use std::process::ExitCode;

use anyhow::Context;
use commands::CommandHandler;
use eventstore::{AnyEventStore, EventStore, PgEventStore, StoreError};

/// The actor the demo county's events are recorded under.
const DEMO_ACTOR: &str = "演示数据 (taizhang demo)";

/// A store that applies its own migrations: seeding migrates first, so that `taizhang demo` works
/// on a fresh database or data directory. (Migrating is not part of `EventStore`: it is the
/// backend's own business.)
pub trait MigratingStore: EventStore {
    fn apply_migrations(&self) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl MigratingStore for PgEventStore {
    fn apply_migrations(&self) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.migrate()
    }
}

impl MigratingStore for AnyEventStore {
    fn apply_migrations(&self) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.migrate()
    }
}

/// Seeds the demo county (idempotent: a second run writes nothing) after migrating.
pub async fn seed<S: MigratingStore>(store: &S) -> anyhow::Result<demo::Summary> {
    store.apply_migrations().await.context("migration failed")?;
    let today = commands::county_today();
    let handler = CommandHandler::new(store.clone()).with_today(move || today);
    let summary = demo::seed(&handler, today, DEMO_ACTOR)
        .await
        .context("seeding the demo county failed")?;
    tracing::info!(
        units = summary.units,
        projects = summary.projects,
        supervision_items = summary.supervision_items,
        commands = summary.commands,
        events_written = summary.events_written,
        head = %summary.head.map(|p| p.to_string()).unwrap_or_else(|| "-".to_owned()),
        "demo county seeded"
    );
    Ok(summary)
}

/// One line on what seeding did, for people.
pub fn describe(summary: &demo::Summary) -> String {
    if summary.events_written == 0 {
        format!(
            "the demo county is already there ({} commands, nothing new written) / 演示数据已存在，未重复写入",
            summary.commands
        )
    } else {
        format!(
            "demo county seeded: {} units, {} projects, {} supervision items, {} events / 演示数据已写入",
            summary.units, summary.projects, summary.supervision_items, summary.events_written
        )
    }
}

pub async fn run(store: &AnyEventStore) -> anyhow::Result<ExitCode> {
    let summary = seed(store).await?;
    println!("{}", describe(&summary));
    println!(
        "next: taizhang serve --demo (prints the playground URL and an admin token), \
         or taizhang tokens create --name NAME --role admin, then taizhang serve"
    );
    Ok(ExitCode::SUCCESS)
}
