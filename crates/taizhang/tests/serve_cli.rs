//! `taizhang serve` through the binary: JSON logs, answers on its port, stops cleanly on SIGTERM;
//! `taizhang schema` prints the checked-in schema.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use eventstore::postgres::testing::TestDatabase;

/// A plain HTTP/1.0 GET: the status line and body.
fn get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect to the server");
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_and_stops_on_sigterm() {
    let db = TestDatabase::migrated().await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_taizhang"))
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("run taizhang serve");
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let (addr, start) = listening(&mut lines);
    // No token exists yet: the log says how to make the first one.
    assert!(
        start.iter().any(|l| l.contains("taizhang tokens create")),
        "{start:#?}"
    );
    let health = get(&addr, "/healthz");
    assert!(
        health.starts_with("HTTP/1.0 200") && health.ends_with("ok\n"),
        "{health}"
    );
    // Everything else needs a token.
    let query = get(&addr, "/graphql?query=%7B+units+%7B+unitId+%7D+%7D");
    assert!(query.starts_with("HTTP/1.0 401"), "{query}");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(exit.success(), "exit status {exit}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("stopped")), "{rest:#?}");
    db.drop_database().await;
}

/// Reads JSON log lines until the one naming the listening address: the address, and the lines
/// before it.
fn listening(lines: &mut impl Iterator<Item = std::io::Result<String>>) -> (String, Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut before = Vec::new();
    loop {
        assert!(
            Instant::now() < deadline,
            "the server did not say where it listens"
        );
        let line = lines.next().expect("a log line").unwrap();
        let log: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        if let Some(addr) = log["fields"]["addr"].as_str() {
            return (addr.to_owned(), before);
        }
        before.push(line);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_without_authentication_only_when_told_and_warns() {
    let db = TestDatabase::migrated().await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_taizhang"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--insecure-no-auth",
        ])
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("run taizhang serve");
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let (addr, start) = listening(&mut lines);
    assert!(
        start
            .iter()
            .any(|l| l.contains("WARN") && l.contains("AUTHENTICATION IS OFF")),
        "{start:#?}"
    );
    let query = get(&addr, "/graphql?query=%7B+units+%7B+unitId+%7D+%7D");
    assert!(
        query.starts_with("HTTP/1.0 200") && query.contains("\"units\":[]"),
        "{query}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    db.drop_database().await;
}

#[test]
fn schema_prints_the_checked_in_sdl() {
    let out = Command::new(env!("CARGO_BIN_EXE_taizhang"))
        .arg("schema")
        .output()
        .unwrap();
    assert!(out.status.success());
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema.graphql"))
            .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), checked_in);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_seals_the_log_periodically() {
    use eventstore::{EventStore, ExpectedVersion, NewEvent, PgEventStore};

    let db = TestDatabase::migrated().await;
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    PgEventStore::new(pool.clone())
        .append(
            "unit-seal-test",
            ExpectedVersion::NoStream,
            vec![NewEvent::new(
                "UnitCreated",
                serde_json::json!({"name": "城关镇", "kind": "township", "date": "2026-01-02"}),
            )],
        )
        .await
        .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_taizhang"))
        .args(["serve", "--listen", "127.0.0.1:0", "--seal-every", "1"])
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .stderr(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("run taizhang serve");
    let deadline = Instant::now() + Duration::from_secs(60);
    let sealed = loop {
        let seals: i64 = sqlx::query_scalar("SELECT count(*) FROM eventstore.seals")
            .fetch_one(&pool)
            .await
            .unwrap();
        if seals > 0 || Instant::now() > deadline {
            break seals;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(sealed > 0, "no seal written within 60 s");
    let verify = Command::new(env!("CARGO_BIN_EXE_taizhang"))
        .arg("verify")
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}
