//! `taizhang projections …` end to end: two `run` processes on one database (one leads, the
//! other takes over when the leader is killed), `status`, `rebuild`, `resume`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use eventstore::postgres::testing::TestDatabase;
use eventstore::{EventStore, ExpectedVersion, NewEvent, PgEventStore, Position};
use projections::{WaitOutcome, Which};
use serde_json::json;

fn taizhang(db: &TestDatabase, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_taizhang"))
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run taizhang")
}

fn spawn_run(db: &TestDatabase) -> Child {
    Command::new(env!("CARGO_BIN_EXE_taizhang"))
        .args(["projections", "run"])
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn taizhang projections run")
}

async fn append(store: &PgEventStore, n: usize) -> Position {
    let mut last = Position::START;
    for i in 0..n {
        // Events of a category no read model uses: the projections read and pass them.
        let result = store
            .append(
                &format!("clitest-{}", i % 5),
                ExpectedVersion::Any,
                vec![NewEvent::new("Noted", json!({ "i": i }))],
            )
            .await
            .unwrap();
        last = result.events[0].position;
    }
    last
}

async fn wait_all(db_pool: &sqlx::PgPool, position: Position) {
    let outcome = projections::wait_for(
        db_pool,
        Which::Named(&["ledger", "timeline"]),
        position,
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert_eq!(outcome, WaitOutcome::Reached);
}

/// The pid of the process leading `projection` (holder is `host:pid/backend`).
async fn leader_pid(pool: &sqlx::PgPool, projection: &str) -> u32 {
    let holder: String =
        sqlx::query_scalar("SELECT holder FROM reporting.projection_status WHERE projection = $1")
            .bind(projection)
            .fetch_one(pool)
            .await
            .unwrap();
    let pid = holder.split(':').nth(1).unwrap().split('/').next().unwrap();
    pid.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_one_leads_the_other_takes_over() {
    let db = TestDatabase::migrated().await;
    let pool = db.pool(4).await;
    let store = PgEventStore::new(pool.clone());
    let first_batch = append(&store, 50).await;

    let a = spawn_run(&db);
    let b = spawn_run(&db);
    wait_all(&pool, first_batch).await;
    let leader = leader_pid(&pool, "ledger").await;
    assert!(
        leader == a.id() || leader == b.id(),
        "leader {leader} is one of ours"
    );
    let (mut dead, mut alive) = if leader == a.id() { (a, b) } else { (b, a) };

    dead.kill().unwrap(); // SIGKILL: no goodbye, the server notices the closed connection
    dead.wait().unwrap();
    let second_batch = append(&store, 30).await;
    wait_all(&pool, second_batch).await;
    assert_eq!(leader_pid(&pool, "ledger").await, alive.id());
    assert_eq!(leader_pid(&pool, "timeline").await, alive.id());

    let status = taizhang(&db, &["projections", "status"]);
    assert!(status.status.success(), "{status:?}");
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(
        text.contains("ledger") && text.contains("timeline") && text.contains("running"),
        "{text}"
    );

    let rebuilt = taizhang(&db, &["projections", "rebuild", "timeline"]);
    assert!(rebuilt.status.success(), "{rebuilt:?}");
    let text = String::from_utf8_lossy(&rebuilt.stdout);
    assert!(text.contains("timeline: rebuilt from 80 events"), "{text}");

    let resumed = taizhang(&db, &["projections", "resume", "ledger"]);
    assert!(resumed.status.success());
    assert!(String::from_utf8_lossy(&resumed.stdout).contains("not halted"));
    let unknown = taizhang(&db, &["projections", "resume", "nonesuch"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("known: ledger, timeline"));

    // SIGTERM stops the runner cleanly.
    let term = Command::new("kill")
        .args(["-TERM", &alive.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let exit = alive.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    pool.close().await;
    db.drop_database().await;
}
