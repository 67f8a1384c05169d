//! Prometheus metrics: requests, latencies, errors by code, appends, projection lag.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::error::ApiError;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder (installed once; several servers in one test process share it).
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Suffix("_seconds".into()),
                &[
                    0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ],
            )
            .map(PrometheusBuilder::build_recorder)
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        // Fails only when another recorder is installed, in which case ours renders nothing.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics shows only its own");
        }
        handle
    })
}

/// Counts and times every HTTP request by route, method and status.
pub async fn track(request: Request, next: Next) -> Response {
    let start = Instant::now();
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().to_string();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("path", path), ("method", method), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    response
}

pub fn error(e: &ApiError) {
    let code = match e {
        ApiError::Domain(d) => d.code.as_str(),
        ApiError::Command(c) => c.code(),
        ApiError::Validation { .. } => "VALIDATION".into(),
        ApiError::NotFound { .. } => "NOT_FOUND".into(),
        ApiError::Limit { .. } => crate::error::class::LIMIT_EXCEEDED.into(),
        ApiError::Auth(a) => a.code().into(),
        ApiError::Conflict { code, .. } => (*code).into(),
        ApiError::Internal(_) => "INTERNAL".into(),
    };
    metrics::counter!("graphql_errors_total", "code" => code).increment(1);
}

/// Events appended by mutations of this process.
pub fn appended(events: usize) {
    metrics::counter!("eventstore_appends_total").increment(events as u64);
}

/// Sets the projection lag gauges (called at scrape time).
pub fn projection_lag(projection: &str, events: i64, seconds: f64) {
    metrics::gauge!("projection_lag_events", "projection" => projection.to_owned())
        .set(events as f64);
    metrics::gauge!("projection_lag_seconds", "projection" => projection.to_owned()).set(seconds);
}
