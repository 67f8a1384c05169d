//! The supervised runners on SQLite (`SqliteProjectors`), the waiter on either backend
//! (`Waiter::start_for`) and the backend-neutral entry points (`AnyProjectors`, `statuses_in`,
//! `lag_in`, `resume_in`), on real SQLite files and real PostgreSQL databases.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use eventstore::postgres::testing::TestDatabase;
use eventstore::sqlite::testing::{remove_store_files, temp_store_path};
use eventstore::{
    AnyEventStore, Database, EventStore, ExpectedVersion, NewEvent, PgEventStore, Position,
    RecordedEvent, SqliteEventStore,
};
use futures::future::BoxFuture;
use projections::sqlite::{
    SqliteProjection, SqliteProjectors, SqliteRunner, SqliteRunnerOptions, Step, progress_signal,
    status,
};
use projections::{
    AnyProjectors, ProjectionError, RunnerOptions, WaitOutcome, Waiter, Which, lag_in,
    projection_names, resume_in, statuses_in, system_clock,
};
use serde_json::json;
use sqlx::{AssertSqlSafe, SqliteConnection, SqlitePool};
use uuid::Uuid;

const LONG: Duration = Duration::from_secs(20);

/// Logs every event it applies in `reporting_<name>_applied` (whose key refuses a second
/// application). While `poisoned`, fails on events of type `Poison`; while `panics` is above zero,
/// panics in the middle of a batch (a bug), counting down.
struct Logger {
    name: &'static str,
    poisoned: Arc<AtomicBool>,
    panics: Arc<AtomicUsize>,
}

impl Logger {
    fn new(name: &'static str) -> Logger {
        Logger {
            name,
            poisoned: Arc::new(AtomicBool::new(false)),
            panics: Arc::new(AtomicUsize::new(0)),
        }
    }
}

impl SqliteProjection for Logger {
    fn name(&self) -> &'static str {
        self.name
    }

    fn tables(&self) -> &'static [&'static str] {
        match self.name {
            "alpha" => &["alpha_applied"],
            "beta" => &["beta_applied"],
            _ => &["gamma_applied"],
        }
    }

    fn apply_sqlite<'a>(
        &'a self,
        conn: &'a mut SqliteConnection,
        prefix: &'a str,
        events: &'a [RecordedEvent],
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            for (i, e) in events.iter().enumerate() {
                if self.poisoned.load(Ordering::SeqCst) && e.event_type == "Poison" {
                    return Err(ProjectionError::at(e, "cannot apply a Poison event"));
                }
                if i == 1
                    && self
                        .panics
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok()
                {
                    panic!("a bug in projection {}", self.name);
                }
                sqlx::query(AssertSqlSafe(format!(
                    "INSERT INTO {prefix}{}_applied (event_id, position) VALUES (?1, ?2)",
                    self.name
                )))
                .bind(e.id.to_string())
                .bind(e.position.commit as i64)
                .execute(&mut *conn)
                .await?;
            }
            Ok(())
        })
    }
}

struct File {
    path: PathBuf,
    store: SqliteEventStore,
}

impl File {
    async fn new(names: &[&str]) -> File {
        let path = temp_store_path();
        let store = SqliteEventStore::open(&path, 8).await.unwrap();
        store.migrate().await.unwrap();
        for name in names {
            sqlx::query(AssertSqlSafe(format!(
                "CREATE TABLE reporting_{name}_applied (event_id TEXT PRIMARY KEY, position INTEGER NOT NULL)"
            )))
            .execute(store.pool())
            .await
            .unwrap();
        }
        File { path, store }
    }

    fn pool(&self) -> &SqlitePool {
        self.store.pool()
    }

    fn db(&self) -> Database {
        Database::Sqlite(self.pool().clone())
    }

    async fn append(&self, stream: &str, event_type: &str) -> Position {
        append_to(&self.store, stream, event_type).await
    }

    async fn applied(&self, name: &str) -> i64 {
        sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT count(*) FROM reporting_{name}_applied"
        )))
        .fetch_one(self.pool())
        .await
        .unwrap()
    }

    async fn leases(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM projection_leases")
            .fetch_one(self.pool())
            .await
            .unwrap()
    }

    async fn finish(self) {
        self.store.pool().close().await;
        remove_store_files(&self.path);
    }
}

async fn append_to(store: &impl EventStore, stream: &str, event_type: &str) -> Position {
    store
        .append(
            stream,
            ExpectedVersion::Any,
            vec![NewEvent::new(event_type, json!({"n": 1}))],
        )
        .await
        .unwrap()
        .positions()[0]
}

fn fast_options(holder: &str) -> SqliteRunnerOptions {
    SqliteRunnerOptions {
        batch_size: 100,
        lease: Duration::from_secs(5),
        poll_interval: Duration::from_millis(30),
        retry_delay: Duration::from_millis(50),
        holder: holder.to_owned(),
    }
}

#[tokio::test]
async fn the_supervisor_restarts_a_panicked_runner_and_keeps_a_poisoned_projection_halted() {
    let file = File::new(&["alpha", "beta", "gamma"]).await;
    for i in 0..5 {
        file.append(&format!("thing-{i}"), "Counted").await;
    }
    let poison = file.append("thing-9", "Poison").await;
    let mut head = Position::START;
    for i in 0..4 {
        head = file.append(&format!("thing-{i}"), "Counted").await;
    }

    let alpha = Logger::new("alpha");
    alpha.poisoned.store(true, Ordering::SeqCst);
    let fix_alpha = alpha.poisoned.clone();
    let beta = Logger::new("beta");
    beta.panics.store(2, Ordering::SeqCst);
    let beta_panics = beta.panics.clone();
    let gamma = Logger::new("gamma");
    let projectors = SqliteProjectors::start(
        &file.store,
        vec![Arc::new(alpha), Arc::new(beta), Arc::new(gamma)],
        fast_options("supervised"),
    )
    .unwrap();

    // beta panicked twice mid-batch (each batch rolled back whole) and was restarted each time;
    // gamma went on; both hold every event exactly once.
    let waiter = Waiter::start_for(file.db());
    let outcome = waiter
        .wait_for(Which::Named(&["beta", "gamma"]), head, LONG)
        .await
        .unwrap();
    assert_eq!(outcome, WaitOutcome::Reached);
    assert_eq!(beta_panics.load(Ordering::SeqCst), 0);
    assert_eq!(file.applied("beta").await, 10);
    assert_eq!(file.applied("gamma").await, 10);

    // alpha is halted on the poison, visibly, with the five events before it applied. Waited for
    // by name first: alpha's first status row is the one its halt commits, and `Which::All` only
    // counts projections that have a row, so a wait for All that ran before the halt committed
    // (beta and gamma through, alpha's runner slower under load) would rightly answer Reached.
    // A named projection without a row is behind, so this wait lasts until the halt commits.
    let outcome = waiter
        .wait_for(Which::Named(&["alpha"]), head, LONG)
        .await
        .unwrap();
    assert_eq!(
        outcome,
        WaitOutcome::Halted {
            projection: "alpha".into()
        }
    );
    // With alpha's row there, a wait for every projection reports the halt too.
    let outcome = waiter.wait_for(Which::All, head, LONG).await.unwrap();
    assert_eq!(
        outcome,
        WaitOutcome::Halted {
            projection: "alpha".into()
        }
    );
    let halted = status(file.pool(), "alpha").await.unwrap().unwrap();
    assert!(halted.is_halted());
    assert_eq!(halted.error_position, Some(poison));
    assert_eq!(file.applied("alpha").await, 5);
    // It stays halted while its runner keeps polling (no retry of the poison until resumed).
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        status(file.pool(), "alpha")
            .await
            .unwrap()
            .unwrap()
            .is_halted()
    );
    assert_eq!(file.applied("alpha").await, 5);

    // The cause fixed and the projection resumed, its runner (still running) catches up.
    fix_alpha.store(false, Ordering::SeqCst);
    assert!(resume_in(&file.db(), "alpha").await.unwrap());
    let outcome = waiter.wait_for(Which::All, head, LONG).await.unwrap();
    assert_eq!(outcome, WaitOutcome::Reached);
    assert_eq!(file.applied("alpha").await, 10);
    assert_eq!(lag_in(&file.db(), "alpha").await.unwrap().events, 0);

    // Shutdown returns, and every runner released its lease on the way out.
    assert_eq!(file.leases().await, 3);
    tokio::time::timeout(LONG, projectors.shutdown())
        .await
        .expect("shutdown returns");
    assert_eq!(file.leases().await, 0);
    file.finish().await;
}

#[tokio::test]
async fn a_runner_failing_on_the_database_is_retried_until_it_can_go_on() {
    let file = File::new(&["gamma"]).await;
    let first = file.append("thing-1", "Counted").await;
    // Without its lease table the runner fails at every step (the error is logged, not fatal).
    sqlx::query("ALTER TABLE projection_leases RENAME TO projection_leases_away")
        .execute(file.pool())
        .await
        .unwrap();
    let projectors = SqliteProjectors::start(
        &file.store,
        vec![Arc::new(Logger::new("gamma"))],
        fast_options("retrying"),
    )
    .unwrap();
    let waiter = Waiter::start_for(file.db());
    let outcome = waiter
        .wait_for(Which::Named(&["gamma"]), first, Duration::from_millis(400))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        WaitOutcome::TimedOut {
            behind: vec!["gamma".into()]
        }
    );
    assert_eq!(file.applied("gamma").await, 0);

    sqlx::query("ALTER TABLE projection_leases_away RENAME TO projection_leases")
        .execute(file.pool())
        .await
        .unwrap();
    let head = file.append("thing-2", "Counted").await;
    let outcome = waiter
        .wait_for(Which::Named(&["gamma"]), head, LONG)
        .await
        .unwrap();
    assert_eq!(outcome, WaitOutcome::Reached);
    assert_eq!(file.applied("gamma").await, 2);
    tokio::time::timeout(LONG, projectors.shutdown())
        .await
        .expect("shutdown returns");
    file.finish().await;
}

#[tokio::test]
async fn the_sqlite_waiter_wakes_on_a_committed_batch_and_reports_halts_and_timeouts() {
    let file = File::new(&["alpha", "gamma"]).await;
    let runner = SqliteRunner::new(
        file.store.clone(),
        Arc::new(Logger::new("gamma")),
        fast_options("stepper"),
    );
    let waiter = Waiter::start_for(file.db());
    // Nothing ran yet: a wait for a named projection times out, naming it.
    let first = file.append("thing-1", "Counted").await;
    assert_eq!(
        waiter
            .wait_for(Which::Named(&["gamma"]), first, Duration::from_millis(150))
            .await
            .unwrap(),
        WaitOutcome::TimedOut {
            behind: vec!["gamma".into()]
        }
    );

    // A wait in flight returns Reached once a step commits the batch, and the commit bumps the
    // in-process signal the waiter wakes on.
    let mut signal = progress_signal();
    signal.borrow_and_update();
    let pending = {
        let waiter = waiter.clone();
        tokio::spawn(async move {
            waiter
                .wait_for(Which::Named(&["gamma"]), first, LONG)
                .await
                .unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!pending.is_finished(), "nothing was projected yet");
    assert_eq!(runner.step().await.unwrap(), Step::Applied(1));
    assert!(signal.has_changed().unwrap(), "the commit signalled");
    assert_eq!(pending.await.unwrap(), WaitOutcome::Reached);
    // Already passed: at once, with a zero timeout too.
    assert_eq!(
        waiter
            .wait_for(Which::Named(&["gamma"]), first, Duration::ZERO)
            .await
            .unwrap(),
        WaitOutcome::Reached
    );
    // A position not yet appended: timed out.
    let ahead = Position {
        commit: first.commit + 1,
        prepare: first.prepare + 1,
    };
    assert_eq!(
        waiter
            .wait_for(Which::Named(&["gamma"]), ahead, Duration::from_millis(150))
            .await
            .unwrap(),
        WaitOutcome::TimedOut {
            behind: vec!["gamma".into()]
        }
    );

    // A poisoned projection: the waiter in flight returns Halted when the halt commits.
    let poisoned = Logger::new("alpha");
    poisoned.poisoned.store(true, Ordering::SeqCst);
    let halting = SqliteRunner::new(
        file.store.clone(),
        Arc::new(poisoned),
        fast_options("poisoned"),
    );
    let poison = file.append("thing-2", "Poison").await;
    let pending = {
        let waiter = waiter.clone();
        tokio::spawn(async move {
            waiter
                .wait_for(Which::Named(&["gamma", "alpha"]), poison, LONG)
                .await
                .unwrap()
        })
    };
    assert_eq!(halting.step().await.unwrap(), Step::Halted);
    assert_eq!(
        pending.await.unwrap(),
        WaitOutcome::Halted {
            projection: "alpha".into()
        }
    );
    // The module-level wait on SQLite is the same wait.
    assert_eq!(
        projections::sqlite::wait_for(file.pool(), &["alpha"], poison, Duration::ZERO)
            .await
            .unwrap(),
        WaitOutcome::Halted {
            projection: "alpha".into()
        }
    );
    file.finish().await;
}

#[test]
fn both_backends_run_the_same_projections_in_the_same_order() {
    let clock = system_clock();
    let postgres: Vec<&str> = projections::all(clock.clone())
        .iter()
        .map(|p| p.name())
        .collect();
    let sqlite: Vec<&str> = projections::sqlite::all(clock)
        .iter()
        .map(|p| p.name())
        .collect();
    assert_eq!(postgres, sqlite);
    assert_eq!(projection_names(), postgres);
    assert_eq!(projection_names(), ["ledger", "timeline"]);
}

#[tokio::test]
async fn two_projections_of_one_name_are_refused() {
    let file = File::new(&["gamma"]).await;
    let twice: Vec<Arc<dyn SqliteProjection>> = vec![
        Arc::new(Logger::new("gamma")),
        Arc::new(Logger::new("gamma")),
    ];
    let refused = SqliteProjectors::start(&file.store, twice, fast_options("twice"));
    assert!(refused.is_err());
    file.finish().await;
}

/// The real projections on `store` through the backend-neutral API: start, wait, status, lag, a
/// poison event halting the ledger, resume, shutdown.
async fn the_same_on(store: AnyEventStore) {
    let db = store.database();
    let options = RunnerOptions {
        poll_interval: Duration::from_millis(50),
        standby_retry: Duration::from_millis(50),
        retry_delay: Duration::from_millis(50),
        ..RunnerOptions::default()
    };
    let backend = store.backend();
    // Events of a category no read model uses: the projections pass over them.
    let mut head = Position::START;
    for i in 0..12 {
        head = append_to(&store, &format!("clitest-{}", i % 3), "Noted").await;
    }
    let projectors = AnyProjectors::start(&store, system_clock(), options).unwrap();
    let waiter = Waiter::start_for(db.clone());
    let names = projection_names();
    assert_eq!(
        waiter
            .wait_for(Which::Named(&names), head, LONG)
            .await
            .unwrap(),
        WaitOutcome::Reached,
        "{backend}"
    );
    let rows = statuses_in(&db).await.unwrap();
    let listed: Vec<&str> = rows.iter().map(|s| s.projection.as_str()).collect();
    assert_eq!(listed, names, "{backend}");
    for s in &rows {
        assert_eq!(
            (s.state.as_str(), s.position),
            ("running", head),
            "{backend}"
        );
        assert!(s.events_applied >= 12, "{backend}: {s:?}");
    }
    assert_eq!(lag_in(&db, "ledger").await.unwrap().events, 0, "{backend}");
    assert!(!resume_in(&db, "ledger").await.unwrap(), "{backend}");

    // A project event the ledger cannot read halts it; the waiter says so.
    let poison = append_to(
        &store,
        &format!("project-{}", Uuid::new_v4()),
        "NoSuchProjectEvent",
    )
    .await;
    assert_eq!(
        waiter
            .wait_for(Which::Named(&["ledger"]), poison, LONG)
            .await
            .unwrap(),
        WaitOutcome::Halted {
            projection: "ledger".into()
        },
        "{backend}"
    );
    let ledger = statuses_in(&db)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.projection == "ledger")
        .unwrap();
    assert!(ledger.is_halted(), "{backend}");
    assert_eq!(ledger.error_position, Some(poison), "{backend}");
    assert_eq!(lag_in(&db, "ledger").await.unwrap().events, 1, "{backend}");
    assert!(resume_in(&db, "ledger").await.unwrap(), "{backend}");
    tokio::time::timeout(LONG, projectors.shutdown())
        .await
        .expect("shutdown returns");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backend_neutral_api_behaves_the_same_on_postgresql() {
    let test_db = TestDatabase::migrated().await;
    let pool = test_db.pool(8).await;
    the_same_on(AnyEventStore::Postgres(PgEventStore::new(pool.clone()))).await;
    pool.close().await;
    test_db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backend_neutral_api_behaves_the_same_on_sqlite() {
    let path = temp_store_path();
    let store = AnyEventStore::open_sqlite(&path, 8).await.unwrap();
    store.migrate().await.unwrap();
    the_same_on(store.clone()).await;
    store.database().close().await;
    remove_store_files(&path);
}
