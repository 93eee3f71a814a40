//! The seed's Override Desktop XML and Override Mobile XML, Generate, and previews of what a
//! client gets. Previews read the configuration being served, never the store.

use signpost_core::OverrideKind;
use signpost_core::answers::preview::{self, Preview};
use signpost_core::overrides;

use crate::Operations;
use crate::access;
use crate::actor::Actor;
use crate::changes;
use crate::error::{OpError, OpResult};
use crate::views::{OverrideChange, OverrideTemplateView, OverrideView, PreviewRequest};

impl Operations {
    pub async fn override_state(
        &self,
        actor: &Actor,
        name: &str,
        kind: OverrideKind,
    ) -> OpResult<OverrideView> {
        let domain = self.domain(actor, name).await?;
        Ok(OverrideView::from(domain.override_for(kind)))
    }

    pub async fn change_override(
        &self,
        actor: &Actor,
        name: &str,
        kind: OverrideKind,
        change: &OverrideChange,
    ) -> OpResult<OverrideView> {
        let before = self.domain(actor, name).await?;
        if change.enabled.is_none() && change.text.is_none() {
            return Err(OpError::invalid(
                "body",
                "nothing to change: give enabled or text",
            ));
        }
        if let Some(Some(text)) = &change.text {
            overrides::check_size(text.len())?;
        }
        let mut domain = before.clone();
        let state = domain.override_for_mut(kind);
        if let Some(enabled) = change.enabled {
            state.enabled = enabled;
        }
        if let Some(text) = &change.text {
            state.text = text.clone();
        }
        let label = kind.key();
        // The text itself is summarised by its size: it can be long.
        let describe = |d: &signpost_core::Domain| {
            let o = d.override_for(kind);
            serde_json::json!({
                "enabled": o.enabled,
                "text": o.text.as_ref().map(|t| format!("{} bytes", t.len())),
            })
        };
        let record = actor.record(
            "override.change",
            Some(&domain.name),
            &format!("{label} override of {}", domain.name),
            changes::between(&describe(&before), &describe(&domain)),
        );
        self.store.save_domain(&domain, &record).await?;
        tracing::info!(actor = %actor.label(), domain = %domain.name, override = label, "override changed");
        self.served().await?;
        Ok(OverrideView::from(domain.override_for(kind)))
    }

    /// The generated answer with the variables in place of a user's values (the Generate
    /// button, `signpost override template`): saved as the override, it still tells each user
    /// their own settings.
    pub async fn override_template(
        &self,
        actor: &Actor,
        name: &str,
        kind: OverrideKind,
    ) -> OpResult<OverrideTemplateView> {
        let domain = self.domain(actor, name).await?;
        let template = signpost_core::answers::template::override_template(
            &domain,
            kind,
            &self.settings.answers,
        )?;
        Ok(OverrideTemplateView {
            text: template.text,
            warnings: template.warnings,
        })
    }

    /// What a client would get for an address, from the configuration being served.
    pub async fn preview(&self, actor: &Actor, request: &PreviewRequest) -> OpResult<Preview> {
        let address = signpost_core::validate::address("address", &request.address)?;
        let snapshot = self.live.snapshot().await?;
        let domain_name = access::domain_of(&address);
        let Some(domain) = snapshot.domain(domain_name) else {
            return Err(OpError::NotFound(format!(
                "{domain_name} is not a hosted domain"
            )));
        };
        access::domain(actor, &domain.name)?;
        Ok(preview::preview(
            &snapshot,
            domain,
            &address,
            request.kind,
            request.with_override.unwrap_or(true),
            &self.settings.answers,
        )?)
    }
}

/// One protocol as clients are told it.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct SettingRow {
    pub protocol: &'static str,
    pub server: String,
    pub port: u16,
    pub encryption: &'static str,
    pub login: String,
}

/// What clients are told for an address, as a table, from the configuration being served.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct ClientSettings {
    pub address: String,
    pub domain: String,
    pub rows: Vec<SettingRow>,
    /// Which answers come from the domain's saved override instead ("desktop", "mobile").
    pub overrides: Vec<&'static str>,
}

impl Operations {
    pub async fn client_settings(&self, actor: &Actor, address: &str) -> OpResult<ClientSettings> {
        use signpost_core::discovery::{self, Asker, Discovery};
        use signpost_core::{Encryption, ProtocolKind};
        let address = signpost_core::validate::address("address", address)?;
        let snapshot = self.live.snapshot().await?;
        let domain_name = access::domain_of(&address);
        let Some(domain) = snapshot.domain(domain_name) else {
            return Err(OpError::NotFound(format!(
                "{domain_name} is not a hosted domain, so clients get error 500 (Outlook) or 404"
            )));
        };
        access::domain(actor, &domain.name)?;
        let account = match discovery::discover(&snapshot, &address, Asker::Anonymous) {
            Discovery::Account(account) => account,
            Discovery::RedirectAddress(to) => {
                return Err(OpError::Nothing(format!(
                    "{} redirects its clients to {to}",
                    domain.name
                )));
            }
            Discovery::NotHosted => {
                return Err(OpError::NotFound(format!("{domain_name} is not hosted")));
            }
        };
        let rows = ProtocolKind::ALL
            .iter()
            .filter(|kind| account.offers(**kind))
            .map(|kind| {
                let endpoint = &domain.protocols.get(*kind).primary;
                let https = kind.is_https_only();
                SettingRow {
                    protocol: kind.label(),
                    server: account.host_for(endpoint).into_owned(),
                    port: if https { 443 } else { endpoint.port },
                    encryption: if https {
                        "SSL (https)"
                    } else {
                        match endpoint.encryption {
                            Encryption::Ssl => "SSL",
                            Encryption::Starttls => "STARTTLS",
                            Encryption::None => "None",
                        }
                    },
                    login: account
                        .login_for(endpoint)
                        .map(|l| l.into_owned())
                        .unwrap_or_else(|| account.address.clone()),
                }
            })
            .collect();
        let overrides = domain
            .active_overrides()
            .into_iter()
            .map(|kind| kind.key())
            .collect();
        Ok(ClientSettings {
            domain: domain.name.clone(),
            address,
            rows,
            overrides,
        })
    }
}
