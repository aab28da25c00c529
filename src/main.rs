//! The `claimgraph` command line: argument parsing, and rendering results and
//! errors for people. Exit codes: 0 ok, 1 an operation failed, 2 bad usage.

use std::io::{BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use claimgraph::render::{self, Format};
use claimgraph::{Session, Store, jsonl};

const USAGE: &str = "\
claimgraph — an event-sourced knowledge graph of claims

usage: claimgraph [--store PATH] <command> [args]

commands:
  query STATEMENT         run one statement (alias -c); --format table|csv|json|jsonl
  run FILE.cg             run a script of ;-separated statements (alias -f); --format,
                          --fail-fast (default) or --fail-at-end
  demo                    load the seed article's claims into a temporary store and tour it
  import FILE|-           import JSON Lines (one transaction per line)
  export [--as-of-tx N]   write the log as JSON Lines to stdout
  stats                   counts of transactions, entities, claims, size on disk
  verify                  check every record, the hash chain, and the indexes
  reindex                 rebuild the indexes from the log
  repair --yes            cut a damaged log at its first bad record

The store is PATH, else $CLAIMGRAPH_STORE, else ./claimgraph.db.
";

/// A failure and the exit code it maps to.
struct Failure {
    code: u8,
    message: String,
}

fn usage(message: impl Into<String>) -> Failure {
    Failure { code: 2, message: format!("{}\n\n{USAGE}", message.into()) }
}

fn failed(message: impl std::fmt::Display) -> Failure {
    Failure { code: 1, message: message.to_string() }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

fn run(mut args: Vec<String>) -> Result<(), Failure> {
    let mut store_path = std::env::var_os("CLAIMGRAPH_STORE").map(PathBuf::from);
    if let Some(i) = args.iter().position(|a| a == "--store") {
        if i + 1 >= args.len() {
            return Err(usage("--store needs a path"));
        }
        store_path = Some(PathBuf::from(args.remove(i + 1)));
        args.remove(i);
    }
    let path = store_path.unwrap_or_else(|| PathBuf::from("claimgraph.db"));
    let Some(command) = args.first().cloned() else {
        return Err(usage("no command given"));
    };
    let rest = &args[1..];
    match command.as_str() {
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        "--version" | "version" => {
            println!("claimgraph {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        "query" | "-c" => query(&path, rest),
        "run" | "-f" => run_script(&path, rest),
        "demo" => no_args(rest).and_then(|_| demo()),
        "import" => import(&path, rest),
        "export" => export(&path, rest),
        "stats" => no_args(rest).and_then(|_| stats(&path)),
        "verify" => no_args(rest).and_then(|_| verify(&path)),
        "reindex" => no_args(rest).and_then(|_| reindex(&path)),
        "repair" => repair(&path, rest),
        other => Err(usage(format!("unknown command `{other}`"))),
    }
}

fn no_args(rest: &[String]) -> Result<(), Failure> {
    match rest.first() {
        Some(a) => Err(usage(format!("unexpected argument `{a}`"))),
        None => Ok(()),
    }
}

fn open(path: &PathBuf) -> Result<Store, Failure> {
    let store = Store::open(path).map_err(|e| failed(format!("cannot open {}: {e}", path.display())))?;
    let report = store.open_report();
    if report.log.dropped_bytes > 0 {
        eprintln!(
            "note: dropped {} bytes of an incomplete last log record ({})",
            report.log.dropped_bytes,
            report.log.dropped_why.as_deref().unwrap_or("torn write")
        );
    }
    if let Some(why) = &report.rebuilt {
        eprintln!("note: rebuilt the indexes from the log: {why}");
    }
    Ok(store)
}

fn import(path: &PathBuf, rest: &[String]) -> Result<(), Failure> {
    let [file] = rest else {
        return Err(usage("import takes one FILE (or - for stdin)"));
    };
    let store = open(path)?;
    let result = if file == "-" {
        jsonl::import(&store, std::io::stdin().lock(), "<stdin>")
    } else {
        let f = std::fs::File::open(file).map_err(|e| failed(format!("cannot open {file}: {e}")))?;
        jsonl::import(&store, BufReader::new(f), file)
    };
    match result {
        Ok(s) => {
            println!(
                "imported {} transactions ({} events); head is tx {}",
                s.transactions,
                s.events,
                store.head()
            );
            Ok(())
        }
        Err(e) => Err(failed(format!("{e}\n({} transactions before it were committed)", e.committed))),
    }
}

/// Takes `--format F` and flags out of `rest`; returns the positional args.
fn options(rest: &[String], flags: &[&str]) -> Result<(Vec<String>, Format, Vec<String>), Failure> {
    let mut format = Format::Table;
    let mut positional = Vec::new();
    let mut seen = Vec::new();
    let mut i = 0;
    while i < rest.len() {
        match rest[i].as_str() {
            "--format" => {
                let name =
                    rest.get(i + 1).ok_or_else(|| usage("--format needs table, csv, json or jsonl"))?;
                format = Format::parse(name).ok_or_else(|| {
                    usage(format!("unknown format `{name}`: use table, csv, json or jsonl"))
                })?;
                i += 1;
            }
            f if flags.contains(&f) => seen.push(f.to_string()),
            f if f.starts_with("--") => return Err(usage(format!("unknown option `{f}`"))),
            other => positional.push(other.to_string()),
        }
        i += 1;
    }
    Ok((positional, format, seen))
}

fn query(path: &PathBuf, rest: &[String]) -> Result<(), Failure> {
    let (positional, format, _) = options(rest, &[])?;
    let [statement] = positional.as_slice() else {
        return Err(usage("query takes one statement in quotes"));
    };
    let store = open(path)?;
    let mut session = Session::new(store);
    let result = session
        .execute(statement)
        .map_err(|e| failed(e.render(statement).trim_start_matches("error: ").to_string()))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    render::write_result(&mut out, &result, format).map_err(failed)?;
    out.flush().map_err(failed)
}

fn run_script(path: &PathBuf, rest: &[String]) -> Result<(), Failure> {
    let (positional, format, flags) = options(rest, &["--fail-fast", "--fail-at-end"])?;
    let [file] = positional.as_slice() else {
        return Err(usage("run takes one FILE.cg"));
    };
    let at_end = flags.iter().any(|f| f == "--fail-at-end");
    let src = std::fs::read_to_string(file).map_err(|e| failed(format!("cannot read {file}: {e}")))?;
    let statements = claimgraph::query::parse_script(&src)
        .map_err(|e| failed(format!("{file}: {}", e.render(&src).trim_start_matches("error: "))))?;
    let store = open(path)?;
    let mut session = Session::new(store);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failures = 0;
    for (stmt, _) in &statements {
        match session.run(stmt, &src) {
            Ok(result) => render::write_result(&mut out, &result, format).map_err(failed)?,
            Err(e) => {
                out.flush().map_err(failed)?;
                eprintln!("{file}: {}", e.render(&src));
                failures += 1;
                if !at_end {
                    break;
                }
            }
        }
    }
    out.flush().map_err(failed)?;
    match failures {
        0 => Ok(()),
        n => Err(failed(format!("{n} statement(s) in {file} failed"))),
    }
}

/// The seed article's claims, shipped inside the binary.
const DEMO_JSONL: &str = include_str!("../examples/sanctions.jsonl");

fn demo() -> Result<(), Failure> {
    let store = Store::temporary().map_err(failed)?;
    let summary = jsonl::import(&store, DEMO_JSONL.as_bytes(), "examples/sanctions.jsonl").map_err(failed)?;
    println!(
        "Loaded examples/sanctions.jsonl: {} transactions, {} events.\n",
        summary.transactions, summary.events
    );
    let view = store.snapshot();
    print_stats(&view.stats().map_err(failed)?, store.size_on_disk());
    println!("\nWho says the United States may ease sanctions on Russia?");
    let q = claimgraph::ClaimQuery {
        predicate: Some("may_ease_sanctions_on".into()),
        object: Some(claimgraph::model::Term::Entity("russia".into())),
        ..Default::default()
    };
    for c in view.claims(&q).map_err(failed)? {
        let by = c.by.as_deref().unwrap_or("(the article itself)");
        println!("  {:<4} {:<16} {:<9} valid {}", c.id, by, c.stance, c.valid);
    }
    println!("\nThe record of `trump` (declared twice, merged in tx 18):");
    for h in view.history("trump").map_err(failed)? {
        println!("  tx {:>2}  {:<8} {}", h.tx, h.op, h.detail);
    }
    let report = store.verify().map_err(failed)?;
    println!(
        "\nverify: {} transactions, hash chain intact, indexes match a rebuild: {}",
        report.transactions,
        report.ok()
    );
    Ok(())
}

fn export(path: &PathBuf, rest: &[String]) -> Result<(), Failure> {
    let as_of = match rest {
        [] => None,
        [flag, n] if flag == "--as-of-tx" => {
            Some(n.parse::<u64>().map_err(|_| usage(format!("--as-of-tx needs a number, got `{n}`")))?)
        }
        _ => return Err(usage("export takes [--as-of-tx N]")),
    };
    let store = open(path)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    jsonl::export(&store, as_of, &mut out).map_err(failed)?;
    out.flush().map_err(failed)
}

fn stats(path: &PathBuf) -> Result<(), Failure> {
    let store = open(path)?;
    let s = store.snapshot().stats().map_err(failed)?;
    println!("store         {}", path.display());
    print_stats(&s, store.size_on_disk());
    Ok(())
}

fn print_stats(s: &claimgraph::Stats, bytes: u64) {
    println!("transactions  {}", s.transactions);
    println!("entities      {}", s.entities);
    println!("documents     {}", s.documents);
    println!("predicates    {}", s.predicates);
    println!("claims        {} live, {} retracted", s.claims_live, s.claims_retracted);
    println!("size on disk  {}", human_bytes(bytes));
}

fn human_bytes(n: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < units.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 { format!("{n} B") } else { format!("{v:.1} {}", units[i]) }
}

fn verify(path: &PathBuf) -> Result<(), Failure> {
    let store = open(path)?;
    let report = store.verify().map_err(failed)?;
    if report.ok() {
        println!(
            "ok: {} transactions checked, chain intact; {} index entries match a rebuild",
            report.transactions, report.index_entries
        );
        return Ok(());
    }
    for p in &report.problems {
        println!("problem: {p}");
    }
    match report.first_bad_tx {
        Some(tx) => Err(failed(format!("verification failed: the first bad transaction is tx {tx}"))),
        None => {
            Err(failed("verification failed: the indexes differ from a rebuild (run `claimgraph reindex`)"))
        }
    }
}

fn reindex(path: &PathBuf) -> Result<(), Failure> {
    let store = open(path)?;
    let n = store.rebuild_indexes().map_err(failed)?;
    println!("rebuilt the indexes from {n} transactions");
    Ok(())
}

fn repair(path: &PathBuf, rest: &[String]) -> Result<(), Failure> {
    if rest != ["--yes"] {
        return Err(usage(
            "repair cuts the log at its first damaged record and drops everything after it; \
             run `claimgraph repair --yes` to do it",
        ));
    }
    let report = Store::repair(path).map_err(failed)?;
    match report.cut_at_tx {
        None => println!("the log is intact; nothing removed"),
        Some(tx) => println!(
            "cut the log at tx {tx}: removed {} bytes holding {} later valid records",
            report.dropped_bytes, report.dropped_valid_records
        ),
    }
    let store = open(path)?;
    println!("head is now tx {}", store.head());
    Ok(())
}
