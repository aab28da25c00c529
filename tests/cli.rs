#![cfg(feature = "cli")]
//! The `claimgraph` binary end to end: import, export, stats, verify, reindex,
//! repair, exit codes and messages.

use std::path::Path;
use std::process::{Command, Output};

fn cg(store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_claimgraph"))
        .arg("--store")
        .arg(store)
        .args(args)
        .env_remove("CLAIMGRAPH_STORE")
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/sanctions.jsonl");

#[test]
fn import_stats_verify_export_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let out = cg(&store, &["import", SAMPLE]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("imported 20 transactions"), "{}", text(&out.stdout));
    let stats = text(&cg(&store, &["stats"]).stdout);
    assert!(stats.contains("transactions  20\n"), "{stats}");
    assert!(stats.contains("claims        57 live, 2 retracted\n"), "{stats}");
    let verify = cg(&store, &["verify"]);
    assert!(verify.status.success());
    assert!(text(&verify.stdout).starts_with("ok: 20 transactions checked"));
    let export = cg(&store, &["export"]);
    assert!(export.status.success());
    let first = export.stdout;
    assert_eq!(text(&first).lines().count(), 20);

    let copy = dir.path().join("copy.db");
    let file = dir.path().join("export.jsonl");
    std::fs::write(&file, &first).unwrap();
    assert!(cg(&copy, &["import", file.to_str().unwrap()]).status.success());
    assert_eq!(cg(&copy, &["export"]).stdout, first, "export → import → export must be byte-identical");
    let partial = cg(&store, &["export", "--as-of-tx", "3"]);
    assert_eq!(text(&partial.stdout).lines().count(), 3);
    let past = cg(&store, &["export", "--as-of-tx", "99"]);
    assert_eq!(past.status.code(), Some(1));
    assert!(past.stdout.is_empty());
    assert_eq!(text(&past.stderr), "error: --as-of-tx 99 is beyond the last transaction (tx 20)\n");
    assert_eq!(text(&cg(&store, &["export", "--as-of-tx", "20"]).stdout).lines().count(), 20);
    let reindex = cg(&store, &["reindex"]);
    assert_eq!(text(&reindex.stdout), "rebuilt the indexes from 20 transactions\n");
}

#[test]
fn a_bad_line_stops_the_import_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let file = dir.path().join("bad.jsonl");
    let lines = [
        r#"{"events":[{"op":"entity","key":"russia","kind":"Country","name":"Russia"}]}"#,
        "",
        r#"{"events":[{"op":"entity","key":"us","kind":"Country","name":"United States"},{"op":"predicate","key":"sanctions"}]}"#,
        r#"{"events":[{"op":"assert","s":"us","p":"sanctions","o":{"entity":"rusia"}}]}"#,
        r#"{"events":[{"op":"entity","key":"never","kind":"Thing"}]}"#,
    ];
    std::fs::write(&file, lines.join("\n")).unwrap();
    let out = cg(&store, &["import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("bad.jsonl:4: event 1 (assert): unknown entity `@rusia`, did you mean `@russia`?"),
        "{err}"
    );
    assert!(err.contains("(2 transactions before it were committed)"), "{err}");
    let stats = text(&cg(&store, &["stats"]).stdout);
    assert!(stats.contains("transactions  2\n"), "{stats}");
}

#[test]
fn malformed_json_and_unknown_ops_are_reported_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    for (content, want) in [
        ("{\"events\": [", "x.jsonl:1: EOF while parsing"),
        (r#"{"events":[{"op":"explode"}]}"#, "x.jsonl:1: unknown variant `explode`"),
        (
            r#"{"events":[{"op":"entity","key":1}]}"#,
            "x.jsonl:1: invalid type: integer `1`, expected a string",
        ),
        (r#"{"events":[],"surprise":1}"#, "x.jsonl:1: unknown field `surprise`"),
        (r#"{"events":[]}"#, "x.jsonl:1: a transaction needs at least one event"),
        (
            r#"{"events":[{"op":"assert","s":"a","p":"b","o":{"int":1},"valid":"2025","valid_to":"2026"}]}"#,
            "x.jsonl:1: event 1: give either `valid` or `valid_from`/`valid_to`, not both",
        ),
        (
            r#"{"tx":7,"events":[{"op":"entity","key":"a"}]}"#,
            "x.jsonl:1: expected tx 1, but the transaction says tx 7",
        ),
    ] {
        let file = dir.path().join("x.jsonl");
        std::fs::write(&file, content).unwrap();
        let out = cg(&store, &["import", file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{content}");
        let err = text(&out.stderr);
        assert!(err.contains(want), "{content}\n  wanted: {want}\n  got: {err}");
    }
    assert!(text(&cg(&store, &["stats"]).stdout).contains("transactions  0\n"));
}

#[test]
fn read_only_commands_refuse_a_missing_store_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("nonexist");
    let want = format!(
        "error: no store at {p}; `claimgraph init {p}` or `import` creates one\n",
        p = store.display()
    );
    for args in [
        &["stats"][..],
        &["verify"],
        &["export"],
        &["query", "SHOW TX"],
        &["reindex"],
        &["repl"],
        &["repair", "--yes"],
    ] {
        let out = cg(&store, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out.stderr));
        assert_eq!(text(&out.stderr), want, "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}: {}", text(&out.stdout));
        assert!(!store.exists(), "{args:?} created {}", store.display());
    }
}

#[test]
fn init_creates_an_empty_store_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let out = cg(&dir.path().join("unused"), &["init", store.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("created an empty store at"), "{}", text(&out.stdout));
    assert!(text(&cg(&store, &["stats"]).stdout).contains("transactions  0\n"));
    let again = cg(&store, &["init"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("a store already exists at"), "{}", text(&again.stderr));
}

#[test]
fn subcommand_help_prints_its_usage_and_touches_no_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("never");
    for (command, want) in [
        ("query", "usage: claimgraph [--store PATH] query"),
        ("run", "usage: claimgraph [--store PATH] run"),
        ("import", "usage: claimgraph [--store PATH] import"),
        ("export", "usage: claimgraph [--store PATH] export"),
        ("stats", "usage: claimgraph [--store PATH] stats"),
        ("verify", "usage: claimgraph [--store PATH] verify"),
        ("repl", "usage: claimgraph [--store PATH] repl"),
        ("init", "usage: claimgraph init"),
        ("repair", "usage: claimgraph [--store PATH] repair"),
    ] {
        for flag in ["--help", "-h"] {
            let out = cg(&store, &[command, flag]);
            assert_eq!(out.status.code(), Some(0), "{command} {flag}: {}", text(&out.stderr));
            assert!(text(&out.stdout).starts_with(want), "{command} {flag}: {}", text(&out.stdout));
        }
        let out = cg(&store, &["help", command]);
        assert!(text(&out.stdout).starts_with(want), "help {command}: {}", text(&out.stdout));
    }
    assert!(!store.exists(), "asking for help created a store");
}

#[test]
fn an_undeclared_predicate_is_refused_unless_import_is_told_to_create_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    assert!(cg(&store, &["import", SAMPLE]).status.success());
    let typo = "ASSERT (@us)-[:may_ease_sanction_on]->(@russia) {valid: 2025-03};";
    let out = cg(&store, &["query", typo]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("unknown predicate `may_ease_sanction_on`, did you mean `may_ease_sanctions_on`?"),
        "{err}"
    );
    let preds = text(&cg(&store, &["query", "SHOW PREDICATES", "--format", "csv"]).stdout);
    assert!(!preds.contains("may_ease_sanction_on,"), "{preds}");
    assert!(text(&cg(&store, &["stats"]).stdout).contains("transactions  20\n"));
    // Declared first: accepted.
    let ok = cg(&store, &["query", "CREATE PREDICATE eases {description: \"eases\"}"]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(cg(&store, &["query", "ASSERT (@us)-[:eases]->(@russia)"]).status.success());

    // JSONL: refused by default, accepted with --create-predicates.
    let file = dir.path().join("typo.jsonl");
    std::fs::write(
        &file,
        r#"{"events":[{"op":"assert","s":"us","p":"may_ease_sanction_on","o":{"entity":"russia"}}]}"#,
    )
    .unwrap();
    let out = cg(&store, &["import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("typo.jsonl:1: event 1 (assert): unknown predicate"),
        "{}",
        text(&out.stderr)
    );
    let out = cg(&store, &["import", "--create-predicates", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let preds = text(&cg(&store, &["query", "SHOW PREDICATES", "--format", "csv"]).stdout);
    assert!(preds.contains("may_ease_sanction_on,"), "{preds}");
}

#[test]
fn an_import_line_over_the_limit_is_refused_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let file = dir.path().join("big.jsonl");
    let line =
        |name: &str| format!(r#"{{"events":[{{"op":"entity","key":"e","kind":"Thing","name":"{name}"}}]}}"#);
    let short = line("E");
    // Exactly 1024 bytes without its newline: accepted at a 1KiB limit.
    let exact = line(&"x".repeat(1024 - line("").len()));
    assert_eq!(exact.len(), 1024);
    let long = line(&"y".repeat(5000));
    std::fs::write(&file, format!("{short}\n{exact}\n{long}\n{short}\n")).unwrap();
    let f = file.to_str().unwrap();
    let out = cg(&store, &["import", "--max-line-bytes", "1KiB", f]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "{f}:3: cannot read: the line is longer than 1024 bytes (raise it with --max-line-bytes)"
        )),
        "{err}"
    );
    // What the message says was committed is what the store holds (a read
    // error stops the import before the pending batch is committed).
    let said = err
        .split('(')
        .find_map(|t| t.split_once(" transactions before it were committed)").map(|(n, _)| n))
        .unwrap_or_else(|| panic!("no committed count: {err}"))
        .to_string();
    let stats = text(&cg(&store, &["stats"]).stdout);
    assert!(stats.contains(&format!("transactions  {said}\n")), "{said}: {stats}");
    // The default (64 MiB) takes the same file.
    let copy = dir.path().join("copy.db");
    let out = cg(&copy, &["import", f]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("imported 4 transactions"), "{}", text(&out.stdout));
    for bad in ["0", "lots", "65MiB", "1GB"] {
        let out = cg(&store, &["import", "--max-line-bytes", bad, f]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(text(&out.stderr).contains("--max-line-bytes takes a size"), "{bad}: {}", text(&out.stderr));
    }
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    for args in [
        &["frobnicate"][..],
        &["import"],
        &["export", "--as-of-tx", "x"],
        &["stats", "extra"],
        &[],
        &["repair"],
    ] {
        let out = cg(&store, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains("usage: claimgraph"), "{args:?}");
    }
}

#[test]
fn a_damaged_store_is_refused_then_repaired_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    assert!(cg(&store, &["import", SAMPLE]).status.success());
    let seg = store.join("log/seg-0000000000000001.log");
    let mut bytes = std::fs::read(&seg).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x40;
    std::fs::write(&seg, &bytes).unwrap();
    let out = cg(&store, &["stats"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("the log is damaged at tx"), "{err}");
    let repaired = cg(&store, &["repair", "--yes"]);
    assert!(repaired.status.success(), "{}", text(&repaired.stderr));
    assert!(text(&repaired.stdout).starts_with("cut the log at tx"), "{}", text(&repaired.stdout));
    assert!(cg(&store, &["verify"]).status.success());
}

#[test]
fn demo_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = cg(&dir.path().join("unused"), &["demo"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.contains("claims        57 live, 2 retracted"), "{s}");
    // The first heading's answer is what it asks: claims whose subject is the
    // United States (c5 and c18 are the Trump administration's).
    let (_, first) = s.split_once("Who says the United States may ease sanctions on Russia?\n").unwrap();
    let first = first.split("\n\n").next().unwrap();
    let ids: Vec<&str> = first.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert_eq!(ids, ["c3", "c4", "c11", "c12", "c46", "c48", "c49", "c56"], "{first}");
    assert!(first.contains("c3   (the source itself) "), "one wording for the document itself: {first}");
    assert!(s.contains("indexes match a rebuild: true"), "{s}");
}

/// `claimgraph bench` end to end on a small workload: the table, every query
/// answered alike by every engine, and the JSON with warm, cold and load figures.
#[cfg(feature = "sqlite")]
#[test]
fn bench_prints_the_table_and_writes_json() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("bench.json");
    let data = dir.path().join("data");
    let out = Command::new(env!("CARGO_BIN_EXE_claimgraph"))
        .args(["bench", "--claims", "2000", "--runs", "1", "--no-params", "--dir"])
        .arg(&data)
        .arg("--json")
        .arg(&json)
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(table.contains("cg cold") && table.contains("cold/sql"), "{table}");
    for q in ["Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q7", "Q8"] {
        let line = table.lines().find(|l| l.starts_with(q)).unwrap_or_else(|| panic!("no {q} row: {table}"));
        assert!(line.trim_end().ends_with("yes"), "{line}");
    }
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(doc["claims"], 2000);
    assert!(doc["load"]["claimgraph"]["claims_per_sec"].as_f64().unwrap() > 0.0, "{}", doc["load"]);
    let queries = doc["queries"].as_array().unwrap();
    assert_eq!(queries.len(), 8);
    for q in queries {
        assert_eq!(q["same_rows"], true, "{q}");
        assert!(q["claimgraph_cold"]["median_us"].as_f64().unwrap() > 0.0, "{q}");
        assert!(q["ratio_sqlite_cold"].as_f64().unwrap() > 0.0, "{q}");
    }
}

#[test]
fn json_output_stays_valid_when_a_statement_fails_after_rows() {
    // Issue 13: the array was left open (`[{…}` and then nothing, or the
    // next statement's array), so stdout was not JSON.
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let file = dir.path().join("mixed.jsonl");
    let lines = [
        r#"{"events":[{"op":"entity","key":"a","kind":"Thing","name":"A"},{"op":"predicate","key":"p"}]}"#,
        r#"{"events":[{"op":"assert","s":"a","p":"p","o":{"int":1}},{"op":"assert","s":"a","p":"p","o":{"int":2}},{"op":"assert","s":"a","p":"p","o":{"string":"x"}}]}"#,
    ];
    std::fs::write(&file, lines.join("\n")).unwrap();
    let out = cg(&store, &["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Rows stream in claim order: 0, 1, then `'x' - 1` fails.
    let q = "MATCH (@a)-[c:p]->(o) RETURN o - 1 AS v";
    let out = cg(&store, &["query", "--format", "json", q]);
    assert!(!out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", text(&out.stdout)));
    assert_eq!(doc, serde_json::json!([{"v": 0}, {"v": 1}]));
    assert!(text(&out.stderr).contains("type mismatch"), "{}", text(&out.stderr));
    // A script: the failing statement's array is closed, the next is not run.
    let script = dir.path().join("s.cg");
    std::fs::write(&script, format!("{q};\nMATCH (@a)-[c:p]->(o) RETURN o;\n")).unwrap();
    let out = cg(&store, &["run", "--format", "json", script.to_str().unwrap()]);
    assert!(!out.status.success());
    let docs: Vec<serde_json::Value> = serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("stdout is not a JSON stream ({e}): {}", text(&out.stdout)));
    assert_eq!(docs, vec![serde_json::json!([{"v": 0}, {"v": 1}])]);
}

#[test]
fn a_byte_order_mark_at_the_start_of_an_import_is_skipped() {
    // Issue 12, finding 13: it was "expected value at line 1 column 1".
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let file = dir.path().join("bom.jsonl");
    let lines = [
        r#"{"events":[{"op":"entity","key":"a","kind":"Thing","name":"A"}]}"#,
        r#"{"events":[{"op":"entity","key":"b","kind":"Thing","name":"B"}]}"#,
    ];
    std::fs::write(&file, format!("\u{feff}{}\n", lines.join("\n"))).unwrap();
    let out = cg(&store, &["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("imported 2 transactions"), "{}", text(&out.stdout));
    // Only at the very start: a mark later in the file is still an error.
    let file = dir.path().join("late.jsonl");
    std::fs::write(&file, format!("{}\n\u{feff}{}\n", lines[0], lines[1])).unwrap();
    let out = cg(&dir.path().join("t.db"), &["import", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("late.jsonl:2:"), "{}", text(&out.stderr));
}

#[test]
fn writes_are_recorded_as_the_author_the_command_line_names() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    assert!(cg(&store, &["init"]).status.success());
    let write = "CREATE ENTITY us :Country {name: 'United States'};";
    let out = cg(&store, &["--author", "desk-7", "query", write]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The environment names the author when the flag does not.
    let out = Command::new(env!("CARGO_BIN_EXE_claimgraph"))
        .args(["--store", store.to_str().unwrap(), "query", "CREATE ENTITY ru :Country {name: 'Russia'};"])
        .env("CLAIMGRAPH_AUTHOR", "night-shift")
        .env_remove("CLAIMGRAPH_STORE")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let log = text(&cg(&store, &["export"]).stdout);
    let authors: Vec<String> = log
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["author"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(authors, ["desk-7", "night-shift"]);
    assert_eq!(cg(&store, &["--author"]).status.code(), Some(2));
}
