//! Reading the audit log: system administrators see every entry, domain administrators the
//! entries about their domains.

use signpost_store::{AuditEntry, AuditFilter};

use crate::Operations;
use crate::access;
use crate::actor::Actor;
use crate::error::OpResult;

impl Operations {
    pub async fn audit(&self, actor: &Actor, filter: &AuditFilter) -> OpResult<Vec<AuditEntry>> {
        let mut filter = filter.clone();
        if let Some(domain) = &filter.domain {
            filter.domain = Some(access::domain(actor, domain)?);
        }
        Ok(self.store.audit_log(&filter, actor.limited_to()).await?)
    }

    /// Removes entries older than `days` and all but the newest `keep`; how many went.
    pub async fn prune_audit(&self, days: u32, keep: usize) -> OpResult<u64> {
        let before = crate::unix_now() - i64::from(days) * 86_400;
        Ok(self.store.prune_audit_log(before, keep).await?)
    }
}
