//! The openCypher TCK as a ratchet: runs the TCK runner (see
//! `examples/tck.rs`) over a fixed subset of `../shared/tck/features` and
//! fails if fewer scenarios pass than `tests/tck/ratchet.txt` records. The
//! TCK copy must sit beside the repository (`../shared/tck`, as in CI); a
//! missing copy fails the test.
//!
//! The subset keeps the debug-mode run short; the full suite runs with
//! `cargo run --release --example tck -- ../shared/tck/features`. Raise the
//! ratchet when the pass count goes up (it never goes down).
//!
//! The unit tests of the runner's pure parts (Gherkin, outlines, values,
//! comparisons) are in `tck/gherkin.rs` and run with this file.

#[path = "tck/gherkin.rs"]
mod gherkin;
#[path = "tck/runner.rs"]
mod runner;

use std::path::{Path, PathBuf};

/// Folders of the TCK the ratchet runs (relative to `features/`).
const SUBSET: &[&str] = &[
    "clauses/match/",
    "clauses/match-where/",
    "clauses/return/",
    "clauses/return-orderby/",
    "clauses/return-skip-limit/",
    "expressions/boolean/",
    "expressions/comparison/",
    "expressions/null/",
    "expressions/string/",
    "expressions/list/",
    "expressions/conditional/",
    "expressions/mathematical/",
    "expressions/typeConversion/",
    "expressions/quantifier/",
    "clauses/unwind/",
    "clauses/with/",
    "clauses/with-where/",
    "clauses/with-skip-limit/",
    "expressions/aggregation/",
    "expressions/map/",
    "expressions/precedence/",
    "clauses/union/",
];

/// `../shared/tck` beside the repository, or `CLAIMGRAPH_TCK` when set (a
/// git worktree sits elsewhere).
fn tck_dir() -> PathBuf {
    match std::env::var_os("CLAIMGRAPH_TCK") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tck"),
    }
}

#[test]
fn tck_pass_count_does_not_drop() {
    let tck = tck_dir();
    let features = tck.join("features");
    assert!(
        features.is_dir(),
        "the openCypher TCK is missing: expected {} (CI copies shared/ beside the clone)",
        features.display()
    );
    let src =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tck/excluded.txt")).unwrap();
    let exclusions = gherkin::parse_exclusions(&src).unwrap();
    let files = runner::feature_files(&features).unwrap();
    let chosen: Vec<&PathBuf> = files
        .iter()
        .filter(|f| SUBSET.iter().any(|s| f.to_string_lossy().replace('\\', "/").starts_with(s)))
        .collect();
    assert!(chosen.len() >= 50, "only {} feature files found under {}", chosen.len(), features.display());
    let (mut passed, mut total) = (0, 0);
    for rel in chosen {
        let r = runner::run_feature(&features, rel, &tck.join("graphs"), &exclusions);
        passed += r.passed();
        total += r.scenarios.len();
    }
    let ratchet =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tck/ratchet.txt")).unwrap();
    let floor = gherkin::parse_ratchet(&ratchet).expect("tests/tck/ratchet.txt holds a number");
    assert!(total > 1000, "only {total} scenarios in the subset");
    assert!(passed >= floor, "TCK subset: {passed} of {total} scenarios pass, below the ratchet {floor}");
    if passed > floor {
        eprintln!(
            "TCK subset: {passed} of {total} pass; raise tests/tck/ratchet.txt from {floor} to {passed}"
        );
    }
}

#[test]
fn setup_maps_create_onto_entities_and_claims() {
    let options = claimgraph::Options { create_predicates: true, ..Default::default() };
    let store = claimgraph::Store::temporary_with(options).unwrap();
    let mut types = std::collections::HashMap::new();
    let src = "CREATE (a:A {name: 'a', num: 1}), (b {x: -2.5})\nCREATE (a)-[:T {w: 3}]->(b), (b)<-[:U]-(:C)";
    runner::setup(&store, src, &mut types).unwrap();
    let mut s = claimgraph::Session::new(store);
    let r = s.execute("MATCH (x)-[r]->(y) RETURN x, r, y").unwrap();
    let mut rows: Vec<String> = r
        .rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|v| runner::to_tck(s.store(), &types, v).unwrap().to_string())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    rows.sort();
    assert_eq!(rows, vec!["(:A {name: 'a', num: 1}) [:T {w: 3}] ({x: -2.5})", "(:C) [:U] ({x: -2.5})"]);
    assert!(
        runner::setup(&claimgraph::Store::temporary().unwrap(), "UNWIND [1] AS i CREATE ()", &mut types)
            .is_err()
    );
    assert!(
        runner::setup(&claimgraph::Store::temporary().unwrap(), "CREATE (a)-[:T]-(b)", &mut types).is_err()
    );
    assert_eq!(
        runner::split_create("CREATE (a {s: 'CREATE x'}) CREATE (b)").unwrap(),
        vec!["(a {s: 'CREATE x'})", "(b)"]
    );
}
