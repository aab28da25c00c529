//! Recovery on open: torn tails are cut and reported, damage followed by good
//! records is refused with the tx named, a lost or damaged index is rebuilt
//! from the log, and hostile bytes are errors, never aborts.

use std::path::{Path, PathBuf};

use claimgraph::log::frame;
use claimgraph::model::{Hash, Term};
use claimgraph::{ClaimQuery, Store, StoreError};

const SEGMENT: &str = "log/seg-0000000000000001.log";

/// A store with `n` transactions, each asserting one claim; returns the
/// segment length after each tx (index 0 = empty).
fn build(dir: &Path, n: u64) -> Vec<u64> {
    let store = create_first_use(dir).unwrap();
    store
        .transact("t", |tx| {
            tx.entity("a", "Thing", "A");
            tx.entity("b", "Thing", "B");
        })
        .unwrap();
    let mut lens = vec![0, seg_len(dir)];
    for i in 2..=n {
        store
            .transact("t", |tx| {
                tx.assert("a", "knows", Term::Int(i as i64)).claim = Some(format!("k{i}"));
            })
            .unwrap();
        lens.push(seg_len(dir));
    }
    lens
}

fn seg_len(dir: &Path) -> u64 {
    std::fs::metadata(dir.join(SEGMENT)).unwrap().len()
}

/// A copy of the store's log only (the index is rebuilt on open).
fn copy_log(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.join("log")).unwrap();
    std::fs::copy(from.join(SEGMENT), to.join(SEGMENT)).unwrap();
}

fn claim_ids(store: &Store) -> Vec<String> {
    store.snapshot().claims(&ClaimQuery::default()).unwrap().into_iter().map(|c| c.id).collect()
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn a_log_cut_at_every_byte_of_its_last_record_drops_that_record() {
    let src = tmp();
    let lens = build(src.path(), 4);
    let (start, end) = (lens[3], lens[4]);
    for cut in start..end {
        let dir = tmp();
        copy_log(src.path(), dir.path());
        let f = std::fs::OpenOptions::new().write(true).open(dir.path().join(SEGMENT)).unwrap();
        f.set_len(cut).unwrap();
        drop(f);
        let store = create_first_use(dir.path()).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        assert_eq!(store.head(), 3, "cut at {cut}");
        assert_eq!(store.open_report().log.dropped_bytes, cut - start, "cut at {cut}");
        assert_eq!(store.open_report().log.dropped_why.is_some(), cut > start);
        assert_eq!(claim_ids(&store), vec!["k2", "k3"]);
        // The cut is durable: the store accepts the next transaction as tx 4.
        let r = store
            .transact("t", |tx| {
                tx.assert("b", "knows", Term::Int(9));
            })
            .unwrap();
        assert_eq!(r.tx, 4);
    }
}

#[test]
fn a_damaged_record_before_good_ones_is_refused_naming_the_tx() {
    let src = tmp();
    let lens = build(src.path(), 4);
    let bytes = std::fs::read(src.path().join(SEGMENT)).unwrap();
    for at in lens[1]..lens[2] {
        let dir = tmp();
        copy_log(src.path(), dir.path());
        let mut damaged = bytes.clone();
        damaged[at as usize] ^= 0x20;
        std::fs::write(dir.path().join(SEGMENT), &damaged).unwrap();
        match create_first_use(dir.path()) {
            Err(StoreError::Log(claimgraph::log::LogError::Corrupt { tx, .. })) => {
                assert_eq!(tx, 2, "flip at byte {at}")
            }
            Err(e) => panic!("flip at byte {at}: unexpected error {e}"),
            Ok(_) => panic!("flip at byte {at}: opened a damaged log"),
        }
        // The file was not touched by the refused open.
        assert_eq!(std::fs::read(dir.path().join(SEGMENT)).unwrap(), damaged);
    }
}

#[test]
fn repair_cuts_at_the_damage_only_when_asked() {
    let src = tmp();
    let lens = build(src.path(), 4);
    let dir = tmp();
    copy_log(src.path(), dir.path());
    let mut bytes = std::fs::read(dir.path().join(SEGMENT)).unwrap();
    bytes[lens[2] as usize + frame::HEADER_LEN + 2] ^= 1;
    std::fs::write(dir.path().join(SEGMENT), &bytes).unwrap();
    let err = create_first_use(dir.path()).err().expect("refused");
    assert!(err.to_string().contains("damaged at tx 3"), "{err}");
    let report = Store::repair(dir.path()).unwrap();
    assert_eq!(report.cut_at_tx, Some(3));
    assert_eq!(report.dropped_valid_records, 1);
    assert_eq!(report.dropped_bytes, lens[4] - lens[2]);
    let store = create_first_use(dir.path()).unwrap();
    assert_eq!(store.head(), 2);
    assert_eq!(claim_ids(&store), vec!["k2"]);
    assert!(store.verify().unwrap().ok());
}

fn answers(store: &Store) -> (u64, Vec<String>, claimgraph::Stats) {
    (store.head(), claim_ids(store), store.snapshot().stats().unwrap())
}

#[test]
fn a_deleted_index_is_rebuilt_from_the_log() {
    let dir = tmp();
    build(dir.path(), 5);
    let before = answers(&create_first_use(dir.path()).unwrap());
    std::fs::remove_dir_all(claimgraph::store::live_index_dir(dir.path())).unwrap();
    let store = create_first_use(dir.path()).unwrap();
    assert_eq!(store.open_report().replayed, 5);
    assert_eq!(answers(&store), before);
    assert!(store.verify().unwrap().ok());
}

fn files_under(p: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(p).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(files_under(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[test]
fn a_damaged_index_is_rebuilt_from_the_log() {
    let dir = tmp();
    build(dir.path(), 5);
    let before = {
        let s = create_first_use(dir.path()).unwrap();
        s.flush_indexes().unwrap();
        answers(&s)
    };
    // Overwrite every index file with garbage.
    for f in files_under(&claimgraph::store::live_index_dir(dir.path())) {
        let len = std::fs::metadata(&f).unwrap().len() as usize;
        std::fs::write(&f, vec![0xA5; len.max(16)]).unwrap();
    }
    let store = create_first_use(dir.path()).unwrap();
    assert!(store.open_report().rebuilt.is_some(), "{:?}", store.open_report());
    assert_eq!(answers(&store), before);
}

#[test]
fn an_index_ahead_of_the_log_is_rebuilt() {
    let src = tmp();
    let lens = build(src.path(), 4);
    let f = std::fs::OpenOptions::new().write(true).open(src.path().join(SEGMENT)).unwrap();
    f.set_len(lens[3]).unwrap();
    drop(f);
    let store = create_first_use(src.path()).unwrap();
    assert_eq!(store.head(), 3);
    assert!(store.open_report().rebuilt.as_deref().unwrap_or("").contains("ahead of the log"));
    assert_eq!(claim_ids(&store), vec!["k2", "k3"]);
    assert!(store.verify().unwrap().ok());
}

#[test]
fn a_hostile_record_length_is_a_dropped_tail_not_an_allocation() {
    let dir = tmp();
    let lens = build(dir.path(), 2);
    let mut bytes = std::fs::read(dir.path().join(SEGMENT)).unwrap();
    let (mut extra, _) = frame::encode(3, &Hash::ZERO, b"x");
    extra[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    bytes.extend_from_slice(&extra);
    std::fs::remove_dir_all(claimgraph::store::live_index_dir(dir.path())).unwrap();
    std::fs::write(dir.path().join(SEGMENT), &bytes).unwrap();
    let store = create_first_use(dir.path()).unwrap();
    assert_eq!(store.head(), 2);
    assert_eq!(store.open_report().log.dropped_bytes, extra.len() as u64);
    assert_eq!(seg_len(dir.path()), lens[2]);
}

#[test]
fn a_decode_bomb_with_a_valid_checksum_is_an_error() {
    let dir = tmp();
    build(dir.path(), 2);
    let store = create_first_use(dir.path()).unwrap();
    let prev = store.snapshot().transaction(2).unwrap().unwrap().hash;
    drop(store);
    // A body that claims an enormous string: varint 0xFD + u64::MAX.
    let body = [0xFDu8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F];
    let (frame_bytes, _) = frame::encode(3, &prev, &body);
    let mut bytes = std::fs::read(dir.path().join(SEGMENT)).unwrap();
    bytes.extend_from_slice(&frame_bytes);
    std::fs::write(dir.path().join(SEGMENT), &bytes).unwrap();
    let err = create_first_use(dir.path()).err().expect("a bomb must not open");
    let msg = err.to_string();
    assert!(msg.contains("tx 3") && msg.contains("cannot decode"), "{msg}");
}

#[test]
fn reopen_after_drop_sees_everything_committed() {
    let dir = tmp();
    build(dir.path(), 6);
    let first = answers(&create_first_use(dir.path()).unwrap());
    let second = create_first_use(dir.path()).unwrap();
    assert_eq!(second.open_report().replayed, 0, "a clean index needs no replay");
    assert_eq!(answers(&second), first);
    assert_eq!(first.0, 6);
}

/// These fixtures write predicates without declaring them: the store lets an
/// assert create one on first use (issue 14 made that an explicit option).
#[allow(dead_code)]
fn first_use() -> claimgraph::Options {
    claimgraph::Options { create_predicates: true, ..claimgraph::Options::default() }
}

/// [`claimgraph::Store::create`] with predicates created on first use.
#[allow(dead_code)]
fn create_first_use(path: impl AsRef<std::path::Path>) -> Result<claimgraph::Store, claimgraph::StoreError> {
    claimgraph::Store::open_with(path, claimgraph::Options { create: true, ..first_use() })
}
