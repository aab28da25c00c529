//! The RETURN stage: projection, Cypher-style implicit grouping with
//! aggregates, DISTINCT, ORDER BY, SKIP and LIMIT. Without ORDER BY or
//! aggregates rows stream straight from the operators to the sink.

use std::cmp::Ordering;

use super::super::QueryError;
use super::super::ast::{AggFunc, Expr, ExprKind, Query};
use super::super::value::{DistinctKey, Val, Value, sort_hash};
use super::ctx::{Ctx, FxMap, FxSet, row_bytes, val_bytes};
use super::eval::{FUNCTIONS, Scope, eval, semantic, with_article};
use super::ops::Row;
use super::plan::{Planned, check_no_aggregate, unknown_variable, walk};
use crate::model::{Term, closest};

/// Receives result rows; returns false to stop early.
pub(crate) type Sink<'a> = dyn FnMut(Vec<Value>) -> Result<bool, QueryError> + 'a;

struct AggSpec {
    func: AggFunc,
    distinct: bool,
    arg: Option<Expr>,
}

/// A RETURN item prepared for execution.
struct Item {
    expr: Expr,
    has_agg: bool,
}

/// Column names of a query: aliases, else the item's source text.
pub(crate) fn columns(q: &Query, src: &str) -> Vec<String> {
    q.items
        .iter()
        .map(|i| match &i.alias {
            Some(a) => a.name.clone(),
            None => src.get(i.expr.span.start..i.expr.span.end).unwrap_or("?").trim().to_string(),
        })
        .collect()
}

/// Replaces aggregate calls by `\u{1}agg<i>` variables, collecting them.
fn extract_aggs(e: &Expr, aggs: &mut Vec<AggSpec>) -> Result<Expr, QueryError> {
    let mut out = e.clone();
    rewrite(&mut out, aggs)?;
    Ok(out)
}

fn rewrite(e: &mut Expr, aggs: &mut Vec<AggSpec>) -> Result<(), QueryError> {
    if let ExprKind::Aggregate { func, distinct, arg } = &e.kind {
        if let Some(a) = arg {
            check_no_aggregate(a).map_err(|_| semantic(a.span, "aggregate functions cannot be nested"))?;
        }
        aggs.push(AggSpec { func: *func, distinct: *distinct, arg: arg.as_deref().cloned() });
        e.kind = ExprKind::Var(format!("\u{1}agg{}", aggs.len() - 1));
        return Ok(());
    }
    match &mut e.kind {
        ExprKind::Property { base, .. } => rewrite(base, aggs),
        ExprKind::List(items) | ExprKind::And(items) | ExprKind::Or(items) => {
            items.iter_mut().try_for_each(|i| rewrite(i, aggs))
        }
        ExprKind::Not(x) | ExprKind::Neg(x) => rewrite(x, aggs),
        ExprKind::IsNull { expr, .. } => rewrite(expr, aggs),
        ExprKind::Binary { lhs, rhs, .. } => {
            rewrite(lhs, aggs)?;
            rewrite(rhs, aggs)
        }
        ExprKind::Call { args, .. } => args.iter_mut().try_for_each(|a| rewrite(a, aggs)),
        _ => e.cypher_children_mut().into_iter().try_for_each(|c| rewrite(c, aggs)),
    }
}

fn has_aggregate(e: &Expr) -> bool {
    let mut found = false;
    walk(e, &mut |x| found |= matches!(x.kind, ExprKind::Aggregate { .. }));
    found
}

/// Checks that every variable an expression reads is bound.
fn check_vars(scope: &Scope, e: &Expr) -> Result<(), QueryError> {
    let mut missing = None;
    walk(e, &mut |x| {
        if let ExprKind::Var(name) = &x.kind
            && !scope.contains_key(name)
            && !name.starts_with('\u{1}')
            && missing.is_none()
        {
            missing = Some((name.clone(), x.span));
        }
    });
    match missing {
        Some((name, span)) => Err(unknown_variable(scope, &name, span)),
        None => Ok(()),
    }
}

fn count_arg(ctx: &Ctx<'_>, e: Option<&Expr>) -> Result<Option<u64>, QueryError> {
    let Some(e) = e else { return Ok(None) };
    match eval(ctx, &Scope::default(), &[], e)? {
        Val::Int(n) if n >= 0 => Ok(Some(n as u64)),
        other => Err(semantic(
            e.span,
            match other {
                Val::Int(n) => format!("SKIP and LIMIT need a non-negative integer, got {n}"),
                other => format!(
                    "SKIP and LIMIT need a non-negative integer, got {}",
                    with_article(other.type_name())
                ),
            },
        )),
    }
}

/// Runs a planned MATCH to completion, feeding rows to `sink`.
pub(crate) fn run<'s>(
    ctx: &Ctx<'s>,
    q: &Query,
    planned: Planned<'s>,
    sink: &mut Sink<'_>,
) -> Result<(), QueryError> {
    let Planned { mut op, scope, .. } = planned;
    let items: Vec<Item> =
        q.items.iter().map(|i| Item { expr: i.expr.clone(), has_agg: has_aggregate(&i.expr) }).collect();
    for i in &q.items {
        check_vars(&scope, &i.expr)?;
        check_functions(&i.expr)?;
    }
    let aggregating = items.iter().any(|i| i.has_agg);
    for o in &q.order_by {
        check_functions(&o.expr)?;
        if alias_index(&aliases_of(q), &o.expr).is_none() {
            check_vars(&scope, &o.expr)?;
        }
        if !aggregating && has_aggregate(&o.expr) {
            return Err(semantic(o.expr.span, "ORDER BY can use an aggregate only when RETURN aggregates"));
        }
    }
    let skip = count_arg(ctx, q.skip.as_ref())?.unwrap_or(0);
    let limit = count_arg(ctx, q.limit.as_ref())?;
    let aliases: Vec<Option<String>> =
        q.items.iter().map(|i| i.alias.as_ref().map(|a| a.name.clone())).collect();
    let mut out = Output { skip, limit, seen: FxSet::default(), distinct: q.distinct, emitted: 0 };

    if items.iter().any(|i| i.has_agg) {
        let rows = aggregate(ctx, &scope, &items, &mut op)?;
        let rows = order_columns(q, &aliases, rows)?;
        for r in rows {
            if !out.push(ctx, r, sink)? {
                break;
            }
        }
        return Ok(());
    }
    if q.order_by.is_empty() {
        while let Some(row) = op.next(ctx)? {
            let vals = project(ctx, &scope, &items, &row)?;
            if !out.push(ctx, vals, sink)? {
                break;
            }
        }
        return Ok(());
    }
    // `ORDER BY … LIMIT k` (without DISTINCT, which may drop rows after
    // the sort) keeps only the first skip + k rows seen so far.
    let keep = match (limit, q.distinct) {
        (Some(l), false) => Some(skip.saturating_add(l)),
        _ => None,
    };
    let mut top = TopK::new(q, keep);
    while let Some(row) = op.next(ctx)? {
        let vals = project(ctx, &scope, &items, &row)?;
        let mut keys = Vec::with_capacity(q.order_by.len());
        for o in &q.order_by {
            keys.push(match alias_index(&aliases, &o.expr) {
                Some(i) => vals[i].clone(),
                None => eval(ctx, &scope, &row, &o.expr)?,
            });
        }
        top.push(ctx, keys, vals)?;
    }
    for vals in top.into_sorted() {
        if !out.push(ctx, vals, sink)? {
            break;
        }
    }
    Ok(())
}

/// Rows awaiting ORDER BY: all of them, or with a bound only the first
/// `keep` in sort order (a max-heap whose top is the worst row kept). Ties
/// keep the order rows arrived in, as the stable full sort does, so the
/// bounded and the full sort give the same rows. Kept rows are charged
/// against the memory budget.
struct TopK<'q> {
    q: &'q Query,
    keep: Option<u64>,
    heap: std::collections::BinaryHeap<Ranked<'q>>,
    seq: u64,
}

/// A row with its sort keys and arrival number, ordered for [`TopK`].
struct Ranked<'q> {
    q: &'q Query,
    keys: Vec<Val>,
    seq: u64,
    vals: Vec<Val>,
    bytes: u64,
}

impl PartialEq for Ranked<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Ranked<'_> {}
impl PartialOrd for Ranked<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_keys(self.q, &self.keys, &other.keys).then(self.seq.cmp(&other.seq))
    }
}

impl<'q> TopK<'q> {
    fn new(q: &'q Query, keep: Option<u64>) -> TopK<'q> {
        TopK { q, keep, heap: std::collections::BinaryHeap::new(), seq: 0 }
    }

    fn push(&mut self, ctx: &Ctx<'_>, keys: Vec<Val>, vals: Vec<Val>) -> Result<(), QueryError> {
        let seq = self.seq;
        self.seq += 1;
        if self.keep == Some(0) {
            return Ok(());
        }
        let row = Ranked { q: self.q, bytes: row_bytes(&keys) + row_bytes(&vals), keys, seq, vals };
        if let Some(k) = self.keep
            && self.heap.len() as u64 >= k
        {
            // Full: the row replaces the worst kept one if it sorts before it.
            if self.heap.peek().is_some_and(|worst| row < *worst) {
                if let Some(worst) = self.heap.pop() {
                    ctx.release(worst.bytes);
                }
            } else {
                return Ok(());
            }
        }
        ctx.charge(row.bytes)?;
        let add = ctx.room(self.heap.len(), self.heap.capacity(), size_of::<Ranked>())?;
        self.heap.reserve_exact(add);
        self.heap.push(row);
        Ok(())
    }

    /// The kept rows' values, in sort order.
    fn into_sorted(self) -> impl Iterator<Item = Vec<Val>> {
        self.heap.into_sorted_vec().into_iter().map(|r| r.vals)
    }
}

fn aliases_of(q: &Query) -> Vec<Option<String>> {
    q.items.iter().map(|i| i.alias.as_ref().map(|a| a.name.clone())).collect()
}

/// Rejects calls to functions the language does not have, before any row.
pub(crate) fn check_functions(e: &Expr) -> Result<(), QueryError> {
    let mut bad = None;
    walk(e, &mut |x| {
        if let ExprKind::Call { name, .. } = &x.kind
            && !FUNCTIONS.contains(&name.name.to_lowercase().as_str())
            && bad.is_none()
        {
            bad = Some((name.name.clone(), name.span));
        }
    });
    match bad {
        Some((name, span)) => {
            let hint = closest(&name, FUNCTIONS.iter().copied()).map(|c| format!(", did you mean `{c}`?"));
            Err(semantic(span, format!("unknown function `{name}`{}", hint.unwrap_or_default())))
        }
        None => Ok(()),
    }
}

fn compare_keys(q: &Query, a: &[Val], b: &[Val]) -> Ordering {
    for (i, o) in q.order_by.iter().enumerate() {
        let c = a[i].sort_cmp(&b[i]);
        let c = if o.descending { c.reverse() } else { c };
        if c != Ordering::Equal {
            return c;
        }
    }
    Ordering::Equal
}

fn alias_index(aliases: &[Option<String>], e: &Expr) -> Option<usize> {
    match &e.kind {
        ExprKind::Var(name) => aliases.iter().position(|a| a.as_deref() == Some(name)),
        _ => None,
    }
}

fn project(ctx: &Ctx<'_>, scope: &Scope, items: &[Item], row: &Row) -> Result<Vec<Val>, QueryError> {
    items.iter().map(|i| eval(ctx, scope, row, &i.expr)).collect()
}

/// Sorts aggregated rows by ORDER BY keys that name RETURN columns.
fn order_columns(
    q: &Query,
    aliases: &[Option<String>],
    mut rows: Vec<Vec<Val>>,
) -> Result<Vec<Vec<Val>>, QueryError> {
    let mut idx = Vec::new();
    for o in &q.order_by {
        let by_text = q.items.iter().position(|i| i.expr == o.expr);
        match alias_index(aliases, &o.expr).or(by_text) {
            Some(i) => idx.push(i),
            None => {
                return Err(semantic(
                    o.expr.span,
                    "in an aggregating query, ORDER BY must name a RETURN column",
                ));
            }
        }
    }
    rows.sort_by(|a, b| {
        for (o, &i) in q.order_by.iter().zip(&idx) {
            let c = a[i].sort_cmp(&b[i]);
            let c = if o.descending { c.reverse() } else { c };
            if c != Ordering::Equal {
                return c;
            }
        }
        Ordering::Equal
    });
    Ok(rows)
}

/// A group key ordered by [`Val::sort_cmp`].
#[derive(Debug, Clone)]
struct GroupKey(Vec<Val>);

impl PartialEq for GroupKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for GroupKey {}
impl PartialOrd for GroupKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for GroupKey {
    fn cmp(&self, other: &Self) -> Ordering {
        for (a, b) in self.0.iter().zip(&other.0) {
            let c = a.sort_cmp(b);
            if c != Ordering::Equal {
                return c;
            }
        }
        self.0.len().cmp(&other.0.len())
    }
}

/// A value hashed consistently with [`Val::sort_cmp`] equality.
struct SortKey(Val);

impl std::hash::Hash for SortKey {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        sort_hash(&self.0, h);
    }
}
impl PartialEq for SortKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.sort_cmp(&other.0) == Ordering::Equal
    }
}
impl Eq for SortKey {}

/// One grouping column: its expression and the distinct values seen so far.
/// `v.predicate` of an edge bound from a posting is looked up by the
/// predicate's term id, without building the name per row.
struct KeyColumn<'q> {
    expr: &'q Expr,
    /// The row slot of `v` when the column is `v.predicate`.
    predicate_of: Option<usize>,
    vals: Vec<Val>,
    by_val: FxMap<SortKey, u32>,
    by_term: FxMap<u64, u32>,
}

impl<'q> KeyColumn<'q> {
    fn new(scope: &Scope, expr: &'q Expr) -> KeyColumn<'q> {
        let predicate_of = match &expr.kind {
            ExprKind::Property { base, path } if path.len() == 1 && path[0].name == "predicate" => {
                match &base.kind {
                    ExprKind::Var(name) => scope.get(name).copied(),
                    _ => None,
                }
            }
            _ => None,
        };
        KeyColumn {
            expr,
            predicate_of,
            vals: Vec::new(),
            by_val: FxMap::default(),
            by_term: FxMap::default(),
        }
    }

    /// The index of this row's value in the column.
    fn index(&mut self, ctx: &Ctx<'_>, scope: &Scope, row: &Row) -> Result<u32, QueryError> {
        let posting = match self.predicate_of.and_then(|slot| row.get(slot)) {
            Some(Val::Claim(seq)) => ctx.posting(*seq),
            _ => None,
        };
        if let Some(p) = posting
            && let Some(&i) = self.by_term.get(&p.p)
        {
            return Ok(i);
        }
        let k = SortKey(eval(ctx, scope, row, self.expr)?);
        let i = match self.by_val.get(&k) {
            Some(&i) => i,
            None => {
                // The value twice (list and map) and the map's slot.
                ctx.charge(2 * val_bytes(&k.0) + 16)?;
                let i = self.vals.len() as u32;
                self.vals.push(k.0.clone());
                self.by_val.insert(k, i);
                i
            }
        };
        // Only a name the posting's term gives is the same for every claim
        // with that term id.
        if let Some(p) = posting
            && matches!(*ctx.term(p.p)?, Term::String(_))
        {
            self.by_term.insert(p.p, i);
        }
        Ok(i)
    }
}

#[derive(Debug, Clone, Default)]
struct Acc {
    count: i64,
    values: Vec<Val>,
    seen: std::collections::BTreeSet<GroupKey>,
}

fn aggregate<'s>(
    ctx: &Ctx<'s>,
    scope: &Scope,
    items: &[Item],
    op: &mut super::ops::BoxOp<'s>,
) -> Result<Vec<Vec<Val>>, QueryError> {
    let mut specs = Vec::new();
    let mut rewritten = Vec::new();
    for i in items {
        rewritten.push(if i.has_agg { extract_aggs(&i.expr, &mut specs)? } else { i.expr.clone() });
    }
    for (i, r) in items.iter().zip(&rewritten) {
        if i.has_agg {
            let mut outside = None;
            walk(r, &mut |x| {
                if let ExprKind::Var(n) = &x.kind
                    && !n.starts_with('\u{1}')
                    && outside.is_none()
                {
                    outside = Some(x.span);
                }
            });
            if let Some(span) = outside {
                return Err(semantic(span, "a RETURN item cannot mix an aggregate with ungrouped variables"));
            }
        }
    }
    // Each grouping column interns its values (equal under `sort_cmp` →
    // one index), so a group is found by hashing a few integers; groups are
    // sorted by their values at the end, the order a tree of keys gave.
    let mut columns: Vec<KeyColumn> =
        items.iter().filter(|i| !i.has_agg).map(|i| KeyColumn::new(scope, &i.expr)).collect();
    let mut index: FxMap<Vec<u32>, usize> = FxMap::default();
    let mut groups: Vec<(Vec<u32>, Vec<Acc>)> = Vec::new();
    let grouping = !columns.is_empty();
    let mut key: Vec<u32> = Vec::with_capacity(columns.len());
    while let Some(row) = op.next(ctx)? {
        key.clear();
        for c in &mut columns {
            key.push(c.index(ctx, scope, &row)?);
        }
        let g = match index.get(key.as_slice()) {
            Some(&g) => g,
            None => {
                // The key twice (map and group list) and the accumulators.
                ctx.charge(2 * (48 + 4 * key.len() as u64) + (specs.len() * size_of::<Acc>()) as u64)?;
                let add = ctx.room(groups.len(), groups.capacity(), size_of::<(Vec<u32>, Vec<Acc>)>())?;
                groups.reserve_exact(add);
                let add = ctx.room(index.len(), index.capacity(), size_of::<(Vec<u32>, usize)>() + 1)?;
                index.reserve(add);
                index.insert(key.clone(), groups.len());
                groups.push((key.clone(), vec![Acc::default(); specs.len()]));
                groups.len() - 1
            }
        };
        let accs = &mut groups[g].1;
        for (spec, acc) in specs.iter().zip(accs.iter_mut()) {
            let v = match &spec.arg {
                None => Val::Bool(true),
                Some(a) => eval(ctx, scope, &row, a)?,
            };
            if matches!(v, Val::Null) {
                continue;
            }
            if spec.distinct {
                let bytes = row_bytes(std::slice::from_ref(&v)) + 32;
                if !acc.seen.insert(GroupKey(vec![v.clone()])) {
                    continue;
                }
                ctx.charge(bytes)?;
            }
            acc.count += 1;
            if spec.func != AggFunc::Count {
                ctx.charge(val_bytes(&v))?;
                let add = ctx.room(acc.values.len(), acc.values.capacity(), size_of::<Val>())?;
                acc.values.reserve_exact(add);
                acc.values.push(v);
            }
        }
    }
    if groups.is_empty() && !grouping {
        groups.push((Vec::new(), vec![Acc::default(); specs.len()]));
    }
    let mut groups: Vec<(Vec<Val>, Vec<Acc>)> = groups
        .into_iter()
        .map(|(k, accs)| (k.iter().zip(&columns).map(|(&i, c)| c.vals[i as usize].clone()).collect(), accs))
        .collect();
    groups.sort_by(|a, b| {
        a.0.iter()
            .zip(&b.0)
            .map(|(x, y)| x.sort_cmp(y))
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(Ordering::Equal)
    });
    let mut agg_scope = Scope::default();
    for i in 0..specs.len() {
        agg_scope.insert(format!("\u{1}agg{i}"), i);
    }
    let mut rows = Vec::with_capacity(groups.len());
    for (key, accs) in groups {
        let finals: Vec<Val> =
            specs.iter().zip(&accs).map(|(s, a)| finish(s, a)).collect::<Result<_, _>>()?;
        let mut key_iter = key.into_iter();
        let mut row = Vec::with_capacity(items.len());
        for (i, r) in items.iter().zip(&rewritten) {
            row.push(if i.has_agg {
                eval(ctx, &agg_scope, &finals, r)?
            } else {
                key_iter.next().unwrap_or(Val::Null)
            });
        }
        rows.push(row);
    }
    Ok(rows)
}

fn finish(spec: &AggSpec, acc: &Acc) -> Result<Val, QueryError> {
    let span = spec.arg.as_ref().map(|a| a.span).unwrap_or_default();
    let numbers = || -> Result<Vec<f64>, QueryError> {
        acc.values
            .iter()
            .map(|v| match v {
                Val::Int(i) => Ok(*i as f64),
                Val::Float(f) => Ok(*f),
                other => Err(semantic(
                    span,
                    format!(
                        "type mismatch: sum and avg need numbers, got {}",
                        with_article(other.type_name())
                    ),
                )),
            })
            .collect()
    };
    Ok(match spec.func {
        AggFunc::Count => Val::Int(acc.count),
        AggFunc::Collect => Val::List(acc.values.clone()),
        AggFunc::Min => acc.values.iter().min_by(|a, b| a.sort_cmp(b)).cloned().unwrap_or(Val::Null),
        AggFunc::Max => acc.values.iter().max_by(|a, b| a.sort_cmp(b)).cloned().unwrap_or(Val::Null),
        AggFunc::Sum => {
            if acc.values.iter().all(|v| matches!(v, Val::Int(_))) {
                let mut total: i64 = 0;
                for v in &acc.values {
                    if let Val::Int(i) = v {
                        total =
                            total.checked_add(*i).ok_or_else(|| semantic(span, "integer overflow in sum"))?;
                    }
                }
                Val::Int(total)
            } else {
                Val::Float(numbers()?.iter().sum())
            }
        }
        AggFunc::Avg => {
            let n = numbers()?;
            if n.is_empty() { Val::Null } else { Val::Float(n.iter().sum::<f64>() / n.len() as f64) }
        }
        AggFunc::StDev | AggFunc::StDevP => {
            super::aggregates::stdev(&numbers()?, spec.func == AggFunc::StDevP)
        }
        AggFunc::PercentileCont | AggFunc::PercentileDisc => {
            super::aggregates::percentile(&acc.values, spec.func == AggFunc::PercentileCont, span)?
        }
    })
}

/// Applies DISTINCT, SKIP and LIMIT on the way to the sink.
struct Output {
    skip: u64,
    limit: Option<u64>,
    seen: FxSet<DistinctKey>,
    distinct: bool,
    emitted: u64,
}

impl Output {
    fn push(&mut self, ctx: &Ctx<'_>, vals: Vec<Val>, sink: &mut Sink<'_>) -> Result<bool, QueryError> {
        if self.limit.is_some_and(|l| self.emitted >= l) {
            return Ok(false);
        }
        if self.distinct {
            let bytes = row_bytes(&vals);
            let add = ctx.room(self.seen.len(), self.seen.capacity(), size_of::<DistinctKey>() + 1)?;
            self.seen.reserve(add);
            if !self.seen.insert(DistinctKey(vals.clone())) {
                return Ok(true);
            }
            ctx.charge(bytes)?;
        }
        if self.skip > 0 {
            self.skip -= 1;
            return Ok(true);
        }
        let row: Vec<Value> = vals.iter().map(|v| ctx.resolve(v)).collect::<Result<_, _>>()?;
        self.emitted += 1;
        let more = sink(row)?;
        Ok(more && self.limit.is_none_or(|l| self.emitted < l))
    }
}
