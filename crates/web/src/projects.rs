//! 项目: the ledger with filters and paging, and a project's page: key facts, lights and why,
//! monthly figures, expropriation, supervision items, and the timeline (who recorded what and
//! when; a correction beside the figure it replaced).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{Markup, html};
use serde_json::{Value, json};

use crate::Backend;
use crate::fmt::{self, Enum};
use crate::gql;
use crate::layout::{self, Nav};
use crate::params::{self, Params};
use crate::session;

const PAGE_SIZE: i64 = 20;

/// The list's query string: filters and the page cursor.
struct ListQuery(Params);

impl ListQuery {
    fn parse(raw: Option<&str>) -> ListQuery {
        ListQuery(Params::query(raw))
    }
    fn get(&self, key: &str) -> &str {
        self.0.get(key)
    }
    /// The filters as the API's `ProjectFilter` (enum values are checked by the API).
    fn filter(&self) -> Value {
        let mut f = serde_json::Map::new();
        let one = |v: &str| json!([v]);
        for (param, field) in [
            ("unit", "unit"),
            ("stage", "stage"),
            ("status", "status"),
            ("light", "light"),
            ("chain", "industryChain"),
            ("size", "sizeClass"),
        ] {
            let v = self.get(param);
            if !v.is_empty() {
                f.insert(field.into(), one(v));
            }
        }
        let q = self.get("q");
        if !q.is_empty() {
            f.insert("nameContains".into(), json!(q));
        }
        Value::Object(f)
    }
}

fn options(kind: Enum) -> Vec<(String, String)> {
    kind.options()
        .iter()
        .map(|(v, zh)| ((*v).to_owned(), (*zh).to_owned()))
        .collect()
}

pub async fn list<B: Backend>(
    State(web): State<Arc<B>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let session = match session::require(&*web, &headers, peer).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let q = ListQuery::parse(raw.as_deref());
    let (first, after, last, before) = q.0.page(PAGE_SIZE);
    let result = gql::run(
        &*web,
        &session,
        "query Projects($filter: ProjectFilter, $first: Int, $after: String, $last: Int, $before: String) {
           units { unitId name }
           projects(filter: $filter, first: $first, after: $after, last: $last, before: $before,
                    orderBy: {field: REGISTERED_DATE, direction: DESC}) {
             totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
             nodes { id name unitId kind stage status sizeClass industryChain contractInvestment
                     intendedInvestment ytdInvestment cumulativeInvestment light }
           }
         }",
        json!({"filter": q.filter(), "first": first, "after": after, "last": last, "before": before}),
    )
    .await;
    let units = result
        .as_ref()
        .map(|d| d["units"].clone())
        .unwrap_or(Value::Null);
    let unit_options = fmt::unit_options(&units);
    let base = q.0.without_cursor(&[]);
    let body = html! {
        h1 { "项目台账" }
        form.filters method="get" action="/projects" role="search" {
            div { (layout::select("unit", "责任单位", &unit_options, q.get("unit"), true)) }
            div { (layout::select("stage", "阶段", &options(Enum::Stage), q.get("stage"), true)) }
            div { (layout::select("status", "状态", &options(Enum::Status), q.get("status"), true)) }
            div { (layout::select("light", "灯色", &options(Enum::Light), q.get("light"), true)) }
            div { (layout::select("size", "规模", &options(Enum::SizeClass), q.get("size"), true)) }
            div { label for="f-chain" { "产业链" } input #f-chain name="chain" value=(q.get("chain")) placeholder="如 氟化工"; }
            div { label for="f-q" { "项目名称包含" } input #f-q name="q" type="search" value=(q.get("q")); }
            div { button type="submit" { "筛选" } }
            div { a.button.secondary href="/projects" { "清除" } }
        }
        @match &result {
            Err(errors) => { (gql::errors_box(errors)) }
            Ok(data) => {
                @let c = &data["projects"];
                p #project-count data-total=(c["totalCount"].to_string()) { "共 " (fmt::count(&c["totalCount"])) " 个项目" }
                table.figures #projects {
                    thead { tr {
                        th scope="col" { "项目名称" } th scope="col" { "责任单位" } th scope="col" { "类型" }
                        th scope="col" { "阶段" } th scope="col" { "状态" } th scope="col" { "产业链" }
                        th scope="col" { "投资额" } th scope="col" { "本年完成投资" } th scope="col" { "累计完成投资" } th scope="col" { "灯色" }
                    } }
                    tbody {
                        @for p in c["nodes"].as_array().into_iter().flatten() {
                            tr data-id=(fmt::text(&p["id"])) {
                                th scope="row" { a href=(format!("/projects/{}", fmt::text(&p["id"]))) { (fmt::text(&p["name"])) } }
                                td { (fmt::unit_name(&units, &p["unitId"])) }
                                td { (fmt::label(Enum::Kind, &p["kind"])) }
                                td { (fmt::label(Enum::Stage, &p["stage"])) }
                                td { (fmt::label(Enum::Status, &p["status"])) }
                                td { (fmt::text(&p["industryChain"])) }
                                td.num { @if p["contractInvestment"].is_null() { (fmt::money_m(&p["intendedInvestment"])) } @else { (fmt::money_m(&p["contractInvestment"])) } }
                                td.num { (fmt::money_m(&p["ytdInvestment"])) }
                                td.num { (fmt::money_m(&p["cumulativeInvestment"])) }
                                td { (fmt::light(&p["light"])) }
                            }
                        }
                    }
                }
                (params::pager("/projects", &base, &c["pageInfo"]))
            }
        }
    };
    layout::page("项目台账", Some(&session), Nav::Projects, body)
}

const PROJECT: &str = "id projectId name kind investorName investorType industryChain industrial \
    unitId leadOfficial stage status statusReason sizeClass intendedInvestment contractInvestment \
    fixedAssetInvestment filedInvestment plannedInvestment plannedYear landDemand landDelivered \
    projectCode approvalRoute creditCode companyName registeredCapital registeredDate \
    frameworkSignedDate contractSignedDate plannedStartPeriod plannedCompletionPeriod \
    plannedProductionPeriod startDate completionDate productionDate abandonedDate \
    cumulativeInvestment cumulativeFunds ytdInvestment startLight investmentLight light version \
    updatedAt \
    monthlyInvestment { period completedInvestment fundsInPlace reportedCompletedInvestment reportedFundsInPlace correctionCount } \
    expropriation { targetArea targetHouseholds targetGraves deadlineDate asOfDate area householdsSigned \
      householdsRelocated gravesMoved compensation areaCompletionPct householdsCompletionPct landDelivered } \
    annualPlans { planYear revision plannedInvestment plannedStartPeriod reason isCurrent recordedAt } \
    timeline(last: 200) { totalCount nodes { type version businessDate recordedAt actor summary \
      correction { period reason before { revision completedInvestment fundsInPlace } after { revision completedInvestment fundsInPlace } } } }";

pub async fn page<B: Backend>(
    State(web): State<Arc<B>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let session = match session::require(&*web, &headers, peer).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let result = gql::run(
        &*web,
        &session,
        &format!(
            "query Project($id: ID!) {{ units {{ unitId name }} project(id: $id) {{ {PROJECT} }} }}"
        ),
        json!({"id": id}),
    )
    .await;
    let (data, project) = match result {
        Err(errors) => {
            return layout::page(
                "项目",
                Some(&session),
                Nav::Projects,
                gql::errors_box(&errors),
            );
        }
        Ok(d) if d["project"].is_null() => {
            return layout::page(
                "项目",
                Some(&session),
                Nav::Projects,
                html! { div.alert.error role="alert" { "没有这个项目。" span.en { " No such project." } } },
            );
        }
        Ok(d) => {
            let p = d["project"].clone();
            (d, p)
        }
    };
    let items = gql::run(
        &*web,
        &session,
        "query Items($p: String) { supervisionItems(filter: {project: $p}, first: 100) {
           nodes { itemId title category leadUnitId openedDate deadlineDate status overdue dueSoon feedbackCount closedDate } } }",
        json!({"p": project["projectId"]}),
    )
    .await;
    let units = &data["units"];
    let p = &project;
    let fact = |label: &str, value: String| {
        html! { div { dt { (label) } dd { (value) } } }
    };
    let body = html! {
        p { a href="/projects" { "← 项目台账" } }
        h1 #project-name { (fmt::text(&p["name"])) " " (fmt::light(&p["light"])) }
        section.panel aria-labelledby="h-facts" {
            h2 #h-facts { "基本情况" }
            dl.facts {
                (fact("责任单位", fmt::unit_name(units, &p["unitId"]).to_owned()))
                (fact("包抓领导", fmt::text(&p["leadOfficial"]).to_owned()))
                (fact("项目类型", fmt::label(Enum::Kind, &p["kind"])))
                (fact("阶段", fmt::label(Enum::Stage, &p["stage"])))
                (fact("状态", format!("{}{}", fmt::label(Enum::Status, &p["status"]),
                    p["statusReason"].as_str().map(|r| format!("（{r}）")).unwrap_or_default())))
                (fact("投资方", fmt::text(&p["investorName"]).to_owned()))
                (fact("投资方类型", fmt::label(Enum::InvestorType, &p["investorType"])))
                (fact("产业链", format!("{}{}", fmt::text(&p["industryChain"]), if p["industrial"] == true { "（工业）" } else { "" })))
                (fact("规模", fmt::label(Enum::SizeClass, &p["sizeClass"])))
                (fact("意向投资", fmt::money_v(&p["intendedInvestment"])))
                (fact("合同投资", fmt::money_v(&p["contractInvestment"])))
                (fact("固定资产投资", fmt::money_v(&p["fixedAssetInvestment"])))
                (fact("备案总投资", fmt::money_v(&p["filedInvestment"])))
                (fact("项目代码", format!("{} {}", fmt::text(&p["projectCode"]), p["approvalRoute"].as_str().unwrap_or(""))))
                (fact("统一社会信用代码", fmt::text(&p["creditCode"]).to_owned()))
                (fact("项目公司", fmt::text(&p["companyName"]).to_owned()))
                (fact("用地需求", fmt::mu(&p["landDemand"])))
                (fact("已交地", fmt::mu(&p["landDelivered"])))
                (fact("登记日期", fmt::text(&p["registeredDate"]).to_owned()))
                (fact("框架协议", fmt::text(&p["frameworkSignedDate"]).to_owned()))
                (fact("正式签约", fmt::text(&p["contractSignedDate"]).to_owned()))
                (fact("计划开工 / 竣工 / 投产", format!("{} / {} / {}", fmt::text(&p["plannedStartPeriod"]), fmt::text(&p["plannedCompletionPeriod"]), fmt::text(&p["plannedProductionPeriod"]))))
                (fact("开工日期", fmt::text(&p["startDate"]).to_owned()))
                (fact("竣工日期", fmt::text(&p["completionDate"]).to_owned()))
                (fact("投产日期", fmt::text(&p["productionDate"]).to_owned()))
                (fact("本年完成投资", fmt::money_v(&p["ytdInvestment"])))
                (fact("累计完成投资", fmt::money_v(&p["cumulativeInvestment"])))
                (fact("累计到位资金", fmt::money_v(&p["cumulativeFunds"])))
                (fact("最后更新", fmt::datetime(&p["updatedAt"])))
            }
        }
        section.panel aria-labelledby="h-lights" {
            h2 #h-lights { "灯色及原因" }
            ul #light-why {
                li data-light=(p["startLight"].to_string()) {
                    "开工灯 " (fmt::light(&p["startLight"])) "：计划开工 " (fmt::text(&p["plannedStartPeriod"])) "，"
                    @if p["startDate"].is_null() { "尚未开工。" } @else { "已于 " (fmt::text(&p["startDate"])) " 开工。" }
                    span.hint { " 规则：未开工项目自计划开工月起满 1 个月为黄灯、满 3 个月为红灯（按现行灯色规则）。" }
                }
                li data-light=(p["investmentLight"].to_string()) {
                    "投资灯 " (fmt::light(&p["investmentLight"])) "：" (fmt::text(&p["plannedYear"])) " 年计划投资 "
                    (fmt::money_v(&p["plannedInvestment"])) "，本年已完成 " (fmt::money_v(&p["ytdInvestment"])) "。"
                    span.hint { " 规则：已开工且有本年计划的项目，本年完成投资占计划的比例与月度时序进度相比，差距不小于 −10 个百分点为绿灯，−30 至 −10 为黄灯，低于 −30 为红灯（按现行灯色规则）。" }
                }
                li { "项目灯色取两者中较差的一个；两者皆无则不亮灯。" }
            }
        }
        section.panel aria-labelledby="h-monthly" {
            h2 #h-monthly { "月度投资" }
            @let months = p["monthlyInvestment"].as_array().cloned().unwrap_or_default();
            @if months.is_empty() { p.empty { "尚无月报。" } }
            @else {
                table.figures #monthly {
                    thead { tr { th scope="col" { "月份" } th scope="col" { "完成投资" } th scope="col" { "到位资金" } th scope="col" { "更正" } } }
                    tbody {
                        @for m in &months {
                            tr data-period=(fmt::text(&m["period"])) {
                                th scope="row" { (fmt::text(&m["period"])) }
                                td.num {
                                    @if m["correctionCount"].as_i64().unwrap_or(0) > 0 && m["reportedCompletedInvestment"] != m["completedInvestment"] {
                                        del title="原报数" { (fmt::money_v(&m["reportedCompletedInvestment"])) } " " ins { (fmt::money_v(&m["completedInvestment"])) }
                                    } @else { (fmt::money_m(&m["completedInvestment"])) }
                                }
                                td.num {
                                    @if m["correctionCount"].as_i64().unwrap_or(0) > 0 && m["reportedFundsInPlace"] != m["fundsInPlace"] {
                                        del title="原报数" { (fmt::money_v(&m["reportedFundsInPlace"])) } " " ins { (fmt::money_v(&m["fundsInPlace"])) }
                                    } @else { (fmt::money_m(&m["fundsInPlace"])) }
                                }
                                td.num { (fmt::count(&m["correctionCount"])) }
                            }
                        }
                    }
                }
            }
        }
        @if !p["expropriation"].is_null() {
            @let e = &p["expropriation"];
            section.panel aria-labelledby="h-exp" {
                h2 #h-exp { "征迁进度" }
                dl.facts {
                    (fact("任务面积", fmt::mu(&e["targetArea"])))
                    (fact("已征面积", fmt::mu(&e["area"])))
                    (fact("面积完成率", fmt::pct(&e["areaCompletionPct"])))
                    (fact("任务户数", fmt::count(&e["targetHouseholds"])))
                    (fact("已签约户数", fmt::count(&e["householdsSigned"])))
                    (fact("户数完成率", fmt::pct(&e["householdsCompletionPct"])))
                    (fact("已搬迁户数", fmt::count(&e["householdsRelocated"])))
                    (fact("任务坟墓 / 已迁", format!("{} / {}", fmt::count(&e["targetGraves"]), fmt::count(&e["gravesMoved"]))))
                    (fact("已付补偿", fmt::money_v(&e["compensation"])))
                    (fact("已交地", fmt::mu(&e["landDelivered"])))
                    (fact("截至", fmt::text(&e["asOfDate"]).to_owned()))
                    (fact("完成期限", fmt::text(&e["deadlineDate"]).to_owned()))
                }
            }
        }
        section.panel aria-labelledby="h-items" {
            h2 #h-items { "督办事项" }
            @match &items {
                Err(errors) => { (gql::errors_box(errors)) }
                Ok(d) => {
                    @let list = d["supervisionItems"]["nodes"].as_array().cloned().unwrap_or_default();
                    @if list.is_empty() { p.empty { "无督办事项。" } }
                    @else {
                        ul.items {
                            @for i in &list {
                                li class=(if i["overdue"] == true { "overdue" } else { "" }) {
                                    a href=(format!("/supervision#item-{}", fmt::text(&i["itemId"]))) { (fmt::text(&i["title"])) }
                                    " · " (fmt::label(Enum::Category, &i["category"]))
                                    " · " (fmt::label(Enum::SupervisionStatus, &i["status"]))
                                    " · 期限 " (fmt::text(&i["deadlineDate"]))
                                    @if i["overdue"] == true { " " span.tag.overdue { "已逾期" } }
                                    @else if i["dueSoon"] == true { " " span.tag.due-soon { "即将到期" } }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.panel aria-labelledby="h-timeline" {
            h2 #h-timeline { "时间线（共 " (fmt::count(&p["timeline"]["totalCount"])) " 条记录）" }
            (timeline(&p["timeline"]["nodes"]))
        }
    };
    layout::page(
        fmt::text(&project["name"]),
        Some(&session),
        Nav::Projects,
        body,
    )
}

fn timeline(nodes: &Value) -> Markup {
    html! {
        table.figures #timeline {
            thead { tr { th scope="col" { "业务日期" } th scope="col" { "记录时间" } th scope="col" { "记录人" } th scope="col" { "内容" } } }
            tbody {
                @for e in nodes.as_array().into_iter().flatten().rev() {
                    tr data-type=(fmt::text(&e["type"])) {
                        td { (fmt::text(&e["businessDate"])) }
                        td { (fmt::datetime(&e["recordedAt"])) }
                        td { (fmt::text(&e["actor"])) }
                        td {
                            (fmt::text(&e["summary"]))
                            @if !e["correction"].is_null() {
                                @let c = &e["correction"];
                                div.correction {
                                    (fmt::text(&c["period"])) " 完成投资 "
                                    del title="被更正的数" { (fmt::money_v(&c["before"]["completedInvestment"])) } " → "
                                    ins { (fmt::money_v(&c["after"]["completedInvestment"])) }
                                    "；到位资金 "
                                    del title="被更正的数" { (fmt::money_v(&c["before"]["fundsInPlace"])) } " → "
                                    ins { (fmt::money_v(&c["after"]["fundsInPlace"])) }
                                    @if let Some(r) = c["reason"].as_str() { "；原因：" (r) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
