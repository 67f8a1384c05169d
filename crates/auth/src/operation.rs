//! Everything a caller can ask that access control decides on: one operation per domain command
//! (every mutation), token administration, and the reads that need more than "read all".
//!
//! The conversions from the domain's command enums match exhaustively, so a command added to the
//! domain does not compile until it has an operation here, and therefore a row in the policy.

use std::fmt;

use domain::project::ProjectCommand;
use domain::rules::RulesCommand;
use domain::supervision::SupervisionCommand;
use domain::targets::TargetsCommand;
use domain::unit::UnitCommand;

/// Which part of the policy an operation falls under (policy.rs gives each its row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Area {
    /// Ordinary queries: the ledger, dashboards, rankings, supervision items, timelines.
    Read,
    /// Commands on a project; editors only within their units.
    Project,
    /// What a responsible unit answers on a supervision item it leads (feedback, close-out request).
    SupervisionResponse,
    /// Running supervision: open, extend, close out, return, accountability.
    Supervision,
    /// Responsible units.
    Units,
    /// Annual targets.
    Targets,
    /// Rule settings (light bands, ranking weights).
    Rules,
    /// Creating and revoking tokens.
    TokenAdmin,
    /// Listing tokens (never their secrets).
    TokenList,
    /// The raw events feed and ledger verification.
    Audit,
}

macro_rules! operations {
    ($($(#[$doc:meta])* $variant:ident => $area:ident, $field:literal, $en:literal, $zh:literal;)*) => {
        /// One thing a caller may or may not do (see the module docs).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Operation {
            $($(#[$doc])* $variant,)*
        }

        impl Operation {
            /// Every operation, for exhaustive tests and the documented matrix.
            pub const ALL: &'static [Operation] = &[$(Operation::$variant,)*];

            /// The policy row it falls under.
            pub fn area(self) -> Area {
                match self { $(Operation::$variant => Area::$area,)* }
            }

            /// The GraphQL field that performs it (mutations by their name; reads by the query
            /// field), so API code and logs speak of the same thing.
            pub fn field(self) -> &'static str {
                match self { $(Operation::$variant => $field,)* }
            }

            /// What it does, in English ("register a project").
            pub fn label_en(self) -> &'static str {
                match self { $(Operation::$variant => $en,)* }
            }

            /// What it does, in Chinese (登记项目).
            pub fn label_zh(self) -> &'static str {
                match self { $(Operation::$variant => $zh,)* }
            }

            /// The operation of a GraphQL field name, if it is one of ours.
            pub fn from_field(field: &str) -> Option<Operation> {
                match field { $($field => Some(Operation::$variant),)* _ => None }
            }
        }
    };
}

operations! {
    /// Any ordinary query (ledger, dashboards, rankings, units, supervision items, timelines).
    Read => Read, "query", "read the ledger", "查询台账";

    RegisterProject => Project, "registerProject", "register a project", "登记项目";
    LogContact => Project, "logContact", "log a contact", "记录对接";
    SignAgreement => Project, "signAgreement", "record a signing", "登记签约";
    RegisterCompany => Project, "registerCompany", "register the project company", "登记注册公司";
    AssignProjectCode => Project, "assignProjectCode", "assign the national project code", "登记项目代码";
    RecordApproval => Project, "recordApproval", "record an approval", "登记审批";
    SetAnnualPlan => Project, "setAnnualPlan", "set the annual plan", "设定年度计划";
    SetExpropriationTarget => Project, "setExpropriationTarget", "set the expropriation target", "设定征迁任务";
    ReportExpropriationProgress => Project, "reportExpropriationProgress", "report expropriation progress", "报送征迁进度";
    DeliverLand => Project, "deliverLand", "record a land handover", "登记交地";
    StartConstruction => Project, "startConstruction", "record the construction start", "登记开工";
    ReportInvestment => Project, "reportInvestment", "report monthly investment", "报送月度投资";
    CorrectInvestmentReport => Project, "correctInvestmentReport", "correct an investment report", "更正投资报表";
    CompleteConstruction => Project, "completeConstruction", "record the completion", "登记竣工";
    StartProduction => Project, "startProduction", "record the production start", "登记投产";
    ChangeProjectStatus => Project, "changeProjectStatus", "change the project status", "变更项目状态";
    AbandonProject => Project, "abandonProject", "abandon a project", "终止项目";
    AssignResponsibility => Project, "assignResponsibility", "assign the responsible unit", "调整责任单位";

    SubmitFeedback => SupervisionResponse, "submitFeedback", "submit supervision feedback", "提交督办反馈";
    RequestClosure => SupervisionResponse, "requestClosure", "request a close-out", "申请销号";
    OpenSupervisionItem => Supervision, "openSupervisionItem", "open a supervision item", "立项督办";
    ExtendDeadline => Supervision, "extendDeadline", "extend a supervision deadline", "延长督办期限";
    CloseSupervisionItem => Supervision, "closeSupervisionItem", "close out a supervision item", "督办销号";
    ReturnClosure => Supervision, "returnClosure", "return a close-out request", "退回销号申请";
    RecordAccountability => Supervision, "recordAccountability", "record an accountability action", "记录问责";

    CreateUnit => Units, "createUnit", "create a unit", "新增责任单位";
    RenameUnit => Units, "renameUnit", "rename a unit", "单位更名";
    SetTarget => Targets, "setTarget", "set a target", "设定目标";
    ReviseTarget => Targets, "reviseTarget", "revise a target", "调整目标";
    SetLightBands => Rules, "setLightBands", "set the traffic-light bands", "设定灯色规则";
    SetRankingWeights => Rules, "setRankingWeights", "set the ranking weights", "设定排名权重";

    CreateToken => TokenAdmin, "createToken", "create an API token", "创建访问令牌";
    RevokeToken => TokenAdmin, "revokeToken", "revoke an API token", "吊销访问令牌";
    ListTokens => TokenList, "tokens", "list the API tokens", "查看访问令牌";

    /// The raw events feed (`events` query and subscription).
    ReadEvents => Audit, "events", "read the raw events feed", "查看原始事件";
    /// Ledger verification (`ledgerVerification`, `taizhang verify`).
    VerifyLedger => Audit, "ledgerVerification", "verify the ledger", "校验台账";
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.field())
    }
}

impl From<&ProjectCommand> for Operation {
    fn from(command: &ProjectCommand) -> Self {
        use ProjectCommand as C;
        match command {
            C::Register(_) => Operation::RegisterProject,
            C::LogContact(_) => Operation::LogContact,
            C::SignAgreement(_) => Operation::SignAgreement,
            C::RegisterCompany(_) => Operation::RegisterCompany,
            C::AssignProjectCode(_) => Operation::AssignProjectCode,
            C::RecordApproval(_) => Operation::RecordApproval,
            C::SetAnnualPlan(_) => Operation::SetAnnualPlan,
            C::SetExpropriationTarget(_) => Operation::SetExpropriationTarget,
            C::ReportExpropriationProgress(_) => Operation::ReportExpropriationProgress,
            C::DeliverLand(_) => Operation::DeliverLand,
            C::StartConstruction(_) => Operation::StartConstruction,
            C::ReportInvestment(_) => Operation::ReportInvestment,
            C::CorrectInvestmentReport(_) => Operation::CorrectInvestmentReport,
            C::CompleteConstruction(_) => Operation::CompleteConstruction,
            C::StartProduction(_) => Operation::StartProduction,
            C::ChangeStatus(_) => Operation::ChangeProjectStatus,
            C::Abandon(_) => Operation::AbandonProject,
            C::AssignResponsibility(_) => Operation::AssignResponsibility,
        }
    }
}

impl From<&SupervisionCommand> for Operation {
    fn from(command: &SupervisionCommand) -> Self {
        use SupervisionCommand as C;
        match command {
            C::Open(_) => Operation::OpenSupervisionItem,
            C::SubmitFeedback(_) => Operation::SubmitFeedback,
            C::ExtendDeadline(_) => Operation::ExtendDeadline,
            C::RequestClosure(_) => Operation::RequestClosure,
            C::Close(_) => Operation::CloseSupervisionItem,
            C::ReturnClosure(_) => Operation::ReturnClosure,
            C::RecordAccountability(_) => Operation::RecordAccountability,
        }
    }
}

impl From<&UnitCommand> for Operation {
    fn from(command: &UnitCommand) -> Self {
        match command {
            UnitCommand::Create(_) => Operation::CreateUnit,
            UnitCommand::Rename(_) => Operation::RenameUnit,
        }
    }
}

impl From<&TargetsCommand> for Operation {
    fn from(command: &TargetsCommand) -> Self {
        match command {
            TargetsCommand::Set(_) => Operation::SetTarget,
            TargetsCommand::Revise(_) => Operation::ReviseTarget,
        }
    }
}

impl From<&RulesCommand> for Operation {
    fn from(command: &RulesCommand) -> Self {
        match command {
            RulesCommand::SetLightBands(_) => Operation::SetLightBands,
            RulesCommand::SetRankingWeights(_) => Operation::SetRankingWeights,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        let mut fields = HashSet::new();
        for &op in Operation::ALL {
            assert!(fields.insert(op.field()), "{op:?} shares its field");
            assert_eq!(Operation::from_field(op.field()), Some(op));
            assert!(!op.label_en().is_empty() && !op.label_zh().is_empty());
        }
        assert_eq!(Operation::from_field("dropDatabase"), None);
    }
}
