//! Subscriptions over WebSocket: graphql-transport-ws, and the legacy graphql-ws protocol,
//! chosen by `Sec-WebSocket-Protocol`.
//!
//! Browsers cannot set headers on a WebSocket, so the token comes in the `connection_init`
//! payload (`{"Authorization": "Bearer tz_…"}` or `{"token": "tz_…"}`). The server reads that
//! first message itself, before handing the socket to async-graphql, so that a refusal closes
//! the socket with the protocol's own code: 4403 Forbidden for a missing or invalid token,
//! 4429 when the token is over its rate limit, 4408 when no `connection_init` came in time,
//! 4400 for anything else first (the legacy protocol gets a `connection_error` message before
//! the close). An accepted connection runs as the token's identity; each operation it starts
//! counts against the token's rate limit (see `crate::access`). A token revoked or expired while
//! its connection is open closes it with 4403 too, within [`RECHECK`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::Data;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use auth::AuthError;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{ConnectInfo, State as AxumState, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};

use super::Shared;
use crate::access::OverWebSocket;

/// After shutdown begins, subscriptions end at once (their streams watch the same signal);
/// the socket is then given this long to send the final messages before it is closed.
const CLOSE_GRACE: Duration = Duration::from_millis(500);

/// How long a client may take to send `connection_init` after the upgrade.
const INIT_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn upgrade(
    AxumState(shared): AxumState<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let legacy = is_legacy(&headers);
    // A message is a request: no larger than an HTTP body may be (axum's default is 64 MiB).
    let max = shared.state.config.serve.limits.max_body;
    // The web workspace's pages cannot read their HttpOnly session cookie to put the token
    // into `connection_init`: the cookie stands in when the payload has none, for upgrades
    // from this server's own pages only (no cross-site WebSocket hijacking).
    let cookie = ::web::session_token(&headers).filter(|_| ::web::same_origin(&headers));
    upgrade
        .max_message_size(max)
        .max_frame_size(max)
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve(shared, socket, protocol, legacy, peer, cookie))
}

/// Whether the protocol chosen (the first one offered that we speak, as `GraphQLProtocol`
/// chooses) is the legacy subscriptions-transport-ws, whose name is `graphql-ws`.
fn is_legacy(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|offered| {
            offered
                .split(',')
                .map(str::trim)
                .find(|p| async_graphql::http::ALL_WEBSOCKET_PROTOCOLS.contains(p))
        })
        == Some("graphql-ws")
}

async fn serve(
    shared: Arc<Shared>,
    socket: WebSocket,
    protocol: GraphQLProtocol,
    legacy: bool,
    peer: SocketAddr,
    cookie: Option<String>,
) {
    let (mut sink, mut stream) = socket.split();
    let first = match tokio::time::timeout(INIT_TIMEOUT, first_text(&mut stream)).await {
        Ok(Some(text)) => text,
        Ok(None) => return,
        Err(_) => {
            close(&mut sink, legacy, 4408, "Connection initialisation timeout").await;
            return;
        }
    };
    let message: Value = serde_json::from_str(first.as_str()).unwrap_or(Value::Null);
    if message["type"] != "connection_init" {
        close(&mut sink, legacy, 4400, "connection_init expected first").await;
        return;
    }
    let mut payload = message.get("payload").cloned().unwrap_or(Value::Null);
    if let Some(token) = cookie
        && auth::secret::from_connection_init(&payload).is_none()
    {
        payload = json!({ "token": token });
    }
    let identity = match shared
        .state
        .gate
        .authenticate_connection_init(&payload, Some(peer.ip()))
        .await
    {
        Ok(identity) => identity,
        Err(e) => {
            let (code, reason) = match e {
                AuthError::RateLimited { .. } => (4429, "Too many requests (请求过于频繁)"),
                AuthError::Unavailable(_) => (1011, "Cannot check the token now (暂时无法校验)"),
                _ => (
                    4403,
                    "Forbidden: a valid API token is required (需要有效的访问令牌)",
                ),
            };
            close(&mut sink, legacy, code, reason).await;
            return;
        }
    };
    // Hand the socket to async-graphql with the `connection_init` put back in front: it
    // acknowledges it, and the connection's data carries the identity.
    let replayed = futures::stream::once(async move { Ok::<_, axum::Error>(Message::Text(first)) })
        .chain(stream);
    // Kept (never logged: `Secret` prints redacted) to check the token again while open.
    let secret = auth::secret::from_connection_init(&payload);
    let insecure = shared.state.gate.is_insecure();
    let mut data = Data::default();
    data.insert(identity);
    data.insert(OverWebSocket);
    let schema = shared.schema.clone();
    let mut shutdown = shared.state.shutdown.clone();
    // async-graphql writes into a channel, and one task writes the channel to the socket, so
    // that the server keeps a way to the client after async-graphql is dropped: a connection
    // whose token is refused ends with a close frame saying why, not a bare TCP close.
    let (outgoing, mut queued) = futures::channel::mpsc::channel::<Message>(16);
    let mut closer = outgoing.clone();
    let writer = tokio::spawn(async move {
        while let Some(message) = queued.next().await {
            if sink.send(message).await.is_err() {
                return;
            }
        }
        let _ = sink.close().await;
    });
    let serve = GraphQLWebSocket::new_with_pair(
        outgoing.sink_map_err(axum::Error::new),
        replayed,
        schema,
        protocol,
    )
    .with_data(data)
    .serve();
    // Boxed, so that dropping it below really ends it (and its end of the channel).
    let mut serve = Box::pin(serve);
    let refused = tokio::select! {
        () = &mut serve => false,
        () = crate::app::stopped(&mut shutdown) => {
            let _ = tokio::time::timeout(CLOSE_GRACE, &mut serve).await;
            false
        }
        // A revoked or expired token loses its open connections too, within RECHECK: the
        // connection is closed with 4403 (its subscriptions end; reconnecting needs a valid
        // token).
        () = invalidated(&shared, secret, peer), if !insecure => {
            tracing::info!(source = %peer.ip(), "closing a WebSocket whose token is no longer valid");
            true
        }
    };
    // Nothing of async-graphql writes after this: what it queued is sent, then our close.
    drop(serve);
    if refused {
        if legacy {
            let error = json!({"type": "connection_error", "payload": {"message": REFUSED_LATER}});
            let _ = closer.send(Message::Text(error.to_string().into())).await;
        }
        let _ = closer
            .send(Message::Close(Some(CloseFrame {
                code: 4403,
                reason: REFUSED_LATER.into(),
            })))
            .await;
    }
    drop(closer);
    let _ = tokio::time::timeout(CLOSE_GRACE, writer).await;
}

/// The close reason of a connection whose token was revoked or expired while it was open.
const REFUSED_LATER: &str = "Forbidden: the token was revoked or has expired (令牌已吊销或过期)";

/// How often an open connection's token is checked again (one index probe each).
const RECHECK: Duration = Duration::from_secs(5);

/// Resolves once the connection's token is refused (revoked, expired); a database that cannot
/// be asked is not a refusal.
async fn invalidated(shared: &Shared, secret: Option<auth::Secret>, peer: SocketAddr) {
    loop {
        tokio::time::sleep(RECHECK).await;
        match shared
            .state
            .gate
            .tokens()
            .authenticate(secret.as_ref(), Some(peer.ip()))
            .await
        {
            Ok(_) | Err(AuthError::Unavailable(_)) => {}
            Err(_) => return,
        }
    }
}

/// The first text message, skipping WebSocket-level pings; `None` when the socket closes.
async fn first_text(
    stream: &mut futures::stream::SplitStream<WebSocket>,
) -> Option<axum::extract::ws::Utf8Bytes> {
    while let Some(Ok(message)) = stream.next().await {
        match message {
            Message::Text(text) => return Some(text),
            Message::Ping(_) | Message::Pong(_) => continue,
            Message::Binary(_) | Message::Close(_) => return None,
        }
    }
    None
}

async fn close(
    sink: &mut futures::stream::SplitSink<WebSocket, Message>,
    legacy: bool,
    code: u16,
    reason: &'static str,
) {
    if legacy {
        let error = json!({"type": "connection_error", "payload": {"message": reason}});
        let _ = sink.send(Message::Text(error.to_string().into())).await;
    }
    let _ = sink
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
}
