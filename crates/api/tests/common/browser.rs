//! A real headless Chromium (Debian's), driven through ChromeDriver, with every request that
//! is not to loopback sent to a dead proxy and every host name but 127.0.0.1 unresolvable:
//! nothing outside can be reached. Fails (never skips) when Chromium or ChromeDriver is
//! missing: `apt-get install chromium chromium-driver` (.ci/run installs them).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A running ChromeDriver with one browser session.
pub struct Browser {
    child: Child,
    url: String,
    client: reqwest::Client,
    session: String,
    profile: std::path::PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Browser {
    pub async fn start() -> Browser {
        for (path, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
            assert!(
                std::path::Path::new(path).exists(),
                "{path} is missing: install it with `apt-get install -y {package}` \
                 (the browser tests need Debian's Chromium and ChromeDriver)"
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
        let profile = std::env::temp_dir().join(format!("tz-chromium-{}", uuid::Uuid::new_v4()));
        let mut browser = Browser {
            child,
            url: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
            session: String::new(),
            profile,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = browser
                .client
                .get(format!("{}/status", browser.url))
                .send()
                .await
                && r.status().is_success()
            {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let session = browser
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
                            "--disable-sync", "--disable-dev-shm-usage", "--lang=zh-CN",
                            format!("--user-data-dir={}", browser.profile.display()),
                            "--proxy-server=http://127.0.0.1:9",
                            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                        ]
                    }
                }}})),
            )
            .await;
        browser.session = session["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {session}"))
            .to_owned();
        browser
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.client.request(method, format!("{}{path}", self.url));
        if let Some(b) = body {
            request = request.json(&b);
        }
        request.send().await.unwrap().json().await.unwrap()
    }

    async fn command(&self, method: reqwest::Method, what: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}/{what}", self.session);
        self.call(method, &path, body).await["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.command(reqwest::Method::POST, "url", Some(json!({"url": url})))
            .await;
    }

    pub async fn window(&self, width: u32, height: u32) {
        self.command(
            reqwest::Method::POST,
            "window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await;
    }

    /// Runs `source` (a function body) in the page and returns its value.
    pub async fn script(&self, source: &str) -> Value {
        self.command(
            reqwest::Method::POST,
            "execute/sync",
            Some(json!({"script": source, "args": []})),
        )
        .await
    }

    /// Waits until `check` returns true or a non-empty string, and returns that.
    pub async fn wait(&self, check: &str, what: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let v = self.script(check).await;
            if v.as_bool() == Some(true) || v.as_str().is_some_and(|s| !s.is_empty()) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; last: {v}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Types `text` into the element `css` selects, as a keyboard would (WebDriver's element
    /// send keys: focus, key events, `input` events), after clearing it when `clear`.
    pub async fn type_into(&self, css: &str, text: &str, clear: bool) {
        let found = self
            .command(
                reqwest::Method::POST,
                "element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        let element = found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_owned();
        if clear {
            self.command(
                reqwest::Method::POST,
                &format!("element/{element}/clear"),
                Some(json!({})),
            )
            .await;
        }
        self.command(
            reqwest::Method::POST,
            &format!("element/{element}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    /// A PNG of the viewport, written to `path`.
    pub async fn screenshot(&self, path: &std::path::Path) {
        use base64::Engine;
        let v = self.command(reqwest::Method::GET, "screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("a screenshot"))
            .expect("base64");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, png).unwrap();
    }

    /// Every URL the current page loaded, itself included.
    pub async fn resources(&self) -> Vec<String> {
        self.script(
            "return performance.getEntriesByType('resource').map(function (e) { return e.name; }).concat([location.href]);",
        )
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
    }

    pub async fn close(self) {
        let path = format!("/session/{}", self.session);
        self.call(reqwest::Method::DELETE, &path, None).await;
    }
}
