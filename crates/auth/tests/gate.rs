//! The server's front door: one call authenticates and rate-limits a request; authorization
//! follows the policy; the insecure mode lets everything through. On both backends (see `common`).

mod common;

use auth::gate::INSECURE_ACTOR_NAME;
use auth::{AuthArgs, AuthError, Gate, NewToken, Operation, Role};
use common::Fixture;
use domain::UnitId;
use eventstore::Backend;
use eventstore::postgres::testing::TestDatabase;

on_both_backends!(
    header_and_connection_init_authenticate_and_count_against_the_limit,
    insecure_mode_lets_everything_through_under_a_visible_name,
    a_gate_over_the_pool_alone_sees_the_same_tokens,
);

async fn header_and_connection_init_authenticate_and_count_against_the_limit(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let gate = Gate::for_store(
        &fx.store(),
        &AuthArgs {
            rate_limit: 0.001,
            rate_burst: 3,
            ..AuthArgs::default()
        },
    );
    gate.startup().await.unwrap();
    assert_eq!(gate.tokens().backend(), backend);
    let created = gate
        .tokens()
        .create(
            NewToken {
                name: "clerk".into(),
                role: Role::Editor,
                units: vec![UnitId::parse("a-town").unwrap()],
                lifetime: time::Duration::days(1),
            },
            "test",
        )
        .await
        .unwrap();
    let header = format!("Bearer {}", created.secret.expose());
    let who = gate.authenticate_header(Some(&header), None).await.unwrap();
    assert_eq!(who.token_id, created.info.token_id);
    let payload = serde_json::json!({ "Authorization": header });
    assert!(
        gate.authenticate_connection_init(&payload, None)
            .await
            .is_ok()
    );
    assert!(gate.rate_limit(&who).is_ok());
    // The burst of 3 is spent: the fourth request waits.
    let limited = gate.authenticate_header(Some(&header), None).await;
    assert!(
        matches!(&limited, Err(AuthError::RateLimited { retry_after }) if !retry_after.is_zero()),
        "{limited:?}"
    );
    assert_eq!(limited.unwrap_err().http_status(), 429);

    for bad in [None, Some("Basic eDp5"), Some("Bearer tz_nope")] {
        let err = gate.authenticate_header(bad, None).await.unwrap_err();
        assert_eq!(err.code(), "UNAUTHENTICATED");
        assert_eq!(err.http_status(), 401);
    }

    let a = UnitId::parse("a-town").unwrap();
    let c = UnitId::parse("c-town").unwrap();
    assert!(
        gate.authorize(&who, Operation::ReportInvestment, Some(&a))
            .is_ok()
    );
    let err = gate
        .authorize(&who, Operation::ReportInvestment, Some(&c))
        .unwrap_err();
    assert_eq!(err.code(), "FORBIDDEN");
    assert!(gate.authorize(&who, Operation::ReadEvents, None).is_err());
    fx.cleanup().await;
}

async fn insecure_mode_lets_everything_through_under_a_visible_name(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let gate = Gate::for_database(
        fx.database(),
        &AuthArgs {
            insecure_no_auth: true,
            protect_ops_endpoints: true,
            ..AuthArgs::default()
        },
    );
    gate.startup().await.unwrap();
    assert!(gate.is_insecure());
    assert!(!gate.protects_ops_endpoints());
    let who = gate.authenticate_header(None, None).await.unwrap();
    assert_eq!(who.name, INSECURE_ACTOR_NAME);
    for &op in Operation::ALL {
        assert!(gate.authorize(&who, op, None).is_ok(), "{op}");
    }
    fx.cleanup().await;
}

/// `Gate::for_database` (the pool alone) and `Gate::for_store` read and write the same tokens.
async fn a_gate_over_the_pool_alone_sees_the_same_tokens(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let by_store = Gate::for_store(&fx.store(), &AuthArgs::default());
    let by_pool = Gate::for_database(fx.database(), &AuthArgs::default());
    assert_eq!(by_pool.tokens().backend(), backend);
    let created = by_pool
        .tokens()
        .create(
            NewToken {
                name: "ops".into(),
                role: Role::Admin,
                units: vec![],
                lifetime: time::Duration::days(1),
            },
            "test",
        )
        .await
        .unwrap();
    let header = format!("Bearer {}", created.secret.expose());
    let who = by_store
        .authenticate_header(Some(&header), None)
        .await
        .unwrap();
    assert_eq!(who.role, Role::Admin);
    by_store
        .tokens()
        .revoke(created.info.token_id, &who.actor())
        .await
        .unwrap();
    let err = by_pool
        .authenticate_header(Some(&header), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "UNAUTHENTICATED");
    fx.cleanup().await;
}

/// The PostgreSQL constructor servers called before there was a choice of backend.
#[tokio::test]
async fn a_gate_over_a_postgres_pool() {
    let db = TestDatabase::migrated().await;
    let gate = Gate::new(db.pool(1).await, &AuthArgs::default());
    assert_eq!(gate.tokens().backend(), Backend::Postgres);
    assert!(!gate.tokens().any_active().await.unwrap());
    db.drop_database().await;
}
