//! What serves the configuration: the running server itself (the API and the web interface), or
//! every server running on the store (the command line). An operation returns once its change is
//! served, so whoever made it can use it at once.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use signpost_core::Snapshot;
use signpost_store::{Instance, Store};

use crate::error::OpResult;

#[async_trait]
pub trait Live: Send + Sync {
    /// The configuration being served now (previews and Generate read it, never the store).
    async fn snapshot(&self) -> OpResult<Arc<Snapshot>>;
    /// Returns once the configuration at `version` (or later) is served.
    async fn serve(&self, version: i64);
}

/// An instance that has not said it is alive for this long has stopped.
pub const INSTANCE_SILENT_AFTER: i64 = 30;
/// How long the command line waits for running instances to serve its change.
pub const WAIT_FOR_INSTANCES: Duration = Duration::from_secs(10);

/// The command line's view: the store, and the servers running on it (each says in the store
/// which version it serves). A change returns once every running server serves it; one that
/// takes longer than [`WAIT_FOR_INSTANCES`] is named on standard error.
pub struct RunningInstances {
    store: Arc<dyn Store>,
}

impl RunningInstances {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// The instances that are alive now: seen lately, and on this host, still running.
    async fn alive(&self) -> Vec<Instance> {
        let Ok(instances) = self.store.instances().await else {
            return Vec::new();
        };
        let now = crate::unix_now();
        let here = signpost_core::host_name();
        instances
            .into_iter()
            .filter(|i| i.seen_at >= now - INSTANCE_SILENT_AFTER)
            .filter(|i| i.host != here || process_is_running(i.pid))
            .collect()
    }
}

#[async_trait]
impl Live for RunningInstances {
    async fn snapshot(&self) -> OpResult<Arc<Snapshot>> {
        Ok(Arc::new(self.store.load_snapshot().await?))
    }

    async fn serve(&self, version: i64) {
        let deadline = tokio::time::Instant::now() + WAIT_FOR_INSTANCES;
        loop {
            let behind: Vec<Instance> = self
                .alive()
                .await
                .into_iter()
                .filter(|i| i.loaded_version < version)
                .collect();
            if behind.is_empty() {
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                for instance in behind {
                    eprintln!(
                        "note: the server on {} (pid {}) does not serve this change yet (it serves version {}, the change is {version}); it will within its reload interval",
                        instance.host, instance.pid, instance.loaded_version
                    );
                }
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn process_is_running(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        || !std::path::Path::new("/proc/self").exists()
}
