//! Subscriptions over WebSocket: graphql-transport-ws and the legacy graphql-ws, events in order,
//! filters, dashboard changes, and the end of subscriptions at shutdown.

mod common;

use std::time::Duration;

use common::ws::{self, Socket, open, send};
use common::*;
use futures::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// A connection as the auditor, acknowledged.
async fn connect(app: &TestApp, protocol: &str) -> Socket {
    let mut socket = open(
        app,
        protocol,
        json!({"Authorization": app.bearer(auth::Role::Auditor)}),
    )
    .await;
    let ack = next(&mut socket).await;
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    socket
}

/// The next JSON message (skipping keep-alives and pings); the socket must stay open.
async fn next(socket: &mut Socket) -> Value {
    ws::next(socket).await.expect("the socket is open")
}

async fn contact(app: &TestApp, project: &str, key: &str) {
    app.gql(
        r#"mutation($p: ID!, $k: String!) { logContact(input: {idempotencyKey: $k, projectId: $p, kind: VISIT, date: "2026-02-03", leaderLevel: "县级", summary: $k}) { result { version } } }"#,
        json!({"p": project, "k": key}),
    )
    .await
    .ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_arrive_in_order_over_both_protocols() {
    let app = spawn().await;
    let project = unit_and_project(&app, "sub-project").await;
    let other = unit_and_project(&app, "sub-other").await;

    // Subscribing after the current end of $all makes delivery independent of when the server
    // registers the subscription: whatever is recorded after the cursor arrives.
    let head = app
        .gql(
            "{ events(first: 200) { pageInfo { endCursor } } }",
            json!({}),
        )
        .await;
    let head = head.ok()["events"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut modern = connect(&app, "graphql-transport-ws").await;
    send(
        &mut modern,
        json!({"id": "1", "type": "subscribe", "payload": {
            "query": "subscription($p: ID!, $c: String) { events(after: $c, filter: {project: $p, types: [\"ContactLogged\"]}) { type version stream data } }",
            "variables": {"p": project, "c": head}}}),
    )
    .await;
    let mut legacy = connect(&app, "graphql-ws").await;
    send(
        &mut legacy,
        json!({"id": "a", "type": "start", "payload": {
            "query": "subscription($c: String) { events(after: $c, filter: {unit: \"dev-zone\"}) { type stream } }",
            "variables": {"c": head}}}),
    )
    .await;
    for i in 0..5 {
        contact(&app, &project, &format!("c{i}")).await;
    }
    contact(&app, &other, "elsewhere").await;
    for i in 0..5 {
        let m = next(&mut modern).await;
        assert_eq!(m["type"], "next", "{m}");
        assert_eq!(m["id"], "1");
        let e = &m["payload"]["data"]["events"];
        assert_eq!(e["type"], "ContactLogged");
        assert_eq!(e["version"], i + 1, "in order");
        assert_eq!(e["data"]["summary"], format!("c{i}"));
    }
    // The unit filter sees both projects' events (they are dev-zone's), in $all order.
    let mut summaries = Vec::new();
    for _ in 0..6 {
        let m = next(&mut legacy).await;
        assert_eq!(m["type"], "data", "{m}");
        summaries.push(
            m["payload"]["data"]["events"]["stream"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(summaries.iter().filter(|s| s.contains(&project)).count(), 5);
    // Resuming after a cursor replays what came since.
    let feed = app
        .gql(
            "query($p: ID!) { project(id: $p) { version } events(first: 2, filter: {categories: [\"project\"]}) { pageInfo { endCursor } } }",
            json!({"p": project}),
        )
        .await;
    let cursor = feed.ok()["events"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    send(
        &mut modern,
        json!({"id": "2", "type": "subscribe", "payload": {
            "query": "subscription($c: String!) { events(after: $c, filter: {types: [\"ContactLogged\"]}) { data } }",
            "variables": {"c": cursor}}}),
    )
    .await;
    let first = next(&mut modern).await;
    assert_eq!(first["id"], "2");
    assert_eq!(first["payload"]["data"]["events"]["data"]["summary"], "c0");
    send(&mut modern, json!({"id": "2", "type": "complete"})).await;

    // Dashboard changes: the current figures first, then again after a write.
    send(
        &mut modern,
        json!({"id": "3", "type": "subscribe", "payload": {
            "query": "subscription { dashboard(year: 2026) { projectCount signedCount } }"}}),
    )
    .await;
    let mut m = next(&mut modern).await;
    while m["id"] != "3" {
        m = next(&mut modern).await;
    }
    assert_eq!(m["payload"]["data"]["dashboard"]["signedCount"], 0);
    app.gql(
        r#"mutation($p: ID!) { signAgreement(input: {idempotencyKey: "sign", projectId: $p, kind: FORMAL, date: "2026-03-10",
            contractInvestment: 200000000, fixedAssetInvestment: 100000000, landDemand: "50", plannedStart: "2026-05",
            plannedCompletion: "2027-06", plannedProduction: "2027-09"}) { result { version } } }"#,
        json!({"p": project}),
    )
    .await
    .ok();
    loop {
        let m = next(&mut modern).await;
        if m["id"] == "3" {
            assert_eq!(m["payload"]["data"]["dashboard"]["signedCount"], 1, "{m}");
            break;
        }
    }
    // At shutdown the subscriptions end.
    app.shutdown.shutdown();
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match modern.next().await {
                None | Some(Err(_)) => return true,
                Some(Ok(Message::Close(_))) => return true,
                Some(Ok(Message::Text(t))) if t.contains("\"complete\"") => return true,
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .unwrap_or(false);
    assert!(ended, "subscriptions end at shutdown");
    let _ = tokio::time::timeout(Duration::from_secs(20), app.server).await;
    if let common::TestStore::Postgres(db) = &app.store {
        db.drop_database().await;
    }
}
