//! Spreadsheets over HTTP (docs/excel.md): the monthly report template out. The workbook itself
//! is `crates/sheets`; this module gathers what goes into it — the projects that can report (the
//! domain's own rule, on each project's stream as a command would see it), their reference
//! figures (`crates/figures`) — and applies the API's access rules.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Query, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::project::Project as ProjectAggregate;
use domain::unit::Unit as UnitAggregate;
use domain::{Period, ProjectId, UnitId, Yuan};
use figures::{AsOf, Figures, ProjectView};
use serde::Deserialize;
use serde_json::json;

use super::Shared;
use super::graphql::{self, Media};
use crate::error::{ApiError, class};
use crate::schema::State;

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// `?unit=…&period=YYYY-MM`.
#[derive(Debug, Deserialize)]
pub struct TemplateQuery {
    pub unit: Option<String>,
    pub period: Option<String>,
}

/// `GET /files/monthly-report.xlsx?unit=…&period=YYYY-MM`.
pub(super) async fn monthly_template(
    AxumState(shared): AxumState<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<TemplateQuery>,
) -> Response {
    let identity = match authenticate_download(&shared, &headers, peer).await {
        Ok(i) => i,
        Err(e) => return graphql::refused(Media::Json, e),
    };
    let result: Result<(String, Vec<u8>), ApiError> = async {
        let unit = parse_unit(q.unit.as_deref())?;
        let period = parse_period(q.period.as_deref())?;
        authorize_unit(&shared.state, &identity, &unit)?;
        let template = template_for(&shared.state, &unit, period).await?;
        let bytes = sheets::write_template(&template).map_err(ApiError::internal)?;
        tracing::info!(unit = %unit, %period, rows = template.rows.len(), actor = %identity.actor(), "monthly template made");
        Ok((format!("monthly-report-{unit}-{period}.xlsx"), bytes))
    }
    .await;
    match result {
        Ok((name, bytes)) => attachment(XLSX, &name, bytes),
        Err(e) => error_response(e),
    }
}

/// A bearer token, or else the web workspace's session cookie: the monthly grid links the
/// template, and a browser following a link cannot add an `Authorization` header. A GET changes
/// nothing, so the cookie (SameSite=Strict, HttpOnly) needs no CSRF token here; as for the
/// WebSocket, only a request from this server's own pages (or no `Origin`) may use it.
async fn authenticate_download(
    shared: &Shared,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Result<auth::Identity, auth::AuthError> {
    if headers.get(header::AUTHORIZATION).is_none()
        && let Some(token) = ::web::session_token(headers).filter(|_| ::web::same_origin(headers))
    {
        let bearer = format!("Bearer {token}");
        return shared
            .state
            .gate
            .authenticate_header(Some(&bearer), Some(peer.ip()))
            .await;
    }
    graphql::authenticate(shared, headers, peer).await
}

fn parse_unit(unit: Option<&str>) -> Result<UnitId, ApiError> {
    let text = unit.unwrap_or("").trim();
    if text.is_empty() {
        return Err(ApiError::validation(
            "unit",
            "give the unit: ?unit=<slug>",
            "请指定单位：?unit=<单位标识>",
        ));
    }
    UnitId::parse(text).map_err(|e| ApiError::value("unit", e))
}

fn parse_period(period: Option<&str>) -> Result<Period, ApiError> {
    let text = period.unwrap_or("").trim();
    if text.is_empty() {
        return Err(ApiError::validation(
            "period",
            "give the period: ?period=YYYY-MM",
            "请指定报表期：?period=YYYY-MM",
        ));
    }
    let period = Period::parse(text).map_err(|e| ApiError::value("period", e))?;
    domain::period::period_not_in_future("period", period, commands::county_today())?;
    Ok(period)
}

/// The template is read by anyone who may read the ledger; an editor (whose project commands
/// are scoped to its units) gets only its own units' templates, as it may report only for them.
pub(crate) fn authorize_unit(
    state: &State,
    identity: &auth::Identity,
    unit: &UnitId,
) -> Result<(), ApiError> {
    state.gate.authorize_role(identity, auth::Operation::Read)?;
    if auth::grant(identity.role, auth::Area::Project) == auth::Grant::InScope {
        state
            .gate
            .authorize(identity, auth::Operation::ReportInvestment, Some(unit))?;
    }
    Ok(())
}

/// The template of `unit` for `period`: every project of the unit that the rules let report for
/// the period, each as its stream stands now.
pub(crate) async fn template_for(
    state: &State,
    unit: &UnitId,
    period: Period,
) -> Result<sheets::Template, ApiError> {
    let (unit_state, _) = state
        .handler
        .current::<UnitAggregate>(&unit.stream())
        .await?;
    let Some(unit_name) = unit_state.name else {
        return Err(ApiError::NotFound {
            what: "unit",
            id: unit.to_string(),
        });
    };
    let today = commands::county_today();
    // The reference figures, from the one definition: this year to the month before `period`
    // (the closed months of its first day), for every project of the unit as it stands today.
    let candidates: Vec<(uuid::Uuid, Yuan, Yuan)> = {
        let live = state.live.read();
        let now = AsOf::now_known(today);
        let ids: Vec<uuid::Uuid> = live
            .ledger
            .projects()
            .filter(|p| ProjectView::at(p, &now).is_some_and(|v| &*v.unit == unit.as_str()))
            .map(|p| p.id)
            .collect();
        let figures = Figures::new(
            &live.ledger,
            period.year(),
            AsOf::now_known(period.first_day()),
        );
        ids.into_iter()
            .map(|id| {
                let f = figures.project(id);
                let ytd = |v: Option<i64>| Yuan::new(v.unwrap_or(0)).unwrap_or(Yuan::ZERO);
                (
                    id,
                    ytd(f.map(|f| f.ytd_investment)),
                    ytd(f.map(|f| f.ytd_funds)),
                )
            })
            .collect()
    };
    let previous = sheets::layout::previous(period);
    let mut rows = Vec::new();
    for (id, ytd_investment, ytd_funds) in candidates {
        let stream = ProjectId(id).stream();
        let (project, version) = state.handler.current::<ProjectAggregate>(&stream).await?;
        let (Some(version), Some(registration)) = (version, project.registration.as_ref()) else {
            continue;
        };
        // The stream is the authority on the unit and on whether the project may report.
        if project.responsible_unit.as_ref() != Some(unit)
            || domain::project::report_window(
                project.started_on,
                project.completed_on,
                project.status == Some(domain::project::ProjectStatus::Abandoned),
                period,
            )
            .is_err()
        {
            continue;
        }
        let last = previous.and_then(|p| project.investment.get(&p));
        rows.push(sheets::TemplateRow {
            project_id: id,
            version,
            reference: sheets::Reference {
                name: registration.name.clone(),
                code: project.code.as_ref().map(|c| c.to_string()),
                lead_official: project
                    .lead_official
                    .clone()
                    .unwrap_or_else(|| registration.lead_official.clone()),
                last_investment: last.map(|m| m.completed_investment),
                last_funds: last.map(|m| m.funds_in_place),
                ytd_investment,
                ytd_funds,
            },
            current: project.investment.get(&period).map(|m| sheets::Entry {
                investment: m.completed_investment,
                funds: m.funds_in_place,
                narrative: m.progress_narrative.clone(),
                problems: m.problems.clone(),
            }),
        });
    }
    rows.sort_by(|a, b| a.reference.name.cmp(&b.reference.name));
    Ok(sheets::Template {
        unit: unit.to_string(),
        unit_name,
        period,
        made_at: county_now(),
        rows,
    })
}

/// Now in the county's time, as the sheet's info line shows it.
fn county_now() -> String {
    let offset = time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC);
    let now = time::OffsetDateTime::now_utc().to_offset(offset);
    format!(
        "{}-{:02}-{:02} {:02}:{:02} (UTC+8)",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute()
    )
}

pub(crate) fn attachment(content_type: &'static str, name: &str, bytes: Vec<u8>) -> Response {
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Names are ASCII by construction (slugs, periods); quoted for the few punctuation marks.
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// An error as the GraphQL endpoint words it (`errors[0].extensions.code`, `messageZh`, …),
/// with the HTTP status of its class.
pub(crate) fn error_response(e: ApiError) -> Response {
    let error = async_graphql::Error::from(e);
    let class = error
        .extensions
        .as_ref()
        .and_then(|x| x.get("class"))
        .and_then(|v| match v {
            async_graphql::Value::String(s) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_else(|| class::INTERNAL.to_owned());
    let status = match class.as_str() {
        class::VALIDATION => StatusCode::BAD_REQUEST,
        class::NOT_FOUND => StatusCode::NOT_FOUND,
        class::CONFLICT => StatusCode::CONFLICT,
        class::FORBIDDEN => StatusCode::FORBIDDEN,
        class::UNAUTHENTICATED => StatusCode::UNAUTHORIZED,
        class::RATE_LIMITED => StatusCode::TOO_MANY_REQUESTS,
        class::LIMIT_EXCEEDED => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (
        status,
        axum::Json(json!({"errors": [{"message": error.message, "extensions": error.extensions}]})),
    )
        .into_response()
}

/// The most rows one uploaded sheet may carry (one batch): a county unit has dozens of projects,
/// the benchmark 500; more is a mistake (or an attack), refused before anything is checked.
pub const MAX_SHEET_ROWS: usize = 2000;

const REPORT_INVESTMENTS: &str = r#"mutation($input: ReportInvestmentsInput!) {
  reportInvestments(input: $input) {
    items { result { stream version replayed readModel position events { type version } } }
  }
}"#;

/// What the upload does with one filled row.
enum Plan {
    /// The month holds exactly these figures and texts already: nothing to write.
    Unchanged,
    /// Written through the batch as a report, or as a correction with the row's reason.
    Write { correction: bool },
}

/// `POST /files/monthly-report` (multipart: `file`, optional `unit` and `period` the sheet must
/// be for). Every row is checked before anything is written; all are then recorded as one
/// `reportInvestments` batch, run in-process as the caller (the same path, rules, access control
/// and idempotency as over GraphQL).
pub(super) async fn monthly_upload(
    AxumState(shared): AxumState<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<TemplateQuery>,
    multipart: axum::extract::Multipart,
) -> Response {
    let identity = match graphql::authenticate(&shared, &headers, peer).await {
        Ok(i) => i,
        Err(e) => return graphql::refused(Media::Json, e),
    };
    let wants_xlsx = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains(XLSX));
    let form = match read_form(multipart, q).await {
        Ok(f) => f,
        Err(e) => return error_response(e),
    };
    match upload(&shared, &identity, form).await {
        Ok(Answer::Recorded(body)) => (StatusCode::OK, axum::Json(body)).into_response(),
        Ok(Answer::Refused { errors, annotated }) => {
            tracing::info!(actor = %identity.actor(), errors = errors.len(), "uploaded sheet refused");
            if wants_xlsx {
                let mut r = attachment(XLSX, "monthly-report-errors.xlsx", annotated);
                *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                r
            } else {
                use base64::Engine;
                let body = json!({
                    "recorded": false,
                    "errors": errors.iter().map(error_json).collect::<Vec<_>>(),
                    "annotatedWorkbook": base64::engine::general_purpose::STANDARD.encode(&annotated),
                });
                (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(body)).into_response()
            }
        }
        Err(e) => error_response(e),
    }
}

pub(crate) struct Form {
    pub name: Option<String>,
    pub bytes: Vec<u8>,
    pub unit: Option<String>,
    pub period: Option<String>,
}

async fn read_form(
    mut multipart: axum::extract::Multipart,
    q: TemplateQuery,
) -> Result<Form, ApiError> {
    let bad = |en: String| {
        ApiError::validation(
            "file",
            en,
            "上传内容无法读取：请以 multipart/form-data 上传 file 字段",
        )
    };
    let mut form = Form {
        name: None,
        bytes: Vec::new(),
        unit: q.unit,
        period: q.period,
    };
    let mut got_file = false;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| bad(e.to_string()))?
    {
        match field.name() {
            Some("file") => {
                form.name = field.file_name().map(str::to_owned);
                form.bytes = field
                    .bytes()
                    .await
                    .map_err(|e| bad(e.to_string()))?
                    .to_vec();
                got_file = true;
            }
            Some("unit") => form.unit = Some(field.text().await.map_err(|e| bad(e.to_string()))?),
            Some("period") => {
                form.period = Some(field.text().await.map_err(|e| bad(e.to_string()))?)
            }
            _ => {}
        }
    }
    if !got_file {
        return Err(ApiError::validation(
            "file",
            "no file: send the sheet as the multipart field `file`",
            "未收到文件：请以 multipart 字段 file 上传表格",
        ));
    }
    Ok(form)
}

pub(crate) enum Answer {
    Recorded(Value),
    Refused {
        errors: Vec<sheets::CellError>,
        annotated: Vec<u8>,
    },
}

fn error_json(e: &sheets::CellError) -> Value {
    json!({
        "row": e.row,
        "column": e.column.map(|c| c.letter().to_string()),
        "columnZh": e.column.map(|c| c.header_zh()),
        "columnEn": e.column.map(|c| c.header_en()),
        "code": e.code,
        "message": e.message_en,
        "messageZh": e.message_zh,
    })
}

use serde_json::Value;
use sheets::upload::codes;
use sheets::{CellError, Column};

/// Checks and records one uploaded sheet.
pub(crate) async fn upload(
    shared: &Shared,
    identity: &auth::Identity,
    form: Form,
) -> Result<Answer, ApiError> {
    let state = &shared.state;
    // Only a role that may report at all gets its sheet read; the unit scope follows below and
    // again on every row in the batch.
    state
        .gate
        .authorize_role(identity, auth::Operation::ReportInvestment)?;
    let started = std::time::Instant::now();
    let mut up = sheets::read_upload(form.name.as_deref(), &form.bytes)
        .map_err(|e| ApiError::validation("file", e.to_string(), e.message_zh()))?;
    if up.rows.len() + up.unfilled.len() > MAX_SHEET_ROWS {
        return Err(ApiError::Limit {
            en: format!("the sheet has more than {MAX_SHEET_ROWS} rows"),
            zh: format!("表格超过 {MAX_SHEET_ROWS} 行"),
        });
    }
    // The sheet as a whole: made for the unit and period the uploader says, if it says.
    if let (Some(want), Some(have)) = (form.period.as_deref().map(str::trim), up.period)
        && !want.is_empty()
        && want != have.to_string()
    {
        up.errors.push(CellError::new(
            None,
            None,
            codes::PERIOD_MISMATCH,
            format!(
                "the sheet was made for {have}, not for {want}: download the template for {want}"
            ),
            format!("本表是 {have} 的模板，不是 {want} 的：请下载 {want} 的模板"),
        ));
    }
    if let (Some(want), Some(have)) = (form.unit.as_deref().map(str::trim), up.unit.as_deref())
        && !want.is_empty()
        && want != have
    {
        up.errors.push(CellError::new(
            None,
            None,
            codes::UNIT_MISMATCH,
            format!("the sheet was made for unit {have}, not for {want}"),
            format!("本表是单位 {have} 的模板，不是 {want} 的"),
        ));
    }
    if let Some(unit) = up.unit.as_deref() {
        let unit = UnitId::parse(unit).map_err(|e| ApiError::value("unit", e))?;
        authorize_unit(state, identity, &unit)?;
    }
    // Each row against its project's stream as it stands now.
    let mut plans: Vec<(usize, Plan)> = Vec::new();
    for (i, row) in up.rows.iter().enumerate() {
        match plan_row(state, row).await? {
            Ok(plan) => plans.push((i, plan)),
            Err(e) => up.errors.push(e),
        }
    }
    if up.rows.is_empty() && up.errors.is_empty() {
        up.errors.push(CellError::new(
            None,
            None,
            codes::NOTHING_TO_RECORD,
            "no row is filled in: nothing to record",
            "表中没有填写任何一行，没有可记录的内容",
        ));
    }
    if !up.errors.is_empty() {
        return refuse(up);
    }
    let writes: Vec<(usize, bool)> = plans
        .iter()
        .filter_map(|(i, p)| match p {
            Plan::Write { correction } => Some((*i, *correction)),
            Plan::Unchanged => None,
        })
        .collect();
    let unchanged: Vec<Value> = plans
        .iter()
        .filter(|(_, p)| matches!(p, Plan::Unchanged))
        .map(|(i, _)| row_json(&up.rows[*i], "unchanged", true))
        .collect();
    let mut recorded = Vec::new();
    if !writes.is_empty() {
        use sha2::{Digest, Sha256};
        // The batch key is the content of the rows it writes: the same rows uploaded again (in
        // this file or another) derive the same item keys, and the command handler answers them
        // as replays.
        let mut hash = Sha256::new();
        for (i, correction) in &writes {
            hash.update(up.rows[*i].canonical().as_bytes());
            hash.update(if *correction { b"C\n" } else { b"R\n" });
        }
        let key = format!("sheet:{}", hex::encode(hash.finalize()));
        let items: Vec<Value> = writes
            .iter()
            .map(|(i, correction)| {
                let r = &up.rows[*i];
                json!({
                    "projectId": r.key.project_id.to_string(),
                    "expectedVersion": r.key.version,
                    "period": r.key.period.to_string(),
                    "completedInvestment": r.investment.get(),
                    "fundsInPlace": r.funds.get(),
                    "progressNarrative": r.narrative,
                    "problems": r.problems,
                    "correctionReason": if *correction { r.correction_reason.clone() } else { None },
                })
            })
            .collect();
        let request = async_graphql::Request::new(REPORT_INVESTMENTS)
            .variables(async_graphql::Variables::from_json(
                json!({"input": {"idempotencyKey": key, "items": items}}),
            ))
            .data(identity.clone())
            .data(crate::schema::BatchLimit(MAX_SHEET_ROWS));
        let response = shared.schema.execute(request).await;
        if let Some(first) = response.errors.first() {
            let described = graphql::describe(first);
            let all = described["extensions"]["itemErrors"]
                .as_array()
                .cloned()
                .unwrap_or_else(|| vec![described.clone()]);
            for e in all {
                let ext = &e["extensions"];
                let row = ext["item"]
                    .as_u64()
                    .and_then(|n| writes.get(n as usize))
                    .map(|(i, _)| &up.rows[*i]);
                up.errors.push(CellError::new(
                    row.map(|r| r.row),
                    Some(column_of_field(ext["field"].as_str().unwrap_or(""))),
                    ext["code"].as_str().unwrap_or(class::INTERNAL),
                    e["message"].as_str().unwrap_or(""),
                    ext["messageZh"].as_str().unwrap_or(""),
                ));
            }
            return refuse(up);
        }
        let data = response.data.into_json().map_err(ApiError::internal)?;
        let results = data["reportInvestments"]["items"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for ((i, correction), item) in writes.iter().zip(results) {
            let r = &up.rows[*i];
            let mut v = row_json(
                r,
                if *correction { "corrected" } else { "reported" },
                item["result"]["replayed"].as_bool().unwrap_or(false),
            );
            v["version"] = item["result"]["version"].clone();
            v["readModel"] = item["result"]["readModel"].clone();
            recorded.push(v);
        }
    }
    let replayed = recorded.iter().all(|r| r["replayed"] == true);
    tracing::info!(
        actor = %identity.actor(),
        rows = up.rows.len(),
        written = recorded.len(),
        unchanged = unchanged.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "uploaded sheet recorded"
    );
    Ok(Answer::Recorded(json!({
        "recorded": true,
        "replayed": replayed,
        "unit": up.unit,
        "period": up.period.map(|p| p.to_string()),
        "rows": recorded.into_iter().chain(unchanged).collect::<Vec<_>>(),
        "unfilled": up.unfilled,
    })))
}

fn refuse(up: sheets::Upload) -> Result<Answer, ApiError> {
    let annotated =
        sheets::annotate(&up.grid, &up.columns, &up.errors).map_err(ApiError::internal)?;
    Ok(Answer::Refused {
        errors: up.errors,
        annotated,
    })
}

fn row_json(r: &sheets::FilledRow, action: &str, replayed: bool) -> Value {
    json!({
        "row": r.row,
        "projectId": r.key.project_id.to_string(),
        "name": r.name,
        "action": action,
        "replayed": replayed,
        "completedInvestment": r.investment.get(),
        "fundsInPlace": r.funds.get(),
    })
}

/// The sheet column of a batch item's field (the GraphQL error's `field`).
fn column_of_field(field: &str) -> Column {
    match field {
        "completedInvestment" | "completedInvestmentWan" => Column::Investment,
        "fundsInPlace" | "fundsInPlaceWan" => Column::Funds,
        "progressNarrative" => Column::Narrative,
        "problems" => Column::Problems,
        "reason" | "correctionReason" => Column::CorrectionReason,
        "period" | "expectedVersion" | "projectId" => Column::Key,
        _ => Column::Name,
    }
}

/// What to do with `row`, or why not, from its project's stream.
async fn plan_row(
    state: &State,
    row: &sheets::FilledRow,
) -> Result<Result<Plan, CellError>, ApiError> {
    let line = Some(row.row);
    let stream = ProjectId(row.key.project_id).stream();
    let (project, version) = state.handler.current::<ProjectAggregate>(&stream).await?;
    if project.registration.is_none() {
        return Ok(Err(CellError::new(
            line,
            Some(Column::Key),
            codes::PROJECT_UNKNOWN,
            "the row key names no project of the ledger",
            "行键对应的项目在台账中不存在",
        )));
    }
    let unit = project
        .responsible_unit
        .as_ref()
        .map(|u| u.to_string())
        .unwrap_or_default();
    if unit != row.key.unit {
        return Ok(Err(CellError::new(
            line,
            Some(Column::Name),
            codes::UNIT_MISMATCH,
            format!(
                "the project now belongs to unit {unit}, not to {} the sheet is for",
                row.key.unit
            ),
            format!("该项目现属单位 {unit}，不属于本表的单位 {}", row.key.unit),
        )));
    }
    let current = project.investment.get(&row.key.period);
    let same = current.is_some_and(|m| {
        m.completed_investment == row.investment
            && m.funds_in_place == row.funds
            && m.progress_narrative == row.narrative
            && m.problems == row.problems
    });
    if same {
        return Ok(Ok(Plan::Unchanged));
    }
    let correction = current.is_some();
    if let Some(m) = current
        && row.correction_reason.is_none()
    {
        let column = if m.completed_investment != row.investment {
            Column::Investment
        } else if m.funds_in_place != row.funds {
            Column::Funds
        } else if m.progress_narrative != row.narrative {
            Column::Narrative
        } else {
            Column::Problems
        };
        return Ok(Err(CellError::new(
            line,
            Some(column),
            codes::CORRECTION_REASON_REQUIRED,
            format!(
                "{} is reported already ({} / {} 万元); to change it, give a correction reason (更正原因)",
                row.key.period,
                m.completed_investment.to_wan_string(),
                m.funds_in_place.to_wan_string()
            ),
            format!(
                "{} 已报送（完成投资 {} 万元，到位资金 {} 万元）；如需修改，请填写“更正原因”",
                row.key.period,
                m.completed_investment.to_wan_string(),
                m.funds_in_place.to_wan_string()
            ),
        )));
    }
    if version != Some(row.key.version) {
        let since = state.handler.since(&stream, row.key.version).await?;
        let changes: Vec<String> = since
            .iter()
            .map(|e| format!("{} (v{})", e.event_type, e.version))
            .collect();
        let now = version.map_or("none".to_owned(), |v| v.to_string());
        return Ok(Err(CellError::new(
            line,
            Some(Column::Key),
            codes::PROJECT_CHANGED,
            format!(
                "the project changed since the template was made (version {} → {now}: {}); download a new template",
                row.key.version,
                changes.join(", ")
            ),
            format!(
                "制表后该项目已有变动（版本 {} → {now}：{}），请重新下载模板",
                row.key.version,
                changes.join("，")
            ),
        )));
    }
    Ok(Ok(Plan::Write { correction }))
}
