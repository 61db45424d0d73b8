//! The one error type of every use case. Each error has a [`ErrorKind`] and a stable
//! `code`; the HTTP layer alone turns the kind into a status, in one place.

use orgbase_domain::{ErrorKind, InvalidInput};
use orgbase_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value from outside did not parse.
    #[error("{0}")]
    Invalid(#[from] InvalidInput),
    /// Bad input with a specific code.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// A document that parses but breaks its schema.
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    /// No or bad credentials. Deliberately says nothing about which.
    #[error("authentication required")]
    Unauthenticated,
    /// On login: wrong e-mail or password (indistinguishable on purpose).
    #[error("e-mail or password is wrong")]
    BadCredentials,
    /// Known, allowed to see, but not to do.
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// Unknown, or not visible to the caller (isolation hides existence).
    #[error("{what} not found")]
    NotFound {
        code: &'static str,
        what: &'static str,
    },
    /// The current state forbids it.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// It existed, and is gone for good (an expired invitation).
    #[error("{message}")]
    Gone { code: &'static str, message: String },
    /// Too many attempts.
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// The database does not answer (readiness).
    #[error("the database does not answer")]
    Unavailable,
    /// Our fault: logged in full, shown to the client only as "internal".
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A well-formed request whose document breaks a rule (422, the rule's code).
    pub fn unprocessable(e: InvalidInput) -> Self {
        Error::Unprocessable {
            code: e.code,
            message: e.message,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::Forbidden {
            code,
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn not_found(code: &'static str, what: &'static str) -> Self {
        Self::NotFound { code, what }
    }

    /// The org exists and the caller belongs to it, but a system admin suspended it.
    pub fn org_suspended() -> Self {
        Error::forbidden(
            "org_suspended",
            "this organization is suspended; a system admin can reactivate it",
        )
    }

    pub fn org_not_found() -> Self {
        Self::not_found("org_not_found", "organization")
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Invalid(_) | Error::BadRequest { .. } => ErrorKind::Invalid,
            Error::Unprocessable { .. } => ErrorKind::Unprocessable,
            Error::Unauthenticated | Error::BadCredentials => ErrorKind::Unauthenticated,
            Error::Forbidden { .. } => ErrorKind::Forbidden,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Conflict { .. } => ErrorKind::Conflict,
            Error::Gone { .. } => ErrorKind::Gone,
            Error::TooManyRequests { .. } => ErrorKind::RateLimited,
            Error::Unavailable => ErrorKind::Unavailable,
            Error::Internal(_) => ErrorKind::Internal,
        }
    }

    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid(i) => i.code,
            Error::BadRequest { code, .. }
            | Error::Unprocessable { code, .. }
            | Error::Forbidden { code, .. }
            | Error::NotFound { code, .. }
            | Error::Conflict { code, .. }
            | Error::Gone { code, .. } => code,
            Error::Unauthenticated => "unauthenticated",
            Error::BadCredentials => "invalid_credentials",
            Error::TooManyRequests { .. } => "rate_limited",
            Error::Unavailable => "not_ready",
            Error::Internal(_) => "internal",
        }
    }
}

impl From<orgbase_domain::policy::Refusal> for Error {
    fn from(r: orgbase_domain::policy::Refusal) -> Self {
        let (code, message) = (r.code(), r.message().to_string());
        match r.kind() {
            ErrorKind::NotFound => Error::NotFound {
                code,
                what: "invitation",
            },
            ErrorKind::Conflict => Error::Conflict { code, message },
            ErrorKind::Gone => Error::Gone { code, message },
            _ => Error::Forbidden { code, message },
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            // A constraint caught what the use case did not check first (for example a
            // race): a conflict for the client, never a 500.
            StoreError::Conflict(what) => {
                tracing::info!(constraint = %what, "constraint conflict");
                Error::conflict("conflict", "the change conflicts with the current state")
            }
            StoreError::Contended(why) => {
                tracing::warn!(reason = %why, "transaction contended");
                Error::conflict(
                    "concurrent_change",
                    "a concurrent change got in the way; nothing was written, try again",
                )
            }
            StoreError::Unavailable(why) => {
                tracing::warn!(reason = %why, "database unavailable");
                Error::Unavailable
            }
            other => Error::Internal(other.to_string()),
        }
    }
}
