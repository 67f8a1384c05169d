//! Rows of the ledger's tables as the projection holds them in memory during a batch.
//!
//! Field names are the column names: rows travel to and from PostgreSQL as JSON
//! (`to_jsonb` to load, `jsonb_populate_recordset` to write; generated columns such as the size
//! class and completion percentages are PostgreSQL's to compute), so a row is one value in one
//! statement however many columns it has. Dates and timestamps stay in their text form (the
//! projection only copies them); areas are decimal text, added up through [`domain::Mu`].

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::store::Table;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitRow {
    pub unit_id: String,
    pub name: String,
    pub unit_kind: String,
    pub created_at: String,
    pub updated_at: String,
}

pub const UNITS: Table = Table {
    name: "units",
    key: &["unit_id"],
    numeric: &[],
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectRow {
    pub project_id: Uuid,
    pub name: String,
    pub project_kind: String,
    pub investor_name: String,
    pub investor_type: String,
    pub industry_chain: String,
    pub industrial: bool,
    pub unit_id: String,
    pub lead_official: String,
    pub stage: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub intended_investment_yuan: i64,
    pub contract_investment_yuan: Option<i64>,
    pub fixed_asset_investment_yuan: Option<i64>,
    pub filed_investment_yuan: Option<i64>,
    pub planned_investment_yuan: Option<i64>,
    pub planned_year: Option<i32>,
    pub land_demand_mu: Option<String>,
    pub land_delivered_mu: String,
    pub project_code: Option<String>,
    pub approval_route: Option<String>,
    pub credit_code: Option<String>,
    pub company_name: Option<String>,
    pub registered_capital_yuan: Option<i64>,
    pub registered_date: String,
    pub framework_signed_date: Option<String>,
    pub contract_signed_date: Option<String>,
    pub planned_start_period: Option<String>,
    pub contract_planned_start_period: Option<String>,
    pub planned_completion_period: Option<String>,
    pub planned_production_period: Option<String>,
    pub start_date: Option<String>,
    pub completion_date: Option<String>,
    pub production_date: Option<String>,
    pub production_full: bool,
    pub abandoned_date: Option<String>,
    pub cumulative_investment_yuan: i64,
    pub cumulative_funds_yuan: i64,
    pub ytd_investment_yuan: i64,
    pub start_light: Option<String>,
    pub investment_light: Option<String>,
    pub light: Option<String>,
    pub stream_version: i64,
    pub created_at: String,
    pub updated_at: String,
}

pub const PROJECTS: Table = Table {
    name: "projects",
    key: &["project_id"],
    numeric: &["land_demand_mu", "land_delivered_mu"],
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssignmentRow {
    pub project_id: Uuid,
    pub seq: i64,
    pub unit_id: String,
    pub lead_official: String,
    pub effective_date: String,
    pub recorded_at: String,
}

pub const ASSIGNMENTS: Table = Table {
    name: "project_assignments",
    key: &["project_id", "seq"],
    numeric: &[],
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgreementRow {
    pub project_id: Uuid,
    pub seq: i64,
    pub agreement_kind: String,
    pub signed_date: String,
    pub contract_investment_yuan: i64,
    pub fixed_asset_investment_yuan: i64,
    pub land_demand_mu: String,
    pub planned_start_period: String,
    pub planned_completion_period: String,
    pub planned_production_period: String,
    pub recorded_at: String,
}

pub const AGREEMENTS: Table = Table {
    name: "agreements",
    key: &["project_id", "seq"],
    numeric: &["land_demand_mu"],
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnnualPlanRow {
    pub project_id: Uuid,
    pub plan_year: i32,
    pub revision: i32,
    pub planned_investment_yuan: i64,
    pub planned_start_period: Option<String>,
    pub reason: Option<String>,
    pub is_current: bool,
    pub recorded_at: String,
}

pub const ANNUAL_PLANS: Table = Table {
    name: "annual_plans",
    key: &["project_id", "plan_year", "revision"],
    numeric: &[],
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MilestoneRow {
    pub project_id: Uuid,
    pub milestone: String,
    pub business_date: String,
    pub recorded_at: String,
}

pub const MILESTONES: Table = Table {
    name: "project_milestones",
    key: &["project_id", "milestone"],
    numeric: &[],
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvestmentReportRow {
    pub project_id: Uuid,
    pub period: String,
    pub revision: i32,
    pub completed_investment_yuan: i64,
    pub funds_in_place_yuan: i64,
    pub reason: Option<String>,
    pub actor: String,
    pub recorded_at: String,
    pub progress_narrative: Option<String>,
    pub problems: Option<String>,
}

pub const INVESTMENT_REPORTS: Table = Table {
    name: "monthly_investment_reports",
    key: &["project_id", "period", "revision"],
    numeric: &[],
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthlyRow {
    pub project_id: Uuid,
    pub period: String,
    pub reported_completed_investment_yuan: i64,
    pub reported_funds_in_place_yuan: i64,
    pub completed_investment_yuan: i64,
    pub funds_in_place_yuan: i64,
    pub correction_count: i32,
    pub reported_at: String,
    pub corrected_at: Option<String>,
    pub progress_narrative: Option<String>,
    pub problems: Option<String>,
}

pub const MONTHLY: Table = Table {
    name: "monthly_investment",
    key: &["project_id", "period"],
    numeric: &[],
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpropriationTargetRow {
    pub project_id: Uuid,
    pub area_mu: String,
    pub households: i64,
    pub graves: i64,
    pub township: String,
    pub deadline_date: String,
    pub recorded_at: String,
}

pub const EXPROPRIATION_TARGETS: Table = Table {
    name: "expropriation_targets",
    key: &["project_id"],
    numeric: &["area_mu"],
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpropriationReportRow {
    pub project_id: Uuid,
    pub seq: i64,
    pub as_of_date: String,
    pub area_mu: String,
    pub households_signed: i64,
    pub households_relocated: i64,
    pub graves_moved: i64,
    pub compensation_yuan: i64,
    pub recorded_at: String,
}

pub const EXPROPRIATION_REPORTS: Table = Table {
    name: "expropriation_reports",
    key: &["project_id", "seq"],
    numeric: &["area_mu"],
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpropriationProgressRow {
    pub project_id: Uuid,
    pub target_area_mu: Option<String>,
    pub target_households: Option<i64>,
    pub target_graves: Option<i64>,
    pub deadline_date: Option<String>,
    pub as_of_date: Option<String>,
    pub area_mu: String,
    pub households_signed: i64,
    pub households_relocated: i64,
    pub graves_moved: i64,
    pub compensation_yuan: i64,
    pub land_delivered_mu: String,
    pub updated_at: String,
}

pub const EXPROPRIATION_PROGRESS: Table = Table {
    name: "expropriation_progress",
    key: &["project_id"],
    numeric: &["target_area_mu", "area_mu", "land_delivered_mu"],
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LandDeliveryRow {
    pub project_id: Uuid,
    pub parcel_no: String,
    pub area_mu: String,
    pub delivered_date: String,
    pub recorded_at: String,
}

pub const LAND_DELIVERIES: Table = Table {
    name: "land_deliveries",
    key: &["project_id", "parcel_no"],
    numeric: &["area_mu"],
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetRow {
    pub target_year: i32,
    pub scope: String,
    pub metric: String,
    pub revision: i32,
    pub target_value: String,
    pub reason: Option<String>,
    pub is_current: bool,
    pub recorded_at: String,
}

pub const TARGETS: Table = Table {
    name: "targets",
    key: &["target_year", "scope", "metric", "revision"],
    numeric: &["target_value"],
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupervisionItemRow {
    pub item_id: Uuid,
    pub project_id: Uuid,
    pub title: String,
    pub category: String,
    pub lead_unit_id: String,
    pub co_unit_ids: Vec<String>,
    pub opened_date: String,
    pub deadline_date: String,
    pub item_status: String,
    pub feedback_count: i32,
    pub last_feedback_date: Option<String>,
    pub extension_count: i32,
    pub closed_date: Option<String>,
    pub closed_at: Option<String>,
    pub accountability_count: i32,
    pub due_soon: bool,
    pub overdue: bool,
    pub opened_at: String,
    pub updated_at: String,
}

pub const SUPERVISION_ITEMS: Table = Table {
    name: "supervision_items",
    key: &["item_id"],
    numeric: &[],
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountabilityRow {
    pub item_id: Uuid,
    pub seq: i64,
    pub action: String,
    pub subject: String,
    pub action_date: String,
    pub recorded_at: String,
}

pub const ACCOUNTABILITY: Table = Table {
    name: "accountability_records",
    key: &["item_id", "seq"],
    numeric: &[],
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleSettingRow {
    pub seq: i64,
    pub rule: String,
    pub settings: serde_json::Value,
    pub reason: Option<String>,
    pub recorded_at: String,
}

pub const RULE_SETTINGS: Table = Table {
    name: "rule_settings",
    key: &["seq"],
    numeric: &[],
};
