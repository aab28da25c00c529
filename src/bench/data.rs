//! The benchmark data on disk: the generated log and picks, the loaded
//! claimgraph store and SQLite database, cached under one directory per
//! `(generator version, claims, seed)` so `claimgraph bench` and the criterion
//! benches generate and load once.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::progress::Bar;
use crate::r#gen::{self as generator, ClaimIds, Config, Picks};
use crate::jsonl;
use crate::store::Store;

/// The generated workload of one `(claims, seed)`.
#[derive(Debug, Clone)]
pub struct Workload {
    pub dir: PathBuf,
    pub claims: u64,
    pub seed: u64,
    pub picks: Picks,
}

/// What loading took.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LoadReport {
    pub seconds: f64,
    pub claims: u64,
    pub transactions: u64,
}

impl LoadReport {
    pub fn claims_per_sec(&self) -> f64 {
        self.claims as f64 / self.seconds.max(1e-9)
    }
}

/// Where cached data lives: `$CLAIMGRAPH_BENCH_DIR`, else
/// `target/claimgraph-bench` under the current directory.
pub fn default_root() -> PathBuf {
    match std::env::var_os("CLAIMGRAPH_BENCH_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from("target").join("claimgraph-bench"),
    }
}

/// Claims to benchmark: `$CLAIMGRAPH_BENCH_CLAIMS` (e.g. `1000000` or `1m`),
/// else `default`.
pub fn claims_from_env(default: u64) -> u64 {
    std::env::var("CLAIMGRAPH_BENCH_CLAIMS")
        .ok()
        .and_then(|v| generator::parse_count(&v).ok())
        .unwrap_or(default)
}

/// A `Read` that reports the bytes read so far.
struct Counting<R, F: FnMut(u64)> {
    inner: R,
    n: u64,
    report: F,
}

impl<R: Read, F: FnMut(u64)> Read for Counting<R, F> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n += k as u64;
        (self.report)(self.n);
        Ok(k)
    }
}

fn bar(label: &str, total: u64, show: bool) -> Bar {
    if show { Bar::new(label, total) } else { Bar::hidden() }
}

fn io(what: &Path) -> impl FnOnce(std::io::Error) -> String + '_ {
    move |e| format!("{}: {e}", what.display())
}

impl Workload {
    /// Generates the workload under `root` unless it is already there.
    pub fn prepare(root: &Path, claims: u64, seed: u64, show: bool) -> Result<Workload, String> {
        Workload::prepare_with(root, Config { claims, seed, ids: ClaimIds::Assigned }, show)
    }

    /// [`Workload::prepare`] with the claim ids `cfg.ids` says.
    pub fn prepare_with(root: &Path, cfg: Config, show: bool) -> Result<Workload, String> {
        let Config { claims, seed, ids } = cfg;
        let suffix = match ids {
            ClaimIds::Assigned => "",
            ClaimIds::Chosen => "-chosen",
        };
        let dir = root.join(format!("v{}-n{claims}-s{seed}{suffix}", generator::GEN_VERSION));
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let w = Workload { dir, claims, seed, picks: Picks::default() };
        let (log, picks_path) = (w.jsonl(), w.picks_path());
        if !(log.exists() && picks_path.exists()) {
            let tmp = w.dir.join("workload.jsonl.tmp");
            let f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
            let mut out = std::io::BufWriter::with_capacity(1 << 20, f);
            let mut b = bar("generating", claims, show);
            let (picks, _) = generator::generate(cfg, &mut out, &mut |n| b.set(n)).map_err(io(&tmp))?;
            b.finish();
            std::io::Write::flush(&mut out).map_err(io(&tmp))?;
            drop(out);
            let text = serde_json::to_string_pretty(&picks).map_err(|e| e.to_string())?;
            std::fs::write(&picks_path, text + "\n").map_err(io(&picks_path))?;
            std::fs::rename(&tmp, &log).map_err(io(&log))?;
            // Stores loaded from an older log are stale.
            let _ = std::fs::remove_file(w.dir.join("claimgraph.loaded"));
            let _ = std::fs::remove_file(w.dir.join("sqlite.loaded"));
        }
        let text = std::fs::read_to_string(&picks_path).map_err(io(&picks_path))?;
        let picks: Picks =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", picks_path.display()))?;
        Ok(Workload { picks, ..w })
    }

    pub fn jsonl(&self) -> PathBuf {
        self.dir.join("workload.jsonl")
    }

    pub fn picks_path(&self) -> PathBuf {
        self.dir.join("picks.json")
    }

    pub fn store_dir(&self) -> PathBuf {
        self.dir.join("claimgraph")
    }

    pub fn sqlite_path(&self) -> PathBuf {
        self.dir.join("sqlite.db")
    }

    /// The picks of one query.
    pub fn picks_of(&self, q: super::suite::Q) -> &[generator::Pick] {
        self.picks.queries.get(q.key()).map(|v| v.as_slice()).unwrap_or(&[])
    }

    fn reader(&self, label: &str, show: bool) -> Result<(impl BufRead, Bar), String> {
        let path = self.jsonl();
        let size = std::fs::metadata(&path).map_err(io(&path))?.len();
        let f = std::fs::File::open(&path).map_err(io(&path))?;
        Ok((BufReader::with_capacity(1 << 20, f), bar(label, size, show)))
    }

    /// Loads the log into a fresh claimgraph store (the bulk import path).
    pub fn load_claimgraph(&self, show: bool) -> Result<(Store, LoadReport), String> {
        let dir = self.store_dir();
        let marker = self.dir.join("claimgraph.loaded");
        let _ = std::fs::remove_file(&marker);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
        }
        let (input, mut b) = self.reader("claimgraph", show)?;
        let started = Instant::now();
        let store = Store::create(&dir).map_err(|e| e.to_string())?;
        let counting = Counting { inner: input, n: 0, report: |n| b.set(n) };
        let summary = jsonl::import(&store, BufReader::with_capacity(1 << 16, counting), "workload.jsonl")
            .map_err(|e| e.to_string())?;
        let seconds = started.elapsed().as_secs_f64();
        b.finish();
        store.flush_indexes().map_err(|e| e.to_string())?;
        std::fs::write(&marker, b"ok\n").map_err(io(&marker))?;
        let report = LoadReport { seconds, claims: self.claims, transactions: summary.transactions };
        Ok((store, report))
    }

    /// The loaded claimgraph store, loading it first if it is not cached.
    pub fn claimgraph(&self, show: bool) -> Result<Store, String> {
        if self.dir.join("claimgraph.loaded").exists() {
            return Store::open(self.store_dir()).map_err(|e| e.to_string());
        }
        Ok(self.load_claimgraph(show)?.0)
    }

    /// Loads the log into a fresh SQLite database.
    #[cfg(feature = "sqlite")]
    pub fn load_sqlite(&self, show: bool) -> Result<(super::sqlite::Sqlite, LoadReport), String> {
        let marker = self.dir.join("sqlite.loaded");
        let _ = std::fs::remove_file(&marker);
        let (input, mut b) = self.reader("sqlite", show)?;
        let started = Instant::now();
        let mut db = super::sqlite::Sqlite::create(&self.sqlite_path())?;
        let loaded = db.load(input, &mut |n| b.set(n))?;
        let seconds = started.elapsed().as_secs_f64();
        b.finish();
        std::fs::write(&marker, b"ok\n").map_err(io(&marker))?;
        Ok((db, LoadReport { seconds, claims: loaded.claims, transactions: loaded.transactions }))
    }

    /// The loaded SQLite database, loading it first if it is not cached.
    #[cfg(feature = "sqlite")]
    pub fn sqlite(&self, show: bool) -> Result<super::sqlite::Sqlite, String> {
        if self.dir.join("sqlite.loaded").exists() {
            return super::sqlite::Sqlite::open(&self.sqlite_path());
        }
        Ok(self.load_sqlite(show)?.0)
    }
}

/// Bytes under a directory.
pub fn dir_size(p: &Path) -> u64 {
    let Ok(meta) = std::fs::metadata(p) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(p).map(|d| d.flatten().map(|e| dir_size(&e.path())).sum()).unwrap_or(0)
}
