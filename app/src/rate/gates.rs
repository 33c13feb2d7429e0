//! Gates that bound costly work on request paths: password hashing and chain walks.

use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

/// Bounds password hashing (argon2id: 19 MiB and a core for tens of milliseconds each): at most
/// `running` at once, at most `waiting` more queued; past that a request is refused at once
/// rather than held. Also keeps the most that ever ran at once.
#[derive(Debug)]
pub struct HashingGate {
    running: Arc<tokio::sync::Semaphore>,
    permits: usize,
    /// Requests admitted (running or waiting) and the most allowed.
    admitted: Arc<AtomicUsize>,
    max_admitted: usize,
    /// Hashes running now, and the most that ever did.
    busy: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

/// The gate is full: answer "try again shortly".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

impl HashingGate {
    pub fn new(running: usize, waiting: usize) -> Self {
        let running = running.max(1);
        Self {
            running: Arc::new(tokio::sync::Semaphore::new(running)),
            permits: running,
            admitted: Arc::new(AtomicUsize::new(0)),
            max_admitted: running + waiting,
            busy: Arc::new(AtomicUsize::new(0)),
            peak: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// As many at once as the machine has cores, and as many again waiting.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::new(cores, cores)
    }

    /// How many hashes may run at once.
    pub fn permits(&self) -> usize {
        self.permits
    }

    /// The most hashes that ran at once so far.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    /// Runs `f` (a hash) on a blocking thread when its turn comes, or refuses at once when
    /// too many are already running or waiting. The permit travels with the work, so a request
    /// that goes away does not let more run than allowed.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Busy> {
        struct Admitted(Arc<AtomicUsize>);
        impl Drop for Admitted {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        if self.admitted.fetch_add(1, Ordering::SeqCst) >= self.max_admitted {
            self.admitted.fetch_sub(1, Ordering::SeqCst);
            return Err(Busy);
        }
        let admitted = Admitted(self.admitted.clone());
        let permit = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Busy)?;
        let (busy, peak) = (self.busy.clone(), self.peak.clone());
        tokio::task::spawn_blocking(move || {
            let now = busy.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            let out = f();
            busy.fetch_sub(1, Ordering::SeqCst);
            drop((permit, admitted));
            out
        })
        .await
        .map_err(|_| Busy)
    }
}

/// One at a time: a second caller is told to come back rather than queued.
#[derive(Debug, Default)]
pub struct OneAtATime(Arc<AtomicBool>);

/// Held while the one allowed runs; dropping it lets the next one in.
#[derive(Debug)]
pub struct Turn(Arc<AtomicBool>);

impl Drop for Turn {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

impl OneAtATime {
    /// The turn, unless another holds it.
    pub fn try_enter(&self) -> Option<Turn> {
        self.0
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
            .ok()
            .map(|_| Turn(self.0.clone()))
    }
}
