//! Seal receipts through the binary, on a SQLite data directory and on PostgreSQL: `keys init`
//! (a 0600 file, never overwritten), every CLI write leaves the ledger sealed with its receipt in
//! the receipts file, `verify` without receipts says it checks self-consistency only, and with
//! them (given, or from the receipts file) proves the ledger still holds what they cover.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use eventstore::postgres::testing::TestDatabase;

/// Where a test's store is.
enum Store {
    Sqlite(PathBuf),
    Pg(TestDatabase),
}

struct Run {
    store: Store,
    dir: PathBuf,
}

impl Run {
    fn new(store: impl FnOnce(&Path) -> Store) -> Run {
        let dir = std::env::temp_dir().join(format!("tz-receipts-cli-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        Run {
            store: store(&dir),
            dir,
        }
    }

    fn key(&self) -> PathBuf {
        self.dir.join("seal.key")
    }

    fn receipts(&self) -> PathBuf {
        self.dir.join("receipts.jsonl")
    }

    fn taizhang(&self, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_taizhang"));
        command
            .env_remove("DATABASE_URL")
            .env_remove("TAIZHANG_DATA_DIR")
            .env_remove("TAIZHANG_SEAL_KEY")
            .env("RUST_LOG", "warn")
            .env("TAIZHANG_SEAL_KEY_FILE", self.key())
            .env("TAIZHANG_RECEIPTS_FILE", self.receipts());
        match &self.store {
            Store::Sqlite(data) => command.arg("--data-dir").arg(data),
            Store::Pg(db) => command.env("DATABASE_URL", &db.url),
        };
        command.args(args).output().expect("run taizhang")
    }
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

fn receipt_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

async fn scenario(run: Run) {
    // keys init: a new file readable by its owner only; never overwritten.
    let out = run.taizhang(&["keys", "init"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(stdout(&out).contains("key id / 密钥编号"), "{}", text(&out));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(run.key()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let before = std::fs::read(run.key()).unwrap();
    let again = run.taizhang(&["keys", "init"]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(text(&again).contains("already exists"), "{}", text(&again));
    assert_eq!(std::fs::read(run.key()).unwrap(), before);
    let shown = run.taizhang(&["keys", "show"]);
    let key_id = stdout(&shown)
        .lines()
        .find_map(|l| l.strip_prefix("key id / 密钥编号: "))
        .expect("key id")
        .to_owned();

    // The demo leaves the ledger sealed, its receipt signed and recorded.
    let demo = run.taizhang(&["demo"]);
    assert!(demo.status.success(), "{}", text(&demo));
    assert!(
        text(&demo).contains("sealed: seal 1 covers"),
        "{}",
        text(&demo)
    );
    let recorded = receipt_lines(&run.receipts());
    assert!(!recorded.is_empty());
    assert_eq!(recorded[0]["sealNo"], 1);
    assert_eq!(recorded[0]["keyId"], key_id.as_str());
    // On SQLite the demo's seal covers everything; on PostgreSQL a seal covers what is visible in
    // $all, which other sessions' open transactions on the server can hold back for a moment.
    let mut settled = false;
    for _ in 0..500 {
        let sealed = run.taizhang(&["seal"]);
        assert!(sealed.status.success(), "{}", text(&sealed));
        if stdout(&sealed).contains("nothing new to seal") {
            settled = true;
            break;
        }
        assert!(matches!(run.store, Store::Pg(_)), "{}", text(&sealed));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(settled);
    let sealed = receipt_lines(&run.receipts()).len();

    // Another CLI write (a token) is sealed too.
    let token = run.taizhang(&["tokens", "create", "--name", "auditor", "--role", "auditor"]);
    assert!(token.status.success(), "{}", text(&token));
    assert!(text(&token).contains("sealed: seal"), "{}", text(&token));
    let before = sealed;
    let sealed = receipt_lines(&run.receipts()).len();
    assert!(sealed > before, "the token's event was sealed");

    // Verify uses the receipts file when given no receipt.
    let verified = run.taizhang(&["verify"]);
    assert_eq!(verified.status.code(), Some(0), "{}", text(&verified));
    let out = stdout(&verified);
    assert!(out.contains("using the receipts in"), "{out}");
    assert!(out.contains("receipt ok: receipt for seal 1"), "{out}");
    assert!(out.contains(&format!("signed by key {key_id}")), "{out}");
    assert!(
        out.contains(&format!("and with all {sealed} receipts")),
        "{out}"
    );

    // Without any receipt it says plainly what it cannot see, in English and Chinese.
    std::fs::rename(run.receipts(), run.dir.join("kept.jsonl")).unwrap();
    let alone = run.taizhang(&["verify"]);
    assert_eq!(alone.status.code(), Some(0), "{}", text(&alone));
    assert!(
        stdout(&alone).contains("checks self-consistency only"),
        "{}",
        text(&alone)
    );
    assert!(
        stdout(&alone).contains("本次只校验数据库自身是否一致"),
        "{}",
        text(&alone)
    );

    // A receipt given on the command line; one altered by hand is refused.
    let kept = run.dir.join("kept.jsonl");
    let given = run.taizhang(&["verify", "--receipt", kept.to_str().unwrap()]);
    assert_eq!(given.status.code(), Some(0), "{}", text(&given));
    let mut first = receipt_lines(&kept).remove(0);
    first["eventCount"] = serde_json::json!(first["eventCount"].as_u64().unwrap() - 1);
    let altered = run.dir.join("altered.json");
    std::fs::write(&altered, serde_json::to_string_pretty(&first).unwrap()).unwrap();
    let refused = run.taizhang(&["verify", "--receipt", altered.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        stdout(&refused).contains("RECEIPT MISMATCH"),
        "{}",
        text(&refused)
    );
    assert!(
        stdout(&refused).contains("the receipt was altered"),
        "{}",
        text(&refused)
    );

    if let Store::Pg(db) = &run.store {
        db.drop_database().await;
    }
    let _ = std::fs::remove_dir_all(&run.dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_on_a_sqlite_data_directory() {
    scenario(Run::new(|dir| Store::Sqlite(dir.join("data")))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_on_postgres() {
    let db = TestDatabase::migrated().await;
    scenario(Run::new(|_| Store::Pg(db))).await;
}
