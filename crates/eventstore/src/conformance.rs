//! The conformance suite: every rule of the store, as async functions generic over a backend.
//!
//! A backend's integration tests implement [`Harness`] (fresh stores plus the few things only the
//! backend can do, such as holding a transaction open or killing connections) and call each
//! function from a `#[tokio::test]`. The PostgreSQL instantiation is crates/eventstore/tests/postgres.rs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::{
    AppendResult, Direction, EventStore, EventStream, ExpectedVersion, Filter, Mismatch, NewEvent,
    Position, RecordedEvent, StoreError, Upcasters,
};

/// How a fresh store for one test is set up.
#[derive(Clone, Default)]
pub struct StoreConfig {
    pub upcasters: Upcasters,
    /// When false, appends send no notification at all (subscriptions must get by on polling).
    pub notifications_off: bool,
}

/// An append whose transaction the backend keeps open after it took its position.
pub struct HeldAppend {
    /// Send `true` to commit, `false` to roll back.
    pub decide: oneshot::Sender<bool>,
    /// Completes once the transaction has ended.
    pub done: tokio::task::JoinHandle<()>,
}

impl HeldAppend {
    pub async fn commit(self) {
        self.decide.send(true).expect("held append task alive");
        self.done.await.expect("held append task");
    }

    pub async fn rollback(self) {
        self.decide.send(false).expect("held append task alive");
        self.done.await.expect("held append task");
    }
}

/// What a backend provides to the suite.
pub trait Harness: Send + Sync {
    type Store: EventStore;

    /// A fresh, empty, migrated store of its own.
    fn fresh_with(&self, config: StoreConfig) -> impl Future<Output = Self::Store> + Send;

    fn fresh(&self) -> impl Future<Output = Self::Store> + Send {
        self.fresh_with(StoreConfig::default())
    }

    /// Appends `event` to `stream` (NoStream) in a transaction that stays open, returning once the
    /// event has its position.
    fn hold_append(
        &self,
        store: &Self::Store,
        stream: &str,
        event: NewEvent,
    ) -> impl Future<Output = HeldAppend> + Send;

    /// Whether other appends can commit while a [`Harness::hold_append`] transaction is open.
    /// PostgreSQL: yes (appends lock only their stream's row; readers of $all wait for the open
    /// transaction instead). SQLite: no, it has one writer at a time, so the other appends wait
    /// until the held one ends, and there is never an open append below a committed position.
    fn writers_run_concurrently(&self) -> bool {
        true
    }

    /// Kills every database connection of `store` (server side; SQLite, without a server, closes
    /// and replaces its pool's connections instead, see its harness).
    fn kill_connections(&self, store: &Self::Store) -> impl Future<Output = ()> + Send;

    /// Changes the stored `data` of one event behind the store's back (as an administrator would).
    fn tamper_data(
        &self,
        store: &Self::Store,
        stream: &str,
        version: u64,
        data: Value,
    ) -> impl Future<Output = ()> + Send;
}

fn event(event_type: &str, n: u64) -> NewEvent {
    NewEvent::new(event_type, json!({ "n": n })).with_metadata(json!({
        "actor": "conformance",
        "correlationId": Uuid::nil(),
    }))
}

async fn read_all_once<S: EventStore>(store: &S, filter: &Filter) -> Vec<RecordedEvent> {
    let mut out = Vec::new();
    let mut from = Position::START;
    loop {
        let batch = store.read_all(from, filter, 7).await.unwrap();
        let Some(last) = batch.last() else { break };
        from = last.position;
        out.extend(batch);
    }
    out
}

/// Reads all of $all once at least `expected` events are visible.
///
/// $all stops before the oldest transaction running anywhere in the PostgreSQL cluster, and tests
/// run in parallel, so another test's append in flight can briefly hide events that are already
/// committed. Once `expected` events are visible, every older transaction has ended, and newer
/// ones cannot hide anything before them: from then on the answer is stable.
async fn read_all_settled<S: EventStore>(
    store: &S,
    filter: &Filter,
    expected: usize,
) -> Vec<RecordedEvent> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let events = read_all_once(store, filter).await;
        if events.len() >= expected || tokio::time::Instant::now() > deadline {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Takes `n` events from a subscription, failing after `within`.
async fn take(sub: &mut EventStream, n: usize, within: Duration) -> Vec<RecordedEvent> {
    let mut out = Vec::with_capacity(n);
    let deadline = tokio::time::Instant::now() + within;
    while out.len() < n {
        match tokio::time::timeout_at(deadline, sub.next()).await {
            Ok(Some(Ok(e))) => out.push(e),
            Ok(Some(Err(e))) => panic!("subscription failed: {e}"),
            Ok(None) => panic!("subscription ended after {} events", out.len()),
            Err(_) => panic!(
                "subscription delivered {} of {n} events within {within:?}",
                out.len()
            ),
        }
    }
    out
}

/// Asserts the subscription delivers nothing for `quiet`.
async fn assert_quiet(sub: &mut EventStream, quiet: Duration) {
    if let Ok(next) = tokio::time::timeout(quiet, sub.next()).await {
        panic!("expected no event, got {next:?}");
    }
}

fn types(events: &[RecordedEvent]) -> Vec<&str> {
    events.iter().map(|e| e.event_type.as_str()).collect()
}

fn assert_wrong_version(r: Result<crate::AppendResult, StoreError>, current: Option<u64>) {
    match r {
        Err(StoreError::WrongExpectedVersion { current: c, .. }) => assert_eq!(c, current),
        other => panic!("expected WrongExpectedVersion(current {current:?}), got {other:?}"),
    }
}

/// Appends several events atomically and reads them back forwards and backwards, envelope intact.
pub async fn append_and_read_stream<H: Harness>(h: &H) {
    let store = h.fresh().await;
    let events: Vec<NewEvent> = (0..5).map(|n| event("Counted", n)).collect();
    let ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
    let r = store
        .append("counter-1", ExpectedVersion::NoStream, events.clone())
        .await
        .unwrap();
    assert_eq!(r.versions(), vec![0, 1, 2, 3, 4]);
    assert_eq!(r.stream_version, 4);
    assert!(!r.replayed);
    let positions = r.positions();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");

    let forwards = store
        .read_stream("counter-1", Direction::Forwards, 0, 100)
        .await
        .unwrap();
    assert_eq!(forwards.len(), 5);
    for (i, e) in forwards.iter().enumerate() {
        assert_eq!(e.id, ids[i]);
        assert_eq!(e.stream, "counter-1");
        assert_eq!(e.version, i as u64);
        assert_eq!(e.event_type, "Counted");
        assert_eq!(e.schema_version, 1);
        assert_eq!(e.data, json!({ "n": i }));
        assert_eq!(e.metadata, events[i].metadata);
        assert_eq!(e.position, positions[i]);
    }
    let now = time::OffsetDateTime::now_utc();
    assert!((now - forwards[0].recorded_at).whole_minutes().abs() < 5);

    let from_two = store
        .read_stream("counter-1", Direction::Forwards, 2, 2)
        .await
        .unwrap();
    assert_eq!(
        from_two.iter().map(|e| e.version).collect::<Vec<_>>(),
        [2, 3]
    );
    let backwards = store
        .read_stream("counter-1", Direction::Backwards, u64::MAX, 3)
        .await
        .unwrap();
    assert_eq!(
        backwards.iter().map(|e| e.version).collect::<Vec<_>>(),
        [4, 3, 2]
    );
    let back_from_one = store
        .read_stream("counter-1", Direction::Backwards, 1, 10)
        .await
        .unwrap();
    assert_eq!(
        back_from_one.iter().map(|e| e.version).collect::<Vec<_>>(),
        [1, 0]
    );
    assert!(
        store
            .read_stream("counter-2", Direction::Forwards, 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Any, NoStream, StreamExists and Exact, and the current version a refusal carries.
pub async fn expected_versions<H: Harness>(h: &H) {
    let store = h.fresh().await;
    let s = "order-1";
    assert_wrong_version(
        store
            .append(s, ExpectedVersion::Exact(0), vec![event("A", 0)])
            .await,
        None,
    );
    assert_wrong_version(
        store
            .append(s, ExpectedVersion::StreamExists, vec![event("A", 0)])
            .await,
        None,
    );
    store
        .append(s, ExpectedVersion::NoStream, vec![event("A", 0)])
        .await
        .unwrap();
    assert_wrong_version(
        store
            .append(s, ExpectedVersion::NoStream, vec![event("A", 1)])
            .await,
        Some(0),
    );
    assert_wrong_version(
        store
            .append(s, ExpectedVersion::Exact(5), vec![event("A", 1)])
            .await,
        Some(0),
    );
    let r = store
        .append(s, ExpectedVersion::Exact(0), vec![event("A", 1)])
        .await
        .unwrap();
    assert_eq!(r.stream_version, 1);
    let r = store
        .append(s, ExpectedVersion::StreamExists, vec![event("A", 2)])
        .await
        .unwrap();
    assert_eq!(r.stream_version, 2);
    let r = store
        .append(s, ExpectedVersion::Any, vec![event("A", 3), event("A", 4)])
        .await
        .unwrap();
    assert_eq!(r.versions(), vec![3, 4]);
    let r = store
        .append("order-2", ExpectedVersion::Any, vec![event("A", 0)])
        .await
        .unwrap();
    assert_eq!(r.stream_version, 0);
    match store
        .append(s, ExpectedVersion::Exact(0), vec![event("A", 9)])
        .await
    {
        Err(e @ StoreError::WrongExpectedVersion { .. }) => {
            let text = e.to_string();
            assert!(
                text.contains("order-1") && text.contains("current 4"),
                "{text}"
            );
        }
        other => panic!("{other:?}"),
    }
}

async fn stream_types<S: EventStore>(store: &S, stream: &str) -> Vec<String> {
    store
        .read_stream(stream, Direction::Forwards, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect()
}

/// A multi-stream append writes every stream or none: each part checked as a single append would
/// be (expected version, retry), a refusal of any part (also one visited after others were
/// appended) leaving no event of any, retries answered per part, and of ten concurrent appends
/// sharing four streams exactly one landing while the others write nothing at all.
pub async fn multi_stream_append_is_atomic<H: Harness>(h: &H) {
    use crate::StreamAppend;
    let store = h.fresh().await;
    store
        .append("multi-a", ExpectedVersion::NoStream, vec![event("A", 0)])
        .await
        .unwrap();
    let first = vec![
        StreamAppend::new("multi-c", ExpectedVersion::NoStream, vec![event("C", 0)]),
        StreamAppend::new("multi-a", ExpectedVersion::Exact(0), vec![event("A", 1)]),
        StreamAppend::new(
            "multi-b",
            ExpectedVersion::NoStream,
            vec![event("B", 0), event("B", 1)],
        ),
    ];
    let results = store.append_streams(first.clone()).await.unwrap();
    // One result per part, in the order given.
    let versions: Vec<Vec<u64>> = results.iter().map(|r| r.versions()).collect();
    assert_eq!(versions, [vec![0], vec![1], vec![0, 1]]);
    assert!(results.iter().all(|r| !r.replayed));
    assert_eq!(
        results.iter().map(|r| r.stream_version).collect::<Vec<_>>(),
        [0, 1, 1]
    );
    let all = read_all_settled(&store, &Filter::all(), 5).await;
    assert_eq!(all.len(), 5);
    for (part, result) in first.iter().zip(&results) {
        for (e, a) in part.events.iter().zip(&result.events) {
            let stored = all.iter().find(|r| r.id == e.id).expect("appended");
            assert_eq!(
                (stored.stream.as_str(), stored.version, stored.position),
                (part.stream.as_str(), a.version, a.position)
            );
        }
    }

    // A retry of the whole append (its expected versions now stale) is answered per part with
    // the original results and writes nothing.
    let again = store.append_streams(first.clone()).await.unwrap();
    assert!(again.iter().all(|r| r.replayed));
    assert_eq!(
        again,
        results
            .iter()
            .map(|r| AppendResult {
                replayed: true,
                ..r.clone()
            })
            .collect::<Vec<_>>()
    );
    // A retried part beside a new one: the retry writes nothing, the new part lands.
    let mixed = store
        .append_streams(vec![
            first[2].clone(),
            StreamAppend::new("multi-e", ExpectedVersion::NoStream, vec![event("E", 0)]),
        ])
        .await
        .unwrap();
    assert!(mixed[0].replayed && !mixed[1].replayed);
    assert_eq!(mixed[0].events, results[2].events);
    assert_eq!(stream_types(&store, "multi-e").await, ["E"]);

    // A refused part refuses everything, also when streams before it (in name order, the order
    // the backends visit them) were already appended in the transaction.
    let orphan = event("Orphan", 0);
    match store
        .append_streams(vec![
            StreamAppend::new("multi-z", ExpectedVersion::Exact(4), vec![event("Z", 0)]),
            StreamAppend::new("multi-a", ExpectedVersion::Exact(1), vec![orphan.clone()]),
        ])
        .await
    {
        Err(StoreError::WrongExpectedVersion {
            stream, current, ..
        }) => assert_eq!((stream.as_str(), current), ("multi-z", None)),
        other => panic!("expected multi-z's wrong version, got {other:?}"),
    }
    let changed = NewEvent {
        data: json!({"n": 99}),
        ..first[0].events[0].clone()
    };
    match store
        .append_streams(vec![
            StreamAppend::new("multi-aa", ExpectedVersion::NoStream, vec![event("AA", 0)]),
            StreamAppend::new("multi-c", ExpectedVersion::Exact(0), vec![changed]),
        ])
        .await
    {
        Err(StoreError::IdempotencyConflict { event_id }) => {
            assert_eq!(event_id, first[0].events[0].id)
        }
        other => panic!("expected an idempotency conflict, got {other:?}"),
    }
    assert_eq!(stream_types(&store, "multi-a").await, ["A", "A"]);
    assert!(stream_types(&store, "multi-z").await.is_empty());
    assert!(stream_types(&store, "multi-aa").await.is_empty());

    // Invalid appends are refused before anything is written.
    let dup = event("Dup", 0);
    let invalid = [
        vec![],
        vec![
            StreamAppend::new("multi-x", ExpectedVersion::Any, vec![event("X", 0)]),
            StreamAppend::new("multi-x", ExpectedVersion::Any, vec![event("X", 1)]),
        ],
        vec![
            StreamAppend::new("multi-x", ExpectedVersion::Any, vec![dup.clone()]),
            StreamAppend::new("multi-y", ExpectedVersion::Any, vec![dup.clone()]),
        ],
        vec![
            StreamAppend::new("multi-x", ExpectedVersion::Any, vec![event("X", 0)]),
            StreamAppend::new("multi-y", ExpectedVersion::Any, vec![]),
        ],
    ];
    for appends in invalid {
        match store.append_streams(appends.clone()).await {
            Err(StoreError::InvalidAppend(_)) => {}
            other => panic!("{appends:?}: {other:?}"),
        }
    }
    match store
        .append_streams(vec![
            StreamAppend::new("multi-x", ExpectedVersion::Any, vec![event("X", 0)]),
            StreamAppend::new("nodash", ExpectedVersion::Any, vec![event("X", 1)]),
        ])
        .await
    {
        Err(StoreError::InvalidStreamName { stream, .. }) => assert_eq!(stream, "nodash"),
        other => panic!("{other:?}"),
    }
    assert!(stream_types(&store, "multi-x").await.is_empty());
    // The refused events' ids are still free.
    let r = store
        .append("multi-a", ExpectedVersion::Exact(1), vec![orphan])
        .await
        .unwrap();
    assert!(!r.replayed);

    // Ten appends race over four shared streams (each naming them in another order) plus one
    // stream of its own, all at the versions they read: one lands, the others write nothing.
    let shared = ["race-s1", "race-s2", "race-s3", "race-s4"];
    for s in shared {
        store
            .append(s, ExpectedVersion::NoStream, vec![event("Start", 0)])
            .await
            .unwrap();
    }
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(10));
    let tasks: Vec<_> = (0..10u64)
        .map(|i| {
            let (store, barrier) = (store.clone(), barrier.clone());
            tokio::spawn(async move {
                let mut appends: Vec<StreamAppend> = shared
                    .iter()
                    .map(|s| {
                        StreamAppend::new(*s, ExpectedVersion::Exact(0), vec![event("Raced", i)])
                    })
                    .collect();
                appends.rotate_left(i as usize % 4);
                if i % 2 == 1 {
                    appends.reverse();
                }
                appends.push(StreamAppend::new(
                    format!("own-{i}"),
                    ExpectedVersion::NoStream,
                    vec![event("Own", i)],
                ));
                barrier.wait().await;
                (i, store.append_streams(appends).await)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            (i, Ok(r)) => {
                assert_eq!(r.len(), 5);
                winners.push(i);
            }
            (_, Err(StoreError::WrongExpectedVersion { current, .. })) => {
                assert_eq!(current, Some(1))
            }
            (_, Err(e)) => panic!("{e}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one of ten lands");
    for s in shared {
        assert_eq!(stream_types(&store, s).await, ["Start", "Raced"], "{s}");
    }
    for i in 0..10 {
        let own = stream_types(&store, &format!("own-{i}")).await;
        assert_eq!(own.len(), usize::from(winners[0] == i), "own-{i}");
    }
    let report = store.verify().await.unwrap();
    assert!(report.is_ok(), "{:?}", report.mismatches);
}

/// A refused append leaves no trace: no event, and nothing that holds back readers of $all.
pub async fn refused_append_leaves_no_trace<H: Harness>(h: &H) {
    let store = h.fresh().await;
    let first = store
        .append("trace-1", ExpectedVersion::NoStream, vec![event("A", 0)])
        .await
        .unwrap();
    let refused = event("Refused", 1);
    assert_wrong_version(
        store
            .append("trace-1", ExpectedVersion::NoStream, vec![refused.clone()])
            .await,
        Some(0),
    );
    assert_wrong_version(
        store
            .append(
                "trace-2",
                ExpectedVersion::Exact(3),
                vec![event("Refused", 2)],
            )
            .await,
        None,
    );
    let later = store
        .append("trace-3", ExpectedVersion::NoStream, vec![event("B", 0)])
        .await
        .unwrap();
    let all = read_all_settled(&store, &Filter::all(), 2).await;
    assert_eq!(types(&all), ["A", "B"]);
    assert_eq!(all[0].position, first.events[0].position);
    assert_eq!(all[1].position, later.events[0].position);
    // The refused event id is still free.
    let r = store
        .append("trace-1", ExpectedVersion::Exact(0), vec![refused])
        .await
        .unwrap();
    assert!(!r.replayed);
}

/// 20 tasks released together, each appending `per_task` events to `stream` at `expected`.
async fn race<S: EventStore>(
    store: &S,
    stream: &str,
    expected: ExpectedVersion,
    per_task: u64,
) -> Vec<Result<crate::AppendResult, StoreError>> {
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(20));
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (store, barrier, stream) = (store.clone(), barrier.clone(), stream.to_owned());
            tokio::spawn(async move {
                barrier.wait().await;
                let events = (0..per_task).map(|k| event("Raced", i * 100 + k)).collect();
                store.append(&stream, expected, events).await
            })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    results
}

/// 20 writers race at the same expected version: exactly one wins, the others are told the
/// version that won, and the stream has no gap. Then 20 writers with Any all land, contiguously.
pub async fn concurrent_writers_race<H: Harness>(h: &H) {
    let store = h.fresh().await;
    store
        .append("race-1", ExpectedVersion::NoStream, vec![event("Start", 0)])
        .await
        .unwrap();
    let versions_won = |results: Vec<Result<crate::AppendResult, StoreError>>, current| {
        let mut won = Vec::new();
        for r in results {
            match r {
                Ok(r) => won.push(r.versions()),
                Err(StoreError::WrongExpectedVersion { current: c, .. }) => assert_eq!(c, current),
                Err(e) => panic!("{e}"),
            }
        }
        won
    };
    let won = versions_won(
        race(&store, "race-1", ExpectedVersion::Exact(0), 1).await,
        Some(1),
    );
    assert_eq!(won, [vec![1]], "exactly one writer wins at version 0");
    // NoStream race on a new stream: one creator.
    let won = versions_won(
        race(&store, "race-2", ExpectedVersion::NoStream, 1).await,
        Some(0),
    );
    assert_eq!(won, [vec![0]]);
    // Any: everyone lands, versions contiguous.
    let won = versions_won(race(&store, "race-3", ExpectedVersion::Any, 2).await, None);
    assert_eq!(won.len(), 20);
    for (stream, len) in [("race-1", 2), ("race-2", 1), ("race-3", 40)] {
        let versions: Vec<u64> = store
            .read_stream(stream, Direction::Forwards, 0, 1000)
            .await
            .unwrap()
            .iter()
            .map(|e| e.version)
            .collect();
        assert_eq!(versions, (0..len).collect::<Vec<u64>>(), "{stream}");
    }
    let report = store.verify().await.unwrap();
    assert!(report.is_ok(), "{:?}", report.mismatches);
}

/// A retry after a lost response (same ids, same content) returns the original versions and
/// positions and writes nothing, under every expected version.
pub async fn retry_is_idempotent<H: Harness>(h: &H) {
    let store = h.fresh().await;
    let cases = [
        ExpectedVersion::NoStream,
        ExpectedVersion::Any,
        ExpectedVersion::StreamExists,
        ExpectedVersion::Exact(1),
    ];
    let first = vec![event("A", 0), event("A", 1)];
    let original = store
        .append("retry-1", ExpectedVersion::NoStream, first.clone())
        .await
        .unwrap();
    for (i, expected) in cases.into_iter().enumerate() {
        let batch = vec![event("B", i as u64)];
        let written = store
            .append("retry-1", ExpectedVersion::Any, batch.clone())
            .await
            .unwrap();
        // The retry of `written` arrives with the expected version the writer first used, which
        // no longer matches: the store must still recognise it.
        let stale = match expected {
            ExpectedVersion::Exact(_) => ExpectedVersion::Exact(written.stream_version - 1),
            other => other,
        };
        let again = store.append("retry-1", stale, batch).await.unwrap();
        assert!(again.replayed, "{expected:?}");
        assert_eq!(again.events, written.events, "{expected:?}");
        assert_eq!(again.stream_version, written.stream_version);
    }
    // The very first append, retried with NoStream and with Any, as a whole.
    for expected in [ExpectedVersion::NoStream, ExpectedVersion::Any] {
        let again = store
            .append("retry-1", expected, first.clone())
            .await
            .unwrap();
        assert!(again.replayed);
        assert_eq!(again.events, original.events);
    }
    let stored = store
        .read_stream("retry-1", Direction::Forwards, 0, 100)
        .await
        .unwrap();
    assert_eq!(stored.len(), 6, "retries must not write");
    assert_eq!(read_all_settled(&store, &Filter::all(), 6).await.len(), 6);
}

/// The same event id with other content, another stream or another order is refused clearly.
pub async fn same_id_other_content_is_refused<H: Harness>(h: &H) {
    let store = h.fresh().await;
    let a = event("A", 0);
    let b = event("B", 1);
    store
        .append(
            "conflict-1",
            ExpectedVersion::NoStream,
            vec![a.clone(), b.clone()],
        )
        .await
        .unwrap();
    let conflicts = [
        (
            "conflict-1",
            vec![a.clone().with_metadata(json!({"actor": "other"}))],
        ),
        (
            "conflict-1",
            vec![NewEvent {
                data: json!({"n": 99}),
                ..a.clone()
            }],
        ),
        (
            "conflict-1",
            vec![NewEvent {
                event_type: "Other".into(),
                ..a.clone()
            }],
        ),
        ("conflict-1", vec![a.clone().with_schema_version(2)]),
        ("conflict-2", vec![a.clone()]),
        ("conflict-1", vec![b.clone(), a.clone()]),
        ("conflict-1", vec![a.clone(), event("C", 2)]),
    ];
    for (stream, events) in conflicts {
        for expected in [
            ExpectedVersion::Any,
            ExpectedVersion::NoStream,
            ExpectedVersion::Exact(1),
        ] {
            match store.append(stream, expected, events.clone()).await {
                Err(StoreError::IdempotencyConflict { event_id }) => {
                    assert!(event_id == a.id || event_id == b.id)
                }
                other => panic!("{stream} {events:?} {expected:?}: {other:?}"),
            }
        }
    }
    assert_eq!(read_all_settled(&store, &Filter::all(), 2).await.len(), 2);
}

/// Readers of $all never pass an open transaction: events that commit later but hold later
/// positions wait for it; once it commits, everything is delivered in order exactly once.
pub async fn all_waits_for_open_transaction<H: Harness>(h: &H) {
    let store = h.fresh().await;
    store
        .append(
            "held-0",
            ExpectedVersion::NoStream,
            vec![event("Before", 0)],
        )
        .await
        .unwrap();
    let mut sub = store.subscribe_all(Position::START, Filter::all());
    assert_eq!(
        types(&take(&mut sub, 1, Duration::from_secs(10)).await),
        ["Before"]
    );

    let held = h.hold_append(&store, "held-1", event("Held", 1)).await;
    let later = {
        let store = store.clone();
        tokio::spawn(async move {
            for n in 0..3 {
                store
                    .append(
                        &format!("held-later{n}"),
                        ExpectedVersion::NoStream,
                        vec![event("Later", n)],
                    )
                    .await
                    .unwrap();
            }
        })
    };
    if h.writers_run_concurrently() {
        later.await.unwrap();
        assert_eq!(
            types(&read_all_settled(&store, &Filter::all(), 1).await),
            ["Before"]
        );
        assert_quiet(&mut sub, Duration::from_millis(700)).await;
        held.commit().await;
    } else {
        // One writer: the later appends wait for the held one; readers meanwhile see only what
        // committed before it.
        assert_eq!(
            types(&read_all_once(&store, &Filter::all()).await),
            ["Before"]
        );
        assert_quiet(&mut sub, Duration::from_millis(700)).await;
        assert!(
            !later.is_finished(),
            "an append committed past a held writer"
        );
        held.commit().await;
        later.await.unwrap();
    }
    let delivered = take(&mut sub, 4, Duration::from_secs(10)).await;
    assert_eq!(types(&delivered), ["Held", "Later", "Later", "Later"]);
    assert!(delivered.windows(2).all(|w| w[0].position < w[1].position));
    assert_quiet(&mut sub, Duration::from_millis(700)).await;
    let all = read_all_settled(&store, &Filter::all(), 5).await;
    assert_eq!(types(&all), ["Before", "Held", "Later", "Later", "Later"]);
}

/// The same with a writer that rolls back: its event never appears and nothing stays stuck.
pub async fn all_skips_rolled_back_transaction<H: Harness>(h: &H) {
    let store = h.fresh().await;
    let mut sub = store.subscribe_all(Position::START, Filter::all());
    let held = h.hold_append(&store, "rollback-1", event("Held", 1)).await;
    let later = {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .append(
                    "rollback-2",
                    ExpectedVersion::NoStream,
                    vec![event("Later", 0)],
                )
                .await
                .unwrap();
        })
    };
    // With one writer (SQLite) the later append waits for the held one to end.
    let waiting = if h.writers_run_concurrently() {
        later.await.unwrap();
        None
    } else {
        Some(later)
    };
    assert!(read_all_once(&store, &Filter::all()).await.is_empty());
    assert_quiet(&mut sub, Duration::from_millis(500)).await;
    if let Some(later) = &waiting {
        assert!(
            !later.is_finished(),
            "an append committed past a held writer"
        );
    }
    held.rollback().await;
    if let Some(later) = waiting {
        later.await.unwrap();
    }
    assert_eq!(
        types(&take(&mut sub, 1, Duration::from_secs(10)).await),
        ["Later"]
    );
    store
        .append(
            "rollback-1",
            ExpectedVersion::NoStream,
            vec![event("After", 2)],
        )
        .await
        .unwrap();
    assert_eq!(
        types(&take(&mut sub, 1, Duration::from_secs(10)).await),
        ["After"]
    );
    assert_quiet(&mut sub, Duration::from_millis(500)).await;
    assert_eq!(
        types(&read_all_settled(&store, &Filter::all(), 2).await),
        ["Later", "After"]
    );
    assert!(store.verify().await.unwrap().is_ok());
}

/// $all filtered by category and by event type, read in batches from a checkpoint.
pub async fn read_all_filters<H: Harness>(h: &H) {
    let store = h.fresh().await;
    for (stream, t) in [
        ("project-1", "Registered"),
        ("unit-1", "Created"),
        ("project-2", "Registered"),
        ("project-1", "Started"),
        ("targets-2026", "TargetSet"),
        ("unit-2", "Created"),
    ] {
        store
            .append(stream, ExpectedVersion::Any, vec![event(t, 0)])
            .await
            .unwrap();
    }
    let all = read_all_settled(&store, &Filter::all(), 6).await;
    assert_eq!(all.len(), 6);
    assert!(all.windows(2).all(|w| w[0].position < w[1].position));
    let projects = read_all_settled(&store, &Filter::categories(["project"]), 3).await;
    assert_eq!(
        projects
            .iter()
            .map(|e| e.stream.as_str())
            .collect::<Vec<_>>(),
        ["project-1", "project-2", "project-1"]
    );
    let created_or_target = read_all_settled(
        &store,
        &Filter::all().with_event_types(["Created", "TargetSet"]),
        3,
    )
    .await;
    assert_eq!(
        types(&created_or_target),
        ["Created", "TargetSet", "Created"]
    );
    let both = read_all_settled(
        &store,
        &Filter::categories(["project", "unit"]).with_event_types(["Registered"]),
        2,
    )
    .await;
    assert_eq!(both.len(), 2);
    for e in &all {
        assert_eq!(
            Filter::categories(["project"]).matches(&e.stream, &e.event_type),
            e.stream.starts_with("project-")
        );
    }
    // From a checkpoint: strictly after it.
    let after_third = store
        .read_all(all[2].position, &Filter::all(), 100)
        .await
        .unwrap();
    assert_eq!(after_third, all[3..].to_vec());
    let batch = store
        .read_all(Position::START, &Filter::all(), 2)
        .await
        .unwrap();
    assert_eq!(batch, all[..2].to_vec());
}

/// A subscription catches up from a checkpoint, then delivers live appends.
pub async fn subscription_catches_up_then_goes_live<H: Harness>(h: &H) {
    let store = h.fresh().await;
    let mut last = Position::START;
    for n in 0..25 {
        let r = store
            .append(
                &format!("sub-{}", n % 3),
                ExpectedVersion::Any,
                vec![event("Old", n)],
            )
            .await
            .unwrap();
        if n == 9 {
            last = r.events[0].position;
        }
    }
    let mut sub = store.subscribe_all(last, Filter::all());
    let caught_up = take(&mut sub, 15, Duration::from_secs(10)).await;
    assert_eq!(caught_up[0].data, json!({ "n": 10 }));
    for n in 0..5 {
        store
            .append("sub-live", ExpectedVersion::Any, vec![event("New", n)])
            .await
            .unwrap();
    }
    let live = take(&mut sub, 5, Duration::from_secs(10)).await;
    assert_eq!(types(&live), ["New"; 5]);
    assert_quiet(&mut sub, Duration::from_millis(300)).await;

    let mut projects =
        store.subscribe_all(Position::START, Filter::all().with_event_types(["New"]));
    assert_eq!(take(&mut projects, 5, Duration::from_secs(10)).await, live);
}

async fn append_retrying<S: EventStore>(store: &S, stream: &str, e: NewEvent) {
    // The connection may have just been killed; a retry with the same id is safe by design.
    for attempt in 0.. {
        match store
            .append(stream, ExpectedVersion::Any, vec![e.clone()])
            .await
        {
            Ok(_) => return,
            Err(StoreError::Database(_)) if attempt < 20 => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(err) => panic!("{err}"),
        }
    }
}

fn assert_exactly_once_in_order(delivered: &[RecordedEvent], expected: usize) {
    let ids: HashSet<Uuid> = delivered.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), delivered.len(), "duplicates delivered");
    assert_eq!(delivered.len(), expected);
    assert!(delivered.windows(2).all(|w| w[0].position < w[1].position));
    let ns: Vec<u64> = delivered
        .iter()
        .map(|e| e.data["n"].as_u64().unwrap())
        .collect();
    assert_eq!(
        ns,
        (0..expected as u64).collect::<Vec<_>>(),
        "holes or reordering"
    );
}

/// A subscription survives its connections being killed, without duplicates or holes.
pub async fn subscription_survives_killed_connections<H: Harness>(h: &H) {
    let store = h.fresh().await;
    let mut sub = store.subscribe_all(Position::START, Filter::all());
    let mut delivered = Vec::new();
    let mut n = 0;
    for round in 0..3 {
        for _ in 0..10 {
            append_retrying(&store, "kill-1", event("E", n)).await;
            n += 1;
        }
        delivered.extend(take(&mut sub, 10, Duration::from_secs(15)).await);
        h.kill_connections(&store).await;
        // Appends right after the kill, while the subscription reconnects.
        for _ in 0..5 {
            append_retrying(&store, &format!("kill-{round}"), event("E", n)).await;
            n += 1;
        }
        delivered.extend(take(&mut sub, 5, Duration::from_secs(15)).await);
    }
    assert_quiet(&mut sub, Duration::from_millis(500)).await;
    assert_exactly_once_in_order(&delivered, n as usize);
}

/// With notifications off, subscriptions still deliver everything by polling.
pub async fn subscription_polls_without_notifications<H: Harness>(h: &H) {
    let store = h
        .fresh_with(StoreConfig {
            notifications_off: true,
            ..StoreConfig::default()
        })
        .await;
    let mut sub = store.subscribe_all(Position::START, Filter::all());
    let mut delivered = Vec::new();
    for n in 0..30 {
        append_retrying(&store, &format!("quiet-{}", n % 4), event("E", n)).await;
        if n % 10 == 9 {
            delivered.extend(take(&mut sub, 10, Duration::from_secs(15)).await);
        }
    }
    assert_quiet(&mut sub, Duration::from_millis(500)).await;
    assert_exactly_once_in_order(&delivered, 30);
}

/// verify passes on a clean store, with and across seals; seals chain and cover everything once.
pub async fn verify_and_seal_clean_store<H: Harness>(h: &H) {
    let store = h.fresh().await;
    let empty = store.verify().await.unwrap();
    assert!(empty.is_ok());
    assert_eq!(store.seal().await.unwrap(), None, "nothing to seal");
    for n in 0..10 {
        store
            .append(
                &format!("audit-{}", n % 3),
                ExpectedVersion::Any,
                vec![event("E", n), event("F", n)],
            )
            .await
            .unwrap();
    }
    read_all_settled(&store, &Filter::all(), 20).await;
    let s1 = store.seal().await.unwrap().expect("first seal");
    assert_eq!(
        (s1.seal_no, s1.event_count, s1.from),
        (1, 20, Position::START)
    );
    assert_eq!(store.seal().await.unwrap(), None);
    store
        .append("audit-9", ExpectedVersion::Any, vec![event("G", 0)])
        .await
        .unwrap();
    read_all_settled(&store, &Filter::all(), 21).await;
    let s2 = store.seal().await.unwrap().expect("second seal");
    assert_eq!((s2.seal_no, s2.event_count, s2.from), (2, 1, s1.to));
    assert_eq!(s2.prev_hash, s1.hash);
    store
        .append("audit-9", ExpectedVersion::Any, vec![event("Unsealed", 1)])
        .await
        .unwrap();
    let report = store.verify().await.unwrap();
    assert!(report.is_ok(), "{:?}", report.mismatches);
    assert_eq!((report.events, report.streams, report.seals), (22, 4, 2));
}

/// verify names the one event changed behind the store's back, with its stream, version and position.
pub async fn verify_pinpoints_tampering<H: Harness>(h: &H) {
    let store = h.fresh().await;
    let mut target = None;
    for n in 0..6 {
        let r = store
            .append("ledger-1", ExpectedVersion::Any, vec![event("Reported", n)])
            .await
            .unwrap();
        store
            .append("ledger-2", ExpectedVersion::Any, vec![event("Reported", n)])
            .await
            .unwrap();
        if n == 3 {
            target = Some(r.events[0]);
        }
    }
    read_all_settled(&store, &Filter::all(), 12).await;
    assert_eq!(store.seal().await.unwrap().unwrap().event_count, 12);
    let target = target.unwrap();
    h.tamper_data(&store, "ledger-1", 3, json!({ "n": 1_000_000 }))
        .await;
    let report = store.verify().await.unwrap();
    assert!(!report.is_ok());
    match report.first_mismatch() {
        Some(Mismatch::Event {
            stream,
            version,
            position,
            ..
        }) => {
            assert_eq!(
                (stream.as_str(), *version, *position),
                ("ledger-1", 3, target.position)
            );
        }
        other => panic!("{other:?}"),
    }
    let text = report.first_mismatch().unwrap().to_string();
    assert!(
        text.contains("ledger-1") && text.contains("version 3"),
        "{text}"
    );
    // Only that event's content is wrong: the chain after it still links to its stored hash.
    assert_eq!(report.mismatch_count, 1, "{:?}", report.mismatches);
}

/// Business keys: the first owner gets the key, again idempotently; anyone else is refused.
pub async fn reserve_keys<H: Harness>(h: &H) {
    let store = h.fresh().await;
    let code = "2024-330000-04-01-000001";
    let first = store
        .reserve_key("projectcode", code, "project-a")
        .await
        .unwrap();
    let again = store
        .reserve_key("projectcode", code, "project-a")
        .await
        .unwrap();
    assert!(again.replayed);
    assert_eq!(again.events, first.events);
    match store.reserve_key("projectcode", code, "project-b").await {
        Err(StoreError::KeyTaken { owner, key, .. }) => {
            assert_eq!((owner.as_str(), key.as_str()), ("project-a", code));
        }
        other => panic!("{other:?}"),
    }
    store
        .reserve_key("projectcode", "2024-330000-04-01-000002", "project-b")
        .await
        .unwrap();
    // Racing owners: exactly one wins.
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .reserve_key("creditcode", "91330000MA2XXXXX0X", &format!("project-{i}"))
                    .await
            })
        })
        .collect();
    let mut winners = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => winners += 1,
            Err(StoreError::KeyTaken { .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(winners, 1);
    assert!(store.reserve_key("bad kind", "x", "o").await.is_err());
    assert!(store.reserve_key("projectcode", "", "o").await.is_err());
}

/// Old schema versions are raised to the current one on read; the stored event is untouched.
pub async fn upcasting_on_read<H: Harness>(h: &H) {
    let upcasters = Upcasters::new()
        .register("InvestmentReported", 1, |mut d| {
            // v1 had wan (10⁴ yuan); v2 has yuan.
            let wan = d["amount_wan"].as_i64().unwrap_or(0);
            d = json!({ "period": d["period"], "amount_yuan": wan * 10_000 });
            d
        })
        .register("InvestmentReported", 2, |mut d| {
            d["funds_yuan"] = json!(0);
            d
        });
    let store = h
        .fresh_with(StoreConfig {
            upcasters,
            ..StoreConfig::default()
        })
        .await;
    let v1 = NewEvent::new(
        "InvestmentReported",
        json!({ "period": "2026-01", "amount_wan": 12 }),
    );
    let v3 = NewEvent::new(
        "InvestmentReported",
        json!({ "period": "2026-02", "amount_yuan": 5, "funds_yuan": 1 }),
    )
    .with_schema_version(3);
    store
        .append(
            "project-up",
            ExpectedVersion::NoStream,
            vec![v1.clone(), v3],
        )
        .await
        .unwrap();
    let read = store
        .read_stream("project-up", Direction::Forwards, 0, 10)
        .await
        .unwrap();
    assert_eq!(read[0].schema_version, 3);
    assert_eq!(
        read[0].data,
        json!({ "period": "2026-01", "amount_yuan": 120_000, "funds_yuan": 0 })
    );
    assert_eq!(read[1].schema_version, 3);
    assert_eq!(read[1].data["amount_yuan"], json!(5));
    let all = read_all_settled(&store, &Filter::all(), 2).await;
    assert_eq!(all[0].data, read[0].data);
    // The stored event is unchanged: a retry of the original v1 append is still recognised.
    let again = store
        .append("project-up", ExpectedVersion::Any, vec![v1])
        .await
        .unwrap();
    assert!(again.replayed);
    assert!(store.verify().await.unwrap().is_ok());
}

/// Malformed stream names and appends are refused before anything is written.
pub async fn invalid_input_is_refused<H: Harness>(h: &H) {
    let store = h.fresh().await;
    for bad in ["nodash", "-x", "x-", "$all-1", "9lives-1"] {
        match store
            .append(bad, ExpectedVersion::Any, vec![event("A", 0)])
            .await
        {
            Err(StoreError::InvalidStreamName { .. }) => {}
            other => panic!("{bad}: {other:?}"),
        }
    }
    let e = event("A", 0);
    for events in [
        vec![],
        vec![e.clone(), e.clone()],
        vec![e.clone().with_schema_version(0)],
        vec![e.clone().with_metadata(json!([1]))],
    ] {
        match store.append("ok-1", ExpectedVersion::Any, events).await {
            Err(StoreError::InvalidAppend(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    assert!(read_all_once(&store, &Filter::all()).await.is_empty());
}

/// A filtered live subscription delivers exactly the matching events, however many others pass.
pub async fn filtered_subscription_goes_live<H: Harness>(h: &H) {
    let store = h.fresh().await;
    let mut sub = store.subscribe_all(Position::START, Filter::categories(["rare"]));
    let mut n = 0;
    for round in 0..3u64 {
        for _ in 0..20 {
            append_retrying(&store, &format!("common-{round}"), event("Common", n)).await;
            n += 1;
        }
        // Let the subscription poll past the non-matching events before the matching one.
        tokio::time::sleep(Duration::from_millis(200)).await;
        append_retrying(&store, "rare-1", event("Rare", round)).await;
        let got = take(&mut sub, 1, Duration::from_secs(10)).await;
        assert_eq!((got[0].stream.as_str(), got[0].version), ("rare-1", round));
    }
    assert_quiet(&mut sub, Duration::from_millis(400)).await;
}

/// Events for the import tests: several streams interleaved, data that exercises the jsonb text
/// form (escapes, non-ASCII, key order, numbers beyond integers), command-style metadata, a
/// schema version above 1. Returns what the source store holds, in $all order.
async fn import_source<S: EventStore>(store: &S) -> Vec<RecordedEvent> {
    let metadata = |n: u64| {
        json!({
            "actor": "导入测试",
            "correlationId": Uuid::from_u128(u128::from(n)),
            "causationId": Uuid::from_u128(u128::from(n) + 1000),
            "idempotencyKey": format!("key-{n}"),
        })
    };
    for n in 0..12u64 {
        let data = json!({
            "n": n,
            "text": "引号\"反斜杠\\换行\n制表\t控制\u{1}é/",
            "nested": { "zz": [], "a": {}, "list": [1, -2, 1.5, 0.25, 1e20, null, true] },
            "bb": n % 2 == 0,
        });
        let e = NewEvent::new(format!("Imported{}", n % 3), data)
            .with_metadata(metadata(n))
            .with_schema_version(if n % 4 == 3 { 2 } else { 1 });
        store
            .append(&format!("move-{}", n % 3), ExpectedVersion::Any, vec![e])
            .await
            .unwrap();
    }
    // One multi-event append, so a stream's events share a recorded_at.
    store
        .append(
            "batch-1",
            ExpectedVersion::NoStream,
            vec![
                event("Batched", 1),
                event("Batched", 2),
                event("Batched", 3),
            ],
        )
        .await
        .unwrap();
    read_all_settled(store, &Filter::all(), 15).await
}

async fn import_all<S: EventStore>(
    target: &S,
    events: &[RecordedEvent],
    batch: usize,
) -> Result<crate::ImportSummary, StoreError> {
    use crate::Importer;
    let mut importer = target.begin_import().await?;
    for chunk in events.chunks(batch) {
        importer
            .write(
                chunk
                    .iter()
                    .cloned()
                    .map(crate::ImportEvent::from)
                    .collect(),
            )
            .await?;
    }
    importer.commit().await
}

/// Asserts `store` holds nothing at all (no event, stream or seal) and can still start an import.
async fn assert_untouched<S: EventStore>(store: &S) {
    assert!(
        store
            .read_all(Position::START, &Filter::all(), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let report = store.verify().await.unwrap();
    assert_eq!((report.events, report.streams, report.seals), (0, 0, 0));
    drop(store.begin_import().await.expect("no lock left behind"));
}

/// An export-like read of one store imported into a fresh one: same events (ids, streams,
/// versions, types, stored schema versions, data, metadata, recorded_at, hashes) in the same $all
/// order, stream heads rebuilt (appends continue the chains), verify clean, and the digest of the
/// hashes as the source's. A second import into the now non-empty store is refused.
pub async fn import_into_empty_store<H: Harness>(h: &H) {
    let source = h.fresh().await;
    let events = import_source(&source).await;
    assert_eq!(events.len(), 15);
    let head = source.all_head().await.unwrap();
    assert_eq!(head.events, 15);
    assert_eq!(head.last, Some(events[14].position));
    assert_eq!(
        h.fresh().await.all_head().await.unwrap(),
        crate::AllHead {
            events: 0,
            last: None
        }
    );
    let mut digest = crate::hash::RangeDigest::default();
    events.iter().for_each(|e| digest.push(&e.hash));

    let target = h.fresh().await;
    let summary = import_all(&target, &events, 4).await.unwrap();
    assert_eq!(
        (summary.events, summary.streams, summary.digest),
        (15, 4, digest.finish())
    );

    let imported = read_all_settled(&target, &Filter::all(), 15).await;
    assert_eq!(imported.len(), 15);
    let positions: Vec<Position> = imported.iter().map(|e| e.position).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    for (a, b) in events.iter().zip(&imported) {
        let mut b = b.clone();
        b.position = a.position; // positions belong to each store's own $all
        assert_eq!(a, &b);
    }
    for stream in ["move-0", "move-1", "move-2", "batch-1"] {
        let a = source
            .read_stream(stream, Direction::Forwards, 0, 100)
            .await
            .unwrap();
        let b = target
            .read_stream(stream, Direction::Forwards, 0, 100)
            .await
            .unwrap();
        assert_eq!(
            a.iter().map(|e| (e.id, e.hash)).collect::<Vec<_>>(),
            b.iter().map(|e| (e.id, e.hash)).collect::<Vec<_>>(),
            "{stream}"
        );
    }
    let report = target.verify().await.unwrap();
    assert!(report.is_ok(), "{:?}", report.mismatches);
    assert_eq!((report.events, report.streams), (15, 4));

    // The heads were rebuilt: appends go on from the imported versions, chained on their hashes.
    assert_wrong_version(
        target
            .append("move-0", ExpectedVersion::NoStream, vec![event("After", 0)])
            .await,
        Some(3),
    );
    let after = target
        .append("move-0", ExpectedVersion::Exact(3), vec![event("After", 1)])
        .await
        .unwrap();
    assert_eq!(after.stream_version, 4);
    assert!(after.events[0].position > positions[14]);
    let report = target.verify().await.unwrap();
    assert!(report.is_ok(), "{:?}", report.mismatches);

    match import_all(&target, &events, 4).await {
        Err(StoreError::NotEmpty {
            events: 16,
            streams: 4,
            seals: 0,
        }) => {}
        other => panic!("expected NotEmpty, got {other:?}"),
    }
    let text = import_all(&source, &events, 4)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("not empty") && text.contains("15 events"),
        "{text}"
    );
}

/// A broken chain (changed data, a missing event, a repeated id) is refused with the stream and
/// version, and the import writes nothing; so does an importer dropped without commit.
pub async fn import_refuses_broken_chain_and_writes_nothing<H: Harness>(h: &H) {
    let source = h.fresh().await;
    let events = import_source(&source).await;
    let target = h.fresh().await;

    // Data changed after export (the hash no longer matches), in the second batch.
    let mut changed = events.clone();
    let at = changed.iter().position(|e| e.version == 2).unwrap();
    changed[at].data["n"] = json!(999);
    let (stream, version) = (changed[at].stream.clone(), changed[at].version);
    match import_all(&target, &changed, 5).await {
        Err(StoreError::BrokenChain {
            stream: s,
            version: v,
            problem,
        }) => {
            assert_eq!((s.as_str(), v), (stream.as_str(), version));
            assert!(problem.contains("hash"), "{problem}");
        }
        other => panic!("expected BrokenChain, got {other:?}"),
    }
    assert_untouched(&target).await;

    // A missing event: the next one of its stream does not follow.
    let mut missing = events.clone();
    let gone = missing.iter().position(|e| e.version == 1).unwrap();
    let removed = missing.remove(gone);
    match import_all(&target, &missing, 100).await {
        Err(StoreError::BrokenChain {
            stream, version, ..
        }) => assert_eq!((stream, version), (removed.stream.clone(), 2)),
        other => panic!("expected BrokenChain, got {other:?}"),
    }
    assert_untouched(&target).await;

    // The same id twice, each copy with a chain of its own that checks out.
    let mut twice = events.clone();
    let copy = &events[0];
    let data = crate::canonical_json::jsonb_text(&copy.data).unwrap();
    let metadata = crate::canonical_json::jsonb_text(&copy.metadata).unwrap();
    let micros = i64::try_from(copy.recorded_at.unix_timestamp_nanos() / 1000).unwrap();
    let hash = crate::hash::event_hash(
        &crate::hash::ZERO_HASH,
        &crate::hash::HashInput {
            id: copy.id,
            stream: "copy-1",
            version: 0,
            event_type: &copy.event_type,
            schema_version: copy.schema_version,
            data: &data,
            metadata: &metadata,
            recorded_at_micros: micros,
        },
    );
    twice.push(RecordedEvent {
        stream: "copy-1".to_owned(),
        version: 0,
        hash,
        ..copy.clone()
    });
    match import_all(&target, &twice, 100).await {
        Err(StoreError::ImportRefused(reason)) => assert!(reason.contains("twice"), "{reason}"),
        other => panic!("expected ImportRefused, got {other:?}"),
    }
    assert_untouched(&target).await;

    // Everything written, then dropped without commit.
    {
        use crate::Importer;
        let mut importer = target.begin_import().await.unwrap();
        importer
            .write(
                events
                    .iter()
                    .cloned()
                    .map(crate::ImportEvent::from)
                    .collect(),
            )
            .await
            .unwrap();
    }
    assert_untouched(&target).await;
}

/// While an import is open, appends wait (they cannot slip in between the emptiness check and the
/// import's events); once it commits they go on after the imported events.
pub async fn import_locks_out_appends<H: Harness>(h: &H) {
    use crate::Importer;
    let source = h.fresh().await;
    let events = import_source(&source).await;
    let target = h.fresh().await;
    let mut importer = target.begin_import().await.unwrap();
    importer
        .write(
            events
                .iter()
                .cloned()
                .map(crate::ImportEvent::from)
                .collect(),
        )
        .await
        .unwrap();
    let appender = {
        let target = target.clone();
        tokio::spawn(async move {
            target
                .append("late-1", ExpectedVersion::NoStream, vec![event("Late", 0)])
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!appender.is_finished(), "an append got past an open import");
    importer.commit().await.unwrap();
    let appended = appender.await.unwrap().unwrap();
    let all = read_all_settled(&target, &Filter::all(), 16).await;
    assert_eq!(all.len(), 16);
    assert_eq!(all[15].stream, "late-1");
    assert_eq!(all[15].position, appended.events[0].position);
    assert!(target.verify().await.unwrap().is_ok());
}
