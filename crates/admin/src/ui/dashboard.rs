//! The landing page: every domain's health in one row (DNS, TLS, answers, ACME, recent
//! failures), problems first, each with the one-line fix; checked on a schedule and on demand.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use signpost_operations::health::{HealthCheckKind, HealthReport};

use super::{Admin, Chrome, Posted, Signed, page, status_chip};
use crate::health;

/// One check in a row.
pub struct CheckCell {
    pub class: &'static str,
    pub word: &'static str,
    pub label: &'static str,
    pub detail: String,
    pub fix: Option<String>,
}

pub struct DomainRow {
    pub name: String,
    pub class: &'static str,
    pub word: &'static str,
    pub cells: Vec<CheckCell>,
}

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    rows: Vec<DomainRow>,
    checks: Vec<&'static str>,
    /// Unix seconds; 0 when never checked.
    checked_at: i64,
    checked_at_text: String,
    counts: (usize, usize, usize),
}

/// A row per domain: the checked ones as the report orders them (problems first), then those
/// not checked yet.
pub fn rows(report: &HealthReport, domains: &[String]) -> Vec<DomainRow> {
    // A domain removed since the last check is not shown.
    let current = report
        .domains
        .iter()
        .filter(|d| domains.contains(&d.domain));
    let checked = current.map(|domain| {
        let (class, word) = status_chip(domain.status);
        DomainRow {
            name: domain.domain.clone(),
            class,
            word,
            cells: HealthCheckKind::ALL
                .iter()
                .map(
                    |kind| match domain.checks.iter().find(|c| c.check == *kind) {
                        Some(check) => {
                            let (class, word) = status_chip(check.status);
                            CheckCell {
                                class,
                                word,
                                label: kind.label(),
                                detail: check.detail.clone(),
                                fix: check.fix.clone(),
                            }
                        }
                        None => unchecked(*kind),
                    },
                )
                .collect(),
        }
    });
    let waiting = domains
        .iter()
        .filter(|name| !report.domains.iter().any(|d| &d.domain == *name))
        .map(|name| DomainRow {
            name: name.clone(),
            class: "none",
            word: "not checked",
            cells: HealthCheckKind::ALL
                .iter()
                .map(|kind| unchecked(*kind))
                .collect(),
        });
    checked.chain(waiting).collect()
}

fn unchecked(kind: HealthCheckKind) -> CheckCell {
    CheckCell {
        class: "none",
        word: "—",
        label: kind.label(),
        detail: "not checked yet".into(),
        fix: None,
    }
}

pub async fn show(State(admin): Admin, signed: Signed) -> Response {
    let domains = match admin.ops.domains(&signed.caller.actor, None).await {
        Ok(domains) => domains
            .into_iter()
            .map(|d| d.domain.name)
            .collect::<Vec<_>>(),
        Err(e) => return crate::error::ApiError::from(e).into_response(),
    };
    let report = admin.health.latest(&signed.caller.actor);
    let rows = rows(&report, &domains);
    let count = |class: &str| rows.iter().filter(|r| r.class == class).count();
    let counts = (count("pass"), count("warn"), count("fail"));
    page(&DashboardPage {
        chrome: signed.chrome("dashboard"),
        checks: HealthCheckKind::ALL.iter().map(|k| k.label()).collect(),
        checked_at: report.checked_at,
        checked_at_text: signpost_server::state::time_format(report.checked_at),
        counts,
        rows,
    })
}

pub async fn check_now(State(admin): Admin, Posted { signed, fields }: Posted) -> Response {
    let domain = fields.get("domain").filter(|d| !d.is_empty());
    match health::check_now(&admin, &signed.caller.actor, domain).await {
        Ok(report) => {
            let problems = report.problems();
            signed.done(
                &admin,
                "/admin/#health",
                format!(
                    "checked {}: {problems} with something to look at",
                    signpost_core::counted(report.domains.len() as u64, "domain")
                ),
            )
        }
        Err(e) => signed.failed(&admin, "/admin/", e),
    }
}
