//! Multi-part queries: `WITH` and `UNWIND` between the first `MATCH` (or
//! none) and `RETURN`.
//!
//! Each `WITH` runs the RETURN stage of [`super::run`] (projection, implicit
//! grouping, `DISTINCT`, `ORDER BY`, `SKIP`, `LIMIT`) over the rows so far
//! and materialises its result; its `WHERE` then filters the projected rows,
//! and the next part reads only the projected names. `UNWIND` is a pull
//! operator that repeats each row once per list element. Every row
//! materialised or unwound counts against the query's row budget
//! ([`Ctx::tick`]). A `MATCH` after `WITH` / `UNWIND` is not supported yet
//! (the parser says so).

use std::time::Duration;

use super::super::QueryError;
use super::super::ast::{Expr, ExprKind, Ident, Query, ReturnItem, Stage, With};
use super::super::value::{Val, Value};
use super::ctx::Ctx;
use super::eval::{Scope, eval, param_val, semantic, with_article};
use super::ops::{BoxOp, Op, PlanLine, Row};
use super::plan::{Planned, plan, walk};
use super::run::{columns, run};

/// `RETURN *` (a query without items) as the variables in `scope`, sorted
/// by name; other queries unchanged.
pub(crate) fn expand_star(q: &Query, scope: &Scope) -> Result<Query, QueryError> {
    if !q.items.is_empty() {
        return Ok(q.clone());
    }
    let mut names: Vec<&String> = scope.keys().filter(|n| !n.starts_with('\u{1}')).collect();
    if names.is_empty() {
        return Err(semantic(q.span, "RETURN * needs at least one variable in scope"));
    }
    names.sort();
    let items = names
        .into_iter()
        .map(|n| {
            let ident = Ident { name: n.clone(), span: q.span };
            ReturnItem { expr: Expr::new(ExprKind::Var(n.clone()), q.span), alias: Some(ident), span: q.span }
        })
        .collect();
    Ok(Query { items, ..q.clone() })
}

/// Runs a query (with stages, or a plain one), feeding its column names
/// and each final row to `sink`; returns the column names.
pub(crate) fn run_query<'s>(
    ctx: &Ctx<'s>,
    q: &Query,
    src: &str,
    sink: &mut crate::query::engine::RowSink<'_>,
) -> Result<Vec<String>, QueryError> {
    let first = Query { stages: Vec::new(), ..q.clone() };
    let mut planned = plan(ctx, &first, src)?;
    for stage in &q.stages {
        planned = match stage {
            Stage::Unwind { expr, var } => {
                let Planned { op, mut scope, width } = planned;
                let input_scope = scope.clone();
                let slot = width.max(scope.values().copied().max().map_or(0, |m| m + 1));
                scope.insert(var.name.clone(), slot);
                let op = Box::new(Unwind {
                    input: op,
                    scope: input_scope,
                    expr: expr.clone(),
                    slot,
                    pending: Vec::new(),
                    base: None,
                    rows: 0,
                });
                Planned { op, scope, width: slot + 1 }
            }
            Stage::With(w) => with(ctx, w, src, planned)?,
        };
    }
    let q = expand_star(q, &planned.scope)?;
    let names = columns(&q, src);
    run(ctx, &q, planned, &mut |row| sink(&names, row))?;
    Ok(names)
}

/// `q UNION [ALL] q2 ...`: each part in turn (they must name the same
/// columns); `UNION` drops repeated rows of the whole result, `UNION ALL`
/// keeps them.
pub(crate) fn run_union<'s>(
    ctx: &Ctx<'s>,
    q: &Query,
    src: &str,
    sink: &mut crate::query::engine::RowSink<'_>,
) -> Result<Vec<String>, QueryError> {
    let distinct = q.unions.iter().any(|(all, _)| !all);
    let first = Query { unions: Vec::new(), ..q.clone() };
    let parts = std::iter::once(&first).chain(q.unions.iter().map(|(_, p)| p));
    let mut names: Option<Vec<String>> = None;
    let mut seen = std::collections::HashSet::new();
    let mut open = true;
    for part in parts {
        let got = run_query(ctx, part, src, &mut |cols, row| {
            if let Some(n) = &names
                && n.as_slice() != cols
            {
                return Err(semantic(
                    part.span,
                    format!("all parts of a UNION must return the same columns: {n:?} and {cols:?}"),
                ));
            }
            if !open || (distinct && !seen.insert(format!("{row:?}"))) {
                return Ok(open);
            }
            ctx.tick(1)?;
            open = sink(cols, row)?;
            Ok(open)
        })?;
        match &names {
            Some(n) if *n != got => {
                return Err(semantic(
                    part.span,
                    format!("all parts of a UNION must return the same columns: {n:?} and {got:?}"),
                ));
            }
            _ => names = Some(got),
        }
    }
    Ok(names.unwrap_or_default())
}

/// Projects the rows so far through one `WITH`.
fn with<'s>(ctx: &Ctx<'s>, w: &With, src: &str, planned: Planned<'s>) -> Result<Planned<'s>, QueryError> {
    // WITH's WHERE also sees the variables before the projection (Cypher):
    // those it reads ride along as hidden columns, unless the projection
    // groups or is DISTINCT (extra columns would change its rows).
    let visible = w.items.len();
    let mut items = w.items.clone();
    let mut hidden: Vec<String> = Vec::new();
    let mut aggregating = false;
    for i in &w.items {
        walk(&i.expr, &mut |x| aggregating |= matches!(x.kind, ExprKind::Aggregate { .. }));
    }
    if let Some(c) = &w.filter
        && !w.distinct
        && !aggregating
    {
        let projected: Vec<String> = columns(&Query { items: w.items.clone(), ..empty_query() }, src);
        walk(c, &mut |x| {
            if let ExprKind::Var(n) = &x.kind
                && !projected.contains(n)
                && !hidden.contains(n)
                && planned.scope.contains_key(n)
            {
                hidden.push(n.clone());
            }
        });
    }
    for n in &hidden {
        let alias = Ident { name: format!("\u{1}with:{n}"), span: Default::default() };
        let expr = Expr::new(ExprKind::Var(n.clone()), Default::default());
        items.push(ReturnItem { expr, alias: Some(alias), span: Default::default() });
    }
    let part = Query {
        patterns: Vec::new(),
        filter: None,
        stages: Vec::new(),
        unions: Vec::new(),
        distinct: w.distinct,
        items,
        order_by: w.order_by.clone(),
        skip: w.skip.clone(),
        limit: w.limit.clone(),
        time: Default::default(),
        span: Default::default(),
    };
    let names = columns(&part, src);
    let mut rows: Vec<Vec<Value>> = Vec::new();
    run(ctx, &part, planned, &mut |row| {
        ctx.tick(1)?;
        rows.push(row);
        Ok(true)
    })?;
    let mut scope = Scope::default();
    for (slot, name) in names.iter().enumerate().take(visible) {
        scope.insert(name.clone(), slot);
    }
    let mut filter_scope = scope.clone();
    for (k, n) in hidden.iter().enumerate() {
        filter_scope.insert(n.clone(), visible + k);
    }
    let mut kept = Vec::with_capacity(rows.len());
    for row in rows {
        let mut vals: Row = row.iter().map(|v| param_val(ctx, v)).collect();
        if let Some(c) = &w.filter {
            match eval(ctx, &filter_scope, &vals, c)? {
                Val::Bool(true) => {}
                Val::Bool(false) | Val::Null => continue,
                other => {
                    return Err(semantic(
                        c.span,
                        format!("WHERE needs a boolean, got {}", with_article(other.type_name())),
                    ));
                }
            }
        }
        vals.truncate(visible);
        kept.push(vals);
    }
    let width = visible;
    Ok(Planned { op: Box::new(Rows { rows: kept.into_iter(), count: 0 }), scope, width })
}

/// A query with nothing in it, to fill in.
fn empty_query() -> Query {
    Query {
        patterns: Vec::new(),
        filter: None,
        stages: Vec::new(),
        unions: Vec::new(),
        distinct: false,
        items: Vec::new(),
        order_by: Vec::new(),
        skip: None,
        limit: None,
        time: Default::default(),
        span: Default::default(),
    }
}

/// Rows materialised by a `WITH`.
struct Rows {
    rows: std::vec::IntoIter<Row>,
    count: u64,
}

impl<'s> Op<'s> for Rows {
    fn next(&mut self, _: &Ctx<'s>) -> Result<Option<Row>, QueryError> {
        let row = self.rows.next();
        self.count += u64::from(row.is_some());
        Ok(row)
    }
    fn explain(&self, depth: usize, out: &mut Vec<PlanLine>) {
        out.push(PlanLine {
            depth,
            text: "With".into(),
            estimate: None,
            rows: self.count,
            time: Duration::ZERO,
        });
    }
}

/// `UNWIND expr AS var`.
struct Unwind<'s> {
    input: BoxOp<'s>,
    scope: Scope,
    expr: Expr,
    slot: usize,
    /// Elements of the current input row still to emit, last first.
    pending: Vec<Val>,
    base: Option<Row>,
    rows: u64,
}

impl<'s> Op<'s> for Unwind<'s> {
    fn next(&mut self, ctx: &Ctx<'s>) -> Result<Option<Row>, QueryError> {
        loop {
            if let (Some(v), Some(base)) = (self.pending.pop(), &self.base) {
                ctx.tick(1)?;
                let mut row = base.clone();
                row.resize(self.slot + 1, Val::Null);
                row[self.slot] = v;
                self.rows += 1;
                return Ok(Some(row));
            }
            let Some(row) = self.input.next(ctx)? else { return Ok(None) };
            let mut items = match eval(ctx, &self.scope, &row, &self.expr)? {
                Val::Null => Vec::new(),
                Val::List(items) => items,
                other => vec![other],
            };
            items.reverse();
            self.pending = items;
            self.base = Some(row);
        }
    }
    fn explain(&self, depth: usize, out: &mut Vec<PlanLine>) {
        let text = format!("Unwind {}", self.expr);
        out.push(PlanLine { depth, text, estimate: None, rows: self.rows, time: Duration::ZERO });
        self.input.explain(depth + 1, out);
    }
}
