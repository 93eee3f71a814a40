//! The whole configuration as one document: exported, imported (all or nothing), backed up.

use signpost_core::validate;
use signpost_store::Export;

use crate::Operations;
use crate::actor::SystemActor;
use crate::error::{OpError, OpResult};
use crate::views::ImportSummary;

/// A name must already be in the form Signpost stores it in.
fn normal(
    field: &'static str,
    value: &str,
    check: fn(&'static str, &str) -> Result<String, signpost_core::ValidationError>,
) -> OpResult<()> {
    let normalised = check(field, value)?;
    if normalised != value {
        return Err(OpError::invalid(
            field,
            format!("'{value}' is not in normal form ('{normalised}')"),
        ));
    }
    Ok(())
}

impl Operations {
    /// Everything, password hashes and private keys included.
    pub async fn export(&self, _actor: &SystemActor) -> OpResult<Export> {
        Ok(self.store.export().await?)
    }

    /// Writes everything in `export` in one transaction: all of it or nothing. Into a store
    /// that already holds domains only with `replace`, which removes what was there first.
    pub async fn import(
        &self,
        actor: &SystemActor,
        export: &Export,
        replace: bool,
        progress: Option<signpost_store::bulk::OnProgress<'_>>,
    ) -> OpResult<ImportSummary> {
        for domain in &export.domains {
            normal("domain", &domain.name, validate::domain_name)?;
            normal("hostname", &domain.hostname, validate::domain_name)?;
        }
        for user in &export.users {
            normal("address", &user.address, validate::address)?;
        }
        let summary = ImportSummary {
            domains: export.domains.len(),
            users: export.users.len(),
            certificates: export.certificates.len(),
        };
        let record = actor.record(
            "store.import",
            None,
            "the whole configuration",
            format!(
                "{} domains, {} users, {} certificates, {} administrators{}",
                summary.domains,
                summary.users,
                summary.certificates,
                export.administrators.len(),
                if replace {
                    "; replacing what was there"
                } else {
                    ""
                }
            ),
        );
        self.store
            .import(export, replace, &record, progress)
            .await?;
        tracing::info!(actor = %actor.label(), domains = summary.domains, "configuration imported");
        self.served().await?;
        Ok(summary)
    }

    /// A consistent copy of the whole store, written to `path` (which must not exist).
    pub async fn backup(&self, _actor: &SystemActor, path: &std::path::Path) -> OpResult<()> {
        Ok(self.store.backup(path).await?)
    }
}
