//! The BI role: a login in `taizhang_analytics` reads the reporting schema and nothing else, and
//! cannot write anything (docs/bi.md shows how such a login is made).

use eventstore::postgres::testing::TestDatabase;
use sqlx::{Connection, PgConnection};

#[tokio::test]
async fn an_analytics_login_reads_reporting_only_and_writes_nothing() {
    let db = TestDatabase::migrated().await;
    let mut admin = PgConnection::connect(&db.url).await.unwrap();
    // A login of its own (roles are cluster-wide), made the way docs/bi.md says.
    let login = format!("tz_bi_{}", uuid::Uuid::new_v4().simple());
    for sql in [
        format!("CREATE ROLE {login} LOGIN IN ROLE taizhang_analytics"),
        format!("ALTER ROLE {login} SET default_transaction_read_only = on"),
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut admin)
            .await
            .unwrap();
    }
    sqlx::query(
        "INSERT INTO reporting.units (unit_id, name, unit_kind, created_at, updated_at) \
         VALUES ('u-a', '城关镇', 'township', now(), now())",
    )
    .execute(&mut admin)
    .await
    .unwrap();

    let url = db
        .url
        .replacen("postgres://postgres@", &format!("postgres://{login}@"), 1);
    assert_ne!(url, db.url, "the test database URL names the postgres user");
    let mut bi = PgConnection::connect(&url).await.unwrap();

    // Reads every reporting table.
    let name: String = sqlx::query_scalar("SELECT name FROM reporting.units")
        .fetch_one(&mut bi)
        .await
        .unwrap();
    assert_eq!(name, "城关镇");
    // The figure tables BI charts from (migration 0140), including the month-end snapshots.
    for table in [
        "target_progress",
        "unit_ranking",
        "dashboard",
        "dashboard_snapshots",
        "target_progress_snapshots",
        "unit_ranking_snapshots",
    ] {
        let rows: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM reporting.{table}"
        )))
        .fetch_one(&mut bi)
        .await
        .unwrap_or_else(|e| panic!("the analytics login cannot read reporting.{table}: {e}"));
        assert_eq!(rows, 0, "{table}: nothing projected in this database");
    }

    // Sessions are read-only by default…
    let read_only: String = sqlx::query_scalar("SHOW default_transaction_read_only")
        .fetch_one(&mut bi)
        .await
        .unwrap();
    assert_eq!(read_only, "on");
    let error = sqlx::query("UPDATE reporting.units SET name = 'x'")
        .execute(&mut bi)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("read-only transaction"), "{error}");

    // …and even in a read-write transaction the role has no write privilege.
    let mut tx = bi.begin().await.unwrap();
    sqlx::query("SET TRANSACTION READ WRITE")
        .execute(&mut *tx)
        .await
        .unwrap();
    let error = sqlx::query("DELETE FROM reporting.units")
        .execute(&mut *tx)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("permission denied"), "{error}");
    tx.rollback().await.unwrap();

    // The event store is out of reach, and nothing can be created anywhere.
    for sql in [
        "SELECT count(*) FROM eventstore.events",
        "SELECT count(*) FROM eventstore.streams",
    ] {
        let error = sqlx::query(sql)
            .execute(&mut bi)
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains("permission denied"), "{sql}: {error}");
    }
    let mut tx = bi.begin().await.unwrap();
    sqlx::query("SET TRANSACTION READ WRITE")
        .execute(&mut *tx)
        .await
        .unwrap();
    let error = sqlx::query("CREATE TABLE public.bi_scratch (x int)")
        .execute(&mut *tx)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("permission denied"), "{error}");
    tx.rollback().await.unwrap();

    bi.close().await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP ROLE {login}")))
        .execute(&mut admin)
        .await
        .unwrap();
}
