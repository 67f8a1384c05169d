//! The embedded default through the binary: with no DATABASE_URL every command runs on the SQLite
//! file `taizhang.sqlite3` in the data directory (--data-dir, TAIZHANG_DATA_DIR, or
//! ./taizhang-data), says so on stderr, and a URL of another kind is refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use eventstore::{EventStore, SqliteEventStore};

/// The binary with no store configured from the environment the tests run in.
fn bare() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_taizhang"));
    command
        .env_remove("DATABASE_URL")
        .env_remove("TAIZHANG_DATA_DIR")
        .env("RUST_LOG", "warn");
    command
}

fn in_dir(dir: &Path, args: &[&str]) -> Output {
    bare()
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("run taizhang")
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A directory of its own under the system's temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("tz-sqlite-cli-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn event_count(file: &Path) -> u64 {
    let store = SqliteEventStore::open(file, 1).await.unwrap();
    let n = store.all_head().await.unwrap().events;
    store.pool().close().await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_database_url_every_command_runs_on_the_data_directory() {
    let tmp = TempDir::new();
    // Not there yet: the binary creates it, nested directories included.
    let dir = tmp.0.join("county").join("data");
    let file = dir.join("taizhang.sqlite3");

    let out = in_dir(&dir, &["migrate"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        stdout(&out).contains("migrations applied"),
        "{}",
        text(&out)
    );
    assert!(file.is_file(), "{} was not created", file.display());
    // stderr names the backend and the file, and why this one.
    let err = stderr(&out);
    assert!(
        err.contains(&format!("store: sqlite file {}", file.display())),
        "{err}"
    );
    assert!(err.contains("no DATABASE_URL"), "{err}");
    // Twice is fine.
    assert!(in_dir(&dir, &["migrate"]).status.success());

    let first = in_dir(&dir, &["demo"]);
    assert!(first.status.success(), "{}", text(&first));
    assert!(
        stdout(&first).contains("5 units, 60 projects"),
        "{}",
        text(&first)
    );
    let events = event_count(&file).await;
    assert!(events > 1000, "{events} events");

    let second = in_dir(&dir, &["demo"]);
    assert!(second.status.success(), "{}", text(&second));
    assert!(
        stdout(&second).contains("already there"),
        "{}",
        text(&second)
    );
    assert_eq!(
        event_count(&file).await,
        events,
        "a second demo adds nothing"
    );

    // The demo sealed what it wrote: nothing is left for `seal`.
    assert!(
        stderr(&first).contains(&format!("sealed: seal 1 covers {events} events")),
        "{}",
        text(&first)
    );
    let sealed = in_dir(&dir, &["seal"]);
    assert!(sealed.status.success(), "{}", text(&sealed));
    assert!(
        stdout(&sealed).contains("nothing new to seal"),
        "{}",
        text(&sealed)
    );

    let verified = in_dir(&dir, &["verify"]);
    assert_eq!(verified.status.code(), Some(0), "{}", text(&verified));
    assert!(
        stdout(&verified).contains(&format!("checked {events} events")),
        "{}",
        text(&verified)
    );
    assert!(stdout(&verified).contains("ok: every hash chain and seal matches"));

    // TAIZHANG_DATA_DIR selects the same directory; DATABASE_URL=sqlite://FILE the same file.
    let by_env = bare()
        .env("TAIZHANG_DATA_DIR", &dir)
        .arg("verify")
        .output()
        .unwrap();
    assert_eq!(by_env.status.code(), Some(0), "{}", text(&by_env));
    assert!(stderr(&by_env).contains(&file.display().to_string()));
    let by_url = bare()
        .env("DATABASE_URL", format!("sqlite://{}", file.display()))
        .arg("verify")
        .output()
        .unwrap();
    assert_eq!(by_url.status.code(), Some(0), "{}", text(&by_url));
    let err = stderr(&by_url);
    assert!(
        err.contains(&format!(
            "store: sqlite file {} (DATABASE_URL)",
            file.display()
        )),
        "{err}"
    );
    assert!(
        stdout(&by_url).contains(&format!("checked {events} events")),
        "{}",
        text(&by_url)
    );
}

#[test]
fn the_default_data_directory_is_taizhang_data_in_the_working_directory() {
    let tmp = TempDir::new();
    let out = bare().current_dir(&tmp.0).arg("migrate").output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let file = tmp.0.join("taizhang-data").join("taizhang.sqlite3");
    assert!(file.is_file(), "{} missing: {}", file.display(), text(&out));
    // Logged as an absolute path, so that it is clear which file it is.
    assert!(
        stderr(&out).contains(&file.display().to_string()),
        "{}",
        text(&out)
    );
}

#[test]
fn a_database_url_of_another_kind_or_an_unusable_data_dir_is_refused() {
    let tmp = TempDir::new();
    let out = bare()
        .env("DATABASE_URL", "mysql://root@127.0.0.1/taizhang")
        .arg("verify")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = stderr(&out);
    assert!(
        err.contains("DATABASE_URL") && err.contains("postgres://, postgresql:// or sqlite://"),
        "{err}"
    );
    assert!(
        !err.contains("root@"),
        "no URL echoed beyond its scheme: {err}"
    );

    // A data directory below a regular file cannot be made: the error names it.
    let blocker = tmp.0.join("a-file");
    std::fs::write(&blocker, b"").unwrap();
    let below = blocker.join("data");
    let out = in_dir(&below, &["migrate"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = stderr(&out);
    assert!(
        err.contains("cannot create the data directory")
            && err.contains(&below.display().to_string()),
        "{err}"
    );

    // Commands that need no store do not create the data directory.
    let unused = tmp.0.join("unused");
    let out = in_dir(&unused, &["schema"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!unused.exists());
}

#[test]
fn help_documents_the_data_directory() {
    let out = bare().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = stdout(&out);
    for needle in [
        "--data-dir",
        "TAIZHANG_DATA_DIR",
        "taizhang-data",
        "sqlite://",
    ] {
        assert!(help.contains(needle), "{needle} missing from:\n{help}");
    }
    // The help never shows the environment's URL (it may hold a password).
    let out = bare()
        .env("DATABASE_URL", "postgres://u:hunter2@db/tz")
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!stdout(&out).contains("hunter2"), "{}", stdout(&out));
}
