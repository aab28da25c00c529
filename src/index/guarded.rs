//! The index a store uses: any [`IndexBackend`] (sled, or sled inside the
//! fault-injecting test backend) that remembers when it can no longer be
//! trusted. A read error marks it damaged and a failed write or flush marks
//! it stale; from then on every read fails with [`IndexError::Unusable`]
//! (never a half-answer) until the store replaces it with a rebuild from the
//! log. Writes and flushes run on a helper thread behind a deadline (a
//! storage engine on a full disk can wait forever), and an index whose write
//! or flush failed is never dropped (sled's drop flushes again and can wait
//! forever too): it is leaked instead.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, mpsc};
use std::time::Duration;

use super::IndexError;
use super::backend::{IndexBackend, KvRead, Pair, RangeIter, Value};

/// An index backend with a damage mark.
pub struct Guarded {
    kv: Option<Arc<dyn IndexBackend>>,
    /// How long a write or flush may take.
    deadline: Duration,
    /// Why the index cannot be trusted, once it cannot.
    damage: OnceLock<String>,
    /// A write or flush failed: dropping the backend could hang.
    leak: AtomicBool,
    /// The helper thread writes and flushes run on (started on first use;
    /// one per index, so the allocator reuses its memory across writes).
    worker: Mutex<Option<mpsc::Sender<Job>>>,
}

/// A write or flush for the helper thread.
type Job = Box<dyn FnOnce() + Send>;

impl Guarded {
    /// `kv` with writes and flushes given up after `deadline`.
    pub fn new(kv: Box<dyn IndexBackend>, deadline: Duration) -> Guarded {
        Guarded {
            kv: Some(Arc::from(kv)),
            deadline,
            damage: OnceLock::new(),
            leak: AtomicBool::new(false),
            worker: Mutex::new(None),
        }
    }

    fn kv(&self) -> &Arc<dyn IndexBackend> {
        self.kv.as_ref().expect("present until drop")
    }

    /// Why the index cannot be trusted, if it cannot.
    pub fn damage(&self) -> Option<&str> {
        self.damage.get().map(String::as_str)
    }

    /// Marks the index untrustworthy (the first reason given is kept).
    pub fn mark_damaged(&self, why: impl Into<String>) {
        let _ = self.damage.set(why.into());
    }

    /// Marks the index stale after a failed write or flush: never read
    /// again, never dropped.
    pub fn mark_write_failed(&self, why: impl Into<String>) {
        self.leak.store(true, Ordering::Release);
        self.mark_damaged(why);
    }

    fn usable(&self) -> Result<(), IndexError> {
        match self.damage.get() {
            Some(why) => Err(IndexError::Unusable(why.clone())),
            None => Ok(()),
        }
    }

    fn noted<T>(&self, r: Result<T, IndexError>) -> Result<T, IndexError> {
        if let Err(e) = &r {
            self.mark_damaged(format!("a read failed: {e}"));
        }
        r
    }

    /// Runs a write or flush on a helper thread and gives up after the
    /// deadline (the thread keeps the backend alive, so nothing waits for it
    /// again). A failure or a timeout marks the index stale.
    fn within(
        &self,
        what: &str,
        op: impl FnOnce(&dyn IndexBackend) -> Result<(), IndexError> + Send + 'static,
    ) -> Result<(), IndexError> {
        self.usable()?;
        let (send, recv) = mpsc::channel();
        let kv = Arc::clone(self.kv());
        let job: Job = Box::new(move || {
            let done = op(&*kv);
            // Let go before answering, so the caller's handle is the last.
            drop(kv);
            let _ = send.send(done);
        });
        let outcome = match self.submit(job) {
            Err(e) => Err(IndexError::Io(e)),
            Ok(()) => match recv.recv_timeout(self.deadline) {
                Ok(r) => r,
                Err(_) => Err(IndexError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("the index {what} did not finish within {} s", self.deadline.as_secs_f64()),
                ))),
            },
        };
        if let Err(e) = &outcome {
            self.mark_write_failed(format!("the index {what} failed: {e}"));
        }
        outcome
    }

    /// Hands a job to the helper thread, starting it if needed. (After a
    /// timeout the index is never written again, so a helper stuck in a job
    /// is never waited for.)
    fn submit(&self, job: Job) -> std::io::Result<()> {
        let mut worker = self.worker.lock().unwrap_or_else(PoisonError::into_inner);
        let job = match worker.as_ref() {
            Some(send) => match send.send(job) {
                Ok(()) => return Ok(()),
                Err(mpsc::SendError(job)) => job,
            },
            None => job,
        };
        let (send, jobs) = mpsc::channel::<Job>();
        std::thread::Builder::new().name("claimgraph-index-io".into()).spawn(move || {
            for job in jobs {
                job();
            }
        })?;
        send.send(job).map_err(|_| std::io::Error::other("the index helper thread stopped"))?;
        *worker = Some(send);
        Ok(())
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        let Some(kv) = self.kv.take() else {
            return;
        };
        if self.leak.load(Ordering::Acquire) {
            // sled's drop flushes until the disk takes the data; after a
            // failed write that can be never. The process ends without it.
            std::mem::forget(kv);
        } else if self.damage.get().is_some() {
            // Found damaged by a read: it may still hold writes its drop
            // will flush, so that happens off the caller's thread.
            let _ = std::thread::Builder::new().name("claimgraph-index-drop".into()).spawn(move || drop(kv));
        }
    }
}

impl KvRead for Guarded {
    fn get(&self, key: &[u8]) -> Result<Option<Value>, IndexError> {
        self.usable()?;
        self.noted(self.kv().get(key))
    }

    fn range(&self, start: &[u8], end: Option<&[u8]>) -> RangeIter<'_> {
        if let Err(e) = self.usable() {
            return Box::new(std::iter::once(Err(e)));
        }
        Box::new(self.kv().range(start, end).map(|r| self.noted(r)))
    }

    fn last_in(&self, start: &[u8], end: &[u8]) -> Result<Option<Pair>, IndexError> {
        self.usable()?;
        self.noted(self.kv().last_in(start, end))
    }
}

impl IndexBackend for Guarded {
    fn apply(&self, writes: BTreeMap<Vec<u8>, Vec<u8>>) -> Result<(), IndexError> {
        self.within("write", move |kv| kv.apply(writes))
    }

    fn clear(&self) -> Result<(), IndexError> {
        self.usable()?;
        let r = self.kv().clear();
        if let Err(e) = &r {
            self.mark_write_failed(format!("a write failed: {e}"));
        }
        r
    }

    fn size_on_disk(&self) -> u64 {
        self.kv().size_on_disk()
    }

    fn flush(&self) -> Result<(), IndexError> {
        self.within("flush", |kv| kv.flush())
    }
}
