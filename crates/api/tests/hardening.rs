//! What a hostile or careless client could still do (issue 12), each refused as it should be:
//! bad input answered as a validation error naming the field (never `INTERNAL`), strings of
//! bounded length, type errors that say which field and why in both languages, a body never
//! sent answered at once without a token, and a verification that is never stale after a
//! tamper.

mod common;

use std::time::Duration;

use auth::Role;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::*;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn extensions(r: &Reply) -> &Value {
    &r.body["errors"][0]["extensions"]
}

/// A refusal of `field` with `code`, in English and Chinese, and no `INTERNAL` anywhere.
fn refused(r: &Reply, code: &str, field: &str) {
    let ext = extensions(r);
    assert_eq!(ext["code"], code, "{}", r.body);
    assert_eq!(ext["field"], field, "{}", r.body);
    assert!(
        ext["messageZh"].as_str().is_some_and(|m| !m.is_empty()),
        "{}",
        r.body
    );
    assert!(!r.body.to_string().contains("INTERNAL"), "{}", r.body);
}

const CREATE_UNIT: &str = "mutation($key: String!, $name: String!) { createUnit(input: {idempotencyKey: $key, unitId: \"dev-zone\", name: $name, kind: PARK, date: \"2026-01-02\"}) { unit { unitId } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_characters_and_impossible_cursors_are_validation_errors() {
    let app = spawn().await;
    let before = event_count(&app).await;
    // NUL in an idempotency key, in a text field (as a variable and written inline), in a
    // filter: PostgreSQL cannot store it, and it used to fail there as INTERNAL.
    let r = app
        .gql(CREATE_UNIT, json!({"key": "k\u{0}1", "name": "开发区"}))
        .await;
    refused(&r, "VALIDATION", "idempotencyKey");
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("NUL"),
        "{}",
        r.body
    );
    let r = app
        .gql(CREATE_UNIT, json!({"key": "k2", "name": "开发\u{0}区"}))
        .await;
    refused(&r, "VALIDATION", "name");
    let r = app
        .gql(
            r#"mutation { createUnit(input: {idempotencyKey: "k3", unitId: "dev-zone", name: "a\u0000", kind: PARK, date: "2026-01-02"}) { unit { unitId } } }"#,
            json!({}),
        )
        .await;
    refused(&r, "VALIDATION", "name");
    let r = app
        .gql(
            "query($t: String) { projects(filter: {nameContains: $t}) { totalCount } }",
            json!({"t": "\u{0}"}),
        )
        .await;
    refused(&r, "VALIDATION", "nameContains");
    let r = app
        .gql(
            r#"{ projects(filter: {nameContains: "x\u0000"}) { totalCount } }"#,
            json!({}),
        )
        .await;
    refused(&r, "VALIDATION", "nameContains");
    assert_eq!(event_count(&app).await, before, "a refused request wrote");

    // Cursors this server never gave out: the offset after i64::MAX overflowed, a position
    // beyond BIGINT failed in the database.
    let cursor = STANDARD.encode("o:9223372036854775807");
    let r = app
        .gql(
            "query($c: String) { projects(after: $c) { totalCount } }",
            json!({"c": cursor}),
        )
        .await;
    refused(&r, "VALIDATION", "after");
    let cursor = STANDARD.encode("p:9999999999999999999/9");
    let r = app
        .gql_as(
            Role::Auditor,
            "query($c: String) { events(after: $c) { nodes { type } } }",
            json!({"c": cursor}),
        )
        .await;
    refused(&r, "VALIDATION", "after");
    // The server answers normally afterwards.
    app.gql("{ units { name } }", json!({})).await.ok();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strings_have_maximum_lengths_that_errors_name() {
    let app = spawn().await;
    let before = event_count(&app).await;
    // A 300,000-character key was stored in event metadata.
    let r = app
        .gql(
            CREATE_UNIT,
            json!({"key": "k".repeat(300_000), "name": "开发区"}),
        )
        .await;
    refused(&r, "TEXT_TOO_LONG", "idempotencyKey");
    let message = r.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("200"), "{message}");
    assert!(
        extensions(&r)["messageZh"]
            .as_str()
            .unwrap()
            .contains("200"),
        "{}",
        r.body
    );
    // A key of the limit is fine; a name of 201 characters is not.
    let key = "k".repeat(domain::error::MAX_KEY_CHARS);
    let r = app
        .gql(
            CREATE_UNIT,
            json!({"key": key, "name": "名".repeat(domain::error::MAX_NAME_CHARS + 1)}),
        )
        .await;
    refused(&r, "TEXT_TOO_LONG", "name");
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("200 characters"),
        "{}",
        r.body
    );
    assert_eq!(event_count(&app).await, before, "a refused request wrote");
    let r = app
        .gql(CREATE_UNIT, json!({"key": key, "name": "经济开发区"}))
        .await;
    assert_eq!(r.ok()["createUnit"]["unit"]["unitId"], "dev-zone");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn type_errors_name_the_field_in_both_languages() {
    let app = spawn().await;
    let project = unit_and_project(&app, "type-errors").await;
    // A float where whole yuan are expected, written inline.
    let r = app
        .gql(
            &format!(
                r#"mutation {{ reportInvestment(input: {{idempotencyKey: "t1", projectId: "{project}", period: "2026-03", completedInvestment: 1.5, fundsInPlace: 0}}) {{ result {{ readModel }} }} }}"#
            ),
            json!({}),
        )
        .await;
    let ext = extensions(&r);
    assert_eq!(ext["code"], "VALIDATION", "{}", r.body);
    assert_eq!(ext["field"], "input.completedInvestment", "{}", r.body);
    let zh = ext["messageZh"].as_str().unwrap();
    assert!(zh.contains("input.completedInvestment"), "{zh}");
    assert!(zh.contains("Yuan"), "{zh}");
    let en = r.body["errors"][0]["message"].as_str().unwrap();
    assert!(en.contains("input.completedInvestment"), "{en}");
    // The same through a variable.
    let r = app
        .gql(
            "mutation($i: ReportInvestmentInput!) { reportInvestment(input: $i) { result { readModel } } }",
            json!({"i": {"idempotencyKey": "t2", "projectId": project, "period": "2026-03", "completedInvestment": 1.5, "fundsInPlace": 0}}),
        )
        .await;
    assert_eq!(
        extensions(&r)["field"],
        "input.completedInvestment",
        "{}",
        r.body
    );
    // A string where an Int is expected, an unknown enum value, a missing field.
    let r = app
        .gql("{ projects(first: \"ten\") { totalCount } }", json!({}))
        .await;
    assert_eq!(extensions(&r)["field"], "first", "{}", r.body);
    let zh = extensions(&r)["messageZh"].as_str().unwrap();
    assert!(zh.contains("first") && zh.contains("整数"), "{zh}");
    let r = app
        .gql(
            "{ projects(filter: {stage: [NOPE]}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(extensions(&r)["field"], "filter.stage.0", "{}", r.body);
    assert!(
        extensions(&r)["messageZh"]
            .as_str()
            .unwrap()
            .contains("NOPE"),
        "{}",
        r.body
    );
    let r = app
        .gql(
            &format!(
                r#"mutation {{ reportInvestment(input: {{idempotencyKey: "t3", projectId: "{project}", completedInvestment: 1}}) {{ result {{ readModel }} }} }}"#
            ),
            json!({}),
        )
        .await;
    assert_eq!(extensions(&r)["field"], "input.period", "{}", r.body);
    assert!(
        extensions(&r)["messageZh"]
            .as_str()
            .unwrap()
            .contains("缺少"),
        "{}",
        r.body
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_never_sent_is_refused_at_once_without_a_token() {
    let app = spawn().await;
    let mut tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    // 900 kB announced, nothing sent, no token.
    tcp.write_all(
        b"POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 900000\r\n\r\n",
    )
    .await
    .unwrap();
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(3), tcp.read(&mut answer))
        .await
        .expect("an answer before the body")
        .unwrap();
    let head = String::from_utf8_lossy(&answer[..n]);
    assert!(head.starts_with("HTTP/1.1 401"), "{head}");
    // A body announced above the limit is 413 at once, with a token.
    let mut tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let request = format!(
        "POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAuthorization: {}\r\nContent-Length: 90000000\r\n\r\n",
        app.bearer(Role::Viewer)
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let n = tokio::time::timeout(Duration::from_secs(3), tcp.read(&mut answer))
        .await
        .expect("an answer before the body")
        .unwrap();
    let head = String::from_utf8_lossy(&answer[..n]);
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    app.gql("{ units { name } }", json!({})).await.ok();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_is_never_a_stale_pass_after_a_tamper() {
    let app = spawn().await;
    unit_and_project(&app, "verify").await;
    let query = "{ ledgerVerification { ok mismatchCount checkedAt ageSeconds } }";
    let first = app.gql_as(Role::Auditor, query, json!({})).await;
    let v = &first.ok()["ledgerVerification"];
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["ageSeconds"], 0.0, "{v}");
    // The database's owner edits an event behind the store's back.
    let pool = app.db().pool(1).await;
    let mut tx = pool.begin().await.unwrap();
    for sql in [
        "ALTER TABLE eventstore.events DISABLE TRIGGER events_append_only",
        "UPDATE eventstore.events SET data = jsonb_set(data, '{name}', '\"改过的名字\"') WHERE event_type = 'UnitCreated'",
        "ALTER TABLE eventstore.events ENABLE TRIGGER events_append_only",
    ] {
        sqlx::query(sql).execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    pool.close().await;
    // At once, not a minute later: the pass is not reused.
    let r = app.gql_as(Role::Auditor, query, json!({})).await;
    let v = &r.ok()["ledgerVerification"];
    assert_eq!(v["ok"], false, "{v}");
    assert!(v["mismatchCount"].as_i64().unwrap() > 0, "{v}");
    // A failure is reused for a while, and says how old it is.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let r = app.gql_as(Role::Auditor, query, json!({})).await;
    let again = &r.ok()["ledgerVerification"];
    assert_eq!(again["ok"], false);
    assert_eq!(again["checkedAt"], v["checkedAt"]);
    assert!(again["ageSeconds"].as_f64().unwrap() > 0.0, "{again}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_authentications_are_throttled_per_address() {
    let app = spawn_with(|c| c.serve.auth.auth_failures_per_minute = 5).await;
    let bad = |n: usize| format!("Bearer tz_guess{n}");
    // 2,000 random tokens used to get 2,000 × 401: now 5, then 429 with a hint.
    for n in 0..5 {
        let r = app
            .post(
                json!({"query": "{ units { name } }"}),
                &[("authorization", &bad(n))],
            )
            .await;
        assert_eq!(r.status, 401, "{n}: {}", r.body);
    }
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("authorization", bad(99))
        .json(&json!({"query": "{ units { name } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "RATE_LIMITED",
        "{body}"
    );
    assert!(
        body["errors"][0]["extensions"]["retryAfterMs"]
            .as_u64()
            .unwrap()
            > 0
    );
    // A valid token from the same address is still served.
    app.gql_as(Role::Viewer, "{ units { name } }", json!({}))
        .await
        .ok();
    app.stop().await;
}
