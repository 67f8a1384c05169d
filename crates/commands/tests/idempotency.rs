//! A retry is recognised by its key and its content, and a batch lands whole or not at all —
//! each test once on PostgreSQL and once on SQLite (the modules at the end).

use commands::{
    BatchError, BatchItem, COMMAND_DIGEST, CommandError, CommandHandler, Envelope, Outcome,
    command_id, event_id,
};
use domain::project::*;
use domain::{DomainEvent, Period, ProjectId, UnitId, Yuan};
use eventstore::postgres::testing::TestDatabase;
use eventstore::{AnyEventStore, Backend, Direction, EventStore, ExpectedVersion, NewEvent};
use serde_json::json;
use std::convert::Infallible;
use time::macros::date;

/// A fresh store of `backend`; dropping the guard's database is left to `cleanup`.
struct Fixture {
    handler: CommandHandler<AnyEventStore>,
    pg: Option<TestDatabase>,
    sqlite: Option<std::path::PathBuf>,
}

impl Fixture {
    async fn new(backend: Backend) -> Fixture {
        let (store, pg, sqlite) = match backend {
            Backend::Postgres => {
                let db = TestDatabase::migrated().await;
                let store = eventstore::PgEventStore::new(db.pool(16).await);
                (AnyEventStore::from(store), Some(db), None)
            }
            Backend::Sqlite => {
                let path = std::env::temp_dir()
                    .join(format!("tz_commands_{}.sqlite3", uuid::Uuid::new_v4()));
                let store = AnyEventStore::open_sqlite(&path, 8).await.unwrap();
                (store, None, Some(path))
            }
        };
        let handler = CommandHandler::new(store)
            .with_today(|| date!(2026 - 11 - 20))
            .with_max_attempts(20);
        Fixture {
            handler,
            pg,
            sqlite,
        }
    }

    async fn cleanup(self) {
        self.handler.store().database().close().await;
        if let Some(db) = self.pg {
            db.drop_database().await;
        }
        if let Some(path) = self.sqlite {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }

    /// A registered government project under construction since 2025-01-10.
    async fn started_project(&self) -> String {
        let stream = ProjectId::new().stream();
        let register = ProjectCommand::Register(ProjectRegistered {
            name: "县医院迁建".into(),
            kind: ProjectKind::Government,
            investor_name: "县卫健局".into(),
            investor_type: InvestorType::Other,
            industry_chain: "社会事业".into(),
            industrial: false,
            intended_investment: yuan(800_000_000),
            responsible_unit: UnitId::parse("health").unwrap(),
            lead_official: "张副县长".into(),
            date: date!(2025 - 01 - 05),
        });
        let start = ProjectCommand::StartConstruction(ConstructionStarted {
            date: date!(2025 - 01 - 10),
            evidence: "开工令".into(),
        });
        for (i, cmd) in [register, start].into_iter().enumerate() {
            self.handler
                .handle::<Project>(
                    &stream,
                    Envelope::new(format!("{stream}/setup/{i}"), "clerk", cmd),
                )
                .await
                .unwrap();
        }
        stream
    }

    async fn reported(&self, stream: &str) -> Vec<(String, i64)> {
        self.handler
            .store()
            .read_stream(stream, Direction::Forwards, 0, 1000)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.event_type == "InvestmentReported")
            .map(|e| {
                (
                    e.data["period"].as_str().unwrap().to_owned(),
                    e.data["completed_investment"].as_i64().unwrap(),
                )
            })
            .collect()
    }
}

fn yuan(v: i64) -> Yuan {
    Yuan::new(v).unwrap()
}

fn report(period: &str, completed: i64) -> ProjectCommand {
    ProjectCommand::ReportInvestment(InvestmentReported {
        period: Period::parse(period).unwrap(),
        completed_investment: yuan(completed),
        funds_in_place: yuan(0),
        progress_narrative: None,
        problems: None,
    })
}

fn is_reused(r: &Result<Outcome, CommandError>) -> bool {
    matches!(r, Err(CommandError::IdempotencyKeyReused { .. }))
}

/// The report: key K for March, then K for April with another amount. April must be
/// refused as a reused key, not answered as a retry of March.
async fn a_key_reused_for_another_command_is_refused(backend: Backend) {
    let f = Fixture::new(backend).await;
    let stream = f.started_project().await;
    let h = &f.handler;
    let first = h
        .handle::<Project>(&stream, Envelope::new("K", "clerk", report("2026-03", 111)))
        .await
        .unwrap();
    assert!(!first.replayed);
    let april = h
        .handle::<Project>(&stream, Envelope::new("K", "clerk", report("2026-04", 999)))
        .await;
    assert!(is_reused(&april), "{april:?}");
    assert_eq!(april.unwrap_err().code(), "IDEMPOTENCY_KEY_REUSED");
    // Other figures for the same month are another command too.
    let other = h
        .handle::<Project>(&stream, Envelope::new("K", "clerk", report("2026-03", 112)))
        .await;
    assert!(is_reused(&other), "{other:?}");
    // The same command again is its retry, from another session of the actor or another one.
    for actor in ["clerk", "clerk (another session)"] {
        let again = h
            .handle::<Project>(&stream, Envelope::new("K", actor, report("2026-03", 111)))
            .await
            .unwrap();
        assert!(again.replayed);
        assert_eq!(again.events, first.events);
    }
    // A dry run judges the same way.
    let dry = h
        .check::<Project>(
            &stream,
            &Envelope::new("K", "clerk", report("2026-04", 999)),
        )
        .await;
    assert!(matches!(
        dry,
        Err(CommandError::IdempotencyKeyReused { .. })
    ));
    h.check::<Project>(
        &stream,
        &Envelope::new("K", "clerk", report("2026-03", 111)),
    )
    .await
    .unwrap();
    assert_eq!(f.reported(&stream).await, [("2026-03".to_owned(), 111)]);
    // The digest is in the event's metadata.
    let stored = h
        .store()
        .read_stream(&stream, Direction::Backwards, u64::MAX, 1)
        .await
        .unwrap();
    assert_eq!(
        stored[0].metadata[COMMAND_DIGEST],
        json!(commands::command_digest(&stream, &report("2026-03", 111)).unwrap())
    );
    f.cleanup().await;
}

/// Twenty different commands under one key at once: one lands, every other is told the key is
/// taken; none is answered as a success it was not.
async fn concurrent_different_commands_under_one_key(backend: Backend) {
    let f = Fixture::new(backend).await;
    let stream = f.started_project().await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(20));
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (h, stream, barrier) = (f.handler.clone(), stream.clone(), barrier.clone());
            tokio::spawn(async move {
                // Different months and different amounts: all different commands.
                let period = format!("2026-{:02}", 1 + i % 10);
                barrier.wait().await;
                let r = h
                    .handle::<Project>(
                        &stream,
                        Envelope::new("one-key", "clerk", report(&period, 1000 + i)),
                    )
                    .await;
                (period, 1000 + i, r)
            })
        })
        .collect();
    let mut won = Vec::new();
    for t in tasks {
        let (period, amount, r) = t.await.unwrap();
        match r {
            Ok(o) => {
                assert!(!o.replayed, "a different command answered as a retry");
                won.push((period, amount));
            }
            Err(CommandError::IdempotencyKeyReused { .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(won.len(), 1, "exactly one command lands: {won:?}");
    assert_eq!(f.reported(&stream).await, won);
    f.cleanup().await;
}

/// Twenty identical commands under one key at once: one writes, all answer its result.
async fn concurrent_identical_commands_write_once(backend: Backend) {
    let f = Fixture::new(backend).await;
    let stream = f.started_project().await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(20));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (h, stream, barrier) = (f.handler.clone(), stream.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                h.handle::<Project>(
                    &stream,
                    Envelope::new("same", "clerk", report("2026-10", 5_000)),
                )
                .await
                .unwrap()
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    assert_eq!(outcomes.iter().filter(|o| !o.replayed).count(), 1);
    assert!(
        outcomes
            .iter()
            .all(|o| o.events == outcomes[0].events
                && o.stream_version == outcomes[0].stream_version)
    );
    assert_eq!(f.reported(&stream).await, [("2026-10".to_owned(), 5_000)]);
    f.cleanup().await;
}

/// Events written before digests were recorded: a retry is the command that, decided again on
/// the state before them, gives the same events; anything else under their key is refused.
async fn events_without_a_digest_are_judged_by_their_content(backend: Backend) {
    let f = Fixture::new(backend).await;
    let stream = f.started_project().await;
    let h = &f.handler;
    let old = report("2026-05", 700);
    let ProjectCommand::ReportInvestment(fact) = old.clone() else {
        unreachable!()
    };
    let event = ProjectEvent::from(fact);
    let cid = command_id("legacy-key");
    h.store()
        .append(
            &stream,
            ExpectedVersion::Exact(1),
            vec![
                NewEvent::new(event.event_type(), event.to_json())
                    .with_id(event_id(cid, 0))
                    .with_schema_version(event.schema_version())
                    .with_metadata(json!({"actor": "clerk", "correlationId": cid,
                        "causationId": cid, "idempotencyKey": "legacy-key"})),
            ],
        )
        .await
        .unwrap();
    // Later events do not change what the old command was decided on.
    h.handle::<Project>(
        &stream,
        Envelope::new("later", "clerk", report("2026-06", 1)),
    )
    .await
    .unwrap();
    let again = h
        .handle::<Project>(&stream, Envelope::new("legacy-key", "clerk", old))
        .await
        .unwrap();
    assert!(again.replayed);
    assert_eq!(again.stream_version, Some(2));
    let other = h
        .handle::<Project>(
            &stream,
            Envelope::new("legacy-key", "clerk", report("2026-07", 700)),
        )
        .await;
    assert!(is_reused(&other), "{other:?}");
    assert_eq!(f.reported(&stream).await.len(), 2);
    f.cleanup().await;
}

fn item(stream: &str, key: &str, cmd: ProjectCommand) -> BatchItem<ProjectCommand, NoGuard> {
    BatchItem {
        stream: stream.to_owned(),
        envelope: Envelope::new(key, "clerk", cmd),
        guard: no_guard,
    }
}

type NoGuard = fn(&Project) -> Result<(), Infallible>;

fn no_guard(_: &Project) -> Result<(), Infallible> {
    Ok(())
}

/// A batch is decided whole and appended in one go: a refusal anywhere writes nothing, items on
/// one stream are decided one after the other, and a retry of the batch writes nothing more.
async fn a_batch_lands_whole_or_not_at_all(backend: Backend) {
    let f = Fixture::new(backend).await;
    let h = &f.handler;
    let a = f.started_project().await;
    let b = f.started_project().await;
    let refused = h
        .handle_batch_guarded::<Project, Infallible, _>(vec![
            item(&a, "b/a/10", report("2026-10", 1)),
            item(&b, "b/b/10", report("2026-10", 2)),
            item(&b, "b/b/10-again", report("2026-10", 3)),
        ])
        .await;
    match refused {
        Err(BatchError::Items(items)) => {
            assert_eq!(items.len(), 1);
            assert_eq!(items[0].index, 2);
            assert!(matches!(
                &items[0].error,
                commands::Guarded::Command(e) if e.code() == "INVESTMENT_ALREADY_REPORTED"
            ));
        }
        other => panic!("{other:?}"),
    }
    assert!(f.reported(&a).await.is_empty() && f.reported(&b).await.is_empty());
    let batch = || {
        vec![
            item(&a, "b/a/10", report("2026-10", 1)),
            item(&b, "b/b/10", report("2026-10", 2)),
            item(&b, "b/b/11", report("2026-11", 3)),
        ]
    };
    let outcomes = h
        .handle_batch_guarded::<Project, Infallible, _>(batch())
        .await
        .unwrap();
    assert!(outcomes.iter().all(|o| !o.replayed && o.events.len() == 1));
    assert_eq!(
        outcomes
            .iter()
            .map(|o| o.stream_version)
            .collect::<Vec<_>>(),
        [Some(2), Some(2), Some(3)]
    );
    let again = h
        .handle_batch_guarded::<Project, Infallible, _>(batch())
        .await
        .unwrap();
    assert!(again.iter().all(|o| o.replayed));
    assert_eq!(
        again.iter().map(|o| &o.events).collect::<Vec<_>>(),
        outcomes.iter().map(|o| &o.events).collect::<Vec<_>>()
    );
    assert_eq!(f.reported(&b).await.len(), 2);
    f.cleanup().await;
}

/// Ten batches at once, sharing four items (one month of four projects) and each with one item
/// of its own: one batch lands, and every other writes nothing, its own item included.
async fn concurrent_batches_sharing_items(backend: Backend) {
    let f = Fixture::new(backend).await;
    let mut shared = Vec::new();
    for _ in 0..4 {
        shared.push(f.started_project().await);
    }
    let mut own = Vec::new();
    for _ in 0..10 {
        own.push(f.started_project().await);
    }
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(10));
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let (h, barrier) = (f.handler.clone(), barrier.clone());
            let (shared, own) = (shared.clone(), own[i].clone());
            tokio::spawn(async move {
                let mut items: Vec<_> = shared
                    .iter()
                    .map(|s| {
                        item(
                            s,
                            &format!("batch-{i}/{s}"),
                            report("2026-10", 100 + i as i64),
                        )
                    })
                    .collect();
                items.rotate_left(i % 4);
                items.push(item(&own, &format!("batch-{i}/own"), report("2026-10", 7)));
                barrier.wait().await;
                h.handle_batch_guarded::<Project, Infallible, _>(items)
                    .await
            })
        })
        .collect();
    let mut winners = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        match t.await.unwrap() {
            Ok(outcomes) => {
                assert_eq!(outcomes.len(), 5);
                winners.push(i);
            }
            Err(BatchError::Items(items)) => {
                // Decided again after losing the race: the shared months are reported.
                assert!(
                    items.iter().all(|e| matches!(
                        &e.error,
                        commands::Guarded::Command(c) if c.code() == "INVESTMENT_ALREADY_REPORTED"
                    )),
                    "{items:?}"
                );
                // Streams are loaded one by one, so a batch may find only some of them reported
                // (those loaded after the winner committed): it is refused all the same.
                assert!((1..=4).contains(&items.len()), "{items:?}");
            }
            Err(BatchError::Batch(e)) => panic!("{e}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let w = winners[0] as i64;
    for s in &shared {
        assert_eq!(f.reported(s).await, [("2026-10".to_owned(), 100 + w)]);
    }
    for (i, s) in own.iter().enumerate() {
        let expected = if i as i64 == w { 1 } else { 0 };
        assert_eq!(f.reported(s).await.len(), expected, "own item of batch {i}");
    }
    let report = f.handler.store().verify().await.unwrap();
    assert!(report.is_ok());
    f.cleanup().await;
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(eventstore::Backend::Postgres).await
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(eventstore::Backend::Sqlite).await
                }
            )*
        }
    };
}

on_both_backends!(
    a_key_reused_for_another_command_is_refused,
    concurrent_different_commands_under_one_key,
    concurrent_identical_commands_write_once,
    events_without_a_digest_are_judged_by_their_content,
    a_batch_lands_whole_or_not_at_all,
    concurrent_batches_sharing_items,
);
