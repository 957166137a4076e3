//! The marketplace's rules (PRODUCT.md *Matching and distribution*, *Wallet*): who may be offered
//! a lead, in what order, how a sale runs, what a claim and a purchase may do, and how money moves.

pub mod eligibility;
pub mod ledger;
pub mod ranking;
pub mod sale;
pub mod status;

pub use eligibility::{Exclusion, LeadFacts, ProFacts, WeeklyHours};
pub use ranking::{Score, Weights};
pub use sale::Sale;
pub use status::{OfferStatus, PurchaseStatus};
