//! A fault-injecting index backend for the reliability suites: a wrapper
//! around any [`IndexBackend`] that can run out of space, fail an I/O, fail
//! or hang a flush, and return read errors, at a chosen call or at random
//! from a seed. The store opens over it through
//! [`Options::index_faults`](crate::Options): every index the store opens
//! (the live one, and each one a rebuild makes) is wrapped in the same
//! [`IndexFaults`], so a test arms a fault and watches the store meet it.
//!
//! It mirrors the log's simulated disk (`tests/reliability/simdisk.rs`):
//! operations are counted (`get`/`range`/`last_in` are reads, `apply` and
//! `clear` are writes, `flush` is a flush), a fault fires once at the Nth
//! operation of its kind counted from when it is armed, and all randomness
//! comes from the seed, so a run replays exactly.
//!
//! A failed write is *torn*: the batch's bookkeeping (the META entries, so
//! the index claims to have applied it) and every other data key land in
//! the inner backend, the rest do not, and the error is returned. That is
//! what a storage engine can leave behind when the disk fills in the middle
//! of a write, and exactly the state that must never be trusted.
//!
//! Not part of the API: hidden from the docs and kept stable only for the
//! project's own tests.

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use super::backend::{IndexBackend, KvRead, Pair, RangeIter, Value};
use super::{IndexError, keys};

/// Which operations a fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Read,
    Write,
    Flush,
}

/// What happens when a fault fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `ENOSPC` (`io::ErrorKind::StorageFull`); a write is torn.
    NoSpace,
    /// `EIO`; a write is torn.
    Io,
    /// A read finds damaged data, as sled reports "Read corrupted data".
    Corrupt,
    /// The operation blocks until [`IndexFaults::release`] (sled's flush
    /// waiting forever for a write that cannot complete), then fails with
    /// `EIO`.
    Hang,
}

/// Operation counts so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub reads: u64,
    pub writes: u64,
    pub flushes: u64,
    /// Keys in the largest batch written so far.
    pub largest_batch: usize,
}

impl Counts {
    fn of(&self, op: Op) -> u64 {
        match op {
            Op::Read => self.reads,
            Op::Write => self.writes,
            Op::Flush => self.flushes,
        }
    }
}

struct State {
    counts: Counts,
    /// Armed one-shot faults: (op, the count at which it fires, fault).
    armed: Vec<(Op, u64, Fault)>,
    /// Random faults: (op, one in how many, fault).
    random: Vec<(Op, u64, Fault)>,
    rng: u64,
    hits: u64,
    /// What a free-space check reports (`None`: ask the real file system).
    free_space: Option<u64>,
    released: bool,
}

/// The fault plan, shared by every backend wrapped with it and by the test.
pub struct IndexFaults {
    state: Mutex<State>,
    wake: Condvar,
}

impl IndexFaults {
    pub fn new(seed: u64) -> Arc<IndexFaults> {
        let state = State {
            counts: Counts::default(),
            armed: Vec::new(),
            random: Vec::new(),
            rng: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x1d3e_fa17,
            hits: 0,
            free_space: None,
            released: false,
        };
        Arc::new(IndexFaults { state: Mutex::new(state), wake: Condvar::new() })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes the `n`th operation of kind `op` from now on (1-based) fail once.
    pub fn fail_nth(&self, op: Op, n: u64, fault: Fault) {
        let mut s = self.lock();
        let at = s.counts.of(op) + n.max(1);
        s.armed.push((op, at, fault));
    }

    /// Makes each operation of kind `op` fail with probability `1/one_in`
    /// (drawn from the seed) until [`IndexFaults::disarm`].
    pub fn fail_randomly(&self, op: Op, one_in: u64, fault: Fault) {
        self.lock().random.push((op, one_in.max(1), fault));
    }

    /// Removes every armed and random fault and lets hung operations go.
    pub fn disarm(&self) {
        let mut s = self.lock();
        s.armed.clear();
        s.random.clear();
        drop(s);
        self.release();
    }

    /// Lets every operation blocked by [`Fault::Hang`] (and any later one)
    /// return its error.
    pub fn release(&self) {
        self.lock().released = true;
        self.wake.notify_all();
    }

    /// How many faults have fired.
    pub fn hits(&self) -> u64 {
        self.lock().hits
    }

    /// Operation counts so far.
    pub fn counts(&self) -> Counts {
        self.lock().counts
    }

    /// Makes free-space checks report `bytes` (`None`: the real figure).
    pub fn set_free_space(&self, bytes: Option<u64>) {
        self.lock().free_space = bytes;
    }

    /// The simulated free space, if set.
    pub fn free_space(&self) -> Option<u64> {
        self.lock().free_space
    }

    fn next_random(s: &mut State) -> u64 {
        // splitmix64
        s.rng = s.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = s.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Counts one operation; the fault that fires on it, if any.
    fn tick(&self, op: Op, batch: usize) -> Option<Fault> {
        let mut s = self.lock();
        let n = match op {
            Op::Read => {
                s.counts.reads += 1;
                s.counts.reads
            }
            Op::Write => {
                s.counts.writes += 1;
                s.counts.largest_batch = s.counts.largest_batch.max(batch);
                s.counts.writes
            }
            Op::Flush => {
                s.counts.flushes += 1;
                s.counts.flushes
            }
        };
        let mut fired = None;
        if let Some(i) = s.armed.iter().position(|&(o, at, _)| o == op && at == n) {
            fired = Some(s.armed.remove(i).2);
        }
        let random: Vec<(Op, u64, Fault)> = s.random.iter().copied().filter(|r| r.0 == op).collect();
        for (_, one_in, fault) in random {
            if fired.is_none() && IndexFaults::next_random(&mut s).is_multiple_of(one_in) {
                fired = Some(fault);
            }
        }
        if fired.is_some() {
            s.hits += 1;
        }
        fired
    }

    /// Blocks until released.
    fn hang(&self) {
        let mut s = self.lock();
        while !s.released {
            s = self.wake.wait(s).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn error(&self, fault: Fault, what: &str) -> IndexError {
        match fault {
            Fault::NoSpace => IndexError::Io(io::Error::new(
                io::ErrorKind::StorageFull,
                format!("simulated: no space left on device during an index {what}"),
            )),
            Fault::Io => {
                IndexError::Io(io::Error::other(format!("simulated I/O error during an index {what}")))
            }
            Fault::Corrupt => {
                IndexError::Corrupt(format!("simulated: read corrupted data during an index {what}"))
            }
            Fault::Hang => {
                self.hang();
                IndexError::Io(io::Error::other(format!("simulated: an index {what} hung, then failed")))
            }
        }
    }
}

/// [`IndexBackend`] over `B` with the faults of an [`IndexFaults`].
pub struct FaultyBackend<B> {
    inner: B,
    faults: Arc<IndexFaults>,
}

impl<B: IndexBackend> FaultyBackend<B> {
    pub fn new(inner: B, faults: Arc<IndexFaults>) -> FaultyBackend<B> {
        FaultyBackend { inner, faults }
    }

    /// The wrapped backend.
    pub fn inner(&self) -> &B {
        &self.inner
    }

    fn read<T>(&self, f: impl FnOnce() -> Result<T, IndexError>) -> Result<T, IndexError> {
        match self.faults.tick(Op::Read, 0) {
            Some(fault) => Err(self.faults.error(fault, "read")),
            None => f(),
        }
    }
}

impl<B: IndexBackend> KvRead for FaultyBackend<B> {
    fn get(&self, key: &[u8]) -> Result<Option<Value>, IndexError> {
        self.read(|| self.inner.get(key))
    }

    fn range(&self, start: &[u8], end: Option<&[u8]>) -> RangeIter<'_> {
        match self.faults.tick(Op::Read, 0) {
            Some(fault) => Box::new(std::iter::once(Err(self.faults.error(fault, "read")))),
            None => self.inner.range(start, end),
        }
    }

    fn last_in(&self, start: &[u8], end: &[u8]) -> Result<Option<Pair>, IndexError> {
        self.read(|| self.inner.last_in(start, end))
    }
}

impl<B: IndexBackend> IndexBackend for FaultyBackend<B> {
    fn apply(&self, writes: BTreeMap<Vec<u8>, Vec<u8>>) -> Result<(), IndexError> {
        let Some(fault) = self.faults.tick(Op::Write, writes.len()) else {
            return self.inner.apply(writes);
        };
        // Torn: the META entries and every other data key land.
        let torn: BTreeMap<Vec<u8>, Vec<u8>> = writes
            .into_iter()
            .enumerate()
            .filter(|(i, (k, _))| k.first() == Some(&keys::META) || i % 2 == 0)
            .map(|(_, kv)| kv)
            .collect();
        self.inner.apply(torn)?;
        Err(self.faults.error(fault, "write"))
    }

    fn clear(&self) -> Result<(), IndexError> {
        match self.faults.tick(Op::Write, 0) {
            Some(fault) => Err(self.faults.error(fault, "write")),
            None => self.inner.clear(),
        }
    }

    fn size_on_disk(&self) -> u64 {
        self.inner.size_on_disk()
    }

    fn flush(&self) -> Result<(), IndexError> {
        match self.faults.tick(Op::Flush, 0) {
            Some(fault) => Err(self.faults.error(fault, "flush")),
            None => self.inner.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::SledBackend;

    fn batch(n: u8) -> BTreeMap<Vec<u8>, Vec<u8>> {
        (0..n).map(|i| (vec![b'z', i], vec![i])).collect()
    }

    #[test]
    fn a_fault_fires_once_at_the_nth_operation_and_a_failed_write_is_torn() {
        let faults = IndexFaults::new(1);
        let b = FaultyBackend::new(SledBackend::temporary().unwrap(), faults.clone());
        faults.fail_nth(Op::Write, 2, Fault::NoSpace);
        b.apply(batch(2)).unwrap();
        let err = b.apply(batch(10)).unwrap_err();
        assert!(err.is_out_of_space(), "{err}");
        // Half of the second batch landed: the torn write.
        let landed = b.inner().range(b"z", None).count();
        // 0 and 1 were there; of the second batch 0, 2, 4, 6 and 8 landed.
        assert_eq!(landed, 6);
        assert!(b.inner().get(&[b'z', 3]).unwrap().is_none());
        b.apply(batch(1)).unwrap();
        assert_eq!(faults.hits(), 1);
        assert_eq!(faults.counts().writes, 3);
        assert_eq!(faults.counts().largest_batch, 10);
        faults.fail_nth(Op::Read, 1, Fault::Corrupt);
        assert!(matches!(b.get(&[b'z', 0]), Err(IndexError::Corrupt(_))));
        assert!(b.get(&[b'z', 0]).unwrap().is_some());
    }

    #[test]
    fn random_faults_replay_from_the_seed() {
        let run = |seed| {
            let faults = IndexFaults::new(seed);
            let b = FaultyBackend::new(SledBackend::temporary().unwrap(), faults.clone());
            faults.fail_randomly(Op::Read, 3, Fault::Io);
            (0..60).map(|_| b.get(b"k").is_err()).collect::<Vec<bool>>()
        };
        let a = run(5);
        assert_eq!(a, run(5));
        let failed = a.iter().filter(|&&f| f).count();
        assert!((5..40).contains(&failed), "{failed} of 60 at one in 3");
    }

    #[test]
    fn a_hung_flush_returns_once_released() {
        let faults = IndexFaults::new(2);
        let b = Arc::new(FaultyBackend::new(SledBackend::temporary().unwrap(), faults.clone()));
        faults.fail_nth(Op::Flush, 1, Fault::Hang);
        let t = {
            let b = b.clone();
            std::thread::spawn(move || b.flush())
        };
        faults.release();
        assert!(t.join().unwrap().is_err());
        assert!(b.flush().is_ok());
    }
}
