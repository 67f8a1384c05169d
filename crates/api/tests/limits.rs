//! The query limits: depth, complexity, aliases, directives, page size, body size, time; and
//! introspection (GraphiQL's) still works with them on.

mod common;

use auth::Role;
use common::ws::{next, open, send};
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
        assert_eq!(r.code(), "LIMIT_EXCEEDED", "{}", r.body);
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
    // No time at all: the execution is stopped at its first wait for the database, whatever
    // the machine's speed (with 1 ms, an idle machine could answer the query within it).
    let app = spawn_with(|c| c.serve.limits.max_execution_ms = 0).await;
    // The ledger's verification reads the log from the database, so it always waits.
    let r = app
        .gql(
            "{ ledgerVerification { ok } dashboard(year: 2026) { projectCount } }",
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.code(), "LIMIT_EXCEEDED", "{}", r.body);
    assert!(r.body["data"].is_null());
    app.stop().await;
}

/// A fragment-spread bomb: each fragment spreads the one before twice, so `levels` fragments
/// expand to 2^`levels` `__typename` selections in a document of a few hundred bytes.
fn bomb(levels: usize) -> String {
    let mut doc = format!("{{ ...F{levels} }} fragment F0 on Query {{ __typename }}");
    for i in 1..=levels {
        doc.push_str(&format!(
            " fragment F{i} on Query {{ ...F{p} ...F{p} }}",
            p = i - 1
        ));
    }
    doc
}

/// `n` aliased `__typename` selections.
fn aliased(n: usize) -> String {
    let fields: Vec<String> = (0..n).map(|i| format!("a{i}: __typename")).collect();
    format!("{{ {} }}", fields.join(" "))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fragment_bombs_are_refused_by_their_expanded_size() {
    let app = spawn().await;
    // 2^16 selections from 17 fragments, sent by the weakest role.
    let r = app.gql_as(Role::Viewer, &bomb(16), json!({})).await;
    assert_eq!(r.code(), "LIMIT_EXCEEDED", "{}", r.body);
    let message = r.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("65536"), "{message}");
    assert!(
        r.body["errors"][0]["extensions"]["messageZh"]
            .as_str()
            .unwrap()
            .contains("65536")
    );
    assert!(r.body.get("data").is_none() || r.body["data"].is_null());
    // 2^60 would never finish if anything expanded it: it is sized from its text alone.
    let r = app.gql_as(Role::Viewer, &bomb(60), json!({})).await;
    assert_eq!(r.code(), "LIMIT_EXCEEDED", "{}", r.body);
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with(&(1u64 << 60).to_string())
    );
    // `__typename` has a cost: many of them, even unaliased, count.
    let many = format!("{{ {} }}", vec!["__typename"; 3000].join(" "));
    let r = app.gql_as(Role::Viewer, &many, json!({})).await;
    assert_eq!(r.code(), "LIMIT_EXCEEDED", "{}", r.body);
    // A document that uses fragments reasonably still answers.
    let r = app
        .gql_as(
            Role::Viewer,
            "{ ...A ...A } fragment A on Query { units { ...U } } fragment U on Unit { name unitId }",
            json!({}),
        )
        .await;
    r.ok();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_operations_have_the_limits_of_http() {
    let app = spawn().await;
    let mut socket = open(
        &app,
        "graphql-transport-ws",
        json!({"Authorization": app.bearer(Role::Viewer)}),
    )
    .await;
    assert_eq!(next(&mut socket).await.unwrap()["type"], "connection_ack");
    // Over HTTP 31 aliases are refused; over WebSocket 500 were served.
    for (id, query) in [("aliases", aliased(500)), ("bomb", bomb(16))] {
        send(
            &mut socket,
            json!({"id": id, "type": "subscribe", "payload": {"query": query}}),
        )
        .await;
        // async-graphql answers a request error as a `next` without data.
        let m = next(&mut socket).await.unwrap();
        assert_eq!(
            (m["type"].as_str(), m["id"].as_str()),
            (Some("next"), Some(id)),
            "{m}"
        );
        assert!(m["payload"]["data"].is_null(), "{m}");
        let error = &m["payload"]["errors"][0];
        assert_eq!(error["extensions"]["code"], "LIMIT_EXCEEDED", "{m}");
        assert!(error.get("locations").is_none(), "{m}");
        assert_eq!(next(&mut socket).await.unwrap()["type"], "complete");
    }
    // Within the limits the socket serves as before.
    send(
        &mut socket,
        json!({"id": "small", "type": "subscribe", "payload": {"query": aliased(3)}}),
    )
    .await;
    let m = next(&mut socket).await.unwrap();
    assert_eq!(m["type"], "next", "{m}");
    assert_eq!(m["payload"]["data"]["a2"], "Query", "{m}");
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
