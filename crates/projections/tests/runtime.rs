//! The projector runtime, once per backend (a real PostgreSQL database and a real SQLite file):
//! checkpoints, leadership, takeover, poison events, the catch-up refresh and its rate limit, lag,
//! wake-ups, the supervisor, waiting, and the real projections through the backend-neutral API.
//! Every test is written once over [`Harness`] and instantiated for both backends at the end; a
//! few that only one backend can have (killing a PostgreSQL backend, a SQLite lease table gone)
//! follow.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{Counter, Harness, PATIENCE, PoisonMode, fast_options};
use eventstore::{EventStore, ExpectedVersion, NewEvent, Position};
use projections::{
    RunnerOptions, WaitOutcome, Waiter, Which, lag_in, projection_names, resume_in, shared,
    statuses_in, system_clock,
};
use serde_json::json;
use uuid::Uuid;

async fn checkpoint_and_writes_commit_together(h: &Harness) {
    h.create_tables("alpha").await;
    let positions = h.append("a", 730, 7, &[]).await;
    let counter = Counter::new("alpha");
    let refreshes = counter.refreshes.clone();
    let runners = h.start(vec![shared(counter)], fast_options());
    let last = *positions.last().unwrap();
    h.wait("alpha", last).await;

    // The checkpoint is exactly the last event, and every event was applied once.
    assert_eq!(h.checkpoint("alpha").await, Some(last));
    assert_eq!(h.applied("alpha").await, (730, 730, 730));
    let status = h.status("alpha").await;
    assert_eq!(status.state, "running");
    assert_eq!(status.position, last);
    assert_eq!(status.events_applied, 730);
    assert!(status.last_event_at.is_some());
    assert!(status.holder.as_deref().unwrap_or("").contains(':'));
    assert_eq!(status.lag.events, 0);
    assert!(
        refreshes.load(Ordering::SeqCst) >= 1,
        "after_catch_up ran once caught up"
    );

    // Live: new events wake the runner.
    let more = h.append("b", 20, 1, &[]).await;
    h.wait("alpha", *more.last().unwrap()).await;
    assert_eq!(h.applied("alpha").await, (750, 750, 750));
    assert_eq!(lag_in(&h.db(), "alpha").await.unwrap().events, 0);
    runners.shutdown().await;
}

/// An append wakes the runner. On SQLite the poll interval is an hour, so only the store's
/// in-process signal can bring the events in within the wait. On PostgreSQL the wake-up is NOTIFY
/// followed by quick polls doubling up to the poll interval (the announced event may be held back
/// by other tests' open transactions), so there the interval is 10 s: waits still end far sooner.
async fn an_append_wakes_the_runner(h: &Harness) {
    h.create_tables("alpha").await;
    let poll = if h.is_sqlite() { 3600 } else { 10 };
    let options = RunnerOptions {
        poll_interval: Duration::from_secs(poll),
        refresh_interval: Duration::from_secs(3600),
        lease: Duration::from_secs(4 * 3600),
        ..fast_options()
    };
    let first = *h.append("a", 1, 1, &[]).await.last().unwrap();
    let runners = h.start(vec![shared(Counter::new("alpha"))], options);
    h.wait("alpha", first).await;
    // Caught up and idle now; each of these appends must wake it.
    for round in 0..5 {
        let last = *h
            .append(&format!("r{round}"), 3, 1, &[])
            .await
            .last()
            .unwrap();
        h.wait("alpha", last).await;
    }
    assert_eq!(h.applied("alpha").await, (16, 16, 16));
    runners.shutdown().await;
}

async fn catch_up_refresh_can_be_rate_limited(h: &Harness) {
    h.create_tables("alpha").await;
    h.create_tables("beta").await;
    let every = Counter::new("alpha");
    let every_count = every.refreshes.clone();
    let limited = Counter::new("beta");
    let limited_count = limited.refreshes.clone();
    let runners = h.start(vec![shared(every)], fast_options());
    let limited_runners = h.start(
        vec![shared(limited)],
        RunnerOptions {
            catch_up_refresh_min_interval: Duration::from_secs(3),
            ..fast_options()
        },
    );
    // Ten appends, each waited for: ten caught-up batches per projection.
    for round in 0..10 {
        let last = *h
            .append(&format!("r{round}"), 1, 1, &[])
            .await
            .last()
            .unwrap();
        h.wait("alpha", last).await;
        h.wait("beta", last).await;
    }
    let every_n = every_count.load(Ordering::SeqCst);
    let limited_n = limited_count.load(Ordering::SeqCst);
    assert!(
        every_n >= 10,
        "refreshed after each caught-up batch: {every_n}"
    );
    assert!(limited_n < every_n, "rate-limited: {limited_n} < {every_n}");
    // The skipped refresh still happens once the interval has passed.
    let before = limited_count.load(Ordering::SeqCst);
    let mut caught_up_later = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if limited_count.load(Ordering::SeqCst) > before {
            caught_up_later = true;
            break;
        }
    }
    assert!(caught_up_later, "a pending refresh ran after the interval");
    runners.shutdown().await;
    limited_runners.shutdown().await;
}

async fn lag_is_measured_and_recorded_while_behind(h: &Harness) {
    h.create_tables("alpha").await;
    h.append("a", 300, 3, &[]).await;
    // Nothing runs yet: the whole log is lag.
    let lag = lag_in(&h.db(), "alpha").await.unwrap();
    assert_eq!(lag.events, 300);
    assert!(lag.seconds >= 0.0);
    // A slow runner (10 events a batch, 100 ms each) records lag while it works through them.
    let options = RunnerOptions {
        batch_size: 10,
        ..fast_options()
    };
    let counter = Counter::new("alpha").delay(Duration::from_millis(100));
    let runners = h.start(vec![shared(counter)], options);
    let mut seen_lag = false;
    for _ in 0..1200 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Ok(statuses) = statuses_in(&h.db()).await
            && let Some(s) = statuses.iter().find(|s| s.projection == "alpha")
            && s.lag.events > 0
        {
            assert!(s.lag.events < 300);
            seen_lag = true;
            break;
        }
    }
    assert!(seen_lag, "projection_status showed no lag while behind");
    runners.abort();
}

async fn only_one_of_two_runners_applies(h: &Harness) {
    h.create_tables("alpha").await;
    let elsewhere = h.other_process().await;
    let first = h.start(
        vec![shared(Counter::new("alpha"))],
        RunnerOptions {
            holder: "first".into(),
            ..fast_options()
        },
    );
    let second = projections::Projectors::start_any(
        &elsewhere,
        vec![shared(Counter::new("alpha"))],
        RunnerOptions {
            holder: "second".into(),
            ..fast_options()
        },
    )
    .unwrap();
    let mut last = Position::START;
    for round in 0..10 {
        let positions = h.append(&format!("r{round}"), 100, 3, &[]).await;
        last = *positions.last().unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    h.wait("alpha", last).await;
    // Every event exactly once, by one of them.
    assert_eq!(h.applied("alpha").await, (1000, 1000, 1000));
    let holder = h.status("alpha").await.holder.unwrap();
    assert!(
        holder.starts_with("first/") || holder.starts_with("second/"),
        "{holder}"
    );
    first.shutdown().await;
    second.shutdown().await;
}

/// Kills the leader process mid-batch while events keep arriving; the standby (another process)
/// takes over (on SQLite once the dead leader's lease expired) and every event is applied exactly
/// once.
async fn standby_takes_over_when_the_leader_process_dies(h: &Harness) {
    h.create_tables("alpha").await;
    let elsewhere = h.other_process().await;
    let options = |holder: &str| RunnerOptions {
        batch_size: 20,
        holder: holder.into(),
        lease: Duration::from_secs(2),
        ..fast_options()
    };
    // 50 ms per batch: a kill almost surely lands inside a batch transaction.
    let slow = || shared(Counter::new("alpha").delay(Duration::from_millis(50)));
    let first = h.start(vec![slow()], options("first"));
    let early = *h.append("e", 1, 1, &[]).await.last().unwrap();
    h.wait("alpha", early).await;
    let second =
        projections::Projectors::start_any(&elsewhere, vec![slow()], options("second")).unwrap();

    let writer = common::spawn_writer(&h.store, 20, 50, 2, Duration::from_millis(50));
    // Wait until the first runner is visibly working, then kill it.
    for _ in 0..200 {
        if h.applied("alpha").await.0 >= 100 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let holder = h.status("alpha").await.holder.unwrap();
    assert!(holder.starts_with("first/"), "first runner leads: {holder}");
    first.abort();
    let last = writer.await.unwrap();
    h.wait("alpha", last).await;
    assert_eq!(h.event_count().await, 1001);
    assert_eq!(
        h.applied("alpha").await,
        (1001, 1001, 1001),
        "no event applied twice or missed"
    );
    let holder = h.status("alpha").await.holder.unwrap();
    assert!(
        holder.starts_with("second/"),
        "the standby took over: {holder}"
    );
    second.shutdown().await;
}

async fn poison_halts_only_its_projection(h: &Harness, mode: PoisonMode) {
    h.create_tables("alpha").await;
    h.create_tables("beta").await;
    // Event 237 of 400 is poison to alpha; beta does not mind it.
    let positions = h.append("a", 400, 4, &[237]).await;
    let poison_position = positions[237];
    let poison_id = h.event_id_at(poison_position).await;
    let alpha = Counter::new("alpha").poison(mode);
    let fix = alpha.fixed.clone();
    let runners = h.start(
        vec![shared(alpha), shared(Counter::new("beta"))],
        fast_options(),
    );
    let last = *positions.last().unwrap();
    h.wait("beta", last).await;
    assert_eq!(
        h.wait_outcome("alpha", last).await,
        WaitOutcome::Halted {
            projection: "alpha".into()
        }
    );
    let status = h.status("alpha").await;
    assert_eq!(status.state, "halted");
    assert_eq!(status.error_event_id, Some(poison_id));
    assert_eq!(status.error_position, Some(poison_position));
    let error = status.error.unwrap();
    assert!(error.contains("bad") || error.contains("Poison"), "{error}");
    // Everything before the poison event is applied, nothing at or after it (never skipped).
    assert_eq!(h.checkpoint("alpha").await, Some(positions[236]));
    assert_eq!(h.applied("alpha").await, (237, 237, 237));
    // The other projection went on.
    assert_eq!(h.status("beta").await.state, "running");
    assert_eq!(h.applied("beta").await, (400, 400, 400));

    // More events: beta keeps going, alpha stays halted where it was (no retry until resumed).
    let more = h.append("b", 10, 1, &[]).await;
    h.wait("beta", *more.last().unwrap()).await;
    assert_eq!(h.checkpoint("alpha").await, Some(positions[236]));
    assert_eq!(lag_in(&h.db(), "alpha").await.unwrap().events, 173);

    // Resume: the runner retries, fails on the same event, and halts again.
    assert!(resume_in(&h.db(), "alpha").await.unwrap());
    assert!(
        !resume_in(&h.db(), "beta").await.unwrap(),
        "beta was not halted"
    );
    let mut halted_again = false;
    for _ in 0..1200 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let status = h.status("alpha").await;
        if status.state == "halted" && status.error_event_id == Some(poison_id) {
            halted_again = true;
            break;
        }
    }
    assert!(halted_again);
    assert_eq!(h.applied("alpha").await, (237, 237, 237));

    // Fixed and resumed, its runner (still running) catches up.
    fix.store(true, Ordering::SeqCst);
    assert!(resume_in(&h.db(), "alpha").await.unwrap());
    h.wait("alpha", *more.last().unwrap()).await;
    assert_eq!(h.applied("alpha").await, (410, 410, 410));
    runners.shutdown().await;
}

async fn poison_event_named_by_the_projection_halts_only_it(h: &Harness) {
    poison_halts_only_its_projection(h, PoisonMode::Named).await;
}

async fn poison_event_found_one_at_a_time_halts_only_it(h: &Harness) {
    poison_halts_only_its_projection(h, PoisonMode::Unnamed).await;
}

/// A panic in a projection (a bug) rolls its batch back; the supervisor starts the runner again
/// and every event is applied exactly once. Shutdown gives the leadership up.
async fn the_supervisor_restarts_a_panicked_runner(h: &Harness) {
    h.create_tables("alpha").await;
    h.create_tables("beta").await;
    let positions = h.append("a", 120, 3, &[]).await;
    let alpha = Counter::new("alpha");
    alpha.panics.store(2, Ordering::SeqCst);
    let panics = alpha.panics.clone();
    let runners = h.start(
        vec![shared(alpha), shared(Counter::new("beta"))],
        RunnerOptions {
            retry_delay: Duration::from_millis(20),
            ..fast_options()
        },
    );
    let last = *positions.last().unwrap();
    h.wait("alpha", last).await;
    h.wait("beta", last).await;
    assert_eq!(panics.load(Ordering::SeqCst), 0, "it panicked twice");
    assert_eq!(h.applied("alpha").await, (120, 120, 120));
    assert_eq!(h.applied("beta").await, (120, 120, 120));
    tokio::time::timeout(PATIENCE, runners.shutdown())
        .await
        .expect("shutdown returns");
    if let eventstore::AnyEventStore::Sqlite(store) = &h.store {
        let leases: i64 = sqlx::query_scalar("SELECT count(*) FROM projection_leases")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(leases, 0, "every runner released its lease");
    }
}

async fn wait_for_returns_once_passed_and_times_out_otherwise(h: &Harness) {
    h.create_tables("alpha").await;
    h.create_tables("beta").await;
    let positions = h.append("a", 50, 1, &[]).await;
    let last = *positions.last().unwrap();
    let waiter = Waiter::start_for(h.db());

    // No runner: times out, naming who is behind.
    let outcome = waiter
        .wait_for(Which::Named(&["alpha"]), last, Duration::from_millis(300))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        WaitOutcome::TimedOut {
            behind: vec!["alpha".into()]
        }
    );

    // A wait started before the runner returns as soon as the runner passes the position.
    let pending = {
        let waiter = waiter.clone();
        tokio::spawn(async move {
            waiter
                .wait_for(Which::Named(&["alpha", "beta"]), last, PATIENCE)
                .await
                .unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!pending.is_finished());
    let runners = h.start(
        vec![shared(Counter::new("alpha")), shared(Counter::new("beta"))],
        fast_options(),
    );
    assert_eq!(pending.await.unwrap(), WaitOutcome::Reached);
    assert!(h.checkpoint("alpha").await.unwrap() >= last);
    assert!(h.checkpoint("beta").await.unwrap() >= last);

    // Read-your-writes: append, then wait.
    let next = *h.append("b", 1, 1, &[]).await.last().unwrap();
    let outcome = waiter.wait_for(Which::All, next, PATIENCE).await.unwrap();
    assert_eq!(outcome, WaitOutcome::Reached);
    // An already passed position returns at once, with a zero timeout too.
    assert!(
        waiter
            .wait_for(Which::All, positions[0], Duration::ZERO)
            .await
            .unwrap()
            .is_reached()
    );
    // A position not yet appended: timed out.
    let ahead = Position {
        commit: next.commit + 1,
        prepare: next.prepare + 1,
    };
    assert!(matches!(
        waiter
            .wait_for(Which::Named(&["alpha"]), ahead, Duration::from_millis(150))
            .await
            .unwrap(),
        WaitOutcome::TimedOut { .. }
    ));
    runners.shutdown().await;
}

/// The real projections of the binary through the backend-neutral API: start, wait, status, lag,
/// an event the ledger cannot read halting it, resume, shutdown.
async fn the_real_projections_run_halt_and_resume(h: &Harness) {
    let db = h.db();
    // Events of a category no read model uses: the projections pass over them.
    let mut head = Position::START;
    for i in 0..12 {
        head = h
            .store
            .append(
                &format!("clitest-{}", i % 3),
                ExpectedVersion::Any,
                vec![NewEvent::new("Noted", json!({"n": i}))],
            )
            .await
            .unwrap()
            .positions()[0];
    }
    let runners = h.start(projections::all(system_clock()), fast_options());
    let names = projection_names();
    assert_eq!(names, ["ledger", "timeline"]);
    let waiter = Waiter::start_for(db.clone());
    assert_eq!(
        waiter
            .wait_for(Which::Named(&names), head, PATIENCE)
            .await
            .unwrap(),
        WaitOutcome::Reached
    );
    let rows = statuses_in(&db).await.unwrap();
    let listed: Vec<&str> = rows.iter().map(|s| s.projection.as_str()).collect();
    assert_eq!(listed, names);
    for s in &rows {
        assert_eq!((s.state.as_str(), s.position), ("running", head));
        assert!(s.events_applied >= 12, "{s:?}");
    }
    assert_eq!(lag_in(&db, "ledger").await.unwrap().events, 0);
    assert!(!resume_in(&db, "ledger").await.unwrap());

    // A project event the ledger cannot read halts it; the waiter says so.
    let poison = h
        .store
        .append(
            &format!("project-{}", Uuid::new_v4()),
            ExpectedVersion::Any,
            vec![NewEvent::new("NoSuchProjectEvent", json!({}))],
        )
        .await
        .unwrap()
        .positions()[0];
    assert_eq!(
        waiter
            .wait_for(Which::Named(&["ledger"]), poison, PATIENCE)
            .await
            .unwrap(),
        WaitOutcome::Halted {
            projection: "ledger".into()
        }
    );
    let ledger = h.status("ledger").await;
    assert!(ledger.is_halted());
    assert_eq!(ledger.error_position, Some(poison));
    assert_eq!(lag_in(&db, "ledger").await.unwrap().events, 1);
    assert!(resume_in(&db, "ledger").await.unwrap());
    tokio::time::timeout(PATIENCE, runners.shutdown())
        .await
        .expect("shutdown returns");
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let h = super::Harness::postgres().await;
                    super::$name(&h).await;
                    h.finish().await;
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let h = super::Harness::sqlite().await;
                    super::$name(&h).await;
                    h.finish().await;
                }
            )*
        }
    };
}

on_both_backends!(
    checkpoint_and_writes_commit_together,
    an_append_wakes_the_runner,
    catch_up_refresh_can_be_rate_limited,
    lag_is_measured_and_recorded_while_behind,
    only_one_of_two_runners_applies,
    standby_takes_over_when_the_leader_process_dies,
    poison_event_named_by_the_projection_halts_only_it,
    poison_event_found_one_at_a_time_halts_only_it,
    the_supervisor_restarts_a_panicked_runner,
    wait_for_returns_once_passed_and_times_out_otherwise,
    the_real_projections_run_halt_and_resume,
);

/// PostgreSQL: the leader's backend is terminated mid-batch (the process keeps running and must
/// come back as a standby, not a second leader); the standby takes over, every event once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_standby_takes_over_when_the_leaders_backend_is_killed() {
    let ctx = common::Ctx::new().await;
    ctx.create_tables("alpha").await;
    let options = |holder: &str| RunnerOptions {
        batch_size: 20,
        holder: holder.into(),
        ..fast_options()
    };
    let slow = || shared(Counter::new("alpha").delay(Duration::from_millis(50)));
    let first = projections::Projectors::start(&ctx.store, vec![slow()], options("first")).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second =
        projections::Projectors::start(&ctx.store, vec![slow()], options("second")).unwrap();
    let writer = common::spawn_writer(&ctx.store, 20, 50, 2, Duration::from_millis(50));
    for _ in 0..100 {
        if ctx.applied("alpha").await.0 >= 100 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let holder = ctx.status("alpha").await.holder.unwrap();
    assert!(holder.starts_with("first/"), "first runner leads: {holder}");
    let pid: i32 = holder.rsplit('/').next().unwrap().parse().unwrap();
    let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .fetch_one(&ctx.pool)
        .await
        .unwrap();
    assert!(killed);
    let last = writer.await.unwrap();
    ctx.wait("alpha", last).await;
    assert_eq!(ctx.event_count().await, 1000);
    assert_eq!(
        ctx.applied("alpha").await,
        (1000, 1000, 1000),
        "no event applied twice or missed"
    );
    // Exactly one session holds the leader lock.
    let holders: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND mode = 'ExclusiveLock' \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_one(&ctx.pool)
    .await
    .unwrap();
    assert_eq!(holders, 1);
    first.shutdown().await;
    second.shutdown().await;
    ctx.finish().await;
}

/// SQLite: a runner failing on the database at every step (its lease table is gone) logs and
/// retries, and goes on once the database is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_a_runner_failing_on_the_database_is_retried_until_it_can_go_on() {
    let h = Harness::sqlite().await;
    h.create_tables("alpha").await;
    let eventstore::AnyEventStore::Sqlite(store) = &h.store else {
        unreachable!()
    };
    let first = *h.append("a", 1, 1, &[]).await.last().unwrap();
    sqlx::query("ALTER TABLE projection_leases RENAME TO projection_leases_away")
        .execute(store.pool())
        .await
        .unwrap();
    let runners = h.start(vec![shared(Counter::new("alpha"))], fast_options());
    let waiter = Waiter::start_for(h.db());
    assert_eq!(
        waiter
            .wait_for(Which::Named(&["alpha"]), first, Duration::from_millis(400))
            .await
            .unwrap(),
        WaitOutcome::TimedOut {
            behind: vec!["alpha".into()]
        }
    );
    assert_eq!(h.applied("alpha").await, (0, 0, 0));
    sqlx::query("ALTER TABLE projection_leases_away RENAME TO projection_leases")
        .execute(store.pool())
        .await
        .unwrap();
    let head = *h.append("b", 1, 1, &[]).await.last().unwrap();
    h.wait("alpha", head).await;
    assert_eq!(h.applied("alpha").await, (2, 2, 2));
    runners.shutdown().await;
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_projections_of_one_name_are_refused() {
    let h = Harness::sqlite().await;
    let twice = vec![shared(Counter::new("alpha")), shared(Counter::new("alpha"))];
    assert!(projections::Projectors::start_any(&h.store, twice, fast_options()).is_err());
    h.finish().await;
}
