//! The one error type of every use case. The HTTP layer maps it to a problem document
//! in exactly one place; `code` values are stable and documented.

use orgbase_domain::InvalidInput;
use orgbase_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 400: a value from outside did not parse.
    #[error("{0}")]
    Invalid(#[from] InvalidInput),
    /// 400 with a specific code.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// 401: no or bad credentials. Deliberately says nothing about which.
    #[error("authentication required")]
    Unauthenticated,
    /// 401 on login: wrong e-mail or password (indistinguishable on purpose).
    #[error("e-mail or password is wrong")]
    BadCredentials,
    /// 403: known, allowed to see, but not to do.
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// 404: unknown, or not visible to the caller (isolation hides existence).
    #[error("{what} not found")]
    NotFound {
        code: &'static str,
        what: &'static str,
    },
    /// 409: the current state forbids it.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 410: it existed, and is gone for good (an expired invitation).
    #[error("{message}")]
    Gone { code: &'static str, message: String },
    /// 429.
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// 500: logged in full, shown to the client only as "internal".
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
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

    pub fn org_not_found() -> Self {
        Self::not_found("org_not_found", "organization")
    }

    /// HTTP status for this error.
    pub fn status(&self) -> u16 {
        match self {
            Error::Invalid(_) | Error::BadRequest { .. } => 400,
            Error::Unauthenticated | Error::BadCredentials => 401,
            Error::Forbidden { .. } => 403,
            Error::NotFound { .. } => 404,
            Error::Conflict { .. } => 409,
            Error::Gone { .. } => 410,
            Error::TooManyRequests { .. } => 429,
            Error::Internal(_) => 500,
        }
    }

    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid(i) => i.code,
            Error::BadRequest { code, .. }
            | Error::Forbidden { code, .. }
            | Error::NotFound { code, .. }
            | Error::Conflict { code, .. }
            | Error::Gone { code, .. } => code,
            Error::Unauthenticated => "unauthenticated",
            Error::BadCredentials => "invalid_credentials",
            Error::TooManyRequests { .. } => "rate_limited",
            Error::Internal(_) => "internal",
        }
    }
}

impl From<orgbase_domain::policy::Refusal> for Error {
    fn from(r: orgbase_domain::policy::Refusal) -> Self {
        let (code, message) = (r.code(), r.message().to_string());
        match r.status() {
            404 => Error::NotFound {
                code,
                what: "invitation",
            },
            409 => Error::Conflict { code, message },
            410 => Error::Gone { code, message },
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
            other => Error::Internal(other.to_string()),
        }
    }
}
