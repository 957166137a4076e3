//! The marketplace over HTTP: a pro's offers, claims, bought leads and wallet (PRODUCT.md
//! *Marketplace API (v1)*). Handlers parse, call one use case in `services::market`, render.

pub mod api;
pub mod disputes_page;
pub mod inbox;
pub mod prices_page;
pub mod stream;
pub mod unsubscribe_page;
pub mod wallet_page;
