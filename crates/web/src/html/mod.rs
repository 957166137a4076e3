//! Server-rendered pages: rendering, and the form kit every page's form uses.

pub mod forms;
pub mod render;

pub use forms::{CsrfForm, FieldErrors, csrf_ok, forbidden_cross_site, form_ok, same_origin, user_agent};
pub use render::{assets, html, message};
