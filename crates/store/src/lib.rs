//! Everything that touches PostgreSQL, one module per aggregate. Functions take a
//! `&mut PgConnection` (or a transaction) so callers decide the transaction boundaries.

pub mod accounts;
pub mod app_secrets;
pub mod audit;
pub mod card_refunds;
pub mod categories;
pub mod closing;
pub mod db;
pub mod demand;
pub mod dev_outbox;
pub mod disputes;
pub mod email_tokens;
pub mod exclusions;
pub mod funnel;
pub mod homeowners;
pub mod idempotency;
pub mod json;
pub mod lead_notes;
pub mod lead_sales;
pub mod lead_writer;
pub mod leads;
pub mod ledger;
pub mod login_failures;
pub mod matching;
pub mod mfa;
pub mod offers;
pub mod partners;
pub mod phone_codes;
pub mod pro_data;
pub mod pro_events;
pub mod profiles;
pub mod purchases;
pub mod rate_limit;
pub mod rejections;
pub mod roster;
pub mod sandbox;
pub mod sessions;
pub mod sms_opt_outs;
pub mod top_ups;
pub mod zips;

pub use db::{connect, ensure_database, migrate, ping, prepare};
pub use sqlx::{PgConnection, PgPool, Postgres, Transaction};
