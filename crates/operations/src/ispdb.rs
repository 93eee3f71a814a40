//! Importing a Thunderbird ISPDB (autoconfig) file as a domain.

use serde::Serialize;
use signpost_core::ispdb;
use signpost_store::StoreError;

use crate::Operations;
use crate::actor::SystemActor;
use crate::changes;
use crate::error::{OpError, OpResult};

/// ISPDB files are a few KiB; anything this large is not one.
pub const MAX_ISPDB_BYTES: usize = 1024 * 1024;

/// What became of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct IspdbImport {
    pub domain: String,
    /// imported, replaced or skipped
    pub status: &'static str,
    /// Why it was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What was changed on the way in (shortened names, kept typos).
    pub warnings: Vec<String>,
}

impl Operations {
    /// Parses `xml` and creates its domain; an existing domain is replaced only with `replace`
    /// (otherwise the file is skipped, with the reason).
    pub async fn import_ispdb(
        &self,
        actor: &SystemActor,
        xml: &[u8],
        replace: bool,
    ) -> OpResult<IspdbImport> {
        if xml.len() > MAX_ISPDB_BYTES {
            return Err(OpError::invalid(
                "file",
                "larger than 1 MiB; not an autoconfig file",
            ));
        }
        let parsed = signpost_protocol::autoconfig::parse(xml).map_err(|e| {
            OpError::invalid("file", format!("not a readable autoconfig file: {e}"))
        })?;
        let imported = ispdb::domain_from_config(&parsed)
            .map_err(|e| OpError::invalid("file", format!("cannot make a domain of it: {e}")))?;
        let domain = imported.domain;
        let mut outcome = IspdbImport {
            domain: domain.name.clone(),
            status: "imported",
            reason: None,
            warnings: imported.warnings,
        };
        let record = actor.record(
            "domain.import_ispdb",
            Some(&domain.name),
            &domain.name,
            format!("from an ISPDB file; hostname {}", domain.hostname),
        );
        match self.store.create_domain(&domain, &record).await {
            Ok(()) => {}
            Err(StoreError::AlreadyExists { kind: "domain", .. }) if replace => {
                let Some(before) = self.store.domain(&domain.name).await? else {
                    return Err(OpError::Conflict(format!(
                        "'{}' is taken by another domain's alias",
                        domain.name
                    )));
                };
                let record = actor.record(
                    "domain.import_ispdb",
                    Some(&domain.name),
                    &domain.name,
                    format!(
                        "replaced from an ISPDB file: {}",
                        changes::between(&before, &domain)
                    ),
                );
                self.store.save_domain(&domain, &record).await?;
                outcome.status = "replaced";
            }
            Err(StoreError::AlreadyExists { kind, name }) => {
                outcome.status = "skipped";
                outcome.reason = Some(format!(
                    "{kind} '{name}' already exists{}",
                    if replace {
                        ""
                    } else {
                        "; replace it to overwrite"
                    }
                ));
            }
            Err(e) => return Err(e.into()),
        }
        self.served().await?;
        Ok(outcome)
    }
}
