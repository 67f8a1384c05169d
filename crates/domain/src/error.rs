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
    /// A text holding a character no ledger text may hold: NUL or another control character
    /// (line breaks and tabs are allowed where a text may have several lines).
    TextInvalid,
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

/// A reason, summary or name must say something, within its field's length
/// ([`max_chars`]), and without control characters.
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
    check_text(field, value, max_chars(field))
}

/// Texts are ledger entries, not documents; a bound keeps one event from bloating the log.
/// Summaries, reasons, contents, evidence and the monthly narratives (形象进度, 存在问题).
pub const MAX_TEXT_CHARS: usize = 2000;

/// Names and other one-line labels: a project's, a company's, an official's, a parcel number.
pub const MAX_NAME_CHARS: usize = 200;

/// An idempotency key: a UUID is 36 characters; room for a client's own scheme, not for a
/// document stored in every event's metadata.
pub const MAX_KEY_CHARS: usize = 200;

/// The one table of text lengths, by the field's JSON name: idempotency keys get
/// [`MAX_KEY_CHARS`], one-line labels [`MAX_NAME_CHARS`], everything else [`MAX_TEXT_CHARS`].
pub fn max_chars(field: &str) -> usize {
    if field == "idempotency_key" {
        MAX_KEY_CHARS
    } else if is_one_line(field) {
        MAX_NAME_CHARS
    } else {
        MAX_TEXT_CHARS
    }
}

/// Names and labels are one line; summaries, reasons and narratives may have several.
fn is_one_line(field: &str) -> bool {
    matches!(
        field,
        "name"
            | "investor_name"
            | "industry_chain"
            | "lead_official"
            | "leader_level"
            | "company_name"
            | "document_no"
            | "township"
            | "parcel_no"
            | "subject"
            | "title"
            | "idempotency_key"
    )
}

/// Refuses a text above `max` characters or holding a control character (NUL included, which
/// PostgreSQL cannot store in text or JSON); line breaks and tabs are allowed in texts of
/// several lines. The error names the field and the limit.
pub fn check_text(field: &'static str, value: &str, max: usize) -> Result<(), DomainError> {
    // Counting stops just past the limit: a 300,000-character text is not walked to its end.
    if value.chars().nth(max).is_some() {
        return Err(DomainError::new(
            ErrorCode::TextTooLong,
            field,
            format!("{field} is longer than {max} characters"),
            format!("{field} 超过 {max} 个字符"),
        ));
    }
    let multiline = !is_one_line(field);
    if let Some(bad) = value
        .chars()
        .find(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')))
    {
        return Err(DomainError::new(
            ErrorCode::TextInvalid,
            field,
            format!(
                "{field} contains the control character U+{:04X}, which a ledger text may not hold",
                u32::from(bad)
            ),
            format!(
                "{field} 含有控制字符 U+{:04X}，台账文字不能包含",
                u32::from(bad)
            ),
        ));
    }
    Ok(())
}

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

    #[test]
    fn texts_are_bounded_and_free_of_control_characters() {
        // Names are one line of at most 200 characters; summaries and reasons 2000, with lines.
        assert!(require_text("name", &"名".repeat(MAX_NAME_CHARS)).is_ok());
        let e = require_text("name", &"名".repeat(MAX_NAME_CHARS + 1)).unwrap_err();
        assert_eq!((e.code, e.field), (ErrorCode::TextTooLong, "name"));
        assert!(e.message_en.contains("200"), "{}", e.message_en);
        assert!(require_text("summary", &"要".repeat(MAX_TEXT_CHARS)).is_ok());
        let e = require_text("summary", &"要".repeat(MAX_TEXT_CHARS + 1)).unwrap_err();
        assert_eq!(e.code, ErrorCode::TextTooLong);
        assert!(require_text("summary", "第一行\n第二行\t完").is_ok());
        for (field, text) in [
            ("summary", "a\0b"),
            ("reason", "\u{1b}[31m"),
            ("name", "两\n行"),
            ("name", "nul\0"),
        ] {
            let e = require_text(field, text).unwrap_err();
            assert_eq!(
                (e.code, e.field),
                (ErrorCode::TextInvalid, field),
                "{text:?}"
            );
            assert!(e.message_zh.contains("控制字符"), "{}", e.message_zh);
        }
    }
}
