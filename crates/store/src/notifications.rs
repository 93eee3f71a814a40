//! PostgreSQL's change announcements: a LISTEN connection on `signpost_changes`, kept open
//! (reconnecting with a pause) for as long as anyone receives.

use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::mpsc::Sender;
use tracing::{debug, info, warn};

use crate::Change;

const CHANNEL: &str = "signpost_changes";
const RECONNECT_PAUSE: Duration = Duration::from_secs(1);

pub async fn listen(url: String, changes: Sender<Change>) {
    // Failed connection attempts since the last good one (only the first is a warning).
    let mut failures: u32 = 0;
    // The first connection needs no resync: the snapshot was read just before, and a change
    // made in between is seen by its version. (A full re-read of 1,000,000 users at start
    // doubled the memory a new instance needed.)
    let mut listened_before = false;
    loop {
        if changes.is_closed() {
            return;
        }
        let listener = match PgListener::connect(&url).await {
            Ok(mut listener) => match listener.listen(CHANNEL).await {
                Ok(()) => Some(listener),
                Err(e) => {
                    debug!(error = %e, "cannot LISTEN for changes");
                    None
                }
            },
            Err(e) => {
                if failures == 0 {
                    warn!(error = %e, "cannot listen for change announcements; retrying every second");
                }
                None
            }
        };
        let Some(mut listener) = listener else {
            failures = failures.saturating_add(1);
            tokio::time::sleep(RECONNECT_PAUSE).await;
            continue;
        };
        // Anything may have changed while nobody listened.
        if listened_before && changes.send(Change::Resync).await.is_err() {
            return;
        }
        listened_before = true;
        if failures > 0 {
            info!("change announcements are back");
        }
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    let change = notification
                        .payload()
                        .parse()
                        .map(Change::Version)
                        .unwrap_or(Change::Resync);
                    if changes.send(change).await.is_err() {
                        return;
                    }
                }
                // The connection was lost and re-established: announcements may be missing.
                Ok(None) => {
                    if changes.send(Change::Resync).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    warn!(error = %e, "lost the change announcements; retrying every second");
                    failures = 1;
                    break;
                }
            }
        }
        tokio::time::sleep(RECONNECT_PAUSE).await;
    }
}
