//! The retry loop, made deterministic: a store wrapper lets a rival writer append to the stream
//! between the handler's load and its append, so the handler's `Exact(version)` append loses.

use commands::{CommandError, CommandHandler, Envelope};
use domain::project::*;
use domain::{DomainEvent, Period, ProjectId, UnitId, Yuan};
use eventstore::postgres::testing::TestDatabase;
use eventstore::{
    AppendResult, Direction, EventStore, EventStream, ExpectedVersion, Filter, NewEvent,
    PgEventStore, Position, RecordedEvent, Seal, StoreError, StreamAppend, VerifyReport,
};
use std::sync::{Arc, Mutex};
use time::macros::date;

/// Before each of the next appends to a project stream, a rival appends one of `rivals`.
#[derive(Clone)]
struct RacingStore {
    inner: PgEventStore,
    rivals: Arc<Mutex<Vec<ProjectEvent>>>,
}

impl EventStore for RacingStore {
    type Importer = <PgEventStore as EventStore>::Importer;

    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError> {
        let rival = self.rivals.lock().unwrap().pop();
        if let Some(rival) = rival {
            let event = NewEvent::new(rival.event_type(), rival.to_json());
            self.inner
                .append(stream, ExpectedVersion::Any, vec![event])
                .await?;
        }
        self.inner.append(stream, expected, events).await
    }

    async fn append_streams(
        &self,
        appends: Vec<StreamAppend>,
    ) -> Result<Vec<AppendResult>, StoreError> {
        let rival = self.rivals.lock().unwrap().pop();
        if let (Some(rival), Some(first)) = (rival, appends.first()) {
            let event = NewEvent::new(rival.event_type(), rival.to_json());
            self.inner
                .append(&first.stream, ExpectedVersion::Any, vec![event])
                .await?;
        }
        self.inner.append_streams(appends).await
    }

    async fn read_stream(
        &self,
        stream: &str,
        direction: Direction,
        from_version: u64,
        max_count: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.inner
            .read_stream(stream, direction, from_version, max_count)
            .await
    }

    async fn read_all(
        &self,
        from: Position,
        filter: &Filter,
        batch_size: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.inner.read_all(from, filter, batch_size).await
    }

    fn subscribe_all(&self, from: Position, filter: Filter) -> EventStream {
        self.inner.subscribe_all(from, filter)
    }

    async fn seal(&self) -> Result<Option<Seal>, StoreError> {
        self.inner.seal().await
    }

    async fn verify(&self) -> Result<VerifyReport, StoreError> {
        self.inner.verify().await
    }

    async fn load_checkpoint(&self, name: &str) -> Result<Option<Position>, StoreError> {
        self.inner.load_checkpoint(name).await
    }

    async fn begin_import(&self) -> Result<Self::Importer, StoreError> {
        self.inner.begin_import().await
    }
}

fn reported(period: &str, amount: i64) -> InvestmentReported {
    InvestmentReported {
        period: Period::parse(period).unwrap(),
        completed_investment: Yuan::new(amount).unwrap(),
        funds_in_place: Yuan::new(amount).unwrap(),
        progress_narrative: None,
        problems: None,
    }
}

/// A started government project on a racing store with no rivals yet.
async fn setup() -> (
    TestDatabase,
    CommandHandler<RacingStore>,
    Arc<Mutex<Vec<ProjectEvent>>>,
    String,
) {
    let db = TestDatabase::migrated().await;
    let rivals = Arc::new(Mutex::new(Vec::new()));
    let store = RacingStore {
        inner: PgEventStore::new(db.pool(4).await),
        rivals: rivals.clone(),
    };
    let h = CommandHandler::new(store).with_today(|| date!(2026 - 11 - 20));
    let stream = ProjectId::new().stream();
    let register = ProjectCommand::Register(ProjectRegistered {
        name: "县医院迁建".into(),
        kind: ProjectKind::Government,
        investor_name: "县卫健局".into(),
        investor_type: InvestorType::Other,
        industry_chain: "社会事业".into(),
        industrial: false,
        intended_investment: Yuan::new(800_000_000).unwrap(),
        responsible_unit: UnitId::parse("health").unwrap(),
        lead_official: "张副县长".into(),
        date: date!(2026 - 01 - 05),
    });
    let start = ProjectCommand::StartConstruction(ConstructionStarted {
        date: date!(2026 - 03 - 01),
        evidence: "开工令".into(),
    });
    for (i, c) in [register, start].into_iter().enumerate() {
        h.handle::<Project>(&stream, Envelope::new(format!("setup-{i}"), "clerk", c))
            .await
            .unwrap();
    }
    (db, h, rivals, stream)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_race_is_decided_again_against_the_winner() {
    let (db, h, rivals, stream) = setup().await;
    // The rival reports October first; our October report must then be refused, not appended.
    rivals.lock().unwrap().push(reported("2026-10", 1).into());
    let cmd = ProjectCommand::ReportInvestment(reported("2026-10", 2));
    let err = h
        .handle::<Project>(&stream, Envelope::new("ours", "clerk", cmd))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "INVESTMENT_ALREADY_REPORTED", "{err}");
    assert_eq!(
        h.store()
            .read_stream(&stream, Direction::Forwards, 0, 100)
            .await
            .unwrap()
            .len(),
        3
    );
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_race_retries_and_lands_when_still_allowed() {
    let (db, h, rivals, stream) = setup().await;
    rivals
        .lock()
        .unwrap()
        .extend([reported("2026-08", 1).into(), reported("2026-09", 1).into()]);
    let cmd = ProjectCommand::ReportInvestment(reported("2026-10", 2));
    let outcome = h
        .handle::<Project>(&stream, Envelope::new("ours", "clerk", cmd))
        .await
        .unwrap();
    // Two lost races (versions 2 and 3 went to rivals), then ours at version 4.
    assert_eq!(outcome.stream_version, Some(4));
    assert!(rivals.lock().unwrap().is_empty());
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_are_bounded() {
    let (db, h, rivals, stream) = setup().await;
    let h = h.with_max_attempts(3);
    rivals
        .lock()
        .unwrap()
        .extend(["2026-06", "2026-07", "2026-08", "2026-09"].map(|p| reported(p, 1).into()));
    let cmd = ProjectCommand::ReportInvestment(reported("2026-10", 2));
    let err = h
        .handle::<Project>(&stream, Envelope::new("ours", "clerk", cmd))
        .await
        .unwrap_err();
    assert!(
        matches!(err, CommandError::Conflict { attempts: 3, .. }),
        "{err}"
    );
    assert_eq!(err.code(), "CONCURRENCY_CONFLICT");
    db.drop_database().await;
}
