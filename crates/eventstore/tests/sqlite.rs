//! The conformance suite against SQLite (store files under the system temp directory), plus the
//! SQLite-only guarantees: triggers, durability across reopening, two pools on one file,
//! checkpoints in a transaction, and verify against damage the chains alone would not show.

use eventstore::conformance;
use eventstore::sqlite::testing::SqliteHarness;

/// One test per conformance function, each on store files of its own.
macro_rules! conformance_tests {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $name() {
            let h = SqliteHarness::new();
            conformance::$name(&h).await;
            h.cleanup().await;
        }
    )*};
}

conformance_tests!(
    append_and_read_stream,
    expected_versions,
    refused_append_leaves_no_trace,
    multi_stream_append_is_atomic,
    concurrent_writers_race,
    retry_is_idempotent,
    same_id_other_content_is_refused,
    all_waits_for_open_transaction,
    all_skips_rolled_back_transaction,
    read_all_filters,
    subscription_catches_up_then_goes_live,
    subscription_survives_killed_connections,
    subscription_polls_without_notifications,
    filtered_subscription_goes_live,
    verify_and_seal_clean_store,
    verify_pinpoints_tampering,
    reserve_keys,
    upcasting_on_read,
    invalid_input_is_refused,
    import_into_empty_store,
    import_refuses_broken_chain_and_writes_nothing,
    import_locks_out_appends,
);

/// The store file: its settings, its triggers, durability across reopening, two pools on it.
mod sqlite_only {
    use std::collections::HashSet;
    use std::time::Duration;

    use eventstore::sqlite::testing::{remove_store_files, temp_store_path};
    use eventstore::sqlite::{load_checkpoint, save_checkpoint};
    use eventstore::{
        Direction, EventStore, ExpectedVersion, Filter, NewEvent, Position, SqliteEventStore,
    };
    use futures::StreamExt;
    use serde_json::json;

    fn event(n: u64) -> NewEvent {
        NewEvent::new(
            "Reported",
            json!({ "n": n, "text": "中文\n\"quoted\"", "x": 1.5e-7 }),
        )
        .with_metadata(json!({ "actor": "sqlite-test" }))
    }

    async fn all(store: &SqliteEventStore) -> Vec<eventstore::RecordedEvent> {
        let mut out = Vec::new();
        let mut from = Position::START;
        loop {
            let batch = store.read_all(from, &Filter::all(), 100).await.unwrap();
            let Some(last) = batch.last() else { break };
            from = last.position;
            out.extend(batch);
        }
        out
    }

    #[tokio::test]
    async fn settings_are_wal_full_sync_foreign_keys_and_busy_timeout() {
        let path = temp_store_path();
        let store = SqliteEventStore::open(&path, 2).await.unwrap();
        let mut conn = store.pool().acquire().await.unwrap();
        for (pragma, expected) in [
            ("journal_mode", "wal"),
            ("synchronous", "2"), // FULL
            ("foreign_keys", "1"),
            ("busy_timeout", "30000"),
        ] {
            let value: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT CAST((SELECT * FROM pragma_{pragma}) AS TEXT)"
            )))
            .fetch_one(&mut *conn)
            .await
            .unwrap();
            assert_eq!(value, expected, "{pragma}");
        }
        drop(conn);
        store.pool().close().await;
        remove_store_files(&path);
    }

    #[tokio::test]
    async fn triggers_refuse_update_and_delete() {
        let path = temp_store_path();
        let store = SqliteEventStore::open(&path, 2).await.unwrap();
        store
            .append("project-1", ExpectedVersion::NoStream, vec![event(0)])
            .await
            .unwrap();
        store.seal().await.unwrap().expect("a seal");
        for sql in [
            "UPDATE events SET data = '{}'",
            "DELETE FROM events WHERE version = 0",
            "DELETE FROM events",
            "UPDATE seals SET event_count = 0",
            "DELETE FROM seals",
        ] {
            let err = sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(store.pool())
                .await
                .expect_err(sql);
            assert!(err.to_string().contains("append-only"), "{sql}: {err}");
        }
        let report = store.verify().await.unwrap();
        assert!(report.is_ok(), "{:?}", report.mismatches);
        assert_eq!((report.events, report.seals), (1, 1));
        store.pool().close().await;
        remove_store_files(&path);
    }

    /// What was appended is there after the pool is closed and the file opened again (a restart);
    /// chains and seals continue where they were.
    #[tokio::test]
    async fn data_survives_close_and_reopen() {
        let path = temp_store_path();
        let store = SqliteEventStore::open(&path, 4).await.unwrap();
        for n in 0..10 {
            store
                .append(
                    &format!("project-{}", n % 3),
                    ExpectedVersion::Any,
                    vec![event(n)],
                )
                .await
                .unwrap();
        }
        store.seal().await.unwrap().expect("first seal");
        save_checkpoint(
            &mut store.pool().acquire().await.unwrap(),
            "ledger",
            Position::new(7, 7),
        )
        .await
        .unwrap();
        let before = all(&store).await;
        store.pool().close().await;

        let reopened = SqliteEventStore::open(&path, 4).await.unwrap();
        assert_eq!(all(&reopened).await, before);
        assert_eq!(
            reopened.load_checkpoint("ledger").await.unwrap(),
            Some(Position::new(7, 7))
        );
        let r = reopened
            .append("project-0", ExpectedVersion::Exact(3), vec![event(10)])
            .await
            .unwrap();
        assert_eq!(r.events[0].position, Position::new(11, 11));
        let s2 = reopened.seal().await.unwrap().expect("second seal");
        assert_eq!((s2.seal_no, s2.event_count), (2, 1));
        let report = reopened.verify().await.unwrap();
        assert!(report.is_ok(), "{:?}", report.mismatches);
        assert_eq!((report.events, report.streams, report.seals), (11, 3, 2));
        reopened.pool().close().await;
        remove_store_files(&path);
    }

    /// Two stores with pools of their own on one file, like two processes: they append at the same
    /// time to shared and own streams; nothing is lost or duplicated, $all is numbered 1..=n without
    /// gaps, every stream's versions are contiguous, and a subscription on one store sees the
    /// other's events (by polling: no wake-up crosses stores).
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn two_stores_on_one_file_append_concurrently() {
        let path = temp_store_path();
        let a = SqliteEventStore::open(&path, 4).await.unwrap();
        let b = SqliteEventStore::open(&path, 4).await.unwrap();
        let mut sub = a.subscribe_all(Position::START, Filter::all());
        let per_task = 25u64;
        let mut tasks = Vec::new();
        for (name, store) in [("a", a.clone()), ("b", b.clone())] {
            for t in 0..4u64 {
                let store = store.clone();
                tasks.push(tokio::spawn(async move {
                    for k in 0..per_task {
                        let n = t * 1000 + k;
                        let stream = if k % 2 == 0 {
                            "shared-1".to_owned()
                        } else {
                            format!("own-{name}{t}")
                        };
                        store
                            .append(&stream, ExpectedVersion::Any, vec![event(n), event(n)])
                            .await
                            .unwrap();
                    }
                }));
            }
        }
        for t in tasks {
            t.await.unwrap();
        }
        let total = 2 * 4 * per_task as usize * 2;
        let events = all(&b).await;
        assert_eq!(events.len(), total);
        let positions: Vec<i64> = events.iter().map(|e| e.position.prepare).collect();
        assert_eq!(positions, (1..=total as i64).collect::<Vec<_>>());
        let ids: HashSet<_> = events.iter().map(|e| e.id).collect();
        assert_eq!(ids.len(), total, "duplicated events");
        let shared = a
            .read_stream("shared-1", Direction::Forwards, 0, 10_000)
            .await
            .unwrap();
        assert_eq!(
            shared.iter().map(|e| e.version).collect::<Vec<_>>(),
            (0..shared.len() as u64).collect::<Vec<_>>()
        );
        let mut delivered = Vec::new();
        while delivered.len() < total {
            match tokio::time::timeout(Duration::from_secs(10), sub.next()).await {
                Ok(Some(Ok(e))) => delivered.push(e),
                other => panic!("subscription after {}: {other:?}", delivered.len()),
            }
        }
        assert_eq!(delivered, events);
        let report = a.verify().await.unwrap();
        assert!(report.is_ok(), "{:?}", report.mismatches);
        a.pool().close().await;
        b.pool().close().await;
        remove_store_files(&path);
    }

    #[tokio::test]
    async fn checkpoint_commits_and_rolls_back_with_the_consumers_writes() {
        let path = temp_store_path();
        let store = SqliteEventStore::open(&path, 2).await.unwrap();
        let pool = store.pool();
        sqlx::query("CREATE TABLE consumer_rows (id INTEGER)")
            .execute(pool)
            .await
            .unwrap();
        let pos = Position::new(42, 42);

        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.unwrap();
        sqlx::query("INSERT INTO consumer_rows VALUES (1)")
            .execute(&mut *tx)
            .await
            .unwrap();
        save_checkpoint(&mut tx, "ledger", pos).await.unwrap();
        assert_eq!(load_checkpoint(&mut tx, "ledger").await.unwrap(), Some(pos));
        tx.rollback().await.unwrap();
        assert_eq!(store.load_checkpoint("ledger").await.unwrap(), None);

        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.unwrap();
        sqlx::query("INSERT INTO consumer_rows VALUES (1)")
            .execute(&mut *tx)
            .await
            .unwrap();
        save_checkpoint(&mut tx, "ledger", pos).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.load_checkpoint("ledger").await.unwrap(), Some(pos));
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM consumer_rows")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(rows, 1);
        pool.close().await;
        remove_store_files(&path);
    }

    /// PostgreSQL refuses U+0000 in jsonb, so SQLite refuses it too: every SQLite event can move.
    #[tokio::test]
    async fn json_postgres_cannot_store_is_refused() {
        let path = temp_store_path();
        let store = SqliteEventStore::open(&path, 2).await.unwrap();
        let err = store
            .append(
                "project-1",
                ExpectedVersion::Any,
                vec![NewEvent::new("Bad", json!({ "name": "a\u{0}b" }))],
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, eventstore::StoreError::InvalidAppend(ref m) if m.contains("U+0000")),
            "{err}"
        );
        assert!(all(&store).await.is_empty());
        store.pool().close().await;
        remove_store_files(&path);
    }
}

/// Events move between the backends with their hashes: a SQLite history imported into
/// PostgreSQL verifies there (PostgreSQL recomputes nothing, but verify recomputes every hash over
/// its own jsonb text), and the other way round.
mod portable {
    use eventstore::postgres::testing::TestDatabase;
    use eventstore::sqlite::testing::{remove_store_files, temp_store_path};
    use eventstore::{
        EventStore, ExpectedVersion, Filter, ImportEvent, Importer, NewEvent, PgEventStore,
        Position, RecordedEvent, SqliteEventStore,
    };
    use serde_json::json;

    async fn fill<S: EventStore>(store: &S) -> Vec<RecordedEvent> {
        for n in 0..20u64 {
            let data = json!({
                "n": n,
                "amount": n as f64 * 1.25e-3,
                "big": 1e21,
                "name": "项目\t\"引号\"\\\u{1}é😀",
                "list": [u64::MAX, i64::MIN, null, true, {"zz": 1, "a": [], "": {}}],
            });
            store
                .append(
                    &format!("project-{}", n % 4),
                    ExpectedVersion::Any,
                    vec![
                        NewEvent::new("Reported", data)
                            .with_metadata(json!({"actor": "张三", "correlationId": n})),
                    ],
                )
                .await
                .unwrap();
        }
        settled(store, 20).await
    }

    /// $all once `n` events are visible (on PostgreSQL, other tests' open transactions may hold it
    /// back for a moment).
    async fn settled<S: EventStore>(store: &S, n: usize) -> Vec<RecordedEvent> {
        for _ in 0..500 {
            let events = store
                .read_all(Position::START, &Filter::all(), 1000)
                .await
                .unwrap();
            if events.len() >= n {
                return events;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("fewer than {n} events visible after 10 s");
    }

    async fn import<S: EventStore>(target: &S, events: &[RecordedEvent]) {
        let mut importer = target.begin_import().await.unwrap();
        importer
            .write(events.iter().cloned().map(ImportEvent::from).collect())
            .await
            .unwrap();
        importer.commit().await.unwrap();
        let report = target.verify().await.unwrap();
        assert!(report.is_ok(), "{:?}", report.mismatches);
        assert_eq!(report.events, 20);
    }

    fn hashes(events: &[RecordedEvent]) -> Vec<(uuid::Uuid, [u8; 32])> {
        events.iter().map(|e| (e.id, e.hash)).collect()
    }

    #[tokio::test]
    async fn sqlite_history_verifies_in_postgres_and_back() {
        let path = temp_store_path();
        let sqlite = SqliteEventStore::open(&path, 4).await.unwrap();
        let from_sqlite = fill(&sqlite).await;

        let db = TestDatabase::migrated().await;
        let pg = PgEventStore::new(db.pool(4).await);
        import(&pg, &from_sqlite).await;
        let in_pg = settled(&pg, 20).await;
        assert_eq!(hashes(&in_pg), hashes(&from_sqlite));
        // A new PostgreSQL append chains on the imported (SQLite-computed) hash.
        pg.append(
            "project-0",
            ExpectedVersion::Exact(4),
            vec![NewEvent::new("After", json!({}))],
        )
        .await
        .unwrap();
        assert!(pg.verify().await.unwrap().is_ok());

        // And a PostgreSQL history into a fresh SQLite store.
        let db2 = TestDatabase::migrated().await;
        let pg2 = PgEventStore::new(db2.pool(2).await);
        let pg_events = fill(&pg2).await;
        let path2 = temp_store_path();
        let sqlite2 = SqliteEventStore::open(&path2, 2).await.unwrap();
        import(&sqlite2, &pg_events).await;
        let back = sqlite2
            .read_all(Position::START, &Filter::all(), 1000)
            .await
            .unwrap();
        assert_eq!(hashes(&back), hashes(&pg_events));

        sqlite.pool().close().await;
        sqlite2.pool().close().await;
        remove_store_files(&path);
        remove_store_files(&path2);
        pg.pool().close().await;
        pg2.pool().close().await;
        db.drop_database().await;
        db2.drop_database().await;
    }
}

/// verify against damage the stream chains alone would not show, and the periodic sealer.
mod seals {
    use std::time::Duration;

    use eventstore::sqlite::testing::{remove_store_files, temp_store_path, without_triggers};
    use eventstore::{
        Direction, EventStore, ExpectedVersion, Filter, Mismatch, NewEvent, Position,
        SqliteEventStore,
    };
    use serde_json::json;

    async fn sealed_store(events: u64) -> (std::path::PathBuf, SqliteEventStore) {
        let path = temp_store_path();
        let store = SqliteEventStore::open(&path, 4).await.unwrap();
        for n in 0..events {
            store
                .append(
                    &format!("project-{}", n % 2),
                    ExpectedVersion::Any,
                    vec![NewEvent::new("Reported", json!({ "n": n }))],
                )
                .await
                .unwrap();
        }
        let sealer = store.spawn_sealer(Duration::from_millis(20));
        for _ in 0..500 {
            let covered: Option<i64> = sqlx::query_scalar("SELECT sum(event_count) FROM seals")
                .fetch_one(store.pool())
                .await
                .unwrap();
            if covered == Some(events as i64) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        sealer.abort();
        let report = store.verify().await.unwrap();
        assert!(report.is_ok(), "{:?}", report.mismatches);
        assert_eq!(report.events, events);
        assert!(report.seals >= 1);
        (path, store)
    }

    async fn done(path: std::path::PathBuf, store: SqliteEventStore) {
        store.pool().close().await;
        remove_store_files(&path);
    }

    #[tokio::test]
    async fn a_rewritten_seal_is_named() {
        let (path, store) = sealed_store(6).await;
        without_triggers(
            store.pool(),
            "seals",
            "UPDATE seals SET event_count = event_count + 1 WHERE seal_no = 1",
        )
        .await;
        let report = store.verify().await.unwrap();
        assert!(
            matches!(
                report.first_mismatch(),
                Some(Mismatch::Seal { seal_no: 1, .. })
            ),
            "{:?}",
            report.mismatches
        );
        done(path, store).await;
    }

    #[tokio::test]
    async fn a_consistently_rewritten_stream_is_caught_by_the_seal() {
        let (path, store) = sealed_store(6).await;
        // Rewrite project-1's last event and fix up its hash and the stream head, as someone who
        // knows the formula would: the chain checks out, the seal does not.
        let mut events = store
            .read_stream("project-1", Direction::Backwards, u64::MAX, 2)
            .await
            .unwrap();
        let (last, prev) = (events.remove(0), events.remove(0));
        let data = eventstore::canonical_json::jsonb_text(&json!({ "n": 1_000_000 })).unwrap();
        let forged = eventstore::hash::event_hash(
            &prev.hash,
            &eventstore::hash::HashInput {
                id: last.id,
                stream: "project-1",
                version: last.version,
                event_type: "Reported",
                schema_version: 1,
                data: &data,
                metadata: "{}",
                recorded_at_micros: eventstore::verify::micros(last.recorded_at),
            },
        );
        let h = hex::encode(forged);
        without_triggers(
            store.pool(),
            "events",
            &format!(
                "UPDATE events SET data = '{data}', hash = X'{h}' WHERE version = {} AND stream = 'project-1'; \
                 UPDATE streams SET last_hash = X'{h}' WHERE name = 'project-1'",
                last.version
            ),
        )
        .await;
        let report = store.verify().await.unwrap();
        assert_eq!(report.mismatch_count, 1, "{:?}", report.mismatches);
        assert!(matches!(
            report.first_mismatch(),
            Some(Mismatch::Seal { .. })
        ));
        done(path, store).await;
    }

    #[tokio::test]
    async fn a_removed_last_event_is_caught_by_the_stream_head() {
        let (path, store) = sealed_store(4).await;
        let last = store
            .read_all(Position::START, &Filter::categories(["project"]), 100)
            .await
            .unwrap()
            .pop()
            .unwrap();
        without_triggers(
            store.pool(),
            "events",
            &format!(
                "DELETE FROM events WHERE position = {}",
                last.position.prepare
            ),
        )
        .await;
        let report = store.verify().await.unwrap();
        assert!(
            report
                .mismatches
                .iter()
                .any(|m| matches!(m, Mismatch::Stream { stream, .. } if *stream == last.stream)),
            "{:?}",
            report.mismatches
        );
        assert!(
            report
                .mismatches
                .iter()
                .any(|m| matches!(m, Mismatch::Seal { .. }))
        );
        // The removed number is never handed out again (AUTOINCREMENT): a consumer that had read
        // it cannot skip the next event.
        let next = store
            .append(
                "project-9",
                ExpectedVersion::Any,
                vec![NewEvent::new("After", json!({}))],
            )
            .await
            .unwrap();
        assert!(next.events[0].position > last.position);
        done(path, store).await;
    }
}

/// The harness's stand-in for killed connections really replaces them: a connection marked before
/// the kill (a temporary table exists only on its own connection) is never handed out again.
#[tokio::test]
async fn harness_kill_replaces_every_pooled_connection() {
    use eventstore::conformance::Harness;
    let h = SqliteHarness::new();
    let store = h.fresh().await;
    {
        let mut conns = Vec::new();
        for _ in 0..8 {
            let mut c = store.pool().acquire().await.unwrap();
            sqlx::query("CREATE TEMP TABLE marker (x INTEGER)")
                .execute(&mut *c)
                .await
                .unwrap();
            conns.push(c);
        }
    }
    h.kill_connections(&store).await;
    let mut conns = Vec::new();
    for _ in 0..8 {
        let mut c = store.pool().acquire().await.unwrap();
        let marked: i64 =
            sqlx::query_scalar("SELECT count(*) FROM temp.sqlite_master WHERE name = 'marker'")
                .fetch_one(&mut *c)
                .await
                .unwrap();
        assert_eq!(marked, 0, "a connection from before the kill was reused");
        conns.push(c);
    }
    drop(conns);
    h.cleanup().await;
}

/// A caller's own write transaction (`begin_write`, what API tokens use): its rows and its appends
/// commit together or, dropped, not at all; it holds the writer queue, so an append elsewhere in
/// the process waits and is numbered after it; its commit wakes this process's subscribers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_transaction_commits_rows_and_events_together() {
    use std::time::Duration;

    use eventstore::sqlite::testing::{remove_store_files, temp_store_path};
    use eventstore::{
        EventStore, ExpectedVersion, Filter, NewEvent, SqliteEventStore, SqliteStoreOptions,
    };
    use futures::StreamExt;
    use serde_json::json;

    let path = temp_store_path();
    // Subscribers poll only once a minute: an event seen sooner came by the commit's wake-up.
    let store = SqliteEventStore::open(&path, 4)
        .await
        .unwrap()
        .with_options(SqliteStoreOptions {
            poll_interval: Duration::from_secs(60),
            ..SqliteStoreOptions::default()
        });
    sqlx::query("CREATE TABLE side (k TEXT PRIMARY KEY)")
        .execute(store.pool())
        .await
        .unwrap();
    let count = |sql: &'static str| {
        let pool = store.pool().clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };

    {
        let mut write = store.begin_write().await.unwrap();
        sqlx::query("INSERT INTO side VALUES ('lost')")
            .execute(write.conn())
            .await
            .unwrap();
        write
            .append(
                "thing-1",
                ExpectedVersion::NoStream,
                vec![NewEvent::new("Lost", json!({}))],
            )
            .await
            .unwrap();
        // Dropped without commit.
    }
    assert_eq!(count("SELECT count(*) FROM side").await, 0);
    assert_eq!(count("SELECT count(*) FROM events").await, 0);

    let mut write = store.begin_write().await.unwrap();
    sqlx::query("INSERT INTO side VALUES ('kept')")
        .execute(write.conn())
        .await
        .unwrap();
    let mine = write
        .append(
            "thing-1",
            ExpectedVersion::NoStream,
            vec![NewEvent::new("Kept", json!({}))],
        )
        .await
        .unwrap();
    let other = tokio::spawn({
        let store = store.clone();
        async move {
            store
                .append(
                    "thing-2",
                    ExpectedVersion::NoStream,
                    vec![NewEvent::new("After", json!({}))],
                )
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !other.is_finished(),
        "an append slipped past the open write"
    );
    assert_eq!(
        count("SELECT count(*) FROM events").await,
        0,
        "not committed yet"
    );
    write.commit().await.unwrap();
    let after = other.await.unwrap().unwrap();
    assert_eq!(mine.events[0].position.prepare, 1);
    assert_eq!(after.events[0].position.prepare, 2);
    assert_eq!(count("SELECT count(*) FROM side").await, 1);

    // A subscriber already waiting (caught up) receives what a write commits at once.
    let mut sub = store.subscribe_all(after.events[0].position, Filter::all());
    let next =
        tokio::spawn(
            async move { tokio::time::timeout(Duration::from_secs(10), sub.next()).await },
        );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut write = store.begin_write().await.unwrap();
    write
        .append(
            "thing-3",
            ExpectedVersion::NoStream,
            vec![NewEvent::new("Woken", json!({}))],
        )
        .await
        .unwrap();
    write.commit().await.unwrap();
    let woken = next
        .await
        .unwrap()
        .expect("woken by the commit, not by a poll")
        .expect("an event")
        .unwrap();
    assert_eq!(woken.event_type, "Woken");
    let report = store.verify().await.unwrap();
    assert!(report.is_ok(), "{:?}", report.mismatches);
    store.pool().close().await;
    remove_store_files(&path);
}
