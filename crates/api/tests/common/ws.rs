//! A small graphql-transport-ws client for the WebSocket tests.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::TestApp;

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn open(app: &TestApp, protocol: &str, payload: Value) -> Socket {
    let mut request = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", protocol.parse().unwrap());
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], protocol);
    socket
        .send(Message::Text(
            json!({"type": "connection_init", "payload": payload})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    socket
}

/// The next message that is not a keep-alive: JSON text, or the close code.
pub async fn next(socket: &mut Socket) -> Result<Value, u16> {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .expect("a message within 30 s");
        match m {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["type"] == "ka" || v["type"] == "ping" {
                    continue;
                }
                return Ok(v);
            }
            Some(Ok(Message::Close(frame))) => {
                return Err(frame.map_or(1005, |f| u16::from(f.code)));
            }
            Some(Ok(_)) => continue,
            other => panic!("socket ended: {other:?}"),
        }
    }
}

/// Sends one JSON message.
pub async fn send(socket: &mut Socket, v: Value) {
    socket
        .send(Message::Text(v.to_string().into()))
        .await
        .unwrap();
}
