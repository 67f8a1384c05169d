//! A project's whole life through the API's mutations, the figures after it, retries, races,
//! and one error of every class — each test once on PostgreSQL and once on SQLite (the modules
//! `postgres` and `sqlite` at the end).

#[macro_use]
mod common;

use common::*;
use eventstore::Backend;
use serde_json::{Value, json};

const PROJECT_FIELDS: &str = "projectId version stage status contractInvestment cumulativeInvestment plannedInvestment startDate";

async fn project_mutation(app: &TestApp, name: &str, input: Value) -> Reply {
    app.gql(
        &format!(
            "mutation($input: {}Input!) {{ {name}(input: $input) {{ result {{ version replayed readModel events {{ type version }} }} project {{ {PROJECT_FIELDS} }} }} }}",
            upper_first(name)
        ),
        json!({"input": input}),
    )
    .await
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

async fn lifecycle_dashboard_retries_and_timeline(backend: Backend) {
    let app = spawn_on(backend).await;
    let id = unit_and_project(&app, "register-1").await;
    let with = |key: &str, extra: Value| {
        let mut v = json!({"idempotencyKey": key, "projectId": id});
        if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
            o.extend(e);
        }
        v
    };
    let r = project_mutation(
        &app,
        "signAgreement",
        with(
            "sign-formal",
            json!({"kind": "FORMAL", "date": "2026-03-10", "contractInvestment": 200000000,
                   "fixedAssetInvestment": 150000000, "landDemand": "100.5", "plannedStart": "2026-05",
                   "plannedCompletion": "2027-06", "plannedProduction": "2027-09"}),
        ),
    )
    .await;
    let p = &r.ok()["signAgreement"];
    assert_eq!(p["result"]["readModel"], "CAUGHT_UP");
    assert_eq!(p["project"]["stage"], "CONTRACTED");
    assert_eq!(p["project"]["contractInvestment"], 200_000_000);
    project_mutation(
        &app,
        "setAnnualPlan",
        with(
            "plan-2026",
            json!({"year": 2026, "plannedInvestment": 60000000, "plannedStartMonth": "2026-05", "kind": "ORIGINAL"}),
        ),
    )
    .await
    .ok();
    let r = project_mutation(
        &app,
        "startConstruction",
        with(
            "start",
            json!({"date": "2026-05-20", "evidence": "施工许可证"}),
        ),
    )
    .await;
    assert_eq!(
        r.ok()["startConstruction"]["project"]["stage"],
        "UNDER_CONSTRUCTION"
    );
    for month in 5..=10 {
        let period = format!("2026-{month:02}");
        let r = project_mutation(
            &app,
            "reportInvestment",
            with(
                &format!("report-{period}"),
                json!({"period": period, "completedInvestment": 5000000, "fundsInPlace": 4000000}),
            ),
        )
        .await;
        r.ok();
    }
    // A retry of an accepted command changes nothing and returns the first result.
    let again = project_mutation(
        &app,
        "reportInvestment",
        with(
            "report-2026-10",
            json!({"period": "2026-10", "completedInvestment": 5000000, "fundsInPlace": 4000000}),
        ),
    )
    .await;
    let again = &again.ok()["reportInvestment"];
    assert_eq!(again["result"]["replayed"], true);
    assert_eq!(again["project"]["cumulativeInvestment"], 30_000_000);
    // The same key with other figures is another command, not a retry: refused, every time.
    for _ in 0..2 {
        let other = project_mutation(
            &app,
            "reportInvestment",
            with(
                "report-2026-10",
                json!({"period": "2026-10", "completedInvestment": 1, "fundsInPlace": 1}),
            ),
        )
        .await;
        assert_eq!(other.code(), "IDEMPOTENCY_KEY_REUSED", "{}", other.body);
        assert_eq!(
            other.body["errors"][0]["extensions"]["field"],
            "idempotencyKey"
        );
    }
    // The same key on another project is refused.
    let other = unit_and_project(&app, "register-2").await;
    let contact = |project: &str| {
        json!({"idempotencyKey": "contact-key", "projectId": project, "kind": "VISIT",
               "date": "2026-02-03", "leaderLevel": "县级", "summary": "洽谈"})
    };
    project_mutation(&app, "logContact", contact(&id))
        .await
        .ok();
    let reused = project_mutation(&app, "logContact", contact(&other)).await;
    assert_eq!(reused.code(), "IDEMPOTENCY_KEY_REUSED", "{}", reused.body);
    assert_eq!(reused.class(), "CONFLICT");
    // A correction, shown with its before and after in the timeline.
    project_mutation(
        &app,
        "correctInvestmentReport",
        with(
            "correct-07",
            json!({"period": "2026-07", "completedInvestment": 6000000, "fundsInPlace": 4000000, "reason": "漏报设备款"}),
        ),
    )
    .await
    .ok();
    let d = app
        .gql(
            "{ dashboard(year: 2026) { projectCount ytdInvestment ytdFunds plannedInvestment planCompletionPct
                 signedCount signedInvestment signedBigCount signedIndustrial10mCount contractedCount
                 startDueCount startStartedCount startRatePct
                 signedByInvestorType { investorType count investment } sizeClasses { sizeClass count } }
               past: dashboard(year: 2026, asOf: \"2026-01-31\") { projectCount ytdInvestment asOf } }",
            json!({}),
        )
        .await;
    let data = d.ok();
    let dash = &data["dashboard"];
    // 6 months of 500万, one corrected to 600万; the plan is 6000万.
    assert_eq!(dash["ytdInvestment"], 31_000_000, "{dash}");
    assert_eq!(dash["ytdFunds"], 24_000_000);
    assert_eq!(dash["plannedInvestment"], 60_000_000);
    assert_eq!(dash["planCompletionPct"], 51.67);
    assert_eq!(dash["projectCount"], 2);
    assert_eq!(dash["signedCount"], 1);
    assert_eq!(dash["signedInvestment"], 200_000_000);
    assert_eq!(dash["signedBigCount"], 1);
    assert_eq!(dash["signedIndustrial10mCount"], 1);
    assert_eq!(dash["contractedCount"], 1);
    assert_eq!(
        (
            dash["startDueCount"].clone(),
            dash["startStartedCount"].clone()
        ),
        (json!(1), json!(1))
    );
    assert_eq!(dash["startRatePct"], 100.0);
    assert_eq!(
        dash["signedByInvestorType"],
        json!([{"investorType": "PRIVATE", "count": 1, "investment": 200000000}])
    );
    assert_eq!(
        dash["sizeClasses"],
        json!([{"sizeClass": "FROM_100M_TO_1B", "count": 2}])
    );
    // As the ledger stood at the end of 2026-01-31: nothing was recorded yet.
    assert_eq!(data["past"]["projectCount"], 0);
    assert_eq!(data["past"]["asOf"], "2026-01-31");

    let t = app
        .gql(
            "query($id: ID!) { project(id: $id) { id name monthlyInvestment { period completedInvestment reportedCompletedInvestment correctionCount }
                 timeline(first: 3) { totalCount edges { cursor node { type version actor summary businessDate
                   correction { period reason before { completedInvestment revision } after { completedInvestment revision } } } } } } }",
            json!({"id": id}),
        )
        .await;
    let project = &t.ok()["project"];
    let july = &project["monthlyInvestment"][2];
    assert_eq!(july["period"], "2026-07");
    assert_eq!(july["completedInvestment"], 6_000_000);
    assert_eq!(july["reportedCompletedInvestment"], 5_000_000);
    assert_eq!(july["correctionCount"], 1);
    let timeline = &project["timeline"];
    // registered, signed, plan, started, 6 reports, a contact, the correction
    assert_eq!(timeline["totalCount"], 12);
    let newest = &timeline["edges"][0]["node"];
    assert_eq!(newest["type"], "InvestmentReportCorrected");
    // The actor is the token that wrote it: its name and id.
    assert_eq!(newest["actor"], app.actor(auth::Role::Editor));
    assert_eq!(
        newest["correction"],
        json!({"period": "2026-07", "reason": "漏报设备款",
               "before": {"completedInvestment": 5000000, "revision": 0},
               "after": {"completedInvestment": 6000000, "revision": 1}})
    );
    assert!(timeline["edges"][1]["node"]["correction"].is_null());
    // The global ID reaches the same project through `node`.
    let gid = project["id"].as_str().unwrap();
    let n = app
        .gql(
            "query($id: ID!) { node(id: $id) { id ... on Project { name } } }",
            json!({"id": gid}),
        )
        .await;
    assert_eq!(n.ok()["node"]["name"], "新能源电池项目");

    // Completion and production move the stage on; the events feed shows it all in order.
    project_mutation(
        &app,
        "completeConstruction",
        with("complete", json!({"date": "2026-11-01"})),
    )
    .await
    .ok();
    let r = project_mutation(
        &app,
        "startProduction",
        with("produce", json!({"date": "2026-11-10", "kind": "FULL"})),
    )
    .await;
    assert_eq!(
        r.ok()["startProduction"]["project"]["stage"],
        "IN_PRODUCTION"
    );
    let e = app
        .gql(
            "{ events(first: 100, filter: {categories: [\"project\"]}) { totalCount pageInfo { hasNextPage endCursor } nodes { type version actor stream } } }",
            json!({}),
        )
        .await;
    let nodes = e.ok()["events"]["nodes"].as_array().unwrap().clone();
    let ours: Vec<i64> = nodes
        .iter()
        .filter(|n| n["stream"] == format!("project-{id}"))
        .map(|n| n["version"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ours,
        (0..14).collect::<Vec<_>>(),
        "every event of the project, in order"
    );
    // Every project event in the store is counted, whatever the page size.
    assert_eq!(
        e.ok()["events"]["totalCount"].as_i64(),
        Some(nodes.len() as i64),
        "one page holds every project event here"
    );
    assert_eq!(e.ok()["events"]["pageInfo"]["hasNextPage"], false);
    let v = app
        .gql(
            "{ ledgerVerification { ok events mismatchCount } projections { name state } }",
            json!({}),
        )
        .await;
    assert_eq!(v.ok()["ledgerVerification"]["ok"], true);
    app.stop().await;
}

async fn concurrent_conflicting_writes(backend: Backend) {
    let app = spawn_on(backend).await;
    let id = unit_and_project_of_kind(&app, "register-race", "GOVERNMENT").await;
    let input = |key: &str, expected: Option<i64>| {
        json!({"idempotencyKey": key, "projectId": id, "expectedVersion": expected,
               "kind": "VISIT", "date": "2026-02-03", "leaderLevel": "县级", "summary": key})
    };
    // Two clerks edit the same version: one wins, the other gets CONFLICT with the version now.
    let (a, b) = tokio::join!(
        project_mutation(&app, "logContact", input("a", Some(0))),
        project_mutation(&app, "logContact", input("b", Some(0)))
    );
    let (ok, refused): (Vec<_>, Vec<_>) = [a, b]
        .into_iter()
        .partition(|r| r.body.get("errors").is_none());
    assert_eq!((ok.len(), refused.len()), (1, 1), "exactly one wins");
    assert_eq!(refused[0].code(), "CONFLICT");
    assert_eq!(
        refused[0].body["errors"][0]["extensions"]["currentVersion"],
        1
    );
    assert_eq!(
        refused[0].body["errors"][0]["extensions"]["field"],
        "expectedVersion"
    );
    // Two reports of the same month under different keys: the rules let one through.
    let start = json!({"idempotencyKey": "start", "projectId": id, "date": "2026-04-01", "evidence": "开工令"});
    project_mutation(&app, "startConstruction", start)
        .await
        .ok();
    let report = |key: &str, amount: i64| json!({"idempotencyKey": key, "projectId": id, "period": "2026-09", "completedInvestment": amount, "fundsInPlace": 0});
    let (a, b) = tokio::join!(
        project_mutation(&app, "reportInvestment", report("r1", 100)),
        project_mutation(&app, "reportInvestment", report("r2", 200))
    );
    let refused: Vec<_> = [a, b]
        .into_iter()
        .filter(|r| r.body.get("errors").is_some())
        .collect();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].code(), "INVESTMENT_ALREADY_REPORTED");
    assert_eq!(refused[0].class(), "CONFLICT");
    assert_eq!(
        refused[0].body["errors"][0]["extensions"]["field"],
        "period"
    );
    assert!(refused[0].body["errors"][0]["extensions"]["hint"].is_string());
    app.stop().await;
}

async fn every_error_class(backend: Backend) {
    let app = spawn_on_with(backend, |c| c.serve.limits.max_page = 20).await;
    let id = unit_and_project(&app, "register-errors").await;
    // VALIDATION from the domain's parsers: code, field, both languages.
    let r = project_mutation(
        &app,
        "reportInvestment",
        json!({"idempotencyKey": "neg", "projectId": id, "period": "2026-09", "completedInvestment": -5, "fundsInPlace": 0}),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.code(), "MONEY_OUT_OF_RANGE");
    assert_eq!(r.class(), "VALIDATION");
    let ext = &r.body["errors"][0]["extensions"];
    assert_eq!(ext["field"], "completedInvestment");
    assert!(ext["messageZh"].as_str().unwrap().contains("金额"));
    let r = project_mutation(
        &app,
        "reportInvestment",
        json!({"idempotencyKey": "month13", "projectId": id, "period": "2026-13", "completedInvestment": 1, "fundsInPlace": 0}),
    )
    .await;
    assert_eq!((r.code(), r.class()), ("PERIOD_INVALID", "VALIDATION"));
    // A rule of the domain.
    let r = project_mutation(
        &app,
        "reportInvestment",
        json!({"idempotencyKey": "early", "projectId": id, "period": "2026-09", "completedInvestment": 1, "fundsInPlace": 0}),
    )
    .await;
    assert_eq!(
        (r.code(), r.class()),
        ("INVESTMENT_BEFORE_START", "VALIDATION")
    );
    // VALIDATION from GraphQL itself (unknown field): a request error, still with a code.
    let r = app.gql("{ projects { nope } }", json!({})).await;
    assert_eq!((r.status, r.code()), (200, "VALIDATION"));
    assert!(r.body.get("data").is_none());
    // NOT_FOUND.
    let missing = "0190aaaa-0000-7000-8000-000000000000";
    let r = project_mutation(
        &app,
        "logContact",
        json!({"idempotencyKey": "ghost", "projectId": missing, "kind": "VISIT", "date": "2026-02-03", "leaderLevel": "县级", "summary": "x"}),
    )
    .await;
    // The only role that writes projects is the editor, and the unit of a project that does not
    // exist is unknown: access control says no before the rules could say "not found".
    assert_eq!((r.code(), r.class()), ("FORBIDDEN", "FORBIDDEN"));
    let r = app
        .gql(
            r#"mutation($id: ID!) { extendDeadline(input: {idempotencyKey: "ghost", itemId: $id, deadline: "2026-12-31", reason: "x", date: "2026-02-03"}) { item { itemId } } }"#,
            json!({"id": missing}),
        )
        .await;
    assert_eq!(
        (r.code(), r.class()),
        ("SUPERVISION_ITEM_NOT_FOUND", "NOT_FOUND")
    );
    assert!(
        app.gql(
            "query($id: ID!) { project(id: $id) { name } }",
            json!({"id": missing})
        )
        .await
        .ok()["project"]
            .is_null()
    );
    let r = app
        .gql(
            r#"mutation { registerProject(input: {idempotencyKey: "k", name: "x", kind: GOVERNMENT, investorName: "x",
                investorType: OTHER, industryChain: "x", industrial: false, intendedInvestment: 1,
                responsibleUnit: "nowhere", leadOfficial: "x", date: "2026-02-01"}) { project { name } } }"#,
            json!({}),
        )
        .await;
    assert_eq!((r.code(), r.class()), ("UNIT_NOT_FOUND", "NOT_FOUND"));
    // CONFLICT is covered by `concurrent_conflicting_writes`; LIMIT_EXCEEDED by a page too large.
    let r = app
        .gql("{ projects(first: 21) { totalCount } }", json!({}))
        .await;
    assert_eq!((r.code(), r.class()), ("LIMIT_EXCEEDED", "LIMIT_EXCEEDED"));
    // Without a token: UNAUTHENTICATED, before anything is run.
    let r = app
        .gql_with(
            None,
            &format!(r#"mutation {{ logContact(input: {{idempotencyKey: "anon", projectId: "{id}", kind: VISIT, date: "2026-02-03", leaderLevel: "x", summary: "x"}}) {{ result {{ version }} }} }}"#),
            json!({}),
        )
        .await;
    assert_eq!((r.status, r.code()), (401, "UNAUTHENTICATED"));
    // A cursor that is not ours: VALIDATION, never a 500.
    let r = app
        .gql("{ projects(after: \"!!\") { totalCount } }", json!({}))
        .await;
    assert_eq!((r.status, r.code()), (200, "VALIDATION"));
    // INTERNAL: a database failure is reported without details.
    match &app.store {
        TestStore::Postgres(db) => {
            sqlx::query("ALTER TABLE reporting.units RENAME TO units_away")
                .execute(&db.pool(1).await)
                .await
                .unwrap();
        }
        TestStore::Sqlite(path) => {
            let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            sqlx::query("ALTER TABLE reporting_units RENAME TO units_away")
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
    }
    let r = app.gql("{ units { name } }", json!({})).await;
    assert_eq!((r.status, r.code()), (200, "INTERNAL"));
    assert!(
        !r.body.to_string().contains("units_away")
            && !r.body.to_string().contains("relation")
            && !r.body.to_string().contains("no such table")
    );
    app.stop().await;
}

async fn batch_of_reports_is_all_or_nothing_and_retryable(backend: Backend) {
    let app = spawn_on(backend).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let id = unit_and_project_of_kind(&app, &format!("register-batch-{i}"), "GOVERNMENT").await;
        let start = json!({"idempotencyKey": format!("start-{i}"), "projectId": id, "date": "2026-04-01", "evidence": "开工令"});
        project_mutation(&app, "startConstruction", start)
            .await
            .ok();
        ids.push(id);
    }
    let batch = |amounts: [i64; 3], period_of_last: &str| {
        json!({"input": {"idempotencyKey": "october", "items": ids.iter().zip(amounts).enumerate().map(|(i, (id, a))| json!({
            "projectId": id, "period": if i == 2 { period_of_last } else { "2026-10" },
            "completedInvestment": a, "fundsInPlace": 0})).collect::<Vec<_>>()}})
    };
    let q = "mutation($input: ReportInvestmentsInput!) { reportInvestments(input: $input) { items { result { replayed readModel } project { cumulativeInvestment } } } }";
    // The third is refused (a period before the start): nothing at all is written.
    let r = app.gql(q, batch([1, 2, 3], "2026-03")).await;
    assert_eq!(r.code(), "PERIOD_BEFORE_START", "{}", r.body);
    assert_eq!(r.body["errors"][0]["extensions"]["item"], 2);
    let total = app
        .gql("{ dashboard(year: 2026) { ytdInvestment } }", json!({}))
        .await;
    assert_eq!(total.ok()["dashboard"]["ytdInvestment"], 0);
    // Fixed, the batch lands; sent again, it writes nothing more.
    let r = app.gql(q, batch([1, 2, 3], "2026-10")).await;
    let items = r.ok()["reportInvestments"]["items"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(items.len(), 3);
    assert!(
        items
            .iter()
            .all(|i| i["result"]["replayed"] == false && i["result"]["readModel"] == "CAUGHT_UP")
    );
    assert_eq!(items[2]["project"]["cumulativeInvestment"], 3);
    let r = app.gql(q, batch([1, 2, 3], "2026-10")).await;
    let items = r.ok()["reportInvestments"]["items"]
        .as_array()
        .unwrap()
        .clone();
    assert!(items.iter().all(|i| i["result"]["replayed"] == true));
    let total = app
        .gql("{ dashboard(year: 2026) { ytdInvestment } }", json!({}))
        .await;
    assert_eq!(total.ok()["dashboard"]["ytdInvestment"], 6);
    app.stop().await;
}

/// The issue's reports over HTTP: a key reused for another month, one project and month named
/// twice in a batch, and ten batches at once sharing four items.
async fn reused_keys_and_concurrent_batches(backend: Backend) {
    let app = spawn_on(backend).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let id = unit_and_project_of_kind(&app, &format!("register-race-{i}"), "GOVERNMENT").await;
        let start = json!({"idempotencyKey": format!("start-{i}"), "projectId": id, "date": "2026-04-01", "evidence": "开工令"});
        project_mutation(&app, "startConstruction", start)
            .await
            .ok();
        ids.push(id);
    }
    let ytd = || async {
        app.gql("{ dashboard(year: 2026) { ytdInvestment } }", json!({}))
            .await
            .ok()["dashboard"]["ytdInvestment"]
            .as_i64()
            .unwrap()
    };
    // Key K for April, then K for May with another amount: May is refused, April stays.
    let report = |period: &str, amount: i64| json!({"idempotencyKey": "K", "projectId": ids[4], "period": period, "completedInvestment": amount, "fundsInPlace": 0});
    project_mutation(&app, "reportInvestment", report("2026-04", 5))
        .await
        .ok();
    let may = project_mutation(&app, "reportInvestment", report("2026-05", 6)).await;
    assert_eq!(may.code(), "IDEMPOTENCY_KEY_REUSED", "{}", may.body);
    let ext = &may.body["errors"][0]["extensions"];
    assert_eq!(ext["field"], "idempotencyKey");
    assert!(ext["messageZh"].as_str().unwrap().contains("幂等键"));
    assert!(
        may.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("different command")
    );
    assert_eq!(ytd().await, 5);

    let q = "mutation($input: ReportInvestmentsInput!) { reportInvestments(input: $input) { items { result { replayed } project { cumulativeInvestment } } } }";
    // One project and month twice in a batch (111, then 999): refused, naming both, and nothing
    // of the batch written.
    let twice = json!({"input": {"idempotencyKey": "twice", "items": [
        {"projectId": ids[4], "period": "2026-06", "completedInvestment": 7, "fundsInPlace": 0},
        {"projectId": ids[4], "period": "2026-10", "completedInvestment": 111, "fundsInPlace": 0},
        {"projectId": ids[4], "period": "2026-10", "completedInvestment": 999, "fundsInPlace": 0},
    ]}});
    let r = app.gql(q, twice).await;
    assert_eq!(r.code(), "VALIDATION", "{}", r.body);
    let ext = &r.body["errors"][0]["extensions"];
    assert_eq!(
        (ext["item"].clone(), ext["field"].clone()),
        (json!(2), json!("period"))
    );
    let message = r.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("items[1] and items[2]"), "{message}");
    assert!(
        ext["messageZh"]
            .as_str()
            .unwrap()
            .contains("items[1] 与 items[2]")
    );
    assert_eq!(ytd().await, 5);

    // Ten batches at once: each reports October for the four shared projects and one month of
    // its own (a project and month no other batch names). One lands; the others write nothing.
    let months = [
        "2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-11",
    ];
    let batch = |i: usize| {
        let mut items: Vec<Value> = (0..4)
            .map(|p| {
                json!({"projectId": ids[p], "period": "2026-10",
                            "completedInvestment": i + 1, "fundsInPlace": 0})
            })
            .collect();
        items.push(json!({"projectId": ids[i % 4], "period": months[i % 7],
                          "completedInvestment": 1000 * (i + 1), "fundsInPlace": 0}));
        items.rotate_left(i % 5);
        json!({"input": {"idempotencyKey": format!("batch-{i}"), "items": items}})
    };
    let replies = futures::future::join_all((0..10).map(|i| app.gql(q, batch(i)))).await;
    let mut winners = Vec::new();
    for (i, r) in replies.iter().enumerate() {
        if r.body.get("errors").is_none() {
            assert_eq!(
                r.ok()["reportInvestments"]["items"]
                    .as_array()
                    .unwrap()
                    .len(),
                5
            );
            winners.push(i);
        } else {
            // Decided again on the winner's events: its shared months are reported now.
            assert_eq!(r.code(), "INVESTMENT_ALREADY_REPORTED", "{}", r.body);
            assert!(r.body["errors"][0]["extensions"]["itemErrors"].is_array());
        }
    }
    assert_eq!(winners.len(), 1, "exactly one batch lands: {winners:?}");
    let w = winners[0] as i64;
    assert_eq!(ytd().await, 5 + 4 * (w + 1) + 1000 * (w + 1));
    // Sent again, the winner is a retry; the same key with other figures is refused.
    let again = app.gql(q, batch(winners[0])).await;
    let items = again.ok()["reportInvestments"]["items"]
        .as_array()
        .unwrap()
        .clone();
    assert!(items.iter().all(|i| i["result"]["replayed"] == true));
    let mut changed = batch(winners[0]);
    changed["input"]["items"][0]["completedInvestment"] = json!(424242);
    let r = app.gql(q, changed).await;
    assert_eq!(r.code(), "IDEMPOTENCY_KEY_REUSED", "{}", r.body);
    assert_eq!(r.body["errors"][0]["extensions"]["item"], 0);
    assert_eq!(ytd().await, 5 + 4 * (w + 1) + 1000 * (w + 1));
    app.stop().await;
}

async fn units_targets_supervision_and_rules(backend: Backend) {
    let app = spawn_on(backend).await;
    let id = unit_and_project(&app, "register-sup").await;
    // One vocabulary: the route reads back as the enum the input takes (docs/vocabulary.md).
    let r = app
        .gql(
            r#"mutation($p: ID!) { assignProjectCode(input: {idempotencyKey: "code1", projectId: $p, code: "2019-610403-04-01-123456",
                 route: FILING, filedTotalInvestment: 500000000, date: "2026-03-01"}) { project { projectCode approvalRoute } } }"#,
            json!({"p": id}),
        )
        .await;
    assert_eq!(
        r.ok()["assignProjectCode"]["project"],
        json!({"projectCode": "2019-610403-04-01-123456", "approvalRoute": "FILING"})
    );
    let r = app
        .gql(
            r#"mutation { setTarget(input: {idempotencyKey: "t1", year: 2026, unit: "dev-zone", metric: COMPLETED_INVESTMENT, value: "100000000"}) {
                 result { readModel } targets { scope metric targetValue actualValue } } }"#,
            json!({}),
        )
        .await;
    let targets = r.ok()["setTarget"]["targets"].as_array().unwrap().clone();
    let ci = targets
        .iter()
        .find(|t| t["metric"] == "COMPLETED_INVESTMENT")
        .unwrap();
    assert_eq!(
        (ci["scope"].clone(), ci["targetValue"].clone()),
        (json!("dev-zone"), json!("100000000"))
    );
    let r = app
        .gql(
            r#"mutation { setTarget(input: {idempotencyKey: "t2", year: 2026, metric: SIGNED_PROJECTS, value: "2.5"}) { result { version } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        (r.code(), r.body["errors"][0]["extensions"]["field"].clone()),
        ("VALIDATION", json!("value"))
    );
    let r = app
        .gql(
            r#"mutation($p: ID!) { openSupervisionItem(input: {idempotencyKey: "s1", projectId: $p, title: "征地滞后", category: EXPROPRIATION,
                 leadUnit: "dev-zone", deadline: "2026-12-31", date: "2026-11-02"}) { item { id itemId status leadUnitId project { name } } } }"#,
            json!({"p": id}),
        )
        .await;
    let item = r.ok()["openSupervisionItem"]["item"].clone();
    assert_eq!(item["status"], "OPEN");
    assert_eq!(item["project"]["name"], "新能源电池项目");
    app.gql(
        r#"mutation($i: ID!) { submitFeedback(input: {idempotencyKey: "fb", itemId: $i, unit: "dev-zone", content: "已协调", date: "2026-11-03"}) { item { feedbackCount } } }"#,
        json!({"i": item["id"]}),
    )
    .await
    .ok();
    let r = app
        .gql(
            r#"mutation($i: ID!) { requestClosure(input: {idempotencyKey: "s2", itemId: $i, summary: "已完成", date: "2026-11-05"}) { item { status } } }"#,
            json!({"i": item["id"]}),
        )
        .await;
    assert_eq!(
        r.ok()["requestClosure"]["item"]["status"],
        "CLOSURE_REQUESTED"
    );
    let list = app
        .gql(
            r#"{ supervisionItems(filter: {unit: "dev-zone", status: [CLOSURE_REQUESTED]}) { totalCount nodes { title } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(list.ok()["supervisionItems"]["totalCount"], 1);
    let r = app
        .gql(
            r#"mutation { setLightBands(input: {idempotencyKey: "rules1", greenMinGap: -5, yellowMinGap: -20, startYellowMonths: 1, startRedMonths: 2, reason: "从严", date: "2026-11-01"}) { rules { rule settings } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        r.ok()["setLightBands"]["rules"][0]["settings"]["green_min_gap"],
        -5
    );
    let r = app
        .gql(
            r#"mutation { renameUnit(input: {idempotencyKey: "rn", unitId: "dev-zone", name: "高新区", reason: "更名", date: "2026-11-01"}) { unit { name } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(r.ok()["renameUnit"]["unit"]["name"], "高新区");
    // Unit names are unique: the new name, and the old one (still dev-zone's), are taken; a
    // refused unit is not written.
    for (key, name) in [("dup-new", " 高新区 "), ("dup-old", "经济开发区")] {
        let r = app
            .gql(
                r#"mutation($k: String!, $n: String!) { createUnit(input: {idempotencyKey: $k, unitId: "gaoxin", name: $n, kind: PARK, date: "2026-11-01"}) { unit { unitId } } }"#,
                json!({"k": key, "n": name}),
            )
            .await;
        assert_eq!(
            (r.code(), r.body["errors"][0]["extensions"]["field"].clone()),
            ("UNIT_NAME_TAKEN", json!("name")),
            "{}",
            r.body
        );
        assert!(
            r.body["errors"][0]["extensions"]["messageZh"]
                .as_str()
                .is_some_and(|m| m.contains("已被其他单位使用")),
            "{}",
            r.body
        );
    }
    let units = app.gql("{ units { unitId } }", json!({})).await;
    assert_eq!(units.ok()["units"], json!([{"unitId": "dev-zone"}]));
    let ranking = app.gql("{ unitRanking(year: 2026) { unitId rank } targets(year: 2026, scope: \"county\") { metric }
        dashboard(year: 2026, unit: \"dev-zone\") { scope targets { metric targetValue } unitRanking { unitId } } }", json!({})).await;
    let data = ranking.ok();
    assert_eq!(data["dashboard"]["scope"], "dev-zone");
    assert_eq!(data["dashboard"]["targets"][0]["targetValue"], "100000000");
    assert_eq!(data["dashboard"]["unitRanking"][0]["unitId"], "dev-zone");
    assert_eq!(data["unitRanking"][0]["unitId"], "dev-zone");
    assert_eq!(data["targets"].as_array().unwrap().len(), 8);
    // Projects filter and order.
    let r = app
        .gql(
            r#"{ a: projects(filter: {unit: ["dev-zone"], stage: [LEAD], kind: [ATTRACTED], investorType: [PRIVATE], nameContains: "电池", amountMin: 1, amountMax: 500000000}, orderBy: {field: AMOUNT, direction: DESC}) { totalCount }
                 b: projects(filter: {nameContains: "水泥"}) { totalCount } }"#,
            json!({}),
        )
        .await;
    let data = r.ok();
    assert_eq!(
        (
            data["a"]["totalCount"].clone(),
            data["b"]["totalCount"].clone()
        ),
        (json!(1), json!(0))
    );
    app.stop().await;
}

async fn paging_forwards_and_backwards(backend: Backend) {
    let app = spawn_on(backend).await;
    for i in 0..5 {
        unit_and_project(&app, &format!("page-{i}")).await;
    }
    let page = |args: &str| {
        format!(
            "{{ projects({args}) {{ totalCount pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} edges {{ cursor node {{ projectId }} }} }} }}"
        )
    };
    let first = app.gql(&page("first: 2"), json!({})).await;
    let first = first.ok()["projects"].clone();
    assert_eq!(first["totalCount"], 5);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let after = first["pageInfo"]["endCursor"].as_str().unwrap();
    let second = app
        .gql(&page(&format!("first: 2, after: \"{after}\"")), json!({}))
        .await;
    let second = second.ok()["projects"].clone();
    assert_eq!(second["pageInfo"]["hasPreviousPage"], true);
    let last = app.gql(&page("last: 2"), json!({})).await;
    let last = last.ok()["projects"].clone();
    assert_eq!(last["pageInfo"]["hasNextPage"], false);
    let before = last["pageInfo"]["startCursor"].as_str().unwrap();
    let middle = app
        .gql(&page(&format!("last: 1, before: \"{before}\"")), json!({}))
        .await;
    let middle = middle.ok()["projects"].clone();
    let ids = |c: &Value| -> Vec<String> {
        c["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["projectId"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut all = ids(&first);
    all.extend(ids(&second));
    all.extend(ids(&middle));
    all.extend(ids(&last));
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 5, "the pages cover every project once");
    app.stop().await;
}

/// Each test above, once per backend.
/// The two time axes (DOMAIN.md "As of, on two axes"): history of last year back-filled today
/// counts for a past business date with everything known (`knownAt` absent), and not with the
/// knowledge of that date; a correction recorded later is left out for a knowledge time before
/// it. Also: an unknown unit is an error, a future business date is refused, and count targets
/// are integers.
async fn back_filled_history_on_two_time_axes(backend: Backend) {
    let app = spawn_on(backend).await;
    // The unit and a project of this year, which must not show in last June's figures.
    unit_and_project_of_kind(&app, "register-this-year", "GOVERNMENT").await;
    let r = app
        .gql(
            r#"mutation { registerProject(input: {
                idempotencyKey: "register-2025", name: "县城供水管网改造", kind: GOVERNMENT,
                investorName: "县水务局", investorType: OTHER, industryChain: "基础设施",
                industrial: false, intendedInvestment: 80000000, responsibleUnit: "dev-zone",
                leadOfficial: "李副县长", date: "2025-03-01"}) { project { projectId } } }"#,
            json!({}),
        )
        .await;
    let id = r.ok()["registerProject"]["project"]["projectId"]
        .as_str()
        .unwrap()
        .to_owned();
    let with = |key: &str, extra: Value| {
        let mut v = json!({"idempotencyKey": key, "projectId": id});
        if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
            o.extend(e);
        }
        v
    };
    project_mutation(
        &app,
        "startConstruction",
        with(
            "start-2025",
            json!({"date": "2025-04-10", "evidence": "开工令"}),
        ),
    )
    .await
    .ok();
    project_mutation(
        &app,
        "reportInvestment",
        with(
            "report-2025-05",
            json!({"period": "2025-05", "completedInvestment": 7000000, "fundsInPlace": 5000000}),
        ),
    )
    .await
    .ok();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let between = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    project_mutation(
        &app,
        "correctInvestmentReport",
        with(
            "correct-2025-05",
            json!({"period": "2025-05", "completedInvestment": 8000000, "fundsInPlace": 5000000, "reason": "统计口径更正"}),
        ),
    )
    .await
    .ok();

    let figures = |known_at: Option<&str>| {
        let known = known_at
            .map(|k| format!(", knownAt: \"{k}\""))
            .unwrap_or_default();
        format!(
            "{{ d: dashboard(year: 2025, asOf: \"2025-06-30\"{known}) {{ asOf projectCount ytdInvestment targets {{ metric actualValue }} }}
                r: unitRanking(year: 2025, asOf: \"2025-06-30\"{known}) {{ unitId ytdInvestment }} }}"
        )
    };
    // As we know it now: the back-filled project and its corrected figure.
    let now = app.gql(&figures(None), json!({})).await;
    let d = &now.ok()["d"];
    assert_eq!(
        (
            d["asOf"].clone(),
            d["projectCount"].clone(),
            d["ytdInvestment"].clone()
        ),
        (json!("2025-06-30"), json!(1), json!(8_000_000))
    );
    assert_eq!(
        d["targets"][0],
        json!({"metric": "COMPLETED_INVESTMENT", "actualValue": "8000000"})
    );
    assert_eq!(now.ok()["r"][0]["ytdInvestment"], 8_000_000);
    // As it was reported on 30 June: nothing was recorded yet.
    let then = app
        .gql(&figures(Some("2025-06-30T23:59:59+08:00")), json!({}))
        .await;
    let d = &then.ok()["d"];
    assert_eq!(
        (d["projectCount"].clone(), d["ytdInvestment"].clone()),
        (json!(0), json!(0))
    );
    // The unit itself was created today: last June's ranking had no units to rank.
    assert_eq!(then.ok()["r"], json!([]));
    // Known before the correction: the original report.
    let before = app.gql(&figures(Some(&between)), json!({})).await;
    assert_eq!(before.ok()["d"]["ytdInvestment"], 7_000_000);

    // An unknown unit is an error, not a dashboard of zeros.
    let r = app
        .gql(
            "{ dashboard(year: 2026, unit: \"no-such-unit\") { projectCount } }",
            json!({}),
        )
        .await;
    assert_eq!(r.code(), "UNIT_NOT_FOUND", "{}", r.body);
    let r = app
        .gql(
            "{ targets(year: 2026, scope: \"no-such-unit\") { metric } }",
            json!({}),
        )
        .await;
    assert_eq!(r.code(), "UNIT_NOT_FOUND", "{}", r.body);
    // A business date in the future is refused; a malformed knowledge time names its field.
    let r = app
        .gql(
            "{ dashboard(year: 2026, asOf: \"2099-01-01\") { projectCount } }",
            json!({}),
        )
        .await;
    assert_eq!(r.code(), "DATE_IN_FUTURE", "{}", r.body);
    let r = app
        .gql(
            "{ dashboard(year: 2026, knownAt: \"yesterday\") { projectCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        r.body["errors"][0]["extensions"]["field"], "knownAt",
        "{}",
        r.body
    );
    // Count targets are integers on the wire.
    let r = app
        .gql(
            r#"mutation { setTarget(input: {idempotencyKey: "t-count", year: 2026, metric: STARTED_PROJECTS, value: "3"}) {
                 targets { metric targetValue actualValue } } }"#,
            json!({}),
        )
        .await;
    let started = r.ok()["setTarget"]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["metric"] == "STARTED_PROJECTS")
        .cloned()
        .unwrap();
    assert_eq!(
        started,
        json!({"metric": "STARTED_PROJECTS", "targetValue": "3", "actualValue": "0"})
    );
}

on_both_backends!(
    lifecycle_dashboard_retries_and_timeline,
    concurrent_conflicting_writes,
    every_error_class,
    batch_of_reports_is_all_or_nothing_and_retryable,
    reused_keys_and_concurrent_batches,
    units_targets_supervision_and_rules,
    paging_forwards_and_backwards,
    back_filled_history_on_two_time_axes,
);
