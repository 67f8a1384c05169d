//! For auditors and operators: project timelines, the `$all` event feed, the ledger's
//! verification and the projections' status.

use async_graphql::{ID, InputObject, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use eventstore::{EventStore, Filter, Position, RecordedEvent};
use sqlx::FromRow;

use super::State;
use super::relay::{PageArgs, PageInfo, connection, global_id};
use super::scalars::{Date, DateTime, Json, Period, Yuan};
use crate::error::{ApiError, ApiResult};
use crate::on_db;

/// One event in a project's history (项目动态).
#[derive(SimpleObject, FromRow, Debug, Clone)]
#[graphql(complex)]
pub struct TimelineEvent {
    /// The event's UUID. 事件编号
    pub event_id: String,
    /// Event type, e.g. `InvestmentReported`. 事件类型
    #[graphql(name = "type")]
    pub event_type: String,
    /// Version in the project's stream. 版本号
    #[graphql(name = "version")]
    pub stream_version: i64,
    /// The date the fact happened (business date), when the event has one. 业务日期
    pub business_date: Option<Date>,
    /// When it was recorded. 录入时间
    pub recorded_at: DateTime,
    /// Who recorded it. 操作人
    pub actor: String,
    /// One-line summary in Chinese. 摘要
    pub summary: String,
    #[graphql(skip)]
    pub data: serde_json::Value,
    #[graphql(skip)]
    pub project_id: String,
}

/// Monthly figures of a report revision (报表数值).
#[derive(SimpleObject, FromRow, Debug, Clone)]
pub struct ReportFigures {
    /// Revision: 0 as first reported, then one per correction. 修订号
    pub revision: i32,
    /// Completed investment, yuan. 完成投资（元）
    #[graphql(name = "completedInvestment")]
    pub completed_investment_yuan: Yuan,
    /// Funds in place, yuan. 到位资金（元）
    #[graphql(name = "fundsInPlace")]
    pub funds_in_place_yuan: Yuan,
}

/// What a correction changed (更正前后对比).
#[derive(SimpleObject, Debug, Clone)]
pub struct Correction {
    /// The month corrected. 报表期
    pub period: Period,
    /// Figures before the correction. 更正前
    pub before: Option<ReportFigures>,
    /// Figures after the correction. 更正后
    pub after: ReportFigures,
    /// Reason given. 更正原因
    pub reason: Option<String>,
}

#[async_graphql::ComplexObject]
impl TimelineEvent {
    /// Global ID (Relay). 全局 ID
    pub async fn id(&self) -> ID {
        global_id("Event", &self.event_id)
    }

    /// The event's data as recorded. 事件数据
    pub async fn data(&self) -> Json {
        Json(self.data.clone())
    }

    /// For an investment report correction: the figures before and after (from the report
    /// revisions of `reporting.monthly_investment_reports`); null for other events.
    /// 更正前后数值
    async fn correction(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> async_graphql::Result<Option<Correction>> {
        if self.event_type != "InvestmentReportCorrected" {
            return Ok(None);
        }
        let Some(period) = self.data.get("period").and_then(|p| p.as_str()) else {
            return Ok(None);
        };
        let state = ctx.data::<State>()?;
        // The correction's revision is the latest recorded by the time of the event; the one
        // before it is what it replaced.
        let d = state.dialect();
        let sql = crate::sql!(
            "SELECT r.revision, r.completed_investment_yuan, r.funds_in_place_yuan
             FROM {} r
             JOIN {} e ON e.event_id = {}
             WHERE r.project_id = {} AND r.period = $2 AND r.recorded_at <= e.recorded_at
             ORDER BY r.revision DESC LIMIT 2",
            d.table("monthly_investment_reports"),
            d.table("project_events"),
            d.uuid_param(3),
            d.uuid_param(1)
        );
        let rows = on_db!(&state.db, |pool| sqlx::query_as::<_, ReportFigures>(sql)
            .bind(&self.project_id)
            .bind(period)
            .bind(&self.event_id)
            .fetch_all(pool)
            .await)
        .map_err(ApiError::from)?;
        let mut rows = rows.into_iter();
        let Some(after) = rows.next() else {
            return Ok(None);
        };
        Ok(Some(Correction {
            period: Period(period.to_owned()),
            before: rows.next(),
            after,
            reason: self
                .data
                .get("reason")
                .and_then(|r| r.as_str())
                .map(str::to_owned),
        }))
    }
}

connection!(
    TimelineConnection,
    TimelineEdge,
    TimelineEvent,
    "a project's events (项目动态)"
);

pub async fn timeline(
    state: &State,
    project_id: &str,
    args: &PageArgs,
) -> ApiResult<TimelineConnection> {
    // Written back in the stored form: SQLite compares the uuid as text.
    let Ok(project_id) = uuid::Uuid::parse_str(project_id).map(|id| id.to_string()) else {
        return Ok(TimelineConnection::build(
            Vec::new(),
            args.window(0, 50, state.config.serve.limits.max_page)?,
            0,
        ));
    };
    let d = state.dialect();
    let table = d.table("project_events");
    let count_sql = crate::sql!(
        "SELECT count(*) FROM {table} WHERE project_id = {}",
        d.uuid_param(1)
    );
    let total: i64 = on_db!(&state.db, |pool| sqlx::query_scalar(count_sql)
        .bind(&project_id)
        .fetch_one(pool)
        .await)?;
    let window = args.window(total, 50, state.config.serve.limits.max_page)?;
    let sql = crate::sql!(
        "SELECT {} AS event_id, event_type, stream_version, {} AS business_date,
           {} AS recorded_at, actor, summary, {} AS data, {} AS project_id
         FROM {table} WHERE project_id = {}
         ORDER BY stream_version DESC LIMIT $3 OFFSET $2",
        d.text("event_id"),
        d.text("business_date"),
        d.timestamp("recorded_at"),
        d.json("data"),
        d.text("project_id"),
        d.uuid_param(1)
    );
    let items = on_db!(&state.db, |pool| sqlx::query_as::<_, TimelineEvent>(sql)
        .bind(&project_id)
        .bind(window.offset)
        .bind(window.limit)
        .fetch_all(pool)
        .await)?;
    Ok(TimelineConnection::build(items, window, total))
}

/// An event of the global log `$all` (事件), as stored.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct Event {
    /// The event's UUID. 事件编号
    pub event_id: String,
    /// Stream, e.g. `project-<uuid>`. 事件流
    pub stream: String,
    /// Version in its stream (0-based). 流内版本号
    pub version: i64,
    /// Event type. 事件类型
    #[graphql(name = "type")]
    pub event_type: String,
    /// Schema version of the data (after upcasting). 数据版本
    pub schema_version: i32,
    /// Data. 事件数据
    pub data: Json,
    /// Metadata: actor, correlationId, causationId, idempotencyKey. 元数据
    pub metadata: Json,
    /// Who recorded it. 操作人
    pub actor: Option<String>,
    /// When it was recorded. 录入时间
    pub recorded_at: DateTime,
    /// Position in `$all`, `commit/prepare`. 全局位置
    pub position: String,
    /// SHA-256 chain hash, hex (docs/ARCHITECTURE.md, tamper evidence). 哈希
    pub hash: String,
    #[graphql(skip)]
    pub pos: Position,
}

#[async_graphql::ComplexObject]
impl Event {
    /// Global ID (Relay). 全局 ID
    pub async fn id(&self) -> ID {
        global_id("Event", &self.event_id)
    }
}

impl Event {
    pub fn of(e: RecordedEvent) -> Event {
        Event {
            event_id: e.id.to_string(),
            stream: e.stream,
            version: i64::try_from(e.version).unwrap_or(i64::MAX),
            event_type: e.event_type,
            schema_version: i32::try_from(e.schema_version).unwrap_or(i32::MAX),
            actor: e
                .metadata
                .get("actor")
                .and_then(|a| a.as_str())
                .map(str::to_owned),
            data: Json(e.data),
            metadata: Json(e.metadata),
            recorded_at: DateTime::of(e.recorded_at),
            position: e.position.to_string(),
            hash: e.hash.iter().map(|b| format!("{b:02x}")).collect(),
            pos: e.position,
        }
    }
}

/// Filter of the event feed (事件筛选).
#[derive(InputObject, Debug, Default, Clone)]
pub struct EventFilter {
    /// Stream categories, e.g. `project`, `unit`, `targets`, `supervision`, `rules`. 事件流类别
    pub categories: Option<Vec<String>>,
    /// Event types, e.g. `InvestmentReported`. 事件类型
    pub types: Option<Vec<String>>,
}

impl EventFilter {
    pub fn store_filter(&self) -> Filter {
        Filter {
            categories: self.categories.clone().unwrap_or_default(),
            event_types: self.types.clone().unwrap_or_default(),
        }
    }
}

/// A page of `$all` (Relay connection, forward only: the log only grows). 事件分页
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct EventConnection {
    /// Events with their cursors. 事件
    pub edges: Vec<EventEdge>,
    /// Events. 事件
    pub nodes: Vec<Event>,
    /// Paging. 分页信息
    pub page_info: PageInfo,
    /// The filter of this page, for `totalCount`.
    #[graphql(skip)]
    pub filter: Filter,
}

#[async_graphql::ComplexObject]
impl EventConnection {
    /// Events of `$all` that pass the filter, as of now (counted only when asked: it reads the
    /// whole log). 符合条件的事件总数
    async fn total_count(&self, ctx: &async_graphql::Context<'_>) -> async_graphql::Result<i64> {
        let state = ctx.data::<State>()?;
        let count = state
            .store
            .count_all(&self.filter)
            .await
            .map_err(ApiError::from)?;
        Ok(i64::try_from(count).unwrap_or(i64::MAX))
    }
}

/// An event with its cursor. 事件及游标
#[derive(SimpleObject)]
pub struct EventEdge {
    /// Cursor (the position in `$all`). 游标
    pub cursor: String,
    /// The event. 事件
    pub node: Event,
}

pub fn position_cursor(p: Position) -> String {
    STANDARD.encode(format!("p:{}/{}", p.commit, p.prepare))
}

pub fn parse_position_cursor(field: &str, cursor: &str) -> ApiResult<Position> {
    STANDARD
        .decode(cursor.as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            let (c, p) = s.strip_prefix("p:")?.split_once('/')?;
            // Both halves are stored as BIGINT: a commit above i64::MAX is no position of
            // this store, and must be refused here rather than fail in the database.
            let commit: u64 = c.parse().ok()?;
            i64::try_from(commit).ok()?;
            Some(Position::new(commit, p.parse().ok()?))
        })
        .ok_or_else(|| ApiError::validation(field, "not a position cursor", "不是有效的位置游标"))
}

pub async fn events(
    state: &State,
    filter: &EventFilter,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<EventConnection> {
    let max = state.config.serve.limits.max_page;
    let first = match first {
        Some(n) if n < 0 => {
            return Err(ApiError::validation(
                "first",
                "first must not be negative",
                "first 不能为负数",
            ));
        }
        Some(n) if n as usize > max => {
            return Err(ApiError::Limit {
                en: format!("first = {n} is above the page-size limit of {max}"),
                zh: format!("first = {n} 超过每页上限 {max}"),
            });
        }
        Some(n) => n as usize,
        None => 50.min(max),
    };
    let from = match &after {
        Some(c) => parse_position_cursor("after", c)?,
        None => Position::START,
    };
    // One more than asked, to know whether another page follows.
    let mut read = state
        .store
        .read_all(from, &filter.store_filter(), first + 1)
        .await?;
    let has_next_page = read.len() > first;
    read.truncate(first);
    let nodes: Vec<Event> = read.into_iter().map(Event::of).collect();
    let edges: Vec<EventEdge> = nodes
        .iter()
        .map(|e| EventEdge {
            cursor: position_cursor(e.pos),
            node: e.clone(),
        })
        .collect();
    let page_info = PageInfo {
        has_next_page,
        has_previous_page: after.is_some(),
        start_cursor: edges.first().map(|e| e.cursor.clone()),
        end_cursor: edges.last().map(|e| e.cursor.clone()),
    };
    Ok(EventConnection {
        edges,
        nodes,
        page_info,
        filter: filter.store_filter(),
    })
}

/// The outcome of verifying the ledger's hash chains and seals (台账校验).
#[derive(SimpleObject, Debug, Clone)]
pub struct LedgerVerification {
    /// True when every hash, stream head and seal matches. 校验是否通过
    pub ok: bool,
    /// Streams checked. 事件流数
    pub streams: i64,
    /// Events checked. 事件数
    pub events: i64,
    /// Seals checked. 封存数
    pub seals: i64,
    /// Mismatches found. 不一致数
    pub mismatch_count: i64,
    /// The first mismatches (earliest in `$all` first), up to 100. 不一致明细
    pub mismatches: Vec<String>,
    /// When the verification ran. 校验时间
    pub checked_at: DateTime,
    /// How long ago it ran, in seconds, when this answer was given: 0 for one run for this
    /// request. A passing verification is never reused: it is run again for every request that
    /// did not arrive while one was running, so an `ok: true` is never older than the request.
    /// A failing one is reused for a minute (it reads the whole log, and a tampered ledger
    /// stays failed until someone looks). 结果时长（秒）
    pub age_seconds: f64,
}

/// A verification kept by the server: when it finished, and its answer.
#[derive(Debug, Clone)]
pub struct KeptVerification {
    finished: std::time::Instant,
    answer: LedgerVerification,
}

/// How long a failing verification is reused.
const FAILED_REUSED_FOR: std::time::Duration = std::time::Duration::from_secs(60);

pub async fn verification(state: &State) -> ApiResult<LedgerVerification> {
    let asked = std::time::Instant::now();
    // One verification at a time; those who waited for it share its answer.
    let mut kept = state.verification.lock().await;
    if let Some(k) = kept.as_ref() {
        let shared = k.finished >= asked;
        let failed_recently = !k.answer.ok && k.finished.elapsed() < FAILED_REUSED_FOR;
        if shared || failed_recently {
            let mut answer = k.answer.clone();
            answer.age_seconds = k.finished.elapsed().as_secs_f64();
            return Ok(answer);
        }
    }
    let report = state.store.verify().await?;
    let v = LedgerVerification {
        ok: report.is_ok(),
        streams: report.streams as i64,
        events: report.events as i64,
        seals: report.seals as i64,
        mismatch_count: report.mismatch_count as i64,
        mismatches: report.mismatches.iter().map(ToString::to_string).collect(),
        checked_at: DateTime::of(time::OffsetDateTime::now_utc()),
        age_seconds: 0.0,
    };
    *kept = Some(KeptVerification {
        finished: std::time::Instant::now(),
        answer: v.clone(),
    });
    Ok(v)
}

/// A projection's progress (投影状态): how fresh the read models are.
#[derive(SimpleObject, Debug, Clone)]
pub struct ProjectionState {
    /// Projection name. 投影名称
    pub name: String,
    /// `running`, `halted` or `rebuilding`. 运行状态
    pub state: String,
    /// Checkpoint in `$all`, `commit/prepare`. 检查点
    pub position: String,
    /// Events applied. 已处理事件数
    pub events_applied: i64,
    /// Events of `$all` not yet applied (as last measured). 落后事件数
    pub lag_events: i64,
    /// Age of the oldest event not yet applied, seconds. 落后秒数
    pub lag_seconds: f64,
    /// Why it halted. 错误
    pub error: Option<String>,
    /// Process holding its leader lock. 运行实例
    pub holder: Option<String>,
    /// Last update. 更新时间
    pub updated_at: DateTime,
}

pub async fn projection_states(state: &State) -> ApiResult<Vec<ProjectionState>> {
    Ok(projections::statuses_in(&state.db)
        .await?
        .into_iter()
        .map(|s| ProjectionState {
            name: s.projection,
            state: s.state,
            position: s.position.to_string(),
            events_applied: s.events_applied,
            lag_events: s.lag.events,
            lag_seconds: s.lag.seconds,
            error: s.error,
            holder: s.holder,
            updated_at: DateTime::of(s.updated_at),
        })
        .collect())
}
