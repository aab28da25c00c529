//! The planner: assigns row slots to variables, resolves entity references and
//! predicates, picks for each pattern the anchor that binds the fewest rows
//! (a bound variable, an entity reference, a kind, or a predicate's claims, by
//! index counts), expands outward from it through the SPO/OPS orderings, and
//! places each WHERE conjunct right after the operator that binds its last
//! variable.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use super::super::QueryError;
use super::super::ast::{Direction, EdgePattern, Expr, ExprKind, NodePattern, Pattern, Query, Span};
use super::super::value::Val;
use super::ctx::Ctx;
use super::eval::{Scope, entity_ref, eval, semantic};
use super::ops::{
    self, BindPath, BoxOp, Distinct, EdgeScan, EdgeSpec, Expand, Filter, Meter, NodeCheck, NodeScan, Unit,
    VarExpand, Window,
};
use crate::index::KvRead;
use crate::index::keys::{self, Key};
use crate::model::closest;

/// The predicate id of a predicate declared after the snapshot: no posting
/// holds it, so an edge restricted to it matches nothing.
const NO_PREDICATE: u64 = u64::MAX;

/// A planned read: the operator tree and where each variable lives.
pub(crate) struct Planned<'s> {
    pub op: BoxOp<'s>,
    pub scope: Scope,
    pub width: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VarKind {
    Node,
    Edge,
    Path,
}

struct PNode {
    slot: usize,
    check: NodeCheck,
    /// A WHERE conjunct pins the node to an entity no row can hold (a key
    /// no canonical entity has): it anchors with no candidates.
    none: bool,
}

struct PEdge {
    slot: usize,
    /// Speaker or source entities a WHERE conjunct pins this claim to.
    via: Vec<(u8, u64)>,
    spec: EdgeSpec,
    length: Option<(u32, u32)>,
    props: Vec<(String, Expr)>,
    /// WHERE bounds `c.source.published`: the first days of the
    /// publication dates that can pass, as sorted disjoint `[lo, hi)` ranges.
    published: Option<DayRanges>,
}

struct PPattern {
    nodes: Vec<PNode>,
    edges: Vec<PEdge>,
    path_slot: Option<usize>,
}

struct Conjunct {
    expr: Expr,
    text: String,
    vars: Vec<usize>,
}

/// Where a pattern starts: a node, or an edge scanned by predicate (or by a
/// pinned speaker/source, or through the documents of a publication window).
enum Anchor {
    Node(usize),
    Edge(usize, EdgeAnchor),
}

/// How an anchoring edge is scanned.
#[derive(Default)]
struct EdgeAnchor {
    /// The pinned speaker or source whose postings are scanned (None: PSO).
    via: Option<(u8, u64)>,
    /// The documents the edge's publication bounds admit, when planning read
    /// them.
    window: Option<Rc<Window>>,
    /// Scan the window's documents (SRC) instead of the speaker's postings
    /// (BY), keeping the speaker's claims.
    by_window: bool,
}

/// Sorted, disjoint, half-open ranges of day numbers.
pub(crate) type DayRanges = Vec<(i32, i32)>;

/// Sorts and merges ranges, dropping empty ones.
fn normalize(mut v: DayRanges) -> DayRanges {
    v.retain(|(lo, hi)| lo < hi);
    v.sort_unstable();
    let mut out: DayRanges = Vec::with_capacity(v.len());
    for (lo, hi) in v {
        match out.last_mut() {
            Some((_, h)) if lo <= *h => *h = (*h).max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

/// The days in both sets of ranges.
fn intersect(a: &[(i32, i32)], b: &[(i32, i32)]) -> DayRanges {
    let mut out = Vec::new();
    for &(l1, h1) in a {
        for &(l2, h2) in b {
            out.push((l1.max(l2), h1.min(h2)));
        }
    }
    normalize(out)
}

/// A speaker's postings below this count are scanned directly: a window
/// cannot be much cheaper.
const WINDOW_MIN: u64 = 256;

/// What starting a scan at one document costs, in postings read: a range
/// lookup in the index is worth about this many decoded and tested
/// postings (measured with callgrind on the 100k benchmark store: ~12.6 k
/// instructions per document scanned, ~525 per posting of a speaker's scan).
const DOC_COST: u64 = 24;

/// Documents whose postings are counted to estimate a window's postings.
const WINDOW_SAMPLE: usize = 8;

/// Planning counts postings (and kind members) up to this many: enough to
/// order anchors, and a bound on what planning reads.
const ESTIMATE_CAP: u64 = 10_000;

struct Planner<'c, 's> {
    ctx: &'c Ctx<'s>,
    scope: Scope,
    kinds: Vec<(String, VarKind)>,
    width: usize,
    /// Under `RETURN DISTINCT` without aggregates: the slots RETURN and
    /// ORDER BY read (rows equal on every slot still to be read are
    /// duplicates of one result row).
    distinct_reads: Option<HashSet<usize>>,
    /// The slots RETURN and ORDER BY read.
    reads: HashSet<usize>,
    /// Publication windows read while planning, by edge slot (None: more
    /// documents than planning reads).
    windows: RefCell<HashMap<usize, Option<Rc<Window>>>>,
}

/// Plans the patterns and WHERE of a MATCH.
pub(crate) fn plan<'s>(ctx: &Ctx<'s>, q: &Query, src: &str) -> Result<Planned<'s>, QueryError> {
    let mut p = Planner {
        ctx,
        scope: Scope::default(),
        kinds: Vec::new(),
        width: 0,
        distinct_reads: None,
        reads: HashSet::new(),
        windows: RefCell::default(),
    };
    let mut patterns = Vec::new();
    for pat in &q.patterns {
        patterns.push(p.pattern(pat)?);
    }
    p.distinct_reads = p.distinct_reads(q);
    let mut reads = HashSet::new();
    for e in q.items.iter().map(|i| &i.expr).chain(q.order_by.iter().map(|o| &o.expr)) {
        p.expr_slots(e, &mut reads);
    }
    p.reads = reads;
    let mut conjuncts = Vec::new();
    if let Some(filter) = &q.filter {
        check_no_aggregate(filter)?;
        super::run::check_functions(filter)?;
        for e in split_and(filter) {
            let vars = p.vars_of(&e)?;
            let text = src.get(e.span.start..e.span.end).unwrap_or("").to_string();
            conjuncts.push(Conjunct { expr: e, text, vars });
        }
    }
    for c in &conjuncts {
        if let Some((slot, tag, id)) = p.pinned_edge(&c.expr)? {
            for pat in patterns.iter_mut() {
                for e in pat.edges.iter_mut().filter(|e| e.slot == slot) {
                    e.via.push((tag, id));
                }
            }
        }
        // The conjunct stays a filter; a pin only narrows what is scanned.
        if let Some((slot, pin)) = p.pinned_node(&c.expr)? {
            for n in patterns.iter_mut().flat_map(|pat| pat.nodes.iter_mut()).filter(|n| n.slot == slot) {
                match pin {
                    Some(id) if n.check.entity.is_none() => n.check.entity = Some(id),
                    Some(_) => {}
                    None => n.none = true,
                }
            }
        }
        if let Some((slot, days)) = p.published_bound(&c.expr) {
            for e in patterns.iter_mut().flat_map(|pat| pat.edges.iter_mut()).filter(|e| e.slot == slot) {
                e.published = Some(match &e.published {
                    Some(had) => intersect(had, &days),
                    None => days.clone(),
                });
            }
        }
        if let Some((slot, pred, name)) = p.pinned_predicate(&c.expr)? {
            for pat in patterns.iter_mut() {
                for e in pat.edges.iter_mut().filter(|e| e.slot == slot && e.length.is_none()) {
                    if e.spec.preds.is_empty() {
                        (e.spec.preds, e.spec.names) = (vec![pred], vec![name.clone()]);
                    } else if e.spec.preds.contains(&pred) {
                        e.spec.preds.retain(|&p| p == pred);
                        e.spec.names.retain(|n| *n == name);
                    }
                }
            }
        }
    }
    let width = p.width;
    let mut op: BoxOp<'s> = Box::new(Unit { width, done: false });
    let mut bound: HashSet<usize> = HashSet::new();
    op = p.place_filters(op, &bound, &mut conjuncts);
    while !patterns.is_empty() {
        let (i, anchor, estimate) = p.choose(&patterns, &bound)?;
        let pattern = patterns.remove(i);
        let mut later = HashSet::new();
        for pat in &patterns {
            p.pattern_reads(pat.nodes.iter(), pat.edges.iter(), &mut later);
            later.extend(pat.path_slot);
        }
        op = p.build(op, pattern, anchor, estimate, &mut bound, &mut conjuncts, &later)?;
    }
    if let Some(c) = conjuncts.first() {
        return Err(semantic(c.expr.span, "this condition uses a variable no pattern binds"));
    }
    Ok(Planned { op, scope: p.scope, width })
}

fn split_and(e: &Expr) -> Vec<Expr> {
    match &e.kind {
        ExprKind::And(items) => items.iter().flat_map(split_and).collect(),
        _ => vec![e.clone()],
    }
}

/// Rejects aggregates outside RETURN / ORDER BY.
pub(crate) fn check_no_aggregate(e: &Expr) -> Result<(), QueryError> {
    let mut found = None;
    walk(e, &mut |x| {
        if matches!(x.kind, ExprKind::Aggregate { .. }) && found.is_none() {
            found = Some(x.span);
        }
    });
    match found {
        Some(span) => Err(semantic(span, "aggregate functions are only allowed in RETURN and ORDER BY")),
        None => Ok(()),
    }
}

/// Calls `f` on every sub-expression.
pub(crate) fn walk(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    match &e.kind {
        ExprKind::Property { base, .. } => walk(base, f),
        ExprKind::List(items) | ExprKind::And(items) | ExprKind::Or(items) => {
            items.iter().for_each(|i| walk(i, f))
        }
        ExprKind::Not(x) | ExprKind::Neg(x) => walk(x, f),
        ExprKind::IsNull { expr, .. } => walk(expr, f),
        ExprKind::Binary { lhs, rhs, .. } => {
            walk(lhs, f);
            walk(rhs, f);
        }
        ExprKind::Aggregate { arg: Some(a), .. } => walk(a, f),
        ExprKind::Call { args, .. } => args.iter().for_each(|a| walk(a, f)),
        _ => e.cypher_children().into_iter().for_each(|c| walk(c, f)),
    }
}

impl<'c, 's> Planner<'c, 's> {
    fn slot_for(&mut self, name: Option<&str>, kind: VarKind, span: Span) -> Result<usize, QueryError> {
        let Some(name) = name else {
            self.width += 1;
            return Ok(self.width - 1);
        };
        if let Some(&slot) = self.scope.get(name) {
            let had = self.kinds.iter().find(|(n, _)| n == name).map(|(_, k)| *k);
            if had != Some(kind) || kind == VarKind::Path {
                let what = |k: Option<VarKind>| match k {
                    Some(VarKind::Node) => "a node",
                    Some(VarKind::Edge) => "a claim",
                    _ => "a path",
                };
                return Err(semantic(
                    span,
                    format!("variable `{name}` is already bound to {}, not {}", what(had), what(Some(kind))),
                ));
            }
            return Ok(slot);
        }
        self.scope.insert(name.to_string(), self.width);
        self.kinds.push((name.to_string(), kind));
        self.width += 1;
        Ok(self.width - 1)
    }

    fn node(&mut self, n: &NodePattern) -> Result<PNode, QueryError> {
        let span = n.var.as_ref().map_or(n.span, |v| v.span);
        let slot = self.slot_for(n.var.as_ref().map(|v| v.name.as_str()), VarKind::Node, span)?;
        let entity = n.entity.as_ref().map(|r| entity_ref(self.ctx, r)).transpose()?;
        let kind = n.kind.as_ref().map(|k| k.name.clone());
        let props = n.props.iter().map(|e| (e.key.name.clone(), e.value.clone())).collect();
        Ok(PNode { slot, check: NodeCheck { kind, entity, props, entity_only: false }, none: false })
    }

    fn edge(&mut self, e: &EdgePattern) -> Result<PEdge, QueryError> {
        let span = e.var.as_ref().map_or(e.span, |v| v.span);
        let slot = self.slot_for(e.var.as_ref().map(|v| v.name.as_str()), VarKind::Edge, span)?;
        let mut preds = Vec::new();
        let mut names = Vec::new();
        for ident in &e.predicates {
            // A Cypher relationship type in capitals (`:KNOWS`) names the
            // snake_case predicate it folds to (`knows`) when no predicate is
            // spelt so; mixed case (`President_Of`) stays a typo.
            let upper = ident.name.bytes().any(|b| b.is_ascii_uppercase())
                && !ident.name.bytes().any(|b| b.is_ascii_lowercase());
            let found = match self.ctx.snap.predicate_id(&ident.name)? {
                None if upper => self.ctx.snap.predicate_id(&ident.name.to_ascii_lowercase())?,
                found => found,
            };
            match found {
                Some(id) => preds.push(id),
                // Declared only after the snapshot: the edge matches nothing
                // here (an id no posting holds), as an unused predicate would.
                None if self.ctx.snap.at_head().predicate_id(&ident.name)?.is_some() => {
                    preds.push(NO_PREDICATE)
                }
                None => {
                    let known: Vec<String> =
                        self.ctx.snap.predicates()?.into_iter().map(|(_, p)| p.key).collect();
                    let suggestion =
                        closest(&ident.name, known.iter().map(|s| s.as_str())).map(str::to_string);
                    return Err(QueryError::UnknownPredicate {
                        span: ident.span,
                        name: ident.name.clone(),
                        suggestion,
                    });
                }
            }
            names.push(ident.name.clone());
        }
        // `:p|p` is `:p`: one prefix per predicate, or each claim would repeat.
        let mut seen = HashSet::new();
        preds.retain(|p| seen.insert(*p));
        let mut seen = HashSet::new();
        names.retain(|n| seen.insert(n.clone()));
        let length = e.length.as_ref().map(|l| (l.min_hops(), l.max_hops()));
        let props = e.props.iter().map(|p| (p.key.name.clone(), p.value.clone())).collect();
        Ok(PEdge {
            slot,
            via: Vec::new(),
            spec: EdgeSpec { direction: e.direction, preds, names },
            length,
            props,
            published: None,
        })
    }

    fn pattern(&mut self, pat: &Pattern) -> Result<PPattern, QueryError> {
        let mut nodes = vec![self.node(&pat.start)?];
        let mut edges = Vec::new();
        for hop in &pat.hops {
            edges.push(self.edge(&hop.edge)?);
            nodes.push(self.node(&hop.node)?);
        }
        for (k, edge) in edges.iter().enumerate() {
            let subject = match edge.spec.direction {
                Direction::Out => Some(k),
                Direction::In => Some(k + 1),
                Direction::Either => None,
            };
            if let Some(i) = subject {
                nodes[i].check.entity_only = true;
            }
        }
        let path_slot = match &pat.path_var {
            Some(v) => Some(self.slot_for(Some(&v.name), VarKind::Path, v.span)?),
            None => None,
        };
        Ok(PPattern { nodes, edges, path_slot })
    }

    /// Slots a condition reads; unknown variables are errors with a suggestion.
    fn vars_of(&self, e: &Expr) -> Result<Vec<usize>, QueryError> {
        let mut out = Vec::new();
        let mut missing = None;
        walk(e, &mut |x| {
            if let ExprKind::Var(name) = &x.kind {
                match self.scope.get(name) {
                    Some(&s) => out.push(s),
                    None if missing.is_none() => missing = Some((name.clone(), x.span)),
                    None => {}
                }
            }
        });
        if let Some((name, span)) = missing {
            return Err(unknown_variable(&self.scope, &name, span));
        }
        Ok(out)
    }

    fn place_filters(
        &self,
        mut op: BoxOp<'s>,
        bound: &HashSet<usize>,
        pending: &mut Vec<Conjunct>,
    ) -> BoxOp<'s> {
        let mut keep = Vec::new();
        for c in pending.drain(..) {
            if c.vars.iter().all(|v| bound.contains(v)) {
                op = Box::new(Filter {
                    input: op,
                    cond: c.expr,
                    text: c.text,
                    scope: self.scope.clone(),
                    meter: Meter::default(),
                });
            } else {
                keep.push(c);
            }
        }
        *pending = keep;
        op
    }

    fn kind_count(&self, kind: &str) -> Result<u64, QueryError> {
        let prefix = Key::new(keys::KIND).str(kind).into_vec();
        let end = keys::prefix_end(&prefix);
        Ok(self.ctx.snap.kv().range(&prefix, end.as_deref()).take(ESTIMATE_CAP as usize).count() as u64)
    }

    /// Rows a node anchor starts with. A node with no check that an edge
    /// reaches may be a literal object, which only an edge scan finds, so it
    /// is never an anchor then.
    fn node_estimate(
        &self,
        n: &PNode,
        bound: &HashSet<usize>,
        all: u64,
        has_edges: bool,
    ) -> Result<u64, QueryError> {
        Ok(if bound.contains(&n.slot) || n.none {
            0
        } else if n.check.entity.is_some() {
            1
        } else if let Some(k) = &n.check.kind {
            self.kind_count(k)?
        } else if has_edges && n.check.is_empty() {
            u64::MAX
        } else {
            all
        })
    }

    /// `c.by = @x` or `c.source = @x` (either way round): the edge slot, the
    /// ordering that scans it and the entity.
    fn pinned_edge(&self, e: &Expr) -> Result<Option<(usize, u8, u64)>, QueryError> {
        let ExprKind::Binary { op: super::super::ast::BinOp::Eq, lhs, rhs } = &e.kind else {
            return Ok(None);
        };
        for (a, b) in [(lhs, rhs), (rhs, lhs)] {
            let ExprKind::Property { base, path } = &a.kind else { continue };
            let ExprKind::Var(v) = &base.kind else { continue };
            let Some(&slot) = self.scope.get(v) else { continue };
            if !self.kinds.iter().any(|(n, k)| n == v && *k == VarKind::Edge) {
                continue;
            }
            let tag = match path.first().map(|p| p.name.as_str()) {
                Some("by") => keys::BY,
                Some("source") => keys::SRC,
                _ => continue,
            };
            let id = match (&path[1..], &b.kind) {
                ([], ExprKind::Entity(r)) => entity_ref(self.ctx, r)?,
                // `c.by = $s` (an entity value) or `c.by.key = $s`.
                ([], _) => match self.constant(b) {
                    Some(Val::Entity(id)) => id,
                    _ => continue,
                },
                ([key], _) if key.name == "key" => match self.key_pin(b)? {
                    Some(Some(id)) => id,
                    _ => continue,
                },
                _ => continue,
            };
            return Ok(Some((slot, tag, id)));
        }
        Ok(None)
    }

    /// The value of an expression that reads no variable, if it evaluates
    /// (an error is left for the filter to raise, as without the pin).
    fn constant(&self, e: &Expr) -> Option<Val> {
        let mut reads = false;
        walk(e, &mut |x| reads |= matches!(x.kind, ExprKind::Var(_) | ExprKind::Aggregate { .. }));
        if reads {
            return None;
        }
        eval(self.ctx, &Scope::default(), &[], e).ok()
    }

    /// The entity whose `.key` a constant expression names: None if it is
    /// not a constant string, Some(None) if no canonical entity has that key.
    fn key_pin(&self, e: &Expr) -> Result<Option<Option<u64>>, QueryError> {
        let Some(Val::Str(key)) = self.constant(e) else {
            return Ok(None);
        };
        Ok(Some(match self.ctx.snap.declared_entity_id(&key)? {
            Some(id) if self.ctx.canonical(id)? == id => Some(id),
            _ => None,
        }))
    }

    /// `n = <entity>` or `n.key = <string>` (either way round, constants:
    /// literals, parameters, entity references) for a node variable `n`:
    /// the slot and the entity (None: no entity can match).
    fn pinned_node(&self, e: &Expr) -> Result<Option<(usize, Option<u64>)>, QueryError> {
        let ExprKind::Binary { op: super::super::ast::BinOp::Eq, lhs, rhs } = &e.kind else {
            return Ok(None);
        };
        for (a, b) in [(lhs, rhs), (rhs, lhs)] {
            let (v, path) = match &a.kind {
                ExprKind::Var(v) => (v, &[][..]),
                ExprKind::Property { base, path } => match &base.kind {
                    ExprKind::Var(v) => (v, path.as_slice()),
                    _ => continue,
                },
                _ => continue,
            };
            let Some(&slot) = self.scope.get(v) else { continue };
            if !self.kinds.iter().any(|(n, k)| n == v && *k == VarKind::Node) {
                continue;
            }
            match path {
                [] => {
                    if let Some(Val::Entity(id)) = self.constant(b) {
                        return Ok(Some((slot, Some(id))));
                    }
                }
                [key] if key.name == "key" => {
                    if let Some(pin) = self.key_pin(b)? {
                        return Ok(Some((slot, pin)));
                    }
                }
                _ => {}
            }
        }
        Ok(None)
    }

    /// `c.source.published <op> <date>` (a constant date or year; either way
    /// round): the claim slot and the first days a publication date that
    /// can satisfy it starts on (PUB files a date under its first day).
    ///
    /// Dates compare by period (`query/value.rs`): a publication date `p`
    /// passes `p >= d` iff it ends after `d` starts. A date that starts on
    /// or after `d`'s first day does; one that starts before it must contain
    /// that day, and a date is a day, a month (starting on its 1st) or a
    /// year (starting on January 1st): so the only earlier first days that
    /// can pass are the 1st of the month and January 1st of the year that
    /// day falls in.
    fn published_bound(&self, e: &Expr) -> Option<(usize, DayRanges)> {
        use super::super::ast::BinOp;
        let ExprKind::Binary { op, lhs, rhs } = &e.kind else { return None };
        let flip = |op: BinOp| match op {
            BinOp::Lt => BinOp::Gt,
            BinOp::Le => BinOp::Ge,
            BinOp::Gt => BinOp::Lt,
            BinOp::Ge => BinOp::Le,
            other => other,
        };
        for (a, b, op) in [(lhs, rhs, *op), (rhs, lhs, flip(*op))] {
            let ExprKind::Property { base, path } = &a.kind else { continue };
            let (ExprKind::Var(v), [source, published]) = (&base.kind, path.as_slice()) else { continue };
            if source.name != "source" || published.name != "published" {
                continue;
            }
            let Some(&slot) = self.scope.get(v) else { continue };
            if !self.kinds.iter().any(|(n, k)| n == v && *k == VarKind::Edge) {
                continue;
            }
            let d = match self.constant(b)? {
                Val::Date(d) => d,
                Val::Int(y) => crate::model::Date::new(i32::try_from(y).ok()?, None, None).ok()?,
                _ => return None,
            };
            let (first, end) = (d.first_day(), d.end_day());
            // The first days before `first` of the periods containing it.
            let containing = || {
                let day = crate::model::Date::from_day_number(first);
                let starts = [
                    crate::model::Date::new(day.year(), day.month(), None).map(|m| m.first_day()),
                    crate::model::Date::new(day.year(), None, None).map(|y| y.first_day()),
                ];
                starts.into_iter().flatten().filter(|&s| s < first).map(|s| (s, s + 1)).collect::<Vec<_>>()
            };
            let days = match op {
                // p >= d: p ends after d starts.
                BinOp::Ge => [containing(), vec![(first, i32::MAX)]].concat(),
                // p > d: p starts on or after d's end.
                BinOp::Gt => vec![(end, i32::MAX)],
                // p <= d: p starts before d's end.
                BinOp::Le => vec![(i32::MIN, end)],
                // p < d: p ends by d's start, so it starts before it.
                BinOp::Lt => vec![(i32::MIN, first)],
                // p = d: the periods overlap.
                BinOp::Eq => [containing(), vec![(first, end)]].concat(),
                _ => return None,
            };
            return Some((slot, normalize(days)));
        }
        None
    }

    /// `c.predicate = <string>` for a claim variable `c`: the slot and the
    /// predicate, if declared.
    fn pinned_predicate(&self, e: &Expr) -> Result<Option<(usize, u64, String)>, QueryError> {
        let ExprKind::Binary { op: super::super::ast::BinOp::Eq, lhs, rhs } = &e.kind else {
            return Ok(None);
        };
        for (a, b) in [(lhs, rhs), (rhs, lhs)] {
            let ExprKind::Property { base, path } = &a.kind else { continue };
            let (ExprKind::Var(v), [prop]) = (&base.kind, path.as_slice()) else { continue };
            let Some(&slot) = self.scope.get(v) else { continue };
            if prop.name != "predicate" || !self.kinds.iter().any(|(n, k)| n == v && *k == VarKind::Edge) {
                continue;
            }
            if let Some(Val::Str(name)) = self.constant(b)
                && let Some(id) = self.ctx.snap.predicate_id(&name)?
            {
                return Ok(Some((slot, id, name)));
            }
        }
        Ok(None)
    }

    /// Claims an edge scan would read: the fewest of its pinned speaker or
    /// source, else of its predicates. Counting stops at `beat` (the best
    /// anchor so far: an estimate that does not beat it is not used) and at
    /// [`ESTIMATE_CAP`], so an anchored pattern plans without reading a
    /// predicate's postings.
    ///
    /// A speaker's claims under publication bounds may instead be scanned
    /// from the window's documents (their SRC postings, keeping the
    /// speaker's): chosen when the window's documents and their sampled
    /// postings cost less than the speaker's postings.
    fn edge_estimate(&self, e: &PEdge, beat: u64) -> Result<(u64, EdgeAnchor), QueryError> {
        let (n, via) = self.scan_estimate(e, beat)?;
        let mut anchor = EdgeAnchor { via, ..EdgeAnchor::default() };
        let Some(days) = &e.published else {
            return Ok((n, anchor));
        };
        // With merges a claim's source reads as its canonical document,
        // whose date PUB files under another id: no window.
        if self.ctx.any_merges()? {
            return Ok((n, anchor));
        }
        let speaker = matches!(via, Some((keys::BY, _)));
        if !speaker || n < WINDOW_MIN {
            // Narrowing only: the scan reads the window when it starts.
            return Ok((n, anchor));
        }
        anchor.window = self.window(e.slot, days)?;
        let mut n = n;
        if let Some(w) = &anchor.window {
            let docs = w.docs.len() as u64;
            let postings = docs.saturating_mul(w.per_doc);
            if docs.saturating_mul(DOC_COST).saturating_add(postings) < n {
                anchor.by_window = true;
                n = postings;
            }
        }
        Ok((n, anchor))
    }

    /// The documents of an edge's publication window and their postings
    /// per document (sampled), read once per plan; None if the window holds
    /// more than [`ESTIMATE_CAP`] PUB entries.
    fn window(&self, slot: usize, days: &[(i32, i32)]) -> Result<Option<Rc<Window>>, QueryError> {
        if let Some(w) = self.windows.borrow().get(&slot) {
            return Ok(w.clone());
        }
        let w = match ops::documents_published(self.ctx, days, Some(ESTIMATE_CAP as usize))? {
            None => None,
            Some(set) => {
                let mut docs: Vec<u64> = set.iter().copied().collect();
                docs.sort_unstable();
                let step = docs.len().div_ceil(WINDOW_SAMPLE).max(1);
                let (mut seen, mut sampled) = (0u64, 0u64);
                for &d in docs.iter().step_by(step) {
                    seen +=
                        self.ctx.snap.count_postings(Key::new(keys::SRC).u64(d).into_vec(), ESTIMATE_CAP)?;
                    sampled += 1;
                }
                let per_doc = seen.div_ceil(sampled.max(1)).max(1);
                Some(Rc::new(Window { docs: Rc::new(docs), set: Rc::new(set), per_doc }))
            }
        };
        self.windows.borrow_mut().insert(slot, w.clone());
        Ok(w)
    }

    /// [`Planner::edge_estimate`] without windows: the count and the pinned
    /// speaker or source to scan (None: PSO).
    fn scan_estimate(&self, e: &PEdge, beat: u64) -> Result<(u64, Option<(u8, u64)>), QueryError> {
        if e.length.is_some() {
            return Ok((u64::MAX, None));
        }
        let count = |prefixes: Vec<Vec<u8>>, cap: u64| -> Result<u64, QueryError> {
            let mut n = 0;
            for prefix in prefixes {
                if n >= cap {
                    break;
                }
                n += self.ctx.snap.count_postings(prefix, cap - n)?;
            }
            Ok(n)
        };
        let cap = |best: u64| best.min(beat).min(ESTIMATE_CAP);
        let mut best: (u64, Option<(u8, u64)>) = (u64::MAX, None);
        for &(tag, id) in &e.via {
            let prefixes = self.ctx.members(id)?.iter().map(|&m| Key::new(tag).u64(m).into_vec()).collect();
            let n = count(prefixes, cap(best.0))?;
            if n < best.0 {
                best = (n, Some((tag, id)));
            }
        }
        if e.spec.preds.is_empty() {
            // Every claim: worse than any constrained anchor, better than a
            // node that may be a literal.
            return Ok(if best.1.is_some() { best } else { (u64::MAX - 1, None) });
        }
        let prefixes = e.spec.preds.iter().map(|&p| Key::new(keys::PSO).u64(p).into_vec()).collect();
        let n = count(prefixes, cap(best.0))?;
        Ok(if n < best.0 { (n, None) } else { best })
    }

    /// The pattern and anchor with the fewest estimated starting rows.
    fn choose(
        &self,
        patterns: &[PPattern],
        bound: &HashSet<usize>,
    ) -> Result<(usize, Anchor, u64), QueryError> {
        // Scanning every entity is the last resort; its size is not worth
        // decoding every entity record to learn.
        let all = u64::MAX / 4;
        let mut best: Option<(u64, usize, Anchor)> = None;
        for (i, pat) in patterns.iter().enumerate() {
            for (j, n) in pat.nodes.iter().enumerate() {
                let est = self.node_estimate(n, bound, all, !pat.edges.is_empty())?;
                if best.as_ref().is_none_or(|(b, ..)| est < *b) {
                    best = Some((est, i, Anchor::Node(j)));
                }
            }
            for (k, e) in pat.edges.iter().enumerate() {
                let beat = best.as_ref().map_or(u64::MAX, |(b, ..)| *b);
                // An anchor binding at most one row (a bound node, `@x`) is
                // not worth reading postings to beat.
                if beat <= 1 {
                    break;
                }
                let (est, scan) = self.edge_estimate(e, beat)?;
                if best.as_ref().is_none_or(|(b, ..)| est < *b) {
                    best = Some((est, i, Anchor::Edge(k, scan)));
                }
            }
        }
        let (est, i, anchor) = best.ok_or_else(|| semantic(Span::default(), "MATCH needs a pattern"))?;
        Ok((i, anchor, est))
    }

    #[allow(clippy::too_many_arguments)]
    fn build(
        &self,
        mut op: BoxOp<'s>,
        pat: PPattern,
        anchor: Anchor,
        estimate: u64,
        bound: &mut HashSet<usize>,
        filters: &mut Vec<Conjunct>,
        later: &HashSet<usize>,
    ) -> Result<BoxOp<'s>, QueryError> {
        let PPattern { nodes, edges, path_slot } = pat;
        let parts: Vec<usize> = (0..nodes.len())
            .flat_map(|i| std::iter::once(nodes[i].slot).chain(edges.get(i).map(|e| e.slot)))
            .collect();
        let mut nodes: Vec<Option<PNode>> = nodes.into_iter().map(Some).collect();
        let mut edges: Vec<Option<PEdge>> = edges.into_iter().map(Some).collect();
        let (left, right) = match anchor {
            Anchor::Node(j) => {
                let n = nodes[j].take().expect("anchor node");
                op = self.node_scan(op, n, estimate, bound);
                (j, j)
            }
            Anchor::Edge(k, EdgeAnchor { via, window, by_window }) => {
                let (l, e, r) = (nodes[k].take(), edges[k].take(), nodes[k + 1].take());
                let (l, e, r) = (l.expect("left"), e.expect("edge"), r.expect("right"));
                // An end nothing reads (with no check, not bound before, not
                // where a further hop starts) is left unbound: its term is
                // not looked up. The subject of a posting is an entity, so
                // "is an entity" is no check on that side.
                let mut keep = self.reads.clone();
                keep.extend(later);
                filters.iter().for_each(|c| keep.extend(&c.vars));
                self.pattern_reads(nodes.iter().flatten(), edges.iter().flatten(), &mut keep);
                keep.extend(path_slot.map(|_| parts.as_slice()).unwrap_or_default());
                e.props.iter().for_each(|(_, x)| self.expr_slots(x, &mut keep));
                if k > 0 {
                    keep.insert(l.slot);
                }
                if k + 1 < edges.len() {
                    keep.insert(r.slot);
                }
                let free = |n: &PNode, subject: bool| {
                    let c = &n.check;
                    let unchecked = c.kind.is_none() && c.entity.is_none() && c.props.is_empty();
                    unchecked
                        && (subject || !c.entity_only)
                        && !n.none
                        && !bound.contains(&n.slot)
                        && l.slot != r.slot
                        && e.spec.direction != Direction::Either
                        && !keep.contains(&n.slot)
                };
                let bind_left = !free(&l, e.spec.direction == Direction::Out);
                let bind_right = !free(&r, e.spec.direction == Direction::In);
                for s in [l.slot, e.slot, r.slot] {
                    bound.insert(s);
                }
                op = Box::new(EdgeScan {
                    input: op,
                    via,
                    left: l.slot,
                    edge: e.slot,
                    right: r.slot,
                    spec: e.spec,
                    left_check: l.check,
                    right_check: r.check,
                    bind_left,
                    bind_right,
                    edge_props: e.props,
                    scope: self.scope.clone(),
                    estimate,
                    published: e.published,
                    sources: window.as_ref().map(|w| Some(w.set.clone())),
                    window: window.filter(|_| by_window).map(|w| w.docs.clone()),
                    current: None,
                    pending: None,
                    meter: Meter::default(),
                });
                (k, k + 1)
            }
        };
        op = self.place_filters(op, bound, filters);
        let path = path_slot.map(|_| parts.as_slice());
        // The hops left of the anchor expand from its left node afterwards.
        let mut later_right = later.clone();
        if left > 0 {
            later_right.insert(self.slot_of(&parts, left));
        }
        for k in right..edges.len() {
            let from = self.slot_of(&parts, k);
            op = self.semi_join(op, from, bound, filters, &later_right, (&nodes, &edges), path);
            let (e, to) = (edges[k].take().expect("edge"), nodes[k + 1].take().expect("node"));
            // The next hop, if any, expands from `to`.
            let lazy = k + 1 == edges.len()
                && self.unread(&e, &to, bound, filters, &later_right, (&nodes, &edges), path);
            op = self.expand(op, from, e, to, false, bound, lazy)?;
            op = self.place_filters(op, bound, filters);
        }
        for k in (0..left).rev() {
            let from = self.slot_of(&parts, k + 1);
            op = self.semi_join(op, from, bound, filters, later, (&nodes, &edges), path);
            let (e, to) = (edges[k].take().expect("edge"), nodes[k].take().expect("node"));
            let lazy = k == 0 && self.unread(&e, &to, bound, filters, later, (&nodes, &edges), path);
            op = self.expand(op, from, e, to, true, bound, lazy)?;
            op = self.place_filters(op, bound, filters);
        }
        if let Some(slot) = path_slot {
            op = Box::new(BindPath { input: op, slot, parts });
            bound.insert(slot);
            op = self.place_filters(op, bound, filters);
        }
        Ok(op)
    }

    /// The slots `RETURN DISTINCT` reads, when it has no aggregate.
    fn distinct_reads(&self, q: &Query) -> Option<HashSet<usize>> {
        let exprs = || q.items.iter().map(|i| &i.expr).chain(q.order_by.iter().map(|o| &o.expr));
        let mut aggregates = false;
        exprs().for_each(|e| walk(e, &mut |x| aggregates |= matches!(x.kind, ExprKind::Aggregate { .. })));
        if !q.distinct || aggregates {
            return None;
        }
        let mut reads = HashSet::new();
        exprs().for_each(|e| self.expr_slots(e, &mut reads));
        Some(reads)
    }

    /// Slots of the variables an expression names (unknown names aside).
    fn expr_slots(&self, e: &Expr, out: &mut HashSet<usize>) {
        walk(e, &mut |x| {
            if let ExprKind::Var(name) = &x.kind
                && let Some(&slot) = self.scope.get(name)
            {
                out.insert(slot);
            }
        });
    }

    /// Slots of pattern parts and of the variables their property maps read.
    fn pattern_reads<'a>(
        &self,
        nodes: impl Iterator<Item = &'a PNode>,
        edges: impl Iterator<Item = &'a PEdge>,
        out: &mut HashSet<usize>,
    ) {
        for n in nodes {
            out.insert(n.slot);
            n.check.props.iter().for_each(|(_, e)| self.expr_slots(e, out));
        }
        for e in edges {
            out.insert(e.slot);
            e.props.iter().for_each(|(_, x)| self.expr_slots(x, out));
        }
    }

    /// Under `RETURN DISTINCT`, before expanding from `from`: drops rows
    /// equal on every bound slot anything still to run reads (the rest of
    /// this pattern, later patterns, pending conditions, RETURN, ORDER BY).
    #[allow(clippy::too_many_arguments)]
    fn semi_join(
        &self,
        op: BoxOp<'s>,
        from: usize,
        bound: &HashSet<usize>,
        filters: &[Conjunct],
        later: &HashSet<usize>,
        (nodes, edges): (&[Option<PNode>], &[Option<PEdge>]),
        path: Option<&[usize]>,
    ) -> BoxOp<'s> {
        let Some(reads) = &self.distinct_reads else {
            return op;
        };
        let mut keep = reads.clone();
        keep.extend(later);
        keep.insert(from);
        filters.iter().for_each(|c| keep.extend(&c.vars));
        self.pattern_reads(nodes.iter().flatten(), edges.iter().flatten(), &mut keep);
        keep.extend(path.unwrap_or_default());
        let mut slots: Vec<usize> = bound.iter().copied().filter(|s| keep.contains(s)).collect();
        if slots.len() == bound.len() {
            return op;
        }
        slots.sort_unstable();
        Box::new(Distinct { input: op, slots, seen: Default::default(), meter: Meter::default() })
    }

    /// Whether an expansion may leave its far node unbound: a node with no
    /// check, not bound before, reached by one hop, that nothing still to run
    /// reads. (An undirected hop recognises a self-loop read from both sides
    /// by the posting's subject id, so it needs no value either.)
    #[allow(clippy::too_many_arguments)]
    fn unread(
        &self,
        e: &PEdge,
        to: &PNode,
        bound: &HashSet<usize>,
        filters: &[Conjunct],
        later: &HashSet<usize>,
        (nodes, edges): (&[Option<PNode>], &[Option<PEdge>]),
        path: Option<&[usize]>,
    ) -> bool {
        if !to.check.is_empty() || to.none || bound.contains(&to.slot) {
            return false;
        }
        if e.length.is_some() {
            return false;
        }
        let mut keep = self.reads.clone();
        keep.extend(later);
        filters.iter().for_each(|c| keep.extend(&c.vars));
        self.pattern_reads(nodes.iter().flatten(), edges.iter().flatten(), &mut keep);
        keep.extend(path.unwrap_or_default());
        e.props.iter().for_each(|(_, x)| self.expr_slots(x, &mut keep));
        !keep.contains(&to.slot)
    }

    /// The slot of node `i` of a pattern whose slots are `parts`.
    fn slot_of(&self, parts: &[usize], i: usize) -> usize {
        parts[i * 2]
    }

    fn node_scan(&self, op: BoxOp<'s>, n: PNode, estimate: u64, bound: &mut HashSet<usize>) -> BoxOp<'s> {
        let already = bound.contains(&n.slot);
        bound.insert(n.slot);
        if already && n.check.is_empty() {
            return op;
        }
        let candidates = match (already, n.none) {
            (true, _) => None,
            (false, true) => Some(Vec::new()),
            (false, false) => n.check.entity.map(|e| vec![Val::Entity(e)]),
        };
        // `node_estimate`'s mark of a node that may hold a literal object.
        let literals = !already && estimate == u64::MAX;
        Box::new(NodeScan {
            input: op,
            slot: n.slot,
            check: n.check,
            scope: self.scope.clone(),
            candidates,
            literals,
            checks_bound: already,
            estimate,
            row: None,
            meter: Meter::default(),
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn expand(
        &self,
        op: BoxOp<'s>,
        from: usize,
        mut e: PEdge,
        to: PNode,
        reverse: bool,
        bound: &mut HashSet<usize>,
        unread: bool,
    ) -> Result<BoxOp<'s>, QueryError> {
        if reverse {
            e.spec.direction = match e.spec.direction {
                Direction::Out => Direction::In,
                Direction::In => Direction::Out,
                Direction::Either => Direction::Either,
            };
        }
        bound.insert(e.slot);
        bound.insert(to.slot);
        let scope = self.scope.clone();
        Ok(match e.length {
            Some((min, max)) => Box::new(VarExpand {
                input: op,
                from,
                edge: e.slot,
                to: to.slot,
                spec: e.spec,
                min,
                max,
                to_check: to.check,
                edge_props: e.props,
                reverse,
                scope,
                walk: None,
                meter: Meter::default(),
            }),
            None => Box::new(Expand {
                input: op,
                from,
                edge: e.slot,
                to: to.slot,
                spec: e.spec,
                to_check: to.check,
                edge_props: e.props,
                scope,
                bind_to: !unread,
                current: None,
                meter: Meter::default(),
            }),
        })
    }
}

/// "unknown variable `x`", with the nearest known one.
pub(crate) fn unknown_variable(scope: &Scope, name: &str, span: Span) -> QueryError {
    let hint = closest(name, scope.keys().map(|s| s.as_str()))
        .map(|c| format!(", did you mean `{c}`?"))
        .unwrap_or_default();
    semantic(span, format!("unknown variable `{name}`{hint}"))
}
