//! The query root.

use async_graphql::{Context, ID, Interface, Object};

use super::State;
use super::audit::{self, EventConnection, EventFilter, LedgerVerification, ProjectionState};
use super::dashboard::{self, AsOf, Dashboard, TargetProgress, UnitRank};
use super::project::{self, Project, ProjectConnection, ProjectFilter, ProjectOrder};
use super::relay::{PageArgs, decode_global_id, key_of};
use super::scalars::{Date, DateTime};
use super::supervision::{self, SupervisionFilter, SupervisionItem, SupervisionItemConnection};
use super::tokens;
use super::unit::{self, Unit};
use crate::error::ApiError;

/// An object with a global ID (Relay). 可按全局 ID 查询的对象
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Global ID. 全局 ID"))]
#[allow(clippy::large_enum_variant)] // Built once per `node` query; boxing buys nothing.
pub enum Node {
    Project(Project),
    Unit(Unit),
    SupervisionItem(SupervisionItem),
}

#[derive(Default)]
pub struct Query;

fn as_of_arg(date: Option<&Date>, known_at: Option<&DateTime>) -> Result<AsOf, ApiError> {
    Ok(AsOf {
        date: date.map(|d| d.to_domain("asOf")).transpose()?,
        known_at: known_at.map(|k| k.to_domain("knownAt")).transpose()?,
    })
}

/// Read the ledger (查询).
#[Object(guard = "crate::access::query_root")]
impl Query {
    /// Any object by its global ID (Relay). 按全局 ID 查询
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID. 全局 ID")] id: ID,
    ) -> async_graphql::Result<Option<Node>> {
        let state = ctx.data::<State>()?;
        let Some((kind, key)) = decode_global_id(&id) else {
            return Ok(None);
        };
        Ok(match kind.as_str() {
            "Project" => project::load(&state.db, &key).await?.map(Node::Project),
            "Unit" => unit::load(&state.db, &key).await?.map(Node::Unit),
            "SupervisionItem" => supervision::load(&state.db, &key)
                .await?
                .map(Node::SupervisionItem),
            _ => None,
        })
    }

    /// One project by global ID or UUID; null when there is none. 项目
    async fn project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID or UUID of the project. 项目 ID")] id: ID,
    ) -> async_graphql::Result<Option<Project>> {
        let state = ctx.data::<State>()?;
        let key = key_of("Project", &id)?;
        Ok(project::load(&state.db, &key).await?)
    }

    /// Projects, filtered, ordered and paged (Relay). 项目列表
    #[allow(clippy::too_many_arguments)]
    async fn projects(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions, combined with AND. 筛选条件")] filter: Option<ProjectFilter>,
        #[graphql(desc = "Order (default: registration date, ascending). 排序")] order_by: Option<
            ProjectOrder,
        >,
        #[graphql(desc = "Items from the start (default 50). 取前 N 条")] first: Option<i32>,
        #[graphql(desc = "Cursor to read after. 从该游标之后读取")] after: Option<String>,
        #[graphql(desc = "Items from the end. 取后 N 条")] last: Option<i32>,
        #[graphql(desc = "Cursor to read before. 读取该游标之前")] before: Option<String>,
    ) -> async_graphql::Result<ProjectConnection> {
        let state = ctx.data::<State>()?;
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        Ok(project::list(
            state,
            &filter.unwrap_or_default(),
            order_by.unwrap_or_default(),
            &args,
        )
        .await?)
    }

    /// Every responsible unit. 责任单位列表
    async fn units(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Unit>> {
        let state = ctx.data::<State>()?;
        Ok(unit::all(&state.db).await?)
    }

    /// One unit by global ID or slug. 责任单位
    async fn unit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID or slug of the unit. 单位 ID")] id: ID,
    ) -> async_graphql::Result<Option<Unit>> {
        let state = ctx.data::<State>()?;
        let key = key_of("Unit", &id)?;
        Ok(unit::load(&state.db, &key).await?)
    }

    /// The dashboard's figures for a year, county-wide or for one unit, now or as the ledger
    /// stood at the end of a day. 领导驾驶舱
    async fn dashboard(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The year. 年度")] year: i32,
        #[graphql(desc = "A unit's slug or global ID; county-wide when absent. 单位")] unit: Option<
            ID,
        >,
        #[graphql(
            desc = "Business date D: what had happened by the end of this day (county time); today when absent, never in the future. 业务截至日期"
        )]
        as_of: Option<Date>,
        #[graphql(
            desc = "Knowledge time K: only facts recorded at or before this moment; everything recorded when absent. 记录截至时间"
        )]
        known_at: Option<DateTime>,
    ) -> async_graphql::Result<Dashboard> {
        let state = ctx.data::<State>()?;
        let unit = unit.map(|u| key_of("Unit", &u)).transpose()?;
        let at = as_of_arg(as_of.as_ref(), known_at.as_ref())?;
        Ok(dashboard::dashboard(state, year, unit.as_deref(), &at).await?)
    }

    /// Progress of the year's targets, county-wide and per unit. 目标进度
    async fn targets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The year. 年度")] year: i32,
        #[graphql(desc = "`county` or a unit's slug; every scope when absent. 范围")] scope: Option<
            String,
        >,
        #[graphql(
            desc = "Business date D: what had happened by the end of this day (county time); today when absent, never in the future. 业务截至日期"
        )]
        as_of: Option<Date>,
        #[graphql(
            desc = "Knowledge time K: only facts recorded at or before this moment; everything recorded when absent. 记录截至时间"
        )]
        known_at: Option<DateTime>,
    ) -> async_graphql::Result<Vec<TargetProgress>> {
        let state = ctx.data::<State>()?;
        let at = as_of_arg(as_of.as_ref(), known_at.as_ref())?;
        Ok(dashboard::targets(state, year, scope.as_deref(), &at).await?)
    }

    /// The units' ranking for a year. 单位排名
    async fn unit_ranking(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The year. 年度")] year: i32,
        #[graphql(
            desc = "Business date D: what had happened by the end of this day (county time); today when absent, never in the future. 业务截至日期"
        )]
        as_of: Option<Date>,
        #[graphql(
            desc = "Knowledge time K: only facts recorded at or before this moment; everything recorded when absent. 记录截至时间"
        )]
        known_at: Option<DateTime>,
    ) -> async_graphql::Result<Vec<UnitRank>> {
        let state = ctx.data::<State>()?;
        let at = as_of_arg(as_of.as_ref(), known_at.as_ref())?;
        Ok(dashboard::ranking(state, year, &at).await?)
    }

    /// Supervision items, by deadline. 督办事项
    async fn supervision_items(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions. 筛选条件")] filter: Option<SupervisionFilter>,
        #[graphql(desc = "Items from the start (default 50). 取前 N 条")] first: Option<i32>,
        #[graphql(desc = "Cursor to read after. 从该游标之后读取")] after: Option<String>,
        #[graphql(desc = "Items from the end. 取后 N 条")] last: Option<i32>,
        #[graphql(desc = "Cursor to read before. 读取该游标之前")] before: Option<String>,
    ) -> async_graphql::Result<SupervisionItemConnection> {
        let state = ctx.data::<State>()?;
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        Ok(supervision::list(state, &filter.unwrap_or_default(), &args).await?)
    }

    /// The global event log `$all`, oldest first, for auditors. 事件日志
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Categories and types. 筛选条件")] filter: Option<EventFilter>,
        #[graphql(desc = "Events to read (default 50). 取前 N 条")] first: Option<i32>,
        #[graphql(desc = "Cursor to read after. 从该游标之后读取")] after: Option<String>,
    ) -> async_graphql::Result<EventConnection> {
        let state = ctx.data::<State>()?;
        Ok(audit::events(state, &filter.unwrap_or_default(), first, after).await?)
    }

    /// Verification of the ledger's hash chains and seals, run for the request (a failing one is
    /// reused for a minute; `ageSeconds` says how old the answer is). 台账校验
    async fn ledger_verification(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<LedgerVerification> {
        let state = ctx.data::<State>()?;
        Ok(audit::verification(state).await?)
    }

    /// Every API token ever made, oldest first, never with its secret (admins and auditors).
    /// 访问令牌列表
    async fn tokens(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<tokens::ApiToken>> {
        let state = ctx.data::<State>()?;
        let list = state.gate.tokens().list().await.map_err(ApiError::from)?;
        Ok(list.into_iter().map(tokens::ApiToken::from).collect())
    }

    /// Freshness of the read models. 投影状态
    async fn projections(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ProjectionState>> {
        let state = ctx.data::<State>()?;
        Ok(audit::projection_states(state).await?)
    }
}
