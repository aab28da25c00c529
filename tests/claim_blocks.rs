//! Claim blocks (index format 2 on): aborted and rejected transactions leave
//! blocks unchanged, old formats are rebuilt on open, damage is an error.

mod common;
use common::*;

use std::collections::BTreeMap;

use claimgraph::index::{IndexBackend, KvRead, SledBackend, claim_block, meta, meta_key};
use claimgraph::model::{Claim, Term};
use claimgraph::{Store, StoreError, Transaction};

fn int(n: i64) -> Term {
    Term::Int(n)
}

fn claim(store: &Store, id: &str) -> Option<Claim> {
    store.snapshot().claim(id).unwrap()
}

fn all_claims(store: &Store) -> Vec<Claim> {
    let q = claimgraph::ClaimQuery { include_retracted: true, ..Default::default() };
    store.snapshot().claims(&q).unwrap()
}

fn declare(store: &Store) {
    store
        .transact("t", |tx| {
            tx.entity("a", "Thing", "A");
        })
        .unwrap();
}

fn assert_n(tx: &mut Transaction, n: std::ops::Range<i64>) {
    for i in n {
        tx.assert("a", "counts", int(i));
    }
}

/// A transaction rejected after asserting into and retracting within a block an
/// earlier transaction of the same chunk (and an earlier chunk) started.
#[test]
fn aborted_tx_in_a_continued_block_leaves_no_trace() {
    let store = Store::temporary_with(first_use()).unwrap();
    declare(&store);
    // Earlier chunk: c1..c20 (block 0 holds seqs 1..31).
    store.transact("t", |tx| assert_n(tx, 0..20)).unwrap();
    let before = all_claims(&store);

    // Same chunk: tx A continues block 0 (c21..c25) and retracts c3;
    // tx B continues it (c26..c40, into block 1), retracts c21 (asserted by A
    // in this chunk), c5 and c27 (asserted in B itself), then breaks a rule.
    let mut a = Transaction::new("t");
    assert_n(&mut a, 100..105);
    a.retract("c3", "A");
    let mut b = Transaction::new("t");
    assert_n(&mut b, 200..215);
    b.retract("c21", "B");
    b.retract("c5", "B");
    b.retract("c27", "B");
    b.assert("nobody", "counts", int(0));
    let (receipts, err) = store.commit_batch(vec![a, b]);
    assert_eq!(receipts.len(), 1);
    assert!(matches!(err, Some((1, StoreError::Invalid(_)))), "{err:?}");

    assert_eq!(claim(&store, "c3").unwrap().retracted_tx, Some(3));
    for id in ["c5", "c21"] {
        assert_eq!(claim(&store, id).unwrap().retracted_tx, None, "{id}");
    }
    for seq in 26..=40 {
        assert_eq!(claim(&store, &format!("c{seq}")), None, "c{seq}");
    }
    assert_eq!(all_claims(&store).len(), before.len() + 5);
    assert!(store.verify().unwrap().ok(), "{:?}", store.verify().unwrap());

    // The next tx reuses seq 26 onwards; two retractions in one block, a
    // retraction of a claim asserted in the same tx.
    let r = store
        .transact("t", |tx| {
            assert_n(tx, 300..310);
            tx.retract("c26", "same tx");
            tx.retract("c1", "x");
            tx.retract("c2", "y");
            tx.retract("c35", "same tx, block 1");
        })
        .unwrap();
    assert_eq!(r.claim_ids.first().map(String::as_str), Some("c26"));
    for id in ["c1", "c2", "c26", "c35"] {
        let c = claim(&store, id).unwrap();
        assert_eq!(c.retracted_tx, Some(r.tx), "{id}");
    }
    assert_eq!(claim(&store, "c35").unwrap().o, int(309));
    // A seq its block lacks (block 1 exists: 32..63; only 32..35 asserted).
    assert_eq!(claim(&store, "c36"), None);
    assert_eq!(claim(&store, "c63"), None);
    assert_eq!(claim(&store, "c64"), None);
    let live = all_claims(&store);
    assert!(store.verify().unwrap().ok(), "{:?}", store.verify().unwrap());
    store.rebuild_indexes().unwrap();
    assert_eq!(all_claims(&store), live);
    assert!(store.verify().unwrap().ok());
}

/// A retraction that breaks a rule after other retractions in the same block.
#[test]
fn rejected_retraction_keeps_block_unchanged() {
    let store = Store::temporary_with(first_use()).unwrap();
    declare(&store);
    store.transact("t", |tx| assert_n(tx, 0..10)).unwrap();
    let mut tx = Transaction::new("t");
    tx.retract("c4", "ok");
    tx.retract("c4", "twice");
    let err = store.commit(tx).unwrap_err();
    assert!(err.to_string().contains("already retracted"), "{err}");
    assert_eq!(claim(&store, "c4").unwrap().retracted_tx, None);
    assert!(store.verify().unwrap().ok());
}

/// Opens a closed store's index directly. sled's flusher of the dropped store
/// may hold the directory's lock a moment longer, as `Store::open` allows for.
fn open_backend(index: &std::path::Path) -> SledBackend {
    for _ in 0..40 {
        match SledBackend::open(index) {
            Ok(b) => return b,
            Err(e) if e.to_string().contains("lock") => {
                std::thread::sleep(std::time::Duration::from_millis(25))
            }
            Err(e) => panic!("{e}"),
        }
    }
    SledBackend::open(index).unwrap()
}

/// A store holding `claims` claims, closed, its index changed by the writes
/// `edit` returns (given the index to read from), then opened again.
fn reopened_after_editing_index(
    claims: std::ops::Range<i64>,
    edit: impl FnOnce(&SledBackend) -> BTreeMap<Vec<u8>, Vec<u8>>,
) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s");
    {
        let store = create_first_use(&path).unwrap();
        declare(&store);
        store.transact("t", |tx| assert_n(tx, claims)).unwrap();
    }
    {
        let b = open_backend(&claimgraph::store::live_index_dir(&path));
        b.apply(edit(&b)).unwrap();
        b.flush().unwrap();
    }
    let store = create_first_use(&path).unwrap();
    (dir, store)
}

/// An index of format 1 is rebuilt on open, never read.
#[test]
fn format_1_index_is_rebuilt_on_open() {
    let (_d, store) = reopened_after_editing_index(0..40, |_| {
        let mut w = BTreeMap::new();
        w.insert(meta_key(meta::FORMAT), 1u64.to_be_bytes().to_vec());
        // What format 1 kept per seq: a single claim record under CLAIM/seq,
        // which format 2 would take for block `seq`.
        w.insert(claim_block::block_key(5 * claim_block::CLAIMS_PER_BLOCK), b"junk".to_vec());
        w
    });
    let why = store.open_report().rebuilt.clone();
    assert!(why.as_deref().is_some_and(|w| w.contains("format 1")), "{why:?}");
    assert_eq!(claim(&store, "c40").unwrap().o, int(39));
    assert!(store.verify().unwrap().ok());
}

/// Damage inside a block is a typed error on read, not a panic.
#[test]
fn damaged_block_is_an_error() {
    let (_d, store) = reopened_after_editing_index(0..40, |b| {
        let key = claim_block::block_key(1);
        let block = b.get(&key).unwrap().unwrap().to_vec();
        let mut w = BTreeMap::new();
        // Claim 1's length field says more than the block holds.
        let mut bad = block.clone();
        bad[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        w.insert(key.clone(), bad);
        w
    });
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| store.snapshot().claim("c2")));
    let r = r.expect("no panic");
    assert!(r.is_err(), "{r:?}");
    let v = store.verify().unwrap();
    assert!(!v.ok());
}

/// An index written between 01f1a03 and 6fd6f79 says format 2 but still holds
/// the valid-from postings (tag 0x15) 6fd6f79 stopped writing: it must be
/// rebuilt on open, not kept with dead keys that `verify` then reports.
#[test]
fn format_2_index_with_valid_from_postings_is_rebuilt_on_open() {
    let (_d, store) = reopened_after_editing_index(0..5, |_| {
        let mut w = BTreeMap::new();
        w.insert(meta_key(meta::FORMAT), 2u64.to_be_bytes().to_vec());
        let mut vf = vec![0x15u8];
        vf.extend_from_slice(&[0x80, 0, 0x45, 0x77]);
        vf.extend_from_slice(&1u64.to_be_bytes());
        w.insert(vf, vec![0; 8]);
        w
    });
    let report = store.verify().unwrap();
    assert!(store.open_report().rebuilt.is_some(), "kept; verify: {:?}", report.problems);
    assert!(report.ok(), "{:?}", report.problems);
}
