//! Who may be offered a lead (PRODUCT.md *Matching and distribution*), and, for anyone left out,
//! the first rule that left them out — what `/api/v1/pro/missed` tells a pro.

use crate::Cents;
use crate::account::ProStatus;
use crate::geo::Miles;
use crate::pricing::Urgency;
use serde::Serialize;
use time::{Time, Weekday};
use uuid::Uuid;

/// The lead as matching sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadFacts {
    pub category: String,
    pub urgency: Urgency,
    pub exclusive: bool,
    pub price: Cents,
}

/// Opening hours: per weekday (Monday = 0), opens..closes in the pro's own time zone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WeeklyHours(pub Vec<(u8, Time, Time)>);

impl WeeklyHours {
    /// Whether the pro is open at this local weekday and time (opening time included, closing
    /// time not).
    pub fn open_at(&self, weekday: Weekday, at: Time) -> bool {
        let day = weekday.number_days_from_monday();
        self.0.iter().any(|&(d, opens, closes)| d == day && opens <= at && at < closes)
    }
}

/// A pro as matching sees them at one instant: their settings and the figures that move
/// (today's and this week's purchases and live offers, the balance).
#[derive(Debug, Clone, PartialEq)]
pub struct ProFacts {
    pub pro_id: Uuid,
    pub status: ProStatus,
    pub paused: bool,
    pub covers_zip: bool,
    pub offers_category: bool,
    pub accepts_shared: bool,
    pub accepts_exclusive: bool,
    pub emergency_24_7: bool,
    pub hours: WeeklyHours,
    /// The weekday and time it is now where the pro works.
    pub local_now: (Weekday, Time),
    pub max_price: Option<Cents>,
    pub daily_cap: Option<i64>,
    /// Leads bought today plus offers still claimable.
    pub leads_today: i64,
    pub weekly_budget: Option<Cents>,
    /// Spent this week plus the price of offers still claimable.
    pub committed_this_week: Cents,
    pub balance: Cents,
    pub bought_from_this_phone_recently: bool,
    pub distance: Miles,
    pub radius: Miles,
    /// Median seconds from offer to claim over the last 30 days; `None` with no claims yet.
    pub median_claim_seconds: Option<f64>,
    /// Mean review rating, 1–5; `None` until reviews exist.
    pub rating: Option<f64>,
}

/// Why a pro was not offered a lead: the first rule, in this order, that left them out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    NotActive,
    Paused,
    OutsideArea,
    ServiceNotOffered,
    SharedNotAccepted,
    ExclusiveNotAccepted,
    ClosedNow,
    PriceAboveMax,
    CapReached,
    BudgetReached,
    BalanceTooLow,
    BoughtFromThisPhone,
    /// Eligible, but others ranked higher while the places lasted.
    RankedBelow,
}

impl Exclusion {
    pub const ALL: [Exclusion; 13] = [
        Exclusion::NotActive,
        Exclusion::Paused,
        Exclusion::OutsideArea,
        Exclusion::ServiceNotOffered,
        Exclusion::SharedNotAccepted,
        Exclusion::ExclusiveNotAccepted,
        Exclusion::ClosedNow,
        Exclusion::PriceAboveMax,
        Exclusion::CapReached,
        Exclusion::BudgetReached,
        Exclusion::BalanceTooLow,
        Exclusion::BoughtFromThisPhone,
        Exclusion::RankedBelow,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Exclusion::NotActive => "not_active",
            Exclusion::Paused => "paused",
            Exclusion::OutsideArea => "outside_area",
            Exclusion::ServiceNotOffered => "service_not_offered",
            Exclusion::SharedNotAccepted => "shared_not_accepted",
            Exclusion::ExclusiveNotAccepted => "exclusive_not_accepted",
            Exclusion::ClosedNow => "closed_now",
            Exclusion::PriceAboveMax => "price_above_max",
            Exclusion::CapReached => "cap_reached",
            Exclusion::BudgetReached => "budget_reached",
            Exclusion::BalanceTooLow => "balance_too_low",
            Exclusion::BoughtFromThisPhone => "bought_from_this_phone",
            Exclusion::RankedBelow => "ranked_below",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// The first rule that keeps `pro` from being offered `lead`; `None` when they are eligible.
pub fn first_exclusion(lead: &LeadFacts, pro: &ProFacts) -> Option<Exclusion> {
    let closed = || {
        lead.urgency == Urgency::Emergency
            && !pro.emergency_24_7
            && !pro.hours.open_at(pro.local_now.0, pro.local_now.1)
    };
    let checks: [(bool, Exclusion); 12] = [
        (pro.status != ProStatus::Active, Exclusion::NotActive),
        (pro.paused, Exclusion::Paused),
        (!pro.covers_zip, Exclusion::OutsideArea),
        (!pro.offers_category, Exclusion::ServiceNotOffered),
        (!lead.exclusive && !pro.accepts_shared, Exclusion::SharedNotAccepted),
        (lead.exclusive && !pro.accepts_exclusive, Exclusion::ExclusiveNotAccepted),
        (closed(), Exclusion::ClosedNow),
        (pro.max_price.is_some_and(|max| lead.price > max), Exclusion::PriceAboveMax),
        (pro.daily_cap.is_some_and(|cap| pro.leads_today >= cap), Exclusion::CapReached),
        (
            pro.weekly_budget.is_some_and(|b| pro.committed_this_week.0.saturating_add(lead.price.0) > b.0),
            Exclusion::BudgetReached,
        ),
        (pro.balance < lead.price, Exclusion::BalanceTooLow),
        (pro.bought_from_this_phone_recently, Exclusion::BoughtFromThisPhone),
    ];
    checks.into_iter().find_map(|(fails, why)| fails.then_some(why))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::time;

    pub(crate) fn eligible_pro() -> ProFacts {
        ProFacts {
            pro_id: Uuid::nil(),
            status: ProStatus::Active,
            paused: false,
            covers_zip: true,
            offers_category: true,
            accepts_shared: true,
            accepts_exclusive: true,
            emergency_24_7: false,
            hours: WeeklyHours((0..5).map(|d| (d, time!(08:00), time!(17:00))).collect()),
            local_now: (Weekday::Wednesday, time!(10:00)),
            max_price: Some(Cents(10_000)),
            daily_cap: Some(5),
            leads_today: 0,
            weekly_budget: Some(Cents(50_000)),
            committed_this_week: Cents(0),
            balance: Cents(20_000),
            bought_from_this_phone_recently: false,
            distance: Miles(3.0),
            radius: Miles(15.0),
            median_claim_seconds: None,
            rating: None,
        }
    }

    pub(crate) fn lead() -> LeadFacts {
        LeadFacts {
            category: "drain-cleaning".into(),
            urgency: Urgency::Within48h,
            exclusive: false,
            price: Cents(2_500),
        }
    }

    #[test]
    fn each_value_reads_back_as_itself() {
        for e in Exclusion::ALL {
            assert_eq!(Exclusion::parse(e.as_str()), Some(e));
            assert_eq!(serde_json::to_value(e).ok(), Some(serde_json::Value::from(e.as_str())));
        }
    }

    #[test]
    fn an_eligible_pro_is_not_left_out() {
        assert_eq!(first_exclusion(&lead(), &eligible_pro()), None);
    }

    #[test]
    fn each_rule_leaves_out_with_its_own_reason() {
        let l = lead();
        type Change = fn(&mut ProFacts);
        let cases: Vec<(Change, Exclusion)> = vec![
            (|p| p.status = ProStatus::PendingApproval, Exclusion::NotActive),
            (|p| p.paused = true, Exclusion::Paused),
            (|p| p.covers_zip = false, Exclusion::OutsideArea),
            (|p| p.offers_category = false, Exclusion::ServiceNotOffered),
            (|p| p.accepts_shared = false, Exclusion::SharedNotAccepted),
            (|p| p.max_price = Some(Cents(2_499)), Exclusion::PriceAboveMax),
            (|p| p.leads_today = 5, Exclusion::CapReached),
            (|p| p.committed_this_week = Cents(47_501), Exclusion::BudgetReached),
            (|p| p.balance = Cents(2_499), Exclusion::BalanceTooLow),
            (|p| p.bought_from_this_phone_recently = true, Exclusion::BoughtFromThisPhone),
        ];
        for (change, why) in cases {
            let mut p = eligible_pro();
            change(&mut p);
            assert_eq!(first_exclusion(&l, &p), Some(why), "{why:?}");
        }
    }

    #[test]
    fn limits_are_pinned_on_both_sides() {
        let l = lead();
        let with = |f: fn(&mut ProFacts)| {
            let mut p = eligible_pro();
            f(&mut p);
            first_exclusion(&l, &p)
        };
        // Price: equal to the maximum is fine, a cent over is not.
        assert_eq!(with(|p| p.max_price = Some(Cents(2_500))), None);
        assert_eq!(with(|p| p.max_price = Some(Cents(2_499))), Some(Exclusion::PriceAboveMax));
        // Daily cap 5: four so far leaves room for a fifth.
        assert_eq!(with(|p| p.leads_today = 4), None);
        assert_eq!(with(|p| p.leads_today = 5), Some(Exclusion::CapReached));
        // Budget 500.00: 475.00 committed + 25.00 fits exactly.
        assert_eq!(with(|p| p.committed_this_week = Cents(47_500)), None);
        assert_eq!(with(|p| p.committed_this_week = Cents(47_501)), Some(Exclusion::BudgetReached));
        assert_eq!(with(|p| p.balance = Cents(2_500)), None);
        assert_eq!(with(|p| p.balance = Cents(2_499)), Some(Exclusion::BalanceTooLow));
    }

    #[test]
    fn emergencies_need_open_hours_or_24_7() {
        let mut l = lead();
        l.urgency = Urgency::Emergency;
        let mut p = eligible_pro();
        p.local_now = (Weekday::Wednesday, time!(16:59:59));
        assert_eq!(first_exclusion(&l, &p), None);
        p.local_now = (Weekday::Wednesday, time!(17:00));
        assert_eq!(first_exclusion(&l, &p), Some(Exclusion::ClosedNow));
        p.local_now = (Weekday::Saturday, time!(10:00));
        assert_eq!(first_exclusion(&l, &p), Some(Exclusion::ClosedNow));
        p.emergency_24_7 = true;
        assert_eq!(first_exclusion(&l, &p), None);
        // A lead that can wait does not need the pro open right now.
        p.emergency_24_7 = false;
        assert_eq!(first_exclusion(&lead(), &p), None);
    }

    #[test]
    fn exclusive_leads_need_a_pro_who_takes_them() {
        let mut l = lead();
        l.exclusive = true;
        let mut p = eligible_pro();
        p.accepts_shared = false;
        assert_eq!(first_exclusion(&l, &p), None);
        p.accepts_exclusive = false;
        p.accepts_shared = true;
        assert_eq!(first_exclusion(&l, &p), Some(Exclusion::ExclusiveNotAccepted));
    }

    proptest! {
        /// Whatever the figures, an offered pro can pay, is within cap and budget, and the
        /// price is within their maximum.
        #[test]
        fn an_eligible_pro_can_always_afford_the_lead(
            price in 1i64..100_000,
            balance in 0i64..200_000,
            max_price in proptest::option::of(1i64..100_000),
            cap in proptest::option::of(1i64..20),
            today in 0i64..25,
            budget in proptest::option::of(1i64..500_000),
            committed in 0i64..500_000,
        ) {
            let mut l = lead();
            l.price = Cents(price);
            let mut p = eligible_pro();
            p.balance = Cents(balance);
            p.max_price = max_price.map(Cents);
            p.daily_cap = cap;
            p.leads_today = today;
            p.weekly_budget = budget.map(Cents);
            p.committed_this_week = Cents(committed);
            if first_exclusion(&l, &p).is_none() {
                prop_assert!(balance >= price);
                prop_assert!(max_price.is_none_or(|m| price <= m));
                prop_assert!(cap.is_none_or(|c| today < c));
                prop_assert!(budget.is_none_or(|b| committed + price <= b));
            } else {
                prop_assert!(
                    balance < price
                        || max_price.is_some_and(|m| price > m)
                        || cap.is_some_and(|c| today >= c)
                        || budget.is_some_and(|b| committed + price > b)
                );
            }
        }
    }
}
