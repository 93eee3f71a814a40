//! Liveness and readiness for load balancers and service managers.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::responses;
use crate::state::SharedState;

pub async fn healthz() -> Response {
    responses::text(StatusCode::OK, "ok\n")
}

pub async fn readyz(State(state): State<SharedState>) -> Response {
    let snapshot = state.snapshot.load();
    responses::with_type(
        StatusCode::OK,
        responses::TEXT,
        format!(
            "ready: configuration version {}, {} domains, {} users\n",
            snapshot.version,
            snapshot.domain_count(),
            snapshot.user_count()
        ),
    )
}
