//! The error body `{"type": ..., "msg": ...}` and HIL's error type names.

use serde::{Deserialize, Serialize};

/// Every error HIL (and this server) reports has this JSON shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    #[serde(rename = "type")]
    pub error_type: String,
    pub msg: String,
}

/// The `type` values of error bodies, with their HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    Validation,
    BadArgument,
    Authorization,
    NotFound,
    Duplicate,
    ProjectMismatch,
    Blocked,
    IllegalState,
    Allocation,
    NotImplemented,
    MethodNotAllowed,
    /// Not in HIL: a client took too long to send its request.
    RequestTimeout,
    /// Not in HIL: too many failed logins; the response says when to retry.
    TooManyRequests,
    Unavailable,
    /// A BMC or obmd failed or did not answer in time (HIL's `OBMError`).
    Obm,
    Server,
}

impl ErrorType {
    pub const ALL: [ErrorType; 16] = [
        ErrorType::Validation,
        ErrorType::BadArgument,
        ErrorType::Authorization,
        ErrorType::NotFound,
        ErrorType::Duplicate,
        ErrorType::ProjectMismatch,
        ErrorType::Blocked,
        ErrorType::IllegalState,
        ErrorType::Allocation,
        ErrorType::NotImplemented,
        ErrorType::MethodNotAllowed,
        ErrorType::RequestTimeout,
        ErrorType::TooManyRequests,
        ErrorType::Unavailable,
        ErrorType::Obm,
        ErrorType::Server,
    ];

    /// The error type a `type` member names, if it is one of HIL's.
    pub fn from_name(name: &str) -> Option<ErrorType> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The name HIL puts in the `type` member.
    pub fn name(self) -> &'static str {
        match self {
            ErrorType::Validation => "ValidationError",
            ErrorType::BadArgument => "BadArgumentError",
            ErrorType::Authorization => "AuthorizationError",
            ErrorType::NotFound => "NotFoundError",
            ErrorType::Duplicate => "DuplicateError",
            ErrorType::ProjectMismatch => "ProjectMismatchError",
            ErrorType::Blocked => "BlockedError",
            ErrorType::IllegalState => "IllegalStateError",
            ErrorType::Allocation => "AllocationError",
            ErrorType::NotImplemented => "NotImplementedError",
            ErrorType::MethodNotAllowed => "MethodNotAllowedError",
            ErrorType::RequestTimeout => "RequestTimeoutError",
            ErrorType::TooManyRequests => "TooManyRequestsError",
            ErrorType::Unavailable => "ServiceUnavailableError",
            ErrorType::Obm => "OBMError",
            ErrorType::Server => "ServerError",
        }
    }

    /// The HTTP status HIL answers with.
    pub fn status(self) -> u16 {
        match self {
            ErrorType::Validation | ErrorType::BadArgument => 400,
            ErrorType::Authorization => 401,
            ErrorType::NotFound => 404,
            ErrorType::MethodNotAllowed => 405,
            ErrorType::RequestTimeout => 408,
            ErrorType::TooManyRequests => 429,
            ErrorType::Duplicate
            | ErrorType::ProjectMismatch
            | ErrorType::Blocked
            | ErrorType::IllegalState => 409,
            ErrorType::Allocation | ErrorType::Obm | ErrorType::Server => 500,
            ErrorType::NotImplemented => 501,
            ErrorType::Unavailable => 503,
        }
    }
}
