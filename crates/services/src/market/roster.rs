//! The pros as matching sees them, kept in this instance's memory: their facts, and which ZIPs
//! each covers. Each look first reads what changed since the previous read (`store::roster`: the
//! pros touched by transactions the last read could not see; a pro's ZIPs only when their area
//! changed), then asks the database only who was offered the lead or bought from its phone;
//! coverage, eligibility and ranking run over what is here. Every instance keeps its own copy,
//! made current from the database before each use, so nothing depends on which instance made a
//! change. What matching decides from these facts the claim re-checks under row locks: a stale
//! fact can cost an offer, never a cap, a budget or a balance.

use domain::Cents;
use domain::geo::{LatLon, Miles};
use domain::market::eligibility::{ProFacts, WeeklyHours};
use sqlx::{PgConnection, PgPool};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use store::roster::{Area, Horizon, RosterPro};
use time::{OffsetDateTime, Time};
use uuid::Uuid;

/// Changes are kept an hour (`store::roster::prune_changes`); a roster not read for half of that
/// reads everything again rather than trust a gap.
const RELOAD_AFTER: Duration = Duration::from_secs(30 * 60);

#[derive(Default)]
pub struct Roster {
    state: RwLock<State>,
    /// One read at a time: an older read applied after a newer one would bring back old facts.
    reading: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct State {
    pros: HashMap<Uuid, Arc<RosterPro>>,
    /// Each pro's covered ZIPs as last read, and the area version they were read at.
    areas: HashMap<Uuid, (i64, Vec<ZipKey>)>,
    /// The same, by ZIP: who covers it.
    covering: HashMap<ZipKey, Vec<Uuid>>,
    horizon: Option<Horizon>,
    read_at: Option<Instant>,
}

/// A ZIP as its five bytes (3 million of them for 15,000 pros: no `String` each).
type ZipKey = [u8; 5];

fn zip_key(zip: &str) -> Option<ZipKey> {
    zip.as_bytes().try_into().ok()
}

/// How many pros' ZIPs one read brings (~200 each in a metro).
const AREAS_PER_READ: usize = 500;

/// A pro's area as the roster keeps it.
struct Indexed {
    pro_id: Uuid,
    version: i64,
    zips: Vec<ZipKey>,
}

impl From<Area> for Indexed {
    fn from(area: Area) -> Self {
        Self { pro_id: area.pro_id, version: area.version, zips: area.zips.iter().filter_map(|z| zip_key(z)).collect() }
    }
}

impl State {
    fn set_area(&mut self, area: Indexed) {
        self.forget_area(area.pro_id);
        for zip in &area.zips {
            self.covering.entry(*zip).or_default().push(area.pro_id);
        }
        self.areas.insert(area.pro_id, (area.version, area.zips));
    }

    fn forget_area(&mut self, pro: Uuid) {
        let Some((_, zips)) = self.areas.remove(&pro) else { return };
        for zip in zips {
            if let Some(pros) = self.covering.get_mut(&zip) {
                pros.retain(|p| *p != pro);
                if pros.is_empty() {
                    self.covering.remove(&zip);
                }
            }
        }
    }
}

/// One candidate for one lead at one instant: the facts the rules read, and what notifying them
/// needs.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub facts: ProFacts,
    pub pro: Arc<RosterPro>,
    /// The time of day where the pro works.
    pub local_time: Time,
}

/// The lead as the candidate query needs it.
pub struct Wanted<'a> {
    pub lead_id: Uuid,
    pub zip: &'a str,
    pub category: &'a str,
    pub phone: &'a str,
    pub at: LatLon,
}

impl Roster {
    /// Reads what changed since the previous read (everything, the first time or after a long
    /// pause), on a connection of its own: facts read inside a look's transaction could be
    /// undone by its rollback, and the roster would keep them.
    pub async fn refresh(&self, pool: &PgPool) -> Result<(), sqlx::Error> {
        let _one_at_a_time = self.reading.lock().await;
        let since = {
            let state = self.state.read().unwrap_or_else(|e| e.into_inner());
            state.read_at.filter(|at| at.elapsed() < RELOAD_AFTER).and(state.horizon)
        };
        let mut conn = pool.acquire().await?;
        let (horizon, changed) = store::roster::changed(&mut conn, since).await?;
        let facts = if changed.is_empty() { Vec::new() } else { store::roster::facts(&mut conn, &changed).await? };
        // Most changes are offers, claims and top-ups: the ZIPs are read again only for a pro
        // whose area moved (or is new here). Only this one reader writes the state meanwhile.
        let moved: Vec<Uuid> = {
            let state = self.state.read().unwrap_or_else(|e| e.into_inner());
            facts
                .iter()
                .filter(|f| since.is_none() || state.areas.get(&f.pro_id).map(|a| a.0) != Some(f.area_version))
                .map(|f| f.pro_id)
                .collect()
        };
        // In slices: every ZIP of 15,000 pros is 3 million strings, which the index then keeps
        // as 5 bytes each; read at once they were the server's peak memory.
        let mut areas = Vec::with_capacity(moved.len());
        for some in moved.chunks(AREAS_PER_READ) {
            areas.extend(store::roster::areas(&mut conn, some).await?.into_iter().map(Indexed::from));
        }
        if since.is_none() {
            // Built aside, so looks keep reading the old roster meanwhile (3 million ZIPs
            // indexed at 15,000 pros).
            let mut fresh = State::default();
            for area in areas {
                fresh.set_area(area);
            }
            fresh.covering.values_mut().for_each(Vec::shrink_to_fit);
            fresh.pros = facts.into_iter().map(|f| (f.pro_id, Arc::new(f))).collect();
            fresh.horizon = Some(horizon);
            fresh.read_at = Some(Instant::now());
            *self.state.write().unwrap_or_else(|e| e.into_inner()) = fresh;
            return Ok(());
        }
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        let present: HashSet<Uuid> = facts.iter().map(|f| f.pro_id).collect();
        for pro in &changed {
            state.pros.remove(pro);
            if !present.contains(pro) {
                state.forget_area(*pro); // gone from the database
            }
        }
        for area in areas {
            state.set_area(area);
        }
        state.pros.extend(facts.into_iter().map(|f| (f.pro_id, Arc::new(f))));
        state.horizon = Some(horizon);
        state.read_at = Some(Instant::now());
        Ok(())
    }

    /// The pros whose area covers the lead's ZIP and who were not offered it yet, as of `now` in
    /// each one's time zone.
    pub async fn candidates(
        &self,
        conn: &mut PgConnection,
        lead: &Wanted<'_>,
        now: OffsetDateTime,
    ) -> Result<Vec<Candidate>, sqlx::Error> {
        let already = store::matching::already(conn, lead.lead_id, lead.phone, now).await?;
        // A pro who covers the ZIP but joined after the last read is not known here yet: the
        // next look will see them.
        let known: Vec<(Arc<RosterPro>, bool)> = {
            let state = self.state.read().unwrap_or_else(|e| e.into_inner());
            zip_key(lead.zip)
                .and_then(|zip| state.covering.get(&zip))
                .into_iter()
                .flatten()
                .filter(|pro| !already.offered.contains(pro))
                .filter_map(|pro| state.pros.get(pro).map(|p| (p.clone(), already.bought_from_phone.contains(pro))))
                .collect()
        };
        let zones: Vec<String> = known
            .iter()
            .map(|(p, _)| p.time_zone.as_str())
            .collect::<HashSet<_>>()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let local: HashMap<String, time::PrimitiveDateTime> =
            store::matching::local_times(conn, &zones, now).await?.into_iter().collect();
        Ok(known
            .into_iter()
            .filter_map(|(pro, bought)| {
                let local_now = *local.get(&pro.time_zone)?;
                Some(candidate(pro, bought, lead, local_now, now))
            })
            .collect())
    }
}

fn candidate(
    pro: Arc<RosterPro>,
    bought_from_phone: bool,
    lead: &Wanted<'_>,
    local_now: time::PrimitiveDateTime,
    now: OffsetDateTime,
) -> Candidate {
    let today = local_now.date();
    let monday = today - time::Duration::days(i64::from(today.weekday().number_days_from_monday()));
    // Offers still claimable count against the day's cap and the week's budget as if bought.
    let (live, live_cents) = pro
        .pending_expiries
        .iter()
        .zip(&pro.pending_prices)
        .filter(|(expires, _)| **expires > now)
        .fold((0i64, 0i64), |(n, cents), (_, price)| (n + 1, cents.saturating_add(*price)));
    let bought_today = if pro.bought_on == Some(today) { i64::from(pro.bought_that_day) } else { 0 };
    let spent_this_week = if pro.spent_week_of == Some(monday) { pro.spent_that_week_cents } else { 0 };
    let recent_claims = pro.last_bought_at.is_some_and(|at| at > now - time::Duration::days(30));
    let hours = pro
        .hours_weekday
        .iter()
        .zip(pro.hours_opens.iter().zip(pro.hours_closes.iter()))
        .map(|(&d, (&o, &c))| (u8::try_from(d).unwrap_or(u8::MAX), o, c))
        .collect();
    let distance = match (pro.base_lat, pro.base_lon) {
        (Some(lat), Some(lon)) => LatLon::new(lat, lon).distance_to(lead.at),
        _ => Miles(0.0),
    };
    let facts = ProFacts {
        pro_id: pro.pro_id,
        status: pro.status,
        paused: pro.paused,
        covers_zip: true,
        offers_category: pro.categories.iter().any(|c| c == lead.category),
        accepts_shared: pro.accepts_shared,
        accepts_exclusive: pro.accepts_exclusive,
        emergency_24_7: pro.emergency_24_7,
        hours: WeeklyHours(hours),
        local_now: (today.weekday(), local_now.time()),
        max_price: pro.max_price_cents.map(Cents),
        daily_cap: pro.daily_cap.map(i64::from),
        leads_today: bought_today + live,
        weekly_budget: pro.weekly_budget_cents.map(Cents),
        committed_this_week: Cents(spent_this_week.saturating_add(live_cents)),
        balance: Cents(pro.balance_cents),
        bought_from_this_phone_recently: bought_from_phone,
        distance,
        radius: Miles(f64::from(pro.radius_miles.unwrap_or(1))),
        median_claim_seconds: if recent_claims { pro.median_claim_seconds } else { None },
        rating: None,
    };
    Candidate { facts, local_time: local_now.time(), pro }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::account::ProStatus;
    use time::Weekday;
    use time::macros::{date, datetime, time};

    fn pro() -> RosterPro {
        RosterPro {
            pro_id: Uuid::nil(),
            status: ProStatus::Active,
            paused: false,
            categories: vec!["drain-cleaning".into()],
            accepts_shared: true,
            accepts_exclusive: true,
            emergency_24_7: false,
            hours_weekday: vec![0],
            hours_opens: vec![time!(08:00)],
            hours_closes: vec![time!(17:00)],
            time_zone: "America/Chicago".into(),
            max_price_cents: None,
            daily_cap: Some(3),
            weekly_budget_cents: Some(10_000),
            last_bought_at: Some(datetime!(2026-11-30 15:00 UTC)),
            bought_on: Some(date!(2026 - 11 - 30)),
            bought_that_day: 2,
            spent_week_of: Some(date!(2026 - 11 - 30)),
            spent_that_week_cents: 5_000,
            median_claim_seconds: Some(40.0),
            balance_cents: 20_000,
            base_lat: None,
            base_lon: None,
            radius_miles: Some(10),
            offer_sms: true,
            offer_email: true,
            quiet_from: None,
            quiet_until: None,
            pending_expiries: vec![datetime!(2026-11-30 16:10 UTC), datetime!(2026-11-30 16:00 UTC)],
            pending_prices: vec![2_500, 4_000],
            area_version: 0,
        }
    }

    fn wanted() -> Wanted<'static> {
        Wanted { lead_id: Uuid::nil(), zip: "55401", category: "drain-cleaning", phone: "", at: LatLon::new(0.0, 0.0) }
    }

    #[test]
    fn the_day_and_week_are_the_pros_own_and_only_claimable_offers_count() {
        let now = datetime!(2026-11-30 16:00 UTC);
        let c = candidate(Arc::new(pro()), false, &wanted(), datetime!(2026-11-30 10:00), now);
        // The offer expiring at 16:00 is no longer claimable at 16:00; the one at 16:10 is.
        assert_eq!(c.facts.leads_today, 3);
        assert_eq!(c.facts.committed_this_week, Cents(7_500));
        assert_eq!(c.facts.local_now, (Weekday::Monday, time!(10:00)));
        assert!(c.facts.offers_category);
        // The next local day counts only the live offer against the cap; the week goes on.
        let c = candidate(Arc::new(pro()), false, &wanted(), datetime!(2026-12-01 00:00), now);
        assert_eq!((c.facts.leads_today, c.facts.committed_this_week), (1, Cents(7_500)));
        let c = candidate(Arc::new(pro()), false, &wanted(), datetime!(2026-12-07 09:00), now);
        assert_eq!((c.facts.leads_today, c.facts.committed_this_week), (1, Cents(2_500)));
        // Sunday 2026-12-06 is still the week of Monday 2026-11-30.
        let c = candidate(Arc::new(pro()), false, &wanted(), datetime!(2026-12-06 23:59), now);
        assert_eq!(c.facts.committed_this_week, Cents(7_500));
    }

    #[test]
    fn a_pro_whose_area_moves_covers_only_the_new_one() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let area = |pro_id, version, zips: &[&str]| {
            Indexed::from(Area { pro_id, version, zips: zips.iter().map(|z| (*z).to_owned()).collect() })
        };
        let mut state = State::default();
        state.set_area(area(a, 1, &["55401", "55402"]));
        state.set_area(area(b, 1, &["55401"]));
        assert_eq!(state.covering[b"55401"], vec![a, b]);
        state.set_area(area(a, 2, &["60601"]));
        assert_eq!(state.covering[b"55401"], vec![b]);
        assert!(!state.covering.contains_key(b"55402"));
        assert_eq!(state.covering[b"60601"], vec![a]);
        assert_eq!(state.areas[&a].0, 2);
        state.forget_area(b);
        assert!(!state.covering.contains_key(b"55401"));
        assert_eq!(state.areas.len(), 1);
    }

    #[test]
    fn responsiveness_counts_claims_of_the_last_thirty_days_only() {
        let bought = datetime!(2026-11-30 15:00 UTC);
        let local = datetime!(2026-12-20 10:00);
        let c = candidate(
            Arc::new(pro()),
            false,
            &wanted(),
            local,
            bought + time::Duration::days(30) - time::Duration::SECOND,
        );
        assert_eq!(c.facts.median_claim_seconds, Some(40.0));
        let c = candidate(Arc::new(pro()), false, &wanted(), local, bought + time::Duration::days(30));
        assert_eq!(c.facts.median_claim_seconds, None);
    }
}
