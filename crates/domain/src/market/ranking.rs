//! In what order eligible pros are offered a lead: a weighted score of distance, responsiveness,
//! rating and fairness, each in 0..=1 (1 is best). Each offer stores its components, so a pro can
//! be shown why they ranked where they did.

use super::eligibility::{Exclusion, LeadFacts, ProFacts, first_exclusion};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use uuid::Uuid;

/// How much each component counts; configuration (`PLUMBERLEADS_RANK_WEIGHTS`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Weights {
    pub distance: f64,
    pub responsiveness: f64,
    pub rating: f64,
    pub fairness: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Self { distance: 0.4, responsiveness: 0.25, rating: 0.15, fairness: 0.2 }
    }
}

/// A median time to claim this long scores one half: quick answerers serve homeowners best.
pub const RESPONSIVENESS_HALF_SECONDS: f64 = 120.0;
/// Without claims or reviews yet, a pro scores the middle, neither helped nor hurt.
pub const NEUTRAL: f64 = 0.5;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Score {
    pub score: f64,
    pub distance: f64,
    pub responsiveness: f64,
    pub rating: f64,
    pub fairness: f64,
}

/// Scores one pro's fit; nothing here decides eligibility.
pub fn score(pro: &ProFacts, weights: &Weights) -> Score {
    let unit = |x: f64| if x.is_finite() { x.clamp(0.0, 1.0) } else { 0.0 };
    let distance = unit(1.0 - pro.distance.0 / pro.radius.0.max(1.0));
    let responsiveness =
        pro.median_claim_seconds.map_or(NEUTRAL, |m| unit(1.0 / (1.0 + m.max(0.0) / RESPONSIVENESS_HALF_SECONDS)));
    let rating = pro.rating.map_or(NEUTRAL, |r| unit((r - 1.0) / 4.0));
    // Fairness: the less of this week's budget a pro has used, the higher; without a budget,
    // the fewer leads so far today.
    let fairness = match pro.weekly_budget {
        Some(b) if b.0 > 0 => unit(1.0 - pro.committed_this_week.0 as f64 / b.0 as f64),
        _ => unit(1.0 / (1.0 + pro.leads_today as f64)),
    };
    let w = weights;
    let total = w.distance + w.responsiveness + w.rating + w.fairness;
    let weighted =
        w.distance * distance + w.responsiveness * responsiveness + w.rating * rating + w.fairness * fairness;
    let score = if total > 0.0 { unit(weighted / total) } else { 0.0 };
    Score { score, distance, responsiveness, rating, fairness }
}

/// The outcome of matching one lead against its candidates.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    /// The pros to offer it to now, best first.
    pub chosen: Vec<(Uuid, Score)>,
    /// Everyone else, with the first rule that left them out.
    pub left_out: Vec<(Uuid, Exclusion)>,
}

/// Ranks `candidates` for `lead` and picks the best `places`. Ties go to the nearer pro, then to
/// the id, so the same facts always give the same order.
pub fn rank(lead: &LeadFacts, candidates: &[ProFacts], weights: &Weights, places: usize) -> Ranking {
    let mut eligible = Vec::new();
    let mut left_out = Vec::new();
    for pro in candidates {
        match first_exclusion(lead, pro) {
            None => eligible.push((pro, score(pro, weights))),
            Some(why) => left_out.push((pro.pro_id, why)),
        }
    }
    eligible.sort_by(|(a, sa), (b, sb)| {
        sb.score
            .partial_cmp(&sa.score)
            .unwrap_or(Ordering::Equal)
            .then(a.distance.0.partial_cmp(&b.distance.0).unwrap_or(Ordering::Equal))
            .then(a.pro_id.cmp(&b.pro_id))
    });
    let mut chosen = Vec::with_capacity(places.min(eligible.len()));
    for (i, (pro, s)) in eligible.into_iter().enumerate() {
        if i < places {
            chosen.push((pro.pro_id, s));
        } else {
            left_out.push((pro.pro_id, Exclusion::RankedBelow));
        }
    }
    Ranking { chosen, left_out }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cents;
    use crate::geo::Miles;
    use crate::market::eligibility::tests::{eligible_pro, lead};
    use proptest::prelude::*;

    fn pro(id: u128, distance: f64) -> ProFacts {
        let mut p = eligible_pro();
        p.pro_id = Uuid::from_u128(id);
        p.distance = Miles(distance);
        p
    }

    #[test]
    fn nearer_quicker_better_rated_and_less_served_pros_rank_higher() {
        let w = Weights::default();
        let base = score(&pro(1, 5.0), &w);
        assert!(score(&pro(1, 1.0), &w).score > base.score);
        let mut quick = pro(1, 5.0);
        quick.median_claim_seconds = Some(30.0);
        assert!(score(&quick, &w).score > base.score);
        let mut rated = pro(1, 5.0);
        rated.rating = Some(4.8);
        assert!(score(&rated, &w).score > base.score);
        let mut busy = pro(1, 5.0);
        busy.committed_this_week = Cents(40_000);
        assert!(score(&busy, &w).score < base.score);
    }

    #[test]
    fn newcomers_score_neutral_for_what_is_not_known_yet() {
        let s = score(&pro(1, 0.0), &Weights::default());
        assert_eq!(s.responsiveness, NEUTRAL);
        assert_eq!(s.rating, NEUTRAL);
        assert_eq!(s.distance, 1.0);
    }

    #[test]
    fn picks_the_best_places_and_says_why_the_rest_were_left_out() {
        let mut paused = pro(9, 0.5);
        paused.paused = true;
        let candidates = vec![pro(1, 8.0), pro(2, 2.0), paused, pro(3, 4.0)];
        let r = rank(&lead(), &candidates, &Weights::default(), 2);
        let chosen: Vec<Uuid> = r.chosen.iter().map(|(id, _)| *id).collect();
        assert_eq!(chosen, vec![Uuid::from_u128(2), Uuid::from_u128(3)]);
        assert!(r.left_out.contains(&(Uuid::from_u128(9), Exclusion::Paused)));
        assert!(r.left_out.contains(&(Uuid::from_u128(1), Exclusion::RankedBelow)));
        assert_eq!(r.left_out.len(), 2);
    }

    proptest! {
        #[test]
        fn scores_stay_in_unit_range_and_everyone_is_accounted_for(
            pros in proptest::collection::vec(
                (0.0f64..200.0, proptest::option::of(0.0f64..100_000.0), proptest::option::of(1.0f64..5.0),
                 0i64..100_000, any::<bool>()),
                0..40),
            places in 0usize..12,
        ) {
            let candidates: Vec<ProFacts> = pros.iter().enumerate().map(|(i, &(d, m, r, committed, paused))| {
                let mut p = pro(i as u128, d);
                p.median_claim_seconds = m;
                p.rating = r;
                p.committed_this_week = Cents(committed);
                p.paused = paused;
                p
            }).collect();
            let ranking = rank(&lead(), &candidates, &Weights::default(), places);
            prop_assert!(ranking.chosen.len() <= places);
            prop_assert_eq!(ranking.chosen.len() + ranking.left_out.len(), candidates.len());
            for (_, s) in &ranking.chosen {
                for c in [s.score, s.distance, s.responsiveness, s.rating, s.fairness] {
                    prop_assert!((0.0..=1.0).contains(&c));
                }
            }
            prop_assert!(ranking.chosen.windows(2).all(|w| w[0].1.score >= w[1].1.score));
            // Nobody ranked below is better than someone chosen.
            let worst = ranking.chosen.last().map(|(_, s)| s.score);
            for (id, why) in &ranking.left_out {
                if *why == Exclusion::RankedBelow {
                    let p = candidates.iter().find(|p| p.pro_id == *id);
                    let s = p.map(|p| score(p, &Weights::default()).score);
                    let fair = match (worst, s) {
                        (None, _) => places == 0,
                        (Some(w), Some(s)) => s <= w,
                        (Some(_), None) => false,
                    };
                    prop_assert!(fair);
                }
            }
        }
    }
}
