//! Supervision items (督办事项) from `reporting.supervision_items`.

use async_graphql::{ComplexObject, Context, ID, InputObject, SimpleObject};
use sqlx::{FromRow, PgPool, Postgres, QueryBuilder};

use super::State;
use super::enums::{SupervisionCategory, SupervisionStatus};
use super::project::ts;
use super::relay::{PageArgs, connection, global_id};
use super::scalars::{Date, DateTime};
use crate::error::{ApiError, ApiResult};

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
    /// Co-operating units' slugs. 配合单位
    pub co_unit_ids: Vec<String>,
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

    /// The project supervised. 督办项目
    async fn project(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<super::project::Project>> {
        let state = ctx.data::<State>()?;
        Ok(super::project::load(&state.pool, &self.project_id).await?)
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

fn columns() -> String {
    format!(
        "item_id::text AS item_id, project_id::text AS project_id, title, category, lead_unit_id, \
         co_unit_ids, opened_date::text AS opened_date, deadline_date::text AS deadline_date, item_status, \
         feedback_count, last_feedback_date::text AS last_feedback_date, extension_count, \
         closed_date::text AS closed_date, accountability_count, due_soon, overdue, {} AS opened_at, {} AS updated_at",
        ts("opened_at"),
        ts("updated_at")
    )
}

fn push_filter(q: &mut QueryBuilder<Postgres>, f: &SupervisionFilter) -> ApiResult<()> {
    q.push(" WHERE true");
    if let Some(p) = &f.project {
        let key = super::relay::key_of("Project", p)?;
        let id = uuid::Uuid::parse_str(&key).map_err(|_| {
            ApiError::validation("filter.project", "not a project ID", "不是有效的项目 ID")
        })?;
        q.push(" AND project_id = ").push_bind(id);
    }
    if let Some(u) = &f.unit {
        let key = super::relay::key_of("Unit", u)?;
        q.push(" AND (lead_unit_id = ")
            .push_bind(key.clone())
            .push(" OR ")
            .push_bind(key)
            .push(" = ANY(co_unit_ids))");
    }
    if let Some(s) = &f.status {
        let words: Vec<String> = s.iter().map(|s| s.db()).collect();
        q.push(" AND item_status = ANY(").push_bind(words).push(")");
    }
    if let Some(c) = &f.category {
        let words: Vec<String> = c.iter().map(|c| c.db()).collect();
        q.push(" AND category = ANY(").push_bind(words).push(")");
    }
    if let Some(o) = f.overdue {
        q.push(" AND overdue = ").push_bind(o);
    }
    if let Some(d) = f.due_soon {
        q.push(" AND due_soon = ").push_bind(d);
    }
    Ok(())
}

pub async fn list(
    state: &State,
    filter: &SupervisionFilter,
    args: &PageArgs,
) -> ApiResult<SupervisionItemConnection> {
    let mut count = QueryBuilder::new("SELECT count(*) FROM reporting.supervision_items");
    push_filter(&mut count, filter)?;
    let total: i64 = count.build_query_scalar().fetch_one(&state.pool).await?;
    let window = args.window(total, 50, state.config.serve.limits.max_page)?;
    let mut q = QueryBuilder::new(format!(
        "SELECT {} FROM reporting.supervision_items",
        columns()
    ));
    push_filter(&mut q, filter)?;
    q.push(" ORDER BY deadline_date, item_id OFFSET ")
        .push_bind(window.offset)
        .push(" LIMIT ")
        .push_bind(window.limit);
    let items: Vec<SupervisionItem> = q.build_query_as().fetch_all(&state.pool).await?;
    Ok(SupervisionItemConnection::build(items, window, total))
}

pub async fn load(pool: &PgPool, item_id: &str) -> ApiResult<Option<SupervisionItem>> {
    let Ok(id) = uuid::Uuid::parse_str(item_id) else {
        return Ok(None);
    };
    Ok(sqlx::query_as::<_, SupervisionItem>(crate::sql!(
        "SELECT {} FROM reporting.supervision_items WHERE item_id = $1",
        columns()
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?)
}
