//! Everything that touches PostgreSQL, one module per aggregate. Functions take a
//! `&mut PgConnection` (or a transaction) so callers decide the transaction boundaries.

pub mod categories;
pub mod db;
pub mod dev_outbox;
pub mod sandbox;
pub mod zips;

pub use db::{connect, ensure_database, migrate, ping, prepare};
pub use sqlx::{PgConnection, PgPool, Postgres, Transaction};
