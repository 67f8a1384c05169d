//! Access control over real HTTP and WebSocket (docs/security.md): the role × operation matrix,
//! every way of failing to authenticate, revocation and expiry at the very next request, the
//! actor in event metadata, rate limits, the protected ops endpoints and the insecure mode.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use async_graphql::parser::types::{BaseType, Type, TypeKind};
use auth::{Grant, Operation, Role};
use common::ws::{next, open};
use common::*;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// The ids a generated mutation argument points at: in or out of the editor's scope.
struct Target {
    unit: &'static str,
    project: String,
    item: String,
}

/// The schema's input types and enums, to build a well-typed argument for every mutation
/// (access control must answer before any rule of the domain could).
struct Schema {
    inputs: BTreeMap<String, Vec<(String, Type)>>,
    enums: BTreeMap<String, String>,
    /// Mutation fields: name and arguments.
    mutations: Vec<(String, Vec<(String, Type)>)>,
}

/// Amounts that may be given in yuan or as their `…Wan` twin, exactly one of the two: nullable
/// in the schema, yet one form is required, so the matrix gives the yuan form.
const EITHER_FORM_REQUIRED: &[&str] = &["completedInvestment", "fundsInPlace"];

fn schema() -> Schema {
    let mut s = Schema {
        inputs: BTreeMap::new(),
        enums: BTreeMap::new(),
        mutations: Vec::new(),
    };
    for (name, kind) in schema_types() {
        match &kind {
            TypeKind::InputObject(o) => {
                let fields = o
                    .fields
                    .iter()
                    .filter(|f| {
                        (!f.node.ty.node.nullable && f.node.default_value.is_none())
                            || EITHER_FORM_REQUIRED.contains(&f.node.name.node.as_str())
                    })
                    .map(|f| (f.node.name.node.to_string(), f.node.ty.node.clone()))
                    .collect();
                s.inputs.insert(name, fields);
            }
            TypeKind::Enum(e) => {
                s.enums
                    .insert(name, e.values[0].node.value.node.to_string());
            }
            TypeKind::Object(o) if name == "Mutation" => {
                for f in &o.fields {
                    let args = f
                        .node
                        .arguments
                        .iter()
                        .map(|a| (a.node.name.node.to_string(), a.node.ty.node.clone()))
                        .collect();
                    s.mutations.push((f.node.name.node.to_string(), args));
                }
            }
            _ => {}
        }
    }
    s
}

impl Schema {
    fn value(&self, field: &str, ty: &Type, target: &Target, seq: &str, extra: &Value) -> Value {
        match &ty.base {
            BaseType::List(inner) => json!([self.value(field, inner, target, seq, extra)]),
            BaseType::Named(name) => {
                let name = name.as_str();
                if let Some(fields) = self.inputs.get(name) {
                    let mut o = serde_json::Map::new();
                    for (f, t) in fields {
                        o.insert(f.clone(), self.value(f, t, target, seq, extra));
                    }
                    return Value::Object(o);
                }
                if let Some(first) = self.enums.get(name) {
                    return json!(first);
                }
                match (field, name) {
                    ("idempotencyKey", _) => json!(format!("matrix-{seq}")),
                    ("projectId", _) => json!(target.project),
                    ("itemId", _) => json!(target.item),
                    ("unitId", _) => extra
                        .get("unitId")
                        .cloned()
                        .unwrap_or_else(|| json!(target.unit)),
                    ("responsibleUnit" | "leadUnit" | "unit" | "units" | "coUnits", _) => {
                        json!(target.unit)
                    }
                    ("tokenId", _) => extra["tokenId"].clone(),
                    ("year", _) => json!(2026),
                    // Values the domain parses before access control can see the project.
                    ("creditCode", _) => json!("91350100M000100Y43"),
                    ("code", _) => json!("2018-420100-47-03-012345"),
                    (_, "Date") => json!("2026-03-01"),
                    (_, "DateTime") => json!("2026-03-01T00:00:00Z"),
                    (_, "Period") => json!("2026-03"),
                    (_, "Int" | "Yuan") => json!(1),
                    (_, "Float") => json!(1.0),
                    (_, "Boolean") => json!(false),
                    (_, "JSON") => json!({}),
                    (_, "Mu" | "Decimal") => json!("1"),
                    _ => json!("x"),
                }
            }
        }
    }

    /// A mutation document and its variables for field `name`.
    fn mutation(&self, name: &str, target: &Target, seq: &str, extra: &Value) -> (String, Value) {
        let (_, args) = self
            .mutations
            .iter()
            .find(|(m, _)| m == name)
            .unwrap_or_else(|| panic!("no mutation {name}"));
        let mut vars = serde_json::Map::new();
        let mut declared = Vec::new();
        let mut passed = Vec::new();
        for (a, t) in args {
            declared.push(format!("${a}: {t}"));
            passed.push(format!("{a}: ${a}"));
            vars.insert(a.clone(), self.value(a, t, target, seq, extra));
        }
        let doc = format!(
            "mutation({}) {{ {name}({}) {{ __typename }} }}",
            declared.join(", "),
            passed.join(", ")
        );
        (doc, Value::Object(vars))
    }
}

/// The document of a query operation.
fn query_of(op: Operation) -> &'static str {
    match op {
        Operation::Read => "{ units { unitId } }",
        Operation::ListTokens => "{ tokens { tokenId name role status } }",
        Operation::ReadEvents => "{ events(first: 1) { totalCount } }",
        Operation::VerifyLedger => "{ ledgerVerification { ok } }",
        _ => unreachable!("{op:?} is a mutation"),
    }
}

fn codes(r: &Reply) -> Vec<String> {
    r.body["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(|e| e["extensions"]["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_by_operation_matrix_over_http() {
    let app = spawn().await;
    // A unit in the test editor's scope and one outside it, each with a project and an item.
    let pool = app.db().pool(1).await;
    let far = create_token(&pool, "far clerk", Role::Editor, &["far-town"]).await;
    pool.close().await;
    let mut targets = Vec::new();
    for (unit, editor) in [
        ("dev-zone", app.token(Role::Editor).to_owned()),
        ("far-town", far.1),
    ] {
        app.gql(
            &format!(r#"mutation {{ createUnit(input: {{idempotencyKey: "unit-{unit}", unitId: "{unit}", name: "{unit}", kind: TOWNSHIP, date: "2026-01-02"}}) {{ unit {{ unitId }} }} }}"#),
            json!({}),
        )
        .await
        .ok();
        let r = app
            .gql_with(
                Some(&editor),
                &format!(r#"mutation {{ registerProject(input: {{idempotencyKey: "p-{unit}", name: "项目", kind: ATTRACTED,
                    investorName: "某公司", investorType: PRIVATE, industryChain: "新能源", industrial: true,
                    intendedInvestment: 100000000, responsibleUnit: "{unit}", leadOfficial: "王", date: "2026-02-01"}}) {{ project {{ projectId }} }} }}"#),
                json!({}),
            )
            .await;
        let project = r.ok()["registerProject"]["project"]["projectId"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = app
            .gql(
                &format!(r#"mutation {{ openSupervisionItem(input: {{idempotencyKey: "i-{unit}", projectId: "{project}", title: "督办",
                    category: APPROVAL, leadUnit: "{unit}", deadline: "2026-06-30", date: "2026-03-01"}}) {{ item {{ itemId }} }} }}"#),
                json!({}),
            )
            .await;
        let item = r.ok()["openSupervisionItem"]["item"]["itemId"]
            .as_str()
            .unwrap_or_else(|| panic!("{}", r.body))
            .to_owned();
        targets.push(Target {
            unit,
            project,
            item,
        });
    }
    let (inside, outside) = (&targets[0], &targets[1]);
    let schema = schema();
    let pool = app.db().pool(1).await;
    let mut cases = 0;
    let mut refused = 0;
    let mut wrong = Vec::new();
    for &op in Operation::ALL {
        for role in Role::ALL {
            let grant = auth::grant(role, op.area());
            // Editors are tried in and out of scope; everyone else on the in-scope ids.
            let scopes: &[(&Target, bool)] = if role == Role::Editor && grant == Grant::InScope {
                &[(inside, true), (outside, false)]
            } else {
                &[(inside, true)]
            };
            for &(target, in_scope) in scopes {
                cases += 1;
                let seq = format!("{op:?}-{role}-{in_scope}");
                let throwaway = create_token(&pool, "throwaway", Role::Viewer, &[]).await;
                let extra =
                    json!({"tokenId": throwaway.0.to_string(), "unitId": format!("new-{}", cases)});
                let (doc, vars) = if op.area() == auth::Area::Read
                    || matches!(
                        op,
                        Operation::ListTokens | Operation::ReadEvents | Operation::VerifyLedger
                    ) {
                    (query_of(op).to_owned(), json!({}))
                } else {
                    schema.mutation(op.field(), target, &seq, &extra)
                };
                let before = event_count(&app).await;
                let r = app.gql_as(role, &doc, vars.clone()).await;
                let got = codes(&r);
                let allowed = match grant {
                    Grant::Allow => true,
                    Grant::InScope => in_scope,
                    Grant::Deny => false,
                };
                if allowed {
                    assert!(
                        !got.iter()
                            .any(|c| c == "FORBIDDEN" || c == "UNAUTHENTICATED"),
                        "{role} should be allowed {op:?} ({doc} {vars}): {}",
                        r.body
                    );
                    assert_eq!(r.status, 200, "{}", r.body);
                } else {
                    refused += 1;
                    if got != vec!["FORBIDDEN".to_owned()] {
                        wrong.push(format!(
                            "{role} should be refused {op:?} (in scope: {in_scope}; {doc} {vars}): {}",
                            r.body
                        ));
                        continue;
                    }
                    let error = &r.body["errors"][0];
                    assert!(
                        error["message"]
                            .as_str()
                            .unwrap()
                            .starts_with("forbidden to"),
                        "{error}"
                    );
                    assert!(
                        error["extensions"]["messageZh"]
                            .as_str()
                            .unwrap()
                            .starts_with("无权"),
                        "{error}"
                    );
                    assert_eq!(
                        event_count(&app).await,
                        before,
                        "a refused {op:?} by {role} wrote events"
                    );
                }
            }
        }
    }
    pool.close().await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // The batch: one item out of scope refuses the whole batch, and writes nothing.
    let before = event_count(&app).await;
    let batch = r#"mutation($items: [BatchReportItem!]!) { reportInvestments(input: {idempotencyKey: "mixed", items: $items}) { items { result { version } } } }"#;
    let item = |p: &str| json!({"projectId": p, "period": "2026-03", "completedInvestment": 1, "fundsInPlace": 0});
    let r = app
        .gql_as(
            Role::Editor,
            batch,
            json!({"items": [item(&inside.project), item(&outside.project)]}),
        )
        .await;
    // (The in-scope project was abandoned by the matrix above: every refusal is listed.)
    let item_errors = r.body["errors"][0]["extensions"]["itemErrors"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", r.body))
        .clone();
    assert!(
        item_errors
            .iter()
            .any(|e| e["extensions"]["item"] == 1 && e["extensions"]["code"] == "FORBIDDEN"),
        "{}",
        r.body
    );
    assert_eq!(event_count(&app).await, before);
    cases += 1;
    refused += 1;
    println!(
        "access matrix: {cases} cases over HTTP ({} operations x {} roles, editors also out of scope, and a mixed batch), {refused} refused",
        Operation::ALL.len(),
        Role::ALL.len()
    );
    assert_eq!(cases, 37 * 5 + 20 + 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_failures_revocation_and_expiry() {
    let app = spawn().await;
    let query = "{ units { unitId } }";
    let unknown = format!("tz_{}", "A".repeat(43));
    for (header, why) in [
        (None, "no token"),
        (Some("Bearer".to_owned()), "empty bearer"),
        (Some("Bearer not-a-token".to_owned()), "malformed"),
        (Some(format!("Bearer {unknown}")), "unknown"),
        (
            Some(format!("Basic {}", app.token(Role::Viewer))),
            "wrong scheme",
        ),
        (
            Some(format!("Bearer {}'; DROP TABLE auth.tokens; --", "tz_")),
            "SQL",
        ),
    ] {
        let mut request = app
            .client
            .post(app.url("/graphql"))
            .header("content-type", "application/json")
            .body(json!({ "query": query }).to_string());
        if let Some(h) = &header {
            request = request.header("authorization", h);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap()),
            Some("Bearer"),
            "{why}"
        );
        let r = reply(response).await;
        assert_eq!(
            (r.status, r.code()),
            (401, "UNAUTHENTICATED"),
            "{why}: {}",
            r.body
        );
        assert!(r.body.get("data").is_none(), "{why}");
    }
    // GET too; the playground page itself is open.
    let r = app
        .get(
            "query=%7B+units+%7B+unitId+%7D+%7D",
            &[("authorization", "Bearer x")],
        )
        .await;
    assert_eq!(r.status, 401);
    let page = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);

    // An admin makes a token over the API; it works at once, and stops at once when revoked.
    let r = app
        .gql_as(
            Role::Admin,
            r#"mutation { createToken(input: {name: "临时查看", role: VIEWER, expiresIn: "1h"}) { secret token { tokenId role status createdBy } } }"#,
            json!({}),
        )
        .await;
    let created = &r.ok()["createToken"];
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("tz_") && secret.len() == 46, "{secret}");
    assert_eq!(created["token"]["createdBy"], app.actor(Role::Admin));
    let id = created["token"]["tokenId"].as_str().unwrap().to_owned();
    app.gql_with(Some(&secret), query, json!({})).await.ok();
    let r = app
        .gql_as(
            Role::Admin,
            "mutation($id: ID!) { revokeToken(input: {tokenId: $id}) { status revokedBy } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(r.ok()["revokeToken"]["status"], "REVOKED");
    let r = app.gql_with(Some(&secret), query, json!({})).await;
    assert_eq!((r.status, r.code()), (401, "UNAUTHENTICATED"));
    // Revoking twice: a conflict that names the field.
    let r = app
        .gql_as(
            Role::Admin,
            "mutation($id: ID!) { revokeToken(input: {tokenId: $id}) { status } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(r.code(), "TOKEN_ALREADY_REVOKED");
    // The list shows it, never a secret; auditors may read it too, viewers may not.
    let r = app
        .gql_as(Role::Auditor, "{ tokens { tokenId status } }", json!({}))
        .await;
    let listed = r.ok()["tokens"].to_string();
    assert!(listed.contains(&id) && !listed.contains("tz_"), "{listed}");
    let r = app
        .gql_as(Role::Viewer, "{ tokens { tokenId } }", json!({}))
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    // Bad creations are refused with the field at fault.
    let r = app
        .gql_as(
            Role::Admin,
            r#"mutation { createToken(input: {name: "x", role: EDITOR}) { secret } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        (
            r.code(),
            r.body["errors"][0]["extensions"]["field"].as_str()
        ),
        ("VALIDATION", Some("units"))
    );
    let r = app
        .gql_as(
            Role::Admin,
            r#"mutation { createToken(input: {name: "x", role: EDITOR, units: ["no-such-unit"]}) { secret } }"#,
            json!({}),
        )
        .await;
    assert_eq!(r.code(), "UNIT_NOT_FOUND");

    // Expiry: a token of one second is refused once the second is over.
    let pool = app.db().pool(1).await;
    let short = auth::PgTokens::new(pool.clone())
        .create(
            auth::NewToken {
                name: "short".into(),
                role: Role::Viewer,
                units: vec![],
                lifetime: time::Duration::seconds(1),
            },
            "cli:test",
        )
        .await
        .unwrap();
    pool.close().await;
    let secret = short.secret.expose().to_owned();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let r = app.gql_with(Some(&secret), query, json!({})).await;
    assert_eq!((r.status, r.code()), (401, "UNAUTHENTICATED"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_actor_of_every_event_is_the_token() {
    let app = spawn().await;
    unit_and_project(&app, "actor-project").await;
    let r = app
        .gql_as(
            Role::Auditor,
            "{ events(first: 10) { nodes { type actor metadata } } }",
            json!({}),
        )
        .await;
    let nodes = r.ok()["events"]["nodes"].as_array().unwrap().clone();
    let actor_of = |t: &str| {
        nodes
            .iter()
            .find(|n| n["type"] == t)
            .unwrap_or_else(|| panic!("no {t} in {nodes:?}"))
            .clone()
    };
    let unit = actor_of("UnitCreated");
    assert_eq!(unit["actor"], app.actor(Role::Admin));
    assert_eq!(unit["metadata"]["actor"], app.actor(Role::Admin));
    let project = actor_of("ProjectRegistered");
    assert_eq!(project["metadata"]["actor"], app.actor(Role::Editor));
    assert!(
        project["actor"]
            .as_str()
            .unwrap()
            .ends_with(&format!("({})", app.tokens[&Role::Editor].0))
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_needs_a_token_in_connection_init() {
    let app = spawn().await;
    // graphql-transport-ws: no token, a bad one → closed with 4403.
    for payload in [
        json!({}),
        json!({"Authorization": "Bearer tz_nope"}),
        json!(null),
    ] {
        let mut s = open(&app, "graphql-transport-ws", payload.clone()).await;
        assert_eq!(next(&mut s).await, Err(4403), "{payload}");
    }
    // The legacy protocol is told with connection_error, then closed.
    let mut s = open(&app, "graphql-ws", json!({})).await;
    assert_eq!(next(&mut s).await.unwrap()["type"], "connection_error");
    // With a token (header form or bare), the connection is acknowledged, and the role still
    // decides: a viewer may not follow the raw events feed, an auditor may.
    let mut viewer = open(
        &app,
        "graphql-transport-ws",
        json!({"Authorization": app.bearer(Role::Viewer)}),
    )
    .await;
    assert_eq!(next(&mut viewer).await.unwrap()["type"], "connection_ack");
    viewer
        .send(Message::Text(
            json!({"id": "1", "type": "subscribe", "payload": {"query": "subscription { events { type } }"}})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    let m = next(&mut viewer).await.unwrap();
    assert_eq!(m["type"], "next", "{m}");
    assert_eq!(m["payload"]["data"], Value::Null, "{m}");
    assert_eq!(
        m["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{m}"
    );
    let mut auditor = open(
        &app,
        "graphql-transport-ws",
        json!({"token": app.token(Role::Auditor)}),
    )
    .await;
    assert_eq!(next(&mut auditor).await.unwrap()["type"], "connection_ack");
    auditor
        .send(Message::Text(
            json!({"id": "1", "type": "subscribe", "payload": {"query": "subscription { events(filter: {types: [\"UnitCreated\"]}) { type actor } }"}})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    app.gql(
        r#"mutation { createUnit(input: {idempotencyKey: "ws-unit", unitId: "dev-zone", name: "开发区", kind: PARK, date: "2026-01-02"}) { unit { unitId } } }"#,
        json!({}),
    )
    .await
    .ok();
    let m = next(&mut auditor).await.unwrap();
    assert_eq!(m["type"], "next", "{m}");
    assert_eq!(
        m["payload"]["data"]["events"]["actor"],
        app.actor(Role::Admin)
    );
    // A revoked token cannot open a new connection, and loses the one it has within seconds.
    let pool = app.db().pool(1).await;
    auth::PgTokens::new(pool.clone())
        .revoke(app.tokens[&Role::Auditor].0, "cli:test")
        .await
        .unwrap();
    pool.close().await;
    let revoked_at = std::time::Instant::now();
    // It ends with a close frame saying why (4403), not a bare TCP close: a client must be
    // able to tell "sign in again" from a network failure worth reconnecting after.
    let closed = loop {
        match tokio::time::timeout(Duration::from_secs(15), auditor.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => break frame.map(|f| u16::from(f.code)),
            Ok(Some(Ok(_))) => continue,
            Ok(other) => {
                panic!("the revoked token's socket ended without a close frame: {other:?}")
            }
            Err(_) => panic!("the revoked token's socket stayed open"),
        }
    };
    assert_eq!(closed, Some(4403));
    assert!(revoked_at.elapsed() < Duration::from_secs(11));
    let mut s = open(
        &app,
        "graphql-transport-ws",
        json!({"Authorization": app.bearer(Role::Auditor)}),
    )
    .await;
    assert_eq!(next(&mut s).await, Err(4403));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_answer_with_a_retry_hint() {
    let app = spawn_with(|c| {
        c.serve.auth.rate_limit = 1.0;
        c.serve.auth.rate_burst = 3;
    })
    .await;
    let query = "{ units { unitId } }";
    for _ in 0..3 {
        app.gql_as(Role::Viewer, query, json!({})).await.ok();
    }
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .header("authorization", app.bearer(Role::Viewer))
        .body(json!({ "query": query }).to_string())
        .send()
        .await
        .unwrap();
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    let r = reply(response).await;
    assert_eq!((r.status, r.code()), (429, "RATE_LIMITED"), "{}", r.body);
    let hint = r.body["errors"][0]["extensions"]["retryAfterMs"]
        .as_u64()
        .unwrap();
    assert!(hint > 0 && hint <= 1000, "{hint}");
    // Another token has a bucket of its own.
    app.gql_as(Role::Auditor, query, json!({})).await.ok();
    // After the hint, the token is served again.
    tokio::time::sleep(Duration::from_millis(hint + 50)).await;
    app.gql_as(Role::Viewer, query, json!({})).await.ok();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_endpoints_can_be_protected() {
    let app = spawn_with(|c| c.serve.auth.protect_ops_endpoints = true).await;
    let get = |path: &'static str, token: Option<String>| {
        let mut r = app.client.get(app.url(path));
        if let Some(t) = token {
            r = r.header("authorization", t);
        }
        async move { r.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(get("/healthz", None).await, 200);
    assert_eq!(get("/readyz", None).await, 401);
    assert_eq!(get("/metrics", None).await, 401);
    assert_eq!(get("/readyz", Some(app.bearer(Role::Viewer))).await, 200);
    assert_eq!(get("/metrics", Some(app.bearer(Role::Auditor))).await, 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_mode_lets_everyone_in_as_anonymous() {
    let app = spawn_with(|c| c.serve.auth.insecure_no_auth = true).await;
    let r = app
        .gql_with(
            None,
            r#"mutation { createUnit(input: {idempotencyKey: "anon-unit", unitId: "dev-zone", name: "开发区", kind: PARK, date: "2026-01-02"}) { unit { unitId } } }"#,
            json!({}),
        )
        .await;
    r.ok();
    let r = app
        .gql_with(
            None,
            r#"{ events(first: 50, filter: {types: ["UnitCreated"]}) { nodes { actor } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        r.ok()["events"]["nodes"][0]["actor"],
        "anonymous (insecure)"
    );
    app.stop().await;
}
