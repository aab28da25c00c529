//! Ingest: bulk import throughput (claims/s, criterion's throughput line) of
//! claimgraph and SQLite loading the same generated JSON Lines into a fresh
//! store, and the latency of one small durable commit (one claim, one
//! transaction, acknowledged after fsync) on each.
//!
//! 20,000 claims per import by default (`CLAIMGRAPH_BENCH_INGEST_CLAIMS`).
//!
//! `claimgraph import` keeps freed memory (mimalloc's purge delay off, set in
//! `main` before any thread starts); criterion starts threads of its own, so
//! this bench takes the same setting from the environment instead:
//! `MIMALLOC_PURGE_DELAY=-1 cargo bench --bench ingest` (20k claims: 857 ms
//! against 999 ms with the default, criterion's p = 0.00).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use claimgraph::bench::Workload;
use claimgraph::model::Term;
use claimgraph::{Store, jsonl};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// The allocator the `claimgraph` binary uses, so these figures and
/// `claimgraph bench`'s measure the same build (with the system allocator,
/// malloc bookkeeping was ~20% of a Q3 profile).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn root() -> PathBuf {
    match std::env::var_os("CLAIMGRAPH_BENCH_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join("claimgraph-bench"),
    }
}

fn claims() -> u64 {
    std::env::var("CLAIMGRAPH_BENCH_INGEST_CLAIMS")
        .ok()
        .and_then(|v| claimgraph::r#gen::parse_count(&v).ok())
        .unwrap_or(20_000)
}

fn bulk(c: &mut Criterion) {
    let n = claims();
    let w = Workload::prepare(&root(), n, 42, true).expect("workload");
    let bytes = std::fs::read(w.jsonl()).expect("read the workload");
    let scratch = root().join("ingest-scratch");
    let mut g = c.benchmark_group("ingest");
    g.throughput(Throughput::Elements(n));
    g.sample_size(10);
    g.bench_function("claimgraph/bulk_import", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let _ = std::fs::remove_dir_all(&scratch);
                let start = Instant::now();
                let store = Store::create(&scratch).expect("open");
                jsonl::import(&store, bytes.as_slice(), "workload.jsonl").expect("import");
                total += start.elapsed();
                drop(store);
            }
            total
        })
    });
    #[cfg(feature = "sqlite")]
    g.bench_function("sqlite/bulk_load", |b| {
        let path = scratch.with_extension("db");
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let mut db = claimgraph::bench::sqlite::Sqlite::create(&path).expect("create");
                db.load(bytes.as_slice(), &mut |_| {}).expect("load");
                total += start.elapsed();
            }
            total
        })
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&scratch);
}

fn commit(c: &mut Criterion) {
    let w = Workload::prepare(&root(), 2_000, 42, false).expect("workload");
    let store = w.load_claimgraph(false).expect("claimgraph").0;
    let x = |i: usize| w.picks_of(claimgraph::bench::Q::Q1)[i].x.clone().expect("an entity");
    let (s, o) = (x(0), x(1));
    let mut g = c.benchmark_group("commit");
    g.sample_size(20);
    g.bench_function("claimgraph/one_claim_durable", |b| {
        b.iter(|| {
            store
                .transact("bench", |tx| {
                    tx.assert(&s, "met_with", Term::Entity(o.clone()));
                })
                .expect("commit")
        })
    });
    #[cfg(feature = "sqlite")]
    {
        let db = w.load_sqlite(false).expect("sqlite").0;
        g.bench_function("sqlite/one_claim_durable", |b| {
            b.iter(|| db.commit_one(1, "met_with", 2).expect("commit"))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    targets = bulk, commit
}
criterion_main!(benches);
