//! The HTTP surface: routes, and the handlers that are not GraphQL execution.

mod files;
mod graphql;
mod playground;
mod web;
mod ws;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State as AxumState};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::schema::{ApiSchema, State};

/// What the handlers share.
#[derive(Clone)]
pub struct Shared {
    pub state: State,
    pub schema: ApiSchema,
    pub introspection: ApiSchema,
}

pub fn router(shared: Arc<Shared>) -> Router {
    let max_body = shared.state.config.serve.limits.max_body;
    Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphql/ws", get(ws::upgrade))
        .route("/graphql/assets/{file}", get(playground::asset))
        .route("/healthz", get(healthz))
        // Spreadsheets (docs/excel.md); each handler authenticates like /graphql.
        .route("/files/monthly-report.xlsx", get(files::monthly_template))
        .route(
            "/files/monthly-report",
            axum::routing::post(files::monthly_upload),
        )
        .merge(
            Router::new()
                .route("/readyz", get(readyz))
                .route("/metrics", get(metrics))
                .route_layer(axum::middleware::from_fn_with_state(
                    shared.clone(),
                    protect_ops,
                )),
        )
        .with_state(shared.clone())
        // The web workspace (crates/web): `/`, its pages and their assets.
        .merge(::web::router(web::InProcess(shared)))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn(crate::metrics::track))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

/// Liveness: the process answers.
async fn healthz() -> &'static str {
    "ok\n"
}

/// With `--protect-ops-endpoints`, /readyz and /metrics need a token of any role (they tell
/// nothing of the ledger's content, only of the server's health and load).
async fn protect_ops(
    AxumState(shared): AxumState<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    if shared.state.gate.protects_ops_endpoints()
        && let Err(e) = graphql::authenticate(&shared, request.headers(), peer).await
    {
        return graphql::refused(graphql::Media::Json, e);
    }
    next.run(request).await
}

/// Readiness: the database answers, every migration is applied, and no projection is halted
/// or further behind than `--ready-max-lag` events.
async fn readyz(AxumState(shared): AxumState<Arc<Shared>>) -> Response {
    let state = &shared.state;
    let mut checks = serde_json::Map::new();
    let mut ready = true;
    let db = crate::on_db!(&state.db, |pool| sqlx::query_scalar::<_, i32>("SELECT 1")
        .fetch_one(pool)
        .await);
    checks.insert("database".into(), json!(db.is_ok()));
    ready &= db.is_ok();
    let applied: Result<Vec<i64>, _> = crate::on_db!(&state.db, |pool| sqlx::query_scalar(
        "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version"
    )
    .fetch_all(pool)
    .await);
    let migrator = match &state.db {
        crate::db::Database::Postgres(_) => &eventstore::postgres::MIGRATOR,
        crate::db::Database::Sqlite(_) => &eventstore::sqlite::MIGRATOR,
    };
    let expected: Vec<i64> = migrator.iter().map(|m| m.version).collect();
    let migrated = applied
        .as_ref()
        .is_ok_and(|a| expected.iter().all(|v| a.contains(v)));
    checks.insert("migrations".into(), json!(migrated));
    ready &= migrated;
    let max_lag = state.config.serve.ready_max_lag;
    match projections::statuses_in(&state.db).await {
        Ok(statuses) => {
            let mut lags = serde_json::Map::new();
            for s in statuses {
                let lag = projections::lag_in(&state.db, &s.projection)
                    .await
                    .map(|l| l.events)
                    .unwrap_or(i64::MAX);
                let ok = !s.is_halted() && lag <= max_lag;
                ready &= ok;
                lags.insert(
                    s.projection,
                    json!({"state": s.state, "lagEvents": lag, "ok": ok}),
                );
            }
            checks.insert("projections".into(), serde_json::Value::Object(lags));
        }
        Err(error) => {
            tracing::warn!(%error, "readiness: cannot read projection status");
            ready = false;
            checks.insert("projections".into(), json!(false));
        }
    }
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        axum::Json(json!({"ready": ready, "checks": checks})),
    )
        .into_response()
}

/// Prometheus text format.
async fn metrics(AxumState(shared): AxumState<Arc<Shared>>) -> Response {
    if let Ok(statuses) = projections::statuses_in(&shared.state.db).await {
        for s in statuses {
            let lag = projections::lag_in(&shared.state.db, &s.projection)
                .await
                .unwrap_or(s.lag);
            crate::metrics::projection_lag(&s.projection, lag.events, lag.seconds);
        }
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::metrics::handle().render(),
    )
        .into_response()
}
