//! The real server on an ephemeral port against a fresh store — a PostgreSQL database, or a
//! SQLite file for the tests that run on both backends ([`spawn_on`]) — and a small client.
//! PostgreSQL must run: `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod browser;
pub mod ws;

use std::collections::BTreeMap;

use api::{Application, Config};
use auth::{NewToken, Role, Tokens};
use eventstore::postgres::testing::TestDatabase;
use eventstore::{AnyEventStore, Backend};
use serde_json::{Value, json};
use uuid::Uuid;

/// The units the test editor token acts for.
pub const EDITOR_UNITS: &[&str] = &["dev-zone", "xinan-town"];

/// The store a test server runs on.
pub enum TestStore {
    Postgres(TestDatabase),
    /// A SQLite file under the temp directory, removed (with its WAL files) at `stop`.
    Sqlite(std::path::PathBuf),
}

impl TestStore {
    pub fn url(&self) -> String {
        match self {
            TestStore::Postgres(db) => db.url.clone(),
            TestStore::Sqlite(path) => format!("sqlite://{}", path.display()),
        }
    }
}

pub struct TestApp {
    pub addr: std::net::SocketAddr,
    pub store: TestStore,
    pub client: reqwest::Client,
    pub shutdown: api::app::ShutdownHandle,
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
    /// One token per role (the editor's scope: [`EDITOR_UNITS`]): id and secret.
    pub tokens: BTreeMap<Role, (Uuid, String)>,
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
    spawn_on_with(Backend::Postgres, adjust).await
}

/// A server on a fresh store of `backend`.
pub async fn spawn_on(backend: Backend) -> TestApp {
    spawn_on_with(backend, |_| {}).await
}

pub async fn spawn_on_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let store = match backend {
        Backend::Postgres => TestStore::Postgres(TestDatabase::migrated().await),
        Backend::Sqlite => TestStore::Sqlite(
            std::env::temp_dir().join(format!("tz_api_{}.sqlite3", Uuid::new_v4())),
        ),
    };
    let mut config = Config::for_tests(store.url());
    adjust(&mut config);
    let app = Application::build(config).await.expect("the server starts");
    let addr = app.local_addr();
    let shutdown = app.shutdown_handle();
    let server = tokio::spawn(app.run_until_stopped());
    let tokens_store = AnyEventStore::connect(&store.url(), 1)
        .await
        .expect("the test store opens");
    let mut tokens = BTreeMap::new();
    for role in Role::ALL {
        let units = if role == Role::Editor {
            EDITOR_UNITS
        } else {
            &[]
        };
        let t = create_token_in(&tokens_store, &format!("test {role}"), role, units).await;
        tokens.insert(role, t);
    }
    tokens_store.database().close().await;
    TestApp {
        addr,
        store,
        client: reqwest::Client::new(),
        shutdown,
        server,
        tokens,
    }
}

/// Makes a token as the CLI does (the API's `createToken` is tested on its own).
pub async fn create_token(
    pool: &sqlx::PgPool,
    name: &str,
    role: Role,
    units: &[&str],
) -> (Uuid, String) {
    make_token(
        &Tokens::Postgres(auth::PgTokens::new(pool.clone())),
        name,
        role,
        units,
    )
    .await
}

/// Makes a token in the store's database, on either backend.
pub async fn create_token_in(
    store: &AnyEventStore,
    name: &str,
    role: Role,
    units: &[&str],
) -> (Uuid, String) {
    make_token(&Tokens::for_store(store), name, role, units).await
}

async fn make_token(tokens: &Tokens, name: &str, role: Role, units: &[&str]) -> (Uuid, String) {
    let created = tokens
        .create(
            NewToken {
                name: name.to_owned(),
                role,
                units: units
                    .iter()
                    .map(|u| domain::UnitId::parse(u).unwrap())
                    .collect(),
                lifetime: time::Duration::days(1),
            },
            "cli:test",
        )
        .await
        .expect("a token");
    (created.info.token_id, created.secret.expose().to_owned())
}

/// A role that may run every root field of `query`, for tests that are about something
/// other than access control: supervision for its own work and reads, the editor for project
/// commands, the admin for configuration, the auditor for the events feed.
pub fn role_for(query: &str) -> Role {
    use async_graphql::parser::types::{DocumentOperations, OperationType, Selection};
    // Documents that do not parse are refused before any role matters.
    let Ok(doc) = async_graphql::parser::parse_query(query) else {
        return Role::Viewer;
    };
    let op = match &doc.operations {
        DocumentOperations::Single(op) => &op.node,
        DocumentOperations::Multiple(ops) => match ops.values().next() {
            Some(op) => &op.node,
            None => return Role::Viewer,
        },
    };
    let root = match op.ty {
        OperationType::Query => "Query",
        OperationType::Mutation => "Mutation",
        OperationType::Subscription => "Subscription",
    };
    let operations: Vec<auth::Operation> = op
        .selection_set
        .node
        .items
        .iter()
        .filter_map(|s| match &s.node {
            Selection::Field(f) => api::access::operation_of(root, f.node.name.node.as_str()),
            _ => None,
        })
        .collect();
    [
        Role::Supervisor,
        Role::Editor,
        Role::Admin,
        Role::Auditor,
        Role::Viewer,
    ]
    .into_iter()
    .find(|&r| {
        operations
            .iter()
            .all(|op| auth::grant(r, op.area()) != auth::Grant::Deny)
    })
    .unwrap_or(Role::Viewer)
}

impl TestApp {
    /// The PostgreSQL database of a server started on PostgreSQL (the tests that are not run on
    /// both backends).
    pub fn db(&self) -> &TestDatabase {
        match &self.store {
            TestStore::Postgres(db) => db,
            TestStore::Sqlite(path) => panic!(
                "a SQLite test app ({}) has no PostgreSQL database",
                path.display()
            ),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The secret of the test token of `role`.
    pub fn token(&self, role: Role) -> &str {
        &self.tokens[&role].1
    }

    /// The actor the test token of `role` is recorded as.
    pub fn actor(&self, role: Role) -> String {
        format!("test {role} ({})", self.tokens[&role].0)
    }

    /// POST a query with `application/json`, with the token of a role allowed to run it
    /// ([`role_for`]).
    pub async fn gql(&self, query: &str, variables: Value) -> Reply {
        self.gql_as(role_for(query), query, variables).await
    }

    /// POST a query with `application/json` and the test token of `role`.
    pub async fn gql_as(&self, role: Role, query: &str, variables: Value) -> Reply {
        self.gql_with(Some(self.token(role)), query, variables)
            .await
    }

    /// POST a query with `application/json` and `token` (none: no Authorization header).
    pub async fn gql_with(&self, token: Option<&str>, query: &str, variables: Value) -> Reply {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(json!({"query": query, "variables": variables}).to_string());
        if let Some(t) = token {
            request = request.header("authorization", format!("Bearer {t}"));
        }
        reply(request.send().await.unwrap()).await
    }

    /// The `Authorization` header value of the test token of `role`.
    pub fn bearer(&self, role: Role) -> String {
        format!("Bearer {}", self.token(role))
    }

    /// POST `body` with `headers`; without an `authorization` among them, with the token of a
    /// role allowed to run the body's query ([`role_for`]).
    pub async fn post(&self, body: Value, headers: &[(&str, &str)]) -> Reply {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .header("content-type", "application/json")
            .body(body.to_string());
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        {
            let role = body["query"].as_str().map_or(Role::Viewer, role_for);
            request = request.header("authorization", self.bearer(role));
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        reply(request.send().await.unwrap()).await
    }

    /// GET /graphql?`query_string`; without an `authorization` among `headers`, as the viewer.
    pub async fn get(&self, query_string: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = self
            .client
            .get(format!("{}?{query_string}", self.url("/graphql")));
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        {
            request = request.header("authorization", self.bearer(Role::Viewer));
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        reply(request.send().await.unwrap()).await
    }

    pub async fn stop(self) {
        self.shutdown.shutdown();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(20), self.server).await;
        match self.store {
            TestStore::Postgres(db) => db.drop_database().await,
            TestStore::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
        }
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
/// Events in the store: a refused call must not change it.
pub async fn event_count(app: &TestApp) -> i64 {
    let pool = app.db().pool(1).await;
    let n = sqlx::query_scalar("SELECT count(*) FROM eventstore.events")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n
}

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

/// Every type of the schema's SDL: its name and definition.
pub fn schema_types() -> Vec<(String, async_graphql::parser::types::TypeKind)> {
    use async_graphql::parser::types::TypeSystemDefinition;
    let doc = async_graphql::parser::parse_schema(api::sdl()).expect("the SDL parses");
    doc.definitions
        .into_iter()
        .filter_map(|d| match d {
            TypeSystemDefinition::Type(t) => Some((t.node.name.node.to_string(), t.node.kind)),
            _ => None,
        })
        .collect()
}

/// `on_both_backends!(a, b)`: tests `postgres::a`, `sqlite::a`, … each calling `a(backend)` on a
/// multi-threaded runtime (for the test files with `#[macro_use] mod common;`).
#[allow(unused_macros)]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(eventstore::Backend::Postgres).await
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(eventstore::Backend::Sqlite).await
                }
            )*
        }
    };
}
