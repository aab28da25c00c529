//! Readers running while a writer commits see only whole transactions, and a
//! reader's view never goes backwards.

mod common;
use common::*;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use claimgraph::model::Term;
use claimgraph::{ClaimQuery, Store};

/// Transaction k asserts `k % 7 + 1` claims, each tagged with k and the size.
fn commit_sized(store: &Store, k: i64) {
    store
        .transact("writer", |tx| {
            for i in 0..(k % 7 + 1) {
                let a = tx.assert("hub", "batch_member", Term::Int(i));
                a.qualifiers.insert("batch".into(), Term::Int(k));
                a.qualifiers.insert("size".into(), Term::Int(k % 7 + 1));
            }
            if k % 5 == 4 {
                tx.entity(&format!("e{k}"), "Thing", &format!("Entity {k}"));
            }
        })
        .unwrap();
}

#[test]
fn readers_only_ever_see_whole_transactions() {
    let store = Store::temporary_with(first_use()).unwrap();
    store
        .transact("writer", |tx| {
            tx.entity("hub", "Thing", "Hub");
        })
        .unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let (store, done) = (store.clone(), done.clone());
            std::thread::spawn(move || {
                let mut last_head = 0;
                let mut last_count = 0;
                let mut reads = 0;
                while !done.load(Ordering::Acquire) || reads < 5 {
                    let view = store.snapshot();
                    assert!(view.at() >= last_head, "the head went backwards");
                    let q = ClaimQuery { subject: Some("hub".into()), ..ClaimQuery::default() };
                    let claims = view.claims(&q).unwrap();
                    let mut per_batch = std::collections::BTreeMap::<i64, (i64, i64)>::new();
                    for c in &claims {
                        let (Some(Term::Int(b)), Some(Term::Int(size))) =
                            (c.qualifiers.get("batch"), c.qualifiers.get("size"))
                        else {
                            panic!("untagged claim {c}")
                        };
                        assert!(c.tx <= view.at(), "a claim from beyond the snapshot");
                        let e = per_batch.entry(*b).or_insert((0, *size));
                        e.0 += 1;
                    }
                    for (b, (seen, size)) in per_batch {
                        assert_eq!(seen, size, "batch {b}: saw {seen} of {size} claims: half a transaction");
                    }
                    assert!(claims.len() >= last_count, "a reader's view went backwards");
                    let stats = view.stats().unwrap();
                    assert_eq!(stats.claims_live as usize, claims.len());
                    last_head = view.at();
                    last_count = claims.len();
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    for k in 0..120 {
        commit_sized(&store, k);
    }
    done.store(true, Ordering::Release);
    for r in readers {
        assert!(r.join().unwrap() >= 5);
    }
    assert!(store.verify().unwrap().ok());
}

#[test]
fn store_is_send_sync_and_cheap_to_clone() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Store>();
}
