//! Keeping the served certificates current: from the store (reloaded with the configuration),
//! from the certificate directory (polled for changes), and on SIGHUP.

use std::sync::Arc;
use std::time::Duration;

use signpost_store::Store;
use tracing::{info, warn};

use crate::state::SharedState;
use crate::tls::{self, CertificateIndex, DirectoryFingerprint};

const DIRECTORY_POLL: Duration = Duration::from_secs(2);

/// Rebuilds the certificate index from the store and the directory and swaps it in. New
/// handshakes use it at once; open connections keep the certificate they started with.
pub async fn reload(state: &SharedState, store: &dyn Store) -> anyhow::Result<()> {
    // HTTP-01 answers published by any instance, so whichever one the CA reaches can answer.
    let challenges = store.acme_challenges(crate::clock::now()).await?;
    if let Ok(mut current) = state.acme_http_challenges.lock() {
        *current = challenges.into_iter().collect();
    }
    let stored = store.certificates().await?;
    let directory = state.config.tls.certificate_directory.clone();
    let loaded = tokio::task::spawn_blocking(move || {
        let mut loaded = tls::load_stored(&stored);
        if let Some(directory) = directory {
            loaded.extend(tls::load_directory(&directory));
        }
        loaded
    })
    .await?;
    let index = CertificateIndex::new(
        loaded,
        state.config.tls.default_name.as_deref(),
        crate::clock::now(),
    );
    info!(
        certificates = index.certificates().len(),
        "certificates loaded"
    );
    state.certificates.replace(index);
    Ok(())
}

/// Reloads when the certificate directory changes or on SIGHUP (which also reloads the
/// configuration).
pub async fn watch(state: SharedState, store: Arc<dyn Store>) {
    let directory = state.config.tls.certificate_directory.clone();
    let mut fingerprint = directory.as_deref().map(DirectoryFingerprint::of);
    let mut hangup = hangup_signal();
    let mut poll = tokio::time::interval(DIRECTORY_POLL);
    loop {
        let by_signal = tokio::select! {
            _ = poll.tick() => false,
            _ = next_hangup(&mut hangup) => true,
        };
        let changed = match (&directory, &mut fingerprint) {
            (Some(directory), Some(previous)) => {
                let current = DirectoryFingerprint::of(directory);
                let changed = current != *previous;
                *previous = current;
                changed
            }
            _ => false,
        };
        if by_signal {
            info!("SIGHUP: reloading configuration and certificates");
            match store.load_snapshot().await {
                Ok(snapshot) => state.replace_snapshot(snapshot),
                Err(e) => warn!(error = %e, "configuration could not be reloaded"),
            }
        }
        if (changed || by_signal)
            && let Err(e) = reload(&state, store.as_ref()).await
        {
            warn!(error = %e, "certificates could not be reloaded; keeping the previous ones");
        }
    }
}

#[cfg(unix)]
type Hangup = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangup = Option<()>;

#[cfg(unix)]
fn hangup_signal() -> Hangup {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
}
#[cfg(not(unix))]
fn hangup_signal() -> Hangup {
    None
}

#[cfg(unix)]
async fn next_hangup(hangup: &mut Hangup) {
    match hangup {
        Some(signal) => {
            signal.recv().await;
        }
        None => std::future::pending().await,
    }
}
#[cfg(not(unix))]
async fn next_hangup(_: &mut Hangup) {
    std::future::pending().await
}
