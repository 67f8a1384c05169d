//! Subscriptions to $all on SQLite: the shared loop (crate::subscription), woken by this process's
//! appends through a `watch` shared by clones of the store, and polling for other processes'.

use std::time::Duration;

use tokio::sync::watch;

use super::SqliteEventStore;
use crate::subscription::{self, Source, Timing};
use crate::{EventStream, Filter, Position, RecordedEvent, StoreError};

pub(crate) fn subscribe(store: SqliteEventStore, from: Position, filter: Filter) -> EventStream {
    let timing = Timing {
        batch: store.options.subscription_batch,
        poll_interval: store.options.poll_interval,
        retry_delay: store.options.retry_delay,
    };
    // Subscribed now, before the first read: an append between a read and the wait is not missed.
    let appended = store.shared.appended.subscribe();
    subscription::spawn(
        SqliteSource {
            store,
            filter,
            appended,
        },
        from,
        timing,
    )
}

struct SqliteSource {
    store: SqliteEventStore,
    filter: Filter,
    appended: watch::Receiver<u64>,
}

impl Source for SqliteSource {
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
        // Appends before this read are covered by it; only later ones should end the wait.
        self.appended.mark_unchanged();
    }

    async fn wait(&mut self, poll_interval: Duration) {
        tokio::select! {
            // An error means every store handle is gone; polling goes on until we are dropped.
            _ = self.appended.changed() => {}
            () = tokio::time::sleep(poll_interval) => {}
        }
    }
}
