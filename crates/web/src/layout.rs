//! The page shell: header with navigation and who is signed in, the response headers every
//! page carries.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use crate::assets;
use crate::session::Session;

/// Which navigation entry is the current page.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    None,
    Cockpit,
    Projects,
    Monthly,
    Supervision,
}

/// Only this server, its WebSocket and inline styles (ECharts sets element styles).
const CSP: &str = "default-src 'self'; script-src 'self'; connect-src 'self' ws: wss:; \
                   img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; \
                   base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A complete page.
pub fn page(title: &str, session: Option<&Session>, nav: Nav, body: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let Some(s) = session { meta name="csrf-token" content=(s.csrf); }
                title { (title) " · 台账工作台" }
                link rel="stylesheet" href=(assets::url("app.css"));
                script src=(assets::url("app.js")) defer {}
            }
            body {
                a.skip href="#main" { "跳到正文" }
                header.top {
                    a.brand href="/" { "台账工作台" }
                    @if let Some(s) = session {
                        nav aria-label="主导航" {
                            (link("/", "领导驾驶舱", nav == Nav::Cockpit))
                            (link("/projects", "项目", nav == Nav::Projects))
                            (link("/monthly", "月报", nav == Nav::Monthly))
                            (link("/supervision", "督办", nav == Nav::Supervision))
                            a href="/graphql" { "接口调试" }
                        }
                        div.who {
                            span #who-name { (s.identity.name) }
                            " "
                            span.role #who-role data-role=(s.identity.role.as_str()) {
                                (s.identity.role.name_zh())
                            }
                            @if !s.identity.units.is_empty() {
                                " "
                                span.units title="可操作的责任单位" {
                                    @for (i, u) in s.identity.units.iter().enumerate() {
                                        @if i > 0 { "、" }
                                        (u.as_str())
                                    }
                                }
                            }
                            form.inline method="post" action="/signout" {
                                input type="hidden" name="csrf" value=(s.csrf);
                                button type="submit" { "退出" }
                            }
                        }
                    }
                }
                main #main { (body) }
            }
        }
    };
    html_response(StatusCode::OK, markup)
}

/// An HTML response with the workspace's headers: no caching (pages show one caller's data),
/// the content security policy, no framing, no sniffing.
pub fn html_response(status: StatusCode, markup: Markup) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "same-origin"),
        ],
        markup.into_string(),
    )
        .into_response()
}

/// A page that only says why the request was refused.
pub fn error_page(status: StatusCode, zh: &str, en: &str) -> Response {
    let mut r = page(
        "出错了",
        None,
        Nav::None,
        html! {
            div.alert.error role="alert" {
                p { (zh) } p.en { (en) }
                p { a href="/" { "返回首页" } " · " a href="/signin" { "登录" } }
            }
        },
    );
    *r.status_mut() = status;
    r
}

fn link(href: &str, text: &str, current: bool) -> Markup {
    html! {
        @if current { a href=(href) aria-current="page" { (text) } }
        @else { a href=(href) { (text) } }
    }
}

/// A labelled `<select>` over an enum's options (plus "全部" when `any`).
pub fn select(
    name: &str,
    label: &str,
    options: &[(String, String)],
    selected: &str,
    any: bool,
) -> Markup {
    let id = format!("f-{name}");
    html! {
        label for=(id) { (label) }
        select id=(id) name=(name) {
            @if any { option value="" { "全部" } }
            @for (value, text) in options {
                @if value == selected { option value=(value) selected { (text) } }
                @else { option value=(value) { (text) } }
            }
        }
    }
}
