//! The subscription loop both backends run: read $all in batches until caught up, then wait for a
//! wake-up or the poll interval, whichever comes first, and read again.
//!
//! Correctness rests on reading, never on wake-ups: a wake-up only shortens the wait, so a lost
//! one costs latency (up to the poll interval), never events. The position only moves past
//! delivered events (or past the end of $all a backend saw in the same snapshot as the page), and
//! $all reads never pass an event that may still commit before it: no holes, no duplicates.

use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::mpsc;

use crate::{EventStream, Position, RecordedEvent, StoreError};

/// How a backend's subscription reads and waits.
pub(crate) trait Source: Send + 'static {
    /// Events after `from` (at most `batch`) and where the next page starts.
    fn page(
        &mut self,
        from: Position,
        batch: usize,
    ) -> impl Future<Output = Result<(Vec<RecordedEvent>, Position), StoreError>> + Send;

    /// Called before each read, so a wake-up sent between the read and the wait is kept.
    fn before_read(&mut self) -> impl Future<Output = ()> + Send;

    /// Waits for a wake-up, at most `poll_interval`.
    fn wait(&mut self, poll_interval: Duration) -> impl Future<Output = ()> + Send;
}

/// Timing of the loop.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    pub batch: usize,
    pub poll_interval: Duration,
    pub retry_delay: Duration,
}

/// Starts the loop on a task of its own; it ends when the returned stream is dropped.
pub(crate) fn spawn<S: Source>(source: S, from: Position, timing: Timing) -> EventStream {
    let batch = timing.batch.max(1);
    let (tx, mut rx) = mpsc::channel(batch);
    tokio::spawn(run(source, from, Timing { batch, ..timing }, tx));
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx)).boxed()
}

async fn run<S: Source>(
    mut source: S,
    mut position: Position,
    timing: Timing,
    tx: mpsc::Sender<Result<RecordedEvent, StoreError>>,
) {
    loop {
        source.before_read().await;
        match source.page(position, timing.batch).await {
            Ok((events, next)) => {
                let full = events.len() == timing.batch;
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
                    () = tokio::time::sleep(timing.retry_delay) => continue,
                    () = tx.closed() => return,
                }
            }
            Err(error) => {
                // Not a connection problem (e.g. an upcaster failed): retrying would fail again.
                let _ = tx.send(Err(error)).await;
                return;
            }
        }
        tokio::select! {
            () = source.wait(timing.poll_interval) => {}
            () = tx.closed() => return,
        }
    }
}
