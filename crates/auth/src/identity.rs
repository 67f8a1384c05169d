//! Who is calling: the identity a valid token stands for.

use domain::UnitId;
use uuid::Uuid;

use crate::Role;

/// The caller of one request, as established by its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub token_id: Uuid,
    /// The token's name: the person or system holding it.
    pub name: String,
    pub role: Role,
    /// The units an editor acts for (empty for every other role).
    pub units: Vec<UnitId>,
}

impl Identity {
    /// The actor recorded in the metadata of every event this caller causes: `name (token id)`.
    /// The name is what people read; the id is what stays unique when two tokens share a name
    /// and what links the event to the token's own record (stream `token-<id>`). The caller of
    /// a server without authentication has no token (nil id) and is recorded by its name alone,
    /// `anonymous (insecure)`.
    pub fn actor(&self) -> String {
        if self.token_id.is_nil() {
            return self.name.clone();
        }
        format!("{} ({})", self.name, self.token_id)
    }

    /// Whether `unit` is in this identity's scope.
    pub fn covers(&self, unit: &UnitId) -> bool {
        self.units.contains(unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_names_name_and_token() {
        let anonymous = Identity {
            token_id: Uuid::nil(),
            name: crate::gate::INSECURE_ACTOR_NAME.into(),
            role: Role::Admin,
            units: vec![],
        };
        assert_eq!(anonymous.actor(), "anonymous (insecure)");
        let id = Identity {
            token_id: Uuid::from_u128(0x0193),
            name: "城关镇 填报".into(),
            role: Role::Editor,
            units: vec![],
        };
        assert_eq!(
            id.actor(),
            "城关镇 填报 (00000000-0000-0000-0000-000000000193)"
        );
    }
}
