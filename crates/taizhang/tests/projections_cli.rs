//! `taizhang projections …` end to end, on PostgreSQL and on a SQLite file: two `run` processes on
//! one database (one leads, the other takes over when the leader is killed), `status`, `rebuild`,
//! `resume`.
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

async fn append(store: &impl EventStore, n: usize) -> Position {
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

/// The same commands on a SQLite store (DATABASE_URL=sqlite://<file>): two `run` processes (the
/// lease lets one lead; the other takes over once the killed leader's lease expires), `status`,
/// `rebuild`, `resume` of a projection halted by a poison event, SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_commands_on_a_sqlite_store() {
    let path = eventstore::sqlite::testing::temp_store_path();
    let url = format!("sqlite://{}", path.display());
    let store = eventstore::SqliteEventStore::open(&path, 4).await.unwrap();
    store.migrate().await.unwrap();
    let pool = store.pool().clone();
    let cli = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_taizhang"))
            .args(args)
            .env("DATABASE_URL", &url)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run taizhang")
    };
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_taizhang"))
            .args(["projections", "run"])
            .env("DATABASE_URL", &url)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn taizhang projections run")
    };
    let wait = |position: Position| {
        let pool = pool.clone();
        async move {
            projections::sqlite::wait_for(
                &pool,
                &["ledger", "timeline"],
                position,
                Duration::from_secs(60),
            )
            .await
            .unwrap()
        }
    };
    let leader = |projection: &'static str| {
        let pool = pool.clone();
        async move {
            let holder: String = sqlx::query_scalar(
                "SELECT holder FROM reporting_projection_status WHERE projection = ?1",
            )
            .bind(projection)
            .fetch_one(&pool)
            .await
            .unwrap();
            // host:pid/<uuid of the process's runners>
            let pid = holder.split(':').nth(1).unwrap().split('/').next().unwrap();
            pid.parse::<u32>().unwrap()
        }
    };

    let first_batch = append(&store, 50).await;
    let a = spawn();
    let b = spawn();
    assert_eq!(wait(first_batch).await, WaitOutcome::Reached);
    let first = leader("ledger").await;
    assert!(
        first == a.id() || first == b.id(),
        "leader {first} is one of ours"
    );
    let (mut dead, mut alive) = if first == a.id() { (a, b) } else { (b, a) };
    dead.kill().unwrap(); // SIGKILL: its lease stays until it expires
    dead.wait().unwrap();
    let second_batch = append(&store, 30).await;
    assert_eq!(wait(second_batch).await, WaitOutcome::Reached);
    assert_eq!(leader("ledger").await, alive.id());
    assert_eq!(leader("timeline").await, alive.id());

    let status = cli(&["projections", "status"]);
    assert!(status.status.success(), "{status:?}");
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(
        text.contains("ledger") && text.contains("timeline") && text.contains("running"),
        "{text}"
    );

    let rebuilt = cli(&["projections", "rebuild", "timeline"]);
    assert!(rebuilt.status.success(), "{rebuilt:?}");
    let text = String::from_utf8_lossy(&rebuilt.stdout);
    assert!(text.contains("timeline: rebuilt from 80 events"), "{text}");

    let resumed = cli(&["projections", "resume", "ledger"]);
    assert!(resumed.status.success(), "{resumed:?}");
    assert!(String::from_utf8_lossy(&resumed.stdout).contains("not halted"));
    let unknown = cli(&["projections", "resume", "nonesuch"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("known: ledger, timeline"));

    // A project event the ledger cannot read halts it: status says so (exit code 1), resume
    // clears it (and the runner meets the same event again).
    let poison = store
        .append(
            &format!("project-{}", uuid::Uuid::new_v4()),
            ExpectedVersion::Any,
            vec![NewEvent::new("NoSuchProjectEvent", json!({}))],
        )
        .await
        .unwrap()
        .events[0]
        .position;
    assert_eq!(
        projections::sqlite::wait_for(&pool, &["ledger"], poison, Duration::from_secs(60))
            .await
            .unwrap(),
        WaitOutcome::Halted {
            projection: "ledger".into()
        }
    );
    let status = cli(&["projections", "status"]);
    assert_eq!(status.status.code(), Some(1), "{status:?}");
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(
        text.contains("halted") && text.contains("NoSuchProjectEvent"),
        "{text}"
    );
    let resumed = cli(&["projections", "resume", "ledger"]);
    assert!(resumed.status.success(), "{resumed:?}");
    assert!(String::from_utf8_lossy(&resumed.stdout).contains("ledger: resumed"));

    // SIGTERM stops the runner cleanly, releasing its leases.
    let term = Command::new("kill")
        .args(["-TERM", &alive.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let exit = alive.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    let leases: i64 = sqlx::query_scalar("SELECT count(*) FROM projection_leases")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(leases, 0);
    pool.close().await;
    eventstore::sqlite::testing::remove_store_files(&path);
}
