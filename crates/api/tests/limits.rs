//! The query limits: depth, complexity, aliases, directives, page size, body size, time; and
//! introspection (GraphiQL's) still works with them on.

mod common;

use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_refuse_expensive_requests() {
    let app = spawn_with(|c| {
        let l = &mut c.serve.limits;
        l.max_depth = 4;
        l.max_complexity = 60;
        l.max_aliases = 3;
        l.max_directives = 2;
        l.max_page = 10;
        l.max_body = 2_000;
        l.max_execution_ms = 5_000;
    })
    .await;
    let limited = |r: &Reply| {
        assert_eq!(r.code(), "RATE_LIMITED", "{}", r.body);
        assert!(r.body.get("data").is_none() || r.body["data"].is_null());
    };
    // Depth.
    let r = app
        .gql(
            "{ projects { edges { node { unit { name } } } } }",
            json!({}),
        )
        .await;
    limited(&r);
    // Complexity (each field counts 1 by default: a wide enough selection exceeds 60).
    let fields = (0..70).map(|_| "name").collect::<Vec<_>>().join(" ");
    let r = app
        .gql(&format!("{{ units {{ {fields} }} }}"), json!({}))
        .await;
    limited(&r);
    // Aliases.
    let r = app
        .gql(
            "{ a: units { name } b: units { name } c: units { name } d: units { name } }",
            json!({}),
        )
        .await;
    limited(&r);
    // Directives.
    let r = app
        .gql(
            "{ units { name @include(if: true) unitId @include(if: true) kind @skip(if: false) } }",
            json!({}),
        )
        .await;
    limited(&r);
    // Page size.
    let r = app
        .gql("{ projects(first: 11) { totalCount } }", json!({}))
        .await;
    limited(&r);
    let r = app
        .gql("{ events(first: 11) { nodes { type } } }", json!({}))
        .await;
    limited(&r);
    // Body size: 413 from the server, before any parsing.
    let big = json!({"query": format!("{{ units {{ name }} }} # {}", "x".repeat(3_000))});
    let r = app.post(big, &[]).await;
    assert_eq!(r.status, 413);
    // Within the limits all is well.
    let r = app
        .gql(
            "{ a: units { name } projects(first: 10) { totalCount } }",
            json!({}),
        )
        .await;
    r.ok();
    // Introspection as GraphiQL sends it is deeper than these limits, and still answers.
    let r = app.gql(INTROSPECTION, json!({})).await;
    let types = r.ok()["__schema"]["types"].as_array().unwrap().len();
    assert!(types > 50, "{types} types");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execution_time_is_bounded() {
    let app = spawn_with(|c| c.serve.limits.max_execution_ms = 1).await;
    // The ledger's verification reads the whole log: well over a millisecond.
    let r = app
        .gql(
            "{ ledgerVerification { ok } dashboard(year: 2026) { projectCount } }",
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.code(), "RATE_LIMITED", "{}", r.body);
    assert!(r.body["data"].is_null());
    app.stop().await;
}

/// GraphiQL 4's introspection query.
const INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}
"#;
