//! Turning a credential check into what a client is told: the user, or 401 (with the Basic
//! challenge), 429 (with Retry-After), or 503 when the domain's directory cannot be asked.

use std::net::IpAddr;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use signpost_core::Snapshot;

use crate::basic_auth::BasicCredentials;
use crate::credential_cache::Verified;
use crate::responses;
use crate::state::{AppState, AuthOutcome};

pub async fn verify(
    state: &AppState,
    snapshot: &Snapshot,
    credentials: &BasicCredentials,
    address_hint: Option<&str>,
    client: IpAddr,
) -> Result<Verified, Response> {
    match state
        .authenticate(snapshot, credentials, address_hint, client)
        .await
    {
        AuthOutcome::Verified(user) => Ok(user),
        // The same answer for unknown users and wrong passwords.
        AuthOutcome::Refused => Err(responses::unauthorized(&state.config.realm)),
        AuthOutcome::Limited(wait) => {
            let mut response = responses::text(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many failed logins; try again later\n",
            );
            if let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Err(response)
        }
        // Never a wrong answer: the client asks again later, as it does when the server is down.
        AuthOutcome::Unavailable(_) => {
            let mut response = responses::text(
                StatusCode::SERVICE_UNAVAILABLE,
                "The user directory is unavailable; try again later\n",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
            Err(response)
        }
    }
}
