//! Applying a batch of decoded events to the ledger's rows: load, change in memory, write back.

use std::collections::{BTreeMap, HashMap, HashSet};

use domain::Mu;
use domain::project::{AgreementKind, ProductionKind, ProjectEvent, ProjectStage};
use domain::rules::RulesEvent;
use domain::supervision::SupervisionEvent;
use domain::targets::{TargetScope, TargetValue, TargetsEvent};
use domain::unit::UnitEvent;
use serde::Serialize;
use uuid::Uuid;

use super::decode::{Aggregate, Decoded};
use super::rows::*;
use super::store::LedgerStore;
use crate::ProjectionError;
use crate::store::{Conflict, Keys};

/// The snake_case name a domain vocabulary value serializes to.
pub(super) fn name_of<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn date(d: time::Date) -> String {
    // ISO 8601 calendar date; the Display of `time::Date` is exactly YYYY-MM-DD.
    d.to_string()
}

const STAGES: [(ProjectStage, &str); 7] = [
    (ProjectStage::Lead, "lead"),
    (ProjectStage::Negotiating, "negotiating"),
    (ProjectStage::FrameworkSigned, "framework_signed"),
    (ProjectStage::Contracted, "contracted"),
    (ProjectStage::UnderConstruction, "under_construction"),
    (ProjectStage::Completed, "completed"),
    (ProjectStage::InProduction, "in_production"),
];

fn stage_rank(name: &str) -> usize {
    STAGES.iter().position(|(_, n)| *n == name).unwrap_or(0)
}

/// Stages only move forward: a milestone raises the stage to its own unless it is already past.
fn raise_stage(row: &mut ProjectRow, to: ProjectStage) {
    let target = STAGES.iter().position(|(s, _)| *s == to).unwrap_or(0);
    if target > stage_rank(&row.stage) {
        row.stage = STAGES[target].1.to_string();
    }
}

fn mu_of(text: &str) -> Mu {
    Mu::parse(text).unwrap_or(Mu::ZERO)
}

fn mu_add(a: &str, b: Mu) -> String {
    let sum = mu_of(a).ten_thousandths() + b.ten_thousandths();
    Mu::from_ten_thousandths(sum)
        .unwrap_or_else(|_| mu_of(a))
        .to_string()
}

/// Everything a batch reads and writes.
#[derive(Default)]
struct Batch {
    units: BTreeMap<String, UnitRow>,
    projects: BTreeMap<Uuid, ProjectRow>,
    monthly: BTreeMap<(Uuid, String), MonthlyRow>,
    /// Latest revision and its start month per (project, year), and whether it changed.
    plans: BTreeMap<(Uuid, i32), (i32, Option<String>)>,
    target_revisions: HashMap<(i32, String, String), i32>,
    exprop_targets: BTreeMap<Uuid, ExpropriationTargetRow>,
    exprop_progress: BTreeMap<Uuid, ExpropriationProgressRow>,
    items: BTreeMap<Uuid, SupervisionItemRow>,

    dirty_units: HashSet<String>,
    dirty_projects: HashSet<Uuid>,
    dirty_monthly: HashSet<(Uuid, String)>,
    dirty_exprop_targets: HashSet<Uuid>,
    dirty_exprop_progress: HashSet<Uuid>,
    dirty_items: HashSet<Uuid>,
    touched_plan_projects: HashSet<Uuid>,
    touched_target_years: HashSet<i32>,

    assignments: Vec<AssignmentRow>,
    agreements: Vec<AgreementRow>,
    annual_plans: Vec<AnnualPlanRow>,
    milestones: Vec<MilestoneRow>,
    reports: Vec<InvestmentReportRow>,
    exprop_reports: Vec<ExpropriationReportRow>,
    land: Vec<LandDeliveryRow>,
    targets: Vec<TargetRow>,
    accountability: Vec<AccountabilityRow>,
    rules: Vec<RuleSettingRow>,
}

/// Applies `events` through `conn`, whichever backend it is: the one implementation of the
/// ledger's event → row logic.
pub async fn apply_batch<S: LedgerStore>(
    conn: &mut S,
    events: &[Decoded<'_>],
) -> Result<(), ProjectionError> {
    let mut batch = load(conn, events).await?;
    for event in events {
        batch.apply(event)?;
    }
    batch.write(conn).await
}

/// Loads the current rows of everything the batch touches.
async fn load<S: LedgerStore>(
    conn: &mut S,
    events: &[Decoded<'_>],
) -> Result<Batch, ProjectionError> {
    let mut project_ids = HashSet::new();
    // Only a correction changes an existing month; a report creates its month.
    let mut corrected_ids = HashSet::new();
    let mut unit_ids = HashSet::new();
    let mut item_ids = HashSet::new();
    let mut target_years = HashSet::new();
    for e in events {
        match &e.aggregate {
            Aggregate::Project(id, event) => {
                project_ids.insert(*id);
                if matches!(event, ProjectEvent::InvestmentReportCorrected(_)) {
                    corrected_ids.insert(*id);
                }
            }
            Aggregate::Unit(id, _) => {
                unit_ids.insert(id.clone());
            }
            Aggregate::Supervision(id, _) => {
                item_ids.insert(*id);
            }
            Aggregate::Targets(TargetsEvent::TargetSet(t)) => {
                target_years.insert(t.year);
            }
            Aggregate::Targets(TargetsEvent::TargetRevised(t)) => {
                target_years.insert(t.year);
            }
            Aggregate::Rules(_) | Aggregate::Other => {}
        }
    }
    let project_ids: Vec<Uuid> = project_ids.into_iter().collect();
    let unit_ids: Vec<String> = unit_ids.into_iter().collect();
    let item_ids: Vec<Uuid> = item_ids.into_iter().collect();
    let target_years: Vec<i32> = target_years.into_iter().collect();

    let mut batch = Batch::default();
    if !unit_ids.is_empty() {
        for row in conn
            .load::<UnitRow>(&UNITS, "unit_id", Keys::Texts(&unit_ids))
            .await?
        {
            batch.units.insert(row.unit_id.clone(), row);
        }
    }
    if !project_ids.is_empty() {
        let by_project = Keys::Uuids(&project_ids);
        for row in conn
            .load::<ProjectRow>(&PROJECTS, "project_id", by_project)
            .await?
        {
            batch.projects.insert(row.project_id, row);
        }
    }
    if !corrected_ids.is_empty() {
        // Corrections are rare: all months of the corrected projects is a small read.
        let corrected: Vec<Uuid> = corrected_ids.into_iter().collect();
        for row in conn
            .load::<MonthlyRow>(&MONTHLY, "project_id", Keys::Uuids(&corrected))
            .await?
        {
            batch
                .monthly
                .insert((row.project_id, row.period.clone()), row);
        }
    }
    if !project_ids.is_empty() {
        let by_project = Keys::Uuids(&project_ids);
        for row in conn
            .load::<ExpropriationTargetRow>(&EXPROPRIATION_TARGETS, "project_id", by_project)
            .await?
        {
            batch.exprop_targets.insert(row.project_id, row);
        }
        for row in conn
            .load::<ExpropriationProgressRow>(&EXPROPRIATION_PROGRESS, "project_id", by_project)
            .await?
        {
            batch.exprop_progress.insert(row.project_id, row);
        }
        for (project, year, revision, start) in conn.latest_plans(&project_ids).await? {
            batch.plans.insert((project, year), (revision, start));
        }
    }
    if !item_ids.is_empty() {
        for row in conn
            .load::<SupervisionItemRow>(&SUPERVISION_ITEMS, "item_id", Keys::Uuids(&item_ids))
            .await?
        {
            batch.items.insert(row.item_id, row);
        }
    }
    if !target_years.is_empty() {
        for (year, scope, metric, revision) in conn.target_revisions(&target_years).await? {
            batch
                .target_revisions
                .insert((year, scope, metric), revision);
        }
    }
    Ok(batch)
}

impl Batch {
    fn apply(&mut self, d: &Decoded<'_>) -> Result<(), ProjectionError> {
        match &d.aggregate {
            Aggregate::Project(id, e) => self.apply_project(d, *id, e),
            Aggregate::Unit(id, e) => {
                self.apply_unit(d, id, e);
                Ok(())
            }
            Aggregate::Targets(e) => {
                self.apply_targets(d, e);
                Ok(())
            }
            Aggregate::Supervision(id, e) => self.apply_supervision(d, *id, e),
            Aggregate::Rules(e) => self.apply_rules(d, e),
            Aggregate::Other => Ok(()),
        }
    }

    fn apply_unit(&mut self, d: &Decoded<'_>, id: &str, e: &UnitEvent) {
        match e {
            UnitEvent::UnitCreated(c) => {
                self.units.insert(
                    id.to_string(),
                    UnitRow {
                        unit_id: id.to_string(),
                        name: c.name.clone(),
                        unit_kind: name_of(&c.kind),
                        created_at: d.recorded_at.clone(),
                        updated_at: d.recorded_at.clone(),
                    },
                );
            }
            UnitEvent::UnitRenamed(r) => {
                if let Some(row) = self.units.get_mut(id) {
                    row.name = r.name.clone();
                    row.updated_at = d.recorded_at.clone();
                }
            }
        }
        self.dirty_units.insert(id.to_string());
    }

    fn project_mut(
        &mut self,
        d: &Decoded<'_>,
        id: Uuid,
    ) -> Result<&mut ProjectRow, ProjectionError> {
        self.projects.get_mut(&id).ok_or_else(|| {
            ProjectionError::at(
                d.event,
                format!(
                    "{} for project {id}, which was never registered",
                    d.event.event_type
                ),
            )
        })
    }

    /// The planned start (DOMAIN.md): the latest year's plan naming a start month, else the
    /// latest formal or supplement agreement's.
    fn planned_start(&self, id: Uuid, contract_start: Option<&String>) -> Option<String> {
        self.plans
            .range((id, i32::MIN)..=(id, i32::MAX))
            .rev()
            .find_map(|(_, (_, start))| start.clone())
            .or_else(|| contract_start.cloned())
    }

    fn milestone(&mut self, d: &Decoded<'_>, id: Uuid, milestone: &str, on: time::Date) {
        self.milestones.push(MilestoneRow {
            project_id: id,
            milestone: milestone.to_string(),
            business_date: date(on),
            recorded_at: d.recorded_at.clone(),
        });
    }

    fn apply_project(
        &mut self,
        d: &Decoded<'_>,
        id: Uuid,
        e: &ProjectEvent,
    ) -> Result<(), ProjectionError> {
        let version = d.event.version as i64;
        let at = d.recorded_at.clone();
        if let ProjectEvent::ProjectRegistered(r) = e {
            let intended = r.intended_investment.get();
            self.projects.insert(
                id,
                ProjectRow {
                    project_id: id,
                    name: r.name.clone(),
                    project_kind: name_of(&r.kind),
                    investor_name: r.investor_name.clone(),
                    investor_type: name_of(&r.investor_type),
                    industry_chain: r.industry_chain.clone(),
                    industrial: r.industrial,
                    unit_id: r.responsible_unit.as_str().to_string(),
                    lead_official: r.lead_official.clone(),
                    stage: "lead".into(),
                    status: "active".into(),
                    status_reason: None,
                    intended_investment_yuan: intended,
                    contract_investment_yuan: None,
                    fixed_asset_investment_yuan: None,
                    filed_investment_yuan: None,
                    planned_investment_yuan: None,
                    planned_year: None,
                    land_demand_mu: None,
                    land_delivered_mu: Mu::ZERO.to_string(),
                    project_code: None,
                    approval_route: None,
                    credit_code: None,
                    company_name: None,
                    registered_capital_yuan: None,
                    registered_date: date(r.date),
                    framework_signed_date: None,
                    contract_signed_date: None,
                    planned_start_period: None,
                    contract_planned_start_period: None,
                    planned_completion_period: None,
                    planned_production_period: None,
                    start_date: None,
                    completion_date: None,
                    production_date: None,
                    production_full: false,
                    abandoned_date: None,
                    cumulative_investment_yuan: 0,
                    cumulative_funds_yuan: 0,
                    ytd_investment_yuan: 0,
                    start_light: None,
                    investment_light: None,
                    light: None,
                    stream_version: version,
                    created_at: at.clone(),
                    updated_at: at.clone(),
                },
            );
            self.assignments.push(AssignmentRow {
                project_id: id,
                seq: version,
                unit_id: r.responsible_unit.as_str().to_string(),
                lead_official: r.lead_official.clone(),
                effective_date: date(r.date),
                recorded_at: at,
            });
            self.dirty_projects.insert(id);
            return Ok(());
        }

        // Make sure the project exists before touching anything that refers to it.
        self.project_mut(d, id)?;
        match e {
            ProjectEvent::ProjectRegistered(_) => {}
            ProjectEvent::ContactLogged(c) => {
                if c.kind == domain::project::ContactKind::Negotiation {
                    raise_stage(self.project_mut(d, id)?, ProjectStage::Negotiating);
                }
            }
            ProjectEvent::AgreementSigned(a) => {
                self.agreements.push(AgreementRow {
                    project_id: id,
                    seq: version,
                    agreement_kind: name_of(&a.kind),
                    signed_date: date(a.date),
                    contract_investment_yuan: a.contract_investment.get(),
                    fixed_asset_investment_yuan: a.fixed_asset_investment.get(),
                    land_demand_mu: a.land_demand.to_string(),
                    planned_start_period: a.planned_start.to_string(),
                    planned_completion_period: a.planned_completion.to_string(),
                    planned_production_period: a.planned_production.to_string(),
                    recorded_at: at.clone(),
                });
                let contract_start = a.planned_start.to_string();
                let start = self.planned_start(id, Some(&contract_start));
                let row = self.project_mut(d, id)?;
                match a.kind {
                    AgreementKind::Framework => {
                        if row.framework_signed_date.is_none() {
                            row.framework_signed_date = Some(date(a.date));
                        }
                        raise_stage(row, ProjectStage::FrameworkSigned);
                    }
                    AgreementKind::Formal | AgreementKind::Supplement => {
                        if a.kind == AgreementKind::Formal {
                            if row.contract_signed_date.is_none() {
                                row.contract_signed_date = Some(date(a.date));
                            }
                            raise_stage(row, ProjectStage::Contracted);
                        }
                        row.contract_investment_yuan = Some(a.contract_investment.get());
                        row.fixed_asset_investment_yuan = Some(a.fixed_asset_investment.get());
                        row.land_demand_mu = Some(a.land_demand.to_string());
                        row.contract_planned_start_period = Some(contract_start);
                        row.planned_start_period = start;
                        row.planned_completion_period = Some(a.planned_completion.to_string());
                        row.planned_production_period = Some(a.planned_production.to_string());
                    }
                }
            }
            ProjectEvent::CompanyRegistered(c) => {
                let row = self.project_mut(d, id)?;
                row.credit_code = Some(c.credit_code.to_string());
                row.company_name = Some(c.company_name.clone());
                row.registered_capital_yuan = Some(c.registered_capital.get());
            }
            ProjectEvent::ProjectCodeAssigned(c) => {
                let row = self.project_mut(d, id)?;
                row.project_code = Some(c.code.to_string());
                row.approval_route = Some(name_of(&c.route));
                row.filed_investment_yuan = Some(c.filed_total_investment.get());
            }
            ProjectEvent::ApprovalObtained(_) => {
                // Shown in the timeline (project_events); no figure depends on it.
            }
            ProjectEvent::AnnualPlanSet(p) => {
                let revision = self
                    .plans
                    .get(&(id, p.year))
                    .map(|(r, _)| r + 1)
                    .unwrap_or(0);
                let start = p.planned_start_month.map(|m| m.to_string());
                self.plans.insert((id, p.year), (revision, start.clone()));
                self.touched_plan_projects.insert(id);
                self.annual_plans.push(AnnualPlanRow {
                    project_id: id,
                    plan_year: p.year,
                    revision,
                    planned_investment_yuan: p.planned_investment.get(),
                    planned_start_period: start,
                    reason: p.reason.clone(),
                    is_current: true,
                    recorded_at: at.clone(),
                });
                let contract_start = self
                    .project_mut(d, id)?
                    .contract_planned_start_period
                    .clone();
                let planned_start = self.planned_start(id, contract_start.as_ref());
                let row = self.project_mut(d, id)?;
                if row.planned_year.is_none_or(|y| p.year >= y) {
                    row.planned_year = Some(p.year);
                    row.planned_investment_yuan = Some(p.planned_investment.get());
                }
                row.planned_start_period = planned_start;
            }
            ProjectEvent::ExpropriationTargetSet(t) => {
                self.exprop_targets.insert(
                    id,
                    ExpropriationTargetRow {
                        project_id: id,
                        area_mu: t.area.to_string(),
                        households: i64::from(t.households),
                        graves: i64::from(t.graves),
                        township: t.township.clone(),
                        deadline_date: date(t.deadline),
                        recorded_at: at.clone(),
                    },
                );
                self.dirty_exprop_targets.insert(id);
                let progress = self.progress_mut(id, &at);
                progress.target_area_mu = Some(t.area.to_string());
                progress.target_households = Some(i64::from(t.households));
                progress.target_graves = Some(i64::from(t.graves));
                progress.deadline_date = Some(date(t.deadline));
            }
            ProjectEvent::ExpropriationProgressReported(r) => {
                self.exprop_reports.push(ExpropriationReportRow {
                    project_id: id,
                    seq: version,
                    as_of_date: date(r.as_of),
                    area_mu: r.area_acquired.to_string(),
                    households_signed: i64::from(r.households_signed),
                    households_relocated: i64::from(r.households_relocated),
                    graves_moved: i64::from(r.graves_moved),
                    compensation_yuan: r.compensation_paid.get(),
                    recorded_at: at.clone(),
                });
                let progress = self.progress_mut(id, &at);
                progress.as_of_date = Some(date(r.as_of));
                progress.area_mu = r.area_acquired.to_string();
                progress.households_signed = i64::from(r.households_signed);
                progress.households_relocated = i64::from(r.households_relocated);
                progress.graves_moved = i64::from(r.graves_moved);
                progress.compensation_yuan = r.compensation_paid.get();
            }
            ProjectEvent::LandDelivered(l) => {
                self.land.push(LandDeliveryRow {
                    project_id: id,
                    parcel_no: l.parcel_no.clone(),
                    area_mu: l.area.to_string(),
                    delivered_date: date(l.date),
                    recorded_at: at.clone(),
                });
                let row = self.project_mut(d, id)?;
                row.land_delivered_mu = mu_add(&row.land_delivered_mu, l.area);
                let total = row.land_delivered_mu.clone();
                let progress = self.progress_mut(id, &at);
                progress.land_delivered_mu = total;
            }
            ProjectEvent::ConstructionStarted(s) => {
                let row = self.project_mut(d, id)?;
                row.start_date = Some(date(s.date));
                raise_stage(row, ProjectStage::UnderConstruction);
                self.milestone(d, id, "construction_started", s.date);
            }
            ProjectEvent::InvestmentReported(r) => {
                let period = r.period.to_string();
                self.reports.push(InvestmentReportRow {
                    project_id: id,
                    period: period.clone(),
                    revision: 0,
                    completed_investment_yuan: r.completed_investment.get(),
                    funds_in_place_yuan: r.funds_in_place.get(),
                    reason: None,
                    actor: d.actor.clone(),
                    recorded_at: at.clone(),
                    progress_narrative: r.progress_narrative.clone(),
                    problems: r.problems.clone(),
                });
                self.monthly.insert(
                    (id, period.clone()),
                    MonthlyRow {
                        project_id: id,
                        period: period.clone(),
                        reported_completed_investment_yuan: r.completed_investment.get(),
                        reported_funds_in_place_yuan: r.funds_in_place.get(),
                        completed_investment_yuan: r.completed_investment.get(),
                        funds_in_place_yuan: r.funds_in_place.get(),
                        correction_count: 0,
                        reported_at: at.clone(),
                        corrected_at: None,
                        progress_narrative: r.progress_narrative.clone(),
                        problems: r.problems.clone(),
                    },
                );
                self.dirty_monthly.insert((id, period));
                let row = self.project_mut(d, id)?;
                row.cumulative_investment_yuan += r.completed_investment.get();
                row.cumulative_funds_yuan += r.funds_in_place.get();
            }
            ProjectEvent::InvestmentReportCorrected(c) => {
                let period = c.period.to_string();
                let month = self.monthly.get_mut(&(id, period.clone())).ok_or_else(|| {
                    ProjectionError::at(
                        d.event,
                        format!(
                            "correction of {period} for project {id}, which has no report for it"
                        ),
                    )
                })?;
                let delta_investment =
                    c.completed_investment.get() - month.completed_investment_yuan;
                let delta_funds = c.funds_in_place.get() - month.funds_in_place_yuan;
                month.completed_investment_yuan = c.completed_investment.get();
                month.funds_in_place_yuan = c.funds_in_place.get();
                month.correction_count += 1;
                month.corrected_at = Some(at.clone());
                month.progress_narrative = c.progress_narrative.clone();
                month.problems = c.problems.clone();
                let revision = month.correction_count;
                self.dirty_monthly.insert((id, period.clone()));
                self.reports.push(InvestmentReportRow {
                    project_id: id,
                    period,
                    revision,
                    completed_investment_yuan: c.completed_investment.get(),
                    funds_in_place_yuan: c.funds_in_place.get(),
                    reason: Some(c.reason.clone()),
                    actor: d.actor.clone(),
                    recorded_at: at.clone(),
                    progress_narrative: c.progress_narrative.clone(),
                    problems: c.problems.clone(),
                });
                let row = self.project_mut(d, id)?;
                row.cumulative_investment_yuan += delta_investment;
                row.cumulative_funds_yuan += delta_funds;
            }
            ProjectEvent::ConstructionCompleted(c) => {
                let row = self.project_mut(d, id)?;
                row.completion_date = Some(date(c.date));
                raise_stage(row, ProjectStage::Completed);
                self.milestone(d, id, "construction_completed", c.date);
            }
            ProjectEvent::ProductionStarted(p) => {
                let row = self.project_mut(d, id)?;
                let first = row.production_date.is_none();
                if first {
                    row.production_date = Some(date(p.date));
                }
                let full = p.kind == ProductionKind::Full && !row.production_full;
                if full {
                    row.production_full = true;
                }
                raise_stage(row, ProjectStage::InProduction);
                if first {
                    self.milestone(d, id, "production_started", p.date);
                }
                if full {
                    self.milestone(d, id, "production_full", p.date);
                }
            }
            ProjectEvent::StatusChanged(s) => {
                let row = self.project_mut(d, id)?;
                row.status = name_of(&s.status);
                row.status_reason = Some(s.reason.clone());
            }
            ProjectEvent::ProjectAbandoned(a) => {
                let row = self.project_mut(d, id)?;
                row.status = "abandoned".into();
                row.status_reason = Some(a.reason.clone());
                row.abandoned_date = Some(date(a.date));
                self.milestone(d, id, "abandoned", a.date);
            }
            ProjectEvent::ResponsibilityAssigned(r) => {
                let row = self.project_mut(d, id)?;
                row.unit_id = r.responsible_unit.as_str().to_string();
                row.lead_official = r.lead_official.clone();
                self.assignments.push(AssignmentRow {
                    project_id: id,
                    seq: version,
                    unit_id: r.responsible_unit.as_str().to_string(),
                    lead_official: r.lead_official.clone(),
                    effective_date: date(r.date),
                    recorded_at: at.clone(),
                });
            }
        }
        let row = self.project_mut(d, id)?;
        row.stream_version = version;
        row.updated_at = at;
        self.dirty_projects.insert(id);
        Ok(())
    }

    fn progress_mut(&mut self, id: Uuid, at: &str) -> &mut ExpropriationProgressRow {
        self.dirty_exprop_progress.insert(id);
        let row = self
            .exprop_progress
            .entry(id)
            .or_insert_with(|| ExpropriationProgressRow {
                project_id: id,
                target_area_mu: None,
                target_households: None,
                target_graves: None,
                deadline_date: None,
                as_of_date: None,
                area_mu: Mu::ZERO.to_string(),
                households_signed: 0,
                households_relocated: 0,
                graves_moved: 0,
                compensation_yuan: 0,
                land_delivered_mu: Mu::ZERO.to_string(),
                updated_at: at.to_string(),
            });
        row.updated_at = at.to_string();
        row
    }

    fn apply_targets(&mut self, d: &Decoded<'_>, e: &TargetsEvent) {
        let (year, scope, metric, value, reason) = match e {
            TargetsEvent::TargetSet(t) => (t.year, &t.scope, &t.metric, &t.value, None),
            TargetsEvent::TargetRevised(t) => (
                t.year,
                &t.scope,
                &t.metric,
                &t.value,
                Some(t.reason.clone()),
            ),
        };
        let scope = match scope {
            TargetScope::County => "county".to_string(),
            TargetScope::Unit(u) => u.as_str().to_string(),
        };
        let metric = name_of(metric);
        let value = match value {
            TargetValue::Yuan(y) => y.get().to_string(),
            TargetValue::Count(c) => c.to_string(),
            TargetValue::Mu(m) => m.to_string(),
        };
        let key = (year, scope.clone(), metric.clone());
        let revision = self.target_revisions.get(&key).map(|r| r + 1).unwrap_or(0);
        self.target_revisions.insert(key, revision);
        self.touched_target_years.insert(year);
        self.targets.push(TargetRow {
            target_year: year,
            scope,
            metric,
            revision,
            target_value: value,
            reason,
            is_current: true,
            recorded_at: d.recorded_at.clone(),
        });
    }

    fn item_mut(
        &mut self,
        d: &Decoded<'_>,
        id: Uuid,
    ) -> Result<&mut SupervisionItemRow, ProjectionError> {
        self.dirty_items.insert(id);
        let row = self.items.get_mut(&id).ok_or_else(|| {
            ProjectionError::at(
                d.event,
                format!(
                    "{} for supervision item {id}, which was never opened",
                    d.event.event_type
                ),
            )
        })?;
        row.updated_at = d.recorded_at.clone();
        Ok(row)
    }

    fn apply_supervision(
        &mut self,
        d: &Decoded<'_>,
        id: Uuid,
        e: &SupervisionEvent,
    ) -> Result<(), ProjectionError> {
        let at = d.recorded_at.clone();
        match e {
            SupervisionEvent::SupervisionItemOpened(o) => {
                self.items.insert(
                    id,
                    SupervisionItemRow {
                        item_id: id,
                        project_id: o.project.0,
                        title: o.title.clone(),
                        category: name_of(&o.category),
                        lead_unit_id: o.lead_unit.as_str().to_string(),
                        co_unit_ids: o.co_units.iter().map(|u| u.as_str().to_string()).collect(),
                        opened_date: date(o.date),
                        deadline_date: date(o.deadline),
                        item_status: "open".into(),
                        feedback_count: 0,
                        last_feedback_date: None,
                        extension_count: 0,
                        closed_date: None,
                        closed_at: None,
                        accountability_count: 0,
                        due_soon: false,
                        overdue: false,
                        opened_at: at.clone(),
                        updated_at: at,
                    },
                );
                self.dirty_items.insert(id);
            }
            SupervisionEvent::FeedbackSubmitted(f) => {
                let row = self.item_mut(d, id)?;
                row.feedback_count += 1;
                row.last_feedback_date = Some(date(f.date));
            }
            SupervisionEvent::DeadlineExtended(x) => {
                let row = self.item_mut(d, id)?;
                row.deadline_date = date(x.deadline);
                row.extension_count += 1;
            }
            SupervisionEvent::ClosureRequested(_) => {
                self.item_mut(d, id)?.item_status = "closure_requested".into();
            }
            SupervisionEvent::ItemClosed(c) => {
                let row = self.item_mut(d, id)?;
                row.item_status = "closed".into();
                row.closed_date = Some(date(c.date));
                row.closed_at = Some(at);
                row.due_soon = false;
                row.overdue = false;
            }
            SupervisionEvent::ClosureReturned(_) => {
                self.item_mut(d, id)?.item_status = "open".into();
            }
            SupervisionEvent::AccountabilityRecorded(a) => {
                self.item_mut(d, id)?.accountability_count += 1;
                self.accountability.push(AccountabilityRow {
                    item_id: id,
                    seq: d.event.version as i64,
                    action: name_of(&a.kind),
                    subject: a.subject.clone(),
                    action_date: date(a.date),
                    recorded_at: at,
                });
            }
        }
        Ok(())
    }

    fn apply_rules(&mut self, d: &Decoded<'_>, e: &RulesEvent) -> Result<(), ProjectionError> {
        let (rule, settings, reason) = match e {
            RulesEvent::LightBandsSet(s) => {
                ("light_bands", serde_json::to_value(&s.bands), &s.reason)
            }
            RulesEvent::RankingWeightsSet(s) => (
                "ranking_weights",
                serde_json::to_value(&s.ranking),
                &s.reason,
            ),
        };
        let settings = settings.map_err(|err| ProjectionError::at(d.event, err.to_string()))?;
        self.rules.push(RuleSettingRow {
            seq: d.event.version as i64,
            rule: rule.into(),
            settings,
            reason: Some(reason.clone()),
            recorded_at: d.recorded_at.clone(),
        });
        Ok(())
    }

    /// Writes everything back: parents before children (foreign keys), one statement per table.
    async fn write<S: LedgerStore>(self, conn: &mut S) -> Result<(), ProjectionError> {
        fn pick<K: Ord + std::hash::Hash + Eq, V: Clone>(
            map: &BTreeMap<K, V>,
            dirty: &HashSet<K>,
        ) -> Vec<V> {
            map.iter()
                .filter(|(k, _)| dirty.contains(*k))
                .map(|(_, v)| v.clone())
                .collect()
        }
        conn.write(
            &UNITS,
            &pick(&self.units, &self.dirty_units),
            Conflict::Update,
        )
        .await?;
        conn.write(
            &PROJECTS,
            &pick(&self.projects, &self.dirty_projects),
            Conflict::Update,
        )
        .await?;
        conn.write(&ASSIGNMENTS, &self.assignments, Conflict::Fail)
            .await?;
        conn.write(&AGREEMENTS, &self.agreements, Conflict::Fail)
            .await?;
        conn.write(&ANNUAL_PLANS, &self.annual_plans, Conflict::Fail)
            .await?;
        conn.write(&MILESTONES, &self.milestones, Conflict::Ignore)
            .await?;
        conn.write(&INVESTMENT_REPORTS, &self.reports, Conflict::Fail)
            .await?;
        conn.write(
            &MONTHLY,
            &pick(&self.monthly, &self.dirty_monthly),
            Conflict::Update,
        )
        .await?;
        conn.write(
            &EXPROPRIATION_TARGETS,
            &pick(&self.exprop_targets, &self.dirty_exprop_targets),
            Conflict::Update,
        )
        .await?;
        conn.write(&EXPROPRIATION_REPORTS, &self.exprop_reports, Conflict::Fail)
            .await?;
        conn.write(
            &EXPROPRIATION_PROGRESS,
            &pick(&self.exprop_progress, &self.dirty_exprop_progress),
            Conflict::Update,
        )
        .await?;
        conn.write(&LAND_DELIVERIES, &self.land, Conflict::Fail)
            .await?;
        conn.write(&TARGETS, &self.targets, Conflict::Fail).await?;
        conn.write(
            &SUPERVISION_ITEMS,
            &pick(&self.items, &self.dirty_items),
            Conflict::Update,
        )
        .await?;
        conn.write(&ACCOUNTABILITY, &self.accountability, Conflict::Fail)
            .await?;
        conn.write(&RULE_SETTINGS, &self.rules, Conflict::Fail)
            .await?;

        // Only the latest revision of a plan or target is current.
        if !self.touched_plan_projects.is_empty() {
            let ids: Vec<Uuid> = self.touched_plan_projects.into_iter().collect();
            conn.mark_current_plans(&ids).await?;
        }
        if !self.touched_target_years.is_empty() {
            let years: Vec<i32> = self.touched_target_years.into_iter().collect();
            conn.mark_current_targets(&years).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_add_exactly() {
        assert_eq!(mu_add("0.1000", Mu::parse("0.2").unwrap()), "0.3000");
    }
}
