//! The unit ranking (五比五晒): weighted mean of min(completion, cap) over the unit's targets for
//! Y, minus a penalty per red project; ties broken by YTD completed investment.

use crate::ratio::{Hundredths, Ratio};
use crate::{Figures, Light, Scope};
use domain::rules::RankingWeights;
use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitRank {
    pub year: i32,
    pub unit_id: String,
    /// 1 is best; exact ties (score and YTD) share a rank.
    pub rank: u32,
    /// `None` for a unit without a weighted target: it ranks last.
    pub score: Option<Hundredths>,
    /// Targets that carry weight.
    pub target_count: u32,
    pub red_projects: u32,
    pub ytd_investment: i64,
}

impl Figures<'_> {
    pub fn unit_ranking(&self) -> Vec<UnitRank> {
        let rule = self.ranking_rule.clone();
        let defaults = RankingWeights::default();
        let (cap, penalty) = match &rule {
            Some(r) => (r.completion_cap, r.red_project_penalty),
            None => (defaults.completion_cap, defaults.red_project_penalty),
        };
        let progress = self.target_progress();
        let mut reds_and_ytd: std::collections::HashMap<&str, (u32, i64)> = Default::default();
        for f in self.projects.iter().filter(|f| !f.view.abandoned) {
            let e = reds_and_ytd.entry(&f.view.unit).or_default();
            e.0 += u32::from(f.light == Some(Light::Red));
            e.1 += f.ytd_investment;
        }
        let mut rows: Vec<(Option<Ratio>, UnitRank)> = self
            .units()
            .map(|unit| {
                let (mut weighted, mut weights, mut target_count) = (0i128, 0i128, 0u32);
                for tp in progress
                    .iter()
                    .filter(|t| t.scope.code() == unit && t.scope != Scope::County)
                {
                    let Some(completion) = tp.completion else {
                        continue;
                    };
                    let weight = i128::from(match &rule {
                        None => 1,
                        Some(r) => r.weights.get(&tp.metric).copied().unwrap_or(0),
                    });
                    weighted += weight * i128::from(completion.0.min(i64::from(cap) * 100));
                    weights += weight;
                    target_count += u32::from(weight > 0);
                }
                let (reds, ytd) = reds_and_ytd.get(unit).copied().unwrap_or_default();
                let score = Ratio::new(weighted, weights * 100)
                    .map(|w| w - Ratio::int(i128::from(penalty) * i128::from(reds)));
                let row = UnitRank {
                    year: self.year,
                    unit_id: unit.to_owned(),
                    rank: 0,
                    score: score.map(Ratio::hundredths),
                    target_count,
                    red_projects: reds,
                    ytd_investment: ytd,
                };
                (score, row)
            })
            .collect();
        // Higher score first, units without a score last, then higher YTD; the slug keeps the
        // order of exact ties stable.
        let better = |a: &(Option<Ratio>, UnitRank), b: &(Option<Ratio>, UnitRank)| -> Ordering {
            let by_score = match (a.0, b.0) {
                (Some(x), Some(y)) => y.cmp(&x),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            };
            by_score.then(b.1.ytd_investment.cmp(&a.1.ytd_investment))
        };
        rows.sort_by(|a, b| better(a, b).then_with(|| a.1.unit_id.cmp(&b.1.unit_id)));
        let mut ranked: Vec<UnitRank> = Vec::with_capacity(rows.len());
        for i in 0..rows.len() {
            let rank = if i > 0 && better(&rows[i - 1], &rows[i]) == Ordering::Equal {
                ranked[i - 1].rank
            } else {
                i as u32 + 1
            };
            ranked.push(UnitRank {
                rank,
                ..rows[i].1.clone()
            });
        }
        ranked
    }
}
