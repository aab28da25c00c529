//! Golden tests of the query language: every `tests/queries/*.cg` file is a
//! script of statements run against the hand-built dataset
//! `tests/queries/dataset.cg`; its rendered output must equal the
//! `tests/queries/<name>.out` file beside it.
//!
//! - `CLAIMGRAPH_BLESS=1 cargo test --test golden` rewrites the `.out` files
//!   (review the diff before committing it).
//! - `CLAIMGRAPH_GOLDEN=<name>` runs only the files whose name contains
//!   `<name>`.
//! - `tests/queries/pending/*.cg` hold cases whose expected output is what the
//!   engine *should* print but does not yet (known bugs, see the comments in
//!   those files). The main test skips them and bless never touches them; run
//!   `cargo test --test golden -- --ignored` to see where they stand (with no
//!   pending case that test fails: it would check nothing).
//! - A run that checks no file (an empty folder, a filter matching nothing)
//!   fails, and so does a `.cg` file without its `.out`.
//!
//! How a file runs: a fresh temporary store, one [`Session`] (author
//! `golden`) that loads the dataset with [`Session::run_script`], then every
//! statement of the file (split by [`parse_script`]) executed on its own, so a
//! rendered error's line and column count from the start of its statement.
//! Each statement is echoed with `> ` before each of its lines, followed by
//! its result: a table (header, one line per row, cells joined with ` | `
//! using [`Value`]'s `Display`, then `(N rows)`), a commit receipt
//! (`committed tx N` and the claim ids), a note (`-- ...`), or the error
//! rendered by [`claimgraph::QueryError::render`].
//!
//! Values that differ from run to run are masked: timestamps taken from the
//! clock during the run print as `<now>` (a transaction's `recorded_at`),
//! `hash` columns as `<hash>`, the `bytes_on_disk` stat as `<bytes>`, and
//! EXPLAIN ANALYZE times as `<ms>`.
//!
//! Directives, in the comment lines at the top of a file (before its first
//! statement):
//! - `-- plan`: after the result of each MATCH, also print its `EXPLAIN` tree.
//! - `-- param name = value`: sets `$name` for the whole file; the value is
//!   an integer, a float, a quoted string, `true`, `false`, `null`, a date
//!   (`2025-03`, `2025-03-04`; a bare year is an integer), `@key` (an
//!   entity) or a `[...]` list of those (split at every comma).

mod common;
use common::*;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use claimgraph::Store;
use claimgraph::model::{Date, Timestamp};
use claimgraph::query::{QueryResult, Session, Statement, Value, parse_script};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/queries");

#[test]
fn golden() {
    let bless = std::env::var("CLAIMGRAPH_BLESS").is_ok_and(|v| v == "1");
    let failures = run_dir(Path::new(DIR), bless, only().as_deref()).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        failures.is_empty(),
        "golden files differ: {}\n(re-bless with CLAIMGRAPH_BLESS=1 after checking the diff)",
        failures.join(", ")
    );
}

/// The cases that show known engine bugs; expected to fail until fixed.
#[test]
#[ignore = "known engine bugs, see tests/queries/pending/*.cg"]
fn golden_pending() {
    // An empty folder is a failure, not a pass: this test checks nothing then.
    let failures =
        run_dir(&Path::new(DIR).join("pending"), false, only().as_deref()).unwrap_or_else(|e| panic!("{e}"));
    assert!(failures.is_empty(), "pending golden files still differ: {}", failures.join(", "));
}

/// Runs every `.cg` file of `dir` (but the dataset); returns the failures,
/// or an error when no case ran (an empty folder, a `CLAIMGRAPH_GOLDEN`
/// filter that matches nothing): a run of nothing is not a pass.
fn run_dir(dir: &Path, bless: bool, only: Option<&str>) -> Result<Vec<String>, String> {
    let mut failures = Vec::new();
    let mut ran = 0;
    for path in cases(dir) {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if only.is_some_and(|o| !name.contains(o)) {
            continue;
        }
        ran += 1;
        let actual = run_file(&path);
        let out = path.with_extension("out");
        if bless {
            std::fs::write(&out, &actual).unwrap();
            continue;
        }
        let Ok(expected) = std::fs::read_to_string(&out) else {
            eprintln!("{}: no expected output (bless it, after checking)", out.display());
            failures.push(path.display().to_string());
            continue;
        };
        if expected != actual {
            eprintln!("--- {} (expected)\n+++ actual", out.display());
            eprintln!("{}", diff(&expected, &actual));
            failures.push(path.display().to_string());
        }
    }
    match (ran, only) {
        (0, Some(o)) => Err(format!("no golden case in {} matches CLAIMGRAPH_GOLDEN={o}", dir.display())),
        (0, None) => Err(format!("no golden cases in {}", dir.display())),
        _ => Ok(failures),
    }
}

/// `CLAIMGRAPH_GOLDEN`: run only the files whose name contains it.
fn only() -> Option<String> {
    std::env::var("CLAIMGRAPH_GOLDEN").ok()
}

/// The `.cg` files of `dir`, sorted, without the dataset.
fn cases(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "cg"))
        .filter(|p| p.file_stem().is_some_and(|s| s != "dataset"))
        .collect();
    files.sort();
    files
}

/// Options from a file's leading comment lines.
#[derive(Default)]
struct Directives {
    plan: bool,
    params: Vec<(String, Value)>,
}

fn directives(src: &str) -> Directives {
    let mut d = Directives::default();
    for line in src.lines().map(str::trim) {
        if line.is_empty() {
            continue;
        }
        let Some(comment) = line.strip_prefix("--") else {
            break;
        };
        let comment = comment.trim();
        if comment == "plan" {
            d.plan = true;
        } else if let Some(rest) = comment.strip_prefix("param ") {
            let (name, value) = rest.split_once('=').unwrap_or_else(|| panic!("bad param directive: {line}"));
            let value = param(value.trim()).unwrap_or_else(|| panic!("bad param value: {line}"));
            d.params.push((name.trim().trim_start_matches('$').to_string(), value));
        }
    }
    d
}

/// Parses a directive's value.
fn param(text: &str) -> Option<Value> {
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        let items = inner.split(',').map(str::trim).filter(|s| !s.is_empty());
        return items.map(param).collect::<Option<_>>().map(Value::List);
    }
    let quoted = ['"', '\'']
        .iter()
        .find_map(|q| text.strip_prefix(*q).and_then(|t| t.strip_suffix(*q)).filter(|_| text.len() >= 2));
    if let Some(s) = quoted {
        return Some(Value::String(s.to_string()));
    }
    if let Some(key) = text.strip_prefix('@') {
        return Some(Value::Entity { key: key.to_string(), name: key.to_string(), kind: String::new() });
    }
    Some(match text {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "null" => Value::Null,
        _ if text.len() >= 7 && text.as_bytes()[4] == b'-' => Value::Date(text.parse().ok()?),
        _ => match text.parse::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Float(text.parse().ok()?),
        },
    })
}

/// Loads the dataset into a fresh store and renders every statement of
/// `path` with its result.
fn run_file(path: &Path) -> String {
    let src = std::fs::read_to_string(path).unwrap();
    let store = Store::temporary_with(first_use()).unwrap();
    let mut session = Session::new(store);
    session.author = "golden".into();
    let started = Timestamp::now();
    let dataset = std::fs::read_to_string(Path::new(DIR).join("dataset.cg")).unwrap();
    if let Err(e) = session.run_script(&dataset) {
        panic!("loading the dataset failed:\n{}", e.render(&dataset));
    }
    let d = directives(&src);
    session.params.extend(d.params);
    let statements = match parse_script(&src) {
        Ok(s) => s,
        Err(e) => panic!("{}: {}", path.display(), e.render(&src)),
    };
    let clock = Clock { started };
    let mut out = String::new();
    for (stmt, span) in statements {
        let text = &src[span.start..span.end];
        for line in text.lines() {
            let _ = writeln!(out, "> {line}");
        }
        render(&mut out, &clock, execute(&mut session, text));
        if d.plan && matches!(stmt, Statement::Match(_)) {
            out.push_str("plan:\n");
            render(&mut out, &clock, execute(&mut session, &format!("EXPLAIN {text}")));
        }
        out.push('\n');
    }
    out
}

/// Runs one statement; a panic (always an engine bug) becomes output, so the
/// diff names the statement.
fn execute(session: &mut Session, text: &str) -> Result<QueryResult, String> {
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| session.execute(text)));
    match run {
        Ok(result) => result.map_err(|e| e.render(text)),
        Err(panic) => {
            let why = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("?");
            Err(format!("PANIC: {why}"))
        }
    }
}

/// What a value of the run's own clock looks like: a timestamp between the
/// start of the file's run and now.
struct Clock {
    started: Timestamp,
}

impl Clock {
    fn is_now(&self, t: &Timestamp) -> bool {
        *t >= self.started && *t <= Timestamp::now()
    }
}

fn render(out: &mut String, clock: &Clock, result: Result<QueryResult, String>) {
    let r = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(out, "{e}");
            return;
        }
    };
    if let Some(receipt) = &r.receipt {
        let _ = write!(out, "committed tx {}", receipt.tx);
        if !receipt.claim_ids.is_empty() {
            let _ = write!(out, ", claims {}", receipt.claim_ids.join(", "));
        }
        out.push('\n');
        return;
    }
    if !r.columns.is_empty() {
        let _ = writeln!(out, "{}", r.columns.join(" | "));
        for row in &r.rows {
            let cells: Vec<String> =
                row.iter().enumerate().map(|(i, v)| cell(clock, &r.columns[i], row, v)).collect();
            let _ = writeln!(out, "{}", cells.join(" | "));
        }
        let n = r.rows.len();
        let _ = writeln!(out, "({n} {})", if n == 1 { "row" } else { "rows" });
    }
    if let Some(m) = &r.message {
        let _ = writeln!(out, "-- {m}");
    }
}

/// One table cell, with run-dependent values masked.
fn cell(clock: &Clock, column: &str, row: &[Value], v: &Value) -> String {
    match v {
        _ if column == "hash" => "<hash>".into(),
        Value::Int(_) if matches!(row.first(), Some(Value::String(s)) if s == "bytes_on_disk") => {
            "<bytes>".into()
        }
        Value::Timestamp(t) if clock.is_now(t) => "<now>".into(),
        Value::List(items) => {
            let masked: Vec<Value> = items
                .iter()
                .map(|i| match i {
                    Value::Timestamp(t) if clock.is_now(t) => Value::String("<now>".into()),
                    other => other.clone(),
                })
                .collect();
            Value::List(masked).to_string()
        }
        Value::String(s) if s.contains("[actual ") => mask_ms(s),
        other => other.to_string(),
    }
}

/// `... [actual 3 rows, 0.125 ms]` → `... [actual 3 rows, <ms>]`.
fn mask_ms(s: &str) -> String {
    match (s.rfind(", "), s.strip_suffix(" ms]")) {
        (Some(i), Some(_)) => format!("{}, <ms>]", &s[..i]),
        _ => s.to_string(),
    }
}

/// A line diff of two texts (longest common subsequence), as hunks with two
/// lines of context, cut off after 60 lines.
fn diff(expected: &str, actual: &str) -> String {
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    // lcs[i][j]: the longest common subsequence of e[i..] and a[j..].
    let mut lcs = vec![vec![0usize; a.len() + 1]; e.len() + 1];
    for i in (0..e.len()).rev() {
        for j in (0..a.len()).rev() {
            lcs[i][j] = if e[i] == a[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let mut ops: Vec<(char, usize, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < e.len() || j < a.len() {
        if i < e.len() && j < a.len() && e[i] == a[j] {
            ops.push((' ', i, e[i]));
            (i, j) = (i + 1, j + 1);
        } else if i < e.len() && (j == a.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', i, e[i]));
            i += 1;
        } else {
            ops.push(('+', i, a[j]));
            j += 1;
        }
    }
    let near = |k: usize| ops[k.saturating_sub(2)..(k + 3).min(ops.len())].iter().any(|o| o.0 != ' ');
    let mut out = String::new();
    let mut printed = 0;
    let mut last = None;
    for (k, (op, line_no, text)) in ops.iter().enumerate() {
        if !near(k) {
            continue;
        }
        if last.is_none_or(|l| l + 1 != k) {
            let _ = writeln!(out, "@@ expected line {} @@", line_no + 1);
        }
        last = Some(k);
        let _ = writeln!(out, "{op}{text}");
        printed += 1;
        if printed == 60 {
            out.push_str("...\n");
            break;
        }
    }
    out
}

#[test]
fn a_run_of_no_cases_is_an_error() {
    let empty = tempfile::tempdir().unwrap();
    let err = run_dir(empty.path(), false, None).unwrap_err();
    assert!(err.starts_with("no golden cases in "), "{err}");
    let err = run_dir(Path::new(DIR), false, Some("no such case")).unwrap_err();
    assert!(err.ends_with("matches CLAIMGRAPH_GOLDEN=no such case"), "{err}");
    // A case without its expected output fails rather than comparing to "".
    std::fs::write(empty.path().join("lonely.cg"), "MATCH (x @us) RETURN x.key;\n").unwrap();
    assert_eq!(run_dir(empty.path(), false, None).unwrap().len(), 1);
}

#[test]
fn directive_values_parse() {
    assert_eq!(param("42"), Some(Value::Int(42)));
    assert_eq!(param("0.5"), Some(Value::Float(0.5)));
    assert_eq!(param("'it'"), Some(Value::String("it".into())));
    assert_eq!(param("2025-03"), "2025-03".parse::<Date>().ok().map(Value::Date));
    assert_eq!(param("[1, \"a\"]"), Some(Value::List(vec![Value::Int(1), Value::String("a".into())])));
    assert_eq!(param("nonsense"), None);
    assert_eq!(mask_ms("Filter x  [actual 3 rows, 0.125 ms]"), "Filter x  [actual 3 rows, <ms>]");
}

#[test]
fn diff_shows_changed_lines_with_context() {
    let d = diff("a\nb\nc\nd\ne\nf\ng\n", "a\nb\nc\nX\ne\nf\ng\nh\n");
    assert_eq!(d, "@@ expected line 2 @@\n b\n c\n-d\n+X\n e\n f\n g\n+h\n");
}
