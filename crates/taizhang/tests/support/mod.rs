//! The running `taizhang serve --demo` of a test: spawning it, reading its banner, talking
//! GraphQL to it over plain HTTP and stopping it. Shared by serve_demo_cli.rs and readme.rs.

#![allow(dead_code)] // each test file uses its own part of it

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A GraphQL POST over plain HTTP/1.0 with a bearer token: the status line, headers and body.
pub fn graphql(addr: &str, token: &str, query: &str) -> String {
    let body = serde_json::json!({ "query": query }).to_string();
    let mut s = TcpStream::connect(addr).expect("connect to the server");
    write!(
        s,
        "POST /graphql HTTP/1.0\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// The JSON body of an HTTP/1.0 answer from [`graphql`].
pub fn body(answer: &str) -> serde_json::Value {
    let (_, body) = answer
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no body in {answer}"));
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// The running server; killed if a failing assertion unwinds past it, so that no server outlives
/// its test (a graceful stop goes through [`stop`]).
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// What `serve --demo` printed before serving: the whole text, the address and the tokens by
/// role (`admin`, `editor`, `supervisor`, `auditor`).
pub struct Banner {
    pub text: String,
    pub addr: String,
    pub tokens: BTreeMap<String, String>,
}

impl Banner {
    pub fn token(&self, role: &str) -> &str {
        self.tokens
            .get(role)
            .unwrap_or_else(|| panic!("no {role} token in:\n{}", self.text))
    }
}

/// Where the server keeps its store: a PostgreSQL URL, or (the Quick start) no URL and a data
/// directory, or no URL and no flag at all in a working directory (the default data directory).
pub enum Store<'a> {
    Url(&'a str),
    DataDir(&'a Path),
    WorkingDir(&'a Path),
}

/// Starts `taizhang <args> --listen 127.0.0.1:0` (`args` begin with `serve --demo`) and reads
/// its banner up to the first query.
pub fn start_with(store: &Store<'_>, args: &[&str]) -> (Server, Banner) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_taizhang"));
    command
        .args(args)
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("DATABASE_URL")
        .env_remove("TAIZHANG_DATA_DIR");
    match store {
        Store::Url(url) => command.env("DATABASE_URL", url),
        Store::DataDir(dir) => command.arg("--data-dir").arg(dir),
        Store::WorkingDir(dir) => command.current_dir(dir),
    };
    let mut child = command
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run taizhang serve --demo");
    let stdout = child.stdout.take().unwrap();
    let child = Server(child);
    let mut lines = BufReader::new(stdout).lines();
    let mut text = String::new();
    let mut addr = None;
    let mut tokens = BTreeMap::new();
    let mut role: Option<String> = None;
    loop {
        let line = lines
            .next()
            .expect("serve --demo ended its output before the first query")
            .unwrap();
        text.push_str(&line);
        text.push('\n');
        if let Some(rest) = line.split("http://").nth(1) {
            addr = Some(rest.trim_end_matches("/graphql").to_owned());
        }
        // A role's line (`  editor     may …`), then its token alone on the next line.
        let trimmed = line.trim();
        if let Some(r) = ["admin", "editor", "supervisor", "auditor", "viewer"]
            .into_iter()
            .find(|r| trimmed.starts_with(&format!("{r} ")))
        {
            role = Some(r.to_owned());
        } else if trimmed.starts_with("tz_")
            && let Some(r) = role.take()
        {
            tokens.insert(r, trimmed.to_owned());
        }
        if line.contains("dashboard(year:") {
            break;
        }
    }
    // Keep draining stdout so that the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.by_ref() {});
    let addr = addr.unwrap_or_else(|| panic!("no URL printed:\n{text}"));
    (child, Banner { text, addr, tokens })
}

pub fn start(store: &Store<'_>) -> (Server, Banner) {
    start_with(store, &["serve", "--demo"])
}

/// SIGTERM, then waits for the process to end.
pub fn stop(mut server: Server) {
    let status = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the server did not stop");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Asks until the projectors have the whole demo county (60 projects, abandoned ones included),
/// then checks that the dashboard the banner suggests answers.
pub fn wait_for_sixty_projects(addr: &str, token: &str, year: i32) {
    let query = "{ projects(first: 1) { totalCount } }";
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let answer = graphql(addr, token, query);
        assert!(answer.starts_with("HTTP/1.0 200"), "{answer}");
        if answer.contains("\"totalCount\":60") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the dashboard never showed the demo county's 60 projects: {answer}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    let first_query =
        format!("{{ dashboard(year: {year}) {{ asOf projectCount monthProgressPct }} }}");
    let dashboard = graphql(addr, token, &first_query);
    assert!(
        dashboard.starts_with("HTTP/1.0 200") && dashboard.contains("\"projectCount\":"),
        "{dashboard}"
    );
    assert!(!dashboard.contains("\"errors\""), "{dashboard}");
}
