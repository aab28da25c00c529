//! The reference workload: the content of transaction `k` is a function of
//! `k` alone, so any process can tell whether a store holds exactly a prefix
//! of what was attempted, and what every snapshot must contain.
//!
//! - tx 1 declares the entity `hub`;
//! - tx `k >= 2` asserts `k % 5 + 1` claims `hub -[member]-> i`, with ids
//!   `k<k>_<i>` and qualifiers `batch = k`, `size = k % 5 + 1`;
//! - when `k % 7 == 0` it also retracts `k<k-3>_0`;
//! - when `k % 11 == 0` it also declares the entity `e<k>`.

use std::collections::{BTreeMap, BTreeSet};

use claimgraph::model::Term;
use claimgraph::{ClaimQuery, ReadView, Store, StoreError, Transaction};

/// Claims asserted by tx `k`.
pub fn size(k: u64) -> u64 {
    if k < 2 { 0 } else { k % 5 + 1 }
}

/// The transaction with number `k`.
pub fn tx(k: u64) -> Transaction {
    let mut t = Transaction::new("workload");
    t.message = Some(format!("tx {k}"));
    t.expect_tx = Some(k);
    if k == 1 {
        t.entity("hub", "Thing", "Hub");
        t.predicate("member", false, None);
        return t;
    }
    for i in 0..size(k) {
        let a = t.assert("hub", "member", Term::Int(i as i64));
        a.claim = Some(format!("k{k}_{i}"));
        a.qualifiers.insert("batch".into(), Term::Int(k as i64));
        a.qualifiers.insert("size".into(), Term::Int(size(k) as i64));
    }
    if k.is_multiple_of(7) && k >= 5 {
        t.retract(&format!("k{}_0", k - 3), "workload");
    }
    if k.is_multiple_of(11) {
        t.entity(&format!("e{k}"), "Thing", &format!("Entity {k}"));
    }
    t
}

/// The claim ids live after txs `1..=t`.
pub fn live_ids(t: u64) -> BTreeSet<String> {
    let mut live = BTreeSet::new();
    for k in 2..=t {
        for i in 0..size(k) {
            live.insert(format!("k{k}_{i}"));
        }
        if k.is_multiple_of(7) && k >= 5 {
            live.remove(&format!("k{}_0", k - 3));
        }
    }
    live
}

/// Checks that the store's log is exactly txs `1..=head` of the workload, and
/// that every acknowledged `(tx, hash)` is in it unchanged. Returns the head.
pub fn check_log(store: &Store, acked: &[(u64, String)]) -> Result<u64, String> {
    let mut hashes = BTreeMap::new();
    let mut next = 1u64;
    store
        .for_each_tx(1, |rec| {
            let want = tx(rec.tx);
            let problem = if rec.tx != next {
                Some(format!("found tx {} where tx {next} belongs: the log has a gap", rec.tx))
            } else if rec.body.message != want.message || rec.body.events != want.events {
                Some(format!("tx {} is not the tx that was attempted with that number", rec.tx))
            } else {
                None
            };
            if let Some(p) = problem {
                return Err(StoreError::InvalidInput(p));
            }
            hashes.insert(rec.tx, rec.hash.to_string());
            next += 1;
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    let head = next - 1;
    if store.head() != head {
        return Err(format!("the store's head is {} but the log ends at tx {head}", store.head()));
    }
    for (t, h) in acked {
        match hashes.get(t) {
            None => return Err(format!("acknowledged tx {t} is missing (log ends at tx {head})")),
            Some(found) if found != h => {
                return Err(format!("acknowledged tx {t} had hash {h}, the log now has {found}"));
            }
            Some(_) => {}
        }
    }
    Ok(head)
}

/// Checks a snapshot of the hub against the workload: exactly the live
/// claims of txs `1..=view.at()`, whole transactions only.
pub fn check_view(view: &ReadView) -> Result<(), String> {
    let at = view.at();
    let q = ClaimQuery { subject: Some("hub".into()), ..ClaimQuery::default() };
    let claims = if at == 0 { Vec::new() } else { view.claims(&q).map_err(|e| e.to_string())? };
    let mut per_batch = BTreeMap::<i64, (i64, i64)>::new();
    for c in &claims {
        let (Some(Term::Int(b)), Some(Term::Int(size))) =
            (c.qualifiers.get("batch"), c.qualifiers.get("size"))
        else {
            return Err(format!("untagged claim {c}"));
        };
        if c.tx > at {
            return Err(format!("claim {} from tx {} is beyond the snapshot at tx {at}", c.id, c.tx));
        }
        per_batch.entry(*b).or_insert((0, *size)).0 += 1;
    }
    for (b, (seen, size)) in per_batch {
        let retracted = if (b + 3) % 7 == 0 && (b + 3) as u64 <= at && b + 3 >= 5 { 1 } else { 0 };
        if seen != size - retracted {
            return Err(format!("tx {b}: saw {seen} of its {size} claims at tx {at}: half a transaction"));
        }
    }
    let got: BTreeSet<String> = claims.into_iter().map(|c| c.id).collect();
    let want = live_ids(at);
    if got != want {
        let missing: Vec<_> = want.difference(&got).take(5).collect();
        let extra: Vec<_> = got.difference(&want).take(5).collect();
        return Err(format!(
            "snapshot at tx {at} is not the committed prefix: missing {missing:?}, extra {extra:?}"
        ));
    }
    Ok(())
}
