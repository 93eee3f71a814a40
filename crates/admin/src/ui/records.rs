//! The pages that show rather than change: a domain's DNS records and live check, what clients
//! get for an address, the recent discovery requests, and the changes made.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use signpost_core::answers::preview::PreviewKind;
use signpost_diagnostics::probe::Client;
use signpost_operations::views::{PreviewRequest, ProbeRequest};
use signpost_server::metrics::{ClientKind, Endpoint, Outcome};
use signpost_server::recent::RecentFilter;

use super::{Admin, Chrome, Posted, Signed, page, status_chip};
use crate::AdminState;
use crate::api;
use crate::error::ApiError;

// ---- DNS ------------------------------------------------------------------------------------

pub struct CheckRow {
    pub class: &'static str,
    pub word: &'static str,
    pub check: String,
    pub detail: String,
    pub fix: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/dns.html")]
struct DnsPage {
    chrome: Chrome,
    name: String,
    tab: &'static str,
    sample_address: String,
    records: Vec<signpost_core::dns_records::DnsRecord>,
    zone: String,
    no_address: bool,
    checks: Option<Vec<CheckRow>>,
    counts: (usize, usize, usize),
}

async fn dns_view(
    admin: &AdminState,
    signed: &Signed,
    name: &str,
    checks: Option<Vec<CheckRow>>,
) -> Response {
    let domain = match admin.ops.domain(&signed.caller.actor, name).await {
        Ok(domain) => domain,
        Err(e) => return signed.failed(admin, "/admin/domains", e),
    };
    let records = match admin
        .ops
        .dns_records(&signed.caller.actor, &domain.name)
        .await
    {
        Ok(records) => records,
        Err(e) => return signed.failed(admin, "/admin/domains", e),
    };
    let zone = records
        .iter()
        .map(|r| r.zone_line())
        .collect::<Vec<_>>()
        .join("\n");
    let count = |class: &str| {
        checks
            .as_ref()
            .map_or(0, |c| c.iter().filter(|r| r.class == class).count())
    };
    let dns = &admin.settings.operations.dns;
    page(&DnsPage {
        chrome: signed.chrome("domains"),
        tab: "dns",
        sample_address: super::sample_address(admin, signed, &domain.name).await,
        counts: (count("pass"), count("warn"), count("fail")),
        name: domain.name,
        zone,
        records,
        no_address: dns.addresses.is_empty() && dns.cname.is_none(),
        checks,
    })
}

pub async fn dns_page(State(admin): Admin, signed: Signed, Path(name): Path<String>) -> Response {
    dns_view(&admin, &signed, &name, None).await
}

pub async fn dns_check(
    State(admin): Admin,
    Path(name): Path<String>,
    Posted { signed, .. }: Posted,
) -> Response {
    let results = match admin.ops.check(&signed.caller.actor, &name).await {
        Ok(results) => results,
        Err(e) => return signed.failed(&admin, &format!("{}/dns", super::domain_path(&name)), e),
    };
    let rows = results
        .into_iter()
        .map(|r| {
            let (class, word) = status_chip(r.status);
            CheckRow {
                class,
                word,
                check: r.check,
                detail: r.detail,
                fix: r.fix,
            }
        })
        .collect();
    dns_view(&admin, &signed, &name, Some(rows)).await
}

// ---- test -----------------------------------------------------------------------------------

pub struct AnswerCard {
    pub id: &'static str,
    pub client: &'static str,
    pub body: Option<String>,
    pub problem: Option<String>,
    /// Whether the body is the domain's saved override.
    pub overridden: bool,
}

pub struct ProbeView {
    /// (client, status class, status word, request, outcome)
    pub attempts: Vec<(String, &'static str, &'static str, String, String)>,
    pub found: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin/test.html")]
struct TestPage {
    chrome: Chrome,
    address: String,
    probe: bool,
    settings: Option<signpost_operations::ClientSettings>,
    problem: Option<String>,
    answers: Vec<AnswerCard>,
    probe_report: Option<ProbeView>,
}

#[derive(Deserialize, Default)]
pub struct TestQuery {
    address: Option<String>,
}

const CLIENTS: [(&str, &str, PreviewKind); 5] = [
    ("desktop", "Outlook (desktop XML)", PreviewKind::Desktop),
    ("mobile", "ActiveSync (mobile XML)", PreviewKind::Mobile),
    (
        "autoconfig",
        "Thunderbird (autoconfig)",
        PreviewKind::Autoconfig,
    ),
    (
        "mobileconfig",
        "iPhone, iPad and Mac (configuration profile)",
        PreviewKind::Mobileconfig,
    ),
    (
        "pacc",
        "PACC (user-agent-configuration.json)",
        PreviewKind::Pacc,
    ),
];

/// What clients get for `address`: the table, then each client's answer. A domain that is not
/// hosted is said once, not once per client.
async fn test_view(
    admin: &AdminState,
    signed: &Signed,
    address: String,
    probe: Option<ProbeRequest>,
) -> Response {
    let mut view = TestPage {
        chrome: signed.chrome("test"),
        address: address.clone(),
        probe: probe.is_some(),
        settings: None,
        problem: None,
        answers: Vec::new(),
        probe_report: None,
    };
    if address.trim().is_empty() {
        return page(&view);
    }
    match admin
        .ops
        .client_settings(&signed.caller.actor, &address)
        .await
    {
        Ok(settings) => {
            for (id, client, kind) in CLIENTS {
                let request = PreviewRequest {
                    address: address.clone(),
                    kind,
                    with_override: Some(true),
                };
                let overridden =
                    (id == "desktop" || id == "mobile") && settings.overrides.contains(&id);
                view.answers.push(
                    match admin.ops.preview(&signed.caller.actor, &request).await {
                        Ok(preview) => AnswerCard {
                            id,
                            client,
                            body: Some(preview.body),
                            problem: None,
                            overridden,
                        },
                        Err(e) => AnswerCard {
                            id,
                            client,
                            body: None,
                            problem: Some(e.to_string()),
                            overridden,
                        },
                    },
                );
            }
            view.settings = Some(settings);
        }
        Err(e) => view.problem = Some(e.to_string()),
    }
    if let Some(request) = probe {
        match admin.ops.probe(&signed.caller.actor, request).await {
            Ok(report) => view.probe_report = Some(probe_view(&report)),
            Err(e) => view.problem = Some(e.to_string()),
        }
    }
    page(&view)
}

fn probe_view(report: &signpost_diagnostics::probe::Report) -> ProbeView {
    ProbeView {
        attempts: report
            .attempts
            .iter()
            .map(|a| {
                let (class, word) = status_chip(a.status);
                (
                    format!("{:?}", a.client),
                    class,
                    word,
                    a.request.clone(),
                    a.outcome.clone(),
                )
            })
            .collect(),
        found: report
            .found
            .iter()
            .map(|f| {
                let settings: Vec<String> = f
                    .settings
                    .iter()
                    .map(|s| format!("{} {}:{} ({:?})", s.protocol, s.host, s.port, s.security))
                    .chain(f.urls.iter().cloned())
                    .collect();
                format!(
                    "{:?} found at {}: {}",
                    f.client,
                    f.source,
                    settings.join(", ")
                )
            })
            .collect(),
    }
}

/// Showing what clients get changes nothing, so a link can ask for it.
pub async fn test_page(
    State(admin): Admin,
    signed: Signed,
    Query(query): Query<TestQuery>,
) -> Response {
    test_view(&admin, &signed, query.address.unwrap_or_default(), None).await
}

pub async fn test_submit(State(admin): Admin, Posted { signed, fields }: Posted) -> Response {
    let address = fields.text("address");
    let probe = fields.flag("probe").then(|| ProbeRequest {
        address: address.clone(),
        password: fields.get("password").map(str::to_string),
        clients: Some(Client::ALL.to_vec()),
        connect: false,
    });
    test_view(&admin, &signed, address, probe).await
}

// ---- recent requests ------------------------------------------------------------------------

pub struct RequestRow {
    pub time: String,
    pub client_address: String,
    pub user_agent: String,
    pub client: &'static str,
    pub endpoint: &'static str,
    pub address: String,
    pub outcome_class: &'static str,
    pub outcome: &'static str,
    pub status: u16,
}

#[derive(Template)]
#[template(path = "admin/requests.html")]
struct RequestsPage {
    chrome: Chrome,
    /// (name, selected)
    domains: Vec<(String, bool)>,
    /// (key, label, selected)
    outcomes: Vec<(&'static str, &'static str, bool)>,
    rows: Vec<RequestRow>,
}

#[derive(Deserialize, Default)]
pub struct RequestsQuery {
    domain: Option<String>,
    outcome: Option<String>,
}

/// How an ending reads, and its colour (every ending the server records has its words).
fn outcome_words(outcome: Outcome) -> (&'static str, &'static str) {
    match outcome {
        Outcome::Answered => ("Answered", "pass"),
        Outcome::Challenged => ("Asked for a password", "neutral"),
        Outcome::Unauthorized => ("Sign-in refused", "fail"),
        Outcome::RateLimited => ("Too many failures", "warn"),
        Outcome::ErrorAnswer => ("Error answer", "warn"),
        Outcome::Redirected => ("Redirected", "neutral"),
        Outcome::NotFound => ("Not found", "neutral"),
        Outcome::BadRequest => ("Bad request", "warn"),
        Outcome::ServerError => ("Server error", "fail"),
        Outcome::DirectoryUnavailable => ("Directory unavailable", "fail"),
    }
}

fn outcome_of(label: &str) -> (&'static str, &'static str) {
    Outcome::ALL
        .iter()
        .find(|o| o.label() == label)
        .map(|o| outcome_words(*o))
        .unwrap_or(("Other", "neutral"))
}

fn endpoint_of(label: &str) -> &'static str {
    match Endpoint::ALL.iter().find(|e| e.label() == label) {
        Some(Endpoint::AutodiscoverXml) => "Autodiscover (Outlook XML)",
        Some(Endpoint::AutodiscoverJson) => "Autodiscover v2 (JSON)",
        Some(Endpoint::Autoconfig) => "Autoconfig (Thunderbird)",
        Some(Endpoint::Mobileconfig) => "Apple profile",
        Some(Endpoint::Pacc) => "PACC",
        Some(Endpoint::AcmeChallenge) => "ACME challenge",
        Some(Endpoint::Health) => "Health check",
        Some(Endpoint::Metrics) => "Metrics",
        Some(Endpoint::Other) | None => "Other",
    }
}

fn client_of(label: &str) -> &'static str {
    match ClientKind::ALL.iter().find(|c| c.label() == label) {
        Some(ClientKind::Outlook) => "Outlook",
        Some(ClientKind::ActiveSync) => "ActiveSync phone",
        Some(ClientKind::V2) => "Outlook mobile / Microsoft 365",
        Some(ClientKind::Thunderbird) => "Thunderbird and others",
        Some(ClientKind::Apple) => "Apple device",
        Some(ClientKind::Pacc) => "PACC client",
        Some(ClientKind::Unknown) | None => "Unknown",
    }
}

pub async fn requests_page(
    State(admin): Admin,
    signed: Signed,
    Query(query): Query<RequestsQuery>,
) -> Response {
    let domain = query.domain.filter(|d| !d.is_empty());
    let outcome = query.outcome.filter(|o| !o.is_empty());
    let filter = RecentFilter {
        domain: domain.clone(),
        outcome: outcome.clone(),
        limit: Some(500),
    };
    let rows = match api::recent_for(&admin, &signed.caller, &filter).await {
        Ok(rows) => rows,
        Err(e) => return e.into_response(),
    };
    let rows = rows
        .into_iter()
        .map(|r| {
            let (label, class) = outcome_of(&r.outcome);
            RequestRow {
                time: signpost_server::state::time_format(r.time),
                client_address: r.client_address,
                user_agent: r.user_agent,
                client: client_of(&r.client),
                endpoint: endpoint_of(&r.endpoint),
                address: r.address.unwrap_or_default(),
                outcome_class: class,
                outcome: label,
                status: r.status,
            }
        })
        .collect();
    let domains = match domain_choices(&admin, &signed, domain.as_deref()).await {
        Ok(domains) => domains,
        Err(e) => return e.into_response(),
    };
    page(&RequestsPage {
        chrome: signed.chrome("requests"),
        domains,
        outcomes: Outcome::ALL
            .iter()
            .map(|o| {
                let label = o.label();
                (
                    label,
                    outcome_words(*o).0,
                    outcome.as_deref() == Some(label),
                )
            })
            .collect(),
        rows,
    })
}

/// The domains a filter may choose from (those the administrator manages), `selected` marked.
async fn domain_choices(
    admin: &AdminState,
    signed: &Signed,
    selected: Option<&str>,
) -> Result<Vec<(String, bool)>, ApiError> {
    Ok(admin
        .ops
        .domains(&signed.caller.actor, None)
        .await?
        .into_iter()
        .map(|s| {
            let chosen = selected == Some(s.domain.name.as_str());
            (s.domain.name, chosen)
        })
        .collect())
}

// ---- the audit log --------------------------------------------------------------------------

pub struct AuditRow {
    pub time: String,
    pub actor: String,
    pub origin: String,
    pub operation: String,
    pub target: String,
    pub summary: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    chrome: Chrome,
    domains: Vec<(String, bool)>,
    rows: Vec<AuditRow>,
    filtered: bool,
}

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    domain: Option<String>,
}

pub async fn audit_page(
    State(admin): Admin,
    signed: Signed,
    Query(query): Query<AuditQuery>,
) -> Response {
    let domain = query.domain.filter(|d| !d.is_empty());
    let filter = signpost_store::AuditFilter {
        domain: domain.clone(),
        limit: Some(500),
        ..Default::default()
    };
    let entries = match admin.ops.audit(&signed.caller.actor, &filter).await {
        Ok(entries) => entries,
        Err(e) => return signed.failed(&admin, "/admin/", e),
    };
    let domains = match domain_choices(&admin, &signed, domain.as_deref()).await {
        Ok(domains) => domains,
        Err(e) => return e.into_response(),
    };
    let rows = entries
        .into_iter()
        .map(|e| AuditRow {
            time: signpost_server::state::time_format(e.record.at),
            actor: e.record.actor,
            origin: e.record.origin,
            operation: e.record.operation,
            target: e.record.target,
            summary: e.record.summary,
        })
        .collect();
    page(&AuditPage {
        chrome: signed.chrome("audit"),
        domains,
        rows,
        filtered: domain.is_some(),
    })
}
