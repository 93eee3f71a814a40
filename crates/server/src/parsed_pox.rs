//! A POX request as read and checked, remembered by its bytes (see `AppState::pox_requests`).

use signpost_core::validate;
use signpost_protocol::pox::PoxRequest;

/// A POX request as read, with its EMailAddress already normalised (which depends on nothing
/// but the request, so it is remembered with it).
pub struct ParsedPox {
    pub request: PoxRequest,
    /// The normalised address, or why it is not one.
    pub email: Option<Result<String, String>>,
}

impl ParsedPox {
    pub fn new(request: PoxRequest) -> Self {
        let email = request
            .email_address
            .as_deref()
            .map(|raw| validate::address("EMailAddress", raw).map_err(|e| e.to_string()));
        Self { request, email }
    }
}
