//! `taizhang tokens` end to end through the binary: create → list → revoke, with the printed token
//! checked against the token store before and after, on PostgreSQL and on the embedded SQLite
//! store of a data directory.

use std::path::PathBuf;
use std::process::{Command, Output};

use auth::{PgTokens, Role, Secret, Tokens};
use commands::{CommandHandler, Envelope};
use domain::unit::{Unit, UnitCommand, UnitCreated, UnitKind};
use eventstore::postgres::testing::TestDatabase;
use eventstore::{AnyEventStore, PgEventStore, SqliteEventStore};

/// Where the binary keeps its store in a test.
enum Target {
    Pg(TestDatabase),
    /// A data directory (no DATABASE_URL), removed at the end.
    Dir(PathBuf),
}

impl Target {
    fn run(&self, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_taizhang"));
        command
            .env_remove("DATABASE_URL")
            .env_remove("TAIZHANG_DATA_DIR")
            .env("RUST_LOG", "warn")
            .env("USER", "tester");
        match self {
            Target::Pg(db) => command.env("DATABASE_URL", &db.url),
            Target::Dir(dir) => command.arg("--data-dir").arg(dir),
        };
        command.args(args).output().expect("run taizhang")
    }

    /// The token store the binary writes, opened by the test itself.
    async fn tokens(&self) -> Tokens {
        match self {
            Target::Pg(db) => Tokens::Postgres(PgTokens::new(db.pool(2).await)),
            Target::Dir(dir) => {
                let store = SqliteEventStore::open(dir.join("taizhang.sqlite3"), 2)
                    .await
                    .unwrap();
                Tokens::for_store(&AnyEventStore::Sqlite(store))
            }
        }
    }

    /// Creates the units an editor token may name, through the command path as the API would.
    async fn create_units(&self, ids: &[&str]) {
        let store = match self {
            Target::Pg(db) => AnyEventStore::Postgres(PgEventStore::new(db.pool(2).await)),
            Target::Dir(dir) => AnyEventStore::Sqlite(
                SqliteEventStore::open(dir.join("taizhang.sqlite3"), 2)
                    .await
                    .unwrap(),
            ),
        };
        let handler = CommandHandler::new(store);
        for id in ids {
            let unit = domain::UnitId::parse(id).unwrap();
            let create = UnitCommand::Create(UnitCreated {
                name: format!("单位 {id}"),
                kind: UnitKind::Township,
                date: time::macros::date!(2026 - 01 - 05),
            });
            handler
                .handle::<Unit>(&unit.stream(), Envelope::new(*id, "tester", create))
                .await
                .unwrap();
        }
    }

    async fn finish(self) {
        match self {
            Target::Pg(db) => db.drop_database().await,
            Target::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
}

fn taizhang(db: &TestDatabase, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_taizhang"))
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .env("USER", "tester")
        .output()
        .expect("run taizhang")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn help_explains_tokens() {
    let help = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_taizhang"))
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        stdout(&out)
    };
    assert!(help(&["--help"]).contains("tokens"));
    let tokens = help(&["tokens", "--help"]);
    for needle in ["create", "list", "revoke"] {
        assert!(tokens.contains(needle), "{needle} missing from:\n{tokens}");
    }
    let create = help(&["tokens", "create", "--help"]);
    for needle in [
        "--name",
        "--role",
        "--unit",
        "--expires-in",
        "shown once",
        "--role admin",
    ] {
        assert!(create.contains(needle), "{needle} missing from:\n{create}");
    }
    assert!(help(&["tokens", "revoke", "--help"]).contains("rotate"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_list_revoke() {
    create_list_revoke_on(Target::Pg(TestDatabase::migrated().await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_list_revoke_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("tz-tokens-{}", uuid::Uuid::new_v4()));
    create_list_revoke_on(Target::Dir(dir)).await;
}

async fn create_list_revoke_on(db: Target) {
    // `tokens list` first: on a fresh data directory it also makes (and migrates) the store.

    let out = db.run(&["tokens", "list"]);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).contains("no tokens yet"), "{}", stdout(&out));
    let tokens = db.tokens().await;

    // First run: an admin token. stdout carries the token alone.
    let out = db.run(&[
        "tokens",
        "create",
        "--name",
        "系统管理员",
        "--role",
        "admin",
    ]);
    assert!(out.status.success(), "{out:?}");
    let admin = Secret::new(stdout(&out).trim());
    assert!(admin.is_well_formed(), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("shown only this once"),
        "{}",
        stderr(&out)
    );
    let who = tokens.authenticate(Some(&admin), None).await.unwrap();
    assert_eq!(who.role, Role::Admin);
    assert_eq!(who.name, "系统管理员");

    let editor_args = [
        "tokens",
        "create",
        "--name",
        "城关镇 张三",
        "--role",
        "editor",
        "--unit",
        "chengguan",
        "--unit",
        "dev-zone",
        // A Chinese day unit: its last character is multi-byte, which once panicked.
        "--expires-in",
        "14天",
    ];
    // A scope names units that exist: a typo would make a token refused on every write.
    let out = db.run(&editor_args);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(stdout(&out).is_empty(), "a token was printed: {out:?}");
    assert!(
        stderr(&out).contains("--unit chengguan: no such unit (单位不存在)"),
        "{}",
        stderr(&out)
    );
    db.create_units(&["chengguan", "dev-zone"]).await;
    let out = db.run(&editor_args);
    assert!(out.status.success(), "{out:?}");
    let editor = Secret::new(stdout(&out).trim());
    let who = tokens.authenticate(Some(&editor), None).await.unwrap();
    assert_eq!(
        who.units.iter().map(|u| u.as_str()).collect::<Vec<_>>(),
        ["chengguan", "dev-zone"]
    );

    let info = tokens
        .list()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.token_id == who.token_id)
        .unwrap();
    assert_eq!(info.expires_at - info.created_at, time::Duration::days(14));

    let out = db.run(&["tokens", "list"]);
    assert!(out.status.success(), "{out:?}");
    let listed = stdout(&out);
    let editor_id = who.token_id.to_string();
    assert!(listed.contains(&editor_id), "{listed}");
    assert!(
        listed.contains("城关镇 张三 [chengguan, dev-zone], by cli:tester"),
        "{listed}"
    );
    assert_eq!(listed.matches(" active ").count(), 2, "{listed}");
    // The list never shows a token.
    for secret in [&admin, &editor] {
        assert!(!listed.contains(&secret.expose()[3..]));
    }

    let out = db.run(&["tokens", "revoke", &editor_id]);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).contains("revoked token"), "{}", stdout(&out));
    // At once: the very next lookup refuses it.
    assert!(tokens.authenticate(Some(&editor), None).await.is_err());
    assert!(tokens.authenticate(Some(&admin), None).await.is_ok());
    let listed = stdout(&db.run(&["tokens", "list"]));
    assert!(listed.contains(" revoked "), "{listed}");
    assert!(listed.contains("revoked by cli:tester"), "{listed}");

    // Twice, or an unknown id: a clear error and exit code 2.
    let out = db.run(&["tokens", "revoke", &editor_id]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(stderr(&out).contains("already revoked"), "{}", stderr(&out));
    let out = db.run(&["tokens", "revoke", "00000000-0000-0000-0000-000000000000"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(stderr(&out).contains("no token"), "{}", stderr(&out));
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_with_the_reason() {
    let db = TestDatabase::migrated().await;
    for (args, says) in [
        (
            vec!["--name", "x", "--role", "editor"],
            "needs at least one unit",
        ),
        (
            vec!["--name", "x", "--role", "viewer", "--unit", "chengguan"],
            "editors only",
        ),
        (vec!["--name", "x", "--role", "root"], "unknown role"),
        (
            vec!["--name", "x", "--role", "viewer", "--expires-in", "forever"],
            "not a lifetime",
        ),
        (
            vec!["--name", "x", "--role", "viewer", "--expires-in", "3月"],
            "不是有效期",
        ),
        (
            vec!["--name", "x", "--role", "editor", "--unit", "County!"],
            "--unit County!",
        ),
    ] {
        let out = taizhang(&db, &[&["tokens", "create"][..], &args].concat());
        assert!(!out.status.success(), "{args:?}: {out:?}");
        assert!(stdout(&out).is_empty(), "{args:?} printed a token");
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
    assert!(
        PgTokens::new(db.pool(1).await)
            .list()
            .await
            .unwrap()
            .is_empty()
    );
    db.drop_database().await;

    // Before `migrate`: the message says what to do.
    let empty = TestDatabase::empty().await;
    let out = taizhang(&empty, &["tokens", "list"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        stderr(&out).contains("taizhang migrate"),
        "{}",
        stderr(&out)
    );
    empty.drop_database().await;
}
