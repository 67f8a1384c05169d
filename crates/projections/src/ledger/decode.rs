//! From a recorded event to the domain event it carries, with the stream's identity.

use domain::DomainEvent;
use domain::project::ProjectEvent;
use domain::rules::RulesEvent;
use domain::supervision::SupervisionEvent;
use domain::targets::TargetsEvent;
use domain::unit::UnitEvent;
use eventstore::RecordedEvent;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::ProjectionError;

/// The aggregate an event belongs to, decoded.
#[derive(Debug, Clone)]
pub enum Aggregate {
    Project(Uuid, ProjectEvent),
    Unit(String, UnitEvent),
    Targets(TargetsEvent),
    Supervision(Uuid, SupervisionEvent),
    Rules(RulesEvent),
    /// Streams the read models do not show (e.g. key reservations).
    Other,
}

/// A recorded event with its decoded payload and the envelope facts the tables keep.
#[derive(Debug, Clone)]
pub struct Decoded<'a> {
    pub event: &'a RecordedEvent,
    pub aggregate: Aggregate,
    /// Recorded-at time as RFC 3339 text.
    pub recorded_at: String,
    /// Who recorded it (metadata `actor`).
    pub actor: String,
}

fn bad(event: &RecordedEvent, why: impl std::fmt::Display) -> ProjectionError {
    ProjectionError::at(
        event,
        format!(
            "cannot read {} {} at version {} of {}: {why}",
            event.event_type, event.id, event.version, event.stream
        ),
    )
}

fn typed<E: DomainEvent>(event: &RecordedEvent) -> Result<E, ProjectionError> {
    E::from_json(&event.event_type, event.schema_version, event.data.clone())
        .map_err(|e| bad(event, e))
}

fn uuid_of(event: &RecordedEvent, id: &str) -> Result<Uuid, ProjectionError> {
    Uuid::parse_str(id).map_err(|e| bad(event, format!("stream id is not a UUID: {e}")))
}

/// The actor as recorded in the metadata: a string, or an object with a name and/or an id.
pub fn actor_of(metadata: &serde_json::Value) -> String {
    match metadata.get("actor") {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Object(o)) => {
            let name = o.get("name").and_then(|v| v.as_str());
            let id = o.get("id").and_then(|v| v.as_str());
            match (name, id) {
                (Some(n), Some(i)) if n != i => format!("{n} ({i})"),
                (Some(n), _) => n.to_string(),
                (None, Some(i)) => i.to_string(),
                (None, None) => "unknown".to_string(),
            }
        }
        _ => "unknown".to_string(),
    }
}

pub fn decode(event: &RecordedEvent) -> Result<Decoded<'_>, ProjectionError> {
    let (category, id) = event
        .stream
        .split_once('-')
        .ok_or_else(|| bad(event, "stream name has no category"))?;
    let aggregate = match category {
        "project" => Aggregate::Project(uuid_of(event, id)?, typed(event)?),
        "unit" => Aggregate::Unit(id.to_string(), typed(event)?),
        "targets" => Aggregate::Targets(typed(event)?),
        "supervision" => Aggregate::Supervision(uuid_of(event, id)?, typed(event)?),
        "rules" => Aggregate::Rules(typed(event)?),
        _ => Aggregate::Other,
    };
    let recorded_at = event
        .recorded_at
        .format(&Rfc3339)
        .map_err(|e| bad(event, format!("recorded-at cannot be formatted: {e}")))?;
    Ok(Decoded {
        event,
        aggregate,
        recorded_at,
        actor: actor_of(&event.metadata),
    })
}
