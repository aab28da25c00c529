#![cfg(feature = "cli")]
//! The demo store and the README's tour.
//!
//! - The README is the source of truth for its tour: every ```` ```cypher ````
//!   block in the "A tour of the demo" section is run in one REPL session on
//!   the demo store, and the ```` ```text ```` block right after it must be
//!   exactly what it prints (at `:max_width 100`, without timing or colour).
//!   `CLAIMGRAPH_BLESS=1 cargo test --test demo` rewrites the text blocks
//!   after an intended change.
//! - `examples/sanctions.cg` loaded the demo's way reproduces importing
//!   `examples/sanctions.jsonl` byte for byte (same claims, times, hashes).
//! - Every example in `:help` runs on the demo store, and so do the queries
//!   the welcome screen suggests.

use claimgraph::repl::{Io, Outcome, Settings, Shell, demo, help};
use claimgraph::{Session, Store, jsonl};

const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
const TOUR_HEADING: &str = "## A tour of the demo";

/// A fenced block: its info string, its body and where the body sits in the file.
struct Block {
    info: String,
    body: String,
    start: usize,
    end: usize,
}

fn blocks(text: &str, from: usize, to: usize) -> Vec<Block> {
    let mut out = Vec::new();
    let mut pos = from;
    while let Some(open) = text[pos..to].find("```").map(|i| pos + i) {
        let info_end = text[open..].find('\n').map_or(to, |i| open + i);
        let info = text[open + 3..info_end].trim().to_string();
        let body_start = info_end + 1;
        let close = if text[body_start..to].starts_with("```") {
            Some(body_start)
        } else {
            text[body_start..to].find("\n```").map(|i| body_start + i + 1)
        };
        let Some(close) = close else { break };
        out.push(Block { info, body: text[body_start..close].to_string(), start: body_start, end: close });
        pos = text[close..].find('\n').map_or(to, |i| close + i + 1);
    }
    out
}

/// The tour section's bounds.
fn tour(text: &str) -> (usize, usize) {
    let start = text.find(TOUR_HEADING).expect("the README has a tour section");
    let end = text[start + TOUR_HEADING.len()..]
        .find("\n## ")
        .map_or(text.len(), |i| start + TOUR_HEADING.len() + i);
    (start, end)
}

fn tour_shell(store: &Store) -> Shell {
    let settings =
        Settings { timing: false, max_width: Some(100), pager: false, ..Settings::interactive(false) };
    Shell::new(Session::new(store.clone()), settings)
}

fn run(shell: &mut Shell, input: &str) -> String {
    let mut out = Vec::new();
    let mut err = Vec::new();
    {
        // Errors would go to stderr in the REPL; here they are part of the transcript.
        let mut io = Io { out: &mut out, err: &mut err };
        shell.input(input, &mut io);
    }
    out.extend(err);
    String::from_utf8(out).expect("output is UTF-8")
}

#[test]
fn the_readme_tour_prints_what_the_readme_shows() {
    let text = std::fs::read_to_string(README).unwrap();
    let (from, to) = tour(&text);
    let blocks = blocks(&text, from, to);
    let demo = demo::open().expect("the demo store loads");
    let mut shell = tour_shell(&demo.store);
    let mut replacements = Vec::new();
    let mut checked = 0;
    let mut i = 0;
    while i < blocks.len() {
        if blocks[i].info != "cypher" {
            i += 1;
            continue;
        }
        let query = &blocks[i];
        let answer = blocks.get(i + 1).filter(|b| b.info == "text").unwrap_or_else(|| {
            panic!("the tour's query\n{}\nmust be followed by a ```text block with its output", query.body)
        });
        let got = run(&mut shell, &query.body);
        if got != answer.body {
            replacements.push((answer.start, answer.end, got.clone()));
        }
        checked += 1;
        i += 2;
    }
    assert!(checked >= 10, "the tour has {checked} questions; it should have about ten");
    if replacements.is_empty() {
        return;
    }
    if std::env::var_os("CLAIMGRAPH_BLESS").is_some() {
        let mut text = text;
        for (start, end, got) in replacements.into_iter().rev() {
            text.replace_range(start..end, &got);
        }
        std::fs::write(README, text).unwrap();
        return;
    }
    let (start, end, got) = &replacements[0];
    panic!(
        "the README's tour has drifted ({} block(s)); the first:\n--- README\n{}--- actual\n{}\n\
         (CLAIMGRAPH_BLESS=1 cargo test --test demo rewrites the README's outputs)",
        replacements.len(),
        &text[*start..*end],
        got
    );
}

#[test]
fn the_script_reproduces_the_jsonl_exactly() {
    let demo = demo::open().unwrap();
    let from_jsonl = Store::temporary().unwrap();
    let sample =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/sanctions.jsonl")).unwrap();
    jsonl::import(&from_jsonl, sample.as_bytes(), "sanctions.jsonl").unwrap();
    let export = |s: &Store| {
        let mut out = Vec::new();
        jsonl::export(s, None, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    let (a, b) = (export(&demo.store), export(&from_jsonl));
    assert_eq!(a.lines().count(), 20);
    for (n, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        assert_eq!(x, y, "tx {} differs", n + 1);
    }
    assert_eq!(a, b);
    let stats = demo.store.snapshot().stats().unwrap();
    assert_eq!((stats.claims_live, stats.claims_retracted), (57, 2));
    assert!(demo.store.verify().unwrap().ok());
}

#[test]
fn help_examples_and_the_welcome_run_on_the_demo_store() {
    let demo = demo::open().unwrap();
    let mut shell = tour_shell(&demo.store);
    for topic in help::TOPICS {
        for example in topic.examples {
            let mut out = Vec::new();
            let mut err = Vec::new();
            let outcome = shell.statement(example, &mut Io { out: &mut out, err: &mut err });
            assert_eq!(
                outcome,
                Outcome::Ok,
                ":help {}: {example}\n{}",
                topic.name,
                String::from_utf8_lossy(&err)
            );
        }
        let page = run(&mut shell, &format!(":help {}", topic.name));
        assert!(page.starts_with(&topic.name.to_uppercase()), ":help {}\n{page}", topic.name);
    }
    assert!(run(&mut shell, ":help").contains(":asof [TX|timestamp|off]"));
    let welcome = demo::welcome(&demo.store);
    let tries: Vec<&str> = welcome.lines().filter(|l| l.ends_with(';')).map(str::trim).collect();
    assert_eq!(tries.len(), 3, "{welcome}");
    for q in tries {
        let out = run(&mut shell, q);
        assert!(!out.contains("error"), "{q}\n{out}");
    }
}

#[test]
fn meta_commands_change_the_session() {
    let demo = demo::open().unwrap();
    let mut shell = tour_shell(&demo.store);
    assert_eq!(shell.prompt(), "claimgraph> ");
    run(&mut shell, ":asof 3\n:valid 2025-02-12");
    assert_eq!(shell.prompt(), "claimgraph[as of tx 3, valid 2025-02-12]> ");
    assert_eq!(shell.continuation_prompt().trim_start(), "..> ");
    assert_eq!(shell.continuation_prompt().len(), shell.prompt().len());
    run(&mut shell, ":asof off\n:valid off\n:begin a test");
    assert_eq!(shell.prompt(), "claimgraph[in transaction]> ");
    let out = run(&mut shell, "CREATE ENTITY probe :Thing;\n:rollback");
    assert!(out.contains("queued") && out.contains("rolled back 1 statement(s), 1 events"), "{out}");
    assert_eq!(shell.prompt(), "claimgraph> ");

    let out =
        run(&mut shell, ":param who => @kremlin\nMATCH (s)-[c]->(o) WHERE c.by = $who RETURN count(*) AS n;");
    assert!(out.contains("$who = Kremlin (@kremlin)") && out.contains("│ 3 │"), "{out}");
    let out = run(&mut shell, ":param ids => ['c33', 'c54']\n:params");
    assert!(out.contains("│ $ids │ [\"c33\", \"c54\"]"), "{out}");

    let out = run(&mut shell, ":max_rows 3\nMATCH (s)-[c]->(o) RETURN c.id;");
    assert!(out.contains("(57 rows, 3 shown)"), "{out}");
    let out = run(&mut shell, ":max_rows off\n:expanded on\nMATCH (x @russia) RETURN x.name, x.kind;");
    assert!(out.contains("─[ RECORD 1 ]") && out.contains("x.kind │ Country"), "{out}");
    let out = run(&mut shell, ":expanded off\n:format csv\nMATCH (x @russia) RETURN x.name;\n:format table");
    assert!(out.contains("x.name\nRussia\n"), "{out}");
    let out = run(&mut shell, ":schema");
    assert!(out.contains("│ Country ") && out.contains("│ may_ease_sanctions_on "), "{out}");
    let out = run(&mut shell, ":explain MATCH (a)-[c:may_ease_sanctions_on]->(@russia) RETURN a");
    assert!(out.contains("Return"), "{out}");

    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("more.cg");
    std::fs::write(
        &script,
        "BEGIN MESSAGE 'more';\nCREATE ENTITY nato :Organization;\nCOMMIT;\nSHOW ENTITIES LIKE 'nato';\n",
    )
    .unwrap();
    let out = run(&mut shell, &format!(":source {}", script.display()));
    assert!(out.contains("│ nato ") && out.contains("4 statements, 1 transactions committed"), "{out}");
    let bad = dir.path().join("bad.cg");
    std::fs::write(&bad, "BEGIN;\nCREATE ENTITY x;\nMATCH (a RETURN a;\nCOMMIT;\n").unwrap();
    let out = run(&mut shell, &format!(":source {}", bad.display()));
    assert!(out.contains("statement 3 at line 3") && out.contains("rolled back"), "{out}");
    assert!(!shell.session.in_transaction());
    assert_eq!(run(&mut shell, ":quit\nSTATS;"), "", ":quit stops reading");
}

/// `AS OF 2025-03-04` is the store at the end of that day (UTC): every
/// transaction recorded on the 4th (tx 1-16 of the demo), none of the 5th.
#[test]
fn as_of_a_date_means_the_end_of_that_day() {
    let demo = demo::open().unwrap();
    let mut session = Session::new(demo.store.clone());
    let count = |session: &mut Session, at: &str| -> Vec<Vec<claimgraph::Value>> {
        let q = format!("MATCH (s)-[c]->(o) RETURN c.id, c.valid_from ORDER BY c.id AS OF {at}");
        session.execute(&q).unwrap_or_else(|e| panic!("{at}: {e}")).rows
    };
    assert_eq!(count(&mut session, "2025-03-04"), count(&mut session, "TX 16"));
    assert_eq!(count(&mut session, "2025-03-04"), count(&mut session, "2025-03-04T23:59:59.999999Z"));
    assert_ne!(count(&mut session, "2025-03-05"), count(&mut session, "TX 16"));
    assert_eq!(count(&mut session, "2025-03-05"), count(&mut session, "TX 17"));
    // A month is its last day's end.
    assert_eq!(count(&mut session, "2025-03"), count(&mut session, "TX 20"));
    // And the REPL's :asof takes a date the same way.
    let mut shell = tour_shell(&demo.store);
    let out = run(&mut shell, ":asof 2025-03-04");
    assert!(out.contains("as of: 2025-03-04T23:59:59.999999Z"), "{out}");
}
