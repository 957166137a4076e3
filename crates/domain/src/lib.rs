//! The marketplace's own types and rules. Everything here is pure: no I/O, no clock reads except
//! through [`Clock`], so every rule is testable in isolation.

pub mod account;
pub mod clock;
pub mod geo;
pub mod lead;
pub mod market;
pub mod money;
pub mod pricing;
pub mod sms_keyword;
pub mod zip;

pub use clock::{Clock, ManualClock, SystemClock};
pub use geo::{LatLon, Miles};
pub use lead::{FieldError, LeadDraft, LeadInput};
pub use money::Cents;
pub use pricing::{Exclusivity, Urgency};
pub use zip::Zip;
