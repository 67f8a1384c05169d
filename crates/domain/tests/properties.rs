//! Property tests over random command sequences: accepted commands replay to the same state,
//! derived totals equal the sums over the events (a correction replacing its period), and a
//! refused command changes nothing.

mod support;

use domain::project::*;
use domain::supervision::*;
use domain::targets::*;
use domain::{Aggregate, AnyEvent, Context, DomainEvent, Mu, Period};
use proptest::prelude::*;
use std::collections::BTreeMap;
use support::*;
use time::Date;
use time::macros::date;

/// "Today" sits inside the generated range, so that some dates and periods are in the future.
const PROP_TODAY: Date = date!(2026 - 06 - 30);

fn day() -> impl Strategy<Value = Date> {
    (0i64..760).prop_map(|d| date!(2025 - 01 - 01) + time::Duration::days(d))
}

fn month() -> impl Strategy<Value = Period> {
    // 2025-05 … 2026-07: few enough months that corrections often hit a reported one.
    (4u8..19).prop_map(|m| Period::new(2025 + i32::from(m / 12), m % 12 + 1).expect("valid"))
}

fn amount() -> impl Strategy<Value = domain::Yuan> {
    prop_oneof![Just(0i64), 0i64..5_000_000].prop_map(yuan)
}

fn reason() -> impl Strategy<Value = String> {
    prop_oneof![1 => Just(String::new()), 4 => Just("核实更正".to_owned())]
}

fn project_command() -> impl Strategy<Value = ProjectCommand> {
    use ProjectCommand as C;
    prop_oneof![
        2 => (prop_oneof![Just(ContactKind::Visit), Just(ContactKind::Negotiation)], day()).prop_map(|(kind, date)| {
            C::LogContact(ContactLogged { kind, date, leader_level: "县级".into(), summary: "洽谈".into() })
        }),
        3 => (
            prop_oneof![Just(AgreementKind::Framework), Just(AgreementKind::Formal), Just(AgreementKind::Supplement)],
            day()
        )
            .prop_map(|(kind, date)| C::SignAgreement(agreement(kind, date))),
        3 => day().prop_map(|d| C::StartConstruction(started(d))),
        10 => (month(), amount(), amount()).prop_map(|(period, completed_investment, funds_in_place)| {
            C::ReportInvestment(InvestmentReported { period, completed_investment, funds_in_place, progress_narrative: None, problems: None })
        }),
        5 => (month(), amount(), amount(), reason()).prop_map(|(period, completed_investment, funds_in_place, reason)| {
            C::CorrectInvestmentReport(InvestmentReportCorrected { period, completed_investment, funds_in_place, reason, progress_narrative: None, problems: None })
        }),
        1 => day().prop_map(|date| C::CompleteConstruction(ConstructionCompleted { date })),
        1 => (day(), prop_oneof![Just(ProductionKind::Partial), Just(ProductionKind::Full)])
            .prop_map(|(date, kind)| C::StartProduction(ProductionStarted { date, kind })),
        4 => (day(), 0i64..10_000_000, 0u32..50, 0u32..50).prop_map(|(as_of, area, signed, relocated)| {
            let mut p = progress(as_of, "0", signed, relocated);
            p.area_acquired = Mu::from_ten_thousandths(area).expect("valid");
            C::ReportExpropriationProgress(p)
        }),
        2 => (
            prop_oneof![Just(ProjectStatus::Active), Just(ProjectStatus::Delayed), Just(ProjectStatus::Dormant)],
            reason(),
            day()
        )
            .prop_map(|(status, reason, date)| C::ChangeStatus(StatusChanged { status, reason, date })),
        2 => (2024i32..2028, prop_oneof![Just(PlanKind::Original), Just(PlanKind::Revised)], amount(), proptest::option::of(reason()))
            .prop_map(|(year, kind, planned_investment, reason)| {
                C::SetAnnualPlan(AnnualPlanSet { year, planned_investment, planned_start_month: None, kind, reason })
            }),
        1 => day().prop_map(|date| C::Abandon(ProjectAbandoned { reason: "退出".into(), date })),
    ]
}

fn project_kind() -> impl Strategy<Value = ProjectKind> {
    prop_oneof![
        Just(ProjectKind::Attracted),
        Just(ProjectKind::Government),
        Just(ProjectKind::Expansion)
    ]
}

/// Run the commands; return the final state, the events of the accepted ones, and the number refused.
fn run<A: Aggregate>(commands: &[A::Command], ctx: &Context) -> (A, Vec<A::Event>, usize) {
    let mut state = A::default();
    let mut events = Vec::new();
    let mut refusals = 0;
    for command in commands {
        let before = state.clone();
        match state.decide(command, ctx) {
            Ok(new) => {
                state = new.iter().fold(state, |s, e| s.apply(e));
                events.extend(new);
            }
            Err(err) => {
                refusals += 1;
                assert_eq!(state, before, "a refused command changed the state");
                // Deciding is pure: the same command on the same state fails the same way.
                assert_eq!(state.decide(command, ctx), Err(err));
            }
        }
    }
    (state, events, refusals)
}

/// Totals computed straight from the events: the last figure of each period wins.
fn totals_from_events(events: &[ProjectEvent]) -> (i64, i64) {
    let mut months = BTreeMap::new();
    for e in events {
        match e {
            ProjectEvent::InvestmentReported(r) => {
                months.insert(
                    r.period,
                    (r.completed_investment.get(), r.funds_in_place.get()),
                );
            }
            ProjectEvent::InvestmentReportCorrected(c) => {
                assert!(
                    months.contains_key(&c.period),
                    "a correction of an unreported period was accepted"
                );
                months.insert(
                    c.period,
                    (c.completed_investment.get(), c.funds_in_place.get()),
                );
            }
            _ => {}
        }
    }
    months
        .values()
        .fold((0, 0), |(a, b), (c, f)| (a + c, b + f))
}

proptest! {
    // No regression files: a failing case is printed, minimised, with the command sequence.
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn project_sequences_replay_and_sum(kind in project_kind(), commands in proptest::collection::vec(project_command(), 0..60)) {
        let ctx = Context::new(PROP_TODAY, "prop");
        let mut all = vec![ProjectCommand::Register(registered(kind))];
        all.extend(commands);
        let (state, events, _) = run::<Project>(&all, &ctx);

        // Replay from the initial state gives the same state.
        prop_assert_eq!(&Project::fold(&events), &state);
        // Derived totals equal the sums over the events, corrections replacing their period.
        let (investment, funds) = totals_from_events(&events);
        prop_assert_eq!(state.cumulative_investment(), investment);
        prop_assert_eq!(state.cumulative_funds(), funds);
        // Every accepted event survives the JSON contract.
        for e in &events {
            let back = ProjectEvent::from_json(e.event_type(), e.schema_version(), e.to_json());
            prop_assert_eq!(back.as_ref(), Ok(e));
        }
        // Invariants the rules promise.
        let reports = events.iter().filter(|e| matches!(e, ProjectEvent::InvestmentReported(_))).count();
        prop_assert_eq!(reports, state.investment.len());
        if let Some(start) = state.started_on {
            prop_assert!(state.investment.keys().all(|p| *p >= Period::of(start)));
        }
        if kind != ProjectKind::Attracted {
            prop_assert!(!events.iter().any(|e| matches!(e, ProjectEvent::AgreementSigned(_))));
        }
        let abandoned_at = events.iter().position(|e| matches!(e, ProjectEvent::ProjectAbandoned(_)));
        if let Some(i) = abandoned_at {
            prop_assert_eq!(i, events.len() - 1, "events after abandonment");
        }
    }

    #[test]
    fn supervision_sequences_replay(commands in proptest::collection::vec(supervision_command(), 0..30)) {
        let ctx = Context::new(PROP_TODAY, "prop");
        let (state, events, _) = run::<SupervisionItem>(&commands, &ctx);
        prop_assert_eq!(&SupervisionItem::fold(&events), &state);
        // Closed only after feedback, and only after a request.
        if let Some(i) = events.iter().position(|e| matches!(e, SupervisionEvent::ItemClosed(_))) {
            prop_assert!(events[..i].iter().any(|e| matches!(e, SupervisionEvent::FeedbackSubmitted(_))));
            prop_assert!(events[..i].iter().any(|e| matches!(e, SupervisionEvent::ClosureRequested(_))));
        }
        for e in &events {
            let any = AnyEvent::from_json(e.event_type(), e.schema_version(), e.to_json());
            prop_assert_eq!(any, Ok(AnyEvent::Supervision(e.clone())));
        }
    }
}

fn target_command() -> impl Strategy<Value = TargetsCommand> {
    let scope = prop_oneof![
        Just(TargetScope::County),
        Just(TargetScope::Unit(unit("xinan-town")))
    ];
    let metric = proptest::sample::select(TargetMetric::ALL.to_vec());
    let value = prop_oneof![
        (0i64..1_000_000).prop_map(|v| TargetValue::Yuan(yuan(v))),
        (0u32..100).prop_map(TargetValue::Count),
        (0i64..10_000_000)
            .prop_map(|v| TargetValue::Mu(Mu::from_ten_thousandths(v).expect("valid"))),
    ];
    (
        any::<bool>(),
        prop_oneof![Just(2026), Just(2025)],
        scope,
        metric,
        value,
        reason(),
    )
        .prop_map(|(revise, year, scope, metric, value, reason)| {
            if revise {
                TargetsCommand::Revise(TargetRevised {
                    year,
                    scope,
                    metric,
                    value,
                    reason,
                })
            } else {
                TargetsCommand::Set(TargetSet {
                    year,
                    scope,
                    metric,
                    value,
                })
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn target_sequences_replay_and_keep_the_last_value(commands in proptest::collection::vec(target_command(), 0..40)) {
        let ctx = Context::new(PROP_TODAY, "prop");
        let (state, events, _) = run::<Targets>(&commands, &ctx);
        prop_assert_eq!(&Targets::fold(&events), &state);
        // One year per stream; the value of each (scope, metric) is that of its last event.
        let mut last = BTreeMap::new();
        for e in &events {
            let (year, key, value) = match e {
                TargetsEvent::TargetSet(t) => (t.year, (t.scope.clone(), t.metric), t.value),
                TargetsEvent::TargetRevised(t) => (t.year, (t.scope.clone(), t.metric), t.value),
            };
            prop_assert_eq!(Some(year), state.year);
            prop_assert!(key.1.accepts(&value));
            last.insert(key, value);
        }
        prop_assert_eq!(last, state.values.clone());
    }
}

fn supervision_command() -> impl Strategy<Value = SupervisionCommand> {
    use SupervisionCommand as C;
    let opened = match supervision_events().remove(0) {
        SupervisionEvent::SupervisionItemOpened(o) => o,
        _ => unreachable!("the first sample opens the item"),
    };
    prop_oneof![
        2 => day().prop_map(move |date| C::Open(SupervisionItemOpened { date, deadline: date + time::Duration::days(30), ..opened.clone() })),
        3 => (prop_oneof![Just("xinan-town"), Just("natural-resources"), Just("other")], day())
            .prop_map(|(u, date)| C::SubmitFeedback(FeedbackSubmitted { unit: unit(u), content: "进展".into(), date })),
        2 => (day(), day(), reason()).prop_map(|(deadline, date, reason)| C::ExtendDeadline(DeadlineExtended { deadline, reason, date })),
        2 => day().prop_map(|date| C::RequestClosure(ClosureRequested { summary: "完成".into(), date })),
        2 => day().prop_map(|date| C::Close(ItemClosed { note: None, date })),
        1 => (day(), reason()).prop_map(|(date, reason)| C::ReturnClosure(ClosureReturned { reason, date })),
        1 => day().prop_map(|date| C::RecordAccountability(AccountabilityRecorded {
            kind: AccountabilityKind::Interview,
            subject: "某镇".into(),
            reason: "滞后".into(),
            date,
        })),
    ]
}

/// The properties above only mean something if the generated sequences reach the interesting
/// states: started projects with reports, corrections and refusals.
#[test]
fn generated_sequences_reach_reports_and_corrections() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let ctx = Context::new(PROP_TODAY, "prop");
    let strategy = (
        project_kind(),
        proptest::collection::vec(project_command(), 30..60),
    );
    let mut runner = TestRunner::deterministic();
    let (mut with_reports, mut with_corrections, mut refusals) = (0, 0, 0);
    for _ in 0..200 {
        let (kind, commands) = strategy.new_tree(&mut runner).expect("strategy").current();
        let mut all = vec![ProjectCommand::Register(registered(kind))];
        all.extend(commands);
        let (_, events, refused) = run::<Project>(&all, &ctx);
        with_reports += usize::from(
            events
                .iter()
                .any(|e| matches!(e, ProjectEvent::InvestmentReported(_))),
        );
        with_corrections += usize::from(
            events
                .iter()
                .any(|e| matches!(e, ProjectEvent::InvestmentReportCorrected(_))),
        );
        refusals += refused;
    }
    eprintln!(
        "{with_reports} with reports, {with_corrections} with corrections, {refusals} refusals"
    );
    assert!(
        with_reports > 40,
        "only {with_reports} of 200 sequences report investment"
    );
    assert!(
        with_corrections > 20,
        "only {with_corrections} of 200 sequences correct a report"
    );
    assert!(refusals > 200);
}
