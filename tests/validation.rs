//! One test per validation rule, asserting the exact message, and that a
//! rejected transaction leaves no trace.

mod common;
use common::*;

use claimgraph::model::{DocumentEvent, Term, ValidTime};
use claimgraph::{Store, StoreError, Transaction};

fn base() -> Store {
    let store = Store::temporary_with(first_use()).unwrap();
    store
        .transact("t", |tx| {
            tx.entity("russia", "Country", "Russia");
            tx.entity("us", "Country", "United States");
            tx.entity("trump", "Person", "Trump");
            tx.document(DocumentEvent {
                key: "doc".into(),
                title: Some("An article".into()),
                published: Some("2025-03-04".parse().unwrap()),
                ..DocumentEvent::default()
            });
            tx.assert("us", "may_ease_sanctions_on", Term::Entity("russia".into())).claim = Some("c1".into());
        })
        .unwrap();
    store
}

fn rejected(store: &Store, build: impl FnOnce(&mut Transaction)) -> String {
    let head = store.head();
    let before = store.snapshot().stats().unwrap();
    let mut tx = Transaction::new("t");
    build(&mut tx);
    let err = store.commit(tx).expect_err("the transaction should be rejected");
    assert_eq!(store.head(), head, "a rejected transaction must not advance the head");
    assert_eq!(store.snapshot().stats().unwrap(), before, "a rejected transaction must leave no trace");
    err.to_string()
}

fn russia() -> Term {
    Term::Entity("russia".into())
}

#[test]
fn an_undeclared_predicate_is_refused_with_a_suggestion() {
    // A store opened the default way: predicates must be declared.
    let store = Store::temporary().unwrap();
    store
        .transact("t", |tx| {
            tx.entity("russia", "Country", "Russia");
            tx.entity("us", "Country", "United States");
            tx.predicate("may_ease_sanctions_on", false, None);
        })
        .unwrap();
    assert_eq!(
        rejected(&store, |tx| {
            tx.assert("us", "may_ease_sanction_on", russia());
        }),
        "event 1 (assert): unknown predicate `may_ease_sanction_on`, did you mean `may_ease_sanctions_on`?"
    );
    assert_eq!(
        rejected(&store, |tx| {
            tx.entity("iran", "Country", "Iran");
            tx.assert("us", "zzqx", russia());
        }),
        "event 2 (assert): unknown predicate `zzqx` (declare it first with CREATE PREDICATE or a `predicate` event)"
    );
    let preds: Vec<String> = store.snapshot().predicates().unwrap().into_iter().map(|p| p.key).collect();
    assert_eq!(preds, ["may_ease_sanctions_on"], "a refused assert must not create its predicate");
    // Declared earlier in the store, or in the same transaction (even after
    // the assert that uses it): accepted.
    store
        .transact("t", |tx| {
            tx.assert("us", "may_ease_sanctions_on", russia());
        })
        .unwrap();
    store
        .transact("t", |tx| {
            tx.assert("us", "imposed_sanctions_on", russia());
            tx.predicate("imposed_sanctions_on", false, None);
        })
        .unwrap();
    // A store opened with `create_predicates` lets the first use declare it.
    let lenient = Store::temporary_with(first_use()).unwrap();
    lenient
        .transact("t", |tx| {
            tx.entity("us", "Country", "United States");
            tx.assert("us", "whatever_comes", Term::Int(1));
        })
        .unwrap();
    assert_eq!(lenient.snapshot().stats().unwrap().predicates, 1);
}

#[test]
fn unknown_entity_suggests_the_nearest_key() {
    let s = base();
    let msg = rejected(&s, |tx| {
        tx.assert("us", "sanctions", Term::Entity("rusia".into()));
    });
    assert_eq!(msg, "event 1 (assert): unknown entity `@rusia`, did you mean `@russia`?");
    let msg = rejected(&s, |tx| {
        tx.assert("zzzzzz", "sanctions", russia());
    });
    assert_eq!(msg, "event 1 (assert): unknown entity `@zzzzzz`");
}

#[test]
fn speaker_and_qualifier_entities_must_exist() {
    let s = base();
    let msg = rejected(&s, |tx| {
        tx.assert("us", "sanctions", russia()).by = Some("kremln".into());
    });
    assert_eq!(msg, "event 1 (assert): unknown entity `@kremln`");
    let msg = rejected(&s, |tx| {
        tx.assert("us", "sanctions", russia()).qualifiers.insert("via".into(), Term::Entity("nobody".into()));
    });
    assert_eq!(msg, "event 1 (assert): unknown entity `@nobody`");
}

#[test]
fn source_must_be_a_document() {
    let s = base();
    let msg = rejected(&s, |tx| {
        tx.assert("us", "sanctions", russia()).source = Some("trump".into());
    });
    assert_eq!(msg, "event 1 (assert): source `trump` is not a document (declare it with a document event)");
}

#[test]
fn claim_ids_are_unique() {
    let s = base();
    let msg = rejected(&s, |tx| {
        tx.assert("us", "sanctions", russia()).claim = Some("c1".into());
    });
    assert_eq!(msg, "event 1 (assert): claim id `c1` is already taken");
    let msg = rejected(&s, |tx| {
        tx.assert("us", "a", russia()).claim = Some("x".into());
        tx.assert("us", "b", russia()).claim = Some("x".into());
    });
    assert_eq!(msg, "event 2 (assert): claim id `x` is already taken");
}

#[test]
fn only_live_claims_can_be_retracted() {
    let s = base();
    let msg = rejected(&s, |tx| {
        tx.retract("c99", "typo");
    });
    assert_eq!(msg, "event 1 (retract): unknown claim `c99`");
    s.transact("t", |tx| {
        tx.retract("c1", "wrong");
    })
    .unwrap();
    let msg = rejected(&s, |tx| {
        tx.retract("c1", "again");
    });
    assert_eq!(msg, "event 1 (retract): claim `c1` is already retracted (tx 2)");
}

#[test]
fn merges_are_not_into_themselves_and_make_no_cycle() {
    let s = base();
    let msg = rejected(&s, |tx| {
        tx.merge("us", "US");
    });
    assert_eq!(msg, "event 1 (merge): cannot merge `us` into itself");
    s.transact("t", |tx| {
        tx.merge("trump", "us");
    })
    .unwrap();
    let msg = rejected(&s, |tx| {
        tx.merge("us", "trump");
    });
    assert_eq!(msg, "event 1 (merge): merging `us` into `trump` would make a cycle");
    let msg = rejected(&s, |tx| {
        tx.merge("trump", "russia");
    });
    assert_eq!(msg, "event 1 (merge): `trump` is already merged into `us`; unmerge it first");
    let msg = rejected(&s, |tx| {
        tx.unmerge("russia");
    });
    assert_eq!(msg, "event 1 (unmerge): `russia` is not merged into anything");
}

#[test]
fn valid_time_must_not_run_backwards() {
    let s = base();
    let msg = rejected(&s, |tx| {
        tx.assert("us", "p", russia()).valid =
            ValidTime { from: Some("2025-03".parse().unwrap()), to: Some("2025-01".parse().unwrap()) };
    });
    assert_eq!(msg, "event 1 (assert): valid_from 2025-03 is after valid_to 2025-01");
}

#[test]
fn confidence_is_between_zero_and_one() {
    let s = base();
    let msg = rejected(&s, |tx| {
        tx.assert("us", "p", russia()).confidence = Some(1.5);
    });
    assert_eq!(msg, "event 1 (assert): confidence 1.5 is outside 0..1");
}

#[test]
fn keys_are_case_folded_and_checked() {
    let s = base();
    let msg = rejected(&s, |tx| {
        tx.entity("u-s", "Country", "U-S");
    });
    assert_eq!(msg, "event 1 (entity): entity key `u-s` may only hold a-z, 0-9 and `_`, found `-`");
    s.transact("t", |tx| {
        tx.entity("OFAC", "Agency", "Office of Foreign Assets Control");
    })
    .unwrap();
    assert_eq!(s.snapshot().entity("ofac").unwrap().unwrap().key, "ofac");
}

#[test]
fn predicates_are_snake_case() {
    let s = base();
    let msg = rejected(&s, |tx| {
        tx.assert("us", "MayEase", russia());
    });
    assert_eq!(
        msg,
        "event 1 (assert): predicate `MayEase` must be snake_case: a-z first, then a-z, 0-9 or `_`"
    );
}

#[test]
fn qualifiers_cannot_shadow_claim_properties() {
    let s = base();
    let msg = rejected(&s, |tx| {
        tx.assert("us", "p", russia()).qualifiers.insert("stance".into(), Term::Bool(true));
    });
    assert_eq!(msg, "event 1 (assert): `stance` is a claim property, not a qualifier name");
}

#[test]
fn floats_must_be_finite() {
    let s = base();
    let msg = rejected(&s, |tx| {
        tx.assert("us", "p", Term::Float(f64::NAN));
    });
    assert_eq!(msg, "event 1 (assert): float NaN is not a finite number");
}

#[test]
fn a_transaction_needs_events() {
    let s = base();
    assert_eq!(rejected(&s, |_| {}), "a transaction needs at least one event");
}

#[test]
fn later_events_see_earlier_events_of_the_same_transaction() {
    let s = base();
    let r = s
        .transact("t", |tx| {
            tx.entity("kremlin", "Organization", "Kremlin");
            tx.assert("kremlin", "said", Term::String("below freezing point".into())).claim =
                Some("k1".into());
            tx.retract("k1", "asserted by mistake");
        })
        .unwrap();
    assert_eq!(r.claim_ids, vec!["k1"]);
    let k1 = s.snapshot().claim("k1").unwrap().unwrap();
    assert_eq!(k1.retracted_tx, Some(r.tx));
}

#[test]
fn a_failure_late_in_a_transaction_undoes_its_earlier_events() {
    let s = base();
    let msg = rejected(&s, |tx| {
        tx.entity("kremlin", "Organization", "Kremlin");
        tx.assert("kremlin", "said", Term::Int(1)).confidence = Some(-1.0);
    });
    assert_eq!(msg, "event 2 (assert): confidence -1 is outside 0..1");
    assert!(s.snapshot().entity("kremlin").unwrap().is_none());
    let r = s
        .transact("t", |tx| {
            tx.entity("kremlin", "Organization", "Kremlin");
        })
        .unwrap();
    assert_eq!(r.tx, 2, "the next commit gets the next tx number");
}

#[test]
fn imports_check_tx_numbers_hashes_and_time() {
    let s = base();
    let mut tx = Transaction::new("t");
    tx.entity("x", "Thing", "X");
    tx.expect_tx = Some(5);
    assert!(matches!(s.commit(tx.clone()), Err(StoreError::TxOutOfOrder { expected: 2, given: 5 })));
    tx.expect_tx = Some(2);
    tx.expect_hash = Some("00".repeat(32));
    assert!(matches!(s.commit(tx.clone()), Err(StoreError::HashMismatch { tx: 2, .. })));
    tx.expect_hash = None;
    tx.recorded_at = Some("2000-01-01T00:00:00Z".parse().unwrap());
    let msg = s.commit(tx).unwrap_err().to_string();
    assert!(
        msg.starts_with("tx 2: recorded_at 2000-01-01T00:00:00Z is before the previous transaction's"),
        "{msg}"
    );
    assert_eq!(s.head(), 1);
}

#[test]
fn claim_ids_are_case_insensitive_everywhere() {
    let s = base();
    s.transact("t", |tx| {
        tx.assert("us", "p", russia()).claim = Some("K1".into());
    })
    .unwrap();
    assert_eq!(s.snapshot().claim("K1").unwrap().unwrap().id, "k1");
    s.transact("t", |tx| {
        tx.retract("K1", "case does not matter");
    })
    .unwrap();
    assert!(s.snapshot().claim("k1").unwrap().unwrap().retracted_tx.is_some());
}

#[test]
fn negative_zero_is_the_same_object_as_zero() {
    let s = base();
    s.transact("t", |tx| {
        tx.assert("us", "rate", Term::Float(-0.0));
    })
    .unwrap();
    let q = claimgraph::ClaimQuery { object: Some(Term::Float(0.0)), ..Default::default() };
    assert_eq!(s.snapshot().claims(&q).unwrap().len(), 1);
}
