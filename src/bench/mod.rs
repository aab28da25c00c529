//! `claimgraph bench`: generates (or reuses) the workload of [`crate::gen`],
//! loads claimgraph and SQLite from the same JSON Lines, runs the query suite
//! Q1–Q8 on both (and on the floor: the same index scans without the query
//! layer), checks that they return the same rows, and prints one table of
//! medians and 95th percentiles; `--json FILE` writes the same figures.
//!
//! The pieces are public so the criterion benches (`benches/`) and the
//! equivalence test (`tests/bench_equivalence.rs`) use the very same data,
//! queries and SQL.

pub mod data;
pub mod floor;
pub mod progress;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod suite;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::json;

pub use data::{LoadReport, Workload};
pub use suite::{Q, Row};

use crate::store::Store;

/// Median and 95th percentile of some timings.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timing {
    pub median: Duration,
    pub p95: Duration,
    pub samples: usize,
}

impl Timing {
    pub fn of(mut v: Vec<Duration>) -> Timing {
        if v.is_empty() {
            return Timing::default();
        }
        v.sort();
        let n = v.len();
        let median = if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2 };
        let p95 = v[((n as f64 * 0.95).ceil() as usize).clamp(1, n) - 1];
        Timing { median, p95, samples: n }
    }

    fn json(&self) -> serde_json::Value {
        json!({"median_us": micros(self.median), "p95_us": micros(self.p95), "samples": self.samples})
    }
}

fn micros(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e7).round() / 10.0
}

/// A duration for people: `812 ns`, `12.4 µs`, `3.21 ms`, `1.52 s`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else if s >= 1e-6 {
        format!("{:.1} µs", s * 1e6)
    } else {
        format!("{} ns", d.as_nanos())
    }
}

fn human_bytes(n: u64) -> String {
    let mut v = n as f64;
    for unit in ["B", "KiB", "MiB", "GiB"] {
        if v < 1024.0 || unit == "GiB" {
            return if unit == "B" { format!("{n} B") } else { format!("{v:.1} {unit}") };
        }
        v /= 1024.0;
    }
    format!("{n} B")
}

/// The machine, for the report: cores, CPU model, memory.
pub fn machine() -> (usize, String, u64) {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    (cores, cpu, mem_kib * 1024)
}

/// The process's peak resident memory (VmHWM) in bytes.
pub fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

/// Resets the peak so the next phase's peak can be read (Linux).
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

struct Options {
    claims: u64,
    seed: u64,
    ids: crate::r#gen::ClaimIds,
    sqlite: bool,
    runs: usize,
    json: Option<PathBuf>,
    root: PathBuf,
    reuse: bool,
    params: bool,
}

const USAGE: &str = "usage: claimgraph bench [--claims N] [--seed S] [--peers sqlite|none] [--runs R] \
                     [--json FILE] [--dir DIR] [--reuse] [--no-params] [--ids assigned|chosen]";

fn options(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        claims: data::claims_from_env(100_000),
        seed: 42,
        ids: crate::r#gen::ClaimIds::Assigned,
        sqlite: cfg!(feature = "sqlite"),
        runs: 5,
        json: None,
        root: data::default_root(),
        reuse: false,
        params: true,
    };
    let mut i = 0;
    while i < args.len() {
        let value =
            |i: usize| args.get(i + 1).cloned().ok_or_else(|| format!("{} needs a value\n{USAGE}", args[i]));
        match args[i].as_str() {
            "--claims" => o.claims = crate::r#gen::parse_count(&value(i)?)?,
            "--seed" => o.seed = value(i)?.parse().map_err(|_| format!("--seed needs a number\n{USAGE}"))?,
            "--runs" => {
                o.runs = value(i)?.parse().map_err(|_| format!("--runs needs a number\n{USAGE}"))?;
                o.runs = o.runs.max(1);
            }
            "--peers" => {
                o.sqlite = match value(i)?.as_str() {
                    "sqlite" if cfg!(feature = "sqlite") => true,
                    "sqlite" => {
                        return Err("this build has no SQLite (the `sqlite` cargo feature is off)".into());
                    }
                    "none" | "" => false,
                    other => {
                        return Err(format!("unknown peer `{other}`: the peers are sqlite, none\n{USAGE}"));
                    }
                }
            }
            "--json" => o.json = Some(PathBuf::from(value(i)?)),
            "--ids" => o.ids = value(i)?.parse().map_err(|e| format!("{e}\n{USAGE}"))?,
            "--dir" => o.root = PathBuf::from(value(i)?),
            "--reuse" => {
                o.reuse = true;
                i += 1;
                continue;
            }
            "--no-params" => {
                o.params = false;
                i += 1;
                continue;
            }
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
        i += 2;
    }
    Ok(o)
}

fn time<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let start = Instant::now();
    let out = f();
    (start.elapsed(), out)
}

/// One query's figures.
struct QueryFigures {
    q: Q,
    rows_per_pick: f64,
    prepared: Timing,
    /// Prepared, run after emptying the thread's cache of decoded terms and
    /// records (sled's page cache stays warm, as SQLite's does).
    cold: Timing,
    text: Timing,
    params: Option<Timing>,
    floor: Timing,
    sqlite: Option<Timing>,
    same_rows: bool,
    mismatches: Vec<String>,
}

/// Engines to run for a query, given the loaded stores.
struct Engines<'a> {
    store: &'a Store,
    #[cfg(feature = "sqlite")]
    sqlite: Option<&'a sqlite::Sqlite>,
}

impl Engines<'_> {
    #[cfg(feature = "sqlite")]
    fn sqlite_rows(&self, q: Q, pick: &crate::r#gen::Pick) -> Option<Result<Vec<Row>, String>> {
        self.sqlite.map(|db| db.run(q, pick))
    }

    #[cfg(not(feature = "sqlite"))]
    fn sqlite_rows(&self, _: Q, _: &crate::r#gen::Pick) -> Option<Result<Vec<Row>, String>> {
        None
    }
}

fn run_query(
    e: &Engines<'_>,
    w: &Workload,
    q: Q,
    runs: usize,
    with_params: bool,
) -> Result<QueryFigures, String> {
    let store = e.store;
    let picks = w.picks_of(q);
    let none = HashMap::new();
    let qe = |err: crate::QueryError, text: &str| format!("{}: {}", q.label(), err.render(text));
    let texts: Vec<String> = picks.iter().map(|p| q.text(p)).collect();
    let prepared =
        texts.iter().map(|t| store.prepare(t).map_err(|err| qe(err, t))).collect::<Result<Vec<_>, _>>()?;
    let param_text = q.param_text().filter(|_| with_params);
    let param_prepared = param_text.map(|t| store.prepare(t).map_err(|err| qe(err, t))).transpose()?;
    let (mut t_prep, mut t_cold, mut t_text, mut t_params, mut t_floor, mut t_sql) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut rows = 0usize;
    let mut mismatches = Vec::new();
    for (i, pick) in picks.iter().enumerate() {
        // One untimed pass per engine: warms caches and checks the answers agree.
        let cg = q.canonical(&prepared[i].run(store, &none).map_err(|err| qe(err, &texts[i]))?);
        rows += cg.len();
        let floor_rows = floor::run(store, q, pick)?;
        if floor_rows != cg {
            mismatches.push(format!("pick {i}: floor {} rows, claimgraph {}", floor_rows.len(), cg.len()));
        }
        if let Some(sql) = e.sqlite_rows(q, pick) {
            let sql = sql?;
            if sql != cg {
                mismatches.push(format!("pick {i}: sqlite {} rows, claimgraph {}", sql.len(), cg.len()));
            }
        }
        let params = q.params(pick);
        if let (Some(pp), Some(text)) = (&param_prepared, param_text) {
            let (d, r) = time(|| pp.run(store, &params));
            let r = q.canonical(&r.map_err(|err| qe(err, text))?);
            t_params.push(d);
            if r != cg {
                mismatches.push(format!("pick {i}: $params {} rows, claimgraph {}", r.len(), cg.len()));
            }
        }
        for _ in 0..runs {
            let (d, r) = time(|| prepared[i].run(store, &none));
            r.map_err(|err| qe(err, &texts[i]))?;
            t_prep.push(d);
            crate::query::clear_thread_cache();
            let (d, r) = time(|| prepared[i].run(store, &none));
            r.map_err(|err| qe(err, &texts[i]))?;
            t_cold.push(d);
            let (d, r) = time(|| store.query(&texts[i]));
            r.map_err(|err| qe(err, &texts[i]))?;
            t_text.push(d);
            let (d, r) = time(|| floor::run(store, q, pick));
            r?;
            t_floor.push(d);
            let (d, r) = time(|| e.sqlite_rows(q, pick));
            if let Some(r) = r {
                r?;
                t_sql.push(d);
            }
        }
    }
    Ok(QueryFigures {
        q,
        rows_per_pick: rows as f64 / picks.len().max(1) as f64,
        prepared: Timing::of(t_prep),
        cold: Timing::of(t_cold),
        text: Timing::of(t_text),
        params: param_prepared.map(|_| Timing::of(t_params)),
        floor: Timing::of(t_floor),
        sqlite: (!t_sql.is_empty()).then(|| Timing::of(t_sql)),
        same_rows: mismatches.is_empty(),
        mismatches,
    })
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-12)
}

/// `claimgraph bench …`.
pub fn cli(args: &[String]) -> Result<(), String> {
    let o = options(args)?;
    let (cores, cpu, mem) = machine();
    eprintln!("claimgraph bench: {} claims, seed {}, data under {}", o.claims, o.seed, o.root.display());
    let cfg = crate::r#gen::Config { claims: o.claims, seed: o.seed, ids: o.ids };
    let w = Workload::prepare_with(&o.root, cfg, true)?;

    reset_peak_rss();
    let (store, cg_load) = if o.reuse {
        (w.claimgraph(true)?, None)
    } else {
        let (s, r) = w.load_claimgraph(true)?;
        (s, Some(r))
    };
    let cg_peak = peak_rss();
    let (log_bytes, index_bytes) = (
        data::dir_size(&w.store_dir().join("log")),
        data::dir_size(&crate::store::live_index_dir(&w.store_dir())),
    );

    #[cfg(feature = "sqlite")]
    let (db, sql_load, sql_peak) = if o.sqlite {
        reset_peak_rss();
        let (db, load) = if o.reuse {
            (w.sqlite(true)?, None)
        } else {
            let (db, r) = w.load_sqlite(true)?;
            (db, Some(r))
        };
        (Some(db), load, peak_rss())
    } else {
        (None, None, 0)
    };
    #[cfg(not(feature = "sqlite"))]
    let (sql_load, sql_peak): (Option<LoadReport>, u64) = (None, 0);
    let sql_bytes = if o.sqlite { data::dir_size(&w.sqlite_path()) } else { 0 };

    let engines = Engines {
        store: &store,
        #[cfg(feature = "sqlite")]
        sqlite: db.as_ref(),
    };
    reset_peak_rss();
    let mut figures = Vec::new();
    let mut b = progress::Bar::new("queries", Q::ALL.len() as u64);
    for (i, q) in Q::ALL.into_iter().enumerate() {
        figures.push(run_query(&engines, &w, q, o.runs, o.params)?);
        b.set(i as u64 + 1);
    }
    b.finish();
    let query_peak = peak_rss();

    // The table.
    let picks = w.picks_of(Q::Q1).len();
    println!(
        "claimgraph bench — {} claims ({} ids), seed {}, {} picks × {} runs per query; {} × {}, {} RAM",
        o.claims,
        match o.ids {
            crate::r#gen::ClaimIds::Assigned => "assigned",
            crate::r#gen::ClaimIds::Chosen => "chosen",
        },
        o.seed,
        picks,
        o.runs,
        cores,
        cpu,
        human_bytes(mem)
    );
    println!();
    println!(
        "{:<5} {:>9}  {:>10} {:>10}  {:>10} {:>10}  {:>8}  {:>10} {:>8}  {:>10} {:>8}  {:>10} {:>10}  same",
        "",
        "rows",
        "cg median",
        "cg p95",
        "sql median",
        "sql p95",
        "cg/sql",
        "floor",
        "cg/floor",
        "cg cold",
        "cold/sql",
        "cg text",
        "cg $param",
    );
    let load_cell = |r: &Option<LoadReport>| match r {
        Some(r) => format!("{:.2} s", r.seconds),
        None => "(cached)".into(),
    };
    let load_ratio = match (&cg_load, &sql_load) {
        (Some(a), Some(b)) => format!("{:.2}×", a.seconds / b.seconds.max(1e-9)),
        _ => "".into(),
    };
    println!(
        "{:<5} {:>9}  {:>10} {:>10}  {:>10} {:>10}  {:>8}",
        "load",
        o.claims,
        load_cell(&cg_load),
        cg_load.map(|r| format!("{:.0}/s", r.claims_per_sec())).unwrap_or_default(),
        if o.sqlite { load_cell(&sql_load) } else { "-".into() },
        sql_load.map(|r| format!("{:.0}/s", r.claims_per_sec())).unwrap_or_default(),
        load_ratio
    );
    for f in &figures {
        let (sm, sp, r) = match f.sqlite {
            Some(s) => (human(s.median), human(s.p95), format!("{:.2}×", ratio(f.prepared.median, s.median))),
            None => ("-".into(), "-".into(), "-".into()),
        };
        println!(
            "{:<5} {:>9.1}  {:>10} {:>10}  {:>10} {:>10}  {:>8}  {:>10} {:>8}  {:>10} {:>8}  {:>10} {:>10}  {}",
            f.q.label(),
            f.rows_per_pick,
            human(f.prepared.median),
            human(f.prepared.p95),
            sm,
            sp,
            r,
            human(f.floor.median),
            format!("{:.2}×", ratio(f.prepared.median, f.floor.median)),
            human(f.cold.median),
            f.sqlite.map(|s| format!("{:.2}×", ratio(f.cold.median, s.median))).unwrap_or_else(|| "-".into()),
            human(f.text.median),
            f.params.map(|t| human(t.median)).unwrap_or_else(|| "-".into()),
            if f.same_rows { "yes" } else { "NO" }
        );
    }
    println!();
    let per_claim = |b: u64| b as f64 / o.claims.max(1) as f64;
    println!(
        "bytes on disk per claim: claimgraph {:.0} (log {:.0} + index {:.0}){}",
        per_claim(log_bytes + index_bytes),
        per_claim(log_bytes),
        per_claim(index_bytes),
        if o.sqlite { format!(", sqlite {:.0}", per_claim(sql_bytes)) } else { String::new() }
    );
    println!(
        "peak memory (VmHWM): claimgraph load {}{}, queries {}",
        human_bytes(cg_peak),
        if o.sqlite { format!(", sqlite load {}", human_bytes(sql_peak)) } else { String::new() },
        human_bytes(query_peak)
    );
    println!(
        "rows = rows per pick; cg = claimgraph prepared per pick; cold = prepared with the cache of decoded records emptied first; text = parsed each run; $param = one prepared text with parameters; floor = the same index scans without the query layer"
    );
    for f in figures.iter().filter(|f| !f.same_rows) {
        for m in &f.mismatches {
            println!("{}: rows differ: {m}", f.q.label());
        }
    }

    if let Some(path) = &o.json {
        let load = |r: &Option<LoadReport>, bytes: u64, peak: u64| match r {
            Some(r) => json!({"seconds": r.seconds, "claims_per_sec": r.claims_per_sec(), "bytes": bytes,
                              "bytes_per_claim": per_claim(bytes), "peak_rss": peak}),
            None => json!({"cached": true, "bytes": bytes, "bytes_per_claim": per_claim(bytes)}),
        };
        let queries: Vec<serde_json::Value> = figures
            .iter()
            .map(|f| {
                json!({
                    "query": f.q.label(),
                    "title": f.q.title(),
                    "rows_per_pick": f.rows_per_pick,
                    "claimgraph": f.prepared.json(),
                    "claimgraph_cold": f.cold.json(),
                    "ratio_sqlite_cold": f.sqlite.map(|s| ratio(f.cold.median, s.median)),
                    "claimgraph_text": f.text.json(),
                    "claimgraph_params": f.params.map(|t| t.json()),
                    "floor": f.floor.json(),
                    "sqlite": f.sqlite.map(|t| t.json()),
                    "ratio_sqlite": f.sqlite.map(|s| ratio(f.prepared.median, s.median)),
                    "ratio_floor": ratio(f.prepared.median, f.floor.median),
                    "same_rows": f.same_rows,
                })
            })
            .collect();
        let doc = json!({
            "version": env!("CARGO_PKG_VERSION"),
            "generator": crate::r#gen::GEN_VERSION,
            "machine": {"cores": cores, "cpu": cpu, "memory_bytes": mem},
            "claims": o.claims,
            "claim_ids": if o.ids == crate::r#gen::ClaimIds::Chosen { "chosen" } else { "assigned" },
            "seed": o.seed,
            "picks_per_query": picks,
            "runs": o.runs,
            "load": {
                "claimgraph": load(&cg_load, log_bytes + index_bytes, cg_peak),
                "sqlite": if o.sqlite { load(&sql_load, sql_bytes, sql_peak) } else { serde_json::Value::Null },
            },
            "claimgraph_bytes": {"log": log_bytes, "index": index_bytes},
            "queries_peak_rss": query_peak,
            "queries": queries,
        });
        let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    if figures.iter().any(|f| !f.same_rows) {
        return Err("claimgraph and a peer returned different rows (see above)".into());
    }
    Ok(())
}
