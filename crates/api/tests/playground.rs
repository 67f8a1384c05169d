//! The playground in a real browser: Debian's headless Chromium, driven through ChromeDriver,
//! with every non-loopback request blocked, opens /graphql, runs a query typed into the editor
//! and sees its result. This test fails (it never skips) when Chromium or ChromeDriver is
//! missing: `apt-get install chromium chromium-driver` (.ci/run installs them).

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

struct Driver {
    child: Child,
    url: String,
    client: reqwest::Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    async fn start() -> Driver {
        for (path, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
            assert!(
                std::path::Path::new(path).exists(),
                "{path} is missing: install it with `apt-get install -y {package}` \
                 (the playground test needs Debian's Chromium and ChromeDriver)"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = driver
                .client
                .get(format!("{}/status", driver.url))
                .send()
                .await
                && r.status().is_success()
            {
                return driver;
            }
            assert!(Instant::now() < deadline, "chromedriver did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.client.request(method, format!("{}{path}", self.url));
        if let Some(b) = body {
            request = request.json(&b);
        }
        let v: Value = request.send().await.unwrap().json().await.unwrap();
        v
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_runs_a_query_offline() {
    let app = spawn().await;
    app.gql(
        r#"mutation { createUnit(input: {idempotencyKey: "u", unitId: "xinan-town", name: "新安镇", kind: TOWNSHIP, date: "2026-01-02"}) { unit { name } } }"#,
        json!({}),
    )
    .await
    .ok();
    let driver = Driver::start().await;
    let profile = std::env::temp_dir().join(format!("tz-chromium-{}", uuid::Uuid::new_v4()));
    let session = driver
        .call(
            reqwest::Method::POST,
            "/session",
            Some(json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": CHROMIUM,
                    "args": [
                        "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update",
                        "--disable-sync", "--disable-dev-shm-usage",
                        format!("--user-data-dir={}", profile.display()),
                        // Every request that is not to loopback goes to a dead proxy, and no
                        // name but 127.0.0.1 resolves: nothing outside can be reached.
                        "--proxy-server=http://127.0.0.1:9",
                        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                    ]
                }
            }}})),
        )
        .await;
    let id = session["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no browser session: {session}"))
        .to_owned();
    let script = |source: &str| {
        let path = format!("/session/{id}/execute/sync");
        let body = json!({"script": source, "args": []});
        let driver = &driver;
        async move { driver.call(reqwest::Method::POST, &path, Some(body)).await["value"].clone() }
    };
    driver
        .call(
            reqwest::Method::POST,
            &format!("/session/{id}/url"),
            Some(json!({"url": app.url("/graphql")})),
        )
        .await;
    // Wait for GraphiQL to render its editor (it has also fetched the schema by introspection).
    let wait = |check: &'static str, what: &'static str| {
        let script = &script;
        async move {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let v = script(check).await;
                if v.as_bool() == Some(true)
                    || (v.is_string() && !v.as_str().unwrap_or("").is_empty())
                {
                    return v;
                }
                assert!(
                    Instant::now() < deadline,
                    "timed out waiting for {what}; last: {v}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    // The page loads without a token; its requests need one, pasted into the headers editor
    // (which starts with a placeholder), after which the schema is fetched again.
    wait(
        "return !!document.querySelector('.graphiql-query-editor .CodeMirror');",
        "the query editor",
    )
    .await;
    wait(
        "var b = document.querySelector('button[data-name=\"headers\"]'); if (b) { b.click(); } \
         var all = document.querySelectorAll('.CodeMirror'); \
         for (var i = 0; i < all.length; i++) { var cm = all[i].CodeMirror; \
           if (cm && cm.getValue().indexOf('<paste your token here>') >= 0) { return true; } } \
         return false;",
        "the headers editor with its placeholder",
    )
    .await;
    let set_token = format!(
        "var all = document.querySelectorAll('.CodeMirror'); \
         for (var i = 0; i < all.length; i++) {{ var cm = all[i].CodeMirror; \
           if (cm && cm.getValue().indexOf('<paste your token here>') >= 0) {{ \
             cm.setValue('{{\"Authorization\": \"Bearer {}\"}}'); break; }} }} \
         document.querySelector('[aria-label=\"Re-fetch GraphQL schema\"]').click(); return true;",
        app.token(auth::Role::Viewer)
    );
    script(&set_token).await;
    // The documentation explorer can only list fields once introspection has succeeded.
    wait(
        "var b = document.querySelector('[aria-label=\"Show Documentation Explorer\"]'); if (b) { b.click(); } \
         var d = document.querySelector('.graphiql-doc-explorer'); return !!d && d.textContent.indexOf('Query') >= 0;",
        "the documentation explorer (introspection)",
    )
    .await;
    script(
        "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue('{ units { unitId name } }'); return true;",
    )
    .await;
    script("document.querySelector('.graphiql-execute-button').click(); return true;").await;
    let result = wait(
        "var r = document.querySelector('.graphiql-response .CodeMirror'); \
         return r ? r.CodeMirror.getValue() : '';",
        "the query's result",
    )
    .await;
    let text = result.as_str().unwrap();
    assert!(
        text.contains("xinan-town") && text.contains("新安镇"),
        "{text}"
    );
    // Everything the page loaded came from this server.
    let resources = script(
        "return performance.getEntriesByType('resource').map(function (e) { return e.name; }).concat([location.href]);",
    )
    .await;
    let origin = app.url("/");
    for r in resources.as_array().unwrap() {
        assert!(
            r.as_str().unwrap().starts_with(&origin),
            "loaded from outside: {r}"
        );
    }
    driver
        .call(reqwest::Method::DELETE, &format!("/session/{id}"), None)
        .await;
    let _ = std::fs::remove_dir_all(profile);
    app.stop().await;
}
