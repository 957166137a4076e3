//! Plumbers' businesses: the onboarding profile and staff's approval.

pub mod approval;
pub mod onboarding;
pub mod preview;
pub mod ready;
