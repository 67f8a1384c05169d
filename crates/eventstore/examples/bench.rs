//! Event store benchmark (docs/benchmarks.md). Creates one fresh database on the server (or, with
//! `--backend sqlite`, one store file), measures, prints a table, and drops the database (file).
//!
//! cargo run --release -p eventstore --example bench -- [--database-url URL] [--seconds N]
//!     [--fill N] [--keep] [--backend postgres|sqlite] [--sqlite-path FILE]
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use eventstore::postgres::migrate;
use eventstore::{
    EventStore, ExpectedVersion, Filter, NewEvent, NotifyMode, PgEventStore, PgStoreOptions,
    Position,
};
use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, Executor, PgConnection, PgPool};
use uuid::Uuid;

struct Args {
    database_url: String,
    seconds: u64,
    fill: u64,
    reps: u32,
    keep: bool,
    sqlite: bool,
    sqlite_path: Option<std::path::PathBuf>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn args() -> Args {
    let mut a = Args {
        database_url: std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned()),
        seconds: 5,
        fill: 1_000_000,
        reps: 3,
        keep: false,
        sqlite: false,
        sqlite_path: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--database-url" => a.database_url = it.next().expect("--database-url URL"),
            "--seconds" => a.seconds = it.next().and_then(|s| s.parse().ok()).expect("--seconds N"),
            "--fill" => a.fill = it.next().and_then(|s| s.parse().ok()).expect("--fill N"),
            "--reps" => a.reps = it.next().and_then(|s| s.parse().ok()).expect("--reps N"),
            "--keep" => a.keep = true,
            "--backend" => match it.next().as_deref() {
                Some("postgres") => a.sqlite = false,
                Some("sqlite") => a.sqlite = true,
                other => panic!("--backend postgres|sqlite, not {other:?}"),
            },
            "--sqlite-path" => a.sqlite_path = Some(it.next().expect("--sqlite-path FILE").into()),
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

/// A realistic event body: an investment report of a project, about 250 bytes of JSON.
fn body(n: u64) -> (Value, Value) {
    (
        json!({
            "period": "2026-10",
            "completed_investment_yuan": 12_500_000 + n,
            "funds_in_place_yuan": 8_000_000,
            "reported_by_unit": "unit-0190a0b2-7c1e-7000-8000-000000000001",
            "note": "月度投资统计"
        }),
        json!({
            "actor": "clerk-42",
            "correlationId": Uuid::now_v7(),
            "causationId": Uuid::now_v7()
        }),
    )
}

fn new_event(n: u64) -> NewEvent {
    let (data, metadata) = body(n);
    NewEvent::new("InvestmentReported", data).with_metadata(metadata)
}

async fn pool(url: &str, size: u32) -> PgPool {
    let options: PgConnectOptions = url.parse().unwrap();
    PgPoolOptions::new()
        .max_connections(size)
        .min_connections(size)
        .connect_with(options.disable_statement_logging())
        .await
        .unwrap()
}

/// Runs `writers` tasks calling `op(writer, i)` for `seconds`; returns operations per second.
async fn run_for<F, Fut>(writers: u64, seconds: u64, op: F) -> f64
where
    F: Fn(u64, u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let op = Arc::new(op);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let (op, stop, done) = (op.clone(), stop.clone(), done.clone());
            tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    op(w, i).await;
                    i += 1;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

async fn appends(url: &str, writers: u64, seconds: u64, notify: NotifyMode, tag: &str) -> f64 {
    let store = PgEventStore::new(pool(url, writers as u32).await).with_options(PgStoreOptions {
        notify,
        ..PgStoreOptions::default()
    });
    append_loop(&store, writers, seconds, 1, &format!("bench{tag}")).await
}

/// `writers` tasks appending `size` events at a time to a new stream each (NoStream) for
/// `seconds`; events/s.
async fn append_loop<S: EventStore>(
    store: &S,
    writers: u64,
    seconds: u64,
    size: u64,
    tag: &str,
) -> f64 {
    let (store, tag) = (store.clone(), tag.to_owned());
    run_for(writers, seconds, move |w, i| {
        let store = store.clone();
        let stream = format!("{tag}-w{w}n{i}");
        async move {
            let events = (0..size).map(|k| new_event(i + k)).collect();
            store
                .append(&stream, ExpectedVersion::NoStream, events)
                .await
                .unwrap();
        }
    })
    .await
        * size as f64
}

async fn baseline(url: &str, writers: u64, seconds: u64, rep: u32) -> f64 {
    let pool = pool(url, writers as u32).await;
    run_for(writers, seconds, move |w, i| {
        let pool = pool.clone();
        async move {
            let (data, metadata) = body(i);
            let stream = format!("raw{writers}r{rep}-w{w}n{i}");
            sqlx::query(
                "INSERT INTO bench_raw (event_id, stream, version, category, event_type, \
                 schema_version, data, metadata, recorded_at, hash) \
                 VALUES ($1, $2, 0, 'raw', 'InvestmentReported', 1, $3, $4, now(), $5)",
            )
            .bind(Uuid::now_v7())
            .bind(stream)
            .bind(data)
            .bind(metadata)
            .bind(&[7u8; 32][..])
            .execute(&pool)
            .await
            .unwrap();
        }
    })
    .await
}

async fn batches(url: &str, writers: u64, seconds: u64, size: u64, tag: &str) -> f64 {
    let store = PgEventStore::new(pool(url, writers as u32).await);
    append_loop(&store, writers, seconds, size, &format!("batch{tag}")).await
}

async fn count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM eventstore.events")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Reads all of $all in batches of 1000 and of 5000, decoding every event, then verifies.
async fn read_and_verify<S: EventStore>(store: &S) {
    for batch in [1000usize, 5000] {
        let start = Instant::now();
        let mut from = Position::START;
        let mut read = 0u64;
        loop {
            let events = store.read_all(from, &Filter::all(), batch).await.unwrap();
            let Some(last) = events.last() else { break };
            from = last.position;
            read += events.len() as u64;
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "$all read of {read} events, batches of {batch}: {:.0} events/s ({secs:.1} s)",
            read as f64 / secs
        );
    }
    let start = Instant::now();
    let report = store.verify().await.unwrap();
    println!(
        "verify of {} events: {:.1} s, ok = {}",
        report.events,
        start.elapsed().as_secs_f64(),
        report.is_ok()
    );
}

#[tokio::main]
async fn main() {
    let a = args();
    if a.sqlite {
        sqlite_bench::run(&a).await;
        return;
    }
    let name = format!("tz_bench_{}", Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&a.database_url).await.unwrap_or_else(|e| {
        panic!(
            "cannot connect to {}: {e}\nstart PostgreSQL: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
            a.database_url
        )
    });
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .unwrap();
    let url = eventstore::postgres::testing::url_with_database(&a.database_url, &name);
    let setup = pool(&url, 2).await;
    migrate(&setup).await.unwrap();
    // The baseline: the same columns, defaults, keys and indexes, no function, no checks.
    setup
        .execute(
            "CREATE TABLE bench_raw (LIKE eventstore.events INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)",
        )
        .await
        .unwrap();
    let version: String = sqlx::query_scalar("SELECT version()")
        .fetch_one(&setup)
        .await
        .unwrap();
    println!("server: {version}");
    println!(
        "database: {name}; {} s per measurement, median of {} alternating runs",
        a.seconds, a.reps
    );
    println!();
    println!("single-event appends to distinct streams (new stream each, NoStream), events/s");
    println!("(append = default, notifications coalesced outside the append's transaction;");
    println!(" in-tx = pg_notify inside each append's transaction; off = no notification at all;");
    println!(" raw = plain INSERT into a table of the same shape, no function, no checks)");
    println!(
        "{:>8} {:>9} {:>9} {:>9} {:>9} {:>11} {:>10} {:>8}",
        "writers", "append", "in-tx", "off", "raw", "append/raw", "in-tx/raw", "off/raw"
    );
    let coalesced = PgStoreOptions::default().notify;
    // Alternate the variants and keep each one's median over `--reps` runs: the machine is shared,
    // and alternating spreads any background load over all of them alike.
    for writers in [1u64, 8, 32] {
        let (mut raw, mut ours, mut in_tx, mut off) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for rep in 0..a.reps {
            let tag = |mode: &str| format!("{mode}{writers}r{rep}");
            raw.push(baseline(&url, writers, a.seconds, rep).await);
            ours.push(appends(&url, writers, a.seconds, coalesced, &tag("c")).await);
            in_tx.push(
                appends(
                    &url,
                    writers,
                    a.seconds,
                    NotifyMode::InTransaction,
                    &tag("t"),
                )
                .await,
            );
            off.push(appends(&url, writers, a.seconds, NotifyMode::Off, &tag("o")).await);
        }
        let (raw, ours, in_tx, off) = (median(raw), median(ours), median(in_tx), median(off));
        println!(
            "{writers:>8} {ours:>9.0} {in_tx:>9.0} {off:>9.0} {raw:>9.0} {:>10.0}% {:>9.0}% {:>7.0}%",
            ours / raw * 100.0,
            in_tx / raw * 100.0,
            off / raw * 100.0
        );
    }
    println!();
    println!("100-event batch appends, events/s");
    for writers in [1u64, 8] {
        let rate = batches(&url, writers, a.seconds, 100, &format!("b{writers}")).await;
        println!("{writers:>8} writers {rate:>12.0}");
    }

    // Fill to the requested size with 1000-event batch appends through the store.
    let start = Instant::now();
    let have = count(&setup).await as u64;
    if have < a.fill {
        let store = PgEventStore::new(pool(&url, 8).await);
        let per_writer = (a.fill - have).div_ceil(8 * 1000);
        let tasks: Vec<_> = (0..8u64)
            .map(|w| {
                let store = store.clone();
                tokio::spawn(async move {
                    for i in 0..per_writer {
                        let events = (0..1000).map(new_event).collect();
                        store
                            .append(&format!("fill-w{w}n{i}"), ExpectedVersion::NoStream, events)
                            .await
                            .unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    }
    let total = count(&setup).await;
    println!();
    println!(
        "filled to {total} events in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    setup
        .execute("VACUUM ANALYZE eventstore.events")
        .await
        .unwrap();

    // $all stops before the oldest transaction running anywhere in the cluster; on a shared server
    // wait until every event is visible so the read measures reading, not someone else's transaction.
    loop {
        let visible: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM eventstore.events WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())",
        )
        .fetch_one(&setup)
        .await
        .unwrap();
        if visible == total {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let store = PgEventStore::new(pool(&url, 2).await);
    read_and_verify(&store).await;
    store.pool().close().await;
    setup.close().await;
    if a.keep {
        println!("kept database {name}");
    } else {
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE {name} WITH (FORCE)"
            )))
            .await
            .unwrap();
    }
}

/// The SQLite store against a raw SQLite INSERT of the same row, measured in the same run.
mod sqlite_bench {
    use std::sync::Arc;
    use std::time::Instant;

    use eventstore::sqlite::{SqliteEventStore, connect_options};
    use eventstore::{EventStore, ExpectedVersion};
    use sqlx::SqlitePool;
    use sqlx::sqlite::SqlitePoolOptions;
    use tokio::sync::Mutex;
    use uuid::Uuid;

    use super::{Args, append_loop, body, median, new_event, run_for};

    async fn pool(path: &std::path::Path, size: u32) -> SqlitePool {
        SqlitePoolOptions::new()
            .max_connections(size)
            .connect_with(connect_options(path))
            .await
            .unwrap()
    }

    /// A plain INSERT of the same row in its own transaction (so one WAL sync each, as an append);
    /// writers queue on a mutex as the store's do (left to SQLite's busy handler, which sleeps,
    /// they would be slower).
    async fn baseline(pool: &SqlitePool, writers: u64, seconds: u64, tag: &str) -> f64 {
        let (pool, tag) = (pool.clone(), tag.to_owned());
        let queue = Arc::new(Mutex::new(()));
        run_for(writers, seconds, move |w, i| {
            let (pool, queue) = (pool.clone(), queue.clone());
            let stream = format!("raw{tag}-w{w}n{i}");
            async move {
                let (data, metadata) = body(i);
                let _writer = queue.lock().await;
                sqlx::query(
                    "INSERT INTO bench_raw (event_id, stream, version, category, event_type, \
                     schema_version, data, metadata, recorded_at, hash) \
                     VALUES (?1, ?2, 0, 'raw', 'InvestmentReported', 1, ?3, ?4, ?5, ?6)",
                )
                .bind(Uuid::now_v7())
                .bind(stream)
                .bind(data.to_string())
                .bind(metadata.to_string())
                .bind(0i64)
                .bind(&[7u8; 32][..])
                .execute(&pool)
                .await
                .unwrap();
            }
        })
        .await
    }

    pub(super) async fn run(a: &Args) {
        let path = a.sqlite_path.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("tz_bench_{}.sqlite3", Uuid::new_v4().simple()))
        });
        let store = SqliteEventStore::open(&path, 8).await.unwrap();
        let setup = store.pool().clone();
        // The baseline table: the events table's own definition (columns, keys, AUTOINCREMENT,
        // checks) under another name, and the same indexes; no triggers.
        let events_sql: String = sqlx::query_scalar(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'events'",
        )
        .fetch_one(&setup)
        .await
        .unwrap();
        let raw_sql = events_sql.replacen("CREATE TABLE events", "CREATE TABLE bench_raw", 1);
        for sql in [
            raw_sql.as_str(),
            "CREATE INDEX bench_raw_category ON bench_raw (category, position)",
            "CREATE INDEX bench_raw_type ON bench_raw (event_type, position)",
        ] {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&setup)
                .await
                .unwrap();
        }
        let version: String = sqlx::query_scalar("SELECT sqlite_version()")
            .fetch_one(&setup)
            .await
            .unwrap();
        println!(
            "SQLite {version}, file {} (WAL, synchronous = FULL)",
            path.display()
        );
        println!(
            "{} s per measurement, median of {} alternating runs",
            a.seconds, a.reps
        );
        println!();
        println!("single-event appends to distinct streams (new stream each, NoStream), events/s");
        println!(
            "(raw = plain INSERT of the same row into a table of the same shape, one transaction each)"
        );
        println!(
            "{:>8} {:>9} {:>9} {:>11}",
            "writers", "append", "raw", "append/raw"
        );
        for writers in [1u64, 8, 32] {
            let raw_pool = pool(&path, writers.min(8) as u32).await;
            let (mut raw, mut ours) = (Vec::new(), Vec::new());
            for rep in 0..a.reps {
                let tag = format!("{writers}r{rep}");
                raw.push(baseline(&raw_pool, writers, a.seconds, &tag).await);
                ours.push(append_loop(&store, writers, a.seconds, 1, &format!("bench{tag}")).await);
            }
            raw_pool.close().await;
            let (raw, ours) = (median(raw), median(ours));
            println!(
                "{writers:>8} {ours:>9.0} {raw:>9.0} {:>10.0}%",
                ours / raw * 100.0
            );
        }
        println!();
        println!("100-event batch appends, events/s");
        for writers in [1u64, 8] {
            let rate =
                append_loop(&store, writers, a.seconds, 100, &format!("batch{writers}")).await;
            println!("{writers:>8} writers {rate:>12.0}");
        }

        let count = || async {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM events")
                .fetch_one(&setup)
                .await
                .unwrap() as u64
        };
        let start = Instant::now();
        let have = count().await;
        if have < a.fill {
            // One writer at a time anyway: 1000-event appends in sequence.
            for i in 0..(a.fill - have).div_ceil(1000) {
                let events = (0..1000).map(new_event).collect();
                store
                    .append(&format!("fill-n{i}"), ExpectedVersion::NoStream, events)
                    .await
                    .unwrap();
            }
        }
        let total = count().await;
        println!();
        println!(
            "filled to {total} events in {:.1} s",
            start.elapsed().as_secs_f64()
        );
        sqlx::query("ANALYZE").execute(&setup).await.unwrap();
        super::read_and_verify(&store).await;
        store.pool().close().await;
        if a.keep {
            println!("kept {}", path.display());
        } else {
            eventstore::sqlite::testing::remove_store_files(&path);
        }
    }
}
