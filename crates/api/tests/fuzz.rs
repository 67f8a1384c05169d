//! Random and hostile requests against the real server over HTTP (issue 6): deep nesting, huge
//! lists, long strings, invalid UTF-8, wrong types, SQL fragments in filters and names, unknown
//! enum values, negative and enormous amounts, with no token, bad tokens and the tokens of every
//! role. Whatever comes in: no 5xx, no dropped connection, no event written by a refused request
//! (nor by any request of a role that writes nothing), and the server still answers afterwards.
//!
//! `FUZZ_CASES` sets the number of inputs (default 8000, about a minute); the count is printed.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use async_graphql::parser::types::{BaseType, TypeKind};
use auth::Role;
use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestCaseError, TestRunner};
use serde_json::{Value, json};

/// Who sends a request.
#[derive(Debug, Clone)]
enum Caller {
    Nobody,
    Garbage(String),
    Revoked,
    As(Role),
}

/// What is sent.
#[derive(Debug, Clone)]
enum Body {
    /// Any bytes as an application/json body (mostly not JSON, often not UTF-8).
    Raw(Vec<u8>),
    /// Any JSON as the body (batches, wrong shapes).
    Json(Value),
    /// A GraphQL request.
    Request { query: String, variables: Value },
}

/// The schema's mutations (field, input type) and input fields, enums, from the SDL.
struct Shape {
    mutations: Vec<(String, String)>,
    inputs: BTreeMap<String, Vec<String>>,
    enums: Vec<String>,
}

fn shape() -> Shape {
    let mut s = Shape {
        mutations: Vec::new(),
        inputs: BTreeMap::new(),
        enums: Vec::new(),
    };
    for (name, kind) in schema_types() {
        match &kind {
            TypeKind::InputObject(o) => {
                s.inputs.insert(
                    name,
                    o.fields
                        .iter()
                        .map(|f| f.node.name.node.to_string())
                        .collect(),
                );
            }
            TypeKind::Enum(e) => {
                s.enums
                    .extend(e.values.iter().map(|v| v.node.value.node.to_string()));
            }
            TypeKind::Object(o) if name == "Mutation" => {
                for f in &o.fields {
                    if let Some(a) = f.node.arguments.first()
                        && let BaseType::Named(ty) = &a.node.ty.node.base
                    {
                        s.mutations
                            .push((f.node.name.node.to_string(), ty.to_string()));
                    }
                }
            }
            _ => {}
        }
    }
    s
}

const HOSTILE: &[&str] = &[
    "' OR '1'='1",
    "'; DROP TABLE eventstore.events; --",
    "\") { __typename } } mutation { createUnit",
    "1; DELETE FROM auth.tokens",
    "$$; SELECT pg_sleep(10); $$",
    "%",
    "_",
    "\\",
    "\u{0}",
    "𠜎🙂\u{202e}",
    "dev-zone",
    "far-town",
    "2026-02-30",
    "9999-99",
    "-1",
    "NaN",
    "00000000-0000-0000-0000-000000000000",
    "tz_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
];

fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(HOSTILE).prop_map(str::to_owned),
        3 => "\\PC{0,40}",
        1 => (1usize..300_000).prop_map(|n| "长".repeat(n)),
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        string().prop_map(Value::String),
        any::<i64>().prop_map(|n| json!(n)),
        proptest::sample::select(vec![
            json!(-1),
            json!(0),
            json!(i64::MAX),
            json!(i64::MIN),
            json!(u64::MAX),
            json!(1e300),
            json!(-1e-300),
            json!(2_147_483_648_i64),
            json!(10_000_000_000_000_i64),
            json!(true),
            json!(null),
            json!("UNKNOWN_ENUM_VALUE"),
            json!([]),
            json!({}),
        ]),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
    ]
}

/// Any JSON, nested up to ~8 levels, with the occasional very long array.
fn value() -> impl Strategy<Value = Value> {
    let leaf = scalar();
    let tree = leaf.prop_recursive(8, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    prop_oneof![
        8 => tree,
        1 => (1usize..20_000).prop_map(|n| Value::Array(vec![json!({"projectId": "x", "period": "2026-01"}); n])),
        // Past serde_json's recursion limit of 128 on the server (deeper would overflow this
        // test's own stack while building and dropping the value).
        1 => (1usize..300).prop_map(|n| (0..n).fold(json!(1), |v, _| json!([v]))),
    ]
}

/// An input object for a mutation: the real field names, each with a plausible or a hostile
/// value, sometimes with unknown fields.
fn input(fields: Vec<String>, enums: Vec<String>) -> impl Strategy<Value = Value> {
    let n = fields.len();
    (
        prop::collection::vec(
            prop_oneof![
                3 => Just(None),
                2 => scalar().prop_map(Some),
                1 => proptest::sample::select(enums).prop_map(|e| Some(json!(e))),
                1 => value().prop_map(Some),
            ],
            n,
        ),
        prop::option::of(("[a-z]{1,10}", scalar())),
    )
        .prop_map(move |(values, extra)| {
            let mut o = serde_json::Map::new();
            for (f, v) in fields.iter().zip(values) {
                let v = v.unwrap_or_else(|| match f.as_str() {
                    "idempotencyKey" => json!("fuzz"),
                    "year" => json!(2026),
                    "date" => json!("2026-03-01"),
                    "period" => json!("2026-03"),
                    _ => json!("x"),
                });
                o.insert(f.clone(), v);
            }
            if let Some((k, v)) = extra {
                o.insert(k, v);
            }
            Value::Object(o)
        })
}

fn request(shape: &Shape) -> BoxedStrategy<Body> {
    let mutations: Vec<BoxedStrategy<Body>> = shape
        .mutations
        .iter()
        .map(|(field, ty)| {
            let fields = shape.inputs.get(ty).cloned().unwrap_or_default();
            let (field, ty) = (field.clone(), ty.clone());
            input(fields, shape.enums.clone())
                .prop_map(move |input| Body::Request {
                    query: format!(
                        "mutation($input: {ty}!) {{ {field}(input: $input) {{ __typename }} }}"
                    ),
                    variables: json!({ "input": input }),
                })
                .boxed()
        })
        .collect();
    let mutation = proptest::strategy::Union::new(mutations);
    let filters = (value(), scalar()).prop_map(|(f, n)| Body::Request {
        query: "query($f: ProjectFilter, $n: Int, $s: SupervisionFilter) { projects(filter: $f, first: $n) { totalCount nodes { name } } supervisionItems(filter: $s) { totalCount } }".into(),
        variables: json!({"f": f, "n": n, "s": f}),
    });
    let inline = (string(), any::<i64>(), proptest::sample::select(shape.enums.clone())).prop_map(
        |(s, n, e)| Body::Request {
            query: format!(
                "{{ projects(first: {n}, filter: {{nameContains: {}, stage: [{e}, NOT_AN_ENUM]}}) {{ totalCount }} unit(id: {}) {{ name }} dashboard(year: {n}) {{ projectCount }} }}",
                serde_json::to_string(&s).unwrap_or_default(),
                serde_json::to_string(&s).unwrap_or_default(),
            ),
            variables: json!({}),
        },
    );
    let deep = (1usize..400, any::<bool>()).prop_map(|(depth, balanced)| {
        let mut q = "{ projects { nodes { ".to_owned();
        q.push_str(&"timeline { edges { node { ... on TimelineEvent { ".repeat(depth));
        q.push_str("type");
        if balanced {
            q.push_str(&" } } } }".repeat(depth));
            q.push_str(" } } }");
        }
        Body::Request {
            query: q,
            variables: json!({}),
        }
    });
    let aliases = (1usize..500).prop_map(|n| Body::Request {
        query: format!(
            "{{ {} }}",
            (0..n)
                .map(|i| format!("a{i}: events(first: 200) {{ totalCount }}"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        variables: json!({}),
    });
    let garbage =
        ("\\PC{0,300}", value()).prop_map(|(query, variables)| Body::Request { query, variables });
    prop_oneof![
        6 => mutation,
        2 => filters,
        2 => inline,
        1 => deep,
        1 => aliases,
        1 => garbage,
        1 => prop::collection::vec(any::<u8>(), 0..2000).prop_map(Body::Raw),
        1 => value().prop_map(Body::Json),
    ]
    .boxed()
}

fn caller() -> impl Strategy<Value = Caller> {
    prop_oneof![
        1 => Just(Caller::Nobody),
        1 => "\\PC{0,60}".prop_map(Caller::Garbage),
        1 => Just(Caller::Revoked),
        6 => proptest::sample::select(Role::ALL.to_vec()).prop_map(Caller::As),
    ]
}

#[test]
fn hostile_requests_never_break_the_server() {
    let cases: u32 = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = rt.block_on(spawn());
    // Something to aim at: a unit, a project, and a revoked token.
    let revoked = rt.block_on(async {
        unit_and_project(&app, "fuzz-project").await;
        let pool = app.db().pool(1).await;
        let t = create_token(&pool, "revoked", Role::Admin, &[]).await;
        auth::PgTokens::new(pool.clone())
            .revoke(t.0, "cli:fuzz")
            .await
            .unwrap();
        pool.close().await;
        t.1
    });
    let pool = rt.block_on(app.db().pool(2));
    let shape = shape();
    let strategy = (caller(), request(&shape));
    let mut runner = TestRunner::new(RunnerConfig {
        cases,
        failure_persistence: None,
        ..RunnerConfig::default()
    });
    let tried = AtomicUsize::new(0);
    let writes = AtomicUsize::new(0);
    let refusals = AtomicUsize::new(0);
    let started = Instant::now();
    let result = runner.run(&strategy, |(caller, body)| {
        tried.fetch_add(1, Ordering::Relaxed);
        rt.block_on(async {
            let count = || async {
                sqlx::query_scalar::<_, i64>("SELECT count(*) FROM eventstore.events")
                    .fetch_one(&pool)
                    .await
                    .unwrap()
            };
            let before = count().await;
            let mut request = app
                .client
                .post(app.url("/graphql"))
                .header("content-type", "application/json");
            let authorization = match &caller {
                Caller::Nobody => None,
                Caller::Garbage(g) => Some(format!("Bearer {g}")),
                Caller::Revoked => Some(format!("Bearer {revoked}")),
                Caller::As(role) => Some(app.bearer(*role)),
            };
            if let Some(a) = authorization
                && let Ok(v) = reqwest::header::HeaderValue::from_str(&a)
            {
                request = request.header("authorization", v);
            }
            let bytes = match &body {
                Body::Raw(bytes) => bytes.clone(),
                Body::Json(v) => v.to_string().into_bytes(),
                Body::Request { query, variables } => {
                    json!({"query": query, "variables": variables})
                        .to_string()
                        .into_bytes()
                }
            };
            let size = bytes.len();
            let response = match request.body(bytes).send().await {
                Ok(r) => r,
                // A body over --max-body is answered 413 and the connection closed while the
                // client may still be sending: the client then sees a reset, not the answer.
                Err(_) if size > api::Limits::default().max_body => {
                    prop_assert_eq!(count().await, before, "an oversized body wrote events");
                    return Ok(());
                }
                Err(e) => return Err(TestCaseError::fail(format!("no answer: {e}"))),
            };
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            prop_assert!(status < 500, "{status} for {caller:?}: {text}");
            let parsed: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let codes: Vec<&str> = parsed["errors"]
                .as_array()
                .map(|e| {
                    e.iter()
                        .filter_map(|e| e["extensions"]["code"].as_str())
                        .collect()
                })
                .unwrap_or_default();
            let data_empty = match &parsed["data"] {
                Value::Object(o) => o.values().all(Value::is_null),
                _ => true,
            };
            let refused = matches!(status, 401 | 429)
                || (data_empty
                    && !codes.is_empty()
                    && codes
                        .iter()
                        .all(|c| *c == "FORBIDDEN" || *c == "UNAUTHENTICATED"));
            let writes_nothing = !matches!(
                caller,
                Caller::As(Role::Admin | Role::Supervisor | Role::Editor)
            );
            let after = count().await;
            if refused {
                refusals.fetch_add(1, Ordering::Relaxed);
            }
            if refused || writes_nothing {
                prop_assert_eq!(
                    after,
                    before,
                    "a refused request (or a read-only caller) wrote events: {:?} {}",
                    caller,
                    text
                );
            } else if after > before {
                writes.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        })
    });
    let elapsed = started.elapsed();
    let tried = tried.into_inner();
    println!(
        "fuzz: {tried} inputs tried in {:.1} s ({} refused as UNAUTHENTICATED, FORBIDDEN or \
         RATE_LIMITED; {} wrote events)",
        elapsed.as_secs_f64(),
        refusals.into_inner(),
        writes.into_inner()
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    // Still answering, and still itself.
    rt.block_on(async {
        let r = app
            .gql_as(Role::Viewer, "{ units { unitId } }", json!({}))
            .await;
        assert_eq!(r.ok()["units"][0]["unitId"], "dev-zone");
        let health = app.client.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(health.status().as_u16(), 200);
    });
    assert!(tried >= cases as usize, "only {tried} inputs");
    rt.block_on(async {
        pool.close().await;
        app.stop().await;
    });
}

/// Documents nested far deeper than any limit are refused with a 4xx (or a VALIDATION error),
/// never by a crashed worker: the parser recurses, so the server bounds nesting before parsing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absurdly_deep_documents_are_refused() {
    let app = spawn().await;
    for depth in [100, 1_000, 10_000, 100_000] {
        let q = format!("{}{}{}", "{ a ".repeat(depth), "b", " }".repeat(depth));
        let r = app.gql_as(Role::Viewer, &q, json!({})).await;
        assert!(r.status < 500, "{depth}: {}", r.status);
        assert_eq!(r.code(), "VALIDATION", "{depth}: {}", r.body);
        let unbalanced = "[{(".repeat(depth);
        let r = app.gql_as(Role::Viewer, &unbalanced, json!({})).await;
        assert!(r.status < 500, "{depth}: {}", r.status);
    }
    app.gql_as(Role::Viewer, "{ units { unitId } }", json!({}))
        .await
        .ok();
    app.stop().await;
}
