//! The ledger's facts in memory, following `$all`: what the API (and anything else that answers
//! figures for an arbitrary business date D and knowledge time K) computes from with the pure
//! [`figures`] core. It is a read model without tables: on start it folds `$all` from the
//! beginning, then follows the live subscription; nothing is written anywhere.

use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;

use domain::AnyEvent;
use eventstore::{AnyEventStore, EventStore, Filter, Position, RecordedEvent};
use futures::StreamExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The stream categories whose events carry facts for figures; the others are passed over.
pub const FACT_CATEGORIES: [&str; 5] = ["project", "unit", "targets", "supervision", "rules"];

/// How many events are folded under one write lock while catching up.
const CHUNK: usize = 2048;

/// The facts and how far into `$all` they reach.
#[derive(Debug, Default)]
pub struct LiveState {
    pub ledger: figures::Ledger,
    /// The last event folded in.
    pub position: Position,
    /// Changes whenever the facts change (for caches of computed figures).
    pub generation: u64,
}

/// Cheap to clone; the following task stops when the last clone is dropped.
#[derive(Clone)]
pub struct LiveLedger {
    inner: Arc<Inner>,
}

struct Inner {
    state: Arc<RwLock<LiveState>>,
    position: watch::Receiver<Position>,
    task: JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Fold one recorded event into the facts. An event of a fact category that does not decode is
/// skipped with an error in the log: the stored projections halt on it visibly, and the figures
/// must not stop answering for one bad row.
pub fn fold(ledger: &mut figures::Ledger, event: &RecordedEvent) -> figures::Touched {
    let category = event.stream.split_once('-').map_or("", |(c, _)| c);
    if !FACT_CATEGORIES.contains(&category) {
        return figures::Touched::Nothing;
    }
    match AnyEvent::from_json(&event.event_type, event.schema_version, event.data.clone()) {
        Ok(e) => ledger.apply(&event.stream, &e, event.recorded_at),
        Err(err) => {
            tracing::error!(stream = %event.stream, version = event.version, event_type = %event.event_type,
                error = %err, "event left out of the figures: it does not decode");
            figures::Touched::Nothing
        }
    }
}

impl LiveLedger {
    /// Starts following `$all` of the store from its beginning.
    pub fn start(store: AnyEventStore) -> LiveLedger {
        let state = Arc::new(RwLock::new(LiveState::default()));
        let (sender, position) = watch::channel(Position::START);
        let task = tokio::spawn(follow(store, state.clone(), sender));
        LiveLedger {
            inner: Arc::new(Inner {
                state,
                position,
                task,
            }),
        }
    }

    /// The facts as they are now. Hold the guard only while computing (it blocks the follower).
    pub fn read(&self) -> RwLockReadGuard<'_, LiveState> {
        // A poisoned lock means a panic while folding; the state is still the best there is.
        self.inner.state.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes each time facts are folded in.
    pub fn watch(&self) -> watch::Receiver<Position> {
        self.inner.position.clone()
    }

    pub fn position(&self) -> Position {
        *self.inner.position.borrow()
    }

    /// Waits until the facts include `position`; false when `timeout` ran out first.
    pub async fn wait_for(&self, position: Position, timeout: Duration) -> bool {
        let mut rx = self.inner.position.clone();
        let reached = tokio::time::timeout(timeout, rx.wait_for(|p| *p >= position)).await;
        matches!(reached, Ok(Ok(_)))
    }

    /// Waits until the facts reach the head of `$all` as it is now (start-up, tests).
    pub async fn wait_caught_up(&self, store: &AnyEventStore, timeout: Duration) -> bool {
        match store.all_head().await {
            Ok(head) => match head.last {
                Some(last) => self.wait_for(last, timeout).await,
                None => true,
            },
            Err(_) => false,
        }
    }
}

async fn follow(
    store: AnyEventStore,
    state: Arc<RwLock<LiveState>>,
    sender: watch::Sender<Position>,
) {
    // Every category, not only the facts': the position must reach the head of `$all` even
    // when the last event is a token's, so that waiting for "caught up" ends.
    let filter = Filter::all();
    loop {
        let from = *sender.borrow();
        let mut events = store
            .subscribe_all(from, filter.clone())
            .ready_chunks(CHUNK);
        while let Some(chunk) = events.next().await {
            let mut last = None;
            {
                let mut s = state.write().unwrap_or_else(|e| e.into_inner());
                for item in chunk {
                    match item {
                        Ok(event) => {
                            if event.position <= s.position {
                                continue;
                            }
                            fold(&mut s.ledger, &event);
                            s.position = event.position;
                            last = Some(event.position);
                        }
                        Err(err) => {
                            tracing::warn!(error = %err, "figures: $all subscription failed; resubscribing");
                            break;
                        }
                    }
                }
                if last.is_some() {
                    s.generation += 1;
                }
            }
            if let Some(p) = last {
                sender.send_replace(p);
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
