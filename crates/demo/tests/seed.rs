//! The demo county seeds through the command path, obeys every rule, projects into a ledger with
//! red and yellow projects, and a second run adds nothing.

use std::time::Duration;

use commands::CommandHandler;
use eventstore::PgEventStore;
use eventstore::postgres::testing::TestDatabase;
use projections::{Projectors, RunnerOptions, Which, wait_for};
use sqlx::PgPool;
use time::macros::{date, datetime};

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_demo_county_is_realistic_and_seeding_twice_adds_nothing() {
    let db = TestDatabase::migrated().await;
    let pool = PgPool::connect(&db.url).await.unwrap();
    let store = PgEventStore::new(pool.clone());
    let today = date!(2026 - 11 - 26);
    let handler = CommandHandler::new(store.clone()).with_today(move || today);

    let first = demo::seed(&handler, today, "演示数据").await.unwrap();
    assert_eq!(
        (first.units, first.projects, first.supervision_items),
        (5, 60, 10)
    );
    assert_eq!(first.replayed, 0);
    assert!(first.events_written > 1000, "{first:?}");

    let second = demo::seed(&handler, today, "演示数据").await.unwrap();
    assert_eq!(second.events_written, 0, "{second:?}");
    assert_eq!(second.replayed, second.commands);
    let events = count(
        &pool,
        // Key reservations (project codes, unit names) are the store's, not the commands' events.
        "SELECT count(*) FROM eventstore.events WHERE category NOT IN ('projectcode', 'unitname')",
    )
    .await;
    assert_eq!(events as usize, first.events_written);
    // Seeding again on a later day (`serve --demo` restarted) keeps the county as first seeded:
    // the steps' dates moved with the day, and their keys are not taken for other commands.
    let tomorrow = today.next_day().unwrap();
    let later = CommandHandler::new(store.clone()).with_today(move || tomorrow);
    let third = demo::seed(&later, tomorrow, "演示数据").await.unwrap();
    assert!(third.replayed > 0, "{third:?}");

    let clock: projections::Clock = std::sync::Arc::new(|| datetime!(2026-11-26 10:00 +8));
    let projectors =
        Projectors::start(&store, projections::all(clock), RunnerOptions::default()).unwrap();
    let outcome = wait_for(
        &pool,
        Which::Named(&["ledger", "timeline"]),
        first.head.unwrap(),
        Duration::from_secs(120),
    )
    .await
    .unwrap();
    assert!(outcome.is_reached(), "{outcome:?}");
    // The date-dependent figures are refreshed in the batch that catches up.
    projectors.shutdown().await;

    assert_eq!(
        count(&pool, "SELECT count(*) FROM reporting.units").await,
        5
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM reporting.projects").await,
        60
    );
    // Every stage and kind is present.
    assert_eq!(
        count(
            &pool,
            "SELECT count(DISTINCT stage) FROM reporting.projects"
        )
        .await,
        7
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(DISTINCT project_kind) FROM reporting.projects"
        )
        .await,
        3
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(DISTINCT investor_type) FROM reporting.projects"
        )
        .await,
        5
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM reporting.projects WHERE status = 'abandoned'"
        )
        .await,
        5
    );
    // Start overdue (5) and far behind plan (5) are red; the revised government plans are yellow.
    assert!(
        count(
            &pool,
            "SELECT count(*) FROM reporting.projects WHERE light = 'red'"
        )
        .await
            >= 10
    );
    assert!(
        count(
            &pool,
            "SELECT count(*) FROM reporting.projects WHERE light = 'yellow'"
        )
        .await
            >= 5
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM reporting.monthly_investment WHERE correction_count > 0"
        )
        .await,
        5
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM reporting.supervision_items").await,
        10
    );
    assert!(
        count(
            &pool,
            "SELECT count(*) FROM reporting.supervision_items WHERE item_status = 'closed'"
        )
        .await
            >= 2
    );
    assert!(
        count(
            &pool,
            "SELECT count(*) FROM reporting.supervision_items WHERE overdue"
        )
        .await
            >= 2
    );
    assert!(
        count(
            &pool,
            "SELECT count(*) FROM reporting.accountability_records"
        )
        .await
            >= 1
    );
    assert!(
        count(
            &pool,
            "SELECT count(*) FROM reporting.expropriation_progress WHERE area_completion_pct > 0"
        )
        .await
            >= 10
    );
    // Targets for both years, progress and a ranking of all five units.
    assert_eq!(
        count(
            &pool,
            "SELECT count(DISTINCT target_year) FROM reporting.targets"
        )
        .await,
        2
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM reporting.unit_ranking WHERE ranking_year = 2026"
        )
        .await,
        5
    );
    assert_eq!(count(&pool, "SELECT count(*) FROM reporting.target_progress WHERE target_year = 2026 AND scope = 'county' AND light IS NOT NULL").await, 8);
}
