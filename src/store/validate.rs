//! Checks a transaction as a whole against the state as of its own tx (earlier
//! events of the same transaction included) and resolves it: folds keys, maps
//! merged keys to their canonical entity, assigns claim ids and fills
//! `said_at`. Each event is checked, then applied to the pending index layer,
//! so the next event sees it; a rejected transaction's layer is dropped whole.

use super::StoreError;
use crate::index::{ChunkWriter, IndexBackend, IndexError, KvRead, Snapshot};
use crate::model::{
    AssertEvent, Attrs, Event, Term, Timestamp, check_key, check_predicate, closest, did_you_mean,
    entity_text, fold_key,
};

/// A rule a transaction broke, with the event it broke it in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {index} ({op}): {message}")]
pub struct ValidationError {
    /// 1-based position of the event in its transaction.
    pub index: usize,
    pub op: &'static str,
    pub message: String,
    /// Which rule, for a program to branch on.
    pub kind: ValidationKind,
}

/// The rules a program most often needs to tell apart; the rest are
/// [`ValidationKind::Other`] with the message saying which.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValidationKind {
    /// An event names an entity nobody declared (`suggestion`: the nearest
    /// declared key).
    UnknownEntity { key: String, suggestion: Option<String> },
    /// An event names a predicate nobody declared.
    UnknownPredicate { name: String, suggestion: Option<String> },
    /// A retraction names a claim id no claim has.
    UnknownClaim { id: String },
    /// A retraction of a claim retracted before (in `tx`).
    AlreadyRetracted { id: String, tx: u64 },
    /// An assertion chose a claim id another claim has.
    ClaimIdTaken { id: String },
    /// The transaction holds more events than the store allows: split it.
    TooManyEvents { events: usize, limit: usize },
    /// Any other rule: a malformed key or value, a bad merge, ….
    Other,
}

type Check<T> = Result<T, String>;

/// How far ahead of the store's clock a transaction's given `recorded_at`
/// may be (clocks of machines that export and import disagree a little).
pub const DEFAULT_FUTURE_TOLERANCE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Refuses a given `recorded_at` more than `tolerance` ahead of `now`: every
/// later transaction is stamped at or after its predecessor, so one far-future
/// time would push every later write there and refuse honest ones.
pub fn check_recorded_at(
    tx: u64,
    given: Timestamp,
    now: Timestamp,
    tolerance: std::time::Duration,
) -> Result<(), StoreError> {
    let tolerance_micros = i64::try_from(tolerance.as_micros()).unwrap_or(i64::MAX);
    let latest = Timestamp(now.0.saturating_add(tolerance_micros));
    if given > latest {
        return Err(StoreError::FutureRecordedAt { tx, given, now, tolerance });
    }
    Ok(())
}

/// Validates and applies every event of one transaction; returns the resolved
/// events and the ids of the claims asserted.
pub fn apply_tx<B: IndexBackend>(
    w: &mut ChunkWriter<'_, B>,
    events: &[Event],
) -> Result<(Vec<Event>, Vec<String>), StoreError> {
    if events.is_empty() {
        return Err(StoreError::InvalidInput("a transaction needs at least one event".into()));
    }
    let mut resolved = Vec::with_capacity(events.len());
    let mut claim_ids = Vec::new();
    for (i, event) in events.iter().enumerate() {
        let fail = |kind: ValidationKind, message: String| ValidationError {
            index: i + 1,
            op: event.op(),
            message,
            kind,
        };
        let r = resolve(w, event).map_err(|e| match e {
            Failure::Rule(kind, m) => StoreError::Invalid(fail(kind, m)),
            Failure::Index(e) => StoreError::Index(e),
        })?;
        if let Event::Assert(a) = &r {
            claim_ids.push(a.claim.clone().unwrap_or_default());
        }
        w.apply(&r)?;
        resolved.push(r);
    }
    Ok((resolved, claim_ids))
}

/// Refuses a transaction of more than `max` events (at validation, before
/// anything is read or written), so no transaction is too large to apply
/// and replay in bounded memory.
pub fn check_size(events: &[Event], max: usize) -> Result<(), StoreError> {
    match events.get(max) {
        None => Ok(()),
        Some(e) => Err(StoreError::Invalid(ValidationError {
            index: max + 1,
            op: e.op(),
            message: format!(
                "the transaction has {} events, more than the limit of {max}; split it into several \
                 transactions",
                events.len()
            ),
            kind: ValidationKind::TooManyEvents { events: events.len(), limit: max },
        })),
    }
}

/// Refuses an assert whose predicate is neither declared in the store nor by
/// a `predicate` event of the same transaction, so a typo cannot quietly
/// create a new predicate. Runs before [`apply_tx`]: applying an assert would
/// declare its predicate on the spot. Skipped when the store was opened with
/// `Options::create_predicates`.
pub fn check_predicates_declared<B: IndexBackend>(
    w: &ChunkWriter<'_, B>,
    events: &[Event],
) -> Result<(), StoreError> {
    let in_tx: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            Event::Predicate(p) => Some(p.key.as_str()),
            _ => None,
        })
        .collect();
    let view = w.view();
    // Each name is looked up once per transaction (a bulk line asserts many
    // claims over few predicates).
    let mut known_here: std::collections::HashSet<&str> = in_tx.iter().copied().collect();
    for (i, event) in events.iter().enumerate() {
        let Event::Assert(a) = event else { continue };
        // A malformed name is apply_tx's to report.
        if known_here.contains(a.p.as_str()) || check_predicate(&a.p).is_err() {
            continue;
        }
        if view.predicate_id(&a.p)?.is_some() {
            known_here.insert(&a.p);
            continue;
        }
        let known: Vec<String> = view.predicates()?.into_iter().map(|(_, p)| p.key).collect();
        let suggestion =
            closest(&a.p, known.iter().map(String::as_str).chain(in_tx.iter().copied())).map(str::to_string);
        let hint = match &suggestion {
            Some(_) => did_you_mean(suggestion.as_deref()),
            None => " (declare it first with CREATE PREDICATE or a `predicate` event)".into(),
        };
        return Err(StoreError::Invalid(ValidationError {
            index: i + 1,
            op: event.op(),
            message: format!("unknown predicate `{}`{hint}", a.p),
            kind: ValidationKind::UnknownPredicate { name: a.p.clone(), suggestion },
        }));
    }
    Ok(())
}

enum Failure {
    Rule(ValidationKind, String),
    Index(IndexError),
}

impl Failure {
    fn typed(kind: ValidationKind, message: String) -> Failure {
        Failure::Rule(kind, message)
    }
}

impl From<IndexError> for Failure {
    fn from(e: IndexError) -> Failure {
        Failure::Index(e)
    }
}

impl From<String> for Failure {
    fn from(m: String) -> Failure {
        Failure::Rule(ValidationKind::Other, m)
    }
}

fn resolve<B: IndexBackend>(w: &ChunkWriter<'_, B>, event: &Event) -> Result<Event, Failure> {
    let view = w.view();
    Ok(match event {
        Event::Entity(e) => {
            let mut e = e.clone();
            e.key = declared_key(&e.key)?;
            check_text("name", e.name.as_deref())?;
            check_text("kind", e.kind.as_deref())?;
            if let Some(attrs) = &e.attrs {
                e.attrs = Some(resolve_attrs(w, attrs, "attribute")?);
            }
            Event::Entity(e)
        }
        Event::Document(d) => {
            let mut d = d.clone();
            d.key = declared_key(&d.key)?;
            Event::Document(d)
        }
        Event::Predicate(p) => {
            check_predicate(&p.key)?;
            Event::Predicate(p.clone())
        }
        Event::Assert(a) => Event::Assert(resolve_assert(w, a)?),
        Event::Retract { claim, reason } => {
            let claim = &fold_key(claim);
            let Some(seq) = view.claim_seq(claim)? else {
                return Err(Failure::typed(
                    ValidationKind::UnknownClaim { id: claim.clone() },
                    format!("unknown claim `{claim}`"),
                ));
            };
            let c = view.claim(seq)?.ok_or_else(|| format!("claim `{claim}` vanished"))?;
            if let Some(tx) = c.retracted_tx {
                return Err(Failure::typed(
                    ValidationKind::AlreadyRetracted { id: claim.clone(), tx },
                    format!("claim `{claim}` is already retracted (tx {tx})"),
                ));
            }
            Event::Retract { claim: claim.clone(), reason: reason.clone() }
        }
        Event::Merge { from, into } => {
            let (from_key, from_id, _) = existing(w, from)?;
            let (into_key, into_id, _) = existing(w, into)?;
            if from_id == into_id {
                return Err(format!("cannot merge `{from_key}` into itself").into());
            }
            if let Some(current) = view.merged_into(from_id)? {
                let k = view.key_of(current)?.unwrap_or_default();
                return Err(format!("`{from_key}` is already merged into `{k}`; unmerge it first").into());
            }
            if view.resolve(into_id)? == from_id {
                return Err(format!("merging `{from_key}` into `{into_key}` would make a cycle").into());
            }
            Event::Merge { from: from_key, into: into_key }
        }
        Event::Unmerge { entity } => {
            let (key, id, _) = existing(w, entity)?;
            if view.merged_into(id)?.is_none() {
                return Err(format!("`{key}` is not merged into anything").into());
            }
            Event::Unmerge { entity: key }
        }
    })
}

fn declared_key(key: &str) -> Check<String> {
    let k = fold_key(key);
    check_key(&k)?;
    Ok(k)
}

fn check_text(what: &str, v: Option<&str>) -> Check<()> {
    match v {
        Some(s) if s.trim().is_empty() => Err(format!("{what} cannot be empty")),
        _ => Ok(()),
    }
}

/// The folded key, id and canonical id of a declared entity, or an error with
/// a suggestion.
fn existing<B: IndexBackend>(w: &ChunkWriter<'_, B>, key: &str) -> Result<(String, u64, u64), Failure> {
    let k = fold_key(key);
    if let Some((id, canonical)) = w.entity_ref(&k)? {
        return Ok((k, id, canonical));
    }
    let known: Vec<String> = w.view().entities()?.into_iter().map(|(_, e)| e.key).collect();
    let suggestion = closest(&k, known.iter().map(|s| s.as_str())).map(str::to_string);
    let message = format!(
        "unknown entity `{}`{}",
        entity_text(&k),
        did_you_mean(suggestion.as_deref().map(entity_text).as_deref())
    );
    Err(Failure::typed(ValidationKind::UnknownEntity { key: k, suggestion }, message))
}

/// The canonical key (through merges) of a declared entity.
fn canonical<B: IndexBackend>(w: &ChunkWriter<'_, B>, key: &str) -> Result<String, Failure> {
    let (k, id, canon) = existing(w, key)?;
    Ok(if canon == id { k } else { w.view().key_of(canon)?.unwrap_or(k) })
}

fn resolve_attrs<B: IndexBackend>(
    w: &ChunkWriter<'_, B>,
    attrs: &Attrs,
    what: &str,
) -> Result<Attrs, Failure> {
    let mut out = Attrs::new();
    for (name, value) in attrs {
        check_predicate(name).map_err(|_| format!("{what} name `{name}` must be snake_case"))?;
        out.insert(name.clone(), resolve_term(w, value)?);
    }
    Ok(out)
}

fn resolve_term<B: IndexBackend>(w: &ChunkWriter<'_, B>, t: &Term) -> Result<Term, Failure> {
    Ok(match t {
        Term::Entity(k) => Term::Entity(canonical(w, k)?),
        Term::Float(x) if !x.is_finite() => {
            return Err(format!("float {x} is not a finite number").into());
        }
        other => other.clone(),
    })
}

/// Names that are claim properties and so cannot be qualifiers.
const RESERVED: &[&str] = &[
    "id",
    "predicate",
    "subject",
    "object",
    "stance",
    "confidence",
    "by",
    "source",
    "valid",
    "valid_from",
    "valid_to",
    "said_at",
    "quote",
    "tx",
    "recorded_at",
    "retracted_tx",
    "s",
    "p",
    "o",
    "claim",
];

fn resolve_assert<B: IndexBackend>(w: &ChunkWriter<'_, B>, a: &AssertEvent) -> Result<AssertEvent, Failure> {
    let view = w.view();
    let mut r = a.clone();
    check_predicate(&a.p)?;
    r.s = canonical(w, &a.s)?;
    r.o = resolve_term(w, &a.o)?;
    r.by = a.by.as_deref().map(|k| canonical(w, k)).transpose()?;
    if let Some(src) = &a.source {
        let (_, _, id) = existing(w, src)?;
        let key = view.key_of(id)?.unwrap_or_default();
        let doc = view.entity(id)?.and_then(|e| e.document);
        let Some(doc) = doc else {
            return Err(format!("source `{key}` is not a document (declare it with a document event)").into());
        };
        if r.said_at.is_none() {
            r.said_at = doc.published;
        }
        r.source = Some(key);
    }
    a.valid.check()?;
    if let Some(c) = a.confidence
        && !(0.0..=1.0).contains(&c)
    {
        return Err(format!("confidence {c} is outside 0..1").into());
    }
    for name in a.qualifiers.keys() {
        if RESERVED.contains(&name.as_str()) {
            return Err(format!("`{name}` is a claim property, not a qualifier name").into());
        }
    }
    r.qualifiers = resolve_attrs(w, &a.qualifiers, "qualifier")?;
    r.claim = Some(match &a.claim {
        Some(id) => {
            let id =
                declared_key(id).map_err(|_| format!("claim id `{id}` may only hold a-z, 0-9 and `_`"))?;
            if view.claim_seq(&id)?.is_some() {
                return Err(Failure::typed(
                    ValidationKind::ClaimIdTaken { id: id.clone() },
                    format!("claim id `{id}` is already taken"),
                ));
            }
            id
        }
        None => fresh_claim_id(&view, w.next_seq())?,
    });
    Ok(r)
}

/// `c<seq>`, or `c<seq>_<k>` if a caller already chose that id.
fn fresh_claim_id<R: KvRead>(view: &Snapshot<R>, seq: u64) -> Result<String, Failure> {
    let base = format!("c{seq}");
    if view.claim_seq(&base)?.is_none() {
        return Ok(base);
    }
    let mut k = 1u64;
    loop {
        let id = format!("{base}_{k}");
        if view.claim_seq(&id)?.is_none() {
            return Ok(id);
        }
        k += 1;
    }
}
