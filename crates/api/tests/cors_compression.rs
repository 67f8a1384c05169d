//! What a browser client and a slow county network need of the HTTP layer: CORS for the
//! allowed origins only (a real preflight, then the actual request), and answers compressed
//! as `Accept-Encoding` asks, on every route (GraphQL, the playground page and its assets).

mod common;

use std::io::Read;

use common::*;
use serde_json::json;

const ORIGIN: &str = "https://bi.example.gov.cn";

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(reqwest::Method::OPTIONS, app.url("/graphql"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap()
}

fn header(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_answers_the_allowed_origins_only() {
    let app = spawn_on_with(eventstore::Backend::Sqlite, |config| {
        config.serve.cors_origins = vec![ORIGIN.to_owned(), "http://localhost:5173".to_owned()];
    })
    .await;
    let r = preflight(&app, ORIGIN).await;
    assert!(r.status().is_success(), "{:?}", r.status());
    assert_eq!(
        header(&r, "access-control-allow-origin").as_deref(),
        Some(ORIGIN)
    );
    let methods = header(&r, "access-control-allow-methods").unwrap_or_default();
    assert!(methods.contains("POST"), "{methods}");
    let headers = header(&r, "access-control-allow-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("content-type"),
        "{headers}"
    );
    assert_eq!(
        header(&r, "access-control-max-age").as_deref(),
        Some("3600")
    );

    // The actual request carries the allow-origin header, and the token still decides.
    let r = app
        .client
        .post(app.url("/graphql"))
        .header("origin", ORIGIN)
        .bearer_auth(app.token(auth::Role::Viewer))
        .json(&json!({"query": "{ units { unitId } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&r, "access-control-allow-origin").as_deref(),
        Some(ORIGIN)
    );
    assert_eq!(r.status(), 200);
    let r = app
        .client
        .post(app.url("/graphql"))
        .header("origin", ORIGIN)
        .json(&json!({"query": "{ units { unitId } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "CORS lets a page call; it lets nobody in");

    // Another origin: no allow-origin header, so the browser refuses the page the answer.
    let r = preflight(&app, "https://evil.example").await;
    assert_eq!(header(&r, "access-control-allow-origin"), None);
    app.stop().await;

    // Off by default: no CORS at all (the preflight is not a route).
    let app = spawn_on(eventstore::Backend::Sqlite).await;
    let r = preflight(&app, ORIGIN).await;
    assert_eq!(r.status(), 405);
    assert_eq!(header(&r, "access-control-allow-origin"), None);
    app.stop().await;
}

#[test]
fn origins_are_checked_when_given() {
    use api::config::parse_origin;
    assert_eq!(
        parse_origin("https://BI.example.gov.cn:8443").as_deref(),
        Ok("https://bi.example.gov.cn:8443")
    );
    for bad in [
        "bi.example.gov.cn",
        "https://x/",
        "https://x/path",
        "*",
        "https://*.x",
    ] {
        assert!(parse_origin(bad).is_err(), "{bad}");
    }
}

/// GET `path` with `Accept-Encoding: encoding`: the status, the Content-Encoding and the body
/// as it came over the wire.
async fn fetch(
    app: &TestApp,
    path: &str,
    encoding: &str,
    post: Option<serde_json::Value>,
) -> (u16, Option<String>, Vec<u8>) {
    let request = match &post {
        Some(body) => app.client.post(app.url(path)).json(body),
        // GET /graphql without a query is the playground's page, for browsers.
        None => app.client.get(app.url(path)).header("accept", "text/html"),
    };
    let r = request
        .header("accept-encoding", encoding)
        .bearer_auth(app.token(auth::Role::Viewer))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let content_encoding = header(&r, "content-encoding");
    (status, content_encoding, r.bytes().await.unwrap().to_vec())
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_is_compressed_as_the_client_asks() {
    let app = spawn_on(eventstore::Backend::Sqlite).await;
    // Enough rows for the answer to be worth compressing.
    let query = json!({"query": "{ __schema { types { name description } } }"});
    for (path, post) in [
        ("/graphql", Some(query.clone())),
        ("/graphql", None),
        ("/graphql/assets/graphiql.min.js", None),
        ("/graphql/assets/graphiql.min.css", None),
        ("/graphql/assets/react-dom.production.min.js", None),
    ] {
        let (status, plain_encoding, plain) = fetch(&app, path, "identity", post.clone()).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(plain_encoding, None, "{path}");
        let (_, encoding, gz) = fetch(&app, path, "gzip", post.clone()).await;
        assert_eq!(encoding.as_deref(), Some("gzip"), "{path}");
        assert_eq!(gunzip(&gz), plain, "{path}: gzip decodes to the same bytes");
        let (_, encoding, br) = fetch(&app, path, "br;q=1.0, gzip;q=0.5", post.clone()).await;
        assert_eq!(encoding.as_deref(), Some("br"), "{path}");
        // Everything shrinks by a third at least (GraphiQL's CSS, which embeds fonts, the
        // least; JSON and scripts to a third or less).
        assert!(
            gz.len() * 3 < plain.len() * 2,
            "{path}: {} → {}",
            plain.len(),
            gz.len()
        );
        assert!(
            br.len() * 3 < plain.len() * 2,
            "{path}: {} → {}",
            plain.len(),
            br.len()
        );
        eprintln!(
            "{path}: {} bytes, gzip {}, br {}",
            plain.len(),
            gz.len(),
            br.len()
        );
    }
    app.stop().await;
}
