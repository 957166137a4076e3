//! Money movements as double-entry transfers: each a set of postings that sum to zero, so money
//! is never made or lost, only moved. The database refuses anything else; this is where the
//! shape of each movement is decided.

use crate::Cents;
use serde::Serialize;

/// Whose account a posting moves: a pro's wallet or one of the house's accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Account {
    Wallet,
    /// Money paid in through the payment provider.
    Payments,
    /// Leads sold.
    Revenue,
    /// Given back to pros (disputes).
    Credits,
}

/// What a transfer is, as the schema's `ledger_transfer_kind` stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(type_name = "ledger_transfer_kind", rename_all = "snake_case"))]
pub enum TransferKind {
    TopUp,
    Purchase,
    Credit,
    Refund,
    Adjustment,
}

impl TransferKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TransferKind::TopUp => "top_up",
            TransferKind::Purchase => "purchase",
            TransferKind::Credit => "credit",
            TransferKind::Refund => "refund",
            TransferKind::Adjustment => "adjustment",
        }
    }
}

/// One transfer's postings; amounts are signed from each account's side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub kind: TransferKind,
    pub postings: Vec<(Account, Cents)>,
}

impl Transfer {
    /// Money paid in for a pro's wallet.
    pub fn top_up(amount: Cents) -> Self {
        Self {
            kind: TransferKind::TopUp,
            postings: vec![(Account::Payments, Cents(-amount.0)), (Account::Wallet, amount)],
        }
    }

    /// A lead bought from the wallet.
    pub fn purchase(price: Cents) -> Self {
        Self {
            kind: TransferKind::Purchase,
            postings: vec![(Account::Wallet, Cents(-price.0)), (Account::Revenue, price)],
        }
    }

    /// A disputed lead's price given back to the wallet.
    pub fn credit(amount: Cents) -> Self {
        Self {
            kind: TransferKind::Credit,
            postings: vec![(Account::Credits, Cents(-amount.0)), (Account::Wallet, amount)],
        }
    }

    /// Wallet money given back to the card that paid it: it leaves through the payments account
    /// it came in by.
    pub fn refund_to_card(amount: Cents) -> Self {
        Self {
            kind: TransferKind::Refund,
            postings: vec![(Account::Wallet, Cents(-amount.0)), (Account::Payments, amount)],
        }
    }

    pub fn balances(&self) -> bool {
        self.postings.iter().map(|(_, c)| i128::from(c.0)).sum::<i128>() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn every_transfer_sums_to_zero(amount in 1i64..=i64::MAX / 2) {
            for t in [
                Transfer::top_up(Cents(amount)),
                Transfer::purchase(Cents(amount)),
                Transfer::credit(Cents(amount)),
                Transfer::refund_to_card(Cents(amount)),
            ] {
                prop_assert!(t.balances());
            }
        }
    }

    #[test]
    fn a_purchase_takes_from_the_wallet_and_a_top_up_adds_to_it() {
        assert_eq!(Transfer::purchase(Cents(2_500)).postings[0], (Account::Wallet, Cents(-2_500)));
        assert_eq!(Transfer::top_up(Cents(5_000)).postings[1], (Account::Wallet, Cents(5_000)));
    }
}
