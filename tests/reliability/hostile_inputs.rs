//! Suite 8, hostile files and inputs: random and mutated JSON Lines, statement
//! scripts and log records, and length fields that claim terabytes. Each
//! gives a result or an error, never a panic, with bounded memory (the heap
//! the thread holds at its peak, see [`crate::alloc`]), and a rejected line or
//! statement changes nothing in the store.
//!
//! The cargo-fuzz targets (`fuzz/fuzz_targets/{parse,jsonl,log_record}.rs`)
//! explore the same inputs for longer; their checked-in corpora are replayed
//! by tests/fuzz_corpus.rs. `write_fuzz_corpora` (ignored) regenerates the
//! JSONL and log-record corpora from the inputs built here.

use std::io::{Cursor, Read};
use std::path::Path;

use claimgraph::log::{Log, frame};
use claimgraph::model::Hash;
use claimgraph::{Session, Store, jsonl};

use crate::Rng;
use crate::alloc::peak_during;
use crate::simdisk::SimDisk;

const MIB: u64 = 1 << 20;

/// The example store's JSON Lines (every event type, real text).
const SANCTIONS: &str = include_str!("../../examples/sanctions.jsonl");

/// Random edits of a byte string: flips, deletions, insertions, duplicated
/// and swapped spans, and "interesting" tokens spliced in.
pub fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    const TOKENS: &[&[u8]] = &[
        b"\"",
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b":",
        b"null",
        b"-",
        b"1e999",
        b"18446744073709551616",
        b"\"op\":\"assert\"",
        b"\\u0000",
        b"\\ud800",
        b"\xff\xfe",
        b"\n",
        b"9999999999999999999999",
        b"-0.0",
        b"NaN",
        b"2025-13-45",
        b"\"valid\":\"2025-02-30\"",
        b"(((((((((",
        b"MATCH",
        b"@",
        b"*1..32",
        b"CGLR",
        b"\x01\x00\x00\x00",
    ];
    let mut out = input.to_vec();
    for _ in 0..rng.range(1, 8) {
        let len = out.len() as u64;
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len) as usize;
                out[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len) as usize;
                let n = rng.range(1, 16).min(len - i as u64) as usize;
                out.drain(i..i + n);
            }
            2 => {
                let i = rng.below(len + 1) as usize;
                let t = rng.pick(TOKENS);
                out.splice(i..i, t.iter().copied());
            }
            3 if len > 1 => {
                let a = rng.below(len) as usize;
                let b = (a + rng.range(1, 64) as usize).min(out.len());
                let span = out[a..b].to_vec();
                let at = rng.below(out.len() as u64 + 1) as usize;
                out.splice(at..at, span);
            }
            4 if len > 0 => {
                let i = rng.below(len) as usize;
                out[i] = rng.next_u64() as u8;
            }
            5 => out.truncate(rng.below(len + 1) as usize),
            _ => {
                let i = rng.below(len + 1) as usize;
                let junk = rng.some_bytes(1, 8);
                out.splice(i..i, junk);
            }
        }
    }
    out
}

/// JSON Lines inputs: the example's lines, mutations of them, random bytes
/// and handmade bombs.
pub fn jsonl_inputs(n_mutants: usize) -> Vec<Vec<u8>> {
    let lines: Vec<&str> = SANCTIONS.lines().collect();
    let mut out: Vec<Vec<u8>> = lines.iter().map(|l| l.as_bytes().to_vec()).collect();
    let deep = |n: usize| format!("{{\"events\":{}{}}}", "[".repeat(n), "]".repeat(n));
    let bombs = [
        deep(100_000),
        format!("{{\"events\":[{{\"op\":\"entity\",\"key\":\"{}\"}}]}}", "k".repeat(5 << 20)),
        format!("{{\"tx\":{},\"events\":[]}}", "9".repeat(100_000)),
        "{\"tx\":1e400,\"events\":[]}".to_string(),
        format!("{{\"events\":[{}{{}}]}}", "{},".repeat(200_000)),
        "{\"events\":[{\"op\":\"assert\",\"s\":\"a\",\"p\":\"b\",\"o\":{\"Int\":1e999}}]}".to_string(),
        "{\"recorded_at\":\"99999-01-01T00:00:00Z\",\"events\":[]}".to_string(),
        "{\"events\":[{\"op\":\"assert\",\"s\":\"a\",\"p\":\"b\",\"o\":\"x\",\"valid\":\"2025-02-30\"}]}"
            .to_string(),
        "\u{feff}{\"events\":[]}".to_string(),
        "{\"events\":[],\"events\":[]}".to_string(),
        // Small versions of the above, for the fuzz corpus.
        deep(200),
        deep(3_000),
        format!("{{\"tx\":{},\"events\":[]}}", "9".repeat(5_000)),
        format!("{{\"events\":[{}{{}}]}}", "{},".repeat(3_000)),
    ];
    out.extend(bombs.into_iter().map(String::into_bytes));
    let mut rng = Rng::new(8);
    for i in 0..n_mutants {
        if i % 10 == 9 {
            out.push(rng.some_bytes(1, 300));
        } else {
            let seed = lines[i % lines.len()].as_bytes();
            out.push(mutate(&mut rng, seed));
        }
    }
    out
}

#[test]
fn random_and_mutated_json_lines_are_errors_with_bounded_memory() {
    let inputs = jsonl_inputs(3_000);
    let mut accepted = 0;
    for (i, data) in inputs.iter().enumerate() {
        let (ok, peak) = peak_during(|| {
            let text = std::str::from_utf8(data).ok();
            text.map(|t| jsonl::parse_line(t).is_ok()).unwrap_or(false)
        });
        accepted += usize::from(ok);
        // A line may hold what it holds (up to the 64 MiB line limit), but
        // parsing may not blow up beyond a small multiple of it.
        let bound = 64 * MIB + 8 * data.len() as u64;
        assert!(peak < bound, "input {i} ({} bytes): {} MiB of heap", data.len(), peak / MIB);
    }
    assert!(accepted >= SANCTIONS.lines().count(), "the example lines parse");
}

/// Imports: a bad line is reported as `file:line: message` with nothing of it
/// applied, and everything before it stays committed.
#[test]
fn importing_hostile_lines_reports_file_and_line_and_changes_nothing() {
    let good: Vec<&str> = SANCTIONS.lines().take(3).collect();
    let inputs = jsonl_inputs(400);
    let tmp = crate::mem_tempdir();
    let store = crate::create_first_use(tmp.path()).unwrap();
    jsonl::import(&store, Cursor::new(good.join("\n")), "good.jsonl").unwrap();
    let head = store.head();
    let mut rejected = 0;
    for (i, data) in inputs.iter().enumerate().skip(SANCTIONS.lines().count()) {
        let mut file = data.clone();
        file.retain(|&b| b != b'\n');
        let before = store.head();
        let (r, peak) = peak_during(|| jsonl::import(&store, Cursor::new(&file), "hostile.jsonl"));
        match r {
            Err(e) => {
                rejected += 1;
                assert_eq!((e.file.as_str(), e.line, e.committed), ("hostile.jsonl", 1, 0), "input {i}: {e}");
                assert_eq!(store.head(), before, "input {i}: a rejected line changed the store");
                assert!(e.to_string().starts_with("hostile.jsonl:1: "));
            }
            Ok(s) => assert_eq!(store.head(), before + s.transactions),
        }
        assert!(peak < 64 * MIB + 16 * file.len() as u64, "input {i}: {} MiB of heap", peak / MIB);
    }
    assert!(rejected > 300, "only {rejected} hostile lines were rejected");
    assert!(store.head() >= head);
    assert!(store.verify().unwrap().ok());
}

/// A reader that yields `n` bytes of `b'x'` without holding them.
struct Endless(u64);

impl Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.0) as usize;
        buf[..n].fill(b'x');
        self.0 -= n as u64;
        Ok(n)
    }
}

#[test]
fn a_line_longer_than_the_limit_is_refused_with_bounded_memory() {
    let store = Store::temporary_with(crate::first_use()).unwrap();
    let input = std::io::BufReader::new(Endless(jsonl::MAX_LINE_BYTES + 4096));
    let (r, peak) = peak_during(|| jsonl::import(&store, input, "long.jsonl"));
    let e = r.unwrap_err();
    assert_eq!(e.line, 1);
    assert!(e.message.contains("longer than"), "{e}");
    assert!(peak < 2 * jsonl::MAX_LINE_BYTES + 16 * MIB, "{} MiB of heap", peak / MIB);
    assert_eq!(store.head(), 0);
}

/// Statement scripts: the parse corpus and mutations of it, run as scripts
/// on a small store with tight budgets.
#[test]
fn random_and_mutated_scripts_are_errors_with_bounded_memory() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/parse");
    let mut seeds: Vec<Vec<u8>> =
        std::fs::read_dir(&dir).unwrap().flatten().map(|e| std::fs::read(e.path()).unwrap()).collect();
    seeds.sort();
    let store = Store::temporary_with(crate::first_use()).unwrap();
    jsonl::import(&store, Cursor::new(SANCTIONS), "sanctions.jsonl").unwrap();
    let mut session = Session::new(store.clone());
    session.limits.max_rows = 20_000;
    session.limits.max_time = std::time::Duration::from_secs(5);
    let mut rng = Rng::new(88);
    let mut scripts = seeds.clone();
    for i in 0..1_500 {
        scripts.push(if i % 10 == 0 {
            rng.some_bytes(1, 200)
        } else {
            mutate(&mut rng, &seeds[i % seeds.len()])
        });
    }
    for (i, data) in scripts.iter().enumerate() {
        let Ok(text) = std::str::from_utf8(data) else { continue };
        let head = store.head();
        let (r, peak) = peak_during(|| session.run_script(text));
        if let Err(e) = &r {
            assert!(e.render(text).starts_with("error: "), "script {i}");
            // A failed script stops at its first error; a write before it
            // may stand (scripts are not transactions), but an open block
            // commits nothing.
            if session.in_transaction() {
                assert!(session.execute("ROLLBACK").is_ok());
            }
        }
        assert!(store.head() >= head);
        assert!(peak < 256 * MIB, "script {i}: {} MiB of heap", peak / MIB);
    }
    assert!(store.verify().unwrap().ok());
}

/// Log records: the reference records, mutations, random bytes and length
/// bombs, as whole segments.
pub fn log_inputs(n_mutants: usize) -> Vec<Vec<u8>> {
    let records = real_records();
    let mut out = records.clone();
    // Whole logs: the first k records.
    for k in [2, 3, 5, 8, 13, records.len()] {
        out.push(records[..k.min(records.len())].concat());
    }
    // Length fields claiming 4 GiB, and a body whose varint lengths claim
    // u64::MAX (with a valid checksum, so only the decoder can refuse it).
    let (mut huge, _) = frame::encode(1, &Hash::ZERO, b"x");
    huge[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    out.push(huge);
    for bomb in [
        vec![0xFDu8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
        vec![0, 0, 0xFD, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
        vec![0x80; 40],
    ] {
        out.push(frame::encode(1, &Hash::ZERO, &bomb).0);
    }
    let mut rng = Rng::new(9);
    for i in 0..n_mutants {
        if i % 10 == 9 {
            out.push(rng.some_bytes(1, 400));
        } else {
            let seed = &out[i % records.len()];
            let mut m = mutate(&mut rng, seed);
            if i % 3 == 0 && m.len() >= frame::HEADER_LEN {
                // Re-seal: a valid checksum over a damaged body, so the
                // decoder (not the checksum) must catch it.
                let body = m[frame::HEADER_LEN..].to_vec();
                m = frame::encode(1, &Hash::ZERO, &body).0;
            }
            out.push(m);
        }
    }
    out
}

/// The records of a short real log, each as its own byte string (tx 1 first).
pub fn real_records() -> Vec<Vec<u8>> {
    let tmp = crate::mem_tempdir();
    let store = crate::create_first_use(tmp.path()).unwrap();
    jsonl::import(&store, Cursor::new(SANCTIONS), "sanctions.jsonl").unwrap();
    drop(store);
    let bytes = std::fs::read(tmp.path().join("log/seg-0000000000000001.log")).unwrap();
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let h = frame::check(&bytes[pos..]).unwrap();
        let len = frame::HEADER_LEN + h.body_len;
        out.push(bytes[pos..pos + len].to_vec());
        pos += len;
    }
    out
}

/// Opens bytes as a one-segment log and reads every record; the same checks
/// as the `log_record` fuzz target.
fn open_as_log(data: &[u8]) -> Result<u64, String> {
    if let Ok(h) = frame::check(data) {
        let body = &data[frame::HEADER_LEN..frame::HEADER_LEN + h.body_len];
        let _ = claimgraph::codec::decode::<claimgraph::model::TxBody>(body, "body");
    }
    let disk = SimDisk::new(0);
    disk.set_file("seg-0000000000000001.log", data.to_vec());
    let (log, _) = Log::open(disk.dir()).map_err(|e| e.to_string())?;
    let mut n = 0;
    log.for_each_from(1, |_| {
        n += 1;
        Ok::<(), claimgraph::log::LogError>(())
    })
    .map_err(|e| e.to_string())?;
    let disk = SimDisk::new(0);
    disk.set_file("seg-0000000000000001.log", data.to_vec());
    let _ = Log::repair(disk.dir());
    Ok(n)
}

#[test]
fn random_and_mutated_log_records_are_errors_with_bounded_memory() {
    let inputs = log_inputs(4_000);
    let mut read_whole = 0;
    let mut worst = 0;
    for (i, data) in inputs.iter().enumerate() {
        let (r, peak) = peak_during(|| open_as_log(data));
        read_whole += usize::from(r.is_ok_and(|n| n > 0));
        // The decoder may reserve what a length field claims, up to the
        // codec's limit (64 MiB) and never more: a 1 KB record can briefly
        // cost that much, a terabyte claim cannot.
        let bound = claimgraph::codec::MAX_DECODE_BYTES as u64 + 16 * MIB + 8 * data.len() as u64;
        assert!(peak < bound, "input {i} ({} bytes): {} MiB", data.len(), peak / MIB);
        worst = worst.max(peak);
    }
    assert!(read_whole > 20, "the real records read back");
    eprintln!("log records: {} inputs, worst peak heap {} MiB", inputs.len(), worst / MIB);
    // The bombs: every claimed length is refused before anything is allocated.
    let (huge, _) = frame::encode(1, &Hash::ZERO, b"x");
    let mut b = huge.clone();
    b[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(frame::check(&b), Err(frame::FrameFault::BadLength(u32::MAX as u64)));
    let bomb = frame::encode(1, &Hash::ZERO, &[0xFD, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]).0;
    let (r, peak) = peak_during(|| open_as_log(&bomb));
    assert!(r.unwrap_err().contains("cannot decode"));
    assert!(peak < MIB);
}

/// Writes `inputs` under `root/name`, content-addressed; returns how many
/// distinct files that made.
fn write_corpus(root: &Path, name: &str, inputs: &[Vec<u8>]) -> usize {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let mut names = std::collections::BTreeSet::new();
    for data in inputs {
        // Content-addressed names, like libFuzzer's (shortened).
        let hash = blake3_hex(data);
        std::fs::write(dir.join(&hash[..16]), data).unwrap();
        names.insert(hash[..16].to_string());
    }
    names.len()
}

fn blake3_hex(data: &[u8]) -> String {
    let (_, h) = frame::encode(0, &Hash::ZERO, data);
    h.to_string()
}

/// Regenerates the checked-in JSONL and log-record corpora (small inputs
/// only) in `fuzz/corpus`, or, without `CLAIMGRAPH_WRITE_CORPUS`, in a
/// temporary folder (so a plain `-- --ignored` run checks the generators and
/// leaves the repository alone); either way it checks what it wrote.
#[test]
#[ignore = "writes fuzz/corpus: CLAIMGRAPH_WRITE_CORPUS=1 cargo test --test reliability write_fuzz_corpora -- --ignored"]
fn write_fuzz_corpora() {
    let tmp = tempfile::tempdir().unwrap();
    let root = match std::env::var_os("CLAIMGRAPH_WRITE_CORPUS") {
        Some(_) => Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus"),
        None => tmp.path().to_path_buf(),
    };
    let small = |v: Vec<Vec<u8>>, n: usize| -> Vec<Vec<u8>> {
        v.into_iter().filter(|d| d.len() <= 64 * 1024).take(n).collect()
    };
    let jsonl = small(jsonl_inputs(120), 140);
    assert!(write_corpus(&root, "jsonl", &jsonl) >= 100, "too few distinct JSONL inputs");
    let mut logs = small(log_inputs(100), 150);
    logs.retain(|d| !d.is_empty());
    assert!(write_corpus(&root, "log_record", &logs) >= 50, "too few distinct log records");
    assert!(std::fs::read_dir(root.join("jsonl")).unwrap().count() >= 100);
}
