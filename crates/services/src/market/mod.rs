//! The marketplace: verified leads offered to ranked pros (`distribute`, a job), claimed
//! atomically (`claim`), declined (`decline`), paid for from a prepaid wallet on a double-entry
//! ledger (`wallet`). The database holds the guards that must survive any number of app
//! instances; the rules themselves live in `domain::market`.

pub mod claim;
pub mod decline;
pub mod disputes;
pub mod distribute;
pub mod feed;
mod notify;
pub mod offers;
pub mod prices;
pub mod purchases;
pub mod refunds;
pub mod roster;
pub mod unmet;
pub mod unsubscribe;
pub mod wallet;
pub mod why;

pub use decline::WithdrawOffers;
pub use distribute::Distribute;
pub use refunds::RefundToCard;

/// A page of a list, newest first: `next_cursor` continues it.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Lists answer at most this many items a page.
pub const MAX_PAGE: i64 = 100;

/// Cuts one extra fetched row off into a cursor: the last kept item's key.
pub(crate) fn page<T>(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> Page<T> {
    let limit = usize::try_from(limit).unwrap_or(0);
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(key)
    } else {
        None
    };
    Page { items: rows, next_cursor }
}
