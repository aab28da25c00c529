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
        create: true,
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

/// Finding 2: an index write that never returns is given up at the
/// deadline; the commit is acknowledged (the log has it) and the next read
/// is answered from a rebuild.
#[test]
fn a_hung_index_write_is_given_up_at_the_deadline_and_the_commit_stands() {
    let tmp = crate::mem_tempdir();
    let faults = IndexFaults::new(8);
    let mut acked = Vec::new();
    {
        let store = Store::open_with(tmp.path(), options(&faults)).unwrap();
        commit_range(&store, 1, 4, &mut acked);
        faults.fail_nth(Op::Write, 1, Fault::Hang);
        commit_range(&store, 5, 7, &mut acked);
        assert_eq!(faults.hits(), 1);
        workload::check_view(&store.snapshot()).unwrap();
        assert_eq!(store.snapshot().at(), 7);
    }
    faults.release();
    let store = Store::open(tmp.path()).unwrap();
    assert_eq!(workload::check_log(&store, &acked).unwrap(), 7);
    assert!(store.verify().unwrap().ok());
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

/// The live claims of the workload's hub, by query.
fn hub_count(store: &Store) -> Result<i64, String> {
    let rows = store.query("MATCH (@hub)-[c:member]->(x) RETURN count(*)").map_err(|e| e.to_string())?.rows;
    match rows.first().and_then(|r| r.first()) {
        Some(claimgraph::Value::Int(n)) => Ok(*n),
        other => Err(format!("count(*) gave {other:?}")),
    }
}

/// Finding 11: read errors after open ("Read corrupted data", an I/O
/// error) mark the index damaged; the query is answered right after a
/// rebuild from the log, at every point of the query a read can fail.
#[test]
fn a_read_error_after_open_is_healed_by_a_rebuild_and_the_answer_is_right() {
    let tmp = crate::mem_tempdir();
    let faults = IndexFaults::new(11);
    let store = Store::open_with(tmp.path(), options(&faults)).unwrap();
    commit_range(&store, 1, 40, &mut Vec::new());
    let want = workload::live_ids(40).len() as i64;
    assert_eq!(hub_count(&store).unwrap(), want);
    let reads = {
        let before = faults.counts().reads;
        hub_count(&store).unwrap();
        faults.counts().reads - before
    };
    assert!(reads > 3, "the query made {reads} reads");
    let mut healed = 0;
    for n in 1..=reads {
        for fault in [Fault::Corrupt, Fault::Io] {
            let (dir, hits) = (store.index_dir(), faults.hits());
            faults.fail_nth(Op::Read, n, fault);
            assert_eq!(hub_count(&store), Ok(want), "read {n} failing with {fault:?}");
            assert_eq!(faults.hits(), hits + 1, "read {n}: the fault did not fire");
            if store.index_dir() != dir {
                healed += 1;
            }
        }
    }
    assert_eq!(healed, 2 * reads, "every failed read was healed by a rebuild");
    // The typed API: the failing call reports the damage naming `reindex`,
    // the next one is answered from a rebuilt index.
    faults.fail_nth(Op::Read, 2, Fault::Corrupt);
    let err = store.snapshot().stats().expect_err("a failed read gave stats");
    assert!(err.to_string().contains("claimgraph reindex"), "{err}");
    let stats = store.snapshot().stats().unwrap();
    assert_eq!(stats.claims_live, want as u64);
    assert!(store.verify().unwrap().ok());
}

/// Finding 11: when the rebuild cannot run now (the disk is full), the
/// answer is an error that names `claimgraph reindex`, never a half-answer;
/// once space returns the store heals.
#[test]
fn a_damaged_index_that_cannot_be_rebuilt_now_is_an_error_naming_reindex() {
    let tmp = crate::mem_tempdir();
    let faults = IndexFaults::new(12);
    let store = Store::open_with(tmp.path(), options(&faults)).unwrap();
    commit_range(&store, 1, 30, &mut Vec::new());
    faults.fail_nth(Op::Read, 2, Fault::Corrupt);
    // The disk is full: every flush (so every rebuild) fails.
    faults.fail_randomly(Op::Flush, 1, Fault::NoSpace);
    for _ in 0..2 {
        let err = hub_count(&store).expect_err("a damaged index answered");
        assert!(err.contains("claimgraph reindex"), "{err}");
    }
    // `verify` checks the log and reports the index it knows is damaged.
    let report = store.verify().unwrap();
    assert_eq!((report.ok(), report.transactions), (false, 30));
    assert!(report.problems.iter().any(|p| p.contains("reindex")), "{:?}", report.problems);
    // Space is back: the next query rebuilds and answers.
    faults.disarm();
    assert_eq!(hub_count(&store), Ok(workload::live_ids(30).len() as i64));
    assert!(store.verify().unwrap().ok());
}

/// Finding 13: out of space while opening the index is reported as such
/// and leaves the index alone (a read-only `stats` must never discard a
/// good index); the next open uses it without a rebuild.
#[test]
fn out_of_space_while_opening_the_index_is_an_error_not_damage() {
    let tmp = crate::mem_tempdir();
    let faults = IndexFaults::new(13);
    let mut acked = Vec::new();
    {
        let store = Store::open_with(tmp.path(), options(&faults)).unwrap();
        commit_range(&store, 1, 10, &mut acked);
    }
    let index = claimgraph::store::live_index_dir(tmp.path());
    faults.fail_nth(Op::Read, 1, Fault::NoSpace);
    let err = Store::open_with(tmp.path(), options(&faults)).err().expect("opened with a failing index");
    assert!(err.to_string().contains("out of disk space"), "{err}");
    assert!(index.exists(), "the index was discarded for an out-of-space error");
    let store = Store::open(tmp.path()).unwrap();
    assert_eq!(store.open_report().rebuilt, None, "{:?}", store.open_report());
    assert_eq!(workload::check_log(&store, &acked).unwrap(), 10);
}

/// Finding 4: a transaction over the event limit is refused at validation,
/// telling to split it; the limit is an option.
#[test]
fn a_transaction_over_the_event_limit_is_refused_telling_to_split_it() {
    let tmp = crate::mem_tempdir();
    let limited = Options { max_tx_events: Some(50), create: true, ..Options::default() };
    let store = Store::open_with(tmp.path(), limited).unwrap();
    let mut t = claimgraph::Transaction::new("bulk");
    for i in 0..51 {
        t.entity(&format!("e{i}"), "Thing", "E");
    }
    let err = store.commit(t.clone()).expect_err("51 events under a limit of 50");
    let msg = err.to_string();
    assert!(msg.contains("event 51") && msg.contains("limit of 50") && msg.contains("split it"), "{msg}");
    assert_eq!(store.head(), 0);
    t.events.pop();
    store.commit(t).unwrap();
    assert_eq!(claimgraph::store::MAX_TX_EVENTS, 100_000);
}

/// Finding 4: a logged transaction far larger than one index batch is
/// replayed in pieces: no batch holds more than a bounded number of keys.
#[test]
fn a_huge_logged_transaction_is_replayed_in_bounded_batches() {
    replay_in_pieces(60_000);
}

/// [`a_huge_logged_transaction_is_replayed_in_bounded_batches`] at 200,000
/// events (a few minutes in a debug build).
#[test]
#[ignore]
fn long_a_200k_event_transaction_is_replayed_in_bounded_batches() {
    replay_in_pieces(200_000);
}

fn replay_in_pieces(events: usize) {
    let tmp = crate::mem_tempdir();
    let big = Options { max_tx_events: Some(events), create: true, ..Options::default() };
    let mut want = Vec::new();
    {
        let store = Store::open_with(tmp.path(), big).unwrap();
        store.commit(workload::tx(1)).unwrap();
        let mut t = claimgraph::Transaction::new("bulk");
        for i in 0..events {
            t.entity(&format!("b{i}"), "Thing", &format!("B {i}"));
        }
        store.commit(t).unwrap();
        store.commit(workload::tx(3)).unwrap();
        want.push(store.snapshot().stats().unwrap());
    }
    // Lose the index: the reopen replays the whole log.
    std::fs::remove_dir_all(claimgraph::store::live_index_dir(tmp.path())).unwrap();
    let faults = IndexFaults::new(14);
    // Batches of 100,000 keys take longer than the other tests' deadline.
    let slow = Options { index_flush_deadline: Some(Duration::from_secs(600)), ..options(&faults) };
    let store = Store::open_with(tmp.path(), slow).unwrap();
    assert_eq!(store.open_report().replayed, 3);
    let counts = faults.counts();
    // Each new entity writes five keys (record, term both ways, name, kind
    // flag): one batch for the whole transaction would hold 5 × `events`;
    // the pieces hold 20,000 events' worth.
    assert!(counts.largest_batch <= 5 * 20_000 + 100, "a batch of {} keys", counts.largest_batch);
    assert!(counts.writes >= (events / 20_000) as u64, "{} batches", counts.writes);
    assert_eq!(store.snapshot().stats().unwrap(), want[0]);
    let view = store.snapshot();
    for i in [0, events / 2, events - 1] {
        assert_eq!(view.entity(&format!("b{i}")).unwrap().map(|e| e.name), Some(format!("B {i}")));
    }
}

/// The CLI's import: progress per committed chunk, a failure that says
/// which transactions the log holds and how to resume, and `--resume`.
#[test]
fn the_cli_import_reports_progress_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s.db");
    let bad = tmp.path().join("bad.jsonl");
    let good = tmp.path().join("good.jsonl");
    let line =
        |k: &str| format!(r#"{{"events":[{{"op":"entity","key":"{k}","kind":"Thing","name":"{k}"}}]}}"#);
    let broken = r#"{"events":[{"op":"assert","s":"nobody","p":"knows","o":1}]}"#.to_string();
    std::fs::write(&bad, [line("a"), line("b"), broken, line("c")].join("\n")).unwrap();
    std::fs::write(&good, [line("a"), line("b"), line("c"), line("d")].join("\n")).unwrap();
    let cg = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_claimgraph"))
            .arg("--store")
            .arg(&store)
            .args(args)
            .output()
            .unwrap()
    };
    let out = cg(&["import", bad.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("committed through tx 2"), "{err}");
    assert!(err.contains("through tx 2") && err.contains("--resume"), "{err}");
    let out = cg(&["import", "--resume", good.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("imported 2 transactions") && stdout.contains("skipped 2"), "{stdout}");
    let stats = String::from_utf8_lossy(&cg(&["stats"]).stdout).to_string();
    assert!(stats.contains("transactions  4\n"), "{stats}");
}

/// Finding 13: once `INDEX_DIR` names the last generation number, rebuilds
/// wrap to a free one instead of failing forever.
#[test]
fn reindex_goes_on_after_the_last_index_generation_number() {
    let tmp = crate::mem_tempdir();
    let mut acked = Vec::new();
    {
        let store = Store::create(tmp.path()).unwrap();
        commit_range(&store, 1, 6, &mut acked);
    }
    let last = "index.18446744073709551615";
    std::fs::rename(claimgraph::store::live_index_dir(tmp.path()), tmp.path().join(last)).unwrap();
    std::fs::write(tmp.path().join("INDEX_DIR"), format!("{last}\n")).unwrap();
    let store = Store::open(tmp.path()).unwrap();
    assert_eq!(store.open_report().rebuilt, None);
    assert!(store.index_dir().ends_with(last));
    for _ in 0..3 {
        assert_eq!(store.rebuild_indexes().unwrap(), 6);
        assert!(!store.index_dir().ends_with(last), "{}", store.index_dir().display());
        workload::check_view(&store.snapshot()).unwrap();
    }
    assert_eq!(workload::check_log(&store, &acked).unwrap(), 6);
}

/// Finding 4: replay in pieces gives the same index as the commit that
/// wrote the transaction in one batch, for a transaction that declares,
/// asserts, retracts claims it asserted itself (across the piece
/// boundaries), merges and re-declares; `verify` compares the live index
/// (one batch) with a replay (in pieces) entry by entry.
#[test]
fn a_transaction_replayed_in_pieces_equals_the_one_batch_it_was_committed_as() {
    use claimgraph::model::Term;
    let tmp = crate::mem_tempdir();
    let big =
        Options { max_tx_events: Some(50_000), create: true, create_predicates: true, ..Options::default() };
    let store = Store::open_with(tmp.path(), big).unwrap();
    let mut t = claimgraph::Transaction::new("bulk");
    for i in 0..8_000 {
        t.entity(&format!("p{i}"), "Person", &format!("Person {i}"));
    }
    for i in 0..16_000 {
        let a = t.assert(&format!("p{}", i % 8_000), "knows", Term::Entity(format!("p{}", (i * 7) % 8_000)));
        a.claim = Some(format!("c{i}"));
    }
    // Retractions of claims from before each piece boundary (20,000 events).
    for i in (0..16_000).step_by(5) {
        t.retract(&format!("c{i}"), "wrong");
    }
    t.merge("p1", "p2");
    for i in 0..5_000 {
        t.entity(&format!("p{i}"), "Person", &format!("Renamed {i}"));
    }
    assert_eq!(t.events.len(), 32_201);
    store.commit(t).unwrap();
    let report = store.verify().unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    let stats = store.snapshot().stats().unwrap();
    assert_eq!((stats.claims_live, stats.claims_retracted), (12_800, 3_200));
    drop(store);
    std::fs::remove_dir_all(claimgraph::store::live_index_dir(tmp.path())).unwrap();
    let store = Store::open(tmp.path()).unwrap();
    assert_eq!(store.snapshot().stats().unwrap(), stats);
}

/// A read inside `for_each_tx` that meets a damaged index neither deadlocks
/// (`for_each_tx` holds the writer lock only while it reads a chunk of
/// records, never while its callback runs) nor half-answers: the reads after
/// the damage heal the index and answer in full.
#[test]
fn a_damaged_index_met_inside_for_each_tx_does_not_deadlock() {
    let tmp = crate::mem_tempdir();
    let faults = IndexFaults::new(15);
    let store = Store::open_with(tmp.path(), options(&faults)).unwrap();
    commit_range(&store, 1, 5, &mut Vec::new());
    let (send, recv) = std::sync::mpsc::channel();
    let inner = store.clone();
    let reader = std::thread::spawn(move || {
        let mut seen = Vec::new();
        let walked = inner.for_each_tx(1, |rec| {
            if rec.tx == 2 {
                faults.fail_nth(Op::Read, 1, Fault::Corrupt);
                assert!(inner.snapshot().stats().is_err(), "the failing read succeeded");
            }
            seen.push(inner.snapshot().stats().map_err(|e| e.to_string()));
            Ok(())
        });
        let _ = send.send((walked.is_ok(), seen));
    });
    let (walked, seen) = recv.recv_timeout(Duration::from_secs(120)).expect("deadlocked inside for_each_tx");
    reader.join().unwrap();
    assert!(walked);
    assert!(seen[0].is_ok(), "{:?}", seen[0]);
    assert_eq!(seen.len(), 5);
    for s in &seen[1..] {
        assert_eq!(s, &seen[0], "a read after the damage did not heal to the full answer");
    }
    workload::check_view(&store.snapshot()).unwrap();
}
