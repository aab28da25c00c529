//! Parser entry points: [`parse_statement`] and [`parse_script`].
//!
//! The grammar rules live in submodules named after the productions of
//! `grammar/claimgraph.ebnf` ([`PRODUCTIONS`] lists them; a test keeps the
//! two in step): `expr` (expressions), `values` (literals and maps),
//! `pattern` (graph patterns), `read` (queries and other reads) and `write`
//! (write statements). `input` holds the nom plumbing. On failure this module
//! turns the furthest failure into a [`ParseError`].

mod expr;
mod input;
mod pattern;
mod read;
mod unsupported;
mod values;
mod write;

use nom::branch::alt;
use nom::combinator::{map, opt};
use nom::multi::many0;
use nom::{Err, Parser};

use self::input::{Ctx, Expect, Furthest, PErr, PResult, Tokens, end_of_input, label, op, punct};
use crate::query::ast::{Span, Statement};
use crate::query::error::{ParseError, join_alternatives};
use crate::query::lexer::{self, LexError, Lexed, Tok};

pub(crate) use self::input::is_reserved;
pub use self::input::{MAX_DEPTH, MAX_OPERATORS};

/// Longest accepted source text, in bytes (1 MiB).
pub const MAX_INPUT_LEN: usize = 1 << 20;

/// The production names of `grammar/claimgraph.ebnf`, which the parser
/// implements one-to-one (a test compares the two lists).
pub const PRODUCTIONS: &[&str] = &[
    "script",
    "statement",
    "query",
    "with_clause",
    "unwind_clause",
    "pattern_list",
    "pattern",
    "node_pattern",
    "kind_label",
    "edge_pattern",
    "edge_body",
    "predicate_list",
    "var_length",
    "property_map",
    "where_clause",
    "return_clause",
    "return_item",
    "order_by",
    "order_item",
    "count",
    "time_clause",
    "as_of",
    "tx_point",
    "valid_time",
    "for_clause",
    "include_retracted",
    "explain",
    "history",
    "conflicts",
    "show",
    "stats",
    "create_entity",
    "create_document",
    "create_predicate",
    "assert",
    "subject",
    "object",
    "retract",
    "merge_entity",
    "unmerge_entity",
    "begin",
    "commit",
    "rollback",
    "value_map",
    "value",
    "signed_literal",
    "expression",
    "or_expr",
    "xor_expr",
    "and_expr",
    "not_expr",
    "comparison",
    "comparison_op",
    "predicate",
    "additive",
    "multiplicative",
    "power",
    "unary",
    "postfix",
    "subscript",
    "primary",
    "case_expr",
    "quantifier",
    "list_comprehension",
    "map",
    "function_call",
    "list",
    "literal",
    "date",
    "timestamp",
    "entity_ref",
    "parameter",
    "variable",
    "identifier",
    "reserved_word",
    "integer",
    "float",
    "string",
    "escape",
    "comment",
];

/// Parses exactly one statement, with an optional trailing `;`.
///
/// ```
/// use claimgraph::query::parse_statement;
///
/// let s = parse_statement("match (a)-[c:said]->(b) return a.name as who").unwrap();
/// assert_eq!(s.to_string(), "MATCH (a)-[c:said]->(b) RETURN a.name AS who");
///
/// let src = "MATCH (a RETURN a";
/// let err = parse_statement(src).unwrap_err();
/// assert_eq!((err.line, err.column), (1, 10));
/// assert!(err.render(src).starts_with("error: expected `)` or `:` after node variable"));
/// ```
pub fn parse_statement(src: &str) -> Result<Statement, ParseError> {
    run(src, |i| {
        let (i, s) = statement(i)?;
        let (i, _) = opt(punct(";")).parse(i)?;
        let (i, ()) = end_of_input(i)?;
        Ok((i, s))
    })
}

/// Parses a script of `;`-separated statements; empty statements are
/// skipped. Each statement comes with its span (without the `;`).
pub fn parse_script(src: &str) -> Result<Vec<(Statement, Span)>, ParseError> {
    run(src, script)
}

/// `script`: `statement? (';' statement?)*`.
fn script(mut i: Tokens<'_>) -> PResult<'_, Vec<(Statement, Span)>> {
    let mut out = Vec::new();
    loop {
        let (rest, _) = many0(op(";")).parse(i)?;
        if rest.peek().tok == Tok::Eof {
            return Ok((rest, out));
        }
        rest.new_statement();
        let (after, s) = statement(rest)?;
        out.push((s, rest.span_to(&after)));
        let mut end = alt((map(punct(";"), |_| ()), end_of_input));
        let (after, ()) = end.parse(after)?;
        i = after;
    }
}

/// `statement`: any one statement.
fn statement(i: Tokens<'_>) -> PResult<'_, Statement> {
    unsupported::statement_start(i)?;
    let union = |i| {
        let (i, mut q) = alt((read::query, read::return_query)).parse(i)?;
        let (i, ()) = read::unions(i, &mut q)?;
        Ok((i, Statement::Match(Box::new(q))))
    };
    let any = alt((
        union,
        read::explain,
        read::history,
        read::conflicts,
        read::show,
        read::stats,
        write::create,
        write::assert,
        write::retract,
        write::merge_entity,
        write::unmerge_entity,
        write::begin,
        write::commit,
        write::rollback,
    ));
    label("a statement", any).parse(i)
}

/// Lexes `src`, runs `rule` over the tokens and converts any failure.
fn run<T>(src: &str, rule: impl FnOnce(Tokens<'_>) -> PResult<'_, T>) -> Result<T, ParseError> {
    if src.len() > MAX_INPUT_LEN {
        let msg = format!("input too long: {} bytes (limit {MAX_INPUT_LEN})", src.len());
        return Err(ParseError::at(src, 0, String::new(), Vec::new(), msg));
    }
    let lexed = lexer::tokenize(src);
    let ctx = Ctx::default();
    let result = rule(Tokens::new(&lexed.tokens, &ctx));
    match (result, lexed.error.clone()) {
        (Ok(_), Some(e)) => Err(lex_error(src, e)),
        (Ok((_, out)), None) => Ok(out),
        (Err(e), _) => Err(failure(src, &lexed, ctx.into_furthest(), e)),
    }
}

fn lex_error(src: &str, e: LexError) -> ParseError {
    ParseError::at(src, e.offset, e.found, e.expected, e.message)
}

/// Builds the user-facing error from nom's result and the furthest failure.
fn failure(src: &str, lexed: &Lexed, far: Furthest, e: Err<PErr>) -> ParseError {
    let custom = match e {
        Err::Error(p) | Err::Failure(p) => p.custom,
        Err::Incomplete(_) => None,
    };
    if let Some(c) = custom {
        let found = token_at(lexed, c.offset).map_or_else(String::new, |t| lexer::describe(src, t));
        return ParseError::at(src, c.offset, found, Vec::new(), c.message);
    }
    let eof = lexed.tokens.len().saturating_sub(1);
    if let Some(e) = &lexed.error
        && far.index >= eof
    {
        return lex_error(src, e.clone());
    }
    let Some(token) = lexed.tokens.get(far.index.min(eof)) else {
        return ParseError::at(src, 0, String::new(), Vec::new(), "empty input".into());
    };
    let found = lexer::describe(src, token);
    let expected: Vec<String> = far.expected.iter().map(|e| e.render()).collect();
    let mut message = match far.context {
        _ if expected.is_empty() => format!("unexpected {found}"),
        Some(phrase) => format!("expected {} {phrase}, found {found}", join_alternatives(&expected)),
        None => format!("expected {}, found {found}", join_alternatives(&expected)),
    };
    message.push_str(&note(&token.tok, &far));
    ParseError::at(src, token.span.start, found, expected, message)
}

/// A hint after the headline: a reserved word where a name was wanted, or
/// a keyword close to a misspelt word.
fn note(found: &Tok, far: &Furthest) -> String {
    let wanted_name = far.expected.contains(&Expect::Label("a variable"));
    match found {
        Tok::Ident(w) if wanted_name && is_reserved(w) => {
            format!(" (`{w}` is a reserved word: quote it in backticks to use it as a name)")
        }
        _ => match suggestion(found, &far.keywords) {
            Some(word) => format!(" (did you mean `{word}`?)"),
            None => String::new(),
        },
    }
}

/// The token starting at `offset`, if any.
fn token_at(lexed: &Lexed, offset: usize) -> Option<&lexer::Token> {
    lexed.tokens.iter().find(|t| t.span.start >= offset)
}

/// A keyword close to a misspelt bare word, for "did you mean".
fn suggestion(found: &Tok, keywords: &[&'static str]) -> Option<&'static str> {
    let Tok::Ident(word) = found else { return None };
    if !(3..=40).contains(&word.len()) {
        return None;
    }
    let upper = word.to_ascii_uppercase();
    keywords
        .iter()
        .map(|k| (edit_distance(&upper, k), *k))
        .filter(|(d, k)| *d <= if k.len() <= 4 { 1 } else { 2 })
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Optimal-string-alignment distance (adjacent transpositions count 1).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("RETRN", "RETURN"), 1);
        assert_eq!(edit_distance("MATHC", "MATCH"), 1);
        assert!(edit_distance("SELECT", "SKIP") > 2);
    }

    #[test]
    fn suggests_close_keywords_only() {
        let kws = ["RETURN", "WHERE"];
        assert_eq!(suggestion(&Tok::Ident("retrun".into()), &kws), Some("RETURN"));
        assert_eq!(suggestion(&Tok::Ident("banana".into()), &kws), None);
    }
}
