//! Pull-based operators: each `next` call yields one row (a slot vector) or
//! `None` when done. Expanding operators read posting blocks lazily, so
//! `LIMIT 10` over a million claims touches about ten, and they check the
//! query's budgets for every posting they examine.

use std::rc::Rc;
use std::time::{Duration, Instant};

use super::super::QueryError;
use super::super::ast::{Direction, Expr};
use super::super::value::{DistinctKey, Val, equals};
use super::ctx::{Ctx, FxSet};
use super::eval::{Scope, eval, property, semantic, with_article};
use crate::index::keys::{self, Key};
use crate::index::{IndexError, KvRead, Posting};

pub(crate) type Row = Vec<Val>;
pub(crate) type BoxOp<'s> = Box<dyn Op<'s> + 's>;
type Postings<'s> = Box<dyn Iterator<Item = Result<(Posting, bool), IndexError>> + 's>;

/// One line of an EXPLAIN tree.
#[derive(Debug, Clone)]
pub(crate) struct PlanLine {
    pub depth: usize,
    pub text: String,
    pub estimate: Option<u64>,
    pub rows: u64,
    pub time: Duration,
}

pub(crate) trait Op<'s> {
    fn next(&mut self, ctx: &Ctx<'s>) -> Result<Option<Row>, QueryError>;
    /// Appends this operator and its inputs, outermost first.
    fn explain(&self, depth: usize, out: &mut Vec<PlanLine>);
}

/// Counts rows and time for EXPLAIN ANALYZE.
#[derive(Debug, Default, Clone)]
pub(crate) struct Meter {
    pub rows: u64,
    pub time: Duration,
}

impl Meter {
    /// Adds one `next` call: its time (when timed), and a row if it yielded one.
    fn record(&mut self, start: Option<Instant>, r: &Result<Option<Row>, QueryError>) {
        self.add_time(start);
        if let Ok(Some(_)) = r {
            self.rows += 1;
        }
    }

    fn add_time(&mut self, start: Option<Instant>) {
        if let Some(start) = start {
            self.time += start.elapsed();
        }
    }

    fn line(&self, depth: usize, text: String, estimate: Option<u64>) -> PlanLine {
        PlanLine { depth, text, estimate, rows: self.rows, time: self.time }
    }
}

/// Yields one empty row.
pub(crate) struct Unit {
    pub width: usize,
    pub done: bool,
}

impl<'s> Op<'s> for Unit {
    fn next(&mut self, _: &Ctx<'s>) -> Result<Option<Row>, QueryError> {
        if self.done {
            return Ok(None);
        }
        self.done = true;
        Ok(Some(vec![Val::Null; self.width]))
    }
    fn explain(&self, depth: usize, out: &mut Vec<PlanLine>) {
        out.push(PlanLine { depth, text: "Start".into(), estimate: Some(1), rows: 1, time: Duration::ZERO });
    }
}

/// Checks a candidate node: kind, a fixed entity, property values.
#[derive(Default)]
pub(crate) struct NodeCheck {
    pub kind: Option<String>,
    pub entity: Option<u64>,
    pub props: Vec<(String, Expr)>,
    /// The node is the subject of some edge, so it cannot be a literal.
    pub entity_only: bool,
}

impl NodeCheck {
    pub fn is_empty(&self) -> bool {
        self.kind.is_none() && self.entity.is_none() && self.props.is_empty() && !self.entity_only
    }

    fn accepts(&self, ctx: &Ctx<'_>, scope: &Scope, row: &[Val], v: &Val) -> Result<bool, QueryError> {
        if self.is_empty() {
            return Ok(true);
        }
        let Val::Entity(id) = v else { return Ok(false) };
        if self.entity.is_some_and(|e| e != *id) {
            return Ok(false);
        }
        if let Some(kind) = &self.kind {
            match ctx.entity(*id)? {
                Some(e) if &e.kind == kind => {}
                _ => return Ok(false),
            }
        }
        for (name, want) in &self.props {
            let have = property(ctx, v, name, want.span)?;
            let want = eval(ctx, scope, row, want)?;
            if equals(&have, &want) != Some(true) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(k) = &self.kind {
            parts.push(format!(":{k}"));
        }
        if self.entity.is_some() {
            parts.push("fixed entity".into());
        }
        if self.entity_only && self.kind.is_none() && self.entity.is_none() {
            parts.push("is an entity".into());
        }
        for (n, _) in &self.props {
            parts.push(format!("{{{n}}}"));
        }
        parts.join(" ")
    }
}

/// The term a literal value stands for in the index.
fn literal_term(v: &Val) -> Option<crate::model::Term> {
    use crate::model::Term;
    Some(match v {
        Val::Str(s) => Term::String(s.clone()),
        Val::Int(i) => Term::Int(*i),
        Val::Float(f) => Term::Float(*f),
        Val::Bool(b) => Term::Bool(*b),
        Val::Date(d) => Term::Date(*d),
        _ => return None,
    })
}

/// Binds `slot` to a value (or checks it, when already bound); false if it
/// conflicts with the bound value.
fn bind(row: &mut Row, slot: usize, v: Val) -> bool {
    match &row[slot] {
        Val::Null => {
            row[slot] = v;
            true
        }
        // One variable is one value: 2024 and 2024-02, or 42 and 42.0, are
        // comparable but not the same node.
        bound => *bound == v,
    }
}

/// Binds a node slot to candidate entities: one fixed entity, or every
/// canonical entity (optionally of one kind).
pub(crate) struct NodeScan<'s> {
    pub input: BoxOp<'s>,
    pub slot: usize,
    pub check: NodeCheck,
    pub scope: Scope,
    pub candidates: Option<Vec<Val>>,
    /// The node may be a literal object (no check, reached by an edge, the
    /// subject of none): the literals some visible claim has as its object
    /// are candidates too, so the answer does not depend on the anchor.
    pub literals: bool,
    /// The slot is bound before this operator runs: it only checks it.
    pub checks_bound: bool,
    pub estimate: u64,
    pub row: Option<(Row, usize)>,
    pub meter: Meter,
}

impl<'s> NodeScan<'s> {
    fn candidates(&mut self, ctx: &Ctx<'s>) -> Result<&[Val], QueryError> {
        if self.candidates.is_none() {
            let mut ids = Vec::new();
            if let Some(id) = self.check.entity {
                ids.push(Val::Entity(id));
            } else {
                for (id, e) in ctx.snap.entities()? {
                    if ctx.canonical(id)? == id && self.check.kind.as_ref().is_none_or(|k| &e.kind == k) {
                        ids.push(Val::Entity(id));
                    }
                }
                if self.literals {
                    literal_objects(ctx, &mut ids)?;
                }
            }
            self.candidates = Some(ids);
        }
        Ok(self.candidates.as_deref().unwrap_or(&[]))
    }
}

impl<'s> Op<'s> for NodeScan<'s> {
    fn next(&mut self, ctx: &Ctx<'s>) -> Result<Option<Row>, QueryError> {
        let start = ctx.clock();
        let r = self.pull(ctx);
        self.meter.record(start, &r);
        r
    }
    fn explain(&self, depth: usize, out: &mut Vec<PlanLine>) {
        let what = match (&self.candidates, self.check.entity) {
            (_, Some(_)) => "entity reference",
            (Some(none), None) if none.is_empty() => "no entity",
            _ => "every entity",
        };
        let text = if self.checks_bound {
            format!("Check slot {} {}", self.slot, self.check.describe())
        } else {
            format!("NodeScan slot {} ({what}) {}", self.slot, self.check.describe())
        };
        out.push(self.meter.line(depth, text.trim_end().to_string(), Some(self.estimate)));
        self.input.explain(depth + 1, out);
    }
}

impl<'s> NodeScan<'s> {
    fn pull(&mut self, ctx: &Ctx<'s>) -> Result<Option<Row>, QueryError> {
        loop {
            if self.row.is_none() {
                match self.input.next(ctx)? {
                    Some(r) => self.row = Some((r, 0)),
                    None => return Ok(None),
                }
            }
            let Some((row, i)) = self.row.take() else {
                continue;
            };
            if !matches!(row[self.slot], Val::Null) {
                // Bound by an earlier operator: check it, don't enumerate.
                ctx.tick(1)?;
                if self.check.accepts(ctx, &self.scope, &row, &row[self.slot])? {
                    return Ok(Some(row));
                }
                continue;
            }
            let cands = self.candidates(ctx)?;
            let Some(v) = cands.get(i).cloned() else { continue };
            self.row = Some((row.clone(), i + 1));
            ctx.tick(1)?;
            let mut out = row;
            if self.check.accepts(ctx, &self.scope, &out, &v)? && bind(&mut out, self.slot, v) {
                return Ok(Some(out));
            }
        }
    }
}

/// Appends every literal that is the object of a claim visible to the
/// query (a literal node exists only as such an object).
fn literal_objects(ctx: &Ctx<'_>, out: &mut Vec<Val>) -> Result<(), QueryError> {
    let start = [keys::TERM, keys::TERM_STRING];
    let end = [keys::TERM, keys::TERM_DATE + 1];
    for r in ctx.snap.kv().range(&start, Some(&end)) {
        let (k, v) = r?;
        ctx.tick(1)?;
        let (Some(term), Ok(id)) = (keys::decode_term(&k[1..]), <[u8; 8]>::try_from(&v[..])) else {
            continue;
        };
        let prefix = Key::new(keys::OPS).u64(u64::from_be_bytes(id)).into_vec();
        for p in ctx.snap.postings_owned(prefix, ctx.include_retracted) {
            let p = p?;
            ctx.tick(1)?;
            if in_valid(ctx, &p) {
                out.push(super::ctx::literal_val(&term));
                break;
            }
        }
    }
    Ok(())
}

/// How an expansion reads postings.
#[derive(Debug, Clone)]
pub(crate) struct EdgeSpec {
    pub direction: Direction,
    /// Predicate term ids; empty = any.
    pub preds: Vec<u64>,
    pub names: Vec<String>,
}

impl EdgeSpec {
    /// Postings of claims touching `from` in the spec's direction: an entity
    /// (and its merged members) on either side, a literal only as an object.
    /// The flag says whether `from` is the subject.
    fn postings<'s>(&self, ctx: &Ctx<'s>, from: &Val) -> Result<Postings<'s>, QueryError> {
        let (ids, sides): (Vec<u64>, &[bool]) = match from {
            Val::Entity(id) => (
                ctx.members(*id)?.to_vec(),
                match self.direction {
                    Direction::Out => &[true],
                    Direction::In => &[false],
                    Direction::Either => &[true, false],
                },
            ),
            literal => match (literal_term(literal), self.direction) {
                (Some(t), Direction::In | Direction::Either) => {
                    (ctx.snap.term_id(&keys::term(&t))?.into_iter().collect(), &[false])
                }
                _ => (Vec::new(), &[]),
            },
        };
        let mut prefixes: Vec<(Vec<u8>, bool)> = Vec::new();
        for &is_subject in sides {
            let tag = if is_subject { keys::SPO } else { keys::OPS };
            for &m in &ids {
                if self.preds.is_empty() {
                    prefixes.push((Key::new(tag).u64(m).into_vec(), is_subject));
                } else {
                    for &p in &self.preds {
                        prefixes.push((Key::new(tag).u64(m).u64(p).into_vec(), is_subject));
                    }
                }
            }
        }
        let snap = ctx.snap;
        let retracted = ctx.include_retracted;
        Ok(Box::new(prefixes.into_iter().flat_map(move |(prefix, is_subject)| {
            snap.postings_owned(prefix, retracted).map(move |r| r.map(|p| (p, is_subject)))
        })))
    }

    fn describe(&self) -> String {
        let preds = if self.names.is_empty() { "any predicate".to_string() } else { self.names.join("|") };
        format!("{preds}, {:?}", self.direction)
    }
}

/// From a bound node, follows claims to the node at the other end.
pub(crate) struct Expand<'s> {
    pub input: BoxOp<'s>,
    pub from: usize,
    pub edge: usize,
    pub to: usize,
    pub spec: EdgeSpec,
    pub to_check: NodeCheck,
    pub edge_props: Vec<(String, Expr)>,
    pub scope: Scope,
    /// False when nothing reads `to` (and it has no check): the far end's
    /// term is not looked up and the slot stays null.
    pub bind_to: bool,
    pub current: Option<(Row, Postings<'s>)>,
    pub meter: Meter,
}

impl<'s> Op<'s> for Expand<'s> {
    fn next(&mut self, ctx: &Ctx<'s>) -> Result<Option<Row>, QueryError> {
        let start = ctx.clock();
        let r = self.pull(ctx);
        self.meter.record(start, &r);
        r
    }
    fn explain(&self, depth: usize, out: &mut Vec<PlanLine>) {
        let index = match self.spec.direction {
            Direction::Out => "SPO",
            Direction::In => "OPS",
            Direction::Either => "SPO+OPS",
        };
        let text = format!(
            "Expand slot {} -[slot {}]-> slot {} via {index} ({}) {}",
            self.from,
            self.edge,
            self.to,
            self.spec.describe(),
            self.to_check.describe()
        );
        out.push(self.meter.line(depth, text.trim_end().to_string(), None));
        self.input.explain(depth + 1, out);
    }
}

/// Whether a posting passes the query's valid-time filter.
fn in_valid(ctx: &Ctx<'_>, p: &Posting) -> bool {
    ctx.valid.is_none_or(|v| v.overlaps(&p.valid))
}

/// Checks `{k: v}` properties of an edge pattern against a claim.
fn edge_props_ok(
    ctx: &Ctx<'_>,
    scope: &Scope,
    row: &[Val],
    seq: u64,
    props: &[(String, Expr)],
) -> Result<bool, QueryError> {
    for (name, want) in props {
        let have = property(ctx, &Val::Claim(seq), name, want.span)?;
        let want = eval(ctx, scope, row, want)?;
        if equals(&have, &want) != Some(true) {
            return Ok(false);
        }
    }
    Ok(true)
}

impl<'s> Expand<'s> {
    fn pull(&mut self, ctx: &Ctx<'s>) -> Result<Option<Row>, QueryError> {
        loop {
            if self.current.is_none() {
                let Some(row) = self.input.next(ctx)? else {
                    return Ok(None);
                };
                let postings = self.spec.postings(ctx, &row[self.from])?;
                self.current = Some((row, postings));
            }
            let Some((row, postings)) = self.current.as_mut() else {
                continue;
            };
            let Some(item) = postings.next() else {
                self.current = None;
                continue;
            };
            let (p, from_subject) = item?;
            ctx.tick(1)?;
            if !in_valid(ctx, &p) {
                continue;
            }
            let other = match self.bind_to {
                true => ctx.end_val(&p, from_subject)?,
                false => Val::Null,
            };
            // A self-loop read from both sides counts once: not again from the object side.
            if !from_subject && self.spec.direction == Direction::Either && ctx.self_loop(&p)? {
                continue;
            }
            let mut out = row.clone();
            if !bind(&mut out, self.edge, Val::Claim(p.seq)) {
                continue;
            }
            ctx.note_posting(self.edge, &p);
            if !self.to_check.accepts(ctx, &self.scope, &out, &other)? || !bind(&mut out, self.to, other) {
                continue;
            }
            if !edge_props_ok(ctx, &self.scope, &out, p.seq, &self.edge_props)? {
                continue;
            }
            return Ok(Some(out));
        }
    }
}

/// Scans every claim of some predicates (or all), binding both ends; used
/// when no node of a pattern is anchored.
pub(crate) struct EdgeScan<'s> {
    pub input: BoxOp<'s>,
    /// Scan the claims of one speaker (BY) or source (SRC) instead of PSO.
    pub via: Option<(u8, u64)>,
    pub left: usize,
    pub edge: usize,
    pub right: usize,
    pub spec: EdgeSpec,
    pub left_check: NodeCheck,
    pub right_check: NodeCheck,
    /// False for an end nothing reads (and that has no check): its term is
    /// not looked up and the slot stays null.
    pub bind_left: bool,
    pub bind_right: bool,
    pub edge_props: Vec<(String, Expr)>,
    pub scope: Scope,
    pub estimate: u64,
    /// First days (sorted disjoint `[lo, hi)` ranges) of the publication
    /// dates WHERE can accept for the claim's source: only claims whose
    /// source is a document published then are bound (the WHERE conjuncts
    /// stay and decide).
    pub published: Option<Vec<(i32, i32)>>,
    /// Those documents, read from PUB by the planner or on first use (None
    /// inside: no narrowing, as when entities were merged).
    pub sources: Option<Option<Rc<FxSet<u64>>>>,
    /// Scan these documents' SRC postings instead of the speaker's BY
    /// postings (`via`), keeping the speaker's claims.
    pub window: Option<Rc<Vec<u64>>>,
    pub current: Option<(Row, Postings<'s>)>,
    pub pending: Option<Row>,
    pub meter: Meter,
}

impl<'s> Op<'s> for EdgeScan<'s> {
    fn next(&mut self, ctx: &Ctx<'s>) -> Result<Option<Row>, QueryError> {
        let start = ctx.clock();
        let r = self.pull(ctx);
        self.meter.record(start, &r);
        r
    }
    fn explain(&self, depth: usize, out: &mut Vec<PlanLine>) {
        let index = match (self.via, &self.window) {
            (Some(_), Some(docs)) => {
                &format!("SRC of {} documents in the window (speaker's claims)", docs.len())
            }
            (Some((keys::BY, _)), None) => "BY (speaker)",
            (Some(_), None) => "SRC (source)",
            (None, _) => "PSO",
        };
        let mut text = format!(
            "EdgeScan slot {} -[slot {}]-> slot {} via {index} ({})",
            self.left,
            self.edge,
            self.right,
            self.spec.describe()
        );
        if self.published.is_some() {
            text.push_str(" sources by publication day");
        }
        out.push(self.meter.line(depth, text, Some(self.estimate)));
        self.input.explain(depth + 1, out);
    }
}

impl<'s> EdgeScan<'s> {
    fn scan(&self, ctx: &Ctx<'s>) -> Result<Postings<'s>, QueryError> {
        let prefixes: Vec<Vec<u8>> = if let Some(docs) = &self.window {
            docs.iter().map(|&d| Key::new(keys::SRC).u64(d).into_vec()).collect()
        } else if let Some((tag, id)) = self.via {
            ctx.members(id)?.iter().map(|&m| Key::new(tag).u64(m).into_vec()).collect()
        } else if self.spec.preds.is_empty() {
            vec![Key::new(keys::PSO).into_vec()]
        } else {
            self.spec.preds.iter().map(|&p| Key::new(keys::PSO).u64(p).into_vec()).collect()
        };
        let snap = ctx.snap;
        let retracted = ctx.include_retracted;
        Ok(Box::new(
            prefixes
                .into_iter()
                .flat_map(move |prefix| snap.postings_owned(prefix, retracted).map(|r| r.map(|p| (p, true)))),
        ))
    }

    fn try_bind(&self, ctx: &Ctx<'s>, row: &Row, p: &Posting, flip: bool) -> Result<Option<Row>, QueryError> {
        let mut out = row.clone();
        ctx.note_posting(self.edge, p);
        let ok = bind(&mut out, self.edge, Val::Claim(p.seq))
            && (!self.bind_left || {
                let l = ctx.end_val(p, flip)?;
                self.left_check.accepts(ctx, &self.scope, &out, &l)? && bind(&mut out, self.left, l)
            })
            && (!self.bind_right || {
                let r = ctx.end_val(p, !flip)?;
                self.right_check.accepts(ctx, &self.scope, &out, &r)? && bind(&mut out, self.right, r)
            })
            && edge_props_ok(ctx, &self.scope, &out, p.seq, &self.edge_props)?;
        Ok(ok.then_some(out))
    }

    fn pull(&mut self, ctx: &Ctx<'s>) -> Result<Option<Row>, QueryError> {
        if let Some(r) = self.pending.take() {
            return Ok(Some(r));
        }
        loop {
            if self.current.is_none() {
                let Some(row) = self.input.next(ctx)? else {
                    return Ok(None);
                };
                let scan = self.scan(ctx)?;
                self.current = Some((row, scan));
            }
            let Some((row, postings)) = self.current.as_mut() else {
                continue;
            };
            let Some(item) = postings.next() else {
                self.current = None;
                continue;
            };
            let (p, _) = item?;
            ctx.tick(1)?;
            let wrong_predicate =
                self.via.is_some() && !self.spec.preds.is_empty() && !self.spec.preds.contains(&p.p);
            let wrong_speaker = match (self.via, &self.window) {
                (Some((_, s)), Some(_)) => !ctx.members(s)?.contains(&p.by),
                _ => false,
            };
            if !in_valid(ctx, &p)
                || wrong_predicate
                || wrong_speaker
                || !source_may_pass(ctx, self.published.as_deref(), &mut self.sources, &p)?
            {
                continue;
            }
            let row = row.clone();
            let forward = match self.spec.direction {
                Direction::In => None,
                _ => self.try_bind(ctx, &row, &p, false)?,
            };
            let backward = match self.spec.direction {
                Direction::Out => None,
                Direction::Either if ctx.self_loop(&p)? => None,
                _ => self.try_bind(ctx, &row, &p, true)?,
            };
            match (forward, backward) {
                (Some(f), b) => {
                    self.pending = b;
                    return Ok(Some(f));
                }
                (None, Some(b)) => return Ok(Some(b)),
                (None, None) => {}
            }
        }
    }
}

/// Whether a claim's source can pass publication-date conditions whose
/// first days are `published`; `sources` caches the documents they admit.
fn source_may_pass(
    ctx: &Ctx<'_>,
    published: Option<&[(i32, i32)]>,
    sources: &mut Option<Option<Rc<FxSet<u64>>>>,
    p: &Posting,
) -> Result<bool, QueryError> {
    let Some(days) = published else {
        return Ok(true);
    };
    if sources.is_none() {
        // With merges a claim's source reads as its canonical document,
        // whose date PUB files under another id: no narrowing.
        *sources = Some(match ctx.any_merges()? {
            true => None,
            false => documents_published(ctx, days, None)?.map(Rc::new),
        });
    }
    Ok(match sources.as_ref().and_then(|s| s.as_ref()) {
        Some(docs) => docs.contains(&p.src),
        None => true,
    })
}

/// Every entity PUB ever filed under a first day in one of the `[lo, hi)`
/// ranges (any version, on or off: a superset of the documents published
/// then as of any tx); None if there are more than `cap` entries.
pub(crate) fn documents_published(
    ctx: &Ctx<'_>,
    days: &[(i32, i32)],
    cap: Option<usize>,
) -> Result<Option<FxSet<u64>>, QueryError> {
    let mut out = FxSet::default();
    let mut entries = 0;
    for &(lo, hi) in days {
        if lo >= hi {
            continue;
        }
        let start = Key::new(keys::PUB).i32(lo).into_vec();
        let end = Key::new(keys::PUB).i32(hi).into_vec();
        for r in ctx.snap.kv().range(&start, Some(&end)) {
            let (k, _) = r?;
            entries += 1;
            if cap.is_some_and(|c| entries > c) {
                return Ok(None);
            }
            let mut rd = keys::Reader(&k[1..]);
            rd.i32();
            if let Some(id) = rd.u64() {
                out.insert(id);
            }
        }
    }
    Ok(Some(out))
}

/// The documents PUB files under the first days of a publication window
/// (a superset of those published then, as [`documents_published`] reads).
pub(crate) struct Window {
    /// In id order.
    pub docs: Rc<Vec<u64>>,
    pub set: Rc<FxSet<u64>>,
    /// Visible postings per document, averaged over a sample (at least 1).
    pub per_doc: u64,
}

/// Variable-length expansion: every trail of `min..=max` claims from a bound
/// node; binds the end node and, in the edge slot, the list of claims.
/// Depth-first with an explicit stack of posting scans, one per level, and
/// one row out per step: memory grows with the depth, never with the number
/// of trails.
pub(crate) struct VarExpand<'s> {
    pub input: BoxOp<'s>,
    pub from: usize,
    pub edge: usize,
    pub to: usize,
    pub spec: EdgeSpec,
    pub min: u32,
    pub max: u32,
    pub to_check: NodeCheck,
    pub edge_props: Vec<(String, Expr)>,
    /// The pattern was written from the other end: bind trails end to start.
    pub reverse: bool,
    pub scope: Scope,
    /// The walk from the current input row, if one is under way.
    pub walk: Option<Walk<'s>>,
    pub meter: Meter,
}

/// One depth-first walk: the input row, the claims taken so far, and for
/// each level the scan of the postings still to try there.
pub(crate) struct Walk<'s> {
    row: Row,
    /// `trail.len() == levels.len() - 1`: the last level extends the trail.
    trail: Vec<u64>,
    levels: Vec<Postings<'s>>,
}

impl<'s> Op<'s> for VarExpand<'s> {
    fn next(&mut self, ctx: &Ctx<'s>) -> Result<Option<Row>, QueryError> {
        let start = ctx.clock();
        let r = self.pull(ctx);
        self.meter.record(start, &r);
        r
    }
    fn explain(&self, depth: usize, out: &mut Vec<PlanLine>) {
        let text = format!(
            "VarExpand slot {} -[slot {} *{}..{}]-> slot {} ({})",
            self.from,
            self.edge,
            self.min,
            self.max,
            self.to,
            self.spec.describe()
        );
        out.push(self.meter.line(depth, text, None));
        self.input.explain(depth + 1, out);
    }
}

impl<'s> VarExpand<'s> {
    fn pull(&mut self, ctx: &Ctx<'s>) -> Result<Option<Row>, QueryError> {
        loop {
            let Some(mut walk) = self.walk.take() else {
                let Some(row) = self.input.next(ctx)? else {
                    return Ok(None);
                };
                // A trail starts from whatever the start node holds: an
                // entity, or a literal object (whose claims are read from
                // the object side, as `Expand` reads them).
                let start = row[self.from].clone();
                if matches!(start, Val::Null) {
                    continue;
                }
                let first = match self.min {
                    0 => self.emit(ctx, &row, &[], start.clone())?,
                    _ => None,
                };
                if self.max > 0 {
                    let levels = vec![self.spec.postings(ctx, &start)?];
                    self.walk = Some(Walk { row, trail: Vec::new(), levels });
                }
                match first {
                    Some(out) => return Ok(Some(out)),
                    None => continue,
                }
            };
            let out = self.step(ctx, &mut walk)?;
            if !walk.levels.is_empty() {
                self.walk = Some(walk);
            }
            if out.is_some() {
                return Ok(out);
            }
        }
    }

    /// Tries the next posting of the deepest level: descends, backtracks,
    /// or skips; returns the row of a trail it completed.
    fn step(&self, ctx: &Ctx<'s>, walk: &mut Walk<'s>) -> Result<Option<Row>, QueryError> {
        let Some(level) = walk.levels.last_mut() else {
            return Ok(None);
        };
        let Some(next) = level.next() else {
            walk.levels.pop();
            walk.trail.pop();
            return Ok(None);
        };
        let (p, from_subject) = next?;
        ctx.tick(1)?;
        if !in_valid(ctx, &p) || walk.trail.contains(&p.seq) {
            return Ok(None);
        }
        if !edge_props_ok(ctx, &self.scope, &walk.row, p.seq, &self.edge_props)? {
            return Ok(None);
        }
        // A self-loop read from both sides is one step, as in `Expand`.
        if !from_subject && self.spec.direction == Direction::Either && ctx.self_loop(&p)? {
            return Ok(None);
        }
        let other = ctx.end_val(&p, from_subject)?;
        walk.trail.push(p.seq);
        let depth = walk.trail.len() as u32;
        let out = match depth >= self.min {
            true => self.emit(ctx, &walk.row, &walk.trail, other.clone())?,
            false => None,
        };
        // A trail passes through a literal too: from it, only claims with
        // that object lead on (`postings` reads none for an outgoing step).
        match other {
            Val::Null => {
                walk.trail.pop();
            }
            _ if depth < self.max => walk.levels.push(self.spec.postings(ctx, &other)?),
            _ => {
                walk.trail.pop();
            }
        }
        Ok(out)
    }

    /// The row for one trail ending at `end`, if the end node passes its checks.
    /// A trail of n claims costs n rows of the budget: the rows it binds carry
    /// it whole, so the budget bounds their memory, not just their number.
    fn emit(&self, ctx: &Ctx<'s>, row: &Row, trail: &[u64], end: Val) -> Result<Option<Row>, QueryError> {
        ctx.tick(trail.len() as u64)?;
        let mut claims: Vec<Val> = trail.iter().map(|&s| Val::Claim(s)).collect();
        if self.reverse {
            claims.reverse();
        }
        let mut out = row.clone();
        let ok = bind(&mut out, self.edge, Val::List(claims))
            && self.to_check.accepts(ctx, &self.scope, &out, &end)?
            && bind(&mut out, self.to, end);
        Ok(ok.then_some(out))
    }
}

/// Keeps rows for which a condition is true.
pub(crate) struct Filter<'s> {
    pub input: BoxOp<'s>,
    pub cond: Expr,
    pub text: String,
    pub scope: Scope,
    pub meter: Meter,
}

impl<'s> Op<'s> for Filter<'s> {
    fn next(&mut self, ctx: &Ctx<'s>) -> Result<Option<Row>, QueryError> {
        loop {
            let Some(row) = self.input.next(ctx)? else {
                return Ok(None);
            };
            let start = ctx.clock();
            let keep = eval(ctx, &self.scope, &row, &self.cond)?;
            self.meter.add_time(start);
            match keep {
                Val::Bool(true) => {
                    self.meter.rows += 1;
                    return Ok(Some(row));
                }
                Val::Bool(false) | Val::Null => {}
                other => {
                    return Err(semantic(
                        self.cond.span,
                        format!(
                            "type mismatch: WHERE needs a boolean, got {}",
                            with_article(other.type_name())
                        ),
                    ));
                }
            }
        }
    }
    fn explain(&self, depth: usize, out: &mut Vec<PlanLine>) {
        out.push(self.meter.line(depth, format!("Filter {}", self.text), None));
        self.input.explain(depth + 1, out);
    }
}

/// Assembles a path value from its nodes and edges.
pub(crate) struct BindPath<'s> {
    pub input: BoxOp<'s>,
    pub slot: usize,
    /// Node, edge, node, edge, ..., node slots.
    pub parts: Vec<usize>,
}

impl<'s> Op<'s> for BindPath<'s> {
    fn next(&mut self, ctx: &Ctx<'s>) -> Result<Option<Row>, QueryError> {
        let Some(mut row) = self.input.next(ctx)? else {
            return Ok(None);
        };
        let mut path = vec![row[self.parts[0]].clone()];
        for pair in self.parts[1..].chunks(2) {
            let (edge, node) = (&row[pair[0]], row[pair[1]].clone());
            match edge {
                // A zero-length hop: its end is the node already on the
                // path, not a step of its own.
                Val::List(claims) if claims.is_empty() => continue,
                Val::List(claims) => {
                    for (i, c) in claims.iter().enumerate() {
                        path.push(c.clone());
                        if i + 1 < claims.len() {
                            let prev = path[path.len() - 2].clone();
                            path.push(other_end(ctx, c, &prev)?);
                        }
                    }
                }
                single => path.push(single.clone()),
            }
            path.push(node);
        }
        row[self.slot] = Val::Path(path);
        Ok(Some(row))
    }
    fn explain(&self, depth: usize, out: &mut Vec<PlanLine>) {
        let text = format!("BindPath slot {}", self.slot);
        out.push(PlanLine { depth, text, estimate: None, rows: 0, time: Duration::ZERO });
        self.input.explain(depth + 1, out);
    }
}

/// The end of claim `c` that is not `node`.
fn other_end(ctx: &Ctx<'_>, c: &Val, node: &Val) -> Result<Val, QueryError> {
    let Val::Claim(seq) = c else {
        return Ok(Val::Null);
    };
    let claim = ctx.claim(*seq)?;
    let s = ctx.data_val(&crate::model::Term::Entity(claim.s.clone()))?;
    let o = ctx.data_val(&claim.o)?;
    Ok(if equals(&s, node) == Some(true) { o } else { s })
}

/// Drops rows that repeat an earlier row on `slots`. The planner puts it
/// under `RETURN DISTINCT` where nothing above reads the other slots, so a
/// dropped row could only have repeated result rows (a semi-join: `x -> y ->
/// z` expands each distinct `y` once).
pub(crate) struct Distinct<'s> {
    pub input: BoxOp<'s>,
    pub slots: Vec<usize>,
    pub seen: super::ctx::FxSet<DistinctKey>,
    pub meter: Meter,
}

impl<'s> Op<'s> for Distinct<'s> {
    fn next(&mut self, ctx: &Ctx<'s>) -> Result<Option<Row>, QueryError> {
        loop {
            let Some(row) = self.input.next(ctx)? else {
                return Ok(None);
            };
            let start = ctx.clock();
            let key = DistinctKey(self.slots.iter().map(|&s| row[s].clone()).collect());
            let bytes = super::ctx::row_bytes(&key.0);
            let add = ctx.room(self.seen.len(), self.seen.capacity(), size_of::<DistinctKey>() + 1)?;
            self.seen.reserve(add);
            let new = self.seen.insert(key);
            self.meter.add_time(start);
            if new {
                ctx.charge(bytes)?;
                self.meter.rows += 1;
                return Ok(Some(row));
            }
        }
    }
    fn explain(&self, depth: usize, out: &mut Vec<PlanLine>) {
        let slots: Vec<String> = self.slots.iter().map(|s| format!("slot {s}")).collect();
        out.push(self.meter.line(depth, format!("Distinct on {}", slots.join(", ")), None));
        self.input.explain(depth + 1, out);
    }
}
