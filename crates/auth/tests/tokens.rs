//! Tokens against a real PostgreSQL: create, authenticate, expire, revoke (both at once), hash-only
//! storage, the audit events, and what the database roles may do with `auth.tokens`.
//!
//! Needs the local server (see eventstore::postgres::testing: it says how to start it). The
//! event store's own role restrictions (taizhang_service cannot update or delete events) are tested
//! in crates/eventstore/tests/postgres.rs (`service_role_appends_and_reads_but_cannot_rewrite`,
//! `triggers_refuse_update_delete_truncate_even_for_superuser`); the analytics role's (reads
//! `reporting` only, writes nothing) in crates/projections/tests/analytics_role.rs. Here: the
//! same roles against the `auth` schema.

use std::time::Duration;

use auth::{AuthError, NewToken, PgTokens, Role, Secret, TokenError, TokenStatus};
use domain::UnitId;
use eventstore::postgres::testing::TestDatabase;
use eventstore::{Direction, EventStore, PgEventStore};
use sqlx::PgPool;

fn new_token(name: &str, role: Role, units: &[&str], lifetime: time::Duration) -> NewToken {
    NewToken {
        name: name.into(),
        role,
        units: units.iter().map(|u| UnitId::parse(u).unwrap()).collect(),
        lifetime,
    }
}

async fn setup() -> (TestDatabase, PgPool, PgTokens) {
    let db = TestDatabase::migrated().await;
    let pool = db.pool(4).await;
    (db, pool.clone(), PgTokens::new(pool))
}

fn is_unauthenticated(r: Result<auth::Identity, AuthError>) -> bool {
    matches!(r, Err(AuthError::Unauthenticated))
}

#[tokio::test]
async fn create_then_authenticate_as_the_token() {
    let (db, _pool, tokens) = setup().await;
    let created = tokens
        .create(
            new_token(
                "城关镇 填报",
                Role::Editor,
                &["chengguan"],
                time::Duration::days(90),
            ),
            "cli:root",
        )
        .await
        .unwrap();
    assert!(created.secret.is_well_formed());
    assert_eq!(created.info.role, Role::Editor);
    assert_eq!(created.info.created_by, "cli:root");
    let lifetime = created.info.expires_at - created.info.created_at;
    assert_eq!(lifetime, time::Duration::days(90));

    let who = tokens
        .authenticate(Some(&created.secret), None)
        .await
        .unwrap();
    assert_eq!(who.token_id, created.info.token_id);
    assert_eq!(who.role, Role::Editor);
    assert_eq!(who.units, vec![UnitId::parse("chengguan").unwrap()]);
    assert_eq!(
        who.actor(),
        format!("城关镇 填报 ({})", created.info.token_id)
    );
    db.drop_database().await;
}

#[tokio::test]
async fn missing_malformed_and_unknown_tokens_are_all_just_unauthenticated() {
    let (db, _pool, tokens) = setup().await;
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
    db.drop_database().await;
}

#[tokio::test]
async fn revocation_takes_effect_at_the_next_request() {
    let (db, _pool, tokens) = setup().await;
    let created = tokens
        .create(
            new_token("ops", Role::Admin, &[], time::Duration::days(1)),
            "cli:root",
        )
        .await
        .unwrap();
    // A second process with its own pool sees the same: there is no cache to invalidate.
    let elsewhere = PgTokens::new(db.pool(1).await);
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
        tokens.revoke(uuid::Uuid::new_v4(), "ops").await,
        Err(TokenError::NotFound(_))
    ));
    assert!(!tokens.any_active().await.unwrap());
    db.drop_database().await;
}

#[tokio::test]
async fn expiry_takes_effect_at_the_moment() {
    let (db, _pool, tokens) = setup().await;
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
    db.drop_database().await;
}

#[tokio::test]
async fn only_the_hash_is_stored_and_the_log_records_who_without_the_secret() {
    let (db, pool, tokens) = setup().await;
    let created = tokens
        .create(
            new_token("auditor one", Role::Auditor, &[], time::Duration::days(30)),
            "cli:root",
        )
        .await
        .unwrap();
    tokens
        .revoke(created.info.token_id, "cli:root")
        .await
        .unwrap();
    let secret = created.secret.expose();
    let random_part = &secret[3..];

    // The row holds the SHA-256 of the token and nothing from which the token follows.
    let (row, hash): (String, Vec<u8>) =
        sqlx::query_as("SELECT t::text, secret_hash FROM auth.tokens t")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(hash, created.secret.hash().to_vec());
    assert!(!row.contains(random_part), "{row}");
    // Nor anywhere in the database's events.
    let events: Vec<String> =
        sqlx::query_scalar("SELECT e::text FROM eventstore.events e ORDER BY position")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(events.len(), 2);
    for e in &events {
        assert!(!e.contains(random_part), "{e}");
        assert!(!e.contains(&hex(&hash)), "{e}");
    }

    // The token's stream says who made and revoked it.
    let store = PgEventStore::new(pool.clone());
    let stream = store
        .read_stream(
            &auth::postgres::token_stream(created.info.token_id),
            Direction::Forwards,
            0,
            10,
        )
        .await
        .unwrap();
    let types: Vec<&str> = stream.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["TokenCreated", "TokenRevoked"]);
    assert_eq!(stream[0].metadata["actor"], "cli:root");
    assert_eq!(stream[0].data["role"], "auditor");
    assert_eq!(stream[0].data["name"], "auditor one");
    assert_eq!(
        stream[1].data["token_id"],
        created.info.token_id.to_string()
    );
    // And the hash chain covers them like any other event.
    let report = store.verify().await.unwrap();
    assert!(report.first_mismatch().is_none(), "{report:?}");
    db.drop_database().await;
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn refused_requests_write_nothing() {
    let (db, pool, tokens) = setup().await;
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
    let n: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM auth.tokens) + (SELECT count(*) FROM eventstore.events)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(n, 0);
    db.drop_database().await;
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

    // The service reads, creates and revokes tokens…
    let svc = "taizhang_service";
    assert_eq!(
        as_role(&pool, svc, "SELECT * FROM auth.tokens").await,
        Ok(())
    );
    assert_eq!(
        as_role(
            &pool,
            svc,
            &format!("UPDATE auth.tokens SET revoked_at = now(), revoked_by = 'x' WHERE token_id = '{id}'")
        )
        .await,
        Ok(())
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
    service.close().await;
    db.drop_database().await;
    let mut admin = eventstore::postgres::testing::admin_connection().await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP ROLE IF EXISTS {login}")))
        .execute(&mut admin)
        .await
        .unwrap();
}
