//! The mutation root: one mutation per domain command, plus the batch of monthly reports.
//!
//! Every mutation goes through `commands::CommandHandler` (load, decide, append with the
//! expected version) and then waits, at most `--write-wait-ms`, for the projections to pass the
//! write, so the payload's read model includes it. When the wait runs out the payload says so
//! (`result.readModel`) and carries the position to poll (`result.position`).

use async_graphql::{Context, Enum, ErrorExtensions, Object, SimpleObject};
use commands::{Envelope, Outcome};
use domain::Aggregate;
use domain::project::Project as ProjectAggregate;
use domain::rules::RuleSettings;
use domain::supervision::SupervisionItem as ItemAggregate;
use domain::targets::Targets;
use domain::unit::Unit as UnitAggregate;
use eventstore::Position;
use projections::{WaitOutcome, Which};
use sqlx::FromRow;
use uuid::Uuid;

use super::State;
use super::audit::position_cursor;
use super::dashboard::{AsOf, TargetProgress};
use super::inputs::*;
use super::project::Project;
use super::scalars::DateTime;
use super::supervision::SupervisionItem;
use super::tokens::{ApiToken, CreateTokenInput, CreateTokenPayload, RevokeTokenInput};
use super::unit::Unit;
use crate::access::identity;
use crate::error::{ApiError, ApiResult};

/// Whether the read models include the write. 读模型状态
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ReadModelState {
    /// The read model in this payload includes the write. 已同步
    CaughtUp,
    /// The wait ran out: the read model may not include the write yet; poll with `position`.
    /// 同步超时
    TimedOut,
    /// A projection is halted (see `projections`); the read model will not include the write
    /// until an operator resumes it. 投影已停止
    Halted,
}

/// One event a command wrote (已写入事件).
#[derive(SimpleObject, Debug, Clone)]
pub struct WrittenEvent {
    /// The event's UUID (derived from the idempotency key). 事件编号
    pub event_id: String,
    /// Event type. 事件类型
    #[graphql(name = "type")]
    pub event_type: String,
    /// Version in the stream. 流内版本号
    pub version: i64,
    /// Position in `$all` as an events cursor. 全局位置游标
    pub position: String,
}

/// What a command did (写入结果).
#[derive(SimpleObject, Debug, Clone)]
pub struct WriteResult {
    /// The command's id (UUIDv5 of the idempotency key; the events' correlation id). 指令编号
    pub command_id: String,
    /// The stream written. 事件流
    pub stream: String,
    /// The stream's version after the write: the next `expectedVersion`. 当前版本号
    pub version: Option<i64>,
    /// The events written (or found, for a retry). 事件
    pub events: Vec<WrittenEvent>,
    /// True when this was a retry of a command already carried out: nothing new was written.
    /// 是否重复提交
    pub replayed: bool,
    /// Whether the read model in this payload includes the write. 读模型状态
    pub read_model: ReadModelState,
    /// Projections still behind the write, when the wait ran out. 未同步的投影
    pub behind: Vec<String>,
    /// Position of the last event (an `events` cursor): poll `projections` until they pass it.
    /// 最后事件位置
    pub position: Option<String>,
}

/// Carries out a command and waits for the read models. `guard` is access control's check on
/// the aggregate's state as the command is decided (the unit scope of an editor); the caller's
/// identity is the actor recorded in the events' metadata.
async fn execute<A: Aggregate>(
    ctx: &Context<'_>,
    stream: &str,
    key: &str,
    expected_version: Option<i64>,
    command: A::Command,
    guard: impl Fn(&A) -> Result<(), auth::AuthError>,
) -> ApiResult<WriteResult> {
    let state = ctx
        .data::<State>()
        .map_err(|e| ApiError::internal(e.message))?;
    let actor = identity(ctx)?.actor();
    let expected = expected_version
        .map(|v| {
            u64::try_from(v).map_err(|_| {
                ApiError::validation(
                    "expectedVersion",
                    "expectedVersion must not be negative",
                    "预期版本号不能为负数",
                )
            })
        })
        .transpose()?;
    let envelope = Envelope::new(key, actor, command).with_expected_version(expected);
    let outcome = state
        .handler
        .handle_guarded::<A, _>(stream, envelope, guard)
        .await?;
    if !outcome.replayed {
        crate::metrics::appended(outcome.events.len());
    }
    wait(state, outcome).await
}

async fn wait(state: &State, outcome: Outcome) -> ApiResult<WriteResult> {
    let last = outcome.events.last().map(|e| e.position);
    let mut result = wait_free(outcome);
    if let Some(position) = last {
        (result.read_model, result.behind) = wait_for(state, position).await?;
    }
    Ok(result)
}

async fn wait_for(state: &State, position: Position) -> ApiResult<(ReadModelState, Vec<String>)> {
    let outcome = state
        .waiter
        .wait_for(
            Which::Named(&state.projection_names),
            position,
            state.config.write_wait(),
        )
        .await?;
    // The figures are computed from the facts in memory: they must include the write as well.
    let figures_caught_up = state
        .live
        .wait_for(position, state.config.write_wait())
        .await;
    // The read models now include the write (or will soon): figures computed before are stale.
    state.dashboards.invalidate();
    Ok(match outcome {
        WaitOutcome::Reached if !figures_caught_up => {
            (ReadModelState::TimedOut, vec!["figures".to_owned()])
        }
        WaitOutcome::Reached => (ReadModelState::CaughtUp, Vec::new()),
        WaitOutcome::TimedOut { behind } => (ReadModelState::TimedOut, behind),
        WaitOutcome::Halted { projection } => (ReadModelState::Halted, vec![projection]),
    })
}

/// A project after a command (项目写入结果).
#[derive(SimpleObject)]
pub struct ProjectPayload {
    /// What was written. 写入结果
    pub result: WriteResult,
    /// The project as the ledger now shows it. 项目
    pub project: Option<Project>,
}

/// A unit after a command (单位写入结果).
#[derive(SimpleObject)]
pub struct UnitPayload {
    /// What was written. 写入结果
    pub result: WriteResult,
    /// The unit. 单位
    pub unit: Option<Unit>,
}

/// Targets after a command (目标写入结果).
#[derive(SimpleObject)]
pub struct TargetsPayload {
    /// What was written. 写入结果
    pub result: WriteResult,
    /// Progress of the year's targets in the command's scope. 目标进度
    pub targets: Vec<TargetProgress>,
}

/// A supervision item after a command (督办写入结果).
#[derive(SimpleObject)]
pub struct SupervisionItemPayload {
    /// What was written. 写入结果
    pub result: WriteResult,
    /// The item. 督办事项
    pub item: Option<SupervisionItem>,
}

/// A rule setting in force (规则设置).
#[derive(SimpleObject, FromRow, Debug, Clone)]
#[graphql(complex)]
pub struct RuleSetting {
    /// `light_bands` or `ranking_weights`. 规则
    pub rule: String,
    #[graphql(skip)]
    pub settings: serde_json::Value,
    /// Why they were set. 原因
    pub reason: Option<String>,
    /// When. 录入时间
    pub recorded_at: DateTime,
}

#[async_graphql::ComplexObject]
impl RuleSetting {
    /// The settings. 设置
    pub async fn settings(&self) -> super::scalars::Json {
        super::scalars::Json(self.settings.clone())
    }
}

/// Rules after a command (规则写入结果).
#[derive(SimpleObject)]
pub struct RulesPayload {
    /// What was written. 写入结果
    pub result: WriteResult,
    /// The settings now in force, one per rule. 现行规则
    pub rules: Vec<RuleSetting>,
}

/// The batch of monthly reports (批量报送结果).
#[derive(SimpleObject)]
pub struct ReportInvestmentsPayload {
    /// One payload per item, in the order given. 各项结果
    pub items: Vec<ProjectPayload>,
}

fn derived_id(kind: &str, key: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("taizhang:{kind}:{key}").as_bytes(),
    )
}

async fn project_payload(
    state: &State,
    id: &str,
    result: WriteResult,
) -> ApiResult<ProjectPayload> {
    Ok(ProjectPayload {
        project: super::project::load(&state.db, id).await?,
        result,
    })
}

/// Runs a project command and loads the project.
async fn project_command(
    ctx: &Context<'_>,
    write: &WriteOptions,
    project: &str,
    command: ApiResult<domain::project::ProjectCommand>,
) -> async_graphql::Result<ProjectPayload> {
    let state = ctx.data::<State>()?;
    let id = project_id("projectId", project)?;
    let command = command?;
    let guard = state.gate.project_guard(identity(ctx)?, &command);
    let result = execute::<ProjectAggregate>(
        ctx,
        &id.stream(),
        &write.idempotency_key,
        write.expected_version,
        command,
        guard,
    )
    .await?;
    Ok(project_payload(state, &id.to_string(), result).await?)
}

/// The unit must exist (checked on the read model: units are created long before use).
pub(super) async fn require_unit(state: &State, field: &'static str, unit: &str) -> ApiResult<()> {
    if super::unit::load(&state.db, unit).await?.is_none() {
        return Err(ApiError::Domain(domain::DomainError::new(
            domain::ErrorCode::UnitNotFound,
            field,
            format!("no unit {unit}"),
            format!("单位 {unit} 不存在"),
        )));
    }
    Ok(())
}

async fn require_project(state: &State, project: &str) -> ApiResult<()> {
    if super::project::load(&state.db, project).await?.is_none() {
        return Err(ApiError::Domain(domain::DomainError::new(
            domain::ErrorCode::ProjectNotFound,
            "project_id",
            format!("no project {project}"),
            format!("项目 {project} 不存在"),
        )));
    }
    Ok(())
}

async fn item_command(
    ctx: &Context<'_>,
    write: &WriteOptions,
    item: &str,
    command: ApiResult<domain::supervision::SupervisionCommand>,
) -> async_graphql::Result<SupervisionItemPayload> {
    let state = ctx.data::<State>()?;
    let id = item_id("itemId", item)?;
    let command = command?;
    let guard = state.gate.supervision_guard(identity(ctx)?, &command);
    let result = execute::<ItemAggregate>(
        ctx,
        &id.stream(),
        &write.idempotency_key,
        write.expected_version,
        command,
        guard,
    )
    .await?;
    Ok(SupervisionItemPayload {
        item: super::supervision::load(&state.db, &id.to_string()).await?,
        result,
    })
}

async fn unit_command(
    ctx: &Context<'_>,
    write: &WriteOptions,
    unit: &str,
    command: ApiResult<domain::unit::UnitCommand>,
) -> async_graphql::Result<UnitPayload> {
    let state = ctx.data::<State>()?;
    let id = unit_id("unitId", unit)?;
    let result = execute::<UnitAggregate>(
        ctx,
        &id.stream(),
        &write.idempotency_key,
        write.expected_version,
        command?,
        // Units, targets and rules are not scoped: the role check at the root decides.
        |_| Ok(()),
    )
    .await?;
    Ok(UnitPayload {
        unit: super::unit::load(&state.db, id.as_str()).await?,
        result,
    })
}

async fn targets_command(
    ctx: &Context<'_>,
    input: &TargetInput,
    command: ApiResult<domain::targets::TargetsCommand>,
) -> async_graphql::Result<TargetsPayload> {
    let state = ctx.data::<State>()?;
    let result = execute::<Targets>(
        ctx,
        &domain::ids::targets_stream(input.year),
        &input.write.idempotency_key,
        input.write.expected_version,
        command?,
        |_| Ok(()),
    )
    .await?;
    let scope = input.unit.clone().unwrap_or_else(|| "county".to_owned());
    Ok(TargetsPayload {
        targets: super::dashboard::targets(state, input.year, Some(&scope), &AsOf::default())
            .await?,
        result,
    })
}

async fn rules_command(
    ctx: &Context<'_>,
    write: &WriteOptions,
    command: ApiResult<domain::rules::RulesCommand>,
) -> async_graphql::Result<RulesPayload> {
    let state = ctx.data::<State>()?;
    let result = execute::<RuleSettings>(
        ctx,
        domain::ids::RULES_STREAM,
        &write.idempotency_key,
        write.expected_version,
        command?,
        |_| Ok(()),
    )
    .await?;
    let d = state.dialect();
    // The latest setting of each rule (a correlated maximum: both dialects have it).
    let sql = crate::sql!(
        "SELECT r.rule, {} AS settings, r.reason, {} AS recorded_at
         FROM {table} r WHERE r.seq = (SELECT max(l.seq) FROM {table} l WHERE l.rule = r.rule)
         ORDER BY r.rule",
        d.json("r.settings"),
        d.timestamp("r.recorded_at"),
        table = d.table("rule_settings")
    );
    let rules = crate::on_db!(&state.db, |pool| sqlx::query_as::<_, RuleSetting>(sql)
        .fetch_all(pool)
        .await)
    .map_err(ApiError::from)?;
    Ok(RulesPayload { result, rules })
}

#[derive(Default)]
pub struct Mutation;

/// Change the ledger: every change is an event, never an update (修改台账).
#[Object(guard = "crate::access::mutation_root")]
impl Mutation {
    /// Register a new project (登记项目).
    async fn register_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project. 项目信息")] input: RegisterProjectInput,
    ) -> async_graphql::Result<ProjectPayload> {
        let state = ctx.data::<State>()?;
        let id = match &input.project_id {
            Some(id) => project_id("projectId", id)?,
            None => domain::ProjectId(derived_id("project", &input.write.idempotency_key)),
        };
        let command = input.command()?;
        require_unit(state, "responsible_unit", &input.responsible_unit).await?;
        project_command(ctx, &input.write, &id.to_string(), Ok(command)).await
    }

    /// Log a contact with the investor (记录对接).
    async fn log_contact(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The contact. 对接信息")] input: LogContactInput,
    ) -> async_graphql::Result<ProjectPayload> {
        project_command(ctx, &input.write, &input.project_id, input.command()).await
    }

    /// Sign an agreement (签约).
    async fn sign_agreement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The agreement. 协议信息")] input: SignAgreementInput,
    ) -> async_graphql::Result<ProjectPayload> {
        project_command(ctx, &input.write, &input.project_id, input.command()).await
    }

    /// Register the project company (注册公司).
    async fn register_company(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The company. 公司信息")] input: RegisterCompanyInput,
    ) -> async_graphql::Result<ProjectPayload> {
        project_command(ctx, &input.write, &input.project_id, input.command()).await
    }

    /// Assign the national project code (赋码).
    async fn assign_project_code(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The code. 赋码信息")] input: AssignProjectCodeInput,
    ) -> async_graphql::Result<ProjectPayload> {
        project_command(ctx, &input.write, &input.project_id, input.command()).await
    }

    /// Record an approval (办理审批).
    async fn record_approval(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The approval. 审批信息")] input: RecordApprovalInput,
    ) -> async_graphql::Result<ProjectPayload> {
        project_command(ctx, &input.write, &input.project_id, input.command()).await
    }

    /// Set or revise the annual plan (下达年度计划).
    async fn set_annual_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The plan. 计划信息")] input: SetAnnualPlanInput,
    ) -> async_graphql::Result<ProjectPayload> {
        project_command(ctx, &input.write, &input.project_id, input.command()).await
    }

    /// Set the expropriation target (下达征迁任务).
    async fn set_expropriation_target(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The target. 征迁任务")] input: SetExpropriationTargetInput,
    ) -> async_graphql::Result<ProjectPayload> {
        project_command(ctx, &input.write, &input.project_id, input.command()).await
    }

    /// Report expropriation progress (报送征迁进度).
    async fn report_expropriation_progress(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The progress. 征迁进度")] input: ReportExpropriationProgressInput,
    ) -> async_graphql::Result<ProjectPayload> {
        project_command(ctx, &input.write, &input.project_id, input.command()).await
    }

    /// Deliver a land parcel (交地).
    async fn deliver_land(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The parcel. 交地信息")] input: DeliverLandInput,
    ) -> async_graphql::Result<ProjectPayload> {
        project_command(ctx, &input.write, &input.project_id, input.command()).await
    }

    /// Start construction (开工).
    async fn start_construction(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The start. 开工信息")] input: StartConstructionInput,
    ) -> async_graphql::Result<ProjectPayload> {
        project_command(ctx, &input.write, &input.project_id, input.command()).await
    }

    /// Report a month's investment (月度投资报送).
    async fn report_investment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The report. 报表")] input: ReportInvestmentInput,
    ) -> async_graphql::Result<ProjectPayload> {
        project_command(ctx, &input.write, &input.project_id, input.command()).await
    }

    /// Correct a month's investment report (更正月度投资).
    async fn correct_investment_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The correction. 更正")] input: CorrectInvestmentReportInput,
    ) -> async_graphql::Result<ProjectPayload> {
        project_command(ctx, &input.write, &input.project_id, input.command()).await
    }

    /// Complete construction (竣工).
    async fn complete_construction(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The completion. 竣工信息")] input: CompleteConstructionInput,
    ) -> async_graphql::Result<ProjectPayload> {
        project_command(ctx, &input.write, &input.project_id, input.command()).await
    }

    /// Start production (投产).
    async fn start_production(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The production start. 投产信息")] input: StartProductionInput,
    ) -> async_graphql::Result<ProjectPayload> {
        project_command(ctx, &input.write, &input.project_id, input.command()).await
    }

    /// Change the project's status (变更状态).
    async fn change_project_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new status. 状态")] input: ChangeProjectStatusInput,
    ) -> async_graphql::Result<ProjectPayload> {
        project_command(ctx, &input.write, &input.project_id, input.command()).await
    }

    /// Abandon the project (终止项目).
    async fn abandon_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Why and when. 终止信息")] input: AbandonProjectInput,
    ) -> async_graphql::Result<ProjectPayload> {
        project_command(ctx, &input.write, &input.project_id, input.command()).await
    }

    /// Assign responsibility (调整责任单位).
    async fn assign_responsibility(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The assignment. 责任信息")] input: AssignResponsibilityInput,
    ) -> async_graphql::Result<ProjectPayload> {
        let state = ctx.data::<State>()?;
        let command = input.command()?;
        require_unit(state, "responsible_unit", &input.responsible_unit).await?;
        project_command(ctx, &input.write, &input.project_id, Ok(command)).await
    }

    /// Report many projects' monthly investment at once (批量报送月度投资).
    ///
    /// All or nothing: every item is decided against its project as it stands (each with the
    /// caller's scope checked on that project), and the reports of all projects are written in
    /// one transaction. One refusal refuses the batch and nothing is written (the errors name
    /// each item at fault by `item`; `extensions.itemErrors` lists them all); a project that
    /// another writer changes meanwhile makes the whole batch be decided again. A batch names
    /// each project and month once. Sending the same batch again under the same key writes
    /// nothing more (each item's key derives from the batch key, its project and month); the
    /// same key with other figures is `IDEMPOTENCY_KEY_REUSED`.
    async fn report_investments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The reports. 报表")] input: ReportInvestmentsInput,
    ) -> async_graphql::Result<ReportInvestmentsPayload> {
        let state = ctx.data::<State>()?;
        // An uploaded sheet is one batch whatever its size (docs/excel.md): the upload sets its
        // own bound as request data, which only an in-process caller can.
        let max = ctx
            .data_opt::<super::BatchLimit>()
            .map_or(state.config.serve.limits.max_batch, |l| l.0);
        if input.items.len() > max {
            return Err(ApiError::Limit {
                en: format!(
                    "{} items are above the batch limit of {max}",
                    input.items.len()
                ),
                zh: format!("批量条目 {} 超过上限 {max}", input.items.len()),
            }
            .into());
        }
        if input.idempotency_key.trim().is_empty() {
            return Err(ApiError::Command(commands::CommandError::IdempotencyKeyMissing).into());
        }
        let caller = identity(ctx)?;
        let actor = caller.actor();
        let mut batch = Vec::with_capacity(input.items.len());
        let mut ids = Vec::with_capacity(input.items.len());
        let mut errors: Vec<async_graphql::Error> = Vec::new();
        let mut named = std::collections::HashMap::new();
        for (i, item) in input.items.iter().enumerate() {
            let parsed: ApiResult<_> = (|| {
                let id = project_id("projectId", &item.project_id)?;
                let command = item.command()?;
                Ok((id, command))
            })();
            let (id, command) = match parsed {
                Ok(p) => p,
                Err(e) => {
                    errors.push(at_item(e, i));
                    continue;
                }
            };
            // Both would get the same derived key, so the second would answer as a retry of the
            // first and be lost: a month of a project is reported once per batch.
            if let Some(first) = named.insert((id, item.period.0.clone()), i) {
                errors.push(at_item(
                    ApiError::validation(
                        "period",
                        format!(
                            "items[{first}] and items[{i}] both report project {id} for {}: a batch \
                             names each project and month once",
                            item.period.0
                        ),
                        format!(
                            "items[{first}] 与 items[{i}] 是同一项目（{id}）同一报表期 {}：同一批次中每个项目每月只能出现一次",
                            item.period.0
                        ),
                    ),
                    i,
                ));
                continue;
            }
            let expected = item
                .expected_version
                .map(|v| u64::try_from(v).unwrap_or(u64::MAX));
            let key = format!("{}/{}/{}", input.idempotency_key, id, item.period.0);
            // Each item is scoped by its own project's unit, on the state it is decided on.
            let guard = state.gate.project_guard(caller, &command);
            let envelope =
                Envelope::new(key, actor.clone(), command).with_expected_version(expected);
            batch.push((
                i,
                commands::BatchItem {
                    stream: id.stream(),
                    envelope,
                    guard,
                },
            ));
            ids.push(id);
        }
        if !errors.is_empty() {
            return Err(item_errors(errors));
        }
        let (index_of, batch): (Vec<usize>, Vec<_>) = batch.into_iter().unzip();
        let outcomes = match state
            .handler
            .handle_batch_guarded::<ProjectAggregate, auth::AuthError, _>(batch)
            .await
        {
            Ok(outcomes) => outcomes,
            Err(commands::BatchError::Items(refused)) => {
                let errors = refused
                    .into_iter()
                    .map(|r| {
                        let i = index_of.get(r.index).copied().unwrap_or(r.index);
                        at_item(ApiError::from(r.error), i)
                    })
                    .collect();
                return Err(item_errors(errors));
            }
            Err(commands::BatchError::Batch(e)) => return Err(ApiError::from(e).into()),
        };
        let written: usize = outcomes
            .iter()
            .filter(|o| !o.replayed)
            .map(|o| o.events.len())
            .sum();
        if written > 0 {
            crate::metrics::appended(written);
        }
        let last = outcomes
            .iter()
            .filter_map(|o| o.events.last().map(|e| e.position))
            .max();
        // One wait for the whole batch: the last position covers every item.
        let (read_model, behind) = match last {
            Some(p) => wait_for(state, p).await?,
            None => (ReadModelState::CaughtUp, Vec::new()),
        };
        let mut items = Vec::with_capacity(outcomes.len());
        for (id, outcome) in ids.into_iter().zip(outcomes) {
            let mut result = wait_free(outcome);
            result.read_model = read_model;
            result.behind = behind.clone();
            items.push(project_payload(state, &id.to_string(), result).await?);
        }
        Ok(ReportInvestmentsPayload { items })
    }

    /// Create a responsible unit (新增责任单位).
    async fn create_unit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The unit. 单位信息")] input: CreateUnitInput,
    ) -> async_graphql::Result<UnitPayload> {
        unit_command(ctx, &input.write, &input.unit_id, input.command()).await
    }

    /// Rename a unit (单位更名).
    async fn rename_unit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new name. 更名信息")] input: RenameUnitInput,
    ) -> async_graphql::Result<UnitPayload> {
        unit_command(ctx, &input.write, &input.unit_id, input.command()).await
    }

    /// Set an annual target (下达年度目标).
    async fn set_target(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The target. 目标")] input: TargetInput,
    ) -> async_graphql::Result<TargetsPayload> {
        targets_command(ctx, &input, input.set()).await
    }

    /// Revise an annual target, with a reason (调整年度目标).
    async fn revise_target(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The target. 目标")] input: TargetInput,
    ) -> async_graphql::Result<TargetsPayload> {
        targets_command(ctx, &input, input.revise()).await
    }

    /// Open a supervision item (交办督办事项).
    async fn open_supervision_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The item. 督办事项")] input: OpenSupervisionItemInput,
    ) -> async_graphql::Result<SupervisionItemPayload> {
        let state = ctx.data::<State>()?;
        let id = match &input.item_id {
            Some(id) => item_id("itemId", id)?,
            None => {
                domain::SupervisionItemId(derived_id("supervision", &input.write.idempotency_key))
            }
        };
        let command = input.command()?;
        let project = project_id("projectId", &input.project_id)?;
        require_project(state, &project.to_string()).await?;
        require_unit(state, "lead_unit", &input.lead_unit).await?;
        for unit in &input.co_units {
            require_unit(state, "co_units", unit).await?;
        }
        item_command(ctx, &input.write, &id.to_string(), Ok(command)).await
    }

    /// Submit feedback (反馈办理情况).
    async fn submit_feedback(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The feedback. 反馈")] input: SubmitFeedbackInput,
    ) -> async_graphql::Result<SupervisionItemPayload> {
        item_command(ctx, &input.write, &input.item_id, input.command()).await
    }

    /// Extend the deadline (延期).
    async fn extend_deadline(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The extension. 延期")] input: ExtendDeadlineInput,
    ) -> async_graphql::Result<SupervisionItemPayload> {
        item_command(ctx, &input.write, &input.item_id, input.command()).await
    }

    /// Request closure (申请销号).
    async fn request_closure(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request. 销号申请")] input: RequestClosureInput,
    ) -> async_graphql::Result<SupervisionItemPayload> {
        item_command(ctx, &input.write, &input.item_id, input.command()).await
    }

    /// Close out the item (销号).
    async fn close_supervision_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The close-out. 销号")] input: CloseSupervisionItemInput,
    ) -> async_graphql::Result<SupervisionItemPayload> {
        item_command(ctx, &input.write, &input.item_id, input.command()).await
    }

    /// Return a closure request (退办).
    async fn return_closure(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The return. 退办")] input: ReturnClosureInput,
    ) -> async_graphql::Result<SupervisionItemPayload> {
        item_command(ctx, &input.write, &input.item_id, input.command()).await
    }

    /// Record an accountability action (记录问责).
    async fn record_accountability(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The action. 问责")] input: RecordAccountabilityInput,
    ) -> async_graphql::Result<SupervisionItemPayload> {
        item_command(ctx, &input.write, &input.item_id, input.command()).await
    }

    /// Make an API token (admins). The secret is in the payload and nowhere else: it is stored
    /// only as a hash. The creation is recorded on stream `token-<id>`. 创建访问令牌
    async fn create_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token. 令牌信息")] input: CreateTokenInput,
    ) -> async_graphql::Result<CreateTokenPayload> {
        Ok(super::tokens::create(ctx, input).await?)
    }

    /// Revoke an API token (admins): refused from its very next request on. 吊销访问令牌
    async fn revoke_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token. 令牌")] input: RevokeTokenInput,
    ) -> async_graphql::Result<ApiToken> {
        Ok(super::tokens::revoke(ctx, input).await?)
    }

    /// Set the traffic-light bands (设置红黄绿灯规则).
    async fn set_light_bands(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The bands. 灯色规则")] input: SetLightBandsInput,
    ) -> async_graphql::Result<RulesPayload> {
        rules_command(ctx, &input.write, input.command()).await
    }

    /// Set the ranking weights (设置排名权重).
    async fn set_ranking_weights(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The weights. 排名权重")] input: SetRankingWeightsInput,
    ) -> async_graphql::Result<RulesPayload> {
        rules_command(ctx, &input.write, input.command()).await
    }
}

/// The write result of an outcome, before waiting.
fn wait_free(outcome: Outcome) -> WriteResult {
    let last = outcome.events.last().map(|e| e.position);
    WriteResult {
        command_id: outcome.command_id.to_string(),
        stream: outcome.stream,
        version: outcome.stream_version.map(|v| v as i64),
        events: outcome
            .events
            .iter()
            .map(|e| WrittenEvent {
                event_id: e.id.to_string(),
                event_type: e.event_type.clone(),
                version: e.version as i64,
                position: position_cursor(e.position),
            })
            .collect(),
        replayed: outcome.replayed,
        read_model: ReadModelState::CaughtUp,
        behind: Vec::new(),
        position: last.map(position_cursor),
    }
}

/// An error of batch item `i`, marked with the item's index.
/// A batch's refusal: a field has one error, the first, with every refusal of the batch in
/// `extensions.itemErrors` so a clerk can fix them all at once.
fn item_errors(errors: Vec<async_graphql::Error>) -> async_graphql::Error {
    let all: Vec<serde_json::Value> = errors
        .iter()
        .map(|e| {
            let ext = e
                .extensions
                .as_ref()
                .and_then(|x| serde_json::to_value(x).ok())
                .unwrap_or_default();
            serde_json::json!({ "message": e.message, "extensions": ext })
        })
        .collect();
    let all = async_graphql::Value::from_json(serde_json::Value::Array(all))
        .unwrap_or(async_graphql::Value::Null);
    let first = errors
        .into_iter()
        .next()
        .unwrap_or_else(|| ApiError::internal("a batch refused without an error").into());
    first.extend_with(|_, x| x.set("itemErrors", all.clone()))
}

fn at_item(e: ApiError, i: usize) -> async_graphql::Error {
    async_graphql::Error::from(e).extend_with(|_, x| x.set("item", i as i64))
}
