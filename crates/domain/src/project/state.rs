//! A project's state: the facts the rules need, folded from its events.

use super::events::*;
use crate::area::Mu;
use crate::codes::ProjectCode;
use crate::ids::UnitId;
use crate::money::Yuan;
use crate::period::Period;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use time::Date;

/// The lifecycle stage, derived from the milestones reached (never set directly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectStage {
    /// 线索 (for government projects and expansions: planned, not yet started)
    Lead,
    /// 在谈
    Negotiating,
    /// 签订框架协议
    FrameworkSigned,
    /// 正式签约
    Contracted,
    /// 在建
    UnderConstruction,
    /// 竣工
    Completed,
    /// 投产
    InProduction,
}

/// One month's figures as they stand: a correction replaces the reported ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthFigures {
    pub completed_investment: Yuan,
    pub funds_in_place: Yuan,
    /// 形象进度 as last reported or corrected.
    pub progress_narrative: Option<String>,
    /// 存在问题 as last reported or corrected.
    pub problems: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnnualPlan {
    pub planned_investment: Yuan,
    pub planned_start_month: Option<Period>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Project {
    /// The registration as recorded; `None` until registered.
    pub registration: Option<ProjectRegistered>,
    pub status: Option<ProjectStatus>,
    pub responsible_unit: Option<UnitId>,
    pub lead_official: Option<String>,
    pub negotiating: bool,
    pub framework_signed_on: Option<Date>,
    pub formal_signed_on: Option<Date>,
    /// The latest formal or supplement agreement: contract investment and planned start.
    pub latest_contract: Option<AgreementSigned>,
    pub company: Option<CompanyRegistered>,
    pub code: Option<ProjectCode>,
    pub approvals: Vec<ApprovalObtained>,
    pub annual_plans: BTreeMap<i32, AnnualPlan>,
    pub expropriation_target: Option<ExpropriationTargetSet>,
    pub expropriation: Option<ExpropriationProgressReported>,
    pub parcels_delivered: BTreeSet<String>,
    pub land_delivered: Mu,
    pub started_on: Option<Date>,
    pub completed_on: Option<Date>,
    /// First production start (partial or full).
    pub production_started_on: Option<Date>,
    pub full_production_on: Option<Date>,
    pub investment: BTreeMap<Period, MonthFigures>,
}

impl Project {
    pub fn is_registered(&self) -> bool {
        self.registration.is_some()
    }

    pub fn kind(&self) -> Option<ProjectKind> {
        self.registration.as_ref().map(|r| r.kind)
    }

    pub fn stage(&self) -> ProjectStage {
        if self.production_started_on.is_some() {
            ProjectStage::InProduction
        } else if self.completed_on.is_some() {
            ProjectStage::Completed
        } else if self.started_on.is_some() {
            ProjectStage::UnderConstruction
        } else if self.formal_signed_on.is_some() {
            ProjectStage::Contracted
        } else if self.framework_signed_on.is_some() {
            ProjectStage::FrameworkSigned
        } else if self.negotiating {
            ProjectStage::Negotiating
        } else {
            ProjectStage::Lead
        }
    }

    /// Cumulative completed investment over all reported months, corrections applied.
    pub fn cumulative_investment(&self) -> i64 {
        self.investment
            .values()
            .map(|m| m.completed_investment.get())
            .sum()
    }

    /// Cumulative funds in place over all reported months, corrections applied.
    pub fn cumulative_funds(&self) -> i64 {
        self.investment
            .values()
            .map(|m| m.funds_in_place.get())
            .sum()
    }

    /// Planned start: the start month of the latest annual plan, else that of the latest formal
    /// or supplement agreement (DOMAIN.md, metrics).
    pub fn planned_start(&self) -> Option<Period> {
        self.annual_plans
            .values()
            .rev()
            .find_map(|p| p.planned_start_month)
            .or_else(|| self.latest_contract.as_ref().map(|a| a.planned_start))
    }
}

/// Fold one event into the state. Events are facts: apply never refuses one.
pub fn apply(mut s: Project, event: &ProjectEvent) -> Project {
    match event {
        ProjectEvent::ProjectRegistered(e) => {
            s.status = Some(ProjectStatus::Active);
            s.responsible_unit = Some(e.responsible_unit.clone());
            s.lead_official = Some(e.lead_official.clone());
            s.registration = Some(e.clone());
        }
        ProjectEvent::ContactLogged(e) => s.negotiating |= e.kind == ContactKind::Negotiation,
        ProjectEvent::AgreementSigned(e) => match e.kind {
            AgreementKind::Framework => {
                s.framework_signed_on = s.framework_signed_on.or(Some(e.date))
            }
            AgreementKind::Formal | AgreementKind::Supplement => {
                if e.kind == AgreementKind::Formal {
                    s.formal_signed_on = s.formal_signed_on.or(Some(e.date));
                }
                s.latest_contract = Some(e.clone());
            }
        },
        ProjectEvent::CompanyRegistered(e) => s.company = Some(e.clone()),
        ProjectEvent::ProjectCodeAssigned(e) => s.code = Some(e.code.clone()),
        ProjectEvent::ApprovalObtained(e) => s.approvals.push(e.clone()),
        ProjectEvent::AnnualPlanSet(e) => {
            let plan = AnnualPlan {
                planned_investment: e.planned_investment,
                planned_start_month: e.planned_start_month,
            };
            s.annual_plans.insert(e.year, plan);
        }
        ProjectEvent::ExpropriationTargetSet(e) => s.expropriation_target = Some(e.clone()),
        ProjectEvent::ExpropriationProgressReported(e) => s.expropriation = Some(e.clone()),
        ProjectEvent::LandDelivered(e) => {
            s.parcels_delivered.insert(e.parcel_no.clone());
            let sum = s.land_delivered.ten_thousandths() + e.area.ten_thousandths();
            s.land_delivered = Mu::from_ten_thousandths(sum).unwrap_or(s.land_delivered);
        }
        ProjectEvent::ConstructionStarted(e) => s.started_on = Some(e.date),
        ProjectEvent::InvestmentReported(InvestmentReported {
            period,
            completed_investment,
            funds_in_place,
            progress_narrative,
            problems,
        })
        | ProjectEvent::InvestmentReportCorrected(InvestmentReportCorrected {
            period,
            completed_investment,
            funds_in_place,
            progress_narrative,
            problems,
            ..
        }) => {
            let m = MonthFigures {
                completed_investment: *completed_investment,
                funds_in_place: *funds_in_place,
                progress_narrative: progress_narrative.clone(),
                problems: problems.clone(),
            };
            s.investment.insert(*period, m);
        }
        ProjectEvent::ConstructionCompleted(e) => s.completed_on = Some(e.date),
        ProjectEvent::ProductionStarted(e) => {
            s.production_started_on = s.production_started_on.or(Some(e.date));
            if e.kind == ProductionKind::Full {
                s.full_production_on = Some(e.date);
            }
        }
        ProjectEvent::StatusChanged(e) => s.status = Some(e.status),
        ProjectEvent::ProjectAbandoned(_) => s.status = Some(ProjectStatus::Abandoned),
        ProjectEvent::ResponsibilityAssigned(e) => {
            s.responsible_unit = Some(e.responsible_unit.clone());
            s.lead_official = Some(e.lead_official.clone());
        }
    }
    s
}
