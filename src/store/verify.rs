//! `Store::verify`: every record's checksum and chain link, and the live
//! index compared entry by entry with a fresh rebuild from the log, with
//! commits going on meanwhile (the writer lock is held only to read a chunk
//! of records, and for the comparison only when index writes keep landing
//! during it).

use std::sync::atomic::Ordering as AtomicOrdering;
use std::time::Duration;

use super::{Replayer, Store, StoreError};
use crate::index::backend::{Pair, RangeIter, Value};
use crate::index::{IndexError, KvRead, SledBackend, keys};
use crate::log::LogError;
use crate::model::{Hash, TxRecord};

/// Comparisons `verify` tries without the writer lock before it takes it.
const VERIFY_TRIES: usize = 4;

/// What `verify` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Transactions whose records were checked.
    pub transactions: u64,
    /// The first transaction whose record is damaged, if any.
    pub first_bad_tx: Option<u64>,
    /// Index entries compared.
    pub index_entries: u64,
    /// Human-readable problems, the first few of each kind.
    pub problems: Vec<String>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.first_bad_tx.is_none() && self.problems.is_empty()
    }
}
impl Store {
    /// Checks every record's checksum and the hash chain, and that the indexes
    /// equal a fresh rebuild from the log.
    ///
    /// Commits go on while it runs: the log is read and the rebuild made
    /// with the writer lock held only while a chunk of records is read, and
    /// the live index is compared with the rebuild (caught up with what was
    /// committed meanwhile) without the lock; a comparison during which an
    /// index write landed is done again, and after a few such tries under
    /// the lock.
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        let head = self.head();
        let fresh = SledBackend::temporary()?;
        let mut replayer = Replayer::new(&fresh);
        let mut report = VerifyReport::default();
        let mut prev = Hash::ZERO;
        let walked = self.for_each_tx_until(1, head, |rec| {
            if rec.prev_hash != prev {
                return Err(LogError::Corrupt {
                    tx: rec.tx,
                    segment: String::new(),
                    offset: 0,
                    why: "the previous-hash link does not match".into(),
                }
                .into());
            }
            prev = rec.hash;
            report.transactions += 1;
            replayer.push(&rec)
        });
        match walked {
            Ok(()) => {}
            Err(StoreError::Log(e)) => {
                report.first_bad_tx = Some(match &e {
                    LogError::Corrupt { tx, .. } => *tx,
                    _ => report.transactions + 1,
                });
                report.problems.push(e.to_string());
                return Ok(report);
            }
            Err(e) => return Err(e),
        }
        replayer.finish()?;
        let mut built_to = head;
        let damaged = |why: &str, mut report: VerifyReport| {
            report
                .problems
                .push(format!("the index cannot be used ({why}); `claimgraph reindex` rebuilds it"));
            report
        };
        // Compare without the writer lock while no index write lands during
        // the comparison (the write generation tells); a few tries, then
        // under the lock.
        for _ in 0..VERIFY_TRIES {
            let generation = self.inner.index_writes.load(AtomicOrdering::Acquire);
            if generation % 2 == 1 {
                std::thread::sleep(Duration::from_millis(2));
                continue;
            }
            let now = self.head();
            report.transactions += replay_into(&fresh, |f| self.for_each_tx_until(built_to + 1, now, f))?;
            built_to = now;
            let live = self.inner.live();
            if let Some(why) = live.backend.damage() {
                return Ok(damaged(why, report));
            }
            let mut attempt = report.clone();
            compare_indexes(&*live.backend, &fresh, &mut attempt)?;
            if self.inner.index_writes.load(AtomicOrdering::Acquire) == generation {
                return Ok(attempt);
            }
        }
        // The lock only, not `writer()`: a read-only store is verified too.
        let w = self.inner.writer.lock().map_err(|_| StoreError::Poisoned)?;
        let live = self.inner.live();
        if let Some(why) = live.backend.damage() {
            return Ok(damaged(why, report));
        }
        // What was committed since the last catch-up (the lock is held now).
        report.transactions += replay_into(&fresh, |f| w.log.for_each_from(built_to + 1, f))?;
        compare_indexes(&*live.backend, &fresh, &mut report)?;
        Ok(report)
    }
}

/// Replays the records `read` hands over into `index`; how many.
fn replay_into(
    index: &SledBackend,
    read: impl FnOnce(&mut dyn FnMut(TxRecord) -> Result<(), StoreError>) -> Result<(), StoreError>,
) -> Result<u64, StoreError> {
    let mut replayer = Replayer::new(index);
    read(&mut |rec| replayer.push(&rec))?;
    let replayed = replayer.replayed;
    replayer.finish()?;
    Ok(replayed)
}

const MAX_PROBLEMS: usize = 10;

/// Compares two indexes entry by entry. Posting blocks are compared per
/// prefix (all blocks of a prefix concatenated), since how postings are cut
/// into blocks depends on how transactions were batched.
fn compare_indexes(
    live: &impl KvRead,
    fresh: &SledBackend,
    report: &mut VerifyReport,
) -> Result<(), StoreError> {
    let mut a = Normalized { inner: live.range(&[], None).peekable() };
    let mut b = Normalized { inner: fresh.range(&[], None).peekable() };
    let (mut x, mut y) = (a.next().transpose()?, b.next().transpose()?);
    while x.is_some() || y.is_some() {
        let problem = match (&x, &y) {
            (Some((ka, va)), Some((kb, vb))) if ka == kb => {
                report.index_entries += 1;
                let p = (va != vb).then(|| format!("index entry {} differs from a rebuild", show(ka)));
                x = a.next().transpose()?;
                y = b.next().transpose()?;
                p
            }
            (Some((ka, _)), Some((kb, _))) if ka < kb => {
                let p = Some(format!("index entry {} is not in a rebuild", show(ka)));
                x = a.next().transpose()?;
                p
            }
            (Some((ka, _)), None) => {
                let p = Some(format!("index entry {} is not in a rebuild", show(ka)));
                x = a.next().transpose()?;
                p
            }
            (_, Some((kb, _))) => {
                let p = Some(format!("index entry {} is missing", show(kb)));
                y = b.next().transpose()?;
                p
            }
            (None, None) => None,
        };
        if let Some(p) = problem
            && report.problems.len() < MAX_PROBLEMS
        {
            report.problems.push(p);
        }
    }
    Ok(())
}

/// Index entries with each prefix's posting blocks folded into one entry.
struct Normalized<'a> {
    inner: std::iter::Peekable<RangeIter<'a>>,
}

fn posting_prefix(key: &[u8]) -> Option<&[u8]> {
    let is_posting = matches!(key.first(), Some(&t) if (keys::SPO..=keys::SRC).contains(&t));
    (is_posting && key.len() > 8).then(|| &key[..key.len() - 8])
}

impl Iterator for Normalized<'_> {
    type Item = Result<Pair, IndexError>;
    fn next(&mut self) -> Option<Self::Item> {
        let (key, value) = match self.inner.next()? {
            Ok(kv) => kv,
            Err(e) => return Some(Err(e)),
        };
        let Some(prefix) = posting_prefix(&key).map(<[u8]>::to_vec) else {
            return Some(Ok((key, value)));
        };
        let mut value = value.to_vec();
        while let Some(Ok((k, _))) = self.inner.peek() {
            if posting_prefix(k) != Some(prefix.as_slice()) {
                break;
            }
            match self.inner.next() {
                Some(Ok((_, v))) => value.extend_from_slice(&v),
                Some(Err(e)) => return Some(Err(e)),
                None => break,
            }
        }
        Some(Ok((Value::Owned(prefix), Value::Owned(value))))
    }
}

fn show(key: &[u8]) -> String {
    let hex: String = key.iter().take(24).map(|b| format!("{b:02x}")).collect();
    format!("{hex}{}", if key.len() > 24 { "…" } else { "" })
}
