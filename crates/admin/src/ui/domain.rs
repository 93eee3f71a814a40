//! A domain's page, as the seed lays it out: the Options card, the Autodiscover card (a switch
//! and a settings dialog per protocol), and the desktop and mobile overrides (Generate fills the
//! box with the answer and its variables; an empty box is saved only when confirmed).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use signpost_core::{DomainChange, Encryption, OverrideKind, ProtocolChange, ProtocolKind};
use signpost_operations::views::{OverrideChange, OverrideView};

use super::{Admin, Chrome, Fields, Form, Posted, Signed, domain_path, encode, page, refused};
use crate::AdminState;
use crate::api;
use crate::error::ApiError;

pub struct ProtocolRow {
    pub key: &'static str,
    /// The id of its settings dialog's form.
    pub form_id: String,
    pub label: &'static str,
    pub enabled: bool,
    pub host: String,
    pub host_setting: String,
    pub port: u16,
    pub port_text: String,
    pub encryption: &'static str,
    pub encryption_label: &'static str,
    pub fixed: bool,
}

pub struct OverrideCard {
    pub kind: &'static str,
    pub form_id: String,
    pub title: &'static str,
    pub clients: &'static str,
    pub enabled: bool,
    /// Whether clients get the saved text now.
    pub active: bool,
    /// Whether clients get an empty answer (active, and the saved text is empty).
    pub empty: bool,
    pub text: String,
    pub effect: String,
    pub warning: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/domain.html")]
struct DomainPage {
    chrome: Chrome,
    name: String,
    tab: &'static str,
    sample_address: String,
    hostname: String,
    display_name: String,
    protocols: Vec<ProtocolRow>,
    encryptions: Vec<(&'static str, &'static str)>,
    overrides: Vec<OverrideCard>,
    system: bool,
    form: Form,
}

fn encryption_label(encryption: Encryption) -> &'static str {
    match encryption {
        Encryption::Ssl => "SSL",
        Encryption::Starttls => "STARTTLS",
        Encryption::None => "None",
    }
}

const OVERRIDES: [(OverrideKind, &str, &str); 2] = [
    (OverrideKind::Desktop, "Desktop", "Outlook client"),
    (OverrideKind::Mobile, "Mobile", "ActiveSync device"),
];

async fn render(admin: &AdminState, signed: &Signed, name: &str, form: Form) -> Response {
    let domain = match admin.ops.domain(&signed.caller.actor, name).await {
        Ok(domain) => domain,
        Err(e) => return signed.failed(admin, "/admin/domains", e),
    };
    let protocols = ProtocolKind::ALL
        .iter()
        .map(|kind| {
            let setting = domain.protocols.get(*kind);
            let fixed = kind.is_https_only();
            let port = if fixed { 443 } else { setting.primary.port };
            ProtocolRow {
                key: kind.key(),
                form_id: format!("protocol-{}", kind.key()),
                label: kind.label(),
                enabled: setting.enabled,
                host: domain.host_of(&setting.primary).to_string(),
                host_setting: setting.primary.host.clone().unwrap_or_default(),
                port,
                port_text: port.to_string(),
                encryption: setting.primary.encryption.key(),
                encryption_label: if fixed {
                    "SSL (https)"
                } else {
                    encryption_label(setting.primary.encryption)
                },
                fixed,
            }
        })
        .collect();
    let overrides = OVERRIDES
        .into_iter()
        .map(|(kind, title, clients)| {
            let key = kind.key();
            let state = domain.override_for(kind);
            let view = OverrideView::from(state);
            let active = state.active_text();
            OverrideCard {
                kind: key,
                form_id: format!("override-{key}"),
                title,
                clients,
                enabled: state.enabled,
                active: active.is_some(),
                empty: active.is_some_and(|text| text.trim().is_empty()),
                text: state.text.clone().unwrap_or_default(),
                effect: view.effect,
                warning: view.warning,
            }
        })
        .collect();
    let failed = !form.is("");
    let view = DomainPage {
        chrome: signed.chrome("domains"),
        tab: "settings",
        sample_address: super::sample_address(admin, signed, &domain.name).await,
        hostname: domain.hostname.clone(),
        display_name: domain.display_name.clone(),
        name: domain.name,
        protocols,
        encryptions: [Encryption::Ssl, Encryption::Starttls, Encryption::None]
            .into_iter()
            .map(|e| (e.key(), encryption_label(e)))
            .collect(),
        overrides,
        system: signed.caller.role.is_system(),
        form,
    };
    if failed { refused(&view) } else { page(&view) }
}

pub async fn show(State(admin): Admin, signed: Signed, Path(name): Path<String>) -> Response {
    render(&admin, &signed, &name, Form::default()).await
}

pub async fn options_submit(
    State(admin): Admin,
    Path(name): Path<String>,
    Posted { signed, fields }: Posted,
) -> Response {
    let change = DomainChange {
        hostname: fields.get("hostname").map(str::to_string),
        display_name: fields.get("display_name").map(str::to_string),
        ..DomainChange::default()
    };
    match admin
        .ops
        .change_domain(&signed.caller.actor, &name, &change)
        .await
    {
        Ok(domain) => signed.done(
            &admin,
            &format!("{}#options", domain_path(&domain.name)),
            format!("saved the options of {}", domain.name),
        ),
        Err(e) => render(&admin, &signed, &name, Form::refused("options", fields, e)).await,
    }
}

/// The protocol change a switch or a settings dialog posted.
fn protocol_change(fields: &Fields) -> Result<ProtocolChange, ApiError> {
    let mut change = ProtocolChange::default();
    if let Some(enabled) = fields.get("enabled") {
        change.enabled = Some(enabled == "true");
    }
    if let Some(host) = fields.get("host") {
        change.endpoint.host = Some(host.to_string());
    }
    if let Some(port) = fields.get("port").filter(|p| !p.trim().is_empty()) {
        change.endpoint.port = Some(port.trim().parse().map_err(|_| {
            ApiError::invalid("port", format!("'{port}' is not a port number (1-65535)"))
        })?);
    }
    if let Some(encryption) = fields.get("encryption") {
        change.endpoint.encryption = Some(
            Encryption::parse(encryption)
                .map_err(|e| ApiError::invalid("encryption", e.message))?,
        );
    }
    Ok(change)
}

pub async fn protocol_submit(
    State(admin): Admin,
    Path((name, protocol)): Path<(String, String)>,
    Posted { signed, fields }: Posted,
) -> Response {
    let kind = match api::protocol_kind(&protocol) {
        Ok(kind) => kind,
        Err(e) => return signed.failed(&admin, &domain_path(&name), e),
    };
    let form_id = format!("protocol-{}", kind.key());
    let outcome = match protocol_change(&fields) {
        Ok(change) => admin
            .ops
            .change_protocol(&signed.caller.actor, &name, kind, &change)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(domain) => {
            // A switch keeps the focus on the switch; a dialog returns it to its cog.
            let anchor = if fields.get("enabled").is_some() {
                format!("toggle-{}", kind.key())
            } else {
                format!("cog-{}", kind.key())
            };
            let state = if domain.protocols.get(kind).enabled {
                "on"
            } else {
                "off"
            };
            signed.done(
                &admin,
                &format!("{}#{anchor}", domain_path(&domain.name)),
                format!("saved {}: {state}", kind.label()),
            )
        }
        Err(e) => render(&admin, &signed, &name, Form::refused(&form_id, fields, e)).await,
    }
}

pub async fn override_submit(
    State(admin): Admin,
    Path((name, kind)): Path<(String, String)>,
    Posted { signed, fields }: Posted,
) -> Response {
    let kind = match api::override_kind(&kind) {
        Ok(kind) => kind,
        Err(e) => return signed.failed(&admin, &domain_path(&name), e),
    };
    let key = kind.key();
    let form_id = format!("override-{key}");
    // Browsers send text areas with CRLF line ends; clients get what the administrator typed.
    let text = fields.text("text").replace("\r\n", "\n");
    let forget = fields.flag("clear");
    if !forget && text.trim().is_empty() && !fields.flag("confirm_empty") {
        let refusal = ApiError::invalid(
            "text",
            "the box is empty: saved, it sends every client an EMPTY answer. Tick “Yes, send an empty answer” to save it anyway, or “Forget the saved text” to go back to the generated answer",
        );
        return render(
            &admin,
            &signed,
            &name,
            Form::refused(&form_id, fields, refusal),
        )
        .await;
    }
    let change = OverrideChange {
        enabled: Some(fields.flag("enabled")),
        text: Some(if forget { None } else { Some(text) }),
    };
    match admin
        .ops
        .change_override(&signed.caller.actor, &name, kind, &change)
        .await
    {
        Ok(view) => signed.done(
            &admin,
            &format!("{}#override-{key}", domain_path(&name)),
            format!("saved: {}", view.effect),
        ),
        Err(e) => render(&admin, &signed, &name, Form::refused(&form_id, fields, e)).await,
    }
}

pub async fn remove(
    State(admin): Admin,
    Path(name): Path<String>,
    Posted { signed, fields }: Posted,
) -> Response {
    if !fields.flag("confirm") {
        let refusal = ApiError::invalid("confirm", "tick the box to confirm");
        return render(
            &admin,
            &signed,
            &name,
            Form::refused("remove", fields, refusal),
        )
        .await;
    }
    let removed = match signed.system() {
        Ok(system) => admin.ops.remove_domain(&system, &name).await,
        Err(e) => Err(e),
    };
    match removed {
        Ok(removed) => signed.done(
            &admin,
            "/admin/domains",
            format!(
                "removed {} and its {}",
                removed.name,
                signpost_core::counted(removed.users, "user")
            ),
        ),
        Err(e) => render(&admin, &signed, &name, Form::refused("remove", fields, e)).await,
    }
}

/// The domain part of a page path, encoded.
pub fn users_path(domain: &str) -> String {
    format!("/admin/domains/{}/users", encode(domain))
}
