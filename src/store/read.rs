//! Typed reads over one consistent snapshot: entities by key, name or alias;
//! claims by subject, object, predicate, speaker or source with valid-time and
//! retraction filters; an entity's history; counts.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::StoreError;
use crate::index::keys::{self, Key};
use crate::index::{Guarded, IndexError, Ordering, Posting, Snapshot, TxMeta};
use crate::model::{Claim, DayRange, Entity, Predicate, Term, Timestamp, closest};

/// The index snapshot a view reads (and the query engine with it).
pub(crate) type IndexView = Snapshot<Arc<Guarded>>;

/// A consistent, read-only view of the store as of one transaction. It
/// holds the index it started with, so a concurrent rebuild does not move it.
pub struct ReadView {
    snap: IndexView,
    /// Declared after the index so the store's lock outlives it.
    _lease: Arc<super::DirLease>,
}

/// Which claims to read. Entity filters match the entity and everything
/// merged into it as of the view.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClaimQuery {
    pub subject: Option<String>,
    pub predicate: Option<String>,
    pub object: Option<Term>,
    pub by: Option<String>,
    pub source: Option<String>,
    /// Keep claims whose valid time overlaps this range.
    pub valid: Option<DayRange>,
    /// Also return claims retracted as of the view.
    pub include_retracted: bool,
}

/// One event in an entity's history.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub tx: u64,
    pub recorded_at: Timestamp,
    pub author: String,
    /// `entity`, `document`, `assert`, `retract`, `merge`, `unmerge`.
    pub op: &'static str,
    /// The claim asserted or retracted, as it stood after this event.
    pub claim: Option<Claim>,
    /// A one-line description.
    pub detail: String,
}

/// Counts of what the store holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub transactions: u64,
    pub entities: u64,
    pub documents: u64,
    pub predicates: u64,
    pub claims_live: u64,
    pub claims_retracted: u64,
}

impl ReadView {
    pub(crate) fn new(index: Arc<Guarded>, lease: Arc<super::DirLease>, at: u64) -> ReadView {
        ReadView { snap: Snapshot::new(index, at), _lease: lease }
    }

    /// The same store as of an earlier transaction `tx` (at most this
    /// view's), over the same index: a concurrent rebuild moves neither.
    pub fn rewind(&self, tx: u64) -> ReadView {
        let tx = tx.min(self.at());
        ReadView { snap: Snapshot::new(self.snap.kv().clone(), tx), _lease: self._lease.clone() }
    }

    /// The transaction this view stands at.
    pub fn at(&self) -> u64 {
        self.snap.at()
    }

    /// The underlying index snapshot (for the query engine).
    pub(crate) fn index(&self) -> &IndexView {
        &self.snap
    }

    /// The last transaction recorded at or before `t`.
    pub fn tx_at_time(&self, t: Timestamp) -> Result<u64, IndexError> {
        self.snap.tx_at_time(t)
    }

    /// The metadata of a transaction in the view.
    pub fn transaction(&self, tx: u64) -> Result<Option<TxMeta>, StoreError> {
        Ok(self.snap.tx_meta(tx)?)
    }

    /// The canonical entity for a key, name or alias (case-insensitive).
    /// Several entities can share a name; this returns the first by id.
    pub fn entity(&self, key_or_name: &str) -> Result<Option<Entity>, StoreError> {
        match self.snap.lookup(key_or_name)?.first() {
            Some(&id) => Ok(self.snap.entity(id)?),
            None => Ok(None),
        }
    }

    /// Every entity a key, name or alias matches.
    pub fn entities_named(&self, key_or_name: &str) -> Result<Vec<Entity>, StoreError> {
        let mut out = Vec::new();
        for id in self.snap.lookup(key_or_name)? {
            out.extend(self.snap.entity(id)?);
        }
        Ok(out)
    }

    /// Every entity declared as of the view (merged ones included).
    pub fn entities(&self) -> Result<Vec<Entity>, StoreError> {
        Ok(self.snap.entities()?.into_iter().map(|(_, e)| e).collect())
    }

    /// Every predicate declared as of the view.
    pub fn predicates(&self) -> Result<Vec<Predicate>, StoreError> {
        Ok(self.snap.predicates()?.into_iter().map(|(_, p)| p).collect())
    }

    /// A claim by id, as the view sees it.
    pub fn claim(&self, id: &str) -> Result<Option<Claim>, StoreError> {
        match self.snap.claim_seq(&crate::model::fold_key(id))? {
            Some(seq) => Ok(self.snap.claim(seq)?),
            None => Ok(None),
        }
    }

    /// The events of one claim's life as of the view, oldest first: its
    /// assertion and, if it was retracted, the retraction (with the reason).
    /// A claim that exists only after this view has no history here; an id
    /// that no claim has is [`StoreError::UnknownClaim`].
    pub fn claim_history(&self, id: &str) -> Result<Vec<HistoryEntry>, StoreError> {
        let folded = crate::model::fold_key(id);
        let claim = match self.snap.claim_seq(&folded)? {
            Some(seq) => self.snap.claim(seq)?,
            None if self.snap.at_head().claim_seq(&folded)?.is_some() => return Ok(Vec::new()),
            None => None,
        };
        let Some(claim) = claim else {
            return Err(StoreError::UnknownClaim { id: id.to_string() });
        };
        let mut entries = self.history(&claim.s)?;
        entries.retain(|e| e.claim.as_ref().is_some_and(|c| c.id == claim.id));
        Ok(entries)
    }

    /// The ids an entity filter matches: the canonical entity and its members.
    /// An entity that exists only after this view matches nothing here; one
    /// that exists nowhere is an error with a suggestion.
    fn entity_ids(&self, key_or_name: &str) -> Result<Vec<u64>, StoreError> {
        let ids = self.snap.lookup(key_or_name)?;
        if ids.is_empty() {
            let latest = self.snap.at_head();
            if !latest.lookup(key_or_name)?.is_empty() {
                return Ok(Vec::new());
            }
            let known: Vec<String> = latest.entities()?.into_iter().map(|(_, e)| e.key).collect();
            let suggestion =
                closest(&key_or_name.to_lowercase(), known.iter().map(|s| s.as_str())).map(str::to_string);
            return Err(StoreError::UnknownEntity { name: key_or_name.to_string(), suggestion });
        }
        let mut out = Vec::new();
        for id in ids {
            out.extend(self.snap.members(id)?);
        }
        Ok(out)
    }

    /// Claims matching a query, in assertion order.
    pub fn claims(&self, q: &ClaimQuery) -> Result<Vec<Claim>, StoreError> {
        let ent = |k: &Option<String>| k.as_deref().map(|k| self.entity_ids(k)).transpose();
        let (subjects, bys, sources) = (ent(&q.subject)?, ent(&q.by)?, ent(&q.source)?);
        let objects = match &q.object {
            Some(Term::Entity(k)) => Some(self.entity_ids(k)?),
            Some(t) => Some(self.snap.term_id(&keys::term(t))?.into_iter().collect()),
            None => None,
        };
        let pred = match &q.predicate {
            Some(p) => match self.snap.predicate(p)? {
                Some((id, _)) => Some(id),
                // Declared after this view: nothing to find yet.
                None if self.snap.at_head().predicate(p)?.is_some() => return Ok(Vec::new()),
                None => {
                    let known: Vec<String> =
                        self.snap.at_head().predicates()?.into_iter().map(|(_, p)| p.key).collect();
                    let suggestion = closest(p, known.iter().map(|s| s.as_str())).map(str::to_string);
                    return Err(StoreError::UnknownPredicate { name: p.clone(), suggestion });
                }
            },
            None => None,
        };
        let prefixes: Vec<Vec<u8>> = match (&subjects, &objects, &bys, &sources, pred) {
            (Some(s), ..) => s.iter().map(|&s| with_pred(Key::new(keys::SPO).u64(s), pred)).collect(),
            (_, Some(o), ..) => o.iter().map(|&o| with_pred(Key::new(keys::OPS).u64(o), pred)).collect(),
            (_, _, Some(b), ..) => b.iter().map(|&b| Key::new(keys::BY).u64(b).into_vec()).collect(),
            (_, _, _, Some(src), _) => src.iter().map(|&s| Key::new(keys::SRC).u64(s).into_vec()).collect(),
            (.., Some(p)) => vec![Key::new(keys::PSO).u64(p).into_vec()],
            _ => vec![Key::new(Ordering::Pso.tag()).into_vec()],
        };
        let keep = |p: &Posting| {
            subjects.as_ref().is_none_or(|s| s.contains(&p.s))
                && objects.as_ref().is_none_or(|o| o.contains(&p.o))
                && bys.as_ref().is_none_or(|b| b.contains(&p.by))
                && sources.as_ref().is_none_or(|s| s.contains(&p.src))
                && pred.is_none_or(|id| id == p.p)
                && q.valid.is_none_or(|v| v.overlaps(&p.valid))
        };
        let mut seqs = BTreeSet::new();
        for prefix in prefixes {
            for posting in self.snap.postings(&prefix, q.include_retracted) {
                let posting = posting?;
                if keep(&posting) {
                    seqs.insert(posting.seq);
                }
            }
        }
        let mut out = Vec::with_capacity(seqs.len());
        for seq in seqs {
            out.extend(self.snap.claim(seq)?);
        }
        Ok(out)
    }

    /// Every event recorded about an entity (and the entities merged into it),
    /// oldest first.
    pub fn history(&self, key_or_name: &str) -> Result<Vec<HistoryEntry>, StoreError> {
        let ids = self.entity_ids(key_or_name)?;
        let mut items: Vec<(u64, u8, &'static str, Option<Claim>, String)> = Vec::new();
        let mut seqs = BTreeSet::new();
        for &id in &ids {
            let key = self.snap.key_of(id)?.unwrap_or_default();
            for (i, (tx, e)) in self.snap.entity_versions(id)?.into_iter().enumerate() {
                let op = if e.document.is_some() { "document" } else { "entity" };
                let verb = if i == 0 { "declared" } else { "updated" };
                items.push((tx, 0, op, None, format!("{verb} @{key} ({}: {})", e.kind, e.name)));
            }
            for (tx, into) in self.snap.merge_events(id)? {
                items.push(self.merge_item(tx, id, into)?);
            }
            for (tx, from, on) in self.snap.member_events(id)? {
                if !ids.contains(&from) || !on {
                    items.push(self.merge_item(tx, from, if on { id } else { 0 })?);
                }
            }
            for prefix in [keys::SPO, keys::OPS, keys::BY, keys::SRC] {
                let prefix = Key::new(prefix).u64(id).into_vec();
                for posting in self.snap.postings(&prefix, true) {
                    seqs.insert(posting?.seq);
                }
            }
        }
        for seq in seqs {
            let Some(c) = self.snap.claim(seq)? else {
                continue;
            };
            // Within one tx a correction retracts before it re-asserts, so
            // retractions of older claims come first; a claim asserted and
            // retracted in the same tx shows the assert first.
            if let Some(rtx) = c.retracted_tx {
                let why = c.retract_reason.clone().unwrap_or_default();
                let rank = if rtx == c.tx { 3 } else { 1 };
                items.push((rtx, rank, "retract", Some(c.clone()), format!("retracted {}: {why}", c.id)));
            }
            items.push((c.tx, 2, "assert", Some(c.clone()), c.to_string()));
        }
        items.sort_by_key(|a| (a.0, a.1));
        items.dedup_by(|a, b| a.0 == b.0 && a.2 == b.2 && a.4 == b.4);
        let mut out = Vec::with_capacity(items.len());
        for (tx, _, op, claim, detail) in items {
            let meta = self.snap.tx_meta(tx)?;
            let (recorded_at, author) =
                meta.map_or((Timestamp(0), String::new()), |m| (m.recorded_at, m.author));
            out.push(HistoryEntry { tx, recorded_at, author, op, claim, detail });
        }
        Ok(out)
    }

    fn merge_item(
        &self,
        tx: u64,
        from: u64,
        into: u64,
    ) -> Result<(u64, u8, &'static str, Option<Claim>, String), StoreError> {
        let from_key = self.snap.key_of(from)?.unwrap_or_default();
        Ok(if into == 0 {
            (tx, 4, "unmerge", None, format!("unmerged @{from_key}"))
        } else {
            let into_key = self.snap.key_of(into)?.unwrap_or_default();
            (tx, 4, "merge", None, format!("merged @{from_key} into @{into_key}"))
        })
    }

    /// Counts of transactions, entities, documents, predicates and claims.
    pub fn stats(&self) -> Result<Stats, StoreError> {
        let entities = self.snap.entities()?;
        let documents = entities.iter().filter(|(_, e)| e.document.is_some()).count() as u64;
        let mut stats = Stats {
            transactions: self.at(),
            entities: entities.len() as u64 - documents,
            documents,
            predicates: self.snap.predicates()?.len() as u64,
            ..Stats::default()
        };
        for posting in self.snap.postings(&[keys::PSO], true) {
            match posting?.retracted_at(self.at()) {
                Some(_) => stats.claims_retracted += 1,
                None => stats.claims_live += 1,
            }
        }
        Ok(stats)
    }
}

fn with_pred(k: Key, pred: Option<u64>) -> Vec<u8> {
    match pred {
        Some(p) => k.u64(p).into_vec(),
        None => k.into_vec(),
    }
}
