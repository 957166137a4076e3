//! A plumbing business's profile, as onboarding collects it: licence, service area, services,
//! opening hours, lead preferences. Each part is parsed from what the form sent, with errors in
//! words a plumber can act on; [`Checklist`] says what remains before leads can flow.

use crate::lead::{FieldError, text};
use crate::{Cents, Zip};
use time::Time;

fn err(field: &'static str, message: &str) -> FieldError {
    FieldError { field, message: message.to_owned() }
}

/// The 50 states, DC and the territories that license plumbers.
pub const STATES: [&str; 56] = [
    "AK", "AL", "AR", "AS", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "GA", "GU", "HI", "IA", "ID", "IL", "IN", "KS",
    "KY", "LA", "MA", "MD", "ME", "MI", "MN", "MO", "MP", "MS", "MT", "NC", "ND", "NE", "NH", "NJ", "NM", "NV", "NY",
    "OH", "OK", "OR", "PA", "PR", "RI", "SC", "SD", "TN", "TX", "UT", "VA", "VI", "VT", "WA", "WI", "WV", "WY",
];

/// US time zones people pick from (IANA names).
pub const TIME_ZONES: [(&str, &str); 9] = [
    ("America/New_York", "Eastern"),
    ("America/Chicago", "Central"),
    ("America/Denver", "Mountain"),
    ("America/Phoenix", "Arizona (no daylight saving)"),
    ("America/Los_Angeles", "Pacific"),
    ("America/Anchorage", "Alaska"),
    ("Pacific/Honolulu", "Hawaii"),
    ("America/Puerto_Rico", "Atlantic (Puerto Rico, Virgin Islands)"),
    ("Pacific/Guam", "Chamorro (Guam, Northern Mariana Islands)"),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Licence {
    pub number: String,
    pub state: String,
}

impl Licence {
    pub fn parse(number: &str, state: &str) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let number = match text::single_line(number) {
            Ok(n) if n.is_empty() => {
                errors.push(err("licence_number", "Please give your plumbing licence number."));
                None
            }
            Ok(n) if n.chars().count() > 40 => {
                errors.push(err("licence_number", "That licence number is too long — 40 characters at most."));
                None
            }
            Ok(n) if !n.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | ' ' | '/' | '.')) => {
                errors.push(err(
                    "licence_number",
                    "A licence number has letters, digits, spaces, dashes and slashes only.",
                ));
                None
            }
            Ok(n) => Some(n.to_uppercase()),
            Err(_) => {
                errors.push(err(
                    "licence_number",
                    "There's a hidden character in the licence number — could you type it again?",
                ));
                None
            }
        };
        let state = state.trim().to_uppercase();
        if !STATES.contains(&state.as_str()) {
            errors.push(err("licence_state", "Please choose the state that issued your licence."));
        }
        match number {
            Some(number) if errors.is_empty() => Ok(Self { number, state }),
            _ => Err(errors),
        }
    }
}

/// Where a pro works: every ZIP within `radius_miles` of `base`, plus any picked by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceArea {
    pub base: Zip,
    pub radius_miles: u16,
    pub extra: Vec<Zip>,
}

impl ServiceArea {
    pub const MAX_RADIUS: u16 = 100;
    pub const MAX_EXTRA: usize = 200;

    /// `extra` is ZIPs separated by commas, spaces or new lines.
    pub fn parse(base: &str, radius: &str, extra: &str) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let base =
            Zip::parse(base).map_err(|_| errors.push(err("base_zip", "Your base ZIP code is 5 digits, like 55401.")));
        let radius = match radius.trim().parse::<u16>() {
            Ok(r) if (1..=Self::MAX_RADIUS).contains(&r) => Some(r),
            _ => {
                errors.push(err("radius_miles", "Choose how far you travel: 1 to 100 miles."));
                None
            }
        };
        let mut zips = Vec::new();
        for word in extra.split(|c: char| c == ',' || c.is_whitespace()).filter(|w| !w.is_empty()) {
            match Zip::parse(word) {
                Ok(z) if !zips.contains(&z) => zips.push(z),
                Ok(_) => {}
                Err(_) => {
                    errors.push(FieldError {
                        field: "extra_zips",
                        message: format!(
                            "“{}” isn't a ZIP code — each is 5 digits.",
                            word.chars().take(12).collect::<String>()
                        ),
                    });
                    break;
                }
            }
        }
        if zips.len() > Self::MAX_EXTRA {
            errors.push(err("extra_zips", "That's a lot of ZIP codes — 200 at most. A larger radius may be easier."));
        }
        match (base, radius) {
            (Ok(base), Some(radius_miles)) if errors.is_empty() => Ok(Self { base, radius_miles, extra: zips }),
            _ => Err(errors),
        }
    }
}

/// Opening hours for one weekday (Monday = 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayHours {
    pub weekday: u8,
    pub opens: Time,
    pub closes: Time,
}

pub const WEEKDAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hours {
    pub days: Vec<DayHours>,
    pub time_zone: String,
    pub emergency_24_7: bool,
}

fn parse_time(s: &str) -> Option<Time> {
    let (h, m) = s.trim().split_once(':')?;
    Time::from_hms(h.parse().ok()?, m.parse().ok()?, 0).ok()
}

impl Hours {
    /// `days[i]` is (open?, opens "HH:MM", closes "HH:MM") for weekday i.
    pub fn parse(
        days: &[(bool, String, String); 7],
        time_zone: &str,
        emergency_24_7: bool,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut out = Vec::new();
        for (i, (open, opens, closes)) in days.iter().enumerate() {
            if !open {
                continue;
            }
            match (parse_time(opens), parse_time(closes)) {
                (Some(o), Some(c)) if c > o => out.push(DayHours { weekday: i as u8, opens: o, closes: c }),
                (Some(_), Some(_)) => errors.push(FieldError {
                    field: "hours",
                    message: format!("On {} you close before you open — check the times?", WEEKDAYS[i]),
                }),
                _ => errors.push(FieldError {
                    field: "hours",
                    message: format!(
                        "Please give opening and closing times for {}, like 08:00 and 17:00.",
                        WEEKDAYS[i]
                    ),
                }),
            }
        }
        if !TIME_ZONES.iter().any(|(tz, _)| *tz == time_zone) {
            errors.push(err("time_zone", "Please choose your time zone."));
        }
        if out.is_empty() && !emergency_24_7 && errors.is_empty() {
            errors.push(err("hours", "Tell us at least one day you take jobs, or that you answer emergencies 24/7."));
        }
        if errors.is_empty() {
            Ok(Self { days: out, time_zone: time_zone.to_owned(), emergency_24_7 })
        } else {
            Err(errors)
        }
    }
}

/// What leads a pro wants, and the hard limits the platform will never exceed for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeadPreferences {
    pub max_price: Option<Cents>,
    pub shared: bool,
    pub exclusive: bool,
    pub daily_cap: Option<i32>,
    pub weekly_budget: Option<Cents>,
    pub paused: bool,
}

/// An amount that isn't dollars and cents we can take (each field says it in its own words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotDollars;

/// "$42", "42.5", "1,200.00" → cents. Empty → None (no limit).
pub fn parse_dollars(s: &str) -> Result<Option<Cents>, NotDollars> {
    let s: String = s.trim().trim_start_matches('$').chars().filter(|c| *c != ',').collect();
    if s.is_empty() {
        return Ok(None);
    }
    let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(NotDollars);
    }
    let dollars: i64 = whole.parse().map_err(|_| NotDollars)?;
    let cents: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().map_err(|_| NotDollars)? };
    let total = dollars.checked_mul(100).and_then(|d| d.checked_add(cents)).ok_or(NotDollars)?;
    if total == 0 || total > 100_000_000 { Err(NotDollars) } else { Ok(Some(Cents(total))) }
}

/// The most a limit in cents may be: $1,000,000.
const MAX_LIMIT_CENTS: i64 = 100_000_000;

impl LeadPreferences {
    /// From what the portal's form sent: amounts in dollars as people write them.
    pub fn parse(
        max_price: &str,
        shared: bool,
        exclusive: bool,
        daily_cap: &str,
        weekly_budget: &str,
        paused: bool,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let max_price = parse_dollars(max_price).map_err(|NotDollars| {
            errors.push(err(
                "max_price",
                "Write the most you'll pay for one lead in dollars, like 60 or 60.00 — or leave it empty.",
            ))
        });
        let weekly_budget = parse_dollars(weekly_budget).map_err(|NotDollars| {
            errors.push(err(
                "weekly_budget",
                "Write your weekly budget in dollars, like 500 — or leave it empty for no limit.",
            ))
        });
        let daily_cap = match daily_cap.trim() {
            "" => Ok(None),
            s => s.parse::<i64>().map(Some).map_err(|_| errors.push(daily_cap_error())),
        };
        // What could not be read is left out of the range checks, so each field is named once.
        let typed = Self::new(
            max_price.unwrap_or(None),
            shared,
            exclusive,
            daily_cap.unwrap_or(None),
            weekly_budget.unwrap_or(None),
            paused,
        );
        match typed {
            Ok(p) if errors.is_empty() => Ok(p),
            Ok(_) => Err(errors),
            Err(more) => {
                errors.extend(more);
                Err(errors)
            }
        }
    }

    /// From typed values (the JSON API): the same limits, whatever the shape they came in.
    pub fn new(
        max_price: Option<Cents>,
        shared: bool,
        exclusive: bool,
        daily_cap: Option<i64>,
        weekly_budget: Option<Cents>,
        paused: bool,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let in_range = |c: Option<Cents>| c.is_none_or(|c| (1..=MAX_LIMIT_CENTS).contains(&c.0));
        if !in_range(max_price) {
            errors
                .push(err("max_price", "The most you'll pay for one lead is from $0.01 to $1,000,000 — or no limit."));
        }
        if !in_range(weekly_budget) {
            errors.push(err("weekly_budget", "A weekly budget is from $0.01 to $1,000,000 — or no limit."));
        }
        let daily_cap = match daily_cap.map(i32::try_from) {
            None => None,
            Some(Ok(n)) if (1..=1000).contains(&n) => Some(n),
            Some(_) => {
                errors.push(daily_cap_error());
                None
            }
        };
        if !shared && !exclusive {
            errors.push(lead_types_error());
        }
        if errors.is_empty() {
            Ok(Self { max_price, shared, exclusive, daily_cap, weekly_budget, paused })
        } else {
            Err(errors)
        }
    }
}

fn daily_cap_error() -> FieldError {
    err("daily_cap", "The most leads a day is a whole number from 1 to 1000 — or leave it empty.")
}

fn lead_types_error() -> FieldError {
    err("lead_types", "Choose shared leads, exclusive leads, or both.")
}

/// How a pro hears of new offers: by text, by e-mail (the inbox and its live feed always), and
/// the hours texts wait for (emergencies excepted). Quiet hours may run past midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notifications {
    pub sms: bool,
    pub email: bool,
    /// (from, until), in the pro's time zone.
    pub quiet: Option<(Time, Time)>,
}

impl Notifications {
    pub fn parse(sms: bool, email: bool, quiet_from: &str, quiet_until: &str) -> Result<Self, Vec<FieldError>> {
        let quiet = match (quiet_from.trim(), quiet_until.trim()) {
            ("", "") => None,
            (from, until) => match (parse_time(from), parse_time(until)) {
                (Some(from), Some(until)) if from != until => Some((from, until)),
                (Some(_), Some(_)) => {
                    return Err(vec![err("quiet_hours", "Quiet hours start and end at different times.")]);
                }
                _ => {
                    return Err(vec![err(
                        "quiet_hours",
                        "Give both times for quiet hours, like 21:00 and 07:00 — or leave both empty.",
                    )]);
                }
            },
        };
        Ok(Self { sms, email, quiet })
    }
}

/// What a pro's account has, for the checklist.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub email_verified: bool,
    pub phone_verified: bool,
    pub licence: bool,
    pub insurance: bool,
    pub service_area: bool,
    pub services: bool,
    pub hours: bool,
    pub preferences: bool,
}

impl Progress {
    /// Everything a pro can do is done: staff can review the licence and insurance.
    pub fn ready_for_review(&self) -> bool {
        let Progress { email_verified, phone_verified, licence, insurance, service_area, services, hours, preferences } =
            *self;
        email_verified && phone_verified && licence && insurance && service_area && services && hours && preferences
    }

    /// The checklist in the order a pro meets it: (item, done, what to do about it).
    pub fn checklist(&self) -> [(&'static str, bool, &'static str); 8] {
        [
            ("email_verified", self.email_verified, "Confirm your e-mail address with the link we sent you."),
            ("phone_verified", self.phone_verified, "Confirm your mobile number with the code we texted you."),
            ("business", self.licence, "Give your business name and plumbing licence."),
            ("insurance", self.insurance, "Upload your insurance certificate."),
            ("area", self.service_area, "Say where you work: a base ZIP code and how far you travel."),
            ("services", self.services, "Choose the kinds of job you do."),
            ("hours", self.hours, "Say when you take jobs."),
            ("preferences", self.preferences, "Choose which leads you want and your limits."),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licences_need_a_number_and_a_real_state() {
        assert_eq!(Licence::parse(" pl-12345 ", "mn"), Ok(Licence { number: "PL-12345".into(), state: "MN".into() }));
        let e = Licence::parse("", "XX").err().unwrap_or_default();
        assert_eq!(e.iter().map(|e| e.field).collect::<Vec<_>>(), ["licence_number", "licence_state"]);
        assert!(Licence::parse("<script>", "MN").is_err());
        assert!(Licence::parse(&"1".repeat(41), "MN").is_err());
    }

    #[test]
    fn service_areas_take_a_base_a_radius_and_extra_zips() {
        let a = ServiceArea::parse("55401", "25", "55101, 55102\n55101").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!((a.base.as_str(), a.radius_miles, a.extra.len()), ("55401", 25, 2));
        let e = ServiceArea::parse("554", "0", "abc").err().unwrap_or_default();
        assert_eq!(e.iter().map(|e| e.field).collect::<Vec<_>>(), ["base_zip", "radius_miles", "extra_zips"]);
        assert!(ServiceArea::parse("55401", "101", "").is_err());
    }

    #[test]
    fn hours_must_open_before_they_close_and_someone_must_be_there() {
        let mut days: [(bool, String, String); 7] = Default::default();
        days[0] = (true, "08:00".into(), "17:00".into());
        let h = Hours::parse(&days, "America/Chicago", false).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(h.days.len(), 1);
        days[1] = (true, "17:00".into(), "08:00".into());
        let e = Hours::parse(&days, "America/Chicago", false).err().unwrap_or_default();
        assert!(e[0].message.contains("Tuesday you close before you open"));
        let none: [(bool, String, String); 7] = Default::default();
        assert!(Hours::parse(&none, "America/Chicago", false).is_err());
        assert!(Hours::parse(&none, "America/Chicago", true).is_ok(), "24/7 emergencies only is fine");
        assert!(Hours::parse(&none, "Europe/Paris", true).is_err());
    }

    #[test]
    fn money_is_read_as_dollars_into_cents() {
        assert_eq!(parse_dollars("$1,200.5"), Ok(Some(Cents(120_050))));
        assert_eq!(parse_dollars("60"), Ok(Some(Cents(6000))));
        assert_eq!(parse_dollars(""), Ok(None));
        for bad in ["0", "-5", "1.234", "abc", "1e9", "99999999999999999999"] {
            assert_eq!(parse_dollars(bad), Err(NotDollars), "{bad}");
        }
    }

    #[test]
    fn preferences_need_a_lead_type_and_sane_limits() {
        let p = LeadPreferences::parse("80", true, false, "5", "500", false).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!((p.max_price, p.daily_cap, p.weekly_budget), (Some(Cents(8000)), Some(5), Some(Cents(50_000))));
        let e = LeadPreferences::parse("x", false, false, "0", "y", false).err().unwrap_or_default();
        assert_eq!(e.len(), 4);
        let e = LeadPreferences::parse("5", false, false, "0", "6", false).err().unwrap_or_default();
        assert_eq!(e.iter().map(|e| e.field).collect::<Vec<_>>(), ["daily_cap", "lead_types"]);
    }

    #[test]
    fn the_checklist_is_done_exactly_when_review_can_start() {
        let all = Progress {
            email_verified: true,
            phone_verified: true,
            licence: true,
            insurance: true,
            service_area: true,
            services: true,
            hours: true,
            preferences: true,
        };
        assert!(all.ready_for_review() && all.checklist().iter().all(|(_, done, _)| *done));
        let missing = Progress { insurance: false, ..all };
        assert!(!missing.ready_for_review());
        let open: Vec<_> = missing.checklist().iter().filter(|(_, done, _)| !done).map(|(i, _, _)| *i).collect();
        assert_eq!(open, ["insurance"]);
    }

    #[test]
    fn quiet_hours_need_both_ends_and_may_cross_midnight() {
        let n = Notifications::parse(true, false, "21:00", "07:00").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            n.quiet,
            Some((
                Time::from_hms(21, 0, 0).unwrap_or(Time::MIDNIGHT),
                Time::from_hms(7, 0, 0).unwrap_or(Time::MIDNIGHT)
            ))
        );
        assert_eq!(Notifications::parse(false, false, " ", "").map(|n| n.quiet), Ok(None));
        for (from, until) in [("21:00", ""), ("", "07:00"), ("9pm", "07:00"), ("25:00", "07:00"), ("08:00", "08:00")] {
            let e = Notifications::parse(true, true, from, until).err().unwrap_or_default();
            assert_eq!(e.iter().map(|e| e.field).collect::<Vec<_>>(), ["quiet_hours"], "{from}–{until}");
        }
    }

    #[test]
    fn typed_preferences_keep_the_same_limits() {
        let ok = LeadPreferences::new(Some(Cents(1)), false, true, Some(1000), Some(Cents(100_000_000)), true);
        assert!(ok.is_ok(), "{ok:?}");
        let e = LeadPreferences::new(Some(Cents(0)), true, true, Some(1001), Some(Cents(100_000_001)), false)
            .err()
            .unwrap_or_default();
        assert_eq!(e.iter().map(|e| e.field).collect::<Vec<_>>(), ["max_price", "weekly_budget", "daily_cap"]);
        assert!(LeadPreferences::new(Some(Cents(-5)), true, true, Some(0), None, false).is_err());
        assert!(LeadPreferences::new(None, true, true, Some(i64::from(i32::MAX) + 1), None, false).is_err());
        assert!(LeadPreferences::new(None, true, true, None, None, false).is_ok(), "no limits is fine");
    }
}
