/// What kind of failure something is. Each layer says which kind an error is; only
/// the HTTP edge turns a kind into a status code, in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A value from outside did not parse or break a rule about its shape.
    Invalid,
    /// A well-formed document whose content breaks its schema (an unknown key of the
    /// org configuration, say).
    Unprocessable,
    /// No credentials, or ones that do not identify anyone.
    Unauthenticated,
    /// Known and visible to the caller, but not theirs to do.
    Forbidden,
    /// Unknown, or not visible to the caller (isolation hides existence).
    NotFound,
    /// The current state forbids it.
    Conflict,
    /// It existed and is gone for good (an expired invitation).
    Gone,
    /// Too many attempts; try again later.
    RateLimited,
    /// A dependency (the database) does not answer.
    Unavailable,
    /// A fault on our side.
    Internal,
}

/// Why a value from outside was refused. `code` is stable and ends up in the problem
/// document; `message` is for humans.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidInput {
    pub code: &'static str,
    pub field: &'static str,
    pub message: String,
}

impl InvalidInput {
    pub fn new(code: &'static str, field: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            field,
            message: message.into(),
        }
    }
}
