//! The conformance suite against PostgreSQL (needs a server, see DATABASE_URL in the README),
//! plus the PostgreSQL-only guarantees: triggers, the service role, checkpoints in a transaction.

use eventstore::conformance;
use eventstore::postgres::testing::PgHarness;

/// One test per conformance function, each on databases of its own.
macro_rules! conformance_tests {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $name() {
            let h = PgHarness::new();
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

/// The subscription and $all rules again, with NOTIFY sent inside each append's transaction
/// (the default coalesces notifications outside it).
mod notify_in_transaction {
    use eventstore::NotifyMode;
    use eventstore::conformance;
    use eventstore::postgres::testing::PgHarness;

    macro_rules! in_transaction_tests {
        ($($name:ident),* $(,)?) => {$(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let h = PgHarness::with_notify(NotifyMode::InTransaction);
                conformance::$name(&h).await;
                h.cleanup().await;
            }
        )*};
    }

    in_transaction_tests!(
        all_waits_for_open_transaction,
        subscription_catches_up_then_goes_live,
        subscription_survives_killed_connections,
        retry_is_idempotent,
    );
}

mod postgres_only {
    use eventstore::postgres::testing::TestDatabase;
    use eventstore::postgres::{load_checkpoint, migrate, save_checkpoint};
    use eventstore::{EventStore, ExpectedVersion, NewEvent, PgEventStore, Position};
    use serde_json::json;
    use sqlx::PgPool;

    async fn store_with_events() -> (TestDatabase, PgPool, PgEventStore) {
        let db = TestDatabase::migrated().await;
        let pool = db.pool(4).await;
        let store = PgEventStore::new(pool.clone());
        store
            .append(
                "project-1",
                ExpectedVersion::NoStream,
                vec![NewEvent::new("ProjectRegistered", json!({"name": "x"}))],
            )
            .await
            .unwrap();
        // A seal row too, so the seal table's protections are exercised on real data.
        // (It waits while other tests' transactions hold $all back; see read_all_settled.)
        for _ in 0..500 {
            if store.seal().await.unwrap().is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        (db, pool, store)
    }

    fn sqlstate(e: sqlx::Error) -> String {
        e.as_database_error()
            .and_then(|d| d.code())
            .map(|c| c.into_owned())
            .unwrap_or_else(|| panic!("not a database error: {e}"))
    }

    #[tokio::test]
    async fn triggers_refuse_update_delete_truncate_even_for_superuser() {
        let (db, pool, _store) = store_with_events().await;
        for sql in [
            "UPDATE eventstore.events SET data = '{}'",
            "DELETE FROM eventstore.events",
            "TRUNCATE eventstore.events",
            "UPDATE eventstore.seals SET event_count = 0",
            "DELETE FROM eventstore.seals",
            "TRUNCATE eventstore.seals",
        ] {
            let err = sqlx::query(sql).execute(&pool).await.expect_err(sql);
            assert_eq!(sqlstate(err), "TZ004", "{sql}");
        }
        pool.close().await;
        db.drop_database().await;
    }

    #[tokio::test]
    async fn service_role_appends_and_reads_but_cannot_rewrite() {
        let (db, pool, _store) = store_with_events().await;
        let mut tx = pool.begin().await.unwrap();
        sqlx::query("SET LOCAL ROLE taizhang_service")
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query(
            "SELECT * FROM eventstore.append('project-2', -1, ARRAY[gen_random_uuid()], \
             ARRAY['ProjectRegistered'], ARRAY[1], ARRAY['{}'::jsonb], ARRAY['{}'::jsonb])",
        )
        .fetch_all(&mut *tx)
        .await
        .unwrap();
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM eventstore.events")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(n, 2);
        save_checkpoint(&mut tx, "reporting", Position::new(1, 1))
            .await
            .unwrap();
        for sql in [
            "UPDATE eventstore.events SET data = '{}'",
            "DELETE FROM eventstore.events",
            "TRUNCATE eventstore.events",
            "UPDATE eventstore.seals SET event_count = 0",
            "DELETE FROM eventstore.seals",
            "ALTER TABLE eventstore.events DISABLE TRIGGER events_append_only",
            // No history written past the owner's functions (migration 0201): a backdated
            // event with a real clerk's actor and a made-up hash, a bogus seal, a stream head
            // moved, a position taken.
            "INSERT INTO eventstore.events (event_id, stream, version, category, event_type, \
             schema_version, data, metadata, recorded_at, hash) VALUES (gen_random_uuid(), \
             'project-1', 1, 'project', 'InvestmentReported', 1, '{}', '{\"actor\": \"张三 (clerk)\"}', \
             '2020-01-01', sha256('x'))",
            "INSERT INTO eventstore.seals VALUES (99, 0, 0, 0, 0, 0, sha256('a'), sha256('b'), \
             sha256('c'), now())",
            "UPDATE eventstore.streams SET version = version + 1",
            "INSERT INTO eventstore.streams (name, version, last_hash) VALUES ('project-9', 0, sha256('x'))",
            "SELECT nextval('eventstore.events_position_seq')",
        ] {
            sqlx::query("SAVEPOINT s").execute(&mut *tx).await.unwrap();
            let err = sqlx::query(sql).execute(&mut *tx).await.expect_err(sql);
            // 42501: insufficient privilege (refused before the trigger is even reached).
            assert_eq!(sqlstate(err), "42501", "{sql}");
            sqlx::query("ROLLBACK TO SAVEPOINT s")
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        // The functions are the way: the append above, and a seal computed from the events
        // (once other tests' transactions no longer hold $all back).
        let mut sealed = None;
        for _ in 0..500 {
            let mut tx = pool.begin().await.unwrap();
            sqlx::query("SET LOCAL ROLE taizhang_service")
                .execute(&mut *tx)
                .await
                .unwrap();
            sealed = sqlx::query_scalar::<_, i64>("SELECT event_count FROM eventstore.seal()")
                .fetch_optional(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            if sealed.is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(sealed, Some(1), "the service's own append is sealed");
        // What the service wrote through them verifies, seal included.
        let report = _store.verify().await.unwrap();
        assert!(report.is_ok(), "{report:?}");
        assert_eq!((report.events, report.seals), (2, 2));
        pool.close().await;
        db.drop_database().await;
    }

    #[tokio::test]
    async fn checkpoint_commits_and_rolls_back_with_the_consumers_writes() {
        let (db, pool, store) = store_with_events().await;
        sqlx::query("CREATE TABLE consumer_rows (id int)")
            .execute(&pool)
            .await
            .unwrap();
        let pos = Position::new(42, 7);

        let mut tx = pool.begin().await.unwrap();
        sqlx::query("INSERT INTO consumer_rows VALUES (1)")
            .execute(&mut *tx)
            .await
            .unwrap();
        save_checkpoint(&mut tx, "ledger", pos).await.unwrap();
        assert_eq!(load_checkpoint(&mut tx, "ledger").await.unwrap(), Some(pos));
        tx.rollback().await.unwrap();
        assert_eq!(store.load_checkpoint("ledger").await.unwrap(), None);

        let mut tx = pool.begin().await.unwrap();
        sqlx::query("INSERT INTO consumer_rows VALUES (1)")
            .execute(&mut *tx)
            .await
            .unwrap();
        save_checkpoint(&mut tx, "ledger", pos).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.load_checkpoint("ledger").await.unwrap(), Some(pos));
        let mut conn = pool.acquire().await.unwrap();
        save_checkpoint(&mut conn, "ledger", Position::new(43, 1))
            .await
            .unwrap();
        assert_eq!(
            load_checkpoint(&mut conn, "ledger").await.unwrap(),
            Some(Position::new(43, 1))
        );
        drop(conn);
        pool.close().await;
        db.drop_database().await;
    }

    /// An import is the owner's operation: the service role can neither take the import's locks
    /// nor call the import function, and the function refuses to run outside an import.
    #[tokio::test]
    async fn import_is_for_the_owner_only() {
        let db = TestDatabase::migrated().await;
        let pool = db.pool(2).await;
        let call = "SELECT eventstore.import_events(ARRAY[]::uuid[], ARRAY[]::text[], \
                    ARRAY[]::bigint[], ARRAY[]::text[], ARRAY[]::integer[], ARRAY[]::jsonb[], \
                    ARRAY[]::jsonb[], ARRAY[]::timestamptz[], ARRAY[]::bytea[])";
        let err = sqlx::query(call).execute(&pool).await.expect_err(call);
        assert_eq!(sqlstate(err), "TZ006");

        let mut tx = pool.begin().await.unwrap();
        sqlx::query("SET LOCAL ROLE taizhang_service")
            .execute(&mut *tx)
            .await
            .unwrap();
        for sql in [
            "LOCK TABLE eventstore.streams, eventstore.events, eventstore.seals IN EXCLUSIVE MODE",
            call,
        ] {
            sqlx::query("SAVEPOINT s").execute(&mut *tx).await.unwrap();
            let err = sqlx::query(sql).execute(&mut *tx).await.expect_err(sql);
            assert_eq!(sqlstate(err), "42501", "{sql}");
            sqlx::query("ROLLBACK TO SAVEPOINT s")
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        tx.rollback().await.unwrap();
        pool.close().await;
        db.drop_database().await;
    }

    #[tokio::test]
    async fn migrate_is_idempotent_and_creates_the_role_once() {
        let db = TestDatabase::empty().await;
        let pool = db.pool(2).await;
        migrate(&pool).await.unwrap();
        migrate(&pool).await.unwrap();
        let roles: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_roles WHERE rolname = 'taizhang_service' AND NOT rolcanlogin",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(roles, 1);
        pool.close().await;
        db.drop_database().await;
    }
}

/// verify against damage the stream chains alone would not show, and the periodic sealer.
mod seals {
    use std::time::Duration;

    use eventstore::postgres::testing::TestDatabase;
    use eventstore::{
        EventStore, ExpectedVersion, Filter, Mismatch, NewEvent, PgEventStore, Position,
    };
    use serde_json::json;

    async fn sealed_store(events: u64) -> (TestDatabase, PgEventStore) {
        let db = TestDatabase::migrated().await;
        let store = PgEventStore::new(db.pool(4).await);
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
        // The periodic sealer: wait until it has sealed everything (other tests' transactions
        // may hold $all back for a moment).
        let sealer = store.spawn_sealer(Duration::from_millis(20));
        for _ in 0..750 {
            let covered: Option<i64> =
                sqlx::query_scalar("SELECT sum(event_count)::bigint FROM eventstore.seals")
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
        (db, store)
    }

    async fn behind_the_trigger(store: &PgEventStore, table: &str, sql: &str) {
        let mut tx = store.pool().begin().await.unwrap();
        for statement in [
            format!("ALTER TABLE eventstore.{table} DISABLE TRIGGER USER"),
            sql.to_owned(),
            format!("ALTER TABLE eventstore.{table} ENABLE TRIGGER USER"),
        ] {
            sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
    }

    #[tokio::test]
    async fn a_rewritten_seal_is_named() {
        let (db, store) = sealed_store(6).await;
        behind_the_trigger(
            &store,
            "seals",
            "UPDATE eventstore.seals SET event_count = event_count + 1 WHERE seal_no = 1",
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
        store.pool().close().await;
        db.drop_database().await;
    }

    #[tokio::test]
    async fn a_consistently_rewritten_stream_is_caught_by_the_seal() {
        let (db, store) = sealed_store(6).await;
        // Rewrite project-1's last event and fix up its hash and the stream head, as someone who
        // knows the formula would: the chain checks out, the seal does not.
        let last = store
            .read_stream("project-1", eventstore::Direction::Backwards, u64::MAX, 1)
            .await
            .unwrap()
            .remove(0);
        let prev: Vec<u8> = sqlx::query_scalar(
            "SELECT hash FROM eventstore.events WHERE stream = 'project-1' AND version = $1",
        )
        .bind(last.version as i64 - 1)
        .fetch_one(store.pool())
        .await
        .unwrap();
        let data = json!({ "n": 1_000_000 });
        let forged = eventstore::hash::event_hash(
            &prev.try_into().unwrap(),
            &eventstore::hash::HashInput {
                id: last.id,
                stream: "project-1",
                version: last.version,
                event_type: "Reported",
                schema_version: 1,
                data: &data.to_string().replace(':', ": "),
                metadata: "{}",
                recorded_at_micros: eventstore::verify::micros(last.recorded_at),
            },
        );
        behind_the_trigger(
            &store,
            "events",
            &format!(
                "UPDATE eventstore.events SET data = '{data}', hash = '\\x{h}' WHERE event_id = '{id}'; \
                 UPDATE eventstore.streams SET last_hash = '\\x{h}' WHERE name = 'project-1'",
                h = hex::encode(forged),
                id = last.id
            ),
        )
        .await;
        let report = store.verify().await.unwrap();
        assert_eq!(report.mismatch_count, 1, "{:?}", report.mismatches);
        assert!(matches!(
            report.first_mismatch(),
            Some(Mismatch::Seal { .. })
        ));
        store.pool().close().await;
        db.drop_database().await;
    }

    #[tokio::test]
    async fn a_removed_last_event_is_caught_by_the_stream_head() {
        let (db, store) = sealed_store(4).await;
        let last = store
            .read_all(Position::START, &Filter::categories(["project"]), 100)
            .await
            .unwrap()
            .pop()
            .unwrap();
        behind_the_trigger(
            &store,
            "events",
            &format!(
                "DELETE FROM eventstore.events WHERE event_id = '{}'",
                last.id
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
        store.pool().close().await;
        db.drop_database().await;
    }
}
