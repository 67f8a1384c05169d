//! The common shape of the aggregates, for the command handler: fold the stream with `apply`,
//! then `decide` the command.

use crate::context::Context;
use crate::error::DomainError;
use crate::event::DomainEvent;

pub trait Aggregate: Default + Clone + PartialEq + std::fmt::Debug {
    type Command: Clone + std::fmt::Debug;
    type Event: DomainEvent;

    /// Fold one event into the state; never refuses (events are facts).
    fn apply(self, event: &Self::Event) -> Self;

    /// Refuse the command or produce its events; pure, and nothing changes on refusal.
    fn decide(
        &self,
        command: &Self::Command,
        ctx: &Context,
    ) -> Result<Vec<Self::Event>, DomainError>;

    /// Unique business keys `(kind, key)` the handler reserves before appending the events.
    fn unique_keys(_command: &Self::Command) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    /// The state after the given events, from the initial state.
    fn fold<'a>(events: impl IntoIterator<Item = &'a Self::Event>) -> Self
    where
        Self::Event: 'a,
    {
        events.into_iter().fold(Self::default(), Self::apply)
    }
}

/// Wires a module's `apply`/`decide` functions into [`Aggregate`].
macro_rules! aggregate {
    ($module:ident :: $state:ident, $command:ident, $event:ident $(, keys = $keys:expr)?) => {
        impl Aggregate for crate::$module::$state {
            type Command = crate::$module::$command;
            type Event = crate::$module::$event;

            fn apply(self, event: &Self::Event) -> Self {
                crate::$module::apply(self, event)
            }

            fn decide(&self, command: &Self::Command, ctx: &Context) -> Result<Vec<Self::Event>, DomainError> {
                crate::$module::decide(self, command, ctx)
            }

            $(fn unique_keys(command: &Self::Command) -> Vec<(&'static str, String)> {
                $keys(command)
            })?
        }
    };
}

aggregate!(
    project::Project,
    ProjectCommand,
    ProjectEvent,
    keys = crate::project::ProjectCommand::unique_keys
);
aggregate!(unit::Unit, UnitCommand, UnitEvent);
aggregate!(targets::Targets, TargetsCommand, TargetsEvent);
aggregate!(
    supervision::SupervisionItem,
    SupervisionCommand,
    SupervisionEvent
);
aggregate!(rules::RuleSettings, RulesCommand, RulesEvent);
