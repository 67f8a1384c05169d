//! Supervision items (督办事项) from `reporting.supervision_items`.

use async_graphql::{ComplexObject, Context, ID, InputObject, SimpleObject};
use sqlx::FromRow;

use super::State;
use super::enums::{SupervisionCategory, SupervisionStatus};
use super::relay::{PageArgs, connection, global_id};
use super::scalars::{Date, DateTime};
use crate::db::{Assembled, Bind, Database, Dialect};
use crate::error::{ApiError, ApiResult};
use crate::{bind_all, on_db};

/// A supervision item on a lagging project (督办事项).
#[derive(SimpleObject, FromRow, Debug, Clone)]
#[graphql(complex)]
pub struct SupervisionItem {
    /// The item's UUID (stream `supervision-<uuid>`). 督办事项编号
    pub item_id: String,
    /// The project's UUID. 项目编号
    pub project_id: String,
    /// Title. 督办事项
    pub title: String,
    /// Category. 督办类别
    pub category: SupervisionCategory,
    /// Lead unit's slug. 牵头单位
    pub lead_unit_id: String,
    /// Co-operating units' slugs, as stored (a text array on PostgreSQL, a JSON array on
    /// SQLite; both read as JSON). Served by the `coUnitIds` resolver.
    #[graphql(skip)]
    pub co_unit_ids: sqlx::types::Json<Vec<String>>,
    /// Date opened. 交办日期
    pub opened_date: Date,
    /// Current deadline. 办理时限
    pub deadline_date: Date,
    /// Status. 办理状态
    #[graphql(name = "status")]
    pub item_status: SupervisionStatus,
    /// Feedback submitted. 反馈次数
    pub feedback_count: i32,
    /// Date of the last feedback. 最近反馈日期
    pub last_feedback_date: Option<Date>,
    /// Deadline extensions. 延期次数
    pub extension_count: i32,
    /// Date closed out. 销号日期
    pub closed_date: Option<Date>,
    /// Accountability actions recorded. 问责次数
    pub accountability_count: i32,
    /// Open and due within 3 days. 临期
    pub due_soon: bool,
    /// Open and past its deadline. 超期
    pub overdue: bool,
    /// When it was opened in the ledger. 交办录入时间
    pub opened_at: DateTime,
    /// When it last changed. 更新时间
    pub updated_at: DateTime,
}

#[ComplexObject]
impl SupervisionItem {
    /// Global ID (Relay). 全局 ID
    pub async fn id(&self) -> ID {
        global_id("SupervisionItem", &self.item_id)
    }

    /// Co-operating units' slugs. 配合单位
    async fn co_unit_ids(&self) -> &Vec<String> {
        &self.co_unit_ids.0
    }

    /// The project supervised. 督办项目
    async fn project(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<super::project::Project>> {
        let state = ctx.data::<State>()?;
        Ok(super::project::load(&state.db, &self.project_id).await?)
    }
}

connection!(
    SupervisionItemConnection,
    SupervisionItemEdge,
    SupervisionItem,
    "supervision items (督办事项)"
);

/// Filter of supervision items (督办事项筛选).
#[derive(InputObject, Debug, Default, Clone)]
pub struct SupervisionFilter {
    /// Only items of this project (UUID or global ID). 项目
    pub project: Option<String>,
    /// Only items this unit leads or co-operates on. 单位
    pub unit: Option<String>,
    /// Statuses. 办理状态
    pub status: Option<Vec<SupervisionStatus>>,
    /// Categories. 督办类别
    pub category: Option<Vec<SupervisionCategory>>,
    /// Only overdue items (true) or only items not overdue (false). 是否超期
    pub overdue: Option<bool>,
    /// Only items due within 3 days. 是否临期
    pub due_soon: Option<bool>,
}

fn columns(d: Dialect) -> String {
    let co_units = match d {
        Dialect::Postgres => "to_jsonb(co_unit_ids) AS co_unit_ids",
        Dialect::Sqlite => "json(co_unit_ids) AS co_unit_ids",
    };
    format!(
        "{} AS item_id, {} AS project_id, title, category, lead_unit_id, \
         {co_units}, {} AS opened_date, {} AS deadline_date, item_status, \
         feedback_count, {} AS last_feedback_date, extension_count, \
         {} AS closed_date, accountability_count, due_soon, overdue, {} AS opened_at, {} AS updated_at",
        d.text("item_id"),
        d.text("project_id"),
        d.text("opened_date"),
        d.text("deadline_date"),
        d.text("last_feedback_date"),
        d.text("closed_date"),
        d.timestamp("opened_at"),
        d.timestamp("updated_at")
    )
}

fn push_filter(q: &mut Assembled, d: Dialect, f: &SupervisionFilter) -> ApiResult<()> {
    q.push(" WHERE true");
    if let Some(p) = &f.project {
        let key = super::relay::key_of("Project", p)?;
        let id = uuid::Uuid::parse_str(&key).map_err(|_| {
            ApiError::validation("filter.project", "not a project ID", "不是有效的项目 ID")
        })?;
        let n = q.placeholder(Bind::Text(id.to_string()));
        q.push(&format!(" AND project_id = {}", d.uuid(&n)));
    }
    if let Some(u) = &f.unit {
        let key = super::relay::key_of("Unit", u)?;
        let n = q.placeholder(Bind::Text(key));
        let co = match d {
            Dialect::Postgres => format!("{n} = ANY(co_unit_ids)"),
            Dialect::Sqlite => {
                format!("EXISTS (SELECT 1 FROM json_each(co_unit_ids) WHERE value = {n})")
            }
        };
        q.push(&format!(" AND (lead_unit_id = {n} OR {co})"));
    }
    if let Some(s) = &f.status {
        q.push(" AND item_status IN ")
            .bind_list(s.iter().map(|s| Bind::Text(s.db())));
    }
    if let Some(c) = &f.category {
        q.push(" AND category IN ")
            .bind_list(c.iter().map(|c| Bind::Text(c.db())));
    }
    if let Some(o) = f.overdue {
        q.push(" AND overdue = ")
            .push(if o { "true" } else { "false" });
    }
    if let Some(due) = f.due_soon {
        q.push(" AND due_soon = ")
            .push(if due { "true" } else { "false" });
    }
    Ok(())
}

pub async fn list(
    state: &State,
    filter: &SupervisionFilter,
    args: &PageArgs,
) -> ApiResult<SupervisionItemConnection> {
    let d = state.dialect();
    let table = d.table("supervision_items");
    let mut count = Assembled::new(format!("SELECT count(*) FROM {table}"));
    push_filter(&mut count, d, filter)?;
    let total: i64 = on_db!(&state.db, |pool| bind_all!(
        sqlx::query_scalar(sqlx::AssertSqlSafe(count.sql.clone())),
        &count.binds
    )
    .fetch_one(pool)
    .await)?;
    let window = args.window(total, 50, state.config.serve.limits.max_page)?;
    let mut q = Assembled::new(format!("SELECT {} FROM {table}", columns(d)));
    push_filter(&mut q, d, filter)?;
    q.push(" ORDER BY deadline_date, item_id LIMIT ")
        .bind(Bind::Int(window.limit))
        .push(" OFFSET ")
        .bind(Bind::Int(window.offset));
    let items: Vec<SupervisionItem> = on_db!(&state.db, |pool| bind_all!(
        sqlx::query_as::<_, SupervisionItem>(sqlx::AssertSqlSafe(q.sql.clone())),
        &q.binds
    )
    .fetch_all(pool)
    .await)?;
    Ok(SupervisionItemConnection::build(items, window, total))
}

pub async fn load(db: &Database, item_id: &str) -> ApiResult<Option<SupervisionItem>> {
    let Ok(id) = uuid::Uuid::parse_str(item_id) else {
        return Ok(None);
    };
    let d = Dialect::of(db);
    let sql = crate::sql!(
        "SELECT {} FROM {} WHERE item_id = {}",
        columns(d),
        d.table("supervision_items"),
        d.uuid_param(1)
    );
    Ok(on_db!(db, |pool| sqlx::query_as::<_, SupervisionItem>(
        sql
    )
    .bind(id.to_string())
    .fetch_optional(pool)
    .await)?)
}
