//! The public face of the store: create or open (opening never creates, so a
//! mistyped path is [`StoreError::NotFound`]) and recover, commit transactions
//! (validated as a whole, logged and fsynced, then indexed), read consistent
//! snapshots, verify and rebuild.
//!
//! One writer at a time (a mutex around the log); any number of readers, each
//! pinned to the head that was applied when it started.

mod index_dir;
mod read;
mod transaction;
mod validate;
mod verify;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, Weak};
use std::time::Duration;

pub use index_dir::live_index_dir;
pub(crate) use read::IndexView;
pub use read::{ClaimQuery, HistoryEntry, ReadView, Stats};
pub use transaction::Transaction;
pub use validate::{DEFAULT_FUTURE_TOLERANCE, ValidationError, ValidationKind};
pub use verify::VerifyReport;

use crate::codec;
use crate::index::faults::{FaultyBackend, IndexFaults};
use crate::index::{ChunkWriter, Guarded, IndexBackend, IndexError, SledBackend, TxMeta, meta, read_meta};
use crate::log::{FsLogDir, Log, LogDir, LogError, OpenReport as LogOpenReport, RepairReport, frame};
use crate::model::{Hash, Receipt, Timestamp, TxBody, TxRecord};

/// Errors of the store layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The transaction broke a rule; nothing was written.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("{0}")]
    InvalidInput(String),
    /// A read names an entity that exists nowhere in the store (`name` as
    /// given, `suggestion` the nearest known key).
    #[error("unknown entity `{}`{}", crate::model::entity_text(name), crate::model::did_you_mean(suggestion.as_deref().map(crate::model::entity_text).as_deref()))]
    UnknownEntity { name: String, suggestion: Option<String> },
    /// A read names a claim id that no claim has.
    #[error("unknown claim `{id}`")]
    UnknownClaim { id: String },
    /// A read names a predicate that exists nowhere in the store.
    #[error("unknown predicate `{name}`{}", crate::model::did_you_mean(suggestion.as_deref()))]
    UnknownPredicate { name: String, suggestion: Option<String> },
    #[error("expected tx {expected}, but the transaction says tx {given}")]
    TxOutOfOrder { expected: u64, given: u64 },
    #[error("tx {tx}: the given hash {given} differs from the computed hash {computed}")]
    HashMismatch { tx: u64, given: String, computed: Hash },
    #[error("tx {tx}: recorded_at {given} is before the previous transaction's {previous}")]
    TimeGoesBackwards { tx: u64, given: Timestamp, previous: Timestamp },
    /// A given `recorded_at` too far ahead of the clock; nothing was written.
    #[error(
        "tx {tx}: recorded_at {given} is more than {} s ahead of the clock ({now}); every later \
         transaction would have to be stamped after it. Give a time no later than the clock plus \
         the store's tolerance (Options::future_tolerance)",
        tolerance.as_secs()
    )]
    FutureRecordedAt { tx: u64, given: Timestamp, now: Timestamp, tolerance: std::time::Duration },
    #[error(transparent)]
    Log(#[from] LogError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error("{doing}: {source}")]
    Io { doing: String, source: std::io::Error },
    #[error("a previous write failed; close and reopen the store before writing again")]
    Poisoned,
    /// [`Store::close`] while other handles or read views still hold the
    /// store: it stays open for them.
    #[error("the store is still in use by {handles} other handle(s) and {views} read view(s)")]
    InUse { handles: usize, views: usize },
    /// The store is open elsewhere (this process or another); nothing was
    /// touched.
    #[error("the store {} is already open (in this or another process); close it first", path.display())]
    Locked { path: PathBuf },
    /// [`Store::open`] found no store at `path` (nothing was created there);
    /// [`Store::create`] makes one.
    #[error("no store at {}", path.display())]
    NotFound { path: PathBuf },
    /// Refused before anything was written.
    #[error(
        "not enough free disk space for the store {dir}: {free} bytes free, but this write needs about \
         {need} (with a margin of {margin}); nothing was written; free some space and retry"
    )]
    OutOfSpace { dir: String, free: u64, need: u64, margin: u64 },
    /// The index could not be rebuilt after a failure; the log is intact.
    #[error(
        "the index could not be brought up to the log ({why}); the log holds every acknowledged \
         transaction, tx 1 to {head}, and nothing after tx {head} was written; free disk space if it \
         is full, then reopen the store or run `claimgraph reindex`"
    )]
    IndexUnavailable { head: u64, why: String },
    /// A write to a store opened with [`Options::read_only`]; nothing was
    /// written.
    #[error("the store {} is open read-only; nothing was written", path.display())]
    ReadOnly { path: PathBuf },
}

impl StoreError {
    /// Whether this is the file system refusing writes (no permission, a
    /// read-only mount): the store may still be read with
    /// [`Options::read_only`].
    pub fn is_not_writable(&self) -> bool {
        use std::io::ErrorKind::{PermissionDenied, ReadOnlyFilesystem};
        let kind = match self {
            StoreError::Io { source, .. } => source.kind(),
            StoreError::Log(LogError::Io { source, .. }) => source.kind(),
            StoreError::Index(IndexError::Io(e)) => e.kind(),
            _ => return false,
        };
        matches!(kind, PermissionDenied | ReadOnlyFilesystem)
    }
}

/// What opening the store found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    pub log: LogOpenReport,
    /// Why the indexes were rebuilt from the log, if they were.
    pub rebuilt: Option<String>,
    /// Transactions replayed into the indexes on open.
    pub replayed: u64,
}

/// How long an open waits out a holder of the store lock that is about to
/// let go (a child process between fork and exec) before `Locked`.
const LOCK_WAIT: Duration = Duration::from_millis(200);

/// How long a read that found the index damaged waits for the writer lock
/// to rebuild it before failing with an error naming `reindex`.
const HEAL_WAIT: Duration = Duration::from_secs(2);

/// The most transactions and events folded into one index batch.
const CHUNK_TXS: usize = 256;
const CHUNK_EVENTS: usize = 20_000;
/// The default most events in one transaction.
pub const MAX_TX_EVENTS: usize = 100_000;
/// The default time an index write or flush may take before it is given up.
const FLUSH_DEADLINE: Duration = Duration::from_secs(30);
/// The default free space kept on the store's file system.
const MIN_FREE_BYTES: u64 = 8 << 20;

/// What the options resolved to.
#[derive(Clone)]
struct Settings {
    max_tx_events: usize,
    cache_bytes: u64,
    flush_deadline: Duration,
    min_free_bytes: u64,
    faults: Option<Arc<IndexFaults>>,
}

struct Inner {
    dir: PathBuf,
    writer: Mutex<Writer>,
    /// Replaced whole by a rebuild (under the writer lock); readers hold the
    /// backend they started with.
    live: RwLock<LiveIndex>,
    /// Indexes replaced by a rebuild whose directories wait for their last
    /// reader.
    retired: Mutex<Vec<Retired>>,
    head: AtomicU64,
    /// Index write generation, a sequence lock for readers that compare the
    /// live index without the writer lock (`verify`): odd while an index
    /// write or swap is under way, bumped again (even) after it and after
    /// `head` says what it wrote.
    index_writes: AtomicU64,
    poisoned: AtomicBool,
    open_report: OpenReport,
    settings: Settings,
    /// Whether the dirty mark (`INDEX_DIRTY`) is on disk for the live index.
    dirty: AtomicBool,
    /// `Options::create_predicates`.
    create_predicates: bool,
    /// Opened with [`Options::read_only`]: the index lives in memory and
    /// writes are refused.
    read_only: bool,
    /// Declared last so it outlives the index it guards.
    lease: Arc<DirLease>,
}

/// The store directory's exclusive lock (one open store per directory, in
/// this or any process). Shared with every view, so a view that outlives its
/// `Store` still keeps a second open from taking its index for a damaged one
/// and removing it; a temporary store's directory goes with the last holder.
pub(crate) struct DirLease {
    _lock: StoreLock,
    dir: PathBuf,
    temporary: bool,
}

impl Drop for DirLease {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

struct Writer {
    log: Log,
    last_recorded: Timestamp,
    clock: Arc<dyn Clock>,
    future_tolerance: std::time::Duration,
}

/// Where recorded-at times come from.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// How to open a store; every field defaults to the real thing.
#[derive(Default)]
pub struct Options {
    /// The log's file storage (default: `<store>/log` on disk).
    pub log_dir: Option<Box<dyn LogDir>>,
    /// The clock for recorded-at times (default: the system clock).
    pub clock: Option<Arc<dyn Clock>>,
    /// Bytes after which a new log segment starts (default 64 MiB).
    pub segment_bytes: Option<u64>,
    /// Create the store if the directory holds none (default: a missing
    /// store is [`StoreError::NotFound`], so a mistyped path creates nothing).
    pub create: bool,
    /// Let an assert create a predicate nobody declared (default: refused
    /// with a did-you-mean, unless the same transaction declares it). For
    /// bulk pipelines whose data is trusted.
    pub create_predicates: bool,
    /// How far ahead of the clock a transaction's given `recorded_at` may be
    /// (default [`DEFAULT_FUTURE_TOLERANCE`], one day).
    pub future_tolerance: Option<std::time::Duration>,
    /// How long an open waits for another holder of the store to close it
    /// before [`StoreError::Locked`] (default and least 0.2 s; a program
    /// that hands the store over between processes may wait longer).
    pub lock_wait: Option<Duration>,
    /// The most events one transaction may hold (default [`MAX_TX_EVENTS`]).
    pub max_tx_events: Option<usize>,
    /// Bytes of index pages the store keeps in memory (sled's page cache;
    /// default 256 MiB). A small embedded process sets less, a large read
    /// workload more.
    pub index_cache_bytes: Option<u64>,
    /// How long an index write or flush may take before it is given up and
    /// the index marked stale (default 30 s).
    pub index_flush_deadline: Option<Duration>,
    /// Free bytes the store keeps on its file system: a write that would
    /// leave less (counting four times its log bytes for the log and the
    /// index) is refused before anything is written (default 8 MiB).
    pub min_free_bytes: Option<u64>,
    /// Open without writing anything to the store's directory (a store on
    /// read-only media, a copy someone else owns): the log is read and
    /// checked as usual, the index is built in memory from it, and every
    /// write is refused with [`StoreError::ReadOnly`]. A torn unacknowledged
    /// tail is left in place rather than cut. A writer holding the store
    /// makes the open [`StoreError::Locked`].
    pub read_only: bool,
    /// Every index the store opens is wrapped in these faults (tests only).
    #[doc(hidden)]
    pub index_faults: Option<Arc<IndexFaults>>,
}

/// The index in use and its directory.
#[derive(Clone)]
struct LiveIndex {
    backend: Arc<Guarded>,
    dir: PathBuf,
}

/// An index a rebuild replaced.
struct Retired {
    backend: Weak<Guarded>,
    dir: PathBuf,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Flushed behind the deadline, so dropping sled has nothing left to
        // wait for; an index that cannot be flushed keeps its dirty mark
        // (the next open rebuilds it) and is leaked, never waited on.
        let _ = self.flush_clean();
        self.sweep_retired();
    }
}

impl Inner {
    fn live(&self) -> LiveIndex {
        self.live.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Flushes the live index (behind the deadline) and, if that worked,
    /// removes its dirty mark.
    fn flush_clean(&self) -> Result<(), StoreError> {
        let live = self.live();
        if live.backend.damage().is_some() {
            return Ok(());
        }
        live.backend.flush()?;
        if self.dirty.load(AtomicOrdering::Acquire) {
            index_dir::mark_clean(&self.dir);
            self.dirty.store(false, AtomicOrdering::Release);
        }
        Ok(())
    }

    /// Removes the directories of retired indexes nobody reads any more
    /// (best effort: a later open removes what is left).
    fn sweep_retired(&self) {
        let mut retired = self.retired.lock().unwrap_or_else(PoisonError::into_inner);
        retired.retain(|r| {
            if r.backend.strong_count() > 0 {
                return true;
            }
            // An in-memory index (read-only store) has no directory.
            if !r.dir.as_os_str().is_empty() {
                let _ = std::fs::remove_dir_all(&r.dir);
            }
            false
        });
    }
}

/// An open claimgraph store. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

fn io(doing: impl Into<String>) -> impl FnOnce(std::io::Error) -> StoreError {
    let doing = doing.into();
    move |source| StoreError::Io { doing, source }
}

impl Store {
    /// Opens the existing store in directory `path`, recovering the log's
    /// tail and bringing the indexes up to the log. A path with no store is
    /// [`StoreError::NotFound`] and nothing is created there.
    ///
    /// ```
    /// # use claimgraph::{Store, StoreError};
    /// let dir = std::env::temp_dir().join("claimgraph-doc-no-such-store");
    /// assert!(matches!(Store::open(&dir), Err(StoreError::NotFound { .. })));
    /// assert!(!dir.exists());
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        Store::open_with(path, Options::default())
    }

    /// Opens the store in directory `path`, creating it if there is none
    /// (the directory too).
    pub fn create(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        Store::open_with(path, Options { create: true, ..Options::default() })
    }

    /// Whether `path` holds a store: its log directory, or the head file
    /// that records the log's acknowledged end (a store whose `log/` was
    /// deleted is a damaged store, which open refuses naming the lost
    /// transactions, not a missing one).
    pub fn exists(path: impl AsRef<Path>) -> bool {
        let path = path.as_ref();
        path.join("log").is_dir() || path.join(crate::log::fs::HEAD_FILE).is_file()
    }

    /// [`Store::open`] with the log's storage, the clock, the segment size
    /// and creation given (tests use a simulated disk and a fixed clock). With
    /// a `log_dir` given, the caller owns the storage and no existence check
    /// is made.
    pub fn open_with(path: impl AsRef<Path>, options: Options) -> Result<Store, StoreError> {
        Store::open_dir(path.as_ref(), false, options)
    }

    /// A store in a fresh temporary directory, removed when the last clone drops.
    pub fn temporary() -> Result<Store, StoreError> {
        Store::temporary_with(Options::default())
    }

    /// [`Store::temporary`] with options (e.g. `create_predicates`); the
    /// store is always created.
    pub fn temporary_with(options: Options) -> Result<Store, StoreError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, AtomicOrdering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "claimgraph-{}-{}-{n}",
            std::process::id(),
            Timestamp::now().0
        ));
        Store::open_dir(&dir, true, Options { create: true, ..options })
    }

    /// Cuts a damaged log at its first bad record (dropping everything from
    /// there on) and rebuilds the indexes. Only for an explicit repair request.
    pub fn repair(path: impl AsRef<Path>) -> Result<RepairReport, StoreError> {
        let dir = path.as_ref();
        let _lock = lock_store(dir, LOCK_WAIT)?;
        let logdir = FsLogDir::for_store(dir).map_err(io("opening the log directory"))?;
        let (_, report) = Log::repair(Box::new(logdir))?;
        if report.changed() {
            index_dir::remove_all(dir)?;
        }
        Ok(report)
    }

    fn open_dir(dir: &Path, temporary: bool, options: Options) -> Result<Store, StoreError> {
        let read_only = options.read_only;
        if (!options.create || read_only) && options.log_dir.is_none() && !Store::exists(dir) {
            return Err(StoreError::NotFound { path: dir.to_path_buf() });
        }
        let wait = options.lock_wait.unwrap_or(LOCK_WAIT).max(LOCK_WAIT);
        let lock = if read_only {
            lock_store_shared(dir, wait)?
        } else {
            std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
            lock_store(dir, wait)?
        };
        let logdir: Box<dyn LogDir> = match options.log_dir {
            Some(d) => d,
            None if read_only => Box::new(FsLogDir::for_store_read_only(dir)),
            None => Box::new(FsLogDir::for_store(dir).map_err(io("opening the log directory"))?),
        };
        let (mut log, log_report) = if read_only { Log::open_read_only(logdir)? } else { Log::open(logdir)? };
        if let Some(bytes) = options.segment_bytes {
            log.set_segment_limit(bytes);
        }
        let clock = options.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let settings = Settings {
            max_tx_events: options.max_tx_events.unwrap_or(MAX_TX_EVENTS).max(1),
            cache_bytes: options.index_cache_bytes.unwrap_or(crate::index::backend::DEFAULT_CACHE_BYTES),
            flush_deadline: options.index_flush_deadline.unwrap_or(FLUSH_DEADLINE),
            min_free_bytes: options.min_free_bytes.unwrap_or(MIN_FREE_BYTES),
            faults: options.index_faults,
        };
        let recovered =
            if read_only { build_in_memory(&log, &settings)? } else { recover_index(dir, &log, &settings)? };
        let future_tolerance = options.future_tolerance.unwrap_or(DEFAULT_FUTURE_TOLERANCE);
        let writer = Writer { log, last_recorded: recovered.last_recorded, clock, future_tolerance };
        let head = writer.log.head();
        let open_report =
            OpenReport { log: log_report, rebuilt: recovered.rebuilt, replayed: recovered.replayed };
        let inner = Inner {
            dir: dir.to_path_buf(),
            writer: Mutex::new(writer),
            live: RwLock::new(recovered.live),
            retired: Mutex::new(Vec::new()),
            head: AtomicU64::new(head),
            index_writes: AtomicU64::new(0),
            poisoned: AtomicBool::new(false),
            open_report,
            settings,
            dirty: AtomicBool::new(false),
            create_predicates: options.create_predicates,
            read_only,
            lease: Arc::new(DirLease { _lock: lock, dir: dir.to_path_buf(), temporary }),
        };
        Ok(Store { inner: Arc::new(inner) })
    }

    /// What recovery did when this store was opened.
    pub fn open_report(&self) -> &OpenReport {
        &self.inner.open_report
    }

    /// The store's directory.
    pub fn path(&self) -> &Path {
        &self.inner.dir
    }

    /// The last committed (and indexed) transaction.
    pub fn head(&self) -> u64 {
        self.inner.head.load(AtomicOrdering::Acquire)
    }

    fn writer(&self) -> Result<MutexGuard<'_, Writer>, StoreError> {
        if self.inner.read_only {
            return Err(StoreError::ReadOnly { path: self.inner.dir.clone() });
        }
        if self.inner.poisoned.load(AtomicOrdering::Acquire) {
            return Err(StoreError::Poisoned);
        }
        self.inner.writer.lock().map_err(|_| StoreError::Poisoned)
    }

    /// Commits one transaction: validated as a whole, fsynced, then indexed.
    pub fn commit(&self, tx: Transaction) -> Result<Receipt, StoreError> {
        let (mut receipts, err) = self.commit_batch(vec![tx]);
        match err {
            Some((_, e)) => Err(e),
            None => receipts.pop().ok_or_else(|| StoreError::InvalidInput("nothing committed".into())),
        }
    }

    /// Builds and commits a transaction with a closure.
    pub fn transact(
        &self,
        author: &str,
        build: impl FnOnce(&mut Transaction),
    ) -> Result<Receipt, StoreError> {
        let mut tx = Transaction::new(author);
        build(&mut tx);
        self.commit(tx)
    }

    /// Commits transactions in order, many per fsync and per index batch (bulk
    /// import). Stops at the first failure: the receipts of everything before
    /// it, and the failing position with its error.
    pub fn commit_batch(&self, txs: Vec<Transaction>) -> (Vec<Receipt>, Option<(usize, StoreError)>) {
        let mut receipts = Vec::with_capacity(txs.len());
        let mut guard = match self.writer() {
            Ok(g) => g,
            Err(e) => return (receipts, Some((0, e))),
        };
        let mut pos = 0;
        while pos < txs.len() {
            let (n, err) = self.commit_chunk(&mut guard, &txs[pos..], &mut receipts);
            if let Some(e) = err {
                return (receipts, Some((pos + n, e)));
            }
            pos += n;
        }
        (receipts, None)
    }

    /// Commits as many of `txs` as fit one chunk; returns how many were
    /// committed and the error that stopped it, if any.
    fn commit_chunk(
        &self,
        w: &mut Writer,
        txs: &[Transaction],
        receipts: &mut Vec<Receipt>,
    ) -> (usize, Option<StoreError>) {
        // The writer lock is held: no rebuild can replace the index meanwhile.
        if let Err(e) = self.heal_locked(w) {
            return (0, Some(e));
        }
        let live = self.inner.live();
        let index = &*live.backend;
        let mut cw = match ChunkWriter::new(index) {
            Ok(cw) => cw,
            Err(e) => return (0, Some(e.into())),
        };
        let mut bodies = Vec::new();
        let mut pending = Vec::new();
        let (mut events, mut prev, mut last) = (0, w.log.head_hash(), w.last_recorded);
        let mut failure = None;
        for t in txs.iter().take(CHUNK_TXS) {
            let txno = w.log.head() + 1 + bodies.len() as u64;
            cw.begin(txno);
            let rules = Rules {
                now: w.clock.now(),
                future_tolerance: w.future_tolerance,
                max_events: self.inner.settings.max_tx_events,
                create_predicates: self.inner.create_predicates,
            };
            match prepare(&mut cw, t, txno, &prev, last, &rules) {
                Ok((bytes, receipt)) => {
                    prev = receipt.hash;
                    last = receipt.recorded_at;
                    events += t.events.len();
                    bodies.push(bytes);
                    pending.push(receipt);
                }
                Err(e) => {
                    cw.abort();
                    failure = Some(e);
                    break;
                }
            }
            if events >= CHUNK_EVENTS {
                break;
            }
        }
        let n = bodies.len();
        if n > 0 {
            if let Err(e) = self.write_chunk(w, index, &bodies, cw) {
                return (0, Some(e));
            }
            w.last_recorded = last;
            receipts.extend(pending);
        }
        (n, failure)
    }

    /// Logs (one fsync) then indexes a prepared chunk. Free space and the
    /// index's dirty mark are seen to first, so a refusal writes nothing.
    /// Once the log has the chunk it is acknowledged whatever the index
    /// does: an index write that fails marks the index stale (it is rebuilt
    /// from the log before its next use, and never trusted by a later open).
    fn write_chunk(
        &self,
        w: &mut Writer,
        index: &Guarded,
        bodies: &[Vec<u8>],
        cw: ChunkWriter<'_, Guarded>,
    ) -> Result<(), StoreError> {
        let poison = |e: StoreError| {
            self.inner.poisoned.store(true, AtomicOrdering::Release);
            e
        };
        self.check_space(bodies.iter().map(|b| b.len() as u64).sum())?;
        self.mark_dirty()?;
        let first = w.log.head() + 1;
        w.log.append(bodies).map_err(|e| poison(e.into()))?;
        self.inner.index_writes.fetch_add(1, AtomicOrdering::AcqRel);
        if let Err(e) = index.apply(cw.into_writes()) {
            let last = w.log.head();
            index.mark_write_failed(format!(
                "indexing tx {first} to {last} failed ({e}); they are in the log"
            ));
        }
        self.inner.head.store(w.log.head(), AtomicOrdering::Release);
        self.inner.index_writes.fetch_add(1, AtomicOrdering::AcqRel);
        Ok(())
    }

    /// Refuses a write of about `log_bytes` that would leave the file system
    /// with less than the margin free.
    fn check_space(&self, log_bytes: u64) -> Result<(), StoreError> {
        let settings = &self.inner.settings;
        let free = match settings.faults.as_ref().and_then(|f| f.free_space()) {
            Some(free) => free,
            None => match fs2::available_space(&self.inner.dir) {
                Ok(free) => free,
                // A file system that cannot say is not refused for it.
                Err(_) => return Ok(()),
            },
        };
        let margin = settings.min_free_bytes;
        let need = log_bytes.saturating_mul(4).saturating_add(margin);
        if free < need {
            return Err(StoreError::OutOfSpace {
                dir: self.inner.dir.display().to_string(),
                free,
                need,
                margin,
            });
        }
        Ok(())
    }

    /// Puts the dirty mark on disk before the live index's first write since
    /// it was last flushed clean.
    fn mark_dirty(&self) -> Result<(), StoreError> {
        if self.inner.dirty.load(AtomicOrdering::Acquire) {
            return Ok(());
        }
        let live = self.inner.live();
        let name = live.dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        index_dir::mark_dirty(&self.inner.dir, name)?;
        self.inner.dirty.store(true, AtomicOrdering::Release);
        Ok(())
    }

    /// Replaces a stale or damaged live index with a rebuild from the log
    /// (the writer lock is held); an error says what the log holds.
    fn heal_locked(&self, w: &Writer) -> Result<(), StoreError> {
        let Some(why) = self.inner.live().backend.damage().map(str::to_string) else {
            return Ok(());
        };
        self.replace_index(w).map(|_| ()).map_err(|e| StoreError::IndexUnavailable {
            head: w.log.head(),
            why: format!("{why}; rebuilding it failed: {e}"),
        })
    }

    /// Rebuilds the live index if it was found damaged or stale; whether it
    /// is usable now.
    pub fn heal(&self) -> bool {
        let damaged =
            self.inner.live.read().unwrap_or_else(PoisonError::into_inner).backend.damage().is_some();
        if !damaged {
            return true;
        }
        // The rebuild needs the writer lock. Its holder is another thread
        // finishing a commit (a chunk at most), so wait for it, but only for
        // a while: a long import holds it chunk after chunk, and a holder in
        // this very thread would never let go. Past the wait the read fails
        // naming `reindex`, and the next read tries again.
        if self.inner.poisoned.load(AtomicOrdering::Acquire) {
            return false;
        }
        let deadline = std::time::Instant::now() + HEAL_WAIT;
        loop {
            match self.inner.writer.try_lock() {
                Ok(w) => return self.heal_locked(&w).is_ok(),
                Err(std::sync::TryLockError::Poisoned(_)) => return false,
                Err(std::sync::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(std::sync::TryLockError::WouldBlock) => return false,
            }
        }
    }

    /// After a read failed with `e`: if it is the index's failure (damage,
    /// a storage error), marks the live index damaged and rebuilds it;
    /// whether the read is worth repeating.
    pub fn heal_after(&self, e: &StoreError) -> bool {
        self.note_index_failure(e) && self.heal()
    }

    /// After a read failed with `e`: if it is the index's failure, marks the
    /// live index damaged, so it is rebuilt before the next read; whether it
    /// was.
    pub fn note_index_failure(&self, e: &StoreError) -> bool {
        match e {
            StoreError::Index(ie) if !ie.is_environment() => {
                self.inner.live().backend.mark_damaged(format!("a read failed: {ie}"));
                true
            }
            _ => false,
        }
    }

    /// Validates `tx` against the head as a commit would, writing nothing
    /// (a `BEGIN` block checks each statement as it is queued).
    pub fn check(&self, tx: &Transaction) -> Result<(), StoreError> {
        let w = self.writer()?;
        let live = self.inner.live();
        let mut cw = ChunkWriter::new(&*live.backend)?;
        cw.begin(w.log.head() + 1);
        let mut result = Ok(());
        if !self.inner.create_predicates {
            result = validate::check_predicates_declared(&cw, &tx.events);
        }
        if result.is_ok() {
            result = validate::apply_tx(&mut cw, &tx.events).map(drop);
        }
        cw.abort();
        result
    }

    /// A consistent view of the current state.
    pub fn snapshot(&self) -> ReadView {
        self.snapshot_at(u64::MAX)
    }

    /// A view of the state as of transaction `tx` (clamped to the head).
    pub fn snapshot_at(&self, tx: u64) -> ReadView {
        // A damaged index is rebuilt first; if that cannot run now, the
        // view's reads fail naming `reindex` (never a half-answer).
        self.heal();
        // The head first: an index taken after it holds at least that head
        // (commits publish the head after applying, and a rebuild builds up
        // to the log's head), so the view never names a tx its index lacks.
        let at = tx.min(self.head());
        ReadView::new(self.inner.live().backend, self.inner.lease.clone(), at)
    }

    /// The last transaction recorded at or before `t` (0 if none).
    pub fn tx_at_time(&self, t: Timestamp) -> Result<u64, StoreError> {
        Ok(self.snapshot().tx_at_time(t)?)
    }

    /// Every committed transaction from `from` to the head as of the call, in
    /// order, read from the log. The writer lock is held only while a chunk
    /// of records is read, never while `f` runs, so commits go on during a
    /// long export (records up to the head never change).
    pub fn for_each_tx(
        &self,
        from: u64,
        f: impl FnMut(TxRecord) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.for_each_tx_until(from, self.head(), f)
    }

    /// [`Store::for_each_tx`] up to tx `head`.
    fn for_each_tx_until(
        &self,
        from: u64,
        head: u64,
        mut f: impl FnMut(TxRecord) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        const CHUNK: u64 = 256;
        let mut next = from.max(1);
        while next <= head {
            let last = (next + CHUNK - 1).min(head);
            let chunk: Vec<TxRecord> = {
                let w = self.inner.writer.lock().map_err(|_| StoreError::Poisoned)?;
                (next..=last).map(|tx| w.log.read(tx)).collect::<Result<_, _>>()?
            };
            for rec in chunk {
                f(rec)?;
            }
            next = last + 1;
        }
        Ok(())
    }

    /// Rebuilds every index from the log into a fresh directory and switches
    /// to it; the old index is never read (it may be what is damaged).
    /// Readers that started before keep the old index until they finish;
    /// readers that start after see the new one, at the same head.
    pub fn rebuild_indexes(&self) -> Result<u64, StoreError> {
        let w = self.writer()?;
        self.replace_index(&w)
    }

    /// Builds a fresh index from the log and makes it the live one.
    fn replace_index(&self, w: &Writer) -> Result<u64, StoreError> {
        let (fresh, replayed) = if self.inner.read_only {
            let built = build_in_memory(&w.log, &self.inner.settings)?;
            (built.live, built.replayed)
        } else {
            build_fresh(&self.inner.dir, &w.log, &self.inner.settings)?
        };
        // The fresh index is flushed: the mark of the one it replaces goes.
        index_dir::mark_clean(&self.inner.dir);
        self.inner.dirty.store(false, AtomicOrdering::Release);
        self.inner.index_writes.fetch_add(1, AtomicOrdering::AcqRel);
        let old = {
            let mut live = self.inner.live.write().unwrap_or_else(PoisonError::into_inner);
            std::mem::replace(&mut *live, fresh)
        };
        self.inner.index_writes.fetch_add(1, AtomicOrdering::AcqRel);
        let retired = Retired { backend: Arc::downgrade(&old.backend), dir: old.dir };
        self.inner.retired.lock().unwrap_or_else(PoisonError::into_inner).push(retired);
        drop(old.backend);
        self.inner.sweep_retired();
        Ok(replayed)
    }

    /// The directory of the index in use (it changes with a rebuild).
    pub fn index_dir(&self) -> PathBuf {
        self.inner.live().dir
    }

    /// The log's head as a line of text to keep somewhere the store's files
    /// are not (see [`crate::log::checkpoint`]), for [`Store::verify_against`].
    pub fn checkpoint(&self) -> Result<crate::log::Checkpoint, StoreError> {
        let w = self.inner.writer.lock().map_err(|_| StoreError::Poisoned)?;
        Ok(w.log.checkpoint())
    }

    /// Checks that the log still holds exactly the checkpoint's tx with its
    /// hash, so that nothing up to it was changed or cut since it was taken:
    /// `Err(StoreError::Log(LogError::CheckpointMismatch | CheckpointMissing))`
    /// when it was.
    pub fn verify_against(&self, checkpoint: &crate::log::Checkpoint) -> Result<(), StoreError> {
        let w = self.inner.writer.lock().map_err(|_| StoreError::Poisoned)?;
        Ok(w.log.check_checkpoint(checkpoint)?)
    }

    /// Bytes on disk: log and indexes.
    pub fn size_on_disk(&self) -> u64 {
        dir_size(&self.inner.dir)
    }

    /// Closes this handle: flushes the indexes and lets go of the store. The
    /// directory is unlocked when this was the last handle (no clone, session
    /// or read view still holds it); otherwise the store stays open for them
    /// and this returns [`StoreError::InUse`] saying how many hold it.
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// let store = claimgraph::Store::create(dir.path())?;
    /// store.close()?;
    /// let again = claimgraph::Store::open(dir.path())?; // the lock is free
    /// let view = again.snapshot();
    /// assert!(matches!(again.close(), Err(claimgraph::StoreError::InUse { views: 1, .. })));
    /// drop(view);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn close(self) -> Result<(), StoreError> {
        self.flush_indexes()?;
        let handles = Arc::strong_count(&self.inner) - 1;
        let views = Arc::strong_count(&self.inner.lease) - 1;
        drop(self);
        if handles > 0 || views > 0 { Err(StoreError::InUse { handles, views }) } else { Ok(()) }
    }

    /// Forces buffered index state to disk (not needed for durability).
    pub fn flush_indexes(&self) -> Result<(), StoreError> {
        self.inner.flush_clean()
    }
}

/// Opens sled, waiting briefly while a just-dropped instance of this same
/// store still holds sled's file lock (its background flusher lets go a
/// moment after the drop): that is not damage and must not cost a rebuild.
fn open_index(dir: &Path, settings: &Settings) -> Result<Guarded, crate::index::IndexError> {
    retry_while_busy(|| SledBackend::open_with_cache(dir, settings.cache_bytes), is_lock_error)
        .map(|sled| wrap(sled, settings))
}

/// The store's handle on a sled index (inside the test faults, if any).
fn wrap(sled: SledBackend, settings: &Settings) -> Guarded {
    match &settings.faults {
        Some(faults) => {
            Guarded::new(Box::new(FaultyBackend::new(sled, faults.clone())), settings.flush_deadline)
        }
        None => Guarded::new(Box::new(sled), settings.flush_deadline),
    }
}

/// Runs `attempt` again for up to a second while its error is a lock another
/// holder is about to release (sled's flusher after a drop; a child process
/// between fork and exec still holding an inherited lock).
fn retry_while_busy<T, E>(
    mut attempt: impl FnMut() -> Result<T, E>,
    busy: impl Fn(&E) -> bool,
) -> Result<T, E> {
    let mut tries = 0;
    loop {
        match attempt() {
            Err(e) if tries < 40 && busy(&e) => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(25));
            }
            other => return other,
        }
    }
}

fn is_lock_error(e: &crate::index::IndexError) -> bool {
    let text = e.to_string().to_lowercase();
    // sled's words (config.rs: "could not acquire lock on ..."), not any
    // "lock": a damaged index's error may say "block".
    text.contains("could not acquire lock")
        || text.contains("temporarily unavailable")
        || text.contains("would block")
}

/// The store's exclusive lock: OS advisory locks (flock, through std's
/// `File::try_lock`) held on open descriptors for as long as the store (or
/// a view of it) lives, released by the OS when the process ends however it
/// ends. The lock is on the store directory itself, which cannot be deleted
/// and recreated under a running store the way a lock file can (a second
/// process would lock the new file's inode); `LOCK` is locked too, for
/// processes of versions that only lock that file.
pub(crate) struct StoreLock {
    _dir: std::fs::File,
    /// `LOCK` (none for a read-only open, which creates nothing).
    _file: Option<std::fs::File>,
}

/// Takes the store's exclusive lock, so a second open (from this process or
/// another) is refused with [`StoreError::Locked`] before it reads anything,
/// instead of taking the live index for a damaged one.
fn lock_store(dir: &Path, wait: Duration) -> Result<StoreLock, StoreError> {
    let dir_file = std::fs::File::open(dir).map_err(io(format!("opening {}", dir.display())))?;
    try_lock(&dir_file, dir, dir, wait)?;
    let path = dir.join("LOCK");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(format!("opening {}", path.display())))?;
    try_lock(&file, &path, dir, wait)?;
    Ok(StoreLock { _dir: dir_file, _file: Some(file) })
}

/// Takes a shared lock on the store directory for a read-only open: other
/// read-only opens may share it, a writer's exclusive lock refuses it (and
/// it refuses a writer). Nothing is created.
fn lock_store_shared(dir: &Path, wait: Duration) -> Result<StoreLock, StoreError> {
    let dir_file = std::fs::File::open(dir).map_err(io(format!("opening {}", dir.display())))?;
    let deadline = std::time::Instant::now() + wait;
    loop {
        match dir_file.try_lock_shared() {
            Ok(()) => return Ok(StoreLock { _dir: dir_file, _file: None }),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Locked { path: dir.to_path_buf() });
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(io(format!("locking {}", dir.display()))(e));
            }
        }
    }
}

/// Locks `file` or says the store is locked. A holder that is about to let go
/// is waited out briefly (at most 0.2 s): a process that another thread of
/// this program is spawning holds a copy of the descriptor between fork and
/// exec.
fn try_lock(file: &std::fs::File, path: &Path, store: &Path, wait: Duration) -> Result<(), StoreError> {
    let deadline = std::time::Instant::now() + wait;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Locked { path: store.to_path_buf() });
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(io(format!("locking {}", path.display()))(e));
            }
        }
    }
}

fn dir_size(p: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(p) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// What a transaction is checked against besides the store's contents.
#[derive(Clone, Copy)]
struct Rules {
    /// The clock's time: recorded-at when none is given.
    now: Timestamp,
    /// How far ahead of `now` a given recorded-at may be.
    future_tolerance: std::time::Duration,
    /// The most events one transaction may hold.
    max_events: usize,
    /// Whether an assert may create an undeclared predicate.
    create_predicates: bool,
}

/// Validates and resolves one transaction into its encoded body and receipt.
fn prepare(
    cw: &mut ChunkWriter<'_, Guarded>,
    t: &Transaction,
    txno: u64,
    prev: &Hash,
    last: Timestamp,
    rules: &Rules,
) -> Result<(Vec<u8>, Receipt), StoreError> {
    let Rules { now, future_tolerance, max_events, create_predicates } = *rules;
    if let Some(given) = t.expect_tx
        && given != txno
    {
        return Err(StoreError::TxOutOfOrder { expected: txno, given });
    }
    let recorded_at = match t.recorded_at {
        Some(given) if given < last => {
            return Err(StoreError::TimeGoesBackwards { tx: txno, given, previous: last });
        }
        Some(given) => {
            validate::check_recorded_at(txno, given, now, future_tolerance)?;
            given
        }
        None => now.max(last),
    };
    validate::check_size(&t.events, max_events)?;
    if !create_predicates {
        validate::check_predicates_declared(cw, &t.events)?;
    }
    let (events, claim_ids) = validate::apply_tx(cw, &t.events)?;
    let body = TxBody { recorded_at, author: t.author.clone(), message: t.message.clone(), events };
    let bytes = codec::encode(&body).map_err(StoreError::InvalidInput)?;
    let hash = frame::record_hash(txno, prev, &bytes);
    if let Some(given) = &t.expect_hash
        && Hash::from_hex(given) != Some(hash)
    {
        return Err(StoreError::HashMismatch { tx: txno, given: given.clone(), computed: hash });
    }
    let meta = TxMeta {
        tx: txno,
        recorded_at,
        author: body.author.clone(),
        message: body.message.clone(),
        hash,
        events: body.events.len() as u32,
    };
    cw.commit(&meta)?;
    Ok((bytes, Receipt { tx: txno, hash, recorded_at, claim_ids }))
}

/// What bringing the index up to the log found and did.
struct Recovered {
    live: LiveIndex,
    rebuilt: Option<String>,
    replayed: u64,
    last_recorded: Timestamp,
}

/// Opens the live index and replays the log's new transactions into it. Any
/// trouble with the index (an open or read error, a panic inside sled, a
/// mismatch with the log, a dirty mark left by a write that was never
/// flushed clean) discards it for a fresh one built from the log; only the
/// log's own errors and errors of the environment (out of space, no
/// permission) reach the caller, and those leave the index as it was.
fn recover_index(dir: &Path, log: &Log, settings: &Settings) -> Result<Recovered, StoreError> {
    let name = match index_dir::current(dir) {
        index_dir::Pointer::Named(name) => name,
        index_dir::Pointer::Damaged(why) => return rebuild_on_open(dir, log, why, settings),
    };
    index_dir::remove_others(dir, Some(&name));
    let path = dir.join(&name);
    let why = match index_dir::dirty(dir) {
        Some(marked) if marked == name => Some(
            "the index was not flushed cleanly after its last write (the process stopped, or a write or \
             flush failed)"
                .to_string(),
        ),
        // A mark left for an index a rebuild has since replaced.
        Some(_) => {
            index_dir::mark_clean(dir);
            None
        }
        None => None,
    };
    let why = match why {
        Some(why) => why,
        None => {
            let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                catch_up(&path, log, dir, settings)
            }));
            match attempt {
                Ok(Ok(Ok((backend, replayed, last_recorded)))) => {
                    let live = LiveIndex { backend, dir: path };
                    return Ok(Recovered { live, rebuilt: None, replayed, last_recorded });
                }
                Ok(Ok(Err(why))) => why,
                Ok(Err(fatal)) => return Err(fatal),
                Err(panic) => {
                    let text = crate::index::backend::panic_text(&panic);
                    // sled panics on some I/O errors: a full disk is still
                    // the environment's fault, not the index's.
                    if let Some(e) = environment_in(&text) {
                        return Err(StoreError::Index(IndexError::Io(e)));
                    }
                    format!("the index panicked ({text})")
                }
            }
        }
    };
    // Discarded before the new one is built, so a repair needs no more disk
    // than the index itself. A crash from here on leaves the pointer naming a
    // missing directory: the next open replays the log into a new one there.
    let _ = std::fs::remove_dir_all(&path);
    rebuild_on_open(dir, log, why, settings)
}

/// The environment error a panic message names, if any.
fn environment_in(text: &str) -> Option<std::io::Error> {
    let lower = text.to_lowercase();
    let kind = if lower.contains("no space left") || lower.contains("os error 28") {
        std::io::ErrorKind::StorageFull
    } else if lower.contains("permission denied") || lower.contains("os error 13") {
        std::io::ErrorKind::PermissionDenied
    } else if lower.contains("read-only file system") || lower.contains("os error 30") {
        std::io::ErrorKind::ReadOnlyFilesystem
    } else {
        return None;
    };
    Some(std::io::Error::new(kind, format!("while opening the index: {text}")))
}

/// An environment error (out of space, no permission) is the caller's to
/// see: the index is not damaged and must not be discarded for it.
fn environment(e: &StoreError) -> bool {
    matches!(e, StoreError::Log(_)) || matches!(e, StoreError::Index(ie) if ie.is_environment())
}

/// The index at `path` brought up to the log, with the transactions
/// replayed and the last recorded-at time; `Ok(Err(why))` when it must be
/// rebuilt; `Err` for the log's own errors and the environment's.
type CaughtUp = (Arc<Guarded>, u64, Timestamp);
fn catch_up(
    path: &Path,
    log: &Log,
    store: &Path,
    settings: &Settings,
) -> Result<Result<CaughtUp, String>, StoreError> {
    let index = match open_index(path, settings) {
        Ok(ix) => Arc::new(ix),
        // The store lock is held, so whoever holds sled's lock is a holder
        // of this store that the store lock does not see (a view in this
        // process not yet let go, or a process of a version without it):
        // contention, never damage, so the index is not rebuilt away.
        Err(e) if is_lock_error(&e) => {
            return Err(StoreError::Locked { path: path.parent().unwrap_or(path).to_path_buf() });
        }
        Err(e) if e.is_environment() => return Err(e.into()),
        Err(e) => return Ok(Err(format!("the index could not be opened ({e})"))),
    };
    let damaged = |e: StoreError| {
        if environment(&e) { Err(e) } else { Ok(Err(format!("the index could not be read ({e})"))) }
    };
    let start = match index_staleness(&*index, log) {
        Ok(None) => match read_meta(&*index, meta::APPLIED) {
            Ok(applied) => applied + 1,
            Err(e) => return damaged(e.into()),
        },
        Ok(Some(why)) => return Ok(Err(why)),
        Err(e) => return damaged(e),
    };
    let mut replayed = 0;
    if start <= log.head() {
        // Replaying writes to the index: dirty until flushed clean.
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        index_dir::mark_dirty(store, name)?;
        let replay_result = replay(&*index, log, start, &mut replayed).and_then(|()| Ok(index.flush()?));
        if let Err(e) = replay_result {
            return if environment(&e) { Err(e) } else { Ok(Err(format!("replay failed ({e})"))) };
        }
        index_dir::mark_clean(store);
    }
    match last_recorded_at(&*index, log.head()) {
        Ok(t) => Ok(Ok((index, replayed, t))),
        Err(e) => damaged(e),
    }
}

/// Builds a fresh index during open, reporting why.
fn rebuild_on_open(dir: &Path, log: &Log, why: String, settings: &Settings) -> Result<Recovered, StoreError> {
    let (live, replayed) = build_fresh(dir, log, settings)?;
    index_dir::mark_clean(dir);
    index_dir::remove_others(dir, live.dir.file_name().and_then(|n| n.to_str()));
    let last_recorded = last_recorded_at(&*live.backend, log.head())?;
    Ok(Recovered { live, rebuilt: Some(why), replayed, last_recorded })
}

/// The index of a read-only store: the whole log replayed into a temporary
/// in-memory index (its directory is empty: it has none of its own).
fn build_in_memory(log: &Log, settings: &Settings) -> Result<Recovered, StoreError> {
    let backend = Arc::new(wrap(SledBackend::temporary()?, settings));
    let mut replayed = 0;
    replay(&*backend, log, 1, &mut replayed)?;
    let last_recorded = last_recorded_at(&*backend, log.head())?;
    let live = LiveIndex { backend, dir: PathBuf::new() };
    Ok(Recovered { live, rebuilt: None, replayed, last_recorded })
}

/// Replays the whole log into a new index directory, flushes it (behind
/// the deadline) and makes it the live one.
fn build_fresh(dir: &Path, log: &Log, settings: &Settings) -> Result<(LiveIndex, u64), StoreError> {
    let name = index_dir::fresh_name(dir);
    let path = dir.join(&name);
    let backend = Arc::new(wrap(SledBackend::open_with_cache(&path, settings.cache_bytes)?, settings));
    let mut replayed = 0;
    let built = replay(&*backend, log, 1, &mut replayed).and_then(|()| Ok(backend.flush()?));
    if let Err(e) = built.and_then(|()| index_dir::switch(dir, &name)) {
        if backend.damage().is_none() {
            backend.mark_damaged("the rebuild did not finish");
        }
        drop(backend);
        // Unless the switch got as far as the rename: then the pointer names
        // the new index, which is complete, and the next open catches it up.
        if !matches!(index_dir::current(dir), index_dir::Pointer::Named(n) if n == name) {
            let _ = std::fs::remove_dir_all(&path);
        }
        return Err(e);
    }
    Ok((LiveIndex { backend, dir: path }, replayed))
}

/// Why the index cannot simply be replayed forward, if it cannot.
fn index_staleness<B: IndexBackend>(index: &B, log: &Log) -> Result<Option<String>, StoreError> {
    let format = read_meta(index, meta::FORMAT)?;
    let applied = read_meta(index, meta::APPLIED)?;
    if format != 0 && format != crate::index::FORMAT_VERSION {
        return Ok(Some(format!("index format {format} is not {}", crate::index::FORMAT_VERSION)));
    }
    if format == 0 && applied == 0 {
        return Ok(None);
    }
    if applied > log.head() {
        return Ok(Some(format!("the index is at tx {applied}, ahead of the log's tx {}", log.head())));
    }
    if applied > 0 {
        let view = crate::index::Snapshot::new(index, applied);
        let indexed = view.tx_meta(applied)?.map(|m| m.hash);
        if indexed != log.hash_of(applied) {
            return Ok(Some(format!("the index's tx {applied} does not match the log")));
        }
    }
    Ok(None)
}

/// Replays log records from `from` into the index, in batches of about
/// [`CHUNK_EVENTS`] events: a transaction larger than that is written in
/// pieces, so no logged record needs one batch of its own size. (A piece
/// of a transaction on disk without the rest is never trusted: replay runs
/// under the index's dirty mark, or into a directory not yet live.)
pub(crate) fn replay<B: IndexBackend>(
    index: &B,
    log: &Log,
    from: u64,
    replayed: &mut u64,
) -> Result<(), StoreError> {
    let mut replayer = Replayer::new(index);
    log.for_each_from(from, |rec: TxRecord| replayer.push(&rec))?;
    *replayed += replayer.replayed;
    replayer.finish()
}

/// Applies logged transactions to an index in batches of about
/// [`CHUNK_EVENTS`] events, a large transaction in pieces, so replay runs in
/// bounded memory whatever a record holds.
pub(crate) struct Replayer<'i, B: IndexBackend> {
    index: &'i B,
    cw: Option<ChunkWriter<'i, B>>,
    in_chunk: usize,
    /// Transactions applied so far.
    pub replayed: u64,
}

impl<'i, B: IndexBackend> Replayer<'i, B> {
    pub(crate) fn new(index: &'i B) -> Replayer<'i, B> {
        Replayer { index, cw: None, in_chunk: 0, replayed: 0 }
    }

    /// Applies the next transaction (transactions come in tx order).
    pub(crate) fn push(&mut self, rec: &TxRecord) -> Result<(), StoreError> {
        let index = self.index;
        let chunk = match self.cw.as_mut() {
            Some(c) => c,
            None => self.cw.insert(ChunkWriter::new(index)?),
        };
        chunk.begin(rec.tx);
        for e in &rec.body.events {
            chunk.apply(e)?;
            self.in_chunk += 1;
            if self.in_chunk >= CHUNK_EVENTS {
                index.apply(chunk.spill()?)?;
                self.in_chunk = 0;
            }
        }
        chunk.commit(&TxMeta {
            tx: rec.tx,
            recorded_at: rec.body.recorded_at,
            author: rec.body.author.clone(),
            message: rec.body.message.clone(),
            hash: rec.hash,
            events: rec.body.events.len() as u32,
        })?;
        self.in_chunk += 1;
        self.replayed += 1;
        if self.in_chunk >= CHUNK_EVENTS {
            if let Some(full) = self.cw.take() {
                index.apply(full.into_writes())?;
            }
            self.in_chunk = 0;
        }
        Ok(())
    }

    /// Writes what is left.
    pub(crate) fn finish(self) -> Result<(), StoreError> {
        if let Some(rest) = self.cw.filter(|c| !c.is_empty()) {
            self.index.apply(rest.into_writes())?;
        }
        Ok(())
    }
}

fn last_recorded_at<B: IndexBackend>(index: &B, head: u64) -> Result<Timestamp, StoreError> {
    let view = crate::index::Snapshot::new(index, head);
    Ok(view.tx_meta(head)?.map_or(Timestamp(i64::MIN), |m| m.recorded_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_about_a_full_disk_or_permissions_is_the_environment_not_damage() {
        for text in ["No space left on device (os error 28)", "Permission denied (os error 13)"] {
            let e = IndexError::Io(environment_in(text).expect(text));
            assert!(e.is_environment(), "{text}");
        }
        assert!(environment_in("Read corrupted data at file offset 4096").is_none());
        assert!(IndexError::Io(environment_in("os error 28").unwrap()).is_out_of_space());
    }
}
