//! 月报: a unit's monthly investment report in one grid. Every project of the unit that the API
//! says takes a report for the month (`acceptsReportFor`, the domain's rule) is one row; amounts
//! are typed in 万元, checked as typed (in the browser, again here with the domain's own reading
//! of 万元 text, and finally by the API), and the whole grid goes to the API as ONE
//! `reportInvestments` batch. A month already reported shows its recorded figures; changing them
//! needs a correction reason, which turns the row into a correction in the same batch (the
//! API's `correctionReason`). After a write the page is loaded again from the API, which waited
//! for its read models, so what the clerk sees is what was recorded.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use auth::Operation;
use axum::extract::{ConnectInfo, Query, RawForm, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use domain::{Period, Yuan};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::fmt;
use crate::gql::{self, GqlError};
use crate::layout::{self, Nav};
use crate::params::Params;
use crate::session::{self, Session, may};
use crate::{Backend, assets};

/// The API's page limit: a unit's projects are read in pages of this size.
const PAGE: i64 = 200;

/// The page's choices, from the query string.
#[derive(Deserialize, Default)]
pub struct Choice {
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    period: Option<String>,
    /// Rows recorded by the write that led here.
    #[serde(default)]
    saved: Option<usize>,
}

/// One project of the grid as the API has it.
struct Row {
    /// Global ID.
    id: String,
    /// UUID: the form's field names.
    uuid: String,
    name: String,
    code: Value,
    lead: Value,
    start: Value,
    version: i64,
    ytd: Value,
    /// The month's record, when already reported.
    recorded: Option<Value>,
    /// The latest month reported before this one, for reference.
    previous: Option<Value>,
}

/// What the clerk typed into one row.
#[derive(Default, Clone)]
struct Typed {
    completed: String,
    funds: String,
    progress: String,
    problems: String,
    reason: String,
    version: Option<i64>,
}

/// A row's error: Chinese, English, and which cell.
#[derive(Clone, Debug)]
struct RowError {
    zh: String,
    en: String,
    code: String,
    field: Option<String>,
}

impl From<&GqlError> for RowError {
    fn from(e: &GqlError) -> RowError {
        RowError {
            zh: e.message_zh.clone().unwrap_or_default()
                + &e.hint_zh
                    .as_ref()
                    .map(|h| format!("（提示：{h}）"))
                    .unwrap_or_default(),
            en: e.message.clone(),
            code: e.code.clone(),
            field: e.field.clone(),
        }
    }
}

/// The grid's state when it is shown.
struct View<'a> {
    unit: String,
    period: Period,
    rows: &'a [Row],
    units: &'a Value,
    /// Unit options for the picker.
    choices: Vec<(String, String)>,
    writable: bool,
    typed: HashMap<String, Typed>,
    errors: HashMap<String, Vec<RowError>>,
    general: Vec<GqlError>,
    key: String,
    saved: Option<usize>,
    csrf: String,
    /// Whether the API gives this caller the unit's spreadsheet template (an editor: only
    /// its own units; everyone else who reads: any unit).
    template: bool,
}

/// The default month: around the 25th clerks report the month under way; in the first weeks
/// of a month, the month just closed.
fn default_period() -> Period {
    let today = fmt::today();
    let this = Period::of(today);
    if today.day() >= 20 {
        return this;
    }
    let last = today.replace_day(1).ok().and_then(|d| d.previous_day());
    last.map(Period::of).unwrap_or(this)
}

/// The unit picker's options: an editor's own units, every unit for everyone else (who may
/// read them all).
fn unit_choices(session: &Session, units: &Value) -> Vec<(String, String)> {
    let all = units.as_array().cloned().unwrap_or_default();
    let name = |id: &str| {
        all.iter()
            .find(|u| u["unitId"].as_str() == Some(id))
            .and_then(|u| u["name"].as_str())
            .unwrap_or(id)
            .to_owned()
    };
    if !session.identity.units.is_empty() {
        return session
            .identity
            .units
            .iter()
            .map(|u| (u.as_str().to_owned(), name(u.as_str())))
            .collect();
    }
    fmt::unit_options(units)
}

/// The unit's projects that take a report for `period`, with the month's record if any.
async fn load<B: Backend>(
    web: &B,
    session: &Session,
    unit: &str,
    period: Period,
) -> Result<Vec<Row>, Vec<GqlError>> {
    let mut rows = Vec::new();
    let mut after: Option<String> = None;
    loop {
        // Only started projects that are not abandoned can take a report at all (a cheap
        // narrowing); which of them take one for this month is the API's answer.
        let data = gql::run(
            web,
            session,
            "query Grid($u: [String!], $p: Period!, $first: Int, $after: String) {
               projects(filter: {unit: $u, stage: [UNDER_CONSTRUCTION, COMPLETED, IN_PRODUCTION],
                                 status: [ACTIVE, DELAYED, DORMANT]},
                        orderBy: {field: NAME, direction: ASC}, first: $first, after: $after) {
                 pageInfo { hasNextPage endCursor }
                 nodes { id projectId name projectCode leadOfficial startDate version ytdInvestment
                         acceptsReportFor(period: $p)
                         monthlyInvestment { period completedInvestment fundsInPlace correctionCount
                                             progressNarrative problems } }
               }
             }",
            json!({"u": [unit], "p": period.to_string(), "first": PAGE, "after": after}),
        )
        .await?;
        let c = &data["projects"];
        for p in c["nodes"].as_array().into_iter().flatten() {
            if p["acceptsReportFor"] != true {
                continue;
            }
            let months = p["monthlyInvestment"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let this = period.to_string();
            let recorded = months
                .iter()
                .find(|m| m["period"].as_str() == Some(this.as_str()))
                .cloned();
            let previous = months
                .iter()
                .filter(|m| m["period"].as_str().is_some_and(|q| q < this.as_str()))
                .max_by(|a, b| fmt::text(&a["period"]).cmp(fmt::text(&b["period"])))
                .cloned();
            rows.push(Row {
                id: fmt::text(&p["id"]).to_owned(),
                uuid: fmt::text(&p["projectId"]).to_owned(),
                name: fmt::text(&p["name"]).to_owned(),
                code: p["projectCode"].clone(),
                lead: p["leadOfficial"].clone(),
                start: p["startDate"].clone(),
                version: p["version"].as_i64().unwrap_or(0),
                ytd: p["ytdInvestment"].clone(),
                recorded,
                previous,
            });
        }
        match (
            c["pageInfo"]["hasNextPage"].as_bool(),
            c["pageInfo"]["endCursor"].as_str(),
        ) {
            (Some(true), Some(cursor)) => after = Some(cursor.to_owned()),
            _ => break,
        }
    }
    Ok(rows)
}

/// 万元 text of a recorded yuan figure.
fn wan_text(v: &Value) -> String {
    v.as_i64()
        .and_then(|y| Yuan::new(y).ok())
        .map(Yuan::to_wan_string)
        .unwrap_or_default()
}

/// What a row shows before anything is typed: the recorded figures, if any.
fn recorded_typed(row: &Row) -> Typed {
    match &row.recorded {
        Some(m) => Typed {
            completed: wan_text(&m["completedInvestment"]),
            funds: wan_text(&m["fundsInPlace"]),
            progress: m["progressNarrative"].as_str().unwrap_or("").to_owned(),
            problems: m["problems"].as_str().unwrap_or("").to_owned(),
            reason: String::new(),
            version: None,
        },
        None => Typed::default(),
    }
}

fn parse_period(raw: Option<&str>) -> Result<Period, String> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(default_period()),
        Some(s) => Period::parse(s).map_err(|_| s.to_owned()),
    }
}

pub async fn page<B: Backend>(
    State(web): State<Arc<B>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(choice): Query<Choice>,
) -> Response {
    let session = match session::require(&*web, &headers, peer).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let period = match parse_period(choice.period.as_deref()) {
        Ok(p) => p,
        Err(bad) => {
            return layout::page(
                "月报",
                Some(&session),
                Nav::Monthly,
                html! {
                    h1 { "月度投资报送" }
                    p.error role="alert" { "“" (bad) "” 不是月份，请用 YYYY-MM。"
                        span.en { " Not a month: use YYYY-MM." } }
                    p { a href="/monthly" { "返回月报" } }
                },
            );
        }
    };
    render(
        &*web,
        &session,
        choice.unit,
        period,
        Render::Fresh(choice.saved),
    )
    .await
}

enum Render {
    /// As recorded (after a write: how many rows it recorded).
    Fresh(Option<usize>),
    /// After a refused submission: what was typed, the errors, the batch key to reuse.
    Refused {
        typed: HashMap<String, Typed>,
        errors: HashMap<String, Vec<RowError>>,
        general: Vec<GqlError>,
        key: String,
    },
}

async fn render<B: Backend>(
    web: &B,
    session: &Session,
    unit: Option<String>,
    period: Period,
    how: Render,
) -> Response {
    // The unit list first, to know the default unit.
    let units = match gql::run(web, session, "{ units { unitId name } }", json!({})).await {
        Ok(d) => d["units"].clone(),
        Err(e) => {
            return layout::page("月报", Some(session), Nav::Monthly, gql::errors_box(&e));
        }
    };
    let choices = unit_choices(session, &units);
    let unit = unit
        .filter(|u| !u.trim().is_empty())
        .or_else(|| choices.first().map(|(id, _)| id.clone()))
        .unwrap_or_default();
    let rows = match load(web, session, &unit, period).await {
        Ok(rows) => rows,
        Err(e) => {
            return layout::page(
                "月报",
                Some(session),
                Nav::Monthly,
                html! { h1 { "月度投资报送" } (gql::errors_box(&e)) },
            );
        }
    };
    let refused = matches!(how, Render::Refused { .. });
    let (typed, errors, general, key, saved) = match how {
        Render::Fresh(saved) => (
            HashMap::new(),
            HashMap::new(),
            Vec::new(),
            uuid::Uuid::new_v4().to_string(),
            saved,
        ),
        Render::Refused {
            typed,
            errors,
            general,
            key,
        } => (typed, errors, general, key, None),
    };
    let writable = may(session, Operation::ReportInvestment, &unit);
    let view = View {
        writable,
        unit,
        period,
        rows: &rows,
        units: &units,
        choices,
        typed,
        errors,
        general,
        key,
        saved,
        csrf: session.csrf.clone(),
        template: writable
            || auth::grant(session.identity.role, Operation::ReportInvestment.area())
                != auth::Grant::InScope,
    };
    let mut r = layout::page("月报", Some(session), Nav::Monthly, grid(&view));
    if refused {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    r
}

fn grid(v: &View) -> Markup {
    let unit_name = fmt::unit_name(v.units, &Value::String(v.unit.clone())).to_owned();
    let max = Period::of(fmt::today()).to_string();
    let table = html! {
        table.figures.grid #grid data-period=(v.period.to_string()) data-unit=(v.unit) {
            caption { (unit_name) " · " (v.period.to_string()) " 月报（金额单位：万元）"
                @if !v.writable { " · 只读" } }
            thead { tr {
                th scope="col" { "项目名称" }
                th scope="col" { "项目代码" }
                th scope="col" { "包抓领导" }
                th scope="col" { "开工日期" }
                th scope="col" class="num" { "上月完成投资" }
                th scope="col" class="num" { "本年完成投资" }
                th scope="col" { "状态" }
                th scope="col" { "本月完成投资（万元）" }
                th scope="col" { "本月到位资金（万元）" }
                th scope="col" { "形象进度" }
                th scope="col" { "存在问题" }
                @if v.writable { th scope="col" { "更正原因" } }
            } }
            tbody {
                @for row in v.rows { (grid_row(v, row)) }
            }
        }
    };
    html! {
        h1 { "月度投资报送" }
        form.pickers method="get" action="/monthly" {
            div { (layout::select("unit", "责任单位", &v.choices, &v.unit, false)) }
            div {
                label for="period" { "报表月份" }
                input #period type="month" name="period" value=(v.period.to_string()) max=(max) required;
            }
            div { button type="submit" { "查看" } }
        }
        @if v.template {
            p.files {
                a.button.secondary #template-link download
                    href=(format!("/files/monthly-report.xlsx?{}", serde_urlencoded::to_string([("unit", v.unit.as_str()), ("period", &v.period.to_string())]).unwrap_or_default())) {
                    "下载本月 Excel 填报模板"
                }
                " " span.hint { "模板列出与本表相同的项目，供在 Excel/WPS 中填写。" }
            }
        }
        @if let Some(n) = v.saved {
            div.alert.ok role="status" #saved data-saved=(n) {
                @if n == 0 { "没有需要报送的变更。" span.en { " Nothing to record: no row was changed." } }
                @else { "已报送 " (n) " 个项目，以下为记录后的数字。" span.en { " Recorded " (n) " projects; the grid shows the recorded figures." } }
            }
        }
        @if !v.general.is_empty() { (gql::errors_box(&v.general)) }
        @if !v.errors.is_empty() {
            div.alert.error role="alert" #grid-errors {
                p { strong { "有 " (v.errors.len()) " 行未通过校验，整批未写入任何数据。请修改标红的行后重新提交。" } }
                p.en { (v.errors.len()) " rows were refused, so nothing of the batch was recorded: fix the marked rows and submit again." }
            }
        }
        @if v.rows.is_empty() {
            p.empty #no-rows { (unit_name) " 在 " (v.period.to_string()) " 没有可报送投资的项目（须已开工、未终止）。"
                span.en { " No project of this unit can report for this month (started, not abandoned)." } }
        } @else {
            @if v.writable {
                form #grid-form method="post" action="/monthly" {
                    input type="hidden" name="csrf" value=(v.csrf);
                    input type="hidden" name="unit" value=(v.unit);
                    input type="hidden" name="period" value=(v.period.to_string());
                    input type="hidden" name="key" value=(v.key);
                    (table)
                    p.actions {
                        button type="submit" #grid-submit { "一次提交全部" }
                        " "
                        span.hint { "空白行不报送；已报送的月份改动数字须填写更正原因，整批要么全部记录，要么一条也不记录。" }
                    }
                }
            } @else {
                p.hint #read-only { "只读：您的角色或单位范围不能报送该单位的月报。"
                    span.en { " Read-only: your role or units may not report for this unit." } }
                (table)
            }
        }
        script src=(assets::url("grid.js")) defer {}
    }
}

fn grid_row(v: &View, row: &Row) -> Markup {
    let typed = v
        .typed
        .get(&row.uuid)
        .cloned()
        .unwrap_or_else(|| recorded_typed(row));
    let errors = v.errors.get(&row.uuid).cloned().unwrap_or_default();
    let has_error = |field: &str| {
        errors.iter().any(|e| {
            e.field
                .as_deref()
                .is_some_and(|f| f.eq_ignore_ascii_case(field))
        })
    };
    let version = typed.version.unwrap_or(row.version);
    let u = &row.uuid;
    let cell = |name: &str, label: &str, value: &str, field: &str, wan: bool| {
        let id = format!("{name}-{u}");
        html! {
            td {
                label.sr-only for=(id) { (row.name) " " (label) }
                @if wan {
                    input id=(id) name=(format!("{name}:{u}")) value=(value) inputmode="decimal"
                        autocomplete="off" data-wan="true" aria-describedby=(format!("{id}-msg"))
                        aria-invalid=(if has_error(field) { "true" } else { "false" });
                } @else {
                    input id=(id) name=(format!("{name}:{u}")) value=(value) autocomplete="off"
                        aria-invalid=(if has_error(field) { "true" } else { "false" });
                }
                @if wan { div.msg id=(format!("{id}-msg")) aria-live="polite" {} }
            }
        }
    };
    let reported = row.recorded.is_some();
    html! {
        tr id=(format!("row-{u}")) data-project=(row.id) data-reported=(reported)
            class=(if errors.is_empty() { "" } else { "refused" }) {
            th scope="row" {
                a href=(format!("/projects/{}", row.id)) { (row.name) }
                @if v.writable { input type="hidden" name=(format!("v:{u}")) value=(version); }
            }
            td { (fmt::text(&row.code)) }
            td { (fmt::text(&row.lead)) }
            td.date { (fmt::text(&row.start)) }
            td.num { @if let Some(p) = &row.previous { span title=(fmt::text(&p["period"])) { (fmt::money_m(&p["completedInvestment"])) } } @else { "—" } }
            td.num { (fmt::money_m(&row.ytd)) }
            td.state {
                @if let Some(m) = &row.recorded {
                    span.tag.reported { "已报送" }
                    @if m["correctionCount"].as_i64().unwrap_or(0) > 0 { br; span.hint { "已更正 " (fmt::count(&m["correctionCount"])) " 次" } }
                } @else { span.tag.pending { "未报送" } }
            }
            @if v.writable {
                (cell("ci", "本月完成投资（万元）", &typed.completed, "completedInvestmentWan", true))
                (cell("fi", "本月到位资金（万元）", &typed.funds, "fundsInPlaceWan", true))
                (cell("pn", "形象进度", &typed.progress, "progressNarrative", false))
                (cell("pr", "存在问题", &typed.problems, "problems", false))
                @if reported {
                    (cell("why", "更正原因", &typed.reason, "correctionReason", false))
                } @else { td { span.hint { "—" } } }
            } @else {
                @match &row.recorded {
                    Some(m) => {
                        td.num.recorded data-yuan=(m["completedInvestment"].to_string()) { (fmt::money_m(&m["completedInvestment"])) }
                        td.num.recorded data-yuan=(m["fundsInPlace"].to_string()) { (fmt::money_m(&m["fundsInPlace"])) }
                        td { (m["progressNarrative"].as_str().unwrap_or("—")) }
                        td { (m["problems"].as_str().unwrap_or("—")) }
                    }
                    None => { td.none { "—" } td.none { "—" } td.none { "—" } td.none { "—" } }
                }
            }
        }
        @if !errors.is_empty() {
            tr.row-errors id=(format!("errors-{u}")) {
                td colspan="12" {
                    ul.row-error role="alert" {
                        @for e in &errors {
                            li {
                                (e.zh) " " span.en { (e.en) }
                                @if let Some(f) = &e.field { " " span.code { "字段 field: " (f) } }
                                " " span.code { (e.code) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The submitted grid: `ci:<uuid>`, `fi:`, `pn:`, `pr:`, `why:`, `v:` per row.
fn typed_rows(pairs: &[(String, String)]) -> HashMap<String, Typed> {
    let mut rows: HashMap<String, Typed> = HashMap::new();
    for (name, value) in pairs {
        let Some((field, uuid)) = name.split_once(':') else {
            continue;
        };
        let t = rows.entry(uuid.to_owned()).or_default();
        let value = value.trim().to_owned();
        match field {
            "ci" => t.completed = value,
            "fi" => t.funds = value,
            "pn" => t.progress = value,
            "pr" => t.problems = value,
            "why" => t.reason = value,
            "v" => t.version = value.parse().ok(),
            _ => {}
        }
    }
    rows
}

/// An amount cell as typed, read by the domain's one reading of 万元 text.
fn amount(field: &str, label: &str, text: &str) -> Result<Option<Yuan>, RowError> {
    if text.is_empty() {
        return Ok(None);
    }
    Yuan::parse_wan(text).map(Some).map_err(|e| RowError {
        zh: format!("{label}：{}", e.zh),
        en: format!("{field}: {}", e.en),
        code: e.code.as_str(),
        field: Some(field.to_owned()),
    })
}

/// A row's batch item, none when the row asks for nothing, or why it is refused as typed.
fn item_of(row: &Row, t: &Typed, period: Period) -> Result<Option<Value>, Vec<RowError>> {
    let mut errors = Vec::new();
    let completed = amount("completedInvestmentWan", "本月完成投资", &t.completed)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let funds = amount("fundsInPlaceWan", "本月到位资金", &t.funds)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    if !errors.is_empty() {
        return Err(errors);
    }
    let text = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    if let Some(m) = &row.recorded {
        // Unchanged: nothing to send.
        let same = completed.map(Yuan::get) == m["completedInvestment"].as_i64()
            && funds.map(Yuan::get) == m["fundsInPlace"].as_i64()
            && text(&t.progress).as_deref() == m["progressNarrative"].as_str()
            && text(&t.problems).as_deref() == m["problems"].as_str();
        if same {
            return Ok(None);
        }
    } else if t.completed.is_empty()
        && t.funds.is_empty()
        && t.progress.is_empty()
        && t.problems.is_empty()
    {
        return Ok(None);
    }
    for (value, field, zh, en) in [
        (
            &t.completed,
            "completedInvestmentWan",
            "本月完成投资",
            "completed investment",
        ),
        (
            &t.funds,
            "fundsInPlaceWan",
            "本月到位资金",
            "funds in place",
        ),
    ] {
        if value.is_empty() {
            errors.push(RowError {
                zh: format!("{zh}（万元）须填写：报送或更正时两项金额都要填（没有则填 0）"),
                en: format!("{en} (万元) is required: a report or correction gives both amounts (0 when none)"),
                code: "VALIDATION".into(),
                field: Some(field.into()),
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut item = json!({
        "projectId": row.id,
        "expectedVersion": t.version.unwrap_or(row.version),
        "period": period.to_string(),
        "completedInvestmentWan": t.completed,
        "fundsInPlaceWan": t.funds,
        "progressNarrative": text(&t.progress),
        "problems": text(&t.problems),
    });
    // A changed figure of a reported month is a correction when a reason is given; without
    // one it goes as a report, and the API refuses it with its own hint to correct instead.
    if row.recorded.is_some() && !t.reason.is_empty() {
        item["correctionReason"] = json!(t.reason);
    }
    Ok(Some(item))
}

/// The grid's submission: checked as typed, then one `reportInvestments` batch.
pub async fn submit<B: Backend>(
    State(web): State<Arc<B>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawForm(body): RawForm,
) -> Response {
    let form = Params::form(&body);
    let get = |k: &str| form.get(k).to_owned();
    let session = match session::require_write(&*web, &headers, peer, Some(&get("csrf"))).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let unit = get("unit");
    let Ok(period) = Period::parse(&get("period")) else {
        return layout::error_page(
            StatusCode::BAD_REQUEST,
            "报表月份无效，请用 YYYY-MM。",
            "The period is not a month: use YYYY-MM.",
        );
    };
    let key = match get("key") {
        k if k.is_empty() => uuid::Uuid::new_v4().to_string(),
        k => k,
    };
    let typed = typed_rows(&form.pairs);
    let rows = match load(&*web, &session, &unit, period).await {
        Ok(rows) => rows,
        Err(e) => {
            return layout::page(
                "月报",
                Some(&session),
                Nav::Monthly,
                html! { h1 { "月度投资报送" } (gql::errors_box(&e)) },
            );
        }
    };
    let mut items = Vec::new();
    let mut item_rows = Vec::new();
    let mut errors: HashMap<String, Vec<RowError>> = HashMap::new();
    for row in &rows {
        let Some(t) = typed.get(&row.uuid) else {
            continue;
        };
        match item_of(row, t, period) {
            Ok(Some(item)) => {
                items.push(item);
                item_rows.push(row.uuid.clone());
            }
            Ok(None) => {}
            Err(e) => {
                errors.insert(row.uuid.clone(), e);
            }
        }
    }
    let refused = |errors, general| Render::Refused {
        typed: typed.clone(),
        errors,
        general,
        key: key.clone(),
    };
    if !errors.is_empty() {
        return render(
            &*web,
            &session,
            Some(unit),
            period,
            refused(errors, Vec::new()),
        )
        .await;
    }
    let back = |saved: usize| {
        let q = serde_urlencoded::to_string([
            ("unit", unit.as_str()),
            ("period", &period.to_string()),
            ("saved", &saved.to_string()),
        ])
        .unwrap_or_default();
        Redirect::to(&format!("/monthly?{q}")).into_response()
    };
    if items.is_empty() {
        return back(0);
    }
    let count = items.len();
    let answer = web
        .execute(
            &session.identity,
            "mutation Grid($input: ReportInvestmentsInput!) {
               reportInvestments(input: $input) { items { result { readModel } } }
             }",
            json!({"input": {"idempotencyKey": key, "items": items}}),
        )
        .await;
    let list = answer["errors"].as_array().cloned().unwrap_or_default();
    if list.is_empty() {
        tracing::info!(unit = %unit, %period, items = count, "monthly grid recorded");
        return back(count);
    }
    // Per row: every refusal of the batch (`extensions.itemErrors`, each with its `item`
    // index); errors that name no item go above the grid.
    let mut general = Vec::new();
    for e in &list {
        let all = e["extensions"]["itemErrors"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| vec![e.clone()]);
        for one in &all {
            let g = gql::GqlError::from_json(one);
            match one["extensions"]["item"]
                .as_u64()
                .and_then(|i| item_rows.get(i as usize))
            {
                Some(uuid) => errors.entry(uuid.clone()).or_default().push((&g).into()),
                None => general.push(g),
            }
        }
    }
    render(
        &*web,
        &session,
        Some(unit),
        period,
        refused(errors, general),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(recorded: Option<Value>) -> Row {
        Row {
            id: "UHJvamVjdDp4".into(),
            uuid: "x".into(),
            name: "p".into(),
            code: Value::Null,
            lead: Value::Null,
            start: Value::Null,
            version: 7,
            ytd: Value::Null,
            recorded,
            previous: None,
        }
    }

    fn typed(ci: &str, fi: &str) -> Typed {
        Typed {
            completed: ci.into(),
            funds: fi.into(),
            ..Typed::default()
        }
    }

    #[test]
    fn blank_and_unchanged_rows_send_nothing() {
        let p = Period::parse("2026-11").unwrap();
        assert!(item_of(&row(None), &typed("", ""), p).unwrap().is_none());
        let rec = json!({"completedInvestment": 1_234_500, "fundsInPlace": 0, "progressNarrative": null, "problems": null});
        assert!(
            item_of(&row(Some(rec)), &typed("123.45", "0"), p)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn amounts_are_checked_as_typed_in_both_languages() {
        let p = Period::parse("2026-11").unwrap();
        let e = item_of(&row(None), &typed("1.23456", "-1"), p)
            .err()
            .unwrap();
        assert_eq!(e.len(), 2);
        assert!(e[0].zh.contains("本月完成投资") && !e[0].en.is_empty());
        assert_eq!(e[0].field.as_deref(), Some("completedInvestmentWan"));
        assert_eq!(e[1].field.as_deref(), Some("fundsInPlaceWan"));
        let missing = item_of(&row(None), &typed("5", ""), p).err().unwrap();
        assert_eq!(missing[0].field.as_deref(), Some("fundsInPlaceWan"));
    }

    #[test]
    fn a_changed_reported_row_with_a_reason_is_a_correction() {
        let p = Period::parse("2026-11").unwrap();
        let rec = json!({"completedInvestment": 10_000, "fundsInPlace": 0, "progressNarrative": null, "problems": null});
        let mut t = typed("2", "0");
        t.reason = "填报错误".into();
        let item = item_of(&row(Some(rec)), &t, p).unwrap().unwrap();
        assert_eq!(item["correctionReason"], json!("填报错误"));
        assert_eq!(item["completedInvestmentWan"], json!("2"));
        assert_eq!(item["expectedVersion"], json!(7));
    }
}
