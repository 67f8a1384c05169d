//! Subscriptions to $all: read in batches until caught up, then wait for a notification or the
//! poll interval, whichever comes first, and read again.
//!
//! Correctness rests on reading, never on notifications: a notification only shortens the wait.
//! So a lost notification, a killed listener connection or NOTIFY switched off cost latency (up to
//! the poll interval), never events. The position only moves past delivered events, and $all reads
//! never pass an open transaction, so there are no holes and no duplicates.

use futures::StreamExt;
use sqlx::postgres::PgListener;
use tokio::sync::mpsc;

use super::{NOTIFY_CHANNEL, PgEventStore};
use crate::{EventStream, Filter, Position, RecordedEvent, StoreError};

pub(crate) fn subscribe(store: PgEventStore, from: Position, filter: Filter) -> EventStream {
    let capacity = store.options.subscription_batch.max(1);
    let (tx, mut rx) = mpsc::channel(capacity);
    tokio::spawn(run(store, from, filter, tx));
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx)).boxed()
}

async fn connect_listener(store: &PgEventStore) -> Option<PgListener> {
    let mut listener = match PgListener::connect_with(&store.pool).await {
        Ok(l) => l,
        Err(error) => {
            tracing::warn!(%error, "subscription cannot connect its listener; polling");
            return None;
        }
    };
    match listener.listen(NOTIFY_CHANNEL).await {
        Ok(()) => Some(listener),
        Err(error) => {
            tracing::warn!(%error, "subscription cannot LISTEN; polling");
            None
        }
    }
}

async fn run(
    store: PgEventStore,
    mut position: Position,
    filter: Filter,
    tx: mpsc::Sender<Result<RecordedEvent, StoreError>>,
) {
    let options = store.options.clone();
    let batch = options.subscription_batch.max(1);
    let mut listener: Option<PgListener> = None;
    loop {
        // Listen before reading, so a notification sent between the read and the wait is kept.
        if options.listen && listener.is_none() {
            listener = connect_listener(&store).await;
        }
        match super::read::read_all_page(&store.pool, &store.upcasters, position, &filter, batch)
            .await
        {
            Ok((events, next)) => {
                let full = events.len() == batch;
                for event in events {
                    if tx.send(Ok(event)).await.is_err() {
                        return; // the subscriber went away
                    }
                }
                position = next;
                if full {
                    continue; // still catching up
                }
            }
            Err(StoreError::Database(error)) => {
                tracing::warn!(%error, %position, "subscription read failed; retrying");
                tokio::select! {
                    () = tokio::time::sleep(options.retry_delay) => continue,
                    () = tx.closed() => return,
                }
            }
            Err(error) => {
                // Not a connection problem (e.g. an upcaster failed): retrying would fail again.
                let _ = tx.send(Err(error)).await;
                return;
            }
        }
        match listener.as_mut() {
            Some(l) => tokio::select! {
                received = l.try_recv() => match received {
                    // Many appends, one read: drop the notifications already queued.
                    Ok(Some(_)) => while l.next_buffered().is_some() {},
                    // Connection lost; it reconnects on the next call, and we read anyway.
                    Ok(None) => {}
                    Err(error) => {
                        tracing::warn!(%error, "subscription listener failed; reconnecting");
                        listener = None;
                    }
                },
                () = tokio::time::sleep(options.poll_interval) => {}
                () = tx.closed() => return,
            },
            None => tokio::select! {
                () = tokio::time::sleep(options.poll_interval) => {}
                () = tx.closed() => return,
            },
        }
    }
}
