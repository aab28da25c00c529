#![cfg(feature = "cli")]
//! The REPL through a real pseudo-terminal (a table, Tab completion, a
//! multi-line statement, the caret display, `:asof`, Ctrl-C cancelling a
//! long query, Ctrl-D leaving with status 0, colour and `NO_COLOR`), and the
//! non-interactive command line: `query`, `run`, piped `repl`, the output
//! formats and the exit codes (0 ok, 1 a statement failed, 2 bad usage).
//!
//! Every terminal session has a timeout, so a broken REPL fails the test
//! instead of hanging it; the child gets its own `TERM` (CI has none), an
//! empty `PAGER` and a history file in a temporary directory.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use rexpect::process::WaitStatus;
use rexpect::reader::Options;
use rexpect::session::{PtySession, spawn_with_options};

const BIN: &str = env!("CARGO_BIN_EXE_claimgraph");
const PROMPT: &str = "claimgraph> ";
/// Generous: CI machines are shared.
const TIMEOUT_MS: u64 = 30_000;

fn repl(dir: &tempfile::TempDir, no_color: bool, strip: bool) -> PtySession {
    repl_with_pager(dir, no_color, strip, "")
}

fn repl_with_pager(dir: &tempfile::TempDir, no_color: bool, strip: bool, pager: &str) -> PtySession {
    // A pseudo-terminal starts with no size; give it one, as a terminal has.
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("stty cols 100 rows 40 && exec '{BIN}' repl --demo"))
        .env("TERM", "xterm-256color")
        .env("PAGER", pager)
        .env("CLAIMGRAPH_HISTORY", dir.path().join("history"))
        .env_remove("CLAIMGRAPH_STORE");
    if no_color {
        cmd.env("NO_COLOR", "1");
    } else {
        cmd.env_remove("NO_COLOR");
    }
    let options = Options::new().timeout_ms(Some(TIMEOUT_MS)).strip_ansi_escape_codes(strip);
    let mut p = spawn_with_options(cmd, options).expect("the REPL starts in a pseudo-terminal");
    p.exp_string("Ctrl-D leaves").expect("the welcome");
    p.exp_string(PROMPT).expect("the first prompt");
    p
}

/// Sends a line, waits for `until` in its output (the line editor redraws
/// the prompt as keys arrive, so the prompt alone proves nothing), then for
/// `prompt`; returns the output up to `until`.
fn line(p: &mut PtySession, text: &str, until: &str, prompt: &str) -> String {
    p.send_line(text).expect("send");
    let out = p.exp_string(until).unwrap_or_else(|e| panic!("no {until:?} after {text:?}: {e}"));
    p.exp_string(prompt).unwrap_or_else(|e| panic!("no prompt after {text:?}: {e}"));
    utf8(&out)
}

/// The reader hands over bytes as chars; put the UTF-8 back together.
fn utf8(s: &str) -> String {
    let bytes: Vec<u8> = s.chars().map(|c| c as u32 as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn exited(p: &PtySession) -> i32 {
    match p.process().wait().expect("wait for the REPL") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("the REPL did not exit normally: {other:?}"),
    }
}

#[test]
fn a_session_at_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = repl(&dir, true, true);

    // A query prints a table.
    let out = line(&mut p, "MATCH (@russia)-[c:is_building]->(v) RETURN c.id, v;", "(1 row)", PROMPT);
    assert!(out.contains("│ c57  │ wartime economy │"), "{out}");

    // Tab completes an entity key, then the statement goes on over lines.
    p.send("MATCH (a)-[c:may_ease_sanctions_on]->(@rus").unwrap();
    p.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(100));
    p.send("\t").unwrap();
    p.flush().unwrap();
    p.exp_string("@russia").expect("@rus<TAB> completes to @russia");
    p.send_line(")").unwrap();
    p.exp_string("..> ").expect("a continuation prompt");
    p.send_line("RETURN a.name, c.by.name AS speaker ORDER BY speaker").unwrap();
    // The editor redraws `..> RETURN …` with every key, so wait for the fresh
    // prompt after the line's end: rustyline drops keys typed before it.
    p.exp_regex(r"speaker\r*\n[^\n]*\.\.> ").expect("a continuation prompt");
    let out = line(&mut p, "LIMIT 2;", "(2 rows)", PROMPT);
    assert!(out.contains("│ a.name "), "{out}");

    // An error points at the spot.
    let out = line(&mut p, "MATCH (a -[c]->(b) RETURN a;", "|          ^", PROMPT);
    assert!(out.contains("error: expected `)` or `:` after node variable, found `-`"), "{out}");
    assert!(out.contains("--> line 1, column 10"), "{out}");

    // A mistyped command gets a hint.
    line(&mut p, ":timng", "did you mean `:timing`?", PROMPT);

    // :asof changes the answer and shows in the prompt.
    let asof_prompt = "claimgraph[as of tx 16]> ";
    line(&mut p, ":asof 16", "as of: tx 16", asof_prompt);
    let q = "MATCH (@russia)-[c:is_building]->(v) RETURN c.id, c.valid_to;";
    let out = line(&mut p, q, "(1 row)", asof_prompt);
    assert!(out.contains("│ c50  │ 2022       │"), "{out}");
    line(&mut p, ":asof off", "as of: the head", PROMPT);

    // Ctrl-D leaves with status 0.
    p.send_control('d').unwrap();
    p.exp_eof().expect("the REPL ends");
    assert_eq!(exited(&p), 0);
    let history = std::fs::read_to_string(dir.path().join("history")).unwrap();
    assert!(history.contains(":asof 16"), "{history}");
}

#[test]
fn a_quoted_name_completes_closed_and_an_open_string_shows_in_the_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = repl(&dir, true, true);
    // `United States` and its alias `United States of America` name one
    // entity: one candidate, its quote closed.
    p.send("HISTORY @\"Uni").unwrap();
    p.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(100));
    p.send("\t").unwrap();
    p.flush().unwrap();
    p.exp_string("HISTORY @\"United States\"").expect("the completion closes the quote");
    p.send_line(";").unwrap();
    p.exp_string(" events)").expect("the history of @us");
    p.exp_string(PROMPT).unwrap();
    // Enter inside an open string: the continuation prompt shows the quote.
    p.send_line("MATCH (a) WHERE a.name = 'Bel").unwrap();
    p.exp_string("'..> ").expect("the prompt says a string is open");
    line(&mut p, "arus' RETURN a.key;", "(0 rows)", PROMPT);
    p.send_line(":quit").unwrap();
    p.exp_eof().expect("the REPL ends");
}

#[test]
fn a_pager_that_cannot_run_leaves_the_output_on_the_screen() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = repl_with_pager(&dir, true, true, "no-such-pager-claimgraph --flag");
    // Taller than the 40-row screen: it would go through the pager.
    let out = line(&mut p, "SHOW ENTITIES;", "rows)", PROMPT);
    assert!(
        out.contains("note: the pager `no-such-pager-claimgraph --flag` ($PAGER) was not found"),
        "{out}"
    );
    assert!(out.contains("Vladimir Putin"), "the rows reached the screen: {out}");
    p.send_line(":quit").unwrap();
    p.exp_eof().expect("the REPL ends");
}

#[test]
fn ctrl_d_inside_a_transaction_asks_before_discarding() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = repl(&dir, true, true);
    let block = "claimgraph[in transaction]> ";
    line(&mut p, "BEGIN;", "transaction open", block);
    line(&mut p, "CREATE ENTITY zz :Thing {name: 'Zed'};", "queued", block);
    // Ctrl-D asks; "no" keeps the block.
    p.send_control('d').unwrap();
    p.exp_string("The open transaction holds 1 queued statement(s). Leave and discard them? [y/N] ")
        .expect("Ctrl-D asks before discarding the block");
    p.send_line("n").unwrap();
    p.exp_string("still in the transaction").expect("the answer no keeps the block");
    p.exp_string(block).expect("back at the prompt, still in the transaction");
    // A failing statement aborts the block; the prompt says so.
    let aborted = "claimgraph[transaction aborted]> ";
    line(&mut p, "RETRACT c999 BECAUSE 'x';", "unknown claim", aborted);
    line(&mut p, "STATS;", "the transaction is aborted; ROLLBACK to continue", aborted);
    line(&mut p, "ROLLBACK;", "rolled back 1 statement(s)", PROMPT);
    line(&mut p, "BEGIN;", "transaction open", block);
    line(&mut p, "CREATE ENTITY zz :Thing {name: 'Zed'};", "queued", block);
    // :quit asks too; "y" leaves, saying what was dropped.
    p.send_line(":quit").unwrap();
    p.exp_string("Leave and discard them? [y/N] ").expect(":quit asks");
    p.send_line("y").unwrap();
    p.exp_string("discarded 1 queued statement(s); nothing was committed").expect("says what was dropped");
    p.exp_eof().expect("the REPL ends");
    assert_eq!(exited(&p), 0);
}

#[test]
fn ctrl_c_cancels_a_long_query_and_twice_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = repl(&dir, true, true);
    line(&mut p, ":timing off", "timing is off", PROMPT);
    // Four claims at once: millions of rows, far longer than the test waits.
    p.send_line("MATCH (a)-[c]->(b), (d)-[e]->(f), (g)-[h]->(i), (j)-[k]->(l) RETURN count(*);").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    p.send_control('c').unwrap();
    p.exp_string("cancelled").expect("Ctrl-C cancels the query");
    p.exp_string(PROMPT).expect("back at the prompt");
    line(&mut p, "STATS;", "claims_live", PROMPT);
    // Ctrl-C with text on the line clears it; twice on an empty line leaves.
    p.send("MATCH (a").unwrap();
    p.send_control('c').unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send_control('c').unwrap();
    p.exp_string("Ctrl-C again").unwrap();
    p.send_control('c').unwrap();
    p.exp_eof().expect("the REPL ends");
    assert_eq!(exited(&p), 0);
}

/// A Ctrl-C meant for a query that lands just as it ends (here: at once after
/// its prompt) does not count toward leaving.
#[test]
fn a_ctrl_c_landing_as_a_query_ends_does_not_count_toward_leaving() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = repl(&dir, true, true);
    line(&mut p, "STATS;", "claims_live", PROMPT);
    p.send_control('c').unwrap();
    let quiet = p.exp_string(PROMPT).expect("a fresh prompt");
    assert!(!quiet.contains("Ctrl-C again"), "{quiet:?}");
    p.send_control('c').unwrap();
    p.exp_string("Ctrl-C again").expect("the second Ctrl-C is the first toward leaving");
    p.exp_string(PROMPT).unwrap();
    let out = line(&mut p, "STATS;", "claims_live", PROMPT);
    assert!(out.contains("transactions"), "the REPL is still there: {out}");
    p.send_line(":quit").unwrap();
    p.exp_eof().expect("the REPL ends");
}

#[test]
fn errors_are_coloured_unless_no_color_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let mut coloured = repl(&dir, false, false);
    coloured.send_line("MATCH (a -[c]->(b) RETURN a;").unwrap();
    let out = coloured.exp_string("column 10").unwrap();
    assert!(out.contains("\x1b[31merror:"), "{out:?}");
    coloured.send_line(":quit").unwrap();
    coloured.exp_eof().unwrap();

    let mut plain = repl(&dir, true, false);
    plain.send_line("MATCH (a -[c]->(b) RETURN a;").unwrap();
    let out = plain.exp_string("column 10").unwrap();
    let rest = plain.exp_string("^").unwrap();
    assert!(!out.contains("\x1b[31m") && !rest.contains("\x1b[31m"), "{out:?}{rest:?}");
    assert!(!out.contains("\x1b[1;34m"), "no keyword colours either: {out:?}");
    // No hints without colour: they would look like typed text. (`:asof` was
    // typed earlier, so the history would offer it, and the command's
    // arguments would be hinted.)
    plain.send_line(":asof 3").unwrap();
    plain.exp_string("claimgraph[as of tx 3]> ").unwrap();
    plain.send(":aso").unwrap();
    plain.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    plain.send("\x05").unwrap(); // Ctrl-E: the end of the line, where a hint would show
    plain.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    plain.send_line("").unwrap();
    let echoed = plain.exp_string("unknown command").expect("`:aso` alone was submitted");
    assert!(!echoed.contains("> :asof"), "a hint was drawn after the typed `:aso`: {echoed:?}");
    plain.send_line(":asof off").unwrap();
    plain.exp_string(PROMPT).unwrap();
    plain.send_line("\\q").unwrap();
    plain.exp_eof().unwrap();
    assert_eq!(exited(&plain), 0);
}

// ---- without a terminal ----

fn cg(args: &[&str]) -> Output {
    Command::new(BIN).args(args).env_remove("CLAIMGRAPH_STORE").env_remove("NO_COLOR").output().unwrap()
}

fn cg_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("CLAIMGRAPH_STORE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The child may exit without reading (a usage error): a closed pipe is fine.
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const SPEAKERS: &str = "MATCH (a)-[c:may_ease_sanctions_on]->(@russia) WHERE c.by IS NOT NULL \
                        RETURN c.id, c.by.name AS speaker, c.hedge ORDER BY c.id";

#[test]
fn query_writes_each_format() {
    let table = cg(&["query", "--demo", SPEAKERS]);
    assert!(table.status.success(), "{}", text(&table.stderr));
    let t = text(&table.stdout);
    assert!(t.starts_with("┌──────┬"), "{t}");
    assert!(t.contains("│ c48  │ Scott Bessent "), "{t}");
    assert!(t.ends_with("(6 rows)\n"), "{t}");
    assert!(!t.contains('\x1b'), "no colour when not a terminal: {t:?}");

    let json = cg(&["query", "--demo", SPEAKERS, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON parses");
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 6);
    let c48 = rows.iter().find(|r| r["c.id"] == "c48").expect("c48 is there");
    assert_eq!(c48["speaker"], "Scott Bessent");
    assert_eq!(c48["c.hedge"], "may");

    let jsonl = text(&cg(&["-c", SPEAKERS, "--demo", "--format", "jsonl"]).stdout);
    assert_eq!(jsonl.lines().count(), 6);
    for l in jsonl.lines() {
        serde_json::from_str::<serde_json::Value>(l).expect("each line parses");
    }

    let q = r#"MATCH (x @russia) RETURN 'said "below freezing", then' AS quote, x.name, null AS nothing"#;
    let csv = text(&cg(&["query", "--demo", q, "--format", "csv"]).stdout);
    assert_eq!(csv, "quote,x.name,nothing\n\"said \"\"below freezing\"\", then\",Russia,\n");

    let md = text(&cg(&["query", "--demo", q, "--format", "markdown"]).stdout);
    assert_eq!(
        md,
        "| quote | x.name | nothing |\n|---|---|---|\n| said \"below freezing\", then | Russia |  |\n"
    );

    let line = text(&cg(&["query", "--demo", q, "--format", "line"]).stdout);
    assert_eq!(line, "  quote = said \"below freezing\", then\n x.name = Russia\nnothing = null\n");

    let dot = text(&cg(&["query", "--demo", "CONFLICTS", "--format", "dot"]).stdout);
    assert!(dot.starts_with("digraph claimgraph {"), "{dot}");
    assert!(dot.contains("\"ofac\" -> \"russian_oligarchs\""), "{dot}");
    assert!(dot.contains("denies · by Fictional spokesperson (demo)"), "{dot}");
    assert!(dot.trim_end().ends_with('}'), "{dot}");
}

#[test]
fn exit_codes_say_what_went_wrong() {
    let ok = cg(&["query", "--demo", "STATS"]);
    assert_eq!(ok.status.code(), Some(0));

    let bad = cg(&["query", "--demo", "MATCH (a -[c]->(b) RETURN a"]);
    assert_eq!(bad.status.code(), Some(1));
    let err = text(&bad.stderr);
    assert!(err.contains("error: expected `)` or `:` after node variable"), "{err}");
    assert!(err.contains("  |          ^"), "{err}");
    assert!(!err.contains('\x1b'), "{err:?}");

    let unknown = cg(&["query", "--demo", "MATCH (a)-[c:no_such_predicate]->(b) RETURN a"]);
    assert_eq!(unknown.status.code(), Some(1), "{}", text(&unknown.stderr));

    for args in [
        &["query"][..],
        &["query", "--demo", "STATS", "--format", "xml"],
        &["query", "--demo", "STATS", "--bogus"],
        &["repl", "extra"],
        &["run"],
    ] {
        let out = cg(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains("usage: claimgraph"), "{args:?}");
    }
}

#[test]
fn run_stops_at_the_first_failure_unless_told_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.cg");
    std::fs::write(
        &script,
        "CREATE ENTITY a :Thing {name: 'A'};\nRETRACT c99 BECAUSE 'no such claim';\nSHOW ENTITIES;\n",
    )
    .unwrap();
    let store = dir.path().join("store");
    let s = store.to_str().unwrap();
    assert!(cg(&["init", s]).status.success());
    let fast = cg(&["--store", s, "run", script.to_str().unwrap()]);
    assert_eq!(fast.status.code(), Some(1));
    assert!(text(&fast.stdout).contains("committed tx 1"), "{}", text(&fast.stdout));
    assert!(!text(&fast.stdout).contains("│ key"), "fail-fast stops before SHOW: {}", text(&fast.stdout));
    assert!(text(&fast.stderr).contains("1 statement(s) in"), "{}", text(&fast.stderr));

    let all = cg(&["--store", s, "-f", script.to_str().unwrap(), "--fail-at-end", "--format", "csv"]);
    assert_eq!(all.status.code(), Some(1));
    assert!(
        text(&all.stdout).contains("key,name,kind,aliases,merged_into\na,A,Thing,[],\n"),
        "{}",
        text(&all.stdout)
    );

    let syntax = dir.path().join("bad.cg");
    std::fs::write(&syntax, "STATS;\nMATCH (a RETURN a;\n").unwrap();
    let out = cg(&["--store", s, "run", syntax.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let want = format!(" --> {}:2:10\n", syntax.display());
    assert!(text(&out.stderr).contains(&want), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("claims_live"), "the statement before the bad one ran");
}

#[test]
fn run_parses_statement_by_statement_and_every_error_names_file_line_col() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let s = store.to_str().unwrap();
    assert!(cg(&["init", s]).status.success());
    let script = dir.path().join("s.cg");
    let src = "CREATE ENTITY a :Thing {name: 'A'};\n\
               RETRACT c999 BECAUSE 'no such claim';\n\
               MATCH (a RETURN a;\n\
               \x20 CREATE ENTITY b :Thing {name: 'B'};\n\
               MATCH (n) RETURN n.nope.deeper;\n\
               SHOW ENTITIES;\n";
    std::fs::write(&script, src).unwrap();
    let f = script.to_str().unwrap();
    let out = cg(&["--store", s, "run", f, "--fail-at-end", "--format", "csv"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    // A runtime error names the statement's start; a parse error the spot.
    assert!(err.contains(&format!("error: unknown claim `c999`\n --> {f}:2:1\n")), "{err}");
    assert!(err.contains(&format!("--> {f}:3:10\n")), "{err}");
    assert!(err.contains("3 | MATCH (a RETURN a"), "the caret shows the script's own line: {err}");
    // Every statement that parses ran, before and after the bad one.
    assert!(text(&out.stdout).contains("a,A,Thing,[],\nb,B,Thing,[],\n"), "{}", text(&out.stdout));

    // `-` reads the script, or the one statement, from standard input.
    let piped = cg_stdin(&["--store", s, "run", "-"], "RETRACT c998 BECAUSE 'x';\n");
    assert_eq!(piped.status.code(), Some(1));
    assert!(text(&piped.stderr).contains(" --> <stdin>:1:1"), "{}", text(&piped.stderr));
    let q =
        cg_stdin(&["--store", s, "query", "-", "--format", "csv"], "MATCH (n) RETURN n.key ORDER BY n.key\n");
    assert!(q.status.success(), "{}", text(&q.stderr));
    assert_eq!(text(&q.stdout), "n.key\na\nb\n");

    // :source names the file and line too.
    let sourced = cg_stdin(&["--store", s, "repl"], &format!(":source {f}\n"));
    assert_eq!(sourced.status.code(), Some(1));
    assert!(text(&sourced.stderr).contains(&format!(" --> {f}:2:1")), "{}", text(&sourced.stderr));
}

#[test]
fn piped_input_is_read_as_a_script() {
    let input = ":timing on\nMATCH (@russia)-[c:is_building]->(v)\nRETURN c.id;\n:format csv\nSTATS;\n";
    let out = cg_stdin(&["repl", "--demo"], input);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let t = text(&out.stdout);
    assert!(t.contains("│ c57  │"), "{t}");
    assert!(t.contains("Time: "), ":timing on was honoured: {t}");
    assert!(t.contains("stat,value\ntransactions,20\n"), "{t}");
    assert!(!t.contains('\x1b'), "{t:?}");

    let failing = cg_stdin(&["repl", "--demo"], "STATS;\nMATCH (a RETURN a;\n:nope\nSTATS");
    assert_eq!(failing.status.code(), Some(1));
    let err = text(&failing.stderr);
    assert!(err.contains("column 10"), "{err}");
    assert!(err.contains("unknown command `:nope`"), "{err}");
    assert_eq!(
        text(&failing.stdout).matches("claims_live").count(),
        2,
        "a last statement without `;` runs too"
    );
}

#[test]
fn input_ending_inside_a_transaction_fails_and_says_what_was_discarded() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let s = store.to_str().unwrap();
    assert!(cg(&["init", s]).status.success());
    let want = "error: the input ended inside an open transaction: discarded 2 queued statement(s)";
    let input = "BEGIN;\nCREATE ENTITY a :Thing;\nCREATE ENTITY b :Thing;\n";
    let piped = cg_stdin(&["--store", s, "repl"], input);
    assert_eq!(piped.status.code(), Some(1));
    assert!(text(&piped.stderr).contains(want), "{}", text(&piped.stderr));

    let script = dir.path().join("open.cg");
    std::fs::write(&script, input).unwrap();
    let run = cg(&["--store", s, "run", script.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(1));
    assert!(text(&run.stderr).contains(want), "{}", text(&run.stderr));

    let query = cg(&["--store", s, "query", "BEGIN"]);
    assert_eq!(query.status.code(), Some(1));
    assert!(text(&query.stderr).contains("discarded 0 queued statement(s)"), "{}", text(&query.stderr));

    // A failure inside the block aborts it: the COMMIT commits nothing.
    let aborted =
        "BEGIN;\nCREATE ENTITY a :Thing;\nRETRACT c9 BECAUSE 'x';\nCREATE ENTITY b :Thing;\nCOMMIT;\n";
    let out = cg_stdin(&["--store", s, "repl"], aborted);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("error: the transaction is aborted; ROLLBACK to continue"), "{err}");
    assert!(err.contains("nothing was committed (1 queued statement(s) discarded)"), "{err}");
    let stats = text(&cg(&["--store", s, "query", "STATS", "--format", "csv"]).stdout);
    assert!(stats.contains("transactions,0\n"), "nothing was committed: {stats}");
}

#[test]
fn no_command_without_a_terminal_is_a_usage_error() {
    let out = cg_stdin(&[], "STATS;\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("claimgraph repl"), "{}", text(&out.stderr));
}

// ---- no input makes the line tools panic ----

mod never_panics {
    use claimgraph::render::text;
    use claimgraph::repl::{helper, input};
    use proptest::prelude::*;

    fn vocabulary() -> helper::Vocabulary {
        helper::Vocabulary {
            entities: vec![("russia".into(), "Russia".into(), vec!["Russian Federation".into()])],
            kinds: vec!["Country".into()],
            predicates: vec!["may_ease_sanctions_on".into()],
            claim_properties: vec!["by".into()],
            entity_properties: vec!["name".into()],
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn scanning_completing_and_wrapping(
            line in "[ -~@\"'`$:;()\\[\\]{}|.é航\n-]{0,50}",
            pending in "[ -~;'\n]{0,20}",
            width in 0usize..30,
        ) {
            let pieces = input::scan(&line);
            let mut end = 0;
            for p in &pieces {
                prop_assert_eq!(p.start, end);
                end = p.end;
            }
            prop_assert_eq!(end, line.len());
            let _ = input::is_complete(&line);
            for chunk in input::split(&line) {
                prop_assert!(!chunk.text.is_empty());
            }
            let v = vocabulary();
            for (pos, _) in line.char_indices().chain([(line.len(), ' ')]) {
                let (start, _) = helper::complete(&v, &["p".into()], &pending, &line, pos);
                prop_assert!(start <= pos);
            }
            let _ = helper::hint(&v, &[], &pending, &line);
            let _ = helper::highlight_line(&line, line.starts_with(':'));
            for l in text::wrap(&line, width) {
                let single = l.chars().count() == 1;
                prop_assert!(text::width(&l) <= width.max(1) || single, "{:?} at {}", l, width);
            }
            prop_assert!(text::width(&text::truncate(&line.replace('\n', " "), width)) <= width);
        }
    }
}

#[test]
fn author_in_the_repl_shows_and_sets_who_writes_are_recorded_as() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let s = store.to_str().unwrap();
    assert!(cg(&["--store", s, "init"]).status.success());
    let out = cg_stdin(
        &["--store", s, "--author", "first", "repl"],
        ":author\n:author desk 9\nCREATE ENTITY x :Thing {name: 'X'};\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains("writes are recorded as first"), "{said}");
    assert!(said.contains("writes are now recorded as desk 9"), "{said}");
    let log = text(&cg(&["--store", s, "export"]).stdout);
    assert!(log.contains(r#""author":"desk 9""#), "{log}");
}
