//! Read statements: `MATCH` queries with their clauses and time clauses,
//! `EXPLAIN` / `PROFILE`, `HISTORY`, `CONFLICTS`, `SHOW` and `STATS`.

use nom::branch::alt;
use nom::combinator::{cut, map, opt, value};
use nom::multi::many0;
use nom::sequence::preceded;
use nom::{Err, Parser};

use super::expr::expression;
use super::input::{
    Expect, PErr, PResult, Tokens, entity_ref, fail, fatal, ident, integer, kw, label, param, punct, spanned,
    string, variable,
};
use super::pattern::{chain, pattern_list};
use super::unsupported;
use super::values::date;
use crate::query::ast::{
    AsOf, Conflicts, Expr, ExprKind, History, Literal, NodePattern, OrderItem, Pattern, Query, ReturnItem,
    Show, Span, Stage, Statement, TimeClauses, TxPoint, ValidRange, ValidTime, With,
};
use crate::query::lexer::Tok;

/// `query`: `MATCH` patterns, `WHERE`, `RETURN`, ordering, paging, time.
pub(crate) fn query(i: Tokens<'_>) -> PResult<'_, Query> {
    let (rest, _) = kw("MATCH")(i)?;
    let (rest, mut q) = cut(query_body).parse(rest)?;
    q.span = i.span_to(&rest);
    Ok((rest, q))
}

/// `UNION [ALL]` and the next query, as many times as written. All must
/// be `UNION` or all `UNION ALL`, and no part may carry time clauses (the
/// whole statement reads one snapshot).
pub(crate) fn unions<'a>(mut i: Tokens<'a>, first: &mut Query) -> PResult<'a, ()> {
    while let Ok((rest, at)) = kw("UNION")(i) {
        let (rest, all) = opt(kw("ALL")).parse(rest)?;
        let (rest, part) = cut(alt((query, return_query))).parse(rest)?;
        let all = all.is_some();
        if first.unions.first().is_some_and(|(a, _)| *a != all) {
            return fatal(at.start, "mixing UNION and UNION ALL in one query is not allowed".to_string());
        }
        for q in std::iter::once(&*first).chain(std::iter::once(&part)) {
            if q.time != TimeClauses::default() {
                return fatal(q.span.start, "time clauses with UNION are not supported yet".to_string());
            }
        }
        first.unions.push((all, part));
        i = rest;
    }
    Ok((i, ()))
}

/// A query without `MATCH`: `RETURN` alone (one row of expressions), or
/// `WITH` / `UNWIND` clauses and then `RETURN`.
pub(crate) fn return_query(i: Tokens<'_>) -> PResult<'_, Query> {
    let starts = matches!(&i.peek().tok, Tok::Ident(w) if ["RETURN", "WITH", "UNWIND"].iter().any(|k| w.eq_ignore_ascii_case(k)));
    if !starts {
        return fail(i, Expect::Kw("RETURN"));
    }
    let (rest, mut q) = query_tail(i, Vec::new(), None)?;
    q.span = i.span_to(&rest);
    Ok((rest, q))
}

/// Patterns and `WHERE` of one or more leading `MATCH` clauses. Later
/// clauses join the first: `MATCH p1 WHERE w1 MATCH p2 WHERE w2` is
/// `MATCH p1, p2 WHERE w1 AND w2`, the same rows, since claims may repeat
/// across the patterns of one MATCH here anyway (no relationship
/// isomorphism, see the grammar).
fn query_body(i: Tokens<'_>) -> PResult<'_, Query> {
    let (mut i, mut patterns) = pattern_list(i)?;
    let (rest, mut filter) = opt(where_clause).parse(i)?;
    i = rest;
    while let Ok((rest, _)) = kw("MATCH")(i) {
        let (rest, more) = cut(pattern_list).parse(rest)?;
        let (rest, cond) = opt(where_clause).parse(rest)?;
        patterns.extend(more);
        filter = match (filter, cond) {
            (Some(a), Some(b)) => {
                let span = a.span.to(b.span);
                let mut items = match a.kind {
                    ExprKind::And(items) => items,
                    kind => vec![Expr::new(kind, a.span)],
                };
                match b.kind {
                    ExprKind::And(more) => items.extend(more),
                    kind => items.push(Expr::new(kind, b.span)),
                }
                Some(Expr::new(ExprKind::And(items), span))
            }
            (a, b) => a.or(b),
        };
        i = rest;
    }
    unsupported::after_match(i)?;
    query_tail(i, patterns, filter)
}

/// `stage`: `WITH ...` or `UNWIND expr AS var`.
fn stage(i: Tokens<'_>) -> PResult<'_, Stage> {
    if let Ok((rest, _)) = kw("UNWIND")(i) {
        let (rest, expr) = cut(expression).parse(rest)?;
        let (rest, _) = cut(kw("AS")).parse(rest)?;
        let (rest, var) = cut(variable).parse(rest)?;
        return Ok((rest, Stage::Unwind { expr, var }));
    }
    let (i, _) = kw("WITH")(i)?;
    let (i, distinct) = cut(opt(kw("DISTINCT"))).parse(i)?;
    let (i, first) = cut(return_item).parse(i)?;
    let (i, mut items) = many0(preceded(punct(","), cut(return_item))).parse(i)?;
    items.insert(0, first);
    if let Some(bad) = items.iter().find(|it| it.alias.is_none() && !matches!(it.expr.kind, ExprKind::Var(_)))
    {
        return fatal(bad.span.start, "an expression in WITH needs an alias (`AS name`)".to_string());
    }
    let (i, order_by) = opt(label("`ORDER BY`", order_by)).parse(i)?;
    let (i, skip) = opt(preceded(kw("SKIP"), cut(count))).parse(i)?;
    let (i, limit) = opt(preceded(kw("LIMIT"), cut(count))).parse(i)?;
    let (i, filter) = opt(where_clause).parse(i)?;
    let order_by = order_by.unwrap_or_default();
    Ok((
        i,
        Stage::With(Box::new(With { distinct: distinct.is_some(), items, order_by, skip, limit, filter })),
    ))
}

/// `WITH` / `UNWIND` stages, then `RETURN` and what follows it.
fn query_tail(i: Tokens<'_>, patterns: Vec<Pattern>, filter: Option<Expr>) -> PResult<'_, Query> {
    let (i, stages) = many0(stage).parse(i)?;
    if !stages.is_empty() {
        unsupported::after_stage(i)?;
    }
    let (i, (distinct, items)) = return_clause(i)?;
    let (i, order_by) = opt(label("`ORDER BY`", order_by)).parse(i)?;
    let (i, skip) = opt(preceded(kw("SKIP"), cut(count))).parse(i)?;
    let (i, limit) = opt(preceded(kw("LIMIT"), cut(count))).parse(i)?;
    let (i, time) = time_clauses(i, true)?;
    let order_by = order_by.unwrap_or_default();
    let span = Span::default();
    let unions = Vec::new();
    let q = Query { patterns, filter, stages, unions, distinct, items, order_by, skip, limit, time, span };
    Ok((i, q))
}

/// `where_clause`: `WHERE expression`.
pub(crate) fn where_clause(i: Tokens<'_>) -> PResult<'_, Expr> {
    preceded(kw("WHERE"), cut(expression)).parse(i)
}

/// `return_clause`: `RETURN [DISTINCT] item (',' item)*`.
pub(crate) fn return_clause(i: Tokens<'_>) -> PResult<'_, (bool, Vec<ReturnItem>)> {
    let (i, _) = kw("RETURN")(i)?;
    let (i, distinct) = cut(opt(kw("DISTINCT"))).parse(i)?;
    // `RETURN *` (every variable in scope) is kept as no items.
    if let Ok((rest, _)) = punct("*")(i) {
        if rest.peek().tok == Tok::Punct(",") {
            return fatal(rest.offset(), "`RETURN *` with further items is not supported yet".to_string());
        }
        return Ok((rest, (distinct.is_some(), Vec::new())));
    }
    let (i, first) = cut(return_item).parse(i)?;
    let (i, mut items) = many0(preceded(punct(","), cut(return_item))).parse(i)?;
    items.insert(0, first);
    Ok((i, (distinct.is_some(), items)))
}

/// `return_item`: `expression [AS variable]`.
pub(crate) fn return_item(i: Tokens<'_>) -> PResult<'_, ReturnItem> {
    let item = (expression, opt(preceded(kw("AS"), variable)));
    map(spanned(item), |((expr, alias), span)| ReturnItem { expr, alias, span }).parse(i)
}

/// `order_by`: `ORDER BY key [ASC|DESC] (',' ...)*`.
pub(crate) fn order_by(i: Tokens<'_>) -> PResult<'_, Vec<OrderItem>> {
    let (i, _) = kw("ORDER")(i)?;
    let (i, _) = cut(kw("BY")).parse(i)?;
    let (i, first) = cut(order_item).parse(i)?;
    let (i, mut items) = many0(preceded(punct(","), cut(order_item))).parse(i)?;
    items.insert(0, first);
    Ok((i, items))
}

fn order_item(i: Tokens<'_>) -> PResult<'_, OrderItem> {
    let dir = alt((value(false, kw("ASC")), value(true, kw("DESC"))));
    let (i, (expr, descending)) = (expression, opt(dir)).parse(i)?;
    Ok((i, OrderItem { expr, descending: descending.unwrap_or(false) }))
}

/// `count`: the argument of `SKIP` / `LIMIT`, an integer or a parameter.
pub(crate) fn count(i: Tokens<'_>) -> PResult<'_, Expr> {
    let int = map(integer, |(n, span)| Expr::new(ExprKind::Lit(Literal::Int(n)), span));
    let par = map(param, |(p, span)| Expr::new(ExprKind::Param(p), span));
    alt((int, par)).parse(i)
}

/// One parsed time clause.
#[derive(Debug, Clone)]
enum TimeClause {
    AsOf(AsOf),
    Valid(ValidTime),
    Include,
}

/// `time_clause*`, any order, each kind at most once. `INCLUDE RETRACTED`
/// only where `allow_include`.
pub(crate) fn time_clauses(mut i: Tokens<'_>, allow_include: bool) -> PResult<'_, TimeClauses> {
    let mut out = TimeClauses::default();
    loop {
        let clause = |i| time_clause(i, allow_include);
        match label("a time clause", clause).parse(i) {
            Ok((rest, c)) => {
                add_clause(&mut out, c, i.offset())?;
                i = rest;
            }
            Err(Err::Error(_)) => return Ok((i, out)),
            Err(e) => return Err(e),
        }
    }
}

/// `time_clause`: `as_of | valid_time | include_retracted`.
fn time_clause(i: Tokens<'_>, allow_include: bool) -> PResult<'_, TimeClause> {
    let include = |i| {
        if allow_include {
            value(TimeClause::Include, include_retracted).parse(i)
        } else {
            fail(i, Expect::Kw("INCLUDE"))
        }
    };
    let as_of = map(as_of, TimeClause::AsOf);
    let valid = map(valid_time, TimeClause::Valid);
    alt((as_of, valid, for_clause, include)).parse(i)
}

fn add_clause(out: &mut TimeClauses, clause: TimeClause, offset: usize) -> Result<(), Err<PErr>> {
    let duplicate = match &clause {
        TimeClause::AsOf(_) if out.as_of.is_some() => Some("transaction-time clause (`AS OF`)"),
        TimeClause::Valid(_) if out.valid.is_some() => Some("valid-time clause (`VALID`)"),
        TimeClause::Include if out.include_retracted => Some("`INCLUDE RETRACTED` clause"),
        _ => None,
    };
    if let Some(what) = duplicate {
        let msg = format!("duplicate {what}: each time clause may appear at most once");
        return Err(Err::Failure(PErr::custom(offset, msg)));
    }
    match clause {
        TimeClause::AsOf(a) => out.as_of = Some(a),
        TimeClause::Valid(v) => out.valid = Some(v),
        TimeClause::Include => out.include_retracted = true,
    }
    Ok(())
}

/// `as_of`: `AS OF (TX n | timestamp)`.
pub(crate) fn as_of(i: Tokens<'_>) -> PResult<'_, AsOf> {
    let (rest, (_, _, point)) = (kw("AS"), kw("OF"), cut(tx_point)).parse(i)?;
    Ok((rest, AsOf { point, span: i.span_to(&rest) }))
}

/// `tx_point`: `TX n`, `TX $name`, a timestamp or a date.
pub(crate) fn tx_point(i: Tokens<'_>) -> PResult<'_, TxPoint> {
    let par = map(param, |(p, _)| TxPoint::TxParam(p));
    let tx = preceded(kw("TX"), cut(alt((map(tx_number, TxPoint::Tx), par))));
    alt((tx, timestamp)).parse(i)
}

/// A date or a `$parameter` holding one (`VALID AT`, `FOR VALID_TIME AS OF`).
fn date_point(i: Tokens<'_>) -> PResult<'_, ValidRange> {
    let par = map(param, |(p, _)| ValidRange::AtParam(p));
    alt((map(date, ValidRange::At), par)).parse(i)
}

fn tx_number(i: Tokens<'_>) -> PResult<'_, u64> {
    map(label("a transaction number", integer), |(n, _)| n.unsigned_abs()).parse(i)
}

/// A timestamp, or a date meaning the end of that day (or month), UTC: an
/// analyst asking "as of 2025-03-04" means after everything recorded that day.
fn timestamp(i: Tokens<'_>) -> PResult<'_, TxPoint> {
    match i.peek().tok {
        Tok::Timestamp(t) => Ok((i.next(), TxPoint::Timestamp(t))),
        Tok::Date(d) => match crate::model::Date::new(d.year, d.month.map(u32::from), d.day.map(u32::from)) {
            Ok(date) => {
                let micros = i64::from(date.end_day()) * 86_400_000_000 - 1;
                Ok((i.next(), TxPoint::Timestamp(crate::query::ast::Timestamp { micros })))
            }
            Err(_) => fail(i, Expect::Label("a date or a timestamp")),
        },
        _ => fail(i, Expect::Label("a date or a timestamp")),
    }
}

/// `valid_time`: `VALID AT date` (or a parameter) or `VALID DURING date '..' date`.
pub(crate) fn valid_time(i: Tokens<'_>) -> PResult<'_, ValidTime> {
    let at = preceded(kw("AT"), cut(date_point));
    let during = (kw("DURING"), cut((date, punct(".."), date)));
    let during = map(during, |(_, (a, _, b))| ValidRange::During(a, b));
    let (rest, range) = preceded(kw("VALID"), cut(alt((at, during)))).parse(i)?;
    Ok((rest, ValidTime { range, span: i.span_to(&rest) }))
}

/// `for_clause`: the SQL:2011 spellings `FOR SYSTEM_TIME AS OF ...`,
/// `FOR VALID_TIME AS OF d`, `FOR VALID_TIME BETWEEN d1 AND d2`.
fn for_clause(i: Tokens<'_>) -> PResult<'_, TimeClause> {
    let system = preceded(kw("SYSTEM_TIME"), cut((kw("AS"), kw("OF"), tx_point)));
    let system = map(system, |(_, _, point)| point);
    let at = preceded((kw("AS"), cut(kw("OF"))), cut(date_point));
    let between = preceded(kw("BETWEEN"), cut((date, kw("AND"), date)));
    let between = map(between, |(a, _, b)| ValidRange::During(a, b));
    let valid = preceded(kw("VALID_TIME"), cut(alt((at, between))));
    let (rest, either) = preceded(kw("FOR"), cut(alt((map(system, Ok), map(valid, Err))))).parse(i)?;
    let span = i.span_to(&rest);
    let clause = match either {
        Ok(point) => TimeClause::AsOf(AsOf { point, span }),
        Err(range) => TimeClause::Valid(ValidTime { range, span }),
    };
    Ok((rest, clause))
}

fn include_retracted(i: Tokens<'_>) -> PResult<'_, ()> {
    map((kw("INCLUDE"), cut(kw("RETRACTED"))), |_| ()).parse(i)
}

/// `explain`: `EXPLAIN [ANALYZE] query` or `PROFILE query`.
pub(crate) fn explain(i: Tokens<'_>) -> PResult<'_, Statement> {
    let explain = preceded(kw("EXPLAIN"), cut((opt(kw("ANALYZE")), query)));
    let explain = map(explain, |(analyze, q)| (analyze.is_some(), q));
    let profile = map(preceded(kw("PROFILE"), cut(query)), |q| (true, q));
    let (rest, (analyze, q)) = alt((explain, profile)).parse(i)?;
    if !q.stages.is_empty() || q.items.is_empty() {
        let msg = "EXPLAIN of a query with WITH, UNWIND or RETURN * is not supported yet";
        return fatal(q.span.start, msg.to_string());
    }
    Ok((rest, Statement::Explain { analyze, inner: Box::new(q) }))
}

/// `history`: `HISTORY entity_ref` or `HISTORY` an edge pattern.
pub(crate) fn history(i: Tokens<'_>) -> PResult<'_, Statement> {
    let (rest, _) = kw("HISTORY")(i)?;
    let (rest, p) = cut(chain).parse(rest)?;
    if !p.hops.is_empty() {
        return Ok((rest, Statement::History(History::Edge(p))));
    }
    match p.start {
        NodePattern { var: None, kind: None, entity: Some(e), ref props, .. } if props.is_empty() => {
            Ok((rest, Statement::History(History::Entity(e))))
        }
        _ => {
            let msg =
                "HISTORY takes an entity reference such as `@x` or an edge pattern such as `(@a)-[:p]->(@b)`";
            fatal(p.span.start, msg.to_string())
        }
    }
}

/// `conflicts`: `CONFLICTS [ABOUT entity_ref] (valid_time | as_of)*`.
pub(crate) fn conflicts(i: Tokens<'_>) -> PResult<'_, Statement> {
    let about = opt(preceded(kw("ABOUT"), cut(entity_ref)));
    let body = (about, |i| time_clauses(i, false));
    let (rest, (about, time)) = preceded(kw("CONFLICTS"), cut(body)).parse(i)?;
    let c = Conflicts { about, valid: time.valid, as_of: time.as_of };
    Ok((rest, Statement::Conflicts(c)))
}

/// `show`: `SHOW ENTITIES [KIND k] [LIKE 'pat'] | PREDICATES | SOURCES | TX [n]`.
pub(crate) fn show(i: Tokens<'_>) -> PResult<'_, Statement> {
    let kind = opt(preceded(kw("KIND"), cut(ident("a kind name"))));
    let like = opt(preceded(kw("LIKE"), cut(map(string, |(s, _)| s))));
    let entities = map(preceded(kw("ENTITIES"), (kind, like)), |(kind, like)| Show::Entities { kind, like });
    let tx = map(preceded(kw("TX"), opt(tx_number)), Show::Tx);
    let what =
        alt((entities, value(Show::Predicates, kw("PREDICATES")), value(Show::Sources, kw("SOURCES")), tx));
    map(preceded(kw("SHOW"), cut(what)), Statement::Show).parse(i)
}

/// `stats`: `STATS`.
pub(crate) fn stats(i: Tokens<'_>) -> PResult<'_, Statement> {
    value(Statement::Stats, kw("STATS")).parse(i)
}
