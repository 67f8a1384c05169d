//! `taizhang healthcheck` against the real `taizhang serve`, configured as in the container image:
//! both read TAIZHANG_LISTEN, the server listening on every interface (0.0.0.0). Exit code 0 while
//! the server runs, 1 once it has stopped — what Docker's HEALTHCHECK and the compose file rely on.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use eventstore::postgres::testing::TestDatabase;

fn healthcheck(listen: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_taizhang"))
        .arg("healthcheck")
        .env("TAIZHANG_LISTEN", listen)
        // It needs no database: a wrong URL must not matter.
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .output()
        .expect("run taizhang healthcheck")
}

/// A port free at the time of asking (the server binds it right after).
fn free_port() -> u16 {
    std::net::TcpListener::bind("0.0.0.0:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthcheck_follows_the_server() {
    let db = TestDatabase::migrated().await;
    let listen = format!("0.0.0.0:{}", free_port());
    let before = healthcheck(&listen);
    assert_eq!(before.status.code(), Some(1), "nothing listens yet");

    let mut server = Command::new(env!("CARGO_BIN_EXE_taizhang"))
        .arg("serve")
        .env("TAIZHANG_LISTEN", &listen)
        .env("DATABASE_URL", &db.url)
        .stderr(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("run taizhang serve");

    // As Docker does: run the check until it passes (start period), here within 60 s.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let check = healthcheck(&listen);
        if check.status.code() == Some(0) {
            break;
        }
        assert_eq!(
            check.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&check.stderr)
        );
        assert!(
            server.try_wait().expect("wait").is_none(),
            "the server exited"
        );
        assert!(Instant::now() < deadline, "never healthy on {listen}");
        std::thread::sleep(Duration::from_millis(200));
    }

    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let stopped = server.wait().expect("the server stops after SIGTERM");
    assert!(stopped.success(), "{stopped}");

    let after = healthcheck(&listen);
    assert_eq!(after.status.code(), Some(1), "Docker reads 1 as unhealthy");
    let message = String::from_utf8_lossy(&after.stderr);
    assert!(
        message.contains("unhealthy") && message.contains("/healthz"),
        "{message}"
    );
    db.drop_database().await;
}
