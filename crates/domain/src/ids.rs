//! Identifiers of aggregates, and the stream names derived from them.

use crate::error::{ErrorCode, ValueError};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $category:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh id; UUIDv7 so that ids sort by creation time.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            pub fn parse(s: &str) -> Result<Self, ValueError> {
                Uuid::parse_str(s).map(Self).map_err(|_| {
                    ValueError::new(
                        ErrorCode::IdInvalid,
                        format!("{s:?} is not a UUID"),
                        format!("{s:?} 不是有效的 UUID"),
                    )
                })
            }
            /// The event stream of this aggregate.
            pub fn stream(self) -> String {
                format!(concat!($category, "-{}"), self.0)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

uuid_id!(
    /// A project; stream `project-<uuid>`.
    ProjectId,
    "project"
);
uuid_id!(
    /// A supervision item (督办事项); stream `supervision-<uuid>`.
    SupervisionItemId,
    "supervision"
);

/// A responsible unit (责任单位). A short, stable slug chosen when the unit is created, e.g.
/// `xinan-town` or `dev-zone`: 1–64 characters of `a-z`, `0-9` and `-`, starting with a letter or
/// digit. A slug rather than a UUID because units are few, long-lived and typed by people (in
/// imports, URLs and BI filters); renaming a unit keeps its slug. Stream `unit-<slug>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct UnitId(String);

impl UnitId {
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        // `county` names the county-wide scope of targets and figures (reporting.targets.scope),
        // so no unit may take it.
        let ok = (1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && s != "county";
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(ValueError::new(
                ErrorCode::IdInvalid,
                format!(
                    "unit id {s:?} must be 1–64 characters of a-z, 0-9 and '-', and not \"county\""
                ),
                format!("单位标识 {s:?} 须为 1–64 位小写字母、数字或连字符，且不能为 county"),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn stream(&self) -> String {
        format!("unit-{}", self.0)
    }
}

impl fmt::Display for UnitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for UnitId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        UnitId::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Stream of the annual targets of a year.
pub fn targets_stream(year: i32) -> String {
    format!("targets-{year}")
}

/// The single stream of the county's rule settings (light bands, ranking weights).
pub const RULES_STREAM: &str = "rules-county";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams() {
        let p = ProjectId::parse("0190a5c6-7d3e-7c2a-9f00-000000000001").unwrap();
        assert_eq!(p.stream(), "project-0190a5c6-7d3e-7c2a-9f00-000000000001");
        assert!(
            SupervisionItemId::new()
                .stream()
                .starts_with("supervision-")
        );
        assert_eq!(
            UnitId::parse("xinan-town").unwrap().stream(),
            "unit-xinan-town"
        );
        assert_eq!(targets_stream(2026), "targets-2026");
        assert_eq!(
            ProjectId::parse("nope").unwrap_err().code,
            ErrorCode::IdInvalid
        );
    }

    #[test]
    fn unit_slugs() {
        for bad in ["", "-a", "A", "a b", "新安镇", "county", &"a".repeat(65)] {
            assert!(UnitId::parse(bad).is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<UnitId>("\"Bad\"").is_err());
    }
}
