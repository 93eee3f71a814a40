//! The audit log stays bounded: at start and every hour, changes older than the retention and
//! all but the newest allowed number are removed (by whichever instances run; removing is
//! idempotent).

use std::sync::Arc;
use std::time::Duration;

use signpost_store::Store;
use tracing::{info, warn};

use crate::config::AuditRetention;

const EVERY: Duration = Duration::from_secs(3600);

pub async fn prune(store: Arc<dyn Store>, retention: AuditRetention) {
    let mut interval = tokio::time::interval(EVERY);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let before = crate::clock::now() - i64::from(retention.days) * 86_400;
        match store.prune_audit_log(before, retention.entries).await {
            Ok(0) => {}
            Ok(removed) => info!(
                removed,
                days = retention.days,
                entries = retention.entries,
                "old audit entries removed"
            ),
            Err(e) => warn!(error = %e, "cannot prune the audit log; trying again in an hour"),
        }
    }
}
