//! Commands on a project. Each carries the data of the event it asks for: `decide` either
//! refuses it or records exactly that event, so the API and the log speak one vocabulary.

use super::events::*;
use crate::codes::UniqueKey;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", content = "data", rename_all = "snake_case")]
pub enum ProjectCommand {
    Register(ProjectRegistered),
    LogContact(ContactLogged),
    SignAgreement(AgreementSigned),
    RegisterCompany(CompanyRegistered),
    AssignProjectCode(ProjectCodeAssigned),
    RecordApproval(ApprovalObtained),
    SetAnnualPlan(AnnualPlanSet),
    SetExpropriationTarget(ExpropriationTargetSet),
    ReportExpropriationProgress(ExpropriationProgressReported),
    DeliverLand(LandDelivered),
    StartConstruction(ConstructionStarted),
    ReportInvestment(InvestmentReported),
    CorrectInvestmentReport(InvestmentReportCorrected),
    CompleteConstruction(ConstructionCompleted),
    StartProduction(ProductionStarted),
    ChangeStatus(StatusChanged),
    Abandon(ProjectAbandoned),
    AssignResponsibility(ResponsibilityAssigned),
}

impl ProjectCommand {
    /// Unique business keys the command handler must reserve (kind, key) before appending:
    /// the national project code belongs to one project only (rule 7).
    pub fn unique_keys(&self) -> Vec<UniqueKey> {
        match self {
            Self::AssignProjectCode(c) => vec![c.code.reservation_key()],
            _ => Vec::new(),
        }
    }
}
