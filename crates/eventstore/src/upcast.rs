//! Upcasting: old schema versions of an event become the current one on read. Stored events are
//! never rewritten; consumers only ever see current shapes.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use crate::StoreError;

type UpcastFn = Arc<dyn Fn(Value) -> Result<Value, String> + Send + Sync>;

/// A registry of `(event_type, from_version) → function` raising data by one schema version.
/// Reading applies them in a chain (1 → 2 → 3 …) until no upcaster matches.
#[derive(Clone, Default)]
pub struct Upcasters {
    by_type_and_version: HashMap<(String, u32), UpcastFn>,
}

impl std::fmt::Debug for Upcasters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut keys: Vec<_> = self.by_type_and_version.keys().collect();
        keys.sort();
        f.debug_struct("Upcasters")
            .field("registered", &keys)
            .finish()
    }
}

impl Upcasters {
    pub fn new() -> Self {
        Upcasters::default()
    }

    /// Registers `f` turning `event_type` data of `from_version` into `from_version + 1`.
    pub fn register(
        mut self,
        event_type: impl Into<String>,
        from_version: u32,
        f: impl Fn(Value) -> Value + Send + Sync + 'static,
    ) -> Self {
        self.by_type_and_version.insert(
            (event_type.into(), from_version),
            Arc::new(move |v| Ok(f(v))),
        );
        self
    }

    /// Like [`Upcasters::register`], for upcasts that can fail (the read then fails with
    /// [`StoreError::Upcast`] rather than hand a consumer a wrong shape).
    pub fn register_fallible(
        mut self,
        event_type: impl Into<String>,
        from_version: u32,
        f: impl Fn(Value) -> Result<Value, String> + Send + Sync + 'static,
    ) -> Self {
        self.by_type_and_version
            .insert((event_type.into(), from_version), Arc::new(f));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.by_type_and_version.is_empty()
    }

    /// Raises `data` from `schema_version` as far as the registry goes; returns the new version.
    pub fn upcast(
        &self,
        event_type: &str,
        mut schema_version: u32,
        mut data: Value,
    ) -> Result<(u32, Value), StoreError> {
        // The bound stops a registry that maps a version onto itself from looping forever.
        for _ in 0..1000 {
            let Some(f) = self
                .by_type_and_version
                .get(&(event_type.to_owned(), schema_version))
            else {
                return Ok((schema_version, data));
            };
            data = f(data).map_err(|message| StoreError::Upcast {
                event_type: event_type.to_owned(),
                from_version: schema_version,
                message,
            })?;
            schema_version += 1;
        }
        Err(StoreError::Upcast {
            event_type: event_type.to_owned(),
            from_version: schema_version,
            message: "more than 1000 upcasts in a chain".to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn chains_upcasters_until_current() {
        let u = Upcasters::new()
            .register("A", 1, |mut v| {
                v["b"] = json!(2);
                v
            })
            .register("A", 2, |mut v| {
                v["c"] = json!(3);
                v
            });
        assert_eq!(
            u.upcast("A", 1, json!({"a": 1})).unwrap(),
            (3, json!({"a": 1, "b": 2, "c": 3}))
        );
        assert_eq!(u.upcast("A", 3, json!({})).unwrap(), (3, json!({})));
        assert_eq!(u.upcast("B", 1, json!(1)).unwrap(), (1, json!(1)));
    }
}
