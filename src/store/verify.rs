//! `verify`'s report and its index comparison: the live index entry by entry
//! against a fresh rebuild from the log (`Store::verify` walks the log,
//! checking every record's checksum and chain link, and makes the rebuild).

use super::StoreError;
use crate::index::backend::{Pair, RangeIter, Value};
use crate::index::{IndexError, KvRead, SledBackend, keys};

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

const MAX_PROBLEMS: usize = 10;

/// Compares two indexes entry by entry. Posting blocks are compared per
/// prefix (all blocks of a prefix concatenated), since how postings are cut
/// into blocks depends on how transactions were batched.
pub(super) fn compare_indexes(
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
