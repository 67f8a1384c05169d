//! What a command is decided against besides the aggregate's state.

use crate::error::{DomainError, ErrorCode};
use time::Date;

/// The circumstances of one command. "Today" comes from the caller (the command handler reads
/// the clock), so rule 2 is testable without one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// The county's calendar date when the command arrives.
    pub today: Date,
    /// Who issues the command (rule 9); recorded in every event's metadata by the command handler.
    pub actor: String,
}

impl Context {
    pub fn new(today: Date, actor: impl Into<String>) -> Self {
        Self {
            today,
            actor: actor.into(),
        }
    }

    /// Rule 9: every command carries an actor.
    pub fn require_actor(&self) -> Result<(), DomainError> {
        if self.actor.trim().is_empty() {
            return Err(DomainError::new(
                ErrorCode::ActorRequired,
                "actor",
                "every command must name the actor who issues it",
                "每条指令都必须注明操作人",
            ));
        }
        Ok(())
    }
}
