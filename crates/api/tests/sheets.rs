//! The clerk's month in a spreadsheet, over HTTP on both backends (docs/excel.md): the template
//! out, read back by a real reader (calamine) with the projects the rules let report and their
//! reference figures; access as on the API.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use auth::Role;
use common::{TestApp, spawn_on, unit_and_project_of_kind};
use domain::{Period, Yuan};
use serde_json::{Value, json};
use sheets::layout::FIRST_DATA_ROW;

/// The county as a clerk of 经济开发区 finds it: a started project with September reported, a
/// second started one, one not started, one abandoned, and a started one of another unit.
struct County {
    reporting: String,
    quiet: String,
    not_started: String,
    abandoned: String,
    elsewhere: String,
}

async fn project(app: &TestApp, key: &str, name: &str, unit: &str) -> String {
    let r = app
        .gql(
            r#"mutation($key: String!, $name: String!, $unit: String!) { registerProject(input: {
                idempotencyKey: $key, name: $name, kind: GOVERNMENT,
                investorName: "县城投公司", investorType: OTHER, industryChain: "基础设施",
                industrial: false, intendedInvestment: 300000000, responsibleUnit: $unit,
                leadOfficial: "李副县长", date: "2026-02-01"}) { project { projectId } } }"#,
            json!({"key": key, "name": name, "unit": unit}),
        )
        .await;
    r.ok()["registerProject"]["project"]["projectId"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn start(app: &TestApp, id: &str) {
    app.gql(
        r#"mutation($id: ID!, $key: String!) { startConstruction(input: {idempotencyKey: $key,
            projectId: $id, date: "2026-03-10", evidence: "开工仪式"}) { result { version } } }"#,
        json!({"id": id, "key": format!("start-{id}")}),
    )
    .await
    .ok();
}

async fn county(app: &TestApp) -> County {
    let reporting = unit_and_project_of_kind(app, "p-reporting", "GOVERNMENT").await;
    app.gql(
        r#"mutation { createUnit(input: {idempotencyKey: "unit-xinan", unitId: "xinan-town", name: "新安镇", kind: TOWNSHIP, date: "2026-01-02"}) { unit { unitId } } }"#,
        json!({}),
    )
    .await
    .ok();
    let quiet = project(app, "p-quiet", "城区道路改造", "dev-zone").await;
    let not_started = project(app, "p-not-started", "污水处理厂", "dev-zone").await;
    let abandoned = project(app, "p-abandoned", "物流园", "dev-zone").await;
    let elsewhere = project(app, "p-elsewhere", "新安镇文化中心", "xinan-town").await;
    for id in [&reporting, &quiet, &abandoned, &elsewhere] {
        start(app, id).await;
    }
    app.gql(
        r#"mutation($id: ID!) { abandonProject(input: {idempotencyKey: "abandon", projectId: $id,
            reason: "投资方退出", date: "2026-06-01"}) { result { version } } }"#,
        json!({"id": abandoned}),
    )
    .await
    .ok();
    for (period, wan) in [("2026-08", "100"), ("2026-09", "1234.5678")] {
        app.gql(
            r#"mutation($id: ID!, $key: String!, $period: Period!, $wan: Wan!) { reportInvestment(input: {
                idempotencyKey: $key, projectId: $id, period: $period,
                completedInvestmentWan: $wan, fundsInPlaceWan: "50"}) { result { version } } }"#,
            json!({"id": reporting, "key": format!("r-{period}"), "period": period, "wan": wan}),
        )
        .await
        .ok();
    }
    County {
        reporting,
        quiet,
        not_started,
        abandoned,
        elsewhere,
    }
}

async fn get_template(app: &TestApp, token: Option<&str>, query: &str) -> reqwest::Response {
    let mut request = app
        .client
        .get(app.url(&format!("/files/monthly-report.xlsx?{query}")));
    if let Some(t) = token {
        request = request.header("authorization", format!("Bearer {t}"));
    }
    request.send().await.unwrap()
}

async fn refused(r: reqwest::Response) -> (u16, String, Value) {
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    let code = body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no code in {body}"))
        .to_owned();
    assert!(
        body["errors"][0]["extensions"]["messageZh"].is_string(),
        "{body}"
    );
    (status, code, body)
}

fn wan(text: &str) -> Yuan {
    Yuan::parse_wan(text).unwrap()
}

async fn template_lists_the_projects_that_can_report(backend: eventstore::Backend) {
    let app = spawn_on(backend).await;
    let c = county(&app).await;
    let r = get_template(
        &app,
        Some(app.token(Role::Editor)),
        "unit=dev-zone&period=2026-10",
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("monthly-report-dev-zone-2026-10.xlsx")
    );
    let bytes = r.bytes().await.unwrap();
    let up = sheets::read_upload(Some("t.xlsx"), &bytes).unwrap();
    assert!(up.errors.is_empty(), "{:#?}", up.errors);
    assert_eq!(up.unit.as_deref(), Some("dev-zone"));
    assert_eq!(up.period, Some(Period::new(2026, 10).unwrap()));
    // Two rows, both unfilled: the started, live projects of the unit, by name.
    assert_eq!(up.unfilled, vec![FIRST_DATA_ROW + 1, FIRST_DATA_ROW + 2]);
    let name_col = up.columns[&sheets::Column::Name];
    let key_col = up.columns[&sheets::Column::Key];
    let row = |i: u32| (FIRST_DATA_ROW + i) as usize;
    let names: Vec<String> = (0..2)
        .map(|i| up.grid.get(row(i), name_col).text())
        .collect();
    assert_eq!(names, vec!["城区道路改造", "新能源电池项目"]);
    let keys: Vec<sheets::RowKey> = (0..2)
        .map(|i| sheets::RowKey::parse(&up.grid.get(row(i), key_col).text()).unwrap())
        .collect();
    assert_eq!(keys[0].project_id.to_string(), c.quiet);
    assert_eq!(keys[1].project_id.to_string(), c.reporting);
    for id in [&c.not_started, &c.abandoned, &c.elsewhere] {
        assert!(keys.iter().all(|k| &k.project_id.to_string() != id));
    }
    // The key's version is the stream's, as the API shows it.
    let v = app
        .gql(
            r#"query($id: ID!) { project(id: $id) { version ytdInvestment } }"#,
            json!({"id": c.reporting}),
        )
        .await;
    assert_eq!(
        keys[1].version,
        v.ok()["project"]["version"].as_u64().unwrap()
    );
    // Reference figures: September's report, and this year to September (August + September).
    let cell = |col: sheets::Column| {
        Yuan::parse_wan(&up.grid.get(row(1), up.columns[&col]).text()).unwrap()
    };
    assert_eq!(cell(sheets::Column::LastInvestment), wan("1234.5678"));
    assert_eq!(cell(sheets::Column::LastFunds), wan("50"));
    assert_eq!(cell(sheets::Column::YtdInvestment), wan("1334.5678"));
    assert_eq!(cell(sheets::Column::YtdFunds), wan("100"));
    // For September the figures are those of August, and September's report is pre-filled.
    let r = get_template(
        &app,
        Some(app.token(Role::Viewer)),
        "unit=dev-zone&period=2026-09",
    )
    .await;
    assert_eq!(r.status(), 200, "a viewer reads templates");
    let up = sheets::read_upload(Some("t.xlsx"), &r.bytes().await.unwrap()).unwrap();
    assert_eq!(up.rows.len(), 1);
    assert_eq!(up.rows[0].investment, wan("1234.5678"));
    assert_eq!(
        Yuan::parse_wan(
            &up.grid
                .get(row(1), up.columns[&sheets::Column::YtdInvestment])
                .text()
        )
        .unwrap(),
        wan("100")
    );
    app.stop().await;
}

async fn template_access_and_bad_requests(backend: eventstore::Backend) {
    let app = spawn_on(backend).await;
    county(&app).await;
    let editor = Some(app.token(Role::Editor));
    let r = get_template(&app, None, "unit=dev-zone&period=2026-10").await;
    assert_eq!(refused(r).await.0, 401);
    // An editor of dev-zone and xinan-town may not take another unit's template.
    let other = common::create_token_in(
        &eventstore::AnyEventStore::connect(&app.store.url(), 1)
            .await
            .unwrap(),
        "clerk of xinan-town",
        Role::Editor,
        &["xinan-town"],
    )
    .await;
    let r = get_template(&app, Some(&other.1), "unit=dev-zone&period=2026-10").await;
    let (status, code, body) = refused(r).await;
    assert_eq!((status, code.as_str()), (403, "FORBIDDEN"), "{body}");
    let r = get_template(&app, Some(&other.1), "unit=xinan-town&period=2026-10").await;
    assert_eq!(r.status(), 200);
    for (query, status, code) in [
        ("unit=dev-zone&period=2026-13", 400, "PERIOD_INVALID"),
        ("unit=dev-zone", 400, "VALIDATION"),
        ("period=2026-10", 400, "VALIDATION"),
        ("unit=dev-zone&period=2099-01", 400, "PERIOD_IN_FUTURE"),
        ("unit=Dev%20Zone&period=2026-10", 400, "ID_INVALID"),
    ] {
        let (s, c, body) = refused(get_template(&app, editor, query).await).await;
        assert_eq!((s, c.as_str()), (status, code), "{query}: {body}");
    }
    let (s, c, _) = refused(
        get_template(
            &app,
            Some(app.token(Role::Admin)),
            "unit=no-such-unit&period=2026-10",
        )
        .await,
    )
    .await;
    assert_eq!((s, c.as_str()), (404, "NOT_FOUND"));
    app.stop().await;
}

/// POSTs `bytes` as the multipart field `file` (by hand: the form a browser sends).
async fn upload(app: &TestApp, name: &str, bytes: &[u8], extra: &[(&str, &str)]) -> (u16, Value) {
    upload_as(app, Role::Editor, name, bytes, extra).await
}

async fn upload_as(
    app: &TestApp,
    role: Role,
    name: &str,
    bytes: &[u8],
    extra: &[(&str, &str)],
) -> (u16, Value) {
    let boundary = "----taizhang-test-boundary";
    let mut body = Vec::new();
    for (k, v) in extra {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = app
        .client
        .post(app.url("/files/monthly-report"))
        .header("authorization", app.bearer(role))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

async fn template_grid(app: &TestApp, period: &str) -> sheets::Upload {
    let r = get_template(
        app,
        Some(app.token(Role::Editor)),
        &format!("unit=dev-zone&period={period}"),
    )
    .await;
    assert_eq!(r.status(), 200);
    sheets::read_upload(Some("t.xlsx"), &r.bytes().await.unwrap()).unwrap()
}

fn set(up: &mut sheets::Upload, i: u32, col: sheets::Column, cell: sheets::Cell) {
    let c = up.columns[&col];
    let row = &mut up.grid.rows[(FIRST_DATA_ROW + i) as usize];
    if row.len() <= c {
        row.resize(c + 1, sheets::Cell::Empty);
    }
    row[c] = cell;
}

fn xlsx(up: &sheets::Upload) -> Vec<u8> {
    sheets::annotate(&up.grid, &up.columns, &[]).unwrap()
}

async fn versions(app: &TestApp, ids: &[&str]) -> Vec<Value> {
    let mut out = Vec::new();
    for id in ids {
        let r = app
            .gql(
                r#"query($id: ID!) { project(id: $id) { version ytdInvestment monthlyInvestment { period completedInvestment fundsInPlace progressNarrative } } }"#,
                json!({"id": id}),
            )
            .await;
        out.push(r.ok()["project"].clone());
    }
    out
}

fn codes_of(body: &Value) -> Vec<(u64, String, String)> {
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {body}"))
        .iter()
        .map(|e| {
            assert!(
                e["messageZh"].as_str().is_some_and(|m| !m.is_empty()),
                "{e}"
            );
            assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
            (
                e["row"].as_u64().unwrap_or(0),
                e["column"].as_str().unwrap_or("").to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Template → filled as a clerk types (text-typed numbers, full-width digits, thousands
/// separators, trailing spaces) → upload → the figures over GraphQL; the same file again
/// records nothing; bad sheets record nothing and come back annotated; a correction; a stale
/// template.
async fn upload_round_trip(backend: eventstore::Backend) {
    let app = spawn_on(backend).await;
    let c = county(&app).await;
    let stale = template_grid(&app, "2026-10").await;
    let mut up = stale.clone();
    use sheets::{Cell, Column};
    set(
        &mut up,
        0,
        Column::Investment,
        Cell::Text("１，２３４.５ ".into()),
    );
    set(&mut up, 0, Column::Funds, Cell::Text("300".into()));
    set(
        &mut up,
        0,
        Column::Narrative,
        Cell::Text("路基完成 ".into()),
    );
    set(&mut up, 1, Column::Investment, Cell::Number(88.8));
    set(&mut up, 1, Column::Funds, Cell::Number(0.0));
    let file = xlsx(&up);
    let before = versions(&app, &[&c.quiet, &c.reporting]).await;

    // A sheet made for another period, or with a bad cell, records nothing.
    let (status, body) = upload(&app, "r.xlsx", &file, &[("period", "2026-09")]).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        codes_of(&body),
        vec![(0, String::new(), "PERIOD_MISMATCH".into())]
    );
    let mut bad = up.clone();
    set(
        &mut bad,
        0,
        Column::Investment,
        Cell::Text("12.34567".into()),
    );
    set(&mut bad, 1, Column::Name, Cell::Text("改过的名字".into()));
    let (status, body) = upload(&app, "bad.xlsx", &xlsx(&bad), &[]).await;
    assert_eq!(status, 422, "{body}");
    let r = |i: u64| u64::from(FIRST_DATA_ROW) + 1 + i;
    assert_eq!(
        codes_of(&body),
        vec![
            (r(0), "I".into(), "MONEY_INVALID".into()),
            (r(1), "B".into(), "REFERENCE_EDITED".into()),
        ]
    );
    use base64::Engine;
    let annotated = base64::engine::general_purpose::STANDARD
        .decode(body["annotatedWorkbook"].as_str().unwrap())
        .unwrap();
    let back = sheets::grid::read(sheets::FileKind::Xlsx, &annotated).unwrap();
    assert_eq!(
        back.get((FIRST_DATA_ROW) as usize, up.columns[&Column::Investment]),
        &Cell::Text("12.34567".into())
    );
    // Keys naming no project, or a row of another unit's template, are refused by row; a role
    // that may not report gets no sheet read at all.
    let key_col = up.columns[&Column::Key];
    let first = FIRST_DATA_ROW as usize;
    let mut odd = up.clone();
    let key0 = sheets::RowKey::parse(&odd.grid.get(first, key_col).text()).unwrap();
    let unknown = sheets::RowKey {
        project_id: uuid::Uuid::new_v4(),
        ..key0.clone()
    };
    let key1 = sheets::RowKey::parse(&odd.grid.get(first + 1, key_col).text()).unwrap();
    let other_unit = sheets::RowKey {
        unit: "xinan-town".into(),
        ..key1
    };
    odd.grid.rows[first][key_col] = Cell::Text(unknown.to_text());
    odd.grid.rows[first + 1][key_col] = Cell::Text(other_unit.to_text());
    let (status, body) = upload(&app, "odd.xlsx", &xlsx(&odd), &[]).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        codes_of(&body),
        vec![
            (r(1), "N".into(), "UNIT_MISMATCH".into()),
            (r(0), "N".into(), "PROJECT_UNKNOWN".into()),
        ]
    );
    let (status, body) = upload_as(&app, Role::Viewer, "r.xlsx", &file, &[]).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert_eq!(
        versions(&app, &[&c.quiet, &c.reporting]).await,
        before,
        "nothing written"
    );

    // The good sheet is recorded, as one batch.
    let (status, body) = upload(
        &app,
        "r.xlsx",
        &file,
        &[("period", "2026-10"), ("unit", "dev-zone")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["recorded"], true);
    assert_eq!(body["replayed"], false);
    let rows = body["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{body}");
    assert!(
        rows.iter()
            .all(|r| r["action"] == "reported" && r["replayed"] == false),
        "{body}"
    );
    let after = versions(&app, &[&c.quiet, &c.reporting]).await;
    let october = |p: &Value| {
        p["monthlyInvestment"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["period"] == "2026-10")
            .cloned()
            .unwrap_or_else(|| panic!("no October in {p}"))
    };
    assert_eq!(october(&after[0])["completedInvestment"], 12_345_000);
    assert_eq!(october(&after[0])["fundsInPlace"], 3_000_000);
    assert_eq!(october(&after[0])["progressNarrative"], "路基完成");
    assert_eq!(october(&after[1])["completedInvestment"], 888_000);
    // The project's year: August 100 + September 1234.5678 + October 88.8 万元.
    assert_eq!(after[1]["ytdInvestment"], 14_233_678);

    // The same file again: recognised, nothing new.
    let (status, body) = upload(&app, "r.xlsx", &file, &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["replayed"], true, "{body}");
    assert!(
        body["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["action"] == "unchanged")
    );
    assert_eq!(versions(&app, &[&c.quiet, &c.reporting]).await, after);

    // A changed figure for the reported month: refused without a reason, a correction with one.
    let mut fresh = template_grid(&app, "2026-10").await;
    set(&mut fresh, 1, Column::Investment, Cell::Text("90".into()));
    let (status, body) = upload(&app, "c.xlsx", &xlsx(&fresh), &[]).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        codes_of(&body),
        vec![(r(1), "I".into(), "CORRECTION_REASON_REQUIRED".into())]
    );
    set(
        &mut fresh,
        1,
        Column::CorrectionReason,
        Cell::Text("统计口径调整".into()),
    );
    let (status, body) = upload(&app, "c.xlsx", &xlsx(&fresh), &[]).await;
    assert_eq!(status, 200, "{body}");
    let corrected: Vec<&Value> = body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "corrected")
        .collect();
    assert_eq!(corrected.len(), 1, "{body}");
    assert_eq!(
        october(&versions(&app, &[&c.reporting]).await[0])["completedInvestment"],
        900_000
    );

    // The first template is stale now for that project: a change there is refused, naming what
    // was recorded since.
    let mut old = stale.clone();
    set(&mut old, 1, Column::Investment, Cell::Text("95".into()));
    set(&mut old, 1, Column::Funds, Cell::Text("0".into()));
    set(
        &mut old,
        1,
        Column::CorrectionReason,
        Cell::Text("再次调整".into()),
    );
    let (status, body) = upload(&app, "old.xlsx", &xlsx(&old), &[]).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        codes_of(&body),
        vec![(r(1), "N".into(), "PROJECT_CHANGED".into())]
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("InvestmentReportCorrected"),
        "{body}"
    );
    app.stop().await;
}

on_both_backends!(
    template_lists_the_projects_that_can_report,
    template_access_and_bad_requests,
    upload_round_trip,
);
