//! `taizhang export` and `taizhang import` through the binary: the demo county moved from one
//! PostgreSQL database to an empty one (events, stream heads and, after the projections ran,
//! every reporting table identical; verify passes), a round trip that gives the same file, and
//! each refusal (non-empty target, truncated file, edited data, broken chain, bad JSON, wrong
//! field, reordered events) with its message and nothing written.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use eventstore::postgres::testing::TestDatabase;
use eventstore::{EventStore, ExpectedVersion, NewEvent, PgEventStore};
use serde_json::{Value, json};
use sqlx::PgPool;

fn taizhang(db: &TestDatabase, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_taizhang"))
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run taizhang")
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn succeed(db: &TestDatabase, args: &[&str]) -> String {
    let out = taizhang(db, args);
    assert!(out.status.success(), "taizhang {args:?}: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A directory of its own under the system's temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("tz-export-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every event as stored (all columns but the store's own positions), in $all order.
async fn events(pool: &PgPool) -> Vec<Value> {
    sqlx::query_scalar(
        "SELECT jsonb_build_array(event_id, stream, version, category, event_type, schema_version, \
                data::text, metadata::text, recorded_at, encode(hash, 'hex')) \
         FROM eventstore.events ORDER BY tx_id, position",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn streams(pool: &PgPool) -> Vec<Value> {
    sqlx::query_scalar(
        "SELECT jsonb_build_array(name, version, encode(last_hash, 'hex'), created_at) \
         FROM eventstore.streams ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn event_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM eventstore.events")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Every reporting table's rows as JSON, sorted, by table name. Left out as volatile: the table
/// `projection_status` (the projector run's positions and timings) and the column `computed_at`
/// of today's figures (`target_progress`, `unit_ranking`: the wall-clock time of the refresh).
async fn reporting(pool: &PgPool) -> Vec<(String, Value)> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = 'reporting' AND table_type = 'BASE TABLE' \
           AND table_name <> 'projection_status' ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(tables.len() >= 10, "{tables:?}");
    let mut out = Vec::new();
    for table in tables {
        let rows: Value = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT coalesce(jsonb_agg(r ORDER BY r::text), '[]'::jsonb) \
             FROM (SELECT to_jsonb(t) - 'computed_at' AS r FROM reporting.{table} t) x"
        )))
        .fetch_one(pool)
        .await
        .unwrap();
        out.push((table, rows));
    }
    out
}

/// Waits until every stored event is visible in $all. $all stops before the oldest transaction
/// running anywhere in the cluster, and other tests run in parallel, so an export started right
/// after a write may end before it (by design: it exports what $all shows). Once all are visible,
/// they stay visible.
async fn settle(db: &TestDatabase) {
    let pool = PgPool::connect(&db.url).await.unwrap();
    let store = PgEventStore::new(pool.clone());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let stored = event_count(&pool).await as u64;
        if store.all_head().await.unwrap().events == stored {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "events never became visible"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    pool.close().await;
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A file's lines without what belongs to the export run or to the store's own $all: the
/// header's `exportedAt` and `headPosition`, each event's `position`.
fn comparable(lines: &[Value]) -> Vec<Value> {
    lines
        .iter()
        .map(|l| {
            let mut l = l.clone();
            let o = l.as_object_mut().unwrap();
            o.remove("exportedAt");
            o.remove("headPosition");
            o.remove("position");
            l
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_county_moves_to_an_empty_database_and_back_to_the_same_file() {
    let dir = TempDir::new();
    let a = TestDatabase::empty().await;
    let b = TestDatabase::migrated().await;
    let c = TestDatabase::migrated().await;
    succeed(&a, &["demo"]);
    succeed(&a, &["projections", "rebuild"]);

    let file = dir.file("county.jsonl");
    settle(&a).await;
    let exported = taizhang(&a, &["export", "--output", file.to_str().unwrap()]);
    assert!(exported.status.success(), "{}", text(&exported));
    assert!(!dir.file("county.jsonl.part").exists());
    let stderr = String::from_utf8_lossy(&exported.stderr);
    assert!(
        stderr.contains("exported") && stderr.contains("digest"),
        "{stderr}"
    );

    // The file: header, events in $all order with EventStoreDB's names, trailer.
    let a_lines = lines(&file);
    let pool_a = PgPool::connect(&a.url).await.unwrap();
    let a_events = events(&pool_a).await;
    assert_eq!(a_lines.len(), a_events.len() + 2);
    let header = &a_lines[0];
    assert_eq!(header["format"], "taizhang-export");
    assert_eq!(header["formatVersion"], 2);
    assert_eq!(header["verified"], true);
    assert_eq!(header["sourceBackend"], "postgresql");
    assert_eq!(header["eventCount"], a_events.len());
    let first = &a_lines[1];
    for key in [
        "eventId",
        "eventType",
        "data",
        "metadata",
        "stream",
        "version",
        "position",
        "schemaVersion",
        "recordedAt",
        "hash",
        "prevHash",
    ] {
        assert!(first.get(key).is_some(), "{key} missing in {first}");
    }
    let with_command = a_lines
        .iter()
        .find(|l| l["metadata"].get("actor").is_some())
        .expect("an event written by a command");
    let metadata = with_command["metadata"].as_object().unwrap();
    assert!(metadata.contains_key("$correlationId") && metadata.contains_key("$causationId"));
    assert!(!metadata.contains_key("correlationId") && !metadata.contains_key("causationId"));
    assert!(first["recordedAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(a_lines.last().unwrap()["end"], "taizhang-export");

    // Import into B: everything as in A, verify clean.
    let imported = succeed(&b, &["import", file.to_str().unwrap()]);
    assert!(
        imported.contains(&format!("imported {} events", a_events.len())),
        "{imported}"
    );
    assert!(imported.contains("ok: every hash chain"), "{imported}");
    assert!(succeed(&b, &["verify"]).contains("ok"));
    let pool_b = PgPool::connect(&b.url).await.unwrap();
    assert_eq!(events(&pool_b).await, a_events);
    assert_eq!(streams(&pool_b).await, streams(&pool_a).await);

    // The read models rebuilt from B's events are A's.
    succeed(&b, &["projections", "rebuild"]);
    let (report_a, report_b) = (reporting(&pool_a).await, reporting(&pool_b).await);
    assert_eq!(report_a.len(), report_b.len());
    for ((table, rows_a), (_, rows_b)) in report_a.iter().zip(&report_b) {
        assert!(rows_a == rows_b, "reporting.{table} differs after the move");
    }
    assert!(
        report_a
            .iter()
            .any(|(t, rows)| t == "projects" && rows.as_array().unwrap().len() == 60)
    );

    // B again: refused, nothing written.
    let again = taizhang(&b, &["import", file.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        err.contains("not empty") || err.contains("already holds"),
        "{err}"
    );
    assert!(err.contains("目标库非空"), "{err}");
    assert_eq!(event_count(&pool_b).await as usize, a_events.len());

    // Round trip: B's export is A's file but for the export run and the positions; importing
    // it once more (into C) and exporting again gives the same file again.
    let file_b = dir.file("from-b.jsonl");
    settle(&b).await;
    succeed(&b, &["export", "-o", file_b.to_str().unwrap()]);
    let b_lines = lines(&file_b);
    assert_eq!(comparable(&b_lines), comparable(&a_lines));
    succeed(&c, &["import", file_b.to_str().unwrap()]);
    settle(&c).await;
    let from_c = taizhang(&c, &["export"]);
    assert!(from_c.status.success(), "{}", text(&from_c));
    let c_lines: Vec<Value> = String::from_utf8_lossy(&from_c.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(comparable(&c_lines), comparable(&a_lines));

    pool_a.close().await;
    pool_b.close().await;
    for db in [a, b, c] {
        db.drop_database().await;
    }
}

/// A small store whose events carry command-style metadata, exported through the binary.
async fn small_export(dir: &TempDir) -> (TestDatabase, PathBuf) {
    let source = TestDatabase::migrated().await;
    let store = PgEventStore::new(source.pool(2).await);
    for n in 0..12u64 {
        let event = NewEvent::new("Noted", json!({ "n": n, "text": "台账 \"quoted\"\n" }))
            .with_metadata(json!({
                "actor": "tester",
                "correlationId": uuid::Uuid::from_u128(n.into()),
                "causationId": uuid::Uuid::from_u128(u128::from(n) + 100),
            }));
        store
            .append(
                &format!("note-{}", n % 3),
                ExpectedVersion::Any,
                vec![event],
            )
            .await
            .unwrap();
    }
    store.pool().close().await;
    settle(&source).await;
    let file = dir.file("small.jsonl");
    succeed(&source, &["export", "--output", file.to_str().unwrap()]);
    assert_eq!(lines(&file).len(), 14);
    (source, file)
}

fn write_lines(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_files_and_non_empty_stores_are_refused_and_nothing_is_written() {
    let dir = TempDir::new();
    let (source, file) = small_export(&dir).await;
    let original: Vec<String> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let event_at = |i: usize| -> Value { serde_json::from_str(&original[i]).unwrap() };
    let target = TestDatabase::migrated().await;
    let pool = PgPool::connect(&target.url).await.unwrap();

    let mut cases: Vec<(&str, Vec<String>, Vec<&str>)> = Vec::new();

    // Truncated: the trailer and the last events are gone.
    cases.push((
        "truncated",
        original[..10].to_vec(),
        vec!["truncated", "截断"],
    ));
    // Truncated in the middle of a line.
    let mut cut = original[..10].to_vec();
    let half = cut[9].len() / 2;
    cut[9].truncate(half);
    cases.push((
        "cut line",
        cut,
        vec!["line 10 is not valid JSON", "第 10 行"],
    ));

    // An event's data edited (hash left as it was): line 6 is note-1 version 1.
    let mut edited = original.clone();
    let mut e = event_at(5);
    assert_eq!(
        (e["stream"].as_str(), e["version"].as_u64()),
        (Some("note-1"), Some(1))
    );
    e["data"]["n"] = json!(1_000);
    edited[5] = e.to_string();
    cases.push((
        "edited data",
        edited,
        vec!["line 6", "stream note-1 version 1", "hash", "哈希链断裂"],
    ));

    // Broken chain: note-2 version 1 (line 7) removed, so version 2 (line 10) follows version 0.
    let mut gap = original.clone();
    assert_eq!(event_at(6)["stream"], "note-2");
    gap.remove(6);
    cases.push((
        "missing event",
        gap,
        vec!["stream note-2 version 2", "prevHash", "哈希链断裂"],
    ));

    // Bad JSON.
    let mut bad = original.clone();
    bad[3] = "{\"eventId\": ".to_owned();
    cases.push(("bad json", bad, vec!["line 4 is not valid JSON", "第 4 行"]));

    // A field renamed.
    let mut renamed = original.clone();
    renamed[2] = renamed[2].replace("\"eventType\"", "\"type\"");
    cases.push((
        "wrong field",
        renamed,
        vec!["line 3", "unknown field `type`"],
    ));

    // Two events of different streams swapped: every chain holds, the digest does not.
    let mut swapped = original.clone();
    swapped.swap(1, 2);
    cases.push((
        "reordered",
        swapped,
        vec!["digest", "trailer", "文件被修改过"],
    ));

    // The header's count edited: the events and the trailer agree with each other, not with it.
    let mut counted = original.clone();
    let mut header = event_at(0);
    header["eventCount"] = json!(13);
    counted[0] = header.to_string();
    cases.push((
        "header count",
        counted,
        vec!["line 14", "12 events but the header says 13", "文件头"],
    ));

    // Not an export at all.
    cases.push((
        "no header",
        original[1..].to_vec(),
        vec!["line 1", "header"],
    ));

    for (name, content, expected) in cases {
        let path = dir.file(&format!("{}.jsonl", name.replace(' ', "-")));
        write_lines(&path, &content);
        let out = taizhang(&target, &["import", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        for needle in expected {
            assert!(err.contains(needle), "{name}: {needle:?} not in {err}");
        }
        assert!(err.contains("nothing was written"), "{name}: {err}");
        assert_eq!(event_count(&pool).await, 0, "{name} wrote events");
    }

    // The intact file imports; the source itself (not empty) refuses it.
    assert!(succeed(&target, &["import", file.to_str().unwrap()]).contains("imported 12 events"));
    let out = taizhang(&source, &["import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("目标库非空"));
    let source_pool = PgPool::connect(&source.url).await.unwrap();
    assert_eq!(event_count(&source_pool).await, 12);

    source_pool.close().await;
    pool.close().await;
    source.drop_database().await;
    target.drop_database().await;
}

/// An event whose stored JSON would not come back the same through the file (jsonb keeps `1.50`,
/// JSON numbers read back as `1.5`) stops the export with its stream and version, and no file is
/// left behind: the export never writes a file that would not import.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_that_would_not_survive_the_file_stops_the_export() {
    let dir = TempDir::new();
    let source = TestDatabase::migrated().await;
    let pool = PgPool::connect(&source.url).await.unwrap();
    sqlx::query(
        "SELECT * FROM eventstore.append('odd-1', -1, ARRAY[gen_random_uuid()], ARRAY['Odd'], \
         ARRAY[1], ARRAY['{\"amount\": 1.50}'::jsonb], ARRAY['{}'::jsonb])",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let file = dir.file("odd.jsonl");
    let out = taizhang(&source, &["export", "--output", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("stream odd-1, version 0") && err.contains("该事件无法无损导出"),
        "{err}"
    );
    assert!(!file.exists() && !dir.file("odd.jsonl.part").exists());
    pool.close().await;
    source.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_failing_verify_is_exported_only_marked_and_version_1_files_still_import() {
    let dir = TempDir::new();
    let (source, file) = small_export(&dir).await;

    // A version 1 file (no `verified` in its header) still imports.
    let mut all: Vec<Value> = lines(&file);
    let header = all[0].as_object_mut().unwrap();
    assert_eq!(header.remove("verified"), Some(Value::Bool(true)));
    header.insert("formatVersion".to_owned(), json!(1));
    let v1 = dir.file("v1.jsonl");
    write_lines(&v1, &all.iter().map(Value::to_string).collect::<Vec<_>>());
    let target = TestDatabase::migrated().await;
    let imported = succeed(&target, &["import", v1.to_str().unwrap()]);
    assert!(imported.contains("imported 12 events"), "{imported}");
    // A version 2 header without `verified` is refused.
    let mut no_flag = all.clone();
    no_flag[0]["formatVersion"] = json!(2);
    let bad = dir.file("v2-without-verified.jsonl");
    write_lines(
        &bad,
        &no_flag.iter().map(Value::to_string).collect::<Vec<_>>(),
    );
    let empty = TestDatabase::migrated().await;
    let refused = taizhang(&empty, &["import", bad.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(
        text(&refused).contains("`verified` is required"),
        "{}",
        text(&refused)
    );

    // Tamper with the source (a stream head that no longer matches its events): export refuses
    // it, and writes nothing. (An event whose hash no longer matches stops even an unverified
    // export: such a file would not import.)
    let pool = PgPool::connect(&source.url).await.unwrap();
    sqlx::raw_sql("UPDATE eventstore.streams SET version = 99 WHERE name = 'note-1'")
        .execute(&pool)
        .await
        .unwrap();
    let broken = dir.file("broken.jsonl");
    let out = taizhang(&source, &["export", "--output", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("the store fails verify"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("库未通过校验"), "{}", text(&out));
    assert!(!broken.exists() && !dir.file("broken.jsonl.part").exists());
    // --unverified exports it, marked.
    let out = taizhang(
        &source,
        &[
            "export",
            "--unverified",
            "--output",
            broken.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("warning: the store fails verify"),
        "{}",
        text(&out)
    );
    assert_eq!(lines(&broken)[0]["verified"], false);

    pool.close().await;
    for db in [source, target, empty] {
        db.drop_database().await;
    }
}
