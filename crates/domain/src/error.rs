//! Errors of the domain. Two levels: [`ValueError`] says why a raw value cannot become a value
//! type (it knows no field name); [`DomainError`] is what a refused command returns: a stable
//! code, the field at fault, and messages in English and Chinese for the API to show as is.

use serde::Serialize;
use std::fmt;

/// Stable, machine-readable error codes. API clients match on the string form
/// (SCREAMING_SNAKE_CASE); never rename a variant's string once published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    // Values (rule 1, 7).
    MoneyOutOfRange,
    /// An amount typed as text (万元) that is not an exact decimal with at most 4 decimals.
    MoneyInvalid,
    AreaInvalid,
    PeriodInvalid,
    DateInvalid,
    IdInvalid,
    ProjectCodeInvalid,
    UsccInvalid,
    TextRequired,
    TextTooLong,
    // Rule 2.
    DateInFuture,
    PeriodInFuture,
    // Rule 9.
    ActorRequired,
    // Aggregate existence.
    ProjectAlreadyRegistered,
    ProjectNotFound,
    UnitAlreadyExists,
    UnitNotFound,
    /// Another unit has (or had) this name: names are unique, so that a clerk picking 城关镇
    /// from a list gets one unit.
    UnitNameTaken,
    SupervisionItemAlreadyOpened,
    SupervisionItemNotFound,
    // Rule 3.
    SigningOnlyForAttracted,
    FormalAlreadySigned,
    FormalContractRequired,
    PlannedPeriodsOutOfOrder,
    FixedAssetExceedsContract,
    ConstructionBeforeSigning,
    ConstructionAlreadyStarted,
    ConstructionNotStarted,
    CompletionBeforeStart,
    ProductionBeforeStart,
    ProductionAlreadyStarted,
    // Rule 4.
    InvestmentBeforeStart,
    PeriodBeforeStart,
    InvestmentAlreadyReported,
    PeriodNotReported,
    CorrectionUnchanged,
    ReasonRequired,
    // Rule 5.
    ExpropriationDecreased,
    RelocatedExceedsSigned,
    AsOfBeforePrevious,
    ParcelAlreadyDelivered,
    // Rule 6.
    ProjectAbandoned,
    ProjectCompleted,
    // Rule 7 (the per-project half; uniqueness is the command handler's key reservation).
    ProjectCodeAlreadyAssigned,
    ProjectCodeTaken,
    CompanyAlreadyRegistered,
    // Status, plans, responsibility.
    StatusUnchanged,
    StatusNotAllowed,
    AnnualPlanAlreadySet,
    AnnualPlanNotSet,
    PlannedStartOutsideYear,
    YearOutOfRange,
    ResponsibilityUnchanged,
    NameUnchanged,
    // Targets.
    TargetAlreadySet,
    TargetNotSet,
    TargetUnitMismatch,
    TargetYearMismatch,
    // Supervision (rule 8).
    SupervisionItemClosed,
    FeedbackRequired,
    ClosureNotRequested,
    ClosureAlreadyRequested,
    DeadlineNotLater,
    UnitNotInvolved,
    CoUnitInvalid,
    // Rule settings.
    LightBandsInvalid,
    RankingWeightsInvalid,
}

impl ErrorCode {
    /// The published string, e.g. `INVESTMENT_ALREADY_REPORTED`.
    pub fn as_str(self) -> String {
        // Serialize derives the exact string serde uses, so the two can never disagree.
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(s)) => s,
            _ => format!("{self:?}"),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

/// Why a raw value is not a valid value of its type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{en}")]
pub struct ValueError {
    pub code: ErrorCode,
    pub en: String,
    pub zh: String,
}

impl ValueError {
    pub fn new(code: ErrorCode, en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self {
            code,
            en: en.into(),
            zh: zh.into(),
        }
    }
}

/// A refused command. Nothing is written when a command returns this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{code} {field}: {message_en}")]
pub struct DomainError {
    pub code: ErrorCode,
    /// The command field at fault, in the command's JSON spelling (e.g. `period`).
    pub field: &'static str,
    pub message_en: String,
    pub message_zh: String,
    /// What to do instead, when there is a better way (e.g. correct instead of report again).
    /// Boxed to keep `Result<_, DomainError>` small on the happy path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<Box<Hint>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hint {
    pub en: String,
    pub zh: String,
}

impl DomainError {
    pub fn new(
        code: ErrorCode,
        field: &'static str,
        en: impl Into<String>,
        zh: impl Into<String>,
    ) -> Self {
        Self {
            code,
            field,
            message_en: en.into(),
            message_zh: zh.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, en: impl Into<String>, zh: impl Into<String>) -> Self {
        self.hint = Some(Box::new(Hint {
            en: en.into(),
            zh: zh.into(),
        }));
        self
    }

    /// A value error found while reading the given field.
    pub fn invalid(field: &'static str, err: ValueError) -> Self {
        Self::new(err.code, field, err.en, err.zh)
    }
}

/// A reason, summary or name must say something.
pub fn require_text(field: &'static str, value: &str) -> Result<(), DomainError> {
    if value.trim().is_empty() {
        return Err(DomainError::new(
            if field == "reason" {
                ErrorCode::ReasonRequired
            } else {
                ErrorCode::TextRequired
            },
            field,
            format!("{field} must not be empty"),
            format!("{field} 不能为空"),
        ));
    }
    if value.chars().count() > MAX_TEXT_CHARS {
        return Err(DomainError::new(
            ErrorCode::TextTooLong,
            field,
            format!("{field} is longer than {MAX_TEXT_CHARS} characters"),
            format!("{field} 超过 {MAX_TEXT_CHARS} 个字符"),
        ));
    }
    Ok(())
}

/// Texts are ledger entries, not documents; a bound keeps one event from bloating the log.
pub const MAX_TEXT_CHARS: usize = 2000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_screaming_snake() {
        assert_eq!(
            ErrorCode::InvestmentAlreadyReported.as_str(),
            "INVESTMENT_ALREADY_REPORTED"
        );
        assert_eq!(ErrorCode::UsccInvalid.to_string(), "USCC_INVALID");
    }

    #[test]
    fn empty_reason_is_reason_required() {
        let e = require_text("reason", "  ").unwrap_err();
        assert_eq!(e.code, ErrorCode::ReasonRequired);
        assert_eq!(e.field, "reason");
        assert_eq!(
            require_text("name", "").unwrap_err().code,
            ErrorCode::TextRequired
        );
    }
}
