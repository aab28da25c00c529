//! Issue 12, finding 13: a store the process may not write to can still be
//! read, exported and verified. `Options::read_only` (and the CLI's
//! `--read-only`, or its fallback on a file system that refuses writes)
//! opens it without writing a byte: the index is built in memory from the
//! log and every write is refused with `StoreError::ReadOnly`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use claimgraph::{Options, Store, StoreError, jsonl};

use crate::workload;

const TXS: u64 = 40;

fn read_only() -> Options {
    Options { read_only: true, ..Options::default() }
}

/// Every file under `dir` with its bytes (the store must not change one).
fn contents(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    crate::files_under(dir).into_iter().map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect()
}

fn store_with_workload(dir: &Path) {
    let store = crate::create_first_use(dir).unwrap();
    for k in 1..=TXS {
        store.commit(workload::tx(k)).unwrap();
    }
    store.close().unwrap();
}

fn export(store: &Store) -> Vec<u8> {
    let mut out = Vec::new();
    jsonl::export(store, None, &mut out).unwrap();
    out
}

#[test]
fn a_read_only_open_reads_exports_and_verifies_without_writing_a_byte() {
    let tmp = crate::mem_tempdir();
    store_with_workload(tmp.path());
    let writable_export = export(&Store::open(tmp.path()).unwrap());
    let before = contents(tmp.path());
    assert!(!before.is_empty());
    {
        let store = Store::open_with(tmp.path(), read_only()).unwrap();
        assert_eq!(store.head(), TXS);
        assert_eq!(store.open_report().replayed, TXS, "the in-memory index is built from the log");
        workload::check_log(&store, &[]).unwrap();
        workload::check_view(&store.snapshot()).unwrap();
        assert_eq!(export(&store), writable_export);
        let report = store.verify().unwrap();
        assert!(report.ok(), "{:?}", report.problems);
        assert_eq!(report.transactions, TXS);
        // Every kind of write is refused, and says why.
        match store.commit(workload::tx(TXS + 1)) {
            Err(StoreError::ReadOnly { path }) => assert_eq!(path, tmp.path()),
            other => panic!("a write to a read-only store gave {other:?}"),
        }
        assert!(matches!(store.rebuild_indexes(), Err(StoreError::ReadOnly { .. })));
        assert!(matches!(store.check(&workload::tx(TXS + 1)), Err(StoreError::ReadOnly { .. })));
        assert_eq!(store.head(), TXS);
    }
    assert_eq!(contents(tmp.path()), before, "a read-only open changed the store's files");
    // And the store opens for writing again as before.
    let store = Store::open(tmp.path()).unwrap();
    assert_eq!(store.open_report().rebuilt, None);
    store.commit(workload::tx(TXS + 1)).unwrap();
}

#[test]
fn readers_share_a_read_only_store_and_a_writer_excludes_them() {
    let tmp = crate::mem_tempdir();
    store_with_workload(tmp.path());
    let a = Store::open_with(tmp.path(), read_only()).unwrap();
    let b = Store::open_with(tmp.path(), read_only()).unwrap();
    assert_eq!((a.head(), b.head()), (TXS, TXS));
    assert!(matches!(Store::open(tmp.path()), Err(StoreError::Locked { .. })));
    drop((a, b));
    let writer = Store::open(tmp.path()).unwrap();
    assert!(matches!(Store::open_with(tmp.path(), read_only()), Err(StoreError::Locked { .. })));
    drop(writer);
    // A missing store stays missing: nothing is created.
    let missing = tmp.path().join("nothing-here");
    assert!(matches!(Store::open_with(&missing, read_only()), Err(StoreError::NotFound { .. })));
    assert!(!missing.exists());
}

/// An unacknowledged torn tail is left in place (nothing may be written),
/// and the log ends before it, as a writable open would cut it.
#[test]
fn a_torn_tail_is_left_in_place_and_read_past() {
    let tmp = crate::mem_tempdir();
    store_with_workload(tmp.path());
    let seg = crate::files_under(&tmp.path().join("log")).into_iter().max().expect("a log segment");
    let whole = std::fs::read(&seg).unwrap();
    // The start of a record the head file never acknowledged: a torn write.
    let mut torn = whole.clone();
    torn.extend_from_slice(&whole[whole.len() - 40..whole.len() - 10]);
    std::fs::write(&seg, &torn).unwrap();
    let before = contents(tmp.path());
    {
        let store = Store::open_with(tmp.path(), read_only()).unwrap();
        let report = &store.open_report().log;
        assert_eq!(store.head(), TXS);
        assert_eq!(report.dropped_bytes, 30, "{report:?}");
        assert!(report.dropped_why.as_deref().unwrap_or("").contains("left in place"), "{report:?}");
        workload::check_log(&store, &[]).unwrap();
    }
    assert_eq!(contents(tmp.path()), before, "the torn tail was cut by a read-only open");
    // A writable open cuts it.
    let store = Store::open(tmp.path()).unwrap();
    assert_eq!(store.open_report().log.dropped_bytes, 30);
    assert_eq!(std::fs::read(&seg).unwrap(), whole);
}

/// The damage a writable open refuses, a read-only open refuses too.
#[test]
fn a_log_cut_short_is_refused_read_only_as_well() {
    let tmp = crate::mem_tempdir();
    store_with_workload(tmp.path());
    std::fs::remove_dir_all(tmp.path().join("log")).unwrap();
    match Store::open_with(tmp.path(), read_only()) {
        Err(StoreError::Log(e)) => assert!(e.to_string().contains("acknowledged"), "{e}"),
        other => panic!("a store whose log was deleted opened read-only: {:?}", other.map(|s| s.head())),
    }
    assert!(!tmp.path().join("log").exists(), "the read-only open created log/");
}

fn cli(store: &Path, args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_claimgraph"))
        .arg("--store")
        .arg(store)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_cli_reads_a_store_read_only_and_refuses_writes_there() {
    let tmp = crate::mem_tempdir();
    store_with_workload(tmp.path());
    let (ok, writable_export, err) = cli(tmp.path(), &["export"]);
    assert!(ok, "{err}");
    let before = contents(tmp.path());
    let (ok, export, err) = cli(tmp.path(), &["--read-only", "export"]);
    assert!(ok, "{err}");
    assert_eq!(export, writable_export);
    let (ok, out, err) =
        cli(tmp.path(), &["--read-only", "query", "MATCH (@hub)-[c:member]->(x) RETURN count(c) AS n"]);
    assert!(ok, "{err}");
    assert!(out.contains(&workload::live_ids(TXS).len().to_string()), "{out}");
    let (ok, out, err) = cli(tmp.path(), &["--read-only", "verify"]);
    assert!(ok, "{out}{err}");
    let (ok, _, err) = cli(tmp.path(), &["--read-only", "query", "ASSERT (@hub)-[:member]->(@hub);"]);
    assert!(!ok);
    assert!(err.contains("open read-only; nothing was written"), "{err}");
    assert_eq!(contents(tmp.path()), before, "a --read-only command changed the store's files");
}
