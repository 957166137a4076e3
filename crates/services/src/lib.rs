//! The use cases: every rule of the platform that reads or writes, one file per action, on a
//! [`Ctx`] built once. The HTTP handlers, the job workers and the CLI all call these, so a rule
//! lives in one place. Nothing here knows about HTTP.

pub mod accounts;
pub mod audit;
mod ctx;
mod error;
pub mod housekeeping;
pub mod infra;
pub mod intake;
pub mod jobs;
pub mod market;
pub mod partners;
pub mod privacy;
pub mod pros;
pub mod sms_replies;

pub use ctx::{Ctx, Parts};
pub use error::{CodeError, Conflict, Refusal, Result, ServiceError, is_outage, is_outage_in};
