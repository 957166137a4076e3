//! An offer's and a purchase's states, as the schema's `offer_status` and `purchase_status`
//! store them, and the moves a purchase may make.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(type_name = "offer_status", rename_all = "snake_case"))]
pub enum OfferStatus {
    Pending,
    Claimed,
    Declined,
    Expired,
}

impl OfferStatus {
    pub const ALL: [OfferStatus; 4] =
        [OfferStatus::Pending, OfferStatus::Claimed, OfferStatus::Declined, OfferStatus::Expired];

    pub fn as_str(self) -> &'static str {
        match self {
            OfferStatus::Pending => "pending",
            OfferStatus::Claimed => "claimed",
            OfferStatus::Declined => "declined",
            OfferStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// A bought lead's outcome as the pro tracks it, and its dispute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(type_name = "purchase_status", rename_all = "snake_case"))]
pub enum PurchaseStatus {
    New,
    Contacted,
    Quoted,
    Won,
    Lost,
    Disputed,
    Credited,
    Denied,
}

impl PurchaseStatus {
    pub const ALL: [PurchaseStatus; 8] = [
        PurchaseStatus::New,
        PurchaseStatus::Contacted,
        PurchaseStatus::Quoted,
        PurchaseStatus::Won,
        PurchaseStatus::Lost,
        PurchaseStatus::Disputed,
        PurchaseStatus::Credited,
        PurchaseStatus::Denied,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PurchaseStatus::New => "new",
            PurchaseStatus::Contacted => "contacted",
            PurchaseStatus::Quoted => "quoted",
            PurchaseStatus::Won => "won",
            PurchaseStatus::Lost => "lost",
            PurchaseStatus::Disputed => "disputed",
            PurchaseStatus::Credited => "credited",
            PurchaseStatus::Denied => "denied",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether the pro may move a purchase from `self` to `to` (PRODUCT.md: `new` → `contacted`
    /// → `quoted` → `won` | `lost`). Steps may be skipped forwards (a first call can end in a
    /// quote or a loss), never taken back; a disputed lead is staff's until decided. Staying at
    /// `contacted` or `quoted` is allowed, to correct the figures that go with it.
    pub fn may_move_to(self, to: PurchaseStatus) -> bool {
        use PurchaseStatus::*;
        let rank = |s: PurchaseStatus| match s {
            New => Some(0),
            Contacted => Some(1),
            Quoted => Some(2),
            Won | Lost => Some(3),
            Disputed | Credited | Denied => None,
        };
        match (rank(self), rank(to)) {
            (Some(a), Some(b)) => (b > a && a < 3) || (a == b && (a == 1 || a == 2)),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_value_reads_back_as_itself() {
        for s in OfferStatus::ALL {
            assert_eq!(OfferStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).ok(), Some(serde_json::Value::from(s.as_str())));
        }
        for s in PurchaseStatus::ALL {
            assert_eq!(PurchaseStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).ok(), Some(serde_json::Value::from(s.as_str())));
        }
    }

    #[test]
    fn a_purchase_moves_forwards_only() {
        use PurchaseStatus::*;
        assert!(New.may_move_to(Contacted));
        assert!(New.may_move_to(Won));
        assert!(Contacted.may_move_to(Quoted));
        assert!(Quoted.may_move_to(Lost));
        assert!(!Contacted.may_move_to(New));
        assert!(!Won.may_move_to(Lost));
        assert!(!Lost.may_move_to(Won));
        assert!(!New.may_move_to(New));
        assert!(Quoted.may_move_to(Quoted));
        assert!(!Won.may_move_to(Won));
        assert!(!New.may_move_to(Credited));
        assert!(!Disputed.may_move_to(Won));
    }
}
