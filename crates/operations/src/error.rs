//! Why an operation did not happen, in words a person can act on, with the field at fault.

use std::time::Duration;

use signpost_core::ValidationError;
use signpost_core::answers::preview::PreviewError;
use signpost_store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpError {
    /// The input is wrong; `field` names the part at fault.
    Invalid {
        field: &'static str,
        message: String,
    },
    NotFound(String),
    /// It exists already (a name taken).
    Conflict(String),
    /// The actor may not do this.
    Forbidden(String),
    /// A sign-in that failed.
    Unauthorized(String),
    /// Too many failed sign-ins; try again after this long.
    Limited(Duration),
    /// Nothing to show (a preview of a protocol that is off).
    Nothing(String),
    /// Something failed that the caller cannot fix; the log has the details.
    Failed(String),
}

pub type OpResult<T> = Result<T, OpError>;

impl OpError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }

    /// A failure to report as such: logged with its cause, told without it.
    pub fn failed(what: &str, cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "{what}");
        Self::Failed(format!("{what}: {cause}"))
    }

    /// The field at fault, if the input is.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl std::fmt::Display for OpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Invalid { field, message } => write!(f, "invalid {field}: {message}"),
            Self::NotFound(m)
            | Self::Conflict(m)
            | Self::Forbidden(m)
            | Self::Unauthorized(m)
            | Self::Nothing(m)
            | Self::Failed(m) => f.write_str(m),
            Self::Limited(wait) => write!(
                f,
                "too many failed sign-ins; try again in {} seconds",
                wait.as_secs().max(1)
            ),
        }
    }
}

impl std::error::Error for OpError {}

impl From<ValidationError> for OpError {
    fn from(e: ValidationError) -> Self {
        Self::Invalid {
            field: e.field,
            message: e.message,
        }
    }
}

impl From<StoreError> for OpError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { .. } => Self::NotFound(e.to_string()),
            StoreError::AlreadyExists { .. } => Self::Conflict(e.to_string()),
            StoreError::Import(message) => Self::invalid("import", message),
            other => Self::failed("the store failed", other),
        }
    }
}

impl From<PreviewError> for OpError {
    fn from(e: PreviewError) -> Self {
        match e {
            PreviewError::Invalid(v) => v.into(),
            PreviewError::Nothing(message) => Self::Nothing(message),
        }
    }
}
