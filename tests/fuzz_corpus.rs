//! Replays the checked-in fuzz corpora through the same checks the fuzz
//! targets make, so an ordinary `cargo test` keeps every saved input honest.

use std::path::Path;

fn corpus(name: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(name);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
        .collect();
    files.sort();
    files
}

#[test]
fn parser_corpus_never_panics_and_round_trips() {
    let files = corpus("parse");
    assert!(files.len() > 50, "the parse corpus should hold the grammar's examples");
    for (name, data) in files {
        let Ok(text) = std::str::from_utf8(&data) else { continue };
        if let Ok(stmt) = claimgraph::query::parse_statement(text) {
            let printed = stmt.to_string();
            let again = claimgraph::query::parse_statement(&printed)
                .unwrap_or_else(|e| panic!("{name}: printed form does not parse: {e}\n{printed}"));
            assert_eq!(stmt, again, "{name}");
        }
        let _ = claimgraph::query::parse_script(text);
    }
}

/// The `jsonl` target's checks: every line parses or errs, never panics, and
/// a line that parses survives being written out and parsed again.
#[test]
fn jsonl_corpus_never_panics() {
    let files = corpus("jsonl");
    assert!(files.len() > 50, "the jsonl corpus should hold real and hostile lines");
    let mut parsed = 0;
    for (name, data) in files {
        for line in data.split(|&b| b == b'\n') {
            let Ok(text) = std::str::from_utf8(line) else { continue };
            if let Ok(tx) = claimgraph::jsonl::parse_line(text) {
                claimgraph::jsonl::check_round_trip(&tx).unwrap_or_else(|e| panic!("{name}: {e}"));
                parsed += 1;
            }
        }
    }
    assert!(parsed >= 20, "the example's lines are in the corpus");
}

/// The round trip can fail: a value JSON cannot carry (a NaN confidence is
/// written as `null`) comes back different, and is caught.
#[test]
fn the_jsonl_round_trip_check_can_fail() {
    let line =
        r#"{"author":"a","events":[{"op":"assert","s":"x","p":"rates","o":{"int":5},"confidence":0.5}]}"#;
    let mut tx = claimgraph::jsonl::parse_line(line).unwrap();
    assert!(claimgraph::jsonl::check_round_trip(&tx).is_ok());
    let claimgraph::model::Event::Assert(a) = &mut tx.events[0] else { panic!("an assertion") };
    a.confidence = Some(f64::NAN);
    assert!(claimgraph::jsonl::check_round_trip(&tx).is_err());
}

mod mem {
    //! The in-memory log directory the `log_record` target uses.
    use std::collections::BTreeMap;
    use std::io;
    use std::sync::{Arc, Mutex, MutexGuard};

    use claimgraph::log::LogDir;

    #[derive(Clone, Default)]
    pub struct MemDir(Arc<Mutex<BTreeMap<String, Vec<u8>>>>);

    impl MemDir {
        pub fn segment(data: &[u8]) -> MemDir {
            let dir = MemDir::default();
            dir.files().insert("seg-0000000000000001.log".to_string(), data.to_vec());
            dir
        }
        fn files(&self) -> MutexGuard<'_, BTreeMap<String, Vec<u8>>> {
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
}

/// The `log_record` target's checks: a frame and its body decode or err; the
/// bytes as a segment open (and read back as a chain) or err; the repair
/// always works and leaves a log that opens with nothing to drop.
#[test]
fn log_record_corpus_never_panics() {
    use claimgraph::log::{Log, LogError, frame};
    use mem::MemDir;

    let files = corpus("log_record");
    assert!(files.len() > 50, "the log_record corpus should hold real and hostile records");
    let mut opened = 0;
    for (name, data) in files {
        if let Ok(h) = frame::check(&data) {
            let body = &data[frame::HEADER_LEN..frame::HEADER_LEN + h.body_len];
            let _ = claimgraph::codec::decode::<claimgraph::model::TxBody>(body, "transaction body");
        }
        if let Ok((log, _)) = Log::open(Box::new(MemDir::segment(&data))) {
            let mut prev = claimgraph::model::Hash::ZERO;
            let read = log.for_each_from(1, |rec| {
                assert_eq!(rec.prev_hash, prev, "{name}: an opened log is a chain");
                prev = rec.hash;
                Ok::<(), LogError>(())
            });
            opened += usize::from(read.is_ok() && log.head() > 0);
        }
        let dir = MemDir::segment(&data);
        let (repaired, _) =
            Log::repair(Box::new(dir.clone())).unwrap_or_else(|e| panic!("{name}: repair: {e}"));
        let head = repaired.head();
        drop(repaired);
        let (log, report) =
            Log::open(Box::new(dir)).unwrap_or_else(|e| panic!("{name}: reopen after repair: {e}"));
        assert_eq!((log.head(), report.dropped_bytes), (head, 0), "{name}");
    }
    assert!(opened >= 5, "real logs in the corpus open and read back");
}
