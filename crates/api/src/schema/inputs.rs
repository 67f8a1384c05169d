//! Mutation inputs: one per domain command, each turned into the command it names. Values are
//! checked by the domain's own parsers here, so a bad amount or date is refused with the domain's
//! code (`MONEY_OUT_OF_RANGE`, `DATE_INVALID`…) and the input field at fault.

use async_graphql::{ID, InputObject};
use domain::project::{self as p, ProjectCommand};
use domain::rules::{self as r, RulesCommand};
use domain::supervision::{self as s, SupervisionCommand};
use domain::targets::{self as t, TargetsCommand};
use domain::unit::{self as u, UnitCommand};
use domain::{ProjectCode, ProjectId, SupervisionItemId, UnitId, Uscc};

use super::enums::*;
use super::relay::key_of;
use super::scalars::{Date, Decimal, Mu, Period, Wan, Yuan, amount};
use crate::error::{ApiError, ApiResult};

/// How a write is identified and guarded (写入控制).
#[derive(InputObject, Debug, Clone)]
pub struct WriteOptions {
    /// Chosen by the client, one per intended change (e.g. a UUID made when the form opens).
    /// Sending the same command again with the same key changes nothing and returns the first
    /// result, so a client can retry after a timeout without fear; the key with any other
    /// command (other figures, another month or record) is refused with
    /// IDEMPOTENCY_KEY_REUSED. 幂等键（同一键只能用于同一指令）
    pub idempotency_key: String,
    /// The record's version the client last saw (`version` of the read model): when set and
    /// the record has changed since, the command is refused with CONFLICT. 预期版本号
    pub expected_version: Option<i64>,
}

pub fn unit_id(field: &str, v: &str) -> ApiResult<UnitId> {
    let key = key_of("Unit", v)?;
    UnitId::parse(&key).map_err(|e| ApiError::value(field, e))
}

pub fn project_id(field: &str, v: &str) -> ApiResult<ProjectId> {
    let key = key_of("Project", v)?;
    ProjectId::parse(&key).map_err(|e| ApiError::value(field, e))
}

pub fn item_id(field: &str, v: &str) -> ApiResult<SupervisionItemId> {
    let key = key_of("SupervisionItem", v)?;
    SupervisionItemId::parse(&key).map_err(|e| ApiError::value(field, e))
}

fn count(field: &str, v: i32) -> ApiResult<u32> {
    u32::try_from(v).map_err(|_| {
        ApiError::validation(
            field,
            format!("{field} must not be negative"),
            format!("{field} 不能为负数"),
        )
    })
}

/// Register a new project lead (登记项目).
#[derive(InputObject, Debug, Clone)]
pub struct RegisterProjectInput {
    #[graphql(flatten)]
    pub write: WriteOptions,
    /// UUID for the new project; when absent it is derived from the idempotency key, so a
    /// retry registers the same project. 项目编号（可选）
    pub project_id: Option<ID>,
    /// Project name. 项目名称
    pub name: String,
    /// Kind. 项目类型
    pub kind: ProjectKind,
    /// Investor's name. 投资方
    pub investor_name: String,
    /// Investor type. 投资方类型
    pub investor_type: InvestorType,
    /// Industry chain. 产业链
    pub industry_chain: String,
    /// Industrial project. 是否工业项目
    pub industrial: bool,
    /// Intended investment, yuan. 意向投资额（元）
    pub intended_investment: Yuan,
    /// Responsible unit's slug. 责任单位
    pub responsible_unit: String,
    /// Leading official. 包联领导
    pub lead_official: String,
    /// Date of registration. 登记日期
    pub date: Date,
}

impl RegisterProjectInput {
    pub fn command(&self) -> ApiResult<ProjectCommand> {
        Ok(ProjectCommand::Register(p::ProjectRegistered {
            name: self.name.clone(),
            kind: self.kind.into(),
            investor_name: self.investor_name.clone(),
            investor_type: self.investor_type.into(),
            industry_chain: self.industry_chain.clone(),
            industrial: self.industrial,
            intended_investment: self.intended_investment.to_domain("intendedInvestment")?,
            responsible_unit: unit_id("responsibleUnit", &self.responsible_unit)?,
            lead_official: self.lead_official.clone(),
            date: self.date.to_domain("date")?,
        }))
    }
}

/// Declares a project command input: `$name { projectId, fields… }` and its `command()`.
macro_rules! project_input {
    ($(#[doc = $doc:literal])* $name:ident { $($(#[doc = $fdoc:literal])* $field:ident : $ty:ty),* $(,)? }
     => |$s:ident| $body:expr) => {
        $(#[doc = $doc])*
        #[derive(InputObject, Debug, Clone)]
        pub struct $name {
            #[graphql(flatten)]
            pub write: WriteOptions,
            /// The project (global ID or UUID). 项目
            pub project_id: ID,
            $($(#[doc = $fdoc])* pub $field: $ty,)*
        }

        impl $name {
            pub fn command(&self) -> ApiResult<ProjectCommand> {
                let $s = self;
                Ok($body)
            }
        }
    };
}

project_input!(
    /// Log a contact with the investor (记录对接).
    LogContactInput {
        /// Kind of contact. 对接方式
        kind: ContactKind,
        /// Date. 日期
        date: Date,
        /// Level of the leader who took part, e.g. 县级. 参与领导级别
        leader_level: String,
        /// What was discussed. 内容摘要
        summary: String,
    } => |s| ProjectCommand::LogContact(p::ContactLogged {
        kind: s.kind.into(),
        date: s.date.to_domain("date")?,
        leader_level: s.leader_level.clone(),
        summary: s.summary.clone(),
    })
);

project_input!(
    /// Sign an agreement: framework, formal contract or supplement (签约).
    SignAgreementInput {
        /// Kind of agreement. 协议类型
        kind: AgreementKind,
        /// Date signed. 签约日期
        date: Date,
        /// Contract investment, yuan. 合同投资额（元）
        contract_investment: Yuan,
        /// Fixed-asset investment, yuan. 固定资产投资额（元）
        fixed_asset_investment: Yuan,
        /// Land demand, mu. 用地需求（亩）
        land_demand: Mu,
        /// Planned start month. 计划开工月份
        planned_start: Period,
        /// Planned completion month. 计划竣工月份
        planned_completion: Period,
        /// Planned production month. 计划投产月份
        planned_production: Period,
    } => |s| ProjectCommand::SignAgreement(p::AgreementSigned {
        kind: s.kind.into(),
        date: s.date.to_domain("date")?,
        contract_investment: s.contract_investment.to_domain("contractInvestment")?,
        fixed_asset_investment: s.fixed_asset_investment.to_domain("fixedAssetInvestment")?,
        land_demand: s.land_demand.to_domain("landDemand")?,
        planned_start: s.planned_start.to_domain("plannedStart")?,
        planned_completion: s.planned_completion.to_domain("plannedCompletion")?,
        planned_production: s.planned_production.to_domain("plannedProduction")?,
    })
);

project_input!(
    /// Register the project company (注册公司).
    RegisterCompanyInput {
        /// Unified social credit code (18 characters, check character verified). 统一社会信用代码
        credit_code: String,
        /// Company name. 公司名称
        company_name: String,
        /// Registered capital, yuan. 注册资本（元）
        registered_capital: Yuan,
        /// Date registered. 注册日期
        date: Date,
    } => |s| ProjectCommand::RegisterCompany(p::CompanyRegistered {
        credit_code: Uscc::parse(&s.credit_code).map_err(|e| ApiError::value("creditCode", e))?,
        company_name: s.company_name.clone(),
        registered_capital: s.registered_capital.to_domain("registeredCapital")?,
        date: s.date.to_domain("date")?,
    })
);

project_input!(
    /// Assign the national project code (赋码).
    AssignProjectCodeInput {
        /// Project code, e.g. `2026-330100-44-01-012345`. 项目代码
        code: String,
        /// Approval route. 审批方式
        route: ApprovalRoute,
        /// Total investment filed, yuan. 备案总投资（元）
        filed_total_investment: Yuan,
        /// Date. 赋码日期
        date: Date,
    } => |s| ProjectCommand::AssignProjectCode(p::ProjectCodeAssigned {
        code: ProjectCode::parse(&s.code).map_err(|e| ApiError::value("code", e))?,
        route: s.route.into(),
        filed_total_investment: s.filed_total_investment.to_domain("filedTotalInvestment")?,
        date: s.date.to_domain("date")?,
    })
);

project_input!(
    /// Record an approval obtained (办理审批).
    RecordApprovalInput {
        /// The approval. 审批事项
        item: ApprovalItem,
        /// Document number. 文号
        document_no: String,
        /// Date. 批复日期
        date: Date,
    } => |s| ProjectCommand::RecordApproval(p::ApprovalObtained {
        item: s.item.into(),
        document_no: s.document_no.clone(),
        date: s.date.to_domain("date")?,
    })
);

project_input!(
    /// Set or revise the project's annual investment plan (下达年度计划).
    SetAnnualPlanInput {
        /// Plan year. 计划年度
        year: i32,
        /// Planned investment, yuan. 计划投资（元）
        planned_investment: Yuan,
        /// Planned start month, for projects to start this year. 计划开工月份
        planned_start_month: Option<Period>,
        /// Original or revised. 计划类型
        kind: PlanKind,
        /// Reason (required for a revision). 调整原因
        reason: Option<String>,
    } => |s| ProjectCommand::SetAnnualPlan(p::AnnualPlanSet {
        year: s.year,
        planned_investment: s.planned_investment.to_domain("plannedInvestment")?,
        planned_start_month: s
            .planned_start_month
            .as_ref()
            .map(|m| m.to_domain("plannedStartMonth"))
            .transpose()?,
        kind: s.kind.into(),
        reason: s.reason.clone(),
    })
);

project_input!(
    /// Set the land expropriation target (下达征迁任务).
    SetExpropriationTargetInput {
        /// Area, mu. 征收面积（亩）
        area: Mu,
        /// Households. 户数
        households: i32,
        /// Graves. 坟墓数
        graves: i32,
        /// Township doing the work. 实施乡镇
        township: String,
        /// Deadline. 完成时限
        deadline: Date,
    } => |s| ProjectCommand::SetExpropriationTarget(p::ExpropriationTargetSet {
        area: s.area.to_domain("area")?,
        households: count("households", s.households)?,
        graves: count("graves", s.graves)?,
        township: s.township.clone(),
        deadline: s.deadline.to_domain("deadline")?,
    })
);

project_input!(
    /// Report cumulative expropriation progress (报送征迁进度).
    ReportExpropriationProgressInput {
        /// Progress as of this date. 截至日期
        as_of: Date,
        /// Area acquired so far, mu. 累计征收面积（亩）
        area_acquired: Mu,
        /// Households signed so far. 累计签约户数
        households_signed: i32,
        /// Households relocated so far. 累计搬迁户数
        households_relocated: i32,
        /// Graves moved so far. 累计迁坟数
        graves_moved: i32,
        /// Compensation paid so far, yuan. 累计补偿款（元）
        compensation_paid: Yuan,
    } => |s| ProjectCommand::ReportExpropriationProgress(p::ExpropriationProgressReported {
        as_of: s.as_of.to_domain("asOf")?,
        area_acquired: s.area_acquired.to_domain("areaAcquired")?,
        households_signed: count("householdsSigned", s.households_signed)?,
        households_relocated: count("householdsRelocated", s.households_relocated)?,
        graves_moved: count("gravesMoved", s.graves_moved)?,
        compensation_paid: s.compensation_paid.to_domain("compensationPaid")?,
    })
);

project_input!(
    /// Deliver a land parcel (交地).
    DeliverLandInput {
        /// Parcel number. 地块编号
        parcel_no: String,
        /// Area, mu. 面积（亩）
        area: Mu,
        /// Date. 交地日期
        date: Date,
    } => |s| ProjectCommand::DeliverLand(p::LandDelivered {
        parcel_no: s.parcel_no.clone(),
        area: s.area.to_domain("area")?,
        date: s.date.to_domain("date")?,
    })
);

project_input!(
    /// Start construction (开工).
    StartConstructionInput {
        /// Date. 开工日期
        date: Date,
        /// Evidence, e.g. the construction permit. 开工佐证
        evidence: String,
    } => |s| ProjectCommand::StartConstruction(p::ConstructionStarted {
        date: s.date.to_domain("date")?,
        evidence: s.evidence.clone(),
    })
);

project_input!(
    /// Report a month's investment (月度投资报送).
    ReportInvestmentInput {
        /// The month. 报表期
        period: Period,
        /// Completed investment of the month, yuan (or give completedInvestmentWan).
        /// 当月完成投资（元）
        completed_investment: Option<Yuan>,
        /// Completed investment of the month in 万元, instead of completedInvestment.
        /// 当月完成投资（万元）
        completed_investment_wan: Option<Wan>,
        /// Funds in place in the month, yuan (or give fundsInPlaceWan). 当月到位资金（元）
        funds_in_place: Option<Yuan>,
        /// Funds in place in the month in 万元, instead of fundsInPlace. 当月到位资金（万元）
        funds_in_place_wan: Option<Wan>,
        /// Progress narrative, free text. 形象进度
        progress_narrative: Option<String>,
        /// Problems holding the project up, free text. 存在问题
        problems: Option<String>,
    } => |s| ProjectCommand::ReportInvestment(p::InvestmentReported {
        period: s.period.to_domain("period")?,
        completed_investment: amount(
            "completedInvestment",
            s.completed_investment,
            s.completed_investment_wan.as_ref(),
        )?,
        funds_in_place: amount("fundsInPlace", s.funds_in_place, s.funds_in_place_wan.as_ref())?,
        progress_narrative: s.progress_narrative.clone(),
        problems: s.problems.clone(),
    })
);

project_input!(
    /// Correct a month's reported investment, with a reason (更正月度投资).
    CorrectInvestmentReportInput {
        /// The month. 报表期
        period: Period,
        /// Corrected completed investment, yuan (or give completedInvestmentWan).
        /// 更正后完成投资（元）
        completed_investment: Option<Yuan>,
        /// Corrected completed investment in 万元. 更正后完成投资（万元）
        completed_investment_wan: Option<Wan>,
        /// Corrected funds in place, yuan (or give fundsInPlaceWan). 更正后到位资金（元）
        funds_in_place: Option<Yuan>,
        /// Corrected funds in place in 万元. 更正后到位资金（万元）
        funds_in_place_wan: Option<Wan>,
        /// Why. 更正原因
        reason: String,
        /// Progress narrative after the correction (null: none). 形象进度
        progress_narrative: Option<String>,
        /// Problems after the correction (null: none). 存在问题
        problems: Option<String>,
    } => |s| ProjectCommand::CorrectInvestmentReport(p::InvestmentReportCorrected {
        period: s.period.to_domain("period")?,
        completed_investment: amount(
            "completedInvestment",
            s.completed_investment,
            s.completed_investment_wan.as_ref(),
        )?,
        funds_in_place: amount("fundsInPlace", s.funds_in_place, s.funds_in_place_wan.as_ref())?,
        reason: s.reason.clone(),
        progress_narrative: s.progress_narrative.clone(),
        problems: s.problems.clone(),
    })
);

project_input!(
    /// Complete construction (竣工).
    CompleteConstructionInput {
        /// Date. 竣工日期
        date: Date,
    } => |s| ProjectCommand::CompleteConstruction(p::ConstructionCompleted {
        date: s.date.to_domain("date")?,
    })
);

project_input!(
    /// Start production (投产).
    StartProductionInput {
        /// Date. 投产日期
        date: Date,
        /// Partial or full. 投产类型
        kind: ProductionKind,
    } => |s| ProjectCommand::StartProduction(p::ProductionStarted {
        date: s.date.to_domain("date")?,
        kind: s.kind.into(),
    })
);

project_input!(
    /// Change the project's status (变更状态).
    ChangeProjectStatusInput {
        /// New status (use abandonProject to abandon). 新状态
        status: ProjectStatus,
        /// Why. 原因
        reason: String,
        /// Date. 日期
        date: Date,
    } => |s| ProjectCommand::ChangeStatus(p::StatusChanged {
        status: s.status.into(),
        reason: s.reason.clone(),
        date: s.date.to_domain("date")?,
    })
);

project_input!(
    /// Abandon the project (终止项目).
    AbandonProjectInput {
        /// Why. 终止原因
        reason: String,
        /// Date. 日期
        date: Date,
    } => |s| ProjectCommand::Abandon(p::ProjectAbandoned {
        reason: s.reason.clone(),
        date: s.date.to_domain("date")?,
    })
);

project_input!(
    /// Assign the responsible unit and leading official (调整责任单位).
    AssignResponsibilityInput {
        /// Responsible unit's slug. 责任单位
        responsible_unit: String,
        /// Leading official. 包联领导
        lead_official: String,
        /// Effective date. 生效日期
        date: Date,
    } => |s| ProjectCommand::AssignResponsibility(p::ResponsibilityAssigned {
        responsible_unit: unit_id("responsibleUnit", &s.responsible_unit)?,
        lead_official: s.lead_official.clone(),
        date: s.date.to_domain("date")?,
    })
);

/// Report many projects' monthly investment at once (批量报送月度投资).
#[derive(InputObject, Debug, Clone)]
pub struct ReportInvestmentsInput {
    /// Key of the whole batch; each item's key is derived from it and the item's project and
    /// month, so retrying the batch never reports twice; the key with other figures is refused
    /// with IDEMPOTENCY_KEY_REUSED. 批次幂等键
    pub idempotency_key: String,
    /// The reports. 报表
    pub items: Vec<BatchReportItem>,
}

/// One project's report in a batch (批量报送条目).
#[derive(InputObject, Debug, Clone)]
pub struct BatchReportItem {
    /// The project (global ID or UUID). 项目
    pub project_id: ID,
    /// The project's version the client saw; refused with CONFLICT if it changed. 预期版本号
    pub expected_version: Option<i64>,
    /// The month. 报表期
    pub period: Period,
    /// Completed investment of the month, yuan (or give completedInvestmentWan).
    /// 当月完成投资（元）
    pub completed_investment: Option<Yuan>,
    /// Completed investment of the month in 万元. 当月完成投资（万元）
    pub completed_investment_wan: Option<Wan>,
    /// Funds in place in the month, yuan (or give fundsInPlaceWan). 当月到位资金（元）
    pub funds_in_place: Option<Yuan>,
    /// Funds in place in the month in 万元. 当月到位资金（万元）
    pub funds_in_place_wan: Option<Wan>,
    /// Progress narrative, free text. 形象进度
    pub progress_narrative: Option<String>,
    /// Problems holding the project up, free text. 存在问题
    pub problems: Option<String>,
    /// When given, the item corrects the month's report (which must exist) for this reason
    /// instead of reporting it; a spreadsheet row with a changed figure for a reported month
    /// becomes such an item. 更正原因（填写则为更正）
    pub correction_reason: Option<String>,
}

impl BatchReportItem {
    pub fn command(&self) -> ApiResult<ProjectCommand> {
        let period = self.period.to_domain("period")?;
        let completed_investment = amount(
            "completedInvestment",
            self.completed_investment,
            self.completed_investment_wan.as_ref(),
        )?;
        let funds_in_place = amount(
            "fundsInPlace",
            self.funds_in_place,
            self.funds_in_place_wan.as_ref(),
        )?;
        let progress_narrative = self.progress_narrative.clone();
        let problems = self.problems.clone();
        Ok(match &self.correction_reason {
            None => ProjectCommand::ReportInvestment(p::InvestmentReported {
                period,
                completed_investment,
                funds_in_place,
                progress_narrative,
                problems,
            }),
            Some(reason) => ProjectCommand::CorrectInvestmentReport(p::InvestmentReportCorrected {
                period,
                completed_investment,
                funds_in_place,
                reason: reason.clone(),
                progress_narrative,
                problems,
            }),
        })
    }
}

/// Create a responsible unit (新增责任单位).
#[derive(InputObject, Debug, Clone)]
pub struct CreateUnitInput {
    #[graphql(flatten)]
    pub write: WriteOptions,
    /// Slug: 1–64 of a-z, 0-9 and '-', e.g. `xinan-town`. 单位标识
    pub unit_id: String,
    /// Name. 单位名称
    pub name: String,
    /// Kind. 单位类型
    pub kind: UnitKind,
    /// Date. 日期
    pub date: Date,
}

impl CreateUnitInput {
    pub fn command(&self) -> ApiResult<UnitCommand> {
        Ok(UnitCommand::Create(u::UnitCreated {
            name: self.name.clone(),
            kind: self.kind.into(),
            date: self.date.to_domain("date")?,
        }))
    }
}

/// Rename a unit (单位更名).
#[derive(InputObject, Debug, Clone)]
pub struct RenameUnitInput {
    #[graphql(flatten)]
    pub write: WriteOptions,
    /// The unit (slug or global ID). 单位
    pub unit_id: String,
    /// New name. 新名称
    pub name: String,
    /// Why. 原因
    pub reason: String,
    /// Date. 日期
    pub date: Date,
}

impl RenameUnitInput {
    pub fn command(&self) -> ApiResult<UnitCommand> {
        Ok(UnitCommand::Rename(u::UnitRenamed {
            name: self.name.clone(),
            reason: self.reason.clone(),
            date: self.date.to_domain("date")?,
        }))
    }
}

/// Set or revise an annual target (下达/调整年度目标).
#[derive(InputObject, Debug, Clone)]
pub struct TargetInput {
    #[graphql(flatten)]
    pub write: WriteOptions,
    /// The year. 年度
    pub year: i32,
    /// A unit's slug; the county target when absent. 单位（空为全县）
    pub unit: Option<String>,
    /// The metric. 指标
    pub metric: TargetMetric,
    /// The value in the metric's unit: whole yuan for money, a whole count for projects, mu
    /// with up to 4 decimals for area. 目标值
    pub value: Decimal,
    /// Why (required to revise). 调整原因
    pub reason: Option<String>,
}

impl TargetInput {
    fn parts(&self) -> ApiResult<(t::TargetScope, t::TargetMetric, t::TargetValue)> {
        let scope = match &self.unit {
            Some(u) => t::TargetScope::Unit(unit_id("unit", u)?),
            None => t::TargetScope::County,
        };
        let metric: t::TargetMetric = self.metric.into();
        let text = self.value.0.trim();
        let bad = |unit_en: &str, unit_zh: &str| {
            ApiError::validation(
                "value",
                format!("{text:?} is not {unit_en}"),
                format!("目标值 {text:?} 不是{unit_zh}"),
            )
        };
        let value = match self.metric {
            TargetMetric::CompletedInvestment
            | TargetMetric::FundsInPlace
            | TargetMetric::SignedInvestment => {
                let v: i64 = text
                    .parse()
                    .map_err(|_| bad("a whole number of yuan", "整数元"))?;
                t::TargetValue::Yuan(Yuan(v).to_domain("value")?)
            }
            TargetMetric::ExpropriatedArea => {
                t::TargetValue::Mu(Mu(text.to_owned()).to_domain("value")?)
            }
            _ => t::TargetValue::Count(text.parse().map_err(|_| bad("a whole count", "整数个数"))?),
        };
        Ok((scope, metric, value))
    }

    pub fn set(&self) -> ApiResult<TargetsCommand> {
        let (scope, metric, value) = self.parts()?;
        Ok(TargetsCommand::Set(t::TargetSet {
            year: self.year,
            scope,
            metric,
            value,
        }))
    }

    pub fn revise(&self) -> ApiResult<TargetsCommand> {
        let (scope, metric, value) = self.parts()?;
        Ok(TargetsCommand::Revise(t::TargetRevised {
            year: self.year,
            scope,
            metric,
            value,
            reason: self.reason.clone().unwrap_or_default(),
        }))
    }
}

/// Open a supervision item on a project (交办督办事项).
#[derive(InputObject, Debug, Clone)]
pub struct OpenSupervisionItemInput {
    #[graphql(flatten)]
    pub write: WriteOptions,
    /// UUID for the item; derived from the idempotency key when absent. 事项编号（可选）
    pub item_id: Option<ID>,
    /// The project (global ID or UUID). 项目
    pub project_id: ID,
    /// Title. 督办事项
    pub title: String,
    /// Category. 督办类别
    pub category: SupervisionCategory,
    /// Lead unit's slug. 牵头单位
    pub lead_unit: String,
    /// Co-operating units' slugs. 配合单位
    #[graphql(default)]
    pub co_units: Vec<String>,
    /// Deadline. 办理时限
    pub deadline: Date,
    /// Date opened. 交办日期
    pub date: Date,
}

impl OpenSupervisionItemInput {
    pub fn command(&self) -> ApiResult<SupervisionCommand> {
        Ok(SupervisionCommand::Open(s::SupervisionItemOpened {
            project: project_id("projectId", &self.project_id)?,
            title: self.title.clone(),
            category: self.category.into(),
            lead_unit: unit_id("leadUnit", &self.lead_unit)?,
            co_units: self
                .co_units
                .iter()
                .map(|u| unit_id("coUnits", u))
                .collect::<ApiResult<_>>()?,
            deadline: self.deadline.to_domain("deadline")?,
            date: self.date.to_domain("date")?,
        }))
    }
}

/// Declares a supervision command input: `$name { itemId, fields… }` and its `command()`.
macro_rules! item_input {
    ($(#[doc = $doc:literal])* $name:ident { $($(#[doc = $fdoc:literal])* $field:ident : $ty:ty),* $(,)? }
     => |$s:ident| $body:expr) => {
        $(#[doc = $doc])*
        #[derive(InputObject, Debug, Clone)]
        pub struct $name {
            #[graphql(flatten)]
            pub write: WriteOptions,
            /// The supervision item (global ID or UUID). 督办事项
            pub item_id: ID,
            $($(#[doc = $fdoc])* pub $field: $ty,)*
        }

        impl $name {
            pub fn command(&self) -> ApiResult<SupervisionCommand> {
                let $s = self;
                Ok($body)
            }
        }
    };
}

item_input!(
    /// Submit feedback on an item (反馈办理情况).
    SubmitFeedbackInput {
        /// The unit reporting (lead or co-operating). 反馈单位
        unit: String,
        /// What was done. 办理情况
        content: String,
        /// Date. 日期
        date: Date,
    } => |s| SupervisionCommand::SubmitFeedback(s::FeedbackSubmitted {
        unit: unit_id("unit", &s.unit)?,
        content: s.content.clone(),
        date: s.date.to_domain("date")?,
    })
);

item_input!(
    /// Extend an item's deadline (延期).
    ExtendDeadlineInput {
        /// New deadline (later than the current). 新时限
        deadline: Date,
        /// Why. 延期原因
        reason: String,
        /// Date. 日期
        date: Date,
    } => |s| SupervisionCommand::ExtendDeadline(s::DeadlineExtended {
        deadline: s.deadline.to_domain("deadline")?,
        reason: s.reason.clone(),
        date: s.date.to_domain("date")?,
    })
);

item_input!(
    /// Request closure of an item (申请销号).
    RequestClosureInput {
        /// What was achieved. 办结情况
        summary: String,
        /// Date. 日期
        date: Date,
    } => |s| SupervisionCommand::RequestClosure(s::ClosureRequested {
        summary: s.summary.clone(),
        date: s.date.to_domain("date")?,
    })
);

item_input!(
    /// Close out an item after a closure request (销号).
    CloseSupervisionItemInput {
        /// Note. 备注
        note: Option<String>,
        /// Date. 日期
        date: Date,
    } => |s| SupervisionCommand::Close(s::ItemClosed {
        note: s.note.clone(),
        date: s.date.to_domain("date")?,
    })
);

item_input!(
    /// Return a closure request (退办).
    ReturnClosureInput {
        /// Why. 退办原因
        reason: String,
        /// Date. 日期
        date: Date,
    } => |s| SupervisionCommand::ReturnClosure(s::ClosureReturned {
        reason: s.reason.clone(),
        date: s.date.to_domain("date")?,
    })
);

item_input!(
    /// Record an accountability action (记录问责).
    RecordAccountabilityInput {
        /// Kind. 问责类型
        kind: AccountabilityKind,
        /// Person or unit held to account. 问责对象
        subject: String,
        /// Why. 原因
        reason: String,
        /// Date. 日期
        date: Date,
    } => |s| SupervisionCommand::RecordAccountability(s::AccountabilityRecorded {
        kind: s.kind.into(),
        subject: s.subject.clone(),
        reason: s.reason.clone(),
        date: s.date.to_domain("date")?,
    })
);

/// Set the traffic-light bands (设置红黄绿灯规则).
#[derive(InputObject, Debug, Clone)]
pub struct SetLightBandsInput {
    #[graphql(flatten)]
    pub write: WriteOptions,
    /// Green when the gap (completion − time progress, pp) is at least this (default −10). 绿灯下限
    pub green_min_gap: i32,
    /// Yellow from this gap up to green, red below (default −30). 黄灯下限
    pub yellow_min_gap: i32,
    /// Start light yellow this many months after the planned start (default 1). 开工黄灯月数
    pub start_yellow_months: i32,
    /// Start light red from this many months (default 3). 开工红灯月数
    pub start_red_months: i32,
    /// Why. 原因
    pub reason: String,
    /// Date. 日期
    pub date: Date,
}

impl SetLightBandsInput {
    pub fn command(&self) -> ApiResult<RulesCommand> {
        Ok(RulesCommand::SetLightBands(r::LightBandsSet {
            bands: r::LightBands {
                green_min_gap: self.green_min_gap,
                yellow_min_gap: self.yellow_min_gap,
                start_yellow_months: count("startYellowMonths", self.start_yellow_months)?,
                start_red_months: count("startRedMonths", self.start_red_months)?,
            },
            reason: self.reason.clone(),
            date: self.date.to_domain("date")?,
        }))
    }
}

/// A metric's weight in the ranking (指标权重).
#[derive(InputObject, Debug, Clone)]
pub struct MetricWeight {
    /// The metric. 指标
    pub metric: TargetMetric,
    /// Its weight (a metric left out weighs 0). 权重
    pub weight: i32,
}

/// Set the unit ranking's weights (设置排名权重).
#[derive(InputObject, Debug, Clone)]
pub struct SetRankingWeightsInput {
    #[graphql(flatten)]
    pub write: WriteOptions,
    /// Weights per metric. 指标权重
    pub weights: Vec<MetricWeight>,
    /// Completion counts up to this percent (default 150). 完成率封顶（%）
    pub completion_cap: i32,
    /// Points deducted per red project (default 2). 红灯扣分
    pub red_project_penalty: i32,
    /// Why. 原因
    pub reason: String,
    /// Date. 日期
    pub date: Date,
}

impl SetRankingWeightsInput {
    pub fn command(&self) -> ApiResult<RulesCommand> {
        let weights = self
            .weights
            .iter()
            .map(|w| Ok((w.metric.into(), count("weights", w.weight)?)))
            .collect::<ApiResult<_>>()?;
        Ok(RulesCommand::SetRankingWeights(r::RankingWeightsSet {
            ranking: r::RankingWeights {
                weights,
                completion_cap: count("completionCap", self.completion_cap)?,
                red_project_penalty: count("redProjectPenalty", self.red_project_penalty)?,
            },
            reason: self.reason.clone(),
            date: self.date.to_domain("date")?,
        }))
    }
}
