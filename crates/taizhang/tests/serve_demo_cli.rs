//! `taizhang serve --demo` through the binary: it seeds the demo county, prints the playground's
//! URL and an admin token that works; a second start adds nothing to the county and replaces the
//! token (the first one is refused from then on).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use eventstore::postgres::testing::TestDatabase;

/// A GraphQL POST over plain HTTP/1.0 with a bearer token: the status line and body.
fn graphql(addr: &str, token: &str, query: &str) -> String {
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

/// The running server; killed if a failing assertion unwinds past it, so that no server outlives
/// its test (a graceful stop goes through [`stop`]).
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// What `serve --demo` printed before serving: the whole text, the address and the token.
struct Banner {
    text: String,
    addr: String,
    token: String,
}

/// Where the server keeps its store: a PostgreSQL URL, or (the Quick start) no URL and a data
/// directory.
enum Store<'a> {
    Url(&'a str),
    DataDir(&'a std::path::Path),
}

fn start(store: &Store<'_>) -> (Server, Banner) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_taizhang"));
    command.args(["serve", "--demo", "--listen", "127.0.0.1:0"]);
    match store {
        Store::Url(url) => command.env("DATABASE_URL", url),
        Store::DataDir(dir) => command
            .env_remove("DATABASE_URL")
            .env_remove("TAIZHANG_DATA_DIR")
            .arg("--data-dir")
            .arg(dir),
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
    // The token is the first line that is only a token; the first query comes after it.
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
        if line.contains("dashboard(year:") {
            break;
        }
    }
    // Keep draining stdout so that the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.by_ref() {});
    let token = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("tz_"))
        .unwrap_or_else(|| panic!("no token printed:\n{text}"))
        .to_owned();
    let addr = addr.unwrap_or_else(|| panic!("no URL printed:\n{text}"));
    (child, Banner { text, addr, token })
}

fn stop(mut server: Server) {
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
fn wait_for_sixty_projects(addr: &str, token: &str, year: i32) {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_demo_seeds_once_and_prints_a_working_admin_token() {
    let db = TestDatabase::empty().await;
    let year = commands::county_today().year();

    let (child, first) = start(&Store::Url(&db.url));
    assert!(
        first
            .text
            .contains("demo county seeded: 5 units, 60 projects"),
        "{}",
        first.text
    );
    assert!(
        first.text.contains(&format!(
            "{{\"Authorization\": \"Bearer {}\"}}",
            first.token
        )),
        "{}",
        first.text
    );
    assert_eq!(first.token.len(), 46, "a token is tz_ and 43 characters");
    wait_for_sixty_projects(&first.addr, &first.token, year);
    // An admin token: it may see the token list, where the demo token is recorded.
    let tokens = graphql(&first.addr, &first.token, "{ tokens { name role status } }");
    assert!(
        tokens.contains("演示管理员 (serve --demo)") && tokens.contains("ACTIVE"),
        "{tokens}"
    );
    stop(child);

    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let events_after_first: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM eventstore.events WHERE stream NOT LIKE 'token-%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();

    let (child, second) = start(&Store::Url(&db.url));
    assert!(
        second.text.contains("already there"),
        "a second start must add nothing: {}",
        second.text
    );
    assert_ne!(second.token, first.token);
    let events_after_second: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM eventstore.events WHERE stream NOT LIKE 'token-%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(events_after_first, events_after_second);
    // The previous demo token was revoked; the new one works.
    let old = graphql(&second.addr, &first.token, "{ units { unitId } }");
    assert!(old.starts_with("HTTP/1.0 401"), "{old}");
    wait_for_sixty_projects(&second.addr, &second.token, year);
    stop(child);
    pool.close().await;
    db.drop_database().await;
}

/// The Quick start: no DATABASE_URL, so the embedded SQLite store in the data directory (created
/// on first start); the same county, token and answers as on PostgreSQL, and a second start over
/// the same file adds nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_demo_without_a_database_url_runs_on_the_embedded_store() {
    let dir = std::env::temp_dir().join(format!("tz_serve_demo_{}", uuid::Uuid::new_v4()));
    let data_dir = dir.join("data");
    let year = commands::county_today().year();

    let (child, first) = start(&Store::DataDir(&data_dir));
    assert!(
        first
            .text
            .contains("demo county seeded: 5 units, 60 projects"),
        "{}",
        first.text
    );
    let file = data_dir.join("taizhang.sqlite3");
    assert!(file.is_file(), "no store file at {}", file.display());
    wait_for_sixty_projects(&first.addr, &first.token, year);
    // Figures that need the metric queries on SQLite: the ranking and the targets answer.
    let ranking = graphql(
        &first.addr,
        &first.token,
        &format!(
            "{{ unitRanking(year: {year}) {{ unitId rank }} targets(year: {year}) {{ metric light }} }}"
        ),
    );
    assert!(
        ranking.starts_with("HTTP/1.0 200") && ranking.contains("\"unitId\":\"dev-zone\""),
        "{ranking}"
    );
    assert!(!ranking.contains("\"errors\""), "{ranking}");
    stop(child);

    let count = |file: std::path::PathBuf| async move {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", file.display()))
            .await
            .unwrap();
        let n: i64 =
            sqlx::query_scalar("SELECT count(*) FROM events WHERE stream NOT LIKE 'token-%'")
                .fetch_one(&pool)
                .await
                .unwrap();
        pool.close().await;
        n
    };
    let events_after_first = count(file.clone()).await;
    assert!(events_after_first > 1000, "{events_after_first}");

    let (child, second) = start(&Store::DataDir(&data_dir));
    assert!(second.text.contains("already there"), "{}", second.text);
    let old = graphql(&second.addr, &first.token, "{ units { unitId } }");
    assert!(old.starts_with("HTTP/1.0 401"), "{old}");
    wait_for_sixty_projects(&second.addr, &second.token, year);
    stop(child);
    assert_eq!(count(file).await, events_after_first);
    let _ = std::fs::remove_dir_all(&dir);
}
