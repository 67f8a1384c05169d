//! What an operator meets running the binary: logs in a file are plain text with readable
//! values, a closed pipe is not a crash, and the SQLite store file is private to its owner.

use std::io::Read;
use std::process::{Command, Stdio};

fn taizhang(dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_taizhang"));
    command
        .env_remove("DATABASE_URL")
        .env_remove("TAIZHANG_DATA_DIR")
        .env("RUST_LOG", "info")
        .arg("--data-dir")
        .arg(dir);
    command
}

#[test]
fn logs_to_a_file_are_plain_and_the_store_file_is_private() {
    let dir = std::env::temp_dir().join(format!("tz_operator_{}", uuid::Uuid::new_v4()));
    // stderr is a pipe here, as it is for a log file or a collector.
    let out = taizhang(&dir)
        .arg("demo")
        .output()
        .expect("run taizhang demo");
    assert!(out.status.success(), "{out:?}");
    let logs = String::from_utf8_lossy(&out.stderr);
    assert!(
        !logs.contains('\u{1b}'),
        "colour codes in a log file: {logs}"
    );
    assert!(logs.contains("demo county seeded"), "{logs}");
    assert!(logs.contains("units=5"), "values as fields: {logs}");
    for debug in ["Summary {", "Some(", "Position {"] {
        assert!(
            !logs.contains(debug),
            "a Rust debug structure ({debug}) in: {logs}"
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let file = dir.join("taizhang.sqlite3");
        let mode = std::fs::metadata(&file)
            .expect("the store file")
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "{} is {:o}",
            file.display(),
            mode & 0o777
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_closed_pipe_ends_the_schema_quietly() {
    // `taizhang schema | head -c 100`: the reader goes away after a few bytes.
    let mut child = Command::new(env!("CARGO_BIN_EXE_taizhang"))
        .arg("schema")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run taizhang schema");
    let mut first = [0u8; 100];
    child
        .stdout
        .take()
        .expect("stdout")
        .read_exact(&mut first)
        .expect("the schema's start");
    // The pipe is closed here, when the reader is dropped.
    let out = child.wait_with_output().expect("taizhang schema ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
}
