//! The list of domains (with search, each one's health and whether an override is active), and
//! adding a domain.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use signpost_core::ProtocolKind;
use signpost_operations::views::NewDomain;

use super::{Admin, Chrome, Form, Posted, Signed, domain_path, page, refused, status_chip};
use crate::AdminState;
use crate::error::ApiError;

pub struct DomainRow {
    pub name: String,
    pub hostname: String,
    pub protocols: String,
    pub users: u64,
    /// (class, word) of the latest health check, if any.
    pub health: Option<(&'static str, &'static str)>,
    /// Which answers an override replaces ("desktop", "mobile").
    pub overrides: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "admin/domains.html")]
struct DomainsPage {
    chrome: Chrome,
    search: String,
    rows: Vec<DomainRow>,
    system: bool,
    form: Form,
}

#[derive(Deserialize, Default)]
pub struct DomainsQuery {
    q: Option<String>,
}

async fn render(admin: &AdminState, signed: &Signed, search: &str, form: Form) -> Response {
    let summaries = match admin.ops.domains(&signed.caller.actor, Some(search)).await {
        Ok(summaries) => summaries,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let rows = summaries
        .into_iter()
        .map(|s| {
            let overrides = s
                .domain
                .active_overrides()
                .into_iter()
                .map(|kind| kind.key())
                .collect();
            DomainRow {
                protocols: ProtocolKind::ALL
                    .iter()
                    .filter(|k| s.domain.protocols.get(**k).enabled)
                    .map(|k| k.label())
                    .collect::<Vec<_>>()
                    .join(", "),
                health: admin
                    .health
                    .of(&s.domain.name)
                    .map(|h| status_chip(h.status)),
                overrides,
                name: s.domain.name,
                hostname: s.domain.hostname,
                users: s.users,
            }
        })
        .collect();
    let failed = !form.is("");
    let view = DomainsPage {
        chrome: signed.chrome("domains"),
        search: search.to_string(),
        rows,
        system: signed.caller.role.is_system(),
        form,
    };
    if failed { refused(&view) } else { page(&view) }
}

pub async fn list(
    State(admin): Admin,
    signed: Signed,
    Query(query): Query<DomainsQuery>,
) -> Response {
    let search = query.q.unwrap_or_default();
    render(&admin, &signed, &search, Form::default()).await
}

pub async fn create(State(admin): Admin, Posted { signed, fields }: Posted) -> Response {
    let new = NewDomain {
        name: fields.text("name"),
        hostname: fields.text("hostname"),
        display_name: None,
        auth: None,
    };
    let added = match signed.system() {
        Ok(system) => admin.ops.add_domain(&system, &new).await,
        Err(e) => Err(e),
    };
    match added {
        Ok(domain) => signed.done(
            &admin,
            &domain_path(&domain.name),
            format!(
                "added {}: IMAP 993 SSL, POP3 995 SSL, SMTP 587 STARTTLS on; EWS and ActiveSync off",
                domain.name
            ),
        ),
        Err(e) => render(&admin, &signed, "", Form::refused("add-domain", fields, e)).await,
    }
}
