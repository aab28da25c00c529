//! Cypher constructs the language recognises but does not implement yet.
//!
//! A Cypher user who writes `OPTIONAL MATCH`, `WITH` or `UNION` should learn
//! that the clause is not supported, not read a generic "expected `RETURN`".
//! These checks run where such a clause could start and fail with
//! "`<construct>` is not supported yet" at the keyword; they never accept
//! anything, so they cannot change the meaning of a valid statement.

use super::input::{PResult, Tokens, fatal};
use crate::query::lexer::Tok;

/// The bare word at `i` (upper-cased), if the token is one.
fn word_at(i: Tokens<'_>) -> Option<String> {
    match &i.peek().tok {
        Tok::Ident(w) => Some(w.to_ascii_uppercase()),
        _ => None,
    }
}

fn not_supported<'a>(i: Tokens<'a>, what: &str) -> PResult<'a, ()> {
    fatal(i.offset(), format!("{what} is not supported yet"))
}

/// Clauses that cannot follow `MATCH … [WHERE …]` yet, by their keyword
/// (and the token after it).
fn clause_name(i: Tokens<'_>) -> Option<&'static str> {
    let next = i.next();
    let second = word_at(next);
    let paren = next.peek().tok == Tok::Punct("(");
    Some(match word_at(i)?.as_str() {
        "OPTIONAL" if second.as_deref() == Some("MATCH") => "OPTIONAL MATCH",
        "UNION" => "UNION",
        "CALL" => "CALL",
        "FOREACH" => "FOREACH",
        "LOAD" if second.as_deref() == Some("CSV") => "LOAD CSV",
        "SET" => "SET (the store is append-only: re-declare the entity or retract and assert the claim)",
        "DELETE" => "DELETE (the store is append-only: RETRACT a claim with a reason)",
        "DETACH" => "DETACH DELETE (the store is append-only: RETRACT a claim with a reason)",
        "REMOVE" => "REMOVE (the store is append-only)",
        "CREATE" if paren => "Cypher CREATE of nodes and relationships (use CREATE ENTITY and ASSERT)",
        "MERGE" if paren => "Cypher MERGE (claimgraph's MERGE ENTITY merges two entities)",
        _ => return None,
    })
}

/// At the start of a statement: a clause that does not begin any statement
/// of the language.
pub(crate) fn statement_start(i: Tokens<'_>) -> PResult<'_, ()> {
    match clause_name(i) {
        Some(what) => not_supported(i, what),
        None => Ok((i, ())),
    }
}

/// After a `MATCH`'s patterns and `WHERE`: another clause before `RETURN`.
pub(crate) fn after_match(i: Tokens<'_>) -> PResult<'_, ()> {
    statement_start(i)
}

/// After `WITH` / `UNWIND` stages: a clause other than another stage or
/// `RETURN`.
pub(crate) fn after_stage(i: Tokens<'_>) -> PResult<'_, ()> {
    if word_at(i).as_deref() == Some("MATCH") {
        return not_supported(i, "MATCH after WITH or UNWIND");
    }
    statement_start(i)
}

/// After a node's `:Kind`: a second label.
pub(crate) fn second_label(i: Tokens<'_>) -> PResult<'_, ()> {
    if i.peek().tok == Tok::Punct(":") && matches!(i.next().peek().tok, Tok::Ident(_) | Tok::Quoted(_)) {
        return not_supported(i, "several labels on a node");
    }
    Ok((i, ()))
}

/// Function-call forms of constructs not implemented yet.
pub(crate) fn call_name(name: &str) -> Option<&'static str> {
    const NAMES: &[(&str, &str)] = &[
        ("shortestpath", "shortestPath"),
        ("allshortestpaths", "allShortestPaths"),
        ("exists", "exists(…)"),
        ("reduce", "reduce(…)"),
    ];
    let lower = name.to_ascii_lowercase();
    NAMES.iter().find(|(n, _)| *n == lower).map(|(_, what)| *what)
}
