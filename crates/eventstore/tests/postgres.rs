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
    concurrent_writers_race,
    retry_is_idempotent,
    same_id_other_content_is_refused,
    all_waits_for_open_transaction,
    all_skips_rolled_back_transaction,
    read_all_filters,
    subscription_catches_up_then_goes_live,
    subscription_survives_killed_connections,
    subscription_polls_without_notifications,
    verify_and_seal_clean_store,
    verify_pinpoints_tampering,
    reserve_keys,
    upcasting_on_read,
    invalid_input_is_refused,
);
