//! Signing in with a pasted API token, the session cookie and CSRF protection.
//!
//! The session cookie holds the token itself (HttpOnly, so no script can read it; SameSite=Strict,
//! so no other site's page can make the browser send it). Nothing is kept on the server: every
//! request authenticates the token again, so expiry and revocation take effect at the very next
//! page, in every server process, exactly as for bearer tokens. The CSRF token is derived from the
//! session's token (SHA-256 under a fixed label): a page of this server can put it in its forms,
//! another site cannot know it. Every state-changing request must carry it (form field `csrf` or
//! header `X-CSRF-Token`) and, when the browser says where it comes from (`Origin`), come from
//! this server.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use auth::{AuthError, Identity};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::Backend;
use crate::layout::{self, Nav};

/// Whether the page should offer `op` on something of `unit`: the one policy (`auth::grant`
/// over the role, the editor's units for scoped grants), so a control appears only for those
/// the API would let through. The API still decides every write.
pub fn may(session: &Session, op: auth::Operation, unit: &str) -> bool {
    match auth::grant(session.identity.role, op.area()) {
        auth::Grant::Allow => true,
        auth::Grant::Deny => false,
        auth::Grant::InScope => session.identity.units.iter().any(|u| u.as_str() == unit),
    }
}

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "tz_session";

/// How long the browser keeps the cookie (the token's own expiry still applies).
const COOKIE_MAX_AGE_SECS: u32 = 12 * 3600;

/// The signed-in caller of a page.
pub struct Session {
    pub identity: Identity,
    /// The CSRF token every form and script of this session sends back.
    pub csrf: String,
}

/// The token in the request's session cookie, if any.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Whether the request comes from a page of this server: no `Origin` (not a browser's
/// cross-origin request) or one whose host is the request's `Host`.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest.trim_end_matches('/'));
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

/// The CSRF token of a session token.
fn csrf_for(token: &str) -> String {
    let digest = Sha256::digest(format!("taizhang web csrf\n{token}").as_bytes());
    hex::encode(&digest[..16])
}

/// The caller of a request from its session cookie (or the server's choice when it has none,
/// e.g. without authentication).
pub async fn current<B: Backend>(
    web: &B,
    headers: &HeaderMap,
    peer: IpAddr,
) -> Result<Session, AuthError> {
    let token = session_token(headers);
    let identity = web.authenticate(token.as_deref(), peer).await?;
    Ok(Session {
        identity,
        csrf: csrf_for(token.as_deref().unwrap_or("")),
    })
}

/// For pages: the session, or a response that sends the browser to sign in.
pub async fn require<B: Backend>(
    web: &B,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Result<Session, Response> {
    match current(web, headers, peer.ip()).await {
        Ok(s) => Ok(s),
        Err(AuthError::Unauthenticated) => Err(Redirect::to("/signin").into_response()),
        Err(e) => Err(refusal(&e)),
    }
}

/// For state-changing requests: the session, its CSRF token checked against `submitted`.
pub async fn require_write<B: Backend>(
    web: &B,
    headers: &HeaderMap,
    peer: SocketAddr,
    submitted: Option<&str>,
) -> Result<Session, Response> {
    if !same_origin(headers) {
        return Err(forbidden_csrf());
    }
    let session = match current(web, headers, peer.ip()).await {
        Ok(s) => s,
        Err(AuthError::Unauthenticated) => {
            return Err(layout::error_page(
                StatusCode::UNAUTHORIZED,
                "未登录或登录已失效，请重新登录。",
                "Not signed in, or the session has ended: sign in again.",
            ));
        }
        Err(e) => return Err(refusal(&e)),
    };
    let header = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    let given = submitted.or(header).unwrap_or("");
    if !constant_time_eq(given.as_bytes(), session.csrf.as_bytes()) {
        return Err(forbidden_csrf());
    }
    Ok(session)
}

fn forbidden_csrf() -> Response {
    tracing::info!("web request refused: missing or wrong CSRF token, or another origin");
    layout::error_page(
        StatusCode::FORBIDDEN,
        "请求缺少有效的安全校验码（CSRF），已拒绝。请从本系统页面重新提交。",
        "The request has no valid CSRF token (or comes from another site) and was refused: submit it again from this server's page.",
    )
}

fn refusal(e: &AuthError) -> Response {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::FORBIDDEN);
    layout::error_page(status, &e.to_string(), &e.to_string())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Deserialize)]
pub struct SignInQuery {
    #[serde(default)]
    error: Option<String>,
}

/// The sign-in form; a signed-in caller goes to the cockpit.
pub async fn form<B: Backend>(
    State(web): State<Arc<B>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<SignInQuery>,
) -> Response {
    if session_token(&headers).is_some() && current(&*web, &headers, peer.ip()).await.is_ok() {
        return Redirect::to("/").into_response();
    }
    sign_in_page(q.error.is_some(), StatusCode::OK)
}

fn sign_in_page(failed: bool, status: StatusCode) -> Response {
    let body = html! {
        section.signin {
            h1 { "登录台账工作台" }
            p { "请粘贴您的访问令牌（以 " code { "tz_" } " 开头）。令牌由系统管理员用 "
                code { "taizhang tokens create" } " 发放；演示环境启动时会打印一个。" }
            @if failed {
                p.error role="alert" { "令牌无效、已过期或已吊销，请检查后重试。"
                    span.en { " The token is unknown, expired or revoked." } }
            }
            form method="post" action="/signin" {
                label for="token" { "访问令牌 Access token" }
                input #token type="password" name="token" required autocomplete="off"
                    autofocus spellcheck="false" placeholder="tz_…";
                button type="submit" { "登录" }
            }
            p.hint { "登录后浏览器只保存一个仅供本站使用的会话 Cookie（HttpOnly、SameSite=Strict），页面脚本读不到令牌。"
                "接口调试页 " a href="/graphql" { "/graphql" } " 仍使用 Bearer 令牌。" }
        }
    };
    let mut r = layout::page("登录", None, Nav::None, body);
    *r.status_mut() = status;
    r
}

#[derive(Deserialize)]
pub struct SignInForm {
    token: String,
}

pub async fn sign_in<B: Backend>(
    State(web): State<Arc<B>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    axum::Form(f): axum::Form<SignInForm>,
) -> Response {
    // A sign-in from another site would sign the victim into the attacker's account.
    if !same_origin(&headers) {
        return forbidden_csrf();
    }
    let token = f.token.trim();
    match web.authenticate(Some(token), peer.ip()).await {
        Ok(identity) => {
            tracing::info!(token_id = %identity.token_id, role = %identity.role, "signed in to the web workspace");
            let secure = headers
                .get("x-forwarded-proto")
                .is_some_and(|p| p.as_bytes().eq_ignore_ascii_case(b"https"));
            let cookie = format!(
                "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={COOKIE_MAX_AGE_SECS}{}",
                if secure { "; Secure" } else { "" }
            );
            let mut r = Redirect::to("/").into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Err(AuthError::Unauthenticated) => sign_in_page(true, StatusCode::UNAUTHORIZED),
        Err(e) => refusal(&e),
    }
}

#[derive(Deserialize)]
pub struct SignOutForm {
    #[serde(default)]
    csrf: Option<String>,
}

pub async fn sign_out<B: Backend>(
    State(web): State<Arc<B>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    axum::Form(f): axum::Form<SignOutForm>,
) -> Response {
    if let Err(r) = require_write(&*web, &headers, peer, f.csrf.as_deref()).await {
        return r;
    }
    let mut r = Redirect::to("/signin").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("tz_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_session_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; tz_session=tz_abc ; b=2"),
        );
        assert_eq!(session_token(&h).as_deref(), Some("tz_abc"));
        h.insert(header::COOKIE, HeaderValue::from_static("tz_session="));
        assert_eq!(session_token(&h), None);
    }

    #[test]
    fn origin_must_be_this_host() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://evil.example"),
        );
        assert!(!same_origin(&h));
        h.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(!same_origin(&h));
    }

    #[test]
    fn csrf_tokens_differ_per_session_and_compare_exactly() {
        let a = csrf_for("tz_a");
        assert_eq!(a.len(), 32);
        assert_ne!(a, csrf_for("tz_b"));
        assert!(constant_time_eq(a.as_bytes(), csrf_for("tz_a").as_bytes()));
        assert!(!constant_time_eq(a.as_bytes(), b""));
    }
}
