//! Suite 4, index damage. sled holds only derived state, so any damage to it
//! must be detected (an error or a caught panic on open, or a mismatch with
//! a rebuild from the log found by `verify`), repaired from the log, and
//! leave every answer exactly as before. Cases, each on a fresh copy of a
//! 120-transaction store: the index directory deleted; sled's snapshot files
//! deleted; each sled file zeroed or deleted; `conf` and snapshot files cut to
//! half; random bits flipped in every sled file, `db` included (CI: 8 per
//! file; long run: 60). The damage to `db` found two store bugs, kept as
//! regression tests at the end.
//!
//! A damaged index that still opens and passes `verify` must give the same
//! answers (the damage hit bytes sled does not use); one that fails `verify`
//! is rebuilt with `rebuild_indexes` and must then pass and answer the same.
//! A panic anywhere (open, verify, queries) fails the case.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use claimgraph::{ClaimQuery, Options, Stats, Store};

use crate::{Rng, copy_dir, files_under, workload};

const TXS: u64 = 120;

const QUERIES: &[&str] = &[
    "MATCH (h)-[c:member]->(x) RETURN count(c)",
    "MATCH (h)-[c:member]->(x) WHERE c.batch >= 100 RETURN c.batch, x ORDER BY c.batch, x",
    "MATCH (e:Thing) RETURN e.key ORDER BY e.key",
    "MATCH (h)-[c:member]->(x) RETURN c.batch, count(c) ORDER BY c.batch LIMIT 5 AS OF TX 60",
];

#[derive(Debug, PartialEq)]
struct Answers {
    head: u64,
    ids: Vec<String>,
    stats: Stats,
    queries: Vec<String>,
}

fn answers(store: &Store) -> Result<Answers, String> {
    let view = store.snapshot();
    let q = ClaimQuery { subject: Some("hub".into()), ..ClaimQuery::default() };
    let ids = view.claims(&q).map_err(|e| e.to_string())?.into_iter().map(|c| c.id).collect();
    let stats = view.stats().map_err(|e| e.to_string())?;
    let mut queries = Vec::new();
    for q in QUERIES {
        let r = store.query(q).map_err(|e| format!("{q}: {e}"))?;
        queries.push(format!("{:?}", r.rows));
    }
    workload::check_view(&view)?;
    Ok(Answers { head: store.head(), ids, stats, queries })
}

/// A store with the workload's first 120 txs (singles and batches) and its
/// indexes flushed to disk.
fn build(dir: &Path) -> Answers {
    let store = Store::open_with(dir, Options { create: true, ..crate::first_use() }).unwrap();
    let mut k = 1;
    while k <= TXS {
        let n = (k % 4 + 1).min(TXS - k + 1);
        let (_, err) = store.commit_batch((k..k + n).map(workload::tx).collect());
        assert!(err.is_none());
        k += n;
    }
    store.flush_indexes().unwrap();
    let a = answers(&store).unwrap();
    assert!(store.verify().unwrap().ok());
    drop(store);
    // sled writes its snapshot file while recovering: reopen once so there is one.
    let store = Store::open_with(dir, Options { create: true, ..crate::first_use() }).unwrap();
    assert_eq!(answers(&store).unwrap(), a);
    drop(store);
    let snaps =
        files_under(&claimgraph::store::live_index_dir(dir)).into_iter().filter(|f| is_snapshot(f)).count();
    assert!(snaps > 0, "sled wrote no snapshot file to delete");
    a
}

fn is_snapshot(f: &Path) -> bool {
    f.file_name().is_some_and(|n| n.to_string_lossy().starts_with("snap."))
}

/// Opens a damaged copy and checks the promise; `Err` says how it broke.
fn check_damaged(dir: &Path, before: &Answers) -> Result<&'static str, String> {
    let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<&'static str, String> {
        let store =
            crate::create_first_use(dir).map_err(|e| format!("open failed instead of rebuilding: {e}"))?;
        let mut how = if store.open_report().rebuilt.is_some() { "rebuilt on open" } else { "opened" };
        // An error from verify (sled cannot read a page) detects the damage
        // as much as a mismatch does.
        let damaged = match store.verify() {
            Ok(report) => !report.ok(),
            Err(_) => true,
        };
        if damaged {
            how = "found by verify";
            store.rebuild_indexes().map_err(|e| format!("rebuild: {e}"))?;
            let again = store.verify().map_err(|e| format!("verify after rebuild: {e}"))?;
            if !again.ok() {
                return Err(format!("still wrong after a rebuild: {:?}", again.problems));
            }
        }
        let now = answers(&store)?;
        if &now != before {
            return Err(format!("answers changed ({how}):\nbefore {before:?}\nafter  {now:?}"));
        }
        Ok(how)
    }));
    match outcome {
        Ok(r) => r,
        Err(p) => Err(format!("panicked: {}", claimgraph::index::backend::panic_text(&p))),
    }
}

fn damage_cases(flips_per_file: usize) {
    let tmp = crate::mem_tempdir();
    let src = tmp.path().join("src");
    let before = build(&src);
    let index_files = files_under(&claimgraph::store::live_index_dir(&src));
    assert!(!index_files.is_empty());
    let mut rng = Rng::new(44);
    let mut n = 0;
    let mut failures = Vec::new();
    let mut tally = std::collections::BTreeMap::<&str, u32>::new();
    let mut case = |what: String, damage: &dyn Fn(&Path)| {
        let dir = tmp.path().join(format!("case{n}"));
        n += 1;
        copy_dir(&src, &dir);
        damage(&claimgraph::store::live_index_dir(&dir));
        match check_damaged(&dir, &before) {
            Ok(how) => *tally.entry(how).or_default() += 1,
            Err(e) => failures.push(format!("{what}: {e}")),
        }
        let _ = std::fs::remove_dir_all(&dir);
    };
    case("index directory deleted".into(), &|ix| std::fs::remove_dir_all(ix).unwrap());
    case("snapshot files deleted".into(), &|ix| {
        for f in files_under(ix).into_iter().filter(|f| is_snapshot(f)) {
            std::fs::remove_file(f).unwrap();
        }
    });
    for f in &index_files {
        let rel = f.strip_prefix(&src).unwrap().to_path_buf();
        let len = std::fs::metadata(f).unwrap().len();
        let at = |d: &Path| d.parent().unwrap().join(&rel);
        case(format!("{} zeroed", rel.display()), &|d| {
            std::fs::write(at(d), vec![0u8; len as usize]).unwrap()
        });
        case(format!("{} deleted", rel.display()), &|d| std::fs::remove_file(at(d)).unwrap());
        case(format!("{} truncated to half", rel.display()), &|d| {
            std::fs::OpenOptions::new().write(true).open(at(d)).unwrap().set_len(len / 2).unwrap();
        });
        for _ in 0..flips_per_file {
            if len == 0 {
                break;
            }
            // Half the flips land in the first 4 KiB (headers), half anywhere.
            let byte = if rng.chance(1, 2) { rng.below(len.min(4096)) } else { rng.below(len) };
            let bit = rng.below(8);
            case(format!("{} bit {bit} of byte {byte} flipped", rel.display()), &|d| {
                let mut b = std::fs::read(at(d)).unwrap();
                b[byte as usize] ^= 1 << bit;
                std::fs::write(at(d), b).unwrap();
            });
        }
    }
    eprintln!("index damage: {n} cases over {} sled files: {tally:?}", index_files.len());
    assert!(
        failures.is_empty(),
        "{} of {n} index-damage cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn damaged_or_lost_indexes_are_detected_rebuilt_and_answer_as_before() {
    damage_cases(8);
}

#[test]
#[ignore = "long run: scripts/long-tests.sh (cargo test --release --test reliability -- --ignored)"]
fn index_damage_long_60_flips_per_file() {
    damage_cases(60);
}

/// Regression test: when sled opens but a read fails (here: its `db` file cut
/// to half its length), `Store::open` returned the index error ("Read
/// corrupted data at file offset ...") instead of discarding the index and
/// rebuilding it from the log; only sled's open and the replay fell back.
/// Now every index read during open does.
#[test]
fn a_truncated_sled_db_is_rebuilt_not_an_open_error() {
    let tmp = crate::mem_tempdir();
    let dir = tmp.path().join("s");
    let before = build(&dir);
    let db = claimgraph::store::live_index_dir(&dir).join("db");
    let len = std::fs::metadata(&db).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&db).unwrap().set_len(len / 2).unwrap();
    // Rebuilt on open when the cut reaches data sled has written (the usual
    // case); on a loaded machine sled may not have written that far yet, and
    // the cut store opens or is caught by verify instead. Never an open error,
    // never a changed answer.
    let how = check_damaged(&dir, &before).unwrap_or_else(|e| panic!("{e}"));
    assert!(["rebuilt on open", "opened", "found by verify"].contains(&how), "{how}");
}

/// Regression test: a bit flipped inside sled's `db` file where the open does
/// not read made `verify` fail with "Read corrupted data" (detected), but
/// then `rebuild_indexes` failed the same way, because it cleared the damaged
/// tree key by key and so read the damaged pages. A rebuild now builds a
/// fresh index in a new directory and never reads the old one (the sweep in
/// `damage_cases` finds the flips that reach this case; this test makes the
/// old index unreadable outright, under the open store).
#[test]
fn a_rebuild_never_reads_the_damaged_index() {
    let tmp = crate::mem_tempdir();
    let dir = tmp.path().join("s");
    build(&dir);
    let db = claimgraph::store::live_index_dir(&dir).join("db");
    let bytes = std::fs::read(&db).unwrap();
    let store = Store::open_with(&dir, Options { create: true, ..crate::first_use() }).unwrap();
    let old_dir = store.index_dir();
    // Damage the live file under the open store: zero every page after the
    // first 4 KiB, so any read of the old index past its header fails.
    let mut zeroed = bytes.clone();
    zeroed[4096.min(bytes.len())..].fill(0);
    std::fs::write(&db, zeroed).unwrap();
    let replayed = store.rebuild_indexes().unwrap();
    assert_eq!(replayed, TXS);
    assert_ne!(store.index_dir(), old_dir);
    assert!(store.verify().unwrap().ok());
    drop(store);
    let store = Store::open_with(&dir, Options { create: true, ..crate::first_use() }).unwrap();
    assert_eq!(store.open_report().rebuilt, None);
    assert_eq!(store.open_report().replayed, 0);
    assert_eq!(claimgraph::store::live_index_dir(&dir), store.index_dir());
    // Removed when its last reader let go, or at the latest by this open.
    assert!(!old_dir.exists(), "the retired index {} is still there", old_dir.display());
}
