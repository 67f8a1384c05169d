//! 领导驾驶舱: the year's figures against the targets, investment by month against last year,
//! the unit ranking, the lights with their projects, signings, and supervision items overdue or
//! due soon; as of a business date. The big-screen mode (`/bigscreen`) shows the same figures
//! for a 1920×1080 wall and redraws whenever the API's `dashboard` subscription reports a change.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};
use time::Date;

use crate::fmt::{self, Enum};
use crate::gql::{self, GqlError};
use crate::layout::{self, Nav};
use crate::session::{self, Session};
use crate::{Backend, assets};

const DASHBOARD: &str = "year scope asOf closedMonths monthProgressPct dayProgressPct \
    projectCount abandonedCount ytdInvestment ytdFunds priorYtdInvestment yoyInvestmentPct \
    priorYtdFunds yoyFundsPct plannedInvestment planCompletionPct startDueCount startStartedCount \
    startRatePct performanceRatePct contractedCount fundsInPlaceRatePct signedCount \
    signedInvestment signedBigCount signedIndustrial10mCount redCount yellowCount greenCount \
    expropriationArea expropriationAreaPct expropriationHouseholdsPct supervisionOpenedCount \
    supervisionClosedCount supervisionCloseRatePct supervisionOverdueCount supervisionDueSoonCount \
    targets { scope metric targetValue actualValue completionPct timeProgressPct gapPp light } \
    unitRanking { unitId rank score targetCount redProjects ytdInvestment } \
    signedByInvestorType { investorType count investment }";

const PROJECT_ROW: &str = "id name unitId stage contractInvestment intendedInvestment \
    ytdInvestment startLight investmentLight light";

const ITEM_ROW: &str = "id itemId title category leadUnitId deadlineDate status overdue dueSoon \
    project { id name }";

/// The page's choices, from the query string.
#[derive(Deserialize, Default)]
pub struct Choice {
    #[serde(default, rename = "asOf")]
    as_of: Option<String>,
    #[serde(default)]
    unit: Option<String>,
    #[serde(default, rename = "knownAt")]
    known_at: Option<String>,
}

/// A date typed into a picker: `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<Date> {
    Date::parse(
        s.trim(),
        &time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

struct Asked {
    as_of: Option<Date>,
    /// Knowledge time K as typed (`YYYY-MM-DDTHH:MM`, county time).
    known_at: Option<String>,
    unit: Option<String>,
    /// A picker value that is not a date.
    bad_date: Option<String>,
}

impl Choice {
    fn asked(&self) -> Asked {
        let raw = self
            .as_of
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let as_of = raw.and_then(parse_date);
        let known_at = self
            .known_at
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        Asked {
            as_of,
            known_at,
            unit: self.unit.clone().filter(|u| !u.trim().is_empty()),
            bad_date: raw.filter(|_| as_of.is_none()).map(str::to_owned),
        }
    }
}

/// Everything the cockpit shows, in one operation.
async fn load<B: Backend>(
    web: &B,
    session: &Session,
    asked: &Asked,
) -> Result<Value, Vec<GqlError>> {
    let day = asked.as_of.unwrap_or_else(fmt::today);
    // Investment by month: the dashboard as of the first day of each later month has that
    // month's closed months, with last year's same months beside it (`priorYtdInvestment`).
    let mut months = String::new();
    for next in 2..=u8::from(day.month()) {
        if let Ok(month) = time::Month::try_from(next)
            && let Ok(first) = Date::from_calendar_date(day.year(), month, 1)
            && first < day
        {
            months.push_str(&format!(
                "m{next}: dashboard(year: $year, unit: $unit, asOf: \"{first}\", knownAt: $knownAt) {{ closedMonths ytdInvestment priorYtdInvestment }}\n"
            ));
        }
    }
    let query = format!(
        "query Cockpit($year: Int!, $asOf: Date, $knownAt: DateTime, $unit: ID, $units: [String!]) {{
          units {{ unitId name }}
          d: dashboard(year: $year, unit: $unit, asOf: $asOf, knownAt: $knownAt) {{ {DASHBOARD} }}
          {months}
          red: projects(filter: {{light: [RED], unit: $units}}, first: 30, orderBy: {{field: AMOUNT, direction: DESC}}) {{ totalCount nodes {{ {PROJECT_ROW} }} }}
          yellow: projects(filter: {{light: [YELLOW], unit: $units}}, first: 30, orderBy: {{field: AMOUNT, direction: DESC}}) {{ totalCount nodes {{ {PROJECT_ROW} }} }}
          green: projects(filter: {{light: [GREEN], unit: $units}}, first: 30, orderBy: {{field: AMOUNT, direction: DESC}}) {{ totalCount nodes {{ {PROJECT_ROW} }} }}
          big: projects(filter: {{amountMin: 100000000, unit: $units, stage: [CONTRACTED, UNDER_CONSTRUCTION, COMPLETED, IN_PRODUCTION]}}, first: 15, orderBy: {{field: AMOUNT, direction: DESC}}) {{ totalCount nodes {{ id name unitId investorType contractInvestment contractSignedDate stage }} }}
          overdue: supervisionItems(filter: {{overdue: true, unit: $unit}}, first: 30) {{ totalCount nodes {{ {ITEM_ROW} }} }}
          dueSoon: supervisionItems(filter: {{dueSoon: true, unit: $unit}}, first: 30) {{ totalCount nodes {{ {ITEM_ROW} }} }}
        }}"
    );
    let units = asked
        .unit
        .as_ref()
        .map(|u| json!([u]))
        .unwrap_or(Value::Null);
    gql::run(
        web,
        session,
        &query,
        json!({
            "year": day.year(),
            "asOf": asked.as_of.map(|d| d.to_string()),
            // The picker's local time is the county's (UTC+8); the API checks the rest.
            "knownAt": asked.known_at.as_ref().map(|k| if k.len() == 16 { format!("{k}:00+08:00") } else { k.clone() }),
            "unit": asked.unit,
            "units": units,
        }),
    )
    .await
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
    let asked = choice.asked();
    let body = match load(&*web, &session, &asked).await {
        Ok(data) => html! {
            (pickers(&asked, &data["units"], "/"))
            (figures(&data, false))
        },
        Err(errors) => html! { (pickers(&asked, &Value::Null, "/")) (gql::errors_box(&errors)) },
    };
    let body = html! {
        (body)
        script src=(assets::url("echarts.js")) defer {}
        script src=(assets::url("charts.js")) defer {}
    };
    layout::page("领导驾驶舱", Some(&session), Nav::Cockpit, body)
}

/// The as-of picker (business date) and the scope.
fn pickers(asked: &Asked, units: &Value, action: &str) -> Markup {
    let unit_options = fmt::unit_options(units);
    html! {
        form.pickers method="get" action=(action) {
            label for="asOf" { "截至日期（业务日期）" }
            input #asOf type="date" name="asOf"
                value=(asked.as_of.map(|d| d.to_string()).unwrap_or_default());
            label for="knownAt" { "记录截至（知悉时间）" }
            input #knownAt type="datetime-local" name="knownAt"
                value=(asked.known_at.clone().unwrap_or_default());
            (layout::select("unit", "范围", &unit_options, asked.unit.as_deref().unwrap_or(""), true))
            button type="submit" { "查看" }
            a.button.secondary href="/bigscreen" { "大屏模式" }
            @if let Some(bad) = &asked.bad_date {
                p.error role="alert" { "“" (bad) "” 不是日期，请用 YYYY-MM-DD。"
                    span.en { " Not a date: use YYYY-MM-DD." } }
            }
        }
    }
}

/// A headline figure: its label, formatted value and the API's raw value (`data-value`).
fn kpi(key: &str, label: &str, raw: &Value, shown: String, sub: Option<Markup>) -> Markup {
    html! {
        div.kpi data-k=(key) data-value=(raw.to_string()) {
            div.label { (label) }
            div.v { (shown) }
            @if let Some(s) = sub { div.sub { (s) } }
        }
    }
}

/// The cockpit's figures; `big` for the wall display.
fn figures(data: &Value, big: bool) -> Markup {
    let d = &data["d"];
    let units = &data["units"];
    let chart = |id: &str, kind: &str, payload: Value, label: &str| {
        html! {
            div.chart id=(id) data-chart=(kind) data-series=(payload.to_string())
                role="img" aria-label=(label) {}
        }
    };
    html! {
        p.asof {
            (d["year"]) "年 · 截至 " span #as-of { (fmt::text(&d["asOf"])) }
            " · 已结账月份 " (fmt::count(&d["closedMonths"])) " 个月"
            " · 时序进度（月）" (fmt::pct(&d["monthProgressPct"]))
            " · 时序进度（日）" (fmt::pct(&d["dayProgressPct"]))
        }
        section.kpis aria-label="核心指标" {
            (kpi("ytdInvestment", "本年完成投资", &d["ytdInvestment"], fmt::money_v(&d["ytdInvestment"]),
                Some(html! { "同比 " (fmt::pct(&d["yoyInvestmentPct"])) " · 上年同期 " (fmt::money_v(&d["priorYtdInvestment"])) })))
            (kpi("ytdFunds", "本年到位资金", &d["ytdFunds"], fmt::money_v(&d["ytdFunds"]),
                Some(html! { "同比 " (fmt::pct(&d["yoyFundsPct"])) })))
            (kpi("planCompletionPct", "计划完成率", &d["planCompletionPct"], fmt::pct(&d["planCompletionPct"]),
                Some(html! { "本年计划 " (fmt::money_v(&d["plannedInvestment"])) })))
            (kpi("startRatePct", "开工率", &d["startRatePct"], fmt::pct(&d["startRatePct"]),
                Some(html! { (fmt::count(&d["startStartedCount"])) " / " (fmt::count(&d["startDueCount"])) " 个" })))
            (kpi("performanceRatePct", "履约率", &d["performanceRatePct"], fmt::pct(&d["performanceRatePct"]), None))
            (kpi("fundsInPlaceRatePct", "资金到位率", &d["fundsInPlaceRatePct"], fmt::pct(&d["fundsInPlaceRatePct"]), None))
            (kpi("signedCount", "本年签约项目", &d["signedCount"], format!("{} 个", fmt::count(&d["signedCount"])),
                Some(html! { (fmt::money_v(&d["signedInvestment"])) " · 亿元以上 " (fmt::count(&d["signedBigCount"])) " 个" })))
            (kpi("expropriationAreaPct", "征迁面积完成率", &d["expropriationAreaPct"], fmt::pct(&d["expropriationAreaPct"]),
                Some(html! { "已征 " (fmt::mu(&d["expropriationArea"])) })))
            (kpi("supervisionCloseRatePct", "督办销号率", &d["supervisionCloseRatePct"], fmt::pct(&d["supervisionCloseRatePct"]),
                Some(html! { "逾期 " (fmt::count(&d["supervisionOverdueCount"])) " · 临期 " (fmt::count(&d["supervisionDueSoonCount"])) })))
        }
        section.panel aria-labelledby="h-targets" {
            h2 #h-targets { "年度目标完成情况" }
            table.figures #targets {
                thead { tr { th scope="col" { "指标" } th scope="col" { "年度目标" } th scope="col" { "完成" }
                    th scope="col" { "完成率" } th scope="col" { "时序进度" } th scope="col" { "差距" } th scope="col" { "灯色" } } }
                tbody {
                    @for t in d["targets"].as_array().into_iter().flatten() {
                        tr data-metric=(fmt::text(&t["metric"])) data-completion=(t["completionPct"].to_string()) data-light=(t["light"].to_string()) {
                            th scope="row" { (fmt::label(Enum::Metric, &t["metric"])) }
                            td.num { (fmt::metric_value(&t["metric"], &t["targetValue"])) }
                            td.num { (fmt::metric_value(&t["metric"], &t["actualValue"])) }
                            td.num { (fmt::pct(&t["completionPct"])) }
                            td.num { (fmt::pct(&t["timeProgressPct"])) }
                            td.num { (fmt::pp(&t["gapPp"])) }
                            td { (fmt::light(&t["light"])) }
                        }
                    }
                }
            }
        }
        div.row {
            section.panel aria-labelledby="h-monthly" {
                h2 #h-monthly { "1–" (fmt::count(&d["closedMonths"])) "月累计完成投资（万元）· 本年与上年同期" }
                (chart("chart-monthly", "monthly", monthly_series(data), "按月累计完成投资折线图，本年与上年同期"))
            }
            section.panel aria-labelledby="h-lights" {
                h2 #h-lights { "项目灯色" }
                (chart("chart-lights", "lights", json!({"red": d["redCount"], "yellow": d["yellowCount"], "green": d["greenCount"]}), "红黄绿灯项目数饼图"))
                p.lights #light-counts data-red=(d["redCount"].to_string()) data-yellow=(d["yellowCount"].to_string()) data-green=(d["greenCount"].to_string()) {
                    span.light.red { "红灯 " (fmt::count(&d["redCount"])) }
                    " " span.light.yellow { "黄灯 " (fmt::count(&d["yellowCount"])) }
                    " " span.light.green { "绿灯 " (fmt::count(&d["greenCount"])) }
                    " · 共 " (fmt::count(&d["projectCount"])) " 个项目（终止 " (fmt::count(&d["abandonedCount"])) " 个不计）"
                }
            }
        }
        div.row {
            section.panel aria-labelledby="h-ranking" {
                h2 #h-ranking { "责任单位排名" }
                (chart("chart-ranking", "ranking", ranking_series(d, units), "责任单位得分条形图"))
                table.figures #ranking {
                    thead { tr { th scope="col" { "名次" } th scope="col" { "单位" } th scope="col" { "得分" }
                        th scope="col" { "目标数" } th scope="col" { "红灯项目" } th scope="col" { "本年完成投资" } } }
                    tbody {
                        @for r in d["unitRanking"].as_array().into_iter().flatten() {
                            tr data-unit=(fmt::text(&r["unitId"])) data-rank=(r["rank"].to_string()) {
                                td.num { (fmt::count(&r["rank"])) }
                                th scope="row" { (fmt::unit_name(units, &r["unitId"])) }
                                td.num { (r["score"].as_f64().map(|s| format!("{s:.1}")).unwrap_or_else(|| "—".into())) }
                                td.num { (fmt::count(&r["targetCount"])) }
                                td.num { (fmt::count(&r["redProjects"])) }
                                td.num { (fmt::money_m(&r["ytdInvestment"])) }
                            }
                        }
                    }
                }
            }
            section.panel aria-labelledby="h-signed" {
                h2 #h-signed { "本年签约（按投资方类型）" }
                (chart("chart-signed", "signed", signed_series(d), "按投资方类型的签约金额饼图"))
                table.figures #signed {
                    thead { tr { th scope="col" { "投资方类型" } th scope="col" { "项目数" } th scope="col" { "签约金额" } } }
                    tbody {
                        @for s in d["signedByInvestorType"].as_array().into_iter().flatten() {
                            tr data-type=(s["investorType"].to_string()) data-count=(s["count"].to_string()) data-investment=(s["investment"].to_string()) {
                                th scope="row" { (fmt::label(Enum::InvestorType, &s["investorType"])) }
                                td.num { (fmt::count(&s["count"])) }
                                td.num { (fmt::money_m(&s["investment"])) }
                            }
                        }
                    }
                }
                p { "亿元以上签约 " (fmt::count(&d["signedBigCount"])) " 个；千万元以上工业项目 " (fmt::count(&d["signedIndustrial10mCount"])) " 个。" }
            }
        }
        @if !big {
            section.panel aria-labelledby="h-big" {
                h2 #h-big { "亿元以上已签约项目（当前）" }
                (project_table(&data["big"], units, true))
            }
            div.row {
                section.panel aria-labelledby="h-red" {
                    h2 #h-red { "红灯项目（当前 " (fmt::count(&data["red"]["totalCount"])) " 个）" }
                    (project_table(&data["red"], units, false))
                }
                section.panel aria-labelledby="h-yellow" {
                    h2 #h-yellow { "黄灯项目（当前 " (fmt::count(&data["yellow"]["totalCount"])) " 个）" }
                    (project_table(&data["yellow"], units, false))
                }
            }
            details.panel {
                summary { "绿灯项目（当前 " (fmt::count(&data["green"]["totalCount"])) " 个）" }
                (project_table(&data["green"], units, false))
            }
        }
        div.row {
            section.panel aria-labelledby="h-overdue" {
                h2 #h-overdue { "督办事项：已逾期（" (fmt::count(&data["overdue"]["totalCount"])) "）" }
                (items(&data["overdue"], units))
            }
            section.panel aria-labelledby="h-duesoon" {
                h2 #h-duesoon { "督办事项：3 日内到期（" (fmt::count(&data["dueSoon"]["totalCount"])) "）" }
                (items(&data["dueSoon"], units))
            }
        }
    }
}

/// The monthly line chart's points: for each closed month, this year's and last year's
/// cumulative investment in 万元 (exact decimals), as the API answered for that month.
fn monthly_series(data: &Value) -> Value {
    let mut points: Vec<&Value> = (2..=12)
        .filter_map(|m| data.get(format!("m{m}")))
        .filter(|v| v.is_object())
        .collect();
    points.push(&data["d"]);
    let mut months = Vec::new();
    let mut this = Vec::new();
    let mut prior = Vec::new();
    for p in points {
        let m = p["closedMonths"].as_i64().unwrap_or(0);
        if m == 0 || months.contains(&m) {
            continue;
        }
        months.push(m);
        this.push(wan(&p["ytdInvestment"]));
        prior.push(wan(&p["priorYtdInvestment"]));
    }
    json!({
        "months": months.iter().map(|m| format!("{m}月")).collect::<Vec<_>>(),
        "this": this, "prior": prior,
        "thisName": format!("{}年", data["d"]["year"]),
        "priorName": data["d"]["year"].as_i64().map(|y| format!("{}年", y - 1)),
    })
}

/// Yuan as an exact 万元 decimal, for chart axes.
fn wan(v: &Value) -> Value {
    v.as_i64()
        .and_then(|y| domain::Yuan::new(y).ok())
        .map(|y| Value::String(y.to_wan_string()))
        .unwrap_or(Value::Null)
}

fn ranking_series(d: &Value, units: &Value) -> Value {
    let list = d["unitRanking"].as_array().cloned().unwrap_or_default();
    json!({
        "units": list.iter().map(|r| fmt::unit_name(units, &r["unitId"]).to_owned()).collect::<Vec<_>>(),
        "scores": list.iter().map(|r| r["score"].clone()).collect::<Vec<_>>(),
    })
}

fn signed_series(d: &Value) -> Value {
    let list = d["signedByInvestorType"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    json!({
        "types": list.iter().map(|s| fmt::label(Enum::InvestorType, &s["investorType"])).collect::<Vec<_>>(),
        "investment": list.iter().map(|s| wan(&s["investment"])).collect::<Vec<_>>(),
    })
}

/// Projects as a short table linking to their pages.
pub fn project_table(connection: &Value, units: &Value, signed: bool) -> Markup {
    let nodes = connection["nodes"].as_array().cloned().unwrap_or_default();
    html! {
        @if nodes.is_empty() { p.empty { "无" } }
        @else {
            table.figures.compact {
                thead { tr {
                    th scope="col" { "项目" } th scope="col" { "责任单位" } th scope="col" { "阶段" }
                    @if signed { th scope="col" { "投资方" } th scope="col" { "合同投资" } th scope="col" { "签约日期" } }
                    @else { th scope="col" { "本年完成投资" } th scope="col" { "灯色" } }
                } }
                tbody {
                    @for p in &nodes {
                        tr {
                            th scope="row" { a href=(format!("/projects/{}", fmt::text(&p["id"]))) { (fmt::text(&p["name"])) } }
                            td { (fmt::unit_name(units, &p["unitId"])) }
                            td { (fmt::label(Enum::Stage, &p["stage"])) }
                            @if signed {
                                td { (fmt::label(Enum::InvestorType, &p["investorType"])) }
                                td.num { (fmt::money_m(&p["contractInvestment"])) }
                                td { (fmt::text(&p["contractSignedDate"])) }
                            } @else {
                                td.num { (fmt::money_m(&p["ytdInvestment"])) }
                                td { (fmt::light(&p["light"])) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn items(connection: &Value, units: &Value) -> Markup {
    let nodes = connection["nodes"].as_array().cloned().unwrap_or_default();
    html! {
        @if nodes.is_empty() { p.empty { "无" } }
        @else {
            ul.items {
                @for i in &nodes {
                    li class=(if i["overdue"] == true { "overdue" } else { "due-soon" }) {
                        a href=(format!("/supervision#item-{}", fmt::text(&i["itemId"]))) { (fmt::text(&i["title"])) }
                        " · " (fmt::text(&i["project"]["name"]))
                        " · " (fmt::unit_name(units, &i["leadUnitId"]))
                        " · 期限 " (fmt::text(&i["deadlineDate"]))
                    }
                }
            }
        }
    }
}

/// The wall display: the figures without navigation, redrawn on every `dashboard` update.
pub async fn big_screen<B: Backend>(
    State(web): State<Arc<B>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(choice): Query<Choice>,
) -> Response {
    let session = match session::require(&*web, &headers, peer).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let asked = choice.asked();
    let year = fmt::today().year();
    let inner = match load(&*web, &session, &asked).await {
        Ok(data) => figures(&data, true),
        Err(errors) => gql::errors_box(&errors),
    };
    let body = html! {
        div.bigscreen #bigscreen data-year=(year) data-unit=(asked.unit.clone().unwrap_or_default()) {
            header.big-head {
                h1 { "县域重点项目建设领导驾驶舱" }
                p.live { "实时更新 · " span #updated { "已连接前" } }
                a.button.secondary href="/" { "退出大屏" }
            }
            div #live { (inner) }
        }
        script src=(assets::url("echarts.js")) defer {}
        script src=(assets::url("charts.js")) defer {}
        script src=(assets::url("bigscreen.js")) defer {}
    };
    layout::page("大屏", Some(&session), Nav::Cockpit, body)
}

/// The big screen's figures alone, fetched again by its script after each update.
pub async fn big_screen_figures<B: Backend>(
    State(web): State<Arc<B>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(choice): Query<Choice>,
) -> Response {
    let session = match session::require(&*web, &headers, peer).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let asked = choice.asked();
    match load(&*web, &session, &asked).await {
        Ok(data) => layout::html_response(StatusCode::OK, figures(&data, true)),
        Err(errors) => layout::html_response(StatusCode::OK, gql::errors_box(&errors)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_monthly_series_has_a_point_per_closed_month() {
        let data = json!({
            "m2": {"closedMonths": 1, "ytdInvestment": 10_000, "priorYtdInvestment": 5_000},
            "m3": {"closedMonths": 2, "ytdInvestment": 30_000, "priorYtdInvestment": 15_000},
            "d": {"year": 2026, "closedMonths": 2, "ytdInvestment": 30_000, "priorYtdInvestment": 15_000},
        });
        let s = monthly_series(&data);
        assert_eq!(s["months"], json!(["1月", "2月"]));
        assert_eq!(s["this"], json!(["1", "3"]));
        assert_eq!(s["prior"], json!(["0.5", "1.5"]));
        assert_eq!(s["priorName"], json!("2025年"));
    }
}
