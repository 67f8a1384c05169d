//! The full role × operation × scope matrix, checked against a table written out by hand here
//! (not derived from the policy, so a change to the policy must be made twice, on purpose).

use auth::policy::matrix_markdown;
use auth::{AuthError, Identity, Operation, Role, authorize, authorize_project_command};
use domain::UnitId;
use domain::project::{ProjectCommand, ResponsibilityAssigned};
use uuid::Uuid;

use Operation::*;

/// admin, supervisor, editor, viewer, auditor: Y allowed, S allowed in scope only, - refused.
const EXPECTED: &[(Operation, [char; 5])] = &[
    (Read, ['Y', 'Y', 'Y', 'Y', 'Y']),
    (RegisterProject, ['-', '-', 'S', '-', '-']),
    (LogContact, ['-', '-', 'S', '-', '-']),
    (SignAgreement, ['-', '-', 'S', '-', '-']),
    (RegisterCompany, ['-', '-', 'S', '-', '-']),
    (AssignProjectCode, ['-', '-', 'S', '-', '-']),
    (RecordApproval, ['-', '-', 'S', '-', '-']),
    (SetAnnualPlan, ['-', '-', 'S', '-', '-']),
    (SetExpropriationTarget, ['-', '-', 'S', '-', '-']),
    (ReportExpropriationProgress, ['-', '-', 'S', '-', '-']),
    (DeliverLand, ['-', '-', 'S', '-', '-']),
    (StartConstruction, ['-', '-', 'S', '-', '-']),
    (ReportInvestment, ['-', '-', 'S', '-', '-']),
    (CorrectInvestmentReport, ['-', '-', 'S', '-', '-']),
    (CompleteConstruction, ['-', '-', 'S', '-', '-']),
    (StartProduction, ['-', '-', 'S', '-', '-']),
    (ChangeProjectStatus, ['-', '-', 'S', '-', '-']),
    (AbandonProject, ['-', '-', 'S', '-', '-']),
    (AssignResponsibility, ['-', '-', 'S', '-', '-']),
    (SubmitFeedback, ['-', 'Y', 'S', '-', '-']),
    (RequestClosure, ['-', 'Y', 'S', '-', '-']),
    (OpenSupervisionItem, ['-', 'Y', '-', '-', '-']),
    (ExtendDeadline, ['-', 'Y', '-', '-', '-']),
    (CloseSupervisionItem, ['-', 'Y', '-', '-', '-']),
    (ReturnClosure, ['-', 'Y', '-', '-', '-']),
    (RecordAccountability, ['-', 'Y', '-', '-', '-']),
    (CreateUnit, ['Y', '-', '-', '-', '-']),
    (RenameUnit, ['Y', '-', '-', '-', '-']),
    (SetTarget, ['Y', '-', '-', '-', '-']),
    (ReviseTarget, ['Y', '-', '-', '-', '-']),
    (SetLightBands, ['Y', '-', '-', '-', '-']),
    (SetRankingWeights, ['Y', '-', '-', '-', '-']),
    (CreateToken, ['Y', '-', '-', '-', '-']),
    (RevokeToken, ['Y', '-', '-', '-', '-']),
    (ListTokens, ['Y', '-', '-', '-', 'Y']),
    (ReadEvents, ['-', '-', '-', '-', 'Y']),
    (VerifyLedger, ['-', '-', '-', '-', 'Y']),
];

fn unit(s: &str) -> UnitId {
    UnitId::parse(s).unwrap()
}

/// A token of `role`; editors act for `a-town` and `b-town`, the others have no scope.
fn identity(role: Role) -> Identity {
    Identity {
        token_id: Uuid::new_v4(),
        name: format!("{role} token"),
        role,
        units: if role.is_scoped() {
            vec![unit("a-town"), unit("b-town")]
        } else {
            vec![]
        },
    }
}

#[test]
fn every_role_every_operation_in_and_out_of_scope() {
    // The table names every operation exactly once.
    let listed: Vec<Operation> = EXPECTED.iter().map(|(op, _)| *op).collect();
    let mut sorted = listed.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), listed.len(), "an operation is listed twice");
    let mut all = Operation::ALL.to_vec();
    all.sort();
    assert_eq!(sorted, all, "the table and Operation::ALL differ");

    let inside = unit("b-town");
    let outside = unit("c-town");
    let mut cases = 0;
    for (op, row) in EXPECTED {
        for (role, cell) in Role::ALL.into_iter().zip(row) {
            let who = identity(role);
            for (unit, in_scope) in [
                (Some(&inside), true),
                (Some(&outside), false),
                (None, false),
            ] {
                let expected = match cell {
                    'Y' => true,
                    'S' => in_scope,
                    _ => false,
                };
                let got = authorize(&who, *op, unit);
                assert_eq!(
                    got.is_ok(),
                    expected,
                    "{role} × {op} × unit {unit:?}: {got:?}"
                );
                if let Err(denied) = got {
                    assert_eq!(denied.operation, *op);
                    assert!(!denied.reason_en.is_empty() && !denied.reason_zh.is_empty());
                    let error = AuthError::from(denied);
                    assert_eq!(error.code(), "FORBIDDEN");
                    assert!(error.to_string().contains(op.label_zh()), "{error}");
                }
                cases += 1;
            }
        }
    }
    assert_eq!(cases, Operation::ALL.len() * Role::ALL.len() * 3);
    println!("authorization matrix: {cases} cases");
}

#[test]
fn refusals_say_why_in_both_languages() {
    let viewer = identity(Role::Viewer);
    let denied = authorize(&viewer, ReportInvestment, None).unwrap_err();
    assert_eq!(
        denied.reason_en,
        "the viewer role may not report monthly investment"
    );
    assert_eq!(denied.reason_zh, "只读用户角色无权报送月度投资");

    let editor = identity(Role::Editor);
    let denied = authorize(&editor, ReportInvestment, Some(&unit("c-town"))).unwrap_err();
    assert_eq!(
        denied.reason_en,
        "this token may report monthly investment only for the units a-town, b-town, not for c-town"
    );
    assert_eq!(
        denied.reason_zh,
        "该令牌只能为单位 a-town、b-town 报送月度投资，不能为 c-town 操作"
    );
}

fn assign(to: &str) -> ProjectCommand {
    ProjectCommand::AssignResponsibility(ResponsibilityAssigned {
        responsible_unit: unit(to),
        lead_official: "张三".into(),
        date: time::macros::date!(2026 - 03 - 01),
    })
}

#[test]
fn a_reassignment_needs_both_units_in_scope() {
    let editor = identity(Role::Editor);
    let (a, b, c) = (unit("a-town"), unit("b-town"), unit("c-town"));
    assert!(authorize_project_command(&editor, &assign("b-town"), Some(&a)).is_ok());
    // Taking a project away from another unit…
    assert!(authorize_project_command(&editor, &assign("a-town"), Some(&c)).is_err());
    // …or handing one to a unit outside the scope.
    assert!(authorize_project_command(&editor, &assign("c-town"), Some(&b)).is_err());
    // Not for a project whose unit is unknown.
    assert!(authorize_project_command(&editor, &assign("a-town"), None).is_err());
}

#[test]
fn a_registration_is_scoped_by_the_unit_it_names() {
    let editor = identity(Role::Editor);
    let register = |u: &str| {
        let mut cmd: serde_json::Value = serde_json::from_str(include_str!(
            "../../domain/tests/golden/ProjectRegistered.v1.json"
        ))
        .unwrap();
        cmd["responsible_unit"] = serde_json::json!(u);
        ProjectCommand::Register(serde_json::from_value(cmd).unwrap())
    };
    // The current unit is irrelevant (there is none yet); the named one decides.
    assert!(authorize_project_command(&editor, &register("a-town"), None).is_ok());
    assert!(
        authorize_project_command(&editor, &register("c-town"), Some(&unit("a-town"))).is_err()
    );
    let admin = identity(Role::Admin);
    assert!(authorize_project_command(&admin, &register("a-town"), None).is_err());
}

#[test]
fn docs_show_the_same_matrix() {
    let docs = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/security.md"
    ))
    .expect("docs/security.md");
    let table = matrix_markdown();
    assert!(
        docs.contains(&table),
        "docs/security.md no longer shows the policy; paste this table into it:\n\n{table}"
    );
}
