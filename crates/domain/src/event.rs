//! What every event type of every aggregate provides to the store layer: a stable type name, a
//! schema version, and JSON in and out (through the upcaster for old versions).

use serde_json::Value;

/// An event of one aggregate, as the store layer sees it.
pub trait DomainEvent: Sized + Clone + std::fmt::Debug + PartialEq {
    /// Every event type of this aggregate with its current schema version.
    const TYPES: &'static [(&'static str, u32)];
    /// Stable type name, e.g. `ProjectRegistered`; the store's `event_type`.
    fn event_type(&self) -> &'static str;
    /// Current schema version of this event's data.
    fn schema_version(&self) -> u32;
    /// The event's data (business facts only; actor and ids go into the store's metadata).
    fn to_json(&self) -> Value;
    /// Read stored data of any known version; older versions are upcast first.
    fn from_json(event_type: &str, version: u32, data: Value) -> Result<Self, DecodeError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("unknown event type {0:?}")]
    UnknownType(String),
    #[error("{event_type} v{version} is newer than this build (v{current}); upgrade taizhang")]
    FutureVersion {
        event_type: String,
        version: u32,
        current: u32,
    },
    #[error("no upcaster for {event_type} v{version}")]
    NoUpcaster { event_type: String, version: u32 },
    #[error("{event_type} v{version}: {message}")]
    Invalid {
        event_type: String,
        version: u32,
        message: String,
    },
}

/// One step of the upcaster: data of `event_type` at `from_version` → data at `from_version + 1`.
pub struct Upcast {
    pub event_type: &'static str,
    pub from_version: u32,
    pub step: fn(Value) -> Result<Value, String>,
}

/// The upcasters of the published events. When an event's shape changes, bump its version in
/// the aggregate's event list, add the step here, keep the old golden file as
/// `<Type>.v<old>.json` and add the new one.
pub const UPCASTS: &[Upcast] = &[
    // v2 of the monthly report and its correction carry 形象进度 and 存在问题; a v1 event had
    // neither, so both are null.
    Upcast {
        event_type: "InvestmentReported",
        from_version: 1,
        step: add_narrative,
    },
    Upcast {
        event_type: "InvestmentReportCorrected",
        from_version: 1,
        step: add_narrative,
    },
];

fn add_narrative(mut data: Value) -> Result<Value, String> {
    let obj = data.as_object_mut().ok_or("not an object")?;
    obj.insert("progress_narrative".into(), Value::Null);
    obj.insert("problems".into(), Value::Null);
    Ok(data)
}

/// Bring `data` from `version` to `current` by chaining the steps of `upcasts`.
pub fn upcast_with(
    upcasts: &[Upcast],
    event_type: &str,
    mut version: u32,
    current: u32,
    mut data: Value,
) -> Result<Value, DecodeError> {
    if version > current {
        return Err(DecodeError::FutureVersion {
            event_type: event_type.into(),
            version,
            current,
        });
    }
    while version < current {
        let step = upcasts
            .iter()
            .find(|u| u.event_type == event_type && u.from_version == version)
            .ok_or_else(|| DecodeError::NoUpcaster {
                event_type: event_type.into(),
                version,
            })?;
        data = (step.step)(data).map_err(|message| DecodeError::Invalid {
            event_type: event_type.into(),
            version,
            message,
        })?;
        version += 1;
    }
    Ok(data)
}

/// The upcaster hook the event enums call: (type, stored version, data) → data of the current version.
pub fn upcast(
    event_type: &str,
    version: u32,
    current: u32,
    data: Value,
) -> Result<Value, DecodeError> {
    upcast_with(UPCASTS, event_type, version, current, data)
}

/// Declares an aggregate's event enum over its event structs, with their schema versions, and
/// implements [`DomainEvent`] for it. The variant name is the published type name.
macro_rules! events {
    ($(#[$meta:meta])* $enum:ident { $($variant:ident = $version:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum $enum {
            $($variant($variant)),+
        }

        impl $crate::event::DomainEvent for $enum {
            const TYPES: &'static [(&'static str, u32)] = &[$((stringify!($variant), $version)),+];

            fn event_type(&self) -> &'static str {
                match self { $(Self::$variant(_) => stringify!($variant)),+ }
            }

            fn schema_version(&self) -> u32 {
                match self { $(Self::$variant(_) => $version),+ }
            }

            fn to_json(&self) -> serde_json::Value {
                // Event structs hold only serializable values with string keys: this cannot fail.
                match self {
                    $(Self::$variant(e) => serde_json::to_value(e).unwrap_or(serde_json::Value::Null)),+
                }
            }

            fn from_json(
                event_type: &str,
                version: u32,
                data: serde_json::Value,
            ) -> Result<Self, $crate::event::DecodeError> {
                let invalid = |e: serde_json::Error| $crate::event::DecodeError::Invalid {
                    event_type: event_type.into(),
                    version,
                    message: e.to_string(),
                };
                match event_type {
                    $(stringify!($variant) => {
                        let data = $crate::event::upcast(event_type, version, $version, data)?;
                        serde_json::from_value(data).map(Self::$variant).map_err(invalid)
                    })+
                    other => Err($crate::event::DecodeError::UnknownType(other.into())),
                }
            }
        }

        $(impl From<$variant> for $enum {
            fn from(e: $variant) -> Self {
                Self::$variant(e)
            }
        })+
    };
}
pub(crate) use events;

/// Declares a closed vocabulary serialized in snake_case.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }
    };
}
pub(crate) use vocabulary;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A synthetic v1 → v2 → v3 history: v1 had `amount_wan`, v2 renamed it to `amount` in
    /// yuan, v3 added `note`.
    const SYNTHETIC: &[Upcast] = &[
        Upcast {
            event_type: "Synthetic",
            from_version: 1,
            step: |mut v| {
                let obj = v.as_object_mut().ok_or("not an object")?;
                let wan = obj
                    .remove("amount_wan")
                    .and_then(|w| w.as_i64())
                    .ok_or("amount_wan missing")?;
                obj.insert("amount".into(), json!(wan * 10_000));
                Ok(v)
            },
        },
        Upcast {
            event_type: "Synthetic",
            from_version: 2,
            step: |mut v| {
                v.as_object_mut()
                    .ok_or("not an object")?
                    .insert("note".into(), Value::Null);
                Ok(v)
            },
        },
    ];

    #[test]
    fn upcasts_old_shapes_step_by_step() {
        let old = json!({"amount_wan": 3});
        let now = upcast_with(SYNTHETIC, "Synthetic", 1, 3, old).unwrap();
        assert_eq!(now, json!({"amount": 30000, "note": null}));
        let current = json!({"amount": 1, "note": "x"});
        assert_eq!(
            upcast_with(SYNTHETIC, "Synthetic", 3, 3, current.clone()).unwrap(),
            current
        );
    }

    #[test]
    fn old_investment_reports_read_with_no_narrative() {
        let v1 = json!({"period": "2025-06", "completed_investment": 1, "funds_in_place": 2});
        for event_type in ["InvestmentReported", "InvestmentReportCorrected"] {
            let v2 = upcast(event_type, 1, 2, v1.clone()).unwrap();
            assert_eq!(v2["progress_narrative"], Value::Null, "{event_type}");
            assert_eq!(v2["problems"], Value::Null, "{event_type}");
            assert_eq!(v2["completed_investment"], 1, "{event_type}");
        }
    }

    #[test]
    fn refuses_unknown_and_future_versions() {
        assert!(matches!(
            upcast_with(SYNTHETIC, "Synthetic", 4, 3, json!({})),
            Err(DecodeError::FutureVersion { .. })
        ));
        assert!(matches!(
            upcast_with(SYNTHETIC, "Other", 1, 2, json!({})),
            Err(DecodeError::NoUpcaster { .. })
        ));
        assert!(matches!(
            upcast_with(SYNTHETIC, "Synthetic", 1, 2, json!({"x": 1})),
            Err(DecodeError::Invalid { .. })
        ));
    }
}
