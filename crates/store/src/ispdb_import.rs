//! Importing a Thunderbird ISPDB (autoconfig) file as a domain: shared by `signpost import
//! ispdb` and the administration API.

use serde::Serialize;
use signpost_core::ispdb;

use crate::{Result, Store, StoreError};

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

/// Parses `xml` and creates its domain; an existing domain is replaced only with `replace`
/// (otherwise the file is skipped, with the reason).
pub async fn import_ispdb(store: &dyn Store, xml: &[u8], replace: bool) -> Result<IspdbImport> {
    if xml.len() > MAX_ISPDB_BYTES {
        return Err(StoreError::Import(
            "larger than 1 MiB; not an autoconfig file".into(),
        ));
    }
    let parsed = signpost_protocol::autoconfig::parse(xml)
        .map_err(|e| StoreError::Import(format!("not a readable autoconfig file: {e}")))?;
    let imported = ispdb::domain_from_config(&parsed)
        .map_err(|e| StoreError::Import(format!("cannot make a domain of it: {e}")))?;
    let mut outcome = IspdbImport {
        domain: imported.domain.name.clone(),
        status: "imported",
        reason: None,
        warnings: imported.warnings,
    };
    match store.create_domain(&imported.domain).await {
        Ok(()) => {}
        Err(StoreError::AlreadyExists { kind: "domain", .. })
            if replace && store.domain(&imported.domain.name).await?.is_some() =>
        {
            store.save_domain(&imported.domain).await?;
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
        Err(e) => return Err(e),
    }
    Ok(outcome)
}
