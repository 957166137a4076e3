//! Where a lead is in its life (PRODUCT.md's lifecycle), as the schema's `lead_status` stores it,
//! and the kinds of entry on its timeline (`lead_events.kind`).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(type_name = "lead_status", rename_all = "snake_case"))]
pub enum LeadStatus {
    Received,
    PendingVerification,
    Verified,
    Offered,
    Sold,
    Unsold,
    Rejected,
}

impl LeadStatus {
    pub const ALL: [LeadStatus; 7] = [
        LeadStatus::Received,
        LeadStatus::PendingVerification,
        LeadStatus::Verified,
        LeadStatus::Offered,
        LeadStatus::Sold,
        LeadStatus::Unsold,
        LeadStatus::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LeadStatus::Received => "received",
            LeadStatus::PendingVerification => "pending_verification",
            LeadStatus::Verified => "verified",
            LeadStatus::Offered => "offered",
            LeadStatus::Sold => "sold",
            LeadStatus::Unsold => "unsold",
            LeadStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// An entry on a lead's timeline, as the schema's CHECK on `lead_events.kind` lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadEvent {
    Received,
    CodeSent,
    Verified,
    /// The same phone asked again while its request was open (written by the intake function).
    DuplicateAttempt,
    /// Distribution started: the first offers went out.
    Offered,
    /// A pro bought it.
    Purchased,
    Sold,
    Unsold,
    /// The homeowner added what they wrote when they asked again (`lead_notes`).
    NoteAdded,
}

impl LeadEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            LeadEvent::Received => "received",
            LeadEvent::CodeSent => "code_sent",
            LeadEvent::Verified => "verified",
            LeadEvent::DuplicateAttempt => "duplicate_attempt",
            LeadEvent::Offered => "offered",
            LeadEvent::Purchased => "purchased",
            LeadEvent::Sold => "sold",
            LeadEvent::Unsold => "unsold",
            LeadEvent::NoteAdded => "note_added",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_value_reads_back_as_itself_and_serializes_as_stored() {
        for s in LeadStatus::ALL {
            assert_eq!(LeadStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).ok(), Some(serde_json::Value::from(s.as_str())));
        }
        assert_eq!(LeadStatus::parse("Verified"), None);
    }
}
