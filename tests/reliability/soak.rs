//! Suite 9, the soak (long run only). A child process (so that its memory
//! figures are its own) commits a million claims with realistic qualifiers
//! (speaker, source document, valid time, stance, some quotes) in bulk
//! batches, reopening the store every 100,000 claims, and reports at each
//! reopen: resident memory (now and peak), bytes on disk per claim (log and
//! index), and how long the open took. At the end it verifies the store,
//! times a full index rebuild from the log, and runs a few queries. The
//! figures go in docs/durability.md.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Instant;

use claimgraph::Transaction;
use claimgraph::model::{Date, Stance, Term, ValidTime};

use crate::{Rng, child_command, rss};

const ENTITIES: u64 = 5_000;
const DOCUMENTS: u64 = 500;
const PREDICATES: u64 = 40;
const CLAIMS_PER_TX: u64 = 20;
const TXS_PER_BATCH: usize = 250;

fn mib(b: u64) -> f64 {
    b as f64 / (1 << 20) as f64
}

fn dir_bytes(p: &std::path::Path) -> u64 {
    crate::files_under(p).iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum()
}

fn declarations() -> Transaction {
    let mut t = Transaction::new("soak");
    for e in 0..ENTITIES {
        let kind = ["Person", "Organization", "Country"][(e % 3) as usize];
        t.entity(&format!("e{e}"), kind, &format!("Entity number {e}"));
    }
    for d in 0..DOCUMENTS {
        t.document(claimgraph::model::DocumentEvent {
            key: format!("doc{d}"),
            title: Some(format!("Report {d}")),
            publisher: Some("Soak Wire".into()),
            published: Some(
                Date::new(2024 + (d % 2) as i32, Some(1 + (d % 12) as u32), Some(1 + (d % 28) as u32))
                    .unwrap(),
            ),
            ..Default::default()
        });
    }
    t
}

fn claim_tx(rng: &mut Rng) -> Transaction {
    let mut t = Transaction::new("soak");
    for _ in 0..CLAIMS_PER_TX {
        let s = format!("e{}", rng.below(ENTITIES));
        let p = format!("pred_{}", rng.below(PREDICATES));
        let o = if rng.chance(3, 4) {
            Term::Entity(format!("e{}", rng.below(ENTITIES)))
        } else {
            Term::Int(rng.below(1_000_000) as i64)
        };
        let a = t.assert(&s, &p, o);
        a.by = Some(format!("e{}", rng.below(ENTITIES / 3) * 3));
        a.source = Some(format!("doc{}", rng.below(DOCUMENTS)));
        let y = 2020 + rng.below(6) as i32;
        a.valid = ValidTime::during(Date::new(y, Some(1 + rng.below(12) as u32), None).unwrap());
        a.stance = *rng.pick(&[Stance::Asserts, Stance::Asserts, Stance::Suggests, Stance::Denies]);
        if rng.chance(1, 4) {
            a.quote = Some(format!("quoted words number {}", rng.next_u64() % 100_000));
        }
    }
    t
}

/// The child: writes `CG_CLAIMS` claims and prints `SOAK ...` lines.
pub fn child() {
    let claims_goal = crate::env_u64("CG_CLAIMS").unwrap_or(1_000_000);
    let reopen_every = crate::env_u64("CG_REOPEN").unwrap_or(100_000);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let mut rng = Rng::new(9);
    let mut store = crate::create_first_use(&dir).unwrap();
    store.commit(declarations()).unwrap();
    let mut claims = 0u64;
    let mut next_reopen = reopen_every;
    let started = Instant::now();
    let mut write_time = 0f64;
    while claims < claims_goal {
        let batch: Vec<_> = (0..TXS_PER_BATCH).map(|_| claim_tx(&mut rng)).collect();
        let t = Instant::now();
        let (r, err) = store.commit_batch(batch);
        write_time += t.elapsed().as_secs_f64();
        assert!(err.is_none(), "{err:?}");
        claims += r.len() as u64 * CLAIMS_PER_TX;
        if claims >= next_reopen {
            next_reopen += reopen_every;
            drop(store);
            let t = Instant::now();
            store = crate::create_first_use(&dir).unwrap();
            let open_ms = t.elapsed().as_secs_f64() * 1e3;
            let (now, peak) = rss();
            let log = dir_bytes(&dir.join("log"));
            let index = dir_bytes(&claimgraph::store::live_index_dir(&dir));
            println!(
                "SOAK claims={claims} txs={} open_ms={open_ms:.0} rss_mib={:.0} peak_rss_mib={:.0} \
                 log_mib={:.1} index_mib={:.1} bytes_per_claim={:.0} (log {:.0}, index {:.0}) \
                 claims_per_s={:.0} elapsed_s={:.0}",
                store.head(),
                mib(now),
                mib(peak),
                mib(log),
                mib(index),
                (log + index) as f64 / claims as f64,
                log as f64 / claims as f64,
                index as f64 / claims as f64,
                claims as f64 / write_time,
                started.elapsed().as_secs_f64(),
            );
        }
    }
    let t = Instant::now();
    let report = store.verify().unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    println!("SOAK verify_s={:.1} index_entries={}", t.elapsed().as_secs_f64(), report.index_entries);
    for q in [
        "MATCH (a)-[c:pred_1]->(b) RETURN count(*)",
        "MATCH (@e42)-[c]->(x) RETURN count(*)",
        "MATCH (a)-[c]->(b) WHERE c.stance = 'denies' AND c.source = @doc7 RETURN count(*)",
    ] {
        let t = Instant::now();
        let r = store.query(q).unwrap();
        println!("SOAK query_ms={:.1} rows={:?} q={q}", t.elapsed().as_secs_f64() * 1e3, r.rows);
    }
    drop(store);
    std::fs::remove_dir_all(claimgraph::store::live_index_dir(&dir)).unwrap();
    let t = Instant::now();
    let store = crate::create_first_use(&dir).unwrap();
    let (now, peak) = rss();
    println!(
        "SOAK rebuild_open_s={:.1} replayed={} rss_mib={:.0} peak_rss_mib={:.0}",
        t.elapsed().as_secs_f64(),
        store.open_report().replayed,
        mib(now),
        mib(peak)
    );
}

#[test]
#[ignore = "long run: scripts/long-tests.sh (cargo test --release --test reliability -- --ignored)"]
fn soak_a_million_claims_with_periodic_reopen() {
    // The child reads CG_CLAIMS (default 1,000,000) and CG_REOPEN (100,000).
    let reopens =
        crate::env_u64("CG_CLAIMS").unwrap_or(1_000_000) / crate::env_u64("CG_REOPEN").unwrap_or(100_000);
    let mut child = child_command("soak").stdout(Stdio::piped()).stdin(Stdio::null()).spawn().unwrap();
    let out = BufReader::new(child.stdout.take().unwrap());
    let mut lines = 0;
    for line in out.lines() {
        let line = line.unwrap();
        if line.starts_with("SOAK") {
            eprintln!("{line}");
            lines += 1;
        }
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "the soak child failed: {status}");
    assert!(lines as u64 >= reopens.max(1), "the soak reported {lines} lines for {reopens} reopens");
}
