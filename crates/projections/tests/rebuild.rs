//! Rebuilds against a real PostgreSQL: the rebuilt tables equal incremental processing, the old
//! tables serve reads until the swap, and a failed rebuild changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{Counter, Ctx, PoisonMode, fast_options};
use projections::{
    Projectors, RebuildOptions, RebuildPhase, RebuildProgress, RuntimeError, rebuild, shared,
};
use sqlx::{AssertSqlSafe, PgPool};

async fn scalar_i64(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(AssertSqlSafe(sql.to_owned()))
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn scalar_bool(pool: &PgPool, sql: &str) -> bool {
    sqlx::query_scalar(AssertSqlSafe(sql.to_owned()))
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Rows of `a` not in `b` plus rows of `b` not in `a` (0 when the contents are equal).
async fn difference(pool: &PgPool, a: &str, b: &str, columns: &str) -> i64 {
    scalar_i64(
        pool,
        &format!(
            "SELECT (SELECT count(*) FROM (SELECT {columns} FROM {a} EXCEPT ALL SELECT {columns} FROM {b}) x) \
                  + (SELECT count(*) FROM (SELECT {columns} FROM {b} EXCEPT ALL SELECT {columns} FROM {a}) y)"
        ),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rebuild_equals_incremental_while_old_tables_serve_reads() {
    let ctx = Ctx::new().await;
    ctx.create_tables("alpha").await;
    ctx.create_tables("beta").await;
    // A table outside the projection that references one of its tables: the swap must keep it.
    sqlx::query(
        "CREATE TABLE reporting.alpha_notes (stream text PRIMARY KEY \
         CONSTRAINT alpha_notes_stream_fkey REFERENCES reporting.alpha_counts (stream), note text)",
    )
    .execute(&ctx.pool)
    .await
    .unwrap();
    let positions = ctx.append("a", 3000, 13, &[]).await;

    // alpha and beta are the same projection under two names: beta only ever runs incrementally.
    let runners = Projectors::start(
        &ctx.store,
        vec![shared(Counter::new("alpha")), shared(Counter::new("beta"))],
        fast_options(),
    )
    .unwrap();
    let last = *positions.last().unwrap();
    ctx.wait("alpha", last).await;
    ctx.wait("beta", last).await;
    sqlx::query("INSERT INTO reporting.alpha_notes VALUES ('test-a0', 'first stream')")
        .execute(&ctx.pool)
        .await
        .unwrap();
    let old_oid = scalar_i64(
        &ctx.pool,
        "SELECT 'reporting.alpha_counts'::regclass::oid::bigint",
    )
    .await;

    // Events keep arriving during the rebuild.
    let writer = common::spawn_writer(&ctx.store, 15, 40, 3, Duration::from_millis(40));

    // A slow rebuild (20 ms a batch of 100), so that the test can look at the tables meanwhile.
    let (tx, mut reports) = tokio::sync::mpsc::unbounded_channel::<RebuildProgress>();
    let rebuilding = {
        let store = ctx.store.clone();
        tokio::spawn(async move {
            let counter = Counter::new("alpha").delay(Duration::from_millis(20));
            let options = RebuildOptions {
                batch_size: 100,
                progress_every: Duration::ZERO,
            };
            rebuild(&store, &counter, &options, |p| {
                let _ = tx.send(p.clone());
            })
            .await
        })
    };
    let mut checked_during = false;
    let mut phases = Vec::new();
    while let Some(report) = reports.recv().await {
        if !phases.contains(&report.phase) {
            phases.push(report.phase);
        }
        if report.phase == RebuildPhase::Replaying && report.events >= 500 && !checked_during {
            checked_during = true;
            // The live tables are the old ones, complete, and still served; the fresh ones fill.
            let oid = scalar_i64(
                &ctx.pool,
                "SELECT 'reporting.alpha_counts'::regclass::oid::bigint",
            )
            .await;
            assert_eq!(oid, old_oid);
            let live = scalar_i64(&ctx.pool, "SELECT count(*) FROM reporting.alpha_applied").await;
            assert!(live >= 3000, "live table still serves everything ({live})");
            let fresh = scalar_i64(
                &ctx.pool,
                "SELECT count(*) FROM reporting_rebuild_alpha.alpha_applied",
            )
            .await;
            assert!(fresh < live, "fresh {fresh} < live {live}");
            assert_eq!(ctx.status("alpha").await.state, "rebuilding");
            // One rebuild of a projection at a time.
            let second = rebuild(
                &ctx.store,
                &Counter::new("alpha"),
                &RebuildOptions::default(),
                |_| {},
            )
            .await;
            assert!(
                matches!(second, Err(RuntimeError::RebuildRunning(_))),
                "{second:?}"
            );
        }
    }
    let done = rebuilding.await.unwrap().unwrap();
    assert!(checked_during, "saw the rebuild replaying");
    assert_eq!(
        phases,
        [
            RebuildPhase::Replaying,
            RebuildPhase::Swapping,
            RebuildPhase::Done
        ]
    );
    assert!(done.events >= 3000);
    assert!(done.events_per_sec() > 0.0);

    // After the swap the live runner continues from the rebuilt position.
    let last = writer.await.unwrap();
    ctx.wait("alpha", last).await;
    ctx.wait("beta", last).await;
    let total = ctx.event_count().await;
    assert_eq!(total, 3600);
    assert_eq!(
        ctx.applied("alpha").await,
        (total, total, total),
        "nothing twice, nothing missed"
    );
    assert_eq!(
        difference(
            &ctx.pool,
            "reporting.alpha_counts",
            "reporting.beta_counts",
            "stream, events, last_version"
        )
        .await,
        0
    );
    assert_eq!(
        difference(
            &ctx.pool,
            "reporting.alpha_applied",
            "reporting.beta_applied",
            "event_id, stream, commit_pos, prepare_pos"
        )
        .await,
        0
    );

    // New tables, same shape: comments, grants, keys (inside the set and from outside it).
    let new_oid = scalar_i64(
        &ctx.pool,
        "SELECT 'reporting.alpha_counts'::regclass::oid::bigint",
    )
    .await;
    assert_ne!(new_oid, old_oid);
    assert!(scalar_bool(&ctx.pool, "SELECT obj_description('reporting.alpha_counts'::regclass, 'pg_class') = 'Events per stream (test).'").await);
    assert!(
        scalar_bool(
            &ctx.pool,
            "SELECT col_description('reporting.alpha_counts'::regclass, 2) = 'How many.'"
        )
        .await
    );
    assert!(
        scalar_bool(
            &ctx.pool,
            "SELECT has_table_privilege('taizhang_analytics', 'reporting.alpha_counts', 'SELECT')"
        )
        .await
    );
    assert!(
        scalar_bool(
            &ctx.pool,
            "SELECT has_table_privilege('taizhang_service', 'reporting.alpha_applied', 'INSERT')"
        )
        .await
    );
    assert!(
        !scalar_bool(
            &ctx.pool,
            "SELECT has_table_privilege('taizhang_analytics', 'reporting.alpha_applied', 'INSERT')"
        )
        .await
    );
    assert!(scalar_bool(&ctx.pool,
        "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE contype = 'f' \
         AND conrelid = 'reporting.alpha_applied'::regclass AND confrelid = 'reporting.alpha_counts'::regclass)").await);
    assert!(
        scalar_bool(
            &ctx.pool,
            "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'alpha_notes_stream_fkey' \
         AND confrelid = 'reporting.alpha_counts'::regclass)"
        )
        .await
    );
    assert!(scalar_bool(&ctx.pool, "SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = 'reporting' AND indexname = 'alpha_applied_event')").await);
    assert!(
        !scalar_bool(
            &ctx.pool,
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'reporting_rebuild_alpha')"
        )
        .await
    );
    let status = ctx.status("alpha").await;
    assert_eq!(status.state, "running");
    assert!(status.events_applied >= total);
    runners.shutdown().await;
    ctx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failed_rebuild_changes_nothing_and_a_fixed_one_clears_the_halt() {
    let ctx = Ctx::new().await;
    ctx.create_tables("alpha").await;
    let positions = ctx.append("a", 300, 3, &[150]).await;
    // The live runner halts on event 150.
    let runners = Projectors::start(
        &ctx.store,
        vec![shared(Counter::new("alpha").poison(PoisonMode::Named))],
        fast_options(),
    )
    .unwrap();
    for _ in 0..1200 {
        if projections::statuses(&ctx.pool)
            .await
            .unwrap()
            .iter()
            .any(|s| s.is_halted())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ctx.status("alpha").await.state, "halted");
    assert_eq!(ctx.applied("alpha").await, (150, 150, 150));

    // A rebuild with the same (broken) projection fails on the same event and changes nothing.
    let failed = rebuild(
        &ctx.store,
        &Counter::new("alpha").poison(PoisonMode::Named),
        &RebuildOptions::default(),
        |_| {},
    )
    .await;
    match failed {
        Err(RuntimeError::Poison { position, .. }) => assert_eq!(position, positions[150]),
        other => panic!("expected a poison error, got {other:?}"),
    }
    assert_eq!(ctx.applied("alpha").await, (150, 150, 150));
    assert_eq!(ctx.status("alpha").await.state, "halted");
    assert!(
        !scalar_bool(
            &ctx.pool,
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'reporting_rebuild_alpha')"
        )
        .await
    );

    // A fixed projection (it now digests the event) rebuilds, swaps in and clears the halt; the
    // live runner then carries on with new events.
    let fixed = rebuild(
        &ctx.store,
        &Counter::new("alpha"),
        &RebuildOptions::default(),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(fixed.events, 300);
    assert_eq!(fixed.position, *positions.last().unwrap());
    let status = ctx.status("alpha").await;
    assert_eq!(status.state, "running");
    assert_eq!(status.error, None);
    assert_eq!(status.events_applied, 300);
    assert_eq!(ctx.applied("alpha").await, (300, 300, 300));
    runners.abort();
    let runners = Projectors::start(
        &ctx.store,
        vec![shared(Counter::new("alpha"))],
        fast_options(),
    )
    .unwrap();
    let more = ctx.append("b", 20, 1, &[]).await;
    ctx.wait("alpha", *more.last().unwrap()).await;
    assert_eq!(ctx.applied("alpha").await, (320, 320, 320));
    runners.shutdown().await;
    ctx.finish().await;
}

/// Everything of the reporting schema's tables that a rebuild must keep: columns, constraints,
/// indexes, comments, grants (names and definitions, not object ids).
async fn reporting_signature(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT format('column %s.%s %s %s %s %s', c.table_name, c.column_name, c.data_type, c.is_nullable, \
                       coalesce(c.column_default, ''), \
                       coalesce(col_description(format('reporting.%I', c.table_name)::regclass, c.ordinal_position::int), '')) \
         FROM information_schema.columns c WHERE c.table_schema = 'reporting' \
         UNION ALL \
         SELECT format('constraint %s %s %s', t.relname, con.conname, pg_get_constraintdef(con.oid)) \
         FROM pg_constraint con JOIN pg_class t ON t.oid = con.conrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = 'reporting' \
         UNION ALL \
         SELECT format('index %s %s', indexname, indexdef) FROM pg_indexes WHERE schemaname = 'reporting' \
         UNION ALL \
         SELECT format('table %s %s %s', t.relname, coalesce(obj_description(t.oid, 'pg_class'), ''), \
                       (SELECT string_agg(format('%s:%s', g.grantee, g.privilege_type), ',' ORDER BY g.grantee, g.privilege_type) \
                        FROM information_schema.role_table_grants g \
                        WHERE g.table_schema = 'reporting' AND g.table_name = t.relname \
                          AND g.grantee IN ('taizhang_analytics', 'taizhang_service'))) \
         FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = 'reporting' AND t.relkind = 'r' \
         ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rebuilding_every_registered_projection_keeps_the_reporting_schema() {
    let ctx = Ctx::new().await;
    let before = reporting_signature(&ctx.pool).await;
    assert!(before.len() > 50, "the reporting schema is there");
    let all = projections::all(projections::system_clock());
    let done = projections::rebuild_all(&ctx.store, &all, &RebuildOptions::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(done.len(), all.len());
    let after = reporting_signature(&ctx.pool).await;
    let lost: Vec<_> = before.iter().filter(|l| !after.contains(l)).collect();
    let gained: Vec<_> = after.iter().filter(|l| !before.contains(l)).collect();
    assert!(
        lost.is_empty() && gained.is_empty(),
        "lost {lost:#?}\ngained {gained:#?}"
    );
    ctx.finish().await;
}
