//! Suite 6, readers during writes (extends tests/concurrency.rs). One writer
//! commits the workload as single transactions and as batches (several
//! transactions per fsync and per index batch), each transaction's claims
//! tagged with its number and size; reader threads meanwhile check that
//!
//! - every snapshot holds exactly the committed prefix `1..=at` (no claim of
//!   a later transaction, no missing claim, never half a transaction);
//! - a reader's view never goes backwards (its head never decreases, and
//!   its content is the prefix of that head);
//! - a pinned snapshot gives the same answer while writes go on, and an
//!   older `snapshot_at` is the same prefix it always was;
//! - the query language agrees (`... AS OF TX at`).
//!
//! CI: 240 transactions; long run: 5,000.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use claimgraph::{ClaimQuery, Store};

use crate::{Rng, workload};

fn count_by_query(store: &Store, at: u64) -> Result<usize, String> {
    let q = format!("MATCH (h)-[c:member]->(x) RETURN count(c) AS OF TX {at}");
    let r = store.query(&q).map_err(|e| format!("{q}: {e}"))?;
    match r.rows.first().and_then(|row| row.first()) {
        Some(claimgraph::Value::Int(n)) => Ok(*n as usize),
        other => Err(format!("{q} gave {other:?}")),
    }
}

fn reader(store: Store, done: Arc<AtomicBool>, seed: u64) -> Result<u64, String> {
    let mut rng = Rng::new(seed);
    let (mut last_at, mut reads) = (0u64, 0u64);
    while !done.load(Ordering::Acquire) || reads < 5 {
        let view = store.snapshot();
        let at = view.at();
        if at < last_at {
            return Err(format!("the head went back from {last_at} to {at}"));
        }
        // The view is exactly the prefix `1..=at`, and `at` never decreases,
        // so what a reader sees never goes back.
        workload::check_view(&view)?;
        let live = workload::live_ids(at).len();
        match rng.below(3) {
            0 if at > 0 => {
                // A pinned snapshot does not move while writes go on.
                let q = ClaimQuery { subject: Some("hub".into()), ..ClaimQuery::default() };
                let first = view.claims(&q).map_err(|e| e.to_string())?.len();
                std::thread::yield_now();
                let again = view.claims(&q).map_err(|e| e.to_string())?.len();
                if first != again {
                    return Err(format!("a snapshot at tx {at} changed from {first} to {again} claims"));
                }
            }
            1 if at > 0 => {
                let old = rng.range(0, at);
                workload::check_view(&store.snapshot_at(old)).map_err(|e| format!("time travel: {e}"))?;
            }
            _ if at > 0 => {
                let n = count_by_query(&store, at)?;
                if n != live {
                    return Err(format!("the query counted {n} claims at tx {at}, the prefix has {live}"));
                }
            }
            _ => {}
        }
        last_at = at;
        reads += 1;
    }
    Ok(reads)
}

fn run(txs: u64) {
    let tmp = crate::mem_tempdir();
    let store = crate::create_first_use(tmp.path()).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|i| {
            let (store, done) = (store.clone(), done.clone());
            std::thread::spawn(move || reader(store, done, i))
        })
        .collect();
    let mut rng = Rng::new(6);
    while store.head() < txs {
        let head = store.head();
        let n = if rng.chance(1, 3) { rng.range(2, 12).min(txs - head) } else { 1 };
        if n == 1 {
            store.commit(workload::tx(head + 1)).unwrap();
        } else {
            let (r, err) = store.commit_batch((head + 1..=head + n).map(workload::tx).collect());
            assert!(err.is_none() && r.len() as u64 == n);
        }
    }
    done.store(true, Ordering::Release);
    let mut total = 0;
    for r in readers {
        total += r.join().expect("reader thread").unwrap_or_else(|e| panic!("reader: {e}"));
    }
    assert!(total >= 15);
    assert!(store.verify().unwrap().ok());
    eprintln!("readers during writes: {txs} transactions, {total} checked reads");
}

#[test]
fn readers_see_only_committed_prefixes_and_never_go_back() {
    run(240);
}

#[test]
#[ignore = "long run: scripts/long-tests.sh (cargo test --release --test reliability -- --ignored)"]
fn readers_during_writes_long_5000_transactions() {
    run(crate::env_u64("CLAIMGRAPH_LONG_TXS").unwrap_or(5_000));
}

/// Regression test: `Store::rebuild_indexes` published head 0 and cleared
/// the sled tree while readers ran, so a concurrent reader saw its view go
/// back to an empty store, and a reader pinned before the rebuild saw claims
/// vanish mid-read. A rebuild now builds a new index aside and swaps it in;
/// a view keeps the index it started with, and takes the head before the
/// index, so it never names a tx its index lacks.
#[test]
fn a_rebuild_does_not_disturb_concurrent_readers() {
    let tmp = crate::mem_tempdir();
    let store = crate::create_first_use(tmp.path()).unwrap();
    let (_, err) = store.commit_batch((1..=200).map(workload::tx).collect());
    assert!(err.is_none());
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|i| {
            let (store, done) = (store.clone(), done.clone());
            std::thread::spawn(move || reader(store, done, 100 + i))
        })
        .collect();
    // Commits between the rebuilds: a reader that took the old index must
    // not be labelled with a head only the new one holds.
    for round in 0..5 {
        store.rebuild_indexes().unwrap();
        let head = store.head();
        for tx in head + 1..=head + 10 {
            store.commit(workload::tx(tx)).unwrap();
        }
        assert_eq!(store.head(), 210 + 10 * round);
    }
    done.store(true, Ordering::Release);
    for r in readers {
        r.join().expect("reader thread").unwrap_or_else(|e| panic!("reader during a rebuild: {e}"));
    }
}

/// Regression test: a view holds the index it started with, so it can
/// outlive its `Store`; it must then keep the store locked too. Without that
/// a reopen in the same process found sled's own lock held, took the index
/// for a damaged one, rebuilt it and removed the directory the view read.
#[test]
fn a_view_that_outlives_its_store_keeps_the_store_locked() {
    let tmp = crate::mem_tempdir();
    let store = crate::create_first_use(tmp.path()).unwrap();
    let (_, err) = store.commit_batch((1..=20).map(workload::tx).collect());
    assert!(err.is_none());
    let view = store.snapshot();
    drop(store);
    let refused = crate::create_first_use(tmp.path()).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(refused.contains("already open"), "a reopen while a view lives: {refused:?}");
    workload::check_view(&view).unwrap();
    assert_eq!(view.at(), 20);
    drop(view);
    let store = crate::create_first_use(tmp.path()).unwrap();
    assert_eq!(store.open_report().rebuilt, None);
    assert_eq!(store.open_report().replayed, 0);
    assert_eq!(store.head(), 20);
}
