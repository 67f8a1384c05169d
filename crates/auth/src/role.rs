//! The five roles a token can have.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a token's holder does in the county's work (docs/security.md has the full matrix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Units, targets, rule settings and tokens (系统管理员).
    Admin,
    /// Supervision items and accountability; reads everything (督查).
    Supervisor,
    /// Project commands for the projects of the units in its scope (填报员).
    Editor,
    /// Reads everything, changes nothing (只读).
    Viewer,
    /// Reads everything, the raw events feed and ledger verification (审计).
    Auditor,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Supervisor,
        Role::Editor,
        Role::Viewer,
        Role::Auditor,
    ];

    /// The stored and typed name (`editor`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
            Role::Auditor => "auditor",
        }
    }

    /// The Chinese name, for messages.
    pub fn name_zh(self) -> &'static str {
        match self {
            Role::Admin => "系统管理员",
            Role::Supervisor => "督查",
            Role::Editor => "填报员",
            Role::Viewer => "只读用户",
            Role::Auditor => "审计",
        }
    }

    /// Whether the role acts only within a unit scope (and so needs one).
    pub fn is_scoped(self) -> bool {
        self == Role::Editor
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of the five.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown role {0:?}: use admin, supervisor, editor, viewer or auditor \
     (未知角色，可选 admin、supervisor、editor、viewer、auditor)"
)]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(
                serde_json::to_value(role).unwrap(),
                serde_json::json!(role.as_str())
            );
        }
        assert!("root".parse::<Role>().is_err());
    }
}
