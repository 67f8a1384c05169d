//! What the token code logs: never a token, always the reason and source of a refusal.
//!
//! A test binary of its own: `tracing`'s per-thread subscriber (`set_default`) races with the
//! global callsite cache when other tests of the same process hit the same log lines on other
//! threads first, so the capture could miss lines. Alone in its process, it sees them all.

use std::io::Write;
use std::sync::{Arc, Mutex};

mod common;

use auth::{NewToken, Role, Secret};
use common::Fixture;
use eventstore::Backend;

fn new_token(name: &str, role: Role, lifetime: time::Duration) -> NewToken {
    NewToken {
        name: name.into(),
        role,
        units: Vec::new(),
        lifetime,
    }
}

/// A `tracing` writer that keeps everything written to it.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn tokens_never_reach_the_log_but_failures_do_with_their_source() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    for backend in [Backend::Postgres, Backend::Sqlite] {
        // Each backend's lines on their own, so one cannot pass for the other.
        captured.0.lock().unwrap().clear();
        let (created, stranger) = log_a_token_life(backend).await;
        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        for secret in [created.secret.expose(), stranger.expose()] {
            assert!(
                !log.contains(&secret[3..]),
                "{backend}: a token leaked into the log"
            );
        }
        assert!(log.contains("[redacted]"));
        assert!(
            log.contains("unknown token") && log.contains("192.0.2.9"),
            "{backend}: {log}"
        );
        assert!(
            log.contains("revoked token") && log.contains(&created.info.token_id.to_string()),
            "{backend}: {log}"
        );
        assert!(
            log.contains("token created") && log.contains("token revoked"),
            "{backend}: {log}"
        );
    }
}

/// Creates, uses and revokes a token, and tries a stranger's; returns both secrets.
async fn log_a_token_life(backend: Backend) -> (auth::CreatedToken, Secret) {
    let fx = Fixture::new(backend).await;
    let tokens = fx.tokens();
    let created = tokens
        .create(
            new_token("logged", Role::Viewer, time::Duration::days(1)),
            "cli:root",
        )
        .await
        .unwrap();
    let source = Some("192.0.2.9".parse().unwrap());
    tokens
        .authenticate(Some(&created.secret), source)
        .await
        .unwrap();
    tracing::info!(token = ?created.secret, "a careless log line");
    let stranger = Secret::generate().unwrap();
    let _ = tokens.authenticate(Some(&stranger), source).await;
    tokens
        .revoke(created.info.token_id, "cli:root")
        .await
        .unwrap();
    let _ = tokens.authenticate(Some(&created.secret), source).await;
    fx.cleanup().await;
    (created, stranger)
}
