//! A graceful shutdown. On SIGTERM (or Ctrl-C) the server first *drains*: `/readyz` answers 503
//! for `shutdown_drain` while every other request is still served, so a load balancer takes the
//! instance out of rotation before anything is refused. Then it *stops*: the listeners close, the
//! requests in flight finish (each waits for the group commit that holds its change), the sealer
//! seals what they wrote and ends. The process exits within `shutdown_timeout` of the signal.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use tokio::sync::watch;

/// Where a shutdown is: shared by the signal handler, `/readyz`, the listeners and the sealer.
#[derive(Clone)]
pub struct Shutdown(Arc<Inner>);

struct Inner {
    draining: AtomicBool,
    /// `true` once new connections must stop and background work end.
    stop: watch::Sender<bool>,
    /// When the signal came (the bound counts from it).
    signalled: watch::Sender<Option<tokio::time::Instant>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self(Arc::new(Inner {
            draining: AtomicBool::new(false),
            stop: watch::channel(false).0,
            signalled: watch::channel(None).0,
        }))
    }
}

impl Shutdown {
    /// Whether the shutdown began: `/readyz` answers 503 from then on.
    pub fn draining(&self) -> bool {
        self.0.draining.load(Ordering::SeqCst)
    }

    /// Begins the shutdown: drains for `drain`, then stops. What a signal does (tests call it).
    pub async fn begin(&self, drain: Duration) {
        if self.0.draining.swap(true, Ordering::SeqCst) {
            return;
        }
        self.0
            .signalled
            .send_replace(Some(tokio::time::Instant::now()));
        tracing::info!(
            drain_ms = drain.as_millis() as u64,
            "shutting down: draining (/readyz answers 503)"
        );
        tokio::time::sleep(drain).await;
        tracing::info!("shutting down: no new connections; finishing the requests in flight");
        self.0.stop.send_replace(true);
    }

    /// Whether new connections stopped and background work must end (after the drain).
    pub fn stopping(&self) -> bool {
        *self.0.stop.borrow()
    }

    /// Resolves once new connections must stop (after the drain).
    pub async fn stopped(&self) {
        let mut rx = self.0.stop.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }

    /// Resolves when the shutdown began, with the moment it did.
    pub async fn signalled(&self) -> tokio::time::Instant {
        let mut rx = self.0.signalled.subscribe();
        match rx.wait_for(Option::is_some).await {
            Ok(at) => at.unwrap_or_else(tokio::time::Instant::now),
            Err(_) => std::future::pending().await,
        }
    }

    /// Waits for SIGTERM or Ctrl-C, then begins the shutdown. A second signal during the drain
    /// cuts it short (Ctrl-C twice at a terminal).
    pub async fn on_signal(self, drain: Duration) {
        signal().await;
        tokio::select! {
            _ = self.begin(drain) => {}
            _ = async {
                // The first signal's handler may still hold it: let it go before listening again.
                tokio::task::yield_now().await;
                signal().await;
            } => {
                tracing::info!("a second signal: stopping without the rest of the drain");
                self.0.stop.send_replace(true);
            }
        }
    }
}

async fn signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn it_drains_before_it_stops() {
        let s = Shutdown::default();
        assert!(!s.draining());
        let begun = tokio::spawn({
            let s = s.clone();
            async move { s.begin(Duration::from_millis(50)).await }
        });
        let at = s.signalled().await;
        assert!(s.draining());
        s.stopped().await;
        assert!(at.elapsed() >= Duration::from_millis(50));
        begun.await.unwrap();
    }
}
