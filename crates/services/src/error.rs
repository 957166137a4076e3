//! The services' one error type. Each surface (pages, API, CLI) decides how to say it; nothing
//! here knows about HTTP. A unique violation is mapped by its constraint's name where the
//! schema's guard is the rule (`ServiceError::on_constraint`).

use domain::FieldError;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    #[error("not found")]
    NotFound,
    /// No such account, or the wrong password: deliberately the same.
    #[error("wrong e-mail or password")]
    BadCredentials,
    #[error("too many tries")]
    Throttled { retry_after: Duration },
    #[error("staff sign-in from an address not on the allow-list")]
    StaffNotAllowedHere,
    #[error("staff sign-in needs a second factor")]
    SecondFactorRequired,
    #[error("second factor not accepted")]
    SecondFactorWrong,
    #[error("link not valid")]
    BadLink,
    #[error("session ended")]
    SessionEnded,
    /// The right password for an account its owner closed.
    #[error("account closed")]
    AccountClosed,
    #[error("one-time code: {0:?}")]
    Code(CodeError),
    /// A file of a kind we do not take (told by its bytes).
    #[error("unsupported file type")]
    UnsupportedType(FieldError),
    /// A claim the marketplace refuses; nothing was charged.
    #[error("claim refused: {0:?}")]
    Refused(Refusal),
    /// A purchase cannot move to the asked status from where it is.
    #[error("invalid transition")]
    InvalidTransition,
    #[error("idempotency key reused with a different request")]
    KeyReused,
    /// The database is unreachable, restarting or out of connections: an outage, not a bug.
    #[error("unavailable")]
    Unavailable,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// What already exists, named by the constraint that said so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    EmailTaken,
    /// The offer was claimed: it can no longer be declined.
    AlreadyClaimed,
    /// A bought lead is disputed once.
    AlreadyDisputed,
    /// Disputes are taken within 14 days of the purchase.
    DisputeWindowClosed,
    /// The dispute was decided already (by someone else, or by a second tap).
    AlreadyDecided,
}

impl Conflict {
    /// The conflict a unique constraint stands for; unknown constraints are not conflicts a
    /// client can act on (they stay internal errors).
    fn of_constraint(name: &str) -> Option<Self> {
        match name {
            "users_email" => Some(Conflict::EmailTaken),
            "disputes_once_per_purchase" => Some(Conflict::AlreadyDisputed),
            _ => None,
        }
    }
}

/// Why a claim was refused. The schema's own guards map here by constraint name too, so a
/// refusal the application's checks missed is still a refusal, never a 500.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    SoldOut,
    Expired,
    Declined,
    /// The pro's daily cap or weekly budget.
    CapReached,
    InsufficientBalance,
}

impl Refusal {
    fn of_constraint(name: &str) -> Option<Self> {
        match name {
            "leads_buyers_within_max" => Some(Refusal::SoldOut),
            "wallet_never_negative" => Some(Refusal::InsufficientBalance),
            _ => None,
        }
    }
}

/// Why a one-time code (a homeowner's or a pro's SMS code) was not accepted or not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeError {
    Wrong {
        attempts_left: i32,
    },
    Expired,
    TooManyAttempts,
    /// Nothing was sent to check against.
    NoCode,
    ResendTooSoon {
        retry_after: Duration,
    },
    TooManySends,
}

/// Whether a database error means the database is not there (unreachable, restarting, shutting
/// down, out of connections) rather than that the request or our code is wrong. The one rule:
/// every surface answers these as "unavailable, try again", never as an internal error.
pub fn is_outage(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed
        // Garbage or an early close on the wire (e.g. a pooler or proxy in front of a database
        // that is going away): the connection is broken, whatever the query was.
        | sqlx::Error::Protocol(_) => true,
        // 08: connection exception; 57P01-03: shutdown, crash, starting up; 53300: too many
        // connections.
        sqlx::Error::Database(db) => {
            db.code().is_some_and(|c| c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03" | "53300"))
        }
        _ => false,
    }
}

/// [`is_outage`] for an error that may carry a database error anywhere in its chain.
pub fn is_outage_in(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| cause.downcast_ref::<sqlx::Error>().is_some_and(is_outage))
}

impl From<sqlx::Error> for ServiceError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            e if is_outage(e) => ServiceError::Unavailable,
            sqlx::Error::Database(db) => {
                if let Some(c) = db.constraint().and_then(Conflict::of_constraint).filter(|_| db.is_unique_violation())
                {
                    return ServiceError::Conflict(c);
                }
                match db.constraint().and_then(Refusal::of_constraint).filter(|_| db.is_check_violation()) {
                    Some(r) => ServiceError::Refused(r),
                    None => ServiceError::Internal(e.into()),
                }
            }
            _ => ServiceError::Internal(e.into()),
        }
    }
}

impl From<CodeError> for ServiceError {
    fn from(e: CodeError) -> Self {
        ServiceError::Code(e)
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;
