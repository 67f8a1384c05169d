//! Coalesced wake-ups for subscribers.
//!
//! NOTIFY inside an append's transaction takes a cluster-wide lock at commit that serialises all
//! notifying commits; under many concurrent writers that, not the append itself, limits
//! throughput (docs/benchmarks.md). So by default the store appends without notifying and pokes
//! this notifier, which sends one `pg_notify` outside any append's transaction and then waits
//! `min_interval` before the next: many appends, one wake-up. A notification sent this way can
//! arrive before the append is visible in $all (another transaction may still hold it back);
//! subscribers poll anyway, so that costs at most one poll interval.

use std::sync::OnceLock;
use std::time::Duration;

use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::mpsc;

use super::NOTIFY_CHANNEL;

#[derive(Debug, Default)]
pub(crate) struct Notifier {
    poke: OnceLock<mpsc::Sender<()>>,
}

impl Notifier {
    /// Asks for a notification soon; never waits. The task ends when the store is dropped.
    pub(crate) fn poke(&self, pool: &PgPool, min_interval: Duration) {
        let sender = self.poke.get_or_init(|| {
            let (tx, rx) = mpsc::channel(1);
            tokio::spawn(run(pool.clone(), rx, min_interval));
            tx
        });
        // Full means a notification is already due: this append will be covered by it.
        let _ = sender.try_send(());
    }
}

async fn run(pool: PgPool, mut pokes: mpsc::Receiver<()>, min_interval: Duration) {
    // A connection of its own, so wake-ups never wait for (or hold up) an appender's connection.
    let mut conn: Option<PgConnection> = None;
    while pokes.recv().await.is_some() {
        if conn.is_none() {
            match PgConnection::connect_with(&*pool.connect_options()).await {
                Ok(c) => conn = Some(c),
                Err(error) => tracing::debug!(%error, "notifier cannot connect"),
            }
        }
        if let Some(c) = conn.as_mut()
            && let Err(error) = sqlx::query("SELECT pg_notify($1, '')")
                .bind(NOTIFY_CHANNEL)
                .execute(&mut *c)
                .await
        {
            // Subscribers poll, so a lost wake-up only delays them; reconnect next time.
            tracing::debug!(%error, "could not notify subscribers");
            conn = None;
        }
        tokio::time::sleep(min_interval).await;
    }
}
