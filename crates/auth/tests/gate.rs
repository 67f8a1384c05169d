//! The server's front door: one call authenticates and rate-limits a request; authorization
//! follows the policy; the insecure mode lets everything through.

use auth::gate::INSECURE_ACTOR_NAME;
use auth::{AuthArgs, AuthError, Gate, NewToken, Operation, Role};
use domain::UnitId;
use eventstore::postgres::testing::TestDatabase;

#[tokio::test]
async fn header_and_connection_init_authenticate_and_count_against_the_limit() {
    let db = TestDatabase::migrated().await;
    let gate = Gate::new(
        db.pool(2).await,
        &AuthArgs {
            rate_limit: 0.001,
            rate_burst: 3,
            ..AuthArgs::default()
        },
    );
    gate.startup().await.unwrap();
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
    db.drop_database().await;
}

#[tokio::test]
async fn insecure_mode_lets_everything_through_under_a_visible_name() {
    let db = TestDatabase::migrated().await;
    let gate = Gate::new(
        db.pool(1).await,
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
    db.drop_database().await;
}
