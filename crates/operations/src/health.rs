//! The health of each domain at a glance: one row of checks (DNS, TLS, answers, ACME, recent
//! failures), each PASS, WARN or FAIL with the one-line fix. Domains with problems come first.

use serde::Serialize;
use signpost_core::answers::preview::PreviewKind;
use signpost_core::certificate::CertificateSource;
use signpost_core::dns_records;
use signpost_core::{Domain, ProtocolKind};
use signpost_diagnostics::Status;
use signpost_diagnostics::check::{self, CheckResult, EXPIRY_WARNING_DAYS};
use signpost_store::recent::RecentRequest;

use crate::Operations;
use crate::actor::Actor;
use crate::error::OpResult;

/// Domains checked at once (each check asks DNS and opens TLS connections).
const AT_ONCE: usize = 4;
/// Recent failures count over this long.
const RECENT_SECONDS: i64 = 3600;
/// This many refused sign-ins for a domain within the hour is worth a look.
const REFUSED_SIGN_INS: usize = 10;

/// What is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthCheckKind {
    Dns,
    Tls,
    Answers,
    Acme,
    Failures,
}

impl HealthCheckKind {
    pub const ALL: [Self; 5] = [
        Self::Dns,
        Self::Tls,
        Self::Answers,
        Self::Acme,
        Self::Failures,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Self::Dns => "dns",
            Self::Tls => "tls",
            Self::Answers => "answers",
            Self::Acme => "acme",
            Self::Failures => "failures",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Dns => "DNS records",
            Self::Tls => "TLS certificates",
            Self::Answers => "Client answers",
            Self::Acme => "ACME",
            Self::Failures => "Recent failures",
        }
    }
}

/// One check of one domain.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct HealthCheck {
    pub check: HealthCheckKind,
    pub status: Status,
    pub detail: String,
    /// What to do about it, when something is wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// Every check of one domain.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DomainHealth {
    pub domain: String,
    /// The worst of its checks.
    pub status: Status,
    pub checks: Vec<HealthCheck>,
    /// Unix seconds.
    pub checked_at: i64,
}

/// Every domain's health, problems first.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct HealthReport {
    pub domains: Vec<DomainHealth>,
    /// Unix seconds (0: never checked).
    pub checked_at: i64,
}

impl HealthReport {
    /// How many domains have a check that did not pass.
    pub fn problems(&self) -> usize {
        self.domains
            .iter()
            .filter(|d| d.status != Status::Pass)
            .count()
    }
}

fn worst(statuses: impl IntoIterator<Item = Status>) -> Status {
    statuses
        .into_iter()
        .max_by_key(|s| match s {
            Status::Pass => 0,
            Status::Warn => 1,
            Status::Fail => 2,
        })
        .unwrap_or(Status::Pass)
}

/// Many results of one kind as one check: the worst, with its detail and fix.
fn summarise(check: HealthCheckKind, results: &[CheckResult], passing: String) -> HealthCheck {
    let status = worst(results.iter().map(|r| r.status));
    match results
        .iter()
        .find(|r| r.status == status && status != Status::Pass)
    {
        Some(problem) => {
            let others = results.iter().filter(|r| r.status != Status::Pass).count() - 1;
            HealthCheck {
                check,
                status,
                detail: if others > 0 {
                    format!("{}: {} (and {others} more)", problem.check, problem.detail)
                } else {
                    format!("{}: {}", problem.check, problem.detail)
                },
                fix: problem.fix.clone(),
            }
        }
        None => HealthCheck {
            check,
            status: Status::Pass,
            detail: passing,
            fix: None,
        },
    }
}

impl Operations {
    /// Checks every domain the actor manages (or only `only`), a few at a time. `recent` is the
    /// recent-requests log, for the failures check.
    pub async fn health(
        &self,
        actor: &Actor,
        only: Option<&str>,
        recent: Option<&[RecentRequest]>,
    ) -> OpResult<HealthReport> {
        let domains: Vec<Domain> = match only {
            Some(name) => vec![self.domain(actor, name).await?],
            None => self
                .store
                .domains()
                .await?
                .into_iter()
                .filter(|d| actor.manages(&d.name))
                .collect(),
        };
        let mut checked = Vec::with_capacity(domains.len());
        for chunk in domains.chunks(AT_ONCE) {
            let checks = chunk
                .iter()
                .map(|domain| self.domain_health(domain, recent));
            checked.extend(futures_util::future::join_all(checks).await);
        }
        let rank = |s: Status| match s {
            Status::Fail => 0,
            Status::Warn => 1,
            Status::Pass => 2,
        };
        checked.sort_by(|a, b| {
            rank(a.status)
                .cmp(&rank(b.status))
                .then_with(|| a.domain.cmp(&b.domain))
        });
        Ok(HealthReport {
            domains: checked,
            checked_at: crate::unix_now(),
        })
    }

    async fn domain_health(
        &self,
        domain: &Domain,
        recent: Option<&[RecentRequest]>,
    ) -> DomainHealth {
        let expected = dns_records::records(domain, &self.settings.dns);
        let mut checks = Vec::new();
        match self.fetcher() {
            Ok(fetcher) => {
                let dns =
                    check::dns(domain, &expected, &self.settings.dns.addresses, &fetcher).await;
                checks.push(summarise(
                    HealthCheckKind::Dns,
                    &dns,
                    format!("{} names and records resolve as needed", dns.len()),
                ));
                let tls = check::certificates(domain, &fetcher).await;
                checks.push(summarise(
                    HealthCheckKind::Tls,
                    &tls,
                    format!(
                        "a valid certificate for {} name(s), none expiring within {EXPIRY_WARNING_DAYS} days",
                        tls.len()
                    ),
                ));
            }
            Err(e) => {
                for kind in [HealthCheckKind::Dns, HealthCheckKind::Tls] {
                    checks.push(HealthCheck {
                        check: kind,
                        status: Status::Fail,
                        detail: format!("could not look: {e}"),
                        fix: Some("check the diagnostics settings (resolver, CA files)".into()),
                    });
                }
            }
        }
        checks.push(self.answers_check(domain).await);
        checks.push(self.acme_check(domain).await);
        checks.push(failures_check(domain, recent));
        DomainHealth {
            domain: domain.name.clone(),
            status: worst(checks.iter().map(|c| c.status)),
            checks,
            checked_at: crate::unix_now(),
        }
    }

    /// Every answer clients get for a sample address is generated and well-formed.
    async fn answers_check(&self, domain: &Domain) -> HealthCheck {
        let address = format!("user@{}", domain.name);
        let mut kinds = vec![
            PreviewKind::Desktop,
            PreviewKind::Autoconfig,
            PreviewKind::Mobileconfig,
            PreviewKind::Pacc,
        ];
        if domain.protocols.get(ProtocolKind::Eas).enabled {
            kinds.push(PreviewKind::Mobile);
        }
        let snapshot = match self.live.snapshot().await {
            Ok(snapshot) => snapshot,
            Err(e) => {
                return HealthCheck {
                    check: HealthCheckKind::Answers,
                    status: Status::Fail,
                    detail: format!("cannot read the configuration being served: {e}"),
                    fix: None,
                };
            }
        };
        let served = snapshot
            .domain(&domain.name)
            .cloned()
            .unwrap_or_else(|| domain.clone());
        let mut problems = Vec::new();
        for kind in &kinds {
            let answer = signpost_core::answers::preview::preview(
                &snapshot,
                &served,
                &address,
                *kind,
                true,
                &self.settings.answers,
            )
            .map_err(crate::OpError::from);
            let problem = match answer {
                Ok(preview) if *kind == PreviewKind::Pacc => {
                    serde_json::from_str::<serde_json::Value>(&preview.body)
                        .err()
                        .map(|e| e.to_string())
                }
                Ok(preview) if *kind == PreviewKind::Mobileconfig => {
                    signpost_protocol::plist::problem(&preview.body)
                }
                Ok(preview) if preview.body.is_empty() => (*kind == PreviewKind::Desktop
                    || *kind == PreviewKind::Mobile)
                    .then(|| "the saved override text is empty".to_string()),
                Ok(preview) => signpost_core::overrides::xml_problem(&preview.body),
                Err(crate::OpError::Nothing(why)) if *kind == PreviewKind::Autoconfig => Some(why),
                Err(crate::OpError::Nothing(_)) => None,
                Err(e) => Some(e.to_string()),
            };
            if let Some(problem) = problem {
                problems.push(format!("{}: {problem}", kind_label(*kind)));
            }
        }
        match problems.first() {
            None => HealthCheck {
                check: HealthCheckKind::Answers,
                status: Status::Pass,
                detail: format!("{} answers generated and well-formed", kinds.len()),
                fix: None,
            },
            Some(first) => HealthCheck {
                check: HealthCheckKind::Answers,
                status: Status::Fail,
                detail: if problems.len() > 1 {
                    format!("{first} (and {} more)", problems.len() - 1)
                } else {
                    first.clone()
                },
                fix: Some(
                    "fix or turn off the domain's override, or the protocol settings it names"
                        .into(),
                ),
            },
        }
    }

    /// For domains with ACME on: a current ACME certificate for each name it orders.
    async fn acme_check(&self, domain: &Domain) -> HealthCheck {
        let check = |status, detail: String, fix: Option<&str>| HealthCheck {
            check: HealthCheckKind::Acme,
            status,
            detail,
            fix: fix.map(str::to_string),
        };
        if !domain.acme.enabled {
            return check(Status::Pass, "off for this domain".into(), None);
        }
        let certificates = match self.store.certificates().await {
            Ok(certificates) => certificates,
            Err(e) => {
                return check(
                    Status::Fail,
                    format!("cannot read the certificates: {e}"),
                    None,
                );
            }
        };
        let now = crate::unix_now();
        let mut missing = Vec::new();
        let mut soonest: Option<i64> = None;
        for name in domain.acme_names() {
            let best = certificates
                .iter()
                .filter(|c| c.source == CertificateSource::Acme && c.info.covers(&name))
                .map(|c| c.info.days_left(now))
                .max();
            match best {
                Some(days) if days >= 0 => soonest = Some(soonest.map_or(days, |s| s.min(days))),
                _ => missing.push(name),
            }
        }
        if !missing.is_empty() {
            return check(
                Status::Warn,
                format!("no current certificate yet for {}", missing.join(", ")),
                Some(
                    "the server orders them at its next check; `signpost cert list` and the server log say how it went",
                ),
            );
        }
        match soonest {
            Some(days) if days < EXPIRY_WARNING_DAYS => check(
                Status::Warn,
                format!("a certificate expires in {days} days and was not renewed"),
                Some(
                    "see the server log for the renewal's error; `signpost cert renew NAME` orders again",
                ),
            ),
            _ => check(
                Status::Pass,
                format!("certificates for {} name(s)", domain.acme_names().len()),
                None,
            ),
        }
    }
}

fn kind_label(kind: PreviewKind) -> &'static str {
    match kind {
        PreviewKind::Desktop => "Outlook answer",
        PreviewKind::Mobile => "ActiveSync answer",
        PreviewKind::Autoconfig => "Thunderbird autoconfig",
        PreviewKind::Mobileconfig => "Apple profile",
        PreviewKind::Pacc => "PACC document",
    }
}

/// Refused sign-ins and server errors for the domain in the last hour.
fn failures_check(domain: &Domain, recent: Option<&[RecentRequest]>) -> HealthCheck {
    let Some(recent) = recent else {
        return HealthCheck {
            check: HealthCheckKind::Failures,
            status: Status::Pass,
            detail: "not known here (the server keeps the recent requests)".into(),
            fix: None,
        };
    };
    let since = crate::unix_now() - RECENT_SECONDS;
    let names: Vec<&str> = domain.all_names().collect();
    let ours: Vec<&RecentRequest> = recent
        .iter()
        .filter(|r| r.time >= since)
        .filter(|r| r.domain.as_deref().is_some_and(|d| names.contains(&d)))
        .collect();
    let refused = ours.iter().filter(|r| r.outcome == "unauthorized").count();
    let errors = ours
        .iter()
        .filter(|r| r.outcome == "server_error" || r.outcome == "directory_unavailable")
        .count();
    let (status, fix) = if errors > 0 {
        (
            Status::Warn,
            Some("see Recent requests and the server log for what failed".to_string()),
        )
    } else if refused >= REFUSED_SIGN_INS {
        (
            Status::Warn,
            Some("many refused sign-ins: a user with an old password, or someone guessing (see Recent requests)".to_string()),
        )
    } else {
        (Status::Pass, None)
    };
    HealthCheck {
        check: HealthCheckKind::Failures,
        status,
        detail: format!(
            "in the last hour: {} request(s), {refused} refused sign-in(s), {errors} server error(s)",
            ours.len()
        ),
        fix,
    }
}
