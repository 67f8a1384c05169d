//! Rows of the ledger's tables as the projection holds them in memory during a batch.
//!
//! Field names are the column names: rows travel to and from PostgreSQL as JSON
//! (`row_to_json` to load, `jsonb_populate_recordset` to write), so a row is one value in one
//! statement however many columns it has. Dates and timestamps stay in their text form (the
//! projection only copies them); areas are decimal text, added up through [`domain::Mu`].

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::sql::Table;

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
    columns: &["unit_id", "name", "unit_kind", "created_at", "updated_at"],
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
    pub size_class: String,
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
    columns: &[
        "project_id",
        "name",
        "project_kind",
        "investor_name",
        "investor_type",
        "industry_chain",
        "industrial",
        "unit_id",
        "lead_official",
        "stage",
        "status",
        "status_reason",
        "size_class",
        "intended_investment_yuan",
        "contract_investment_yuan",
        "fixed_asset_investment_yuan",
        "filed_investment_yuan",
        "planned_investment_yuan",
        "planned_year",
        "land_demand_mu",
        "land_delivered_mu",
        "project_code",
        "approval_route",
        "credit_code",
        "company_name",
        "registered_capital_yuan",
        "registered_date",
        "framework_signed_date",
        "contract_signed_date",
        "planned_start_period",
        "contract_planned_start_period",
        "planned_completion_period",
        "planned_production_period",
        "start_date",
        "completion_date",
        "production_date",
        "production_full",
        "abandoned_date",
        "cumulative_investment_yuan",
        "cumulative_funds_yuan",
        "ytd_investment_yuan",
        "start_light",
        "investment_light",
        "light",
        "stream_version",
        "created_at",
        "updated_at",
    ],
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
    columns: &[
        "project_id",
        "seq",
        "unit_id",
        "lead_official",
        "effective_date",
        "recorded_at",
    ],
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
    columns: &[
        "project_id",
        "seq",
        "agreement_kind",
        "signed_date",
        "contract_investment_yuan",
        "fixed_asset_investment_yuan",
        "land_demand_mu",
        "planned_start_period",
        "planned_completion_period",
        "planned_production_period",
        "recorded_at",
    ],
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
    columns: &[
        "project_id",
        "plan_year",
        "revision",
        "planned_investment_yuan",
        "planned_start_period",
        "reason",
        "is_current",
        "recorded_at",
    ],
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
    columns: &["project_id", "milestone", "business_date", "recorded_at"],
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
}

pub const INVESTMENT_REPORTS: Table = Table {
    name: "monthly_investment_reports",
    key: &["project_id", "period", "revision"],
    columns: &[
        "project_id",
        "period",
        "revision",
        "completed_investment_yuan",
        "funds_in_place_yuan",
        "reason",
        "actor",
        "recorded_at",
    ],
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
}

pub const MONTHLY: Table = Table {
    name: "monthly_investment",
    key: &["project_id", "period"],
    columns: &[
        "project_id",
        "period",
        "reported_completed_investment_yuan",
        "reported_funds_in_place_yuan",
        "completed_investment_yuan",
        "funds_in_place_yuan",
        "correction_count",
        "reported_at",
        "corrected_at",
    ],
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
    columns: &[
        "project_id",
        "area_mu",
        "households",
        "graves",
        "township",
        "deadline_date",
        "recorded_at",
    ],
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
    columns: &[
        "project_id",
        "seq",
        "as_of_date",
        "area_mu",
        "households_signed",
        "households_relocated",
        "graves_moved",
        "compensation_yuan",
        "recorded_at",
    ],
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
    pub area_completion_pct: Option<String>,
    pub households_completion_pct: Option<String>,
    pub land_delivered_mu: String,
    pub updated_at: String,
}

pub const EXPROPRIATION_PROGRESS: Table = Table {
    name: "expropriation_progress",
    key: &["project_id"],
    columns: &[
        "project_id",
        "target_area_mu",
        "target_households",
        "target_graves",
        "deadline_date",
        "as_of_date",
        "area_mu",
        "households_signed",
        "households_relocated",
        "graves_moved",
        "compensation_yuan",
        "area_completion_pct",
        "households_completion_pct",
        "land_delivered_mu",
        "updated_at",
    ],
    numeric: &[
        "target_area_mu",
        "area_mu",
        "area_completion_pct",
        "households_completion_pct",
        "land_delivered_mu",
    ],
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
    columns: &[
        "project_id",
        "parcel_no",
        "area_mu",
        "delivered_date",
        "recorded_at",
    ],
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
    columns: &[
        "target_year",
        "scope",
        "metric",
        "revision",
        "target_value",
        "reason",
        "is_current",
        "recorded_at",
    ],
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
    columns: &[
        "item_id",
        "project_id",
        "title",
        "category",
        "lead_unit_id",
        "co_unit_ids",
        "opened_date",
        "deadline_date",
        "item_status",
        "feedback_count",
        "last_feedback_date",
        "extension_count",
        "closed_date",
        "closed_at",
        "accountability_count",
        "due_soon",
        "overdue",
        "opened_at",
        "updated_at",
    ],
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
    columns: &[
        "item_id",
        "seq",
        "action",
        "subject",
        "action_date",
        "recorded_at",
    ],
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
    columns: &["seq", "rule", "settings", "reason", "recorded_at"],
    numeric: &[],
};
