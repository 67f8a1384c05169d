//! The project stream's events (`project-<uuid>`), the published contract. Field names are
//! snake_case; money is integer yuan, areas are four-decimal strings, dates `YYYY-MM-DD`,
//! periods `YYYY-MM`; optional fields are always present (null when absent).

use crate::area::Mu;
use crate::codes::{ProjectCode, Uscc};
use crate::event::{events, vocabulary};
use crate::ids::UnitId;
use crate::money::Yuan;
use crate::period::{Period, iso_date};
use serde::{Deserialize, Serialize};
use time::Date;

events! {
    /// Every event of a project stream.
    ProjectEvent {
        ProjectRegistered = 1,
        ContactLogged = 1,
        AgreementSigned = 1,
        CompanyRegistered = 1,
        ProjectCodeAssigned = 1,
        ApprovalObtained = 1,
        AnnualPlanSet = 1,
        ExpropriationTargetSet = 1,
        ExpropriationProgressReported = 1,
        LandDelivered = 1,
        ConstructionStarted = 1,
        InvestmentReported = 2,
        InvestmentReportCorrected = 2,
        ConstructionCompleted = 1,
        ProductionStarted = 1,
        StatusChanged = 1,
        ProjectAbandoned = 1,
        ResponsibilityAssigned = 1,
    }
}

vocabulary!(
    /// Where a project comes from; government projects and expansions skip the signing stages.
    ProjectKind {
        /// 招商引资
        Attracted,
        /// 政府投资
        Government,
        /// 技改扩建
        Expansion,
    }
);
vocabulary!(InvestorType {
    /// 央企
    CentralSoe,
    /// 省企
    ProvincialSoe,
    /// 民企
    Private,
    /// 外资
    Foreign,
    Other,
});
vocabulary!(ContactKind {
    /// 考察
    Visit,
    /// 洽谈
    Negotiation,
    /// 推介
    Promotion,
});
vocabulary!(AgreementKind {
    Framework,
    Formal,
    Supplement
});
vocabulary!(
    /// 审批 / 核准 / 备案
    ApprovalRoute { Approval, Verification, Filing }
);
vocabulary!(ApprovalItem {
    LandUsePlanning,
    EngineeringPlanning,
    ConstructionPermit,
    Environmental,
    Energy,
    Other,
});
vocabulary!(PlanKind { Original, Revised });
vocabulary!(ProductionKind { Partial, Full });
vocabulary!(
    /// The status axis; `abandoned` is terminal and set only by `ProjectAbandoned`.
    ProjectStatus { Active, Delayed, Dormant, Abandoned }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectRegistered {
    pub name: String,
    pub kind: ProjectKind,
    pub investor_name: String,
    pub investor_type: InvestorType,
    /// e.g. 氟化工, 新能源, 新材料
    pub industry_chain: String,
    pub industrial: bool,
    pub intended_investment: Yuan,
    pub responsible_unit: UnitId,
    /// 包抓领导
    pub lead_official: String,
    #[serde(with = "iso_date")]
    pub date: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactLogged {
    pub kind: ContactKind,
    #[serde(with = "iso_date")]
    pub date: Date,
    /// Highest level of leader present, as the county writes it (e.g. 县级, 市级).
    pub leader_level: String,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreementSigned {
    pub kind: AgreementKind,
    #[serde(with = "iso_date")]
    pub date: Date,
    pub contract_investment: Yuan,
    pub fixed_asset_investment: Yuan,
    pub land_demand: Mu,
    pub planned_start: Period,
    pub planned_completion: Period,
    pub planned_production: Period,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanyRegistered {
    pub credit_code: Uscc,
    pub company_name: String,
    pub registered_capital: Yuan,
    #[serde(with = "iso_date")]
    pub date: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectCodeAssigned {
    pub code: ProjectCode,
    pub route: ApprovalRoute,
    pub filed_total_investment: Yuan,
    #[serde(with = "iso_date")]
    pub date: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalObtained {
    pub item: ApprovalItem,
    pub document_no: String,
    #[serde(with = "iso_date")]
    pub date: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnualPlanSet {
    pub year: i32,
    pub planned_investment: Yuan,
    /// Planned start month, within `year`; null for projects already under way.
    pub planned_start_month: Option<Period>,
    pub kind: PlanKind,
    /// Required for a revision.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpropriationTargetSet {
    pub area: Mu,
    pub households: u32,
    pub graves: u32,
    pub township: String,
    #[serde(with = "iso_date")]
    pub deadline: Date,
}

/// Cumulative figures as of a date (rule 5: they never decrease).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpropriationProgressReported {
    #[serde(with = "iso_date")]
    pub as_of: Date,
    pub area_acquired: Mu,
    pub households_signed: u32,
    pub households_relocated: u32,
    pub graves_moved: u32,
    pub compensation_paid: Yuan,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LandDelivered {
    pub parcel_no: String,
    pub area: Mu,
    #[serde(with = "iso_date")]
    pub date: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConstructionStarted {
    /// First ground-breaking of permanent works.
    #[serde(with = "iso_date")]
    pub date: Date,
    pub evidence: String,
}

/// Figures of one month (not cumulative), with the clerk's narrative.
///
/// v2 added `progress_narrative` and `problems` (v1 events are read with both null).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvestmentReported {
    pub period: Period,
    pub completed_investment: Yuan,
    pub funds_in_place: Yuan,
    /// 形象进度: where the works stand, free text; null when not given.
    #[serde(default)]
    pub progress_narrative: Option<String>,
    /// 存在问题: what holds the project up, free text; null when not given.
    #[serde(default)]
    pub problems: Option<String>,
}

/// Replaces the figures (and the narrative) of an already reported month; the original stays in
/// the log. v2 added `progress_narrative` and `problems`, as on the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvestmentReportCorrected {
    pub period: Period,
    pub completed_investment: Yuan,
    pub funds_in_place: Yuan,
    pub reason: String,
    /// 形象进度 after the correction; null when none.
    #[serde(default)]
    pub progress_narrative: Option<String>,
    /// 存在问题 after the correction; null when none.
    #[serde(default)]
    pub problems: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConstructionCompleted {
    #[serde(with = "iso_date")]
    pub date: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductionStarted {
    #[serde(with = "iso_date")]
    pub date: Date,
    pub kind: ProductionKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChanged {
    pub status: ProjectStatus,
    pub reason: String,
    #[serde(with = "iso_date")]
    pub date: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectAbandoned {
    pub reason: String,
    #[serde(with = "iso_date")]
    pub date: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponsibilityAssigned {
    pub responsible_unit: UnitId,
    pub lead_official: String,
    #[serde(with = "iso_date")]
    pub date: Date,
}
