//! Failed logins slow further tries down, exponentially, per account and per client address
//! (ASVS 2.2.1): the first few are free, then each one doubles the wait before the next try,
//! up to a ceiling; and no account takes more than a fixed number of failures an hour.

use time::{Duration, OffsetDateTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures allowed before any wait.
    pub free: u32,
    /// The first wait; each further failure doubles it.
    pub base: Duration,
    /// The longest wait between tries.
    pub max: Duration,
    /// Failures an hour after which no more tries are taken until the oldest is an hour old.
    pub per_hour: u32,
}

/// Recent failures for one key (an account or an address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    /// In the last hour.
    pub count: u32,
    pub oldest: Option<OffsetDateTime>,
    pub latest: Option<OffsetDateTime>,
}

impl Policy {
    /// How long the caller must still wait before trying again, if at all.
    pub fn wait(&self, failures: Failures, now: OffsetDateTime) -> Option<Duration> {
        if failures.count >= self.per_hour {
            let until = failures.oldest? + Duration::HOUR;
            return (until > now).then(|| until - now);
        }
        let latest = failures.latest?;
        let over = failures.count.checked_sub(self.free)?;
        // 2^over, kept from overflowing: past 30 doublings the ceiling applies anyway.
        let wait = self.base.checked_mul(1_i32 << over.min(30)).unwrap_or(self.max).min(self.max);
        let until = latest + wait;
        (until > now).then(|| until - now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Policy = Policy { free: 5, base: Duration::seconds(1), max: Duration::minutes(15), per_hour: 100 };

    fn at(s: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::seconds(1_800_000_000 + s)
    }

    fn failures(count: u32, oldest: i64, latest: i64) -> Failures {
        Failures { count, oldest: Some(at(oldest)), latest: Some(at(latest)) }
    }

    #[test]
    fn the_first_failures_are_free_then_waits_double_up_to_the_ceiling() {
        assert_eq!(POLICY.wait(Failures { count: 0, oldest: None, latest: None }, at(0)), None);
        assert_eq!(POLICY.wait(failures(4, 0, 0), at(0)), None);
        assert_eq!(POLICY.wait(failures(5, 0, 0), at(0)), Some(Duration::seconds(1)));
        assert_eq!(POLICY.wait(failures(6, 0, 0), at(0)), Some(Duration::seconds(2)));
        assert_eq!(POLICY.wait(failures(9, 0, 0), at(0)), Some(Duration::seconds(16)));
        assert_eq!(POLICY.wait(failures(9, 0, 10), at(20)), Some(Duration::seconds(6)));
        assert_eq!(POLICY.wait(failures(9, 0, 10), at(26)), None, "waited long enough");
        assert_eq!(POLICY.wait(failures(40, 0, 0), at(0)), Some(Duration::minutes(15)));
        assert_eq!(POLICY.wait(failures(99, 0, 0), at(0)), Some(Duration::minutes(15)));
    }

    #[test]
    fn a_hundred_failures_in_an_hour_lock_until_the_oldest_is_an_hour_old() {
        assert_eq!(POLICY.wait(failures(100, 0, 3000), at(3500)), Some(Duration::seconds(100)));
        assert_eq!(POLICY.wait(failures(100, 0, 3000), at(3600)), None);
    }
}
