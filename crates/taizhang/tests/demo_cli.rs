//! `taizhang demo` through the binary: seeds the demo county into an empty database, and a second
//! run writes nothing.

use std::process::{Command, Output};

use eventstore::postgres::testing::TestDatabase;
use sqlx::PgPool;

fn taizhang(db: &TestDatabase, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_taizhang"))
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run taizhang")
}

#[tokio::test]
async fn demo_seeds_once_and_a_second_run_adds_nothing() {
    let db = TestDatabase::empty().await;
    let first = taizhang(&db, &["demo"]);
    let out = String::from_utf8_lossy(&first.stdout);
    assert!(
        first.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(out.contains("5 units, 60 projects"), "{out}");

    let pool = PgPool::connect(&db.url).await.unwrap();
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM eventstore.events")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let events = count().await;
    assert!(events > 1000, "{events} events");

    let second = taizhang(&db, &["demo"]);
    let out = String::from_utf8_lossy(&second.stdout);
    assert!(second.status.success(), "{out}");
    assert!(out.contains("already there"), "{out}");
    assert_eq!(count().await, events);
}
