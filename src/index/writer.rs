//! Turns committed transactions into index writes. A [`ChunkWriter`] gathers
//! the writes of one or more transactions in memory (the current transaction
//! in its own layer, so a rejected one is dropped whole), lets the validator
//! read the state *through* those pending writes, and hands the whole chunk to
//! the backend as one atomic batch together with the "applied through" mark.
//!
//! Postings are gathered per transaction and folded into the chunk's posting
//! blocks at commit: one new block per (ordering, prefix) per chunk, keyed by
//! its first seq, so a bulk load writes one key per prefix per chunk and never
//! rewrites a block it did not create (retractions excepted).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use super::backend::{IndexBackend, Overlay};
use super::claim_block;
use super::keys::{self, Key};
use super::posting::{Posting, mark_retracted};
use super::snapshot::{Ordering, Snapshot, auto_claim_id};
use super::{IndexError, TxMeta, meta, meta_key, read_meta};
use crate::codec;
use crate::model::{AssertEvent, Claim, Entity, Event, Predicate, Term, fold_name};

type Writes = BTreeMap<Vec<u8>, Vec<u8>>;

/// A claim's posting flags (`object_entity`, `auto_id`), from its record.
fn posting_flags(seq: u64, c: &Claim) -> (bool, bool) {
    (matches!(c.o, Term::Entity(_)), c.id == auto_claim_id(seq))
}

#[derive(Debug, Clone, Copy)]
struct Counters {
    next_term: u64,
    next_seq: u64,
}

/// A cache of lookups with a layer for the current transaction, so an aborted
/// transaction's entries vanish with it.
#[derive(Debug, Default)]
struct Layered<K, V> {
    chunk: HashMap<K, V>,
    tx: HashMap<K, V>,
}

impl<K: std::hash::Hash + Eq + Clone, V: Clone> Layered<K, V> {
    fn get(&self, k: &K) -> Option<V> {
        self.tx.get(k).or_else(|| self.chunk.get(k)).cloned()
    }
    fn insert(&mut self, k: K, v: V) {
        self.tx.insert(k, v);
    }
    fn commit(&mut self) {
        let tx = std::mem::take(&mut self.tx);
        self.chunk.extend(tx);
    }
    fn abort(&mut self) {
        self.tx.clear();
    }
    fn clear(&mut self) {
        self.tx.clear();
        self.chunk.clear();
    }
}

/// Pending index writes for a chunk of transactions.
pub struct ChunkWriter<'a, B: IndexBackend> {
    base: &'a B,
    chunk: Writes,
    tx: Writes,
    /// Posting blocks written by this chunk (new ones, and base blocks a
    /// retraction touched).
    blocks: Writes,
    /// Prefix → the key of the block this chunk opened for it.
    open: HashMap<Vec<u8>, Vec<u8>>,
    tx_postings: Vec<Posting>,
    tx_retracts: Vec<(Posting, u64)>,
    terms: RefCell<Layered<Vec<u8>, u64>>,
    /// Entity key → (id, canonical id): declared entities only.
    refs: RefCell<Layered<String, (u64, u64)>>,
    /// Predicates known to be declared.
    preds: Layered<String, u64>,
    counters: Counters,
    saved: Counters,
    txno: u64,
    applied: u64,
}

fn enc<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, IndexError> {
    codec::encode(v).map_err(IndexError::Backend)
}

impl<'a, B: IndexBackend> ChunkWriter<'a, B> {
    /// Starts a chunk on top of the backend's current state.
    pub fn new(base: &'a B) -> Result<ChunkWriter<'a, B>, IndexError> {
        let counters = Counters {
            next_term: read_meta(base, meta::NEXT_TERM)?.max(1),
            next_seq: read_meta(base, meta::NEXT_SEQ)?.max(1),
        };
        let applied = read_meta(base, meta::APPLIED)?;
        Ok(ChunkWriter {
            base,
            chunk: Writes::new(),
            tx: Writes::new(),
            blocks: Writes::new(),
            open: HashMap::new(),
            tx_postings: Vec::new(),
            tx_retracts: Vec::new(),
            terms: RefCell::default(),
            refs: RefCell::default(),
            preds: Layered::default(),
            counters,
            saved: counters,
            txno: applied,
            applied,
        })
    }

    /// Begins the next transaction's layer.
    pub fn begin(&mut self, tx: u64) {
        self.abort();
        self.txno = tx;
    }

    /// Drops the current transaction's writes.
    pub fn abort(&mut self) {
        self.tx.clear();
        self.tx_postings.clear();
        self.tx_retracts.clear();
        self.terms.borrow_mut().abort();
        self.refs.borrow_mut().abort();
        self.preds.abort();
        self.counters = self.saved;
        self.txno = self.applied;
    }

    /// The state as of the current transaction, its own writes so far included
    /// (posting blocks excepted: validation never reads them).
    pub fn view(&self) -> Snapshot<Overlay<'_, B>> {
        Snapshot::new(Overlay { base: self.base, layers: [&self.tx, &self.chunk] }, self.txno)
    }

    /// The seq the next asserted claim will get.
    pub fn next_seq(&self) -> u64 {
        self.counters.next_seq
    }

    /// The id of an interned term key, cached.
    fn term_id(&self, term_key: &[u8]) -> Result<Option<u64>, IndexError> {
        let key = term_key.to_vec();
        if let Some(id) = self.terms.borrow().get(&key) {
            return Ok(Some(id));
        }
        let id = self.view().term_id(term_key)?;
        if let Some(id) = id {
            self.terms.borrow_mut().insert(key, id);
        }
        Ok(id)
    }

    /// `(id, canonical id)` of a declared entity key (folded), cached.
    pub fn entity_ref(&self, key: &str) -> Result<Option<(u64, u64)>, IndexError> {
        if let Some(r) = self.refs.borrow().get(&key.to_string()) {
            return Ok(Some(r));
        }
        let Some(id) = self.term_id(&keys::entity_term(key))? else {
            return Ok(None);
        };
        let view = self.view();
        if view.entity(id)?.is_none() {
            return Ok(None);
        }
        let canonical = view.resolve(id)?;
        self.refs.borrow_mut().insert(key.to_string(), (id, canonical));
        Ok(Some((id, canonical)))
    }

    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.tx.insert(key, value);
    }

    /// The id of a term key, allocating one if new.
    fn intern(&mut self, term_key: Vec<u8>) -> Result<u64, IndexError> {
        if let Some(id) = self.term_id(&term_key)? {
            return Ok(id);
        }
        let id = self.counters.next_term;
        self.counters.next_term += 1;
        self.put(Key::new(keys::TERM_OF).u64(id).into_vec(), term_key[1..].to_vec());
        self.put(term_key.clone(), id.to_be_bytes().to_vec());
        self.terms.borrow_mut().insert(term_key, id);
        Ok(id)
    }

    fn intern_entity(&mut self, key: &str) -> Result<u64, IndexError> {
        self.intern(keys::entity_term(key))
    }

    fn flag(&mut self, key: Key, on: bool) {
        self.put(key.u64(self.txno).into_vec(), vec![on as u8]);
    }

    /// Applies one (validated, resolved) event to the current transaction.
    pub fn apply(&mut self, event: &Event) -> Result<(), IndexError> {
        match event {
            Event::Entity(e) => {
                let id = self.intern_entity(&e.key)?;
                let old = self.view().entity(id)?;
                let mut new = old.clone().unwrap_or_else(|| Entity::new(&e.key));
                new.apply(e);
                self.write_entity(id, old.as_ref(), &new)
            }
            Event::Document(d) => {
                let id = self.intern_entity(&d.key)?;
                let old = self.view().entity(id)?;
                let mut new = old.clone().unwrap_or_else(|| Entity::new(&d.key));
                new.apply_document(d);
                self.write_entity(id, old.as_ref(), &new)
            }
            Event::Predicate(p) => {
                let (id, mut pred) = self.predicate_or_default(&p.key)?;
                if p.description.is_some() {
                    pred.description.clone_from(&p.description);
                }
                if let Some(f) = p.functional {
                    pred.functional = f;
                }
                self.put(Key::new(keys::PRED).u64(id).u64(self.txno).into_vec(), enc(&pred)?);
                self.preds.insert(p.key.clone(), id);
                Ok(())
            }
            Event::Assert(a) => self.assert(a),
            Event::Retract { claim, reason } => self.retract(claim, reason.clone()),
            Event::Merge { from, into } => {
                let (from, into) = (self.intern_entity(from)?, self.intern_entity(into)?);
                let tx = self.txno;
                self.put(Key::new(keys::MERGE).u64(from).u64(tx).into_vec(), into.to_be_bytes().to_vec());
                self.flag(Key::new(keys::MEMBER).u64(into).u64(from), true);
                self.refs.borrow_mut().clear();
                Ok(())
            }
            Event::Unmerge { entity } => {
                let id = self.intern_entity(entity)?;
                let into = self.view().merged_into(id)?.unwrap_or(0);
                let tx = self.txno;
                self.put(Key::new(keys::MERGE).u64(id).u64(tx).into_vec(), 0u64.to_be_bytes().to_vec());
                self.flag(Key::new(keys::MEMBER).u64(into).u64(id), false);
                self.refs.borrow_mut().clear();
                Ok(())
            }
        }
    }

    fn predicate_or_default(&mut self, name: &str) -> Result<(u64, Predicate), IndexError> {
        let id = self.intern(keys::predicate_term(name))?;
        let pred = match self.view().predicate(name)? {
            Some((_, p)) => p,
            None => Predicate { key: name.to_string(), description: None, functional: false },
        };
        Ok((id, pred))
    }

    fn write_entity(&mut self, id: u64, old: Option<&Entity>, new: &Entity) -> Result<(), IndexError> {
        self.put(Key::new(keys::ENT).u64(id).u64(self.txno).into_vec(), enc(new)?);
        let names = |e: Option<&Entity>| -> Vec<String> {
            let mut v: Vec<String> = e.map(|e| e.names().map(fold_name).collect()).unwrap_or_default();
            v.sort();
            v.dedup();
            v
        };
        let (before, after) = (names(old), names(Some(new)));
        for n in before.iter().filter(|n| !after.contains(n)) {
            self.flag(Key::new(keys::NAME).str(n).u64(id), false);
        }
        for n in after.iter().filter(|n| !before.contains(n)) {
            self.flag(Key::new(keys::NAME).str(n).u64(id), true);
        }
        let old_kind = old.map(|e| e.kind.as_str());
        if old_kind != Some(new.kind.as_str()) {
            if let Some(k) = old_kind {
                self.flag(Key::new(keys::KIND).str(k).u64(id), false);
            }
            self.flag(Key::new(keys::KIND).str(&new.kind).u64(id), true);
        }
        let published = |e: Option<&Entity>| e.and_then(|e| e.document.as_ref()?.published);
        let (old_pub, new_pub) = (published(old), published(Some(new)));
        if old_pub != new_pub {
            if let Some(d) = old_pub {
                self.flag(Key::new(keys::PUB).i32(d.first_day()).u64(id), false);
            }
            if let Some(d) = new_pub {
                self.flag(Key::new(keys::PUB).i32(d.first_day()).u64(id), true);
            }
        }
        Ok(())
    }

    fn assert(&mut self, a: &AssertEvent) -> Result<(), IndexError> {
        let p = match self.preds.get(&a.p) {
            Some(id) => id,
            None => {
                let (id, pred) = self.predicate_or_default(&a.p)?;
                if self.view().predicate(&a.p)?.is_none() {
                    self.put(Key::new(keys::PRED).u64(id).u64(self.txno).into_vec(), enc(&pred)?);
                }
                self.preds.insert(a.p.clone(), id);
                id
            }
        };
        let s = self.intern_entity(&a.s)?;
        let o = self.intern(keys::term(&a.o))?;
        let by = a.by.as_deref().map(|k| self.intern_entity(k)).transpose()?.unwrap_or(0);
        let src = a.source.as_deref().map(|k| self.intern_entity(k)).transpose()?.unwrap_or(0);
        let seq = self.counters.next_seq;
        self.counters.next_seq += 1;
        let claim = Claim::from_assert(a, self.txno);
        let key = claim_block::block_key(seq);
        let mut block = self.take_pending(&key)?;
        let appended = enc(&claim).and_then(|record| claim_block::append(&mut block, seq, &record));
        self.put(key, block);
        appended?;
        if claim.id != auto_claim_id(seq) {
            self.put(Key::new(keys::CLAIM_ID).str(&claim.id).into_vec(), seq.to_be_bytes().to_vec());
        }
        let valid = a.valid.days();
        let (atx, rtx, stance) = (self.txno, 0, a.stance);
        let (object_entity, auto_id) = posting_flags(seq, &claim);
        let posting = Posting { seq, s, p, o, by, src, atx, rtx, valid, stance, object_entity, auto_id };
        self.tx_postings.push(posting);
        Ok(())
    }

    fn retract(&mut self, id: &str, reason: Option<String>) -> Result<(), IndexError> {
        let view = self.view();
        let seq = view
            .claim_seq(id)?
            .ok_or_else(|| IndexError::Corrupt(format!("retract of unknown claim {id}")))?;
        let key = claim_block::block_key(seq);
        let mut block = self.take_pending(&key)?;
        let stamped = self.stamp_retraction(&mut block, seq, reason);
        self.put(key, block);
        let posting = stamped?;
        self.tx_retracts.push((posting, self.txno));
        Ok(())
    }

    /// Rewrites the record of claim `seq` in its block as retracted by the
    /// current transaction; returns the claim's posting.
    fn stamp_retraction(
        &self,
        block: &mut Vec<u8>,
        seq: u64,
        reason: Option<String>,
    ) -> Result<Posting, IndexError> {
        let bytes = claim_block::find(block, seq)?
            .ok_or_else(|| IndexError::Corrupt(format!("claim record {seq}")))?;
        let mut claim: Claim =
            codec::decode(bytes, "claim").map_err(|e| IndexError::Corrupt(e.to_string()))?;
        claim.retracted_tx = Some(self.txno);
        claim.retract_reason = reason;
        claim_block::replace(block, seq, &enc(&claim)?)?;
        self.posting_of(seq, &claim)
    }

    /// The value of `key` as this transaction would see it, taken out of the
    /// transaction's layer (the caller puts it back) or copied from the chunk
    /// or the base; empty if absent.
    fn take_pending(&mut self, key: &[u8]) -> Result<Vec<u8>, IndexError> {
        if let Some(v) = self.tx.remove(key) {
            return Ok(v);
        }
        if let Some(v) = self.chunk.get(key) {
            return Ok(v.clone());
        }
        Ok(self.base.get(key)?.map(|v| v.to_vec()).unwrap_or_default())
    }

    /// Rebuilds the posting of a stored claim (for locating its blocks).
    fn posting_of(&self, seq: u64, c: &Claim) -> Result<Posting, IndexError> {
        let (object_entity, auto_id) = posting_flags(seq, c);
        let id = |term: Vec<u8>| -> Result<u64, IndexError> {
            self.term_id(&term)?.ok_or_else(|| IndexError::Corrupt("claim term not interned".into()))
        };
        Ok(Posting {
            seq,
            s: id(keys::entity_term(&c.s))?,
            p: id(keys::predicate_term(&c.p))?,
            o: id(keys::term(&c.o))?,
            by: c.by.as_deref().map(|k| id(keys::entity_term(k))).transpose()?.unwrap_or(0),
            src: c.source.as_deref().map(|k| id(keys::entity_term(k))).transpose()?.unwrap_or(0),
            atx: c.tx,
            rtx: 0,
            valid: c.valid.days(),
            stance: c.stance,
            object_entity,
            auto_id,
        })
    }

    /// Seals the current transaction into the chunk.
    pub fn commit(&mut self, m: &TxMeta) -> Result<(), IndexError> {
        self.put(Key::new(keys::TX).u64(m.tx).into_vec(), enc(m)?);
        self.put(Key::new(keys::TX_TIME).i64(m.recorded_at.0).u64(m.tx).into_vec(), Vec::new());
        for posting in std::mem::take(&mut self.tx_postings) {
            self.add_posting(&posting);
        }
        for (posting, rtx) in std::mem::take(&mut self.tx_retracts) {
            self.mark_retracted(&posting, rtx)?;
        }
        let tx = std::mem::take(&mut self.tx);
        self.chunk.extend(tx);
        self.terms.borrow_mut().commit();
        self.refs.borrow_mut().commit();
        self.preds.commit();
        self.saved = self.counters;
        self.applied = m.tx;
        self.txno = m.tx;
        Ok(())
    }

    fn add_posting(&mut self, posting: &Posting) {
        for ordering in Ordering::ALL {
            let Some(prefix) = ordering.prefix(posting) else {
                continue;
            };
            let key = self
                .open
                .entry(prefix)
                .or_insert_with_key(|prefix| Key(prefix.clone()).u64(posting.seq).into_vec())
                .clone();
            posting.encode(self.blocks.entry(key).or_default());
        }
    }

    /// Stamps the retraction into the block holding the posting in each ordering.
    fn mark_retracted(&mut self, posting: &Posting, rtx: u64) -> Result<(), IndexError> {
        for ordering in Ordering::ALL {
            let Some(prefix) = ordering.prefix(posting) else {
                continue;
            };
            let start = Key(prefix.clone()).u64(0).into_vec();
            let end = Key(prefix).u64(posting.seq + 1).into_vec();
            // The block holding `seq` is the last one starting at or before it,
            // whether this chunk already holds it or it is only in the base.
            let pending = self.blocks.range(start.clone()..end.clone()).next_back().map(|(k, _)| k.clone());
            let stored = self.base.last_in(&start, &end)?;
            let key = match (pending, stored) {
                (Some(p), Some((k, _))) if p[..] >= k[..] => p,
                (_, Some((k, v))) => {
                    self.blocks.entry(k.to_vec()).or_insert_with(|| v.to_vec());
                    k.to_vec()
                }
                (Some(p), None) => p,
                (None, None) => {
                    return Err(IndexError::Corrupt(format!(
                        "claim seq {} has no posting block",
                        posting.seq
                    )));
                }
            };
            let block = self.blocks.get_mut(&key).expect("present above");
            if !mark_retracted(block, posting.seq, rtx) {
                return Err(IndexError::Corrupt(format!("claim seq {} missing from its block", posting.seq)));
            }
        }
        Ok(())
    }

    /// Hands over everything pending, the current transaction's writes so
    /// far included, as one batch to write now, and goes on with the same
    /// transaction over the backend that then holds them (replay of a
    /// logged transaction too large for one batch). The batch's META marks
    /// the last *whole* transaction applied; the counters are the current
    /// ones.
    pub fn spill(&mut self) -> Result<Writes, IndexError> {
        for posting in std::mem::take(&mut self.tx_postings) {
            self.add_posting(&posting);
        }
        for (posting, rtx) in std::mem::take(&mut self.tx_retracts) {
            self.mark_retracted(&posting, rtx)?;
        }
        // New postings open new blocks: the spilled ones are in the base.
        self.open.clear();
        // The caches only save reads of what is now in the base; emptied,
        // so a huge transaction does not grow them without bound.
        self.terms.borrow_mut().clear();
        self.refs.borrow_mut().clear();
        self.preds.clear();
        let mut out = std::mem::take(&mut self.chunk);
        out.append(&mut self.tx);
        out.append(&mut self.blocks);
        let m = |name: &[u8], v: u64| (meta_key(name), v.to_be_bytes().to_vec());
        for (k, v) in [
            m(meta::APPLIED, self.applied),
            m(meta::NEXT_TERM, self.counters.next_term),
            m(meta::NEXT_SEQ, self.counters.next_seq),
            m(meta::FORMAT, super::FORMAT_VERSION),
        ] {
            out.insert(k, v);
        }
        Ok(out)
    }

    /// Whether any transaction is sealed in the chunk.
    pub fn is_empty(&self) -> bool {
        self.chunk.is_empty()
    }

    /// The chunk's writes, with the counters and the applied mark, ready for
    /// one atomic batch.
    pub fn into_writes(mut self) -> Writes {
        let m = |name: &[u8], v: u64| (meta_key(name), v.to_be_bytes().to_vec());
        self.chunk.append(&mut self.blocks);
        for (k, v) in [
            m(meta::APPLIED, self.applied),
            m(meta::NEXT_TERM, self.saved.next_term),
            m(meta::NEXT_SEQ, self.saved.next_seq),
            m(meta::FORMAT, super::FORMAT_VERSION),
        ] {
            self.chunk.insert(k, v);
        }
        self.chunk
    }
}
