//! The transaction log: the store's source of truth, in append-only segment
//! files that claimgraph owns (`log/seg-<first tx>.log`).
//!
//! Owns framing ([`frame`]), file access ([`fs`]), the hash chain, the
//! acknowledged head ([`head`]), fsync before acknowledgement, and recovery:
//! on open every record is checked in order; a torn *last write* (cut short,
//! or missing whole sectors when the power went before its fsync; never
//! acknowledged, so after the head file's tx) is cut off and reported, while
//! any other damage, and a log that ends before its acknowledged head, is
//! corruption and refuses to open (see [`Log::repair`]).
//! A failed append is taken back (truncated) before the log refuses further
//! writes, so a reopen never finds records whose durability is unknown.

pub mod checkpoint;
pub mod frame;
pub mod fs;
pub mod head;

use std::io;

use crate::codec;
use crate::model::{Hash, TxBody, TxRecord};
pub use checkpoint::Checkpoint;
pub use fs::{FsLogDir, HEAD_FILE, LogDir};
pub use head::Head;

/// Errors of the log layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    #[error("log I/O error while {doing}: {source}")]
    Io { doing: String, source: io::Error },
    #[error(
        "the log is damaged at tx {tx} ({segment}, byte {offset}): {why}. `claimgraph repair` cuts \
         the log there (dropping tx {tx} and everything after it)"
    )]
    Corrupt { tx: u64, segment: String, offset: u64, why: String },
    /// The log ends before the acknowledged head: acknowledged transactions
    /// are gone (a segment deleted, emptied or cut short at a record boundary).
    #[error(
        "the log ends at tx {end} but tx {acknowledged} was acknowledged ({HEAD_FILE}): {} missing. \
         Restore the log from a copy; `claimgraph repair` accepts the loss and opens at tx {end}",
        missing_txs(*end, *acknowledged)
    )]
    Missing { end: u64, acknowledged: u64 },
    /// The log holds the acknowledged tx, with another hash: it was rewritten.
    #[error(
        "tx {tx} was acknowledged with hash {acknowledged} ({HEAD_FILE}) but the log's tx {tx} has \
         hash {found}: the log was rewritten after it was acknowledged. Restore it from a copy; \
         `claimgraph repair` accepts the log as it is"
    )]
    HeadMismatch { tx: u64, acknowledged: Hash, found: Hash },
    /// The log no longer reaches a checkpoint's tx.
    #[error(
        "the log ends at tx {end}, before the checkpoint's tx {tx}: it was cut after the checkpoint was taken"
    )]
    CheckpointMissing { tx: u64, end: u64 },
    /// The log's tx has another hash than the checkpoint says.
    #[error(
        "tx {tx} has hash {found} but the checkpoint says {expected}: the log up to tx {tx} was \
         changed after the checkpoint was taken"
    )]
    CheckpointMismatch { tx: u64, expected: Hash, found: Hash },
    /// Neither slot of the head file is valid.
    #[error(
        "the log's head file {HEAD_FILE} is damaged, so the log's end cannot be checked; \
         `claimgraph repair` rewrites it from the log"
    )]
    HeadDamaged,
    #[error("an earlier write to the log failed; close and reopen the store before writing again")]
    Poisoned,
    #[error("transaction body of {len} bytes exceeds the {max}-byte record limit")]
    TooLarge { len: usize, max: usize },
}

/// `txs A–B are` / `tx A is`.
fn missing_txs(end: u64, acknowledged: u64) -> String {
    if acknowledged == end + 1 {
        format!("tx {acknowledged} is")
    } else {
        format!("txs {}\u{2013}{acknowledged} are", end + 1)
    }
}

fn io_err(doing: impl Into<String>) -> impl FnOnce(io::Error) -> LogError {
    let doing = doing.into();
    move |source| LogError::Io { doing, source }
}

/// What opening the log found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// Bytes of a torn last record that were cut off (0 when the tail was clean).
    pub dropped_bytes: u64,
    /// Why the tail was cut, when it was.
    pub dropped_why: Option<String>,
}

/// What `repair` removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepairReport {
    /// The first tx dropped, if the log was damaged.
    pub cut_at_tx: Option<u64>,
    pub dropped_bytes: u64,
    /// Valid records that stood after the damage and were dropped with it.
    pub dropped_valid_records: u64,
    /// Why the log was cut where it was.
    pub cut_why: Option<String>,
    /// The last tx after the repair.
    pub head: u64,
    /// The acknowledged head the head file held before the repair (`None`:
    /// no head file, or a damaged one).
    pub acknowledged: Option<u64>,
    /// What else the repair found and accepted, one sentence each (lost
    /// acknowledged transactions, a rewritten log, a damaged head file).
    pub notes: Vec<String>,
}

impl RepairReport {
    /// Whether the repair changed the log or its head.
    pub fn changed(&self) -> bool {
        self.cut_at_tx.is_some() || !self.notes.is_empty()
    }

    /// Acknowledged transactions the log no longer holds, as `(first, last)`.
    pub fn lost_acknowledged(&self) -> Option<(u64, u64)> {
        self.acknowledged.filter(|&a| a > self.head).map(|a| (self.head + 1, a))
    }
}

#[derive(Debug, Clone)]
struct Segment {
    name: String,
    first_tx: u64,
    len: u64,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    segment: usize,
    offset: u64,
    len: u32,
}

/// The default size at which a new segment is started.
pub const SEGMENT_BYTES: u64 = 64 << 20;

/// The most records written (and fsynced) as one write: a record's position
/// in its write is a `u16` (see [`frame`]). Larger appends take several.
pub const MAX_RECORDS_PER_WRITE: usize = u16::MAX as usize + 1;

/// An open log. One writer: the owner serialises appends.
pub struct Log {
    dir: Box<dyn LogDir>,
    segments: Vec<Segment>,
    entries: Vec<Entry>,
    hashes: Vec<Hash>,
    poisoned: bool,
    segment_limit: u64,
    /// The head file's slot that holds the newest head; the next update
    /// writes the other one.
    head_slot: usize,
}

/// Where an append started, to take it back.
#[derive(Clone, Copy)]
struct Mark {
    segments: usize,
    last_len: u64,
    entries: usize,
}

fn segment_name(first_tx: u64) -> String {
    format!("seg-{first_tx:016}.log")
}

fn parse_segment_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("seg-")?.strip_suffix(".log")?;
    (digits.len() == 16).then(|| digits.parse().ok()).flatten()
}

/// Where a scan stopped.
enum ScanEnd {
    Clean,
    /// Bad bytes at (segment, offset) with nothing valid after them.
    TornTail {
        segment: usize,
        offset: u64,
        why: String,
    },
    /// Bad bytes with valid records after them.
    Corrupt {
        segment: usize,
        offset: u64,
        tx: u64,
        why: String,
    },
}

impl Log {
    /// Opens the log in `dir`, recovering a torn tail.
    ///
    /// Only bad bytes after the acknowledged head (the head file) can be a
    /// torn write; a log that ends before that head, or is damaged within it,
    /// lost acknowledged transactions and is refused. Without a head file
    /// (a store made before it existed) the log is taken as it is and the
    /// head file written.
    pub fn open(dir: Box<dyn LogDir>) -> Result<(Log, OpenReport), LogError> {
        Log::open_mode(dir, true)
    }

    /// [`Log::open`] writing nothing (a store on read-only media): an
    /// unacknowledged torn tail is left in place and ends the log, records
    /// past the head file's tx are taken on without recording a new head,
    /// and every write is refused by the storage.
    pub fn open_read_only(dir: Box<dyn LogDir>) -> Result<(Log, OpenReport), LogError> {
        Log::open_mode(dir, false)
    }

    fn open_mode(dir: Box<dyn LogDir>, writable: bool) -> Result<(Log, OpenReport), LogError> {
        let recorded = read_head(&*dir)?.map(|r| r.ok_or(LogError::HeadDamaged)).transpose()?;
        let (mut log, end) = Log::scan(dir)?;
        let acknowledged = recorded.map_or(0, |(h, _)| h.tx);
        let report = match end {
            ScanEnd::Clean => OpenReport::default(),
            ScanEnd::TornTail { segment, offset, why } if log.head() < acknowledged => {
                let tx = log.head() + 1;
                let segment = log.segments[segment].name.clone();
                let why = format!(
                    "{why}; tx {acknowledged} was acknowledged ({HEAD_FILE}), so this is damage to \
                     synced records, not a torn write"
                );
                return Err(LogError::Corrupt { tx, segment, offset, why });
            }
            ScanEnd::TornTail { segment, offset, why } if writable => {
                let dropped_bytes = log.cut(segment, offset)?;
                OpenReport { dropped_bytes, dropped_why: Some(why) }
            }
            ScanEnd::TornTail { segment, offset, why } => {
                // Not cut (nothing may be written): the scan ended the log
                // before it, so reads never reach it.
                let seg = &log.segments[segment];
                let left = seg.len.saturating_sub(offset);
                OpenReport {
                    dropped_bytes: left,
                    dropped_why: Some(format!("{why}; left in place (read-only)")),
                }
            }
            ScanEnd::Corrupt { segment, offset, tx, why } => {
                let segment = log.segments[segment].name.clone();
                return Err(LogError::Corrupt { tx, segment, offset, why });
            }
        };
        if let Some((head, slot)) = recorded {
            log.head_slot = slot;
            log.check_head(head)?;
        }
        if recorded.is_none_or(|(h, _)| h.tx != log.head()) {
            // Records nobody acknowledged are taken on only if they decode: a
            // checksummed record that is not a transaction (written by other
            // software, or by hand) must not become part of the log's end.
            log.check_bodies_from(acknowledged + 1)?;
            // A store from before the head file, or records after the head
            // that a crash kept from being acknowledged: they are durable
            // and whole, so they are the log's end from now on.
            if writable {
                log.rewrite_head()?;
            }
        }
        Ok((log, report))
    }

    /// Whether the log holds the acknowledged head `h`.
    fn check_head(&self, h: Head) -> Result<(), LogError> {
        if self.head() < h.tx {
            return Err(LogError::Missing { end: self.head(), acknowledged: h.tx });
        }
        match self.hash_of(h.tx) {
            Some(found) if h.tx > 0 && found != h.hash => {
                Err(LogError::HeadMismatch { tx: h.tx, acknowledged: h.hash, found })
            }
            _ => Ok(()),
        }
    }

    /// The log's head, to keep elsewhere and check against later.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint { tx: self.head(), hash: self.head_hash() }
    }

    /// Whether the log still holds exactly the checkpoint's tx with its hash
    /// (the hashes were recomputed from the records and their chain links
    /// checked when the log was opened).
    pub fn check_checkpoint(&self, cp: &Checkpoint) -> Result<(), LogError> {
        if cp.tx > self.head() {
            return Err(LogError::CheckpointMissing { tx: cp.tx, end: self.head() });
        }
        let found = self.hash_of(cp.tx).unwrap_or(Hash::ZERO);
        if found != cp.hash {
            return Err(LogError::CheckpointMismatch { tx: cp.tx, expected: cp.hash, found });
        }
        Ok(())
    }

    /// Replaces the head file with one naming the log's head.
    fn rewrite_head(&mut self) -> Result<(), LogError> {
        let bytes = head::encode_file(Head { tx: self.head(), hash: self.head_hash() });
        self.dir.replace_head(&bytes).map_err(io_err(format!("writing {HEAD_FILE}")))?;
        self.head_slot = 0;
        Ok(())
    }

    /// Records the log's head as acknowledged (one in-place sector write and
    /// one fdatasync), in the slot that does not hold the newest head.
    fn record_head(&mut self) -> Result<(), LogError> {
        let slot = 1 - self.head_slot;
        let bytes = head::encode_slot(Head { tx: self.head(), hash: self.head_hash() });
        self.dir
            .update_head((slot * head::SLOT_STRIDE) as u64, &bytes)
            .map_err(io_err(format!("updating {HEAD_FILE}")))?;
        self.head_slot = slot;
        Ok(())
    }

    /// Opens a damaged log by cutting it at the first bad record (a record
    /// whose checksum or chain link is wrong, or whose body cannot be
    /// decoded), dropping everything after it, and records the new end as
    /// the acknowledged head, stating any acknowledged transactions lost.
    /// Only ever run when a person asks for it.
    pub fn repair(dir: Box<dyn LogDir>) -> Result<(Log, RepairReport), LogError> {
        let recorded = read_head(&*dir)?;
        let (mut log, end) = Log::scan(dir)?;
        let mut report = RepairReport::default();
        // (segment, offset, tx, why, bytes of the bad record itself that are
        // a valid frame and so not counted among the valid records dropped)
        let mut cut = match end {
            ScanEnd::Clean => None,
            ScanEnd::TornTail { segment, offset, why } => Some((segment, offset, log.head() + 1, why, 0)),
            ScanEnd::Corrupt { segment, offset, tx, why } => Some((segment, offset, tx, why, 0)),
        };
        // A record that passed its checksum may still not decode (written by
        // other software, or made by hand): it and everything after it go.
        // The scan stopped before any other damage, so this one comes first.
        if let Some((tx, why)) = log.first_undecodable()? {
            let e = log.entries[tx as usize - 1];
            cut = Some((e.segment, e.offset, tx, why, u64::from(e.len)));
        }
        if let Some((segment, offset, tx, why, skip)) = cut {
            log.entries.truncate(tx as usize - 1);
            log.hashes.truncate(tx as usize - 1);
            report.dropped_valid_records = log.count_valid_after(segment, offset + skip)?;
            report.dropped_bytes = log.cut(segment, offset)?;
            report.cut_at_tx = Some(tx);
            report.cut_why = Some(why);
        }
        report.head = log.head();
        match recorded {
            None => {}
            Some(None) => report
                .notes
                .push(format!("the head file {HEAD_FILE} was damaged; it now records tx {}", log.head())),
            Some(Some((h, _))) => {
                report.acknowledged = Some(h.tx);
                if h.tx == log.head() + 1 {
                    report.notes.push(format!("tx {} was acknowledged and is now lost", h.tx));
                } else if h.tx > log.head() {
                    report.notes.push(format!(
                        "txs {}\u{2013}{} were acknowledged and are now lost",
                        log.head() + 1,
                        h.tx
                    ));
                } else if let Some(found) = log.hash_of(h.tx).filter(|f| h.tx > 0 && *f != h.hash) {
                    report.notes.push(format!(
                        "tx {} was acknowledged with hash {} but the log's tx {} has hash {found}: \
                         the log as it is now was accepted",
                        h.tx, h.hash, h.tx
                    ));
                }
            }
        }
        log.rewrite_head()?;
        Ok((log, report))
    }

    /// Decodes every record from `from` on; the first that does not decode
    /// is refused, saying whether records follow it.
    fn check_bodies_from(&self, from: u64) -> Result<(), LogError> {
        self.for_each_from(from, |_| Ok::<(), LogError>(())).map_err(|e| match e {
            LogError::Corrupt { tx, segment, offset, why } => {
                let after = match self.head() - tx {
                    0 => "it is the log's last record".to_string(),
                    1 => "1 record follows it".to_string(),
                    n => format!("{n} records follow it"),
                };
                LogError::Corrupt { tx, segment, offset, why: format!("{why}; {after}") }
            }
            other => other,
        })
    }

    /// The first record whose body does not decode, with why.
    fn first_undecodable(&self) -> Result<Option<(u64, String)>, LogError> {
        match self.for_each_from(1, |_| Ok::<(), LogError>(())) {
            Ok(()) => Ok(None),
            Err(LogError::Corrupt { tx, why, .. }) => Ok(Some((tx, why))),
            Err(e) => Err(e),
        }
    }

    fn scan(dir: Box<dyn LogDir>) -> Result<(Log, ScanEnd), LogError> {
        let mut names: Vec<(u64, String)> = dir
            .list()
            .map_err(io_err("listing the log directory"))?
            .into_iter()
            .filter_map(|n| parse_segment_name(&n).map(|t| (t, n)))
            .collect();
        names.sort();
        let mut log = Log {
            dir,
            segments: Vec::new(),
            entries: Vec::new(),
            hashes: Vec::new(),
            poisoned: false,
            segment_limit: SEGMENT_BYTES,
            head_slot: 0,
        };
        for (first_tx, name) in names {
            log.segments.push(Segment { name, first_tx, len: 0 });
        }
        for i in 0..log.segments.len() {
            if let Some(end) = log.scan_segment(i)? {
                return Ok((log, end));
            }
        }
        Ok((log, ScanEnd::Clean))
    }

    /// Checks one segment's records; `Some` when the scan must stop here.
    fn scan_segment(&mut self, i: usize) -> Result<Option<ScanEnd>, LogError> {
        let name = self.segments[i].name.clone();
        let bytes = self.dir.read(&name).map_err(io_err(format!("reading {name}")))?;
        self.segments[i].len = bytes.len() as u64;
        let mut pos = 0usize;
        if bytes.is_empty() && self.segments[i].first_tx != self.head() + 1 {
            let why = "an empty segment out of place".to_string();
            return Ok(Some(self.classify(i, 0, &bytes, why)?));
        }
        if self.segments[i].first_tx != self.head() + 1 {
            let why = format!("segment should start at tx {}", self.head() + 1);
            return Ok(Some(self.classify(i, 0, &bytes, why)?));
        }
        while pos < bytes.len() {
            let expected = self.head() + 1;
            let why = match frame::check(&bytes[pos..]) {
                Ok(h) if h.tx == expected && h.prev == self.head_hash() => {
                    let len = frame::HEADER_LEN + h.body_len;
                    self.entries.push(Entry { segment: i, offset: pos as u64, len: len as u32 });
                    self.hashes.push(h.hash);
                    pos += len;
                    continue;
                }
                // A whole, checksummed record in the wrong place is never the
                // result of a torn write: the bytes there are a record's.
                Ok(h) if h.tx != expected => {
                    let why = format!("found tx {} where tx {expected} belongs", h.tx);
                    return Ok(Some(self.corrupt_at(i, pos, why)));
                }
                Ok(_) => {
                    let why = "the previous-hash link does not match (the chain is broken)".to_string();
                    return Ok(Some(self.corrupt_at(i, pos, why)));
                }
                Err(fault) => fault.to_string(),
            };
            return Ok(Some(self.classify(i, pos, &bytes, why)?));
        }
        Ok(None)
    }

    fn corrupt_at(&self, segment: usize, pos: usize, why: String) -> ScanEnd {
        ScanEnd::Corrupt { segment, offset: pos as u64, tx: self.head() + 1, why }
    }

    /// Decides between a torn tail and corruption for bad bytes at (segment,
    /// pos), where tx `T = head + 1` should start.
    ///
    /// Only the last write can be torn: every earlier one was fsynced before
    /// the next began. Nothing valid after the bad bytes: a torn tail. A
    /// valid record from a later write after them (one whose write starts
    /// after `T`, or any record in a later segment, which a later write
    /// created) proves the bad bytes had been synced: corruption.
    ///
    /// Valid records of `T`'s own write after the bad bytes mean a write
    /// that reached the disk only in part, out of order, if the power went
    /// before its fsync; or damage to a synced last write. A lost part of a
    /// write is made of whole sectors that read back as zeros, which a
    /// flipped bit is not; so this is a torn tail only when such a sector
    /// lies between the bad bytes and the next valid record, and corruption
    /// otherwise (a lost write whose sectors read back as old garbage is
    /// then refused; `repair` cuts exactly that unacknowledged write).
    fn classify(&self, seg: usize, pos: usize, bytes: &[u8], why: String) -> Result<ScanEnd, LogError> {
        let damaged = self.head() + 1;
        let same_write = |h: &frame::Header| h.tx > damaged && h.tx - u64::from(h.write_pos) <= damaged;
        // From `pos` itself: at a misplaced segment start the record there
        // may be whole (a bad record at `pos` never passes the check).
        let mut next_in_write = None;
        let mut corrupt = false;
        for (at, h) in valid_records(bytes, pos) {
            if !same_write(&h) {
                corrupt = true;
                break;
            }
            next_in_write.get_or_insert((at, h));
        }
        for later in &self.segments[seg + 1..] {
            if corrupt {
                break;
            }
            let b = self.dir.read(&later.name).map_err(io_err(format!("reading {}", later.name)))?;
            corrupt = valid_records(&b, 0).next().is_some();
        }
        if let Some((next, h)) = next_in_write {
            let write_starts_here = h.tx - u64::from(h.write_pos) == damaged;
            corrupt |= !lost_sector(bytes, pos, next, write_starts_here);
        }
        let offset = pos as u64;
        Ok(if corrupt {
            let why = format!("{why}; valid records follow it, so this is not a torn write");
            ScanEnd::Corrupt { segment: seg, offset, tx: damaged, why }
        } else {
            ScanEnd::TornTail { segment: seg, offset, why }
        })
    }

    fn count_valid_after(&self, seg: usize, offset: u64) -> Result<u64, LogError> {
        let mut count = 0;
        for (i, s) in self.segments.iter().enumerate().skip(seg) {
            let b = self.dir.read(&s.name).map_err(io_err(format!("reading {}", s.name)))?;
            let from = if i == seg { offset as usize } else { 0 };
            count += valid_records(&b, from).count() as u64;
        }
        Ok(count)
    }

    /// Cuts segment `seg` at `offset` and removes every later segment; returns
    /// the bytes dropped.
    fn cut(&mut self, seg: usize, offset: u64) -> Result<u64, LogError> {
        let mut dropped = self.segments[seg].len - offset;
        let name = self.segments[seg].name.clone();
        self.dir.truncate(&name, offset).map_err(io_err(format!("truncating {name}")))?;
        self.segments[seg].len = offset;
        for later in self.segments.split_off(seg + 1) {
            // The scan stopped before later segments, so measure them here.
            let len = self.dir.read(&later.name).map_or(later.len, |b| b.len() as u64);
            dropped += len;
            self.dir.remove(&later.name).map_err(io_err(format!("removing {}", later.name)))?;
        }
        if offset == 0 && self.segments[seg].first_tx != self.head() + 1 {
            self.dir.remove(&name).map_err(io_err(format!("removing {name}")))?;
            self.segments.pop();
        }
        Ok(dropped)
    }

    /// The last committed tx (0 when empty).
    pub fn head(&self) -> u64 {
        self.entries.len() as u64
    }

    /// The hash of the last committed record ([`Hash::ZERO`] when empty).
    pub fn head_hash(&self) -> Hash {
        self.hashes.last().copied().unwrap_or(Hash::ZERO)
    }

    /// The hash of record `tx` (1-based).
    pub fn hash_of(&self, tx: u64) -> Option<Hash> {
        self.hashes.get((tx as usize).checked_sub(1)?).copied()
    }

    /// Sets the size at which a new segment starts (tests use small ones).
    pub fn set_segment_limit(&mut self, bytes: u64) {
        self.segment_limit = bytes.max(1);
    }

    /// Bytes on disk.
    pub fn size(&self) -> u64 {
        self.segments.iter().map(|s| s.len).sum()
    }

    /// The hash a body would get as the next record.
    pub fn next_hash(&self, body: &[u8]) -> Hash {
        frame::record_hash(self.head() + 1, &self.head_hash(), body)
    }

    /// Appends encoded bodies as the next records, then fsyncs once. Nothing
    /// counts as committed unless this returns `Ok`; after an error the log
    /// refuses further writes until reopened.
    pub fn append(&mut self, bodies: &[Vec<u8>]) -> Result<Vec<Hash>, LogError> {
        if self.poisoned {
            return Err(LogError::Poisoned);
        }
        if let Some(b) = bodies.iter().find(|b| b.len() > codec::MAX_DECODE_BYTES) {
            return Err(LogError::TooLarge { len: b.len(), max: codec::MAX_DECODE_BYTES });
        }
        let mark = Mark {
            segments: self.segments.len(),
            last_len: self.segments.last().map_or(0, |s| s.len),
            entries: self.entries.len(),
        };
        let mut hashes = Vec::with_capacity(bodies.len());
        let mut written = Ok(());
        for group in bodies.chunks(MAX_RECORDS_PER_WRITE) {
            match self.write_group(group) {
                Ok(h) => hashes.extend(h),
                Err(e) => {
                    written = Err(e);
                    break;
                }
            }
        }
        if let Err(e) = written {
            self.poisoned = true;
            self.take_back(mark);
            return Err(e);
        }
        // The head moves only after the records are durable, and the commit
        // is acknowledged only after the head moved: a log found shorter
        // than its head lost acknowledged records.
        if let Err(e) = self.record_head() {
            self.poisoned = true;
            self.take_back(mark);
            // The failed sector write may yet reach the disk; put the old
            // head there too, so the head file never names a record that
            // was taken back (best effort, like the take-back itself).
            let old = head::encode_slot(Head { tx: self.head(), hash: self.head_hash() });
            let _ = self.dir.update_head(((1 - self.head_slot) * head::SLOT_STRIDE) as u64, &old);
            return Err(e);
        }
        Ok(hashes)
    }

    /// Removes what an append that failed wrote (best effort: the log is
    /// poisoned either way). The records are not acknowledged, and after a
    /// failed write or fsync their bytes may sit in the page cache without
    /// ever becoming durable, so a reopen must not find them.
    fn take_back(&mut self, mark: Mark) {
        while self.segments.len() > mark.segments {
            if let Some(s) = self.segments.pop() {
                let _ = self.dir.remove(&s.name);
            }
        }
        if let Some(last) = self.segments.last_mut() {
            if last.len != mark.last_len {
                let _ = self.dir.truncate(&last.name, mark.last_len);
            }
            last.len = mark.last_len;
        }
        self.entries.truncate(mark.entries);
        self.hashes.truncate(mark.entries);
    }

    /// Writes records as one append and one fsync.
    fn write_group(&mut self, bodies: &[Vec<u8>]) -> Result<Vec<Hash>, LogError> {
        let needs_segment = self.segments.last().is_none_or(|s| s.len >= self.segment_limit);
        if needs_segment {
            let name = segment_name(self.head() + 1);
            self.dir.create(&name).map_err(io_err(format!("creating {name}")))?;
            self.segments.push(Segment { name, first_tx: self.head() + 1, len: 0 });
        }
        let seg = self.segments.len() - 1;
        let mut buf = Vec::new();
        let mut new_entries = Vec::with_capacity(bodies.len());
        let mut new_hashes = Vec::with_capacity(bodies.len());
        let mut prev = self.head_hash();
        for (i, body) in bodies.iter().enumerate() {
            let tx = self.head() + 1 + i as u64;
            let pos = u16::try_from(i).expect("at most MAX_RECORDS_PER_WRITE records per write");
            let (bytes, hash) = frame::encode_in_write(tx, &prev, body, pos);
            let offset = self.segments[seg].len + buf.len() as u64;
            new_entries.push(Entry { segment: seg, offset, len: bytes.len() as u32 });
            new_hashes.push(hash);
            buf.extend_from_slice(&bytes);
            prev = hash;
        }
        let name = self.segments[seg].name.clone();
        let before = self.segments[seg].len;
        let written = self
            .dir
            .append(&name, &buf)
            .map_err(io_err(format!("appending to {name}")))
            .and_then(|()| self.dir.sync(&name).map_err(io_err(format!("syncing {name}"))));
        if let Err(e) = written {
            // Take back whatever part of the write reached the file. After a
            // failed write or fsync these bytes may sit in the page cache
            // without ever becoming durable (Linux marks the pages clean), so
            // a reopen must not find them: a later acknowledged record
            // behind a hole that a power loss leaves would make the log
            // unreadable. Best effort: the log is poisoned either way.
            let _ = self.dir.truncate(&name, before);
            return Err(e);
        }
        self.segments[seg].len += buf.len() as u64;
        self.entries.extend(new_entries);
        self.hashes.extend(new_hashes.iter().copied());
        Ok(new_hashes)
    }

    /// Reads and decodes one record, re-checking its checksum.
    pub fn read(&self, tx: u64) -> Result<TxRecord, LogError> {
        let e = *self
            .entries
            .get((tx as usize).wrapping_sub(1))
            .ok_or_else(|| corrupt(tx, "", 0, format!("tx {tx} is not in the log")))?;
        let name = &self.segments[e.segment].name;
        let bytes = self
            .dir
            .read_at(name, e.offset, e.len as usize)
            .map_err(io_err(format!("reading tx {tx} from {name}")))?;
        decode_record(tx, &bytes, name, e.offset)
    }

    /// Calls `f` with every record from `from_tx` on, in order, reading whole
    /// segments at a time.
    pub fn for_each_from<E: From<LogError>>(
        &self,
        from_tx: u64,
        mut f: impl FnMut(TxRecord) -> Result<(), E>,
    ) -> Result<(), E> {
        let start = (from_tx.max(1) - 1) as usize;
        let mut loaded: Option<(usize, Vec<u8>)> = None;
        for (i, e) in self.entries.iter().enumerate().skip(start) {
            if loaded.as_ref().is_none_or(|(s, _)| *s != e.segment) {
                let name = &self.segments[e.segment].name;
                let bytes = self.dir.read(name).map_err(io_err(format!("reading {name}")))?;
                loaded = Some((e.segment, bytes));
            }
            let (_, bytes) = loaded.as_ref().expect("loaded above");
            let name = &self.segments[e.segment].name;
            let end = e.offset as usize + e.len as usize;
            let slice = bytes.get(e.offset as usize..end).ok_or_else(|| {
                corrupt(i as u64 + 1, name, e.offset, "the segment shrank since it was opened".into())
            })?;
            f(decode_record(i as u64 + 1, slice, name, e.offset)?)?;
        }
        Ok(())
    }
}

/// The head file: `None` when there is none, `Some(None)` when it is
/// damaged, else the newest valid head and its slot.
#[allow(clippy::type_complexity)]
fn read_head(dir: &dyn LogDir) -> Result<Option<Option<(Head, usize)>>, LogError> {
    let bytes = dir.read_head().map_err(io_err(format!("reading {HEAD_FILE}")))?;
    Ok(bytes.map(|b| head::decode_file(&b)))
}

/// Every valid record starting at or after `from`, in order, with its
/// offset; each is scanned past whole (a body is not searched for records).
fn valid_records(bytes: &[u8], from: usize) -> impl Iterator<Item = (usize, frame::Header)> + '_ {
    let mut from = from;
    std::iter::from_fn(move || {
        let (at, h) = frame::any_valid_record(bytes.get(from..)?)?;
        let offset = from + at;
        from = offset + frame::HEADER_LEN + h.body_len;
        Some((offset, h))
    })
}

/// The unit a disk writes whole or not at all.
const SECTOR: usize = 512;

/// Whether `bytes[pos..next]` holds a part of a write that never reached the
/// disk: a whole sector of zeros, or, when the write started at `pos`, zeros
/// from `pos` to the end of its sector. (A part of a write that shares a
/// sector with a valid record did reach the disk: sectors are written whole.)
fn lost_sector(bytes: &[u8], pos: usize, next: usize, write_starts_here: bool) -> bool {
    let zeros = |r: &[u8]| !r.is_empty() && r.iter().all(|&b| b == 0);
    let first_boundary = pos.next_multiple_of(SECTOR);
    if write_starts_here && zeros(&bytes[pos..first_boundary.min(next)]) {
        return true;
    }
    (first_boundary..next).step_by(SECTOR).any(|s| s + SECTOR <= next && zeros(&bytes[s..s + SECTOR]))
}

fn corrupt(tx: u64, segment: &str, offset: u64, why: String) -> LogError {
    LogError::Corrupt { tx, segment: segment.to_string(), offset, why }
}

fn decode_record(tx: u64, bytes: &[u8], segment: &str, offset: u64) -> Result<TxRecord, LogError> {
    let h = frame::check(bytes).map_err(|f| corrupt(tx, segment, offset, f.to_string()))?;
    if h.tx != tx {
        return Err(corrupt(tx, segment, offset, format!("found tx {}", h.tx)));
    }
    let body: TxBody = codec::decode(&bytes[frame::HEADER_LEN..], "transaction body").map_err(|e| {
        corrupt(tx, segment, offset, format!("its checksum is valid but its body is not a transaction ({e})"))
    })?;
    Ok(TxRecord { tx, prev_hash: h.prev, hash: h.hash, body })
}
