//! Suite 10, index faults (issue 12, findings 1–4, 11, 13): the store over
//! the fault-injecting index backend (`claimgraph::index::faults`). Each
//! test arms one kind of fault and checks the promise it threatens:
//!
//! - once the log has a chunk, an index failure never reports it failed
//!   (it is acknowledged, the index is rebuilt from the log), and a refused
//!   one is never durable; an import says which transactions the log holds
//!   and `--resume` continues without duplicating (finding 3);
//! - an index that could not be written completely is never trusted by a
//!   later open; a full disk is refused before anything is written; a
//!   flush that hangs gives an error and the store still closes (1, 2);
//! - a read error after open is healed by a rebuild, or is an error that
//!   names `claimgraph reindex`, never a half-answer (11);
//! - a transaction over the event limit is refused telling to split it,
//!   and a logged transaction far larger than one index batch is replayed
//!   in pieces (4);
//! - out-of-space while opening the index is an error, not damage (13).

use std::sync::Arc;
use std::time::Duration;

use claimgraph::index::faults::{Fault, IndexFaults, Op};
use claimgraph::jsonl::{self, ImportOptions};
use claimgraph::{Clock, Options, Store, StoreError};

use crate::{StepClock, workload};

fn options(faults: &Arc<IndexFaults>) -> Options {
    let clock: Arc<dyn Clock> = Arc::new(StepClock::new());
    Options {
        clock: Some(clock),
        index_faults: Some(faults.clone()),
        index_flush_deadline: Some(Duration::from_millis(300)),
        ..Options::default()
    }
}

fn commit_range(store: &Store, from: u64, to: u64, acked: &mut Vec<(u64, String)>) {
    let (receipts, err) = store.commit_batch((from..=to).map(workload::tx).collect());
    assert!(err.is_none(), "commit of tx {from}..={to}: {:?}", err.map(|e| e.1.to_string()));
    acked.extend(receipts.iter().map(|r| (r.tx, r.hash.to_string())));
}

/// Finding 3: the index runs out of space after the log took the chunk.
/// The commit is acknowledged (not "0 transactions committed"), the store
/// rebuilds its index before the next read, and a reopen holds every
/// acknowledged transaction exactly once.
#[test]
fn an_index_failure_after_the_log_has_the_chunk_is_acknowledged_not_reported_failed() {
    for fault in [Fault::NoSpace, Fault::Io] {
        let tmp = crate::mem_tempdir();
        let faults = IndexFaults::new(3);
        let mut acked = Vec::new();
        {
            let store = Store::open_with(tmp.path(), options(&faults)).unwrap();
            commit_range(&store, 1, 5, &mut acked);
            faults.fail_nth(Op::Write, 1, fault);
            let (receipts, err) = store.commit_batch((6..=9).map(workload::tx).collect());
            assert!(err.is_none(), "{fault:?}: the logged chunk was reported failed: {:?}", err.map(|e| e.1));
            assert_eq!(receipts.iter().map(|r| r.tx).collect::<Vec<_>>(), vec![6, 7, 8, 9]);
            assert_eq!(faults.hits(), 1);
            acked.extend(receipts.iter().map(|r| (r.tx, r.hash.to_string())));
            assert_eq!(store.head(), 9);
            // The next read rebuilds the index and sees tx 6–9.
            let view = store.snapshot();
            assert_eq!(view.at(), 9);
            workload::check_view(&view).unwrap();
            commit_range(&store, 10, 12, &mut acked);
            assert!(store.verify().unwrap().ok());
        }
        let store = Store::open(tmp.path()).unwrap();
        assert_eq!(workload::check_log(&store, &acked).unwrap(), 12);
        workload::check_view(&store.snapshot()).unwrap();
    }
}

/// Finding 1: a torn index write (its META landed, half its data did not)
/// followed by the end of the process. The reopen must rebuild, not trust
/// the index that says it applied the chunk.
#[test]
fn an_index_that_could_not_be_written_is_rebuilt_on_reopen_never_trusted() {
    let tmp = crate::mem_tempdir();
    let faults = IndexFaults::new(4);
    let mut acked = Vec::new();
    {
        let store = Store::open_with(tmp.path(), options(&faults)).unwrap();
        commit_range(&store, 1, 20, &mut acked);
        faults.fail_nth(Op::Write, 1, Fault::NoSpace);
        commit_range(&store, 21, 40, &mut acked);
        // The process ends here, with no read to heal the index first.
    }
    assert!(tmp.path().join("INDEX_DIRTY").exists(), "the failed index was not left marked");
    let store = Store::open(tmp.path()).unwrap();
    let why = store.open_report().rebuilt.clone().expect("the torn index was trusted");
    assert!(why.contains("not flushed cleanly"), "{why}");
    assert_eq!(workload::check_log(&store, &acked).unwrap(), 40);
    workload::check_view(&store.snapshot()).unwrap();
    assert!(store.verify().unwrap().ok());
    drop(store);
    // Closed cleanly this time: the next open trusts the index.
    assert!(!tmp.path().join("INDEX_DIRTY").exists());
    let store = Store::open(tmp.path()).unwrap();
    assert_eq!(store.open_report().rebuilt, None);
}

/// Finding 2: a free-space check refuses a chunk before anything is
/// written, with a clear out-of-space error.
#[test]
fn a_full_disk_is_refused_before_anything_is_written() {
    let tmp = crate::mem_tempdir();
    let faults = IndexFaults::new(5);
    let mut acked = Vec::new();
    let store = Store::open_with(tmp.path(), options(&faults)).unwrap();
    commit_range(&store, 1, 3, &mut acked);
    faults.set_free_space(Some(1 << 20));
    let (receipts, err) = store.commit_batch((4..=6).map(workload::tx).collect());
    assert!(receipts.is_empty());
    let (at, e) = err.expect("a commit with 1 MiB free was accepted");
    assert_eq!(at, 0);
    assert!(matches!(e, StoreError::OutOfSpace { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("free disk space") && msg.contains("nothing was written"), "{msg}");
    assert_eq!(store.head(), 3);
    faults.set_free_space(None);
    commit_range(&store, 4, 6, &mut acked);
    drop(store);
    let store = Store::open(tmp.path()).unwrap();
    assert_eq!(workload::check_log(&store, &acked).unwrap(), 6);
}

/// Finding 2: a flush that never returns (sled waiting on a full disk) is
/// given up at the deadline with an error; the store still closes, and the
/// index it could not flush is rebuilt by the next open.
#[test]
fn a_hung_index_flush_is_an_error_at_the_deadline_and_close_does_not_hang() {
    let tmp = crate::mem_tempdir();
    let faults = IndexFaults::new(6);
    let mut acked = Vec::new();
    {
        let store = Store::open_with(tmp.path(), options(&faults)).unwrap();
        commit_range(&store, 1, 8, &mut acked);
        faults.fail_nth(Op::Flush, 1, Fault::Hang);
        let err = store.flush_indexes().expect_err("a hung flush reported success");
        assert!(err.to_string().contains("did not finish within"), "{err}");
        // The store refuses to read the stale index, then rebuilds it.
        workload::check_view(&store.snapshot()).unwrap();
        faults.fail_nth(Op::Flush, 1, Fault::Hang);
        commit_range(&store, 9, 10, &mut acked);
        // Dropping the store flushes behind the deadline: it returns.
    }
    assert!(faults.hits() >= 2);
    let store = Store::open(tmp.path()).unwrap();
    assert!(store.open_report().rebuilt.is_some(), "{:?}", store.open_report());
    assert_eq!(workload::check_log(&store, &acked).unwrap(), 10);
    faults.release();
}

fn entity_lines(n: usize) -> String {
    (1..=n)
        .map(|i| {
            format!(r#"{{"events":[{{"op":"entity","key":"e{i}","kind":"Thing","name":"Entity {i}"}}]}}"#)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Finding 3 through import: the index runs out of space in a chunk and
/// cannot be rebuilt. The import reports what the log holds; a retry with
/// `resume` skips it: every line once, none twice.
#[test]
fn an_import_stopped_by_a_full_index_resumes_without_duplicates() {
    let tmp = crate::mem_tempdir();
    let faults = IndexFaults::new(7);
    let input = entity_lines(1_300);
    let mut reported = Vec::new();
    let err = {
        let store = Store::open_with(tmp.path(), options(&faults)).unwrap();
        // The second chunk's index write fails (the log has it); the rebuild
        // before the third chunk cannot flush: the disk is still full.
        faults.fail_nth(Op::Write, 2, Fault::NoSpace);
        faults.fail_nth(Op::Flush, 1, Fault::NoSpace);
        let mut progress = |tx: u64| reported.push(tx);
        let options = ImportOptions { resume: false, progress: Some(&mut progress) };
        jsonl::import_with(&store, input.as_bytes(), "big.jsonl", options)
            .expect_err("the import went through")
    };
    // Chunks are 256 transactions: the first two are in the log.
    assert_eq!(reported, vec![512]);
    assert_eq!((err.committed, err.last_tx), (512, 512), "{err}");
    assert!(err.message.contains("tx 1 to 512"), "{err}");
    assert!(err.message.contains("reindex"), "{err}");
    // Retry: without resume it would import lines 1–512 again.
    let store = Store::open(tmp.path()).unwrap();
    assert_eq!(store.head(), 512);
    let options = ImportOptions { resume: true, progress: None };
    let summary = jsonl::import_with(&store, input.as_bytes(), "big.jsonl", options).unwrap();
    assert_eq!((summary.skipped, summary.transactions), (512, 788));
    let stats = store.snapshot().stats().unwrap();
    assert_eq!((store.head(), stats.entities), (1_300, 1_300));
    // Resuming a finished import imports nothing.
    let options = ImportOptions { resume: true, progress: None };
    let again = jsonl::import_with(&store, input.as_bytes(), "big.jsonl", options).unwrap();
    assert_eq!((again.skipped, again.transactions), (1_300, 0));
}

/// `--resume` over an export (lines with tx numbers and hashes) skips by
/// number and hash, and refuses a line whose tx is taken by other content.
#[test]
fn resume_matches_exported_lines_by_tx_and_hash_and_refuses_a_conflict() {
    let source = Store::temporary().unwrap();
    for k in 1..=30 {
        source.commit(workload::tx(k)).unwrap();
    }
    let mut export = Vec::new();
    jsonl::export(&source, None, &mut export).unwrap();
    let text = String::from_utf8(export).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let copy = Store::temporary().unwrap();
    jsonl::import(&copy, lines[..12].join("\n").as_bytes(), "part.jsonl").unwrap();
    let options = ImportOptions { resume: true, progress: None };
    let summary = jsonl::import_with(&copy, text.as_bytes(), "all.jsonl", options).unwrap();
    assert_eq!((summary.skipped, summary.transactions), (12, 18));
    assert_eq!(copy.head(), 30);
    let other = Store::temporary().unwrap();
    other
        .transact("someone", |t| {
            t.entity("elsewhere", "Thing", "Elsewhere");
        })
        .unwrap();
    let options = ImportOptions { resume: true, progress: None };
    let err = jsonl::import_with(&other, text.as_bytes(), "all.jsonl", options).unwrap_err();
    assert_eq!(err.line, 1);
    assert!(err.message.contains("other content"), "{err}");
}
