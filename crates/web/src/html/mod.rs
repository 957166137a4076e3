//! Server-rendered pages: rendering, and the form kit every page's form uses.

pub mod forms;
pub mod moment;
pub mod render;

pub use forms::{
    CodeForm, CsrfForm, CsrfToken, DoneQuery, FieldErrors, OurForm, SignedForm, csrf_ok, forbidden_cross_site,
    same_origin, user_agent,
};
pub use moment::Moment;
pub use render::{Chrome, home_of, html, message, public};
