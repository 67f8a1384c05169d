//! Deterministic ids from an idempotency key, so a retried command produces the same event ids
//! and the store can recognise it.

use uuid::Uuid;

/// Namespace of command ids (UUIDv5 over the idempotency key).
const COMMAND_NAMESPACE: Uuid = Uuid::from_u128(0x7461_697a_6861_6e67_2d63_6f6d_6d61_6e64);

/// The command's id: UUIDv5 of its idempotency key. Used as the correlation id of its events.
pub fn command_id(idempotency_key: &str) -> Uuid {
    Uuid::new_v5(&COMMAND_NAMESPACE, idempotency_key.as_bytes())
}

/// The id of the `index`-th event a command produces: UUIDv5 of the index under the command id.
pub fn event_id(command_id: Uuid, index: usize) -> Uuid {
    Uuid::new_v5(&command_id, index.to_string().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_and_distinct() {
        let c = command_id("clerk-li/2026-11/report/42");
        assert_eq!(c, command_id("clerk-li/2026-11/report/42"));
        assert_ne!(c, command_id("clerk-li/2026-11/report/43"));
        assert_eq!(event_id(c, 0), event_id(c, 0));
        assert_ne!(event_id(c, 0), event_id(c, 1));
        assert_eq!(c.get_version_num(), 5);
    }
}
