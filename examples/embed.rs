//! A program embedding claimgraph: record who said what, then ask about it,
//! including what the store said before a correction.
//!
//! Run with `cargo run --example embed`.

use claimgraph::model::{DocumentEvent, Stance, Term, ValidTime};
use claimgraph::{ClaimQuery, Store, StoreError};

fn main() -> Result<(), StoreError> {
    let store = Store::temporary()?;

    let first = store.transact("analyst", |tx| {
        tx.message("entities and the article");
        tx.entity("us", "Country", "United States").aliases = Some(vec!["U.S.".into(), "USA".into()]);
        tx.entity("russia", "Country", "Russia");
        tx.entity("unnamed_sources", "Group", "unnamed sources");
        // Declared first: an assert with an undeclared predicate is refused
        // (with a did-you-mean), so a typo cannot become a new predicate.
        tx.predicate("may_ease_sanctions_on", false, Some("may ease sanctions on"));
        tx.document(DocumentEvent {
            key: "cls_2025_03_04".into(),
            title: Some("The United States may relax sanctions on Russia".into()),
            publisher: Some("Cailian News".into()),
            published: Some("2025-03-04".parse().expect("a valid date")),
            ..DocumentEvent::default()
        });
        let claim = tx.assert("us", "may_ease_sanctions_on", Term::Entity("russia".into()));
        claim.by = Some("unnamed_sources".into());
        claim.source = Some("cls_2025_03_04".into());
        claim.stance = Stance::Suggests;
        claim.valid = ValidTime::during("2025-03".parse().expect("a valid date"));
        claim.quote = Some("the United States may relax sanctions on Russia".into());
    })?;
    println!("committed tx {} ({}), claims {:?}", first.tx, first.hash, first.claim_ids);

    let correction = store.transact("analyst", |tx| {
        tx.message("the easing was reported for the coming days only");
        tx.retract(&first.claim_ids[0], "valid time too broad");
        let claim = tx.assert("us", "may_ease_sanctions_on", Term::Entity("russia".into()));
        claim.stance = Stance::Suggests;
        claim.valid = ValidTime::during("2025-03-04".parse().expect("a valid date"));
    })?;

    let about_us = ClaimQuery { subject: Some("U.S.".into()), ..ClaimQuery::default() };
    for (label, view) in [("now", store.snapshot()), ("before the correction", store.snapshot_at(first.tx))] {
        println!("{label}:");
        for c in view.claims(&about_us)? {
            println!("  {c}");
        }
    }
    for entry in store.snapshot().history("us")? {
        println!("tx {} {} {}: {}", entry.tx, entry.recorded_at, entry.op, entry.detail);
    }
    let report = store.verify()?;
    println!("verify: ok={} ({} transactions, head tx {})", report.ok(), report.transactions, correction.tx);
    Ok(())
}
