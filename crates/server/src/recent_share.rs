//! Instances that share a store show each other's recent requests: each copies what it answered
//! into the store every second.

use signpost_store::Store;
use tracing::warn;

/// How often an instance sharing its store copies its recent requests there.
const SHARE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Copies this instance's recent requests into the shared store, every second.
pub async fn share(state: crate::state::SharedState, store: std::sync::Arc<dyn Store>) {
    let mut interval = tokio::time::interval(SHARE_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut flushed = None;
    let mut failing = false;
    loop {
        interval.tick().await;
        let (batch, last) = state.recent.since(flushed);
        if batch.is_empty() {
            continue;
        }
        match store
            .record_requests(&batch, state.config.recent_requests)
            .await
        {
            Ok(()) => {
                flushed = last;
                failing = false;
            }
            Err(e) => {
                if !failing {
                    warn!(error = %e, "cannot copy recent requests to the store; keeping them here");
                }
                failing = true;
            }
        }
    }
}
