//! Homeowner lead intake: the rules that turn a submission into a lead (`service`), shared by
//! the request form (`form`) and the partner API (`api`).

pub mod api;
pub mod form;
pub mod service;
