//! The benchmark compares equal work: on a small generated store, claimgraph
//! (query text, prepared warm and cold, and the `$parameter` form), SQLite and the floor (the
//! same index scans without the query layer) return the same rows for every
//! query of the suite and every parameter pick.
#![cfg(feature = "sqlite")]

use std::collections::HashMap;

use claimgraph::bench::sqlite::{self, Sqlite};
use claimgraph::bench::{Q, Workload, floor};
use claimgraph::r#gen::{ClaimIds, Config};

fn render(e: claimgraph::QueryError, text: &str) -> String {
    e.render(text)
}

#[test]
fn claimgraph_sqlite_and_the_floor_return_the_same_rows() {
    same_rows(ClaimIds::Assigned);
}

/// The same with claim ids chosen by the writer (`afp_…`), which `c.id`
/// reads from the claim record instead of the posting.
#[test]
fn with_chosen_claim_ids_claimgraph_sqlite_and_the_floor_return_the_same_rows() {
    same_rows(ClaimIds::Chosen);
}

fn same_rows(ids: ClaimIds) {
    let dir = tempfile::tempdir().unwrap();
    let w = Workload::prepare_with(dir.path(), Config { claims: 3_000, seed: 11, ids }, false).unwrap();
    let (store, load) = w.load_claimgraph(false).unwrap();
    assert_eq!(load.claims, 3_000);
    let (db, loaded): (Sqlite, _) = w.load_sqlite(false).unwrap();
    assert_eq!(loaded.claims, 3_000);
    assert_eq!(loaded.transactions, store.head());
    let none = HashMap::new();
    for q in Q::ALL {
        let picks = w.picks_of(q);
        assert_eq!(picks.len(), claimgraph::r#gen::PICKS_PER_QUERY, "{q:?}");
        let param = q.param_text().map(|t| store.prepare(t).unwrap());
        let mut answered = 0;
        for (i, pick) in picks.iter().enumerate() {
            let text = q.text(pick);
            let cg = q.canonical(&store.query(&text).unwrap_or_else(|e| panic!("{}", render(e, &text))));
            let prepared = store.prepare(&text).unwrap();
            assert_eq!(
                q.canonical(&prepared.run(&store, &none).unwrap()),
                cg,
                "{q:?} pick {i}: prepared differs"
            );
            // The bench's cold form: the same with the thread's record cache emptied.
            claimgraph::query::clear_thread_cache();
            let cold = prepared.run(&store, &none).unwrap();
            assert_eq!(q.canonical(&cold), cg, "{q:?} pick {i}: prepared on an empty cache differs");
            let sql = db.run(q, pick).unwrap();
            assert_eq!(sql, cg, "{q:?} pick {i} ({text}): SQLite differs");
            let fl = floor::run(&store, q, pick).unwrap();
            assert_eq!(fl, cg, "{q:?} pick {i} ({text}): the floor differs");
            if let Some(p) = &param {
                let r = p.run(&store, &q.params(pick)).unwrap();
                assert_eq!(q.canonical(&r), cg, "{q:?} pick {i}: the $parameter form differs");
            }
            if q == Q::Q3 {
                let naive = db.run_sql(q, sqlite::Q3_NAIVE, pick).unwrap();
                assert_eq!(naive, cg, "Q3 pick {i}: the naive SQL differs");
            }
            if !cg.is_empty() {
                answered += 1;
            }
        }
        // Every query has picks with answers, so the comparison is not of empty sets.
        assert!(answered >= picks.len() / 2, "{q:?}: only {answered} picks have rows");
    }
}

#[test]
fn the_workload_is_deterministic() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let wa = Workload::prepare(a.path(), 1_500, 5, false).unwrap();
    let wb = Workload::prepare(b.path(), 1_500, 5, false).unwrap();
    assert_eq!(std::fs::read(wa.jsonl()).unwrap(), std::fs::read(wb.jsonl()).unwrap());
    assert_eq!(wa.picks, wb.picks);
}
