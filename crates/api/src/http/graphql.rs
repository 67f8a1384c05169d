//! GraphQL over HTTP (the GraphQL-over-HTTP specification), by hand rather than with
//! async-graphql-axum's handler, which only speaks `application/graphql-response+json`:
//!
//! - Responses use the media type the `Accept` header prefers of
//!   `application/graphql-response+json` and `application/json` (no `Accept`, `*/*` or
//!   `application/*` mean `application/json`); any other `Accept` gets 406.
//! - A request that is not a well-formed GraphQL-over-HTTP request (unreadable JSON, a batch,
//!   `query` missing or not a string, `variables` not an object…) gets 400.
//! - A document that does not parse or validate gets 400 with `application/graphql-response+json`
//!   and 200 with `application/json`; such responses have no `data` entry.
//! - POST bodies must be `application/json` (415 otherwise); GET takes the parameters from the
//!   query string and never runs a mutation (405 with `Allow: POST`).
//! - One operation per request: no batches; a document with several operations needs
//!   `operationName`.
//! - `GET /graphql` with `Accept: text/html` (a browser) serves the playground instead, without
//!   a token; everything else needs one (`Authorization: Bearer tz_…`): the caller is
//!   authenticated and rate-limited before the body is even read, and refused with 401
//!   (UNAUTHENTICATED, `WWW-Authenticate: Bearer`), 429 (RATE_LIMITED, `Retry-After`) or 503.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::parser::types::OperationType;
use async_graphql::{ServerError, Variables};
use auth::{AuthError, Identity};
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, RawQuery, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::{Shared, playground};
use crate::error::{ApiError, class};
use crate::limits::{Refusal, check, inspect, off_runtime};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    GraphqlResponse,
    Json,
}

impl Media {
    fn content_type(self) -> &'static str {
        match self {
            Media::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Media::Json => "application/json; charset=utf-8",
        }
    }
}

/// The media type to answer with, or `None` when the client accepts neither.
pub fn negotiate(headers: &HeaderMap) -> Option<Media> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(Media::Json);
    };
    if accept.trim().is_empty() {
        return Some(Media::Json);
    }
    let mut best: Option<(f32, Media)> = None;
    for part in accept.split(',') {
        let mut pieces = part.split(';');
        let range = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = pieces
            .filter_map(|p| p.trim().strip_prefix("q="))
            .filter_map(|q| q.trim().parse::<f32>().ok())
            .next()
            .unwrap_or(1.0);
        let media = match range.as_str() {
            GRAPHQL_RESPONSE => Media::GraphqlResponse,
            JSON | "application/*" | "*/*" => Media::Json,
            _ => continue,
        };
        if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, media));
        }
    }
    best.map(|(_, m)| m)
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.split(',').any(|p| p.trim().starts_with("text/html")))
}

/// An error object in the response's `errors`.
fn error(message: &str, code: &str, zh: &str) -> Value {
    metrics::counter!("graphql_errors_total", "code" => code.to_owned()).increment(1);
    json!({"message": message, "extensions": {"code": code, "class": code, "messageZh": zh}})
}

fn respond(status: StatusCode, media: Media, body: Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.content_type()),
    );
    response
}

/// A request the server will not run (400), in either media type.
fn bad_request(media: Media, message: &str, zh: &str) -> Response {
    respond(
        StatusCode::BAD_REQUEST,
        media,
        json!({"errors": [error(message, class::VALIDATION, zh)]}),
    )
}

/// A document that failed to parse or validate: 400 for graphql-response+json, 200 for json.
fn request_error(media: Media, errors: Vec<Value>) -> Response {
    let status = match media {
        Media::GraphqlResponse => StatusCode::BAD_REQUEST,
        Media::Json => StatusCode::OK,
    };
    respond(status, media, json!({"errors": errors}))
}

/// The parameters of a GraphQL-over-HTTP request.
struct Params {
    query: String,
    operation_name: Option<String>,
    variables: Option<Map<String, Value>>,
    extensions: Option<Map<String, Value>>,
}

/// Reads the parameters from a JSON object; `Err` is the message of a 400.
fn params(body: Value) -> Result<Params, (&'static str, &'static str)> {
    let Value::Object(mut o) = body else {
        return Err(match body {
            Value::Array(_) => (
                "batched requests are not supported: send one operation per request",
                "不支持批量请求：每个请求只能包含一个操作",
            ),
            _ => (
                "the request body must be a JSON object",
                "请求体必须是 JSON 对象",
            ),
        });
    };
    let query = match o.remove("query") {
        Some(Value::String(q)) => q,
        Some(_) => return Err(("query must be a string", "query 必须是字符串")),
        None => return Err(("the request has no query", "请求缺少 query")),
    };
    let operation_name = match o.remove("operationName") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            return Err((
                "operationName must be a string",
                "operationName 必须是字符串",
            ));
        }
    };
    let object = |v: Option<Value>, en, zh| match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err((en, zh)),
    };
    Ok(Params {
        query,
        operation_name,
        variables: object(
            o.remove("variables"),
            "variables must be a JSON object",
            "variables 必须是 JSON 对象",
        )?,
        extensions: object(
            o.remove("extensions"),
            "extensions must be a JSON object",
            "extensions 必须是 JSON 对象",
        )?,
    })
}

/// The caller of a request, from its `Authorization` header (rate limit included).
pub async fn authenticate(
    shared: &Shared,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Result<Identity, AuthError> {
    // A header that is not visible ASCII cannot hold a token: the same as none.
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    shared
        .state
        .gate
        .authenticate_header(authorization, Some(peer.ip()))
        .await
}

/// A request refused by access control before execution: 401, 429 or 503, with the error in
/// the usual shape and `WWW-Authenticate` or `Retry-After` as HTTP asks.
pub fn refused(media: Media, e: AuthError) -> Response {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::UNAUTHORIZED);
    let retry_after = match &e {
        AuthError::RateLimited { retry_after } => Some(retry_after.as_secs().max(1)),
        _ => None,
    };
    let error = async_graphql::Error::from(ApiError::Auth(e));
    let body = json!({"errors": [{"message": error.message, "extensions": error.extensions}]});
    let mut r = respond(status, media, body);
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    if let Some(seconds) = retry_after
        && let Ok(v) = HeaderValue::from_str(&seconds.to_string())
    {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

pub async fn post(
    AxumState(shared): AxumState<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(media) = negotiate(&headers) else {
        return not_acceptable();
    };
    // The headers decide first: a caller without a valid token is answered before a byte of
    // its body is read (a body announced and never sent must not hold the connection).
    let identity = match authenticate(&shared, &headers, peer).await {
        Ok(i) => i,
        Err(e) => return refused(media, e),
    };
    let max_body = shared.state.config.serve.limits.max_body;
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > max_body as u64) {
        return too_large(media, max_body);
    }
    let body: Bytes = match axum::body::to_bytes(body, max_body).await {
        Ok(b) => b,
        Err(_) => return too_large(media, max_body),
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case(JSON) {
        let mut r = respond(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            json!({"errors": [error(
                "POST bodies must be application/json",
                class::VALIDATION,
                "POST 请求体必须为 application/json",
            )]}),
        );
        r.headers_mut()
            .insert(header::ACCEPT, HeaderValue::from_static(JSON));
        return r;
    }
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => {
            return bad_request(
                media,
                "the request body is not valid JSON",
                "请求体不是有效的 JSON",
            );
        }
    };
    match params(value) {
        Ok(p) => execute(&shared, identity, media, p, false).await,
        Err((en, zh)) => bad_request(media, en, zh),
    }
}

pub async fn get(
    AxumState(shared): AxumState<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let raw = raw.unwrap_or_default();
    let pairs = url_decode_pairs(&raw);
    let has_query = pairs.iter().any(|(k, _)| k == "query");
    if wants_html(&headers) && !has_query {
        return playground::page();
    }
    let Some(media) = negotiate(&headers) else {
        return not_acceptable();
    };
    let identity = match authenticate(&shared, &headers, peer).await {
        Ok(i) => i,
        Err(e) => return refused(media, e),
    };
    let mut body = Map::new();
    for (k, v) in pairs {
        let value = match k.as_str() {
            "variables" | "extensions" => match serde_json::from_str::<Value>(&v) {
                Ok(parsed) => parsed,
                Err(_) => {
                    return bad_request(
                        media,
                        "variables and extensions must be JSON-encoded objects",
                        "variables 与 extensions 须为 JSON 编码的对象",
                    );
                }
            },
            _ => Value::String(v),
        };
        body.insert(k, value);
    }
    match params(Value::Object(body)) {
        Ok(p) => execute(&shared, identity, media, p, true).await,
        Err((en, zh)) => bad_request(media, en, zh),
    }
}

/// `application/x-www-form-urlencoded` pairs; undecodable input yields no pairs (and so a 400
/// for the missing query).
fn url_decode_pairs(raw: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(raw).unwrap_or_default()
}

/// 413: the body is above `--max-body` (announced, or found while reading it).
fn too_large(media: Media, max: usize) -> Response {
    respond(
        StatusCode::PAYLOAD_TOO_LARGE,
        media,
        json!({"errors": [error(
            &format!("the request body is above the limit of {max} bytes"),
            class::LIMIT_EXCEEDED,
            &format!("请求体超过上限 {max} 字节"),
        )]}),
    )
}

fn not_acceptable() -> Response {
    respond(
        StatusCode::NOT_ACCEPTABLE,
        Media::Json,
        json!({"errors": [error(
            "accept application/graphql-response+json or application/json",
            class::VALIDATION,
            "请接受 application/graphql-response+json 或 application/json",
        )]}),
    )
}

async fn execute(
    shared: &Shared,
    identity: Identity,
    media: Media,
    p: Params,
    is_get: bool,
) -> Response {
    let limits = &shared.state.config.serve.limits;
    // Parsing and sizing are CPU work on up to a whole body: off the async runtime.
    let inspected = off_runtime(async {
        inspect(&p.query, p.operation_name.as_deref())
            .and_then(|i| check(&i.size, limits).map(|()| i).map_err(Refusal::Limit))
    })
    .await;
    let inspected = match inspected {
        Ok(i) => i,
        Err(Refusal::Parse(message)) => {
            return request_error(
                media,
                vec![error(&message, class::VALIDATION, "查询语句无法解析")],
            );
        }
        Err(Refusal::Operation(message)) => {
            return request_error(
                media,
                vec![error(
                    &message,
                    class::VALIDATION,
                    "请用 operationName 指定要执行的操作",
                )],
            );
        }
        Err(Refusal::Limit(e)) => {
            return request_error(media, vec![error(&e.en, class::LIMIT_EXCEEDED, &e.zh)]);
        }
    };
    if is_get && inspected.operation != OperationType::Query {
        let mut r = respond(
            StatusCode::METHOD_NOT_ALLOWED,
            media,
            json!({"errors": [error(
                "only queries may be sent with GET; send mutations and subscriptions with POST",
                class::VALIDATION,
                "GET 只能用于查询，修改请使用 POST",
            )]}),
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    if inspected.operation == OperationType::Subscription {
        return request_error(
            media,
            vec![error(
                "subscriptions are served over WebSocket at /graphql/ws",
                class::VALIDATION,
                "订阅请通过 WebSocket 连接 /graphql/ws",
            )],
        );
    }
    // Repeated queries over the read models are answered from memory while the read models have
    // not moved (the generation of `schema::dashboard::Cache`): a wall of screens polling the same
    // page costs one execution per projection batch. Only root fields that read nothing but the
    // projections' tables qualify (not `events`, `ledgerVerification`, `projections`).
    let cache_key = cacheable(&inspected).then(|| {
        // The caller is part of the key: should reads ever be scoped, answers differ by caller.
        format!(
            "{}\u{0}{}\u{0}{}\u{0}{}",
            identity.actor(),
            p.query,
            p.operation_name.as_deref().unwrap_or(""),
            p.variables
                .as_ref()
                .map(|v| Value::Object(v.clone()).to_string())
                .unwrap_or_default()
        )
    });
    let generation = shared.state.dashboards.generation();
    if let Some(key) = &cache_key
        && let Some(body) = cached(&shared.state, key, generation)
    {
        metrics::counter!("graphql_response_cache_hits_total").increment(1);
        let mut response = (StatusCode::OK, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(media.content_type()),
        );
        return response;
    }
    let mut request = async_graphql::Request::new(p.query);
    let introspection_only = inspected.introspection_only;
    let is_mutation = inspected.operation == OperationType::Mutation;
    request.set_parsed_query(inspected.document);
    if let Some(name) = p.operation_name {
        request = request.operation_name(name);
    }
    if let Some(vars) = p.variables {
        request = request.variables(Variables::from_json(Value::Object(vars)));
    }
    if let Some(ext) = p.extensions {
        for (k, v) in ext {
            if let Ok(v) = async_graphql::Value::from_json(v) {
                request.extensions.insert(k, v);
            }
        }
    }
    request = request.data(identity);
    let schema = if introspection_only {
        &shared.introspection
    } else {
        &shared.schema
    };
    // A mutation may also wait for the read models; that wait has its own bound, and a write
    // must never look failed because the wait used up the execution time.
    let mut timeout = Duration::from_millis(limits.max_execution_ms);
    if is_mutation {
        timeout += shared.state.config.write_wait();
    }
    let response = match tokio::time::timeout(timeout, schema.execute(request)).await {
        Ok(r) => r,
        Err(_) => {
            metrics::counter!("graphql_errors_total", "code" => "TIMEOUT").increment(1);
            return respond(
                StatusCode::OK,
                media,
                json!({"data": null, "errors": [error(
                    &format!("the operation ran longer than {} ms and was stopped", limits.max_execution_ms),
                    class::LIMIT_EXCEEDED,
                    &format!("操作执行超过 {} 毫秒，已终止", limits.max_execution_ms),
                )]}),
            );
        }
    };
    // A response without data whose errors have no path failed before execution (validation,
    // including the depth and complexity limits): a request error.
    let before_execution = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let errors: Vec<Value> = response.errors.iter().map(describe).collect();
    if before_execution {
        return request_error(media, errors);
    }
    let mut body = Map::new();
    body.insert(
        "data".into(),
        serde_json::to_value(&response.data).unwrap_or(Value::Null),
    );
    if !errors.is_empty() {
        body.insert("errors".into(), Value::Array(errors));
    }
    if !response.extensions.is_empty()
        && let Ok(ext) = serde_json::to_value(&response.extensions)
    {
        body.insert("extensions".into(), ext);
    }
    let body = Value::Object(body);
    if let Some(key) = cache_key
        && response.errors.is_empty()
    {
        remember(&shared.state, key, generation, body.to_string());
    }
    respond(StatusCode::OK, media, body)
}

/// Root fields whose answers depend only on the read models (and today's date, which the cache's
/// five-second bound covers: figures move at midnight only after a projection refresh anyway).
const CACHEABLE_ROOTS: &[&str] = &[
    "dashboard",
    "projects",
    "project",
    "units",
    "unit",
    "targets",
    "unitRanking",
    "supervisionItems",
    "node",
    "__typename",
];

fn cacheable(inspected: &crate::limits::Inspected) -> bool {
    inspected.operation == OperationType::Query
        && !inspected.introspection_only
        && inspected
            .root_fields
            .as_ref()
            .is_some_and(|f| f.iter().all(|f| CACHEABLE_ROOTS.contains(&f.as_str())))
}

const RESPONSE_MAX_AGE: Duration = Duration::from_secs(5);
const RESPONSE_MAX_ENTRIES: usize = 1000;

fn cached(state: &crate::schema::StateInner, key: &str, generation: u64) -> Option<String> {
    let entries = state.responses.lock().ok()?;
    entries
        .get(key)
        .filter(|(g, at, _)| *g == generation && at.elapsed() < RESPONSE_MAX_AGE)
        .map(|(_, _, body)| body.clone())
}

fn remember(state: &crate::schema::StateInner, key: String, generation: u64, body: String) {
    if let Ok(mut entries) = state.responses.lock() {
        if entries.len() >= RESPONSE_MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (generation, std::time::Instant::now(), body));
    }
}

/// An error as JSON, with `extensions.code` on every one: ours carry it already; those of
/// async-graphql (validation, argument parsing) get VALIDATION or LIMIT_EXCEEDED.
pub(super) fn describe(e: &ServerError) -> Value {
    let mut v = serde_json::to_value(e).unwrap_or_else(|_| json!({"message": e.message}));
    let has_code = e
        .extensions
        .as_ref()
        .is_some_and(|x| x.get("code").is_some());
    if !has_code && let Value::Object(o) = &mut v {
        let limit = e.message.contains("too deep")
            || e.message.contains("too complex")
            || e.message.contains("directives");
        let (code, zh) = if limit {
            (
                class::LIMIT_EXCEEDED,
                "查询超过服务器限制（深度、复杂度或指令数）",
            )
        } else {
            (
                class::VALIDATION,
                "请求不符合接口定义（字段、参数或变量有误）",
            )
        };
        metrics::counter!("graphql_errors_total", "code" => code).increment(1);
        let ext = o
            .entry("extensions")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(ext) = ext {
            ext.insert("code".into(), json!(code));
            ext.insert("class".into(), json!(code));
            ext.insert("messageZh".into(), json!(zh));
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> Option<Media> {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(v).unwrap());
        negotiate(&h)
    }

    #[test]
    fn negotiation() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(Media::Json));
        assert_eq!(
            accept("application/graphql-response+json"),
            Some(Media::GraphqlResponse)
        );
        assert_eq!(accept("application/json"), Some(Media::Json));
        assert_eq!(
            accept("application/json;q=0.9, application/graphql-response+json"),
            Some(Media::GraphqlResponse)
        );
        assert_eq!(accept("*/*"), Some(Media::Json));
        assert_eq!(accept("text/plain"), None);
    }

    #[test]
    fn url_pairs() {
        assert_eq!(
            url_decode_pairs("query=%7B+a+%7D&operationName=X"),
            vec![
                ("query".to_owned(), "{ a }".to_owned()),
                ("operationName".to_owned(), "X".to_owned())
            ]
        );
    }
}
