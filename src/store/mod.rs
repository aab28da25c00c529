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

pub use index_dir::live_index_dir;
pub(crate) use read::IndexView;
pub use read::{ClaimQuery, HistoryEntry, ReadView, Stats};
pub use transaction::Transaction;
pub use validate::ValidationError;
pub use verify::VerifyReport;

use crate::codec;
use crate::index::{ChunkWriter, IndexBackend, IndexError, SledBackend, TxMeta, meta, read_meta};
use crate::log::{FsLogDir, Log, LogDir, LogError, OpenReport as LogOpenReport, RepairReport, frame};
use crate::model::{Hash, Receipt, Timestamp, TxBody, TxRecord};

/// Errors of the store layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The transaction broke a rule; nothing was written.
    #[error("{0}")]
    Invalid(#[from] ValidationError),
    #[error("{0}")]
    InvalidInput(String),
    #[error("expected tx {expected}, but the transaction says tx {given}")]
    TxOutOfOrder { expected: u64, given: u64 },
    #[error("tx {tx}: the given hash {given} differs from the computed hash {computed}")]
    HashMismatch { tx: u64, given: String, computed: Hash },
    #[error("tx {tx}: recorded_at {given} is before the previous transaction's {previous}")]
    TimeGoesBackwards { tx: u64, given: Timestamp, previous: Timestamp },
    #[error(transparent)]
    Log(#[from] LogError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error("{doing}: {source}")]
    Io { doing: String, source: std::io::Error },
    #[error("a previous write failed; close and reopen the store before writing again")]
    Poisoned,
    /// [`Store::open`] found no store at `path` (nothing was created there);
    /// [`Store::create`] makes one.
    #[error("no store at {}", path.display())]
    NotFound { path: PathBuf },
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

/// The most transactions and events folded into one index batch.
const CHUNK_TXS: usize = 256;
const CHUNK_EVENTS: usize = 20_000;

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
    poisoned: AtomicBool,
    open_report: OpenReport,
    /// `Options::create_predicates`.
    create_predicates: bool,
    /// Declared last so it outlives the index it guards.
    lease: Arc<DirLease>,
}

/// The store directory's exclusive lock (one open store per directory, in
/// this or any process). Shared with every view, so a view that outlives its
/// `Store` still keeps a second open from taking its index for a damaged one
/// and removing it; a temporary store's directory goes with the last holder.
pub(crate) struct DirLease {
    _lock: std::fs::File,
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
}

/// The index in use and its directory.
#[derive(Clone)]
struct LiveIndex {
    backend: Arc<SledBackend>,
    dir: PathBuf,
}

/// An index a rebuild replaced.
struct Retired {
    backend: Weak<SledBackend>,
    dir: PathBuf,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.sweep_retired();
    }
}

impl Inner {
    fn live(&self) -> LiveIndex {
        self.live.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Removes the directories of retired indexes nobody reads any more
    /// (best effort: a later open removes what is left).
    fn sweep_retired(&self) {
        let mut retired = self.retired.lock().unwrap_or_else(PoisonError::into_inner);
        retired.retain(|r| {
            if r.backend.strong_count() > 0 {
                return true;
            }
            let _ = std::fs::remove_dir_all(&r.dir);
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

    /// Whether `path` holds a store (its log directory exists).
    pub fn exists(path: impl AsRef<Path>) -> bool {
        path.as_ref().join("log").is_dir()
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
        let _lock = lock_store(dir)?;
        let logdir = FsLogDir::open(&dir.join("log")).map_err(io("opening the log directory"))?;
        let (_, report) = Log::repair(Box::new(logdir))?;
        if report.cut_at_tx.is_some() {
            index_dir::remove_all(dir)?;
        }
        Ok(report)
    }

    fn open_dir(dir: &Path, temporary: bool, options: Options) -> Result<Store, StoreError> {
        if !options.create && options.log_dir.is_none() && !Store::exists(dir) {
            return Err(StoreError::NotFound { path: dir.to_path_buf() });
        }
        std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
        let lock = lock_store(dir)?;
        let logdir: Box<dyn LogDir> = match options.log_dir {
            Some(d) => d,
            None => Box::new(FsLogDir::open(&dir.join("log")).map_err(io("opening the log directory"))?),
        };
        let (mut log, log_report) = Log::open(logdir)?;
        if let Some(bytes) = options.segment_bytes {
            log.set_segment_limit(bytes);
        }
        let clock = options.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let recovered = recover_index(dir, &log)?;
        let writer = Writer { log, last_recorded: recovered.last_recorded, clock };
        let head = writer.log.head();
        let open_report =
            OpenReport { log: log_report, rebuilt: recovered.rebuilt, replayed: recovered.replayed };
        let inner = Inner {
            dir: dir.to_path_buf(),
            writer: Mutex::new(writer),
            live: RwLock::new(recovered.live),
            retired: Mutex::new(Vec::new()),
            head: AtomicU64::new(head),
            poisoned: AtomicBool::new(false),
            open_report,
            create_predicates: options.create_predicates,
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
            match prepare(&mut cw, t, txno, &prev, last, w.clock.now(), self.inner.create_predicates) {
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

    /// Logs (one fsync) then indexes a prepared chunk.
    fn write_chunk(
        &self,
        w: &mut Writer,
        index: &SledBackend,
        bodies: &[Vec<u8>],
        cw: ChunkWriter<'_, SledBackend>,
    ) -> Result<(), StoreError> {
        let poison = |e: StoreError| {
            self.inner.poisoned.store(true, AtomicOrdering::Release);
            e
        };
        w.log.append(bodies).map_err(|e| poison(e.into()))?;
        index.apply(cw.into_writes()).map_err(|e| poison(e.into()))?;
        self.inner.head.store(w.log.head(), AtomicOrdering::Release);
        Ok(())
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

    /// Every committed transaction from `from` on, in order, read from the log.
    pub fn for_each_tx(
        &self,
        from: u64,
        f: impl FnMut(TxRecord) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let w = self.inner.writer.lock().map_err(|_| StoreError::Poisoned)?;
        w.log.for_each_from(from, f)
    }

    /// Rebuilds every index from the log into a fresh directory and switches
    /// to it; the old index is never read (it may be what is damaged).
    /// Readers that started before keep the old index until they finish;
    /// readers that start after see the new one, at the same head.
    pub fn rebuild_indexes(&self) -> Result<u64, StoreError> {
        let w = self.writer()?;
        let (fresh, replayed) = build_fresh(&self.inner.dir, &w.log)?;
        let old = {
            let mut live = self.inner.live.write().unwrap_or_else(PoisonError::into_inner);
            std::mem::replace(&mut *live, fresh)
        };
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

    /// Checks every record's checksum and the hash chain, and that the indexes
    /// equal a fresh rebuild from the log.
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        let w = self.writer()?;
        verify::verify(&w.log, &self.inner.live().backend)
    }

    /// Bytes on disk: log and indexes.
    pub fn size_on_disk(&self) -> u64 {
        dir_size(&self.inner.dir)
    }

    /// Forces buffered index state to disk (not needed for durability).
    pub fn flush_indexes(&self) -> Result<(), StoreError> {
        Ok(self.inner.live().backend.flush()?)
    }
}

/// Opens sled, waiting briefly while a just-dropped instance of this same
/// store still holds sled's file lock (its background flusher lets go a
/// moment after the drop): that is not damage and must not cost a rebuild.
fn open_index(dir: &Path) -> Result<SledBackend, crate::index::IndexError> {
    retry_while_busy(|| SledBackend::open(dir), is_lock_error)
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
    text.contains("lock") || text.contains("temporarily unavailable") || text.contains("would block")
}

/// Takes the store's exclusive lock, so a second open (from this process or
/// another) is refused instead of taking the live index for a damaged one.
fn lock_store(dir: &Path) -> Result<std::fs::File, StoreError> {
    let path = dir.join("LOCK");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(format!("opening {}", path.display())))?;
    let locked = retry_while_busy(|| file.try_lock(), |e| matches!(e, std::fs::TryLockError::WouldBlock));
    match locked {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::InvalidInput(format!(
            "the store {} is already open (in this or another process); close it first",
            dir.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(io(format!("locking {}", path.display()))(e)),
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

/// Validates and resolves one transaction into its encoded body and receipt.
fn prepare(
    cw: &mut ChunkWriter<'_, SledBackend>,
    t: &Transaction,
    txno: u64,
    prev: &Hash,
    last: Timestamp,
    now: Timestamp,
    create_predicates: bool,
) -> Result<(Vec<u8>, Receipt), StoreError> {
    if let Some(given) = t.expect_tx
        && given != txno
    {
        return Err(StoreError::TxOutOfOrder { expected: txno, given });
    }
    let recorded_at = match t.recorded_at {
        Some(given) if given < last => {
            return Err(StoreError::TimeGoesBackwards { tx: txno, given, previous: last });
        }
        Some(given) => given,
        None => now.max(last),
    };
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
/// mismatch with the log) discards it for a fresh one built from the log;
/// only the log's own errors reach the caller.
fn recover_index(dir: &Path, log: &Log) -> Result<Recovered, StoreError> {
    let name = match index_dir::current(dir) {
        index_dir::Pointer::Named(name) => name,
        index_dir::Pointer::Damaged(why) => return rebuild_on_open(dir, log, why),
    };
    index_dir::remove_others(dir, Some(&name));
    let path = dir.join(&name);
    let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| catch_up(&path, log)));
    let why = match attempt {
        Ok(Ok(Ok((backend, replayed, last_recorded)))) => {
            let live = LiveIndex { backend: Arc::new(backend), dir: path };
            return Ok(Recovered { live, rebuilt: None, replayed, last_recorded });
        }
        Ok(Ok(Err(why))) => why,
        Ok(Err(fatal)) => return Err(fatal),
        Err(panic) => format!("the index panicked ({})", crate::index::backend::panic_text(&panic)),
    };
    // Discarded before the new one is built, so a repair needs no more disk
    // than the index itself. A crash from here on leaves the pointer naming a
    // missing directory: the next open replays the log into a new one there.
    let _ = std::fs::remove_dir_all(&path);
    rebuild_on_open(dir, log, why)
}

/// The index at `path` brought up to the log, with the transactions
/// replayed and the last recorded-at time; `Ok(Err(why))` when it must be
/// rebuilt; `Err` for the log's own errors.
type CaughtUp = (SledBackend, u64, Timestamp);
fn catch_up(path: &Path, log: &Log) -> Result<Result<CaughtUp, String>, StoreError> {
    let index = match open_index(path) {
        Ok(ix) => ix,
        Err(e) => return Ok(Err(format!("the index could not be opened ({e})"))),
    };
    let damaged = |e: StoreError| match e {
        StoreError::Log(_) => Err(e),
        other => Ok(Err(format!("the index could not be read ({other})"))),
    };
    let start = match index_staleness(&index, log) {
        Ok(None) => match read_meta(&index, meta::APPLIED) {
            Ok(applied) => applied + 1,
            Err(e) => return damaged(e.into()),
        },
        Ok(Some(why)) => return Ok(Err(why)),
        Err(e) => return damaged(e),
    };
    let mut replayed = 0;
    if let Err(e) = replay(&index, log, start, &mut replayed) {
        return match e {
            StoreError::Log(_) => Err(e),
            other => Ok(Err(format!("replay failed ({other})"))),
        };
    }
    match last_recorded_at(&index, log.head()) {
        Ok(t) => Ok(Ok((index, replayed, t))),
        Err(e) => damaged(e),
    }
}

/// Builds a fresh index during open, reporting why.
fn rebuild_on_open(dir: &Path, log: &Log, why: String) -> Result<Recovered, StoreError> {
    let (live, replayed) = build_fresh(dir, log)?;
    index_dir::remove_others(dir, live.dir.file_name().and_then(|n| n.to_str()));
    let last_recorded = last_recorded_at(&live.backend, log.head())?;
    Ok(Recovered { live, rebuilt: Some(why), replayed, last_recorded })
}

/// Replays the whole log into a new index directory, flushes it and makes
/// it the live one.
fn build_fresh(dir: &Path, log: &Log) -> Result<(LiveIndex, u64), StoreError> {
    let name = index_dir::fresh_name(dir);
    let path = dir.join(&name);
    let backend = SledBackend::open(&path)?;
    let mut replayed = 0;
    let built = replay(&backend, log, 1, &mut replayed).and_then(|()| Ok(backend.flush()?));
    if let Err(e) = built.and_then(|()| index_dir::switch(dir, &name)) {
        drop(backend);
        // Unless the switch got as far as the rename: then the pointer names
        // the new index, which is complete, and the next open catches it up.
        if !matches!(index_dir::current(dir), index_dir::Pointer::Named(n) if n == name) {
            let _ = std::fs::remove_dir_all(&path);
        }
        return Err(e);
    }
    Ok((LiveIndex { backend: Arc::new(backend), dir: path }, replayed))
}

/// Why the index cannot simply be replayed forward, if it cannot.
fn index_staleness(index: &SledBackend, log: &Log) -> Result<Option<String>, StoreError> {
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

/// Replays log records from `from` into the index, in chunks.
pub(crate) fn replay(
    index: &SledBackend,
    log: &Log,
    from: u64,
    replayed: &mut u64,
) -> Result<(), StoreError> {
    let mut cw = Some(ChunkWriter::new(index)?);
    let mut in_chunk = 0usize;
    log.for_each_from(from, |rec: TxRecord| -> Result<(), StoreError> {
        let chunk = match cw.as_mut() {
            Some(c) => c,
            None => cw.insert(ChunkWriter::new(index)?),
        };
        chunk.begin(rec.tx);
        for e in &rec.body.events {
            chunk.apply(e)?;
        }
        chunk.commit(&TxMeta {
            tx: rec.tx,
            recorded_at: rec.body.recorded_at,
            author: rec.body.author.clone(),
            message: rec.body.message.clone(),
            hash: rec.hash,
            events: rec.body.events.len() as u32,
        })?;
        in_chunk += rec.body.events.len().max(1);
        *replayed += 1;
        if in_chunk >= CHUNK_EVENTS {
            if let Some(full) = cw.take() {
                index.apply(full.into_writes())?;
            }
            in_chunk = 0;
        }
        Ok(())
    })?;
    if let Some(rest) = cw.filter(|c| !c.is_empty()) {
        index.apply(rest.into_writes())?;
    }
    Ok(())
}

fn last_recorded_at(index: &SledBackend, head: u64) -> Result<Timestamp, StoreError> {
    let view = crate::index::Snapshot::new(index, head);
    Ok(view.tx_meta(head)?.map_or(Timestamp(i64::MIN), |m| m.recorded_at))
}
