//! The attacks of issue 16 against the store, on PostgreSQL and on SQLite files: what `verify`
//! catches alone, and what it catches only with receipts kept outside the database.
//!
//! The attacker has the database owner's rights and the docs: they switch the append-only
//! triggers off, recompute every hash and seal with the published formulas, and cover their
//! tracks in the position counter where they can.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use eventstore::canonical_json::jsonb_text;
use eventstore::hash::{HashInput, ZERO_HASH, event_hash};
use eventstore::postgres::testing::TestDatabase;
use eventstore::sqlite::testing::{remove_store_files, temp_store_path, without_any_triggers};
use eventstore::verify::micros;
use eventstore::{
    AnyEventStore, Direction, EventStore, ExpectedVersion, NewEvent, PgEventStore,
    SqliteEventStore, VerifyReport,
};
use receipts::{Receipt, SealKey, Sealing, check};
use serde_json::json;

/// A store of either backend with the owner's raw SQL beside it.
struct Owned {
    store: AnyEventStore,
    cleanup: Cleanup,
}

enum Cleanup {
    Pg(TestDatabase),
    Sqlite(std::path::PathBuf),
}

async fn postgres() -> Owned {
    let db = TestDatabase::migrated().await;
    let store = PgEventStore::new(db.pool(4).await);
    Owned {
        store: store.into(),
        cleanup: Cleanup::Pg(db),
    }
}

async fn sqlite() -> Owned {
    let path = temp_store_path();
    let store = SqliteEventStore::open(&path, 4).await.unwrap();
    Owned {
        store: store.into(),
        cleanup: Cleanup::Sqlite(path),
    }
}

impl Owned {
    fn table(&self, name: &str) -> String {
        match self.cleanup {
            Cleanup::Pg(_) => format!("eventstore.{name}"),
            Cleanup::Sqlite(_) => name.to_owned(),
        }
    }

    fn bytes(&self, b: &[u8]) -> String {
        match self.cleanup {
            Cleanup::Pg(_) => format!("'\\x{}'::bytea", hex::encode(b)),
            Cleanup::Sqlite(_) => format!("X'{}'", hex::encode(b)),
        }
    }

    fn json(&self, text: &str) -> String {
        let quoted = format!("'{}'", text.replace('\'', "''"));
        match self.cleanup {
            Cleanup::Pg(_) => format!("{quoted}::jsonb"),
            Cleanup::Sqlite(_) => quoted,
        }
    }

    /// Runs `sql` as the owner with the append-only triggers off, in one transaction.
    async fn tamper(&self, sql: &str) {
        match &self.store {
            AnyEventStore::Postgres(s) => {
                let mut tx = s.pool().begin().await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "SET LOCAL session_replication_role = replica; {sql}"
                )))
                .execute(&mut *tx)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
                tx.commit().await.unwrap();
            }
            AnyEventStore::Sqlite(s) => without_any_triggers(s.pool(), sql).await,
        }
    }

    /// Also resets the position counter to the last stored event, as a careful attacker would.
    async fn reset_counter(&self) {
        match self.cleanup {
            Cleanup::Pg(_) => {
                self.tamper(
                    "SELECT CASE WHEN max(position) IS NULL \
                       THEN setval('eventstore.events_position_seq', 1, false) \
                       ELSE setval('eventstore.events_position_seq', max(position)) END \
                     FROM eventstore.events",
                )
                .await
            }
            Cleanup::Sqlite(_) => {
                self.tamper(
                    "UPDATE sqlite_sequence SET seq = (SELECT coalesce(max(position), 0) FROM events) \
                     WHERE name = 'events'",
                )
                .await
            }
        }
    }

    async fn done(self) {
        match self.cleanup {
            Cleanup::Pg(db) => {
                if let AnyEventStore::Postgres(s) = &self.store {
                    s.pool().close().await;
                }
                db.drop_database().await;
            }
            Cleanup::Sqlite(path) => {
                if let AnyEventStore::Sqlite(s) = &self.store {
                    s.pool().close().await;
                }
                remove_store_files(&path);
            }
        }
    }

    async fn append(&self, stream: &str, n: u64) {
        let events = (0..n)
            .map(|i| {
                NewEvent::new(
                    "Reported",
                    json!({ "amount_yuan": 1000 + i, "note": "月报" }),
                )
            })
            .collect();
        self.store
            .append(stream, ExpectedVersion::Any, events)
            .await
            .unwrap();
    }

    /// Seals once `events` events are visible in $all: on PostgreSQL other tests' open
    /// transactions can hold the visibility horizon (and with it what a seal may cover) back.
    async fn seal(&self, sealing: &Sealing, events: u64) -> Option<Receipt> {
        self.visible(events).await;
        sealing.seal(&self.store).await.unwrap()
    }

    async fn visible(&self, events: u64) {
        for _ in 0..1000 {
            if self.store.all_head().await.unwrap().events >= events {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("{events} events never became visible in $all");
    }

    async fn verify(&self) -> VerifyReport {
        self.store.verify().await.unwrap()
    }

    /// Rewrites event `version` of `stream` with `data`, recomputes the hash of it and of every
    /// later event of the stream, and the stream head: the chain checks out again.
    async fn rewrite_consistently(&self, stream: &str, version: u64, data: serde_json::Value) {
        let events = self
            .store
            .read_stream(stream, Direction::Forwards, 0, 1000)
            .await
            .unwrap();
        let mut prev = ZERO_HASH;
        let mut sql = String::new();
        for e in &events {
            let data_text = if e.version == version {
                jsonb_text(&data).unwrap()
            } else {
                jsonb_text(&e.data).unwrap()
            };
            if e.version < version {
                prev = e.hash;
                continue;
            }
            let hash = event_hash(
                &prev,
                &HashInput {
                    id: e.id,
                    stream,
                    version: e.version,
                    event_type: &e.event_type,
                    schema_version: e.schema_version,
                    data: &data_text,
                    metadata: &jsonb_text(&e.metadata).unwrap(),
                    recorded_at_micros: micros(e.recorded_at),
                },
            );
            sql.push_str(&format!(
                "UPDATE {} SET data = {}, hash = {} WHERE stream = '{stream}' AND version = {};\n",
                self.table("events"),
                self.json(&data_text),
                self.bytes(&hash),
                e.version
            ));
            prev = hash;
        }
        sql.push_str(&format!(
            "UPDATE {} SET last_hash = {} WHERE name = '{stream}';",
            self.table("streams"),
            self.bytes(&prev)
        ));
        self.tamper(&sql).await;
    }
}

fn sealing() -> Sealing {
    Sealing::new(Some(SealKey::generate().unwrap()), None)
}

/// Re-seal: one event of a sealed range rewritten, its stream's chain and the seal recomputed,
/// and a later seal chained to the forgery.
async fn reseal(owned: Owned) {
    let sealing = sealing();
    owned.append("project-a", 3).await;
    owned.append("project-b", 2).await;
    let kept = owned.seal(&sealing, 5).await.expect("seal 1");

    owned
        .rewrite_consistently(
            "project-a",
            1,
            json!({ "amount_yuan": 10_000_000, "note": "月报" }),
        )
        .await;
    owned
        .tamper(&format!("DELETE FROM {};", owned.table("seals")))
        .await;
    let forged = owned
        .seal(&Sealing::default(), 5)
        .await
        .expect("forged seal 1");
    assert_eq!((forged.seal_no, forged.to), (1, kept.to));
    owned.append("project-c", 2).await;
    owned.seal(&sealing, 7).await.expect("seal 2");

    // Without receipts: consistent.
    let report = owned.verify().await;
    assert!(report.is_ok(), "self-consistent: {:?}", report.mismatches);
    // With the receipt kept outside: caught.
    let found = check(
        &report,
        std::slice::from_ref(&kept),
        sealing.trusted().as_ref(),
    );
    assert!(!found.is_ok());
    let message = &found.outcomes[0].message_en;
    assert!(
        message.contains("seal 1 in the ledger differs"),
        "{message}"
    );
    assert!(message.contains("digest"), "{message}");
    owned.done().await;
}

/// Truncation: the newest events removed with their streams and their seal.
async fn truncation(owned: Owned) {
    let sealing = sealing();
    owned.append("project-a", 3).await;
    let first = owned.seal(&sealing, 3).await.expect("seal 1");
    owned.append("project-b", 4).await;
    let kept = owned.seal(&sealing, 7).await.expect("seal 2");
    owned
        .tamper(&format!(
            "DELETE FROM {e} WHERE stream = 'project-b'; DELETE FROM {s} WHERE name = 'project-b'; \
             DELETE FROM {seals} WHERE seal_no = 2;",
            e = owned.table("events"),
            s = owned.table("streams"),
            seals = owned.table("seals")
        ))
        .await;

    // Alone: SQLite's counter still says more rows were numbered; PostgreSQL's sequence may have
    // gaps for honest reasons, so there a truncation at a seal boundary is invisible.
    let report = owned.verify().await;
    match owned.cleanup {
        Cleanup::Sqlite(_) => {
            assert!(!report.is_ok());
            let text = report.first_mismatch().unwrap().to_string();
            assert!(text.contains("the newest events were removed"), "{text}");
        }
        Cleanup::Pg(_) => assert!(report.is_ok(), "{:?}", report.mismatches),
    }
    // A careful attacker resets the counter too: nothing left for verify alone.
    owned.reset_counter().await;
    let report = owned.verify().await;
    assert!(report.is_ok(), "{:?}", report.mismatches);
    assert_eq!(report.events, 3);

    // The receipt of seal 2 catches it; the one of seal 1 still matches.
    let found = check(&report, &[first, kept], sealing.trusted().as_ref());
    assert!(found.outcomes[0].ok, "{:?}", found.outcomes[0]);
    assert!(!found.outcomes[1].ok);
    let message = &found.outcomes[1].message_en;
    assert!(message.contains("the ledger's last seal is 1"), "{message}");
    owned.done().await;
}

/// An emptied store: every event, stream and seal removed.
async fn emptied(owned: Owned) {
    let sealing = sealing();
    owned.append("project-a", 5).await;
    let kept = owned.seal(&sealing, 5).await.expect("seal 1");
    owned
        .tamper(&format!(
            "DELETE FROM {}; DELETE FROM {}; DELETE FROM {};",
            owned.table("events"),
            owned.table("streams"),
            owned.table("seals")
        ))
        .await;

    // Alone: the position counter (SQLite's sqlite_sequence, PostgreSQL's sequence) remembers.
    let report = owned.verify().await;
    assert_eq!(report.events, 0);
    assert!(!report.is_ok());
    let text = report.first_mismatch().unwrap().to_string();
    assert!(text.contains("the store holds no events"), "{text}");
    // Reset too: "checked 0 events" is all verify alone can say.
    owned.reset_counter().await;
    let report = owned.verify().await;
    assert!(report.is_ok(), "{:?}", report.mismatches);

    let found = check(&report, &[kept], sealing.trusted().as_ref());
    assert!(!found.is_ok());
    let message = &found.outcomes[0].message_en;
    assert!(message.contains("the ledger is empty"), "{message}");
    assert!(found.outcomes[0].message_zh.contains("数据库被清空"));
    owned.done().await;
}

/// Receipts themselves: an altered receipt, and one signed by another key, are refused; an
/// unsigned one is only as good as where it was kept.
async fn receipts_themselves(owned: Owned) {
    let sealing = sealing();
    owned.append("project-a", 2).await;
    let good = owned.seal(&sealing, 2).await.expect("seal 1");
    let report = owned.verify().await;
    assert!(
        check(
            &report,
            std::slice::from_ref(&good),
            sealing.trusted().as_ref()
        )
        .is_ok()
    );

    let mut altered = good.clone();
    altered.event_count += 1;
    let found = check(&report, &[altered], None);
    assert!(
        found.outcomes[0]
            .message_en
            .contains("the receipt was altered")
    );

    let stranger = SealKey::generate().unwrap();
    let seal = &report.sealed[0];
    let foreign = Receipt::of(seal, Some(&stranger));
    let found = check(&report, &[foreign], sealing.trusted().as_ref());
    assert!(!found.is_ok());
    assert!(
        found.outcomes[0]
            .message_en
            .contains("not by this ledger's key"),
        "{:?}",
        found.outcomes[0]
    );

    let unsigned = Receipt::of(seal, None);
    let found = check(&report, &[unsigned], sealing.trusted().as_ref());
    assert!(found.is_ok());
    assert!(found.outcomes[0].message_en.contains("unsigned"));
    // The same seal and key always give the same receipt.
    assert_eq!(sealing.receipt(seal), good);
    owned.done().await;
}

#[tokio::test]
async fn reseal_postgres() {
    reseal(postgres().await).await;
}

#[tokio::test]
async fn reseal_sqlite() {
    reseal(sqlite().await).await;
}

#[tokio::test]
async fn truncation_postgres() {
    truncation(postgres().await).await;
}

#[tokio::test]
async fn truncation_sqlite() {
    truncation(sqlite().await).await;
}

#[tokio::test]
async fn emptied_postgres() {
    emptied(postgres().await).await;
}

#[tokio::test]
async fn emptied_sqlite() {
    emptied(sqlite().await).await;
}

#[tokio::test]
async fn receipts_postgres() {
    receipts_themselves(postgres().await).await;
}

#[tokio::test]
async fn receipts_sqlite() {
    receipts_themselves(sqlite().await).await;
}
