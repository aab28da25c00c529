//! Property test: random valid transaction sequences (entities, documents,
//! predicates, assertions with qualifiers, retractions, merges and unmerges),
//! with some invalid transactions mixed in, committed one by one or in bulk.
//! At random as-of points (always 0 and the head) the store's indexes must
//! answer exactly as the reference model (`reference/mod.rs`), a naive fold of
//! the log: entity lookups by key, name and alias, `entities`, `predicates`,
//! `claim`, `stats`, `tx_at_time` and a set of claim queries; then again after
//! `rebuild_indexes`; `verify` (indexes equal a fresh rebuild) must pass; and a
//! JSONL export → import → export must give the same bytes.
//!
//! Transactions are generated from *seeds* interpreted against a small model of
//! what is declared, merged and live, so every generated operation is valid;
//! an invalid operation is added on purpose to some transactions, which the
//! store must reject without a trace. The generator also predicts how the
//! store resolves each event (folded keys, canonical entities, claim ids,
//! `said_at`), and the resolved events in the log are checked against that.

mod common;
use common::*;

mod reference;

use std::collections::{BTreeMap, BTreeSet};

use claimgraph::model::{
    AssertEvent, Attrs, Claim, Date, DayRange, DocumentEvent, Entity, EntityEvent, Event, PredicateEvent,
    Receipt, Stance, Term, Timestamp, ValidTime,
};
use claimgraph::{ClaimQuery, Store, StoreError, Transaction};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use reference::{Reference, State};

const ENTITY_KEYS: [&str; 6] = ["e0", "e1", "e2", "e3", "e4", "e5"];
const DOC_KEYS: [&str; 3] = ["d0", "d1", "e5"];
const PREDICATES: [&str; 4] = ["knows", "owns", "said_about", "located_in"];
/// Entity names; `E2` folds to another entity's key, `beta` shares a name.
const NAMES: [&str; 5] = ["Alpha", "Beta", "beta", "Gamma Group", "E2"];
const ALIASES: [&str; 4] = ["A.", "Al", "the beta", "ALPHA"];
const TITLES: [&str; 3] = ["Report One", "Alpha", "Weekly Notes"];
const KINDS: [&str; 3] = ["Country", "Person", "Org"];
const QUALIFIER_NAMES: [&str; 3] = ["via", "rank", "when_said"];
/// Texts looked up as entities and used in entity filters.
const LOOKUPS: [&str; 14] =
    ["e0", "e1", "e2", "e3", "e4", "e5", "d0", "d1", "E1", "zz", "Alpha", "BETA", " al ", "Report One"];

fn all_keys() -> Vec<&'static str> {
    let mut keys: Vec<&str> = ENTITY_KEYS.to_vec();
    keys.extend(["d0", "d1"]);
    keys
}

fn date(text: &str) -> Date {
    text.parse().expect("a valid date")
}

/// Literal objects and qualifier values: every type, dates of every precision.
fn literals() -> Vec<Term> {
    vec![
        Term::String("e1".into()),
        Term::String("hello".into()),
        Term::Int(0),
        Term::Int(-7),
        Term::Int(42),
        Term::Float(0.5),
        Term::Float(-2.25),
        Term::Float(42.0),
        Term::Bool(true),
        Term::Bool(false),
        Term::Date(date("2024")),
        Term::Date(date("2024-02")),
        Term::Date(date("2024-02-29")),
        Term::Date(date("2024-01")),
        Term::Date(date("2025-03-04")),
    ]
}

// ---------------------------------------------------------------- seeds

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

/// A valid time: always, one period, or from/to with either end open.
fn valid_time(a: Option<DateSeed>, b: Option<DateSeed>, during: bool) -> ValidTime {
    if during && let Some(a) = a {
        return ValidTime::during(a.date());
    }
    let (from, to) = (a.map(DateSeed::date), b.map(DateSeed::date));
    let v = ValidTime { from, to };
    if v.check().is_ok() { v } else { ValidTime { from: to, to: from } }
}

#[derive(Debug, Clone)]
enum TermSeed {
    Entity(usize),
    Literal(usize),
}

fn term_seed() -> impl Strategy<Value = TermSeed> {
    prop_oneof![any::<usize>().prop_map(TermSeed::Entity), any::<usize>().prop_map(TermSeed::Literal),]
}

#[derive(Debug, Clone)]
struct AssertSeed {
    s: usize,
    p: usize,
    o: TermSeed,
    by: Option<usize>,
    source: Option<usize>,
    valid: (Option<DateSeed>, Option<DateSeed>, bool),
    said_at: Option<DateSeed>,
    stance: u8,
    confidence: Option<u8>,
    quote: bool,
    qualifiers: Vec<(usize, TermSeed)>,
    /// A chosen claim id: `c<n>` (the store's own form) when free, else `k<n>`.
    explicit_id: Option<u8>,
    upper: bool,
}

fn assert_seed() -> impl Strategy<Value = AssertSeed> {
    (
        (any::<usize>(), 0usize..4, term_seed()),
        (proptest::option::weighted(0.3, any::<usize>()), proptest::option::weighted(0.5, any::<usize>())),
        (proptest::option::of(date_seed()), proptest::option::of(date_seed()), any::<bool>()),
        proptest::option::weighted(0.2, date_seed()),
        (0u8..3, proptest::option::of(0u8..=4), any::<bool>()),
        proptest::collection::vec((0usize..3, term_seed()), 0..3),
        (proptest::option::weighted(0.2, 0u8..60), proptest::bool::weighted(0.2)),
    )
        .prop_map(
            |(
                (s, p, o),
                (by, source),
                valid,
                said_at,
                (stance, confidence, quote),
                qualifiers,
                (explicit_id, upper),
            )| {
                AssertSeed {
                    s,
                    p,
                    o,
                    by,
                    source,
                    valid,
                    said_at,
                    stance,
                    confidence,
                    quote,
                    qualifiers,
                    explicit_id,
                    upper,
                }
            },
        )
}

#[derive(Debug, Clone)]
enum OpSeed {
    Entity {
        key: usize,
        kind: Option<usize>,
        name: Option<usize>,
        aliases: Option<Vec<usize>>,
        attrs: Option<Vec<(usize, TermSeed)>>,
        upper: bool,
    },
    Document {
        key: usize,
        title: Option<usize>,
        published: Option<DateSeed>,
        extra: bool,
        upper: bool,
    },
    Predicate {
        p: usize,
        functional: Option<bool>,
        description: Option<usize>,
    },
    Assert(Box<AssertSeed>),
    Retract {
        pick: usize,
        reason: bool,
    },
    Merge {
        pick: usize,
        upper: bool,
    },
    Unmerge {
        pick: usize,
    },
}

fn op_seed() -> impl Strategy<Value = OpSeed> {
    let entity = (
        0usize..8,
        proptest::option::of(0usize..KINDS.len()),
        proptest::option::of(0usize..NAMES.len()),
        proptest::option::weighted(0.4, proptest::collection::vec(0usize..ALIASES.len(), 0..3)),
        proptest::option::weighted(0.3, proptest::collection::vec((0usize..3, term_seed()), 0..3)),
        proptest::bool::weighted(0.2),
    )
        .prop_map(|(key, kind, name, aliases, attrs, upper)| OpSeed::Entity {
            key,
            kind,
            name,
            aliases,
            attrs,
            upper,
        });
    let document = (
        0usize..DOC_KEYS.len(),
        proptest::option::of(0usize..TITLES.len()),
        proptest::option::weighted(0.8, date_seed()),
        any::<bool>(),
        proptest::bool::weighted(0.2),
    )
        .prop_map(|(key, title, published, extra, upper)| OpSeed::Document {
            key,
            title,
            published,
            extra,
            upper,
        });
    let predicate =
        (0usize..PREDICATES.len(), proptest::option::of(any::<bool>()), proptest::option::of(0usize..3))
            .prop_map(|(p, functional, description)| OpSeed::Predicate { p, functional, description });
    prop_oneof![
        3 => entity,
        1 => document,
        1 => predicate,
        6 => assert_seed().prop_map(|a| OpSeed::Assert(Box::new(a))),
        2 => (any::<usize>(), any::<bool>()).prop_map(|(pick, reason)| OpSeed::Retract { pick, reason }),
        2 => (any::<usize>(), proptest::bool::weighted(0.2)).prop_map(|(pick, upper)| OpSeed::Merge { pick, upper }),
        1 => any::<usize>().prop_map(|pick| OpSeed::Unmerge { pick }),
    ]
}

/// The ways a transaction is made invalid on purpose.
const INVALID_KINDS: u8 = 22;

#[derive(Debug, Clone)]
struct TxSeed {
    ops: Vec<OpSeed>,
    /// An invalid operation (kind, pick) appended after the valid ones.
    invalid: Option<(u8, usize)>,
    /// Commit together with the next transaction (bulk path).
    batch_with_next: bool,
    /// Microseconds after the previous transaction (explicit-time cases).
    time_step: u8,
    message: bool,
    expect_tx: bool,
}

fn tx_seed() -> impl Strategy<Value = TxSeed> {
    (
        proptest::collection::vec(op_seed(), 1..=6),
        proptest::option::weighted(0.15, (0u8..INVALID_KINDS, any::<usize>())),
        proptest::bool::weighted(0.3),
        0u8..4,
        any::<bool>(),
        proptest::bool::weighted(0.2),
    )
        .prop_map(|(ops, invalid, batch_with_next, time_step, message, expect_tx)| TxSeed {
            ops,
            invalid,
            batch_with_next,
            time_step,
            message,
            expect_tx,
        })
}

/// A claim query over the lookup texts, predicates and literals.
#[derive(Debug, Clone)]
struct QuerySeed {
    subject: Option<usize>,
    predicate: Option<usize>,
    object: Option<TermSeed>,
    by: Option<usize>,
    source: Option<usize>,
    valid: Option<(Option<DateSeed>, Option<DateSeed>, bool)>,
    include_retracted: bool,
}

fn query_seed() -> impl Strategy<Value = QuerySeed> {
    (
        proptest::option::weighted(0.4, 0usize..LOOKUPS.len()),
        proptest::option::weighted(0.4, 0usize..PREDICATES.len() + 1),
        proptest::option::weighted(0.3, term_seed()),
        proptest::option::weighted(0.15, 0usize..LOOKUPS.len()),
        proptest::option::weighted(0.15, 0usize..LOOKUPS.len()),
        proptest::option::weighted(
            0.5,
            (proptest::option::of(date_seed()), proptest::option::of(date_seed()), any::<bool>()),
        ),
        any::<bool>(),
    )
        .prop_map(|(subject, predicate, object, by, source, valid, include_retracted)| QuerySeed {
            subject,
            predicate,
            object,
            by,
            source,
            valid,
            include_retracted,
        })
}

impl QuerySeed {
    fn query(&self) -> ClaimQuery {
        let text = |i: usize| LOOKUPS[i].to_string();
        ClaimQuery {
            subject: self.subject.map(text),
            predicate: self.predicate.map(|i| PREDICATES.get(i).copied().unwrap_or("never_used").to_string()),
            object: self.object.as_ref().map(|o| match o {
                TermSeed::Entity(i) => Term::Entity(LOOKUPS[i % LOOKUPS.len()].to_string()),
                TermSeed::Literal(i) => literals()[i % literals().len()].clone(),
            }),
            by: self.by.map(text),
            source: self.source.map(text),
            valid: self.valid.map(|(a, b, during)| valid_time(a, b, during).days()),
            include_retracted: self.include_retracted,
        }
    }
}

#[derive(Debug, Clone)]
struct CaseSeed {
    txs: Vec<TxSeed>,
    /// Recorded-at given explicitly (from `time_base`) instead of the clock.
    explicit_time: bool,
    time_base: i64,
    queries: Vec<QuerySeed>,
    /// As-of points to check besides 0 and the head (taken modulo head + 1).
    as_of_points: Vec<usize>,
}

fn case_seed() -> impl Strategy<Value = CaseSeed> {
    (
        proptest::collection::vec(tx_seed(), 5..=15),
        any::<bool>(),
        prop_oneof![Just(-1_000_000_000_000i64), Just(0i64), Just(1_741_078_800_000_000i64)],
        proptest::collection::vec(query_seed(), 8..=14),
        proptest::collection::vec(any::<usize>(), 3..=5),
    )
        .prop_map(|(txs, explicit_time, time_base, queries, as_of_points)| CaseSeed {
            txs,
            explicit_time,
            time_base,
            queries,
            as_of_points,
        })
}

// ---------------------------------------------------------------- generator

/// What the generator knows of the store: enough to make valid events and to
/// predict how the store resolves them.
#[derive(Debug, Clone, Default)]
struct Gen {
    declared: BTreeSet<String>,
    /// Keys that had a document event, with their published date.
    documents: BTreeMap<String, Option<Date>>,
    merged_into: BTreeMap<String, String>,
    /// Claim ids in assertion order, with whether each is live.
    claims: Vec<(String, bool)>,
    /// The seq the next assertion gets (auto ids are `c<seq>`).
    next_seq: u64,
    next_explicit: u64,
}

/// One generated transaction and what the store should make of it.
struct GenTx {
    tx: Transaction,
    /// The resolved events the log should hold (valid transactions only).
    resolved: Vec<Event>,
    claim_ids: Vec<String>,
    /// The kind of error expected, for invalid transactions.
    expect_error: Option<&'static str>,
}

fn cased(key: &str, upper: bool) -> String {
    if upper { key.to_uppercase() } else { key.to_string() }
}

impl Gen {
    fn new() -> Gen {
        Gen { next_seq: 1, ..Gen::default() }
    }

    fn canonical(&self, key: &str) -> String {
        let mut k = key.to_lowercase();
        while let Some(next) = self.merged_into.get(&k) {
            k = next.clone();
        }
        k
    }

    fn pick_declared(&self, i: usize) -> Option<String> {
        let keys: Vec<&String> = self.declared.iter().collect();
        (!keys.is_empty()).then(|| keys[i % keys.len()].clone())
    }

    fn claim_taken(&self, id: &str) -> bool {
        self.claims.iter().any(|(c, _)| c == id)
    }

    /// The id the store assigns: `c<seq>`, or `c<seq>_<k>` if that is taken.
    fn fresh_claim_id(&self) -> String {
        let base = format!("c{}", self.next_seq);
        if !self.claim_taken(&base) {
            return base;
        }
        (1..).map(|k| format!("{base}_{k}")).find(|id| !self.claim_taken(id)).expect("a free id")
    }

    fn sources(&self) -> Vec<String> {
        self.declared.iter().filter(|k| self.documents.contains_key(&self.canonical(k))).cloned().collect()
    }

    /// A term and its resolved form; `None` if it names an entity and none is declared.
    fn term(&self, seed: &TermSeed, upper: bool) -> Option<(Term, Term)> {
        match seed {
            TermSeed::Entity(i) => {
                let k = self.pick_declared(*i)?;
                Some((Term::Entity(cased(&k, upper)), Term::Entity(self.canonical(&k))))
            }
            TermSeed::Literal(i) => {
                let lits = literals();
                let t = lits[i % lits.len()].clone();
                Some((t.clone(), t))
            }
        }
    }

    fn attrs(&self, seeds: &[(usize, TermSeed)], upper: bool) -> (Attrs, Attrs) {
        let (mut given, mut resolved) = (Attrs::new(), Attrs::new());
        for (name, seed) in seeds {
            if let Some((g, r)) = self.term(seed, upper) {
                let name = QUALIFIER_NAMES[name % QUALIFIER_NAMES.len()].to_string();
                given.insert(name.clone(), g);
                resolved.insert(name, r);
            }
        }
        (given, resolved)
    }

    /// Turns a seed into a valid event and its resolved form, updating the
    /// model; `None` when the seed fits nothing in the current state.
    fn op(&mut self, seed: &OpSeed) -> Option<(Event, Event)> {
        match seed {
            OpSeed::Entity { key, kind, name, aliases, attrs, upper } => {
                let k = all_keys()[key % 8];
                let (given_attrs, resolved_attrs) = match attrs {
                    Some(a) => {
                        let (g, r) = self.attrs(a, *upper);
                        (Some(g), Some(r))
                    }
                    None => (None, None),
                };
                let given = EntityEvent {
                    key: cased(k, *upper),
                    kind: kind.map(|i| KINDS[i].to_string()),
                    name: name.map(|i| NAMES[i].to_string()),
                    aliases: aliases.as_ref().map(|v| v.iter().map(|&i| ALIASES[i].to_string()).collect()),
                    attrs: given_attrs,
                };
                let resolved = EntityEvent { key: k.to_string(), attrs: resolved_attrs, ..given.clone() };
                self.declared.insert(k.to_string());
                Some((Event::Entity(given), Event::Entity(resolved)))
            }
            OpSeed::Document { key, title, published, extra, upper } => {
                let k = DOC_KEYS[key % DOC_KEYS.len()];
                let published = published.map(DateSeed::date);
                let given = DocumentEvent {
                    key: cased(k, *upper),
                    title: title.map(|i| TITLES[i].to_string()),
                    publisher: extra.then(|| "Cailian News".to_string()),
                    published,
                    url: extra.then(|| "https://example.org/a".to_string()),
                    language: extra.then(|| "en".to_string()),
                    text: extra.then(|| "Some text.".to_string()),
                };
                let resolved = DocumentEvent { key: k.to_string(), ..given.clone() };
                self.declared.insert(k.to_string());
                let slot = self.documents.entry(k.to_string()).or_insert(None);
                if published.is_some() {
                    *slot = published;
                }
                Some((Event::Document(given), Event::Document(resolved)))
            }
            OpSeed::Predicate { p, functional, description } => {
                let e = Event::Predicate(PredicateEvent {
                    key: PREDICATES[*p].to_string(),
                    description: description.map(|i| format!("description {i}")),
                    functional: *functional,
                });
                Some((e.clone(), e))
            }
            OpSeed::Assert(a) => self.assert(a),
            OpSeed::Retract { pick, reason } => {
                let live: Vec<usize> = (0..self.claims.len()).filter(|&i| self.claims[i].1).collect();
                if live.is_empty() {
                    return None;
                }
                let i = live[pick % live.len()];
                self.claims[i].1 = false;
                let e = Event::Retract {
                    claim: self.claims[i].0.clone(),
                    reason: reason.then(|| "wrong".to_string()),
                };
                Some((e.clone(), e))
            }
            OpSeed::Merge { pick, upper } => {
                let mut pairs = Vec::new();
                for from in &self.declared {
                    if self.merged_into.contains_key(from) {
                        continue;
                    }
                    for into in &self.declared {
                        if into != from && self.canonical(into) != *from {
                            pairs.push((from.clone(), into.clone()));
                        }
                    }
                }
                if pairs.is_empty() {
                    return None;
                }
                let (from, into) = pairs[pick % pairs.len()].clone();
                self.merged_into.insert(from.clone(), into.clone());
                Some((
                    Event::Merge { from: cased(&from, *upper), into: cased(&into, *upper) },
                    Event::Merge { from, into },
                ))
            }
            OpSeed::Unmerge { pick } => {
                let merged: Vec<String> = self.merged_into.keys().cloned().collect();
                if merged.is_empty() {
                    return None;
                }
                let k = merged[pick % merged.len()].clone();
                self.merged_into.remove(&k);
                let e = Event::Unmerge { entity: k };
                Some((e.clone(), e))
            }
        }
    }

    fn assert(&mut self, a: &AssertSeed) -> Option<(Event, Event)> {
        let s = self.pick_declared(a.s)?;
        let (o, o_resolved) = self.term(&a.o, a.upper)?;
        let by = a.by.and_then(|i| self.pick_declared(i));
        let sources = self.sources();
        let source = a.source.filter(|_| !sources.is_empty()).map(|i| sources[i % sources.len()].clone());
        let (qualifiers, qualifiers_resolved) = self.attrs(&a.qualifiers, a.upper);
        let (valid_from, valid_to, during) = a.valid;
        let explicit = a.explicit_id.map(|n| {
            let own_form = format!("c{n}");
            if n < 40 && !self.claim_taken(&own_form) {
                own_form
            } else {
                self.next_explicit += 1;
                format!("k{}", self.next_explicit)
            }
        });
        let given = AssertEvent {
            claim: explicit.as_ref().map(|id| cased(id, a.upper)),
            s: cased(&s, a.upper),
            p: PREDICATES[a.p].to_string(),
            o,
            by: by.as_ref().map(|k| cased(k, a.upper)),
            source: source.as_ref().map(|k| cased(k, a.upper)),
            valid: valid_time(valid_from, valid_to, during),
            said_at: a.said_at.map(DateSeed::date),
            stance: [Stance::Asserts, Stance::Suggests, Stance::Denies][a.stance as usize % 3],
            confidence: a.confidence.map(|c| f64::from(c) / 4.0),
            quote: a.quote.then(|| "\"quoted\" — text".to_string()),
            qualifiers,
        };
        let id = explicit.unwrap_or_else(|| self.fresh_claim_id());
        self.next_seq += 1;
        let source_resolved = source.as_ref().map(|k| self.canonical(k));
        let said_at = given
            .said_at
            .or_else(|| source_resolved.as_ref().and_then(|k| self.documents.get(k).copied().flatten()));
        let resolved = AssertEvent {
            claim: Some(id.clone()),
            s: self.canonical(&s),
            o: o_resolved,
            by: by.as_ref().map(|k| self.canonical(k)),
            source: source_resolved,
            said_at,
            qualifiers: qualifiers_resolved,
            ..given.clone()
        };
        self.claims.push((id, true));
        Some((Event::Assert(given), Event::Assert(resolved)))
    }

    /// An event that breaks a rule in the current state, and the kind of
    /// error expected. Some kinds are about the transaction, not an event:
    /// those return no event and are applied by the caller.
    fn invalid(&self, kind: u8, pick: usize) -> (Option<Event>, &'static str) {
        let unknown_subject =
            || (Some(Event::Assert(AssertEvent::new("zz", "knows", Term::Int(1)))), "invalid");
        let some_declared = self.pick_declared(pick);
        let assert_on = |s: &str| AssertEvent::new(s, "knows", Term::Int(1));
        match kind {
            0 => unknown_subject(),
            1 => {
                let retracted: Vec<&String> = self.claims.iter().filter(|c| !c.1).map(|c| &c.0).collect();
                let claim = if retracted.is_empty() {
                    "no_such_claim".to_string()
                } else {
                    retracted[pick % retracted.len()].clone()
                };
                (Some(Event::Retract { claim, reason: None }), "invalid")
            }
            2 => (Some(Event::Retract { claim: "c999".into(), reason: None }), "invalid"),
            3 => match some_declared {
                Some(k) => (Some(Event::Merge { from: k.to_uppercase(), into: k }), "invalid"),
                None => unknown_subject(),
            },
            4 => {
                // Merge a root into one of its members: a cycle.
                let members: Vec<&String> = self.merged_into.keys().collect();
                if members.is_empty() {
                    return unknown_subject();
                }
                let m = members[pick % members.len()];
                (Some(Event::Merge { from: self.canonical(m), into: m.clone() }), "invalid")
            }
            5 => {
                let members: Vec<&String> = self.merged_into.keys().collect();
                match (members.is_empty(), some_declared) {
                    (false, Some(into)) => {
                        (Some(Event::Merge { from: members[pick % members.len()].clone(), into }), "invalid")
                    }
                    _ => unknown_subject(),
                }
            }
            6 => {
                let free: Vec<&String> =
                    self.declared.iter().filter(|k| !self.merged_into.contains_key(*k)).collect();
                let entity = if free.is_empty() { "zz".to_string() } else { free[pick % free.len()].clone() };
                (Some(Event::Unmerge { entity }), "invalid")
            }
            7 => {
                let mut a = assert_on(&some_declared.unwrap_or_else(|| "zz".into()));
                a.valid = ValidTime { from: Some(date("2025-03")), to: Some(date("2025-01")) };
                (Some(Event::Assert(a)), "invalid")
            }
            8 => {
                let mut a = assert_on(&some_declared.unwrap_or_else(|| "zz".into()));
                a.confidence = Some(if pick.is_multiple_of(2) { 1.5 } else { -0.1 });
                (Some(Event::Assert(a)), "invalid")
            }
            9 => (
                Some(Event::Entity(EntityEvent { key: "bad-key".into(), ..EntityEvent::default() })),
                "invalid",
            ),
            10 => {
                let mut a = assert_on(&some_declared.unwrap_or_else(|| "zz".into()));
                a.p = "BadPredicate".into();
                (Some(Event::Assert(a)), "invalid")
            }
            11 => match (self.claims.is_empty(), some_declared) {
                (false, Some(s)) => {
                    let mut a = assert_on(&s);
                    a.claim = Some(self.claims[pick % self.claims.len()].0.clone());
                    (Some(Event::Assert(a)), "invalid")
                }
                _ => unknown_subject(),
            },
            12 => {
                let plain: Vec<&String> = self
                    .declared
                    .iter()
                    .filter(|k| !self.documents.contains_key(&self.canonical(k)))
                    .collect();
                if plain.is_empty() {
                    return unknown_subject();
                }
                let k = plain[pick % plain.len()];
                let mut a = assert_on(k);
                a.source = Some(k.clone());
                (Some(Event::Assert(a)), "invalid")
            }
            13 => (None, "empty"),
            14 => {
                let mut a = assert_on(&some_declared.unwrap_or_else(|| "zz".into()));
                a.o = Term::Float(f64::NAN);
                (Some(Event::Assert(a)), "invalid")
            }
            15 => {
                let mut a = assert_on(&some_declared.unwrap_or_else(|| "zz".into()));
                a.qualifiers.insert("by".into(), Term::Bool(true));
                (Some(Event::Assert(a)), "invalid")
            }
            16 => (None, "time"),
            17 => (None, "tx"),
            18 => (None, "hash"),
            19 => {
                let mut a = assert_on(&some_declared.unwrap_or_else(|| "zz".into()));
                a.o = Term::Entity("zz".into());
                (Some(Event::Assert(a)), "invalid")
            }
            20 => (
                Some(Event::Entity(EntityEvent {
                    key: "e0".into(),
                    name: Some("  ".into()),
                    ..EntityEvent::default()
                })),
                "invalid",
            ),
            _ => {
                let mut a = assert_on(&some_declared.unwrap_or_else(|| "zz".into()));
                a.source = Some("zz".into());
                (Some(Event::Assert(a)), "invalid")
            }
        }
    }
}

fn error_kind(e: &StoreError) -> &'static str {
    match e {
        StoreError::Invalid(_) => "invalid",
        StoreError::InvalidInput(_) => "empty",
        StoreError::TimeGoesBackwards { .. } => "time",
        StoreError::TxOutOfOrder { .. } => "tx",
        StoreError::HashMismatch { .. } => "hash",
        _ => "other",
    }
}

// ---------------------------------------------------------------- the run

/// Everything that happened while committing a case.
struct Run {
    store: Store,
    /// The resolved events each committed tx should have logged.
    expected: Vec<Vec<Event>>,
    /// Every claim id ever asserted.
    claim_ids: Vec<String>,
}

fn run_case(case: &CaseSeed) -> Result<Run, TestCaseError> {
    let store = Store::temporary_with(first_use()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let mut gen_state = Gen::new();
    let mut expected: Vec<Vec<Event>> = Vec::new();
    let mut claim_ids = Vec::new();
    let mut time = case.time_base;
    let mut batch: Vec<GenTx> = Vec::new();
    // Time of the last committed transaction (explicit-time cases).
    let mut committed_time = None::<i64>;
    let mut pending_time = time;
    for (i, seed) in case.txs.iter().enumerate() {
        let before = gen_state.clone();
        let txno = expected.len() as u64 + batch.len() as u64 + 1;
        let mut tx = Transaction::new(if i % 2 == 0 { "analyst" } else { "bot" });
        if seed.message {
            tx.message(&format!("tx seed {i}"));
        }
        let mut resolved = Vec::new();
        let mut ids = Vec::new();
        for (j, op) in seed.ops.iter().enumerate() {
            // A seed that fits nothing yet declares an entity instead.
            let fallback = OpSeed::Entity {
                key: i + j,
                kind: None,
                name: None,
                aliases: None,
                attrs: None,
                upper: false,
            };
            let made = gen_state.op(op).or_else(|| gen_state.op(&fallback));
            if let Some((given, r)) = made {
                if let Event::Assert(a) = &r {
                    ids.push(a.claim.clone().unwrap_or_default());
                }
                tx.push(given);
                resolved.push(r);
            }
        }
        if case.explicit_time {
            pending_time = time + [0, 1, 1_000_000, 3_600_000_000][seed.time_step as usize];
            tx.recorded_at = Some(Timestamp(pending_time));
        }
        if seed.expect_tx {
            tx.expect_tx = Some(txno);
        }
        let mut expect_error = None;
        if let Some((kind, pick)) = seed.invalid {
            let (event, mut why) = gen_state.invalid(kind, pick);
            let has_committed = !expected.is_empty() || !batch.is_empty();
            match why {
                "empty" => tx.events.clear(),
                "time" if has_committed => {
                    let last = committed_time.unwrap_or(time);
                    tx.recorded_at = Some(Timestamp(if case.explicit_time { last - 1 } else { 0 }));
                }
                "tx" => tx.expect_tx = Some(txno + 1),
                "hash" => tx.expect_hash = Some("00".repeat(32)),
                _ => {}
            }
            if let Some(e) = event {
                tx.push(e);
            } else if why == "time" && !has_committed {
                tx.push(Event::Assert(AssertEvent::new("zz", "knows", Term::Int(1))));
                why = "invalid";
            }
            expect_error = Some(why);
            gen_state = before;
        }
        let invalid = expect_error.is_some();
        if !invalid {
            time = pending_time;
            committed_time = Some(pending_time);
        }
        batch.push(GenTx { tx, resolved, claim_ids: ids, expect_error });
        if invalid || !seed.batch_with_next || i + 1 == case.txs.len() {
            claim_ids.extend(commit(&store, std::mem::take(&mut batch), &mut expected)?);
        }
    }
    Ok(Run { store, expected, claim_ids })
}

/// Commits a batch (one transaction alone or several in bulk) whose only
/// invalid transaction, if any, is the last; checks receipts and head.
fn commit(
    store: &Store,
    batch: Vec<GenTx>,
    expected: &mut Vec<Vec<Event>>,
) -> Result<Vec<String>, TestCaseError> {
    let head = store.head();
    prop_assert_eq!(head, expected.len() as u64);
    let stats_before = store.snapshot().stats().map_err(fail)?;
    let valid = batch.iter().filter(|t| t.expect_error.is_none()).count();
    let expect_error = batch.last().and_then(|t| t.expect_error);
    let txs: Vec<Transaction> = batch.iter().map(|t| t.tx.clone()).collect();
    let (receipts, err): (Vec<Receipt>, Option<(usize, StoreError)>) = if txs.len() == 1 {
        match store.commit(txs.into_iter().next().expect("one")) {
            Ok(r) => (vec![r], None),
            Err(e) => (Vec::new(), Some((0, e))),
        }
    } else {
        store.commit_batch(txs)
    };
    match (&err, expect_error) {
        (None, None) => {}
        (Some((pos, e)), Some(kind)) => {
            prop_assert_eq!(*pos, valid, "the invalid transaction is the one rejected");
            prop_assert_eq!(error_kind(e), kind, "unexpected error: {}", e);
        }
        (Some((pos, e)), None) => {
            return Err(TestCaseError::fail(format!(
                "valid transaction {pos} of the batch rejected: {e}\n{:#?}",
                batch[*pos].tx
            )));
        }
        (None, Some(kind)) => {
            return Err(TestCaseError::fail(format!(
                "invalid transaction accepted (expected a `{kind}` error):\n{:#?}",
                batch.last().map(|t| &t.tx)
            )));
        }
    }
    prop_assert_eq!(receipts.len(), valid);
    prop_assert_eq!(store.head(), head + valid as u64, "rejected tx moved the head");
    let mut ids = Vec::new();
    for (n, (r, t)) in receipts.iter().zip(&batch).enumerate() {
        prop_assert_eq!(r.tx, head + n as u64 + 1, "tx numbers are dense");
        prop_assert_eq!(&r.claim_ids, &t.claim_ids);
        if let Some(at) = t.tx.recorded_at {
            prop_assert_eq!(r.recorded_at, at);
        }
        expected.push(t.resolved.clone());
        ids.extend(r.claim_ids.iter().cloned());
    }
    if valid == 0 {
        // Nothing of a rejected transaction is visible.
        prop_assert_eq!(store.snapshot().stats().map_err(fail)?, stats_before);
    }
    Ok(ids)
}

fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

/// The store and the reference agree on one claim query.
fn same_claims(
    view: &claimgraph::ReadView,
    state: &State,
    latest: &State,
    q: &ClaimQuery,
) -> Result<(), TestCaseError> {
    let got = view.claims(q);
    let want = state.claims(q, latest);
    match (got, want) {
        (Ok(got), Ok(want)) => {
            if got != want {
                let show = |cs: &[Claim]| -> Vec<String> {
                    cs.iter().map(|c| format!("{c} tx {} retracted {:?}", c.tx, c.retracted_tx)).collect()
                };
                return Err(TestCaseError::fail(format!(
                    "as of tx {}: {q:?}\nstore:     {:#?}\nreference: {:#?}",
                    state.tx,
                    show(&got),
                    show(&want)
                )));
            }
        }
        (Err(_), Err(_)) => {}
        (got, want) => {
            return Err(TestCaseError::fail(format!(
                "as of tx {}: {q:?}\nstore: {:?}\nreference: {:?}",
                state.tx,
                got.map(|v| v.len()),
                want.map(|v| v.len())
            )));
        }
    }
    Ok(())
}

fn by_key(mut v: Vec<Entity>) -> Vec<Entity> {
    v.sort_by(|a, b| a.key.cmp(&b.key));
    v
}

/// Compares every read at as-of point `t`.
fn check_at(
    store: &Store,
    reference: &Reference,
    t: u64,
    queries: &[ClaimQuery],
    claim_ids: &[String],
) -> Result<(), TestCaseError> {
    let view = store.snapshot_at(t);
    let state = reference.at(t);
    let latest = reference.at(reference.head());
    prop_assert_eq!(view.at(), t);
    prop_assert_eq!(view.stats().map_err(fail)?, state.stats(), "stats as of tx {}", t);
    // Entities: every key, name and alias, exact and through merges.
    for text in LOOKUPS.iter().chain(&NAMES).chain(&ALIASES).chain(&TITLES) {
        let named = by_key(view.entities_named(text).map_err(fail)?);
        let want = state.entities_named(text);
        prop_assert_eq!(&named, &want, "entities_named({:?}) as of tx {}", text, t);
        let one = view.entity(text).map_err(fail)?;
        match &one {
            None => prop_assert!(want.is_empty(), "entity({text:?}) as of tx {t}: None"),
            Some(e) => prop_assert!(want.contains(e), "entity({text:?}) as of tx {t}: {e:?}"),
        }
        if let Some(exact) = state.entity(text) {
            prop_assert_eq!(one, Some(exact), "entity({:?}) as of tx {}", text, t);
        }
    }
    let entities = by_key(view.entities().map_err(fail)?);
    let want: Vec<Entity> = state.entities.values().cloned().collect();
    prop_assert_eq!(entities, want, "entities() as of tx {}", t);
    let mut predicates = view.predicates().map_err(fail)?;
    predicates.sort_by(|a, b| a.key.cmp(&b.key));
    let want: Vec<_> = state.predicates.values().cloned().collect();
    prop_assert_eq!(predicates, want, "predicates() as of tx {}", t);
    for id in claim_ids {
        prop_assert_eq!(view.claim(id).map_err(fail)?, state.claim(id), "claim {} as of tx {}", id, t);
    }
    // Claim queries: a fixed set of shapes for every key, then the random ones.
    for include_retracted in [false, true] {
        let base = ClaimQuery { include_retracted, ..ClaimQuery::default() };
        same_claims(&view, state, latest, &base)?;
        for p in PREDICATES {
            let q = ClaimQuery { predicate: Some(p.to_string()), ..base.clone() };
            same_claims(&view, state, latest, &q)?;
        }
        for (i, text) in LOOKUPS.iter().enumerate() {
            let k = Some(text.to_string());
            let shapes = [
                ClaimQuery { subject: k.clone(), ..base.clone() },
                ClaimQuery { object: Some(Term::Entity(text.to_string())), ..base.clone() },
                ClaimQuery {
                    subject: k.clone(),
                    predicate: Some(PREDICATES[i % PREDICATES.len()].to_string()),
                    ..base.clone()
                },
                ClaimQuery { by: k.clone(), ..base.clone() },
                ClaimQuery { source: k.clone(), ..base.clone() },
            ];
            for q in &shapes {
                same_claims(&view, state, latest, q)?;
            }
        }
    }
    for q in queries {
        same_claims(&view, state, latest, q)?;
    }
    // AS OF timestamp, within the view.
    for &r in reference.recorded_at() {
        for ts in [Timestamp(r.0 - 1), r, Timestamp(r.0 + 1)] {
            let want = reference.tx_at_time(ts).min(t);
            prop_assert_eq!(view.tx_at_time(ts).map_err(fail)?, want, "tx_at_time({}) as of tx {}", ts, t);
        }
    }
    Ok(())
}

fn check_all(run: &Run, case: &CaseSeed, reference: &Reference) -> Result<(), TestCaseError> {
    let store = &run.store;
    let head = store.head();
    prop_assert_eq!(reference.head(), head);
    let queries: Vec<ClaimQuery> = case.queries.iter().map(QuerySeed::query).collect();
    let mut points: BTreeSet<u64> = case.as_of_points.iter().map(|&p| p as u64 % (head + 1)).collect();
    points.extend([0, head]);
    for t in points {
        check_at(store, reference, t, &queries, &run.claim_ids)?;
    }
    for &r in reference.recorded_at() {
        prop_assert_eq!(store.tx_at_time(r).map_err(fail)?, reference.tx_at_time(r));
    }
    Ok(())
}

fn property(case: CaseSeed) -> Result<(), TestCaseError> {
    let run = run_case(&case)?;
    let store = &run.store;
    // The log holds the events resolved as the generator predicted.
    let mut logged = Vec::new();
    store
        .for_each_tx(1, |rec| {
            logged.push(rec.body.events);
            Ok(())
        })
        .map_err(fail)?;
    prop_assert_eq!(logged.len(), run.expected.len());
    for (i, (got, want)) in logged.iter().zip(&run.expected).enumerate() {
        prop_assert_eq!(got, want, "resolved events of tx {}", i + 1);
    }
    let reference = Reference::from_store(store);
    check_all(&run, &case, &reference)?;
    let report = store.verify().map_err(fail)?;
    prop_assert!(report.ok(), "verify after live maintenance: {report:?}");
    prop_assert_eq!(report.transactions, store.head());
    let replayed = store.rebuild_indexes().map_err(fail)?;
    prop_assert_eq!(replayed, store.head());
    check_all(&run, &case, &reference)?;
    let report = store.verify().map_err(fail)?;
    prop_assert!(report.ok(), "verify after rebuild: {report:?}");
    // JSON Lines: export → import into an empty store (bulk) → export is
    // byte-identical, and the copy answers like the reference too.
    let mut first = Vec::new();
    claimgraph::jsonl::export(store, None, &mut first).map_err(fail)?;
    let copy = Store::temporary_with(first_use()).map_err(fail)?;
    claimgraph::jsonl::import(&copy, &first[..], "export.jsonl").map_err(fail)?;
    let mut second = Vec::new();
    claimgraph::jsonl::export(&copy, None, &mut second).map_err(fail)?;
    prop_assert!(
        first == second,
        "JSONL round trip changed the bytes:\n{}\n---\n{}",
        String::from_utf8_lossy(&first),
        String::from_utf8_lossy(&second)
    );
    let queries: Vec<ClaimQuery> = case.queries.iter().map(QuerySeed::query).collect();
    check_at(&copy, &reference, copy.head(), &queries, &run.claim_ids)?;
    Ok(())
}

proptest! {
    // 32 cases keep a debug run to a few seconds; `PROPTEST_CASES=2000` digs deeper.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(32),
        ..ProptestConfig::default()
    })]

    #[test]
    fn store_answers_like_the_reference_model(case in case_seed()) {
        property(case)?;
    }
}

/// The generator's invalid transactions are all rejected: a fixed sweep
/// over every kind on a small populated store, so no kind goes untested by
/// chance.
#[test]
fn every_invalid_kind_is_rejected_without_a_trace() {
    let store = Store::temporary_with(first_use()).unwrap();
    let mut g = Gen::new();
    let mut setup = Transaction::new("setup");
    let ops = [
        OpSeed::Entity { key: 0, kind: Some(0), name: Some(0), aliases: None, attrs: None, upper: false },
        OpSeed::Entity { key: 1, kind: None, name: None, aliases: None, attrs: None, upper: false },
        OpSeed::Document { key: 0, title: Some(0), published: None, extra: false, upper: false },
    ];
    for op in &ops {
        setup.push(g.op(op).unwrap().0);
    }
    let a = AssertSeed {
        s: 0,
        p: 0,
        o: TermSeed::Literal(0),
        by: None,
        source: None,
        valid: (None, None, false),
        said_at: None,
        stance: 0,
        confidence: None,
        quote: false,
        qualifiers: Vec::new(),
        explicit_id: None,
        upper: false,
    };
    for _ in 0..2 {
        setup.push(g.assert(&a).unwrap().0);
    }
    setup.push(g.op(&OpSeed::Retract { pick: 0, reason: true }).unwrap().0);
    setup.push(g.op(&OpSeed::Merge { pick: 0, upper: false }).unwrap().0);
    store.commit(setup).unwrap();
    let stats = store.snapshot().stats().unwrap();
    for kind in 0..INVALID_KINDS {
        for pick in 0..3 {
            let (event, why) = g.invalid(kind, pick);
            let mut tx = Transaction::new("t");
            match why {
                "time" => tx.recorded_at = Some(Timestamp(0)),
                "tx" => tx.expect_tx = Some(3),
                "hash" => tx.expect_hash = Some("00".repeat(32)),
                _ => {}
            }
            if why != "empty" {
                tx.push(event.unwrap_or_else(|| {
                    Event::Entity(EntityEvent { key: "e0".into(), ..EntityEvent::default() })
                }));
            }
            let err = store.commit(tx).expect_err("rejected");
            assert_eq!(error_kind(&err), why, "kind {kind}: {err}");
            assert_eq!(store.head(), 1);
            assert_eq!(store.snapshot().stats().unwrap(), stats);
        }
    }
    assert_eq!(
        store
            .transact("t", |tx| {
                tx.entity("e9", "Org", "Nine");
            })
            .unwrap()
            .tx,
        2
    );
    assert!(store.verify().unwrap().ok());
}

/// A bulk commit of more transactions than one index chunk holds (256):
/// retractions reach back across the chunk boundary into blocks written by
/// the previous chunk, and merges come and go; the answers still match the
/// reference, before and after a rebuild.
#[test]
fn bulk_commit_across_chunk_boundaries_matches_the_reference() {
    let store = Store::temporary_with(first_use()).unwrap();
    let mut txs = Vec::new();
    let mut declare = Transaction::new("bulk");
    for key in ENTITY_KEYS {
        declare.entity(key, "Thing", key);
    }
    declare.document(DocumentEvent {
        key: "d0".into(),
        published: Some(date("2025-03-04")),
        ..DocumentEvent::default()
    });
    txs.push(declare);
    for i in 0..300usize {
        let mut tx = Transaction::new("bulk");
        let a = tx.assert(ENTITY_KEYS[i % 6], PREDICATES[i % 4], ent_term(ENTITY_KEYS[(i + 1) % 6]));
        if i % 2 == 0 {
            a.source = Some("d0".into());
            a.by = Some(ENTITY_KEYS[(i + 2) % 6].into());
        }
        tx.assert(ENTITY_KEYS[(i + 3) % 6], PREDICATES[(i + 1) % 4], Term::Int(i as i64)).valid =
            ValidTime::during(Date::new(2020 + (i % 7) as i32, None, None).unwrap());
        if i >= 5 && i % 3 == 0 {
            // Claim ids are `c<seq>`; tx i asserts seqs 2i + 1 and 2i + 2.
            tx.retract(&format!("c{}", 2 * (i - 5) + 1), "bulk");
        }
        if i % 50 == 10 {
            tx.merge("e5", "e4");
        }
        if i % 50 == 35 {
            tx.unmerge("e5");
        }
        txs.push(tx);
    }
    let (receipts, err) = store.commit_batch(txs);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(receipts.len(), 301);
    let reference = Reference::from_store(&store);
    let claim_ids: Vec<String> = (1..=600).map(|s| format!("c{s}")).collect();
    let queries = vec![
        ClaimQuery {
            valid: Some(DayRange::of(date("2022"))),
            include_retracted: true,
            ..ClaimQuery::default()
        },
        ClaimQuery {
            subject: Some("e4".into()),
            valid: Some(DayRange::of(date("2023-06"))),
            ..ClaimQuery::default()
        },
    ];
    let check = |store: &Store| {
        for t in [0, 1, 100, 256, 257, 258, 259, 280, 301] {
            check_at(store, &reference, t, &queries, &claim_ids)
                .unwrap_or_else(|e| panic!("as of tx {t}: {e}"));
        }
    };
    check(&store);
    assert!(store.verify().unwrap().ok());
    store.rebuild_indexes().unwrap();
    check(&store);
    assert!(store.verify().unwrap().ok());
}

fn ent_term(key: &str) -> Term {
    Term::Entity(key.to_string())
}
