//! Unique business keys, reserved by appending to a key stream with `NoStream`.

use serde_json::json;
use uuid::Uuid;

use crate::{
    AppendResult, Direction, EventStore, ExpectedVersion, NewEvent, StoreError,
    stream_name::validate_category,
};

/// The event type written to key streams.
pub const KEY_RESERVED: &str = "KeyReserved";

/// Namespace for key-reservation event ids, so one (kind, key, owner) always gets the same id and
/// a repeated reservation by the same owner is an idempotent retry rather than a conflict.
const KEY_NAMESPACE: Uuid = Uuid::from_u128(0x6b65_7973_2d74_6169_7a68_616e_6700_0001);

/// The stream holding the reservation of `key` of `kind`.
pub fn key_stream(kind: &str, key: &str) -> String {
    format!("{kind}-{key}")
}

pub(crate) async fn reserve<S: EventStore>(
    store: &S,
    kind: &str,
    key: &str,
    owner: &str,
) -> Result<AppendResult, StoreError> {
    validate_category(kind)?;
    if key.is_empty() {
        return Err(StoreError::InvalidAppend(
            "an empty key cannot be reserved".to_owned(),
        ));
    }
    let stream = key_stream(kind, key);
    let id = Uuid::new_v5(&KEY_NAMESPACE, format!("{kind}\n{key}\n{owner}").as_bytes());
    let event = NewEvent::new(
        KEY_RESERVED,
        json!({ "kind": kind, "key": key, "owner": owner }),
    )
    .with_id(id);
    match store
        .append(&stream, ExpectedVersion::NoStream, vec![event])
        .await
    {
        Err(StoreError::WrongExpectedVersion { .. }) => {
            let first = store
                .read_stream(&stream, Direction::Forwards, 0, 1)
                .await?;
            let owner = first
                .first()
                .and_then(|e| e.data.get("owner"))
                .and_then(|o| o.as_str())
                .unwrap_or("(unknown)")
                .to_owned();
            Err(StoreError::KeyTaken {
                kind: kind.to_owned(),
                key: key.to_owned(),
                owner,
            })
        }
        other => other,
    }
}
