//! The one place that decides who may do what.
//!
//! | area (operations)                                        | admin | supervisor | editor   | viewer | auditor |
//! |----------------------------------------------------------|-------|------------|----------|--------|---------|
//! | Read (ordinary queries)                                  | yes   | yes        | yes      | yes    | yes     |
//! | Project (every project command)                          | –     | –          | in scope | –      | –       |
//! | SupervisionResponse (submitFeedback, requestClosure)     | –     | yes        | in scope | –      | –       |
//! | Supervision (open, extend, close out, return, 问责)       | –     | yes        | –        | –      | –       |
//! | Units, Targets, Rules                                    | yes   | –          | –        | –      | –       |
//! | TokenAdmin (createToken, revokeToken)                    | yes   | –          | –        | –      | –       |
//! | TokenList (tokens)                                       | yes   | –          | –        | –      | yes     |
//! | Audit (events feed, ledger verification)                 | –     | –          | –        | –      | yes     |
//!
//! "In scope": the unit the operation concerns is one of the token's units. For a project that is
//! its responsible unit (for a registration, the unit it is registered to; for a reassignment,
//! both the current and the new unit); for feedback on a supervision item, the unit giving it
//! (the rules accept only the item's lead unit or a co-unit); for a close-out request, the item's
//! lead unit. Responsible units answer the items they are part of (反馈、申请销号); the
//! supervision office runs the rest.
//!
//! Roles are deliberately disjoint: an admin configures but does not write project figures or
//! read the raw events feed (it would mint itself an auditor token for that, which leaves a
//! record). docs/security.md shows the same matrix operation by operation; a test keeps the two
//! equal.

use domain::UnitId;
use domain::project::ProjectCommand;

use crate::operation::Area;
use crate::{Denied, Identity, Operation, Role};

/// One cell of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    Allow,
    /// Allowed for the units in the token's scope only.
    InScope,
    Deny,
}

/// The matrix: what `role` may do in `area`.
pub fn grant(role: Role, area: Area) -> Grant {
    use Grant::*;
    use Role::*;
    match (area, role) {
        (Area::Read, _) => Allow,
        (Area::Project, Editor) => InScope,
        (Area::SupervisionResponse, Supervisor) => Allow,
        (Area::SupervisionResponse, Editor) => InScope,
        (Area::Supervision, Supervisor) => Allow,
        (Area::Units | Area::Targets | Area::Rules | Area::TokenAdmin, Admin) => Allow,
        (Area::TokenList, Admin | Auditor) => Allow,
        (Area::Audit, Auditor) => Allow,
        _ => Deny,
    }
}

/// May `identity` perform `operation`? `unit` is the unit the operation concerns (see the
/// module docs); it matters only for scoped grants, and `None` there means "unknown", which is
/// refused rather than guessed.
pub fn authorize(
    identity: &Identity,
    operation: Operation,
    unit: Option<&UnitId>,
) -> Result<(), Denied> {
    let refuse = |reason_en: String, reason_zh: String| {
        tracing::info!(
            token_id = %identity.token_id,
            role = %identity.role,
            operation = %operation,
            unit = unit.map(UnitId::as_str),
            reason = %reason_en,
            "forbidden"
        );
        Err(Denied {
            operation,
            reason_en,
            reason_zh,
        })
    };
    match grant(identity.role, operation.area()) {
        Grant::Allow => Ok(()),
        Grant::Deny => refuse(
            format!(
                "the {} role may not {}",
                identity.role,
                operation.label_en()
            ),
            format!(
                "{}角色无权{}",
                identity.role.name_zh(),
                operation.label_zh()
            ),
        ),
        Grant::InScope => match unit {
            Some(u) if identity.covers(u) => Ok(()),
            Some(u) => refuse(
                format!(
                    "this token may {} only for the units {}, not for {u}",
                    operation.label_en(),
                    list(&identity.units, ", ")
                ),
                format!(
                    "该令牌只能为单位 {} {}，不能为 {u} 操作",
                    list(&identity.units, "、"),
                    operation.label_zh()
                ),
            ),
            None => refuse(
                format!(
                    "the unit responsible is unknown, so this token may not {} here",
                    operation.label_en()
                ),
                format!("无法确定责任单位，该令牌无权在此{}", operation.label_zh()),
            ),
        },
    }
}

/// [`authorize`] for a project command, naming the units it concerns: `current_unit` is the
/// project's responsible unit as the stream has it now (`None` for a project not registered
/// yet). A registration concerns the unit it names; a reassignment concerns both the unit giving
/// the project away and the one receiving it, so an editor can neither take a project from
/// another unit nor hand one to a unit outside its scope.
pub fn authorize_project_command(
    identity: &Identity,
    command: &ProjectCommand,
    current_unit: Option<&UnitId>,
) -> Result<(), Denied> {
    let operation = Operation::from(command);
    match command {
        ProjectCommand::Register(c) => authorize(identity, operation, Some(&c.responsible_unit)),
        ProjectCommand::AssignResponsibility(c) => {
            authorize(identity, operation, current_unit)?;
            authorize(identity, operation, Some(&c.responsible_unit))
        }
        _ => authorize(identity, operation, current_unit),
    }
}

fn list(units: &[UnitId], separator: &str) -> String {
    if units.is_empty() {
        return "(none)".to_owned();
    }
    units
        .iter()
        .map(UnitId::as_str)
        .collect::<Vec<_>>()
        .join(separator)
}

/// The matrix operation by operation, as the Markdown table in docs/security.md.
pub fn matrix_markdown() -> String {
    let mut out = String::from("| operation | area |");
    for role in Role::ALL {
        out.push_str(&format!(" {role} |"));
    }
    out.push_str("\n|---|---|");
    out.push_str(&"---|".repeat(Role::ALL.len()));
    out.push('\n');
    for &op in Operation::ALL {
        out.push_str(&format!(
            "| `{}` ({}) | {:?} |",
            op.field(),
            op.label_zh(),
            op.area()
        ));
        for role in Role::ALL {
            out.push_str(match grant(role, op.area()) {
                Grant::Allow => " yes |",
                Grant::InScope => " in scope |",
                Grant::Deny => " – |",
            });
        }
        out.push('\n');
    }
    out
}
