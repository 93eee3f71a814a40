//! Keeps the in-memory snapshot in step with the store: changes made by the CLI, the API or
//! another instance are picked up at once when the store announces them (PostgreSQL), and
//! within one poll interval otherwise. While the store cannot be read, answers keep coming from
//! the last snapshot and `/readyz` says the instance is degraded.
//!
//! Whether the store can be read is decided by [`watch_health`] alone: one bounded look every
//! [`HEALTH_CHECK_EVERY`], so an instance says `degraded` within
//! `HEALTH_CHECK_EVERY + HEALTH_CHECK_TIMEOUT` (3 s) of its database becoming unreachable,
//! whatever its connection pool holds or waits for, and `ready` within about a second of it
//! coming back.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use signpost_store::{Change, Store};
use tracing::{info, warn};

use crate::state::SharedState;

/// With announcements, polling is only the safety net.
const POLL_WITH_ANNOUNCEMENTS: Duration = Duration::from_secs(2);
/// How often the store is asked whether it can be read.
pub const HEALTH_CHECK_EVERY: Duration = Duration::from_secs(1);
/// How long one such look may take before the store counts as unreachable. A pool may hold
/// connections to a server that no longer answers, or wait out its own acquire timeout.
pub const HEALTH_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Looks at the store every [`HEALTH_CHECK_EVERY`]; `store_up` (and so `/readyz` and
/// `signpost_store_up`) follows what it sees.
pub async fn watch_health(state: SharedState, store: Arc<dyn Store>) {
    let mut interval = tokio::time::interval(HEALTH_CHECK_EVERY);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let heartbeat_every = crate::instance::HEARTBEAT_SECONDS / HEALTH_CHECK_EVERY.as_secs().max(1);
    let mut ticks: u64 = 0;
    loop {
        interval.tick().await;
        ticks += 1;
        match tokio::time::timeout(HEALTH_CHECK_TIMEOUT, store.version()).await {
            Ok(Ok(_)) => {
                mark_up(&state);
                if ticks.is_multiple_of(heartbeat_every.max(1)) {
                    crate::instance::announce(&state, store.as_ref()).await;
                }
            }
            Ok(Err(e)) => mark_down(&state, &e),
            Err(_) => mark_down(
                &state,
                &format!("no answer within {} s", HEALTH_CHECK_TIMEOUT.as_secs()),
            ),
        }
    }
}

/// Returns once this instance answers from `version` or later, reloading now if it does not
/// yet (the API and the web interface call it after a change: their next request sees it).
pub async fn catch_up(state: &SharedState, store: &dyn Store, version: i64) {
    if state.snapshot.load().version >= version {
        return;
    }
    let _reloading = state.reloading.lock().await;
    // Someone else's reload, or the follower's, may have brought it meanwhile.
    if state.snapshot.load().version >= version {
        return;
    }
    match store.load_snapshot().await {
        Ok(snapshot) => {
            info!(
                version = snapshot.version,
                domains = snapshot.domain_count(),
                users = snapshot.user_count(),
                "configuration reloaded after a change made here"
            );
            state.replace_snapshot(snapshot);
            if let Err(e) = crate::certificates::reload(state, store).await {
                warn!(error = %e, "certificates could not be reloaded; keeping the previous ones");
            }
            crate::instance::announce(state, store).await;
        }
        Err(e) => {
            warn!(error = %e, "cannot load the configuration just changed; it is served once the store can be read")
        }
    }
}

pub async fn follow_store(state: SharedState, store: Arc<dyn Store>) {
    let mut changes = store.watch_changes().await;
    let interval_length = if changes.is_some() {
        POLL_WITH_ANNOUNCEMENTS.max(state.config.reload_interval)
    } else {
        state.config.reload_interval
    };
    let mut interval = tokio::time::interval(interval_length);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // A Resync (announcements were lost) stands until a load succeeds.
    let mut resync_pending = false;
    // Whether the last load failed (said once, not at every tick).
    let mut load_failing = false;
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
        resync_pending |= announced == Some(Change::Resync);
        let current = state.snapshot.load().version;
        if let Some(Change::Version(version)) = announced
            && version == current
        {
            continue;
        }
        // Announced or not, the store's own version decides (a Resync re-reads everything).
        // Unreadable: `watch_health` says so; the next tick tries again.
        let Ok(Ok(version)) = tokio::time::timeout(HEALTH_CHECK_TIMEOUT, store.version()).await
        else {
            continue;
        };
        if version == current && !resync_pending {
            continue;
        }
        let _reloading = state.reloading.lock().await;
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
                resync_pending = false;
                load_failing = false;
                // Certificates and ACME challenges bump the same counter.
                if let Err(e) = crate::certificates::reload(&state, store.as_ref()).await {
                    warn!(error = %e, "certificates could not be reloaded; keeping the previous ones");
                }
                crate::instance::announce(&state, store.as_ref()).await;
            }
            Err(e) => {
                if !std::mem::replace(&mut load_failing, true) {
                    warn!(error = %e, "cannot load the changed configuration; still answering from the previous one");
                }
            }
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
