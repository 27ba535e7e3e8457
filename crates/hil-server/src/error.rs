//! The one error type of the server. Each variant is one of HIL's error types; `error_type()`
//! gives its name and status. Messages carry context, never secrets.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hil_types::{ErrorBody, ErrorType};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    BadArgument(String),
    #[error("{0}")]
    Authorization(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Duplicate(String),
    #[error("{0}")]
    ProjectMismatch(String),
    #[error("{0}")]
    Blocked(String),
    #[error("{0}")]
    IllegalState(String),
    #[error("{0}")]
    Allocation(String),
    #[error("{0}")]
    NotImplemented(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    /// A BMC (or obmd) failed, refused or did not answer in time. The message says why and
    /// never holds a BMC secret.
    #[error("{0}")]
    Obm(String),
    /// The hypervisor failed a headnode operation (HIL's 500); the message says why.
    #[error("{0}")]
    Hypervisor(String),
    /// Too many failed logins: the caller must wait this many seconds (429, Retry-After).
    #[error("{0}")]
    TooManyRequests(String, u64),
    /// A resource other than the database is exhausted for the moment (503, Retry-After).
    #[error("{0}")]
    Unavailable(String),
    /// A client took too long to send its request (408).
    #[error("{0}")]
    RequestTimeout(String),
    /// The database failed or is unreachable. Logged in full; the client sees a generic text.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Anything else that is our fault. Logged in full; the client sees a generic text.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn error_type(&self) -> ErrorType {
        match self {
            ApiError::Validation(_) => ErrorType::Validation,
            ApiError::BadArgument(_) => ErrorType::BadArgument,
            ApiError::Authorization(_) => ErrorType::Authorization,
            ApiError::NotFound(_) => ErrorType::NotFound,
            ApiError::Duplicate(_) => ErrorType::Duplicate,
            ApiError::ProjectMismatch(_) => ErrorType::ProjectMismatch,
            ApiError::Blocked(_) => ErrorType::Blocked,
            ApiError::IllegalState(_) => ErrorType::IllegalState,
            ApiError::Allocation(_) => ErrorType::Allocation,
            ApiError::NotImplemented(_) => ErrorType::NotImplemented,
            ApiError::MethodNotAllowed(_) => ErrorType::MethodNotAllowed,
            ApiError::Obm(_) => ErrorType::Obm,
            ApiError::Hypervisor(_) => ErrorType::Server,
            ApiError::TooManyRequests(..) => ErrorType::TooManyRequests,
            ApiError::Unavailable(_) => ErrorType::Unavailable,
            ApiError::RequestTimeout(_) => ErrorType::RequestTimeout,
            ApiError::Database(sqlx::Error::PoolTimedOut) => ErrorType::Unavailable,
            ApiError::Database(_) | ApiError::Internal(_) => ErrorType::Server,
        }
    }

    /// The message shown to the client.
    fn public_message(&self) -> String {
        match self {
            ApiError::Database(sqlx::Error::PoolTimedOut) => {
                "The database is busy or unreachable; try again.".to_string()
            }
            ApiError::Database(_) | ApiError::Internal(_) => {
                "Internal server error; the server log has the details.".to_string()
            }
            other => other.to_string(),
        }
    }

    /// The request failed validation (HIL's generic schema message).
    pub fn invalid_args() -> Self {
        ApiError::Validation("Request arguments are not valid for this request".into())
    }

    /// Failed logins reached a limit; the next attempt may come after `wait`.
    pub fn too_many_logins(wait: std::time::Duration) -> Self {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        ApiError::TooManyRequests(
            format!("Too many failed logins; try again in {secs} seconds."),
            secs,
        )
    }

    /// When the client may try again, for the `Retry-After` header.
    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            ApiError::TooManyRequests(_, secs) => Some(*secs),
            ApiError::Unavailable(_) | ApiError::Database(sqlx::Error::PoolTimedOut) => Some(1),
            _ => None,
        }
    }

    pub fn admin_only() -> Self {
        ApiError::Authorization("This operation is administrator-only.".into())
    }

    pub fn no_project_access() -> Self {
        ApiError::Authorization("You do not have access to the required project.".into())
    }

    pub fn auth_required() -> Self {
        ApiError::Authorization(
            "Authentication failed. Authentication is required to use this service.".into(),
        )
    }

    /// `"<Class> <label> does not exist."`
    pub fn missing(class: &str, label: &str) -> Self {
        ApiError::NotFound(format!("{class} {label} does not exist."))
    }

    /// `"<Child> <label> on <Parent> <parent> does not exist."`
    pub fn missing_child(child: &str, label: &str, parent: &str, parent_label: &str) -> Self {
        ApiError::NotFound(format!(
            "{child} {label} on {parent} {parent_label} does not exist."
        ))
    }

    /// `"<Class> <label> already exists."`
    pub fn exists(class: &str, label: &str) -> Self {
        ApiError::Duplicate(format!("{class} {label} already exists."))
    }

    /// `"<Child> <label> on <Parent> <parent> already exists"` (HIL has no final period here).
    pub fn child_exists(child: &str, label: &str, parent: &str, parent_label: &str) -> Self {
        ApiError::Duplicate(format!(
            "{child} {label} on {parent} {parent_label} already exists"
        ))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error_type = self.error_type();
        if matches!(error_type, ErrorType::Server | ErrorType::Unavailable) {
            tracing::error!(error = %self, "request failed");
        }
        let body = ErrorBody {
            error_type: error_type.name().to_string(),
            msg: self.public_message(),
        };
        let status =
            StatusCode::from_u16(error_type.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(body)).into_response();
        // For the audit log, which records each call's outcome.
        response.extensions_mut().insert(error_type);
        if let Some(secs) = self.retry_after_secs() {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}
