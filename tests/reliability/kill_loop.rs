//! Suite 1, the kill loop. A child process (this binary re-executed) opens a
//! store, commits workload transactions and prints `ACK <tx> <hash>` after
//! each commit returns; the parent SIGKILLs it after a random few
//! milliseconds (`Child::kill` sends SIGKILL on Unix), so some kills land in
//! process start, open and index rebuild (before opening, a quarter of the
//! children delete the index, one in eight garbles the `INDEX_DIR` pointer or
//! cuts sled's `db` file to half, so that open builds a fresh index and
//! switches to it), the rest mid-commit, some of them inside a
//! `rebuild_indexes` a child runs between commits. After each kill the parent
//! reopens the store and checks that
//!
//! - open succeeds and does not panic;
//! - every acknowledged tx is present with the hash it was acknowledged with;
//! - the log is a gap-free prefix of the attempted workload;
//! - `verify` passes (the indexes equal a rebuild from the log) and a
//!   snapshot holds exactly the committed prefix.
//!
//! CI: 200 cycles (readers in half of the children). Long run: 5,000 cycles,
//! every child with concurrent readers.

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use claimgraph::{Options, Store};

use crate::{Rng, child_command, env_u64, workload};

/// Transactions one child commits before it stops by itself.
const CHILD_TXS: u64 = 150;
/// Cycles sharing one store directory before a fresh one is started.
const CYCLES_PER_STORE: u64 = 10;

/// The child: open, commit, acknowledge, until killed.
pub fn child() {
    let dir = PathBuf::from(std::env::var("CG_STORE").expect("CG_STORE"));
    let mut rng = Rng::new(env_u64("CG_SEED").expect("CG_SEED"));
    let readers = std::env::var("CG_READERS").is_ok_and(|v| v == "1");
    let index = claimgraph::store::live_index_dir(&dir);
    match rng.below(8) {
        0 | 1 => {
            let _ = std::fs::remove_dir_all(&index);
            println!("INDEX_REMOVED");
        }
        2 if dir.exists() => {
            std::fs::write(dir.join("INDEX_DIR"), b"\x00garbage").unwrap();
            println!("INDEX_REMOVED");
        }
        3 => {
            if let Ok(f) = std::fs::OpenOptions::new().write(true).open(index.join("db")) {
                let len = f.metadata().map(|m| m.len()).unwrap_or(0);
                let _ = f.set_len(len / 2);
                println!("INDEX_REMOVED");
            }
        }
        _ => {}
    }
    println!("OPENING");
    let segment_bytes = Some(rng.range(2_000, 20_000));
    let store = match Store::open_with(&dir, Options { segment_bytes, create: true, ..crate::first_use() }) {
        Ok(s) => s,
        Err(e) => {
            println!("OPEN_FAILED {e}");
            std::process::exit(3);
        }
    };
    // How long after the parent spawned us the store was open, for the
    // parent's choice of kill times.
    let spawned = crate::env_u64("CG_SPAWNED_MS").unwrap_or(0);
    println!("OPENED {} {}", store.head(), epoch_ms().saturating_sub(spawned));
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    if readers {
        for _ in 0..2 {
            let (store, stop) = (store.clone(), stop.clone());
            threads.push(std::thread::spawn(move || {
                let mut last = 0;
                while !stop.load(Ordering::Acquire) {
                    let view = store.snapshot();
                    let problem = if view.at() < last {
                        Some(format!("a reader's view went back from tx {last} to tx {}", view.at()))
                    } else {
                        workload::check_view(&view).err()
                    };
                    if let Some(p) = problem {
                        println!("READER_FAIL {p}");
                        std::process::exit(4);
                    }
                    last = view.at();
                }
            }));
        }
    }
    let stop_at = store.head() + CHILD_TXS;
    while store.head() < stop_at {
        let head = store.head();
        let n = if rng.chance(1, 3) { rng.range(2, 8) } else { 1 };
        let txs: Vec<_> = (head + 1..=head + n).map(workload::tx).collect();
        let (receipts, err) = store.commit_batch(txs);
        for r in &receipts {
            println!("ACK {} {}", r.tx, r.hash);
        }
        if let Some((_, e)) = err {
            println!("COMMIT_FAILED {e}");
            std::process::exit(5);
        }
        if rng.chance(1, 40) {
            println!("REBUILDING");
            if let Err(e) = store.rebuild_indexes() {
                println!("COMMIT_FAILED rebuild: {e}");
                std::process::exit(5);
            }
            println!("REBUILT");
        }
    }
    stop.store(true, Ordering::Release);
    for t in threads {
        let _ = t.join();
    }
    println!("DONE");
}

fn epoch_ms() -> u64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    now.as_millis() as u64
}

/// What one cycle's child got to before it died.
#[derive(Debug, Default, Clone, Copy)]
struct Reached {
    opened: bool,
    /// Milliseconds from spawn to an open store, when it got there.
    open_ms: Option<u64>,
    index_removed: bool,
    acks: usize,
    /// Inside a `rebuild_indexes` when it died.
    rebuilding: bool,
    finished: bool,
}

#[derive(Debug, Default)]
struct Tally {
    before_open: u64,
    during_rebuild: u64,
    during_live_rebuild: u64,
    during_commits: u64,
    finished: u64,
    acked: u64,
}

fn run_cycle(
    dir: &Path,
    seed: u64,
    readers: bool,
    delay: Duration,
    acked: &mut Vec<(u64, String)>,
) -> Result<Reached, String> {
    let mut child = child_command("kill_loop")
        .env("CG_STORE", dir)
        .env("CG_SEED", seed.to_string())
        .env("CG_READERS", if readers { "1" } else { "0" })
        .env("CG_SPAWNED_MS", epoch_ms().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn: {e}"))?;
    std::thread::sleep(delay);
    let _ = child.kill(); // SIGKILL; an error means it already exited
    let status = child.wait().map_err(|e| format!("wait: {e}"))?;
    let mut out = String::new();
    let mut err = String::new();
    child.stdout.take().expect("piped").read_to_string(&mut out).map_err(|e| e.to_string())?;
    child.stderr.take().expect("piped").read_to_string(&mut err).map_err(|e| e.to_string())?;
    let mut reached = Reached::default();
    // Only whole lines count: a kill can cut the last one.
    let complete = match out.rfind('\n') {
        Some(i) => &out[..=i],
        None => "",
    };
    for line in complete.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("INDEX_REMOVED") => reached.index_removed = true,
            Some("OPENED") => {
                reached.opened = true;
                reached.open_ms = words.nth(1).and_then(|ms| ms.parse().ok());
            }
            Some("ACK") => {
                let tx: u64 = words.next().and_then(|t| t.parse().ok()).ok_or("bad ACK line")?;
                let hash = words.next().ok_or("bad ACK line")?.to_string();
                acked.push((tx, hash));
                reached.acks += 1;
            }
            Some("REBUILDING") => reached.rebuilding = true,
            Some("REBUILT") => reached.rebuilding = false,
            Some("DONE") => reached.finished = true,
            Some("OPEN_FAILED" | "READER_FAIL" | "COMMIT_FAILED") => {
                return Err(format!("child: {line}\nstderr:\n{err}"));
            }
            _ => {}
        }
    }
    let killed = status.signal() == Some(9);
    if !killed && !status.success() {
        return Err(format!("child failed ({status}):\n{out}\nstderr:\n{err}"));
    }
    Ok(reached)
}

/// Reopens after a kill and checks everything the suite promises.
fn check_after(dir: &Path, acked: &[(u64, String)]) -> Result<u64, String> {
    let opened = std::panic::catch_unwind(|| crate::create_first_use(dir));
    let store = match opened {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err(format!("reopen failed: {e}")),
        Err(_) => return Err("reopen panicked".into()),
    };
    let head = workload::check_log(&store, acked)?;
    let report = store.verify().map_err(|e| format!("verify: {e}"))?;
    if !report.ok() {
        return Err(format!("verify failed: {:?}", report.problems));
    }
    workload::check_view(&store.snapshot())?;
    Ok(head)
}

fn kill_loop(cycles: u64, all_readers: bool, seed: u64) {
    let mut rng = Rng::new(seed);
    let mut tally = Tally::default();
    let mut tmp = tempfile::tempdir().unwrap();
    let mut acked = Vec::new();
    // Delays start small (kills during process start and open) and reach past
    // the first commits; the upper end adapts to how long opens take here.
    let mut open_ms = 30u64;
    let started = Instant::now();
    for cycle in 0..cycles {
        if cycle > 0 && cycle % CYCLES_PER_STORE == 0 {
            tmp = tempfile::tempdir().unwrap();
            acked.clear();
        }
        let dir = tmp.path().join("store");
        let delay = Duration::from_millis(rng.below(open_ms * 3 + 20));
        let readers = all_readers || cycle % 2 == 1;
        let child_seed = rng.next_u64();
        let reached = run_cycle(&dir, child_seed, readers, delay, &mut acked)
            .unwrap_or_else(|e| panic!("kill loop seed {seed} cycle {cycle}: {e}"));
        // Track how long children take to open (it varies with the machine's
        // load), so that kills keep landing both before and after.
        match reached.open_ms {
            Some(ms) => open_ms = (open_ms * 3 + ms) / 4,
            None if delay.as_millis() as u64 > open_ms * 2 => open_ms = delay.as_millis() as u64,
            None => {}
        }
        match reached {
            Reached { finished: true, .. } => tally.finished += 1,
            Reached { opened: false, index_removed: true, .. } => tally.during_rebuild += 1,
            Reached { opened: false, .. } => tally.before_open += 1,
            Reached { rebuilding: true, .. } => tally.during_live_rebuild += 1,
            _ => tally.during_commits += 1,
        }
        tally.acked += reached.acks as u64;
        if dir.exists() {
            check_after(&dir, &acked).unwrap_or_else(|e| {
                panic!("kill loop seed {seed} cycle {cycle} (child seed {child_seed}, {reached:?}): {e}")
            });
        }
    }
    eprintln!("kill loop: {cycles} cycles in {:.1?}: {tally:?}", started.elapsed());
    assert!(tally.before_open + tally.during_rebuild > 0, "no kill landed before open finished: {tally:?}");
    assert!(tally.during_commits > 0, "no kill landed among commits: {tally:?}");
    assert!(tally.acked > 0);
}

#[test]
fn kill_loop_ci_200_cycles() {
    kill_loop(env_u64("CLAIMGRAPH_CYCLES").unwrap_or(200), false, env_u64("CLAIMGRAPH_SEED").unwrap_or(1));
}

#[test]
#[ignore = "long run: scripts/long-tests.sh (cargo test --release --test reliability -- --ignored)"]
fn kill_loop_long_5000_cycles_with_readers() {
    let cycles = env_u64("CLAIMGRAPH_LONG_CYCLES").unwrap_or(5_000);
    kill_loop(cycles, true, env_u64("CLAIMGRAPH_SEED").unwrap_or(5000));
}
