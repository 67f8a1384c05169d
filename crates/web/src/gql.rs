//! Running the API's GraphQL as the signed-in caller, and its errors as pages show them.

use maud::{Markup, html};
use serde_json::Value;

use crate::Backend;
use crate::session::Session;

/// One error of a GraphQL response, as people read it.
#[derive(Debug, Clone)]
pub struct GqlError {
    pub message: String,
    pub message_zh: Option<String>,
    pub code: String,
    pub field: Option<String>,
    pub hint_zh: Option<String>,
}

impl GqlError {
    pub fn from_json(e: &Value) -> GqlError {
        let ext = &e["extensions"];
        let s = |v: &Value| v.as_str().map(str::to_owned);
        GqlError {
            message: s(&e["message"]).unwrap_or_default(),
            message_zh: s(&ext["messageZh"]),
            code: s(&ext["code"]).unwrap_or_default(),
            field: s(&ext["field"]),
            hint_zh: s(&ext["hintZh"]),
        }
    }
}

/// Runs `query` as the session's caller: its `data`, or its errors.
pub async fn run<B: Backend>(
    web: &B,
    session: &Session,
    query: &str,
    variables: Value,
) -> Result<Value, Vec<GqlError>> {
    let response = web.execute(&session.identity, query, variables).await;
    match response.get("errors").and_then(Value::as_array) {
        Some(errors) if !errors.is_empty() => Err(errors.iter().map(GqlError::from_json).collect()),
        _ => Ok(response.get("data").cloned().unwrap_or(Value::Null)),
    }
}

/// Errors as an alert box: Chinese first, the English message and the code beside it.
pub fn errors_box(errors: &[GqlError]) -> Markup {
    html! {
        div.alert.error role="alert" {
            p { strong { "操作未完成，未写入任何数据。" } }
            ul {
                @for e in errors {
                    li {
                        @if let Some(zh) = &e.message_zh { (zh) " " }
                        span.en { (e.message) }
                        @if let Some(f) = &e.field { " " span.code { "字段 field: " (f) } }
                        " " span.code { (e.code) }
                        @if let Some(h) = &e.hint_zh { br; "提示：" (h) }
                    }
                }
            }
        }
    }
}
