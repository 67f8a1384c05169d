//! Subscriptions to $all on PostgreSQL: the shared loop (crate::subscription), woken by
//! LISTEN/NOTIFY on a listener connection of its own.
//!
//! A lost notification, a killed listener connection or NOTIFY switched off cost latency (up to
//! the poll interval), never events (see crate::subscription).

use std::time::Duration;

use sqlx::postgres::PgListener;

use super::{NOTIFY_CHANNEL, PgEventStore};
use crate::subscription::{self, Source, Timing};
use crate::{EventStream, Filter, Position, RecordedEvent, StoreError};

pub(crate) fn subscribe(store: PgEventStore, from: Position, filter: Filter) -> EventStream {
    let timing = Timing {
        batch: store.options.subscription_batch,
        poll_interval: store.options.poll_interval,
        retry_delay: store.options.retry_delay,
    };
    subscription::spawn(
        PgSource {
            store,
            filter,
            listener: None,
        },
        from,
        timing,
    )
}

struct PgSource {
    store: PgEventStore,
    filter: Filter,
    listener: Option<PgListener>,
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

impl Source for PgSource {
    async fn page(
        &mut self,
        from: Position,
        batch: usize,
    ) -> Result<(Vec<RecordedEvent>, Position), StoreError> {
        super::read::read_all_page(
            &self.store.pool,
            &self.store.upcasters,
            from,
            &self.filter,
            batch,
        )
        .await
    }

    async fn before_read(&mut self) {
        // Listen before reading, so a notification sent between the read and the wait is kept.
        if self.store.options.listen && self.listener.is_none() {
            self.listener = connect_listener(&self.store).await;
        }
    }

    async fn wait(&mut self, poll_interval: Duration) {
        let Some(l) = self.listener.as_mut() else {
            tokio::time::sleep(poll_interval).await;
            return;
        };
        tokio::select! {
            received = l.try_recv() => match received {
                // Many appends, one read: drop the notifications already queued.
                Ok(Some(_)) => while l.next_buffered().is_some() {},
                // Connection lost; it reconnects on the next call, and we read anyway.
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(%error, "subscription listener failed; reconnecting");
                    self.listener = None;
                }
            },
            () = tokio::time::sleep(poll_interval) => {}
        }
    }
}
