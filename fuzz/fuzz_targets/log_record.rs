//! Feeds arbitrary bytes to the log-record decoder: as one frame
//! (`frame::check`, then the body through the codec), and as a whole segment
//! opened, read and repaired by the log. Each must give a result or an
//! error, never a panic; a hostile length must be refused before anything
//! is allocated for it (the frame's length is checked against the codec's
//! limit, and the codec's own limit bounds every length inside a body).
//! tests/fuzz_corpus.rs replays the corpus with the same checks.
#![no_main]

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex};

use claimgraph::log::{Log, LogDir, LogError, frame};
use claimgraph::model::TxBody;
use libfuzzer_sys::fuzz_target;

/// A directory of files in memory.
#[derive(Clone, Default)]
struct MemDir(Arc<Mutex<BTreeMap<String, Vec<u8>>>>);

impl MemDir {
    fn files(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Vec<u8>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn missing() -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, "no such file")
}

impl LogDir for MemDir {
    fn list(&self) -> io::Result<Vec<String>> {
        Ok(self.files().keys().cloned().collect())
    }
    fn read(&self, name: &str) -> io::Result<Vec<u8>> {
        self.files().get(name).cloned().ok_or_else(missing)
    }
    fn read_at(&self, name: &str, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let files = self.files();
        let f = files.get(name).ok_or_else(missing)?;
        let start = usize::try_from(offset).map_err(|_| missing())?;
        f.get(start..start.saturating_add(len)).map(<[u8]>::to_vec).ok_or_else(missing)
    }
    fn create(&mut self, name: &str) -> io::Result<()> {
        self.files().insert(name.to_string(), Vec::new());
        Ok(())
    }
    fn append(&mut self, name: &str, bytes: &[u8]) -> io::Result<()> {
        self.files().get_mut(name).ok_or_else(missing)?.extend_from_slice(bytes);
        Ok(())
    }
    fn sync(&mut self, _: &str) -> io::Result<()> {
        Ok(())
    }
    fn truncate(&mut self, name: &str, len: u64) -> io::Result<()> {
        self.files().get_mut(name).ok_or_else(missing)?.truncate(len as usize);
        Ok(())
    }
    fn remove(&mut self, name: &str) -> io::Result<()> {
        self.files().remove(name).map(|_| ()).ok_or_else(missing)
    }
}

fn segment(data: &[u8]) -> MemDir {
    let dir = MemDir::default();
    dir.files().insert("seg-0000000000000001.log".to_string(), data.to_vec());
    dir
}

fuzz_target!(|data: &[u8]| {
    if let Ok(h) = frame::check(data) {
        let body = &data[frame::HEADER_LEN..frame::HEADER_LEN + h.body_len];
        let _ = claimgraph::codec::decode::<TxBody>(body, "transaction body");
    }
    if let Ok((log, _)) = Log::open(Box::new(segment(data))) {
        let mut prev = claimgraph::model::Hash::ZERO;
        let _ = log.for_each_from(1, |rec| {
            assert_eq!(rec.prev_hash, prev, "an opened log is a chain");
            prev = rec.hash;
            Ok::<(), LogError>(())
        });
    }
    let dir = segment(data);
    let (repaired, _) = Log::repair(Box::new(dir.clone())).expect("repair works on any bytes");
    let head = repaired.head();
    drop(repaired);
    // What the repair kept opens cleanly, with nothing more to drop.
    let (log, report) = Log::open(Box::new(dir)).expect("a repaired log opens");
    assert_eq!((log.head(), report.dropped_bytes), (head, 0));
});
