//! One test per rule of DOMAIN.md (and the obvious ones around them): the command is refused
//! with the expected code and field, and produces no event.

mod support;

use domain::project::*;
use domain::rules::*;
use domain::supervision::*;
use domain::targets::*;
use domain::unit::*;
use domain::{Aggregate, Context, DomainError, ErrorCode, Mu, ProjectCode, Uscc, Yuan};
use support::*;
use time::macros::date;

/// Assert that `command` is refused with `code` on `field` and that the state is untouched.
fn refused<A: Aggregate>(
    state: &A,
    command: A::Command,
    code: ErrorCode,
    field: &str,
) -> DomainError {
    refused_in(state, command, &ctx(), code, field)
}

fn refused_in<A: Aggregate>(
    state: &A,
    command: A::Command,
    ctx: &Context,
    code: ErrorCode,
    field: &str,
) -> DomainError {
    let before = state.clone();
    let err = match state.decide(&command, ctx) {
        Err(e) => e,
        Ok(events) => panic!("expected {code} but the command produced {events:?}"),
    };
    assert_eq!((err.code, err.field), (code, field), "{err}");
    assert!(!err.message_en.is_empty() && !err.message_zh.is_empty());
    assert_eq!(*state, before);
    err
}

/// Decide and apply, panicking on refusal.
fn accept<A: Aggregate>(state: A, command: A::Command) -> A {
    let events = state
        .decide(&command, &ctx())
        .unwrap_or_else(|e| panic!("refused: {e}"));
    assert!(!events.is_empty());
    events.iter().fold(state, |s, e| s.apply(e))
}

fn project(events: Vec<ProjectEvent>) -> Project {
    Project::fold(&events)
}

fn registered_project(kind: ProjectKind) -> Project {
    project(vec![registered(kind).into()])
}

/// An attracted project formally signed on 2025-04-18 and started on 2025-06-18.
fn started_project() -> Project {
    project(vec![
        registered(ProjectKind::Attracted).into(),
        agreement(AgreementKind::Formal, date!(2025 - 04 - 18)).into(),
        started(date!(2025 - 06 - 18)).into(),
    ])
}

fn completed_project() -> Project {
    accept(
        started_project(),
        ProjectCommand::CompleteConstruction(ConstructionCompleted {
            date: date!(2026 - 08 - 30),
        }),
    )
}

// Rule 1: money, areas and counts.

#[test]
fn rule1_money_is_in_range_and_exact() {
    assert_eq!(Yuan::new(-1).unwrap_err().code, ErrorCode::MoneyOutOfRange);
    assert_eq!(
        Yuan::new(10_000_000_000_000).unwrap_err().code,
        ErrorCode::MoneyOutOfRange
    );
    let mut json =
        serde_json::to_value(ProjectCommand::ReportInvestment(reported("2025-07", 1, 1))).unwrap();
    json["data"]["completed_investment"] = serde_json::json!(-100);
    assert!(serde_json::from_value::<ProjectCommand>(json.clone()).is_err());
    json["data"]["completed_investment"] = serde_json::json!(1.5);
    assert!(serde_json::from_value::<ProjectCommand>(json).is_err());
    let e = DomainError::invalid("completed_investment", Yuan::new(-1).unwrap_err());
    assert_eq!(
        (e.code, e.field),
        (ErrorCode::MoneyOutOfRange, "completed_investment")
    );
}

#[test]
fn rule1_area_has_at_most_four_decimals_and_counts_are_not_negative() {
    assert_eq!(
        Mu::parse("1.23456").unwrap_err().code,
        ErrorCode::AreaInvalid
    );
    assert_eq!(Mu::parse("-2").unwrap_err().code, ErrorCode::AreaInvalid);
    let mut json = serde_json::to_value(ProjectCommand::ReportExpropriationProgress(progress(
        date!(2025 - 05 - 31),
        "1",
        1,
        1,
    )))
    .unwrap();
    json["data"]["households_signed"] = serde_json::json!(-1);
    assert!(serde_json::from_value::<ProjectCommand>(json.clone()).is_err());
    json["data"]["households_signed"] = serde_json::json!(1);
    json["data"]["area_acquired"] = serde_json::json!("1.00001");
    assert!(serde_json::from_value::<ProjectCommand>(json).is_err());
}

// Rule 2: nothing in the future, one day of tolerance.

#[test]
fn rule2_business_dates_are_not_in_the_future() {
    let mut r = registered(ProjectKind::Government);
    r.date = date!(2026 - 11 - 22);
    refused(
        &Project::default(),
        ProjectCommand::Register(r.clone()),
        ErrorCode::DateInFuture,
        "date",
    );
    r.date = date!(2026 - 11 - 21);
    accept(Project::default(), ProjectCommand::Register(r));
    refused(
        &started_project(),
        ProjectCommand::ReportExpropriationProgress(progress(date!(2026 - 12 - 01), "1", 1, 1)),
        ErrorCode::DateInFuture,
        "as_of",
    );
    let item = SupervisionItem::fold(&supervision_events()[..1]);
    refused(
        &item,
        SupervisionCommand::SubmitFeedback(FeedbackSubmitted {
            unit: unit("xinan-town"),
            content: "x".into(),
            date: date!(2027 - 01 - 01),
        }),
        ErrorCode::DateInFuture,
        "date",
    );
}

#[test]
fn rule2_periods_are_not_in_the_future() {
    refused(
        &started_project(),
        ProjectCommand::ReportInvestment(reported("2026-12", 1, 1)),
        ErrorCode::PeriodInFuture,
        "period",
    );
    // The current month is reportable (clerks report around the 25th).
    accept(
        started_project(),
        ProjectCommand::ReportInvestment(reported("2026-11", 1, 1)),
    );
    let code = ProjectCodeAssigned {
        code: ProjectCode::parse("2701-610403-04-01-123456").unwrap(),
        route: ApprovalRoute::Filing,
        filed_total_investment: yuan(1),
        date: date!(2026 - 11 - 01),
    };
    refused(
        &started_project(),
        ProjectCommand::AssignProjectCode(code),
        ErrorCode::PeriodInFuture,
        "code",
    );
}

// Rule 3: signing and construction order.

#[test]
fn rule3_only_attracted_projects_sign() {
    for kind in [ProjectKind::Government, ProjectKind::Expansion] {
        refused(
            &registered_project(kind),
            ProjectCommand::SignAgreement(agreement(
                AgreementKind::Framework,
                date!(2025 - 04 - 01),
            )),
            ErrorCode::SigningOnlyForAttracted,
            "kind",
        );
    }
}

#[test]
fn rule3_construction_starts_after_the_formal_signing() {
    let lead = registered_project(ProjectKind::Attracted);
    let start = || ProjectCommand::StartConstruction(started(date!(2025 - 06 - 18)));
    refused(&lead, start(), ErrorCode::FormalContractRequired, "date");
    let framework = accept(
        lead,
        ProjectCommand::SignAgreement(agreement(AgreementKind::Framework, date!(2025 - 04 - 01))),
    );
    refused(
        &framework,
        start(),
        ErrorCode::FormalContractRequired,
        "date",
    );
    let signed = accept(
        framework,
        ProjectCommand::SignAgreement(agreement(AgreementKind::Formal, date!(2025 - 07 - 01))),
    );
    refused(
        &signed,
        start(),
        ErrorCode::ConstructionBeforeSigning,
        "date",
    );
    let started = accept(
        signed,
        ProjectCommand::StartConstruction(started(date!(2025 - 07 - 01))),
    );
    assert_eq!(started.stage(), ProjectStage::UnderConstruction);
    refused(
        &started,
        start(),
        ErrorCode::ConstructionAlreadyStarted,
        "date",
    );
}

#[test]
fn rule3_government_projects_start_without_signing() {
    let s = accept(
        registered_project(ProjectKind::Government),
        ProjectCommand::StartConstruction(started(date!(2025 - 06 - 18))),
    );
    assert_eq!(s.stage(), ProjectStage::UnderConstruction);
}

#[test]
fn rule3_completion_not_before_start() {
    let complete = |d| ProjectCommand::CompleteConstruction(ConstructionCompleted { date: d });
    refused(
        &registered_project(ProjectKind::Government),
        complete(date!(2026 - 01 - 01)),
        ErrorCode::ConstructionNotStarted,
        "date",
    );
    refused(
        &started_project(),
        complete(date!(2025 - 06 - 17)),
        ErrorCode::CompletionBeforeStart,
        "date",
    );
    let done = accept(started_project(), complete(date!(2025 - 06 - 18)));
    assert_eq!(done.stage(), ProjectStage::Completed);
}

#[test]
fn rule3_agreements_follow_each_other() {
    let signed = project(vec![
        registered(ProjectKind::Attracted).into(),
        agreement(AgreementKind::Formal, date!(2025 - 04 - 18)).into(),
    ]);
    let err = refused(
        &signed,
        ProjectCommand::SignAgreement(agreement(AgreementKind::Formal, date!(2025 - 05 - 01))),
        ErrorCode::FormalAlreadySigned,
        "kind",
    );
    assert!(err.hint.is_some());
    accept(
        signed,
        ProjectCommand::SignAgreement(agreement(AgreementKind::Supplement, date!(2025 - 05 - 01))),
    );
    let lead = registered_project(ProjectKind::Attracted);
    refused(
        &lead,
        ProjectCommand::SignAgreement(agreement(AgreementKind::Supplement, date!(2025 - 05 - 01))),
        ErrorCode::FormalContractRequired,
        "kind",
    );
    let mut a = agreement(AgreementKind::Formal, date!(2025 - 05 - 01));
    a.fixed_asset_investment = yuan(1_000_000_001);
    refused(
        &lead,
        ProjectCommand::SignAgreement(a),
        ErrorCode::FixedAssetExceedsContract,
        "fixed_asset_investment",
    );
    let mut a = agreement(AgreementKind::Formal, date!(2025 - 05 - 01));
    a.planned_completion = period("2025-05");
    refused(
        &lead,
        ProjectCommand::SignAgreement(a),
        ErrorCode::PlannedPeriodsOutOfOrder,
        "planned_completion",
    );
    let mut a = agreement(AgreementKind::Formal, date!(2025 - 05 - 01));
    a.planned_production = period("2025-05");
    refused(
        &lead,
        ProjectCommand::SignAgreement(a),
        ErrorCode::PlannedPeriodsOutOfOrder,
        "planned_production",
    );
}

#[test]
fn production_after_start_once() {
    let produce = |d, kind| ProjectCommand::StartProduction(ProductionStarted { date: d, kind });
    refused(
        &registered_project(ProjectKind::Expansion),
        produce(date!(2026 - 01 - 01), ProductionKind::Full),
        ErrorCode::ConstructionNotStarted,
        "date",
    );
    refused(
        &started_project(),
        produce(date!(2025 - 06 - 01), ProductionKind::Full),
        ErrorCode::ProductionBeforeStart,
        "date",
    );
    let partial = accept(
        started_project(),
        produce(date!(2026 - 01 - 01), ProductionKind::Partial),
    );
    assert_eq!(partial.stage(), ProjectStage::InProduction);
    refused(
        &partial,
        produce(date!(2026 - 02 - 01), ProductionKind::Partial),
        ErrorCode::ProductionAlreadyStarted,
        "kind",
    );
    let full = accept(
        partial,
        produce(date!(2026 - 03 - 01), ProductionKind::Full),
    );
    refused(
        &full,
        produce(date!(2026 - 04 - 01), ProductionKind::Full),
        ErrorCode::ProductionAlreadyStarted,
        "kind",
    );
}

// Rule 4: monthly investment reports.

#[test]
fn rule4_reports_only_after_the_start() {
    let signed = project(vec![
        registered(ProjectKind::Attracted).into(),
        agreement(AgreementKind::Formal, date!(2025 - 04 - 18)).into(),
    ]);
    refused(
        &signed,
        ProjectCommand::ReportInvestment(reported("2025-06", 1, 1)),
        ErrorCode::InvestmentBeforeStart,
        "period",
    );
    refused(
        &started_project(),
        ProjectCommand::ReportInvestment(reported("2025-05", 1, 1)),
        ErrorCode::PeriodBeforeStart,
        "period",
    );
    accept(
        started_project(),
        ProjectCommand::ReportInvestment(reported("2025-06", 1, 1)),
    );
}

#[test]
fn rule4_the_report_window_is_the_rule_decide_applies() {
    let p = |s: &str| domain::Period::parse(s).unwrap();
    let code = |r: Result<(), DomainError>| r.err().map(|e| e.code);
    let start = Some(date!(2025 - 06 - 10));
    let done = Some(date!(2025 - 09 - 30));
    assert_eq!(
        code(report_window(None, None, false, p("2025-06"))),
        Some(ErrorCode::InvestmentBeforeStart)
    );
    assert_eq!(
        code(report_window(start, None, false, p("2025-05"))),
        Some(ErrorCode::PeriodBeforeStart)
    );
    assert_eq!(code(report_window(start, None, false, p("2025-06"))), None);
    assert_eq!(code(report_window(start, done, false, p("2025-09"))), None);
    assert_eq!(
        code(report_window(start, done, false, p("2025-10"))),
        Some(ErrorCode::ProjectCompleted)
    );
    assert_eq!(
        code(report_window(start, None, true, p("2025-07"))),
        Some(ErrorCode::ProjectAbandoned)
    );
}

#[test]
fn rule4_once_per_period_with_a_hint_to_correct() {
    let s = accept(
        started_project(),
        ProjectCommand::ReportInvestment(reported("2025-07", 100, 50)),
    );
    let err = refused(
        &s,
        ProjectCommand::ReportInvestment(reported("2025-07", 200, 50)),
        ErrorCode::InvestmentAlreadyReported,
        "period",
    );
    let hint = err.hint.expect("a hint to correct instead");
    assert!(hint.en.contains("correct") && hint.zh.contains("更正"));
    assert_eq!(err.code.as_str(), "INVESTMENT_ALREADY_REPORTED");
}

#[test]
fn rule4_corrections_of_reported_periods_with_a_reason() {
    let s = accept(
        started_project(),
        ProjectCommand::ReportInvestment(reported("2025-07", 100, 50)),
    );
    let correction = |p: &str, completed, reason: &str| {
        ProjectCommand::CorrectInvestmentReport(InvestmentReportCorrected {
            period: period(p),
            completed_investment: yuan(completed),
            funds_in_place: yuan(50),
            reason: reason.into(),
            progress_narrative: None,
            problems: None,
        })
    };
    refused(
        &s,
        correction("2025-08", 120, "核实"),
        ErrorCode::PeriodNotReported,
        "period",
    );
    refused(
        &s,
        correction("2025-07", 120, " "),
        ErrorCode::ReasonRequired,
        "reason",
    );
    refused(
        &s,
        correction("2025-07", 100, "核实"),
        ErrorCode::CorrectionUnchanged,
        "completed_investment",
    );
    let corrected = accept(s, correction("2025-07", 120, "核实"));
    assert_eq!(corrected.cumulative_investment(), 120);
}

#[test]
fn rule4_the_narrative_is_optional_text_and_correctable_alone() {
    let with = |progress: Option<&str>, problems: Option<&str>| InvestmentReported {
        progress_narrative: progress.map(Into::into),
        problems: problems.map(Into::into),
        ..reported("2025-07", 100, 50)
    };
    refused(
        &started_project(),
        ProjectCommand::ReportInvestment(with(Some("  "), None)),
        ErrorCode::TextRequired,
        "progress_narrative",
    );
    refused(
        &started_project(),
        ProjectCommand::ReportInvestment(with(None, Some(&"问".repeat(2001)))),
        ErrorCode::TextTooLong,
        "problems",
    );
    let s = accept(
        started_project(),
        ProjectCommand::ReportInvestment(with(Some("基础施工"), Some("用地未交付"))),
    );
    assert_eq!(
        s.investment[&period("2025-07")]
            .progress_narrative
            .as_deref(),
        Some("基础施工")
    );
    let narrative_only = |progress: &str| {
        ProjectCommand::CorrectInvestmentReport(InvestmentReportCorrected {
            period: period("2025-07"),
            completed_investment: yuan(100),
            funds_in_place: yuan(50),
            reason: "补充形象进度".into(),
            progress_narrative: Some(progress.into()),
            problems: Some("用地未交付".into()),
        })
    };
    refused(
        &s,
        narrative_only("基础施工"),
        ErrorCode::CorrectionUnchanged,
        "completed_investment",
    );
    let s = accept(s, narrative_only("主体封顶"));
    let month = &s.investment[&period("2025-07")];
    assert_eq!(month.progress_narrative.as_deref(), Some("主体封顶"));
    assert_eq!(month.completed_investment, yuan(100));
}

// Rule 5: expropriation.

#[test]
fn rule5_expropriation_is_cumulative() {
    let s = accept(
        started_project(),
        ProjectCommand::ReportExpropriationProgress(progress(date!(2025 - 07 - 31), "100", 20, 10)),
    );
    refused(
        &s,
        ProjectCommand::ReportExpropriationProgress(progress(
            date!(2025 - 08 - 31),
            "99.9999",
            20,
            10,
        )),
        ErrorCode::ExpropriationDecreased,
        "area_acquired",
    );
    refused(
        &s,
        ProjectCommand::ReportExpropriationProgress(progress(date!(2025 - 08 - 31), "100", 19, 10)),
        ErrorCode::ExpropriationDecreased,
        "households_signed",
    );
    let mut p = progress(date!(2025 - 08 - 31), "100", 20, 10);
    p.compensation_paid = yuan(1);
    refused(
        &s,
        ProjectCommand::ReportExpropriationProgress(p),
        ErrorCode::ExpropriationDecreased,
        "compensation_paid",
    );
    refused(
        &s,
        ProjectCommand::ReportExpropriationProgress(progress(date!(2025 - 07 - 30), "101", 20, 10)),
        ErrorCode::AsOfBeforePrevious,
        "as_of",
    );
    accept(
        s,
        ProjectCommand::ReportExpropriationProgress(progress(date!(2025 - 08 - 31), "100", 20, 10)),
    );
}

#[test]
fn rule5_relocated_at_most_signed() {
    refused(
        &started_project(),
        ProjectCommand::ReportExpropriationProgress(progress(date!(2025 - 07 - 31), "100", 10, 11)),
        ErrorCode::RelocatedExceedsSigned,
        "households_relocated",
    );
}

// Rule 6: abandoned and completed projects.

#[test]
fn rule6_abandoned_projects_accept_nothing() {
    let s = accept(
        started_project(),
        ProjectCommand::Abandon(ProjectAbandoned {
            reason: "退出".into(),
            date: date!(2026 - 01 - 01),
        }),
    );
    assert_eq!(s.status, Some(ProjectStatus::Abandoned));
    for cmd in [
        ProjectCommand::ReportInvestment(reported("2025-07", 1, 1)),
        ProjectCommand::ChangeStatus(StatusChanged {
            status: ProjectStatus::Active,
            reason: "恢复".into(),
            date: date!(2026 - 02 - 01),
        }),
        ProjectCommand::Abandon(ProjectAbandoned {
            reason: "again".into(),
            date: date!(2026 - 02 - 01),
        }),
    ] {
        refused(&s, cmd, ErrorCode::ProjectAbandoned, "project_id");
    }
}

#[test]
fn rule6_completed_projects_accept_production_final_reports_and_corrections() {
    let done = completed_project();
    refused(
        &done,
        ProjectCommand::ChangeStatus(StatusChanged {
            status: ProjectStatus::Delayed,
            reason: "x".into(),
            date: date!(2026 - 09 - 01),
        }),
        ErrorCode::ProjectCompleted,
        "project_id",
    );
    refused(
        &done,
        ProjectCommand::DeliverLand(LandDelivered {
            parcel_no: "P1".into(),
            area: mu("1"),
            date: date!(2026 - 09 - 01),
        }),
        ErrorCode::ProjectCompleted,
        "project_id",
    );
    refused(
        &done,
        ProjectCommand::ReportInvestment(reported("2026-09", 1, 1)),
        ErrorCode::ProjectCompleted,
        "period",
    );
    let s = accept(
        done,
        ProjectCommand::ReportInvestment(reported("2026-08", 10, 10)),
    );
    let s = accept(
        s,
        ProjectCommand::CorrectInvestmentReport(InvestmentReportCorrected {
            period: period("2026-08"),
            completed_investment: yuan(11),
            funds_in_place: yuan(10),
            reason: "更正".into(),
            progress_narrative: None,
            problems: None,
        }),
    );
    accept(
        s,
        ProjectCommand::StartProduction(ProductionStarted {
            date: date!(2026 - 09 - 15),
            kind: ProductionKind::Full,
        }),
    );
}

// Rule 7: codes.

#[test]
fn rule7_project_code_format_and_one_per_project() {
    assert_eq!(
        ProjectCode::parse("2025-610403-04-01-123456")
            .unwrap_err()
            .code,
        ErrorCode::ProjectCodeInvalid
    );
    assert_eq!(
        ProjectCode::parse("2019-610403-04-01-12345")
            .unwrap_err()
            .code,
        ErrorCode::ProjectCodeInvalid
    );
    let assign = |code: &str| {
        ProjectCommand::AssignProjectCode(ProjectCodeAssigned {
            code: ProjectCode::parse(code).unwrap(),
            route: ApprovalRoute::Approval,
            filed_total_investment: yuan(100),
            date: date!(2025 - 05 - 12),
        })
    };
    // Uniqueness across projects is the command handler's reservation of this key.
    let keys = Project::unique_keys(&assign("2019-610403-04-01-123456"));
    assert_eq!(keys.len(), 1);
    assert_eq!(
        (keys[0].kind, keys[0].key.as_str()),
        ("projectcode", "2019-610403-04-01-123456")
    );
    let s = accept(started_project(), assign("2019-610403-04-01-123456"));
    refused(
        &s,
        assign("2505-610403-04-01-000001"),
        ErrorCode::ProjectCodeAlreadyAssigned,
        "code",
    );
    assert!(
        Project::unique_keys(&ProjectCommand::ReportInvestment(reported("2025-07", 1, 1)))
            .is_empty()
    );
}

#[test]
fn rule7_credit_code_check_character() {
    assert_eq!(
        Uscc::parse("91350100M000100Y42").unwrap_err().code,
        ErrorCode::UsccInvalid
    );
    let mut json = serde_json::to_value(ProjectCommand::RegisterCompany(CompanyRegistered {
        credit_code: Uscc::parse("91350100M000100Y43").unwrap(),
        company_name: "x".into(),
        registered_capital: yuan(1),
        date: date!(2025 - 05 - 06),
    }))
    .unwrap();
    json["data"]["credit_code"] = serde_json::json!("91350100M000100Y42");
    assert!(serde_json::from_value::<ProjectCommand>(json).is_err());
}

// Rule 8: supervision.

fn opened_item() -> SupervisionItem {
    SupervisionItem::fold(&supervision_events()[..1])
}

fn feedback(u: &str) -> SupervisionCommand {
    SupervisionCommand::SubmitFeedback(FeedbackSubmitted {
        unit: unit(u),
        content: "进展".into(),
        date: date!(2026 - 05 - 20),
    })
}

fn request_closure() -> SupervisionCommand {
    SupervisionCommand::RequestClosure(ClosureRequested {
        summary: "完成".into(),
        date: date!(2026 - 05 - 21),
    })
}

fn close() -> SupervisionCommand {
    SupervisionCommand::Close(ItemClosed {
        note: None,
        date: date!(2026 - 05 - 22),
    })
}

#[test]
fn rule8_closed_only_after_feedback() {
    let item = opened_item();
    refused(&item, close(), ErrorCode::FeedbackRequired, "item_id");
    refused(
        &item,
        request_closure(),
        ErrorCode::FeedbackRequired,
        "item_id",
    );
    let with_feedback = accept(item, feedback("natural-resources"));
    refused(
        &with_feedback,
        close(),
        ErrorCode::ClosureNotRequested,
        "item_id",
    );
    let requested = accept(with_feedback, request_closure());
    refused(
        &requested,
        request_closure(),
        ErrorCode::ClosureAlreadyRequested,
        "item_id",
    );
    let closed = accept(requested, close());
    assert_eq!(closed.status, Some(SupervisionStatus::Closed));
}

#[test]
fn rule8_extension_needs_a_later_deadline_and_a_reason() {
    let extend = |d, reason: &str| {
        SupervisionCommand::ExtendDeadline(DeadlineExtended {
            deadline: d,
            reason: reason.into(),
            date: date!(2026 - 06 - 01),
        })
    };
    let item = opened_item();
    refused(
        &item,
        extend(date!(2026 - 06 - 30), "需要时间"),
        ErrorCode::DeadlineNotLater,
        "deadline",
    );
    refused(
        &item,
        extend(date!(2026 - 07 - 31), ""),
        ErrorCode::ReasonRequired,
        "reason",
    );
    let extended = accept(item, extend(date!(2026 - 07 - 31), "需要时间"));
    assert_eq!(extended.deadline, Some(date!(2026 - 07 - 31)));
}

#[test]
fn closed_items_accept_only_accountability() {
    let closed = [feedback("xinan-town"), request_closure(), close()]
        .into_iter()
        .fold(opened_item(), accept);
    refused(
        &closed,
        feedback("xinan-town"),
        ErrorCode::SupervisionItemClosed,
        "item_id",
    );
    refused(
        &closed,
        request_closure(),
        ErrorCode::SupervisionItemClosed,
        "item_id",
    );
    accept(
        closed,
        SupervisionCommand::RecordAccountability(AccountabilityRecorded {
            kind: AccountabilityKind::Notice,
            subject: "某局".into(),
            reason: "逾期".into(),
            date: date!(2026 - 06 - 01),
        }),
    );
}

#[test]
fn returned_closures_reopen_the_item() {
    let requested = [feedback("xinan-town"), request_closure()]
        .into_iter()
        .fold(opened_item(), accept);
    let ret = |reason: &str| {
        SupervisionCommand::ReturnClosure(ClosureReturned {
            reason: reason.into(),
            date: date!(2026 - 05 - 22),
        })
    };
    refused(&requested, ret(""), ErrorCode::ReasonRequired, "reason");
    let reopened = accept(requested, ret("材料不全"));
    assert_eq!(reopened.status, Some(SupervisionStatus::Open));
    refused(
        &reopened,
        ret("again"),
        ErrorCode::ClosureNotRequested,
        "item_id",
    );
}

#[test]
fn supervision_items_open_once_with_sound_units() {
    let SupervisionEvent::SupervisionItemOpened(opened) = supervision_events()[0].clone() else {
        unreachable!()
    };
    refused(
        &opened_item(),
        SupervisionCommand::Open(opened.clone()),
        ErrorCode::SupervisionItemAlreadyOpened,
        "item_id",
    );
    refused(
        &SupervisionItem::default(),
        feedback("xinan-town"),
        ErrorCode::SupervisionItemNotFound,
        "item_id",
    );
    let mut bad = opened.clone();
    bad.co_units = vec![bad.lead_unit.clone()];
    refused(
        &SupervisionItem::default(),
        SupervisionCommand::Open(bad),
        ErrorCode::CoUnitInvalid,
        "co_units",
    );
    let mut bad = opened.clone();
    bad.deadline = date!(2026 - 05 - 01);
    refused(
        &SupervisionItem::default(),
        SupervisionCommand::Open(bad),
        ErrorCode::DeadlineNotLater,
        "deadline",
    );
    refused(
        &opened_item(),
        feedback("other-unit"),
        ErrorCode::UnitNotInvolved,
        "unit",
    );
}

// Rule 9: an actor on every command, for every aggregate.

#[test]
fn rule9_every_command_carries_an_actor() {
    let nobody = Context::new(TODAY, " ");
    let code = ErrorCode::ActorRequired;
    refused_in(
        &Project::default(),
        ProjectCommand::Register(registered(ProjectKind::Attracted)),
        &nobody,
        code,
        "actor",
    );
    refused_in(
        &started_project(),
        ProjectCommand::ReportInvestment(reported("2025-07", 1, 1)),
        &nobody,
        code,
        "actor",
    );
    let UnitEvent::UnitCreated(created) = unit_events()[0].clone() else {
        unreachable!()
    };
    refused_in(
        &Unit::default(),
        UnitCommand::Create(created),
        &nobody,
        code,
        "actor",
    );
    let TargetsEvent::TargetSet(target) = targets_events()[0].clone() else {
        unreachable!()
    };
    refused_in(
        &Targets::default(),
        TargetsCommand::Set(target),
        &nobody,
        code,
        "actor",
    );
    refused_in(
        &opened_item(),
        feedback("xinan-town"),
        &nobody,
        code,
        "actor",
    );
    let RulesEvent::LightBandsSet(bands) = rules_events()[0].clone() else {
        unreachable!()
    };
    refused_in(
        &RuleSettings::default(),
        RulesCommand::SetLightBands(bands),
        &nobody,
        code,
        "actor",
    );
}

// The obvious ones.

#[test]
fn register_once_and_only_registered_projects_take_commands() {
    let s = registered_project(ProjectKind::Attracted);
    assert_eq!(s.stage(), ProjectStage::Lead);
    refused(
        &s,
        ProjectCommand::Register(registered(ProjectKind::Attracted)),
        ErrorCode::ProjectAlreadyRegistered,
        "project_id",
    );
    refused(
        &Project::default(),
        ProjectCommand::ReportInvestment(reported("2025-07", 1, 1)),
        ErrorCode::ProjectNotFound,
        "project_id",
    );
    let mut r = registered(ProjectKind::Attracted);
    r.name = " ".into();
    refused(
        &Project::default(),
        ProjectCommand::Register(r),
        ErrorCode::TextRequired,
        "name",
    );
}

#[test]
fn stage_follows_milestones() {
    let s = registered_project(ProjectKind::Attracted);
    let contact = |kind| {
        ProjectCommand::LogContact(ContactLogged {
            kind,
            date: date!(2025 - 03 - 10),
            leader_level: "县级".into(),
            summary: "x".into(),
        })
    };
    let s = accept(s, contact(ContactKind::Visit));
    assert_eq!(s.stage(), ProjectStage::Lead);
    let s = accept(s, contact(ContactKind::Negotiation));
    assert_eq!(s.stage(), ProjectStage::Negotiating);
    let s = accept(
        s,
        ProjectCommand::SignAgreement(agreement(AgreementKind::Framework, date!(2025 - 04 - 01))),
    );
    assert_eq!(s.stage(), ProjectStage::FrameworkSigned);
    let s = accept(
        s,
        ProjectCommand::SignAgreement(agreement(AgreementKind::Formal, date!(2025 - 04 - 18))),
    );
    assert_eq!(s.stage(), ProjectStage::Contracted);
    assert_eq!(s.planned_start(), Some(period("2025-06")));
}

#[test]
fn status_changes_carry_a_reason_and_change_something() {
    let s = registered_project(ProjectKind::Attracted);
    let change = |status, reason: &str| {
        ProjectCommand::ChangeStatus(StatusChanged {
            status,
            reason: reason.into(),
            date: date!(2025 - 05 - 01),
        })
    };
    refused(
        &s,
        change(ProjectStatus::Active, "x"),
        ErrorCode::StatusUnchanged,
        "status",
    );
    refused(
        &s,
        change(ProjectStatus::Delayed, ""),
        ErrorCode::ReasonRequired,
        "reason",
    );
    let err = refused(
        &s,
        change(ProjectStatus::Abandoned, "x"),
        ErrorCode::StatusNotAllowed,
        "status",
    );
    assert!(err.hint.is_some());
    refused(
        &s,
        ProjectCommand::Abandon(ProjectAbandoned {
            reason: "".into(),
            date: date!(2025 - 05 - 01),
        }),
        ErrorCode::ReasonRequired,
        "reason",
    );
    let dormant = accept(s, change(ProjectStatus::Dormant, "投资方暂停"));
    assert_eq!(dormant.status, Some(ProjectStatus::Dormant));
}

#[test]
fn annual_plans_original_once_then_revised_with_a_reason() {
    let plan = |year, kind, reason: Option<&str>, start: Option<&str>| {
        ProjectCommand::SetAnnualPlan(AnnualPlanSet {
            year,
            planned_investment: yuan(300_000_000),
            planned_start_month: start.map(period),
            kind,
            reason: reason.map(Into::into),
        })
    };
    let s = registered_project(ProjectKind::Government);
    refused(
        &s,
        plan(2026, PlanKind::Revised, Some("调整"), None),
        ErrorCode::AnnualPlanNotSet,
        "year",
    );
    refused(
        &s,
        plan(2026, PlanKind::Original, None, Some("2025-03")),
        ErrorCode::PlannedStartOutsideYear,
        "planned_start_month",
    );
    refused(
        &s,
        plan(2028, PlanKind::Original, None, None),
        ErrorCode::YearOutOfRange,
        "year",
    );
    let s = accept(s, plan(2026, PlanKind::Original, None, Some("2026-03")));
    let err = refused(
        &s,
        plan(2026, PlanKind::Original, None, None),
        ErrorCode::AnnualPlanAlreadySet,
        "year",
    );
    assert!(err.hint.is_some());
    refused(
        &s,
        plan(2026, PlanKind::Revised, None, None),
        ErrorCode::ReasonRequired,
        "reason",
    );
    let s = accept(
        s,
        plan(2026, PlanKind::Revised, Some("资金调整"), Some("2026-05")),
    );
    assert_eq!(s.planned_start(), Some(period("2026-05")));
    // Next year's plan is set in December of this one.
    accept(s, plan(2027, PlanKind::Original, None, None));
}

#[test]
fn company_parcels_and_responsibility() {
    let s = started_project();
    let company = CompanyRegistered {
        credit_code: Uscc::parse("91350100M000100Y43").unwrap(),
        company_name: "某公司".into(),
        registered_capital: yuan(1),
        date: date!(2025 - 05 - 06),
    };
    let s = accept(s, ProjectCommand::RegisterCompany(company.clone()));
    refused(
        &s,
        ProjectCommand::RegisterCompany(company),
        ErrorCode::CompanyAlreadyRegistered,
        "credit_code",
    );
    let parcel = LandDelivered {
        parcel_no: "XA-1".into(),
        area: mu("10.5"),
        date: date!(2025 - 06 - 05),
    };
    let s = accept(s, ProjectCommand::DeliverLand(parcel.clone()));
    refused(
        &s,
        ProjectCommand::DeliverLand(parcel),
        ErrorCode::ParcelAlreadyDelivered,
        "parcel_no",
    );
    assert_eq!(s.land_delivered, mu("10.5"));
    let same = ResponsibilityAssigned {
        responsible_unit: unit("dev-zone"),
        lead_official: "王副县长".into(),
        date: date!(2025 - 07 - 01),
    };
    refused(
        &s,
        ProjectCommand::AssignResponsibility(same.clone()),
        ErrorCode::ResponsibilityUnchanged,
        "responsible_unit",
    );
    let moved = accept(
        s,
        ProjectCommand::AssignResponsibility(ResponsibilityAssigned {
            responsible_unit: unit("xinan-town"),
            ..same
        }),
    );
    assert_eq!(moved.responsible_unit, Some(unit("xinan-town")));
}

#[test]
fn units_are_created_once_and_renamed_with_a_reason() {
    let [
        UnitEvent::UnitCreated(created),
        UnitEvent::UnitRenamed(renamed),
    ] = <[UnitEvent; 2]>::try_from(unit_events()).unwrap()
    else {
        unreachable!()
    };
    refused(
        &Unit::default(),
        UnitCommand::Rename(renamed.clone()),
        ErrorCode::UnitNotFound,
        "unit_id",
    );
    let u = accept(Unit::default(), UnitCommand::Create(created.clone()));
    refused(
        &u,
        UnitCommand::Create(created.clone()),
        ErrorCode::UnitAlreadyExists,
        "unit_id",
    );
    refused(
        &u,
        UnitCommand::Rename(UnitRenamed {
            name: created.name.clone(),
            ..renamed.clone()
        }),
        ErrorCode::NameUnchanged,
        "name",
    );
    refused(
        &u,
        UnitCommand::Rename(UnitRenamed {
            reason: "".into(),
            ..renamed.clone()
        }),
        ErrorCode::ReasonRequired,
        "reason",
    );
    assert_eq!(
        accept(u, UnitCommand::Rename(renamed)).name.as_deref(),
        Some("新安街道")
    );
}

#[test]
fn targets_set_once_then_revised_in_the_metric_unit() {
    let set = |metric, value| {
        TargetsCommand::Set(TargetSet {
            year: 2026,
            scope: TargetScope::Unit(unit("xinan-town")),
            metric,
            value,
        })
    };
    let t = Targets::default();
    refused(
        &t,
        set(TargetMetric::SignedProjects, TargetValue::Yuan(yuan(5))),
        ErrorCode::TargetUnitMismatch,
        "value",
    );
    refused(
        &t,
        set(TargetMetric::ExpropriatedArea, TargetValue::Count(5)),
        ErrorCode::TargetUnitMismatch,
        "value",
    );
    let revise = |value, reason: &str| {
        TargetsCommand::Revise(TargetRevised {
            year: 2026,
            scope: TargetScope::Unit(unit("xinan-town")),
            metric: TargetMetric::SignedProjects,
            value,
            reason: reason.into(),
        })
    };
    refused(
        &t,
        revise(TargetValue::Count(6), "调整"),
        ErrorCode::TargetNotSet,
        "metric",
    );
    let t = accept(t, set(TargetMetric::SignedProjects, TargetValue::Count(5)));
    let err = refused(
        &t,
        set(TargetMetric::SignedProjects, TargetValue::Count(6)),
        ErrorCode::TargetAlreadySet,
        "metric",
    );
    assert!(err.hint.is_some());
    refused(
        &t,
        revise(TargetValue::Count(6), ""),
        ErrorCode::ReasonRequired,
        "reason",
    );
    let t = accept(t, revise(TargetValue::Count(6), "年中调整"));
    let other_year = TargetsCommand::Set(TargetSet {
        year: 2025,
        scope: TargetScope::County,
        metric: TargetMetric::SignedProjects,
        value: TargetValue::Count(1),
    });
    refused(&t, other_year, ErrorCode::TargetYearMismatch, "year");
    for metric in TargetMetric::ALL {
        let value = [
            TargetValue::Yuan(yuan(1)),
            TargetValue::Count(1),
            TargetValue::Mu(mu("1")),
        ]
        .into_iter()
        .find(|v| metric.accepts(v))
        .expect("every metric has a unit");
        accept(
            Targets::default(),
            TargetsCommand::Set(TargetSet {
                year: 2026,
                scope: TargetScope::County,
                metric,
                value,
            }),
        );
    }
}

#[test]
fn rule_settings_stay_coherent() {
    let s = RuleSettings::default();
    assert_eq!((s.bands.green_min_gap, s.bands.yellow_min_gap), (-10, -30));
    assert_eq!(s.ranking.weights.len(), 8);
    let RulesEvent::LightBandsSet(bands) = rules_events()[0].clone() else {
        unreachable!()
    };
    let mut bad = bands.clone();
    bad.bands.yellow_min_gap = bad.bands.green_min_gap;
    refused(
        &s,
        RulesCommand::SetLightBands(bad),
        ErrorCode::LightBandsInvalid,
        "yellow_min_gap",
    );
    let mut bad = bands.clone();
    bad.bands.start_red_months = bad.bands.start_yellow_months;
    refused(
        &s,
        RulesCommand::SetLightBands(bad),
        ErrorCode::LightBandsInvalid,
        "start_red_months",
    );
    refused(
        &s,
        RulesCommand::SetLightBands(LightBandsSet {
            reason: "".into(),
            ..bands.clone()
        }),
        ErrorCode::ReasonRequired,
        "reason",
    );
    let s = accept(s, RulesCommand::SetLightBands(bands));
    assert_eq!(s.bands.green_min_gap, -5);
    let RulesEvent::RankingWeightsSet(weights) = rules_events()[1].clone() else {
        unreachable!()
    };
    let mut bad = weights.clone();
    bad.ranking.weights.values_mut().for_each(|w| *w = 0);
    refused(
        &s,
        RulesCommand::SetRankingWeights(bad),
        ErrorCode::RankingWeightsInvalid,
        "weights",
    );
    let mut bad = weights.clone();
    bad.ranking.completion_cap = 0;
    refused(
        &s,
        RulesCommand::SetRankingWeights(bad),
        ErrorCode::RankingWeightsInvalid,
        "completion_cap",
    );
    accept(s, RulesCommand::SetRankingWeights(weights));
}
