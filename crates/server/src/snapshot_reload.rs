//! Keeps the in-memory snapshot in step with the store: changes made by the CLI, the API or
//! another instance are picked up at once when the store announces them (PostgreSQL), and
//! within one poll interval otherwise. While the store cannot be read, answers keep coming from
//! the last snapshot and `/readyz` says the instance is degraded.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use signpost_store::{Change, Store};
use tracing::{info, warn};

use crate::state::SharedState;

/// With announcements, polling is only the safety net.
const POLL_WITH_ANNOUNCEMENTS: Duration = Duration::from_secs(2);

pub async fn follow_store(state: SharedState, store: Arc<dyn Store>) {
    let mut changes = store.watch_changes().await;
    let interval_length = if changes.is_some() {
        POLL_WITH_ANNOUNCEMENTS.max(state.config.reload_interval)
    } else {
        state.config.reload_interval
    };
    let mut interval = tokio::time::interval(interval_length);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let announced = match changes.as_mut() {
            Some(receiver) => tokio::select! {
                _ = interval.tick() => None,
                change = receiver.recv() => change,
            },
            None => {
                interval.tick().await;
                None
            }
        };
        let current = state.snapshot.load().version;
        if let Some(Change::Version(version)) = announced
            && version == current
        {
            continue;
        }
        // Announced or not, the store's own version decides (a Resync re-reads everything).
        let changed = match store.version().await {
            Ok(version) => version != current || announced == Some(Change::Resync),
            Err(e) => {
                mark_down(&state, &e);
                continue;
            }
        };
        if !changed {
            mark_up(&state);
            continue;
        }
        match store.load_snapshot().await {
            Ok(snapshot) => {
                if snapshot.version != current {
                    info!(
                        version = snapshot.version,
                        domains = snapshot.domain_count(),
                        users = snapshot.user_count(),
                        "configuration reloaded"
                    );
                }
                state.replace_snapshot(snapshot);
                mark_up(&state);
                // Certificates and ACME challenges bump the same counter.
                if let Err(e) = crate::certificates::reload(&state, store.as_ref()).await {
                    warn!(error = %e, "certificates could not be reloaded; keeping the previous ones");
                }
            }
            Err(e) => mark_down(&state, &e),
        }
    }
}

fn mark_down(state: &SharedState, error: &dyn std::fmt::Display) {
    if state.store_up.swap(false, Ordering::Relaxed) {
        warn!(error = %error, "cannot read the store; still answering from the last configuration");
    }
}

fn mark_up(state: &SharedState) {
    if !state.store_up.swap(true, Ordering::Relaxed) {
        info!("the store is readable again");
    }
}
