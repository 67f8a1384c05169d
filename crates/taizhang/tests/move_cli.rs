//! Moving between stores (issue 7) through the binary: the demo county seeded into a SQLite data
//! directory, exported, imported into an empty PostgreSQL database; there `verify` passes, every
//! event is the same (ids, types, data, metadata, times, hashes, streams, versions) and the
//! reporting tables projected from each store are the same row by row. And back: PostgreSQL's
//! export imports into an empty SQLite data directory and verifies clean.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../projections/tests/support/reporting_rows.rs"]
mod reporting_rows;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use eventstore::postgres::testing::TestDatabase;
use eventstore::{EventStore, Filter, PgEventStore, Position, RecordedEvent, SqliteEventStore};
use serde_json::Value;
use sqlx::PgPool;

/// The binary on the store `store` (a PostgreSQL URL, or None for the data directory `dir`).
fn taizhang(store: Store<'_>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_taizhang"));
    command
        .env_remove("DATABASE_URL")
        .env_remove("TAIZHANG_DATA_DIR")
        .env("RUST_LOG", "warn");
    match store {
        Store::Pg(db) => command.env("DATABASE_URL", &db.url),
        Store::Dir(dir) => command.arg("--data-dir").arg(dir),
    };
    command.args(args).output().expect("run taizhang")
}

#[derive(Clone, Copy)]
enum Store<'a> {
    Pg(&'a TestDatabase),
    Dir(&'a Path),
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn succeed(store: Store<'_>, args: &[&str]) -> String {
    let out = taizhang(store, args);
    assert!(out.status.success(), "taizhang {args:?}: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A directory of its own under the system's temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("tz-move-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every event of $all in order, as the store gives it back, without the store's own position.
async fn events<S: EventStore>(store: &S) -> Vec<Value> {
    let mut out = Vec::new();
    let mut from = Position::START;
    loop {
        let batch = store.read_all(from, &Filter::all(), 1000).await.unwrap();
        let Some(last) = batch.last() else { break };
        from = last.position;
        out.extend(batch.iter().map(comparable_event));
    }
    out
}

fn comparable_event(e: &RecordedEvent) -> Value {
    serde_json::json!([
        e.id,
        e.stream,
        e.version,
        e.event_type,
        e.schema_version,
        e.data,
        e.metadata,
        (e.recorded_at.unix_timestamp_nanos() / 1000).to_string(),
        hex_hash(&e.hash),
    ])
}

fn hex_hash(hash: &[u8; 32]) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// Waits until `count` events are visible in PostgreSQL's $all: it stops before the oldest
/// transaction running anywhere in the cluster, and other tests run in parallel.
async fn settle(store: &PgEventStore, count: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while store.all_head().await.unwrap().events != count {
        assert!(Instant::now() < deadline, "events never became visible");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A file's event lines without each event's `position` (the store's own).
fn event_lines(lines: &[Value]) -> Vec<Value> {
    lines[1..lines.len() - 1]
        .iter()
        .map(|l| {
            let mut l = l.clone();
            l.as_object_mut().unwrap().remove("position");
            l
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_county_moves_from_sqlite_to_postgresql_with_the_same_events_and_reporting_tables() {
    let tmp = TempDir::new();
    let lite_dir = tmp.path("county-data");
    let lite_file = lite_dir.join("taizhang.sqlite3");

    // The demo county in the embedded store.
    let seeded = succeed(Store::Dir(&lite_dir), &["demo"]);
    assert!(seeded.contains("5 units, 60 projects"), "{seeded}");
    succeed(Store::Dir(&lite_dir), &["seal"]);

    // Export: the header names SQLite as the source.
    let file = tmp.path("county.jsonl");
    let exported = taizhang(
        Store::Dir(&lite_dir),
        &["export", "--output", file.to_str().unwrap()],
    );
    assert!(exported.status.success(), "{}", text(&exported));
    let from_lite = lines(&file);
    assert_eq!(from_lite[0]["format"], "taizhang-export");
    assert_eq!(from_lite[0]["sourceBackend"], "sqlite");

    // Import into an empty PostgreSQL database; it verifies there.
    let pg_db = TestDatabase::migrated().await;
    let imported = succeed(Store::Pg(&pg_db), &["import", file.to_str().unwrap()]);
    let count = from_lite.len() - 2;
    assert!(
        imported.contains(&format!("imported {count} events")),
        "{imported}"
    );
    assert!(imported.contains("ok: every hash chain"), "{imported}");
    let verified = succeed(Store::Pg(&pg_db), &["verify"]);
    assert!(
        verified.contains(&format!("checked {count} events")) && verified.contains("ok:"),
        "{verified}"
    );

    // The same events, field by field, read back through each store.
    let lite = SqliteEventStore::open(&lite_file, 2).await.unwrap();
    let pg_pool: PgPool = pg_db.pool(4).await;
    let pg = PgEventStore::new(pg_pool.clone());
    settle(&pg, count as u64).await;
    let (lite_events, pg_events) = (events(&lite).await, events(&pg).await);
    assert_eq!(lite_events.len(), count);
    assert_eq!(pg_events.len(), count);
    for (a, b) in lite_events.iter().zip(&pg_events) {
        assert_eq!(a, b, "an event differs (SQLite left, PostgreSQL right)");
    }

    // The reporting tables each store projects, both through the binary.
    succeed(Store::Pg(&pg_db), &["projections", "rebuild"]);
    succeed(Store::Dir(&lite_dir), &["projections", "rebuild"]);
    let (on_pg, on_lite) = reporting_rows::both_backends(&pg_pool, lite.pool()).await;
    assert!(on_pg.len() >= 10, "{:?}", on_pg.keys());
    assert_eq!(on_pg["projects"].len(), 60);
    assert!(on_pg["project_events"].len() > 1000);
    assert!(!on_pg["monthly_investment"].is_empty() && !on_pg["supervision_items"].is_empty());
    // The refreshed figures are there to compare, not empty on both sides.
    assert!(!on_pg["target_progress"].is_empty() && !on_pg["unit_ranking"].is_empty());
    let lit = on_pg["projects"]
        .iter()
        .filter(|row| row.contains(&Some("red".to_owned())))
        .count();
    assert!(lit > 0, "no red project: the lights were not refreshed");
    reporting_rows::assert_same_rows(&on_pg, &on_lite);

    // And back: PostgreSQL's export imports into an empty SQLite data directory, verifies clean,
    // and carries the same events as the first file.
    let back = tmp.path("back.jsonl");
    succeed(Store::Pg(&pg_db), &["export", "-o", back.to_str().unwrap()]);
    let from_pg = lines(&back);
    assert_eq!(from_pg[0]["sourceBackend"], "postgresql");
    assert_eq!(event_lines(&from_pg), event_lines(&from_lite));
    let again_dir = tmp.path("again");
    let reimported = succeed(Store::Dir(&again_dir), &["import", back.to_str().unwrap()]);
    assert!(
        reimported.contains(&format!("imported {count} events"))
            && reimported.contains("ok: every hash chain"),
        "{reimported}"
    );

    lite.pool().close().await;
    pg_pool.close().await;
    pg_db.drop_database().await;
}
