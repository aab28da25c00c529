//! The `claimgraph` command line: argument parsing, and rendering results and
//! errors for people. Exit codes: 0 ok, 1 an operation failed, 2 bad usage.

use std::io::{BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in the mimalloc v3 sources that libmimalloc-sys
/// 0.1.49 vendors (entry 15 of `mi_option_e` in `c_src/mimalloc/v3/include/
/// mimalloc.h`); the crate's Rust constants follow v2 and omit it, hence the
/// number and the exact version pin in Cargo.toml.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Bulk work (import, reindex, verify's scratch rebuild, bench loads) frees and
/// reallocates hundreds of MiB per index batch, mostly inside sled. mimalloc
/// returns freed pages to the OS after a purge delay (1000 ms in the vendored
/// v3 sources, scaled per arena), so the batches kept faulting them back in,
/// zeroing 2 MiB huge pages: 2-3 s of a 9 s 100k-claim import. These commands
/// keep freed memory for reuse instead (overriding any MIMALLOC_PURGE_DELAY in
/// the environment); they end when the work does. The REPL and queries keep
/// the default.
fn keep_freed_memory() {
    // SAFETY: mi_option_set takes two integers and writes one entry of
    // mimalloc's option table; an option number out of range is ignored. It
    // is documented as not thread safe, so it is called only from `run`,
    // before this process starts any thread (the store, sled's flusher and
    // the Ctrl-C handler all come later).
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}

use claimgraph::render::Format;
use claimgraph::repl::{self, Io, Outcome, Settings, Shell, demo};
use claimgraph::{Session, Store, jsonl};

const USAGE: &str = "\
claimgraph — an event-sourced knowledge graph of claims

usage: claimgraph [--store PATH] [--author NAME] [--read-only] [<command> [args]]

commands:
  init [PATH]             create an empty store at PATH (else the store path below)
  repl [--demo]           the interactive REPL (the default on a terminal); --demo opens a
                          temporary store loaded from examples/sanctions.cg
  query STATEMENT|-       run one statement (alias -c; - reads it from stdin)
  run FILE.cg|-           run a script of ;-separated statements (alias -f; - is stdin);
                          --fail-fast (default) or --fail-at-end; errors name FILE:LINE:COL
                          query and run take --format table|csv|json|jsonl|markdown|line|dot
                          and --demo (work on the demo store)
  demo                    print a short, non-interactive tour of the demo store
  import [--resume] [--create-predicates] [--max-line-bytes N] FILE|-
                          import JSON Lines (one transaction per line); creates the store;
                          --resume skips the lines the log already holds;
                          --create-predicates lets an assert create an undeclared predicate;
                          --max-line-bytes N refuses longer lines (default and most 64MiB)
  export [--as-of-tx N]   write the log as JSON Lines to stdout
  stats                   counts of transactions, entities, claims, size on disk
  verify [--against CP]   check every record, the hash chain, and the indexes; with a
                          checkpoint (its text, or a file holding it) also that the log
                          still holds exactly that tx with that hash
  checkpoint              print the log's head as a checkpoint line to keep elsewhere
  reindex                 rebuild the indexes from the log
  repair --yes            cut a damaged log at its first bad record
  gen --claims N --seed S [--out FILE]   write a deterministic news-claims workload (JSONL)
  bench [--claims N] [--peers sqlite] [--json FILE]   Q1–Q8 on claimgraph and SQLite side by side

The store is PATH, else $CLAIMGRAPH_STORE, else ./claimgraph.db. Only `init`
and `import` create a store; the other commands refuse a path with none.
Writes are recorded as --author NAME, else $CLAIMGRAPH_AUTHOR, else $USER
(`:author NAME` in the REPL). --read-only opens the store without writing to
it (the index is built in memory; writes are refused); a store the file
system will not let us write to is opened that way by itself.
`claimgraph COMMAND --help` describes one command.
";

/// `claimgraph COMMAND --help`: one command's usage. Printed before anything
/// else runs, so asking for help never opens or creates a store.
fn command_usage(command: &str) -> Option<&'static str> {
    Some(match command {
        "init" => {
            "usage: claimgraph init [PATH]\n\n\
            Creates an empty store at PATH (else --store, $CLAIMGRAPH_STORE or ./claimgraph.db).\n\
            Fails if a store is already there.\n"
        }
        "repl" => {
            "usage: claimgraph [--store PATH] repl [--demo] [--format F]\n\n\
            The interactive REPL on a terminal; on piped input, reads statements and meta\n\
            commands from standard input. --demo works on a temporary copy of the demo store.\n"
        }
        "query" | "-c" => {
            "usage: claimgraph [--store PATH] query [--demo] [--format F] STATEMENT|-\n\n\
            Runs one statement (- reads it from standard input).\n\
            --format table|csv|json|jsonl|markdown|line|dot\n"
        }
        "run" | "-f" => {
            "usage: claimgraph [--store PATH] run [--demo] [--format F] [--fail-fast|--fail-at-end] FILE.cg|-\n\n\
            Runs a script of ;-separated statements (- reads standard input). --fail-fast (the\n\
            default) stops at the first failing statement; --fail-at-end runs every statement\n\
            that parses and reports each failure as FILE:LINE:COL.\n"
        }
        "demo" => "usage: claimgraph demo\n\nPrints a short, non-interactive tour of the demo store.\n",
        "import" => {
            "usage: claimgraph [--store PATH] import [--create-predicates] [--max-line-bytes N] FILE|-\n\n\
            Imports JSON Lines, one transaction per line, creating the store if there is none.\n\
            An assert must use a declared predicate (a `predicate` op, in the file or the store)\n\
            unless --create-predicates lets it create one on first use.\n\
            --max-line-bytes N refuses longer lines (default 64 MiB).\n"
        }
        "export" => {
            "usage: claimgraph [--store PATH] export [--as-of-tx N]\n\n\
            Writes the log as JSON Lines to standard output, up to tx N if given.\n"
        }
        "stats" => {
            "usage: claimgraph [--store PATH] stats\n\nCounts transactions, entities, claims and bytes on disk.\n"
        }
        "verify" => {
            "usage: claimgraph [--store PATH] verify\n\n\
            Checks every record, the hash chain, and that the indexes equal a rebuild.\n"
        }
        "reindex" => "usage: claimgraph [--store PATH] reindex\n\nRebuilds the indexes from the log.\n",
        "repair" => {
            "usage: claimgraph [--store PATH] repair --yes\n\n\
            Cuts a damaged log at its first bad record, dropping everything after it.\n"
        }
        "gen" => {
            "usage: claimgraph gen --claims N --seed S [--out FILE]\n\n\
            Writes a deterministic news-claims workload as JSON Lines.\n"
        }
        "bench" => {
            "usage: claimgraph bench [--claims N] [--peers sqlite] [--json FILE]\n\n\
            Runs Q1–Q8 on claimgraph (and SQLite) side by side.\n"
        }
        _ => return None,
    })
}

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
            if !f.message.is_empty() {
                eprintln!("error: {}", f.message);
            }
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
    if let Some(i) = args.iter().position(|a| a == "--author") {
        if i + 1 >= args.len() || args[i + 1].trim().is_empty() {
            return Err(usage("--author needs a name"));
        }
        let _ = AUTHOR.set(args.remove(i + 1));
        args.remove(i);
    }
    if let Some(i) = args.iter().position(|a| a == "--read-only") {
        args.remove(i);
        READ_ONLY.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    let path = store_path.unwrap_or_else(|| PathBuf::from("claimgraph.db"));
    let Some(command) = args.first().cloned() else {
        if std::io::stdin().is_terminal() {
            return repl_command(&path, &[]);
        }
        return Err(usage("no command given (`claimgraph repl` reads statements from standard input)"));
    };
    let rest = &args[1..];
    if rest.iter().any(|a| a == "--help" || a == "-h")
        && let Some(text) = command_usage(&command)
    {
        print!("{text}");
        return Ok(());
    }
    if matches!(command.as_str(), "import" | "reindex" | "verify" | "bench") {
        keep_freed_memory();
    }
    match command.as_str() {
        "help" | "--help" | "-h" => {
            match rest.first().and_then(|c| command_usage(c)) {
                Some(text) => print!("{text}"),
                None => print!("{USAGE}"),
            }
            Ok(())
        }
        "--version" | "version" => {
            println!("claimgraph {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        "init" => init(&path, rest),
        "query" | "-c" => query(&path, rest),
        "run" | "-f" => run_script(&path, rest),
        "repl" => repl_command(&path, rest),
        "demo" => no_args(rest).and_then(|_| demo_tour()),
        "import" => import(&path, rest),
        "export" => export(&path, rest),
        "stats" => no_args(rest).and_then(|_| stats(&path)),
        "verify" => verify(&path, rest),
        "checkpoint" => no_args(rest).and_then(|_| checkpoint(&path)),
        "reindex" => no_args(rest).and_then(|_| reindex(&path)),
        "repair" => repair(&path, rest),
        "gen" => claimgraph::r#gen::cli(rest).map_err(failed),
        "bench" => claimgraph::bench::cli(rest).map_err(failed),
        other => Err(usage(format!("unknown command `{other}`"))),
    }
}

fn no_args(rest: &[String]) -> Result<(), Failure> {
    match rest.first() {
        Some(a) => Err(usage(format!("unexpected argument `{a}`"))),
        None => Ok(()),
    }
}

/// `--read-only`: open stores without writing to them.
static READ_ONLY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Opens the existing store at `path`; a path with none is refused. A store
/// the file system will not let us write to (a read-only mount, no
/// permission) is opened read-only, with a note: reads, `export` and
/// `verify` work, writes are refused.
fn open(path: &PathBuf) -> Result<Store, Failure> {
    let read_only = claimgraph::Options { read_only: true, ..Default::default() };
    if READ_ONLY.load(std::sync::atomic::Ordering::Relaxed) {
        return opened(path, Store::open_with(path, read_only));
    }
    match Store::open(path) {
        Err(e) if e.is_not_writable() => {
            eprintln!(
                "note: cannot write to the store {} ({e}); opened it read-only: the index is built in \
                 memory from the log, and writes are refused",
                path.display()
            );
            opened(path, Store::open_with(path, read_only))
        }
        other => opened(path, other),
    }
}

/// Reports what opening `path` found; a missing store names the commands
/// that create one.
fn opened(path: &Path, store: Result<Store, claimgraph::StoreError>) -> Result<Store, Failure> {
    let store = store.map_err(|e| match e {
        claimgraph::StoreError::NotFound { .. } => failed(format!(
            "no store at {p}; `claimgraph init {p}` or `import` creates one",
            p = path.display()
        )),
        e => failed(format!("cannot open {}: {e}", path.display())),
    })?;
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

/// `claimgraph init [PATH]`: creates an empty store; one already there is
/// left alone and reported.
fn init(path: &Path, rest: &[String]) -> Result<(), Failure> {
    let path = match rest {
        [] => path.to_path_buf(),
        [p] if !p.starts_with('-') => PathBuf::from(p),
        _ => return Err(usage("init takes at most one PATH")),
    };
    if Store::exists(&path) {
        return Err(failed(format!("a store already exists at {}", path.display())));
    }
    let store = opened(&path, Store::create(&path))?;
    println!("created an empty store at {} (head is tx {})", path.display(), store.head());
    Ok(())
}

fn import(path: &PathBuf, rest: &[String]) -> Result<(), Failure> {
    let mut create_predicates = false;
    let mut resume = false;
    let mut max_line = jsonl::MAX_LINE_BYTES;
    let mut positional = Vec::new();
    let mut args = rest.iter();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--create-predicates" => create_predicates = true,
            "--resume" => resume = true,
            "--max-line-bytes" => {
                let n = args.next().ok_or_else(|| usage("--max-line-bytes needs a size"))?;
                max_line = parse_size(n)
                    .filter(|&b| (1..=jsonl::MAX_LINE_BYTES).contains(&b))
                    .ok_or_else(|| {
                        usage(format!(
                            "--max-line-bytes takes a size from 1 to {} (64MiB), like 1048576 or 16MiB; got `{n}`",
                            jsonl::MAX_LINE_BYTES
                        ))
                    })?;
            }
            f if f.starts_with("--") && f != "--" => return Err(usage(format!("unknown option `{f}`"))),
            _ => positional.push(a.as_str()),
        }
    }
    let [file] = positional.as_slice() else {
        return Err(usage("import takes one FILE (or - for stdin)"));
    };
    let options = claimgraph::Options { create: true, create_predicates, ..Default::default() };
    let store = opened(path, Store::open_with(path, options))?;
    // Each chunk is durable when reported, so a failure or a kill loses
    // nothing reported and `--resume` continues after it.
    let mut progress = |tx: u64| eprintln!("committed through tx {tx}");
    let options = jsonl::ImportOptions { resume, progress: Some(&mut progress) };
    let result = if *file == "-" {
        jsonl::import_with(&store, LineLimit::new(std::io::stdin().lock(), max_line), "<stdin>", options)
    } else {
        let f = std::fs::File::open(file).map_err(|e| failed(format!("cannot open {file}: {e}")))?;
        jsonl::import_with(&store, LineLimit::new(BufReader::new(f), max_line), file, options)
    };
    // The index's own flush, behind its deadline (a full disk gives an
    // error here, never a hang at exit).
    let flushed = store.flush_indexes();
    match result {
        Ok(s) => {
            let skipped = if s.skipped > 0 {
                format!(", skipped {} already in the log", s.skipped)
            } else {
                String::new()
            };
            println!(
                "imported {} transactions ({} events){skipped}; head is tx {}",
                s.transactions,
                s.events,
                store.head()
            );
            if let Err(e) = flushed {
                eprintln!("note: {e}; the next open rebuilds the index from the log");
            }
            Ok(())
        }
        Err(e) => Err(failed(format!(
            "{e}\n({} transactions before it were committed)\nthe log holds every transaction through tx {} \
             and nothing after it; `claimgraph import --resume {file}` skips what the log holds",
            e.committed, e.last_tx
        ))),
    }
}

/// `1048576`, `64KiB`, `16MiB` (also `K`, `M`): a byte count.
fn parse_size(text: &str) -> Option<u64> {
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit: u64 = match &text[digits.len()..] {
        "" | "B" => 1,
        "K" | "KiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(unit)
}

/// A reader that refuses a line longer than `limit` bytes as soon as it
/// gets there, without buffering the rest of it (a 50 MB line is refused
/// after `limit` bytes, not read whole first). The newline does not count.
struct LineLimit<R> {
    inner: R,
    limit: u64,
    /// Bytes of the current line handed out so far.
    in_line: u64,
}

impl<R> LineLimit<R> {
    fn new(inner: R, limit: u64) -> LineLimit<R> {
        LineLimit { inner, limit, in_line: 0 }
    }
}

impl<R: std::io::BufRead> std::io::Read for LineLimit<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let available = std::io::BufRead::fill_buf(self)?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        std::io::BufRead::consume(self, n);
        Ok(n)
    }
}

impl<R: std::io::BufRead> std::io::BufRead for LineLimit<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        let (limit, room) = (self.limit, self.limit.saturating_sub(self.in_line) as usize);
        let buf = self.inner.fill_buf()?;
        match buf.iter().take(room + 1).position(|&b| b == b'\n') {
            Some(i) => Ok(&buf[..=i]),
            None if buf.len() <= room => Ok(buf),
            None if room > 0 => Ok(&buf[..room]),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("the line is longer than {limit} bytes (raise it with --max-line-bytes)"),
            )),
        }
    }

    fn consume(&mut self, n: usize) {
        let newline =
            self.inner.fill_buf().ok().and_then(|b| b[..n.min(b.len())].iter().rposition(|&c| c == b'\n'));
        self.in_line = match newline {
            Some(i) => (n - i - 1) as u64,
            None => self.in_line + n as u64,
        };
        self.inner.consume(n);
    }
}

/// What `query`, `run` and `repl` take besides their positional arguments.
#[derive(Default)]
struct Flags {
    format: Option<Format>,
    demo: bool,
    fail_at_end: bool,
}

/// Takes `--format F` and the `allowed` flags out of `rest`; returns the
/// positional arguments.
fn options(rest: &[String], allowed: &[&str]) -> Result<(Vec<String>, Flags), Failure> {
    let mut flags = Flags::default();
    let mut positional = Vec::new();
    let mut i = 0;
    while i < rest.len() {
        match rest[i].as_str() {
            "--format" => {
                let names = Format::names();
                let name = rest.get(i + 1).ok_or_else(|| usage(format!("--format needs one of {names}")))?;
                let format = Format::parse(name)
                    .ok_or_else(|| usage(format!("unknown format `{name}`: use one of {names}")))?;
                flags.format = Some(format);
                i += 1;
            }
            f if !allowed.contains(&f) && f.starts_with("--") => {
                return Err(usage(format!("unknown option `{f}`")));
            }
            "--demo" => flags.demo = true,
            "--fail-at-end" => flags.fail_at_end = true,
            "--fail-fast" => flags.fail_at_end = false,
            other => positional.push(other.to_string()),
        }
        i += 1;
    }
    Ok((positional, flags))
}

/// The store a command works on: the one at the path, or the demo store.
enum Target {
    Path(Store),
    Demo(demo::Demo),
}

impl Target {
    fn open(path: &PathBuf, demo: bool) -> Result<Target, Failure> {
        if demo {
            return demo::open().map(Target::Demo).map_err(failed);
        }
        open(path).map(Target::Path)
    }

    fn store(&self) -> &Store {
        match self {
            Target::Path(s) => s,
            Target::Demo(d) => &d.store,
        }
    }
}

/// Who this run's writes are recorded as, when `--author` says.
static AUTHOR: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// A session on `store` writing as `--author` (else the session's default:
/// `$CLAIMGRAPH_AUTHOR`, `$USER`).
fn session(store: &Store) -> Session {
    let mut session = Session::new(store.clone());
    if let Some(author) = AUTHOR.get() {
        session.set_author(author.clone());
    }
    session
}

/// A shell for one-shot commands: plain output in `format`, coloured errors
/// only on a terminal.
fn plain_shell(store: &Store, format: Option<Format>) -> Shell {
    let settings = Settings {
        format: format.unwrap_or(Format::Table),
        error_color: repl::color_wanted(std::io::stderr().is_terminal()),
        ..Settings::plain()
    };
    Shell::new(session(store), settings)
}

/// A failure whose message was already printed.
fn reported() -> Failure {
    Failure { code: 1, message: String::new() }
}

fn query(path: &PathBuf, rest: &[String]) -> Result<(), Failure> {
    let (positional, flags) = options(rest, &["--demo"])?;
    let [statement] = positional.as_slice() else {
        return Err(usage("query takes one statement in quotes (or - to read it from standard input)"));
    };
    let statement = if statement == "-" { read_input("-")?.0 } else { statement.clone() };
    let target = Target::open(path, flags.demo)?;
    let mut shell = plain_shell(target.store(), flags.format);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let stderr = std::io::stderr();
    let mut err = stderr.lock();
    let mut io = Io { out: &mut out, err: &mut err };
    let mut outcome = shell.statement(statement.trim().trim_end_matches(';'), &mut io);
    if shell.end_of_input(&mut io) == Outcome::Failed {
        outcome = Outcome::Failed;
    }
    finish_output(out)?;
    match outcome {
        Outcome::Failed => Err(reported()),
        _ => Ok(()),
    }
}

/// Flushes stdout; a reader that went away (`| head`) is not a failure.
fn finish_output(mut out: impl Write) -> Result<(), Failure> {
    match out.flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(failed(e)),
        _ => Ok(()),
    }
}

fn run_script(path: &PathBuf, rest: &[String]) -> Result<(), Failure> {
    let (positional, flags) = options(rest, &["--demo", "--fail-fast", "--fail-at-end"])?;
    let [file] = positional.as_slice() else {
        return Err(usage("run takes one FILE.cg"));
    };
    let (src, name) = read_input(file)?;
    let target = Target::open(path, flags.demo)?;
    let mut shell = plain_shell(target.store(), flags.format);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let stderr = std::io::stderr();
    let mut err = stderr.lock();
    let mut io = Io { out: &mut out, err: &mut err };
    let failures = shell.run_file(&src, &name, flags.fail_at_end, &mut io);
    let dropped_block = shell.end_of_input(&mut io) == Outcome::Failed;
    finish_output(out)?;
    match failures {
        0 if dropped_block => Err(reported()),
        0 => Ok(()),
        n => Err(failed(format!("{n} statement(s) in {name} failed"))),
    }
}

/// The text of `file`, or of standard input for `-`, and the name errors
/// give it.
fn read_input(file: &str) -> Result<(String, String), Failure> {
    if file == "-" {
        let mut src = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut src)
            .map_err(|e| failed(format!("cannot read standard input: {e}")))?;
        return Ok((src, "<stdin>".to_string()));
    }
    let src = std::fs::read_to_string(file).map_err(|e| failed(format!("cannot read {file}: {e}")))?;
    Ok((src, file.to_string()))
}

/// `claimgraph repl [--demo]`: the REPL on a terminal, a script reader on
/// piped input.
fn repl_command(path: &PathBuf, rest: &[String]) -> Result<(), Failure> {
    let (positional, flags) = options(rest, &["--demo"])?;
    if let Some(a) = positional.first() {
        return Err(usage(format!("unexpected argument `{a}`")));
    }
    let target = Target::open(path, flags.demo)?;
    let store = target.store();
    if !std::io::stdin().is_terminal() {
        let mut shell = plain_shell(store, flags.format);
        return match repl::piped(&mut shell, std::io::stdin().lock()).map_err(failed)? {
            Outcome::Failed => Err(reported()),
            _ => Ok(()),
        };
    }
    let terminal = std::io::stdout().is_terminal();
    let mut settings =
        if terminal { Settings::interactive(repl::color_wanted(true)) } else { Settings::plain() };
    settings.format = flags.format.unwrap_or(Format::Table);
    let welcome = match &target {
        Target::Demo(_) => demo::welcome(store),
        Target::Path(_) => format!(
            "claimgraph {}: store {} (head is tx {}).\n:help for the language and the commands · Tab completes · Ctrl-D leaves\n",
            env!("CARGO_PKG_VERSION"),
            path.display(),
            store.head()
        ),
    };
    let mut shell = Shell::new(session(store), settings);
    repl::interactive(&mut shell, &welcome).map_err(failed)
}

fn demo_tour() -> Result<(), Failure> {
    use std::fmt::Write as _;
    let demo = demo::open().map_err(failed)?;
    let store = &demo.store;
    let mut t = String::new();
    let _ = writeln!(
        t,
        "Loaded {}: {} statements, {} transactions.\n",
        demo::SCRIPT_PATH,
        demo.statements,
        store.head()
    );
    let view = store.snapshot();
    t.push_str(&stats_text(&view.stats().map_err(failed)?, store.size_on_disk()));
    t.push_str("\nWho says the United States may ease sanctions on Russia?\n");
    let q = claimgraph::ClaimQuery {
        subject: Some("us".into()),
        predicate: Some("may_ease_sanctions_on".into()),
        object: Some(claimgraph::model::Term::Entity("russia".into())),
        ..Default::default()
    };
    let claims = view.claims(&q).map_err(failed)?;
    let speaker = |c: &claimgraph::model::Claim| c.by.clone().unwrap_or_else(|| "(the source itself)".into());
    let width = claims.iter().map(|c| speaker(c).chars().count()).max().unwrap_or(0);
    for c in &claims {
        let _ = writeln!(t, "  {:<4} {:<width$} {:<9} valid {}", c.id, speaker(c), c.stance, c.valid);
    }
    t.push_str(
        "\nThe record of Donald Trump (declared twice, as `donald_trump` and `trump`; merged in tx 18):\n",
    );
    for h in view.history("trump").map_err(failed)? {
        let _ = writeln!(t, "  tx {:>2}  {:<8} {}", h.tx, h.op, h.detail);
    }
    let report = store.verify().map_err(failed)?;
    let _ = writeln!(
        t,
        "\nverify: {} transactions, hash chain intact, indexes match a rebuild: {}",
        report.transactions,
        report.ok()
    );
    t.push_str("\nFor the interactive tour: claimgraph repl --demo\n");
    print_text(&t)
}

/// Writes `text` to stdout; a reader that went away is not a failure.
fn print_text(text: &str) -> Result<(), Failure> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match out.write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(failed(e)),
        _ => finish_output(out),
    }
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
    if let Some(n) = as_of
        && n > store.head()
    {
        // As `AS OF TX n` in a query: a point past the head is a mistake,
        // not "everything".
        return Err(failed(format!("--as-of-tx {n} is beyond the last transaction (tx {})", store.head())));
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    jsonl::export(&store, as_of, &mut out).map_err(failed)?;
    out.flush().map_err(failed)
}

fn stats(path: &PathBuf) -> Result<(), Failure> {
    let store = open(path)?;
    let s = store.snapshot().stats().map_err(failed)?;
    print_text(&format!("store         {}\n{}", path.display(), stats_text(&s, store.size_on_disk())))
}

fn stats_text(s: &claimgraph::Stats, bytes: u64) -> String {
    format!(
        "transactions  {}\nentities      {}\ndocuments     {}\npredicates    {}\n\
         claims        {} live, {} retracted\nsize on disk  {}\n",
        s.transactions,
        s.entities,
        s.documents,
        s.predicates,
        s.claims_live,
        s.claims_retracted,
        human_bytes(bytes)
    )
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

fn checkpoint(path: &PathBuf) -> Result<(), Failure> {
    println!("{}", open(path)?.checkpoint().map_err(failed)?);
    Ok(())
}

/// A checkpoint given as its text or as a file holding it.
fn read_checkpoint(arg: &str) -> Result<claimgraph::log::Checkpoint, Failure> {
    if let Ok(cp) = arg.parse() {
        return Ok(cp);
    }
    let text =
        std::fs::read_to_string(arg).map_err(|e| failed(format!("reading the checkpoint {arg}: {e}")))?;
    text.parse().map_err(|e| failed(format!("{arg}: {e}")))
}

fn verify(path: &PathBuf, rest: &[String]) -> Result<(), Failure> {
    let against = match rest {
        [] => None,
        [flag, cp] if flag == "--against" => Some(read_checkpoint(cp)?),
        _ => return Err(usage("verify takes no arguments or `--against CHECKPOINT`")),
    };
    let store = open(path)?;
    if let Some(cp) = &against {
        store.verify_against(cp).map_err(|e| failed(format!("verification failed: {e}")))?;
        println!("checkpoint: the log holds tx {} with hash {}", cp.tx, cp.hash);
    }
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
    if !Store::exists(path) {
        return open(path).map(drop);
    }
    let report = Store::repair(path).map_err(failed)?;
    match report.cut_at_tx {
        None if report.notes.is_empty() => println!("the log is intact; nothing removed"),
        None => {}
        Some(tx) => println!(
            "cut the log at tx {tx} ({}): removed {} bytes holding {} later valid records",
            report.cut_why.as_deref().unwrap_or("damaged"),
            report.dropped_bytes,
            report.dropped_valid_records
        ),
    }
    for note in &report.notes {
        println!("{note}");
    }
    let store = open(path)?;
    println!("head is now tx {}", store.head());
    Ok(())
}
