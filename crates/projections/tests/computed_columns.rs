//! The read models' computed columns: one definition in SQL (`reporting.size_class`,
//! `reporting.percent_of`) that the ledger's tables, the metric functions and BI share.

use eventstore::postgres::testing::TestDatabase;
use sqlx::PgPool;

#[tokio::test]
async fn size_classes_and_percentages_are_computed_by_postgresql() {
    let db = TestDatabase::migrated().await;
    let pool = PgPool::connect(&db.url).await.unwrap();

    // The statistical thresholds: lower bounds inclusive.
    for (yuan, class) in [
        (4_999_999_i64, "below_5m"),
        (5_000_000, "5m_10m"),
        (10_000_000, "10m_100m"),
        (100_000_000, "100m_1b"),
        (1_000_000_000, "from_1b"),
    ] {
        let got: String = sqlx::query_scalar("SELECT reporting.size_class($1)")
            .bind(yuan)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(got, class, "{yuan} yuan");
    }

    // Two decimals, rounded half up; none when the whole is 0.
    for (part, whole, percent) in [
        (1, 3, Some("33.33")),
        (2, 3, Some("66.67")),
        (1, 8, Some("12.50")),
        (5, 0, None),
        (3, 2, Some("150.00")),
    ] {
        let got: Option<String> = sqlx::query_scalar("SELECT reporting.percent_of($1, $2)::text")
            .bind(part)
            .bind(whole)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(got.as_deref(), percent, "{part}/{whole}");
    }

    // The stored columns follow: contract investment decides the size class when there is one,
    // and expropriation completion is area and households against the target.
    sqlx::raw_sql(
        "INSERT INTO reporting.projects (project_id, name, project_kind, investor_name, investor_type, \
            industry_chain, industrial, unit_id, lead_official, stage, status, intended_investment_yuan, \
            contract_investment_yuan, registered_date, stream_version, created_at, updated_at) VALUES \
         ('00000000-0000-0000-0000-000000000001', 'A', 'attracted', 'x', 'private', '新能源', true, 'u-a', \
          '王', 'contracted', 'active', 8000000, 200000000, '2026-01-05', 1, now(), now()), \
         ('00000000-0000-0000-0000-000000000002', 'B', 'attracted', 'x', 'private', '新能源', true, 'u-a', \
          '王', 'lead', 'active', 8000000, NULL, '2026-01-05', 0, now(), now()); \
         INSERT INTO reporting.expropriation_progress (project_id, target_area_mu, target_households, \
            area_mu, households_signed, households_relocated, graves_moved, compensation_yuan, \
            land_delivered_mu, updated_at) VALUES \
         ('00000000-0000-0000-0000-000000000001', 40, 3, 10, 1, 0, 0, 0, 0, now()), \
         ('00000000-0000-0000-0000-000000000002', NULL, NULL, 5, 0, 0, 0, 0, 0, now());",
    )
    .execute(&pool)
    .await
    .unwrap();
    let classes: Vec<String> =
        sqlx::query_scalar("SELECT size_class FROM reporting.projects ORDER BY project_id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(classes, ["100m_1b", "5m_10m"]);
    let completion: Vec<(Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT area_completion_pct::text, households_completion_pct::text \
         FROM reporting.expropriation_progress ORDER BY project_id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        completion,
        [
            (Some("25.00".to_owned()), Some("33.33".to_owned())),
            (None, None)
        ]
    );
}
