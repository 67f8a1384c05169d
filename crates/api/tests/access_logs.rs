//! What the server logs about access: every failed authentication with its reason and source
//! address, never a token — through a whole create, use, revoke cycle over HTTP and WebSocket,
//! with everything logged at TRACE. A test binary of its own: the subscriber is global.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use auth::Role;
use common::*;
use futures::SinkExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// A `tracing` writer that keeps everything written to it.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_never_reach_the_log_and_failures_do_with_their_source() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish(),
    )
    .unwrap();
    let app = spawn().await;
    let mut secrets: Vec<String> = app.tokens.values().map(|(_, s)| s.clone()).collect();
    // Create, use and revoke a token over the API.
    let r = app
        .gql_as(
            Role::Admin,
            r#"mutation { createToken(input: {name: "logged", role: AUDITOR}) { secret token { tokenId } } }"#,
            json!({}),
        )
        .await;
    let secret = r.ok()["createToken"]["secret"].as_str().unwrap().to_owned();
    let id = r.ok()["createToken"]["token"]["tokenId"]
        .as_str()
        .unwrap()
        .to_owned();
    secrets.push(secret.clone());
    app.gql_with(
        Some(&secret),
        "{ events(first: 1) { totalCount } }",
        json!({}),
    )
    .await
    .ok();
    app.gql_as(
        Role::Admin,
        "mutation($id: ID!) { revokeToken(input: {tokenId: $id}) { status } }",
        json!({"id": id}),
    )
    .await
    .ok();
    let r = app
        .gql_with(Some(&secret), "{ units { unitId } }", json!({}))
        .await;
    assert_eq!(r.status, 401);
    // Unknown and malformed tokens, and a WebSocket with a revoked one.
    let unknown = format!("tz_{}", "Q".repeat(43));
    secrets.push(unknown.clone());
    app.gql_with(Some(&unknown), "{ units { unitId } }", json!({}))
        .await;
    app.gql_with(Some("not-a-token"), "{ units { unitId } }", json!({}))
        .await;
    let mut request = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket
        .send(Message::Text(
            json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {secret}")}})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    drop(socket);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // A burst of failures from one address is logged in aggregate: not one WARN per request.
    let before = captured.0.lock().unwrap().len();
    for n in 0..40 {
        app.gql_with(
            Some(&format!("tz_guess{n}")),
            "{ units { name } }",
            json!({}),
        )
        .await;
    }
    let burst = String::from_utf8(captured.0.lock().unwrap()[before..].to_vec()).unwrap();
    let warnings = burst
        .lines()
        .filter(|l| l.contains(" WARN ") && l.contains("authentication failed"))
        .count();
    assert!(
        warnings <= 2,
        "{warnings} WARN lines for 40 failures:\n{burst}"
    );
    app.stop().await;

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    for s in &secrets {
        assert!(!log.contains(s.as_str()), "a token reached the log");
        // Nor the part after the prefix, in case something strips it.
        assert!(!log.contains(&s[3..]), "a token's body reached the log");
    }
    for reason in ["unknown token", "malformed token", "revoked token"] {
        assert!(
            log.lines().any(|l| l.contains("authentication failed")
                && l.contains(reason)
                && l.contains("source=127.0.0.1")),
            "no `{reason}` with its source in the log"
        );
    }
    assert!(log.contains("token created") && log.contains("token revoked"));
}
