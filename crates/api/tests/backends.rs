//! The API on SQLite answers as it does on PostgreSQL: the demo county is seeded into a fresh
//! store of each backend, the real server runs on each, and the same queries (every read root
//! field, nested fields, filters, paging, as-of dates) and the same mutations must give the same
//! JSON, apart from recording timestamps and the tokens' ids in actors. Read queries are written
//! once per backend-specific fragment in `api::db`; this test is what keeps the two in step.
//! PostgreSQL must run: `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;

use api::{Application, Config};
use auth::{NewToken, Role, Tokens};
use commands::CommandHandler;
use eventstore::postgres::testing::TestDatabase;
use eventstore::{AnyEventStore, Backend, EventStore};
use serde_json::{Value, json};

struct Server {
    backend: Backend,
    addr: SocketAddr,
    shutdown: api::app::ShutdownHandle,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    admin: String,
    auditor: String,
    client: reqwest::Client,
    /// The position of the demo county's last event.
    head: eventstore::Position,
}

/// Seeds the demo county into the store at `url` through the command path, makes an admin and
/// an auditor token, and starts the server on it.
async fn start(url: String, today: time::Date) -> Server {
    let store = AnyEventStore::connect(&url, 2)
        .await
        .expect("the store opens");
    store.migrate().await.expect("migrations");
    let handler = CommandHandler::new(store.clone()).with_today(move || today);
    demo::seed(&handler, today, "演示数据 (test)")
        .await
        .expect("the demo county is seeded");
    let head = store
        .all_head()
        .await
        .expect("the head of $all")
        .last
        .expect("events were written");
    let tokens = Tokens::for_store(&store);
    let mut secrets = Vec::new();
    for role in [Role::Admin, Role::Auditor] {
        let created = tokens
            .create(
                NewToken {
                    name: format!("backends {role}"),
                    role,
                    units: Vec::new(),
                    lifetime: time::Duration::days(1),
                },
                "cli:test",
            )
            .await
            .expect("a token");
        secrets.push(created.secret.expose().to_owned());
    }
    let backend = store.backend();
    store.database().close().await;
    let app = Application::build(Config::for_tests(url))
        .await
        .expect("the server starts");
    let addr = app.local_addr();
    let shutdown = app.shutdown_handle();
    let server = tokio::spawn(app.run_until_stopped());
    Server {
        backend,
        addr,
        shutdown,
        server,
        admin: secrets[0].clone(),
        auditor: secrets[1].clone(),
        client: reqwest::Client::new(),
        head,
    }
}

impl Server {
    async fn gql(&self, token: &str, query: &str, variables: Value) -> Value {
        let response = self
            .client
            .post(format!("http://{}/graphql", self.addr))
            .bearer_auth(token)
            .json(&json!({"query": query, "variables": variables}))
            .send()
            .await
            .expect("the server answers");
        let status = response.status();
        let body: Value = response.json().await.expect("JSON");
        assert!(
            status.is_success() && body.get("errors").is_none(),
            "{} answered {status} with errors to {query}: {body}",
            self.backend
        );
        body["data"].clone()
    }

    /// Waits until every projection has applied the seeded history (its checkpoint is the last
    /// event written before the server started).
    async fn wait_caught_up(&self) {
        for _ in 0..600 {
            let data = self
                .gql(
                    &self.admin,
                    "{ projections { name position state } }",
                    json!({}),
                )
                .await;
            let list = data["projections"].as_array().cloned().unwrap_or_default();
            // Every projection of the binary must be listed: a projection that has not committed
            // its first batch has no status row yet, and the others being at the head says
            // nothing about it.
            let names: Vec<&str> = list.iter().filter_map(|p| p["name"].as_str()).collect();
            if projections::projection_names()
                .iter()
                .all(|n| names.contains(n))
                && list
                    .iter()
                    .all(|p| reached(&p["position"], self.head) && p["state"] == json!("running"))
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("{}: the projections did not catch up", self.backend);
    }

    async fn stop(self) {
        self.shutdown.shutdown();
        self.server
            .await
            .expect("the server task")
            .expect("a clean stop");
    }
}

/// Whether a projection's `position` ("commit/prepare") is at or past `head`.
fn reached(position: &Value, head: eventstore::Position) -> bool {
    position
        .as_str()
        .and_then(|p| p.split_once('/'))
        .and_then(|(c, p)| Some(eventstore::Position::new(c.parse().ok()?, p.parse().ok()?)))
        .is_some_and(|p| p >= head)
}

/// Removes what legitimately differs between two stores holding the same facts: when each
/// fact was recorded, the positions in $all, hashes (they cover the recording time), and token
/// ids inside actors.
fn normalize(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for key in [
                "recordedAt",
                "updatedAt",
                "createdAt",
                "openedAt",
                "checkedAt",
                "position",
                "hash",
                "cursor",
                "startCursor",
                "endCursor",
            ] {
                if map.contains_key(key) {
                    map.insert(key.to_owned(), Value::Null);
                }
            }
            for v in map.values_mut() {
                normalize(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize),
        _ => {}
    }
}

const PROJECT_FIELDS: &str =
    "projectId name kind investorName investorType industryChain industrial
  unitId leadOfficial stage status statusReason sizeClass intendedInvestment contractInvestment
  fixedAssetInvestment filedInvestment plannedInvestment plannedYear landDemand landDelivered
  projectCode approvalRoute creditCode companyName registeredCapital registeredDate
  frameworkSignedDate contractSignedDate plannedStartPeriod plannedCompletionPeriod
  plannedProductionPeriod startDate completionDate productionDate productionFull abandonedDate
  cumulativeInvestment cumulativeFunds ytdInvestment startLight investmentLight light version
  updatedAt id";

const DASHBOARD_FIELDS: &str = "year scope asOf closedMonths monthProgressPct dayProgressPct
  projectCount abandonedCount ytdInvestment ytdFunds priorYtdInvestment yoyInvestmentPct
  priorYtdFunds yoyFundsPct plannedInvestment planCompletionPct startDueCount startStartedCount
  startRatePct performanceDueCount performanceStartedCount performanceRatePct contractedCount
  cumulativeFunds contractInvestment fundsInPlaceRatePct signedCount signedInvestment
  signedBigCount signedIndustrial10mCount redCount yellowCount greenCount
  expropriationTargetArea expropriationArea expropriationAreaPct expropriationTargetHouseholds
  expropriationHouseholdsSigned expropriationHouseholdsPct supervisionOpenedCount
  supervisionClosedCount supervisionCloseRatePct supervisionOverdueCount supervisionDueSoonCount
  signedByInvestorType { investorType count investment } sizeClasses { sizeClass count }
  targets { year scope metric targetValue actualValue completionPct timeProgressPct gapPp light }
  unitRanking { year unitId rank score targetCount redProjects ytdInvestment }";

/// Queries both servers must answer identically, with their variables.
fn read_queries(year: i32) -> Vec<(String, Value)> {
    let mut queries: Vec<(String, Value)> = vec![
        ("{ units { unitId name kind createdAt updatedAt id } }".into(), json!({})),
        (
            format!(
                "query($o: ProjectOrder) {{ projects(first: 200, orderBy: $o) {{ totalCount \
                 pageInfo {{ hasNextPage hasPreviousPage }} nodes {{ {PROJECT_FIELDS} \
                 unit {{ name }} monthlyInvestment {{ period completedInvestment fundsInPlace \
                 reportedCompletedInvestment reportedFundsInPlace correctionCount }} \
                 expropriation {{ targetArea targetHouseholds targetGraves deadlineDate asOfDate \
                 area householdsSigned householdsRelocated gravesMoved compensation \
                 areaCompletionPct householdsCompletionPct landDelivered }} \
                 annualPlans {{ planYear revision plannedInvestment plannedStartPeriod reason \
                 isCurrent recordedAt }} \
                 timeline(first: 100) {{ totalCount nodes {{ eventId type version businessDate \
                 actor summary data correction {{ period reason before {{ revision \
                 completedInvestment fundsInPlace }} after {{ revision completedInvestment \
                 fundsInPlace }} }} }} }} }} }} }}"
            ),
            json!({"o": {"field": "NAME", "direction": "ASC"}}),
        ),
        (
            "query($f: ProjectFilter) { projects(filter: $f, first: 200) { totalCount nodes { name } } }"
                .into(),
            json!({"f": {"light": ["RED", "YELLOW"]}}),
        ),
        (
            "query($f: ProjectFilter) { projects(filter: $f, first: 200) { totalCount nodes { name } } }"
                .into(),
            json!({"f": {"nameContains": "新能源", "amountMin": 10000000}}),
        ),
        (
            "query($f: ProjectFilter) { projects(filter: $f, first: 200) { totalCount nodes { name } } }"
                .into(),
            json!({"f": {"stage": ["UNDER_CONSTRUCTION", "IN_PRODUCTION"], "investorType": ["PRIVATE"]}}),
        ),
        (
            "{ projects(first: 7, orderBy: {field: AMOUNT, direction: DESC}) { nodes { name } \
             pageInfo { hasNextPage } } }"
                .into(),
            json!({}),
        ),
        (
            "{ projects(last: 5, orderBy: {field: YTD_INVESTMENT, direction: ASC}) { nodes { name } } }"
                .into(),
            json!({}),
        ),
        (
            "{ supervisionItems(first: 100) { totalCount nodes { itemId projectId title category \
             leadUnitId coUnitIds openedDate deadlineDate status feedbackCount lastFeedbackDate \
             extensionCount closedDate accountabilityCount dueSoon overdue openedAt updatedAt id \
             project { name } } } }"
                .into(),
            json!({}),
        ),
        (
            "query($f: SupervisionFilter) { supervisionItems(filter: $f, first: 100) { totalCount nodes { title } } }"
                .into(),
            json!({"f": {"overdue": true}}),
        ),
        (
            "{ events(first: 50) { edges { cursor node { eventId stream version type schemaVersion \
             data metadata actor } } pageInfo { hasNextPage } } }"
                .into(),
            json!({}),
        ),
        (
            "{ ledgerVerification { ok streams events seals mismatchCount } }".into(),
            json!({}),
        ),
    ];
    // Every unit's supervision, and the dashboards of the county and each unit.
    for unit in [
        None,
        Some("dev-zone"),
        Some("xinan-town"),
        Some("chengguan-town"),
        Some("fluorochem-park"),
        Some("drc"),
    ] {
        queries.push((
            format!(
                "query($u: ID, $d: Date) {{ dashboard(year: {year}, unit: $u, asOf: $d) {{ {DASHBOARD_FIELDS} }} }}"
            ),
            json!({"u": unit, "d": null}),
        ));
    }
    for (y, date) in [
        (year, format!("{year}-03-31")),
        (year, format!("{year}-06-30")),
        (year - 1, format!("{}-12-31", year - 1)),
        (year - 1, format!("{}-07-15", year - 1)),
    ] {
        queries.push((
            format!(
                "query($d: Date) {{ dashboard(year: {y}, asOf: $d) {{ {DASHBOARD_FIELDS} }} \
                 targets(year: {y}, asOf: $d) {{ year scope metric targetValue actualValue \
                 completionPct timeProgressPct gapPp light }} \
                 unitRanking(year: {y}, asOf: $d) {{ year unitId rank score targetCount redProjects ytdInvestment }} }}"
            ),
            json!({"d": date}),
        ));
    }
    queries.push((
        format!("{{ targets(year: {year}, scope: \"county\") {{ metric actualValue light }} }}"),
        json!({}),
    ));
    queries
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_and_postgresql_serve_the_same_answers() {
    let today = commands::county_today();
    let year = today.year();
    let pg = TestDatabase::empty().await;
    let file = std::env::temp_dir().join(format!("tz_api_{}.sqlite3", uuid::Uuid::new_v4()));
    let sqlite_url = format!("sqlite://{}", file.display());
    let (postgres, sqlite) = tokio::join!(start(pg.url.clone(), today), start(sqlite_url, today));
    assert_eq!(
        (postgres.backend, sqlite.backend),
        (Backend::Postgres, Backend::Sqlite)
    );
    postgres.wait_caught_up().await;
    sqlite.wait_caught_up().await;

    let mut compared = 0;
    for (query, variables) in read_queries(year) {
        let mut a = postgres
            .gql(
                &postgres.auditor_or_admin(&query),
                &query,
                variables.clone(),
            )
            .await;
        let mut b = sqlite
            .gql(&sqlite.auditor_or_admin(&query), &query, variables)
            .await;
        normalize(&mut a);
        normalize(&mut b);
        assert_eq!(a, b, "the backends differ on {query}");
        compared += 1;
    }
    // The county is not empty on either: the comparison compared something.
    let d = sqlite
        .gql(
            &sqlite.admin,
            &format!("{{ dashboard(year: {year}) {{ projectCount }} }}"),
            json!({}),
        )
        .await;
    assert!(
        d["dashboard"]["projectCount"].as_i64().unwrap_or(0) > 0,
        "{d}"
    );

    // The same writes, read back at once (read-your-writes), give the same answers too.
    let mutations = [
        (
            "mutation($i: TargetInput!) { reviseTarget(input: $i) { targets { scope metric targetValue actualValue completionPct light } } }",
            json!({"i": {"idempotencyKey": "backends-target", "year": year, "metric": "SIGNED_PROJECTS", "value": "40", "reason": "test"}}),
        ),
        (
            "mutation($i: SetRankingWeightsInput!) { setRankingWeights(input: $i) { rules { rule settings reason } } }",
            json!({"i": {"idempotencyKey": "backends-weights", "weights": [{"metric": "SIGNED_PROJECTS", "weight": 2}, {"metric": "COMPLETED_INVESTMENT", "weight": 3}], "completionCap": 120, "redProjectPenalty": 1, "reason": "test", "date": today.to_string()}}),
        ),
    ];
    for (query, variables) in mutations {
        let mut a = postgres
            .gql(&postgres.admin, query, variables.clone())
            .await;
        let mut b = sqlite.gql(&sqlite.admin, query, variables).await;
        normalize(&mut a);
        normalize(&mut b);
        assert_eq!(a, b, "the backends differ after {query}");
        compared += 1;
    }
    println!("backends: {compared} queries answered identically by PostgreSQL and SQLite");
    postgres.stop().await;
    sqlite.stop().await;
    let _ = std::fs::remove_file(&file);
}

impl Server {
    /// The events feed is for auditors; everything else here the admin may read.
    fn auditor_or_admin(&self, query: &str) -> String {
        if query.contains("events(") || query.contains("ledgerVerification") {
            self.auditor.clone()
        } else {
            self.admin.clone()
        }
    }
}
