//! `taizhang serve --demo` through the binary: it seeds the demo county, prints the playground's
//! URL and a token per role (admin, editor of one unit, supervisor, auditor) that work; a second
//! start adds nothing to the county and replaces the tokens (the first ones are refused from then
//! on).

mod support;

use eventstore::postgres::testing::TestDatabase;
use support::{Store, graphql, start, stop, wait_for_sixty_projects};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_demo_seeds_once_and_prints_a_working_admin_token() {
    let db = TestDatabase::empty().await;
    let year = commands::county_today().year();

    let (child, first) = start(&Store::Url(&db.url));
    assert!(
        first
            .text
            .contains("demo county seeded: 5 units, 60 projects"),
        "{}",
        first.text
    );
    let admin = first.token("admin");
    assert!(
        first
            .text
            .contains(&format!("{{\"Authorization\": \"Bearer {admin}\"}}")),
        "{}",
        first.text
    );
    // One token per role a newcomer wants to try, each with what it may do.
    assert_eq!(
        first.tokens.keys().map(String::as_str).collect::<Vec<_>>(),
        ["admin", "auditor", "editor", "supervisor"],
        "{}",
        first.text
    );
    for token in first.tokens.values() {
        assert_eq!(token.len(), 46, "a token is tz_ and 43 characters");
    }
    assert!(first.text.contains("chengguan-town"), "{}", first.text);
    wait_for_sixty_projects(&first.addr, admin, year);
    // An admin token: it may see the token list, where the demo tokens are recorded, the
    // editor's scoped to its unit.
    let tokens = graphql(&first.addr, admin, "{ tokens { name role status units } }");
    for (name, role) in [
        ("演示管理员 (serve --demo)", "ADMIN"),
        ("演示填报员 城关镇 (serve --demo)", "EDITOR"),
        ("演示督查员 (serve --demo)", "SUPERVISOR"),
        ("演示审计员 (serve --demo)", "AUDITOR"),
    ] {
        assert!(
            tokens.contains(&format!(
                "\"name\":\"{name}\",\"role\":\"{role}\",\"status\":\"ACTIVE\""
            )),
            "{tokens}"
        );
    }
    assert!(tokens.contains("[\"chengguan-town\"]"), "{tokens}");
    // The auditor reads; the editor writes its unit's projects (here: refused for a unit it
    // does not act for, with FORBIDDEN rather than UNAUTHENTICATED).
    let audit = graphql(&first.addr, first.token("auditor"), "{ units { unitId } }");
    assert!(audit.contains("chengguan-town"), "{audit}");
    let refused = graphql(
        &first.addr,
        first.token("editor"),
        r#"mutation { createUnit(input: {idempotencyKey: "x", unitId: "x-town", name: "某镇", kind: TOWNSHIP, date: "2026-01-05"}) { unit { unitId } } }"#,
    );
    assert!(refused.contains("\"FORBIDDEN\""), "{refused}");
    stop(child);

    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let events_after_first: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM eventstore.events WHERE stream NOT LIKE 'token-%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();

    let (child, second) = start(&Store::Url(&db.url));
    assert!(
        second.text.contains("already there"),
        "a second start must add nothing: {}",
        second.text
    );
    assert_ne!(second.token("admin"), first.token("admin"));
    let events_after_second: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM eventstore.events WHERE stream NOT LIKE 'token-%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(events_after_first, events_after_second);
    // The previous demo tokens were revoked; the new ones work.
    for old in first.tokens.values() {
        let old = graphql(&second.addr, old, "{ units { unitId } }");
        assert!(old.starts_with("HTTP/1.0 401"), "{old}");
    }
    wait_for_sixty_projects(&second.addr, second.token("admin"), year);
    stop(child);
    pool.close().await;
    db.drop_database().await;
}

/// The Quick start: no DATABASE_URL, so the embedded SQLite store in the data directory (created
/// on first start); the same county, token and answers as on PostgreSQL, and a second start over
/// the same file adds nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_demo_without_a_database_url_runs_on_the_embedded_store() {
    let dir = std::env::temp_dir().join(format!("tz_serve_demo_{}", uuid::Uuid::new_v4()));
    let data_dir = dir.join("data");
    let year = commands::county_today().year();

    let (child, first) = start(&Store::DataDir(&data_dir));
    assert!(
        first
            .text
            .contains("demo county seeded: 5 units, 60 projects"),
        "{}",
        first.text
    );
    let file = data_dir.join("taizhang.sqlite3");
    assert!(file.is_file(), "no store file at {}", file.display());
    wait_for_sixty_projects(&first.addr, first.token("admin"), year);
    // Figures that need the metric queries on SQLite: the ranking and the targets answer.
    let ranking = graphql(
        &first.addr,
        first.token("admin"),
        &format!(
            "{{ unitRanking(year: {year}) {{ unitId rank }} targets(year: {year}) {{ metric light }} }}"
        ),
    );
    assert!(
        ranking.starts_with("HTTP/1.0 200") && ranking.contains("\"unitId\":\"dev-zone\""),
        "{ranking}"
    );
    assert!(!ranking.contains("\"errors\""), "{ranking}");
    stop(child);

    let count = |file: std::path::PathBuf| async move {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", file.display()))
            .await
            .unwrap();
        let n: i64 =
            sqlx::query_scalar("SELECT count(*) FROM events WHERE stream NOT LIKE 'token-%'")
                .fetch_one(&pool)
                .await
                .unwrap();
        pool.close().await;
        n
    };
    let events_after_first = count(file.clone()).await;
    assert!(events_after_first > 1000, "{events_after_first}");

    let (child, second) = start(&Store::DataDir(&data_dir));
    assert!(second.text.contains("already there"), "{}", second.text);
    let old = graphql(&second.addr, first.token("admin"), "{ units { unitId } }");
    assert!(old.starts_with("HTTP/1.0 401"), "{old}");
    wait_for_sixty_projects(&second.addr, second.token("admin"), year);
    stop(child);
    assert_eq!(count(file).await, events_after_first);
    let _ = std::fs::remove_dir_all(&dir);
}
