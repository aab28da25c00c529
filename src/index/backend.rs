//! The narrow storage interface the index needs (ordered get, range scan,
//! atomic batch), its sled implementation, and an overlay of pending writes
//! that reads through to the backend (used while a transaction is validated
//! and applied, before its batch is written).

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::Path;

use super::IndexError;

/// One key/value pair as read from the index.
pub type Pair = (Value, Value);
/// Entries of a range, in key order.
pub type RangeIter<'a> = Box<dyn Iterator<Item = Result<Pair, IndexError>> + 'a>;

/// A value read with [`KvRead::get`]: shared with the backend's cache where
/// the backend allows it (a claim block is read for one record of it, so a
/// copy per read would cost more than the lookup), owned otherwise.
#[derive(Debug, Clone)]
pub enum Value {
    Shared(sled::IVec),
    Owned(Vec<u8>),
}

/// Values compare as their bytes, whichever way they are held.
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        self[..] == other[..]
    }
}

impl Eq for Value {}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Value) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Value {
    fn cmp(&self, other: &Value) -> std::cmp::Ordering {
        self[..].cmp(&other[..])
    }
}

impl std::ops::Deref for Value {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Value::Shared(v) => v,
            Value::Owned(v) => v,
        }
    }
}

/// Ordered reads.
pub trait KvRead {
    fn get(&self, key: &[u8]) -> Result<Option<Value>, IndexError>;
    /// Entries with `start <= key < end` (`end = None`: to the end), in order.
    fn range(&self, start: &[u8], end: Option<&[u8]>) -> RangeIter<'_>;
    /// The last entry with `start <= key < end`.
    fn last_in(&self, start: &[u8], end: &[u8]) -> Result<Option<Pair>, IndexError>;
}

impl<T: KvRead + ?Sized> KvRead for &T {
    fn get(&self, key: &[u8]) -> Result<Option<Value>, IndexError> {
        (**self).get(key)
    }
    fn range(&self, start: &[u8], end: Option<&[u8]>) -> RangeIter<'_> {
        (**self).range(start, end)
    }
    fn last_in(&self, start: &[u8], end: &[u8]) -> Result<Option<Pair>, IndexError> {
        (**self).last_in(start, end)
    }
}

impl<T: KvRead + ?Sized> KvRead for std::sync::Arc<T> {
    fn get(&self, key: &[u8]) -> Result<Option<Value>, IndexError> {
        (**self).get(key)
    }
    fn range(&self, start: &[u8], end: Option<&[u8]>) -> RangeIter<'_> {
        (**self).range(start, end)
    }
    fn last_in(&self, start: &[u8], end: &[u8]) -> Result<Option<Pair>, IndexError> {
        (**self).last_in(start, end)
    }
}

/// A storage engine for the indexes.
pub trait IndexBackend: KvRead + Send + Sync {
    /// Writes every pair in one atomic batch.
    fn apply(&self, writes: BTreeMap<Vec<u8>, Vec<u8>>) -> Result<(), IndexError>;
    /// Removes everything.
    fn clear(&self) -> Result<(), IndexError>;
    /// Bytes on disk.
    fn size_on_disk(&self) -> u64;
    /// Writes buffered state to disk (never needed for durability).
    fn flush(&self) -> Result<(), IndexError>;
}

fn backend_err(e: sled::Error) -> IndexError {
    match e {
        sled::Error::Io(io) => IndexError::Io(io),
        sled::Error::Corruption { .. } => IndexError::Corrupt(e.to_string()),
        other => IndexError::Backend(other.to_string()),
    }
}

/// sled's page cache unless the store's options say otherwise.
pub const DEFAULT_CACHE_BYTES: u64 = 256 << 20;

/// [`IndexBackend`] over one sled tree.
pub struct SledBackend {
    db: sled::Db,
}

impl SledBackend {
    /// Opens sled at `path` with the default page cache
    /// ([`DEFAULT_CACHE_BYTES`]); an error or a panic inside sled becomes an
    /// error.
    pub fn open(path: &Path) -> Result<SledBackend, IndexError> {
        SledBackend::open_with_cache(path, DEFAULT_CACHE_BYTES)
    }

    /// [`SledBackend::open`] with a page cache of `cache_bytes`.
    pub fn open_with_cache(path: &Path, cache_bytes: u64) -> Result<SledBackend, IndexError> {
        let config =
            sled::Config::new().path(path).cache_capacity(cache_bytes).mode(sled::Mode::HighThroughput);
        let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || config.open()));
        match opened {
            Ok(Ok(db)) => Ok(SledBackend { db }),
            Ok(Err(e)) => Err(backend_err(e)),
            Err(panic) => Err(IndexError::Panicked(panic_text(&panic))),
        }
    }

    /// A sled that lives in memory only.
    pub fn temporary() -> Result<SledBackend, IndexError> {
        let db = sled::Config::new().temporary(true).open().map_err(backend_err)?;
        Ok(SledBackend { db })
    }
}

/// The message of a caught panic.
pub fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

fn bounds<'a>(start: &'a [u8], end: Option<&'a [u8]>) -> (Bound<&'a [u8]>, Bound<&'a [u8]>) {
    (Bound::Included(start), end.map_or(Bound::Unbounded, Bound::Excluded))
}

impl KvRead for SledBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Value>, IndexError> {
        Ok(self.db.get(key).map_err(backend_err)?.map(Value::Shared))
    }

    fn range(&self, start: &[u8], end: Option<&[u8]>) -> RangeIter<'_> {
        let iter = self.db.range::<&[u8], _>(bounds(start, end));
        Box::new(iter.map(|r| r.map(|(k, v)| (Value::Shared(k), Value::Shared(v))).map_err(backend_err)))
    }

    fn last_in(&self, start: &[u8], end: &[u8]) -> Result<Option<Pair>, IndexError> {
        match self.db.range::<&[u8], _>(bounds(start, Some(end))).next_back() {
            None => Ok(None),
            Some(r) => r.map(|(k, v)| Some((Value::Shared(k), Value::Shared(v)))).map_err(backend_err),
        }
    }
}

impl IndexBackend for SledBackend {
    fn apply(&self, writes: BTreeMap<Vec<u8>, Vec<u8>>) -> Result<(), IndexError> {
        let mut batch = sled::Batch::default();
        for (k, v) in writes {
            batch.insert(k, v);
        }
        self.db.apply_batch(batch).map_err(backend_err)
    }

    fn clear(&self) -> Result<(), IndexError> {
        self.db.clear().map_err(backend_err)
    }

    fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }

    fn flush(&self) -> Result<(), IndexError> {
        self.db.flush().map(|_| ()).map_err(backend_err)
    }
}

/// Pending writes layered over a base: reads see the pending value first.
pub struct Overlay<'a, B: KvRead + ?Sized> {
    pub base: &'a B,
    pub layers: [&'a BTreeMap<Vec<u8>, Vec<u8>>; 2],
}

impl<B: KvRead + ?Sized> KvRead for Overlay<'_, B> {
    fn get(&self, key: &[u8]) -> Result<Option<Value>, IndexError> {
        for layer in self.layers {
            if let Some(v) = layer.get(key) {
                return Ok(Some(Value::Owned(v.clone())));
            }
        }
        self.base.get(key)
    }

    fn range(&self, start: &[u8], end: Option<&[u8]>) -> RangeIter<'_> {
        // Pending entries are few: collect them, then merge with the base.
        let mut pending: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        for layer in self.layers.iter().rev() {
            for (k, v) in layer.range::<[u8], _>(bounds(start, end)) {
                pending.insert(k.clone(), v.clone());
            }
        }
        Box::new(Merge {
            base: self.base.range(start, end).peekable(),
            pending: pending.into_iter().peekable(),
        })
    }

    fn last_in(&self, start: &[u8], end: &[u8]) -> Result<Option<Pair>, IndexError> {
        let mut best = self.base.last_in(start, end)?;
        for layer in self.layers.iter().rev() {
            if let Some((k, v)) = layer.range::<[u8], _>(bounds(start, Some(end))).next_back()
                && best.as_ref().is_none_or(|(bk, _)| k[..] >= bk[..])
            {
                best = Some((Value::Owned(k.clone()), Value::Owned(v.clone())));
            }
        }
        Ok(best)
    }
}

struct Merge<'a> {
    base: std::iter::Peekable<RangeIter<'a>>,
    pending: std::iter::Peekable<std::collections::btree_map::IntoIter<Vec<u8>, Vec<u8>>>,
}

fn owned((k, v): (Vec<u8>, Vec<u8>)) -> Result<Pair, IndexError> {
    Ok((Value::Owned(k), Value::Owned(v)))
}

impl Iterator for Merge<'_> {
    type Item = Result<Pair, IndexError>;
    fn next(&mut self) -> Option<Self::Item> {
        let base_key = match self.base.peek() {
            Some(Ok((k, _))) => Some(k.clone()),
            Some(Err(_)) => return self.base.next(),
            None => None,
        };
        match (base_key, self.pending.peek()) {
            (None, None) => None,
            (Some(_), None) => self.base.next(),
            (None, Some(_)) => self.pending.next().map(owned),
            (Some(bk), Some((pk, _))) => {
                if pk[..] <= bk[..] {
                    if pk[..] == bk[..] {
                        self.base.next();
                    }
                    self.pending.next().map(owned)
                } else {
                    self.base.next()
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_reads_pending_first_and_merges_ranges() {
        let base = SledBackend::temporary().unwrap();
        let mut w = BTreeMap::new();
        for k in [1u8, 3, 5] {
            w.insert(vec![k], vec![k]);
        }
        base.apply(w).unwrap();
        let mut lower = BTreeMap::new();
        lower.insert(vec![2u8], vec![20]);
        lower.insert(vec![3u8], vec![30]);
        let mut upper = BTreeMap::new();
        upper.insert(vec![3u8], vec![31]);
        upper.insert(vec![6u8], vec![60]);
        let o = Overlay { base: &base, layers: [&upper, &lower] };
        let bytes = |(k, v): Pair| (k.to_vec(), v.to_vec());
        let all: Vec<(Vec<u8>, Vec<u8>)> = o.range(&[0], None).map(|r| bytes(r.unwrap())).collect();
        let want: Vec<(Vec<u8>, Vec<u8>)> = vec![
            (vec![1], vec![1]),
            (vec![2], vec![20]),
            (vec![3], vec![31]),
            (vec![5], vec![5]),
            (vec![6], vec![60]),
        ];
        assert_eq!(all, want);
        assert_eq!(o.get(&[3]).unwrap().as_deref(), Some(&[31u8][..]));
        assert_eq!(o.last_in(&[0], &[6]).unwrap().map(bytes), Some((vec![5], vec![5])));
        assert_eq!(o.last_in(&[0], &[7]).unwrap().map(bytes), Some((vec![6], vec![60])));
        assert_eq!(o.last_in(&[3], &[4]).unwrap().map(bytes), Some((vec![3], vec![31])));
        // Shared and owned values are equal when their bytes are.
        let shared = base.get(&[3]).unwrap().unwrap();
        assert!(matches!(shared, Value::Shared(_)));
        assert_eq!(shared, Value::Owned(vec![3]));
    }
}
