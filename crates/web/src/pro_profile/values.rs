//! The profile page's field values, saved or as typed, in the shape the page's one form posts
//! them: so the page renders from either alike (nothing typed is lost on an error), and a save
//! compares what was posted with what is stored to find the parts that changed (a part nobody
//! touched is not re-checked or re-written).

use super::Pairs;
use domain::account::profile;
use services::pros::onboarding::Part;
use store::profiles::{CoveredZip, HoursRow, Profile};

/// How a field is compared: text as typed (trimmed), a checkbox by being ticked, a repeated
/// field (`category`) as a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Check,
    Many,
}

/// The fields each part of the page posts.
fn fields(part: Part) -> Vec<(String, Kind)> {
    let text = |k: &str| (k.to_owned(), Kind::Text);
    let check = |k: &str| (k.to_owned(), Kind::Check);
    match part {
        Part::Business => vec![text("business_name"), text("licence_number"), text("licence_state")],
        Part::Insurance => Vec::new(),
        Part::Area => vec![text("base_zip"), text("radius_miles"), text("extra_zips")],
        Part::Services => vec![("category".to_owned(), Kind::Many)],
        Part::Hours => {
            let mut f: Vec<_> = (0..7)
                .flat_map(|i| [check(&format!("open_{i}")), text(&format!("opens_{i}")), text(&format!("closes_{i}"))])
                .collect();
            f.extend([text("time_zone"), check("emergency_24_7")]);
            f
        }
        Part::Preferences => vec![
            text("max_price"),
            check("shared"),
            check("exclusive"),
            text("daily_cap"),
            text("weekly_budget"),
            check("paused"),
        ],
        Part::Notifications => vec![check("offer_sms"), check("offer_email"), text("quiet_from"), text("quiet_until")],
    }
}

/// A page's values: every field as the form would post it.
#[derive(Debug, Clone, Default)]
pub struct Values(Vec<(String, String)>);

impl Values {
    pub fn one(&self, key: &str) -> &str {
        self.0.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
    }

    pub fn on(&self, key: &str) -> bool {
        !self.one(key).is_empty()
    }

    pub fn many(&self, key: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect()
    }

    /// What was posted, as it was typed (the token and the pressed button left out).
    pub fn typed(pairs: &Pairs) -> Self {
        Self(pairs.0.iter().filter(|(k, _)| k != "csrf" && k != "save").cloned().collect())
    }

    /// The stored profile as the page shows it (and so as an untouched form posts it back).
    pub fn saved(p: &Profile, covered: &[CoveredZip], offered: &[String], hours: &[HoursRow]) -> Self {
        let mut v: Vec<(String, String)> = Vec::new();
        let mut put = |k: &str, val: String| v.push((k.to_owned(), val));
        put("business_name", p.business_name.clone());
        put("licence_number", p.licence_number.clone().unwrap_or_default());
        put("licence_state", p.licence_state.clone().unwrap_or_default());
        put("base_zip", p.base_zip.clone().unwrap_or_default());
        put("radius_miles", p.radius_miles.map_or_else(|| "25".to_owned(), |r| r.to_string()));
        let extra: Vec<&str> = covered.iter().filter(|z| z.hand_picked).map(|z| z.zip.as_str()).collect();
        put("extra_zips", extra.join(", "));
        for slug in offered {
            put("category", slug.clone());
        }
        for i in 0..profile::WEEKDAYS.len() {
            match hours.iter().find(|h| usize::try_from(h.weekday).ok() == Some(i)) {
                Some(h) => {
                    put(&format!("open_{i}"), "on".to_owned());
                    put(&format!("opens_{i}"), hhmm(h.opens));
                    put(&format!("closes_{i}"), hhmm(h.closes));
                }
                None => {
                    put(&format!("opens_{i}"), "08:00".to_owned());
                    put(&format!("closes_{i}"), "17:00".to_owned());
                }
            }
        }
        put("time_zone", p.time_zone.clone().unwrap_or_default());
        let mut tick = |k: &str, on: bool| {
            if on {
                put(k, "on".to_owned());
            }
        };
        tick("emergency_24_7", p.emergency_24_7);
        tick("shared", p.accepts_shared);
        tick("exclusive", p.accepts_exclusive);
        tick("paused", p.paused);
        tick("offer_sms", p.offer_sms);
        tick("offer_email", p.offer_email);
        put("max_price", dollars(p.max_price_cents));
        put("daily_cap", p.daily_cap.map(|d| d.to_string()).unwrap_or_default());
        put("weekly_budget", dollars(p.weekly_budget_cents));
        put("quiet_from", p.quiet_from.map(hhmm).unwrap_or_default());
        put("quiet_until", p.quiet_until.map(hhmm).unwrap_or_default());
        Self(v)
    }

    /// These values with one part's fields as posted (a single part's form).
    pub fn with_part(mut self, part: Part, posted: &Pairs) -> Self {
        let keys: Vec<String> = fields(part).into_iter().map(|(k, _)| k).collect();
        self.0.retain(|(k, _)| !keys.contains(k));
        self.0.extend(posted.0.iter().filter(|(k, _)| keys.contains(k)).cloned());
        self
    }

    /// The parts whose fields differ between `self` (posted) and `saved`, in page order.
    pub fn changed_parts(&self, saved: &Values) -> Vec<Part> {
        Part::ALL
            .into_iter()
            .filter(|&part| {
                fields(part).iter().any(|(key, kind)| match kind {
                    Kind::Text => self.one(key).trim() != saved.one(key).trim(),
                    Kind::Check => self.on(key) != saved.on(key),
                    Kind::Many => {
                        let (mut a, mut b) = (self.many(key), saved.many(key));
                        a.sort_unstable();
                        b.sort_unstable();
                        a != b
                    }
                })
            })
            .collect()
    }
}

fn dollars(c: Option<i64>) -> String {
    c.map(|c| format!("{}.{:02}", c / 100, c % 100)).unwrap_or_default()
}

/// "HH:MM", as time inputs and the profile API write it.
pub fn hhmm(t: time::Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Pairs {
        Pairs(v.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    #[test]
    fn only_the_parts_whose_fields_differ_count_as_changed() {
        let saved = Values::typed(&pairs(&[
            ("business_name", "Acme"),
            ("licence_number", "PL-1"),
            ("licence_state", "MN"),
            ("category", "drain-cleaning"),
            ("category", "burst-pipe"),
            ("shared", "on"),
        ]));
        let same = Values::typed(&pairs(&[
            ("csrf", "x"),
            ("save", "area"),
            ("business_name", " Acme "),
            ("licence_number", "PL-1"),
            ("licence_state", "MN"),
            ("category", "burst-pipe"),
            ("category", "drain-cleaning"),
            ("shared", "on"),
        ]));
        assert_eq!(same.changed_parts(&saved), Vec::<Part>::new(), "order of a set, spaces, token: no change");
        let edited = Values::typed(&pairs(&[
            ("business_name", "Acme"),
            ("licence_number", "PL-2"),
            ("licence_state", "MN"),
            ("category", "burst-pipe"),
        ]));
        assert_eq!(edited.changed_parts(&saved), [Part::Business, Part::Services, Part::Preferences]);
    }
}
