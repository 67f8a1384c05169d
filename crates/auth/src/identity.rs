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
    /// and what links the event to the token's own record (stream `token-<id>`).
    pub fn actor(&self) -> String {
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
        let id = Identity {
            token_id: Uuid::nil(),
            name: "城关镇 填报".into(),
            role: Role::Editor,
            units: vec![],
        };
        assert_eq!(
            id.actor(),
            "城关镇 填报 (00000000-0000-0000-0000-000000000000)"
        );
    }
}
