//! The MUSTs of the GraphQL-over-HTTP specification, over real HTTP.

mod common;

use common::*;
use serde_json::json;

const GQL_RESPONSE: &str = "application/graphql-response+json";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_over_http() {
    let app = spawn().await;
    let query = json!({"query": "{ units { unitId } }"});

    // Both media types are accepted; the response uses the negotiated one.
    let r = app
        .post(query.clone(), &[("accept", "application/json")])
        .await;
    assert_eq!(
        (r.status, r.content_type.as_str()),
        (200, "application/json; charset=utf-8")
    );
    assert_eq!(r.ok()["units"], json!([]));
    let r = app.post(query.clone(), &[("accept", GQL_RESPONSE)]).await;
    assert_eq!(r.status, 200);
    assert!(
        r.content_type.starts_with(GQL_RESPONSE),
        "{}",
        r.content_type
    );
    let r = app.post(query.clone(), &[]).await;
    assert!(
        r.content_type.starts_with("application/json"),
        "no Accept means application/json"
    );
    let r = app
        .post(
            query.clone(),
            &[(
                "accept",
                "application/json;q=0.5, application/graphql-response+json",
            )],
        )
        .await;
    assert!(r.content_type.starts_with(GQL_RESPONSE));
    let r = app.post(query.clone(), &[("accept", "text/plain")]).await;
    assert_eq!(r.status, 406);

    // A document that does not parse or validate: 400 with graphql-response+json, 200 with
    // application/json, and no data entry either way.
    for bad in ["{ units { unitId ", "{ nope }"] {
        let body = json!({"query": bad});
        let r = app.post(body.clone(), &[("accept", GQL_RESPONSE)]).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert!(r.body.get("data").is_none());
        assert_eq!(r.code(), "VALIDATION");
        let r = app.post(body, &[("accept", "application/json")]).await;
        assert_eq!(r.status, 200, "{bad}");
        assert!(r.body.get("data").is_none());
    }
    // A variable of the wrong type is a request error too.
    let r = app
        .post(
            json!({"query": "query($y: Int!) { dashboard(year: $y) { projectCount } }", "variables": {"y": "x"}}),
            &[("accept", GQL_RESPONSE)],
        )
        .await;
    assert_eq!(r.status, 400);

    // Not a well-formed GraphQL-over-HTTP request: 400 for both media types.
    for (body, why) in [
        ("{not json", "unparseable JSON"),
        ("[{\"query\": \"{ units { name } }\"}]", "a batch"),
        ("{\"query\": 5}", "query not a string"),
        ("{\"variables\": {}}", "no query"),
        (
            "{\"query\": \"{ units { name } }\", \"variables\": [1]}",
            "variables not an object",
        ),
        (
            "{\"query\": \"{ units { name } }\", \"operationName\": 3}",
            "operationName not a string",
        ),
    ] {
        for accept in ["application/json", GQL_RESPONSE] {
            let r = reply(
                app.client
                    .post(app.url("/graphql"))
                    .header("authorization", app.bearer(auth::Role::Viewer))
                    .header("content-type", "application/json")
                    .header("accept", accept)
                    .body(body)
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(r.status, 400, "{why} with {accept}: {}", r.body);
            assert!(r.content_type.starts_with(accept));
        }
    }
    // POST bodies must be JSON.
    let r = reply(
        app.client
            .post(app.url("/graphql"))
            .header("authorization", app.bearer(auth::Role::Viewer))
            .header("content-type", "text/plain")
            .body("{ units { name } }")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 415);

    // GET runs queries, never mutations (405, Allow: POST).
    let r = app
        .get(
            "query=%7B+units+%7B+unitId+%7D+%7D",
            &[("accept", GQL_RESPONSE)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.ok()["units"], json!([]));
    let r = app
        .get(
            "query=query+Y(%24y%3A+Int!)+%7B+dashboard(year%3A+%24y)+%7B+year+%7D+%7D&variables=%7B%22y%22%3A2026%7D&operationName=Y",
            &[],
        )
        .await;
    assert_eq!(r.ok()["dashboard"]["year"], 2026);
    let mutation = "query=mutation+%7B+createUnit(input%3A+%7BidempotencyKey%3A+%22k%22%2C+unitId%3A+%22u%22%2C+name%3A+%22U%22%2C+kind%3A+PARK%2C+date%3A+%222026-01-01%22%7D)+%7B+unit+%7B+name+%7D+%7D+%7D";
    for accept in ["application/json", GQL_RESPONSE] {
        let response = app
            .client
            .get(format!("{}?{mutation}", app.url("/graphql")))
            .header("authorization", app.bearer(auth::Role::Admin))
            .header("accept", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 405);
        assert_eq!(response.headers()["allow"], "POST");
    }
    let r = app.gql("{ units { unitId } }", json!({})).await;
    assert_eq!(r.ok()["units"], json!([]), "the GET mutation did not run");
    // Other methods: 405.
    let r = app.client.delete(app.url("/graphql")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 405);

    // One operation per request: several need operationName.
    let two = "query A { units { unitId } } query B { projects { totalCount } }";
    let r = app
        .post(json!({"query": two}), &[("accept", GQL_RESPONSE)])
        .await;
    assert_eq!(r.status, 400);
    let r = app
        .post(json!({"query": two, "operationName": "B"}), &[])
        .await;
    assert_eq!(r.ok()["projects"]["totalCount"], 0);

    // Browsers get the playground; it references nothing outside this server.
    let page = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("graphiql.min.js")
            && !html.contains("http:")
            && !html.contains("https:")
            && !html.contains("//"),
        "{html}"
    );
    for asset in [
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
        "playground.js",
    ] {
        let r = app
            .client
            .get(app.url(&format!("/graphql/assets/{asset}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{asset}");
    }

    // Health, readiness, metrics.
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = reply(app.client.get(app.url("/readyz")).send().await.unwrap()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["checks"]["migrations"], true);
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    assert!(metrics.contains("graphql_errors_total"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_fails_when_a_projection_lags() {
    // Projectors off and a write: the read models fall behind by one event.
    let app = spawn_with(|c| {
        c.serve.projectors = false;
        c.serve.ready_max_lag = 0;
        c.serve.write_wait_ms = 200;
    })
    .await;
    let pool = app.db().pool(1).await;
    sqlx::query(
        "INSERT INTO reporting.projection_status (projection, state, updated_at) VALUES ('ledger', 'running', now())",
    )
    .execute(&pool)
    .await
    .unwrap();
    let r = app
        .gql(
            r#"mutation { createUnit(input: {idempotencyKey: "k", unitId: "u", name: "U", kind: PARK, date: "2026-01-01"}) { result { readModel behind position } unit { name } } }"#,
            json!({}),
        )
        .await;
    let result = &r.ok()["createUnit"]["result"];
    assert_eq!(result["readModel"], "TIMED_OUT");
    assert!(
        result["behind"]
            .as_array()
            .unwrap()
            .contains(&json!("ledger"))
    );
    assert!(result["position"].is_string());
    let r = reply(app.client.get(app.url("/readyz")).send().await.unwrap()).await;
    assert_eq!(r.status, 503, "{}", r.body);
    app.stop().await;
}
