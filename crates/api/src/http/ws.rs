//! Subscriptions over WebSocket: graphql-transport-ws, and the legacy graphql-ws protocol,
//! chosen by `Sec-WebSocket-Protocol`.

use std::sync::Arc;
use std::time::Duration;

use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::{State as AxumState, WebSocketUpgrade};
use axum::response::Response;

use super::Shared;

/// After shutdown begins, subscriptions end at once (their streams watch the same signal);
/// the socket is then given this long to send the final messages before it is closed.
const CLOSE_GRACE: Duration = Duration::from_millis(500);

pub async fn upgrade(
    AxumState(shared): AxumState<Arc<Shared>>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let schema = shared.schema.clone();
    let mut shutdown = shared.state.shutdown.clone();
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            let serve = GraphQLWebSocket::new(socket, schema, protocol).serve();
            tokio::pin!(serve);
            tokio::select! {
                () = &mut serve => {}
                () = crate::app::stopped(&mut shutdown) => {
                    let _ = tokio::time::timeout(CLOSE_GRACE, &mut serve).await;
                }
            }
        })
}
