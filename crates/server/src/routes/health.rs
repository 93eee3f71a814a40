//! Liveness and readiness for load balancers and service managers.

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;

use crate::connection::ClientConnection;
use crate::responses;
use crate::state::SharedState;

pub async fn healthz() -> Response {
    responses::text(StatusCode::OK, "ok\n")
}

/// Ready while answers can be given. Without the store (a database outage) the answers still
/// come from the last configuration, so the status stays 200 (a load balancer must not take every
/// instance out at once), and the body says `degraded` for monitoring.
pub async fn readyz(State(state): State<SharedState>) -> Response {
    let snapshot = state.snapshot.load();
    let store_up = state.store_up.load(std::sync::atomic::Ordering::Relaxed);
    let mut response = responses::with_type(
        StatusCode::OK,
        responses::TEXT,
        format!(
            "{}: configuration version {}, {}, {}{}\n",
            if store_up { "ready" } else { "degraded" },
            snapshot.version,
            signpost_core::counted(snapshot.domain_count() as u64, "domain"),
            signpost_core::counted(snapshot.user_count() as u64, "user"),
            if store_up {
                ""
            } else {
                "; the store cannot be read, answering from the last configuration"
            }
        ),
    );
    if !store_up {
        response.headers_mut().insert(
            axum::http::HeaderName::from_static("x-signpost-degraded"),
            axum::http::HeaderValue::from_static("store-unreachable"),
        );
    }
    response
}

/// Prometheus metrics: requests, latency, failed and limited logins, certificate expiry, the
/// configuration's version and age.
/// Whether `/metrics` may answer: a client in `--metrics-allow`, or a request with an
/// administrator's API token. (The counts of domains and users and the certificate names are
/// nobody else's business, and discovery names must not reveal them.)
async fn may_read_metrics(state: &SharedState, parts: &Parts) -> bool {
    let client = parts
        .extensions
        .get::<ClientConnection>()
        .map(|c| c.peer.ip());
    let allowed = |ip| state.config.metrics_allow.iter().any(|n| n.contains(ip));
    if client.is_some_and(allowed) {
        return true;
    }
    let token = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match (token, state.metrics_tokens.get()) {
        (Some(token), Some(check)) if !token.is_empty() => check(token.to_string()).await,
        _ => false,
    }
}

pub async fn metrics(State(state): State<SharedState>, parts: Parts) -> Response {
    if !may_read_metrics(&state, &parts).await {
        return responses::text(StatusCode::NOT_FOUND, "Not found\n");
    }
    use crate::metrics::label_value;
    let snapshot = state.snapshot.load();
    let now = crate::clock::now();
    let loaded_at = state
        .snapshot_loaded_at
        .load(std::sync::atomic::Ordering::Relaxed);
    let index = state.certificates.index();
    let expiry: Vec<(String, f64)> = index
        .certificates()
        .iter()
        .map(|c| {
            let name = c.info.names.first().map(String::as_str).unwrap_or("");
            (
                format!(
                    "{{name=\"{}\",origin=\"{}\"}}",
                    label_value(name),
                    label_value(&c.origin)
                ),
                c.info.not_after as f64,
            )
        })
        .collect();
    let (clients, accounts) = state.sign_ins.tracked();
    let plain = |value: f64| vec![(String::new(), value)];
    let body = state.metrics.render(&[
        (
            "signpost_certificate_expiry_timestamp_seconds",
            "When each served certificate expires, in seconds since the Unix epoch (alert on it minus time()).",
            expiry,
        ),
        (
            "signpost_configuration_version",
            "The store version answers are computed from.",
            plain(snapshot.version as f64),
        ),
        (
            "signpost_store_up",
            "1 when the store could be read at the last look, 0 while answers come from the last configuration.",
            plain(if state.store_up.load(std::sync::atomic::Ordering::Relaxed) {
                1.0
            } else {
                0.0
            }),
        ),
        (
            "signpost_configuration_age_seconds",
            "Seconds since the configuration was loaded.",
            plain((now - loaded_at).max(0) as f64),
        ),
        (
            "signpost_domains",
            "Hosted domains.",
            plain(snapshot.domain_count() as f64),
        ),
        (
            "signpost_users",
            "Users in the store.",
            plain(snapshot.user_count() as f64),
        ),
        (
            "signpost_password_hashes_total",
            "Password hashes computed (remembered credentials need none).",
            plain(state.passwords.computed() as f64),
        ),
        (
            "signpost_memo_lookups_total",
            "Lookups of remembered parsed requests and answers, by memo and result.",
            [
                ("pox_requests", state.pox_requests.hits_and_misses()),
                ("answers", state.answers.hits_and_misses()),
            ]
            .into_iter()
            .flat_map(|(memo, (hits, misses))| {
                [
                    (format!("{{memo=\"{memo}\",result=\"hit\"}}"), hits as f64),
                    (
                        format!("{{memo=\"{memo}\",result=\"miss\"}}"),
                        misses as f64,
                    ),
                ]
            })
            .collect(),
        ),
        (
            "signpost_health_status",
            "The administration's latest health checks: 0 pass, 1 warn, 2 fail, by domain and check (problems first, at most 1000 domains).",
            state.health_gauges.load().as_ref().clone(),
        ),
        (
            "signpost_login_limiter_entries",
            "Clients and accounts the failed-login limiter remembers.",
            vec![
                ("{side=\"client\"}".to_string(), clients as f64),
                ("{side=\"account\"}".to_string(), accounts as f64),
            ],
        ),
    ]);
    responses::with_type(
        StatusCode::OK,
        "text/plain; version=0.0.4; charset=utf-8",
        body,
    )
}
