//! Differential property test of the query engine: random small graphs are
//! committed through the store API, random MATCH queries are generated as
//! *text* from a restricted template space, and the rows the engine returns
//! (`Session::execute`, rendered with `Value`'s `Display`) must equal, as a
//! multiset, the rows of a brute-force evaluator over the reference model of
//! the core store's tests (`reference/mod.rs`, a naive fold of the log). A
//! query the evaluator rejects (an unknown `@key` or predicate as of the
//! query's tx, `AS OF` beyond the head, a backwards `VALID DURING`) must fail
//! in the engine too; messages are not compared.
//!
//! The graphs: 5 to 8 entities of 2 or 3 kinds, one or two documents, 3 or 4
//! predicates (most declared up front), then 3 to 8 transactions of claims
//! (entity and literal objects, speakers, sources, stances, confidences,
//! valid times of year/month/day precision with open ends, `said_at`),
//! retractions, entity updates, merges and unmerges.
//!
//! The template space: a chain of 1 to 3 edges; each edge out / in / either,
//! with a predicate, two alternatives or any predicate, sometimes a property
//! map, sometimes variable-length (`*1..1`, `*1..2`, `*2..2`, `*1..3`, and
//! zero-length hops `*0..1`, `*0..2`; trails start from, pass through and
//! end at literal objects like any node); sometimes a path variable `p =`
//! whose `length(p)` is returned; nodes with optional kind labels, `@key` references and property
//! maps, the last node sometimes the first one again (a cycle); WHERE trees
//! of `= <> < > <= >= IN IS [NOT] NULL AND OR NOT` over claim properties
//! (stance, tx, valid_from/to, said_at, confidence, predicate, by, source,
//! source.published, retracted_tx), entity properties (name, kind, key) and
//! node values;
//! RETURN [DISTINCT] of variables and properties, or Cypher-style implicit
//! grouping with `count(*)`, `count(x)`, `count(DISTINCT x)`, `min`/`max`,
//! `sum`/`avg` and `collect` (compared sorted); `AS OF TX n`, `VALID AT d` /
//! `VALID DURING d1 .. d2`, `INCLUDE RETRACTED`.
//!
//! The evaluator is written from the language's documented rules
//! (`grammar/claimgraph.ebnf`, `query/value.rs`, `exec/eval.rs`), not from the
//! planner. Semantic decisions, where the documents leave room, are marked
//! `SEMANTICS:` below.
//!
//! The engine bugs this test found are kept as named regression tests at the
//! end of the file (`#[ignore]`d while open; none is open now: the last,
//! bug 7, was fixed in 2d85008, and self-loops, its shape, are generated
//! like any other graph since; the variable-length, zero-length and
//! path shapes fail within 300 cases on the engine before issue 13's fixes,
//! whose reproducers are `a_variable_length_edge_…` and `a_zero_length_hop_…`
//! in `tests/query_api.rs`). `PROPTEST_CASES=2000` digs deeper than the
//! default 24 cases (45 s of CPU in a debug build); `PROP_QUERY_STATS=1` with
//! `--nocapture` prints each query and whether it had rows.

mod common;
use common::*;

mod reference;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use claimgraph::model::{Claim, Date, DayRange, DocumentEvent, EntityEvent, Event, Stance, Term, ValidTime};
use claimgraph::{Session, Store, Transaction, Value};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use reference::{Reference, State};

// ---------------------------------------------------------------- data

const KEYS: [&str; 8] = ["e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7"];
const DOCS: [&str; 2] = ["d0", "d1"];
const KINDS: [&str; 3] = ["Person", "Org", "Country"];
/// Entity names; `None` leaves the name equal to the key. No name folds to a
/// key, so `@key` always means the key. Two entities may share a name.
const NAMES: [Option<&str>; 6] =
    [None, Some("Alpha"), Some("Beta"), Some("Gamma Group"), Some("alpha"), None];
const TITLES: [&str; 2] = ["Report One", "Weekly Notes"];
const PREDICATES: [&str; 4] = ["knows", "owns", "cites", "located_in"];

/// Literal objects: every type, dates of every precision, a string that looks
/// like a key, an integer and a float that are equal (`42`, `42.0`) and dates
/// whose periods overlap (`2024`, `2024-02`, `2024-02-29`).
fn literals() -> Vec<Term> {
    vec![
        Term::String("hello".into()),
        Term::String("e1".into()),
        Term::Int(0),
        Term::Int(42),
        Term::Int(-7),
        Term::Float(0.5),
        Term::Float(42.0),
        Term::Bool(true),
        Term::Date(date("2024")),
        Term::Date(date("2024-02")),
        Term::Date(date("2024-02-29")),
        Term::Date(date("2025-03-04")),
    ]
}

fn date(text: &str) -> Date {
    text.parse().expect("a valid date")
}

// ---------------------------------------------------------------- graph seeds

#[derive(Debug, Clone, Copy)]
struct DateSeed {
    year: i32,
    month: u32,
    day: u32,
    precision: u8,
}

impl DateSeed {
    fn date(self) -> Date {
        match self.precision {
            0 => Date::new(self.year, None, None),
            1 => Date::new(self.year, Some(self.month), None),
            _ => Date::ymd(self.year, self.month, self.day).or_else(|_| Date::ymd(self.year, self.month, 28)),
        }
        .expect("a valid date seed")
    }
}

fn date_seed() -> impl Strategy<Value = DateSeed> {
    (2023i32..=2026, 1u32..=12, 1u32..=31, 0u8..3).prop_map(|(year, month, day, precision)| DateSeed {
        year,
        month,
        day,
        precision,
    })
}

/// Always, one period, or from/to with either end open.
fn valid_time(a: Option<DateSeed>, b: Option<DateSeed>, during: bool) -> ValidTime {
    if during && let Some(a) = a {
        return ValidTime::during(a.date());
    }
    let v = ValidTime { from: a.map(DateSeed::date), to: b.map(DateSeed::date) };
    if v.check().is_ok() { v } else { ValidTime { from: v.to, to: v.from } }
}

#[derive(Debug, Clone)]
struct AssertSeed {
    s: usize,
    p: usize,
    /// `Ok(entity pick)` or `Err(literal pick)`.
    o: Result<usize, usize>,
    by: Option<usize>,
    source: Option<usize>,
    valid: (Option<DateSeed>, Option<DateSeed>, bool),
    said_at: Option<DateSeed>,
    stance: u8,
    confidence: Option<u8>,
}

fn assert_seed() -> impl Strategy<Value = AssertSeed> {
    (
        (any::<usize>(), any::<usize>()),
        prop_oneof![3 => any::<usize>().prop_map(Ok), 1 => any::<usize>().prop_map(Err)],
        (proptest::option::weighted(0.4, any::<usize>()), proptest::option::weighted(0.4, any::<usize>())),
        (proptest::option::of(date_seed()), proptest::option::of(date_seed()), any::<bool>()),
        proptest::option::weighted(0.3, date_seed()),
        (0u8..3, proptest::option::of(0u8..=4)),
    )
        .prop_map(|((s, p), o, (by, source), valid, said_at, (stance, confidence))| AssertSeed {
            s,
            p,
            o,
            by,
            source,
            valid,
            said_at,
            stance,
            confidence,
        })
}

#[derive(Debug, Clone)]
enum OpSeed {
    Assert(Box<AssertSeed>),
    Retract(usize),
    /// Re-declares an entity with another kind and maybe another name.
    Update {
        entity: usize,
        kind: usize,
        name: usize,
    },
    Merge {
        from: usize,
        into: usize,
    },
    Unmerge(usize),
}

fn op_seed() -> impl Strategy<Value = OpSeed> {
    prop_oneof![
        8 => assert_seed().prop_map(|a| OpSeed::Assert(Box::new(a))),
        1 => any::<usize>().prop_map(OpSeed::Retract),
        1 => (any::<usize>(), any::<usize>(), any::<usize>())
            .prop_map(|(entity, kind, name)| OpSeed::Update { entity, kind, name }),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(from, into)| OpSeed::Merge { from, into }),
        1 => any::<usize>().prop_map(OpSeed::Unmerge),
    ]
}

#[derive(Debug, Clone)]
struct GraphSeed {
    entities: usize,
    kinds: usize,
    /// Per entity: (kind pick, name pick).
    declared: Vec<(usize, usize)>,
    /// Per document: (title?, published?).
    documents: Vec<(bool, Option<DateSeed>)>,
    predicates: usize,
    /// Which predicates tx 1 declares (the others come with their first claim).
    declare_predicates: Vec<bool>,
    /// One transaction per element, after the one declaring everything.
    txs: Vec<Vec<OpSeed>>,
}

fn graph_seed() -> impl Strategy<Value = GraphSeed> {
    (
        5usize..=8,
        2usize..=3,
        proptest::collection::vec((any::<usize>(), any::<usize>()), 8),
        proptest::collection::vec((any::<bool>(), proptest::option::weighted(0.7, date_seed())), 1..=2),
        3usize..=4,
        proptest::collection::vec(proptest::bool::weighted(0.7), 4),
        proptest::collection::vec(proptest::collection::vec(op_seed(), 2..=8), 3..=8),
    )
        .prop_map(|(entities, kinds, declared, documents, predicates, declare_predicates, txs)| {
            GraphSeed { entities, kinds, declared, documents, predicates, declare_predicates, txs }
        })
}

/// Builds the transactions of a graph seed; every generated event is valid.
fn transactions(g: &GraphSeed) -> Vec<Transaction> {
    let keys = &KEYS[..g.entities];
    let docs = &DOCS[..g.documents.len()];
    let mut first = Transaction::new("gen");
    for (i, key) in keys.iter().enumerate() {
        let (kind, name) = g.declared[i];
        first.push(Event::Entity(EntityEvent {
            key: key.to_string(),
            kind: Some(KINDS[kind % g.kinds].to_string()),
            name: NAMES[name % NAMES.len()].map(str::to_string),
            ..EntityEvent::default()
        }));
    }
    for (i, (title, published)) in g.documents.iter().enumerate() {
        first.document(DocumentEvent {
            key: docs[i].to_string(),
            title: title.then(|| TITLES[i].to_string()),
            published: published.map(DateSeed::date),
            ..DocumentEvent::default()
        });
    }
    for (p, declare) in PREDICATES[..g.predicates].iter().zip(&g.declare_predicates) {
        if *declare {
            first.predicate(p, false, None);
        }
    }
    let mut txs = vec![first];
    let mut live: Vec<String> = Vec::new();
    let mut seq = 0;
    let mut merged: BTreeMap<String, String> = BTreeMap::new();
    let canonical = |merged: &BTreeMap<String, String>, k: &str| {
        let mut k = k.to_string();
        while let Some(n) = merged.get(&k) {
            k = n.clone();
        }
        k
    };
    for ops in &g.txs {
        let mut tx = Transaction::new("gen");
        for op in ops {
            match op {
                OpSeed::Assert(a) => {
                    let o = match a.o {
                        Ok(i) => {
                            // Objects are entities, now and then a document.
                            let all = keys.len() + docs.len();
                            let i = i % all;
                            Term::Entity(
                                if i < keys.len() { keys[i] } else { docs[i - keys.len()] }.to_string(),
                            )
                        }
                        Err(i) => literals()[i % literals().len()].clone(),
                    };
                    let s = keys[a.s % keys.len()];
                    let e = tx.assert(s, PREDICATES[a.p % g.predicates], o);
                    e.by = a.by.map(|i| keys[i % keys.len()].to_string());
                    e.source = a.source.map(|i| docs[i % docs.len()].to_string());
                    e.valid = valid_time(a.valid.0, a.valid.1, a.valid.2);
                    e.said_at = a.said_at.map(DateSeed::date);
                    e.stance = [Stance::Asserts, Stance::Suggests, Stance::Denies][a.stance as usize % 3];
                    e.confidence = a.confidence.map(|c| f64::from(c) / 4.0);
                    seq += 1;
                    live.push(format!("c{seq}"));
                }
                OpSeed::Retract(pick) => {
                    if !live.is_empty() {
                        let id = live.remove(pick % live.len());
                        tx.retract(&id, "wrong");
                    }
                }
                OpSeed::Update { entity, kind, name } => {
                    tx.push(Event::Entity(EntityEvent {
                        key: keys[entity % keys.len()].to_string(),
                        kind: Some(KINDS[kind % g.kinds].to_string()),
                        name: NAMES[name % NAMES.len()].map(str::to_string),
                        ..EntityEvent::default()
                    }));
                }
                OpSeed::Merge { from, into } => {
                    let (from, into) = (keys[from % keys.len()], keys[into % keys.len()]);
                    if from != into && !merged.contains_key(from) && canonical(&merged, into) != from {
                        merged.insert(from.to_string(), into.to_string());
                        tx.merge(from, into);
                    }
                }
                OpSeed::Unmerge(pick) => {
                    if !merged.is_empty() {
                        let k = merged.keys().nth(pick % merged.len()).cloned().expect("a merged key");
                        merged.remove(&k);
                        tx.unmerge(&k);
                    }
                }
            }
        }
        if !tx.events.is_empty() {
            txs.push(tx);
        }
    }
    txs
}

fn build(txs: Vec<Transaction>) -> Result<Store, TestCaseError> {
    let store = Store::temporary_with(first_use()).map_err(fail)?;
    let (_, err) = store.commit_batch(txs);
    if let Some((pos, e)) = err {
        return Err(TestCaseError::fail(format!("generated transaction {pos} rejected: {e}")));
    }
    Ok(store)
}

fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

/// The log, one line per event, for failure reports.
fn describe(store: &Store) -> String {
    let mut out = String::new();
    store
        .for_each_tx(1, |rec| {
            for e in &rec.body.events {
                let line = match e {
                    Event::Entity(e) => format!(
                        "entity {} :{} name {:?}",
                        e.key,
                        e.kind.as_deref().unwrap_or("-"),
                        e.name.as_deref().unwrap_or("-")
                    ),
                    Event::Document(d) => {
                        format!("document {} title {:?} published {:?}", d.key, d.title, d.published)
                    }
                    Event::Predicate(p) => format!("predicate {}", p.key),
                    Event::Assert(a) => {
                        let c = Claim::from_assert(a, rec.tx);
                        let mut s = format!("assert {c}");
                        if let Some(src) = &a.source {
                            let _ = write!(s, " source @{src}");
                        }
                        if let Some(d) = a.said_at {
                            let _ = write!(s, " said_at {d}");
                        }
                        if let Some(x) = a.confidence {
                            let _ = write!(s, " confidence {x}");
                        }
                        s
                    }
                    Event::Retract { claim, .. } => format!("retract {claim}"),
                    Event::Merge { from, into } => format!("merge {from} into {into}"),
                    Event::Unmerge { entity } => format!("unmerge {entity}"),
                };
                let _ = writeln!(out, "tx {}: {line}", rec.tx);
            }
            Ok(())
        })
        .expect("read the log");
    out
}

// ---------------------------------------------------------------- queries

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Out,
    In,
    Either,
}

#[derive(Debug, Clone)]
struct NodeP {
    var: Option<String>,
    kind: Option<String>,
    /// An `@key` reference.
    entity: Option<String>,
    /// `{name: 'Alpha'}`: each property `=` the value.
    props: Vec<(&'static str, Ex)>,
}

#[derive(Debug, Clone)]
struct EdgeP {
    var: Option<String>,
    dir: Dir,
    /// Empty: any predicate.
    preds: Vec<String>,
    /// `{stance: 'denies'}`: each claim property `=` the value.
    props: Vec<(&'static str, Ex)>,
    /// `*min..max`: a variable-length edge (anonymous, no property map).
    length: Option<(u32, u32)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone)]
enum Ex {
    Lit(V),
    Var(String),
    /// `base.p1.p2…`
    Prop(String, Vec<&'static str>),
    Ref(String),
    Cmp(Op, Box<Ex>, Box<Ex>),
    In(Box<Ex>, Vec<V>),
    IsNull(Box<Ex>, bool),
    And(Vec<Ex>),
    Or(Vec<Ex>),
    Not(Box<Ex>),
    /// `length(p)` of the path variable `p`.
    PathLength,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Agg {
    CountStar,
    Count,
    CountDistinct,
    Min,
    Max,
    Sum,
    Avg,
    Collect,
}

#[derive(Debug, Clone)]
enum Item {
    Expr(Ex),
    Agg(Agg, Option<Ex>),
}

#[derive(Debug, Clone)]
struct Q {
    nodes: Vec<NodeP>,
    edges: Vec<EdgeP>,
    filter: Option<Ex>,
    distinct: bool,
    items: Vec<Item>,
    as_of: Option<u64>,
    /// `VALID AT d` (a range of one date) or `VALID DURING d1 .. d2`.
    valid: Option<(Date, Option<Date>)>,
    include_retracted: bool,
    /// `MATCH p = …`: the pattern binds the path `p`.
    path: bool,
}

fn lit_text(v: &V) -> String {
    match v {
        V::Null => "null".into(),
        V::Bool(b) => b.to_string(),
        V::Int(i) => i.to_string(),
        V::Float(f) => format!("{f:?}"),
        V::Str(s) => format!("'{s}'"),
        V::Date(d) => d.to_string(),
        other => panic!("no literal for {other:?}"),
    }
}

fn ex_text(e: &Ex) -> String {
    match e {
        Ex::Lit(v) => lit_text(v),
        Ex::Var(v) => v.clone(),
        Ex::Prop(v, path) => format!("{v}.{}", path.join(".")),
        Ex::Ref(k) => format!("@{k}"),
        Ex::Cmp(op, a, b) => {
            let op = match op {
                Op::Eq => "=",
                Op::Ne => "<>",
                Op::Lt => "<",
                Op::Le => "<=",
                Op::Gt => ">",
                Op::Ge => ">=",
            };
            format!("{} {op} {}", ex_text(a), ex_text(b))
        }
        Ex::In(a, list) => {
            format!("{} IN [{}]", ex_text(a), list.iter().map(lit_text).collect::<Vec<_>>().join(", "))
        }
        Ex::IsNull(a, negated) => format!("{} IS {}NULL", ex_text(a), if *negated { "NOT " } else { "" }),
        Ex::And(items) => format!("({})", items.iter().map(ex_text).collect::<Vec<_>>().join(" AND ")),
        Ex::Or(items) => format!("({})", items.iter().map(ex_text).collect::<Vec<_>>().join(" OR ")),
        Ex::Not(a) => format!("NOT ({})", ex_text(a)),
        Ex::PathLength => "length(p)".into(),
    }
}

fn map_text(props: &[(&'static str, Ex)]) -> String {
    let items: Vec<String> = props.iter().map(|(k, v)| format!("{k}: {}", ex_text(v))).collect();
    format!("{{{}}}", items.join(", "))
}

impl Q {
    fn text(&self) -> String {
        let node = |n: &NodeP| {
            let mut s = String::from("(");
            if let Some(v) = &n.var {
                s.push_str(v);
            }
            if let Some(k) = &n.kind {
                let _ = write!(s, ":{k}");
            }
            if let Some(e) = &n.entity {
                let _ = write!(s, "{}@{e}", if s.len() > 1 { " " } else { "" });
            }
            if !n.props.is_empty() {
                let _ = write!(s, "{}{}", if s.len() > 1 { " " } else { "" }, map_text(&n.props));
            }
            s.push(')');
            s
        };
        let mut s = String::from("MATCH ");
        if self.path {
            s.push_str("p = ");
        }
        s.push_str(&node(&self.nodes[0]));
        for (e, n) in self.edges.iter().zip(&self.nodes[1..]) {
            let mut body = e.var.clone().unwrap_or_default();
            if !e.preds.is_empty() {
                let _ = write!(body, ":{}", e.preds.join("|"));
            }
            if let Some((min, max)) = e.length {
                let _ = write!(body, "*{min}..{max}");
            }
            if !e.props.is_empty() {
                let _ = write!(body, "{}{}", if body.is_empty() { "" } else { " " }, map_text(&e.props));
            }
            let _ = match e.dir {
                Dir::Out => write!(s, "-[{body}]->"),
                Dir::In => write!(s, "<-[{body}]-"),
                Dir::Either => write!(s, "-[{body}]-"),
            };
            s.push_str(&node(n));
        }
        if let Some(f) = &self.filter {
            let _ = write!(s, " WHERE {}", ex_text(f));
        }
        s.push_str(" RETURN ");
        if self.distinct {
            s.push_str("DISTINCT ");
        }
        let items: Vec<String> = self
            .items
            .iter()
            .map(|i| match i {
                Item::Expr(e) => ex_text(e),
                Item::Agg(Agg::CountStar, _) => "count(*)".into(),
                Item::Agg(a, Some(e)) => {
                    let (f, d) = match a {
                        Agg::Count => ("count", ""),
                        Agg::CountDistinct => ("count", "DISTINCT "),
                        Agg::Min => ("min", ""),
                        Agg::Max => ("max", ""),
                        Agg::Sum => ("sum", ""),
                        Agg::Avg => ("avg", ""),
                        _ => ("collect", ""),
                    };
                    format!("{f}({d}{})", ex_text(e))
                }
                Item::Agg(..) => unreachable!("aggregates other than count(*) take an argument"),
            })
            .collect();
        s.push_str(&items.join(", "));
        if let Some(t) = self.as_of {
            let _ = write!(s, " AS OF TX {t}");
        }
        match self.valid {
            Some((d, None)) => {
                let _ = write!(s, " VALID AT {d}");
            }
            Some((a, Some(b))) => {
                let _ = write!(s, " VALID DURING {a} .. {b}");
            }
            None => {}
        }
        if self.include_retracted {
            s.push_str(" INCLUDE RETRACTED");
        }
        s
    }

    fn is_aggregate(&self) -> bool {
        self.items.iter().any(|i| matches!(i, Item::Agg(..)))
    }
}

/// Draws choices from a vector of random numbers; `0` (what proptest shrinks
/// towards) is always the simplest choice, and an exhausted vector gives 0.
struct Picker<'a> {
    entropy: &'a [u32],
    at: usize,
}

impl Picker<'_> {
    fn next(&mut self) -> u32 {
        let v = self.entropy.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        v
    }
    fn pick(&mut self, n: usize) -> usize {
        self.next() as usize % n.max(1)
    }
    /// True with `pct` percent; false for 0.
    fn chance(&mut self, pct: u32) -> bool {
        self.next() % 100 >= 100 - pct
    }
    fn of<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.pick(items.len())].clone()
    }
}

/// What the generator knows about the graph.
struct World<'a> {
    g: &'a GraphSeed,
    head: u64,
}

/// What a query's variables are.
struct Vars {
    nodes: Vec<String>,
    edges: Vec<String>,
    /// Nodes that are entities in every result row: some occurrence has a
    /// check (kind, `@key`, properties) or is the subject end of an edge.
    /// The others may hold a literal, whose properties read as null.
    entities: Vec<String>,
}

fn gen_query(w: &World<'_>, entropy: &[u32]) -> Q {
    let mut p = Picker { entropy, at: 0 };
    let hops = 1 + p.pick(3);
    // Mostly late: before tx 2 there are no claims. Beyond the head is an
    // error.
    let as_of = if p.chance(30) {
        Some(match p.pick(10) {
            0 => p.pick(w.head as usize + 1) as u64,
            1 if p.chance(20) => w.head + 1,
            _ => w.head.saturating_sub(p.pick(3) as u64),
        })
    } else {
        None
    };
    let t = as_of.unwrap_or(w.head);
    let keys: Vec<&str> = KEYS[..w.g.entities].iter().chain(&DOCS[..w.g.documents.len()]).copied().collect();
    let preds = &PREDICATES[..w.g.predicates];
    let mut edges = Vec::new();
    for k in 0..hops {
        let var = if p.chance(85) || k == 0 { Some(format!("c{k}")) } else { None };
        let dir = [Dir::Out, Dir::In, Dir::Either][p.pick(3)];
        let preds = match p.pick(6) {
            0 | 1 => Vec::new(),
            2 | 3 => vec![p.of(preds).to_string()],
            4 => {
                let a = p.of(preds);
                let b = p.of(preds);
                vec![a.to_string(), b.to_string()]
            }
            // An unknown predicate (an error), rarely.
            _ if p.chance(10) => vec!["never_used".to_string()],
            _ => vec![p.of(preds).to_string()],
        };
        let mut props = Vec::new();
        if p.chance(10) {
            props.push(match p.pick(4) {
                0 => ("stance", Ex::Lit(V::Str(p.of(&["asserts", "suggests", "denies"]).into()))),
                1 => ("tx", Ex::Lit(V::Int(2 + p.pick(4) as i64))),
                2 if t >= 1 => ("by", Ex::Ref(p.of(&keys).to_string())),
                _ => ("confidence", Ex::Lit(V::Float(p.of(&[0.5, 0.75])))),
            });
        }
        // Variable-length edges, zero-length hops among them: anonymous
        // (their variable would be a list of claims).
        let length = p.chance(20).then(|| p.of(&[(1, 1), (1, 2), (0, 1), (2, 2), (0, 2), (1, 3)]));
        let (var, props) = match length {
            Some(_) => (None, Vec::new()),
            None => (var, props),
        };
        edges.push(EdgeP { var, dir, preds, props, length });
    }
    let mut nodes = Vec::new();
    for i in 0..=hops {
        let var = if p.chance(85) { Some(format!("n{i}")) } else { None };
        let kind = p.chance(15).then(|| {
            // Kinds that exist, documents, and now and then one that never does.
            match p.pick(8) {
                0 => "Document".to_string(),
                1 if p.chance(30) => "Planet".to_string(),
                _ => p.of(&KINDS[..w.g.kinds]).to_string(),
            }
        });
        let entity = p.chance(15).then(|| {
            // Sometimes a key never declared: an error naming the nearest one.
            if p.chance(5) { "e9".to_string() } else { p.of(&keys).to_string() }
        });
        let mut props = Vec::new();
        if p.chance(8) {
            props.push(match p.pick(3) {
                0 => ("name", Ex::Lit(V::Str(p.of(&["Alpha", "Beta", "alpha", "e2"]).into()))),
                1 => ("kind", Ex::Lit(V::Str(p.of(&KINDS[..w.g.kinds]).into()))),
                _ => ("key", Ex::Lit(V::Str(p.of(&keys).to_string()))),
            });
        }
        nodes.push(NodeP { var, kind, entity, props });
    }
    // The last node is sometimes the first one again: a cycle (for one hop,
    // a self-loop).
    if p.chance(15) {
        let first = nodes[0].var.clone().unwrap_or_else(|| "n0".into());
        nodes[0].var = Some(first.clone());
        nodes[hops].var = Some(first);
    }
    let vars = vars_of(&nodes, &edges);
    let where_refs = t >= 1;
    let filter = p
        .chance(50)
        .then(|| gen_bool(&mut p, &WhereGen { vars: &vars, keys: &keys, preds, refs: where_refs }, 0));
    let (distinct, mut items) = gen_return(&mut p, &vars);
    // A path variable, its length returned (grouped on when aggregating).
    let path = p.chance(20);
    if path {
        items.insert(0, Item::Expr(Ex::PathLength));
    }
    let valid = p.chance(30).then(|| {
        let d = gen_date(&mut p);
        // A range that may run backwards (an error).
        (d, p.chance(30).then(|| gen_date(&mut p)))
    });
    let include_retracted = p.chance(30);
    Q { nodes, edges, filter, distinct, items, as_of, valid, include_retracted, path }
}

fn vars_of(nodes: &[NodeP], edges: &[EdgeP]) -> Vars {
    let mut names: Vec<String> = Vec::new();
    let mut entities: Vec<String> = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        let Some(v) = &n.var else { continue };
        if !names.contains(v) {
            names.push(v.clone());
        }
        let checked = n.kind.is_some() || n.entity.is_some() || !n.props.is_empty();
        // Edge k joins node k (left) and node k + 1 (right).
        let subject =
            (i > 0 && edges[i - 1].dir == Dir::In) || edges.get(i).is_some_and(|e| e.dir == Dir::Out);
        if (checked || subject) && !entities.contains(v) {
            entities.push(v.clone());
        }
    }
    Vars { nodes: names, entities, edges: edges.iter().filter_map(|e| e.var.clone()).collect() }
}

fn gen_date(p: &mut Picker<'_>) -> Date {
    let year = 2023 + p.pick(4) as i32;
    let month = 1 + p.pick(12) as u32;
    match p.pick(3) {
        0 => Date::new(year, None, None),
        1 => Date::new(year, Some(month), None),
        _ => Date::ymd(year, month, 1 + p.pick(28) as u32),
    }
    .expect("a valid date")
}

/// A date literal for WHERE: a year is written bare, which the language
/// reads as an integer that compares with dates as that year.
fn gen_date_lit(p: &mut Picker<'_>) -> V {
    let d = gen_date(p);
    if d.month().is_none() { V::Int(i64::from(d.year())) } else { V::Date(d) }
}

fn cmp_op(p: &mut Picker<'_>) -> Op {
    [Op::Eq, Op::Ne, Op::Lt, Op::Gt, Op::Le, Op::Ge][p.pick(6)]
}

fn prop(v: &str, path: &[&'static str]) -> Ex {
    Ex::Prop(v.to_string(), path.to_vec())
}

/// What a WHERE is generated from.
struct WhereGen<'a> {
    vars: &'a Vars,
    /// Entity keys for `@key`.
    keys: &'a [&'a str],
    preds: &'a [&'a str],
    /// Whether `@key` may appear (the entities exist as of the query).
    refs: bool,
}

fn gen_atom(p: &mut Picker<'_>, g: &WhereGen<'_>) -> Ex {
    let WhereGen { vars, keys, preds, refs } = *g;
    let lit = |v: V| Box::new(Ex::Lit(v));
    let ent_op = |p: &mut Picker<'_>| p.of(&[Op::Eq, Op::Ne]);
    let kind = p.pick(4);
    if kind <= 1 && !vars.edges.is_empty() {
        let c = p.of(&vars.edges);
        return match p.pick(13) {
            0 => Ex::Cmp(
                p.of(&[Op::Eq, Op::Ne]),
                Box::new(prop(&c, &["stance"])),
                lit(V::Str(p.of(&["asserts", "suggests", "denies"]).into())),
            ),
            1 => Ex::In(
                Box::new(prop(&c, &["stance"])),
                vec![V::Str(p.of(&["asserts", "denies"]).into()), V::Str("suggests".into())],
            ),
            2 => Ex::Cmp(cmp_op(p), Box::new(prop(&c, &["tx"])), lit(V::Int(1 + p.pick(6) as i64))),
            3 => Ex::Cmp(
                cmp_op(p),
                Box::new(prop(&c, &[p.of(&["valid_from", "valid_to", "said_at"])])),
                lit(gen_date_lit(p)),
            ),
            4 => Ex::IsNull(
                Box::new(prop(
                    &c,
                    &[p.of(&["valid_from", "valid_to", "said_at", "confidence", "by", "retracted_tx"])],
                )),
                p.chance(50),
            ),
            5 => Ex::Cmp(
                cmp_op(p),
                Box::new(prop(&c, &["confidence"])),
                lit(V::Float(p.of(&[0.25, 0.5, 1.0]))),
            ),
            6 => Ex::Cmp(
                p.of(&[Op::Eq, Op::Ne]),
                Box::new(prop(&c, &["predicate"])),
                lit(V::Str(p.of(preds).into())),
            ),
            7 if refs => Ex::Cmp(
                ent_op(p),
                Box::new(prop(&c, &[p.of(&["by", "source"])])),
                Box::new(Ex::Ref(p.of(keys).into())),
            ),
            8 if !vars.nodes.is_empty() => {
                Ex::Cmp(ent_op(p), Box::new(prop(&c, &["by"])), Box::new(Ex::Var(p.of(&vars.nodes))))
            }
            9 => Ex::In(
                Box::new(prop(&c, &[p.of(&["valid_from", "said_at"])])),
                vec![gen_date_lit(p), gen_date_lit(p)],
            ),
            10 if vars.edges.len() > 1 => {
                Ex::Cmp(ent_op(p), Box::new(Ex::Var(c)), Box::new(Ex::Var(p.of(&vars.edges))))
            }
            // Mixed types compare to null.
            11 => Ex::Cmp(cmp_op(p), Box::new(prop(&c, &["tx"])), lit(V::Str("1".into()))),
            // Publication bounds narrow a speaker's scan to documents.
            12 => {
                let (op, date) = (cmp_op(p), gen_date_lit(p));
                let published = Box::new(prop(&c, &["source", "published"]));
                if p.chance(50) {
                    Ex::Cmp(op, published, lit(date))
                } else {
                    Ex::Cmp(op, lit(date), published)
                }
            }
            _ => Ex::Cmp(cmp_op(p), Box::new(prop(&c, &["tx"])), Box::new(prop(&c, &["confidence"]))),
        };
    }
    if kind == 2 && !vars.nodes.is_empty() {
        // Mostly entities; a literal's properties read as null.
        let n =
            if !vars.entities.is_empty() && p.chance(80) { p.of(&vars.entities) } else { p.of(&vars.nodes) };
        return match p.pick(5) {
            0 => Ex::Cmp(
                cmp_op(p),
                Box::new(prop(&n, &["name"])),
                lit(V::Str(p.of(&["Alpha", "Beta", "M", "e3", "Report One"]).into())),
            ),
            1 => Ex::Cmp(
                p.of(&[Op::Eq, Op::Ne]),
                Box::new(prop(&n, &["kind"])),
                lit(V::Str(p.of(&KINDS).into())),
            ),
            2 => Ex::In(
                Box::new(prop(&n, &["kind"])),
                vec![V::Str(p.of(&KINDS).into()), V::Str("Document".into())],
            ),
            3 => Ex::Cmp(cmp_op(p), Box::new(prop(&n, &["key"])), lit(V::Str(p.of(keys).into()))),
            _ => Ex::In(
                Box::new(prop(&n, &["key"])),
                vec![V::Str(p.of(keys).into()), V::Str(p.of(keys).into())],
            ),
        };
    }
    // Nodes that may hold a literal compare with literals; the others with
    // entities.
    let values: Vec<String> = vars.nodes.iter().filter(|n| !vars.entities.contains(n)).cloned().collect();
    if !values.is_empty() && p.chance(60) {
        let n = p.of(&values);
        return match p.pick(4) {
            0 => Ex::Cmp(
                cmp_op(p),
                Box::new(Ex::Var(n)),
                lit(p.of(&[V::Int(42), V::Int(0), V::Float(0.5), V::Str("hello".into()), V::Bool(true)])),
            ),
            1 => Ex::Cmp(cmp_op(p), Box::new(Ex::Var(n)), lit(gen_date_lit(p))),
            2 => Ex::IsNull(Box::new(Ex::Var(n)), p.chance(50)),
            _ => {
                Ex::In(Box::new(Ex::Var(n)), vec![V::Int(42), V::Str("hello".into()), V::Date(date("2024"))])
            }
        };
    }
    if !vars.nodes.is_empty() {
        let n = p.of(&vars.nodes);
        return match p.pick(2) {
            0 if refs => Ex::Cmp(ent_op(p), Box::new(Ex::Var(n)), Box::new(Ex::Ref(p.of(keys).into()))),
            _ => Ex::Cmp(ent_op(p), Box::new(Ex::Var(n)), Box::new(Ex::Var(p.of(&vars.nodes)))),
        };
    }
    Ex::Lit(V::Bool(p.chance(50)))
}

fn gen_bool(p: &mut Picker<'_>, g: &WhereGen<'_>, depth: usize) -> Ex {
    if depth >= 2 || !p.chance(45) {
        return gen_atom(p, g);
    }
    match p.pick(3) {
        0 => Ex::And((0..2 + p.pick(2)).map(|_| gen_bool(p, g, depth + 1)).collect()),
        1 => Ex::Or((0..2 + p.pick(2)).map(|_| gen_bool(p, g, depth + 1)).collect()),
        _ => Ex::Not(Box::new(gen_bool(p, g, depth + 1))),
    }
}

/// A RETURN expression: a variable or a property that reads safely.
fn gen_value(p: &mut Picker<'_>, vars: &Vars) -> Ex {
    let start = p.pick(4);
    for k in 0..4 {
        match (start + k) % 4 {
            0 if !vars.nodes.is_empty() => return Ex::Var(p.of(&vars.nodes)),
            1 if !vars.edges.is_empty() => return Ex::Var(p.of(&vars.edges)),
            2 if !vars.entities.is_empty() => {
                return prop(&p.of(&vars.entities), &[p.of(&["name", "kind", "key"])]);
            }
            3 if !vars.edges.is_empty() => {
                let c = p.of(&vars.edges);
                let path: &[&'static str] = p.of(&[
                    &["stance"][..],
                    &["tx"],
                    &["valid_from"],
                    &["valid_to"],
                    &["said_at"],
                    &["confidence"],
                    &["predicate"],
                    &["by"],
                    &["by", "name"],
                    &["id"],
                    &["retracted_tx"],
                    &["object"],
                    &["source"],
                ]);
                return prop(&c, path);
            }
            _ => {}
        }
    }
    Ex::Lit(V::Int(1))
}

/// A property whose values are of one type, for min and max.
fn gen_ordered(p: &mut Picker<'_>, vars: &Vars) -> Ex {
    if !vars.entities.is_empty() && p.chance(30) {
        return prop(&p.of(&vars.entities), &[p.of(&["name", "key", "kind"])]);
    }
    if vars.edges.is_empty() {
        return Ex::Lit(V::Int(7));
    }
    let c = p.of(&vars.edges);
    prop(&c, &[p.of(&["tx", "confidence", "valid_from", "valid_to", "said_at", "stance", "id"])])
}

fn gen_return(p: &mut Picker<'_>, vars: &Vars) -> (bool, Vec<Item>) {
    if !p.chance(40) {
        let n = 1 + p.pick(3);
        let items = (0..n).map(|_| Item::Expr(gen_value(p, vars))).collect();
        return (p.chance(20), items);
    }
    let mut items = Vec::new();
    if p.chance(60) {
        items.push(Item::Expr(gen_value(p, vars)));
    }
    for _ in 0..1 + p.pick(2) {
        items.push(match p.pick(7) {
            0 => Item::Agg(Agg::CountStar, None),
            1 => Item::Agg(Agg::Count, Some(gen_value(p, vars))),
            2 => Item::Agg(Agg::CountDistinct, Some(gen_value(p, vars))),
            3 => Item::Agg(Agg::Min, Some(gen_ordered(p, vars))),
            4 => Item::Agg(Agg::Max, Some(gen_ordered(p, vars))),
            // Sums of transactions and of confidences (quarters: exact).
            5 if !vars.edges.is_empty() => Item::Agg(
                p.of(&[Agg::Sum, Agg::Avg]),
                Some(prop(&p.of(&vars.edges), &[p.of(&["tx", "confidence"])])),
            ),
            _ => Item::Agg(Agg::Collect, Some(gen_value(p, vars))),
        });
    }
    (false, items)
}

// ---------------------------------------------------------------- evaluator

/// A value of the brute-force evaluator: entities by canonical key, claims by
/// position in the reference state's claim list.
#[derive(Debug, Clone)]
enum V {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Date(Date),
    Ent(String),
    Claim(usize),
    List(Vec<V>),
}

/// The outcome of comparing two values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rel {
    Less,
    Equal,
    Greater,
    /// Different but not ordered (two entities, two claims).
    Unequal,
}

fn ord(o: std::cmp::Ordering) -> Rel {
    match o {
        std::cmp::Ordering::Less => Rel::Less,
        std::cmp::Ordering::Equal => Rel::Equal,
        std::cmp::Ordering::Greater => Rel::Greater,
    }
}

/// Periods: `<` when a ends before b starts, `>` when a starts after b ends,
/// `=` when they overlap (grammar, production `comparison`).
fn periods(a: &Date, b: &Date) -> Rel {
    if a.end_day() <= b.first_day() {
        Rel::Less
    } else if a.first_day() >= b.end_day() {
        Rel::Greater
    } else {
        Rel::Equal
    }
}

fn year(y: i64) -> Option<Date> {
    Date::new(i32::try_from(y).ok()?, None, None).ok()
}

fn num(v: &V) -> Option<f64> {
    match v {
        V::Int(i) => Some(*i as f64),
        V::Float(f) => Some(*f),
        _ => None,
    }
}

/// How two values relate; `None` when they are not comparable: a null side,
/// or values of different types (`query/value.rs`). A bare year next to a
/// date is that year. Two entities (or claims) are equal when they are the
/// same one and unequal, but not ordered, otherwise.
fn rel(a: &V, b: &V) -> Option<Rel> {
    Some(match (a, b) {
        (V::Null, _) | (_, V::Null) => return None,
        (V::Int(x), V::Int(y)) => ord(x.cmp(y)),
        (V::Int(_) | V::Float(_), V::Int(_) | V::Float(_)) => ord(num(a)?.partial_cmp(&num(b)?)?),
        (V::Bool(x), V::Bool(y)) => ord(x.cmp(y)),
        (V::Str(x), V::Str(y)) => ord(x.cmp(y)),
        (V::Date(x), V::Date(y)) => periods(x, y),
        (V::Date(x), V::Int(y)) => periods(x, &year(*y)?),
        (V::Int(x), V::Date(y)) => periods(&year(*x)?, y),
        (V::Ent(x), V::Ent(y)) => {
            if x == y {
                Rel::Equal
            } else {
                Rel::Unequal
            }
        }
        (V::Claim(x), V::Claim(y)) => {
            if x == y {
                Rel::Equal
            } else {
                Rel::Unequal
            }
        }
        _ => return None,
    })
}

/// `a op b` with null propagation: a null side gives null; values of
/// different types are unequal (`=` false, `<>` true) and not ordered (`<`
/// etc. null); different entities likewise.
fn apply(op: Op, a: &V, b: &V) -> V {
    if matches!(a, V::Null) || matches!(b, V::Null) {
        return V::Null;
    }
    let r = rel(a, b).unwrap_or(Rel::Unequal);
    let b = match (op, r) {
        (Op::Eq, r) => r == Rel::Equal,
        (Op::Ne, r) => r != Rel::Equal,
        (_, Rel::Unequal) => return V::Null,
        (Op::Lt, r) => r == Rel::Less,
        (Op::Le, r) => r != Rel::Greater,
        (Op::Gt, r) => r == Rel::Greater,
        (Op::Ge, r) => r != Rel::Less,
    };
    V::Bool(b)
}

/// Identity of values, for nodes and for `DISTINCT`.
///
/// SEMANTICS: a literal node is one value of one type (one index term), so
/// `42` and `42.0`, or `2024` and `2024-02`, are different nodes even though
/// `=` holds between them (bug 4).
fn ident(v: &V) -> String {
    match v {
        V::Float(f) => format!("float {:?}", f.to_bits()),
        V::Date(d) => format!("date {d}"),
        V::List(items) => format!("[{}]", items.iter().map(ident).collect::<Vec<_>>().join(",")),
        other => format!("{other:?}"),
    }
}

/// Equivalence for grouping and `count(DISTINCT x)`: as the sort order of
/// `query/value.rs` (Cypher's equivalence): numbers by value, so `42` and
/// `42.0` are one group.
fn equiv(v: &V) -> String {
    match v {
        V::Int(i) => format!("num {:?}", (*i as f64).to_bits()),
        V::Float(f) => format!("num {:?}", f.to_bits()),
        V::List(items) => format!("[{}]", items.iter().map(equiv).collect::<Vec<_>>().join(",")),
        other => ident(other),
    }
}

/// The total order of `min`/`max`: by type (booleans, numbers, strings,
/// dates, …, nulls last), then value; dates by (first day, last day).
fn sort_cmp(a: &V, b: &V) -> std::cmp::Ordering {
    let rank = |v: &V| match v {
        V::Bool(_) => 0,
        V::Int(_) | V::Float(_) => 1,
        V::Str(_) => 2,
        V::Date(_) => 3,
        V::Ent(_) => 5,
        V::Claim(_) => 6,
        V::List(_) => 7,
        V::Null => 9,
    };
    match (a, b) {
        (V::Int(x), V::Int(y)) => x.cmp(y),
        (V::Int(_) | V::Float(_), V::Int(_) | V::Float(_)) => {
            num(a).unwrap_or(0.0).total_cmp(&num(b).unwrap_or(0.0))
        }
        (V::Bool(x), V::Bool(y)) => x.cmp(y),
        (V::Str(x), V::Str(y)) => natural(x, y),
        (V::Date(x), V::Date(y)) => (x.first_day(), x.end_day()).cmp(&(y.first_day(), y.end_day())),
        _ => rank(a).cmp(&rank(b)),
    }
}

/// Strings in natural order (claim ids `c3 < c11`), written independently of
/// the engine's: split into digit and non-digit runs; digit runs compare as
/// numbers (by length without leading zeros, then digits); ties by bytes.
fn natural(x: &str, y: &str) -> std::cmp::Ordering {
    fn runs(s: &str) -> Vec<(bool, String)> {
        let mut out: Vec<(bool, String)> = Vec::new();
        for c in s.chars() {
            let digit = c.is_ascii_digit();
            match out.last_mut() {
                Some((d, run)) if *d == digit => run.push(c),
                _ => out.push((digit, c.to_string())),
            }
        }
        out
    }
    let key = |(digit, run): &(bool, String)| -> (u8, usize, String) {
        if *digit {
            let t = run.trim_start_matches('0');
            (0, t.len(), t.to_string())
        } else {
            (1, 0, run.clone())
        }
    };
    let (a, b) = (runs(x), runs(y));
    for (p, q) in a.iter().zip(&b) {
        let o = match (p.0, q.0) {
            (true, true) => key(p).cmp(&key(q)),
            _ => p.1.cmp(&q.1),
        };
        if o != std::cmp::Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len()).then_with(|| x.cmp(y))
}

fn term_val(st: &State, t: &Term) -> V {
    match t {
        Term::Entity(k) => V::Ent(st.canonical(k)),
        Term::String(s) => V::Str(s.clone()),
        Term::Int(i) => V::Int(*i),
        Term::Float(f) => V::Float(*f),
        Term::Bool(b) => V::Bool(*b),
        Term::Date(d) => V::Date(*d),
    }
}

/// Evaluates the brute-force answer of one query against the reference.
struct Eval<'a> {
    st: &'a State,
    /// The state at the head: a predicate declared only after `st` matches
    /// nothing at `st` rather than being unknown.
    latest: &'a State,
}

type Binding = BTreeMap<String, V>;

impl Eval<'_> {
    fn property(&self, base: &V, name: &str) -> Result<V, String> {
        let opt_date = |d: Option<Date>| d.map_or(V::Null, V::Date);
        let ent = |k: &Option<String>| k.as_ref().map_or(V::Null, |k| V::Ent(self.st.canonical(k)));
        Ok(match base {
            V::Null => V::Null,
            V::Ent(k) => {
                let e = &self.st.entities[k];
                match name {
                    "name" => V::Str(e.name.clone()),
                    "kind" => V::Str(e.kind.clone()),
                    "key" => V::Str(e.key.clone()),
                    "published" => opt_date(e.document.as_ref().and_then(|d| d.published)),
                    _ => V::Null,
                }
            }
            V::Claim(i) => {
                let c = &self.st.claims[*i];
                match name {
                    "id" => V::Str(c.id.clone()),
                    "predicate" => V::Str(c.p.clone()),
                    "object" => term_val(self.st, &c.o),
                    "stance" => V::Str(c.stance.as_str().into()),
                    "confidence" => c.confidence.map_or(V::Null, V::Float),
                    "by" => ent(&c.by),
                    "source" => ent(&c.source),
                    "valid_from" => opt_date(c.valid.from),
                    "valid_to" => opt_date(c.valid.to),
                    "said_at" => opt_date(c.said_at),
                    "tx" => V::Int(c.tx as i64),
                    "retracted_tx" => c.retracted_tx.map_or(V::Null, |t| V::Int(t as i64)),
                    _ => V::Null,
                }
            }
            // A node variable holding a literal object: no properties, null
            // (the engine answers the same whatever rows a plan filters
            // first). Chains through scalars are not generated.
            _ => V::Null,
        })
    }

    fn eval(&self, b: &Binding, e: &Ex) -> Result<V, String> {
        Ok(match e {
            Ex::Lit(v) => v.clone(),
            Ex::Var(v) => b.get(v).cloned().ok_or_else(|| format!("unbound {v}"))?,
            Ex::Prop(v, path) => {
                let mut x = b.get(v).cloned().ok_or_else(|| format!("unbound {v}"))?;
                for name in path {
                    x = self.property(&x, name)?;
                }
                x
            }
            Ex::Ref(k) => V::Ent(self.st.canonical(k)),
            Ex::Cmp(op, x, y) => apply(*op, &self.eval(b, x)?, &self.eval(b, y)?),
            // `x IN list`: null for a null x, else whether some item is `=`.
            Ex::In(x, list) => match self.eval(b, x)? {
                V::Null => V::Null,
                x => V::Bool(list.iter().any(|i| rel(&x, i) == Some(Rel::Equal))),
            },
            Ex::IsNull(x, negated) => V::Bool(matches!(self.eval(b, x)?, V::Null) != *negated),
            // Three-valued logic: false wins in AND, true in OR, else null.
            Ex::And(items) => {
                let vals: Vec<V> = items.iter().map(|i| self.eval(b, i)).collect::<Result<_, _>>()?;
                if vals.iter().any(|v| matches!(v, V::Bool(false))) {
                    V::Bool(false)
                } else if vals.iter().all(|v| matches!(v, V::Bool(true))) {
                    V::Bool(true)
                } else {
                    V::Null
                }
            }
            Ex::Or(items) => {
                let vals: Vec<V> = items.iter().map(|i| self.eval(b, i)).collect::<Result<_, _>>()?;
                if vals.iter().any(|v| matches!(v, V::Bool(true))) {
                    V::Bool(true)
                } else if vals.iter().all(|v| matches!(v, V::Bool(false))) {
                    V::Bool(false)
                } else {
                    V::Null
                }
            }
            Ex::Not(x) => match self.eval(b, x)? {
                V::Bool(v) => V::Bool(!v),
                _ => V::Null,
            },
            Ex::PathLength => b.get("p").cloned().ok_or("unbound p")?,
        })
    }

    /// `{k: v, …}`: each property `=` its value.
    fn props_hold(&self, base: &V, props: &[(&'static str, Ex)]) -> Result<bool, String> {
        for (k, want) in props {
            let want = self.eval(&Binding::new(), want)?;
            if rel(&self.property(base, k)?, &want) != Some(Rel::Equal) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The claims visible to the query: live as of its tx (plus the retracted
    /// ones with INCLUDE RETRACTED), overlapping `VALID AT` if given (open
    /// ends unbounded). The reference state at tx `t` holds exactly the
    /// claims asserted up to `t`, with retractions as of `t`.
    fn visible(&self, q: &Q) -> Vec<usize> {
        (0..self.st.claims.len())
            .filter(|&i| {
                let c = &self.st.claims[i];
                (q.include_retracted || c.retracted_tx.is_none())
                    && q.valid.is_none_or(|(a, b)| {
                        let range = DayRange { start: a.first_day(), end: b.unwrap_or(a).end_day() };
                        range.overlaps(&c.valid.days())
                    })
            })
            .collect()
    }

    /// Every binding of the pattern's variables: each edge takes any visible
    /// claim of its predicates, in each orientation its direction allows.
    ///
    /// SEMANTICS:
    /// - An entity node is the *canonical* entity: a claim about a merged
    ///   entity is a claim about the one it was merged into (as of the tx).
    /// - `-[c]-` matches a claim once per orientation that gives a different
    ///   binding: a claim whose two ends are the same canonical entity (a
    ///   self-loop, also one made by a merge) matches once, as in Cypher and
    ///   as `tests/queries/edges.cg` states ("from a fixed end, each claim
    ///   once") (bug 2). A directed edge matches a self-loop once (bug 7).
    /// - A literal object is a node too (by its type and value): a node
    ///   between two edges joins claims with the identical literal object.
    /// - Edges of one pattern may bind the same claim (no relationship
    ///   uniqueness, unlike Cypher; the engine never promised it).
    fn bindings(&self, q: &Q) -> Result<Vec<Binding>, String> {
        let st = self.st;
        // Entities and predicates the store never had are errors (at plan
        // time); an entity declared only after the tx binds nothing there.
        let mut binds_nothing = false;
        for n in &q.nodes {
            if let Some(k) = &n.entity
                && !st.entities.contains_key(k)
            {
                if !self.latest.entities.contains_key(k) {
                    return Err(format!("unknown entity {k}"));
                }
                binds_nothing = true;
            }
        }
        for e in &q.edges {
            if let Some(p) = e.preds.iter().find(|p| !self.latest.predicates.contains_key(*p)) {
                return Err(format!("unknown predicate {p}"));
            }
        }
        if let Some((a, Some(b))) = q.valid
            && a.first_day() >= b.end_day()
        {
            return Err(format!("VALID DURING {a} .. {b} runs backwards"));
        }
        if binds_nothing {
            return Ok(Vec::new());
        }
        let visible = self.visible(q);
        // Per edge: (claims, left value, right value).
        let mut options: Vec<Vec<(Vec<usize>, V, V)>> = Vec::new();
        for e in &q.edges {
            let mut opts = Vec::new();
            for &i in &visible {
                let c = &st.claims[i];
                if !e.preds.is_empty() && !e.preds.contains(&c.p) {
                    continue;
                }
                if !self.props_hold(&V::Claim(i), &e.props)? {
                    continue;
                }
                let (s, o) = (V::Ent(st.canonical(&c.s)), term_val(st, &c.o));
                match e.dir {
                    Dir::Out => opts.push((vec![i], s, o)),
                    Dir::In => opts.push((vec![i], o, s)),
                    Dir::Either => {
                        if ident(&s) != ident(&o) {
                            opts.push((vec![i], o.clone(), s.clone()));
                        }
                        opts.push((vec![i], s, o));
                    }
                }
            }
            if let Some((min, max)) = e.length {
                opts = self.trails(&opts, min, max, &visible);
            }
            options.push(opts);
        }
        let mut out = Vec::new();
        let mut chosen: Vec<(Vec<usize>, V, V)> = Vec::new();
        self.extend(q, &options, &mut chosen, &mut out);
        Ok(out)
    }

    /// The trails of `min..=max` steps (each step one of `steps`, a single
    /// claim in one orientation), as (claims, start, end).
    ///
    /// SEMANTICS:
    /// - A trail never repeats a claim; it may repeat a node.
    /// - It passes through and starts from literal objects like any node
    ///   (from a literal only a step that has it as its object leads on).
    /// - A zero-length trail is one node, start and end: any canonical entity
    ///   or any literal that is the object of a visible claim (a literal node
    ///   exists only as such an object).
    fn trails(
        &self,
        steps: &[(Vec<usize>, V, V)],
        min: u32,
        max: u32,
        visible: &[usize],
    ) -> Vec<(Vec<usize>, V, V)> {
        let mut out = Vec::new();
        if min == 0 {
            let mut nodes: BTreeMap<String, V> = BTreeMap::new();
            for k in self.st.entities.keys() {
                let v = V::Ent(self.st.canonical(k));
                nodes.insert(ident(&v), v);
            }
            for &i in visible {
                let o = term_val(self.st, &self.st.claims[i].o);
                if !matches!(o, V::Ent(_)) {
                    nodes.insert(ident(&o), o);
                }
            }
            out.extend(nodes.into_values().map(|v| (Vec::new(), v.clone(), v)));
        }
        // Depth-first over (claims so far, start, end).
        let mut stack: Vec<(Vec<usize>, V, V)> = steps.to_vec();
        while let Some((claims, start, end)) = stack.pop() {
            let n = claims.len() as u32;
            if n >= min.max(1) {
                out.push((claims.clone(), start.clone(), end.clone()));
            }
            if n >= max {
                continue;
            }
            for (next, from, to) in steps {
                if ident(from) == ident(&end) && !claims.contains(&next[0]) {
                    let mut more = claims.clone();
                    more.push(next[0]);
                    stack.push((more, start.clone(), to.clone()));
                }
            }
        }
        out
    }

    fn extend(
        &self,
        q: &Q,
        options: &[Vec<(Vec<usize>, V, V)>],
        chosen: &mut Vec<(Vec<usize>, V, V)>,
        out: &mut Vec<Binding>,
    ) {
        let k = chosen.len();
        if k == options.len() {
            if let Some(b) = self.bind(q, chosen) {
                out.push(b);
            }
            return;
        }
        for opt in &options[k] {
            // Consecutive edges meet at one node.
            if let Some(prev) = chosen.last()
                && ident(&prev.2) != ident(&opt.1)
            {
                continue;
            }
            chosen.push(opt.clone());
            self.extend(q, options, chosen, out);
            chosen.pop();
        }
    }

    /// Node checks and variables for one choice of claims.
    fn bind(&self, q: &Q, chosen: &[(Vec<usize>, V, V)]) -> Option<Binding> {
        let mut b = Binding::new();
        let node_vals: Vec<&V> = std::iter::once(&chosen[0].1).chain(chosen.iter().map(|c| &c.2)).collect();
        for (i, (n, v)) in q.nodes.iter().zip(node_vals).enumerate() {
            // SEMANTICS: the subject end of a directed edge is an entity,
            // also when a zero-length hop makes it the other end's node.
            let subject =
                (i > 0 && q.edges[i - 1].dir == Dir::In) || q.edges.get(i).is_some_and(|e| e.dir == Dir::Out);
            if subject && !matches!(v, V::Ent(_)) {
                return None;
            }
            if let Some(kind) = &n.kind {
                match v {
                    V::Ent(k) if self.st.entities[k].kind == *kind => {}
                    _ => return None,
                }
            }
            if let Some(key) = &n.entity
                && ident(v) != ident(&V::Ent(self.st.canonical(key)))
            {
                return None;
            }
            // A property map is a check: it passes entities only.
            if !n.props.is_empty() {
                let holds = matches!(v, V::Ent(_)) && self.props_hold(v, &n.props).ok()?;
                if !holds {
                    return None;
                }
            }
            if let Some(var) = &n.var {
                if let Some(had) = b.get(var)
                    && ident(had) != ident(v)
                {
                    return None;
                }
                b.insert(var.clone(), v.clone());
            }
        }
        for (e, c) in q.edges.iter().zip(chosen) {
            if let Some(var) = &e.var {
                b.insert(var.clone(), V::Claim(c.0[0]));
            }
        }
        if q.path {
            b.insert("p".into(), V::Int(chosen.iter().map(|c| c.0.len() as i64).sum()));
        }
        Some(b)
    }

    /// The result rows, each rendered; `Err` when the query must fail.
    fn rows(&self, q: &Q) -> Result<Vec<Vec<V>>, String> {
        let mut kept = Vec::new();
        for b in self.bindings(q)? {
            let keep = match &q.filter {
                None => true,
                Some(f) => matches!(self.eval(&b, f)?, V::Bool(true)),
            };
            if keep {
                kept.push(b);
            }
        }
        if !q.is_aggregate() {
            let mut rows = Vec::new();
            let mut seen = BTreeSet::new();
            for b in &kept {
                let row: Vec<V> = q
                    .items
                    .iter()
                    .map(|i| match i {
                        Item::Expr(e) => self.eval(b, e),
                        Item::Agg(..) => unreachable!(),
                    })
                    .collect::<Result<_, _>>()?;
                // DISTINCT keeps one row per identical row.
                if q.distinct && !seen.insert(row.iter().map(ident).collect::<Vec<_>>()) {
                    continue;
                }
                rows.push(row);
            }
            return Ok(rows);
        }
        // Implicit grouping: the non-aggregate items are the key.
        let mut groups: BTreeMap<Vec<String>, (Vec<V>, Vec<&Binding>)> = BTreeMap::new();
        for b in &kept {
            let mut key = Vec::new();
            for i in &q.items {
                if let Item::Expr(e) = i {
                    key.push(self.eval(b, e)?);
                }
            }
            let id: Vec<String> = key.iter().map(equiv).collect();
            groups.entry(id).or_insert_with(|| (key, Vec::new())).1.push(b);
        }
        let grouping = q.items.iter().any(|i| matches!(i, Item::Expr(_)));
        if groups.is_empty() && !grouping {
            groups.insert(Vec::new(), (Vec::new(), Vec::new()));
        }
        let mut rows = Vec::new();
        for (key, members) in groups.into_values() {
            let mut key = key.into_iter();
            let mut row = Vec::new();
            for i in &q.items {
                row.push(match i {
                    Item::Expr(_) => key.next().unwrap_or(V::Null),
                    Item::Agg(Agg::CountStar, _) => V::Int(members.len() as i64),
                    Item::Agg(a, Some(arg)) => {
                        // Aggregates skip nulls.
                        let mut vals = Vec::new();
                        for b in &members {
                            let v = self.eval(b, arg)?;
                            if !matches!(v, V::Null) {
                                vals.push(v);
                            }
                        }
                        match a {
                            Agg::Count => V::Int(vals.len() as i64),
                            Agg::CountDistinct => {
                                V::Int(vals.iter().map(equiv).collect::<BTreeSet<_>>().len() as i64)
                            }
                            Agg::Min => vals.iter().min_by(|x, y| sort_cmp(x, y)).cloned().unwrap_or(V::Null),
                            Agg::Max => vals.iter().max_by(|x, y| sort_cmp(x, y)).cloned().unwrap_or(V::Null),
                            // Integers sum to an integer (0 for none), else
                            // a float; the average of none is null.
                            Agg::Sum if vals.iter().all(|v| matches!(v, V::Int(_))) => V::Int(
                                vals.iter()
                                    .filter_map(|v| if let V::Int(i) = v { Some(*i) } else { None })
                                    .sum(),
                            ),
                            Agg::Sum => V::Float(vals.iter().filter_map(num).sum()),
                            Agg::Avg if vals.is_empty() => V::Null,
                            Agg::Avg => {
                                V::Float(vals.iter().filter_map(num).sum::<f64>() / vals.len() as f64)
                            }
                            _ => V::List(vals),
                        }
                    }
                    Item::Agg(..) => unreachable!(),
                });
            }
            rows.push(row);
        }
        Ok(rows)
    }

    /// As `Value`'s `Display`; lists (only `collect` makes them) sorted.
    fn render(&self, v: &V) -> String {
        match v {
            V::Null => "null".into(),
            V::Bool(b) => b.to_string(),
            V::Int(i) => i.to_string(),
            V::Float(f) => f.to_string(),
            V::Str(s) => s.clone(),
            V::Date(d) => d.to_string(),
            V::Ent(k) => {
                let e = &self.st.entities[k];
                if e.name == e.key { format!("@{}", e.key) } else { format!("{} (@{})", e.name, e.key) }
            }
            V::Claim(i) => self.st.claims[*i].to_string(),
            V::List(items) => sorted_list(
                items
                    .iter()
                    .map(|i| match i {
                        V::Str(s) => format!("{s:?}"),
                        other => self.render(other),
                    })
                    .collect(),
            ),
        }
    }
}

fn sorted_list(mut items: Vec<String>) -> String {
    items.sort();
    format!("[{}]", items.join(", "))
}

/// An engine value as text: `Display`, with list items sorted (the order of
/// `collect` is the engine's row order, which the test does not fix).
fn render_value(v: &Value) -> String {
    match v {
        Value::List(items) => sorted_list(
            items
                .iter()
                .map(|i| match i {
                    Value::String(s) => format!("{s:?}"),
                    other => render_value(other),
                })
                .collect(),
        ),
        other => other.to_string(),
    }
}

fn render_rows(rows: impl Iterator<Item = Vec<String>>) -> Vec<String> {
    let mut out: Vec<String> = rows.map(|r| r.join(" | ")).collect();
    out.sort();
    out
}

/// Runs one query through the engine and the evaluator; the error text when
/// they disagree.
fn check_query(session: &mut Session, reference: &Reference, q: &Q) -> Result<(), String> {
    let text = q.text();
    let st = reference.at(q.as_of.unwrap_or(reference.head()));
    let ev = Eval { st, latest: reference.at(reference.head()) };
    let want = if q.as_of.is_some_and(|t| t > reference.head()) {
        Err("AS OF TX beyond the head".to_string())
    } else {
        ev.rows(q)
    };
    let want = want.map(|rows| render_rows(rows.iter().map(|r| r.iter().map(|v| ev.render(v)).collect())));
    let got = session
        .execute(&text)
        .map(|r| render_rows(r.rows.iter().map(|r| r.iter().map(render_value).collect())))
        .map_err(|e| e.to_string());
    // `PROP_QUERY_STATS=1` (with `--nocapture`) shows what the generator
    // makes: "rows N", "empty" or "error" and the query, one line each.
    if std::env::var("PROP_QUERY_STATS").is_ok_and(|v| v == "1") {
        match &want {
            Ok(w) if w.is_empty() => eprintln!("empty {text}"),
            Ok(w) => eprintln!("rows {} {text}", w.len()),
            Err(_) => eprintln!("error {text}"),
        }
    }
    match (&got, &want) {
        (Ok(g), Ok(w)) if g == w => Ok(()),
        (Err(_), Err(_)) => Ok(()),
        _ => {
            let show = |r: &Result<Vec<String>, String>| match r {
                Ok(rows) => format!("{} rows\n    {}", rows.len(), rows.join("\n    ")),
                Err(e) => format!("error: {e}"),
            };
            let missing: Vec<&String> = match (&got, &want) {
                (Ok(g), Ok(w)) => w.iter().filter(|r| !g.contains(r)).collect(),
                _ => Vec::new(),
            };
            let extra: Vec<&String> = match (&got, &want) {
                (Ok(g), Ok(w)) => g.iter().filter(|r| !w.contains(r)).collect(),
                _ => Vec::new(),
            };
            Err(format!(
                "query: {text}\nengine: {}\nexpected: {}\nexpected but missing: {missing:?}\nunexpected: {extra:?}",
                show(&got),
                show(&want)
            ))
        }
    }
}

fn property(graph: &GraphSeed, queries: &[Vec<u32>]) -> Result<(), TestCaseError> {
    let store = build(transactions(graph))?;
    let reference = Reference::from_store(&store);
    let world = World { g: graph, head: store.head() };
    let mut session = Session::new(store.clone());
    for entropy in queries {
        let q = gen_query(&world, entropy);
        if let Err(msg) = check_query(&mut session, &reference, &q) {
            return Err(TestCaseError::fail(format!("{msg}\ngraph:\n{}", describe(&store))));
        }
    }
    Ok(())
}

proptest! {
    // 24 cases of 10 queries keep a debug run to a few seconds;
    // `PROPTEST_CASES=500` digs deeper.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(24),
        max_shrink_iters: 4096,
        ..ProptestConfig::default()
    })]

    #[test]
    fn match_answers_like_a_brute_force_evaluator(
        graph in graph_seed(),
        queries in proptest::collection::vec(proptest::collection::vec(any::<u32>(), 48), 1..=10),
    ) {
        property(&graph, &queries)?;
    }
}

// ---------------------------------------------------------------- regressions

/// A store from transactions built by `f`.
fn store_with(f: impl FnOnce(&mut Vec<Transaction>)) -> Store {
    let mut txs = Vec::new();
    f(&mut txs);
    let store = Store::temporary_with(first_use()).expect("a store");
    let (_, err) = store.commit_batch(txs);
    assert!(err.is_none(), "{err:?}");
    store
}

/// The engine's rows, rendered and sorted (or the error).
fn engine_rows(store: &Store, query: &str) -> Vec<String> {
    match Session::new(store.clone()).execute(query) {
        Ok(r) => render_rows(r.rows.iter().map(|r| r.iter().map(render_value).collect())),
        Err(e) => vec![format!("error: {e}")],
    }
}

fn people(tx: &mut Transaction, keys: &[(&str, &str)]) {
    for (key, name) in keys {
        tx.entity(key, "Person", name);
    }
}

fn ent(key: &str) -> Term {
    Term::Entity(key.to_string())
}

/// Bug 1, fixed in c9f5062. A literal object was lost when the planner
/// anchored the chain at the node holding it: `NodeScan` enumerates
/// entities only, and `plan.rs` `choose` took a node without a check
/// ("every entity") as the anchor whenever nothing was estimated cheaper:
/// the first node, or a later one (an end, or a middle node joining
/// identical literals) when the first had a kind whose index count was not
/// smaller.
#[test]
fn a_literal_object_is_found_whichever_end_the_chain_starts_at() {
    let store = store_with(|txs| {
        let mut tx = Transaction::new("t");
        people(&mut tx, &[("e1", "One"), ("e2", "Two"), ("e3", "Three")]);
        txs.push(tx);
        // A kind change leaves a stale entry in the kind index, so `:Person`
        // is estimated no cheaper than every entity.
        let mut tx = Transaction::new("t");
        tx.entity("e3", "Org", "Three");
        txs.push(tx);
        let mut tx = Transaction::new("t");
        tx.assert("e1", "owns", Term::Int(42));
        tx.assert("e1", "owns", ent("e2"));
        tx.assert("e2", "rates", Term::Int(42));
        txs.push(tx);
    });
    let rows = |rows: &[&str]| rows.iter().map(|r| r.to_string()).collect::<Vec<_>>();
    let all = rows(&["42 | c1", "42 | c3", "Two (@e2) | c2"]);
    assert_eq!(engine_rows(&store, "MATCH (x)-[c]->(v) RETURN v, c.id"), all);
    assert_eq!(
        engine_rows(&store, "MATCH (v)<-[c:owns]-(x) RETURN v, c.id"),
        rows(&["42 | c1", "Two (@e2) | c2"])
    );
    // Anchored at `v`: the engine returned only "Two (@e2) | c2".
    assert_eq!(engine_rows(&store, "MATCH (v)<-[c]-(x) RETURN v, c.id"), all);
    // Anchored at `v` because `:Person` costs as much as every entity.
    assert_eq!(
        engine_rows(&store, "MATCH (x:Person)-[c]-(v) RETURN v, c.id"),
        rows(&["42 | c1", "42 | c3", "One (@e1) | c2", "Two (@e2) | c2"])
    );
    // The same at a middle node: it returned only "Two (@e2) | c2 | c2".
    let through =
        rows(&["42 | c1 | c1", "42 | c1 | c3", "42 | c3 | c1", "42 | c3 | c3", "Two (@e2) | c2 | c2"]);
    assert_eq!(engine_rows(&store, "MATCH (x)-[c0]->(v)<-[c1]-(y) RETURN v, c0.id, c1.id"), through);
    assert_eq!(engine_rows(&store, "MATCH (x:Person)-[c0]->(v)<-[c1]-(y) RETURN v, c0.id, c1.id"), through);
}

/// Bug 2, fixed in c9f5062. `-[c]-` matched a self-loop twice when it
/// expanded from a bound node (SPO and OPS postings) and once when it
/// scanned the predicate, and a loop made by a merge (claim `e1 -> e2`, `e2`
/// merged into `e1`) twice either way. `tests/queries/edges.cg` says "from a
/// fixed end, each claim once".
#[test]
fn an_either_direction_self_loop_matches_once() {
    let store = store_with(|txs| {
        let mut tx = Transaction::new("t");
        people(&mut tx, &[("e1", "One"), ("e2", "Two"), ("e3", "Three")]);
        tx.assert("e3", "knows", ent("e3"));
        tx.assert("e1", "likes", ent("e2"));
        txs.push(tx);
    });
    let once = vec!["c1 | Three (@e3) | Three (@e3)".to_string()];
    // Scanned by predicate: once.
    assert_eq!(engine_rows(&store, "MATCH (a)-[c:knows]-(b) RETURN c.id, a, b"), once);
    // Expanded from a bound node: it was twice.
    assert_eq!(engine_rows(&store, "MATCH (a @e3)-[c]-(b) RETURN c.id, a, b"), once);
    assert_eq!(engine_rows(&store, "MATCH (a)-[c]-(b) WHERE c.id = 'c1' RETURN c.id, a, b"), once);
    // The far end unread (not bound, so the loop is told by the subject id).
    assert_eq!(engine_rows(&store, "MATCH (a @e3)-[c]-(b) RETURN c.id"), vec!["c1"]);
    assert_eq!(engine_rows(&store, "MATCH (@e3)-[c]-() RETURN count(*)"), vec!["1"]);
    assert_eq!(engine_rows(&store, "MATCH (@e1)-[c]-(b) RETURN c.id"), vec!["c2"]);
    // A loop made by a merge: it was twice either way.
    let mut tx = Transaction::new("t");
    tx.merge("e2", "e1");
    store.commit(tx).expect("merge");
    let once = vec!["c2 | One (@e1) | One (@e1)".to_string()];
    assert_eq!(engine_rows(&store, "MATCH (a)-[c:likes]-(b) RETURN c.id, a, b"), once);
    assert_eq!(engine_rows(&store, "MATCH (a @e1)-[c:likes]-(b) RETURN c.id, a, b"), once);
    assert_eq!(engine_rows(&store, "MATCH (@e1)-[c:likes]-(b) RETURN c.id"), vec!["c2"]);
    assert_eq!(engine_rows(&store, "MATCH (@e2)-[c]-(b) RETURN c.id"), vec!["c2"]);
}

/// A variable-length undirected edge took a self-loop twice, once from each
/// side (`Expand` reads it once since c9f5062; `VarExpand` did not): `*1..1`
/// gave other rows than a single hop, and a loop inside a longer trail
/// doubled every trail through it. Loops made by a merge too.
#[test]
fn an_either_direction_variable_length_self_loop_is_one_trail() {
    let store = store_with(|txs| {
        let mut tx = Transaction::new("t");
        people(&mut tx, &[("e1", "One"), ("e2", "Two"), ("e3", "Three")]);
        tx.assert("e3", "knows", ent("e3"));
        tx.assert("e1", "likes", ent("e3"));
        tx.assert("e1", "likes", ent("e2"));
        txs.push(tx);
    });
    let ids = |q: &str| -> Vec<String> { engine_rows(&store, q) };
    // One hop either way: each claim once, as a single hop has it.
    assert_eq!(ids("MATCH (@e3)-[c]-(b) RETURN c.id"), vec!["c1", "c2"]);
    assert_eq!(ids("MATCH (@e3)-[c*1]-(b) RETURN count(*)"), vec!["2"]);
    assert_eq!(ids("MATCH (@e3)-[c*1..2]-(b) RETURN b.key"), vec!["e1", "e1", "e2", "e3"]);
    // Through the loop in a longer trail: e1 -c2- e3 -c1- e3 once.
    assert_eq!(ids("MATCH (@e1)-[c:likes|knows*2]-(b) RETURN b.key"), vec!["e3"]);
    // A loop made by a merge (c3 = e1 likes e2, e2 merged into e1).
    let mut tx = Transaction::new("t");
    tx.merge("e2", "e1");
    store.commit(tx).expect("merge");
    assert_eq!(ids("MATCH (@e1)-[c:likes]-(b) RETURN c.id"), vec!["c2", "c3"]);
    assert_eq!(ids("MATCH (@e1)-[c:likes*1]-(b) RETURN count(*)"), vec!["2"]);
}

/// Bug 3, fixed in 32d91c5 (`value::equals`). Two different entities (or
/// claims) compared as null, not as unequal: `a <> b` was never true and
/// `NOT (a = b)` null.
#[test]
fn different_entities_are_unequal() {
    let store = store_with(|txs| {
        let mut tx = Transaction::new("t");
        people(&mut tx, &[("e1", "One"), ("e2", "Two"), ("e3", "Three")]);
        tx.assert("e1", "owns", ent("e2"));
        tx.assert("e1", "owns", ent("e3"));
        txs.push(tx);
    });
    let all = vec!["c1".to_string(), "c2".to_string()];
    assert_eq!(engine_rows(&store, "MATCH (a)-[c:owns]->(b) WHERE a <> b RETURN c.id"), all);
    assert_eq!(engine_rows(&store, "MATCH (a)-[c:owns]->(b) WHERE NOT (a = b) RETURN c.id"), all);
    assert_eq!(engine_rows(&store, "MATCH (a)-[c:owns]->(b) WHERE b <> @e2 RETURN c.id"), vec!["c2"]);
    assert_eq!(
        engine_rows(&store, "MATCH (b)<-[c0:owns]-(a)-[c1:owns]->(d) WHERE c0 <> c1 RETURN c0.id, c1.id"),
        vec!["c1 | c2", "c2 | c1"]
    );
}

/// Bug 4, fixed in c9f5062. A node variable bound twice joined two literals
/// on `=` (`bind` used `value::equals`), which compares dates by period and
/// numbers by value, so a chain closing on `v` through `2024` and `2024-02`
/// (or `42` and `42.0`) matched; a chain *through* a literal node joins
/// identical literals only. One node is one value.
#[test]
fn a_node_bound_twice_is_one_value() {
    let store = store_with(|txs| {
        let mut tx = Transaction::new("t");
        // More entities than claims per predicate, so that the planner scans
        // an edge first (with an anchor at `v`, bug 1 hid this one).
        people(&mut tx, &[("e1", "One"), ("e2", "Two"), ("e3", "Three")]);
        tx.assert("e1", "born", Term::Date(date("2024")));
        tx.assert("e1", "seen", Term::Date(date("2024-02")));
        tx.assert("e1", "score", Term::Int(42));
        tx.assert("e1", "rank", Term::Float(42.0));
        txs.push(tx);
    });
    let none: Vec<String> = Vec::new();
    assert_eq!(engine_rows(&store, "MATCH (v)<-[c0:born]-(a)-[c1:seen]->(v) RETURN v, c0.id, c1.id"), none);
    assert_eq!(engine_rows(&store, "MATCH (v)<-[c0:score]-(a)-[c1:rank]->(v) RETURN v, c0.id, c1.id"), none);
}

/// Bug 5, fixed in c9f5062. A predicate listed twice in the alternatives
/// matched each claim twice (`EdgeSpec::preds` kept duplicates).
#[test]
fn a_predicate_listed_twice_matches_once() {
    let store = store_with(|txs| {
        let mut tx = Transaction::new("t");
        people(&mut tx, &[("e1", "One"), ("e2", "Two")]);
        tx.assert("e1", "owns", ent("e2"));
        txs.push(tx);
    });
    let once = vec!["c1".to_string()];
    assert_eq!(engine_rows(&store, "MATCH (a)-[c:owns|owns]->(b) RETURN c.id"), once);
    assert_eq!(engine_rows(&store, "MATCH (a @e1)-[c:owns|owns]->(b) RETURN c.id"), once);
}

/// Bug 6, fixed in c9f5062. A WHERE conjunct on a node ran as soon as the
/// planner had bound the node (`place_filters`), before the rest of the
/// chain ruled out a literal there, and reading a property of the literal
/// failed; so the same question succeeded or failed with the plan (`v` is
/// the subject of `c1`, hence an entity, in every answer).
#[test]
fn a_where_on_a_node_does_not_depend_on_the_plan() {
    let store = store_with(|txs| {
        let mut tx = Transaction::new("t");
        people(&mut tx, &[("e1", "One"), ("e2", "Two"), ("e3", "Three")]);
        tx.assert("e1", "owns", Term::Int(42));
        tx.assert("e1", "owns", ent("e2"));
        tx.assert("e2", "knows", ent("e3"));
        txs.push(tx);
    });
    let two = vec!["Two".to_string()];
    assert_eq!(
        engine_rows(&store, "MATCH (a)-[c0:owns]->(v)-[c1:knows]->(b) WHERE v.name = 'Two' RETURN v.name"),
        two
    );
    // Anchored at c0: `v.name` was read with v = 42 and failed.
    assert_eq!(
        engine_rows(&store, "MATCH (a)-[c0:owns]->(v)-[c1]->(b) WHERE v.name = 'Two' RETURN v.name"),
        two
    );
}

/// Bug 7, fixed in 2d85008. A directed edge written right to left, `<-[c:p]-`, never
/// matches a self-loop when the planner scans the edge: in `EdgeScan::pull`
/// (`exec/ops.rs`) `Direction::In` skips the forward orientation, and the
/// backward one is skipped too when both ends are the same entity (the
/// once-only rule of `-[c]-`, bug 2). Expanding from a bound node finds the
/// loop, so the answer depends on the plan. Found with
/// `PROP_QUERY_KNOWN_BUGS=1`; it predates the fix of bug 2 (the test `p.s
/// == p.o` was there before). Fix: apply the same-ends rule to
/// `Direction::Either` only.
#[test]
fn a_self_loop_matches_an_incoming_edge() {
    let store = store_with(|txs| {
        let mut tx = Transaction::new("t");
        people(&mut tx, &[("e1", "One"), ("e2", "Two"), ("e3", "Three")]);
        tx.assert("e3", "knows", ent("e3"));
        tx.assert("e1", "knows", ent("e2"));
        txs.push(tx);
    });
    let rows = |rows: &[&str]| rows.iter().map(|r| r.to_string()).collect::<Vec<_>>();
    // Expanded from a bound node: found.
    assert_eq!(
        engine_rows(&store, "MATCH (a @e3)<-[c:knows]-(b) RETURN c.id, b"),
        rows(&["c1 | Three (@e3)"])
    );
    assert_eq!(
        engine_rows(&store, "MATCH (a)-[c:knows]->(b) RETURN c.id, a, b"),
        rows(&["c1 | Three (@e3) | Three (@e3)", "c2 | One (@e1) | Two (@e2)"])
    );
    // Scanned by predicate: the engine returns only "c2 | Two (@e2) | One (@e1)".
    assert_eq!(
        engine_rows(&store, "MATCH (a)<-[c:knows]-(b) RETURN c.id, a, b"),
        rows(&["c1 | Three (@e3) | Three (@e3)", "c2 | Two (@e2) | One (@e1)"])
    );
    // A loop made by a merge, likewise.
    let mut tx = Transaction::new("t");
    tx.assert("e1", "likes", ent("e2"));
    tx.merge("e2", "e1");
    store.commit(tx).expect("merge");
    assert_eq!(
        engine_rows(&store, "MATCH (a)<-[c:likes]-(b) RETURN c.id, a, b"),
        rows(&["c3 | One (@e1) | One (@e1)"])
    );
}

/// Bug 8 (what remained of bug 6), fixed in b6aa307 by reading properties
/// of literals as null. The planner marks a node pattern "entity only" when
/// it is the subject end of one of its edges (`Planner::pattern`,
/// `check.entity_only`), per position, not per variable: in a cycle the
/// occurrence that is only an object was unmarked, an edge scan bound a
/// literal there, and a WHERE conjunct placed right after it failed reading
/// a property of the literal.
#[test]
fn a_variable_that_is_a_subject_somewhere_is_an_entity_everywhere() {
    let store = store_with(|txs| {
        let mut tx = Transaction::new("t");
        people(&mut tx, &[("e1", "One"), ("e2", "Two"), ("e3", "Three"), ("e4", "Four")]);
        tx.assert("e1", "cites", Term::String("hello".into()));
        tx.assert("e1", "cites", ent("e2"));
        tx.assert("e2", "cites", ent("e1"));
        txs.push(tx);
    });
    let want = vec!["One (@e1) | Two (@e2)".to_string(), "Two (@e2) | One (@e1)".to_string()];
    assert_eq!(engine_rows(&store, "MATCH (n)<-[c0:cites]-(m)<-[c1:cites]-(n) RETURN n, m"), want);
    // The scan of `c0` binds n = "hello" first; this failed with "cannot read
    // property `name` of a string".
    assert_eq!(
        engine_rows(&store, "MATCH (n)<-[c0:cites]-(m)<-[c1:cites]-(n) WHERE n.name <> 'x' RETURN n, m"),
        want
    );
}

/// The evaluator against hand-checked answers, so that it is not only
/// compared with the engine.
#[test]
fn the_evaluator_answers_hand_checked_queries() {
    let store = store_with(|txs| {
        let mut tx = Transaction::new("t");
        people(&mut tx, &[("e0", "Zero"), ("e1", "One"), ("e2", "Two")]);
        tx.entity("e3", "Org", "e3");
        txs.push(tx);
        let mut tx = Transaction::new("t");
        tx.assert("e0", "knows", ent("e1")).valid = ValidTime::during(date("2024-02"));
        let c2 = tx.assert("e1", "knows", ent("e3"));
        c2.stance = Stance::Denies;
        c2.confidence = Some(0.5);
        tx.assert("e2", "owns", Term::Int(42)).valid = ValidTime { from: Some(date("2025")), to: None };
        txs.push(tx);
        let mut tx = Transaction::new("t");
        tx.retract("c2", "wrong");
        tx.merge("e2", "e0");
        txs.push(tx);
    });
    let reference = Reference::from_store(&store);
    let node = |var: &str| NodeP { var: Some(var.into()), kind: None, entity: None, props: Vec::new() };
    let edge = |var: &str, dir| EdgeP {
        var: Some(var.into()),
        dir,
        preds: Vec::new(),
        props: Vec::new(),
        length: None,
    };
    let q = |nodes, edges, items, as_of, include_retracted| Q {
        nodes,
        edges,
        filter: None,
        distinct: false,
        items,
        as_of,
        valid: None,
        include_retracted,
        path: false,
    };
    let answer = |q: &Q| {
        let st = reference.at(q.as_of.unwrap_or(reference.head()));
        let ev = Eval { st, latest: reference.at(reference.head()) };
        let rows = ev.rows(q).expect("no error");
        render_rows(rows.iter().map(|r| r.iter().map(|v| ev.render(v)).collect()))
    };
    let var = |v: &str| Item::Expr(Ex::Var(v.into()));
    // e2 is merged into e0: its claim is e0's.
    let one_hop =
        q(vec![node("a"), node("b")], vec![edge("c", Dir::Out)], vec![var("a"), var("b")], None, false);
    assert_eq!(answer(&one_hop), vec!["Zero (@e0) | 42", "Zero (@e0) | One (@e1)"]);
    // As of tx 2: c2 is live, e2 is its own entity.
    let at_two = Q { as_of: Some(2), ..one_hop.clone() };
    assert_eq!(answer(&at_two), vec!["One (@e1) | @e3", "Two (@e2) | 42", "Zero (@e0) | One (@e1)"]);
    // Two hops either way round e1, with the retracted claim.
    let two_hops = q(
        vec![node("a"), node("m"), node("b")],
        vec![edge("c0", Dir::Either), edge("c1", Dir::Either)],
        vec![var("a"), var("b")],
        None,
        true,
    );
    // Through e1: c1 or c2 in, c1 or c2 out (a claim may serve both edges);
    // through e0: c1 or c3 (e2's, literal end); through e3: c2 twice;
    // through the literal 42: c3 twice.
    assert_eq!(
        answer(&two_hops),
        vec![
            "42 | 42",
            "42 | One (@e1)",
            "@e3 | @e3",
            "@e3 | Zero (@e0)",
            "One (@e1) | 42",
            "One (@e1) | One (@e1)",
            "One (@e1) | One (@e1)",
            "Zero (@e0) | @e3",
            "Zero (@e0) | Zero (@e0)",
            "Zero (@e0) | Zero (@e0)",
        ]
    );
    // Aggregates: count(*), min of the confidences (one is null), collect.
    let agg = Q {
        valid: Some((date("2024"), None)),
        ..q(
            vec![node("a"), node("b")],
            vec![edge("c", Dir::Out)],
            vec![
                Item::Agg(Agg::CountStar, None),
                Item::Agg(Agg::Min, Some(prop("c", &["confidence"]))),
                Item::Agg(Agg::Collect, Some(prop("c", &["stance"]))),
            ],
            None,
            true,
        )
    };
    assert_eq!(answer(&agg), vec!["2 | 0.5 | [\"asserts\", \"denies\"]"]);
    // Three-valued logic: NOT of a null comparison keeps nothing.
    let null_filter = Q {
        filter: Some(Ex::Not(Box::new(Ex::Cmp(
            Op::Gt,
            Box::new(prop("c", &["confidence"])),
            Box::new(Ex::Lit(V::Float(0.25))),
        )))),
        ..q(vec![node("a"), node("b")], vec![edge("c", Dir::Out)], vec![var("b")], None, true)
    };
    assert_eq!(answer(&null_filter), Vec::<String>::new());
    // Dates by period: 2024-02 = 2024 and 2024-02 < 2025.
    let dates = Q {
        filter: Some(Ex::And(vec![
            Ex::Cmp(Op::Eq, Box::new(prop("c", &["valid_from"])), Box::new(Ex::Lit(V::Int(2024)))),
            Ex::Cmp(Op::Lt, Box::new(prop("c", &["valid_to"])), Box::new(Ex::Lit(V::Date(date("2025-01"))))),
        ])),
        ..q(vec![node("a"), node("b")], vec![edge("c", Dir::Out)], vec![var("b")], None, false)
    };
    assert_eq!(answer(&dates), vec!["One (@e1)"]);
    // And the engine agrees.
    let mut session = Session::new(store.clone());
    for query in [&one_hop, &at_two, &two_hops, &agg, &null_filter, &dates] {
        check_query(&mut session, &reference, query).unwrap_or_else(|e| panic!("{e}"));
    }
}
