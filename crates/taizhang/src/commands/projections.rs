//! `taizhang projections …`: run the projectors, show their status, resume a halted one, rebuild.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Subcommand;
use eventstore::{AnyEventStore, SqliteEventStore};
use projections::{
    Projectors, RebuildOptions, RebuildPhase, RebuildProgress, RunnerOptions, SharedProjection,
};

#[derive(Debug, Subcommand)]
pub enum ProjectionsCommand {
    /// Run every projection in the foreground until Ctrl-C or SIGTERM.
    ///
    /// Each projection is applied by one process at a time (a PostgreSQL advisory lock, or a
    /// lease row on SQLite); start this in several processes and the others stand by, taking over
    /// within seconds when the active one dies (on SQLite, once its lease expires).
    Run,

    /// Show each projection's state, position, lag and error (reporting.projection_status, or
    /// reporting_projection_status on SQLite).
    Status,

    /// Let a halted projection retry from its checkpoint (after fixing what halted it).
    Resume {
        /// The projection's name (see `status`).
        name: String,
    },

    /// Rebuild projections from the start of the log into fresh tables, then swap them in.
    ///
    /// The current tables keep serving reads and keep being updated until the swap, which is
    /// atomic. Progress is printed while it runs (on PostgreSQL; on SQLite when each is done).
    /// Rebuilding also clears a halt.
    Rebuild {
        /// The projection to rebuild; all of them when omitted.
        name: Option<String>,
        /// Events per read and transaction (PostgreSQL; SQLite replays in batches of its own).
        #[arg(long, default_value_t = 5_000)]
        batch_size: usize,
    },
}

pub async fn run(store: &AnyEventStore, command: ProjectionsCommand) -> anyhow::Result<ExitCode> {
    // The same names on both backends (projections' tests hold the two lists to it), so this list
    // checks names for either.
    let registered = projections::all(projections::system_clock());
    let db = store.database();
    match command {
        ProjectionsCommand::Run => run_all(store).await,
        ProjectionsCommand::Status => status(&db).await,
        ProjectionsCommand::Resume { name } => {
            let projection = pick(&registered, &name)?;
            if projections::resume_in(&db, projection.name()).await? {
                println!("{name}: resumed; its runner retries from its checkpoint within seconds");
            } else {
                println!("{name}: not halted; nothing to do");
            }
            Ok(ExitCode::SUCCESS)
        }
        ProjectionsCommand::Rebuild { name, batch_size } => {
            let chosen = match name {
                Some(name) => vec![pick(&registered, &name)?],
                None => registered,
            };
            let done = match store {
                AnyEventStore::Postgres(store) => {
                    let options = RebuildOptions {
                        batch_size,
                        ..RebuildOptions::default()
                    };
                    projections::rebuild_all(store, &chosen, &options, print_progress)
                        .await
                        .context("rebuild failed; the live tables are unchanged")?
                }
                AnyEventStore::Sqlite(store) => rebuild_sqlite(store, &chosen).await?,
            };
            for report in done {
                println!(
                    "{}: rebuilt from {} events in {:.1} s ({:.0} events/s), now at {}",
                    report.projection,
                    report.events,
                    report.elapsed.as_secs_f64(),
                    report.events_per_sec(),
                    report.position
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Rebuilds `chosen` on SQLite one after the other (each beside its live runner, swapped in by
/// renaming; see `projections::sqlite::rebuild`), reporting as the PostgreSQL rebuild does.
async fn rebuild_sqlite(
    store: &SqliteEventStore,
    chosen: &[SharedProjection],
) -> anyhow::Result<Vec<RebuildProgress>> {
    let mut done = Vec::new();
    for projection in chosen {
        let started = Instant::now();
        println!("{}: replaying", projection.name());
        let position = projections::sqlite::rebuild(store, projection.clone())
            .await
            .with_context(|| {
                format!(
                    "rebuild of {} failed; the live tables are unchanged",
                    projection.name()
                )
            })?;
        done.push(RebuildProgress {
            projection: projection.name(),
            phase: RebuildPhase::Done,
            // A SQLite position is the event's number in $all (1, 2, 3, …, no gaps), and the
            // rebuild replayed all of $all up to it.
            events: position.commit,
            position,
            elapsed: started.elapsed(),
        });
    }
    Ok(done)
}

fn pick(registered: &[SharedProjection], name: &str) -> anyhow::Result<SharedProjection> {
    match projections::find(registered, name) {
        Some(projection) => Ok(projection),
        None => {
            let known: Vec<&str> = registered.iter().map(|p| p.name()).collect();
            bail!("no projection named {name:?}; known: {}", known.join(", "))
        }
    }
}

fn print_progress(p: &RebuildProgress) {
    let phase = match p.phase {
        RebuildPhase::Replaying => "replaying",
        RebuildPhase::Swapping => "swapping in",
        RebuildPhase::Done => "done",
    };
    println!(
        "{}: {phase}: {} events, {:.0} events/s, at {}",
        p.projection,
        p.events,
        p.events_per_sec(),
        p.position
    );
}

async fn run_all(store: &AnyEventStore) -> anyhow::Result<ExitCode> {
    tracing::info!(projections = ?projections::projection_names(), backend = %store.backend(), "starting projectors");
    let projectors = Projectors::start_any(
        store,
        projections::all(projections::system_clock()),
        RunnerOptions::default(),
    )?;
    shutdown_signal().await?;
    tracing::info!("stopping projectors");
    projectors.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C, or SIGTERM (what container runtimes and systemd send).
async fn shutdown_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("cannot listen for SIGTERM")?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.context("cannot listen for Ctrl-C")?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c()
        .await
        .context("cannot listen for Ctrl-C")?;
    Ok(())
}

async fn status(db: &eventstore::Database) -> anyhow::Result<ExitCode> {
    let rows = projections::statuses_in(db).await?;
    if rows.is_empty() {
        println!("no projection has run yet (投影尚未运行)");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<12} {:<10} {:>20} {:>10} {:>10} {:>9}  {:<25} {:<24} error",
        "projection", "state", "position", "applied", "lag", "lag s", "last event at", "holder"
    );
    for s in &rows {
        let last = s
            .last_event_at
            .map(utc_time)
            .unwrap_or_else(|| "-".to_owned());
        let error = match (&s.error, s.error_event_id, s.error_position) {
            (Some(e), Some(id), Some(at)) => format!("{e} (event {id} at {at})"),
            (Some(e), _, _) => e.clone(),
            _ => String::new(),
        };
        println!(
            "{:<12} {:<10} {:>20} {:>10} {:>10} {:>9.1}  {:<25} {:<24} {error}",
            s.projection,
            s.state,
            s.position.to_string(),
            s.events_applied,
            s.lag.events,
            s.lag.seconds,
            truncate(&last, 25),
            truncate(s.holder.as_deref().unwrap_or("-"), 24),
        );
    }
    // Non-zero when something is halted, so scripts and probes can tell.
    if rows.iter().any(|s| s.is_halted()) {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// A fixed-width time with its zone, e.g. `2026-12-04 08:30:00 UTC`: columns line up, and nobody
/// reads a UTC time as the county's.
fn utc_time(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.format(time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
    ))
    .unwrap_or_else(|_| t.to_string())
}

fn truncate(text: &str, width: usize) -> String {
    text.chars().take(width).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_have_one_width_and_their_zone() {
        let t = time::macros::datetime!(2026-12-04 16:05:09.123456 +8);
        assert_eq!(super::utc_time(t), "2026-12-04 08:05:09 UTC");
        let t = time::macros::datetime!(2026-01-02 03:04:05 UTC);
        assert_eq!(super::utc_time(t).len(), 23);
    }
}
