//! This instance in the store's list of running servers, with the configuration version it
//! answers from: the command line waits until every running instance serves its change.

use signpost_store::{Instance, Store};
use tracing::debug;

use crate::state::AppState;

/// Every this many seconds an instance says it is still alive.
pub const HEARTBEAT_SECONDS: u64 = 10;
/// Records of instances silent this long are removed (they stopped without saying so).
const FORGET_AFTER_SECONDS: i64 = 24 * 3600;

/// Adds this instance to the list.
pub async fn register(state: &AppState, store: &dyn Store) {
    let now = crate::clock::now();
    let instance = Instance {
        id: state.instance_id.clone(),
        host: signpost_core::host_name(),
        pid: std::process::id(),
        started_at: now,
        seen_at: now,
        loaded_version: state.snapshot.load().version,
    };
    if let Err(e) = store.register_instance(&instance).await {
        debug!(error = %e, "cannot record this instance in the store");
    }
}

/// Says this instance is alive and which version it serves.
pub async fn announce(state: &AppState, store: &dyn Store) {
    let now = crate::clock::now();
    let version = state.snapshot.load().version;
    if let Err(e) = store
        .instance_seen(&state.instance_id, version, now, now - FORGET_AFTER_SECONDS)
        .await
    {
        debug!(error = %e, "cannot say in the store which version this instance serves");
    }
}

/// Removes this instance from the list (at shutdown).
pub async fn deregister(state: &AppState, store: &dyn Store) {
    if let Err(e) = store.remove_instance(&state.instance_id).await {
        debug!(error = %e, "cannot remove this instance from the store's list");
    }
}
