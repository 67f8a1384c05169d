//! The web workspace in a real headless Chromium (common/browser.rs: nothing but loopback can
//! be reached), on both backends with the demo county: every role signs in with its token and
//! sees who it is; the cockpit's figures are the API's answers to the same caller; a viewer gets
//! no write controls; a forged request without the CSRF token (or from another origin) is
//! refused; the big screen follows the `dashboard` subscription when a clerk's figure arrives;
//! and every page loads from this server only. Screenshots of the cockpit land in
//! `<target>/screenshots/`. One browser session per backend, several pages per session.
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
        }
        for r in browser.resources().await {
            assert!(r.starts_with(&app.url("/")), "loaded from outside: {r}");
        }
        if role == Role::Viewer {
            projects_pages(&browser, &app).await;
        }
        sign_out(&browser).await;
    }

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
    let today = county_today();
    let first_of_month = today.replace_day(1).unwrap();
    let last_closed = first_of_month.previous_day().unwrap();
    let period_start = last_closed.replace_day(1).unwrap();
    let list = app
        .gql_as(
            Role::Editor,
            "query($u: [String!]) { projects(filter: {unit: $u, stage: [CONTRACTED]}, first: 50) { nodes { id contractSignedDate } } }",
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
    let id = project["id"].as_str().unwrap();
    app.gql_as(
        Role::Editor,
        "mutation($id: ID!, $d: Date!) { startConstruction(input: {idempotencyKey: \"web-start\", projectId: $id, date: $d, evidence: \"开工令\"}) { result { readModel } } }",
        json!({"id": id, "d": start}),
    )
    .await
    .ok();
    let period = format!(
        "{}-{:02}",
        last_closed.year(),
        u8::from(last_closed.month())
    );
    app.gql_as(
        Role::Editor,
        "mutation($id: ID!, $p: Period!) { reportInvestment(input: {idempotencyKey: \"web-report\", projectId: $id, period: $p, completedInvestment: 12345000, fundsInPlace: 6000000}) { result { readModel } } }",
        json!({"id": id, "p": period}),
    )
    .await
    .ok();
    let after = app
        .gql_as(
            Role::Viewer,
            "query($y: Int!) { dashboard(year: $y) { ytdInvestment } }",
            json!({"y": year}),
        )
        .await;
    after.ok()["dashboard"]["ytdInvestment"].to_string()
}
