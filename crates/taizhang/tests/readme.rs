//! Every command and query in README.md's code blocks runs as written against `serve --demo`.
//!
//! The README is the first thing a newcomer runs, so it is tested like code: this reads every
//! fenced block of README.md and
//! - starts the block line `cargo run … -- serve --demo` as the demo server (in a fresh working
//!   directory, so on the default data directory, with `--listen 127.0.0.1:0` added),
//! - sends every `graphql` block to it with the demo's admin token (a mutation twice: the second
//!   answer must say `replayed: true`, as the README promises),
//! - runs every other `sh` line with `sh -c` in that working directory, the binary on `PATH` as
//!   `taizhang` (`cargo run --release -p taizhang --` is the same binary), placeholders filled in
//!   (`<id>`: the token the block created last; `postgres://…/empty`: a fresh PostgreSQL
//!   database), and requires exit status 0,
//! - runs every `sql` block on that PostgreSQL database after the README's import and rebuild.
//!
//! Lines that cannot run here (Docker, the test suite itself, benchmarks, servers on fixed ports
//! or shared databases) are listed in [`NOT_RUN`] with the reason; a line that is neither run nor
//! listed fails the test, and so does a listed reason no README line needs any more.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use eventstore::postgres::testing::TestDatabase;
use support::{Store, body, graphql, start_with, stop, wait_for_sixty_projects};

/// README lines (matched by their start, after `cargo run --release -p taizhang --` became
/// `taizhang`) this test does not run, and why.
const NOT_RUN: &[(&str, &str)] = &[
    (
        "scripts/test",
        "the whole test suite (it installs Chromium, starts PostgreSQL), of which this test is part",
    ),
    (
        "DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres taizhang serve --demo",
        "the demo on the development machine's shared `postgres` database; serve_demo_cli runs \
         the same on a fresh database",
    ),
    (
        "docker compose",
        "no Docker engine in CI; tests/compose.rs checks the compose file, the init script and \
         the logins",
    ),
    (
        "taizhang serve ",
        "a server on the fixed port 8080 (the demo server of this test is the one line started)",
    ),
    (
        "cargo run --release -p eventstore --example bench",
        "a benchmark of minutes (docs/benchmarks.md)",
    ),
];

/// The demo server line, started by the test itself.
const SERVE_DEMO: &str = "taizhang serve --demo";

/// A fenced block of README.md: its language and its text.
struct Block {
    lang: String,
    text: String,
    line: usize,
}

fn blocks(readme: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (n, line) in readme.lines().enumerate() {
        match (open.take(), line.strip_prefix("```")) {
            (None, Some(lang)) => {
                open = Some(Block {
                    lang: lang.trim().to_owned(),
                    text: String::new(),
                    line: n + 1,
                })
            }
            (Some(block), Some(_)) => out.push(block),
            (Some(mut block), None) => {
                block.text.push_str(line);
                block.text.push('\n');
                open = Some(block);
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "README.md ends inside a code block");
    out
}

/// The shell lines of a block (continuations joined), the binary's `cargo run` spelled as
/// `taizhang`.
fn shell_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending = String::new();
    for line in text.lines() {
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head);
            continue;
        }
        pending.push_str(line);
        let line = std::mem::take(&mut pending);
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        out.push(line.replace("cargo run --release -p taizhang -- ", "taizhang "));
    }
    out
}

/// What the test does with one shell line.
fn not_run(line: &str) -> Option<&'static str> {
    NOT_RUN
        .iter()
        .find(|(start, _)| line.starts_with(start))
        .map(|(start, _)| *start)
}

fn sh(dir: &Path, bin_dir: &Path, line: &str) -> std::process::Output {
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("sh")
        .arg("-c")
        .arg(line)
        .current_dir(dir)
        .env("PATH", path)
        .env_remove("DATABASE_URL")
        .env_remove("TAIZHANG_DATA_DIR")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run sh")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_and_query_of_the_readme_runs_on_the_demo() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("read README.md");
    let blocks = blocks(&readme);
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_taizhang"));
    let bin_dir = bin.parent().expect("the binary's directory").to_owned();
    let dir = std::env::temp_dir().join(format!("tz_readme_{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();

    // The demo server first: everything else runs against it.
    let serve = blocks
        .iter()
        .filter(|b| b.lang == "sh")
        .flat_map(|b| shell_lines(&b.text))
        .find(|l| l.split('#').next().map(str::trim) == Some(SERVE_DEMO))
        .expect(
            "the README starts the demo with `cargo run --release -p taizhang -- serve --demo`",
        );
    let args: Vec<&str> = serve
        .split('#')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .collect();
    let (server, banner) = start_with(&Store::WorkingDir(&dir), &args);
    let admin = banner.token("admin").to_owned();
    let year = commands::county_today().year();
    wait_for_sixty_projects(&banner.addr, &admin, year);

    let pg = TestDatabase::empty().await;
    let mut used_reasons = std::collections::BTreeSet::new();
    let mut ran = 0;
    let mut last_token_id: Option<String> = None;
    for block in &blocks {
        let at = format!("README.md:{} ({})", block.line, block.lang);
        match block.lang.as_str() {
            "graphql" => {
                let first = body(&graphql(&banner.addr, &admin, &block.text));
                assert!(
                    first.get("errors").is_none() && !first["data"].is_null(),
                    "{at}: {first}\n{}",
                    block.text
                );
                if block.text.trim_start().starts_with("mutation") {
                    // Sent again with the same idempotencyKey: nothing written, `replayed`.
                    let replayed = |answer: &serde_json::Value| {
                        answer["data"]
                            .as_object()
                            .and_then(|o| o.values().next())
                            .map(|payload| payload["result"]["replayed"].clone())
                    };
                    let again = body(&graphql(&banner.addr, &admin, &block.text));
                    assert_eq!(
                        replayed(&first),
                        Some(serde_json::json!(false)),
                        "{at}: {first}"
                    );
                    assert_eq!(
                        replayed(&again),
                        Some(serde_json::json!(true)),
                        "{at}: the second send must be replayed: {again}"
                    );
                }
                ran += 1;
            }
            "sh" => {
                for line in shell_lines(&block.text) {
                    if line == serve {
                        continue;
                    }
                    if let Some(reason) = not_run(&line) {
                        used_reasons.insert(reason);
                        continue;
                    }
                    assert!(
                        line.starts_with("taizhang ")
                            || line.starts_with("DATABASE_URL=postgres://…/empty taizhang "),
                        "{at}: `{line}` is neither run by this test nor listed in NOT_RUN"
                    );
                    let mut filled = line.replace("postgres://…/empty", &pg.url);
                    if filled.contains("<id>") {
                        let id = last_token_id
                            .as_deref()
                            .unwrap_or_else(|| panic!("{at}: `{line}` before any token"));
                        filled = filled.replace("<id>", id);
                    }
                    let out = sh(&dir, &bin_dir, &filled);
                    let stderr = String::from_utf8_lossy(&out.stderr);
                    assert!(
                        out.status.success(),
                        "{at}: `{line}` failed ({}):\n{stderr}\n{}",
                        out.status,
                        String::from_utf8_lossy(&out.stdout)
                    );
                    if let Some(id) = stderr
                        .split("created token ")
                        .nth(1)
                        .and_then(|rest| rest.split_whitespace().next())
                    {
                        last_token_id = Some(id.to_owned());
                    }
                    ran += 1;
                }
            }
            "sql" => {
                let pool = pg.pool(1).await;
                // The README's own text, not anybody's input.
                let rows = sqlx::query(sqlx::AssertSqlSafe(block.text.clone()))
                    .fetch_all(&pool)
                    .await
                    .unwrap_or_else(|e| panic!("{at}: {e}\n{}", block.text));
                assert!(!rows.is_empty(), "{at}: no rows\n{}", block.text);
                pool.close().await;
                ran += 1;
            }
            other => panic!("{at}: a `{other}` block: say how this test runs it"),
        }
    }
    stop(server);
    for (start, reason) in NOT_RUN {
        assert!(
            used_reasons.contains(start),
            "NOT_RUN lists `{start}` ({reason}), which no README line starts with any more"
        );
    }
    assert!(ran >= 10, "only {ran} blocks and lines ran");
    pg.drop_database().await;
    let _ = std::fs::remove_dir_all(&dir);
}
