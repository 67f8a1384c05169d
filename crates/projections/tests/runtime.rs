//! The projector runtime against a real PostgreSQL: checkpoints, leadership, takeover, poison
//! events, waiting. Each test has a database of its own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{Counter, Ctx, PoisonMode, fast_options};
use eventstore::Position;
use projections::{Projectors, RunnerOptions, WaitOutcome, Waiter, Which, shared};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn checkpoint_and_writes_commit_together() {
    let ctx = Ctx::new().await;
    ctx.create_tables("alpha").await;
    let positions = ctx.append("a", 730, 7, &[]).await;
    let counter = Counter::new("alpha");
    let refreshes = counter.refreshes.clone();
    let runners = Projectors::start(&ctx.store, vec![shared(counter)], fast_options()).unwrap();
    let last = *positions.last().unwrap();
    ctx.wait("alpha", last).await;

    // The checkpoint is exactly the last event, and every event was applied once.
    assert_eq!(ctx.checkpoint("alpha").await, Some(last));
    assert_eq!(ctx.applied("alpha").await, (730, 730, 730));
    let status = ctx.status("alpha").await;
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

    // In every committed batch the checkpoint equals the last logged application: the log's
    // greatest position is the checkpoint, never ahead or behind.
    let (commit, prepare): (i64, i64) = sqlx::query_as(
        "SELECT commit_pos, prepare_pos FROM reporting.alpha_applied \
         ORDER BY commit_pos DESC, prepare_pos DESC LIMIT 1",
    )
    .fetch_one(&ctx.pool)
    .await
    .unwrap();
    assert_eq!(Position::new(commit as u64, prepare), last);

    // Live: new events arrive through NOTIFY.
    let more = ctx.append("b", 20, 1, &[]).await;
    ctx.wait("alpha", *more.last().unwrap()).await;
    assert_eq!(ctx.applied("alpha").await, (750, 750, 750));
    assert_eq!(
        projections::lag(&ctx.pool, "alpha").await.unwrap().events,
        0
    );

    runners.shutdown().await;
    ctx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn catch_up_refresh_can_be_rate_limited() {
    let ctx = Ctx::new().await;
    ctx.create_tables("alpha").await;
    ctx.create_tables("beta").await;
    let every = Counter::new("alpha");
    let every_count = every.refreshes.clone();
    let limited = Counter::new("beta");
    let limited_count = limited.refreshes.clone();
    let runners = Projectors::start(&ctx.store, vec![shared(every)], fast_options()).unwrap();
    let limited_runners = Projectors::start(
        &ctx.store,
        vec![shared(limited)],
        RunnerOptions {
            catch_up_refresh_min_interval: Duration::from_secs(3),
            ..fast_options()
        },
    )
    .unwrap();
    // Ten appends, each waited for: ten caught-up batches per projection.
    for round in 0..10 {
        let last = *ctx
            .append(&format!("r{round}"), 1, 1, &[])
            .await
            .last()
            .unwrap();
        ctx.wait("alpha", last).await;
        ctx.wait("beta", last).await;
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
    ctx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lag_is_measured_and_recorded_while_behind() {
    let ctx = Ctx::new().await;
    ctx.create_tables("alpha").await;
    let positions = ctx.append("a", 300, 3, &[]).await;
    // Nothing runs yet: the whole log is lag.
    let lag = projections::lag(&ctx.pool, "alpha").await.unwrap();
    assert_eq!(lag.events, 300);
    assert!(lag.seconds >= 0.0);
    // A slow runner (10 events a batch, 100 ms each) records lag while it works through them.
    let options = RunnerOptions {
        batch_size: 10,
        ..fast_options()
    };
    let counter = Counter::new("alpha").delay(Duration::from_millis(100));
    let runners = Projectors::start(&ctx.store, vec![shared(counter)], options).unwrap();
    let mut seen_lag = false;
    for _ in 0..1200 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Ok(statuses) = projections::statuses(&ctx.pool).await
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
    let _ = positions;
    ctx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn only_one_of_two_runners_applies() {
    let ctx = Ctx::new().await;
    ctx.create_tables("alpha").await;
    let first = Projectors::start(
        &ctx.store,
        vec![shared(Counter::new("alpha"))],
        RunnerOptions {
            holder: "first".into(),
            ..fast_options()
        },
    )
    .unwrap();
    let second = Projectors::start(
        &ctx.store,
        vec![shared(Counter::new("alpha"))],
        RunnerOptions {
            holder: "second".into(),
            ..fast_options()
        },
    )
    .unwrap();
    let mut last = Position::START;
    for round in 0..10 {
        let positions = ctx.append(&format!("r{round}"), 100, 3, &[]).await;
        last = *positions.last().unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    ctx.wait("alpha", last).await;
    assert_eq!(ctx.applied("alpha").await, (1000, 1000, 1000));
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

/// Kills the leader mid-batch (in both ways a leader dies: its backend is terminated, or the
/// process's task and connection go away) while events keep arriving; the standby takes over and
/// every event is applied exactly once.
async fn takeover(kill_backend: bool) {
    let ctx = Ctx::new().await;
    ctx.create_tables("alpha").await;
    let options = |holder: &str| RunnerOptions {
        batch_size: 20,
        holder: holder.into(),
        ..fast_options()
    };
    // 50 ms per batch: a kill almost surely lands inside a batch transaction.
    let slow = || shared(Counter::new("alpha").delay(Duration::from_millis(50)));
    let first = Projectors::start(&ctx.store, vec![slow()], options("first")).unwrap();
    // Let the first one take the lock before the standby starts.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = Projectors::start(&ctx.store, vec![slow()], options("second")).unwrap();

    let writer = common::spawn_writer(&ctx.store, 20, 50, 2, Duration::from_millis(50));
    // Wait until the first runner is visibly working, then kill it.
    for _ in 0..100 {
        if ctx.applied("alpha").await.0 >= 100 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status = ctx.status("alpha").await;
    let holder = status.holder.clone().unwrap();
    assert!(holder.starts_with("first/"), "first runner leads: {holder}");
    if kill_backend {
        let pid: i32 = holder.rsplit('/').next().unwrap().parse().unwrap();
        let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
            .bind(pid)
            .fetch_one(&ctx.pool)
            .await
            .unwrap();
        assert!(killed);
        // The first process keeps running: it must come back as a standby, not a second leader.
    } else {
        first.abort();
    }
    let last = writer.await.unwrap();
    ctx.wait("alpha", last).await;
    let (rows, distinct, counted) = ctx.applied("alpha").await;
    assert_eq!(ctx.event_count().await, 1000);
    assert_eq!(
        (rows, distinct, counted),
        (1000, 1000, 1000),
        "no event applied twice or missed"
    );
    let status = ctx.status("alpha").await;
    if !kill_backend {
        assert!(
            status.holder.unwrap().starts_with("second/"),
            "the standby took over"
        );
    }
    second.shutdown().await;
    ctx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn standby_takes_over_when_the_leaders_backend_is_killed() {
    takeover(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn standby_takes_over_when_the_leader_process_dies() {
    takeover(false).await;
}

async fn poison_halts_only_its_projection(mode: PoisonMode) {
    let ctx = Ctx::new().await;
    ctx.create_tables("alpha").await;
    ctx.create_tables("beta").await;
    // Event 237 of 400 is poison to alpha; beta does not mind it.
    let positions = ctx.append("a", 400, 4, &[237]).await;
    let poison_position = positions[237];
    let poison_id: uuid::Uuid =
        sqlx::query_scalar("SELECT event_id FROM eventstore.events WHERE position = $1")
            .bind(poison_position.prepare)
            .fetch_one(&ctx.pool)
            .await
            .unwrap();
    let runners = Projectors::start(
        &ctx.store,
        vec![
            shared(Counter::new("alpha").poison(mode)),
            shared(Counter::new("beta")),
        ],
        fast_options(),
    )
    .unwrap();
    let last = *positions.last().unwrap();
    ctx.wait("beta", last).await;
    let outcome =
        projections::wait_for(&ctx.pool, Which::Named(&["alpha"]), last, common::PATIENCE)
            .await
            .unwrap();
    assert_eq!(
        outcome,
        WaitOutcome::Halted {
            projection: "alpha".into()
        }
    );

    let status = ctx.status("alpha").await;
    assert_eq!(status.state, "halted");
    assert_eq!(status.error_event_id, Some(poison_id));
    assert_eq!(status.error_position, Some(poison_position));
    assert!(
        status.error.as_deref().unwrap().contains("bad")
            || status.error.as_deref().unwrap().contains("Poison")
    );
    // Everything before the poison event is applied, nothing at or after it (never skipped).
    assert_eq!(ctx.checkpoint("alpha").await, Some(positions[236]));
    assert_eq!(ctx.applied("alpha").await, (237, 237, 237));
    // The other projection went on.
    assert_eq!(ctx.status("beta").await.state, "running");
    assert_eq!(ctx.applied("beta").await, (400, 400, 400));

    // More events: beta keeps going, alpha stays halted where it was.
    let more = ctx.append("b", 10, 1, &[]).await;
    ctx.wait("beta", *more.last().unwrap()).await;
    assert_eq!(ctx.checkpoint("alpha").await, Some(positions[236]));

    // Resume: the runner retries, fails on the same event, and halts again.
    assert!(projections::resume(&ctx.pool, "alpha").await.unwrap());
    assert!(
        !projections::resume(&ctx.pool, "beta").await.unwrap(),
        "beta was not halted"
    );
    let mut halted_again = false;
    for _ in 0..1200 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let status = ctx.status("alpha").await;
        if status.state == "halted" && status.error_event_id == Some(poison_id) {
            halted_again = true;
            break;
        }
    }
    assert!(halted_again);
    assert_eq!(ctx.applied("alpha").await, (237, 237, 237));
    runners.shutdown().await;
    ctx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn poison_event_named_by_the_projection_halts_only_it() {
    poison_halts_only_its_projection(PoisonMode::Named).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn poison_event_found_one_at_a_time_halts_only_it() {
    poison_halts_only_its_projection(PoisonMode::Unnamed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wait_for_returns_once_passed_and_times_out_otherwise() {
    let ctx = Ctx::new().await;
    ctx.create_tables("alpha").await;
    ctx.create_tables("beta").await;
    let positions = ctx.append("a", 50, 1, &[]).await;
    let last = *positions.last().unwrap();

    // No runner: times out, naming who is behind.
    let started = std::time::Instant::now();
    let outcome = projections::wait_for(
        &ctx.pool,
        Which::Named(&["alpha"]),
        last,
        Duration::from_millis(300),
    )
    .await
    .unwrap();
    assert_eq!(
        outcome,
        WaitOutcome::TimedOut {
            behind: vec!["alpha".into()]
        }
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(started.elapsed() < Duration::from_secs(60));

    // A waiter started before the runner returns as soon as the runner passes the position.
    let waiter = Waiter::start(ctx.pool.clone());
    let pending = {
        let waiter = waiter.clone();
        tokio::spawn(async move {
            waiter
                .wait_for(Which::Named(&["alpha", "beta"]), last, common::PATIENCE)
                .await
                .unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!pending.is_finished());
    let runners = Projectors::start(
        &ctx.store,
        vec![shared(Counter::new("alpha")), shared(Counter::new("beta"))],
        fast_options(),
    )
    .unwrap();
    assert_eq!(pending.await.unwrap(), WaitOutcome::Reached);
    assert!(ctx.checkpoint("alpha").await.unwrap() >= last);
    assert!(ctx.checkpoint("beta").await.unwrap() >= last);

    // Read-your-writes: append, then wait (through NOTIFY; the benchmark measures how fast).
    // Generous timeout: a transaction left open anywhere on the server holds $all back.
    let next = *ctx.append("b", 1, 1, &[]).await.last().unwrap();
    let outcome = waiter
        .wait_for(Which::All, next, common::PATIENCE)
        .await
        .unwrap();
    assert_eq!(outcome, WaitOutcome::Reached);
    // An already passed position returns at once.
    assert!(
        projections::wait_for(&ctx.pool, Which::All, positions[0], Duration::ZERO)
            .await
            .unwrap()
            .is_reached()
    );
    runners.shutdown().await;
    ctx.finish().await;
}
