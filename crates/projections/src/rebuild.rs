//! Rebuilding a projection from the start of $all into fresh tables, then swapping them in.
//!
//! The replay writes into a schema of its own (`reporting_rebuild_<name>`) in short transactions,
//! one per batch: a long transaction that has written would hold back $all for every reader (the
//! store only returns events below the oldest running transaction). Meanwhile the live runner keeps
//! serving and updating the old tables. The swap is one transaction: it takes the projection's swap
//! lock exclusively (batch transactions take it shared), applies the events that arrived during the
//! replay, drops the old tables, moves the new ones into `reporting`, and sets the checkpoint and
//! status to the rebuilt position. Readers see the old tables or the new ones, never a mix.

use std::time::{Duration, Instant};

use eventstore::{EventStore, Filter, PgEventStore, Position, RecordedEvent};
use sqlx::{Connection, PgConnection};
use time::OffsetDateTime;

use crate::dyn_projection::AnyProjection;
use crate::postgres::{self, LockKind};
use crate::{CaughtUp, ProjectionError, RuntimeError, Touched, Tx};

/// Tuning of a rebuild.
#[derive(Debug, Clone)]
pub struct RebuildOptions {
    /// Events per read and per transaction.
    pub batch_size: usize,
    /// Minimum time between two progress reports while replaying.
    pub progress_every: Duration,
}

impl Default for RebuildOptions {
    fn default() -> Self {
        RebuildOptions {
            batch_size: 5_000,
            progress_every: Duration::from_secs(1),
        }
    }
}

/// Where a rebuild stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RebuildPhase {
    /// Replaying $all into the fresh tables.
    Replaying,
    /// Catching up the remainder and swapping the tables in.
    Swapping,
    /// Swapped in; the projection continues live from `position`.
    Done,
}

/// A progress report (also the final result).
#[derive(Debug, Clone)]
pub struct RebuildProgress {
    pub projection: &'static str,
    pub phase: RebuildPhase,
    /// Events applied so far.
    pub events: u64,
    pub position: Position,
    pub elapsed: Duration,
}

impl RebuildProgress {
    /// Average rate since the start.
    pub fn events_per_sec(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.events as f64 / secs
        } else {
            0.0
        }
    }
}

/// The fresh schema a rebuild of `projection` writes into.
pub fn rebuild_schema(projection: &str) -> String {
    format!("reporting_rebuild_{projection}")
}

/// Rebuilds `projection` from the start of $all and swaps the result in (see the module doc).
/// `progress` is called while replaying (at most every `progress_every`) and once per phase.
/// On failure the fresh schema is dropped and the live tables stay as they were.
pub async fn rebuild(
    store: &PgEventStore,
    projection: &dyn AnyProjection,
    options: &RebuildOptions,
    mut progress: impl FnMut(&RebuildProgress) + Send,
) -> Result<RebuildProgress, RuntimeError> {
    let name = projection.name();
    postgres::validate_name(name)?;
    let connect = store.pool().connect_options();
    let mut conn = PgConnection::connect_with(&connect).await?;
    let lock_key = postgres::lock_key(LockKind::Rebuild, name);
    if !postgres::try_session_lock(&mut conn, lock_key).await? {
        return Err(RuntimeError::RebuildRunning(name.to_owned()));
    }
    let schema = rebuild_schema(name);
    let previous = postgres::set_rebuilding(&mut conn, name).await?;
    tracing::info!(projection = name, %schema, "rebuild started");
    let mut rebuild = Rebuild {
        store,
        projection,
        options,
        schema: &schema,
        started: Instant::now(),
        position: Position::START,
        events: 0,
        last_event_at: None,
    };
    let result = rebuild.run(&mut conn, &mut progress).await;
    if let Err(error) = &result {
        tracing::error!(projection = name, %error, "rebuild failed; the live tables are unchanged");
        // Best effort: the connection may be what failed. A later rebuild drops the schema anyway.
        if let Err(cleanup) = postgres::drop_schema(&mut conn, &schema).await {
            tracing::warn!(projection = name, error = %cleanup, "cannot drop the rebuild schema");
        }
        if let Err(cleanup) = postgres::restore_state(&mut conn, name, previous.as_deref()).await {
            tracing::warn!(projection = name, error = %cleanup, "cannot restore the projection's state");
        }
    }
    // Unlock explicitly: a dropped connection releases the lock only once the server notices,
    // and a rebuild started right after this one would find it still held.
    if let Err(error) = postgres::session_unlock(&mut conn, lock_key).await {
        tracing::warn!(projection = name, %error, "cannot release the rebuild lock; it goes with the connection");
    }
    let _ = conn.close().await;
    result
}

struct Rebuild<'a> {
    store: &'a PgEventStore,
    projection: &'a dyn AnyProjection,
    options: &'a RebuildOptions,
    schema: &'a str,
    started: Instant,
    position: Position,
    events: u64,
    last_event_at: Option<OffsetDateTime>,
}

impl Rebuild<'_> {
    fn report(&self, phase: RebuildPhase) -> RebuildProgress {
        RebuildProgress {
            projection: self.projection.name(),
            phase,
            events: self.events,
            position: self.position,
            elapsed: self.started.elapsed(),
        }
    }

    async fn run(
        &mut self,
        conn: &mut PgConnection,
        progress: &mut (impl FnMut(&RebuildProgress) + Send),
    ) -> Result<RebuildProgress, RuntimeError> {
        let name = self.projection.name();
        let batch = self.options.batch_size.max(1);
        postgres::create_fresh_tables(conn, self.schema, self.projection.tables()).await?;
        progress(&self.report(RebuildPhase::Replaying));
        let mut last_report = Instant::now();
        let mut next_analyze: u64 = 1_000;

        // Replay, reading the next batch while the current one is applied.
        let mut next = self
            .store
            .read_all(Position::START, &Filter::all(), batch)
            .await?;
        while !next.is_empty() {
            let events = next;
            let last = events.last().map(|e| e.position).unwrap_or(self.position);
            let full = events.len() == batch;
            let read_ahead = async {
                if full {
                    self.store.read_all(last, &Filter::all(), batch).await
                } else {
                    Ok(Vec::new())
                }
            };
            let apply = async {
                let mut tx = conn.begin().await?;
                postgres::set_search_path(&mut tx, self.schema).await?;
                self.projection
                    .apply_batch(&mut Tx::Postgres(&mut tx), &events)
                    .await
                    .map_err(|e| poison(name, &events, e))?;
                tx.commit().await?;
                Ok::<(), RuntimeError>(())
            };
            let (read, applied) = tokio::join!(read_ahead, apply);
            applied?;
            self.advance(&events);
            if self.events >= next_analyze {
                // Fresh tables start without statistics and grow fast; autovacuum analyzes them
                // too late, and plans made for empty tables (sequential scans) turn a rebuild
                // quadratic. Analyzing at doubling sizes costs little.
                postgres::analyze(conn, self.schema, self.projection.tables()).await?;
                next_analyze = self.events.saturating_mul(2);
            }
            if last_report.elapsed() >= self.options.progress_every {
                progress(&self.report(RebuildPhase::Replaying));
                last_report = Instant::now();
            }
            next = read?;
        }

        // Foreign keys once the bulk is in (see add_foreign_keys); the remainder applied in the
        // swap below is checked row by row as usual.
        postgres::add_foreign_keys(conn, self.schema, self.projection.tables()).await?;

        // Swap: no batch of the live runner can run from here to the commit.
        progress(&self.report(RebuildPhase::Swapping));
        let mut tx = conn.begin().await?;
        postgres::exclusive_swap_lock(&mut tx, name).await?;
        loop {
            let events = self
                .store
                .read_all(self.position, &Filter::all(), batch)
                .await?;
            if events.is_empty() {
                break;
            }
            postgres::set_search_path(&mut tx, self.schema).await?;
            self.projection
                .apply_batch(&mut Tx::Postgres(&mut tx), &events)
                .await
                .map_err(|e| poison(name, &events, e))?;
            self.advance(&events);
            if events.len() < batch {
                // Our transaction now holds back $all for readers: anything later is the live
                // runner's, after the checkpoint we set.
                break;
            }
        }
        postgres::swap_tables(&mut tx, self.schema, self.projection.tables()).await?;
        eventstore::postgres::save_checkpoint(
            &mut tx,
            &postgres::checkpoint_name(name),
            self.position,
        )
        .await?;
        postgres::record_rebuilt(
            &mut tx,
            name,
            self.position,
            self.events,
            self.last_event_at,
        )
        .await?;
        postgres::notify(&mut tx, name).await?;
        tx.commit().await?;
        postgres::drop_schema(conn, self.schema).await?;
        tracing::info!(projection = name, events = self.events, position = %self.position, "rebuild swapped in");

        // Not during the replay (figures of the day are computed once, on the final tables); under
        // the exclusive swap lock so that it does not interleave with the live runner's batches.
        let mut tx = conn.begin().await?;
        postgres::exclusive_swap_lock(&mut tx, name).await?;
        postgres::set_search_path(&mut tx, postgres::REPORTING).await?;
        let store = eventstore::AnyEventStore::from(self.store.clone());
        let caught_up = CaughtUp {
            touched: &Touched::All,
            position: self.position,
            store: &store,
        };
        let refreshed = self
            .projection
            .after_catch_up(&mut Tx::Postgres(&mut tx), &caught_up)
            .await;
        if let Err(error) = refreshed {
            tx.rollback().await?;
            let message = format!("after_catch_up failed after rebuild: {error}");
            postgres::mark_halted(conn, name, &message, None).await?;
            return Err(RuntimeError::Projection {
                projection: name.to_owned(),
                message,
            });
        }
        tx.commit().await?;
        let done = self.report(RebuildPhase::Done);
        progress(&done);
        Ok(done)
    }

    fn advance(&mut self, events: &[RecordedEvent]) {
        if let Some(last) = events.last() {
            self.position = last.position;
            self.last_event_at = Some(last.recorded_at);
            self.events += events.len() as u64;
        }
    }
}

fn poison(projection: &str, events: &[RecordedEvent], error: ProjectionError) -> RuntimeError {
    match error.event {
        Some((event_id, position)) => RuntimeError::Poison {
            projection: projection.to_owned(),
            event_id,
            position,
            message: error.message,
        },
        None => RuntimeError::Projection {
            projection: projection.to_owned(),
            message: format!(
                "{} (in the batch of {} events after {})",
                error.message,
                events.len(),
                events.first().map(|e| e.position).unwrap_or_default()
            ),
        },
    }
}

/// Rebuilds each projection in turn (the CLI's `projections rebuild` without a name).
pub async fn rebuild_all(
    store: &PgEventStore,
    projections: &[crate::SharedProjection],
    options: &RebuildOptions,
    mut progress: impl FnMut(&RebuildProgress) + Send,
) -> Result<Vec<RebuildProgress>, RuntimeError> {
    let mut done = Vec::new();
    for projection in projections {
        done.push(rebuild(store, projection.as_ref(), options, &mut progress).await?);
    }
    Ok(done)
}
