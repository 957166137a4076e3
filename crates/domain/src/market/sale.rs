//! How one lead is sold (PRODUCT.md *Matching and distribution*): shared leads go to the top
//! `2 × max_buyers` pros at once and the first `max_buyers` to claim buy it; an exclusive lead (a
//! category sold to one buyer) goes to one pro at a time. Offers expire and the next batch goes out
//! until the lead's window closes.

use crate::pricing::{Exclusivity, Urgency};
use time::{Duration, OffsetDateTime};

/// The sale's clock: PRODUCT.md's figures by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaleTiming {
    /// How long a lead is offered before it is `unsold` (or `sold` with fewer buyers).
    pub window: Duration,
    /// How long a pro has to claim a shared, non-emergency offer.
    pub offer_ttl: Duration,
    /// How long for an emergency or an exclusive offer.
    pub urgent_offer_ttl: Duration,
}

impl Default for SaleTiming {
    fn default() -> Self {
        Self { window: Duration::hours(2), offer_ttl: Duration::minutes(15), urgent_offer_ttl: Duration::minutes(5) }
    }
}

/// A lead's sale, fixed when distribution starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sale {
    pub exclusive: bool,
    pub max_buyers: i32,
    pub window_closes_at: OffsetDateTime,
}

impl Sale {
    /// The sale of a lead in a category that allows `max_buyers`: a category sold to one buyer is
    /// sold exclusively (at the exclusive multiplier).
    pub fn start(max_buyers: i32, now: OffsetDateTime, timing: &SaleTiming) -> Self {
        let max_buyers = max_buyers.max(1);
        let exclusive = Self::exclusivity_for(max_buyers) == Exclusivity::Exclusive;
        Self { exclusive, max_buyers, window_closes_at: now + timing.window }
    }

    /// How a lead in a category allowing `max_buyers` sells (and so what it costs).
    pub fn exclusivity_for(max_buyers: i32) -> Exclusivity {
        if max_buyers <= 1 { Exclusivity::Exclusive } else { Exclusivity::Shared }
    }

    pub fn exclusivity(&self) -> Exclusivity {
        if self.exclusive { Exclusivity::Exclusive } else { Exclusivity::Shared }
    }

    /// When an offer made now expires: its time to claim, never past the window.
    pub fn offer_expiry(&self, urgency: Urgency, now: OffsetDateTime, timing: &SaleTiming) -> OffsetDateTime {
        let ttl =
            if self.exclusive || urgency == Urgency::Emergency { timing.urgent_offer_ttl } else { timing.offer_ttl };
        (now + ttl).min(self.window_closes_at)
    }

    pub fn is_full(&self, buyers: i32) -> bool {
        buyers >= self.max_buyers
    }

    pub fn window_closed(&self, now: OffsetDateTime) -> bool {
        now >= self.window_closes_at
    }

    /// How many new offers to make now, given the buyers so far and the offers still live: none
    /// while a batch is out; then two per free place (shared) or one (exclusive).
    pub fn next_batch_size(&self, buyers: i32, live_offers: i32, now: OffsetDateTime) -> usize {
        if live_offers > 0 || self.is_full(buyers) || self.window_closed(now) {
            return 0;
        }
        let free = usize::try_from(self.max_buyers - buyers).unwrap_or(0);
        if self.exclusive { 1 } else { 2 * free }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-12-03 12:00 UTC);

    #[test]
    fn shared_sale_offers_two_per_free_place_one_batch_at_a_time() {
        let timing = SaleTiming::default();
        let sale = Sale::start(3, T0, &timing);
        assert!(!sale.exclusive);
        assert_eq!(sale.window_closes_at, T0 + Duration::hours(2));
        assert_eq!(sale.next_batch_size(0, 0, T0), 6);
        assert_eq!(sale.next_batch_size(0, 1, T0), 0);
        assert_eq!(sale.next_batch_size(2, 0, T0), 2);
        assert_eq!(sale.next_batch_size(3, 0, T0), 0);
        // The window: just before it closes a batch still goes out; at the close none does.
        let close = sale.window_closes_at;
        assert_eq!(sale.next_batch_size(0, 0, close - Duration::seconds(1)), 6);
        assert_eq!(sale.next_batch_size(0, 0, close), 0);
    }

    #[test]
    fn exclusive_sale_offers_one_at_a_time_for_five_minutes() {
        let timing = SaleTiming::default();
        let sale = Sale::start(1, T0, &timing);
        assert!(sale.exclusive);
        assert_eq!(sale.exclusivity(), Exclusivity::Exclusive);
        assert_eq!(sale.next_batch_size(0, 0, T0), 1);
        assert_eq!(sale.offer_expiry(Urgency::Flexible, T0, &timing), T0 + Duration::minutes(5));
    }

    #[test]
    fn offers_last_fifteen_minutes_five_for_emergencies_and_never_past_the_window() {
        let timing = SaleTiming::default();
        let sale = Sale::start(3, T0, &timing);
        assert_eq!(sale.offer_expiry(Urgency::Within48h, T0, &timing), T0 + Duration::minutes(15));
        assert_eq!(sale.offer_expiry(Urgency::Emergency, T0, &timing), T0 + Duration::minutes(5));
        let late = sale.window_closes_at - Duration::minutes(3);
        assert_eq!(sale.offer_expiry(Urgency::Within48h, late, &timing), sale.window_closes_at);
    }
}

/// Hours a pro wants no texts, in their own time zone; may run past midnight (22:00–07:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub from: time::Time,
    pub until: time::Time,
}

impl QuietHours {
    /// Whether `at` falls in the quiet hours (`from` included, `until` not).
    pub fn contains(&self, at: time::Time) -> bool {
        if self.from <= self.until { self.from <= at && at < self.until } else { at >= self.from || at < self.until }
    }
}

#[cfg(test)]
mod quiet_tests {
    use super::QuietHours;
    use time::macros::time;

    #[test]
    fn quiet_hours_may_run_past_midnight_and_are_pinned_at_both_ends() {
        let night = QuietHours { from: time!(22:00), until: time!(07:00) };
        assert!(!night.contains(time!(21:59:59)));
        assert!(night.contains(time!(22:00)));
        assert!(night.contains(time!(03:00)));
        assert!(night.contains(time!(06:59:59)));
        assert!(!night.contains(time!(07:00)));
        let lunch = QuietHours { from: time!(12:00), until: time!(13:00) };
        assert!(lunch.contains(time!(12:30)));
        assert!(!lunch.contains(time!(13:00)));
        assert!(!lunch.contains(time!(11:59:59)));
    }
}
