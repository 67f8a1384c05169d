//! Command handling against a real PostgreSQL (a fresh database per test; the server must run:
//! `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`).

use commands::{CommandError, CommandHandler, Envelope, command_id, event_id};
use domain::project::*;
use domain::{ErrorCode, Period, ProjectCode, ProjectId, UnitId, Yuan};
use eventstore::postgres::testing::TestDatabase;
use eventstore::{Direction, EventStore, PgEventStore};
use time::macros::date;

async fn handler() -> (TestDatabase, CommandHandler<PgEventStore>) {
    let db = TestDatabase::migrated().await;
    let store = PgEventStore::new(db.pool(8).await);
    let handler = CommandHandler::new(store).with_today(|| date!(2026 - 11 - 20));
    (db, handler)
}

fn yuan(v: i64) -> Yuan {
    Yuan::new(v).unwrap()
}

fn register() -> ProjectCommand {
    ProjectCommand::Register(ProjectRegistered {
        name: "新能源电池项目".into(),
        kind: ProjectKind::Government,
        investor_name: "县城投公司".into(),
        investor_type: InvestorType::Other,
        industry_chain: "新能源".into(),
        industrial: true,
        intended_investment: yuan(500_000_000),
        responsible_unit: UnitId::parse("dev-zone").unwrap(),
        lead_official: "王副县长".into(),
        date: date!(2026 - 03 - 01),
    })
}

fn report(period: &str, completed: i64) -> ProjectCommand {
    ProjectCommand::ReportInvestment(InvestmentReported {
        period: Period::parse(period).unwrap(),
        completed_investment: yuan(completed),
        funds_in_place: yuan(completed / 2),
        progress_narrative: None,
        problems: None,
    })
}

fn assign_code(code: &str) -> ProjectCommand {
    ProjectCommand::AssignProjectCode(ProjectCodeAssigned {
        code: ProjectCode::parse(code).unwrap(),
        route: ApprovalRoute::Approval,
        filed_total_investment: yuan(500_000_000),
        date: date!(2026 - 04 - 01),
    })
}

/// A registered project under construction since 2026-04-10.
async fn started_project(h: &CommandHandler<PgEventStore>) -> String {
    let stream = ProjectId::new().stream();
    let start = ProjectCommand::StartConstruction(ConstructionStarted {
        date: date!(2026 - 04 - 10),
        evidence: "施工许可证".into(),
    });
    for (i, cmd) in [register(), start].into_iter().enumerate() {
        let key = format!("{stream}/setup/{i}");
        h.handle::<Project>(&stream, Envelope::new(key, "clerk-li", cmd))
            .await
            .unwrap();
    }
    stream
}

async fn stream_len(h: &CommandHandler<PgEventStore>, stream: &str) -> usize {
    h.store()
        .read_stream(stream, Direction::Forwards, 0, 10_000)
        .await
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_reports_for_one_period_one_wins() {
    let (db, h) = handler().await;
    let stream = started_project(&h).await;
    // Two clerks report the same month at the same moment, under different keys.
    let a = h.handle::<Project>(
        &stream,
        Envelope::new("clerk-a/2026-10", "clerk-a", report("2026-10", 1_000_000)),
    );
    let b = h.handle::<Project>(
        &stream,
        Envelope::new("clerk-b/2026-10", "clerk-b", report("2026-10", 2_000_000)),
    );
    let (a, b) = tokio::join!(a, b);
    let (ok, refused): (Vec<_>, Vec<_>) = [a, b].into_iter().partition(Result::is_ok);
    assert_eq!((ok.len(), refused.len()), (1, 1), "exactly one report wins");
    let err = refused.into_iter().next().unwrap().unwrap_err();
    assert_eq!(err.code(), "INVESTMENT_ALREADY_REPORTED", "{err}");
    assert_eq!(
        err.domain().map(|e| e.code),
        Some(ErrorCode::InvestmentAlreadyReported)
    );
    assert_eq!(stream_len(&h, &stream).await, 3);
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_concurrent_reports_for_different_periods_all_land() {
    let (db, h) = handler().await;
    let stream = started_project(&h).await;
    let months = [
        "2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09",
    ];
    let h = h.with_max_attempts(10);
    let tasks: Vec<_> = months
        .iter()
        .map(|m| {
            let (h, stream, m) = (h.clone(), stream.clone(), m.to_string());
            tokio::spawn(async move {
                h.handle::<Project>(
                    &stream,
                    Envelope::new(format!("k/{m}"), "clerk", report(&m, 10)),
                )
                .await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(stream_len(&h, &stream).await, 2 + months.len());
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_retried_command_writes_nothing_and_returns_the_first_result() {
    let (db, h) = handler().await;
    let stream = started_project(&h).await;
    let envelope = Envelope::new(
        "form-7f3a/2026-10",
        "clerk-li",
        report("2026-10", 1_000_000),
    );
    let first = h
        .handle::<Project>(&stream, envelope.clone())
        .await
        .unwrap();
    assert!(!first.replayed);
    assert_eq!(first.events.len(), 1);
    assert_eq!(
        first.events[0].id,
        event_id(command_id("form-7f3a/2026-10"), 0)
    );

    let again = h
        .handle::<Project>(&stream, envelope.clone())
        .await
        .unwrap();
    assert!(again.replayed);
    assert_eq!(
        (again.events.clone(), again.stream_version),
        (first.events.clone(), first.stream_version)
    );
    assert_eq!(stream_len(&h, &stream).await, 3);

    // Still recognised after other commands moved the stream on.
    h.handle::<Project>(
        &stream,
        Envelope::new("form-8/2026-11", "clerk-li", report("2026-11", 5)),
    )
    .await
    .unwrap();
    let late = h.handle::<Project>(&stream, envelope).await.unwrap();
    assert!(late.replayed);
    assert_eq!(late.events, first.events);
    assert_eq!(stream_len(&h, &stream).await, 4);
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metadata_records_actor_correlation_and_causation() {
    let (db, h) = handler().await;
    let stream = started_project(&h).await;
    let cause = uuid::Uuid::now_v7();
    let mut envelope = Envelope::new("key-meta", "clerk-zhang", report("2026-10", 7));
    envelope.causation_id = Some(cause);
    h.handle::<Project>(&stream, envelope).await.unwrap();
    let events = h
        .store()
        .read_stream(&stream, Direction::Forwards, 0, 100)
        .await
        .unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.event_type, "InvestmentReported");
    // Version 2 carries the optional 形象进度 / 存在问题 (migration 0130).
    assert_eq!(last.schema_version, 2);
    assert_eq!(last.metadata["actor"], "clerk-zhang");
    assert_eq!(
        last.metadata["correlationId"],
        command_id("key-meta").to_string()
    );
    assert_eq!(last.metadata["causationId"], cause.to_string());
    assert_eq!(last.data["completed_investment"], 7);
    // Without an explicit cause, the command is the cause.
    assert_eq!(
        events[0].metadata["causationId"],
        events[0].metadata["correlationId"]
    );
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_national_project_code_belongs_to_one_project() {
    let (db, h) = handler().await;
    let first = started_project(&h).await;
    let second = started_project(&h).await;
    let code = "2604-610403-04-01-000123";
    h.handle::<Project>(&first, Envelope::new("code-1", "clerk", assign_code(code)))
        .await
        .unwrap();
    let err = h
        .handle::<Project>(&second, Envelope::new("code-2", "clerk", assign_code(code)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "PROJECT_CODE_TAKEN", "{err}");
    assert_eq!(err.domain().map(|e| e.field), Some("code"));
    assert_eq!(stream_len(&h, &second).await, 2);
    // Another code is fine for the second project, and a retry by the first is idempotent.
    h.handle::<Project>(
        &second,
        Envelope::new("code-3", "clerk", assign_code("2604-610403-04-01-000124")),
    )
    .await
    .unwrap();
    let retry = h
        .handle::<Project>(&first, Envelope::new("code-1", "clerk", assign_code(code)))
        .await
        .unwrap();
    assert!(retry.replayed);
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refusals_write_nothing_and_keys_are_required() {
    let (db, h) = handler().await;
    let stream = ProjectId::new().stream();
    let err = h
        .handle::<Project>(&stream, Envelope::new("k1", "clerk", report("2026-10", 1)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "PROJECT_NOT_FOUND");
    let err = h
        .handle::<Project>(&stream, Envelope::new("k2", " ", register()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ACTOR_REQUIRED");
    let err = h
        .handle::<Project>(&stream, Envelope::new("", "clerk", register()))
        .await
        .unwrap_err();
    assert!(matches!(err, CommandError::IdempotencyKeyMissing));
    assert_eq!(stream_len(&h, &stream).await, 0);
    // The same key for another command on another stream is refused by the store.
    h.handle::<Project>(&stream, Envelope::new("k3", "clerk", register()))
        .await
        .unwrap();
    let other = ProjectId::new().stream();
    let err = h
        .handle::<Project>(&other, Envelope::new("k3", "clerk", register()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, CommandError::IdempotencyKeyReused { .. }),
        "{err}"
    );
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn expected_version_refuses_a_stale_command_and_check_writes_nothing() {
    let (db, h) = handler().await;
    let stream = started_project(&h).await; // versions 0 and 1
    let stale =
        Envelope::new("stale", "clerk", report("2026-10", 1)).with_expected_version(Some(0));
    let err = h.check::<Project>(&stream, &stale).await.unwrap_err();
    assert!(
        matches!(
            err,
            CommandError::WrongExpectedVersion {
                expected: Some(0),
                current: Some(1),
                ..
            }
        ),
        "{err}"
    );
    let err = h.handle::<Project>(&stream, stale).await.unwrap_err();
    assert_eq!(err.code(), "WRONG_EXPECTED_VERSION");
    // A dry run of an acceptable command writes nothing; then handling it with the right
    // version writes it, and a retry under the same key replays whatever the version says.
    let fresh =
        Envelope::new("fresh", "clerk", report("2026-10", 1)).with_expected_version(Some(1));
    h.check::<Project>(&stream, &fresh).await.unwrap();
    assert_eq!(stream_len(&h, &stream).await, 2);
    let first = h.handle::<Project>(&stream, fresh.clone()).await.unwrap();
    let again = h.handle::<Project>(&stream, fresh).await.unwrap();
    assert!(again.replayed);
    assert_eq!(first.events, again.events);
    // The rules still apply in a dry run.
    let twice = Envelope::new("twice", "clerk", report("2026-10", 2));
    let err = h.check::<Project>(&stream, &twice).await.unwrap_err();
    assert_eq!(err.code(), "INVESTMENT_ALREADY_REPORTED");
    db.drop_database().await;
}

/// The guard sees the state the command is decided on and can refuse it; a refused command
/// writes nothing, and a retry of an accepted one is answered without asking the guard again.
#[tokio::test]
async fn a_guard_decides_on_the_folded_state() {
    use commands::Guarded;
    let (db, h) = handler().await;
    let stream = started_project(&h).await;
    let only = |unit: &'static str| {
        move |p: &Project| match &p.responsible_unit {
            Some(u) if u.as_str() == unit => Ok(()),
            other => Err(format!("project belongs to {other:?}")),
        }
    };

    let refused = h
        .handle_guarded::<Project, String>(
            &stream,
            Envelope::new("guard/1", "clerk-li", report("2026-05", 1_000)),
            only("xinan-town"),
        )
        .await;
    assert!(
        matches!(&refused, Err(Guarded::Refused(why)) if why.contains("dev-zone")),
        "{refused:?}"
    );
    assert_eq!(stream_len(&h, &stream).await, 2);
    let checked = h
        .check_guarded::<Project, String>(
            &stream,
            &Envelope::new("guard/1", "clerk-li", report("2026-05", 1_000)),
            only("xinan-town"),
        )
        .await;
    assert!(matches!(checked, Err(Guarded::Refused(_))));

    let accepted = h
        .handle_guarded::<Project, String>(
            &stream,
            Envelope::new("guard/2", "clerk-li", report("2026-05", 1_000)),
            only("dev-zone"),
        )
        .await
        .unwrap();
    assert_eq!(accepted.events.len(), 1);
    // The guard's own refusals and the rules' refusals stay apart.
    let rule = h
        .handle_guarded::<Project, String>(
            &stream,
            Envelope::new("guard/3", "clerk-li", report("2026-05", 2_000)),
            only("dev-zone"),
        )
        .await;
    assert!(
        matches!(rule, Err(Guarded::Command(CommandError::Domain(_)))),
        "{rule:?}"
    );
    // A retry writes nothing, so it is answered even by a guard that would refuse now.
    let replay = h
        .handle_guarded::<Project, String>(
            &stream,
            Envelope::new("guard/2", "clerk-li", report("2026-05", 1_000)),
            |_| Err("no".to_owned()),
        )
        .await
        .unwrap();
    assert!(replay.replayed);
    assert_eq!(stream_len(&h, &stream).await, 3);
    db.drop_database().await;
}
