//! The web workspace (台账工作台): pages for leaders (领导驾驶舱), clerks (月报), the
//! supervision office (督办) and everyone who reads the ledger (项目), served by `taizhang serve`
//! from the binary itself.
//!
//! Server-rendered HTML (maud) with small vanilla scripts and vendored ECharts, embedded and
//! served under content-hash URLs (`assets`): nothing is loaded from outside the server, and no
//! Node.js is needed to build or run it.
//!
//! Architecture invariant: this crate owns no rule and no figure. Every read and every write is
//! a GraphQL operation executed through [`Backend`], which the API implements by running its own
//! schema in-process as the signed-in caller: access control, figures and errors are exactly the
//! API's. The crate knows GraphQL only as text; it depends on `auth` for who the caller is and on
//! `domain` for value types (money, periods), never on the API, the store or the read models.
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod assets;
mod cockpit;
mod fmt;
mod gql;
mod layout;
mod monthly;
mod params;
mod projects;
mod session;
mod supervision;

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;

use auth::{AuthError, Identity};
use axum::Router;
use axum::response::Redirect;
use axum::routing::{get, post};
use serde_json::Value;

pub use session::{SESSION_COOKIE, same_origin, session_token};

/// What the pages need from the API: who holds a token, and running a GraphQL operation as
/// that caller, exactly as `/graphql` would (same schema, guards, limits and error shape).
pub trait Backend: Send + Sync + 'static {
    /// The caller holding `token` (none: the server decides, e.g. without authentication),
    /// counted against the token's rate limit like one HTTP request.
    fn authenticate(
        &self,
        token: Option<&str>,
        peer: IpAddr,
    ) -> impl Future<Output = Result<Identity, AuthError>> + Send;

    /// Runs one operation as `identity`; the answer is the GraphQL response as JSON
    /// (`data`, and `errors` with `extensions.code`, `messageZh`, `field`).
    fn execute(
        &self,
        identity: &Identity,
        query: &str,
        variables: Value,
    ) -> impl Future<Output = Value> + Send;
}

/// The workspace's routes, to be merged into the API's router (which adds body limits,
/// compression, tracing and the connection's peer address).
pub fn router<B: Backend>(backend: B) -> Router {
    Router::new()
        .route("/", get(cockpit::page::<B>))
        .route("/index.html", get(|| async { Redirect::permanent("/") }))
        .route("/dashboard", get(|| async { Redirect::permanent("/") }))
        .route("/bigscreen", get(cockpit::big_screen::<B>))
        .route("/bigscreen/figures", get(cockpit::big_screen_figures::<B>))
        .route(
            "/signin",
            get(session::form::<B>).post(session::sign_in::<B>),
        )
        .route("/signout", post(session::sign_out::<B>))
        .route("/projects", get(projects::list::<B>))
        .route("/projects/{id}", get(projects::page::<B>))
        .route(
            "/monthly",
            get(monthly::page::<B>).post(monthly::submit::<B>),
        )
        .route(
            "/supervision",
            get(supervision::page::<B>).post(supervision::act::<B>),
        )
        .route("/static/{file}", get(assets::serve))
        .with_state(Arc::new(backend))
}
