//! The `timeline` projection: `project_events`, every event of every project with who recorded
//! it, when, the business date and a one-line summary in Chinese (what a clerk would write in the
//! ledger's remarks column). Kept apart from the ledger so that either can halt or be rebuilt
//! without the other.

use domain::project::{AgreementKind, ProjectEvent, ProjectStatus};
use eventstore::RecordedEvent;
use serde::Serialize;
use time::Date;
use uuid::Uuid;

use crate::ledger::{Aggregate, decode};
use crate::store::{Conflict, RowStore, Table};
use crate::{Projection, ProjectionError, Tx};

/// The project timeline read model.
#[derive(Debug, Clone, Default)]
pub struct TimelineProjection;

impl TimelineProjection {
    pub const NAME: &'static str = "timeline";
}

#[derive(Debug, Serialize)]
struct EventRow {
    event_id: Uuid,
    project_id: Uuid,
    stream_version: i64,
    event_type: String,
    business_date: Option<String>,
    recorded_at: String,
    actor: String,
    summary: String,
    data: serde_json::Value,
}

const PROJECT_EVENTS: Table = Table {
    name: "project_events",
    key: &["event_id"],
    numeric: &[],
};

fn wan(yuan: i64) -> String {
    domain::Yuan::new(yuan)
        .map(|y| y.to_wan_string())
        .unwrap_or_else(|_| yuan.to_string())
}

/// `；形象进度：…；存在问题：…` for the parts a report carries (v1 reports carry neither).
fn narrative(progress: &Option<String>, problems: &Option<String>) -> String {
    let mut text = String::new();
    if let Some(p) = progress {
        text.push_str(&format!("；形象进度：{p}"));
    }
    if let Some(p) = problems {
        text.push_str(&format!("；存在问题：{p}"));
    }
    text
}

fn status_zh(s: ProjectStatus) -> &'static str {
    match s {
        ProjectStatus::Active => "正常推进",
        ProjectStatus::Delayed => "滞后",
        ProjectStatus::Dormant => "停滞",
        ProjectStatus::Abandoned => "终止",
    }
}

/// The business date and a Chinese one-line summary of a project event.
pub fn describe(event: &ProjectEvent) -> (Option<Date>, String) {
    use ProjectEvent as E;
    match event {
        E::ProjectRegistered(e) => (
            Some(e.date),
            format!(
                "项目登记：{}，投资方{}，意向投资{}万元",
                e.name,
                e.investor_name,
                wan(e.intended_investment.get())
            ),
        ),
        E::ContactLogged(e) => (
            Some(e.date),
            format!("对接（{}）：{}", e.leader_level, e.summary),
        ),
        E::AgreementSigned(e) => {
            let kind = match e.kind {
                AgreementKind::Framework => "签订框架协议",
                AgreementKind::Formal => "正式签约",
                AgreementKind::Supplement => "签订补充协议",
            };
            (
                Some(e.date),
                format!(
                    "{kind}：合同投资{}万元，计划{}开工",
                    wan(e.contract_investment.get()),
                    e.planned_start
                ),
            )
        }
        E::CompanyRegistered(e) => (
            Some(e.date),
            format!("注册项目公司：{}（{}）", e.company_name, e.credit_code),
        ),
        E::ProjectCodeAssigned(e) => (
            Some(e.date),
            format!(
                "赋项目代码：{}，备案总投资{}万元",
                e.code,
                wan(e.filed_total_investment.get())
            ),
        ),
        E::ApprovalObtained(e) => (Some(e.date), format!("取得审批文件：{}", e.document_no)),
        E::AnnualPlanSet(e) => (
            None,
            format!(
                "{}年度计划{}：计划投资{}万元{}",
                e.year,
                if e.reason.is_some() {
                    "调整"
                } else {
                    "下达"
                },
                wan(e.planned_investment.get()),
                e.reason
                    .as_deref()
                    .map(|r| format!("（原因：{r}）"))
                    .unwrap_or_default()
            ),
        ),
        E::ExpropriationTargetSet(e) => (
            None,
            format!(
                "征迁任务：{}亩，{}户，迁坟{}座，{}前完成",
                e.area, e.households, e.graves, e.deadline
            ),
        ),
        E::ExpropriationProgressReported(e) => (
            Some(e.as_of),
            format!(
                "征迁进度：累计征收{}亩，签约{}户，搬迁{}户，迁坟{}座",
                e.area_acquired, e.households_signed, e.households_relocated, e.graves_moved
            ),
        ),
        E::LandDelivered(e) => (
            Some(e.date),
            format!("交地：地块{}，{}亩", e.parcel_no, e.area),
        ),
        E::ConstructionStarted(e) => (Some(e.date), "开工".to_string()),
        E::InvestmentReported(e) => (
            Some(e.period.first_day()),
            format!(
                "{}月报：完成投资{}万元，到位资金{}万元{}",
                e.period,
                wan(e.completed_investment.get()),
                wan(e.funds_in_place.get()),
                narrative(&e.progress_narrative, &e.problems)
            ),
        ),
        E::InvestmentReportCorrected(e) => (
            Some(e.period.first_day()),
            format!(
                "更正{}月报：完成投资{}万元，到位资金{}万元{}（原因：{}）",
                e.period,
                wan(e.completed_investment.get()),
                wan(e.funds_in_place.get()),
                narrative(&e.progress_narrative, &e.problems),
                e.reason
            ),
        ),
        E::ConstructionCompleted(e) => (Some(e.date), "竣工".to_string()),
        E::ProductionStarted(e) => (
            Some(e.date),
            match e.kind {
                domain::project::ProductionKind::Partial => "部分投产".to_string(),
                domain::project::ProductionKind::Full => "全面投产".to_string(),
            },
        ),
        E::StatusChanged(e) => (
            Some(e.date),
            format!("状态变更为{}：{}", status_zh(e.status), e.reason),
        ),
        E::ProjectAbandoned(e) => (Some(e.date), format!("项目终止：{}", e.reason)),
        E::ResponsibilityAssigned(e) => (
            Some(e.date),
            format!(
                "责任单位调整为{}，包抓领导{}",
                e.responsible_unit, e.lead_official
            ),
        ),
    }
}

fn rows(events: &[RecordedEvent]) -> Result<Vec<EventRow>, ProjectionError> {
    let mut rows = Vec::new();
    for event in events {
        if !event.stream.starts_with("project-") {
            continue;
        }
        let decoded = decode(event)?;
        if let Aggregate::Project(project_id, e) = &decoded.aggregate {
            let (business_date, summary) = describe(e);
            rows.push(EventRow {
                event_id: event.id,
                project_id: *project_id,
                stream_version: event.version as i64,
                event_type: event.event_type.clone(),
                business_date: business_date.map(|d| d.to_string()),
                recorded_at: decoded.recorded_at,
                actor: decoded.actor,
                summary,
                data: event.data.clone(),
            });
        }
    }
    Ok(rows)
}

/// Applies `events` through `conn`, whichever backend it is.
pub(crate) async fn apply<S: RowStore>(
    conn: &mut S,
    events: &[RecordedEvent],
) -> Result<(), ProjectionError> {
    let rows = rows(events)?;
    conn.write(&PROJECT_EVENTS, &rows, Conflict::Fail).await
}

impl Projection for TimelineProjection {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &["project_events"]
    }

    async fn apply_batch(
        &self,
        tx: &mut Tx<'_>,
        events: &[RecordedEvent],
    ) -> Result<(), ProjectionError> {
        apply(tx, events).await
    }
}
