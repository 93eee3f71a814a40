//! The health dashboard's data: checked in the background on a schedule (with jitter; a few
//! domains at a time) and on demand, kept for the dashboard, the API and `/metrics`.

use std::sync::Arc;
use std::time::Duration;

use signpost_operations::health::{DomainHealth, HealthReport};
use signpost_operations::{Actor, OpResult};
use signpost_server::recent::{RecentFilter, RecentRequest};
use tracing::{info, warn};

use super::AdminState;

/// At most this many domains in the gauges (problems first): labels stay bounded.
const GAUGE_DOMAINS: usize = 1000;
/// The first scheduled check runs this long after start (the dashboard has data soon).
const FIRST_CHECK: Duration = Duration::from_secs(5);

/// The latest report, and one check at a time.
#[derive(Default)]
pub struct Health {
    report: std::sync::RwLock<HealthReport>,
    running: tokio::sync::Mutex<()>,
}

impl Health {
    /// The latest report, limited to what `actor` manages.
    pub fn latest(&self, actor: &Actor) -> HealthReport {
        let report = self.report.read().map(|r| r.clone()).unwrap_or_default();
        HealthReport {
            domains: report
                .domains
                .into_iter()
                .filter(|d| actor.manages(&d.domain))
                .collect(),
            checked_at: report.checked_at,
        }
    }

    /// The latest state of one domain, if it was checked.
    pub fn of(&self, domain: &str) -> Option<DomainHealth> {
        self.report
            .read()
            .ok()?
            .domains
            .iter()
            .find(|d| d.domain == domain)
            .cloned()
    }

    /// Takes in a fresh report: every domain's when `complete`, else the domains it holds.
    fn record(&self, fresh: &HealthReport, complete: bool) -> HealthReport {
        let Ok(mut report) = self.report.write() else {
            return fresh.clone();
        };
        if complete {
            *report = fresh.clone();
        } else {
            for domain in &fresh.domains {
                report.domains.retain(|d| d.domain != domain.domain);
                report.domains.push(domain.clone());
            }
            report.checked_at = report.checked_at.max(fresh.checked_at);
        }
        report.clone()
    }
}

/// The recent requests every instance answered (for the failures check).
async fn recent(admin: &AdminState) -> Vec<RecentRequest> {
    let filter = RecentFilter {
        limit: Some(10_000),
        ..RecentFilter::default()
    };
    if admin.store.is_shared() {
        return admin
            .store
            .recent_requests(&filter, None)
            .await
            .unwrap_or_default();
    }
    admin.app.recent.list(&filter, |_| true)
}

/// Checks now: every domain the actor manages, or only `domain`.
pub async fn check_now(
    admin: &AdminState,
    actor: &Actor,
    domain: Option<&str>,
) -> OpResult<HealthReport> {
    let _one_at_a_time = admin.health.running.lock().await;
    let recent = recent(admin).await;
    let fresh = admin.ops.health(actor, domain, Some(&recent)).await?;
    let complete = domain.is_none() && actor.limited_to().is_none();
    let all = admin.health.record(&fresh, complete);
    publish_gauges(admin, &all);
    Ok(fresh)
}

fn publish_gauges(admin: &AdminState, report: &HealthReport) {
    let value = |status: signpost_diagnostics::Status| match status {
        signpost_diagnostics::Status::Pass => 0.0,
        signpost_diagnostics::Status::Warn => 1.0,
        signpost_diagnostics::Status::Fail => 2.0,
    };
    let label = signpost_server::metrics::label_value;
    let samples = report
        .domains
        .iter()
        .take(GAUGE_DOMAINS)
        .flat_map(|domain| {
            domain.checks.iter().map(|check| {
                (
                    format!(
                        "{{domain=\"{}\",check=\"{}\"}}",
                        label(&domain.domain),
                        check.check.key()
                    ),
                    value(check.status),
                )
            })
        })
        .collect();
    admin.app.health_gauges.store(Arc::new(samples));
}

/// Checks every domain every `every` (each wait stretched by up to a tenth, so instances
/// sharing a store spread their checks), the first soon after start.
pub async fn schedule(admin: Arc<AdminState>, every: Duration) {
    tokio::time::sleep(FIRST_CHECK).await;
    loop {
        let started = std::time::Instant::now();
        match check_now(&admin, &Actor::server(), None).await {
            Ok(report) => {
                let problems = report.problems();
                info!(
                    domains = report.domains.len(),
                    problems,
                    seconds = started.elapsed().as_secs(),
                    "health checked"
                );
            }
            Err(e) => warn!(error = %e, "the scheduled health check failed"),
        }
        let jitter = every.mul_f64(rand_fraction() / 10.0);
        tokio::time::sleep(every + jitter).await;
    }
}

/// A fraction in [0, 1) that differs between instances and runs.
fn rand_fraction() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    f64::from((nanos ^ std::process::id().wrapping_mul(2_654_435_761)) % 1_000_000) / 1_000_000.0
}
