//! Tokens against real databases: create, authenticate, expire, revoke (both at once), hash-only
//! storage, the audit events, the table's guard against anything but a revocation, and token
//! writes beside appends. One suite, instantiated on PostgreSQL and on SQLite (`postgres::…` and
//! `sqlite::…`, see `common`); then what the PostgreSQL roles may do with `auth.tokens` (SQLite has
//! no roles).
//!
//! The event store's own role restrictions (taizhang_service cannot update or delete events) are
//! tested in crates/eventstore/tests/postgres.rs (`service_role_appends_and_reads_but_cannot_rewrite`,
//! `triggers_refuse_update_delete_truncate_even_for_superuser`); the analytics role's (reads
//! `reporting` only, writes nothing) in crates/projections/tests/analytics_role.rs. Here: the
//! same roles against the `auth` schema.

mod common;

use std::time::Duration;

use auth::{AuthError, NewToken, PgTokens, Role, Secret, TokenError, TokenStatus, Tokens};
use common::Fixture;
use domain::UnitId;
use eventstore::postgres::testing::TestDatabase;
use eventstore::{Backend, Direction, EventStore, ExpectedVersion, Filter, NewEvent, Position};
use sqlx::PgPool;

on_both_backends!(
    create_then_authenticate_as_the_token,
    missing_malformed_and_unknown_tokens_are_all_just_unauthenticated,
    revocation_takes_effect_at_the_next_request,
    expiry_takes_effect_at_the_moment,
    any_active_counts_only_tokens_that_could_get_in,
    only_the_hash_is_stored_and_the_log_records_who_without_the_secret,
    refused_requests_write_nothing,
    stored_tokens_are_only_ever_revoked,
    a_token_whose_event_cannot_be_written_is_not_written_either,
    token_writes_and_appends_interleave_without_gaps,
);

fn new_token(name: &str, role: Role, units: &[&str], lifetime: time::Duration) -> NewToken {
    NewToken {
        name: name.into(),
        role,
        units: units.iter().map(|u| UnitId::parse(u).unwrap()).collect(),
        lifetime,
    }
}

fn is_unauthenticated(r: Result<auth::Identity, AuthError>) -> bool {
    matches!(r, Err(AuthError::Unauthenticated))
}

async fn create_then_authenticate_as_the_token(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let tokens = fx.tokens();
    assert_eq!(tokens.backend(), backend);
    let created = tokens
        .create(
            new_token(
                "城关镇 填报",
                Role::Editor,
                &["chengguan", "a-town"],
                time::Duration::days(90),
            ),
            "cli:root",
        )
        .await
        .unwrap();
    assert!(created.secret.is_well_formed());
    assert_eq!(created.info.role, Role::Editor);
    assert_eq!(created.info.created_by, "cli:root");
    assert_eq!(created.info.revoked_at, None);
    let lifetime = created.info.expires_at - created.info.created_at;
    assert_eq!(lifetime, time::Duration::days(90));
    // What `create` answered is what is stored, to the microsecond.
    assert_eq!(tokens.list().await.unwrap(), vec![created.info.clone()]);

    let who = tokens
        .authenticate(Some(&created.secret), None)
        .await
        .unwrap();
    assert_eq!(who.token_id, created.info.token_id);
    assert_eq!(who.role, Role::Editor);
    assert_eq!(
        who.units,
        vec![
            UnitId::parse("a-town").unwrap(),
            UnitId::parse("chengguan").unwrap()
        ]
    );
    assert_eq!(
        who.actor(),
        format!("城关镇 填报 ({})", created.info.token_id)
    );
    fx.cleanup().await;
}

async fn missing_malformed_and_unknown_tokens_are_all_just_unauthenticated(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let tokens = fx.tokens();
    let source = Some("10.0.0.7".parse().unwrap());
    assert!(is_unauthenticated(tokens.authenticate(None, source).await));
    assert!(is_unauthenticated(
        tokens
            .authenticate(Some(&Secret::new("let me in")), source)
            .await
    ));
    assert!(is_unauthenticated(
        tokens
            .authenticate(Some(&Secret::new("tz_' OR 1=1 --")), source)
            .await
    ));
    let stranger = Secret::generate().unwrap();
    assert!(is_unauthenticated(
        tokens.authenticate(Some(&stranger), source).await
    ));
    fx.cleanup().await;
}

async fn revocation_takes_effect_at_the_next_request(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let tokens = fx.tokens();
    let created = tokens
        .create(
            new_token("ops", Role::Admin, &[], time::Duration::days(1)),
            "cli:root",
        )
        .await
        .unwrap();
    // A second process with its own pool sees the same: there is no cache to invalidate.
    let elsewhere = Tokens::new(fx.other_process().await);
    assert!(
        elsewhere
            .authenticate(Some(&created.secret), None)
            .await
            .is_ok()
    );

    let revoked = tokens
        .revoke(created.info.token_id, "ops (someone)")
        .await
        .unwrap();
    assert!(revoked.revoked_at.is_some());
    assert_eq!(revoked.revoked_by.as_deref(), Some("ops (someone)"));
    assert_eq!(
        revoked.status(time::OffsetDateTime::now_utc()),
        TokenStatus::Revoked
    );
    assert_eq!(elsewhere.list().await.unwrap(), vec![revoked.clone()]);
    assert!(is_unauthenticated(
        tokens.authenticate(Some(&created.secret), None).await
    ));
    assert!(is_unauthenticated(
        elsewhere.authenticate(Some(&created.secret), None).await
    ));

    assert!(matches!(
        tokens.revoke(created.info.token_id, "ops").await,
        Err(TokenError::AlreadyRevoked(_))
    ));
    assert!(matches!(
        elsewhere.revoke(created.info.token_id, "ops").await,
        Err(TokenError::AlreadyRevoked(_))
    ));
    assert!(matches!(
        tokens.revoke(uuid::Uuid::new_v4(), "ops").await,
        Err(TokenError::NotFound(_))
    ));
    assert!(matches!(
        tokens.revoke(created.info.token_id, "  ").await,
        Err(TokenError::Invalid {
            field: "revoked_by",
            ..
        })
    ));
    assert!(!tokens.any_active().await.unwrap());
    fx.cleanup().await;
}

async fn expiry_takes_effect_at_the_moment(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let tokens = fx.tokens();
    let created = tokens
        .create(
            new_token("short", Role::Viewer, &[], time::Duration::seconds(1)),
            "cli:root",
        )
        .await
        .unwrap();
    assert!(tokens.any_active().await.unwrap());
    assert!(
        tokens
            .authenticate(Some(&created.secret), None)
            .await
            .is_ok()
    );
    let left = created.info.expires_at - time::OffsetDateTime::now_utc();
    tokio::time::sleep(Duration::from_millis(
        u64::try_from(left.whole_milliseconds()).unwrap_or(0) + 50,
    ))
    .await;
    assert!(is_unauthenticated(
        tokens.authenticate(Some(&created.secret), None).await
    ));
    let listed = tokens.list().await.unwrap();
    assert_eq!(
        listed[0].status(time::OffsetDateTime::now_utc()),
        TokenStatus::Expired
    );
    assert!(!tokens.any_active().await.unwrap());
    // An expired token can still be revoked (the record says who withdrew it).
    let revoked = tokens
        .revoke(created.info.token_id, "cli:root")
        .await
        .unwrap();
    assert_eq!(revoked.expires_at, created.info.expires_at);
    fx.cleanup().await;
}

async fn any_active_counts_only_tokens_that_could_get_in(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let tokens = fx.tokens();
    assert!(!tokens.any_active().await.unwrap(), "no token yet");
    let first = tokens
        .create(
            new_token("first", Role::Admin, &[], time::Duration::days(1)),
            "cli:root",
        )
        .await
        .unwrap();
    assert!(tokens.any_active().await.unwrap());
    tokens
        .revoke(first.info.token_id, "cli:root")
        .await
        .unwrap();
    assert!(!tokens.any_active().await.unwrap(), "only a revoked token");
    tokens
        .create(
            new_token("second", Role::Auditor, &[], time::Duration::days(1)),
            "cli:root",
        )
        .await
        .unwrap();
    assert!(tokens.any_active().await.unwrap());
    let listed = tokens.list().await.unwrap();
    let names: Vec<&str> = listed.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["first", "second"], "oldest first");
    fx.cleanup().await;
}

async fn only_the_hash_is_stored_and_the_log_records_who_without_the_secret(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let tokens = fx.tokens();
    let created = tokens
        .create(
            new_token("auditor one", Role::Auditor, &[], time::Duration::days(30)),
            "cli:root",
        )
        .await
        .unwrap();
    tokens
        .revoke(created.info.token_id, "admin (x)")
        .await
        .unwrap();
    let secret = created.secret.expose();
    let random_part = &secret[3..];

    // The row holds the SHA-256 of the token and nothing from which the token follows.
    let rows = fx.token_rows().await;
    assert_eq!(rows.len(), 1);
    let (row, hash) = &rows[0];
    assert_eq!(hash, &created.secret.hash().to_vec());
    assert!(!row.contains(random_part), "{row}");
    // Nor anywhere in the database's events.
    let events = fx.event_rows().await;
    assert_eq!(events.len(), 2);
    for e in &events {
        assert!(!e.contains(random_part), "{e}");
        assert!(!e.to_lowercase().contains(&hex(hash)), "{e}");
    }

    // The token's stream says who made and revoked it.
    let store = fx.store();
    let stream = store
        .read_stream(
            &auth::token_stream(created.info.token_id),
            Direction::Forwards,
            0,
            10,
        )
        .await
        .unwrap();
    let types: Vec<&str> = stream.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["TokenCreated", "TokenRevoked"]);
    assert_eq!(stream[0].metadata["actor"], "cli:root");
    assert_eq!(stream[1].metadata["actor"], "admin (x)");
    assert_eq!(stream[0].data["role"], "auditor");
    assert_eq!(stream[0].data["name"], "auditor one");
    assert_eq!(stream[0].data["units"], serde_json::json!([]));
    assert_eq!(
        stream[1].data["token_id"],
        created.info.token_id.to_string()
    );
    assert!(stream[1].data["revoked_at"].is_string());
    // And the hash chain covers them like any other event.
    let report = store.verify().await.unwrap();
    assert!(report.first_mismatch().is_none(), "{report:?}");
    fx.cleanup().await;
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn refused_requests_write_nothing(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let tokens = fx.tokens();
    for bad in [
        new_token("", Role::Viewer, &[], time::Duration::days(1)),
        new_token("e", Role::Editor, &[], time::Duration::days(1)),
        new_token("v", Role::Viewer, &["a-town"], time::Duration::days(1)),
        new_token("v", Role::Viewer, &[], time::Duration::ZERO),
    ] {
        assert!(matches!(
            tokens.create(bad, "cli:root").await,
            Err(TokenError::Invalid { .. })
        ));
    }
    assert!(matches!(
        tokens
            .create(
                new_token("v", Role::Viewer, &[], time::Duration::days(1)),
                " "
            )
            .await,
        Err(TokenError::Invalid {
            field: "created_by",
            ..
        })
    ));
    assert_eq!(fx.rows_written().await, 0);
    fx.cleanup().await;
}

/// Anyone with the database's keys (PostgreSQL's superuser, whoever can write the SQLite file) is
/// still refused any change of a stored token but its one revocation.
async fn stored_tokens_are_only_ever_revoked(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let tokens = fx.tokens();
    let created = tokens
        .create(
            new_token("x", Role::Viewer, &[], time::Duration::days(1)),
            "cli:root",
        )
        .await
        .unwrap();
    let id = created.info.token_id;
    let table = fx.table();
    let (later, now) = match backend {
        Backend::Postgres => ("expires_at + interval '1 year'", "now()"),
        Backend::Sqlite => ("expires_at + 31536000000000", "expires_at - 1"),
    };
    let insert_over = match backend {
        // An upsert over the row is an UPDATE, which the guard refuses.
        Backend::Postgres => format!(
            "INSERT INTO {table} SELECT * FROM {table} WHERE token_id = '{id}' \
             ON CONFLICT (token_id) DO UPDATE SET role = 'admin'"
        ),
        // REPLACE deletes the clashing row without running DELETE triggers: refused before.
        Backend::Sqlite => format!(
            "INSERT OR REPLACE INTO {table} (token_id, name, role, units, secret_hash, \
             expires_at, created_at, created_by) SELECT token_id, name, 'admin', units, \
             secret_hash, expires_at, created_at, created_by FROM {table} WHERE token_id = '{id}'"
        ),
    };
    let mut refused = vec![
        format!("UPDATE {table} SET role = 'admin' WHERE token_id = '{id}'"),
        format!("UPDATE {table} SET expires_at = {later} WHERE token_id = '{id}'"),
        format!("UPDATE {table} SET name = 'y' WHERE token_id = '{id}'"),
        // A revocation that also changes something else is not a revocation.
        format!(
            "UPDATE {table} SET revoked_at = {now}, revoked_by = 'x', role = 'admin' \
             WHERE token_id = '{id}'"
        ),
        format!("DELETE FROM {table} WHERE token_id = '{id}'"),
        format!("DELETE FROM {table}"),
        insert_over,
    ];
    if backend == Backend::Postgres {
        refused.push(format!("TRUNCATE {table}"));
    }
    for sql in &refused {
        let err = fx.exec(sql).await.expect_err(sql);
        assert!(fx.is_guard_refusal(&err), "{sql}: {err}");
    }
    assert_eq!(tokens.list().await.unwrap(), vec![created.info.clone()]);
    assert!(
        tokens
            .authenticate(Some(&created.secret), None)
            .await
            .is_ok()
    );

    // The one change allowed: revocation, once.
    fx.exec(&format!(
        "UPDATE {table} SET revoked_at = {now}, revoked_by = 'db owner' WHERE token_id = '{id}'"
    ))
    .await
    .unwrap();
    assert!(is_unauthenticated(
        tokens.authenticate(Some(&created.secret), None).await
    ));
    for sql in [
        format!("UPDATE {table} SET revoked_at = NULL, revoked_by = NULL WHERE token_id = '{id}'"),
        format!("UPDATE {table} SET revoked_by = 'someone else' WHERE token_id = '{id}'"),
    ] {
        let err = fx.exec(&sql).await.expect_err(&sql);
        assert!(fx.is_guard_refusal(&err), "{sql}: {err}");
    }
    let listed = tokens.list().await.unwrap();
    assert_eq!(listed[0].revoked_by.as_deref(), Some("db owner"));
    fx.cleanup().await;
}

/// The row and its audit event commit together: when the event store refuses the event (here a
/// trigger added for the test), no token is made and none is revoked.
async fn a_token_whose_event_cannot_be_written_is_not_written_either(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let tokens = fx.tokens();
    let kept = tokens
        .create(
            new_token("kept", Role::Viewer, &[], time::Duration::days(1)),
            "cli:root",
        )
        .await
        .unwrap();
    let (refuse, allow) = match backend {
        Backend::Postgres => (
            "CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN RAISE EXCEPTION 'refused by the test'; END; $$; \
             CREATE TRIGGER test_refuse BEFORE INSERT ON eventstore.events FOR EACH ROW \
             EXECUTE FUNCTION test_refuse();",
            "DROP TRIGGER test_refuse ON eventstore.events; DROP FUNCTION test_refuse();",
        ),
        Backend::Sqlite => (
            "CREATE TRIGGER test_refuse BEFORE INSERT ON events \
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;",
            "DROP TRIGGER test_refuse;",
        ),
    };
    fx.exec(refuse).await.unwrap();
    let before = fx.rows_written().await;
    let failed = tokens
        .create(
            new_token("lost", Role::Admin, &[], time::Duration::days(1)),
            "cli:root",
        )
        .await;
    assert!(matches!(failed, Err(TokenError::Database(_))), "{failed:?}");
    let failed = tokens.revoke(kept.info.token_id, "cli:root").await;
    assert!(matches!(failed, Err(TokenError::Database(_))), "{failed:?}");
    assert_eq!(fx.rows_written().await, before);
    assert_eq!(tokens.list().await.unwrap(), vec![kept.info.clone()]);
    assert!(tokens.authenticate(Some(&kept.secret), None).await.is_ok());

    // And nothing was left locked: with the store working again, both go through.
    fx.exec(allow).await.unwrap();
    tokens.revoke(kept.info.token_id, "cli:root").await.unwrap();
    tokens
        .create(
            new_token("made", Role::Admin, &[], time::Duration::days(1)),
            "cli:root",
        )
        .await
        .unwrap();
    assert_eq!(tokens.list().await.unwrap().len(), 2);
    fx.cleanup().await;
}

/// Token writes beside the store's appends, from the server's tokens (sharing the store's writer
/// queue on SQLite) and from tokens over the pool alone (their own queue: they wait on SQLite's
/// lock): every event lands once, $all has no gap, and the hash chains verify.
async fn token_writes_and_appends_interleave_without_gaps(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = fx.store();
    let shared = fx.tokens();
    let own = Tokens::new(fx.database());
    const ROUNDS: usize = 6;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..ROUNDS {
        for (label, tokens) in [("shared", shared.clone()), ("own", own.clone())] {
            tasks.spawn(async move {
                let created = tokens
                    .create(
                        new_token(
                            &format!("{label} {i}"),
                            Role::Viewer,
                            &[],
                            time::Duration::days(1),
                        ),
                        "cli:root",
                    )
                    .await
                    .unwrap();
                tokens
                    .revoke(created.info.token_id, "cli:root")
                    .await
                    .unwrap();
            });
        }
        let store = store.clone();
        tasks.spawn(async move {
            store
                .append(
                    &format!("test-{i}"),
                    ExpectedVersion::NoStream,
                    vec![
                        NewEvent::new("Tested", serde_json::json!({ "i": i })),
                        NewEvent::new("Tested", serde_json::json!({ "i": i, "again": true })),
                    ],
                )
                .await
                .unwrap();
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let expected = ROUNDS * (2 * 2 + 2);
    // PostgreSQL shows $all only below the oldest transaction still running anywhere on the
    // server (other tests' too): wait until everything committed here is visible.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let all = loop {
        let all = store
            .read_all(Position::START, &Filter::all(), 1000)
            .await
            .unwrap();
        if all.len() >= expected || std::time::Instant::now() > deadline {
            break all;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(all.len(), expected);
    let tokens_listed = shared.list().await.unwrap();
    assert_eq!(tokens_listed.len(), 2 * ROUNDS);
    assert!(tokens_listed.iter().all(|t| t.revoked_at.is_some()));
    if backend == Backend::Sqlite {
        // SQLite numbers $all 1, 2, 3, …: no gap.
        let positions: Vec<u64> = all.iter().map(|e| e.position.commit).collect();
        let want: Vec<u64> = (1..=expected as u64).collect();
        assert_eq!(positions, want);
    }
    let report = store.verify().await.unwrap();
    assert!(report.first_mismatch().is_none(), "{report:?}");
    fx.cleanup().await;
}

// PostgreSQL only: the database roles (SQLite has none; its file's permissions are the access
// control, docs/security.md).

async fn setup() -> (TestDatabase, PgPool, PgTokens) {
    let db = TestDatabase::migrated().await;
    let pool = db.pool(4).await;
    (db, pool.clone(), PgTokens::new(pool))
}

/// What `role` may do to `auth.tokens`: each statement runs in its own transaction under
/// `SET LOCAL ROLE`, and the SQLSTATE of a refusal is returned.
async fn as_role(pool: &PgPool, role: &str, sql: &str) -> Result<(), String> {
    let mut tx = pool.begin().await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("SET LOCAL ROLE {role}")))
        .execute(&mut *tx)
        .await
        .unwrap();
    let result = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut *tx)
        .await
        .map(|_| ())
        .map_err(|e| {
            e.as_database_error()
                .and_then(|d| d.code())
                .map(|c| c.into_owned())
                .unwrap_or_else(|| e.to_string())
        });
    tx.rollback().await.unwrap();
    result
}

#[tokio::test]
async fn database_roles_on_the_token_table() {
    let (db, pool, tokens) = setup().await;
    let created = tokens
        .create(
            new_token("x", Role::Viewer, &[], time::Duration::days(1)),
            "cli:root",
        )
        .await
        .unwrap();
    let id = created.info.token_id;
    const DENIED: &str = "42501";
    const GUARDED: &str = "TZ201";

    // The service reads tokens, and creates and revokes them only through the owner's
    // functions, which write the row and its event together (migration 0201)…
    let svc = "taizhang_service";
    assert_eq!(
        as_role(&pool, svc, "SELECT * FROM auth.tokens").await,
        Ok(())
    );
    assert_eq!(
        as_role(
            &pool,
            svc,
            &format!("SELECT * FROM auth.revoke_token('{id}', 'x')")
        )
        .await,
        Ok(())
    );
    // …never directly: an admin token row with no TokenCreated event, or a revocation with no
    // TokenRevoked, was accepted before.
    assert_eq!(
        as_role(
            &pool,
            svc,
            "INSERT INTO auth.tokens (token_id, name, role, secret_hash, expires_at, created_by) \
             VALUES (gen_random_uuid(), 'forged', 'admin', sha256('x'), now() + interval '1 day', 'nobody')"
        )
        .await,
        Err(DENIED.into())
    );
    assert_eq!(
        as_role(
            &pool,
            svc,
            &format!("UPDATE auth.tokens SET revoked_at = now(), revoked_by = 'x' WHERE token_id = '{id}'")
        )
        .await,
        Err(DENIED.into())
    );
    // …but changes nothing else and deletes nothing.
    assert_eq!(
        as_role(
            &pool,
            svc,
            &format!("UPDATE auth.tokens SET role = 'admin' WHERE token_id = '{id}'")
        )
        .await,
        Err(DENIED.into())
    );
    assert_eq!(
        as_role(&pool, svc, "DELETE FROM auth.tokens").await,
        Err(DENIED.into())
    );
    assert_eq!(
        as_role(&pool, svc, "TRUNCATE auth.tokens").await,
        Err(DENIED.into())
    );

    // Even a superuser cannot rewrite, un-revoke or delete a token row.
    for sql in [
        format!("UPDATE auth.tokens SET role = 'admin' WHERE token_id = '{id}'"),
        format!(
            "UPDATE auth.tokens SET expires_at = expires_at + interval '1 year' WHERE token_id = '{id}'"
        ),
        format!("DELETE FROM auth.tokens WHERE token_id = '{id}'"),
        "TRUNCATE auth.tokens".to_owned(),
    ] {
        assert_eq!(
            as_role(&pool, "postgres", &sql).await,
            Err(GUARDED.into()),
            "{sql}"
        );
    }
    tokens.revoke(id, "cli:root").await.unwrap();
    assert_eq!(
        as_role(
            &pool,
            "postgres",
            &format!("UPDATE auth.tokens SET revoked_at = NULL, revoked_by = NULL WHERE token_id = '{id}'")
        )
        .await,
        Err(GUARDED.into())
    );

    // BI tools see nothing of the schema.
    let bi = "taizhang_analytics";
    for sql in [
        "SELECT * FROM auth.tokens",
        "SELECT count(*) FROM auth.tokens",
    ] {
        assert_eq!(as_role(&pool, bi, sql).await, Err(DENIED.into()), "{sql}");
    }
    let visible: bool = sqlx::query_scalar(
        "SELECT has_schema_privilege('taizhang_analytics', 'auth', 'USAGE') \
             OR has_table_privilege('taizhang_analytics', 'auth.tokens', 'SELECT')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(!visible);
    db.drop_database().await;
}

#[tokio::test]
async fn the_service_role_can_do_all_it_needs() {
    // Create, list, authenticate and revoke through PgTokens while connected as taizhang_service
    // (a login made for this test, as the deployment grants the role to its login).
    let (db, pool, _) = setup().await;
    let login = format!("tz_svc_{}", uuid::Uuid::new_v4().simple());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE ROLE {login} LOGIN IN ROLE taizhang_service; \
         ALTER ROLE {login} SET role = 'taizhang_service'"
    )))
    .execute(&pool)
    .await
    .unwrap();
    let url = db
        .url
        .replacen("postgres://postgres@", &format!("postgres://{login}@"), 1);
    assert_ne!(url, db.url);
    let service = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(&url)
        .await
        .unwrap();
    let role: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(&service)
        .await
        .unwrap();
    assert_eq!(role, "taizhang_service");
    let tokens = PgTokens::new(service.clone());
    let created = tokens
        .create(
            new_token("svc", Role::Supervisor, &[], time::Duration::days(1)),
            "admin (x)",
        )
        .await
        .unwrap();
    assert!(
        tokens
            .authenticate(Some(&created.secret), None)
            .await
            .is_ok()
    );
    assert_eq!(tokens.list().await.unwrap().len(), 1);
    tokens
        .revoke(created.info.token_id, "admin (x)")
        .await
        .unwrap();
    // Each change has its event on `token-<id>`, read back as the service.
    let types: Vec<String> = sqlx::query_scalar(
        "SELECT event_type FROM eventstore.events WHERE stream = $1 ORDER BY version",
    )
    .bind(auth::token_stream(created.info.token_id))
    .fetch_all(&service)
    .await
    .unwrap();
    assert_eq!(types, ["TokenCreated", "TokenRevoked"]);
    service.close().await;
    db.drop_database().await;
    let mut admin = eventstore::postgres::testing::admin_connection().await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP ROLE IF EXISTS {login}")))
        .execute(&mut admin)
        .await
        .unwrap();
}
