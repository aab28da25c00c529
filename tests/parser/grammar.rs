//! The grammar file is normative: every `ok:` example must parse, every
//! `err:` example must fail, every production must have an accepted
//! example, and its production names must equal `parser::PRODUCTIONS`.

use std::collections::BTreeSet;

use claimgraph::query::parse_statement;
use claimgraph::query::parser::PRODUCTIONS;

const GRAMMAR: &str = include_str!("../../grammar/claimgraph.ebnf");

/// One annotated example from the grammar file.
struct Example {
    production: String,
    accepted: bool,
    text: String,
    line: usize,
}

/// Production names in file order, and the examples under each.
fn read_grammar() -> (Vec<String>, Vec<Example>) {
    let mut names = Vec::new();
    let mut examples = Vec::new();
    for (n, line) in GRAMMAR.lines().enumerate() {
        if let Some((name, _)) = line.split_once("::=")
            && !line.starts_with(char::is_whitespace)
        {
            names.push(name.trim().to_string());
        }
        let Some(production) = names.last() else {
            continue;
        };
        let body = line.trim().trim_start_matches("/*").trim();
        for (prefix, accepted) in [("ok:", true), ("err:", false)] {
            if let Some(rest) = body.strip_prefix(prefix) {
                let text = rest.trim().trim_end_matches("*/").trim().to_string();
                let production = production.clone();
                examples.push(Example { production, accepted, text, line: n + 1 });
            }
        }
    }
    (names, examples)
}

#[test]
fn production_names_match_the_parser() {
    let (names, _) = read_grammar();
    let in_file: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    let in_parser: BTreeSet<&str> = PRODUCTIONS.iter().copied().collect();
    assert_eq!(in_file.len(), names.len(), "a production is defined twice");
    assert_eq!(in_parser.len(), PRODUCTIONS.len(), "PRODUCTIONS lists a name twice");
    let missing: Vec<_> = in_parser.difference(&in_file).collect();
    let extra: Vec<_> = in_file.difference(&in_parser).collect();
    assert!(missing.is_empty() && extra.is_empty(), "not in grammar: {missing:?}; not in parser: {extra:?}");
}

#[test]
fn every_production_has_an_accepted_example() {
    let (names, examples) = read_grammar();
    let without: Vec<&String> =
        names.iter().filter(|n| !examples.iter().any(|e| e.accepted && &e.production == *n)).collect();
    assert!(without.is_empty(), "productions without an ok: example: {without:?}");
}

#[test]
fn examples_behave_as_annotated() {
    let (_, examples) = read_grammar();
    assert!(examples.len() > 100, "only {} examples found", examples.len());
    let mut wrong = Vec::new();
    for e in &examples {
        match (parse_statement(&e.text), e.accepted) {
            (Ok(_), true) | (Err(_), false) => {}
            (Err(err), true) => wrong.push(format!(
                "line {} ({}): should parse:\n{}",
                e.line,
                e.production,
                err.render(&e.text)
            )),
            (Ok(s), false) => wrong.push(format!(
                "line {} ({}): should fail: {}\n  parsed as: {s}",
                e.line, e.production, e.text
            )),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

#[test]
fn accepted_examples_round_trip() {
    let (_, examples) = read_grammar();
    for e in examples.iter().filter(|e| e.accepted) {
        let parsed = parse_statement(&e.text).unwrap();
        let printed = parsed.to_string();
        let reparsed = parse_statement(&printed)
            .unwrap_or_else(|err| panic!("line {}: {}", e.line, err.render(&printed)));
        assert_eq!(parsed, reparsed, "line {}: printed as {printed}", e.line);
        assert_eq!(printed, reparsed.to_string(), "line {}: printing is not stable", e.line);
    }
}
