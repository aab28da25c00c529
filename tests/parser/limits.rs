//! Size and nesting limits: deep or huge inputs are rejected quickly with an
//! error, never a stack overflow, even on a thread with a 2 MiB stack.

use std::thread;
use std::time::{Duration, Instant};

use claimgraph::query::parser::MAX_OPERATORS;
use claimgraph::query::{MAX_DEPTH, MAX_INPUT_LEN, ParseError, Statement, parse_statement};

/// Runs the parser on a thread with the default 2 MiB stack and times it.
fn parse_on_small_stack(src: String) -> (Result<Statement, ParseError>, Duration) {
    thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            let start = Instant::now();
            let result = parse_statement(&src);
            (result, start.elapsed())
        })
        .unwrap()
        .join()
        .unwrap()
}

/// Wraps `inner` in `depth` copies of `open` … `close`.
fn nest(open: &str, inner: &str, close: &str, depth: usize) -> String {
    format!("{}{inner}{}", open.repeat(depth), close.repeat(depth))
}

const TOO_DEEP: &str = "expression nested too deeply (limit 64)";

#[test]
fn hundred_thousand_parentheses_are_rejected_fast() {
    let src = format!("MATCH (a) WHERE {} RETURN a", nest("(", "1", ")", 100_000));
    let (result, _) = parse_on_small_stack(src);
    let err = result.unwrap_err();
    assert_eq!(err.message, TOO_DEEP);
    assert_eq!(err.column, 17 + MAX_DEPTH);
}

#[test]
fn every_nesting_form_is_limited() {
    let n = 100_000;
    let forms = [
        format!("MATCH (a) RETURN {}", nest("NOT ", "a", "", n)),
        format!("MATCH (a) RETURN {}", nest("- ", "a", "", n)),
        format!("MATCH (a) RETURN {}", nest("[", "1", "]", n)),
        format!("MATCH (a) RETURN {}", nest("f(", "1", ")", n)),
        format!("MATCH (a) RETURN {}", nest("count(", "1", ")", n)),
        format!("CREATE ENTITY x {{a: {}}}", nest("[", "1", "]", n)),
        format!("MATCH (x {{a: {}}}) RETURN x", nest("(", "1", ")", n)),
    ];
    for src in forms {
        let head: String = src.chars().take(30).collect();
        let (result, _) = parse_on_small_stack(src);
        assert_eq!(result.unwrap_err().message, TOO_DEEP, "{head}");
    }
}

#[test]
fn a_chain_of_operators_is_limited_by_length_not_as_nesting() {
    // A chain is flat: 1 + 1 + … is no deeper to the reader at 66 terms than
    // at 2, so it is bounded by its operators, not by MAX_DEPTH.
    let n = 100_000;
    for src in
        [format!("MATCH (a) RETURN 1{}", " + 1".repeat(n)), format!("MATCH (a) RETURN 1{}", " < 1".repeat(n))]
    {
        let (result, _) = parse_on_small_stack(src);
        assert_eq!(result.unwrap_err().message, "too many operators in one statement (limit 1024)");
    }
    // The first operator of a chain counts as a level, the rest against the limit.
    let longest = format!("MATCH (a) WHERE a.x{} = 2 RETURN a", " + 1".repeat(MAX_OPERATORS));
    let (result, _) = parse_on_small_stack(longest);
    assert!(result.is_ok());
    let one_more = format!("MATCH (a) WHERE a.x{} = 2 RETURN a", " + 1".repeat(MAX_OPERATORS + 1));
    assert!(parse_on_small_stack(one_more).0.is_err());
}

#[test]
fn nesting_up_to_the_limit_is_accepted() {
    let inside = MAX_DEPTH - 1;
    let forms = [
        format!("MATCH (a) WHERE {} RETURN a", nest("(", "a.x", ")", MAX_DEPTH)),
        format!("MATCH (a) RETURN {}", nest("NOT ", "a", "", MAX_DEPTH)),
        format!("MATCH (a) RETURN {}", nest("[", "1", "]", MAX_DEPTH)),
        format!("MATCH (a) RETURN {}", nest("f(", "-a", ")", inside)),
        format!("MATCH (a) RETURN 1{}", " + 1".repeat(MAX_DEPTH + 2)),
        format!("CREATE ENTITY x {{a: {}}}", nest("[", "1", "]", MAX_DEPTH)),
        format!("MATCH (x {{a: {}}}) RETURN x", nest("[", "1", "]", MAX_DEPTH)),
    ];
    for src in forms {
        let head: String = src.chars().take(30).collect();
        let (result, _) = parse_on_small_stack(src);
        let parsed = result.unwrap_or_else(|e| panic!("{head}: {}", e.message));
        let printed = parsed.to_string();
        assert_eq!(parse_statement(&printed).unwrap(), parsed, "{head}");
    }
}

#[test]
fn long_flat_inputs_are_fine() {
    let ors = vec!["a.x = 1 AND b"; 40_000].join(" OR ");
    let list = vec!["1"; 50_000].join(", ");
    let path = vec!["p"; 50_000].join(".");
    for src in [
        format!("MATCH (a) WHERE {ors} RETURN a"),
        format!("MATCH (a) WHERE a.x IN [{list}] RETURN a"),
        format!("MATCH (a) RETURN a.{path}"),
    ] {
        let (result, _) = parse_on_small_stack(src);
        assert!(result.is_ok());
    }
}

#[test]
fn oversized_input_is_rejected() {
    let src = format!("MATCH (a) RETURN a{}", " ".repeat(MAX_INPUT_LEN));
    let err = parse_statement(&src).unwrap_err();
    assert_eq!(err.message, format!("input too long: {} bytes (limit 1048576)", src.len()));
    assert_eq!((err.line, err.column), (1, 1));
}

#[test]
fn a_megabyte_script_parses_in_reasonable_time() {
    let statement = "MATCH (a)-[c:p]->(@b) WHERE c.x >= 2025-03 AND a.name STARTS WITH 'U' RETURN a.name, count(*) LIMIT 5;\n";
    let src = statement.repeat(MAX_INPUT_LEN / statement.len());
    let start = Instant::now();
    let parsed = claimgraph::query::parse_script(&src).unwrap();
    assert_eq!(parsed.len(), MAX_INPUT_LEN / statement.len());
    assert!(start.elapsed() < Duration::from_secs(10), "took {:?}", start.elapsed());
}

#[test]
fn wide_maps_and_long_words_stay_linear() {
    let n = 60_000;
    let entries: Vec<String> = (0..n).map(|k| format!("k{k}: {k}")).collect();
    let src = format!("CREATE ENTITY x {{{}}}", entries.join(", "));
    let start = Instant::now();
    assert!(parse_statement(&src).is_ok());
    let word = "x".repeat(MAX_INPUT_LEN - 20);
    assert!(parse_statement(&format!("MATCH (a) {word}")).is_err());
    assert!(start.elapsed() < Duration::from_secs(3), "took {:?}", start.elapsed());
}
