//! A simulated disk for the log: a [`LogDir`] that keeps two images of every
//! file, what was *written* (what reads see, like the page cache) and what was
//! *synced* (what survives power loss), and can
//!
//! - lose power at any moment: drop every unsynced byte, tear the last
//!   unsynced write at a random byte, or persist unsynced sectors in any order
//!   (later sectors durable, earlier ones not, holes reading back as zeros);
//! - fail the Nth write or the Nth fsync. A failed write leaves a random prefix
//!   of its bytes in the written image; a failed fsync behaves like Linux after
//!   an fsync error: the unsynced pages stay readable but are never made
//!   durable (the next fsync does not retry them).
//!
//! All randomness comes from the seed, so a run replays exactly.
//!
//! Counting: `append` is a write; `sync` is a sync; `create`, `truncate`,
//! `remove` and the head file's `replace_head` and `update_head` are durable
//! operations and count as one write and one sync. The head file lives
//! outside the listed files; a power loss during a head operation keeps or
//! drops that operation whole (a sector write, or a rename).

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

use claimgraph::log::LogDir;

use crate::Rng;

/// How unsynced data fares when the power goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    /// Every unsynced byte is dropped.
    DropUnsynced,
    /// Unsynced writes persist in order up to a random byte of one of them.
    TearLast,
    /// Unsynced writes are cut into 512-byte sectors and a random subset
    /// persists, in no particular order; a sector that did not persist but
    /// lies below one that did reads back as zeros.
    Reorder,
}

impl Loss {
    pub const ALL: [Loss; 3] = [Loss::DropUnsynced, Loss::TearLast, Loss::Reorder];
}

/// Which operation a fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Write(u64),
    Sync(u64),
}

#[derive(Debug, Clone, Default)]
struct File {
    written: Vec<u8>,
    synced: Vec<u8>,
    /// Writes since the last sync that the next sync will make durable.
    pending: Vec<(u64, Vec<u8>)>,
}

/// Operation counts so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    writes: u64,
    syncs: u64,
}

struct State {
    files: BTreeMap<String, File>,
    rng: Rng,
    counts: Counts,
    fault: Option<Fault>,
    /// Lose power (with this loss) when the op count (writes + syncs) reaches this.
    crash_at: Option<(u64, Loss)>,
    /// Bumped by every power loss: handles of an older generation are dead.
    generation: u64,
    /// The log's head file (always durable: every head operation syncs).
    head: Option<Vec<u8>>,
    faults_hit: u64,
}

/// The disk. Clones share it.
#[derive(Clone)]
pub struct SimDisk {
    state: Arc<Mutex<State>>,
}

/// A handle on the disk for one store (one "boot"): after a power loss every
/// operation through it fails.
pub struct SimDir {
    state: Arc<Mutex<State>>,
    generation: u64,
}

fn dead() -> io::Error {
    io::Error::other("simulated power loss: the machine is off")
}

fn injected(what: &str) -> io::Error {
    io::Error::other(format!("simulated {what} failure"))
}

fn not_found(name: &str) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("{name}: no such file"))
}

/// Writes `bytes` at `offset` of `buf`, zero-filling any gap.
fn put(buf: &mut Vec<u8>, offset: u64, bytes: &[u8]) {
    let offset = offset as usize;
    if buf.len() < offset {
        buf.resize(offset, 0);
    }
    let end = offset + bytes.len();
    if buf.len() < end {
        buf.resize(end, 0);
    }
    buf[offset..end].copy_from_slice(bytes);
}

impl SimDisk {
    pub fn new(seed: u64) -> SimDisk {
        let state = State {
            files: BTreeMap::new(),
            rng: Rng::new(seed ^ 0x5151_d15c),
            counts: Counts::default(),
            fault: None,
            crash_at: None,
            generation: 0,
            head: None,
            faults_hit: 0,
        };
        SimDisk { state: Arc::new(Mutex::new(state)) }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A handle for the current boot.
    pub fn dir(&self) -> Box<SimDir> {
        Box::new(SimDir { state: self.state.clone(), generation: self.lock().generation })
    }

    /// Makes the Nth write or sync (counted from now on, 1-based) fail once.
    pub fn inject(&self, fault: Fault) {
        let mut s = self.lock();
        let c = s.counts;
        s.fault = Some(match fault {
            Fault::Write(n) => Fault::Write(c.writes + n),
            Fault::Sync(n) => Fault::Sync(c.syncs + n),
        });
    }

    /// How many injected faults have fired.
    pub fn faults_hit(&self) -> u64 {
        self.lock().faults_hit
    }

    /// Loses power when the `n`th operation from now (writes and syncs
    /// together, 1-based) starts; that operation and every later one fail.
    pub fn crash_at(&self, n: u64, loss: Loss) {
        let mut s = self.lock();
        let at = s.counts.writes + s.counts.syncs + n;
        s.crash_at = Some((at, loss));
    }

    /// How many times the power has gone.
    pub fn power_losses(&self) -> u64 {
        self.lock().generation
    }

    /// Loses power now.
    pub fn power_loss(&self, loss: Loss) {
        self.lock().power_loss(loss);
    }

    /// Bytes written but not yet synced, over all files.
    pub fn unsynced_bytes(&self) -> u64 {
        self.lock().files.values().flat_map(|f| f.pending.iter()).map(|(_, b)| b.len() as u64).sum()
    }

    pub fn files(&self) -> Vec<String> {
        self.lock().files.keys().cloned().collect()
    }

    /// The synced image of a file.
    pub fn synced(&self, name: &str) -> Option<Vec<u8>> {
        self.lock().files.get(name).map(|f| f.synced.clone())
    }

    /// The written image of a file.
    pub fn written(&self, name: &str) -> Option<Vec<u8>> {
        self.lock().files.get(name).map(|f| f.written.clone())
    }

    /// Replaces (or with `None` removes) the head file.
    pub fn set_head(&self, bytes: Option<Vec<u8>>) {
        self.lock().head = bytes;
    }

    /// Replaces a file's content on both images (to plant damage).
    pub fn set_file(&self, name: &str, bytes: Vec<u8>) {
        let f = File { written: bytes.clone(), synced: bytes, pending: Vec::new() };
        self.lock().files.insert(name.to_string(), f);
    }
}

impl State {
    fn power_loss(&mut self, loss: Loss) {
        let names: Vec<String> = self.files.keys().cloned().collect();
        for name in names {
            let mut f = self.files.remove(&name).expect("listed");
            let mut image = f.synced.clone();
            let pending = std::mem::take(&mut f.pending);
            match loss {
                Loss::DropUnsynced => {}
                Loss::TearLast => {
                    // Writes persist in order; the power goes at a random byte.
                    let total: usize = pending.iter().map(|(_, b)| b.len()).sum();
                    let mut keep = self.rng.below(total as u64 + 1) as usize;
                    for (off, b) in &pending {
                        let n = keep.min(b.len());
                        put(&mut image, *off, &b[..n]);
                        keep -= n;
                        if n < b.len() {
                            break;
                        }
                    }
                }
                Loss::Reorder => {
                    for (off, b) in &pending {
                        let mut at = 0usize;
                        while at < b.len() {
                            let abs = *off as usize + at;
                            let end = ((abs / 512 + 1) * 512 - *off as usize).min(b.len());
                            if self.rng.below(2) == 0 {
                                put(&mut image, (*off as usize + at) as u64, &b[at..end]);
                            }
                            at = end;
                        }
                    }
                }
            }
            let file = File { written: image.clone(), synced: image, pending: Vec::new() };
            self.files.insert(name, file);
        }
        self.generation += 1;
        self.crash_at = None;
        self.fault = None;
    }

    /// Counts an operation; fails it when a crash or a fault is due.
    fn step(&mut self, generation: u64, write: bool, sync: bool) -> io::Result<()> {
        if generation != self.generation {
            return Err(dead());
        }
        if write {
            self.counts.writes += 1;
        }
        if sync {
            self.counts.syncs += 1;
        }
        let fired = match self.fault {
            Some(Fault::Write(n)) if write && self.counts.writes == n => Some("write"),
            Some(Fault::Sync(n)) if sync && self.counts.syncs == n => Some("fsync"),
            _ => None,
        };
        if let Some(what) = fired {
            self.fault = None;
            self.faults_hit += 1;
            return Err(injected(what));
        }
        Ok(())
    }

    /// Whether the power goes at this operation.
    fn crash_due(&self) -> Option<Loss> {
        let (at, loss) = self.crash_at?;
        (self.counts.writes + self.counts.syncs >= at).then_some(loss)
    }
}

impl SimDir {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl LogDir for SimDir {
    fn list(&self) -> io::Result<Vec<String>> {
        let s = self.lock();
        if s.generation != self.generation {
            return Err(dead());
        }
        Ok(s.files.keys().cloned().collect())
    }

    fn read(&self, name: &str) -> io::Result<Vec<u8>> {
        let s = self.lock();
        if s.generation != self.generation {
            return Err(dead());
        }
        s.files.get(name).map(|f| f.written.clone()).ok_or_else(|| not_found(name))
    }

    fn read_at(&self, name: &str, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let s = self.lock();
        if s.generation != self.generation {
            return Err(dead());
        }
        let f = s.files.get(name).ok_or_else(|| not_found(name))?;
        let start = offset as usize;
        f.written
            .get(start..start + len)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "read past the end"))
    }

    fn create(&mut self, name: &str) -> io::Result<()> {
        let mut s = self.lock();
        s.step(self.generation, true, true)?;
        if let Some(loss) = s.crash_due() {
            s.power_loss(loss);
            return Err(dead());
        }
        if s.files.contains_key(name) {
            return Err(io::Error::new(io::ErrorKind::AlreadyExists, format!("{name} exists")));
        }
        s.files.insert(name.to_string(), File::default());
        Ok(())
    }

    fn append(&mut self, name: &str, bytes: &[u8]) -> io::Result<()> {
        let mut s = self.lock();
        let stepped = s.step(self.generation, true, false);
        if !s.files.contains_key(name) {
            stepped?;
            return Err(not_found(name));
        }
        let len = s.files[name].written.len() as u64;
        let keep = match &stepped {
            Ok(()) => bytes.len(),
            // A failed write may still have put part of its bytes in the cache.
            Err(_) if s.generation == self.generation => s.rng.below(bytes.len() as u64 + 1) as usize,
            Err(_) => 0,
        };
        if keep > 0 {
            let f = s.files.get_mut(name).expect("checked");
            f.written.extend_from_slice(&bytes[..keep]);
            f.pending.push((len, bytes[..keep].to_vec()));
        }
        stepped?;
        if let Some(loss) = s.crash_due() {
            // The power goes while this write is in the cache, unsynced.
            s.power_loss(loss);
            return Err(dead());
        }
        Ok(())
    }

    fn sync(&mut self, name: &str) -> io::Result<()> {
        let mut s = self.lock();
        if let Some(loss) = {
            if s.generation != self.generation {
                return Err(dead());
            }
            // The power can go just before an fsync.
            let next = s.counts.writes + s.counts.syncs + 1;
            s.crash_at.and_then(|(at, loss)| (next >= at).then_some(loss))
        } {
            s.counts.syncs += 1;
            s.power_loss(loss);
            return Err(dead());
        }
        let stepped = s.step(self.generation, false, true);
        let f = s.files.get_mut(name).ok_or_else(|| not_found(name))?;
        let pending = std::mem::take(&mut f.pending);
        if stepped.is_ok() {
            for (off, b) in pending {
                put(&mut f.synced, off, &b);
            }
        }
        // On failure the pending writes are forgotten: readable, never durable.
        stepped
    }

    fn truncate(&mut self, name: &str, len: u64) -> io::Result<()> {
        let mut s = self.lock();
        s.step(self.generation, true, true)?;
        if let Some(loss) = s.crash_due() {
            s.power_loss(loss);
            return Err(dead());
        }
        let f = s.files.get_mut(name).ok_or_else(|| not_found(name))?;
        // Truncate-and-fsync makes the file's pending writes durable too.
        for (off, b) in std::mem::take(&mut f.pending) {
            put(&mut f.synced, off, &b);
        }
        f.written.resize(len as usize, 0);
        f.synced.resize(len as usize, 0);
        Ok(())
    }

    fn remove(&mut self, name: &str) -> io::Result<()> {
        let mut s = self.lock();
        s.step(self.generation, true, true)?;
        if let Some(loss) = s.crash_due() {
            s.power_loss(loss);
            return Err(dead());
        }
        s.files.remove(name).map(|_| ()).ok_or_else(|| not_found(name))
    }

    fn read_head(&self) -> io::Result<Option<Vec<u8>>> {
        let s = self.lock();
        if s.generation != self.generation {
            return Err(dead());
        }
        Ok(s.head.clone())
    }

    fn replace_head(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.head_op(|head| *head = Some(bytes.to_vec()))
    }

    fn update_head(&mut self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        let s = self.lock();
        if s.head.is_none() && s.generation == self.generation {
            return Err(not_found("the head file"));
        }
        drop(s);
        self.head_op(|head| put(head.get_or_insert_with(Vec::new), offset, bytes))
    }
}

impl SimDir {
    /// A durable head operation: done whole, or (on a fault) not at all; when
    /// the power goes during it, done or not at random.
    fn head_op(&mut self, apply: impl FnOnce(&mut Option<Vec<u8>>)) -> io::Result<()> {
        let mut s = self.lock();
        s.step(self.generation, true, true)?;
        if let Some(loss) = s.crash_due() {
            if s.rng.below(2) == 0 {
                apply(&mut s.head);
            }
            s.power_loss(loss);
            return Err(dead());
        }
        apply(&mut s.head);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synced_bytes_survive_and_unsynced_ones_may_not() {
        let disk = SimDisk::new(1);
        let mut d = disk.dir();
        d.create("f").unwrap();
        d.append("f", b"hello ").unwrap();
        d.sync("f").unwrap();
        d.append("f", b"world").unwrap();
        assert_eq!(d.read("f").unwrap(), b"hello world");
        assert_eq!(disk.unsynced_bytes(), 5);
        disk.power_loss(Loss::DropUnsynced);
        assert!(d.read("f").is_err(), "an old handle is dead after power loss");
        assert_eq!(disk.dir().read("f").unwrap(), b"hello ");
    }

    #[test]
    fn a_torn_write_keeps_a_prefix_and_reorder_leaves_holes() {
        let mut saw_partial = false;
        let mut saw_hole = false;
        for seed in 0..200 {
            let disk = SimDisk::new(seed);
            let mut d = disk.dir();
            d.create("f").unwrap();
            let data: Vec<u8> = (0..2000u32).map(|i| (i % 251 + 1) as u8).collect();
            d.append("f", &data).unwrap();
            disk.power_loss(Loss::TearLast);
            let got = disk.dir().read("f").unwrap();
            assert_eq!(got[..], data[..got.len()]);
            saw_partial |= !got.is_empty() && got.len() < data.len();

            let disk = SimDisk::new(seed);
            let mut d = disk.dir();
            d.create("f").unwrap();
            d.append("f", &data).unwrap();
            disk.power_loss(Loss::Reorder);
            let got = disk.dir().read("f").unwrap();
            for (i, b) in got.iter().enumerate() {
                assert!(*b == 0 || *b == data[i]);
            }
            saw_hole |= got.first() == Some(&0);
        }
        assert!(saw_partial && saw_hole);
    }

    #[test]
    fn a_failed_fsync_loses_the_pending_pages_for_good() {
        let disk = SimDisk::new(3);
        let mut d = disk.dir();
        d.create("f").unwrap();
        disk.inject(Fault::Sync(1));
        d.append("f", b"abc").unwrap();
        assert!(d.sync("f").is_err());
        assert_eq!(d.read("f").unwrap(), b"abc", "still readable");
        d.append("f", b"def").unwrap();
        d.sync("f").unwrap();
        disk.power_loss(Loss::DropUnsynced);
        assert_eq!(disk.dir().read("f").unwrap(), b"\0\0\0def", "the lost pages read back as a hole");
    }

    #[test]
    fn the_nth_write_fails_once() {
        let disk = SimDisk::new(4);
        let mut d = disk.dir();
        d.create("f").unwrap(); // write 1
        disk.inject(Fault::Write(2));
        d.append("f", b"a").unwrap();
        assert!(d.append("f", b"bbbb").is_err());
        d.append("f", b"c").unwrap();
        assert_eq!(disk.faults_hit(), 1);
    }

    #[test]
    fn a_scheduled_crash_kills_the_boot() {
        let disk = SimDisk::new(5);
        let mut d = disk.dir();
        d.create("f").unwrap();
        disk.crash_at(2, Loss::DropUnsynced);
        d.append("f", b"a").unwrap();
        assert!(d.sync("f").is_err());
        assert!(d.append("f", b"b").is_err());
        assert_eq!(disk.dir().read("f").unwrap(), b"");
    }
}
