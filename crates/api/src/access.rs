//! Access control in the API: the one place where every root field is checked (docs/security.md).
//!
//! The HTTP and WebSocket handlers authenticate the caller once per request or connection and
//! put its [`Identity`] into the request's (or connection's) data. Then every root field of
//! `Query`, `Mutation` and `Subscription` passes [`query_root`], [`mutation_root`] or
//! [`subscription_root`], applied to the whole type by its `#[Object(guard = …)]` (so a new field
//! cannot forget it): the field's [`Operation`] comes from [`operation_of`], and the role must be
//! granted it. A field without an operation is refused, never let through. Scopes need the unit
//! an operation concerns, which only the command's state knows: project and supervision commands
//! carry `Gate::project_guard` / `Gate::supervision_guard` into
//! `CommandHandler::handle_guarded` (see `schema/mutation.rs`).

use async_graphql::Context;
use auth::{AuthError, Identity, Operation};

use crate::error::ApiError;
use crate::schema::State;

/// Query root fields that are ordinary reads (`Operation::Read`). The other query fields are
/// operations of their own (`events`, `ledgerVerification`, `tokens`).
pub const READ_FIELDS: &[&str] = &[
    "node",
    "project",
    "projects",
    "units",
    "unit",
    "dashboard",
    "targets",
    "unitRanking",
    "supervisionItems",
    "projections",
];

/// The operation of root field `field` of root type `root` (`Query`, `Mutation`,
/// `Subscription`), or `None` for a field access control does not know (refused).
pub fn operation_of(root: &str, field: &str) -> Option<Operation> {
    match (root, field) {
        ("Query", f) if READ_FIELDS.contains(&f) => Some(Operation::Read),
        ("Query", "events" | "ledgerVerification" | "tokens") => Operation::from_field(field),
        // The batch is the monthly report once per item (each item is scoped on its own).
        ("Mutation", "reportInvestments") => Some(Operation::ReportInvestment),
        ("Mutation", f) => Operation::from_field(f).filter(|op| op.area() != auth::Area::Read),
        ("Subscription", "events") => Some(Operation::ReadEvents),
        ("Subscription", "dashboard") => Some(Operation::Read),
        _ => None,
    }
}

/// Marks data of a WebSocket connection: there every root field also counts against the token's
/// rate limit (over HTTP the request as a whole counted when it was authenticated).
#[derive(Debug, Clone, Copy)]
pub struct OverWebSocket;

/// The caller of the request being resolved.
pub fn identity<'a>(ctx: &Context<'a>) -> Result<&'a Identity, ApiError> {
    // Every path into the schema authenticates first; a missing identity is a wiring fault, and
    // the safe answer to it is no.
    ctx.data_opt::<Identity>()
        .ok_or(ApiError::Auth(AuthError::Unauthenticated))
}

fn check(root: &'static str, ctx: &Context<'_>) -> async_graphql::Result<()> {
    let state = ctx.data::<State>()?;
    let identity = identity(ctx)?;
    let field = ctx.item.node.name.node.as_str();
    let Some(operation) = operation_of(root, field) else {
        tracing::error!(
            root,
            field,
            "a root field without an access rule was refused"
        );
        return Err(ApiError::Auth(AuthError::Forbidden {
            operation: Operation::Read,
            reason_en: format!("{root}.{field} has no access rule"),
            reason_zh: format!("{root}.{field} 未配置访问规则"),
        })
        .into());
    };
    if ctx.data_opt::<OverWebSocket>().is_some() {
        state.gate.rate_limit(identity).map_err(ApiError::Auth)?;
    }
    state
        .gate
        .authorize_role(identity, operation)
        .map_err(ApiError::Auth)?;
    Ok(())
}

/// The guard of every `Query` field.
pub fn query_root(ctx: &Context<'_>) -> async_graphql::Result<()> {
    check("Query", ctx)
}

/// The guard of every `Mutation` field.
pub fn mutation_root(ctx: &Context<'_>) -> async_graphql::Result<()> {
    check("Mutation", ctx)
}

/// The guard of every `Subscription` field (checked once, when the subscription starts).
pub fn subscription_root(ctx: &Context<'_>) -> async_graphql::Result<()> {
    check("Subscription", ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The root types' field names, from the schema's SDL.
    fn root_fields() -> Vec<(String, String)> {
        use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
        let doc =
            async_graphql::parser::parse_schema(crate::schema::sdl()).expect("the SDL parses");
        let mut out = Vec::new();
        for definition in doc.definitions {
            if let TypeSystemDefinition::Type(t) = definition
                && let TypeKind::Object(object) = &t.node.kind
            {
                let root = t.node.name.node.as_str();
                if ["Query", "Mutation", "Subscription"].contains(&root) {
                    for f in &object.fields {
                        out.push((root.to_owned(), f.node.name.node.to_string()));
                    }
                }
            }
        }
        out
    }

    #[test]
    fn every_root_field_of_the_schema_has_an_operation() {
        let fields = root_fields();
        for (root, name) in &fields {
            assert!(
                operation_of(root, name).is_some(),
                "{root}.{name} has no operation: add it to access::operation_of"
            );
        }
        assert!(fields.len() > 40, "only {} root fields found", fields.len());
        // And every operation of the policy is a field of the schema.
        for &op in Operation::ALL {
            if op.area() == auth::Area::Read {
                continue;
            }
            assert!(
                fields.iter().any(|(_, f)| f == op.field()),
                "{op:?} has no field {}",
                op.field()
            );
        }
    }

    #[test]
    fn unknown_fields_have_no_operation() {
        assert_eq!(operation_of("Query", "dropTables"), None);
        assert_eq!(operation_of("Mutation", "query"), None);
        assert_eq!(operation_of("Mutation", "dropTables"), None);
        assert_eq!(operation_of("Subscription", "tokens"), None);
        assert_eq!(operation_of("Other", "events"), None);
    }
}
