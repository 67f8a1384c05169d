//! Projects (项目): the ledger's rows in `reporting.projects`, their monthly figures, timeline
//! and expropriation progress, and the filtered, ordered, paged `projects` list.

use async_graphql::{ComplexObject, Context, ID, InputObject, SimpleObject};
use sqlx::FromRow;

use super::enums::{
    ApprovalRoute, Direction, InvestorType, Light, ProjectKind, ProjectStatus, SizeClass, Stage,
};
use super::relay::{PageArgs, connection, global_id};
use super::scalars::{Date, DateTime, Mu, Period, Yuan};
use super::{State, unit::Unit};
use crate::db::{Assembled, Bind, Database, Dialect};
use crate::error::{ApiError, ApiResult};
use crate::{bind_all, on_db};

/// The columns of [`Project`], cast to the scalars' text forms.
pub fn project_columns(d: Dialect) -> String {
    format!(
        "{} AS project_id, p.name, p.project_kind, p.investor_name, p.investor_type, \
         p.industry_chain, p.industrial, p.unit_id, p.lead_official, p.stage, p.status, p.status_reason, \
         p.size_class, p.intended_investment_yuan, p.contract_investment_yuan, p.fixed_asset_investment_yuan, \
         p.filed_investment_yuan, p.planned_investment_yuan, p.planned_year, {} AS land_demand_mu, \
         {} AS land_delivered_mu, p.project_code, p.approval_route, p.credit_code, \
         p.company_name, p.registered_capital_yuan, {} AS registered_date, \
         {} AS framework_signed_date, {} AS contract_signed_date, \
         p.planned_start_period, p.planned_completion_period, p.planned_production_period, \
         {} AS start_date, {} AS completion_date, \
         {} AS production_date, p.production_full, {} AS abandoned_date, \
         p.cumulative_investment_yuan, p.cumulative_funds_yuan, p.ytd_investment_yuan, p.start_light, \
         p.investment_light, p.light, p.stream_version, {} AS updated_at",
        d.text("p.project_id"),
        d.text("p.land_demand_mu"),
        d.text("p.land_delivered_mu"),
        d.text("p.registered_date"),
        d.text("p.framework_signed_date"),
        d.text("p.contract_signed_date"),
        d.text("p.start_date"),
        d.text("p.completion_date"),
        d.text("p.production_date"),
        d.text("p.abandoned_date"),
        d.timestamp("p.updated_at")
    )
}

/// An investment project as the ledger shows it now (台账项目). Figures that depend on today's
/// date (YTD, lights) are those of the current year.
#[derive(SimpleObject, FromRow, Debug, Clone)]
#[graphql(complex)]
pub struct Project {
    /// The project's UUID (also its event stream `project-<uuid>`). 项目编号
    pub project_id: String,
    /// Project name. 项目名称
    pub name: String,
    /// Kind of project. 项目类型
    #[graphql(name = "kind")]
    pub project_kind: ProjectKind,
    /// Investor's name. 投资方
    pub investor_name: String,
    /// Type of investor. 投资方类型
    pub investor_type: InvestorType,
    /// Industry chain, e.g. 新能源. 产业链
    pub industry_chain: String,
    /// Whether it is an industrial project. 是否工业项目
    pub industrial: bool,
    /// Slug of the responsible unit. 责任单位标识
    pub unit_id: String,
    /// Leading official. 包联领导
    pub lead_official: String,
    /// Lifecycle stage. 项目阶段
    pub stage: Stage,
    /// Status. 项目状态
    pub status: ProjectStatus,
    /// Reason given with the last status change. 状态变更原因
    pub status_reason: Option<String>,
    /// Size class. 规模分类
    pub size_class: SizeClass,
    /// Intended investment at registration, yuan. 意向投资额（元）
    #[graphql(name = "intendedInvestment")]
    pub intended_investment_yuan: Yuan,
    /// Contract investment of the formal contract (as supplemented), yuan. 合同投资额（元）
    #[graphql(name = "contractInvestment")]
    pub contract_investment_yuan: Option<Yuan>,
    /// Fixed-asset investment of the contract, yuan. 固定资产投资额（元）
    #[graphql(name = "fixedAssetInvestment")]
    pub fixed_asset_investment_yuan: Option<Yuan>,
    /// Total investment filed with the project code, yuan. 备案总投资（元）
    #[graphql(name = "filedInvestment")]
    pub filed_investment_yuan: Option<Yuan>,
    /// Planned investment of the current annual plan, yuan. 年度计划投资（元）
    #[graphql(name = "plannedInvestment")]
    pub planned_investment_yuan: Option<Yuan>,
    /// Year of the current annual plan. 计划年度
    pub planned_year: Option<i32>,
    /// Land demand, mu. 用地需求（亩）
    #[graphql(name = "landDemand")]
    pub land_demand_mu: Option<Mu>,
    /// Land delivered, mu. 已交地面积（亩）
    #[graphql(name = "landDelivered")]
    pub land_delivered_mu: Mu,
    /// National project code. 项目代码
    pub project_code: Option<String>,
    /// Approval route of the project code, the same enum as `assignProjectCode`'s input.
    /// 审批方式
    pub approval_route: Option<ApprovalRoute>,
    /// Unified social credit code of the project company. 统一社会信用代码
    pub credit_code: Option<String>,
    /// Project company. 项目公司
    pub company_name: Option<String>,
    /// Registered capital, yuan. 注册资本（元）
    #[graphql(name = "registeredCapital")]
    pub registered_capital_yuan: Option<Yuan>,
    /// Date the project was registered. 登记日期
    pub registered_date: Date,
    /// Date the framework agreement was signed. 框架协议签约日期
    pub framework_signed_date: Option<Date>,
    /// Date the formal contract was signed. 正式合同签约日期
    pub contract_signed_date: Option<Date>,
    /// Planned start month. 计划开工月份
    pub planned_start_period: Option<Period>,
    /// Planned completion month. 计划竣工月份
    pub planned_completion_period: Option<Period>,
    /// Planned production month. 计划投产月份
    pub planned_production_period: Option<Period>,
    /// Construction start date. 开工日期
    pub start_date: Option<Date>,
    /// Completion date. 竣工日期
    pub completion_date: Option<Date>,
    /// Production start date. 投产日期
    pub production_date: Option<Date>,
    /// Whether production is full. 是否全面投产
    pub production_full: bool,
    /// Date abandoned. 终止日期
    pub abandoned_date: Option<Date>,
    /// Completed investment since the start, yuan. 累计完成投资（元）
    #[graphql(name = "cumulativeInvestment")]
    pub cumulative_investment_yuan: Yuan,
    /// Funds in place since the start, yuan. 累计到位资金（元）
    #[graphql(name = "cumulativeFunds")]
    pub cumulative_funds_yuan: Yuan,
    /// Completed investment this year, yuan. 本年完成投资（元）
    #[graphql(name = "ytdInvestment")]
    pub ytd_investment_yuan: Yuan,
    /// Start light. 开工灯
    pub start_light: Option<Light>,
    /// Investment light. 投资进度灯
    pub investment_light: Option<Light>,
    /// Worst of the two lights. 综合灯
    pub light: Option<Light>,
    /// Version of the project's stream: pass it as `expectedVersion` to refuse a change
    /// based on a stale view. 版本号
    #[graphql(name = "version")]
    pub stream_version: i64,
    /// When the row last changed. 更新时间
    pub updated_at: DateTime,
}

#[ComplexObject]
impl Project {
    /// Global ID (Relay). 全局 ID
    pub async fn id(&self) -> ID {
        global_id("Project", &self.project_id)
    }

    /// The responsible unit. 责任单位
    async fn unit(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Unit>> {
        let state = ctx.data::<State>()?;
        Ok(super::unit::load(&state.db, &self.unit_id).await?)
    }

    /// Monthly investment figures, oldest first (after corrections). 月度投资
    async fn monthly_investment(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<MonthlyInvestment>> {
        let state = ctx.data::<State>()?;
        let d = state.dialect();
        let sql = crate::sql!(
            "SELECT period, completed_investment_yuan, funds_in_place_yuan, \
             reported_completed_investment_yuan, reported_funds_in_place_yuan, correction_count, \
             progress_narrative, problems \
             FROM {} WHERE project_id = {} ORDER BY period",
            d.table("monthly_investment"),
            d.uuid_param(1)
        );
        let rows = on_db!(&state.db, |pool| sqlx::query_as::<_, MonthlyInvestment>(
            sql
        )
        .bind(&self.project_id)
        .fetch_all(pool)
        .await)
        .map_err(ApiError::from)?;
        Ok(rows)
    }

    /// The project's history, newest first: every event with its business date, recording
    /// time, actor, and for corrections the figures before and after. 项目动态
    async fn timeline(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Items from the start (newest first). 取前 N 条")] first: Option<i32>,
        #[graphql(desc = "Cursor to read after. 从该游标之后读取")] after: Option<String>,
        #[graphql(desc = "Items from the end. 取后 N 条")] last: Option<i32>,
        #[graphql(desc = "Cursor to read before. 读取该游标之前")] before: Option<String>,
    ) -> async_graphql::Result<super::audit::TimelineConnection> {
        let state = ctx.data::<State>()?;
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        Ok(super::audit::timeline(state, &self.project_id, &args).await?)
    }

    /// Whether the project takes a monthly investment report (or its correction) for `period`:
    /// construction started, the start month or later, not after the completion month, not
    /// abandoned — the domain's own rule (`domain::project::report_window`), so a grid or a
    /// template lists exactly the projects a report can be made for. Whether the month is
    /// already reported is in `monthlyInvestment`; a future month is refused by the report
    /// itself. 可否报送该月投资
    async fn accepts_report_for(
        &self,
        #[graphql(desc = "The month. 报表期")] period: Period,
    ) -> async_graphql::Result<bool> {
        let period = period.to_domain("period")?;
        let started = self
            .start_date
            .as_ref()
            .map(|d| d.to_domain("startDate"))
            .transpose()?;
        let completed = self
            .completion_date
            .as_ref()
            .map(|d| d.to_domain("completionDate"))
            .transpose()?;
        let abandoned = self.status == ProjectStatus::Abandoned;
        Ok(domain::project::report_window(started, completed, abandoned, period).is_ok())
    }

    /// Land expropriation progress, when the project has a target. 征迁进度
    async fn expropriation(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<ExpropriationProgress>> {
        let state = ctx.data::<State>()?;
        let d = state.dialect();
        let sql = crate::sql!(
            "SELECT {} AS target_area_mu, target_households, target_graves, \
             {} AS deadline_date, {} AS as_of_date, {} AS area_mu, \
             households_signed, households_relocated, graves_moved, compensation_yuan, \
             {} AS area_completion_pct, {} AS households_completion_pct, \
             {} AS land_delivered_mu \
             FROM {} WHERE project_id = {}",
            d.text("target_area_mu"),
            d.text("deadline_date"),
            d.text("as_of_date"),
            d.text("area_mu"),
            d.float("area_completion_pct"),
            d.float("households_completion_pct"),
            d.text("land_delivered_mu"),
            d.table("expropriation_progress"),
            d.uuid_param(1)
        );
        let row = on_db!(&state.db, |pool| {
            sqlx::query_as::<_, ExpropriationProgress>(sql)
                .bind(&self.project_id)
                .fetch_optional(pool)
                .await
        })
        .map_err(ApiError::from)?;
        Ok(row)
    }

    /// Annual plans of every year, every revision. 年度计划
    async fn annual_plans(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<AnnualPlan>> {
        let state = ctx.data::<State>()?;
        let d = state.dialect();
        let sql = crate::sql!(
            "SELECT plan_year, revision, planned_investment_yuan, planned_start_period, reason, \
             is_current, {} AS recorded_at FROM {} WHERE project_id = {} \
             ORDER BY plan_year, revision",
            d.timestamp("recorded_at"),
            d.table("annual_plans"),
            d.uuid_param(1)
        );
        let rows = on_db!(&state.db, |pool| sqlx::query_as::<_, AnnualPlan>(sql)
            .bind(&self.project_id)
            .fetch_all(pool)
            .await)
        .map_err(ApiError::from)?;
        Ok(rows)
    }
}

/// One month of a project's investment (月度投资). Figures are after corrections; the
/// originally reported ones are kept beside them.
#[derive(SimpleObject, FromRow, Debug, Clone)]
pub struct MonthlyInvestment {
    /// The month. 报表期
    pub period: Period,
    /// Completed investment of the month, yuan. 当月完成投资（元）
    #[graphql(name = "completedInvestment")]
    pub completed_investment_yuan: Yuan,
    /// Funds in place in the month, yuan. 当月到位资金（元）
    #[graphql(name = "fundsInPlace")]
    pub funds_in_place_yuan: Yuan,
    /// Completed investment as first reported, yuan. 原报完成投资（元）
    #[graphql(name = "reportedCompletedInvestment")]
    pub reported_completed_investment_yuan: Yuan,
    /// Funds in place as first reported, yuan. 原报到位资金（元）
    #[graphql(name = "reportedFundsInPlace")]
    pub reported_funds_in_place_yuan: Yuan,
    /// Number of corrections. 更正次数
    pub correction_count: i32,
    /// Progress narrative, after corrections; null when none. 形象进度
    pub progress_narrative: Option<String>,
    /// Problems, after corrections; null when none. 存在问题
    pub problems: Option<String>,
}

/// An annual investment plan revision (年度投资计划).
#[derive(SimpleObject, FromRow, Debug, Clone)]
pub struct AnnualPlan {
    /// Plan year. 计划年度
    pub plan_year: i32,
    /// Revision number, 0 for the original plan. 修订号
    pub revision: i32,
    /// Planned investment, yuan. 计划投资（元）
    #[graphql(name = "plannedInvestment")]
    pub planned_investment_yuan: Yuan,
    /// Planned start month. 计划开工月份
    pub planned_start_period: Option<Period>,
    /// Reason of a revision. 调整原因
    pub reason: Option<String>,
    /// Whether this is the plan in force. 是否现行计划
    pub is_current: bool,
    /// When it was recorded. 录入时间
    pub recorded_at: DateTime,
}

/// Land expropriation progress of a project (征迁进度).
#[derive(SimpleObject, FromRow, Debug, Clone)]
pub struct ExpropriationProgress {
    /// Target area, mu. 征收目标面积（亩）
    #[graphql(name = "targetArea")]
    pub target_area_mu: Option<Mu>,
    /// Target households. 目标户数
    pub target_households: Option<i32>,
    /// Target graves. 目标坟墓数
    pub target_graves: Option<i32>,
    /// Deadline. 完成时限
    pub deadline_date: Option<Date>,
    /// Date of the latest progress report. 进度截至日期
    pub as_of_date: Option<Date>,
    /// Area acquired, mu. 已征面积（亩）
    #[graphql(name = "area")]
    pub area_mu: Mu,
    /// Households signed. 已签约户数
    pub households_signed: i32,
    /// Households relocated. 已搬迁户数
    pub households_relocated: i32,
    /// Graves moved. 已迁坟数
    pub graves_moved: i32,
    /// Compensation paid, yuan. 已付补偿款（元）
    #[graphql(name = "compensation")]
    pub compensation_yuan: Yuan,
    /// Area completion, percent. 面积完成率（%）
    pub area_completion_pct: Option<f64>,
    /// Households completion, percent. 签约户完成率（%）
    pub households_completion_pct: Option<f64>,
    /// Land delivered, mu. 已交地面积（亩）
    #[graphql(name = "landDelivered")]
    pub land_delivered_mu: Mu,
}

connection!(ProjectConnection, ProjectEdge, Project, "projects (项目)");

/// Filter of the project list; conditions combine with AND, values inside a list with OR.
/// 项目筛选条件
#[derive(InputObject, Debug, Default, Clone)]
pub struct ProjectFilter {
    /// Responsible units (slugs). 责任单位
    pub unit: Option<Vec<String>>,
    /// Lifecycle stages. 项目阶段
    pub stage: Option<Vec<Stage>>,
    /// Statuses. 项目状态
    pub status: Option<Vec<ProjectStatus>>,
    /// Lights (综合灯). 红黄绿灯
    pub light: Option<Vec<Light>>,
    /// Kinds. 项目类型
    pub kind: Option<Vec<ProjectKind>>,
    /// Investor types. 投资方类型
    pub investor_type: Option<Vec<InvestorType>>,
    /// Industry chains (exact). 产业链
    pub industry_chain: Option<Vec<String>>,
    /// Size classes. 规模分类
    pub size_class: Option<Vec<SizeClass>>,
    /// Smallest amount (contract investment, else intended), yuan. 投资额下限（元）
    pub amount_min: Option<Yuan>,
    /// Largest amount (contract investment, else intended), yuan. 投资额上限（元）
    pub amount_max: Option<Yuan>,
    /// Text contained in the project's or the investor's name. 名称包含
    pub name_contains: Option<String>,
}

/// Sortable columns of the project list. 项目排序字段
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum ProjectOrderField {
    /// Registration date. 登记日期
    #[default]
    RegisteredDate,
    /// Name. 名称
    Name,
    /// Amount (contract investment, else intended). 投资额
    Amount,
    /// Cumulative completed investment. 累计完成投资
    CumulativeInvestment,
    /// Completed investment this year. 本年完成投资
    YtdInvestment,
    /// Last change. 更新时间
    UpdatedAt,
}

/// Order of the project list. 项目排序
#[derive(InputObject, Debug, Default, Clone, Copy)]
pub struct ProjectOrder {
    /// Column to sort on. 排序字段
    #[graphql(default)]
    pub field: ProjectOrderField,
    /// Direction. 排序方向
    #[graphql(default)]
    pub direction: Direction,
}

fn words<T: Copy>(v: &Option<Vec<T>>, word: impl Fn(T) -> String) -> Option<Vec<String>> {
    v.as_ref().map(|v| v.iter().map(|x| word(*x)).collect())
}

fn push_filter(q: &mut Assembled, d: Dialect, f: &ProjectFilter) {
    q.push(" WHERE true");
    fn any(q: &mut Assembled, column: &str, values: Option<Vec<String>>) {
        if let Some(v) = values {
            q.push(&format!(" AND {column} IN "))
                .bind_list(v.into_iter().map(Bind::Text));
        }
    }
    any(q, "p.unit_id", f.unit.clone());
    any(q, "p.stage", words(&f.stage, Stage::db));
    any(q, "p.status", words(&f.status, ProjectStatus::db));
    any(q, "p.light", words(&f.light, Light::db));
    any(q, "p.project_kind", words(&f.kind, ProjectKind::db));
    any(
        q,
        "p.investor_type",
        words(&f.investor_type, InvestorType::db),
    );
    any(q, "p.industry_chain", f.industry_chain.clone());
    any(q, "p.size_class", words(&f.size_class, SizeClass::db));
    if let Some(min) = f.amount_min {
        q.push(" AND coalesce(p.contract_investment_yuan, p.intended_investment_yuan) >= ")
            .bind(Bind::Int(min.0));
    }
    if let Some(max) = f.amount_max {
        q.push(" AND coalesce(p.contract_investment_yuan, p.intended_investment_yuan) <= ")
            .bind(Bind::Int(max.0));
    }
    if let Some(text) = f.name_contains.as_deref().filter(|t| !t.trim().is_empty()) {
        let pattern = format!(
            "%{}%",
            text.trim()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let n = q.placeholder(Bind::Text(pattern));
        q.push(" AND (");
        q.push(&d.ilike("p.name", &n))
            .push(" OR ")
            .push(&d.ilike("p.investor_name", &n))
            .push(")");
    }
}

/// A page of projects.
pub async fn list(
    state: &State,
    filter: &ProjectFilter,
    order: ProjectOrder,
    args: &PageArgs,
) -> ApiResult<ProjectConnection> {
    let d = state.dialect();
    let mut count = Assembled::new(format!("SELECT count(*) FROM {} p", d.table("projects")));
    push_filter(&mut count, d, filter);
    let total: i64 = on_db!(&state.db, |pool| bind_all!(
        sqlx::query_scalar(sqlx::AssertSqlSafe(count.sql.clone())),
        &count.binds
    )
    .fetch_one(pool)
    .await)?;
    let limits = &state.config.serve.limits;
    let window = args.window(total, 50, limits.max_page)?;
    let column = match order.field {
        ProjectOrderField::RegisteredDate => "p.registered_date",
        ProjectOrderField::Name => "p.name",
        ProjectOrderField::Amount => {
            "coalesce(p.contract_investment_yuan, p.intended_investment_yuan)"
        }
        ProjectOrderField::CumulativeInvestment => "p.cumulative_investment_yuan",
        ProjectOrderField::YtdInvestment => "p.ytd_investment_yuan",
        ProjectOrderField::UpdatedAt => "p.updated_at",
    };
    let dir = match order.direction {
        Direction::Asc => "ASC",
        Direction::Desc => "DESC",
    };
    let mut q = Assembled::new(format!(
        "SELECT {} FROM {} p",
        project_columns(d),
        d.table("projects")
    ));
    push_filter(&mut q, d, filter);
    // LIMIT before OFFSET: the order both dialects accept.
    q.push(&format!(
        " ORDER BY {column} {dir}, p.project_id {dir} LIMIT "
    ))
    .bind(Bind::Int(window.limit))
    .push(" OFFSET ")
    .bind(Bind::Int(window.offset));
    let items: Vec<Project> = on_db!(&state.db, |pool| bind_all!(
        sqlx::query_as::<_, Project>(sqlx::AssertSqlSafe(q.sql.clone())),
        &q.binds
    )
    .fetch_all(pool)
    .await)?;
    Ok(ProjectConnection::build(items, window, total))
}

/// One project by UUID; `None` when it does not exist (or the id is no UUID).
pub async fn load(db: &Database, project_id: &str) -> ApiResult<Option<Project>> {
    // Parsed and written back in the stored form (lowercase, hyphenated), which SQLite's text
    // comparison needs as much as PostgreSQL's uuid cast does.
    let Ok(id) = uuid::Uuid::parse_str(project_id) else {
        return Ok(None);
    };
    let d = Dialect::of(db);
    let sql = crate::sql!(
        "SELECT {} FROM {} p WHERE p.project_id = {}",
        project_columns(d),
        d.table("projects"),
        d.uuid_param(1)
    );
    let row = on_db!(db, |pool| sqlx::query_as::<_, Project>(sql)
        .bind(id.to_string())
        .fetch_optional(pool)
        .await)?;
    Ok(row)
}
