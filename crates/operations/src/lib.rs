//! Every administrative operation of Signpost, once.
//!
//! An operation takes who is asking (an [`Actor`]) and typed input, and returns a typed result
//! or an [`OpError`] that names the field at fault. It validates, enforces access, writes, stores
//! the audit entry in the same transaction as the change, and returns only once the change is
//! served ([`Live::serve`]). The command line, the REST API and the web interface are adapters
//! over it: none of them writes to the store itself. Nothing here knows of HTTP or terminals.
//!
//! Access: operations only a system administrator may run take a [`SystemActor`], which exists
//! only for actors with that right; operations on a domain check the actor manages it, in one
//! place ([`access`]).

pub mod access;
pub mod actor;
mod administrators;
mod audit_log;
mod certificates;
pub mod changes;
mod diagnostics;
mod domains;
pub mod error;
pub mod health;
mod imports;
pub mod ispdb;
pub mod live;
mod overrides;
mod sessions;
mod tokens;
mod user_sources;
mod users;
pub mod views;

use std::sync::Arc;

use signpost_core::answers::AnswerOptions;
use signpost_core::auth_limiter::LimiterSettings;
use signpost_core::dns_records::DnsTarget;
use signpost_store::Store;
use signpost_store::known_networks::{Accounts, SignInGuard};

pub use actor::{Actor, Credential, Origin, SystemActor};
pub use diagnostics::DiagnosticsSettings;
pub use error::{OpError, OpResult};
pub use live::{Live, RunningInstances};
pub use overrides::{ClientSettings, SettingRow};
pub use sessions::{NewSession, PasswordVerifier, random_secret, same_secret, secret_hash};
pub use users::UserFile;

/// What the operations need besides the store: how answers are written (previews), where
/// domains' names should point (DNS records, checks) and how checks look from outside.
#[derive(Debug, Clone)]
pub struct Settings {
    pub answers: AnswerOptions,
    pub dns: DnsTarget,
    pub diagnostics: DiagnosticsSettings,
    /// Failed administrator sign-ins allowed per client and per name.
    pub sign_in_limits: LimiterSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            answers: AnswerOptions::default(),
            dns: DnsTarget {
                addresses: Vec::new(),
                cname: None,
                ttl: 3600,
            },
            diagnostics: DiagnosticsSettings::default(),
            sign_in_limits: LimiterSettings {
                per_client: 10,
                per_account: 10,
                per_account_known: 5,
                ..LimiterSettings::default()
            },
        }
    }
}

/// The operations over one store, served by `live`.
pub struct Operations {
    store: Arc<dyn Store>,
    live: Arc<dyn Live>,
    settings: Settings,
    sign_ins: SignInGuard,
}

impl Operations {
    pub fn new(store: Arc<dyn Store>, live: Arc<dyn Live>, settings: Settings) -> Self {
        Self {
            sign_ins: {
                let guard = SignInGuard::new(Accounts::Administrators, settings.sign_in_limits);
                guard.known.attach(store.clone());
                guard
            },
            store,
            live,
            settings,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Returns once the store's current version is served (after a write).
    async fn served(&self) -> OpResult<()> {
        let version = self.store.version().await?;
        self.live.serve(version).await;
        Ok(())
    }
}

/// Now, in Unix seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
