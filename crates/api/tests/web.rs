//! The web workspace in a real headless Chromium (common/browser.rs: nothing but loopback can
//! be reached), on both backends with the demo county: every role signs in with its token and
//! sees who it is; the cockpit's figures are the API's answers to the same caller; a viewer gets
//! no write controls; a forged request without the CSRF token (or from another origin) is
//! refused; the big screen follows the `dashboard` subscription when a clerk's figure arrives;
//! and every page loads from this server only; a clerk reports a month through the grid (checked
//! as typed, a refused row with the API's error, then one batch of a report and a correction)
//! and the cockpit's figure moves by exactly that; feedback and an extension through the
//! supervision page. Screenshots land in `<target>/screenshots/`, and the PostgreSQL run
//! rewrites the README's in `docs/screenshots/`. One browser session per backend, several pages per session.
//! PostgreSQL must run: `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`.

mod common;

use auth::Role;
use commands::CommandHandler;
use common::browser::Browser;
use common::*;
use eventstore::{AnyEventStore, Backend};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_workspace_on_postgres() {
    workspace(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_workspace_on_sqlite() {
    workspace(Backend::Sqlite).await;
}

fn county_today() -> time::Date {
    time::OffsetDateTime::now_utc()
        .to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap())
        .date()
}

/// Where screenshots go: `<target dir>/screenshots/`.
fn screenshot_path(name: &str) -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("screenshots").join(name)
}

/// The committed screenshots the README links (`docs/screenshots/`), rewritten by each run on
/// PostgreSQL.
fn docs_screenshot(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/screenshots")
        .join(name)
}

/// The last closed month, `YYYY-MM` (county time).
fn last_closed_period() -> String {
    let last = county_today()
        .replace_day(1)
        .unwrap()
        .previous_day()
        .unwrap();
    format!("{}-{:02}", last.year(), u8::from(last.month()))
}

/// Seeds the demo county through the command path into the running server's store and waits
/// until every projection has applied it.
async fn seed_demo(app: &TestApp) {
    let store = AnyEventStore::connect(&app.store.url(), 2)
        .await
        .expect("the store opens");
    let handler = CommandHandler::new(store.clone());
    let summary = demo::seed(&handler, county_today(), "演示数据 (test)")
        .await
        .expect("the demo county is seeded");
    store.database().close().await;
    let head = summary.head.expect("events were written");
    for _ in 0..1200 {
        let data = app
            .gql_as(Role::Admin, "{ projections { name position } }", json!({}))
            .await;
        let list = data.ok()["projections"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let names: Vec<&str> = list.iter().filter_map(|p| p["name"].as_str()).collect();
        let reached = |p: &Value| {
            p["position"]
                .as_str()
                .and_then(|p| p.split_once('/'))
                .and_then(|(c, p)| {
                    Some(eventstore::Position::new(c.parse().ok()?, p.parse().ok()?))
                })
                .is_some_and(|p| p >= head)
        };
        if projections::projection_names()
            .iter()
            .all(|n| names.contains(n))
            && list.iter().all(reached)
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the projections did not catch up with the demo county");
}

const DASHBOARD: &str = "query($year: Int!) { dashboard(year: $year) { ytdInvestment ytdFunds \
    planCompletionPct startRatePct performanceRatePct fundsInPlaceRatePct signedCount \
    expropriationAreaPct supervisionCloseRatePct redCount yellowCount greenCount \
    targets { metric completionPct light } unitRanking { unitId rank } \
    signedByInvestorType { investorType count investment } } }";

/// The cockpit's figures as the page shows them (the API's raw values in `data-*`).
async fn page_figures(browser: &Browser) -> Value {
    browser
        .script(
            "var o = {}; document.querySelectorAll('.kpi[data-k]').forEach(function (k) { \
               o[k.getAttribute('data-k')] = JSON.parse(k.getAttribute('data-value')); }); \
             var l = document.getElementById('light-counts'); \
             o.redCount = JSON.parse(l.getAttribute('data-red')); \
             o.yellowCount = JSON.parse(l.getAttribute('data-yellow')); \
             o.greenCount = JSON.parse(l.getAttribute('data-green')); \
             o.targets = Array.from(document.querySelectorAll('#targets tbody tr')).map(function (r) { \
               return {metric: r.getAttribute('data-metric'), completionPct: JSON.parse(r.getAttribute('data-completion')), \
                       light: JSON.parse(r.getAttribute('data-light'))}; }); \
             o.unitRanking = Array.from(document.querySelectorAll('#ranking tbody tr')).map(function (r) { \
               return {unitId: r.getAttribute('data-unit'), rank: JSON.parse(r.getAttribute('data-rank'))}; }); \
             o.signedByInvestorType = Array.from(document.querySelectorAll('#signed tbody tr')).map(function (r) { \
               return {investorType: JSON.parse(r.getAttribute('data-type')), count: JSON.parse(r.getAttribute('data-count')), \
                       investment: JSON.parse(r.getAttribute('data-investment'))}; }); \
             return o;",
        )
        .await
}

/// Numbers as f64, so that the page's JSON (read back by JavaScript, where `75.0` is `75`)
/// and the API's compare by value.
fn numbers_as_f64(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64()),
        Value::Array(a) => Value::Array(a.iter().map(numbers_as_f64).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), numbers_as_f64(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

async fn sign_in(browser: &Browser, app: &TestApp, role: Role) {
    browser.goto(&app.url("/signin")).await;
    browser
        .wait(
            "return !!document.getElementById('token');",
            "the sign-in form",
        )
        .await;
    browser
        .script(&format!(
            "document.getElementById('token').value = '{}'; \
             document.querySelector('.signin form').submit(); return true;",
            app.token(role)
        ))
        .await;
    let shown = browser
        .wait(
            "var r = document.getElementById('who-role'); return r ? r.getAttribute('data-role') : '';",
            "the signed-in header",
        )
        .await;
    assert_eq!(shown, json!(role.as_str()), "the header names the role");
}

async fn sign_out(browser: &Browser) {
    browser
        .script("document.querySelector('form[action=\"/signout\"] button').click(); return true;")
        .await;
    browser
        .wait(
            "return !!document.getElementById('token');",
            "the sign-in form after signing out",
        )
        .await;
}

async fn workspace(backend: Backend) {
    let app = spawn_on(backend).await;
    seed_demo(&app).await;
    let year = county_today().year();
    let browser = Browser::start().await;
    browser.window(1366, 768).await;

    // Signed out, the workspace sends the browser to sign in; a wrong token is refused there.
    browser.goto(&app.url("/")).await;
    browser
        .wait(
            "return !!document.getElementById('token');",
            "the sign-in form",
        )
        .await;
    browser
        .script("document.getElementById('token').value = 'tz_wrong'; document.querySelector('.signin form').submit(); return true;")
        .await;
    browser
        .wait(
            "var e = document.querySelector('.signin .error'); return e ? e.textContent : '';",
            "the refusal of a wrong token",
        )
        .await;

    for role in Role::ALL {
        sign_in(&browser, &app, role).await;
        browser
            .wait(
                "return document.querySelectorAll('[data-chart][data-drawn]').length >= 4;",
                "the cockpit's charts",
            )
            .await;
        let api = app.gql_as(role, DASHBOARD, json!({"year": year})).await;
        let expected = numbers_as_f64(&api.ok()["dashboard"]);
        let shown = numbers_as_f64(&page_figures(&browser).await);
        assert_eq!(
            shown, expected,
            "{backend} {role}: the cockpit shows the API's figures"
        );
        // One point per closed month in the monthly chart, from the API's as-of dashboards.
        let months = browser
            .script("return JSON.parse(document.getElementById('chart-monthly').getAttribute('data-series'));")
            .await;
        let closed = app
            .gql_as(
                role,
                "query($y: Int!) { dashboard(year: $y) { closedMonths } }",
                json!({"y": year}),
            )
            .await;
        assert_eq!(
            months["months"].as_array().map(Vec::len),
            closed.ok()["dashboard"]["closedMonths"]
                .as_u64()
                .map(|m| m as usize),
            "the monthly chart: {months}"
        );
        // Only the sign-out form changes anything on the cockpit, for every role.
        let writes = browser
            .script("return document.querySelectorAll('form[method=\"post\"]:not([action=\"/signout\"])').length;")
            .await;
        assert_eq!(writes, json!(0));
        if role == Role::Admin {
            // The knowledge-time picker: what the ledger held at a past moment, as the API says.
            let known_at = "2026-01-01T08:00";
            browser
                .goto(&app.url(&format!("/?knownAt={known_at}")))
                .await;
            browser
                .wait(
                    "return !!document.querySelector('.kpi[data-k=ytdInvestment]');",
                    "the cockpit at a past knowledge time",
                )
                .await;
            let then = app
                .gql_as(role, "query($y: Int!, $k: DateTime) { dashboard(year: $y, knownAt: $k) { ytdInvestment } }",
                        json!({"y": year, "k": format!("{known_at}:00+08:00")}))
                .await;
            assert_eq!(
                ytd_on_page(&browser).await,
                then.ok()["dashboard"]["ytdInvestment"].to_string()
            );
            browser.goto(&app.url("/")).await;
            browser
                .wait(
                    "return document.querySelectorAll('[data-chart][data-drawn]').length >= 4;",
                    "the cockpit again",
                )
                .await;
            browser
                .screenshot(&screenshot_path(&format!("cockpit-1366x768-{backend}.png")))
                .await;
            if backend == Backend::Postgres {
                browser
                    .screenshot(&docs_screenshot("cockpit-1366x768.png"))
                    .await;
            }
        }
        for r in browser.resources().await {
            assert!(r.starts_with(&app.url("/")), "loaded from outside: {r}");
        }
        if role == Role::Viewer {
            projects_pages(&browser, &app).await;
            read_only_pages(&browser, &app).await;
        }
        sign_out(&browser).await;
    }

    clerk_month(&browser, &app, backend, year).await;
    supervision_actions(&browser, &app).await;

    // A forged sign-out (another site's form: no CSRF token, or a foreign Origin) is refused.
    let cookie = format!("{}={}", web::SESSION_COOKIE, app.token(Role::Viewer));
    let forged = app
        .client
        .post(app.url("/signout"))
        .header("cookie", &cookie)
        .form(&[("csrf", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        forged.status(),
        403,
        "a POST without the CSRF token is refused"
    );
    let foreign = app
        .client
        .post(app.url("/signout"))
        .header("cookie", &cookie)
        .header("origin", "http://evil.example")
        .form(&[("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        foreign.status(),
        403,
        "a POST from another origin is refused"
    );

    // The big screen follows the subscription: a clerk's report changes its figure.
    sign_in(&browser, &app, Role::Viewer).await;
    browser.window(1920, 1080).await;
    browser.goto(&app.url("/bigscreen")).await;
    browser
        .wait(
            "var b = document.getElementById('bigscreen'); return !!b && b.getAttribute('data-live') === 'true';",
            "the big screen's live connection",
        )
        .await;
    let before = ytd_on_page(&browser).await;
    let new_ytd = report_for_a_new_start(&app, year).await;
    assert_ne!(new_ytd, before, "the report changes the figure");
    browser
        .wait(
            &format!(
                "var k = document.querySelector('#live .kpi[data-k=ytdInvestment]'); \
                 return !!k && k.getAttribute('data-value') === '{new_ytd}';"
            ),
            "the big screen to show the new figure",
        )
        .await;
    browser
        .screenshot(&screenshot_path(&format!(
            "bigscreen-1920x1080-{backend}.png"
        )))
        .await;
    if backend == Backend::Postgres {
        browser
            .screenshot(&docs_screenshot("bigscreen-1920x1080.png"))
            .await;
    }
    for r in browser.resources().await {
        assert!(r.starts_with(&app.url("/")), "loaded from outside: {r}");
    }
    browser.close().await;
    app.stop().await;
}

/// The ledger's list (a filter, its count and the API's), and a project's page.
async fn projects_pages(browser: &Browser, app: &TestApp) {
    browser.goto(&app.url("/projects?light=RED")).await;
    let total = browser
        .wait(
            "var c = document.getElementById('project-count'); return c ? c.getAttribute('data-total') : '';",
            "the project list",
        )
        .await;
    let api = app
        .gql_as(
            Role::Viewer,
            "{ projects(filter: {light: [RED]}, first: 1) { totalCount } all: projects(first: 20, orderBy: {field: REGISTERED_DATE, direction: DESC}) { totalCount nodes { id name timeline { totalCount } } } }",
            json!({}),
        )
        .await;
    let api = api.ok();
    assert_eq!(total, json!(api["projects"]["totalCount"].to_string()));
    browser.goto(&app.url("/projects")).await;
    browser
        .wait(
            "return document.querySelectorAll('#projects tbody tr').length > 0;",
            "the unfiltered list",
        )
        .await;
    let rows = browser
        .script("return Array.from(document.querySelectorAll('#projects tbody tr')).map(function (r) { return r.getAttribute('data-id'); });")
        .await;
    let ids: Vec<Value> = api["all"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].clone())
        .collect();
    assert_eq!(rows, json!(ids), "the first page is the API's first page");
    browser
        .script("document.querySelector('#projects tbody tr a').click(); return true;")
        .await;
    let name = browser
        .wait(
            "var h = document.getElementById('project-name'); return h ? h.firstChild.textContent.trim() : '';",
            "a project's page",
        )
        .await;
    let first = &api["all"]["nodes"][0];
    assert_eq!(name, first["name"]);
    let events = browser
        .script("return document.querySelectorAll('#timeline tbody tr').length;")
        .await;
    assert_eq!(
        events, first["timeline"]["totalCount"],
        "the whole timeline is shown"
    );
    browser
        .screenshot(&screenshot_path("project-1366x768.png"))
        .await;
}

async fn ytd_on_page(browser: &Browser) -> String {
    browser
        .script("return document.querySelector('.kpi[data-k=ytdInvestment]').getAttribute('data-value');")
        .await
        .as_str()
        .unwrap()
        .to_owned()
}

/// As the clerk, through the API: starts a contracted project of the clerk's units in the last
/// closed month and reports that month; returns the county's new `ytdInvestment`.
async fn report_for_a_new_start(app: &TestApp, year: i32) -> String {
    let (id, _, _) = start_a_contracted_project(app, "web-start").await;
    let id = id.as_str();
    let period = last_closed_period();
    app.gql_as(
        Role::Editor,
        "mutation($id: ID!, $p: Period!) { reportInvestment(input: {idempotencyKey: \"web-report\", projectId: $id, period: $p, completedInvestment: 12345000, fundsInPlace: 6000000}) { result { readModel } } }",
        json!({"id": id, "p": period}),
    )
    .await
    .ok();
    county_ytd(app, year).await.to_string()
}

/// Inputs without a label (every input, select and textarea a person can reach must have one).
async fn unlabelled(browser: &Browser) -> Value {
    browser
        .script("return Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea')) \
                   .filter(function (e) { return !e.labels || e.labels.length === 0; }).map(function (e) { return e.id || e.name; });")
        .await
}

/// Only sign-out changes anything on a page: no other form posts.
async fn write_forms(browser: &Browser) -> Value {
    browser
        .script("return document.querySelectorAll('form[method=\"post\"]:not([action=\"/signout\"]), details.action, #grid input:not([type=hidden])').length;")
        .await
}

/// A viewer reads the monthly grid and the supervision list, with no write control on either;
/// the grid's rows and the list's colours are the API's.
async fn read_only_pages(browser: &Browser, app: &TestApp) {
    let period = last_closed_period();
    browser
        .goto(&app.url(&format!("/monthly?unit=dev-zone&period={period}")))
        .await;
    browser
        .wait(
            "return !!document.getElementById('grid');",
            "the viewer's grid",
        )
        .await;
    assert_eq!(
        write_forms(browser).await,
        json!(0),
        "no write control on the grid"
    );
    let shown = browser
        .script("return Array.from(document.querySelectorAll('#grid td.recorded')).length;")
        .await;
    assert!(
        shown.as_u64().unwrap() > 0,
        "the recorded figures are shown"
    );
    for r in browser.resources().await {
        assert!(r.starts_with(&app.url("/")), "loaded from outside: {r}");
    }

    browser.goto(&app.url("/supervision")).await;
    browser
        .wait(
            "return !!document.getElementById('items');",
            "the supervision list",
        )
        .await;
    assert_eq!(
        write_forms(browser).await,
        json!(0),
        "no write control on supervision"
    );
    let rows = browser
        .script("return Array.from(document.querySelectorAll('#items tbody tr')).map(function (r) { \
                   return {id: r.getAttribute('data-item'), overdue: r.classList.contains('overdue'), dueSoon: r.classList.contains('due-soon')}; });")
        .await;
    let api = app
        .gql_as(
            Role::Viewer,
            "{ supervisionItems(filter: {status: [OPEN, CLOSURE_REQUESTED]}, first: 50) { nodes { id overdue dueSoon } } }",
            json!({}),
        )
        .await;
    let nodes = api.ok()["supervisionItems"]["nodes"].clone();
    assert!(
        !nodes.as_array().unwrap().is_empty(),
        "the demo county has open items"
    );
    assert!(
        nodes
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["overdue"] == true),
        "some are overdue"
    );
    assert_eq!(
        rows, nodes,
        "the list, its order and its colours are the API's"
    );
    for r in browser.resources().await {
        assert!(r.starts_with(&app.url("/")), "loaded from outside: {r}");
    }
}

/// Through the API as the clerk: starts a contracted project of the clerk's units in the last
/// closed month (the web has no start form); returns its global ID, UUID and unit.
async fn start_a_contracted_project(app: &TestApp, key: &str) -> (String, String, String) {
    let first_of_month = county_today().replace_day(1).unwrap();
    let last_closed = first_of_month.previous_day().unwrap();
    let period_start = last_closed.replace_day(1).unwrap();
    let list = app
        .gql_as(
            Role::Editor,
            "query($u: [String!]) { projects(filter: {unit: $u, stage: [CONTRACTED]}, first: 50) { nodes { id projectId unitId contractSignedDate } } }",
            json!({"u": EDITOR_UNITS}),
        )
        .await;
    let project = list.ok()["projects"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| {
            p["contractSignedDate"]
                .as_str()
                .is_some_and(|d| d <= last_closed.to_string().as_str())
        })
        .cloned()
        .expect("a contracted project of the clerk's units signed before this month");
    let signed = project["contractSignedDate"].as_str().unwrap().to_owned();
    let start = std::cmp::max(signed, period_start.to_string());
    app.gql_as(
        Role::Editor,
        "mutation($id: ID!, $d: Date!, $k: String!) { startConstruction(input: {idempotencyKey: $k, projectId: $id, date: $d, evidence: \"开工令\"}) { result { readModel } } }",
        json!({"id": project["id"], "d": start, "k": key}),
    )
    .await
    .ok();
    (
        project["id"].as_str().unwrap().to_owned(),
        project["projectId"].as_str().unwrap().to_owned(),
        project["unitId"].as_str().unwrap().to_owned(),
    )
}

async fn month_of(app: &TestApp, id: &str, period: &str) -> Value {
    let r = app
        .gql_as(
            Role::Viewer,
            "query($id: ID!) { project(id: $id) { monthlyInvestment { period completedInvestment fundsInPlace correctionCount progressNarrative } } }",
            json!({"id": id}),
        )
        .await;
    r.ok()["project"]["monthlyInvestment"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["period"] == json!(period))
        .cloned()
        .unwrap_or(Value::Null)
}

async fn county_ytd(app: &TestApp, year: i32) -> i64 {
    let r = app
        .gql_as(
            Role::Viewer,
            "query($y: Int!) { dashboard(year: $y) { ytdInvestment } }",
            json!({"y": year}),
        )
        .await;
    r.ok()["dashboard"]["ytdInvestment"].as_i64().unwrap()
}

/// A clerk reports a month through the grid: a cell is checked as typed, a refused row gets
/// the API's error and nothing is recorded, then one batch records a new report and a
/// correction, the page shows the recorded figures and the cockpit's figure moves by exactly
/// that (the API's answer). A POST without the CSRF token is refused and writes nothing.
async fn clerk_month(browser: &Browser, app: &TestApp, backend: Backend, year: i32) {
    let period = last_closed_period();
    let (id, uuid, unit) = start_a_contracted_project(app, "grid-start").await;
    sign_in(browser, app, Role::Editor).await;
    browser
        .goto(&app.url(&format!("/monthly?unit={unit}&period={period}")))
        .await;
    browser
        .wait(
            "return !!document.getElementById('grid-form');",
            "the clerk's grid",
        )
        .await;

    assert_eq!(
        unlabelled(browser).await,
        json!([]),
        "every cell of the grid is labelled"
    );
    // The rows are the unit's projects that the API says take a report for the month.
    let rows = browser
        .script("return Array.from(document.querySelectorAll('#grid tbody tr[data-project]')).map(function (r) { return r.getAttribute('data-project'); }).sort();")
        .await;
    let api = app
        .gql_as(
            Role::Editor,
            "query($u: [String!], $p: Period!) { projects(filter: {unit: $u}, first: 200) { nodes { id acceptsReportFor(period: $p) } } }",
            json!({"u": [&unit], "p": &period}),
        )
        .await;
    let mut expected: Vec<String> = api.ok()["projects"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["acceptsReportFor"] == true)
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect();
    expected.sort();
    assert_eq!(
        rows,
        json!(expected),
        "{backend}: the grid's rows are the API's"
    );
    assert!(expected.contains(&id), "the project just started is a row");

    // Beside the grid, the unit's spreadsheet template for the month: the link works with the
    // session cookie and gives a workbook a real reader opens, made for this unit and month.
    let href = browser
        .script("return document.getElementById('template-link').getAttribute('href');")
        .await;
    let cookie = format!("{}={}", web::SESSION_COOKIE, app.token(Role::Editor));
    let download = app
        .client
        .get(app.url(href.as_str().unwrap()))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), 200, "the template link downloads");
    let bytes = download.bytes().await.unwrap();
    let sheet = sheets::read_upload(Some("template.xlsx"), &bytes).expect("a workbook");
    assert_eq!(sheet.unit.as_deref(), Some(unit.as_str()));
    assert_eq!(sheet.period.map(|p| p.to_string()), Some(period.clone()));
    assert_eq!(
        sheet.rows.len() + sheet.unfilled.len(),
        expected.len(),
        "the template has the grid's projects"
    );

    // A reported row: its recorded figures are in the cells.
    let reported = browser
        .script("var r = document.querySelector('#grid tbody tr[data-reported=\"true\"]'); return r ? r.id.replace('row-', '') : '';")
        .await
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        !reported.is_empty(),
        "a row of the month is already reported"
    );
    let reported_id = browser
        .script(&format!(
            "return document.getElementById('row-{reported}').getAttribute('data-project');"
        ))
        .await
        .as_str()
        .unwrap()
        .to_owned();
    let original = month_of(app, &reported_id, &period).await;
    let shown = browser
        .script(&format!(
            "return document.getElementById('ci-{reported}').value;"
        ))
        .await;
    assert_eq!(
        shown
            .as_str()
            .map(|w| domain::Yuan::parse_wan(w).unwrap().get()),
        original["completedInvestment"].as_i64(),
        "the recorded figure, in 万元"
    );

    // Checked as typed, by keyboard: a fifth decimal is refused in the cell in both languages.
    browser
        .type_into(&format!("#ci-{uuid}"), "1.23456", false)
        .await;
    let msg = browser
        .wait(
            &format!("return document.getElementById('ci-{uuid}-msg').textContent;"),
            "the cell's message",
        )
        .await;
    let msg = msg.as_str().unwrap();
    assert!(
        msg.contains("4 位小数") && msg.contains("decimals"),
        "{msg}"
    );
    assert_eq!(
        browser
            .script(&format!(
                "return document.getElementById('ci-{uuid}').getAttribute('aria-invalid');"
            ))
            .await,
        json!("true")
    );
    browser
        .type_into(&format!("#ci-{uuid}"), "1,234.5678", true)
        .await;
    browser
        .type_into(&format!("#fi-{uuid}"), "６００", false)
        .await;
    browser
        .type_into(&format!("#pn-{uuid}"), "基础施工完成", false)
        .await;
    assert_eq!(
        browser
            .script(&format!(
                "return document.getElementById('ci-{uuid}-msg').textContent;"
            ))
            .await,
        json!(""),
        "a grouped amount and full-width digits are amounts"
    );
    // A changed figure of a reported month without a reason: the API refuses that row, and
    // the whole batch records nothing.
    let corrected_wan = if original["completedInvestment"] == json!(43_210_000) {
        "4321.5"
    } else {
        "4321"
    };
    browser
        .type_into(&format!("#ci-{reported}"), corrected_wan, true)
        .await;
    let before = county_ytd(app, year).await;
    browser
        .script("document.getElementById('grid-submit').click(); return true;")
        .await;
    let refusal = browser
        .wait(
            &format!("var e = document.getElementById('errors-{reported}'); return e ? e.textContent : '';"),
            "the refused row's error",
        )
        .await;
    assert!(
        refusal
            .as_str()
            .unwrap()
            .contains("INVESTMENT_ALREADY_REPORTED"),
        "{refusal}"
    );
    assert_eq!(
        month_of(app, &id, &period).await,
        Value::Null,
        "nothing recorded"
    );
    assert_eq!(county_ytd(app, year).await, before);
    assert_eq!(
        browser
            .script(&format!(
                "return document.getElementById('ci-{uuid}').value;"
            ))
            .await,
        json!("1,234.5678"),
        "what was typed is kept"
    );

    // With a reason the row is a correction; the grid goes as one batch.
    browser
        .type_into(&format!("#why-{reported}"), "核对发票后更正", false)
        .await;
    browser
        .script("document.getElementById('grid-submit').click(); return true;")
        .await;
    let saved = browser
        .wait(
            "var s = document.getElementById('saved'); return s ? s.getAttribute('data-saved') : '';",
            "the grid recorded",
        )
        .await;
    assert_eq!(saved, json!("2"), "one new report and one correction");
    let new = month_of(app, &id, &period).await;
    assert_eq!(new["completedInvestment"], json!(12_345_678));
    assert_eq!(new["fundsInPlace"], json!(6_000_000));
    assert_eq!(new["progressNarrative"], json!("基础施工完成"));
    let fixed = month_of(app, &reported_id, &period).await;
    let corrected = domain::Yuan::parse_wan(corrected_wan).unwrap().get();
    assert_eq!(fixed["completedInvestment"], json!(corrected));
    assert_eq!(
        fixed["correctionCount"].as_i64().unwrap(),
        original["correctionCount"].as_i64().unwrap() + 1
    );
    // Read-your-writes: the page, loaded after the write, shows what was recorded.
    assert_eq!(
        browser
            .script(&format!("return [document.getElementById('ci-{uuid}').value, document.getElementById('ci-{reported}').value, document.getElementById('row-{uuid}').getAttribute('data-reported')];"))
            .await,
        json!(["1234.5678", domain::Yuan::new(corrected).unwrap().to_wan_string(), "true"])
    );
    if backend == Backend::Postgres {
        browser
            .screenshot(&docs_screenshot("monthly-1366x768.png"))
            .await;
    }
    browser
        .screenshot(&screenshot_path(&format!("monthly-1366x768-{backend}.png")))
        .await;
    for r in browser.resources().await {
        assert!(r.starts_with(&app.url("/")), "loaded from outside: {r}");
    }

    // The cockpit's figure moved by exactly the new report and the correction.
    let after = county_ytd(app, year).await;
    if period.starts_with(&year.to_string()) {
        let delta = 12_345_678 + corrected - original["completedInvestment"].as_i64().unwrap();
        assert_eq!(
            after - before,
            delta,
            "the county's YTD moved by the grid's figures"
        );
    }
    browser.goto(&app.url("/")).await;
    browser
        .wait(
            "return !!document.querySelector('.kpi[data-k=ytdInvestment]');",
            "the cockpit after the grid",
        )
        .await;
    assert_eq!(
        ytd_on_page(browser).await,
        after.to_string(),
        "the cockpit shows it"
    );

    // A forged grid (no CSRF token) is refused and records nothing.
    let cookie = format!("{}={}", web::SESSION_COOKIE, app.token(Role::Editor));
    let forged = app
        .client
        .post(app.url("/monthly"))
        .header("cookie", &cookie)
        .form(&[
            ("unit", unit.as_str()),
            ("period", period.as_str()),
            (&format!("ci:{uuid}"), "9999"),
            (&format!("fi:{uuid}"), "1"),
            (&format!("why:{uuid}"), "forged"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        forged.status(),
        403,
        "a grid without the CSRF token is refused"
    );
    assert_eq!(month_of(app, &id, &period).await, new, "nothing recorded");
    sign_out(browser).await;
}

async fn item_state(app: &TestApp, item: &str) -> Value {
    let r = app
        .gql_as(
            Role::Viewer,
            "{ supervisionItems(first: 50) { nodes { itemId feedbackCount deadlineDate status } } }",
            json!({}),
        )
        .await;
    r.ok()["supervisionItems"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["itemId"] == json!(item))
        .cloned()
        .unwrap()
}

/// The supervision office and a unit's clerk act on items through the page: the clerk gives
/// feedback on an item of its unit (and sees no supervision-office controls), the office
/// extends a deadline; each lands in the API. A forged action is refused.
async fn supervision_actions(browser: &Browser, app: &TestApp) {
    sign_in(browser, app, Role::Editor).await;
    browser.goto(&app.url("/supervision")).await;
    browser
        .wait(
            "return !!document.getElementById('items');",
            "the clerk's supervision list",
        )
        .await;
    let office_controls = browser
        .script("return document.querySelectorAll('form[data-action=extend], form[data-action=close], form[data-action=return]').length;")
        .await;
    assert_eq!(
        office_controls,
        json!(0),
        "a clerk gets no close-out, return or extension"
    );
    assert_eq!(
        unlabelled(browser).await,
        json!([]),
        "every action field is labelled"
    );
    let item = browser
        .script("var f = document.querySelector('form[data-action=feedback]'); return f ? f.querySelector('input[name=itemId]').value : '';")
        .await
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        !item.is_empty(),
        "the clerk may give feedback on its units' items"
    );
    let before = item_state(app, &item).await;
    browser
        .script(&format!("document.querySelector('#item-{item} form[data-action=feedback]').closest('details').open = true; return true;"))
        .await;
    browser
        .type_into(
            &format!("#feedback-content-{item}"),
            "已完成交地，设备进场",
            false,
        )
        .await;
    browser
        .script(&format!("document.querySelector('#item-{item} form[data-action=feedback] button').click(); return true;"))
        .await;
    browser
        .wait(
            "return !!document.getElementById('done');",
            "the feedback recorded",
        )
        .await;
    let after = item_state(app, &item).await;
    assert_eq!(
        after["feedbackCount"].as_i64().unwrap(),
        before["feedbackCount"].as_i64().unwrap() + 1
    );
    let cookie = format!("{}={}", web::SESSION_COOKIE, app.token(Role::Editor));
    let forged = app
        .client
        .post(app.url("/supervision"))
        .header("cookie", &cookie)
        .form(&[
            ("action", "feedback"),
            ("item", item.as_str()),
            ("content", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        forged.status(),
        403,
        "an action without the CSRF token is refused"
    );
    // The close-out request of an item the clerk's unit leads.
    let requested = browser
        .script("var f = document.querySelector('tr[data-status=OPEN] form[data-action=\"request-closure\"]'); return f ? f.querySelector('input[name=itemId]').value : '';")
        .await
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        !requested.is_empty(),
        "the clerk may ask to close its unit's items"
    );
    browser
        .script(&format!("document.querySelector('#item-{requested} form[data-action=\"request-closure\"]').closest('details').open = true; return true;"))
        .await;
    browser
        .type_into(
            &format!("#request-closure-summary-{requested}"),
            "已交地开工，申请销号",
            false,
        )
        .await;
    browser
        .script(&format!("document.querySelector('#item-{requested} form[data-action=\"request-closure\"] button').click(); return true;"))
        .await;
    browser
        .wait(
            "return !!document.getElementById('done');",
            "the close-out request recorded",
        )
        .await;
    assert_eq!(
        item_state(app, &requested).await["status"],
        json!("CLOSURE_REQUESTED")
    );
    sign_out(browser).await;

    // The office extends a deadline.
    sign_in(browser, app, Role::Supervisor).await;
    browser.goto(&app.url("/supervision")).await;
    let item = browser
        .wait(
            "var f = document.querySelector('tr[data-status=OPEN] form[data-action=extend]'); return f ? f.querySelector('input[name=itemId]').value : '';",
            "an open item the office may extend",
        )
        .await
        .as_str()
        .unwrap()
        .to_owned();
    let before = item_state(app, &item).await;
    let deadline = domain::period::parse_date(before["deadlineDate"].as_str().unwrap()).unwrap()
        + time::Duration::days(30);
    browser
        .script(&format!(
            "var f = document.querySelector('#item-{item} form[data-action=extend]'); f.closest('details').open = true; \
             f.querySelector('input[name=deadline]').value = '{deadline}'; return true;"
        ))
        .await;
    browser
        .type_into(&format!("#extend-reason-{item}"), "征迁协调需要时间", false)
        .await;
    browser
        .script(&format!("document.querySelector('#item-{item} form[data-action=extend] button').click(); return true;"))
        .await;
    browser
        .wait(
            "return !!document.getElementById('done');",
            "the extension recorded",
        )
        .await;
    assert_eq!(
        item_state(app, &item).await["deadlineDate"],
        json!(deadline.to_string())
    );
    // A return of an item whose close-out nobody asked for: the API's refusal, on the page.
    browser
        .script(&format!(
            "var f = document.querySelector('#item-{item} form[data-action=return]'); f.closest('details').open = true; return true;"
        ))
        .await;
    browser
        .type_into(&format!("#return-reason-{item}"), "材料不全", false)
        .await;
    browser
        .script(&format!("document.querySelector('#item-{item} form[data-action=return] button').click(); return true;"))
        .await;
    let refusal = browser
        .wait(
            "var e = document.getElementById('action-error'); return e ? e.textContent : '';",
            "the refused return",
        )
        .await;
    assert!(
        refusal.as_str().unwrap().contains("CLOSURE_NOT_REQUESTED"),
        "{refusal}"
    );
    // The close-out the clerk asked for.
    browser.goto(&app.url("/supervision")).await;
    browser
        .wait(
            &format!(
                "return !!document.querySelector('#item-{requested} form[data-action=close]');"
            ),
            "the close-out form",
        )
        .await;
    browser
        .script(&format!("var f = document.querySelector('#item-{requested} form[data-action=close]'); f.closest('details').open = true; f.querySelector('button').click(); return true;"))
        .await;
    browser
        .wait(
            "return !!document.getElementById('done');",
            "the close-out recorded",
        )
        .await;
    assert_eq!(item_state(app, &requested).await["status"], json!("CLOSED"));
    for r in browser.resources().await {
        assert!(r.starts_with(&app.url("/")), "loaded from outside: {r}");
    }
    sign_out(browser).await;
}
