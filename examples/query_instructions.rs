//! A driver for counting the instructions of one benchmark query under
//! callgrind (repeatable where wall-clock times are not):
//!
//! ```text
//! cargo build --release --example query_instructions
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*measured*' \
//!     target/release/examples/query_instructions Q4 prepared
//! ```
//!
//! Arguments: the query (`Q1`…`Q8`), the form (`prepared`, `params`, `text`,
//! `floor`) and optionally one pick index (default: every pick). Each pick
//! runs twice outside the measured function (warm-up) and once inside it, so
//! the count is one warm run of every chosen pick (`QI_COLD=1`: warm-up on
//! another thread, so the per-thread record cache starts empty). Uses the 100k workload
//! under `target/claimgraph-bench/` (`CLAIMGRAPH_BENCH_CLAIMS` for another).

use std::path::PathBuf;

use claimgraph::bench::{Q, Workload, data, floor};
use claimgraph::query::Params;

fn root() -> PathBuf {
    match std::env::var_os("CLAIMGRAPH_BENCH_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join("claimgraph-bench"),
    }
}

#[inline(never)]
fn measured(run: &mut dyn FnMut(usize) -> usize, picks: &[usize]) -> usize {
    picks.iter().map(|&i| run(i)).sum()
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: query_instructions Q1..Q8 prepared|params|text|floor [pick]";
    let q = Q::ALL.into_iter().find(|q| Some(q.label()) == args.first().map(|s| s.as_str())).ok_or(usage)?;
    let form = args.get(1).map(|s| s.as_str()).unwrap_or("prepared");
    let claims = data::claims_from_env(100_000);
    let w = Workload::prepare(&root(), claims, 42, false)?;
    let store = w.claimgraph(false)?;
    let picks = w.picks_of(q).to_vec();
    let chosen: Vec<usize> = match args.get(2) {
        Some(i) => vec![i.parse().map_err(|_| usage)?],
        None => (0..picks.len()).collect(),
    };
    let none = Params::new();
    let prepared = picks.iter().map(|p| store.prepare(&q.text(p))).collect::<Result<Vec<_>, _>>();
    let prepared = prepared.map_err(|e| e.to_string())?;
    let param_text = q.param_text().map(|t| store.prepare(t)).transpose().map_err(|e| e.to_string())?;
    let params: Vec<Params> = picks.iter().map(|p| q.params(p)).collect();
    let mut run = |i: usize| -> usize {
        match form {
            "prepared" => prepared[i].run(&store, &none).map(|r| r.rows.len()),
            "text" => store.query(&q.text(&picks[i])).map(|r| r.rows.len()),
            "params" => match &param_text {
                Some(p) => p.run(&store, &params[i]).map(|r| r.rows.len()),
                None => Ok(0),
            },
            _ => return floor::run(&store, q, &picks[i]).map(|r| r.len()).unwrap_or(0),
        }
        .unwrap_or_else(|e| panic!("{}: {e}", q.label()))
    };
    // With QI_COLD=1 the warm-up runs on another thread: the index's pages
    // are warm, the per-thread cache of decoded records is not.
    if std::env::var_os("QI_COLD").is_some() {
        std::thread::scope(|s| {
            s.spawn(|| {
                for _ in 0..2 {
                    for &i in &chosen {
                        run(i);
                    }
                }
            });
        });
    } else {
        for _ in 0..2 {
            for &i in &chosen {
                run(i);
            }
        }
    }
    let rows = measured(&mut run, &chosen);
    println!("{} {form} picks {chosen:?}: {rows} rows", q.label());
    Ok(())
}
