//! A 500-row monthly sheet, checked and recorded through `POST /files/monthly-report`, on both
//! backends, beside the baseline of the same 500 reports sent as one GraphQL `reportInvestments`
//! batch (the path the upload ends in) in the same run. docs/benchmarks.md has the figures.
//!
//! `cargo run -p api --example sheet_upload_bench [-- ROWS]` (PostgreSQL at 127.0.0.1:5432).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use api::{Application, Config};
use auth::{NewToken, Role, Tokens};
use eventstore::AnyEventStore;
use eventstore::postgres::testing::TestDatabase;
use serde_json::{Value, json};

struct Run {
    backend: &'static str,
    baseline: Duration,
    template: Duration,
    upload: Duration,
    replay: Duration,
    rows: usize,
}

async fn token(url: &str, role: Role, units: &[&str]) -> String {
    let store = AnyEventStore::connect(url, 1).await.unwrap();
    let created = Tokens::for_store(&store)
        .create(
            NewToken {
                name: format!("bench {role}"),
                role,
                units: units
                    .iter()
                    .map(|u| domain::UnitId::parse(u).unwrap())
                    .collect(),
                lifetime: time::Duration::hours(2),
            },
            "cli:bench",
        )
        .await
        .unwrap();
    store.database().close().await;
    created.secret.expose().to_owned()
}

async fn gql(client: &reqwest::Client, base: &str, token: &str, query: &str, vars: Value) -> Value {
    let r: Value = client
        .post(format!("{base}/graphql"))
        .header("authorization", format!("Bearer {token}"))
        .json(&json!({"query": query, "variables": vars}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r.get("errors").is_none(), "{r}");
    r
}

fn multipart(bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----taizhang-bench";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"sheet.xlsx\"\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn run(backend: &'static str, url: String, rows: usize) -> Run {
    let mut config = Config::for_tests(url.clone());
    // The baseline is one batch of all rows, as the sheet is.
    config.serve.limits.max_batch = rows;
    let app = Application::build(config).await.unwrap();
    let base = format!("http://{}", app.local_addr());
    let shutdown = app.shutdown_handle();
    let server = tokio::spawn(app.run_until_stopped());
    let admin = token(&url, Role::Admin, &[]).await;
    let editor = token(&url, Role::Editor, &["bench-zone"]).await;
    let client = reqwest::Client::new();
    gql(
        &client,
        &base,
        &admin,
        r#"mutation { createUnit(input: {idempotencyKey: "u", unitId: "bench-zone", name: "基准园区", kind: PARK, date: "2026-01-02"}) { unit { unitId } } }"#,
        json!({}),
    )
    .await;
    let mut ids = Vec::with_capacity(rows);
    for i in 0..rows {
        let r = gql(
            &client,
            &base,
            &editor,
            r#"mutation($key: String!, $name: String!) { registerProject(input: {idempotencyKey: $key,
                name: $name, kind: GOVERNMENT, investorName: "县城投", investorType: OTHER,
                industryChain: "基础设施", industrial: false, intendedInvestment: 100000000,
                responsibleUnit: "bench-zone", leadOfficial: "李副县长", date: "2026-02-01"}) {
                project { projectId } } }"#,
            json!({"key": format!("p{i}"), "name": format!("基准项目{i:04}")}),
        )
        .await;
        let id = r["data"]["registerProject"]["project"]["projectId"]
            .as_str()
            .unwrap()
            .to_owned();
        gql(
            &client,
            &base,
            &editor,
            r#"mutation($key: String!, $id: ID!) { startConstruction(input: {idempotencyKey: $key,
                projectId: $id, date: "2026-03-01", evidence: "开工"}) { result { version } } }"#,
            json!({"key": format!("s{i}"), "id": id}),
        )
        .await;
        ids.push(id);
    }
    // Baseline: the same number of reports (for October) as one GraphQL batch.
    let items: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            json!({"projectId": id, "period": "2026-10",
                   "completedInvestmentWan": format!("{}.5", i + 1), "fundsInPlaceWan": "10",
                   "progressNarrative": "主体施工"})
        })
        .collect();
    let t = Instant::now();
    gql(
        &client,
        &base,
        &editor,
        r#"mutation($input: ReportInvestmentsInput!) { reportInvestments(input: $input) { items { result { replayed } } } }"#,
        json!({"input": {"idempotencyKey": "baseline", "items": items}}),
    )
    .await;
    let baseline = t.elapsed();
    // The sheet for November: download, fill every row, upload, upload again.
    let t = Instant::now();
    let bytes = client
        .get(format!(
            "{base}/files/monthly-report.xlsx?unit=bench-zone&period=2026-11"
        ))
        .header("authorization", format!("Bearer {editor}"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let template = t.elapsed();
    let mut up = sheets::read_upload(Some("t.xlsx"), &bytes).unwrap();
    assert_eq!(up.unfilled.len(), rows);
    for (n, line) in up.unfilled.clone().into_iter().enumerate() {
        let row = &mut up.grid.rows[line as usize - 1];
        for (col, cell) in [
            (
                sheets::Column::Investment,
                sheets::Cell::Text(format!("{},{:03}.25", n / 1000 + 1, n % 1000)),
            ),
            (sheets::Column::Funds, sheets::Cell::Number(12.5)),
            (
                sheets::Column::Narrative,
                sheets::Cell::Text("主体封顶".into()),
            ),
        ] {
            let c = up.columns[&col];
            if row.len() <= c {
                row.resize(c + 1, sheets::Cell::Empty);
            }
            row[c] = cell;
        }
    }
    let file = sheets::annotate(&up.grid, &up.columns, &[]).unwrap();
    let post = |file: Vec<u8>| {
        let (content_type, body) = multipart(&file);
        client
            .post(format!("{base}/files/monthly-report"))
            .header("authorization", format!("Bearer {editor}"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let t = Instant::now();
    let r = post(file.clone()).await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let upload = t.elapsed();
    assert_eq!(body["rows"].as_array().unwrap().len(), rows, "{body}");
    assert_eq!(body["replayed"], false);
    let t = Instant::now();
    let body: Value = post(file).await.unwrap().json().await.unwrap();
    let replay = t.elapsed();
    assert_eq!(body["replayed"], true, "{body}");
    shutdown.shutdown();
    let _ = tokio::time::timeout(Duration::from_secs(20), server).await;
    Run {
        backend,
        baseline,
        template,
        upload,
        replay,
        rows,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rows: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500);
    let file =
        std::env::temp_dir().join(format!("tz_sheet_bench_{}.sqlite3", uuid::Uuid::new_v4()));
    let sqlite = run("sqlite", format!("sqlite://{}", file.display()), rows).await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    let db = TestDatabase::migrated().await;
    let postgres = run("postgresql", db.url.clone(), rows).await;
    db.drop_database().await;
    println!(
        "| backend | rows | GraphQL batch (baseline) | template download | sheet upload (check + record) | same sheet again (replayed) |"
    );
    println!("|---|---|---|---|---|---|");
    for r in [sqlite, postgres] {
        let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            r.backend,
            r.rows,
            ms(r.baseline),
            ms(r.template),
            ms(r.upload),
            ms(r.replay)
        );
    }
}
