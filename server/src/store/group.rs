//! Group commit: concurrent changes share transactions. Each request waits until the commit that
//! holds it is durable, then gets its own result; a refused request does not affect the others
//! (each runs in its own savepoint). No request waits for a timer: while one transaction commits,
//! the requests arriving meanwhile gather for the next.
//!
//! It also keeps the purposes and the notices, which every request reads, for a moment ([`PURPOSES_FRESH`]):
//! a change made through this instance is seen at once, one made by another instance sharing the
//! database within that time.

use std::{
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use app::{
    api_key::ApiKeyRecord,
    domain::{
        Change, Channel, ConsentEvent, ConsentState, NewSubject, Notice, Purpose, PurposeKey,
        Subject, SubjectId,
    },
    store::{Applied, ConsentRecord, Store, StoreError, StoreResult, Suppression},
};
use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};

/// The most requests one transaction takes.
const MAX_GROUP: usize = 256;

/// How long the purposes read from the database are reused.
pub const PURPOSES_FRESH: Duration = Duration::from_secs(2);

struct Job {
    changes: Vec<Change>,
    reply: oneshot::Sender<StoreResult<Vec<Applied>>>,
}

/// Where the writers of a [`GroupCommit`] run.
pub enum Writers {
    /// This many tasks on the server's runtime.
    Tasks(usize),
    /// One writer on a thread of its own (SQLite, whose writes serialise anyway). A group is
    /// several statements in a row, each a hop to the database's thread and back; on a thread
    /// of its own the writer resumes the moment each answer comes, instead of waiting its turn
    /// behind the HTTP tasks on the busy runtime (measured under load: ~0.3 ms a hop there).
    OwnThread,
    /// `count` writers on a thread of their own, through a store that `open` opens on that
    /// thread (PostgreSQL): its connections are then woken by that thread's own reactor the
    /// moment an answer comes, not when the busy runtime next polls for I/O and gets to the task.
    OwnThreadOpening { count: usize, open: Opener },
}

/// Opens the store the writers of [`Writers::OwnThreadOpening`] use.
pub type Opener = Box<
    dyn FnOnce() -> futures_util::future::BoxFuture<'static, anyhow::Result<Arc<dyn Store>>> + Send,
>;

/// A current-thread runtime on a thread of its own, running `work`.
fn own_thread<F>(work: impl FnOnce() -> F + Send + 'static)
where
    F: std::future::Future<Output = ()> + 'static,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime for the writer");
    std::thread::Builder::new()
        .name("doui-writer".into())
        .spawn(move || runtime.block_on(work()))
        .expect("a thread for the writer");
}

/// A store whose `apply` goes through one writer that commits groups of requests.
pub struct GroupCommit {
    inner: Arc<dyn Store>,
    jobs: mpsc::Sender<Job>,
    purposes: RwLock<Option<(Instant, Arc<Vec<Purpose>>)>>,
    notices: RwLock<Option<(Instant, Arc<Vec<Notice>>)>>,
}

impl GroupCommit {
    /// Wraps `inner` with its `writers`. Must be called inside a Tokio runtime (it spawns the
    /// writers).
    pub fn new(inner: Arc<dyn Store>, writers: Writers) -> Self {
        let (jobs, queue) = mpsc::channel(4 * MAX_GROUP);
        let queue = Arc::new(tokio::sync::Mutex::new(queue));
        match writers {
            Writers::Tasks(n) => {
                for _ in 0..n.max(1) {
                    tokio::spawn(writer(inner.clone(), queue.clone()));
                }
            }
            Writers::OwnThread => {
                let (inner, queue) = (inner.clone(), queue.clone());
                own_thread(move || writer(inner, queue));
            }
            Writers::OwnThreadOpening { count, open } => {
                let (inner, queue) = (inner.clone(), queue.clone());
                own_thread(move || async move {
                    let store = open().await.unwrap_or_else(|e| {
                        tracing::warn!(error = %e, "the writers' own connections did not open: they share the pool");
                        inner
                    });
                    let writers: Vec<_> = (0..count.max(1))
                        .map(|_| tokio::spawn(writer(store.clone(), queue.clone())))
                        .collect();
                    for w in writers {
                        let _ = w.await;
                    }
                });
            }
        }
        Self {
            inner,
            jobs,
            purposes: RwLock::new(None),
            notices: RwLock::new(None),
        }
    }
}

async fn writer(store: Arc<dyn Store>, queue: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>) {
    let mut jobs = Vec::with_capacity(MAX_GROUP);
    loop {
        let received = queue.lock().await.recv_many(&mut jobs, MAX_GROUP).await;
        if received == 0 {
            return;
        }
        // Every group takes its row locks in subject order, so concurrent groups never deadlock.
        jobs.sort_by_key(|j| j.changes.first().map(|c| c.subject));
        let (requests, replies): (Vec<_>, Vec<_>) =
            jobs.drain(..).map(|j| (j.changes, j.reply)).unzip();
        let size = requests.len();
        let started = Instant::now();
        let results = store.apply_group(requests).await;
        crate::ops::prometheus::group_committed(size, started.elapsed(), &results);
        for (reply, result) in replies.into_iter().zip(results) {
            // The caller may have gone away; its change is committed all the same.
            let _ = reply.send(result);
        }
    }
}

#[async_trait]
impl Store for GroupCommit {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    async fn migrate(&self) -> StoreResult<()> {
        self.inner.migrate().await
    }
    async fn ping(&self) -> StoreResult<()> {
        self.inner.ping().await
    }
    fn pool_use(&self) -> app::store::PoolUse {
        self.inner.pool_use()
    }
    fn read_replica(&self) -> Option<app::store::ReplicaUse> {
        self.inner.read_replica()
    }
    fn purposes_changed(&self) {
        *self.purposes.write().unwrap_or_else(|e| e.into_inner()) = None;
    }
    async fn purposes(&self) -> StoreResult<Arc<Vec<Purpose>>> {
        if let Some((at, purposes)) = self
            .purposes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            && at.elapsed() < PURPOSES_FRESH
        {
            return Ok(purposes.clone());
        }
        let purposes = self.inner.purposes().await?;
        *self.purposes.write().unwrap_or_else(|e| e.into_inner()) =
            Some((Instant::now(), purposes.clone()));
        Ok(purposes)
    }
    fn notices_changed(&self) {
        *self.notices.write().unwrap_or_else(|e| e.into_inner()) = None;
    }
    async fn notices(&self) -> StoreResult<Arc<Vec<Notice>>> {
        if let Some((at, notices)) = self
            .notices
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            && at.elapsed() < PURPOSES_FRESH
        {
            return Ok(notices.clone());
        }
        let notices = self.inner.notices().await?;
        *self.notices.write().unwrap_or_else(|e| e.into_inner()) =
            Some((Instant::now(), notices.clone()));
        Ok(notices)
    }
    async fn publish_notice(&self, notice: &Notice) -> StoreResult<()> {
        self.inner.publish_notice(notice).await?;
        self.notices_changed();
        Ok(())
    }
    async fn create_subject(&self, id: SubjectId, subject: &NewSubject) -> StoreResult<Subject> {
        self.inner.create_subject(id, subject).await
    }
    async fn subject(&self, id: SubjectId) -> StoreResult<Option<Subject>> {
        self.inner.subject(id).await
    }
    async fn find_subject(&self, key: &str) -> StoreResult<Option<Subject>> {
        self.inner.find_subject(key).await
    }
    async fn find_subjects(&self, keys: &[String]) -> StoreResult<Vec<Subject>> {
        self.inner.find_subjects(keys).await
    }
    async fn subjects(&self, limit: u32) -> StoreResult<Vec<Subject>> {
        self.inner.subjects(limit).await
    }
    async fn count_subjects(&self) -> StoreResult<i64> {
        self.inner.count_subjects().await
    }
    async fn consents(&self, subject: SubjectId) -> StoreResult<Vec<ConsentRecord>> {
        self.inner.consents(subject).await
    }

    async fn apply(&self, changes: Vec<Change>) -> StoreResult<Vec<Applied>> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { changes, reply })
            .await
            .map_err(|_| StoreError::Backend("the writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Backend("the writer has stopped".into()))?
    }

    async fn apply_group(&self, requests: Vec<Vec<Change>>) -> Vec<StoreResult<Vec<Applied>>> {
        self.inner.apply_group(requests).await
    }

    async fn suppressions(
        &self,
        purpose: &PurposeKey,
        channel: Channel,
        cursor: i64,
        limit: u32,
    ) -> StoreResult<Vec<Suppression>> {
        self.inner
            .suppressions(purpose, channel, cursor, limit)
            .await
    }
    async fn create_api_key(&self, key: &ApiKeyRecord) -> StoreResult<()> {
        self.inner.create_api_key(key).await
    }
    async fn api_key(&self, id: &str) -> StoreResult<Option<ApiKeyRecord>> {
        self.inner.api_key(id).await
    }
    async fn api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>> {
        self.inner.api_keys().await
    }
    async fn revoke_api_key(&self, id: &str, at: time::OffsetDateTime) -> StoreResult<bool> {
        self.inner.revoke_api_key(id, at).await
    }
    async fn latest_events_on(
        &self,
        subject: SubjectId,
        channel: Channel,
    ) -> StoreResult<Vec<ConsentEvent>> {
        self.inner.latest_events_on(subject, channel).await
    }
    async fn events_for_subject(
        &self,
        subject: SubjectId,
        limit: u32,
    ) -> StoreResult<Vec<ConsentEvent>> {
        self.inner.events_for_subject(subject, limit).await
    }
    async fn all_events(&self) -> StoreResult<Vec<ConsentEvent>> {
        self.inner.all_events().await
    }
    async fn all_consents(
        &self,
    ) -> StoreResult<Vec<(SubjectId, PurposeKey, Channel, ConsentState)>> {
        self.inner.all_consents().await
    }
}
