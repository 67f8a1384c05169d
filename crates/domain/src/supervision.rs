//! Supervision items (督办事项) on lagging projects: opened, followed up with feedback, closed out
//! (销号) after a closure request, or returned (退办). Stream `supervision-<uuid>`.

use crate::context::Context;
use crate::error::{DomainError, ErrorCode, require_text};
use crate::event::{events, vocabulary};
use crate::ids::{ProjectId, UnitId};
use crate::period::{iso_date, not_in_future};
use serde::{Deserialize, Serialize};
use time::Date;

events! {
    SupervisionEvent {
        SupervisionItemOpened = 1,
        FeedbackSubmitted = 1,
        DeadlineExtended = 1,
        ClosureRequested = 1,
        ItemClosed = 1,
        ClosureReturned = 1,
        AccountabilityRecorded = 1,
    }
}

vocabulary!(SupervisionCategory {
    /// 征迁
    Expropriation,
    /// 要素保障
    FactorSupport,
    /// 审批
    Approval,
    /// 资金
    Funding,
    /// 其他
    Other,
});

vocabulary!(AccountabilityKind {
    /// 约谈
    Interview,
    /// 通报
    Notice,
    /// 问责
    Accountability,
    /// 调整
    Adjustment,
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupervisionItemOpened {
    pub project: ProjectId,
    pub title: String,
    pub category: SupervisionCategory,
    pub lead_unit: UnitId,
    pub co_units: Vec<UnitId>,
    #[serde(with = "iso_date")]
    pub deadline: Date,
    #[serde(with = "iso_date")]
    pub date: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackSubmitted {
    pub unit: UnitId,
    pub content: String,
    #[serde(with = "iso_date")]
    pub date: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineExtended {
    #[serde(with = "iso_date")]
    pub deadline: Date,
    pub reason: String,
    #[serde(with = "iso_date")]
    pub date: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosureRequested {
    pub summary: String,
    #[serde(with = "iso_date")]
    pub date: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemClosed {
    pub note: Option<String>,
    #[serde(with = "iso_date")]
    pub date: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosureReturned {
    pub reason: String,
    #[serde(with = "iso_date")]
    pub date: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountabilityRecorded {
    pub kind: AccountabilityKind,
    /// The person or unit held to account, as written in the decision.
    pub subject: String,
    pub reason: String,
    #[serde(with = "iso_date")]
    pub date: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", content = "data", rename_all = "snake_case")]
pub enum SupervisionCommand {
    Open(SupervisionItemOpened),
    SubmitFeedback(FeedbackSubmitted),
    ExtendDeadline(DeadlineExtended),
    RequestClosure(ClosureRequested),
    Close(ItemClosed),
    ReturnClosure(ClosureReturned),
    RecordAccountability(AccountabilityRecorded),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SupervisionStatus {
    Open,
    ClosureRequested,
    Closed,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SupervisionItem {
    pub opened: Option<SupervisionItemOpened>,
    pub status: Option<SupervisionStatus>,
    pub deadline: Option<Date>,
    pub feedback_count: u32,
    pub closed_on: Option<Date>,
    pub accountability_count: u32,
}

pub fn apply(mut s: SupervisionItem, event: &SupervisionEvent) -> SupervisionItem {
    use SupervisionEvent as E;
    match event {
        E::SupervisionItemOpened(e) => {
            s.deadline = Some(e.deadline);
            s.status = Some(SupervisionStatus::Open);
            s.opened = Some(e.clone());
        }
        E::FeedbackSubmitted(_) => s.feedback_count += 1,
        E::DeadlineExtended(e) => s.deadline = Some(e.deadline),
        E::ClosureRequested(_) => s.status = Some(SupervisionStatus::ClosureRequested),
        E::ItemClosed(e) => {
            s.status = Some(SupervisionStatus::Closed);
            s.closed_on = Some(e.date);
        }
        E::ClosureReturned(_) => s.status = Some(SupervisionStatus::Open),
        E::AccountabilityRecorded(_) => s.accountability_count += 1,
    }
    s
}

fn refuse(code: ErrorCode, field: &'static str, en: &str, zh: &str) -> DomainError {
    DomainError::new(code, field, en, zh)
}

/// Rule 8 and the close-out workflow. A closed item accepts only accountability records
/// (accountability often follows the close-out).
pub fn decide(
    s: &SupervisionItem,
    cmd: &SupervisionCommand,
    ctx: &Context,
) -> Result<Vec<SupervisionEvent>, DomainError> {
    use SupervisionCommand as C;
    ctx.require_actor()?;
    let date = match cmd {
        C::Open(c) => c.date,
        C::SubmitFeedback(c) => c.date,
        C::ExtendDeadline(c) => c.date,
        C::RequestClosure(c) => c.date,
        C::Close(c) => c.date,
        C::ReturnClosure(c) => c.date,
        C::RecordAccountability(c) => c.date,
    };
    not_in_future("date", date, ctx.today)?;
    let (Some(opened), Some(status)) = (&s.opened, s.status) else {
        return match cmd {
            C::Open(c) => open(c).map(|e| vec![e.into()]),
            _ => Err(refuse(
                ErrorCode::SupervisionItemNotFound,
                "item_id",
                "no such supervision item",
                "该督办事项不存在",
            )),
        };
    };
    if status == SupervisionStatus::Closed && !matches!(cmd, C::RecordAccountability(_)) {
        return Err(refuse(
            ErrorCode::SupervisionItemClosed,
            "item_id",
            "the item is closed out; only accountability can still be recorded",
            "该事项已销号，只能登记问责",
        ));
    }
    let event: SupervisionEvent = match cmd {
        C::Open(_) => {
            return Err(refuse(
                ErrorCode::SupervisionItemAlreadyOpened,
                "item_id",
                "the supervision item is already opened",
                "该督办事项已立项",
            ));
        }
        C::SubmitFeedback(c) => {
            if c.unit != opened.lead_unit && !opened.co_units.contains(&c.unit) {
                return Err(refuse(
                    ErrorCode::UnitNotInvolved,
                    "unit",
                    "only the lead unit or a co-unit gives feedback",
                    "只有牵头单位或配合单位可以反馈",
                ));
            }
            require_text("content", &c.content)?;
            c.clone().into()
        }
        C::ExtendDeadline(c) => {
            if s.deadline.is_some_and(|d| c.deadline <= d) {
                return Err(refuse(
                    ErrorCode::DeadlineNotLater,
                    "deadline",
                    "an extension needs a deadline later than the current one",
                    "延期后的期限须晚于当前期限",
                ));
            }
            require_text("reason", &c.reason)?;
            c.clone().into()
        }
        C::RequestClosure(c) => {
            if status == SupervisionStatus::ClosureRequested {
                return Err(refuse(
                    ErrorCode::ClosureAlreadyRequested,
                    "item_id",
                    "closure is already requested",
                    "已申请销号",
                ));
            }
            require_feedback(s)?;
            require_text("summary", &c.summary)?;
            c.clone().into()
        }
        C::Close(c) => {
            require_feedback(s)?;
            require_requested(status)?;
            // The note is optional, and bounded like every ledger text when given.
            if let Some(note) = &c.note {
                crate::error::check_text("note", note, crate::error::max_chars("note"))?;
            }
            c.clone().into()
        }
        C::ReturnClosure(c) => {
            require_requested(status)?;
            require_text("reason", &c.reason)?;
            c.clone().into()
        }
        C::RecordAccountability(c) => {
            require_text("subject", &c.subject)?;
            require_text("reason", &c.reason)?;
            c.clone().into()
        }
    };
    Ok(vec![event])
}

fn open(c: &SupervisionItemOpened) -> Result<SupervisionItemOpened, DomainError> {
    require_text("title", &c.title)?;
    if c.deadline < c.date {
        return Err(refuse(
            ErrorCode::DeadlineNotLater,
            "deadline",
            "the deadline is before the opening date",
            "办理期限早于立项日期",
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    if c.co_units
        .iter()
        .any(|u| *u == c.lead_unit || !seen.insert(u))
    {
        return Err(refuse(
            ErrorCode::CoUnitInvalid,
            "co_units",
            "co-units must differ from the lead unit and from each other",
            "配合单位不能与牵头单位相同，也不能重复",
        ));
    }
    Ok(c.clone())
}

/// Rule 8: a supervision item is closed only after feedback.
fn require_feedback(s: &SupervisionItem) -> Result<(), DomainError> {
    if s.feedback_count == 0 {
        return Err(refuse(
            ErrorCode::FeedbackRequired,
            "item_id",
            "an item is closed out only after feedback",
            "事项须有办理反馈后才能销号",
        ));
    }
    Ok(())
}

fn require_requested(status: SupervisionStatus) -> Result<(), DomainError> {
    if status != SupervisionStatus::ClosureRequested {
        return Err(refuse(
            ErrorCode::ClosureNotRequested,
            "item_id",
            "closure has not been requested",
            "尚未申请销号",
        ));
    }
    Ok(())
}
