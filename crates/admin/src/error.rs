//! Errors of the administration API: JSON `{"error": code, "message": ..., "field": ...}` with a
//! 4xx status for what the caller can fix.

use axum::extract::FromRequest;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use signpost_core::ValidationError;
use signpost_operations::OpError;
use tracing::error;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<&'static str>,
}

/// The body of every error answer.
#[derive(Serialize, schemars::JsonSchema)]
pub struct ErrorBody {
    /// A stable code: invalid, bad_json, not_found, conflict, unauthorized, forbidden,
    /// csrf_failed, rate_limited, no_such_route, internal.
    pub error: String,
    /// What was wrong, for a person.
    pub message: String,
    /// The request field the message is about, if it is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: Some(field),
            ..Self::new(StatusCode::BAD_REQUEST, "invalid", message)
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn internal(what: &str, cause: impl std::fmt::Display) -> Self {
        error!(error = %cause, "{what}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("{what}; the server log has the details"),
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.code.to_string(),
            message: self.message,
            field: self.field.map(str::to_string),
        };
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        let message = e.to_string();
        Self::invalid(e.field, message)
    }
}

impl From<OpError> for ApiError {
    fn from(e: OpError) -> Self {
        match e {
            OpError::Invalid { field, .. } => Self::invalid(field, e.to_string()),
            OpError::NotFound(m) => Self::not_found(m),
            OpError::Conflict(m) => Self::new(StatusCode::CONFLICT, "conflict", m),
            OpError::Forbidden(m) => Self::forbidden(m),
            OpError::Unauthorized(m) => Self::unauthorized(m),
            OpError::Limited(_) => {
                Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", e.to_string())
            }
            OpError::Nothing(m) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "nothing_to_show", m)
            }
            OpError::Failed(_) => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the operation failed; the server log has the details",
            ),
        }
    }
}

/// `axum::Json`, with malformed bodies answered as [`ApiError`]s that say what was wrong
/// (serde names the field).
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => {
                // Unsupported media types and oversized bodies keep their own codes; every other
                // malformed body is plain bad input.
                let status = match rejection.status() {
                    s @ (StatusCode::UNSUPPORTED_MEDIA_TYPE | StatusCode::PAYLOAD_TOO_LARGE) => s,
                    _ => StatusCode::BAD_REQUEST,
                };
                Err(ApiError::new(status, "bad_json", rejection.body_text()))
            }
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
