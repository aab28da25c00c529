//! The openCypher TCK runner: reads Gherkin feature files, runs every
//! scenario on a fresh temporary store and prints one line per feature
//! (passed / failed / excluded) and a total.
//!
//! ```text
//! cargo run --release --example tck -- ../shared/tck/features [--json FILE]
//!     [--filter SUBSTRING] [--verbose]
//! ```
//!
//! Named graphs are read from `graphs/` beside the features directory;
//! exclusions from `tests/tck/excluded.txt`. `--verbose` prints each failed
//! scenario with its reason. The Gherkin reader and the comparisons live in
//! `tests/tck/gherkin.rs` (unit-tested by `cargo test --test tck`).

#[path = "../tests/tck/gherkin.rs"]
mod gherkin;
#[path = "../tests/tck/runner.rs"]
mod runner;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut features: Option<PathBuf> = None;
    let mut json: Option<PathBuf> = None;
    let mut filter: Option<String> = None;
    let mut verbose = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--json" => json = args.next().map(PathBuf::from),
            "--filter" => filter = args.next(),
            "--verbose" | "-v" => verbose = true,
            _ if features.is_none() => features = Some(PathBuf::from(a)),
            other => {
                eprintln!("unexpected argument `{other}`");
                return ExitCode::from(2);
            }
        }
    }
    let Some(features) = features else {
        eprintln!("usage: tck FEATURES_DIR [--json FILE] [--filter SUBSTRING] [--verbose]");
        return ExitCode::from(2);
    };
    let graphs = features.parent().map(|p| p.join("graphs")).unwrap_or_else(|| PathBuf::from("graphs"));
    let excl_path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tck/excluded.txt");
    let exclusions = match std::fs::read_to_string(excl_path)
        .map_err(|e| e.to_string())
        .and_then(|s| gherkin::parse_exclusions(&s))
    {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{excl_path}: {e}");
            return ExitCode::from(2);
        }
    };
    let files = match runner::feature_files(&features) {
        Ok(f) if !f.is_empty() => f,
        Ok(_) => {
            eprintln!("no feature files under {}", features.display());
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("{}: {e}", features.display());
            return ExitCode::from(2);
        }
    };
    let mut reports = Vec::new();
    let (mut passed, mut failed, mut excluded) = (0, 0, 0);
    for rel in files {
        if filter.as_deref().is_some_and(|f| !rel.to_string_lossy().contains(f)) {
            continue;
        }
        let r = runner::run_feature(&features, &rel, &graphs, &exclusions);
        println!(
            "{:<60} passed {:>4}  failed {:>4}  excluded {:>3}",
            r.path,
            r.passed(),
            r.failed(),
            r.excluded()
        );
        if verbose {
            for s in &r.scenarios {
                if let runner::Outcome::Failed(why) = &s.outcome {
                    println!("    FAIL {} (line {}): {}", s.name, s.line, why);
                }
            }
        }
        passed += r.passed();
        failed += r.failed();
        excluded += r.excluded();
        reports.push(r);
    }
    let total = passed + failed + excluded;
    println!("total: {passed} passed, {failed} failed, {excluded} excluded of {total} scenarios");
    if let Some(path) = json {
        let features: Vec<serde_json::Value> = reports
            .iter()
            .map(|r| {
                let scenarios: Vec<serde_json::Value> = r
                    .scenarios
                    .iter()
                    .map(|s| {
                        let (status, reason) = match &s.outcome {
                            runner::Outcome::Passed => ("passed", None),
                            runner::Outcome::Failed(w) => ("failed", Some(w.clone())),
                            runner::Outcome::Excluded(w) => ("excluded", Some(w.clone())),
                        };
                        serde_json::json!({"name": s.name, "line": s.line, "status": status, "reason": reason})
                    })
                    .collect();
                serde_json::json!({"path": r.path, "passed": r.passed(), "failed": r.failed(),
                    "excluded": r.excluded(), "scenarios": scenarios})
            })
            .collect();
        let doc = serde_json::json!({"passed": passed, "failed": failed, "excluded": excluded,
            "total": total, "features": features});
        if let Err(e) = std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap_or_default()) {
            eprintln!("{}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}
