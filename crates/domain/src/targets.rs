//! Annual targets (年度目标) of one year, for the county and per unit. Stream `targets-<year>`.

use crate::area::Mu;
use crate::context::Context;
use crate::error::{DomainError, ErrorCode, require_text};
use crate::event::{events, vocabulary};
use crate::ids::UnitId;
use crate::money::Yuan;
use crate::period::plausible_year;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

events! {
    TargetsEvent {
        TargetSet = 1,
        TargetRevised = 1,
    }
}

vocabulary!(
    /// Every target metric of DOMAIN.md; the unit of its value follows from the metric.
    TargetMetric {
        CompletedInvestment,
        FundsInPlace,
        SignedProjects,
        SignedInvestment,
        BigProjectsSigned,
        StartedProjects,
        ProductionProjects,
        ExpropriatedArea,
    }
);

impl TargetMetric {
    pub const ALL: [TargetMetric; 8] = [
        Self::CompletedInvestment,
        Self::FundsInPlace,
        Self::SignedProjects,
        Self::SignedInvestment,
        Self::BigProjectsSigned,
        Self::StartedProjects,
        Self::ProductionProjects,
        Self::ExpropriatedArea,
    ];

    /// A value of the right unit for this metric with the given magnitude, e.g. for a form.
    pub fn accepts(self, value: &TargetValue) -> bool {
        use TargetMetric as M;
        matches!(
            (self, value),
            (
                M::CompletedInvestment | M::FundsInPlace | M::SignedInvestment,
                TargetValue::Yuan(_)
            ) | (
                M::SignedProjects
                    | M::BigProjectsSigned
                    | M::StartedProjects
                    | M::ProductionProjects,
                TargetValue::Count(_)
            ) | (M::ExpropriatedArea, TargetValue::Mu(_))
        )
    }
}

/// Whose target: the county's or one unit's. JSON `{"kind":"county"}` or
/// `{"kind":"unit","unit":"xinan-town"}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "unit", rename_all = "snake_case")]
pub enum TargetScope {
    County,
    Unit(UnitId),
}

/// A target's value in the metric's unit. JSON `{"yuan": 100000000}`, `{"count": 12}` or
/// `{"mu": "300.0000"}`: the unit is spelled out so that a value is never misread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetValue {
    Yuan(Yuan),
    Count(u32),
    Mu(Mu),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetSet {
    pub year: i32,
    pub scope: TargetScope,
    pub metric: TargetMetric,
    pub value: TargetValue,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetRevised {
    pub year: i32,
    pub scope: TargetScope,
    pub metric: TargetMetric,
    pub value: TargetValue,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", content = "data", rename_all = "snake_case")]
pub enum TargetsCommand {
    Set(TargetSet),
    Revise(TargetRevised),
}

impl TargetsCommand {
    /// The year, hence the stream (`targets-<year>`), this command goes to.
    pub fn year(&self) -> i32 {
        match self {
            Self::Set(c) => c.year,
            Self::Revise(c) => c.year,
        }
    }
}

/// The targets of one year as they stand (revisions replace).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Targets {
    pub year: Option<i32>,
    pub values: BTreeMap<(TargetScope, TargetMetric), TargetValue>,
}

pub fn apply(mut s: Targets, event: &TargetsEvent) -> Targets {
    let (year, scope, metric, value) = match event {
        TargetsEvent::TargetSet(e) => (e.year, &e.scope, e.metric, e.value),
        TargetsEvent::TargetRevised(e) => (e.year, &e.scope, e.metric, e.value),
    };
    s.year = Some(year);
    s.values.insert((scope.clone(), metric), value);
    s
}

pub fn decide(
    s: &Targets,
    cmd: &TargetsCommand,
    ctx: &Context,
) -> Result<Vec<TargetsEvent>, DomainError> {
    ctx.require_actor()?;
    let (year, scope, metric, value) = match cmd {
        TargetsCommand::Set(c) => (c.year, &c.scope, c.metric, &c.value),
        TargetsCommand::Revise(c) => (c.year, &c.scope, c.metric, &c.value),
    };
    plausible_year("year", year, ctx.today)?;
    if s.year.is_some_and(|y| y != year) {
        return Err(DomainError::new(
            ErrorCode::TargetYearMismatch,
            "year",
            "the command's year is not the year of this targets stream",
            "目标年度与所在年度不一致",
        ));
    }
    if !metric.accepts(value) {
        return Err(DomainError::new(
            ErrorCode::TargetUnitMismatch,
            "value",
            format!("{metric:?} is measured in another unit"),
            "目标值的计量单位与指标不符（金额用元、个数用个、面积用亩）",
        ));
    }
    let exists = s.values.contains_key(&(scope.clone(), metric));
    let event: TargetsEvent = match cmd {
        TargetsCommand::Set(_) if exists => {
            return Err(DomainError::new(
                ErrorCode::TargetAlreadySet,
                "metric",
                format!("the {year} target for {metric:?} is already set for this scope"),
                format!("{year} 年该指标目标已下达"),
            )
            .with_hint(
                "revise it, with a reason",
                "请以调整目标的方式修改并说明原因",
            ));
        }
        TargetsCommand::Revise(_) if !exists => {
            return Err(DomainError::new(
                ErrorCode::TargetNotSet,
                "metric",
                "there is no target to revise",
                "尚未下达该目标，无法调整",
            ));
        }
        TargetsCommand::Set(c) => c.clone().into(),
        TargetsCommand::Revise(c) => {
            require_text("reason", &c.reason)?;
            c.clone().into()
        }
    };
    Ok(vec![event])
}
