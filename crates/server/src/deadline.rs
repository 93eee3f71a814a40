//! Slow-client protection without a timer per request. A connection that has no request in
//! progress for longer than the header timeout (a client that opens it and sends nothing, sends
//! its headers a byte at a time, or will not read its answer) is closed. One coarse clock ticks
//! each second for every connection; a request costs a few atomic operations. (hyper's own header
//! timeout arms and cancels a timer for every request, which cost more than many answers do.)

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::sync::watch;

/// Whole seconds since the server started, advanced by one task.
pub struct CoarseClock {
    seconds: AtomicU32,
    ticks: watch::Receiver<()>,
}

impl CoarseClock {
    /// Starts the clock's task (it ends when the clock is dropped).
    pub fn start() -> Arc<Self> {
        let (sender, ticks) = watch::channel(());
        let clock = Arc::new(Self {
            seconds: AtomicU32::new(0),
            ticks,
        });
        let weak = Arc::downgrade(&clock);
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_secs(1));
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            interval.tick().await;
            loop {
                interval.tick().await;
                let Some(clock) = weak.upgrade() else { return };
                clock.seconds.fetch_add(1, Ordering::Relaxed);
                sender.send_replace(());
            }
        });
        clock
    }

    fn now(&self) -> u32 {
        self.seconds.load(Ordering::Relaxed)
    }
}

/// One connection's requests in progress, and since when it has had none.
pub struct ConnectionDeadline {
    clock: Arc<CoarseClock>,
    in_flight: AtomicU32,
    idle_since: AtomicU32,
}

impl ConnectionDeadline {
    pub fn new(clock: Arc<CoarseClock>) -> Arc<Self> {
        let now = clock.now();
        Arc::new(Self {
            clock,
            in_flight: AtomicU32::new(0),
            idle_since: AtomicU32::new(now),
        })
    }

    /// A request's headers have arrived; the connection is busy until the guard is dropped
    /// (when the answer is ready).
    pub fn request_started(self: &Arc<Self>) -> RequestInProgress {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        RequestInProgress {
            deadline: self.clone(),
        }
    }

    /// Resolves once the connection has been idle for longer than `limit`.
    pub async fn expired(&self, limit: Duration) {
        let limit = u32::try_from(limit.as_secs().max(1)).unwrap_or(u32::MAX);
        let mut ticks = self.clock.ticks.clone();
        loop {
            if ticks.changed().await.is_err() {
                // The clock is gone: the server is stopping, and graceful shutdown takes over.
                return std::future::pending().await;
            }
            let idle = self.in_flight.load(Ordering::Acquire) == 0;
            let since = self.idle_since.load(Ordering::Relaxed);
            if idle && self.clock.now().saturating_sub(since) > limit {
                return;
            }
        }
    }
}

pub struct RequestInProgress {
    deadline: Arc<ConnectionDeadline>,
}

impl Drop for RequestInProgress {
    fn drop(&mut self) {
        let deadline = &self.deadline;
        deadline
            .idle_since
            .store(deadline.clock.now(), Ordering::Relaxed);
        deadline.in_flight.fetch_sub(1, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn idle_connections_expire_and_busy_ones_do_not() {
        let clock = CoarseClock::start();
        let deadline = ConnectionDeadline::new(clock.clone());
        let busy = deadline.request_started();
        let expired = tokio::time::timeout(
            Duration::from_secs(10),
            deadline.expired(Duration::from_secs(2)),
        );
        assert!(
            expired.await.is_err(),
            "a request in progress keeps the connection"
        );
        drop(busy);
        let started = tokio::time::Instant::now();
        deadline.expired(Duration::from_secs(2)).await;
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_secs(2) && waited <= Duration::from_secs(4),
            "{waited:?}"
        );
    }
}
