//! Q1–Q8 on claimgraph (prepared per pick, warm and with the record cache
//! emptied first, parsed each run, and the one `$parameter` text where the
//! language can say it), SQLite (the same data,
//! same process) and the floor (the same index scans without the query
//! layer), side by side in one criterion group per query.
//!
//! 100,000 claims by default; `CLAIMGRAPH_BENCH_CLAIMS=1000000` for 1M. The
//! data is generated and loaded once and cached under
//! `target/claimgraph-bench/`. `CLAIMGRAPH_BENCH_NO_PARAMS=1` skips the slow
//! `$parameter` forms. Each iteration runs the next parameter pick, round robin.

use std::collections::HashMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use claimgraph::bench::{Q, Workload, data, floor};
use criterion::{Criterion, criterion_group, criterion_main};

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

/// Calls `f` with the next index of `n`, round robin.
fn round_robin<T>(n: usize, mut f: impl FnMut(usize) -> T) -> impl FnMut() -> T {
    let mut i = 0;
    move || {
        let r = f(i % n);
        i += 1;
        r
    }
}

fn queries(c: &mut Criterion) {
    let claims = data::claims_from_env(100_000);
    let w = Workload::prepare(&root(), claims, 42, true).expect("workload");
    let store = w.claimgraph(true).expect("claimgraph store");
    #[cfg(feature = "sqlite")]
    let db = w.sqlite(true).expect("sqlite database");
    let with_params = std::env::var_os("CLAIMGRAPH_BENCH_NO_PARAMS").is_none();
    let none = HashMap::new();
    let size = if claims.is_multiple_of(1_000_000) {
        format!("{}M", claims / 1_000_000)
    } else {
        format!("{}k", claims / 1000)
    };
    for q in Q::ALL {
        let picks = w.picks_of(q).to_vec();
        let n = picks.len();
        let texts: Vec<String> = picks.iter().map(|p| q.text(p)).collect();
        let prepared: Vec<_> = texts.iter().map(|t| store.prepare(t).expect("prepare")).collect();
        let mut g = c.benchmark_group(format!("{}@{size}", q.label()));
        g.bench_function("claimgraph/prepared", |b| {
            b.iter(round_robin(n, |i| prepared[i].run(&store, &none).expect("query")))
        });
        // Each run after emptying the thread's cache of decoded records; the
        // emptying (dropping what the last run cached) is not timed.
        g.bench_function("claimgraph/cold", |b| {
            let mut next = round_robin(n, |i| i);
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    let i = next();
                    claimgraph::query::clear_thread_cache();
                    let start = Instant::now();
                    black_box(prepared[i].run(&store, &none).expect("query"));
                    spent += start.elapsed();
                }
                spent
            })
        });
        g.bench_function("claimgraph/text", |b| {
            b.iter(round_robin(n, |i| store.query(&texts[i]).expect("query")))
        });
        if let Some(text) = q.param_text().filter(|_| with_params) {
            let p = store.prepare(text).expect("prepare");
            let params: Vec<_> = picks.iter().map(|pick| q.params(pick)).collect();
            g.bench_function("claimgraph/params", |b| {
                b.iter(round_robin(n, |i| p.run(&store, &params[i]).expect("query")))
            });
        }
        #[cfg(feature = "sqlite")]
        g.bench_function("sqlite", |b| b.iter(round_robin(n, |i| db.run(q, &picks[i]).expect("sql"))));
        // The straightforward two-hop join, for reference (the suite uses the semi-join).
        #[cfg(feature = "sqlite")]
        if q == Q::Q3 {
            let naive = claimgraph::bench::sqlite::Q3_NAIVE;
            g.bench_function("sqlite/naive_join", |b| {
                b.iter(round_robin(n, |i| db.run_sql(q, naive, &picks[i]).expect("sql")))
            });
        }
        g.bench_function("floor", |b| {
            b.iter(round_robin(n, |i| floor::run(&store, q, &picks[i]).expect("floor")))
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = queries
}
criterion_main!(benches);
