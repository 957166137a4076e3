//! The use cases: every rule of the platform that reads or writes, one file per action, on a
//! [`Ctx`] built once. The HTTP handlers, the job workers and the CLI all call these, so a rule
//! lives in one place. Nothing here knows about HTTP.
//!
//! Every use case returns a `BoxFuture` made here (`pub fn x(..) -> BoxFuture<..>` over a private
//! `async fn x_inner`). rustc compiles an `async fn`'s body in each crate, and codegen unit, that
//! awaits it: unboxed, `web` compiled the use cases again (a session's lookup twelve times), and
//! the release build of our crates was slower than before this layer existed (bench/README,
//! "Before and after the services layer"). Boxed, each body is compiled once, here, while `web`
//! compiles. One allocation per call, beside a database round trip.

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
