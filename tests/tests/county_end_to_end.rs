//! The whole county, end to end: the demo county goes in through the command path, the server's
//! projectors build the read models, and the dashboard a leader reads over GraphQL is the very same
//! as what a BI tool reads with its analytics login — and the ledger verifies.

use std::time::Duration;

use api::{Application, Config};
use commands::CommandHandler;
use eventstore::postgres::testing::TestDatabase;
use eventstore::{EventStore, PgEventStore};
use projections::{Which, wait_for};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection, PgPool, Row};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_over_graphql_equals_what_bi_reads() {
    let db = TestDatabase::migrated().await;
    let pool = PgPool::connect(&db.url).await.unwrap();
    let store = PgEventStore::new(pool.clone());
    let today = commands::county_today();
    let handler = CommandHandler::new(store.clone()).with_today(move || today);
    let seeded = demo::seed(&handler, today, "演示数据").await.unwrap();
    assert_eq!(seeded.projects, 60);

    let app = Application::build(Config::for_tests(db.url.clone()))
        .await
        .expect("the server starts");
    let addr = app.local_addr();
    let shutdown = app.shutdown_handle();
    let server = tokio::spawn(app.run_until_stopped());
    let reached = wait_for(
        &pool,
        Which::Named(&["ledger", "timeline"]),
        seeded.head.unwrap(),
        Duration::from_secs(120),
    )
    .await
    .unwrap();
    assert!(reached.is_reached(), "{reached:?}");

    // What the leader sees, with a viewer's token.
    let leader = auth::PgTokens::new(pool.clone())
        .create(
            auth::NewToken {
                name: "县领导".into(),
                role: auth::Role::Viewer,
                units: vec![],
                lifetime: auth::token::DEFAULT_LIFETIME,
            },
            "cli:e2e",
        )
        .await
        .unwrap();
    let year = today.year();
    let reply: Value = reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .bearer_auth(leader.secret.expose())
        .json(&json!({
            "query": "query($y: Int!) { dashboard(year: $y) { asOf ytdInvestment projectCount abandonedCount redCount yellowCount greenCount } }",
            "variables": {"y": year},
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(reply.get("errors").is_none(), "{reply}");
    let dashboard = &reply["data"]["dashboard"];
    assert_eq!(dashboard["asOf"], today.to_string());

    // What a BI tool sees, through a login in the analytics role.
    let mut admin = PgConnection::connect(&db.url).await.unwrap();
    let login = format!("tz_e2e_{}", uuid::Uuid::new_v4().simple());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE ROLE {login} LOGIN IN ROLE taizhang_analytics"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    let bi_url = db
        .url
        .replacen("postgres://postgres@", &format!("postgres://{login}@"), 1);
    let mut bi = PgConnection::connect(&bi_url).await.unwrap();
    let row = sqlx::query(
        "SELECT ytd_investment_yuan, project_count, abandoned_count, red_count, yellow_count, green_count \
         FROM reporting.dashboard WHERE dashboard_year = $1 AND scope = 'county' AND as_of_date = $2",
    )
    .bind(year)
    .bind(today)
    .fetch_one(&mut bi)
    .await
    .unwrap();
    let ytd: i64 = row.get(0);
    assert_eq!(dashboard["ytdInvestment"].as_i64(), Some(ytd));
    for (i, field) in [
        "projectCount",
        "abandonedCount",
        "redCount",
        "yellowCount",
        "greenCount",
    ]
    .into_iter()
    .enumerate()
    {
        let sql_value: i32 = row.get(i + 1);
        assert_eq!(
            dashboard[field].as_i64(),
            Some(i64::from(sql_value)),
            "{field}"
        );
    }
    assert_eq!(
        dashboard["projectCount"].as_i64(),
        Some(55),
        "60 projects, 5 abandoned"
    );
    assert!(dashboard["redCount"].as_i64().unwrap() > 0);
    bi.close().await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP ROLE {login}")))
        .execute(&mut admin)
        .await
        .unwrap();

    // And nobody rewrote history.
    let verified = store.verify().await.unwrap();
    assert!(verified.is_ok(), "{verified:?}");
    assert!(verified.events > 1000);

    shutdown.shutdown();
    server.await.unwrap().unwrap();
}
