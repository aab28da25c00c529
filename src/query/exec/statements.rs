//! The statements besides MATCH and the writes: EXPLAIN, HISTORY, CONFLICTS,
//! SHOW and STATS.

use std::collections::BTreeMap;

use super::super::QueryError;
use super::super::ast::{Conflicts, History, Query, Show};
use super::super::engine::QueryResult;
use super::super::value::{Val, Value};
use super::ctx::{Ctx, FxMap, FxSet, Params};
use super::eval::{entity_ref, semantic};
use super::ops::PlanLine;
use super::plan::plan;
use super::run::run;
use crate::index::Posting;
use crate::index::keys::{self, Key};
use crate::model::{Claim, DayRange, Stance};
use crate::store::ReadView;

fn result(columns: &[&str], rows: Vec<Vec<Value>>) -> QueryResult {
    QueryResult { columns: columns.iter().map(|c| c.to_string()).collect(), rows, ..QueryResult::default() }
}

fn s(v: impl Into<String>) -> Value {
    Value::String(v.into())
}

fn opt(v: Option<&String>) -> Value {
    v.map_or(Value::Null, |x| s(x.clone()))
}

/// `EXPLAIN` / `EXPLAIN ANALYZE` / `PROFILE`: the operator tree, outermost
/// first, with estimated rows and (when analysed) actual rows and time.
pub(crate) fn explain(ctx: &Ctx<'_>, q: &Query, src: &str, analyze: bool) -> Result<QueryResult, QueryError> {
    let planned = plan(ctx, q, src)?;
    let mut names: Vec<String> = vec!["_".into(); planned.width];
    for (name, &slot) in &planned.scope {
        names[slot] = name.clone();
    }
    let mut lines: Vec<PlanLine> = Vec::new();
    let mut returned = 0u64;
    if analyze {
        // Run through a shared handle so the meters fill, then read the tree back.
        let super::plan::Planned { op, scope, width } = planned;
        let shared = MeterHandle::new(op);
        ctx.time_operators();
        let started = std::time::Instant::now();
        let planned = super::plan::Planned { op: Box::new(shared.clone()), scope, width };
        run(ctx, q, planned, &mut |_| {
            returned += 1;
            Ok(true)
        })?;
        shared.explain_into(&mut lines);
        lines.insert(
            0,
            PlanLine {
                depth: 0,
                text: format!("Return ({} rows)", returned),
                estimate: None,
                rows: returned,
                time: started.elapsed(),
            },
        );
        for l in lines.iter_mut().skip(1) {
            l.depth += 1;
        }
    } else {
        planned.op.explain(1, &mut lines);
        lines.insert(
            0,
            PlanLine { depth: 0, text: "Return".into(), estimate: None, rows: 0, time: Default::default() },
        );
    }
    let rows = lines
        .into_iter()
        .map(|l| {
            let mut text = format!("{}{}", "  ".repeat(l.depth), name_slots(&l.text, &names));
            if let Some(e) = l.estimate {
                text.push_str(&format!("  (estimated {e} rows)"));
            }
            if analyze {
                text.push_str(&format!("  [actual {} rows, {:.3} ms]", l.rows, l.time.as_secs_f64() * 1e3));
            }
            vec![s(text)]
        })
        .collect();
    let mut r = result(&["plan"], rows);
    if analyze {
        r.message = Some(format!("examined {} postings and rows", ctx.examined()));
    }
    Ok(r)
}

/// Replaces `slot N` in plan text by the variable living there.
fn name_slots(text: &str, names: &[String]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("slot ") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 5..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        match after[..digits].parse::<usize>().ok().and_then(|n| names.get(n)) {
            Some(name) => out.push_str(&format!("({name})")),
            None => out.push_str(&rest[i..i + 5 + digits]),
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// Shares an operator tree between the executor and EXPLAIN ANALYZE.
#[derive(Clone)]
struct MeterHandle<'s>(std::rc::Rc<std::cell::RefCell<super::ops::BoxOp<'s>>>);

impl<'s> MeterHandle<'s> {
    fn new(op: super::ops::BoxOp<'s>) -> MeterHandle<'s> {
        MeterHandle(std::rc::Rc::new(std::cell::RefCell::new(op)))
    }
    fn explain_into(&self, out: &mut Vec<PlanLine>) {
        self.0.borrow().explain(0, out);
    }
}

impl<'s> super::ops::Op<'s> for MeterHandle<'s> {
    fn next(&mut self, ctx: &Ctx<'s>) -> Result<Option<super::ops::Row>, QueryError> {
        self.0.borrow_mut().next(ctx)
    }
    fn explain(&self, depth: usize, out: &mut Vec<PlanLine>) {
        self.0.borrow().explain(depth, out);
    }
}

fn claim_row(ctx: &Ctx<'_>, c: &Claim) -> Result<Vec<Value>, QueryError> {
    Ok(vec![
        s(c.id.clone()),
        s(c.to_string()),
        entity(ctx, c.by.as_deref())?,
        entity(ctx, c.source.as_deref())?,
        s(c.stance.as_str()),
        s(c.valid.to_string()),
    ])
}

/// An entity a claim names by key, as a typed value (null for none).
fn entity(ctx: &Ctx<'_>, key: Option<&str>) -> Result<Value, QueryError> {
    match key {
        Some(k) => term(ctx, &crate::model::Term::Entity(k.to_string())),
        None => Ok(Value::Null),
    }
}

/// A claim's end (an entity or a literal) as a typed value.
fn term(ctx: &Ctx<'_>, t: &crate::model::Term) -> Result<Value, QueryError> {
    Ok(ctx.resolve(&ctx.data_val(t)?)?)
}

/// Which claims an edge HISTORY keeps: predicate, the two ends, direction.
struct EdgeFilter {
    preds: Vec<String>,
    start: u64,
    other: Option<u64>,
    direction: super::super::ast::Direction,
}

impl EdgeFilter {
    fn keeps(&self, ctx: &Ctx<'_>, c: &Claim) -> Result<bool, QueryError> {
        use super::super::ast::Direction;
        if !self.preds.is_empty() && !self.preds.contains(&c.p) {
            return Ok(false);
        }
        let s = ctx.data_val(&crate::model::Term::Entity(c.s.clone()))?;
        let o = ctx.data_val(&c.o)?;
        let runs = |from: &Val, to: &Val| {
            *from == Val::Entity(self.start) && self.other.is_none_or(|x| *to == Val::Entity(x))
        };
        Ok(match self.direction {
            Direction::Out => runs(&s, &o),
            Direction::In => runs(&o, &s),
            Direction::Either => runs(&s, &o) || runs(&o, &s),
        })
    }
}

/// `HISTORY @x` or `HISTORY (@a)-[:p]->(@b)`: every event, oldest first.
pub(crate) fn history(view: &ReadView, params: &Params, h: &History) -> Result<QueryResult, QueryError> {
    let ctx = Ctx::new(view.index(), params, Default::default(), None);
    let (subject, filter): (u64, Option<EdgeFilter>) = match h {
        History::Entity(r) => (entity_ref(&ctx, r)?, None),
        History::Edge(p) => {
            let Some(r) = &p.start.entity else {
                return Err(semantic(p.start.span, "HISTORY needs an entity reference here, e.g. (@russia)"));
            };
            let hop = p.hops.first().ok_or_else(|| semantic(p.span, "HISTORY of an edge needs one edge"))?;
            let start = entity_ref(&ctx, r)?;
            let filter = EdgeFilter {
                preds: hop.edge.predicates.iter().map(|i| i.name.clone()).collect(),
                start,
                other: hop.node.entity.as_ref().map(|r| entity_ref(&ctx, r)).transpose()?,
                direction: hop.edge.direction,
            };
            (start, Some(filter))
        }
    };
    // An entity declared after the view has no history in it yet.
    let entries = match view.index().key_of(subject)? {
        Some(key) => view.history(&key)?,
        None => Vec::new(),
    };
    let mut rows = Vec::new();
    for e in entries {
        if let Some(filter) = &filter {
            let Some(c) = &e.claim else { continue };
            if !filter.keeps(&ctx, c)? {
                continue;
            }
        }
        let mut row =
            vec![Value::Int(e.tx as i64), Value::Timestamp(e.recorded_at), s(e.op), s(e.author.clone())];
        match &e.claim {
            Some(c) => row.extend(claim_row(&ctx, c)?),
            None => row.extend([
                Value::Null,
                s(e.detail.clone()),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
            ]),
        }
        if e.op == "retract" {
            row[5] = s(e.detail.clone());
        }
        rows.push(row);
    }
    Ok(result(
        &["tx", "recorded_at", "event", "author", "claim", "what", "by", "source", "stance", "valid"],
        rows,
    ))
}

/// `CONFLICTS`: live claims that contradict each other with overlapping valid
/// time: the same (s, p, o) asserted or suggested against denied, and, for
/// functional predicates, one subject with two different objects.
pub(crate) fn conflicts(ctx: &Ctx<'_>, c: &Conflicts) -> Result<QueryResult, QueryError> {
    let pairs = conflict_pairs(ctx, c)?;
    let mut rows = Vec::with_capacity(pairs.len());
    for pair in pairs {
        let subject = entity(ctx, Some(&pair.subject))?;
        let mut row = vec![s(pair.kind), subject, s(pair.claim.p.clone())];
        for c in [&pair.claim, &pair.other] {
            row.extend([
                s(c.id.clone()),
                s(c.stance.as_str()),
                term(ctx, &c.o)?,
                entity(ctx, c.by.as_deref())?,
                entity(ctx, c.source.as_deref())?,
            ]);
        }
        row.push(s(pair.overlap.to_string()));
        rows.push(row);
    }
    let columns = [
        "conflict",
        "subject",
        "predicate",
        "claim",
        "stance",
        "object",
        "by",
        "source",
        "other_claim",
        "other_stance",
        "other_object",
        "other_by",
        "other_source",
        "overlap",
    ];
    Ok(result(&columns, rows))
}

/// Two live claims that contradict each other, as CONFLICTS finds them.
pub(crate) struct ConflictPair {
    /// `stance` or `functional`.
    pub kind: &'static str,
    /// The canonical key of the subject (through merges).
    pub subject: String,
    /// The earlier claim (for a stance conflict, the one not denying).
    pub claim: std::rc::Rc<Claim>,
    pub other: std::rc::Rc<Claim>,
    /// Where their valid times overlap.
    pub overlap: DayRange,
}

/// The contradictions CONFLICTS reports, ordered by the two claims' seqs.
pub(crate) fn conflict_pairs(ctx: &Ctx<'_>, c: &Conflicts) -> Result<Vec<ConflictPair>, QueryError> {
    let (postings, touching) = candidate_postings(ctx, c)?;
    let mut by_sp: FxMap<(u64, u64), Vec<Posting>> = FxMap::default();
    for p in postings {
        by_sp.entry((ctx.canonical(p.s)?, p.p)).or_default().push(p);
    }
    let functional: Vec<u64> =
        ctx.snap.predicates()?.into_iter().filter(|(_, p)| p.functional).map(|(id, _)| id).collect();
    // Every pair is within one (subject, predicate); pairs are sorted below,
    // so the order the groups are visited in does not matter.
    let mut pairs: Vec<(&'static str, Posting, Posting, DayRange)> = Vec::new();
    for ((_, p), group) in &by_sp {
        // Stance: only a group with a denial can hold one; its claims are
        // grouped by object value (so an entity and what merged into it, or
        // 1 and 1.0, are one object).
        if group.iter().any(|p| p.stance == Stance::Denies) {
            for same in same_object(ctx, group)? {
                for a in same.iter().filter(|p| p.stance != Stance::Denies) {
                    for b in same.iter().filter(|p| p.stance == Stance::Denies) {
                        if let Some(overlap) = overlap(ctx, a, b) {
                            pairs.push(("stance", **a, **b, overlap));
                        }
                    }
                }
            }
        }
        if !functional.contains(p) {
            continue;
        }
        // A functional pair is (earlier claim, later claim).
        let mut live: Vec<&Posting> = group.iter().filter(|p| p.stance != Stance::Denies).collect();
        live.sort_by_key(|p| p.seq);
        let merges = ctx.any_merges()?;
        for (i, a) in live.iter().enumerate() {
            for b in &live[i + 1..] {
                let Some(overlap) = overlap(ctx, a, b) else { continue };
                // Without merges two terms are two values, and one term one
                // value (NaN aside, which differs from itself).
                let differ = match (merges, a.o == b.o) {
                    (false, false) => true,
                    (false, true) => matches!(ctx.end_val(a, true)?, Val::Float(f) if f.is_nan()),
                    (true, _) => ctx.end_val(a, true)? != ctx.end_val(b, true)?,
                };
                if differ {
                    pairs.push(("functional", **a, **b, overlap));
                }
            }
        }
    }
    if let Some(touching) = &touching {
        pairs.retain(|(_, a, b, _)| touching.contains(&a.seq) || touching.contains(&b.seq));
    }
    pairs.sort_by_key(|(_, a, b, _)| (a.seq, b.seq));
    let mut out = Vec::with_capacity(pairs.len());
    for (kind, a, b, overlap) in pairs {
        let (claim, other) = (ctx.claim(a.seq)?, ctx.claim(b.seq)?);
        let subject = match &*ctx.term(ctx.canonical(a.s)?)? {
            crate::model::Term::Entity(k) => k.clone(),
            _ => claim.s.clone(),
        };
        out.push(ConflictPair { kind, subject, claim, other, overlap });
    }
    Ok(out)
}

/// Orders values for grouping.
#[derive(Debug, Clone, PartialEq)]
struct Val2(Val);
impl Eq for Val2 {}
impl PartialOrd for Val2 {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Val2 {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.sort_cmp(&other.0)
    }
}

/// Claims of one (subject, predicate) grouped by object value (as
/// [`Val2`] orders them). Without merges two object terms are one value only
/// if they are one term, or an integer and a float of equal value (1 and
/// 1.0); so the claims are grouped by term id, reading only the terms of
/// denied objects, and a number's group takes in its twin of the other type.
fn same_object<'p>(ctx: &Ctx<'_>, group: &'p [Posting]) -> Result<Vec<Vec<&'p Posting>>, QueryError> {
    use crate::model::Term;
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53: every integer up to it is a float
    let mut by_id = !ctx.any_merges()?;
    let mut twins: FxMap<u64, u64> = FxMap::default();
    if by_id {
        for p in group.iter().filter(|p| p.stance == Stance::Denies) {
            let twin = match ctx.end_val(p, true)? {
                Val::Int(i) if (i as f64).abs() <= EXACT => Term::Float(i as f64),
                Val::Float(f) if f.fract() == 0.0 && f.abs() <= EXACT => Term::Int(f as i64),
                Val::Int(_) | Val::Float(_) => {
                    by_id = false;
                    break;
                }
                _ => continue,
            };
            if let Some(t) = ctx.snap.term_id(&keys::term(&twin))? {
                twins.insert(t.max(p.o), t.min(p.o));
                twins.insert(t.min(p.o), t.min(p.o));
            }
        }
    }
    if by_id {
        let mut by_o: FxMap<u64, Vec<&Posting>> = FxMap::default();
        for p in group {
            by_o.entry(twins.get(&p.o).copied().unwrap_or(p.o)).or_default().push(p);
        }
        return Ok(by_o.into_values().collect());
    }
    let mut by_o: BTreeMap<Val2, Vec<&Posting>> = BTreeMap::new();
    for p in group {
        by_o.entry(Val2(ctx.end_val(p, true)?)).or_default().push(p);
    }
    Ok(by_o.into_values().collect())
}

fn overlap(ctx: &Ctx<'_>, a: &Posting, b: &Posting) -> Option<DayRange> {
    let both = a.valid.intersect(&b.valid)?;
    match ctx.valid {
        Some(v) => both.intersect(&v),
        None => Some(both),
    }
}

/// The claims CONFLICTS compares, and (with ABOUT) the seqs of those that
/// touch the entity: a pair is kept when either side touches it. For a
/// functional predicate the subject's other claims of that predicate join in,
/// since they conflict with a claim about the entity without touching it.
fn candidate_postings(
    ctx: &Ctx<'_>,
    c: &Conflicts,
) -> Result<(Vec<Posting>, Option<FxSet<u64>>), QueryError> {
    // Each claim once (a self-loop is in both SPO and OPS), in no particular order.
    let mut seen: FxSet<u64> = FxSet::default();
    let mut scan = |prefix: Vec<u8>, out: &mut Vec<Posting>| -> Result<(), QueryError> {
        for p in ctx.snap.postings_owned(prefix, false) {
            ctx.tick(1)?;
            let p = p?;
            if seen.insert(p.seq) {
                out.push(p);
            }
        }
        Ok(())
    };
    let mut out: Vec<Posting> = Vec::new();
    let touching = match &c.about {
        Some(r) => {
            let id = entity_ref(ctx, r)?;
            for &m in ctx.members(id)?.iter() {
                scan(Key::new(keys::SPO).u64(m).into_vec(), &mut out)?;
                scan(Key::new(keys::OPS).u64(m).into_vec(), &mut out)?;
            }
            let touching: FxSet<u64> = out.iter().map(|p| p.seq).collect();
            let functional: FxSet<u64> =
                ctx.snap.predicates()?.into_iter().filter(|(_, p)| p.functional).map(|(id, _)| id).collect();
            let mut subjects: Vec<(u64, u64)> =
                out.iter().filter(|p| functional.contains(&p.p)).map(|p| (p.s, p.p)).collect();
            subjects.sort();
            subjects.dedup();
            for (subject, pred) in subjects {
                for &m in ctx.members(ctx.canonical(subject)?)?.iter() {
                    scan(Key::new(keys::SPO).u64(m).u64(pred).into_vec(), &mut out)?;
                }
            }
            Some(touching)
        }
        None => {
            scan(Key::new(keys::PSO).into_vec(), &mut out)?;
            None
        }
    };
    Ok((out, touching))
}

fn like(pattern: &str, text: &str) -> bool {
    fn go(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('%', rest)) => (0..=t.len()).any(|i| go(rest, &t[i..])),
            Some(('_', rest)) => !t.is_empty() && go(rest, &t[1..]),
            Some((c, rest)) => t.first().is_some_and(|x| x == c) && go(rest, &t[1..]),
        }
    }
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    go(&p, &t)
}

fn count(view: &ReadView, prefix: Vec<u8>) -> Result<i64, QueryError> {
    Ok(view.index().count_postings(prefix, u64::MAX)? as i64)
}

/// `SHOW ENTITIES | PREDICATES | SOURCES | TX`.
pub(crate) fn show(view: &ReadView, what: &Show) -> Result<QueryResult, QueryError> {
    let snap = view.index();
    Ok(match what {
        Show::Entities { kind, like: pattern } => {
            let mut rows = Vec::new();
            for (id, e) in snap.entities()? {
                if kind.as_ref().is_some_and(|k| k.name != e.kind) {
                    continue;
                }
                if pattern.as_ref().is_some_and(|p| !like(p, &e.name) && !like(p, &e.key)) {
                    continue;
                }
                let merged = snap.merged_into(id)?.map(|into| snap.key_of(into)).transpose()?.flatten();
                let aliases = Value::List(e.aliases.iter().map(|a| s(a.clone())).collect());
                rows.push(vec![
                    s(e.key.clone()),
                    s(e.name.clone()),
                    s(e.kind.clone()),
                    aliases,
                    opt(merged.as_ref()),
                ]);
            }
            result(&["key", "name", "kind", "aliases", "merged_into"], rows)
        }
        Show::Predicates => {
            let mut rows = Vec::new();
            for (id, p) in snap.predicates()? {
                let n = count(view, Key::new(keys::PSO).u64(id).into_vec())?;
                rows.push(vec![
                    s(p.key),
                    Value::Bool(p.functional),
                    Value::Int(n),
                    opt(p.description.as_ref()),
                ]);
            }
            result(&["predicate", "functional", "claims", "description"], rows)
        }
        Show::Sources => {
            let mut rows = Vec::new();
            for (id, e) in snap.entities()? {
                let Some(d) = &e.document else { continue };
                let n = count(view, Key::new(keys::SRC).u64(id).into_vec())?;
                let published = d.published.map_or(Value::Null, Value::Date);
                rows.push(vec![
                    s(e.key.clone()),
                    opt(d.title.as_ref()),
                    opt(d.publisher.as_ref()),
                    published,
                    Value::Int(n),
                ]);
            }
            result(&["source", "title", "publisher", "published", "claims"], rows)
        }
        Show::Tx(n) => {
            let txs: Vec<u64> = match n {
                Some(n) => vec![*n],
                None => (1..=view.at()).collect(),
            };
            let mut rows = Vec::new();
            for tx in txs {
                let Some(m) = view.transaction(tx)? else {
                    return Err(semantic(
                        Default::default(),
                        format!("there is no tx {tx} (the last is tx {})", view.at()),
                    ));
                };
                rows.push(vec![
                    Value::Int(m.tx as i64),
                    Value::Timestamp(m.recorded_at),
                    s(m.author),
                    opt(m.message.as_ref()),
                    Value::Int(m.events as i64),
                    s(m.hash.to_string()),
                ]);
            }
            result(&["tx", "recorded_at", "author", "message", "events", "hash"], rows)
        }
    })
}

/// `STATS`.
pub(crate) fn stats(view: &ReadView, bytes: u64) -> Result<QueryResult, QueryError> {
    let st = view.stats()?;
    let rows = [
        ("transactions", st.transactions),
        ("entities", st.entities),
        ("documents", st.documents),
        ("predicates", st.predicates),
        ("claims_live", st.claims_live),
        ("claims_retracted", st.claims_retracted),
        ("bytes_on_disk", bytes),
    ]
    .into_iter()
    .map(|(k, v)| vec![s(k), Value::Int(v as i64)])
    .collect();
    Ok(result(&["stat", "value"], rows))
}
