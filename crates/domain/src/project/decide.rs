//! The rules of a project (DOMAIN.md, Rules 2–7): a command is refused with the first rule it
//! breaks, or becomes exactly one event.

use super::commands::ProjectCommand;
use super::events::*;
use super::state::Project;
use crate::codes::CodeIssued;
use crate::context::Context;
use crate::error::{DomainError, ErrorCode, require_text};
use crate::period::{Period, not_in_future, period_not_in_future, plausible_year};

fn fail<T>(code: ErrorCode, field: &'static str, en: String, zh: String) -> Result<T, DomainError> {
    Err(DomainError::new(code, field, en, zh))
}

/// Decide a command against the project's state. Rule 9 (an actor) is checked first.
pub fn decide(
    s: &Project,
    cmd: &ProjectCommand,
    ctx: &Context,
) -> Result<Vec<ProjectEvent>, DomainError> {
    ctx.require_actor()?;
    lifecycle_guard(s, cmd)?;
    if let Some((field, date)) = business_date(cmd) {
        not_in_future(field, date, ctx.today)?;
    }
    use ProjectCommand as C;
    let event: ProjectEvent = match cmd {
        C::Register(c) => {
            for (field, text) in [
                ("name", &c.name),
                ("investor_name", &c.investor_name),
                ("industry_chain", &c.industry_chain),
                ("lead_official", &c.lead_official),
            ] {
                require_text(field, text)?;
            }
            c.clone().into()
        }
        C::LogContact(c) => {
            require_text("leader_level", &c.leader_level)?;
            require_text("summary", &c.summary)?;
            c.clone().into()
        }
        C::SignAgreement(c) => sign(s, c)?.into(),
        C::RegisterCompany(c) => {
            if s.company.is_some() {
                return fail(
                    ErrorCode::CompanyAlreadyRegistered,
                    "credit_code",
                    "the project's company is already registered".into(),
                    "该项目已登记注册公司".into(),
                );
            }
            require_text("company_name", &c.company_name)?;
            c.clone().into()
        }
        C::AssignProjectCode(c) => {
            if let Some(code) = &s.code {
                return fail(
                    ErrorCode::ProjectCodeAlreadyAssigned,
                    "code",
                    format!("the project already has the national project code {code}"),
                    format!("该项目已有项目代码 {code}"),
                );
            }
            let issued = match c.code.issued() {
                Some(CodeIssued::YearMonth(y, m)) => Period::new(y, m).ok(),
                Some(CodeIssued::LegacyYear(y)) => Period::new(y, 1).ok(),
                None => None,
            };
            if let Some(p) = issued {
                period_not_in_future("code", p, ctx.today)?;
            }
            c.clone().into()
        }
        C::RecordApproval(c) => {
            require_text("document_no", &c.document_no)?;
            c.clone().into()
        }
        C::SetAnnualPlan(c) => annual_plan(s, c, ctx)?.into(),
        C::SetExpropriationTarget(c) => {
            require_text("township", &c.township)?;
            c.clone().into()
        }
        C::ReportExpropriationProgress(c) => expropriation(s, c)?.into(),
        C::DeliverLand(c) => {
            require_text("parcel_no", &c.parcel_no)?;
            if s.parcels_delivered.contains(&c.parcel_no) {
                return fail(
                    ErrorCode::ParcelAlreadyDelivered,
                    "parcel_no",
                    format!("parcel {} was already delivered", c.parcel_no),
                    format!("地块 {} 已交地", c.parcel_no),
                );
            }
            c.clone().into()
        }
        C::StartConstruction(c) => start(s, c)?.into(),
        C::ReportInvestment(c) => report(s, c, ctx)?.into(),
        C::CorrectInvestmentReport(c) => correct(s, c)?.into(),
        C::CompleteConstruction(c) => {
            let started = started_on(s, "date")?;
            if c.date < started {
                return fail(
                    ErrorCode::CompletionBeforeStart,
                    "date",
                    format!(
                        "completion {} is before the construction start {started}",
                        c.date
                    ),
                    format!("竣工日期 {} 早于开工日期 {started}", c.date),
                );
            }
            c.clone().into()
        }
        C::StartProduction(c) => production(s, c)?.into(),
        C::ChangeStatus(c) => {
            if c.status == ProjectStatus::Abandoned {
                return Err(DomainError::new(
                    ErrorCode::StatusNotAllowed,
                    "status",
                    "a project is abandoned with its own command, not by a status change",
                    "终止项目须使用“项目终止”操作，不能直接修改状态",
                )
                .with_hint("use Abandon", "请使用终止项目"));
            }
            if s.status == Some(c.status) {
                return fail(
                    ErrorCode::StatusUnchanged,
                    "status",
                    format!("the project is already {:?}", c.status),
                    "项目已是该状态".into(),
                );
            }
            require_text("reason", &c.reason)?;
            c.clone().into()
        }
        C::Abandon(c) => {
            require_text("reason", &c.reason)?;
            c.clone().into()
        }
        C::AssignResponsibility(c) => {
            require_text("lead_official", &c.lead_official)?;
            if s.responsible_unit.as_ref() == Some(&c.responsible_unit)
                && s.lead_official.as_deref() == Some(c.lead_official.as_str())
            {
                return fail(
                    ErrorCode::ResponsibilityUnchanged,
                    "responsible_unit",
                    "the unit and the lead official are already responsible".into(),
                    "责任单位和包抓领导未变化".into(),
                );
            }
            c.clone().into()
        }
    };
    Ok(vec![event])
}

/// Existence and rule 6: an abandoned project accepts nothing; a completed one only production,
/// final investment reports and corrections.
fn lifecycle_guard(s: &Project, cmd: &ProjectCommand) -> Result<(), DomainError> {
    use ProjectCommand as C;
    match (s.is_registered(), cmd) {
        (true, C::Register(_)) => {
            return fail(
                ErrorCode::ProjectAlreadyRegistered,
                "project_id",
                "the project is already registered".into(),
                "项目已登记".into(),
            );
        }
        (false, C::Register(_)) => return Ok(()),
        (false, _) => {
            return fail(
                ErrorCode::ProjectNotFound,
                "project_id",
                "no project is registered under this id".into(),
                "该项目不存在".into(),
            );
        }
        (true, _) => {}
    }
    if s.status == Some(ProjectStatus::Abandoned) {
        return fail(
            ErrorCode::ProjectAbandoned,
            "project_id",
            "the project is abandoned and accepts no further changes".into(),
            "项目已终止，不能再变更".into(),
        );
    }
    let allowed_when_completed = matches!(
        cmd,
        C::StartProduction(_) | C::ReportInvestment(_) | C::CorrectInvestmentReport(_)
    );
    if let Some(done) = s.completed_on
        && !allowed_when_completed
    {
        return fail(
            ErrorCode::ProjectCompleted,
            "project_id",
            format!(
                "the project was completed on {done}; only production, final investment reports and corrections are accepted"
            ),
            format!("项目已于 {done} 竣工，只能登记投产、最终投资报表和更正"),
        );
    }
    Ok(())
}

/// The business date of a command, checked against rule 2. Deadlines, plans and targets look
/// ahead and are not business dates.
fn business_date(cmd: &ProjectCommand) -> Option<(&'static str, time::Date)> {
    use ProjectCommand as C;
    let date = match cmd {
        C::Register(c) => c.date,
        C::LogContact(c) => c.date,
        C::SignAgreement(c) => c.date,
        C::RegisterCompany(c) => c.date,
        C::AssignProjectCode(c) => c.date,
        C::RecordApproval(c) => c.date,
        C::ReportExpropriationProgress(c) => return Some(("as_of", c.as_of)),
        C::DeliverLand(c) => c.date,
        C::StartConstruction(c) => c.date,
        C::CompleteConstruction(c) => c.date,
        C::StartProduction(c) => c.date,
        C::ChangeStatus(c) => c.date,
        C::Abandon(c) => c.date,
        C::AssignResponsibility(c) => c.date,
        C::SetAnnualPlan(_)
        | C::SetExpropriationTarget(_)
        | C::ReportInvestment(_)
        | C::CorrectInvestmentReport(_) => {
            return None;
        }
    };
    Some(("date", date))
}

/// Rule 3: signing is for attracted projects; formal once, supplements after it.
fn sign(s: &Project, c: &AgreementSigned) -> Result<AgreementSigned, DomainError> {
    if s.kind() != Some(ProjectKind::Attracted) {
        return fail(
            ErrorCode::SigningOnlyForAttracted,
            "kind",
            "only attracted (招商引资) projects sign agreements".into(),
            "只有招商引资项目才能签约".into(),
        );
    }
    match (c.kind, s.formal_signed_on) {
        (AgreementKind::Framework | AgreementKind::Formal, Some(on)) => {
            return Err(DomainError::new(
                ErrorCode::FormalAlreadySigned,
                "kind",
                format!("the formal contract was signed on {on}"),
                format!("正式合同已于 {on} 签订"),
            )
            .with_hint("record a supplement agreement instead", "请登记补充协议"));
        }
        (AgreementKind::Supplement, None) => {
            return fail(
                ErrorCode::FormalContractRequired,
                "kind",
                "a supplement agreement needs a formal contract first".into(),
                "须先签订正式合同才能登记补充协议".into(),
            );
        }
        _ => {}
    }
    if c.fixed_asset_investment > c.contract_investment {
        return fail(
            ErrorCode::FixedAssetExceedsContract,
            "fixed_asset_investment",
            "fixed-asset investment exceeds the contract investment".into(),
            "固定资产投资不能超过合同投资额".into(),
        );
    }
    if c.planned_completion < c.planned_start {
        return fail(
            ErrorCode::PlannedPeriodsOutOfOrder,
            "planned_completion",
            "planned completion is before the planned start".into(),
            "计划竣工早于计划开工".into(),
        );
    }
    if c.planned_production < c.planned_start {
        return fail(
            ErrorCode::PlannedPeriodsOutOfOrder,
            "planned_production",
            "planned production is before the planned start".into(),
            "计划投产早于计划开工".into(),
        );
    }
    Ok(c.clone())
}

/// Annual plans: one original per year, then revisions with a reason.
fn annual_plan(
    s: &Project,
    c: &AnnualPlanSet,
    ctx: &Context,
) -> Result<AnnualPlanSet, DomainError> {
    plausible_year("year", c.year, ctx.today)?;
    if let Some(m) = c.planned_start_month
        && m.year() != c.year
    {
        return fail(
            ErrorCode::PlannedStartOutsideYear,
            "planned_start_month",
            format!(
                "the planned start month {m} is not in the plan's year {}",
                c.year
            ),
            format!("计划开工月份 {m} 不在计划年度 {} 内", c.year),
        );
    }
    let exists = s.annual_plans.contains_key(&c.year);
    match c.kind {
        PlanKind::Original if exists => {
            return Err(DomainError::new(
                ErrorCode::AnnualPlanAlreadySet,
                "year",
                format!("the annual plan for {} is already set", c.year),
                format!("{} 年度计划已下达", c.year),
            )
            .with_hint(
                "revise it, with a reason",
                "请以调整计划的方式修改并说明原因",
            ));
        }
        PlanKind::Revised if !exists => {
            return fail(
                ErrorCode::AnnualPlanNotSet,
                "year",
                format!("there is no annual plan for {} to revise", c.year),
                format!("{} 年度尚无计划，无法调整", c.year),
            );
        }
        PlanKind::Revised => require_text("reason", c.reason.as_deref().unwrap_or(""))?,
        PlanKind::Original => {}
    }
    Ok(c.clone())
}

/// Rule 5: cumulative figures never decrease; relocated ≤ signed households.
fn expropriation(
    s: &Project,
    c: &ExpropriationProgressReported,
) -> Result<ExpropriationProgressReported, DomainError> {
    if c.households_relocated > c.households_signed {
        return fail(
            ErrorCode::RelocatedExceedsSigned,
            "households_relocated",
            format!(
                "{} households relocated but only {} signed",
                c.households_relocated, c.households_signed
            ),
            format!(
                "搬迁户数 {} 超过签约户数 {}",
                c.households_relocated, c.households_signed
            ),
        );
    }
    if let Some(prev) = &s.expropriation {
        if c.as_of < prev.as_of {
            return fail(
                ErrorCode::AsOfBeforePrevious,
                "as_of",
                format!(
                    "progress as of {} is older than the last report ({})",
                    c.as_of, prev.as_of
                ),
                format!("进度日期 {} 早于上次报送日期 {}", c.as_of, prev.as_of),
            );
        }
        let decreased = [
            (
                "area_acquired",
                c.area_acquired.ten_thousandths() < prev.area_acquired.ten_thousandths(),
            ),
            (
                "households_signed",
                c.households_signed < prev.households_signed,
            ),
            (
                "households_relocated",
                c.households_relocated < prev.households_relocated,
            ),
            ("graves_moved", c.graves_moved < prev.graves_moved),
            (
                "compensation_paid",
                c.compensation_paid < prev.compensation_paid,
            ),
        ];
        if let Some((field, _)) = decreased.iter().find(|(_, d)| *d) {
            return fail(
                ErrorCode::ExpropriationDecreased,
                field,
                format!("{field} is cumulative and cannot decrease below the last report"),
                format!("{field} 为累计数，不能小于上次报送的数字"),
            );
        }
    }
    Ok(c.clone())
}

/// Rule 3: an attracted project starts only after its formal signing.
fn start(s: &Project, c: &ConstructionStarted) -> Result<ConstructionStarted, DomainError> {
    if let Some(on) = s.started_on {
        return fail(
            ErrorCode::ConstructionAlreadyStarted,
            "date",
            format!("construction already started on {on}"),
            format!("项目已于 {on} 开工"),
        );
    }
    require_text("evidence", &c.evidence)?;
    if s.kind() == Some(ProjectKind::Attracted) {
        let Some(signed) = s.formal_signed_on else {
            return fail(
                ErrorCode::FormalContractRequired,
                "date",
                "an attracted project starts construction only after its formal contract".into(),
                "招商引资项目须正式签约后才能开工".into(),
            );
        };
        if c.date < signed {
            return fail(
                ErrorCode::ConstructionBeforeSigning,
                "date",
                format!(
                    "the start {} is before the formal signing on {signed}",
                    c.date
                ),
                format!("开工日期 {} 早于正式签约日期 {signed}", c.date),
            );
        }
    }
    Ok(c.clone())
}

fn started_on(s: &Project, field: &'static str) -> Result<time::Date, DomainError> {
    s.started_on.ok_or_else(|| {
        DomainError::new(
            ErrorCode::ConstructionNotStarted,
            field,
            "construction has not started",
            "项目尚未开工",
        )
    })
}

/// Rule 4: reports after the start, from the start month on, once per period; after completion
/// only up to the completion month.
fn report(
    s: &Project,
    c: &InvestmentReported,
    ctx: &Context,
) -> Result<InvestmentReported, DomainError> {
    period_not_in_future("period", c.period, ctx.today)?;
    narrative(&c.progress_narrative, &c.problems)?;
    // Abandonment was refused before any command got here.
    report_window(s.started_on, s.completed_on, false, c.period)?;
    if s.investment.contains_key(&c.period) {
        return Err(DomainError::new(
            ErrorCode::InvestmentAlreadyReported,
            "period",
            format!("investment for {} is already reported", c.period),
            format!("{} 的投资已报送", c.period),
        )
        .with_hint(
            "correct the report for this period instead, with a reason",
            "如需修改，请更正该月报表并说明原因",
        ));
    }
    Ok(c.clone())
}

/// Whether a project takes a monthly investment report for `period` at all (rules 4 and 6):
/// once construction started, for the start month and later, up to the completion month once
/// completed, never once abandoned. `decide` applies it to every report; it is public so that
/// whoever lists what can be reported (the monthly grid, the spreadsheet template, through the
/// API) asks the same rule instead of restating it. Whether the month is already reported, and
/// whether it lies in the future, are decided with the command itself.
pub fn report_window(
    started_on: Option<time::Date>,
    completed_on: Option<time::Date>,
    abandoned: bool,
    period: Period,
) -> Result<(), DomainError> {
    if abandoned {
        return fail(
            ErrorCode::ProjectAbandoned,
            "project_id",
            "the project is abandoned and accepts no further changes".into(),
            "项目已终止，不能再变更".into(),
        );
    }
    let Some(started) = started_on else {
        return fail(
            ErrorCode::InvestmentBeforeStart,
            "period",
            "investment is reported only after construction started".into(),
            "项目开工后才能报送投资".into(),
        );
    };
    if period < Period::of(started) {
        return fail(
            ErrorCode::PeriodBeforeStart,
            "period",
            format!(
                "{} is before the start month {}",
                period,
                Period::of(started)
            ),
            format!("{} 早于开工月份 {}", period, Period::of(started)),
        );
    }
    if let Some(done) = completed_on
        && period > Period::of(done)
    {
        return fail(
            ErrorCode::ProjectCompleted,
            "period",
            format!("the project was completed on {done}; no reports for later months"),
            format!("项目已于 {done} 竣工，不能报送之后月份的投资"),
        );
    }
    Ok(())
}

/// Rule 4: corrections only of reported periods, with a reason.
fn correct(
    s: &Project,
    c: &InvestmentReportCorrected,
) -> Result<InvestmentReportCorrected, DomainError> {
    let Some(current) = s.investment.get(&c.period) else {
        return fail(
            ErrorCode::PeriodNotReported,
            "period",
            format!(
                "nothing was reported for {}; report it instead of correcting",
                c.period
            ),
            format!("{} 尚未报送，无需更正，请直接报送", c.period),
        );
    };
    require_text("reason", &c.reason)?;
    narrative(&c.progress_narrative, &c.problems)?;
    // A correction may change the narrative alone; a correction that changes nothing is refused.
    if current.completed_investment == c.completed_investment
        && current.funds_in_place == c.funds_in_place
        && current.progress_narrative == c.progress_narrative
        && current.problems == c.problems
    {
        return fail(
            ErrorCode::CorrectionUnchanged,
            "completed_investment",
            "the corrected figures and narrative equal the current ones".into(),
            "更正后的数字和文字与现有的相同".into(),
        );
    }
    Ok(c.clone())
}

/// 形象进度 and 存在问题 are optional; when given they are bounded like every ledger text (an
/// empty text is given as null, not as "").
fn narrative(progress: &Option<String>, problems: &Option<String>) -> Result<(), DomainError> {
    if let Some(t) = progress {
        require_text("progress_narrative", t)?;
    }
    if let Some(t) = problems {
        require_text("problems", t)?;
    }
    Ok(())
}

/// Production after the start; a partial start once, then a full one once.
fn production(s: &Project, c: &ProductionStarted) -> Result<ProductionStarted, DomainError> {
    let started = started_on(s, "date")?;
    if c.date < started {
        return fail(
            ErrorCode::ProductionBeforeStart,
            "date",
            format!(
                "production {} is before the construction start {started}",
                c.date
            ),
            format!("投产日期 {} 早于开工日期 {started}", c.date),
        );
    }
    let already = match c.kind {
        ProductionKind::Partial => s.production_started_on,
        ProductionKind::Full => s.full_production_on,
    };
    if let Some(on) = already {
        return fail(
            ErrorCode::ProductionAlreadyStarted,
            "kind",
            format!("production ({:?}) already started on {on}", c.kind),
            format!("项目已于 {on} 投产"),
        );
    }
    Ok(c.clone())
}
