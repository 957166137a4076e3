//! Times on pages (STYLE.md: in the reader's time zone). A page says a moment in UTC, with the
//! zone named, which is right without scripts; app.js rewrites each `<time data-local>` into
//! the reader's own zone (their device's), so staff and pros see their local time.

use std::fmt;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Rendered as `<time datetime="{{ m.iso }}" data-local>{{ m }}</time>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moment {
    /// RFC 3339, for the `datetime` attribute.
    pub iso: String,
    utc: String,
}

impl Moment {
    pub fn new(t: OffsetDateTime) -> Self {
        let utc = t.to_offset(time::UtcOffset::UTC);
        let shown =
            time::macros::format_description!("[month repr:short] [day padding:none], [year], [hour]:[minute] UTC");
        Self { iso: utc.format(&Rfc3339).unwrap_or_default(), utc: utc.format(&shown).unwrap_or_default() }
    }
}

impl fmt::Display for Moment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.utc)
    }
}

#[cfg(test)]
mod tests {
    use super::Moment;
    use time::macros::datetime;

    #[test]
    fn a_moment_is_said_in_utc_with_its_zone_and_carries_its_instant() {
        let m = Moment::new(datetime!(2026-12-04 12:05 -6));
        assert_eq!(m.to_string(), "Dec 4, 2026, 18:05 UTC");
        assert_eq!(m.iso, "2026-12-04T18:05:00Z");
    }
}
