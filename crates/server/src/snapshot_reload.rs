//! Keeps the in-memory snapshot in step with the store: changes made by the CLI (or another
//! process) on the same store are picked up within one poll interval.

use std::sync::Arc;

use signpost_store::Store;
use tracing::{info, warn};

use crate::state::SharedState;

pub async fn follow_store(state: SharedState, store: Arc<dyn Store>) {
    let mut interval = tokio::time::interval(state.config.reload_interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        interval.tick().await;
        let current = state.snapshot.load().version;
        let changed = match store.version().await {
            Ok(version) => version != current,
            Err(e) => {
                if !failing {
                    warn!(error = %e, "cannot read the store; still answering from the last configuration");
                }
                failing = true;
                continue;
            }
        };
        if !changed {
            if failing {
                info!("the store is readable again");
                failing = false;
            }
            continue;
        }
        match store.load_snapshot().await {
            Ok(snapshot) => {
                info!(
                    version = snapshot.version,
                    domains = snapshot.domain_count(),
                    users = snapshot.user_count(),
                    "configuration reloaded"
                );
                state.replace_snapshot(snapshot);
                failing = false;
                // Certificate changes bump the same counter.
                if let Err(e) = crate::certificates::reload(&state, store.as_ref()).await {
                    warn!(error = %e, "certificates could not be reloaded; keeping the previous ones");
                }
            }
            Err(e) => {
                warn!(error = %e, "configuration changed but could not be loaded; keeping the previous one");
                failing = true;
            }
        }
    }
}
