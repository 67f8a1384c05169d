//! The real server on an ephemeral port against a fresh PostgreSQL database, and a small client.
//! PostgreSQL must run: `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use api::{Application, Config};
use eventstore::postgres::testing::TestDatabase;
use serde_json::{Value, json};

pub struct TestApp {
    pub addr: std::net::SocketAddr,
    pub db: TestDatabase,
    pub client: reqwest::Client,
    pub shutdown: api::app::ShutdownHandle,
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// A response as the tests look at it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Value,
}

impl Reply {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }
    /// `extensions.code` of the first error.
    pub fn code(&self) -> &str {
        self.body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {}", self.body))
    }
    pub fn class(&self) -> &str {
        self.body["errors"][0]["extensions"]["class"]
            .as_str()
            .unwrap_or("")
    }
    /// Panics with the errors when there are any.
    pub fn ok(&self) -> &Value {
        assert!(
            self.body.get("errors").is_none() && self.status == 200,
            "unexpected errors ({}): {}",
            self.status,
            self.body
        );
        &self.body["data"]
    }
}

pub async fn spawn() -> TestApp {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let db = TestDatabase::migrated().await;
    let mut config = Config::for_tests(db.url.clone());
    adjust(&mut config);
    let app = Application::build(config).await.expect("the server starts");
    let addr = app.local_addr();
    let shutdown = app.shutdown_handle();
    let server = tokio::spawn(app.run_until_stopped());
    TestApp {
        addr,
        db,
        client: reqwest::Client::new(),
        shutdown,
        server,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// POST a query with `application/json`, as `clerk`.
    pub async fn gql(&self, query: &str, variables: Value) -> Reply {
        self.post(
            json!({"query": query, "variables": variables}),
            &[("accept", "application/json"), ("x-actor", "clerk")],
        )
        .await
    }

    pub async fn post(&self, body: Value, headers: &[(&str, &str)]) -> Reply {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .header("content-type", "application/json")
            .body(body.to_string());
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        reply(request.send().await.unwrap()).await
    }

    pub async fn get(&self, query_string: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = self
            .client
            .get(format!("{}?{query_string}", self.url("/graphql")));
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        reply(request.send().await.unwrap()).await
    }

    pub async fn stop(self) {
        self.shutdown.shutdown();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(20), self.server).await;
        self.db.drop_database().await;
    }
}

pub async fn reply(r: reqwest::Response) -> Reply {
    let status = r.status().as_u16();
    let content_type = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = r.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply {
        status,
        content_type,
        body,
    }
}

/// Registers unit `dev-zone` and an attracted project in it; returns the project's UUID.
pub async fn unit_and_project(app: &TestApp, key: &str) -> String {
    unit_and_project_of_kind(app, key, "ATTRACTED").await
}

/// The same with a project of `kind` (a government project starts without a contract).
pub async fn unit_and_project_of_kind(app: &TestApp, key: &str, kind: &str) -> String {
    let r = app.gql(
        r#"mutation { createUnit(input: {idempotencyKey: "unit-dev-zone", unitId: "dev-zone", name: "经济开发区", kind: PARK, date: "2026-01-02"}) { result { readModel behind replayed } unit { unitId } } }"#,
        json!({}),
    )
    .await;
    assert_eq!(
        r.ok()["createUnit"]["unit"]["unitId"],
        "dev-zone",
        "{}",
        r.body
    );
    let r = app
        .gql(
            r#"mutation($key: String!, $kind: ProjectKind!) { registerProject(input: {
                idempotencyKey: $key, name: "新能源电池项目", kind: $kind,
                investorName: "某某新能源有限公司", investorType: PRIVATE, industryChain: "新能源",
                industrial: true, intendedInvestment: 500000000, responsibleUnit: "dev-zone",
                leadOfficial: "王副县长", date: "2026-02-01"}) {
                result { readModel version } project { projectId name stage } } }"#,
            json!({"key": key, "kind": kind}),
        )
        .await;
    r.ok()["registerProject"]["project"]["projectId"]
        .as_str()
        .unwrap()
        .to_owned()
}
