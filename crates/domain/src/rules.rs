//! The county's rule settings that change the figures: traffic-light bands and ranking weights.
//! They are events (stream `rules-county`) so that a change of rule is as visible as a change
//! of data, and figures as of a past moment use the rules of that moment.

use crate::context::Context;
use crate::error::{DomainError, ErrorCode, require_text};
use crate::event::events;
use crate::period::{iso_date, not_in_future};
use crate::targets::TargetMetric;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::Date;

events! {
    RulesEvent {
        LightBandsSet = 1,
        RankingWeightsSet = 1,
    }
}

/// Light bands, in percentage points of gap (completion − time progress), and the months of
/// delay of the start light.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LightBands {
    /// Green when gap ≥ this (default −10).
    pub green_min_gap: i32,
    /// Yellow when this ≤ gap < green_min_gap, red below (default −30).
    pub yellow_min_gap: i32,
    /// Start light: yellow when the planned start is this many months past (default 1).
    pub start_yellow_months: u32,
    /// Start light: red from this many months (default 3).
    pub start_red_months: u32,
}

impl Default for LightBands {
    fn default() -> Self {
        Self {
            green_min_gap: -10,
            yellow_min_gap: -30,
            start_yellow_months: 1,
            start_red_months: 3,
        }
    }
}

/// Unit ranking: weights per target metric (a missing metric weighs 0), the cap on a metric's
/// completion and the points taken per red project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankingWeights {
    pub weights: BTreeMap<TargetMetric, u32>,
    /// Completion counts up to this many percent (default 150).
    pub completion_cap: u32,
    /// Points deducted per red project of the unit (default 2).
    pub red_project_penalty: u32,
}

impl Default for RankingWeights {
    fn default() -> Self {
        Self {
            weights: TargetMetric::ALL.iter().map(|m| (*m, 1)).collect(),
            completion_cap: 150,
            red_project_penalty: 2,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LightBandsSet {
    #[serde(flatten)]
    pub bands: LightBands,
    pub reason: String,
    #[serde(with = "iso_date")]
    pub date: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankingWeightsSet {
    #[serde(flatten)]
    pub ranking: RankingWeights,
    pub reason: String,
    #[serde(with = "iso_date")]
    pub date: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", content = "data", rename_all = "snake_case")]
pub enum RulesCommand {
    SetLightBands(LightBandsSet),
    SetRankingWeights(RankingWeightsSet),
}

/// The rules in force: DOMAIN.md's defaults until a rule event changes them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RuleSettings {
    pub bands: LightBands,
    pub ranking: RankingWeights,
}

pub fn apply(mut s: RuleSettings, event: &RulesEvent) -> RuleSettings {
    match event {
        RulesEvent::LightBandsSet(e) => s.bands = e.bands.clone(),
        RulesEvent::RankingWeightsSet(e) => s.ranking = e.ranking.clone(),
    }
    s
}

pub fn decide(
    _s: &RuleSettings,
    cmd: &RulesCommand,
    ctx: &Context,
) -> Result<Vec<RulesEvent>, DomainError> {
    ctx.require_actor()?;
    let event: RulesEvent = match cmd {
        RulesCommand::SetLightBands(c) => {
            let b = &c.bands;
            let bad = |field: &'static str| {
                DomainError::new(
                    ErrorCode::LightBandsInvalid,
                    field,
                    "bands need yellow_min_gap < green_min_gap and 0 < start_yellow_months < start_red_months",
                    "灯色区间须满足：黄灯下限 < 绿灯下限，且 0 < 开工黄灯月数 < 开工红灯月数",
                )
            };
            if b.yellow_min_gap >= b.green_min_gap {
                return Err(bad("yellow_min_gap"));
            }
            if b.start_yellow_months == 0 || b.start_red_months <= b.start_yellow_months {
                return Err(bad("start_red_months"));
            }
            require_text("reason", &c.reason)?;
            not_in_future("date", c.date, ctx.today)?;
            c.clone().into()
        }
        RulesCommand::SetRankingWeights(c) => {
            if c.ranking.weights.values().all(|w| *w == 0) {
                return Err(DomainError::new(
                    ErrorCode::RankingWeightsInvalid,
                    "weights",
                    "at least one metric must have a weight above 0",
                    "至少一项指标的权重须大于 0",
                ));
            }
            if c.ranking.completion_cap == 0 {
                return Err(DomainError::new(
                    ErrorCode::RankingWeightsInvalid,
                    "completion_cap",
                    "the completion cap must be above 0",
                    "完成率封顶值须大于 0",
                ));
            }
            require_text("reason", &c.reason)?;
            not_in_future("date", c.date, ctx.today)?;
            c.clone().into()
        }
    };
    Ok(vec![event])
}
