//! The client's error type.

use std::time::Duration;

use hil_types::{ErrorType, NetworkingAction};

/// An error the server answered with: HTTP status plus HIL's `{type, msg}` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    /// The `type` member, e.g. `NotFoundError`; `unknown` when the body was not HIL's JSON.
    pub error_type: String,
    pub msg: String,
}

impl ApiError {
    /// The error type as an enum, when the server sent one of HIL's names.
    pub fn kind(&self) -> Option<ErrorType> {
        ErrorType::from_name(&self.error_type)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // HIL's CLI prints the message alone; some errors (IllegalStateError) have none.
        if self.msg.trim().is_empty() {
            write!(f, "{} (HTTP {})", self.error_type, self.status)
        } else {
            f.write_str(&self.msg)
        }
    }
}

/// Everything a client call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The endpoint is not an `http://` or `https://` URL.
    #[error("invalid endpoint {endpoint:?}: {reason}")]
    InvalidEndpoint { endpoint: String, reason: String },

    /// An argument this client cannot send, refused before any request.
    #[error("{0}")]
    InvalidArgument(String),

    /// The server refused the call.
    #[error("{0}")]
    Api(ApiError),

    /// No answer: connection refused, DNS failure, TLS failure or a timeout.
    #[error("cannot reach HIL at {endpoint}: {reason}")]
    Unreachable { endpoint: String, reason: String },

    /// Keystone could not be reached, or refused the credentials.
    #[error("{0}")]
    Keystone(String),

    /// The server answered success with a body this client does not understand.
    #[error("unexpected answer from HIL (HTTP {status}): {reason}")]
    InvalidResponse { status: u16, reason: String },

    /// [`crate::Client::wait_networking_action`] gave up; `last` is the action as last seen.
    #[error("networking action {status_id} is still {} after {}s", last.status.as_str(), waited.as_secs())]
    WaitTimeout {
        status_id: String,
        waited: Duration,
        last: Box<NetworkingAction>,
    },
}

impl Error {
    /// The server's error, if this is one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// True when the server answered with this error type.
    pub fn is(&self, kind: ErrorType) -> bool {
        self.api().and_then(ApiError::kind) == Some(kind)
    }
}

/// The innermost cause of a transport error: "Connection refused (os error 111)" rather than
/// reqwest's "error sending request for url (...)".
pub(crate) fn root_cause(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        return "the request timed out".into();
    }
    let mut cause: &dyn std::error::Error = err;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}
