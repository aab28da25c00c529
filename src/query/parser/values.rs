//! Literals, write-statement values and `{key: value}` maps.
//!
//! Under the date-valued keys ([`DATE_KEYS`]) a four-digit integer is read
//! as a year-precision date, so `valid: 2025` means the year 2025 while
//! `count: 2025` stays a number.

use std::collections::HashSet;

use nom::branch::alt;
use nom::combinator::{cut, map};
use nom::multi::separated_list0;
use nom::sequence::terminated;
use nom::{Err, Parser};

use super::input::{
    Expect, PResult, Tokens, entity_ref, fail, fatal, ident, label, op, param, punct, spanned,
};
use crate::query::ast::{DateLit, Expr, ExprKind, Literal, MapEntry, Span, Value, ValueKind};
use crate::query::lexer::Tok;

/// Keys whose four-digit integer values are year dates.
pub(crate) const DATE_KEYS: &[&str] = &["valid", "valid_from", "valid_to", "said_at", "published"];

/// `literal`: `null`, `true`, `false`, a number, string, date or timestamp.
pub(crate) fn literal(i: Tokens<'_>) -> PResult<'_, Literal> {
    let lit = match &i.peek().tok {
        Tok::Int(n) => Literal::Int(*n),
        Tok::Float(f) => Literal::Float(*f),
        Tok::Str(s) => Literal::Str(s.clone()),
        Tok::Date(d) => Literal::Date(*d),
        Tok::Timestamp(t) => Literal::Timestamp(*t),
        Tok::Ident(w) if w.eq_ignore_ascii_case("true") => Literal::Bool(true),
        Tok::Ident(w) if w.eq_ignore_ascii_case("false") => Literal::Bool(false),
        Tok::Ident(w) if w.eq_ignore_ascii_case("null") => Literal::Null,
        _ => return fail(i, Expect::Label("a literal")),
    };
    Ok((i.next(), lit))
}

/// A literal whose number may carry a leading `-` (write values, objects).
pub(crate) fn signed_literal(i: Tokens<'_>) -> PResult<'_, Literal> {
    let Ok((rest, _)) = op("-")(i) else {
        return literal(i);
    };
    let negated = match rest.peek().tok {
        Tok::Int(n) => Literal::Int(-n),
        Tok::Float(f) => Literal::Float(-f),
        _ => return fail(rest, Expect::Label("a number")).map_err(to_failure),
    };
    Ok((rest.next(), negated))
}

fn to_failure<E>(e: Err<E>) -> Err<E> {
    match e {
        Err::Error(e) => Err::Failure(e),
        other => other,
    }
}

/// `date`: `YYYY-MM-DD`, `YYYY-MM`, or a four-digit year.
pub(crate) fn date(i: Tokens<'_>) -> PResult<'_, DateLit> {
    let token = i.peek();
    match token.tok {
        Tok::Date(d) => Ok((i.next(), d)),
        Tok::Int(year) if is_year(year, token.span) => {
            let d = DateLit { year: year as i32, month: None, day: None };
            Ok((i.next(), d))
        }
        _ => fail(i, Expect::Label("a date")),
    }
}

/// Whether an integer literal was written as exactly four digits.
fn is_year(n: i64, span: Span) -> bool {
    span.end - span.start == 4 && (0..=9999).contains(&n)
}

/// `value`: what a write-statement map entry holds.
pub(crate) fn value(i: Tokens<'_>) -> PResult<'_, Value> {
    let lit = map(spanned(signed_literal), |(l, span)| Value { kind: ValueKind::Lit(l), span });
    let ent = map(entity_ref, |r| {
        let span = r.span;
        Value { kind: ValueKind::Entity(r), span }
    });
    let par = map(param, |(p, span)| Value { kind: ValueKind::Param(p), span });
    let sym = map(ident("a value"), |id| Value { kind: ValueKind::Symbol(id.name), span: id.span });
    label("a value", alt((lit, ent, par, value_list, sym))).parse(i)
}

fn value_list(i: Tokens<'_>) -> PResult<'_, Value> {
    let (rest, _) = punct("[")(i)?;
    let _guard = i.enter()?;
    let body = terminated(separated_list0(punct(","), value), punct("]"));
    let (rest, items) = cut(body).parse(rest)?;
    Ok((rest, Value { kind: ValueKind::List(items), span: i.span_to(&rest) }))
}

/// `value_map`: `{key: value, ...}` of a write statement.
pub(crate) fn value_map(i: Tokens<'_>) -> PResult<'_, Vec<MapEntry<Value>>> {
    map_of(i, value, year_value)
}

/// `property_map`: `{key: expression, ...}` of a pattern.
pub(crate) fn property_map(i: Tokens<'_>) -> PResult<'_, Vec<MapEntry<Expr>>> {
    map_of(i, super::expr::expression, year_expr)
}

/// A map literal in an expression: `{k: expression, ...}`, values as written.
pub(crate) fn map_literal(i: Tokens<'_>) -> PResult<'_, Vec<MapEntry<Expr>>> {
    map_of(i, super::expr::expression, |_, v| v)
}

/// A `{...}` map whose values are read by `value`; `fix` adjusts values
/// by key (years under date keys).
fn map_of<'a, V>(
    i: Tokens<'a>,
    value: fn(Tokens<'a>) -> PResult<'a, V>,
    fix: fn(&str, V) -> V,
) -> PResult<'a, Vec<MapEntry<V>>> {
    let (rest, _) = punct("{")(i)?;
    let entry = map((ident("a key"), cut(punct(":")), cut(value)), |(key, _, v)| {
        let value = fix(&key.name, v);
        MapEntry { key, value }
    });
    let body = terminated(separated_list0(punct(","), entry), punct("}"));
    let (rest, entries) = cut(body).parse(rest)?;
    let mut seen = HashSet::new();
    if let Some(dup) = entries.iter().find(|e| !seen.insert(e.key.name.as_str())) {
        let msg = format!("duplicate key `{}` in map", dup.key.name);
        return fatal(dup.key.span.start, msg);
    }
    Ok((rest, entries))
}

fn year_value(key: &str, v: Value) -> Value {
    match v.kind {
        ValueKind::Lit(Literal::Int(n)) if DATE_KEYS.contains(&key) && is_year(n, v.span) => {
            let year = DateLit { year: n as i32, month: None, day: None };
            Value { kind: ValueKind::Lit(Literal::Date(year)), span: v.span }
        }
        _ => v,
    }
}

fn year_expr(key: &str, e: Expr) -> Expr {
    match e.kind {
        ExprKind::Lit(Literal::Int(n)) if DATE_KEYS.contains(&key) && is_year(n, e.span) => {
            let year = DateLit { year: n as i32, month: None, day: None };
            Expr::new(ExprKind::Lit(Literal::Date(year)), e.span)
        }
        _ => e,
    }
}
