//! End to end through the binary: migrate, append, seal, verify; then tamper and watch verify fail.

use std::process::{Command, Output};

use eventstore::conformance::Harness;
use eventstore::postgres::testing::{PgHarness, TestDatabase};
use eventstore::{EventStore, ExpectedVersion, NewEvent, PgEventStore};
use serde_json::json;

fn taizhang(db: &TestDatabase, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_taizhang"))
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run taizhang")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn help_explains_each_command() {
    let out = Command::new(env!("CARGO_BIN_EXE_taizhang"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = stdout(&out);
    for needle in [
        "migrate",
        "verify",
        "seal",
        "--database-url",
        "DATABASE_URL",
    ] {
        assert!(help.contains(needle), "{needle} missing from:\n{help}");
    }
    let verify_help = Command::new(env!("CARGO_BIN_EXE_taizhang"))
        .args(["verify", "--help"])
        .output()
        .unwrap();
    assert!(stdout(&verify_help).contains("Exit code 0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_verify_then_tamper() {
    let db = TestDatabase::empty().await;

    let out = taizhang(&db, &["migrate"]);
    assert!(out.status.success(), "{out:?}");
    // Twice is fine.
    assert!(taizhang(&db, &["migrate"]).status.success());

    let store = PgEventStore::new(db.pool(4).await);
    let mut tampered = None;
    for n in 0..5 {
        let r = store
            .append(
                "project-7",
                ExpectedVersion::Any,
                vec![NewEvent::new(
                    "InvestmentReported",
                    json!({ "yuan": n * 1000 }),
                )],
            )
            .await
            .unwrap();
        if n == 2 {
            tampered = r.events.first().copied();
        }
    }
    let tampered = tampered.unwrap();

    // Seal once everything is visible in $all (other tests' transactions may hold it back briefly).
    let mut sealed = false;
    for _ in 0..500 {
        let out = taizhang(&db, &["seal"]);
        assert!(out.status.success(), "{out:?}");
        if stdout(&out).contains("seal 1 covers 5 events") {
            sealed = true;
            break;
        }
        assert!(stdout(&out).contains("nothing new"), "{}", stdout(&out));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(sealed);

    let out = taizhang(&db, &["verify"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        stdout(&out).contains("checked 5 events in 1 streams and 1 seals"),
        "{}",
        stdout(&out)
    );

    PgHarness::new()
        .tamper_data(&store, "project-7", 2, json!({ "yuan": 999_999 }))
        .await;
    let out = taizhang(&db, &["verify"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "MISMATCH: event in stream project-7 at version 2, position {}",
            tampered.position
        )),
        "{text}"
    );

    // No database: exit code 2 and a message naming the problem.
    let out = Command::new(env!("CARGO_BIN_EXE_taizhang"))
        .args([
            "verify",
            "--connect-timeout",
            "1",
            "--database-url",
            "postgres://postgres@127.0.0.1:1/none",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot connect"));

    store.pool().close().await;
    db.drop_database().await;
}
