//! The playground in a real browser: Debian's headless Chromium, driven through ChromeDriver,
//! with every non-loopback request blocked, opens /graphql, runs a query typed into the editor
//! and sees its result. This test fails (it never skips) when Chromium or ChromeDriver is
//! missing: `apt-get install chromium chromium-driver` (.ci/run installs them).

mod common;

use common::browser::Browser;
use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_runs_a_query_offline() {
    let app = spawn().await;
    app.gql(
        r#"mutation { createUnit(input: {idempotencyKey: "u", unitId: "xinan-town", name: "新安镇", kind: TOWNSHIP, date: "2026-01-02"}) { unit { name } } }"#,
        json!({}),
    )
    .await
    .ok();
    let browser = Browser::start().await;
    browser.goto(&app.url("/graphql")).await;
    // Wait for GraphiQL to render its editor (it has also fetched the schema by introspection).
    let script = |source: &str| {
        let browser = &browser;
        let source = source.to_owned();
        async move { browser.script(&source).await }
    };
    let wait = |check: &'static str, what: &'static str| {
        let browser = &browser;
        async move { browser.wait(check, what).await }
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
    // The first screen: a friendly hint in both languages where the schema load's error would
    // be, and no request sent with the placeholder (so no 401).
    let first = wait(
        "var r = document.querySelector('.graphiql-response .CodeMirror'); \
         var t = r ? r.CodeMirror.getValue() : ''; return t.indexOf('NO_TOKEN_YET') >= 0 ? t : '';",
        "the no-token hint",
    )
    .await;
    let first = first.as_str().unwrap_or_default();
    assert!(
        first.contains("Headers")
            && first.contains("尚未填入访问令牌")
            && !first.contains("UNAUTHENTICATED"),
        "{first}"
    );
    let sent = script(
        "return performance.getEntriesByType('resource').filter(function (e) { \
           return e.initiatorType === 'fetch'; }).length;",
    )
    .await;
    assert_eq!(sent, json!(0), "nothing is sent before a token is pasted");
    // Pasted headers are forgotten at a reload unless the user asks, in the settings.
    wait(
        "var b = document.querySelector('[aria-label=\"Open settings dialog\"]'); if (b) { b.click(); } \
         return document.body.textContent.indexOf('Persist headers') >= 0;",
        "the Persist headers setting",
    )
    .await;
    script(
        "var c = document.querySelector('[aria-label=\"Close dialog\"]'); if (c) { c.click(); } return true;",
    )
    .await;
    let stored = script(
        "var found = false; for (var i = 0; i < localStorage.length; i++) { \
           if (localStorage.getItem(localStorage.key(i)).indexOf('Authorization') >= 0 \
               && localStorage.key(i).indexOf('headers') >= 0) { found = true; } } return found;",
    )
    .await;
    assert_eq!(stored, json!(false), "headers are not persisted by default");
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
    let origin = app.url("/");
    for r in browser.resources().await {
        assert!(r.starts_with(&origin), "loaded from outside: {r}");
    }
    browser.close().await;
    app.stop().await;
}
