//! 督办: supervision items by deadline (the API's order), overdue in red and due soon in yellow
//! (the API's `overdue`/`dueSoon`, always with their names in text too), and the actions of the
//! roles allowed: feedback and the close-out request for the units answering an item, extension,
//! close-out and return for the supervision office. Which controls appear follows the one policy
//! (`auth::grant` and the editor's units); each action is the API's mutation, which decides.

use std::net::SocketAddr;
use std::sync::Arc;

use auth::Operation;
use axum::extract::{ConnectInfo, RawForm, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde_json::{Value, json};

use crate::Backend;
use crate::fmt::{self, Enum};
use crate::gql::{self, GqlError};
use crate::layout::{self, Nav};
use crate::params::{self, Params};
use crate::session::{self, Session, may};

const PAGE_SIZE: i64 = 50;

const ITEM: &str = "id itemId title category leadUnitId coUnitIds openedDate deadlineDate status \
    feedbackCount lastFeedbackDate extensionCount closedDate overdue dueSoon project { id name }";

/// One action on an item: its form field name, the GraphQL mutation, what it is called.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    Feedback,
    Extend,
    RequestClosure,
    Close,
    Return,
}

impl Action {
    const ALL: [Action; 5] = [
        Action::Feedback,
        Action::RequestClosure,
        Action::Extend,
        Action::Close,
        Action::Return,
    ];
    fn name(self) -> &'static str {
        match self {
            Action::Feedback => "feedback",
            Action::Extend => "extend",
            Action::RequestClosure => "request-closure",
            Action::Close => "close",
            Action::Return => "return",
        }
    }
    fn from_name(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == s)
    }
    fn zh(self) -> &'static str {
        match self {
            Action::Feedback => "反馈办理情况",
            Action::Extend => "延期",
            Action::RequestClosure => "申请销号",
            Action::Close => "销号",
            Action::Return => "退办",
        }
    }
    fn operation(self) -> Operation {
        match self {
            Action::Feedback => Operation::SubmitFeedback,
            Action::Extend => Operation::ExtendDeadline,
            Action::RequestClosure => Operation::RequestClosure,
            Action::Close => Operation::CloseSupervisionItem,
            Action::Return => Operation::ReturnClosure,
        }
    }
    fn mutation(self) -> (&'static str, &'static str) {
        match self {
            Action::Feedback => ("submitFeedback", "SubmitFeedbackInput"),
            Action::Extend => ("extendDeadline", "ExtendDeadlineInput"),
            Action::RequestClosure => ("requestClosure", "RequestClosureInput"),
            Action::Close => ("closeSupervisionItem", "CloseSupervisionItemInput"),
            Action::Return => ("returnClosure", "ReturnClosureInput"),
        }
    }
    /// The form's own fields: name, label, input type, required.
    fn fields(self) -> &'static [(&'static str, &'static str, &'static str, bool)] {
        match self {
            Action::Feedback => &[("content", "办理情况", "textarea", true)],
            Action::Extend => &[
                ("deadline", "新的办理时限", "date", true),
                ("reason", "延期原因", "textarea", true),
            ],
            Action::RequestClosure => &[("summary", "办结情况", "textarea", true)],
            Action::Close => &[("note", "备注", "textarea", false)],
            Action::Return => &[("reason", "退办原因", "textarea", true)],
        }
    }
}

/// The units for which the caller may act on `item` with `action` (feedback: the lead unit
/// and the co-units; the rest: the lead unit).
fn units_for(session: &Session, item: &Value, action: Action) -> Vec<String> {
    let lead = fmt::text(&item["leadUnitId"]).to_owned();
    let mut units = vec![lead];
    if action == Action::Feedback {
        units.extend(
            item["coUnitIds"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned),
        );
    }
    units
        .into_iter()
        .filter(|u| may(session, action.operation(), u))
        .collect()
}

/// The list's query string.
struct ListQuery(Params);

impl ListQuery {
    fn parse(raw: Option<&str>) -> ListQuery {
        ListQuery(Params::query(raw))
    }
    fn get(&self, key: &str) -> &str {
        self.0.get(key)
    }
    fn filter(&self) -> Value {
        let mut f = serde_json::Map::new();
        match self.get("status") {
            "" => {
                f.insert("status".into(), json!(["OPEN", "CLOSURE_REQUESTED"]));
            }
            "ALL" => {}
            s => {
                f.insert("status".into(), json!([s]));
            }
        }
        let unit = self.get("unit");
        if !unit.is_empty() {
            f.insert("unit".into(), json!(unit));
        }
        match self.get("when") {
            "overdue" => {
                f.insert("overdue".into(), json!(true));
            }
            "due-soon" => {
                f.insert("dueSoon".into(), json!(true));
            }
            _ => {}
        }
        Value::Object(f)
    }
    fn without_cursor(&self) -> String {
        self.0.without_cursor(&["done"])
    }
}

/// A refused action, shown again on its item with what was typed.
struct Failed {
    item: String,
    action: Action,
    values: Vec<(String, String)>,
    errors: Vec<GqlError>,
}

pub async fn page<B: Backend>(
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
    render(&*web, &session, &q, None).await
}

async fn render<B: Backend>(
    web: &B,
    session: &Session,
    q: &ListQuery,
    failed: Option<Failed>,
) -> Response {
    let (first, after, last, before) = q.0.page(PAGE_SIZE);
    let result = gql::run(
        web,
        session,
        &format!(
            "query Items($filter: SupervisionFilter, $first: Int, $after: String, $last: Int, $before: String) {{
               units {{ unitId name }}
               supervisionItems(filter: $filter, first: $first, after: $after, last: $last, before: $before) {{
                 totalCount pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
                 nodes {{ {ITEM} }}
               }}
             }}"
        ),
        json!({"filter": q.filter(), "first": first, "after": after, "last": last, "before": before}),
    )
    .await;
    let units = result
        .as_ref()
        .map(|d| d["units"].clone())
        .unwrap_or(Value::Null);
    let unit_options = fmt::unit_options(&units);
    let status_options: Vec<(String, String)> = [("ALL", "全部（含已销号）")]
        .into_iter()
        .chain(Enum::SupervisionStatus.options().iter().copied())
        .map(|(v, zh)| (v.to_owned(), zh.to_owned()))
        .collect();
    let when_options = vec![
        ("overdue".to_owned(), "已逾期".to_owned()),
        ("due-soon".to_owned(), "3 日内到期".to_owned()),
    ];
    let base = q.without_cursor();
    let status = failed.as_ref().map(|_| StatusCode::UNPROCESSABLE_ENTITY);
    let body = html! {
        h1 { "督办事项" }
        form.filters method="get" action="/supervision" role="search" {
            div {
                label for="f-status" { "办理状态" }
                select #f-status name="status" {
                    option value="" selected[q.get("status").is_empty()] { "未销号（办理中、已申请销号）" }
                    @for (v, zh) in &status_options {
                        option value=(v) selected[q.get("status") == v] { (zh) }
                    }
                }
            }
            div { (layout::select("unit", "牵头或配合单位", &unit_options, q.get("unit"), true)) }
            div { (layout::select("when", "期限", &when_options, q.get("when"), true)) }
            div { button type="submit" { "筛选" } }
            div { a.button.secondary href="/supervision" { "清除" } }
        }
        @if let Some(done) = Action::from_name(q.get("done")) {
            div.alert.ok role="status" #done { "已提交：" (done.zh()) "。" span.en { " Recorded." } }
        }
        @if let Some(f) = &failed {
            div.alert.error role="alert" #action-error {
                p { strong { "“" (f.action.zh()) "”未完成，未写入任何数据。" } }
                ul { @for e in &f.errors {
                    li { @if let Some(zh) = &e.message_zh { (zh) " " } span.en { (e.message) }
                         @if let Some(fl) = &e.field { " " span.code { "字段 field: " (fl) } }
                         " " span.code { (e.code) } }
                } }
            }
        }
        @match &result {
            Err(errors) => { (gql::errors_box(errors)) }
            Ok(data) => {
                @let c = &data["supervisionItems"];
                p #item-count data-total=(c["totalCount"].to_string()) {
                    "共 " (fmt::count(&c["totalCount"])) " 项，按办理时限排列。"
                    span.tag.overdue { "已逾期" } " 红色，" span.tag.due-soon { "即将到期" } " 黄色（3 日内）。"
                }
                table.figures #items {
                    thead { tr {
                        th scope="col" { "办理时限" } th scope="col" { "督办事项" } th scope="col" { "项目" }
                        th scope="col" { "类别" } th scope="col" { "牵头单位" } th scope="col" { "配合单位" }
                        th scope="col" { "状态" } th scope="col" { "反馈 / 延期" } th scope="col" { "操作" }
                    } }
                    tbody {
                        @for i in c["nodes"].as_array().into_iter().flatten() {
                            (row(session, i, &units, failed.as_ref()))
                        }
                    }
                }
                (params::pager("/supervision", &base, &c["pageInfo"]))
            }
        }
    };
    let mut r = layout::page("督办事项", Some(session), Nav::Supervision, body);
    if let Some(s) = status {
        *r.status_mut() = s;
    }
    r
}

fn row(session: &Session, i: &Value, units: &Value, failed: Option<&Failed>) -> Markup {
    let item_id = fmt::text(&i["itemId"]);
    let class = if i["overdue"] == true {
        "overdue"
    } else if i["dueSoon"] == true {
        "due-soon"
    } else {
        ""
    };
    let co: Vec<&str> = i["coUnitIds"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| fmt::unit_name(units, u))
        .collect();
    let closed = i["status"].as_str() == Some("CLOSED");
    html! {
        tr id=(format!("item-{item_id}")) class=(class) data-item=(fmt::text(&i["id"]))
            data-overdue=(i["overdue"].to_string()) data-due-soon=(i["dueSoon"].to_string())
            data-status=(fmt::text(&i["status"])) {
            td {
                (fmt::text(&i["deadlineDate"]))
                @if i["overdue"] == true { " " span.tag.overdue { "已逾期" } }
                @else if i["dueSoon"] == true { " " span.tag.due-soon { "即将到期" } }
            }
            th scope="row" { (fmt::text(&i["title"])) }
            td { a href=(format!("/projects/{}", fmt::text(&i["project"]["id"]))) { (fmt::text(&i["project"]["name"])) } }
            td { (fmt::label(Enum::Category, &i["category"])) }
            td { (fmt::unit_name(units, &i["leadUnitId"])) }
            td { @if co.is_empty() { "—" } @else { (co.join("、")) } }
            td {
                (fmt::label(Enum::SupervisionStatus, &i["status"]))
                @if let Some(d) = i["closedDate"].as_str() { br; span.hint { (d) " 销号" } }
            }
            td.num { (fmt::count(&i["feedbackCount"])) " / " (fmt::count(&i["extensionCount"])) }
            td.actions {
                // A closed-out item takes no more of these steps.
                @if !closed {
                    @for a in Action::ALL {
                        @let allowed = units_for(session, i, a);
                        @if !allowed.is_empty() {
                            (action_form(session, i, a, &allowed, units, failed.filter(|f| f.item == item_id && f.action == a)))
                        }
                    }
                }
            }
        }
    }
}

fn action_form(
    session: &Session,
    item: &Value,
    action: Action,
    units_allowed: &[String],
    units: &Value,
    failed: Option<&Failed>,
) -> Markup {
    let item_id = fmt::text(&item["itemId"]);
    let id = |f: &str| format!("{}-{}-{item_id}", action.name(), f);
    let typed = |f: &str| {
        failed
            .and_then(|x| x.values.iter().find(|(k, _)| k == f))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let today = fmt::today().to_string();
    html! {
        details.action open[failed.is_some()] {
            summary { (action.zh()) }
            form method="post" action="/supervision" data-action=(action.name()) {
                input type="hidden" name="csrf" value=(session.csrf);
                input type="hidden" name="action" value=(action.name());
                input type="hidden" name="item" value=(fmt::text(&item["id"]));
                input type="hidden" name="itemId" value=(item_id);
                input type="hidden" name="key" value=(uuid::Uuid::new_v4().to_string());
                @if action == Action::Feedback {
                    label for=(id("unit")) { "反馈单位" }
                    select id=(id("unit")) name="unit" {
                        @for u in units_allowed {
                            option value=(u) { (fmt::unit_name(units, &Value::String(u.clone()))) }
                        }
                    }
                }
                @for (name, label, kind, required) in action.fields() {
                    label for=(id(name)) { (label) @if !*required { "（可不填）" } }
                    @if *kind == "textarea" {
                        textarea id=(id(name)) name=(name) rows="2" required[*required] { (typed(name)) }
                    } @else {
                        input id=(id(name)) name=(name) type=(kind) required[*required] value=(typed(name));
                    }
                }
                label for=(id("date")) { "日期" }
                input id=(id("date")) name="date" type="date" max=(today) required
                    value=(match typed("date") { d if d.is_empty() => today.clone(), d => d });
                button type="submit" { "提交" (action.zh()) }
            }
        }
    }
}

/// One action's submission: the API's mutation, then back to the list (or the list with the
/// refusal on the item).
pub async fn act<B: Backend>(
    State(web): State<Arc<B>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    RawForm(body): RawForm,
) -> Response {
    let form = Params::form(&body);
    let get = |k: &str| form.get(k).to_owned();
    let session = match session::require_write(&*web, &headers, peer, Some(&get("csrf"))).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some(action) = Action::from_name(&get("action")) else {
        return layout::error_page(
            StatusCode::BAD_REQUEST,
            "未知的督办操作。",
            "Unknown supervision action.",
        );
    };
    let mut input = serde_json::Map::new();
    let key = match get("key") {
        k if k.is_empty() => uuid::Uuid::new_v4().to_string(),
        k => k,
    };
    input.insert("idempotencyKey".into(), json!(key));
    input.insert("itemId".into(), json!(get("item")));
    input.insert("date".into(), json!(get("date")));
    if action == Action::Feedback {
        input.insert("unit".into(), json!(get("unit")));
    }
    for (name, _, _, required) in action.fields() {
        let v = get(name);
        // An optional field left empty is absent, not "".
        if *required || !v.is_empty() {
            input.insert((*name).into(), json!(v));
        }
    }
    let (field, ty) = action.mutation();
    let query = format!(
        "mutation Act($input: {ty}!) {{ {field}(input: $input) {{ result {{ readModel }} item {{ status }} }} }}"
    );
    let answer = gql::run(&*web, &session, &query, json!({"input": input})).await;
    let item_id = get("itemId");
    match answer {
        Ok(_) => {
            tracing::info!(action = action.name(), item = %item_id, "supervision action recorded");
            let q = ListQuery::parse(raw.as_deref());
            let mut back = q.without_cursor();
            if !back.is_empty() {
                back.push('&');
            }
            Redirect::to(&format!(
                "/supervision?{back}done={}#item-{item_id}",
                action.name()
            ))
            .into_response()
        }
        Err(errors) => {
            let q = ListQuery::parse(raw.as_deref());
            let failed = Failed {
                item: item_id,
                action,
                values: form.pairs,
                errors,
            };
            render(&*web, &session, &q, Some(failed)).await
        }
    }
}
