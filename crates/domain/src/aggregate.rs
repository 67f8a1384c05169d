//! The common shape of the aggregates, for the command handler: fold the stream with `apply`,
//! then `decide` the command.

use crate::codes::UniqueKey;
use crate::context::Context;
use crate::error::DomainError;
use crate::event::{DecodeError, DomainEvent};
use crate::project::ProjectEvent;
use crate::rules::RulesEvent;
use crate::supervision::SupervisionEvent;
use crate::targets::TargetsEvent;
use crate::unit::UnitEvent;

pub trait Aggregate: Default + Clone + PartialEq + std::fmt::Debug {
    /// Serialisable so that the command handler can recognise a retry by the command's content
    /// (a digest of its canonical JSON), not by its idempotency key alone.
    type Command: Clone + std::fmt::Debug + serde::Serialize;
    type Event: DomainEvent;

    /// Fold one event into the state; never refuses (events are facts).
    fn apply(self, event: &Self::Event) -> Self;

    /// Refuse the command or produce its events; pure, and nothing changes on refusal.
    fn decide(
        &self,
        command: &Self::Command,
        ctx: &Context,
    ) -> Result<Vec<Self::Event>, DomainError>;

    /// Unique business keys the handler reserves before appending the events.
    fn unique_keys(_command: &Self::Command) -> Vec<UniqueKey> {
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

            $(fn unique_keys(command: &Self::Command) -> Vec<UniqueKey> {
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
aggregate!(
    unit::Unit,
    UnitCommand,
    UnitEvent,
    keys = crate::unit::UnitCommand::unique_keys
);
aggregate!(targets::Targets, TargetsCommand, TargetsEvent);
aggregate!(
    supervision::SupervisionItem,
    SupervisionCommand,
    SupervisionEvent
);
aggregate!(rules::RuleSettings, RulesCommand, RulesEvent);

/// An event of any stream, for readers of `$all` (projections, export) that meet every type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnyEvent {
    Project(ProjectEvent),
    Unit(UnitEvent),
    Targets(TargetsEvent),
    Supervision(SupervisionEvent),
    Rules(RulesEvent),
}

impl AnyEvent {
    /// Every published event type with its current schema version.
    pub fn types() -> Vec<(&'static str, u32)> {
        [
            ProjectEvent::TYPES,
            UnitEvent::TYPES,
            TargetsEvent::TYPES,
            SupervisionEvent::TYPES,
            RulesEvent::TYPES,
        ]
        .concat()
    }

    /// The upcaster hook: stored data of `event_type` at `version` → data of the current version.
    /// (The store can run the same steps on read: register each of `event::UPCASTS` with
    /// `eventstore::Upcasters::register_fallible`.)
    pub fn upcast(
        event_type: &str,
        version: u32,
        data: serde_json::Value,
    ) -> Result<serde_json::Value, DecodeError> {
        let current = Self::types()
            .into_iter()
            .find(|(t, _)| *t == event_type)
            .map(|(_, v)| v)
            .ok_or_else(|| DecodeError::UnknownType(event_type.into()))?;
        crate::event::upcast(event_type, version, current, data)
    }

    pub fn event_type(&self) -> &'static str {
        match self {
            Self::Project(e) => e.event_type(),
            Self::Unit(e) => e.event_type(),
            Self::Targets(e) => e.event_type(),
            Self::Supervision(e) => e.event_type(),
            Self::Rules(e) => e.event_type(),
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Project(e) => e.to_json(),
            Self::Unit(e) => e.to_json(),
            Self::Targets(e) => e.to_json(),
            Self::Supervision(e) => e.to_json(),
            Self::Rules(e) => e.to_json(),
        }
    }

    /// Decode stored data of any known type and version (upcasting old versions).
    pub fn from_json(
        event_type: &str,
        version: u32,
        data: serde_json::Value,
    ) -> Result<Self, DecodeError> {
        fn knows<E: DomainEvent>(t: &str) -> bool {
            E::TYPES.iter().any(|(name, _)| *name == t)
        }
        let t = event_type;
        if knows::<ProjectEvent>(t) {
            ProjectEvent::from_json(t, version, data).map(Self::Project)
        } else if knows::<UnitEvent>(t) {
            UnitEvent::from_json(t, version, data).map(Self::Unit)
        } else if knows::<TargetsEvent>(t) {
            TargetsEvent::from_json(t, version, data).map(Self::Targets)
        } else if knows::<SupervisionEvent>(t) {
            SupervisionEvent::from_json(t, version, data).map(Self::Supervision)
        } else if knows::<RulesEvent>(t) {
            RulesEvent::from_json(t, version, data).map(Self::Rules)
        } else {
            Err(DecodeError::UnknownType(t.into()))
        }
    }
}
