//! Suite 3, the log corruption sweep, on a 50-transaction log (one write per
//! transaction, so each record is its own write):
//!
//! - cut at every byte of the last two records: opens, drops the partial
//!   record, reports exactly the bytes dropped, and the cut is durable;
//! - garbage, zeros and hostile headers appended: opens, drops them, reports;
//! - a bit flipped in every byte of records 1..=49 (log level, exhaustive)
//!   and in a sample of bytes of each (store level): refuses to open with an
//!   error naming that transaction and leaves the file untouched; the repair
//!   cuts there only when asked and says what it removed; a flip in the last
//!   record is a torn tail;
//! - a zeroed sector mid-log, a missing or shortened middle segment: refused;
//! - a multi-record write whose sectors persisted out of order: a torn tail.
//!
//! Whenever a store opens, its data equals the reference model (the first
//! `head` workload transactions with the reference hashes). The store-level
//! opens run in a child process that reports case by case, so an abort or a
//! stack overflow is caught and named rather than taking the suite down.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use claimgraph::log::{Log, LogError, frame};
use claimgraph::model::Hash;
use claimgraph::{Clock, Options, Store, StoreError};

use crate::simdisk::SimDisk;
use crate::{Rng, StepClock, child_command, workload};

const SEG: &str = "seg-0000000000000001.log";
const TXS: u64 = 50;

/// The reference log: its bytes, each record's (offset, len), each tx's hash.
#[derive(Clone)]
pub struct Reference {
    pub bytes: Vec<u8>,
    pub records: Vec<(usize, usize)>,
    pub hashes: Vec<(u64, String)>,
}

impl Reference {
    fn start(&self, tx: u64) -> usize {
        self.records[tx as usize - 1].0
    }
    fn end(&self, tx: u64) -> usize {
        let (o, l) = self.records[tx as usize - 1];
        o + l
    }
}

/// Builds the 50-tx reference log (deterministic: fixed clock, fixed workload).
pub fn reference() -> Reference {
    let tmp = crate::mem_tempdir();
    let clock: Arc<dyn Clock> = Arc::new(StepClock::new());
    let store =
        Store::open_with(tmp.path(), Options { clock: Some(clock), create: true, ..crate::first_use() })
            .unwrap();
    for k in 1..=TXS {
        store.commit(workload::tx(k)).unwrap();
    }
    let mut hashes = Vec::new();
    store
        .for_each_tx(1, |r| {
            hashes.push((r.tx, r.hash.to_string()));
            Ok(())
        })
        .unwrap();
    drop(store);
    let bytes = std::fs::read(tmp.path().join("log").join(SEG)).unwrap();
    let records = frames(&bytes);
    assert_eq!(records.len() as u64, TXS);
    Reference { bytes, records, hashes }
}

fn frames(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let h = frame::check(&bytes[pos..]).expect("a clean reference log");
        let len = frame::HEADER_LEN + h.body_len;
        out.push((pos, len));
        pos += len;
    }
    out
}

/// What opening a damaged log must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    Opens {
        head: u64,
        dropped: u64,
    },
    Refuses {
        tx: u64,
    },
    /// Refused: the log ends at `end`, before the acknowledged head.
    Missing {
        end: u64,
        acknowledged: u64,
    },
}

/// One damaged log.
#[derive(Debug, Clone)]
pub struct Case {
    pub what: String,
    pub files: Vec<(String, Vec<u8>)>,
    pub expect: Expect,
    /// Also run the repair and check its report (the cut tx and bytes).
    pub repair: bool,
    /// The acknowledged head the head file records (`None`: no head file,
    /// as in a store from before it, where only the segments count).
    pub head: Option<u64>,
}

fn one_file(what: String, bytes: Vec<u8>, expect: Expect) -> Case {
    Case { what, files: vec![(SEG.to_string(), bytes)], expect, repair: false, head: None }
}

/// Every store-level case, in a fixed order.
pub fn cases(r: &Reference) -> Vec<Case> {
    let mut out = Vec::new();
    let total = r.bytes.len();
    // Cut at every byte of the last two records.
    for cut in r.start(TXS - 1)..total {
        let (head, from) =
            if cut < r.start(TXS) { (TXS - 2, r.start(TXS - 1)) } else { (TXS - 1, r.start(TXS)) };
        let expect = Expect::Opens { head, dropped: (cut - from) as u64 };
        out.push(one_file(format!("cut at byte {cut}"), r.bytes[..cut].to_vec(), expect));
    }
    // Garbage, zeros and hostile headers after the last record.
    let mut rng = Rng::new(3);
    let mut tails: Vec<(String, Vec<u8>)> = vec![
        ("1 zero byte".into(), vec![0]),
        ("4096 zero bytes".into(), vec![0; 4096]),
        ("300 0xFF bytes".into(), vec![0xFF; 300]),
        ("a lone magic".into(), frame::MAGIC.to_vec()),
        ("a header claiming 4 GiB".into(), hostile_header(u32::MAX)),
        ("a header claiming 64 MiB".into(), hostile_header(64 << 20)),
        ("the first 60 bytes of a record".into(), frame::encode(51, &Hash::ZERO, b"x").0[..60].to_vec()),
    ];
    for n in [1usize, 7, 83, 84, 85, 700, 5000] {
        tails.push((format!("{n} random bytes"), rng.bytes(n)));
    }
    for (what, tail) in tails {
        let mut b = r.bytes.clone();
        b.extend_from_slice(&tail);
        out.push(one_file(
            format!("appended {what}"),
            b,
            Expect::Opens { head: TXS, dropped: tail.len() as u64 },
        ));
    }
    // A flipped bit in a sample of bytes of every record: header fields and body.
    for tx in 1..=TXS {
        let (start, len) = r.records[tx as usize - 1];
        let mut offsets = vec![0usize, 4, 5, 7, 8, 13, 30, 60, 84, len - 1];
        offsets.push(frame::HEADER_LEN + rng.below((len - frame::HEADER_LEN) as u64) as usize);
        for (i, off) in offsets.into_iter().enumerate() {
            let mut b = r.bytes.clone();
            b[start + off] ^= 1 << rng.below(8);
            let expect = if tx == TXS {
                Expect::Opens { head: TXS - 1, dropped: len as u64 }
            } else {
                Expect::Refuses { tx }
            };
            let mut case = one_file(format!("tx {tx}: flipped a bit at byte {off} of the record"), b, expect);
            case.repair = tx < TXS && i % 4 == 0;
            out.push(case);
        }
    }
    // A zeroed 512-byte sector in the middle.
    let mid = r.start(20) + 10;
    let sector = (mid / 512) * 512;
    let mut b = r.bytes.clone();
    b[sector..sector + 512].fill(0);
    let first_hit = (1..=TXS).find(|&t| r.end(t) > sector).expect("a record");
    out.push(one_file(format!("zeroed sector at {sector}"), b, Expect::Refuses { tx: first_hit }));
    // Records swapped: a whole record in the wrong place is corruption.
    let mut b = r.bytes[..r.start(30)].to_vec();
    b.extend_from_slice(&r.bytes[r.start(31)..r.end(31)]);
    b.extend_from_slice(&r.bytes[r.start(30)..r.end(30)]);
    b.extend_from_slice(&r.bytes[r.end(31)..]);
    out.push(one_file("tx 30 and tx 31 swapped".into(), b, Expect::Refuses { tx: 30 }));
    // Split into segments, then lose or shorten a middle one.
    let split = [1u64, 11, 21, 31, 41];
    let segments: Vec<(String, Vec<u8>)> = split
        .iter()
        .map(|&first| {
            let last = (first + 9).min(TXS);
            (format!("seg-{first:016}.log"), r.bytes[r.start(first)..r.end(last)].to_vec())
        })
        .collect();
    out.push(Case {
        what: "five segments".into(),
        files: segments.clone(),
        expect: Expect::Opens { head: TXS, dropped: 0 },
        repair: false,
        head: None,
    });
    let mut missing = segments.clone();
    missing.remove(2);
    out.push(Case {
        what: "the third of five segments missing".into(),
        files: missing,
        expect: Expect::Refuses { tx: 21 },
        repair: true,
        head: None,
    });
    let mut short = segments.clone();
    let cut = short[1].1.len() - 5;
    short[1].1.truncate(cut);
    out.push(Case {
        what: "the second of five segments cut short".into(),
        files: short,
        expect: Expect::Refuses { tx: 20 },
        repair: true,
        head: None,
    });
    // Finding 6: a log that ends before its acknowledged head lost
    // acknowledged transactions, whatever its segments look like.
    let mut last_gone = segments.clone();
    last_gone.pop();
    let missing = |what: &str, files: Vec<(String, Vec<u8>)>, end: u64| Case {
        what: what.into(),
        files,
        expect: Expect::Missing { end, acknowledged: TXS },
        repair: false,
        head: Some(TXS),
    };
    out.push(missing("the last segment missing", last_gone.clone(), 40));
    let mut emptied = segments.clone();
    emptied[4].1.clear();
    out.push(missing("the last segment emptied", emptied, 40));
    let mut cut_at_boundary = segments.clone();
    cut_at_boundary[4].1.truncate(r.start(TXS) - r.start(41));
    out.push(missing("the last segment cut at a record boundary", cut_at_boundary, TXS - 1));
    out.push(missing("every segment gone", Vec::new(), 0));
    // Without a head file the segments are all there is to go by: a store
    // from before the head file opens at the end it finds.
    out.push(Case {
        what: "the last segment missing, no head file".into(),
        files: last_gone,
        expect: Expect::Opens { head: 40, dropped: 0 },
        repair: false,
        head: None,
    });
    // Finding 7: a cut or zeros inside the acknowledged records are damage;
    // only bytes after the acknowledged head are a torn write.
    let mut case = one_file(
        "cut inside tx 50, acknowledged".into(),
        r.bytes[..r.end(TXS) - 7].to_vec(),
        Expect::Refuses { tx: TXS },
    );
    case.head = Some(TXS);
    out.push(case);
    let mut case = one_file(
        "cut inside tx 50, acknowledged up to tx 49".into(),
        r.bytes[..r.end(TXS) - 7].to_vec(),
        Expect::Opens { head: TXS - 1, dropped: (r.end(TXS) - 7 - r.start(TXS)) as u64 },
    );
    case.head = Some(TXS - 1);
    out.push(case);
    let mut b = r.bytes.clone();
    let sector = r.start(TXS).next_multiple_of(512).min(r.end(TXS) - 512);
    let zeroed = (sector / 512) * 512;
    b[zeroed..zeroed + 512].fill(0);
    let hit = (1..=TXS).find(|&t| r.end(t) > zeroed).expect("a record");
    let mut case =
        one_file(format!("zeroed sector at {zeroed}, acknowledged"), b, Expect::Refuses { tx: hit });
    case.head = Some(TXS);
    out.push(case);
    out
}

fn hostile_header(len: u32) -> Vec<u8> {
    let (mut b, _) = frame::encode(TXS + 1, &Hash::ZERO, b"x");
    b[8..12].copy_from_slice(&len.to_le_bytes());
    b
}

fn disk_with(files: &[(String, Vec<u8>)]) -> SimDisk {
    let disk = SimDisk::new(0);
    for (name, bytes) in files {
        disk.set_file(name, bytes.clone());
    }
    disk
}

/// Opens one case's store and checks the outcome; `Err` names what was wrong.
pub fn run_case(r: &Reference, case: &Case, dir: &Path, verify: bool) -> Result<(), String> {
    let disk = disk_with(&case.files);
    if let Some(tx) = case.head {
        let hash = Hash::from_hex(&r.hashes[tx as usize - 1].1).expect("a reference hash");
        disk.set_head(Some(claimgraph::log::head::encode_file(claimgraph::log::Head { tx, hash })));
    }
    let opened =
        Store::open_with(dir.join("store"), Options { log_dir: Some(disk.dir()), ..crate::first_use() });
    match (&case.expect, opened) {
        (Expect::Opens { head, dropped }, Ok(store)) => {
            let report = store.open_report().log.clone();
            if report.dropped_bytes != *dropped || report.dropped_why.is_some() != (*dropped > 0) {
                return Err(format!(
                    "dropped {} bytes ({:?}), expected {dropped}",
                    report.dropped_bytes, report
                ));
            }
            check_reference(r, &store, *head)?;
            if verify {
                let v = store.verify().map_err(|e| e.to_string())?;
                if !v.ok() {
                    return Err(format!("verify: {:?}", v.problems));
                }
            }
            // The cut is durable: the log now ends at the last good record.
            // A file the disk lists but cannot show is an error, not 0 bytes.
            let on_disk = disk
                .files()
                .iter()
                .map(|n| disk.synced(n).map(|b| b.len()).ok_or(format!("{n} is missing")))
                .sum::<Result<usize, String>>()?;
            let want = if *head == 0 { 0 } else { r.end(*head) - r.start(first_tx(&case.files)) };
            if on_disk != want {
                return Err(format!("after open the log holds {on_disk} bytes, expected {want}"));
            }
            Ok(())
        }
        (Expect::Opens { .. }, Err(e)) => Err(format!("refused to open: {e}")),
        (
            Expect::Missing { end, acknowledged },
            Err(StoreError::Log(LogError::Missing { end: e, acknowledged: a })),
        ) => {
            if (e, a) != (*end, *acknowledged) {
                return Err(format!("refused as missing {e}..{a}, expected {end}..{acknowledged}"));
            }
            for (name, bytes) in &case.files {
                if disk.written(name).as_ref() != Some(bytes) {
                    return Err(format!("a refused open changed {name}"));
                }
            }
            Ok(())
        }
        (Expect::Missing { end, acknowledged }, other) => Err(format!(
            "expected a refusal naming txs {}..={acknowledged} missing, got {:?}",
            end + 1,
            other.map(|s| s.head()).map_err(|e| e.to_string())
        )),
        (Expect::Refuses { tx }, Ok(s)) => {
            Err(format!("opened (head {}) instead of refusing at tx {tx}", s.head()))
        }
        (Expect::Refuses { tx }, Err(e)) => {
            match &e {
                StoreError::Log(LogError::Corrupt { tx: t, .. }) if t == tx => {}
                _ => return Err(format!("refused with the wrong error: {e}")),
            }
            let msg = e.to_string();
            if !msg.contains(&format!("damaged at tx {tx}")) || !msg.contains("repair") {
                return Err(format!("the message does not name tx {tx} and the repair: {msg}"));
            }
            for (name, bytes) in &case.files {
                if disk.written(name).as_ref() != Some(bytes) {
                    return Err(format!("a refused open changed {name}"));
                }
            }
            if case.repair { repair_case(r, case, *tx, dir) } else { Ok(()) }
        }
    }
}

fn first_tx(files: &[(String, Vec<u8>)]) -> u64 {
    files.iter().filter_map(|(n, _)| n[4..20].parse().ok()).min().unwrap_or(1)
}

/// The repair, on real files through the public API: it cuts at `tx`, says
/// what it removed, and the store then opens with the prefix.
fn repair_case(r: &Reference, case: &Case, tx: u64, dir: &Path) -> Result<(), String> {
    let root = dir.join("repair");
    std::fs::create_dir_all(root.join("log")).map_err(|e| e.to_string())?;
    for (name, bytes) in &case.files {
        std::fs::write(root.join("log").join(name), bytes).map_err(|e| e.to_string())?;
    }
    let total: usize = case.files.iter().map(|(_, b)| b.len()).sum();
    let report = Store::repair(&root).map_err(|e| format!("repair: {e}"))?;
    let kept = if tx == 1 { 0 } else { r.end(tx - 1) - r.start(first_tx(&case.files)) };
    if report.cut_at_tx != Some(tx) || report.dropped_bytes != (total - kept) as u64 {
        return Err(format!(
            "repair report {report:?}: expected a cut at tx {tx} dropping {} bytes",
            total - kept
        ));
    }
    let valid_after = (tx + 1..=TXS).filter(|t| case.files.iter().any(|(_, b)| contains(b, r, *t))).count();
    if report.dropped_valid_records != valid_after as u64 {
        return Err(format!(
            "repair says {} valid records dropped, expected {valid_after}",
            report.dropped_valid_records
        ));
    }
    let store = crate::create_first_use(&root).map_err(|e| format!("open after repair: {e}"))?;
    check_reference(r, &store, tx - 1)
}

fn contains(hay: &[u8], r: &Reference, tx: u64) -> bool {
    let rec = &r.bytes[r.start(tx)..r.end(tx)];
    hay.windows(rec.len()).any(|w| w == rec)
}

/// The store holds exactly the reference's first `head` transactions.
fn check_reference(r: &Reference, store: &Store, head: u64) -> Result<(), String> {
    let got = workload::check_log(store, &r.hashes[..head as usize])?;
    if got != head {
        return Err(format!("opened with head {got}, expected {head}"));
    }
    workload::check_view(&store.snapshot())
}

/// The child: runs the store-level cases `CG_FROM..CG_TO` on the log in `CG_LOG`.
pub fn child() {
    let bytes = std::fs::read(std::env::var("CG_LOG").expect("CG_LOG")).expect("the reference log");
    let hashes = std::fs::read_to_string(std::env::var("CG_HASHES").expect("CG_HASHES")).expect("hashes");
    let hashes = hashes
        .lines()
        .map(|l| {
            let (t, h) = l.split_once(' ').expect("tx hash");
            (t.parse().expect("tx"), h.to_string())
        })
        .collect();
    let r = Reference { records: frames(&bytes), bytes, hashes };
    let all = cases(&r);
    let from = crate::env_u64("CG_FROM").unwrap_or(0) as usize;
    let to = (crate::env_u64("CG_TO").unwrap_or(all.len() as u64) as usize).min(all.len());
    let tmp = crate::mem_tempdir();
    for (i, case) in all.iter().enumerate().take(to).skip(from) {
        println!("CASE {i}");
        let dir = tmp.path().join(format!("c{i}"));
        let t = std::time::Instant::now();
        match run_case(&r, case, &dir, i % 8 == 0) {
            Ok(()) => println!("OK {i} {}us", t.elapsed().as_micros()),
            Err(e) => println!("FAIL {i} {}: {e}", case.what),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!("END");
}

fn write_reference(r: &Reference, dir: &Path) -> (PathBuf, PathBuf) {
    let log = dir.join("reference.log");
    let hashes = dir.join("hashes.txt");
    std::fs::write(&log, &r.bytes).unwrap();
    let text: String = r.hashes.iter().map(|(t, h)| format!("{t} {h}\n")).collect();
    std::fs::write(&hashes, text).unwrap();
    (log, hashes)
}

#[test]
fn every_store_level_case_in_child_processes() {
    let r = reference();
    let tmp = tempfile::tempdir().unwrap();
    let (log, hashes) = write_reference(&r, tmp.path());
    let n = cases(&r).len();
    let mut failures = Vec::new();
    let parts = 2;
    let mut children = Vec::new();
    for p in 0..parts {
        let (from, to) = (n * p / parts, n * (p + 1) / parts);
        let child = child_command("open_cases")
            .env("CG_LOG", &log)
            .env("CG_HASHES", &hashes)
            .env("CG_FROM", from.to_string())
            .env("CG_TO", to.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        children.push((from, to, child));
    }
    let mut ok = 0;
    for (from, to, mut child) in children {
        let status = child.wait().unwrap();
        let mut out = String::new();
        let mut err = String::new();
        child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        let mut last_started = None;
        for line in out.lines() {
            if let Some(i) = line.strip_prefix("CASE ") {
                last_started = Some(i.to_string());
            } else if line.starts_with("OK ") {
                ok += 1;
                if std::env::var("CG_TIMES").is_ok() {
                    eprintln!("{line}");
                }
            } else if line.starts_with("FAIL ") {
                failures.push(line.to_string());
            }
        }
        if !status.success() || !out.contains("END") {
            panic!(
                "the child running cases {from}..{to} died ({status}) in case {last_started:?}: \
                 an abort or crash while opening a damaged log\n{err}"
            );
        }
    }
    assert!(failures.is_empty(), "{} of {n} cases failed:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(ok, n);
    eprintln!("corruption sweep: {n} store-level cases in child processes");
}

/// Log level, exhaustive: one flipped bit in every byte of every record.
#[test]
fn a_flip_in_any_byte_of_any_record_is_refused_or_a_torn_tail() {
    let r = reference();
    let mut rng = Rng::new(11);
    let mut checked = 0;
    for tx in 1..=TXS {
        for at in r.start(tx)..r.end(tx) {
            let mut b = r.bytes.clone();
            b[at] ^= 1 << rng.below(8);
            let disk = disk_with(&[(SEG.to_string(), b.clone())]);
            match (Log::open(disk.dir()), tx == TXS) {
                (Err(LogError::Corrupt { tx: t, .. }), false) if t == tx => {
                    assert_eq!(disk.written(SEG).unwrap(), b, "a refused open changed the file");
                }
                (Ok((log, report)), true) => {
                    assert_eq!(
                        (log.head(), report.dropped_bytes),
                        (TXS - 1, (r.end(tx) - r.start(tx)) as u64)
                    );
                }
                (Ok((log, report)), _) => {
                    panic!("flip at byte {at} (tx {tx}) opened: head {} {report:?}", log.head())
                }
                (Err(e), _) => panic!("flip at byte {at} (tx {tx}): {e}"),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, r.bytes.len());
}

/// A batch is one write. When its sectors persist out of order at a power
/// loss (a later record durable, an earlier sector a hole of zeros), the
/// whole unacknowledged write is a torn tail, not corruption. Regression test
/// for power-loss seed 122 (the store refused to open after losing an
/// unacknowledged batch that way). A flipped bit in the same batch is not a
/// lost sector: it is refused, naming the tx, like any damage before valid
/// records.
#[test]
fn a_batch_whose_sectors_persisted_out_of_order_is_a_torn_tail() {
    let tmp = crate::mem_tempdir();
    let store = crate::create_first_use(tmp.path()).unwrap();
    for k in 1..=5 {
        store.commit(workload::tx(k)).unwrap();
    }
    let (receipts, err) = store.commit_batch((6..=40).map(workload::tx).collect());
    assert!(err.is_none() && receipts.len() == 35);
    drop(store);
    let bytes = std::fs::read(tmp.path().join("log").join(SEG)).unwrap();
    let recs = frames(&bytes);
    let batch_start = recs[5].0;
    let first_hit = |at: usize| recs.iter().position(|&(o, l)| o + l > at).unwrap();
    let open = |b: Vec<u8>| Log::open(disk_with(&[(SEG.to_string(), b)]).dir());
    // Each sector of the batch lost in turn (the first one only from where
    // the batch starts: the part before it belongs to a synced record).
    let mut lost = vec![(batch_start, batch_start.next_multiple_of(512))];
    let mut s = batch_start.next_multiple_of(512);
    while s < bytes.len() {
        lost.push((s, (s + 512).min(bytes.len())));
        s += 512;
    }
    for (from, to) in lost {
        let mut b = bytes.clone();
        b[from..to].fill(0);
        let hit = first_hit(from);
        let (log, report) = open(b).unwrap_or_else(|e| panic!("sector {from}..{to} lost: {e}"));
        assert_eq!(log.head() as usize, hit, "sector {from}..{to}: everything before the hole is kept");
        assert_eq!(report.dropped_bytes as usize, bytes.len() - recs[hit].0);
    }
    // A flipped bit in any record of the batch but its last is refused.
    for (i, &(o, l)) in recs.iter().enumerate().skip(5) {
        let mut b = bytes.clone();
        b[o + l / 2] ^= 0x10;
        match open(b) {
            Err(LogError::Corrupt { tx, .. }) if i + 1 < recs.len() => assert_eq!(tx as usize, i + 1),
            Ok((log, _)) if i + 1 == recs.len() => assert_eq!(log.head() as usize, i),
            other => panic!("flip in tx {}: {:?}", i + 1, other.map(|(l, r)| (l.head(), r))),
        }
    }
    // A lost sector before the batch is corruption: the batch was written
    // (and synced) after it.
    let mut b = bytes.clone();
    let s = recs[2].0.next_multiple_of(512);
    assert!(s + 512 <= batch_start, "the single commits span a whole sector");
    b[s..s + 512].fill(0);
    assert!(matches!(open(b), Err(LogError::Corrupt { .. })));
}

/// Regression test for a store bug (fixed: the store lock): nothing stopped
/// a second `Store::open` of a store that is already open (in
/// this process or another, such as the CLI beside a REPL). sled's lock
/// makes the second index open fail, `Store::open_dir` (src/store/mod.rs)
/// takes that for a damaged index, deletes the index directory the first
/// store is using and rebuilds; then both stores append their own tx 2 to
/// the same segment, and the next open refuses the log ("found tx 2 where
/// tx 3 belongs"). A lock on the whole store, taken before the log is
/// opened, should make the second open fail instead.
#[test]
fn a_second_open_of_a_store_in_use_is_refused() {
    let tmp = crate::mem_tempdir();
    let first = crate::create_first_use(tmp.path()).unwrap();
    first.commit(workload::tx(1)).unwrap();
    let second = crate::create_first_use(tmp.path());
    assert!(second.is_err(), "a store in use was opened a second time");
    drop(second);
    first.commit(workload::tx(2)).unwrap();
    drop(first);
    let store = crate::create_first_use(tmp.path()).unwrap();
    workload::check_log(&store, &[]).unwrap();
}

/// Regression test: the store lock (`lock_store` in src/store/mod.rs:
/// `File::try_lock`, an flock, on the store directory and `LOCK`) is also held by every
/// process that another thread is spawning at that moment, which has a copy
/// of the descriptor between fork and exec. So closing a store and opening it
/// again failed with "is already open" while another thread of the program
/// spawned processes (most of 200 reopens). `lock_store` now waits that out.
#[test]
fn a_store_reopens_while_another_thread_spawns_processes() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let tmp = crate::mem_tempdir();
    drop(crate::create_first_use(tmp.path()).unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let spawner = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let _ = std::process::Command::new("true").status();
            }
        })
    };
    let mut failed = 0;
    for _ in 0..200 {
        match crate::create_first_use(tmp.path()) {
            Ok(s) => drop(s),
            Err(_) => failed += 1,
        }
    }
    stop.store(true, Ordering::Relaxed);
    spawner.join().unwrap();
    assert_eq!(failed, 0, "{failed} of 200 reopens found the store still locked by a closed store");
}

/// Finding 5: with a store open, `rm LOCK` let a second process take a new
/// LOCK file's lock, take sled's lock for index damage and rebuild the index
/// the first one was using. The store directory itself is locked now.
#[test]
fn deleting_lock_while_a_store_is_open_does_not_let_a_second_open_in() {
    let tmp = crate::mem_tempdir();
    let first = Store::create(tmp.path()).unwrap();
    first.commit(workload::tx(1)).unwrap();
    let index = first.index_dir();
    std::fs::remove_file(tmp.path().join("LOCK")).unwrap();
    match Store::open(tmp.path()) {
        Err(StoreError::Locked { path }) => assert_eq!(path, tmp.path()),
        Err(e) => panic!("refused with the wrong error: {e}"),
        Ok(_) => panic!("a second open got in after LOCK was deleted"),
    }
    // Another process: the CLI, refused before it reads anything.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_claimgraph"))
        .arg("--store")
        .arg(tmp.path())
        .arg("stats")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("already open"), "{stderr}");
    assert!(index.exists() && first.index_dir() == index, "the first store's index was rebuilt away");
    first.commit(workload::tx(2)).unwrap();
    assert_eq!(first.open_report().rebuilt, None);
    drop(first);
    let store = Store::open(tmp.path()).unwrap();
    assert_eq!(store.open_report().rebuilt, None, "the index survived");
    assert_eq!(workload::check_log(&store, &[]).unwrap(), 2);
}

/// Finding 5: sled's own lock held by someone the store lock does not see
/// (here: the index opened directly, as by a process of a version without
/// the directory lock) is contention, not damage: the open is refused and
/// the index is left alone.
#[test]
fn a_held_sled_lock_is_not_taken_for_index_damage() {
    let tmp = crate::mem_tempdir();
    drop(Store::create(tmp.path()).map(|s| s.commit(workload::tx(1)).map(|_| s)).unwrap().unwrap());
    let index_dir = claimgraph::store::live_index_dir(tmp.path());
    let holder = claimgraph::index::SledBackend::open(&index_dir).unwrap();
    match Store::open(tmp.path()) {
        Err(StoreError::Locked { .. }) => {}
        Err(e) => panic!("refused with the wrong error: {e}"),
        Ok(s) => panic!("opened (rebuilt: {:?}) while sled's lock was held", s.open_report().rebuilt),
    }
    drop(holder);
    let store = Store::open(tmp.path()).unwrap();
    assert_eq!(store.open_report().rebuilt, None, "the index was not rebuilt");
    assert_eq!(store.index_dir(), index_dir);
}

/// Issue 12 (findings 6 and 7), the sweep: with the head file saying tx
/// `acked` was acknowledged, the log cut at every byte and every 512-byte
/// sector zeroed in turn. Every outcome is a refusal, or an open that keeps
/// every acknowledged tx (a cut only within the unacknowledged tail).
#[test]
fn truncation_and_zeroing_sweeps_never_lose_an_acknowledged_tx() {
    let r = reference();
    let total = r.bytes.len();
    let (mut refused, mut cut_after_head, mut opened_whole) = (0u64, 0u64, 0u64);
    for acked in [TXS, TXS - 5] {
        let hash = Hash::from_hex(&r.hashes[acked as usize - 1].1).unwrap();
        let head_file = claimgraph::log::head::encode_file(claimgraph::log::Head { tx: acked, hash });
        let mut damaged: Vec<Vec<u8>> = (0..total).map(|cut| r.bytes[..cut].to_vec()).collect();
        for sector in (0..total).step_by(512) {
            let mut b = r.bytes.clone();
            let end = (sector + 512).min(total);
            b[sector..end].fill(0);
            damaged.push(b);
        }
        for b in damaged {
            let disk = disk_with(&[(SEG.to_string(), b.clone())]);
            disk.set_head(Some(head_file.clone()));
            match Log::open(disk.dir()) {
                Err(LogError::Corrupt { .. } | LogError::Missing { .. }) => {
                    assert_eq!(disk.written(SEG).unwrap(), b, "a refused open changed the file");
                    refused += 1;
                }
                Err(e) => panic!("acknowledged {acked}, {} bytes: unexpected error {e}", b.len()),
                Ok((log, report)) => {
                    assert!(log.head() >= acked, "opened at tx {} with tx {acked} acknowledged", log.head());
                    assert_eq!(log.hash_of(acked), Some(hash));
                    if report.dropped_bytes > 0 { cut_after_head += 1 } else { opened_whole += 1 }
                }
            }
        }
    }
    // Every cut below the acknowledged end and every zeroed sector in it
    // (all of them when all 50 are acknowledged) must have been refused.
    assert!(refused > total as u64, "{refused} refusals");
    assert!(cut_after_head > 0, "cuts after tx 45 were recovered as torn tails");
    println!(
        "truncation/zeroing sweep: {refused} refused, {cut_after_head} cut within the unacknowledged tail, \
         {opened_whole} opened whole; no acknowledged tx lost"
    );
}
