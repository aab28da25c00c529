//! Reads of the indexed state as it stood after transaction `at`.
//!
//! A snapshot sees a claim iff it was asserted at or before `at` and not
//! retracted at or before `at`; it sees the latest entity, predicate and merge
//! version stamped at or before `at`. Nothing written for a later tx is
//! visible, so a snapshot needs no lock while a writer commits.

use std::collections::{BTreeSet, HashSet};

use super::backend::{KvRead, Value};
use super::claim_block;
use super::keys::{self, Key, Reader};
use super::posting::{POSTING_LEN, Posting};
use super::{IndexError, TxMeta};
use crate::codec;
use crate::model::{Claim, Entity, Predicate, Term, Timestamp, fold_name};

/// The orderings claims are indexed in; each is a prefix scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ordering {
    /// By subject, then predicate.
    Spo,
    /// By object, then predicate.
    Ops,
    /// By predicate.
    Pso,
    /// By speaker.
    By,
    /// By source document.
    Src,
}

impl Ordering {
    pub const ALL: [Ordering; 5] = [Ordering::Spo, Ordering::Ops, Ordering::Pso, Ordering::By, Ordering::Src];

    pub fn tag(self) -> u8 {
        match self {
            Ordering::Spo => keys::SPO,
            Ordering::Ops => keys::OPS,
            Ordering::Pso => keys::PSO,
            Ordering::By => keys::BY,
            Ordering::Src => keys::SRC,
        }
    }

    /// The key prefix of posting `p` in this ordering (None: not indexed here).
    /// Its blocks are keyed by this prefix plus the first seq they hold.
    pub fn prefix(self, p: &Posting) -> Option<Vec<u8>> {
        let k = Key::new(self.tag());
        let k = match self {
            Ordering::Spo => k.u64(p.s).u64(p.p),
            Ordering::Ops => k.u64(p.o).u64(p.p),
            Ordering::Pso => k.u64(p.p),
            Ordering::By if p.by == 0 => return None,
            Ordering::By => k.u64(p.by),
            Ordering::Src if p.src == 0 => return None,
            Ordering::Src => k.u64(p.src),
        };
        Some(k.into_vec())
    }
}

/// The id the store assigns to the claim with this seq.
pub fn auto_claim_id(seq: u64) -> String {
    format!("c{seq}")
}

/// The seq an assigned-form id (`c<seq>`, no leading zero) names.
fn auto_seq(id: &str) -> Option<u64> {
    let digits = id.strip_prefix('c')?;
    let ok = !digits.is_empty() && !digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit());
    if ok { digits.parse().ok() } else { None }
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &'static str) -> Result<T, IndexError> {
    codec::decode(bytes, what).map_err(|e| IndexError::Corrupt(e.to_string()))
}

fn flag(v: &[u8]) -> bool {
    v.first() == Some(&1)
}

/// The indexed state as of one transaction.
pub struct Snapshot<R> {
    kv: R,
    at: u64,
}

impl<R: KvRead> Snapshot<R> {
    pub fn new(kv: R, at: u64) -> Snapshot<R> {
        Snapshot { kv, at }
    }

    /// The transaction this snapshot stands at.
    pub fn at(&self) -> u64 {
        self.at
    }

    pub fn kv(&self) -> &R {
        &self.kv
    }

    /// The same index with every transaction it holds visible: to tell a
    /// name that does not exist yet at this snapshot from one that never
    /// does.
    pub fn at_head(&self) -> Snapshot<R>
    where
        R: Clone,
    {
        Snapshot::new(self.kv.clone(), u64::MAX)
    }

    /// The id of an interned term key (see [`keys::term`]).
    pub fn term_id(&self, term_key: &[u8]) -> Result<Option<u64>, IndexError> {
        Ok(self.kv.get(term_key)?.map(|v| Reader(&v).u64().unwrap_or(0)))
    }

    /// The term an id stands for.
    pub fn term(&self, id: u64) -> Result<Option<Term>, IndexError> {
        match self.kv.get(&Key::new(keys::TERM_OF).u64(id).into_vec())? {
            None => Ok(None),
            Some(b) => {
                keys::decode_term(&b).map(Some).ok_or_else(|| IndexError::Corrupt(format!("term {id}")))
            }
        }
    }

    /// The entity key of an entity id.
    pub fn key_of(&self, id: u64) -> Result<Option<String>, IndexError> {
        Ok(match self.term(id)? {
            Some(Term::Entity(k)) => Some(k),
            _ => None,
        })
    }

    /// Latest version at or before `at` among keys `prefix ++ tx`.
    fn latest(&self, prefix: Key) -> Result<Option<Value>, IndexError> {
        let start = prefix.clone().u64(0).into_vec();
        let end = prefix.u64(self.at.saturating_add(1)).into_vec();
        Ok(self.kv.last_in(&start, &end)?.map(|(_, v)| v))
    }

    /// The entity with this id as of the snapshot, if declared by then.
    pub fn entity(&self, id: u64) -> Result<Option<Entity>, IndexError> {
        match self.latest(Key::new(keys::ENT).u64(id))? {
            None => Ok(None),
            Some(b) => decode(&b, "entity").map(Some),
        }
    }

    /// The id of a declared entity key (exact, already folded).
    pub fn entity_id(&self, key: &str) -> Result<Option<u64>, IndexError> {
        match self.term_id(&keys::entity_term(key))? {
            Some(id) if self.entity(id)?.is_some() => Ok(Some(id)),
            _ => Ok(None),
        }
    }

    /// The entity `id` is merged into (one step), if any.
    pub fn merged_into(&self, id: u64) -> Result<Option<u64>, IndexError> {
        Ok(self
            .latest(Key::new(keys::MERGE).u64(id))?
            .and_then(|v| Reader(&v).u64())
            .filter(|into| *into != 0))
    }

    /// The canonical entity `id` resolves to through merges.
    pub fn resolve(&self, mut id: u64) -> Result<u64, IndexError> {
        let mut seen = HashSet::new();
        while let Some(next) = self.merged_into(id)? {
            if !seen.insert(id) {
                return Err(IndexError::Corrupt(format!("merge cycle at entity {id}")));
            }
            id = next;
        }
        Ok(id)
    }

    /// `id` and every entity merged into it, directly or transitively.
    pub fn members(&self, id: u64) -> Result<Vec<u64>, IndexError> {
        let mut out = vec![id];
        let mut i = 0;
        while i < out.len() {
            let prefix = Key::new(keys::MEMBER).u64(out[i]).into_vec();
            let mut latest: Vec<(u64, bool)> = Vec::new();
            for r in self.kv.range(&prefix, keys::prefix_end(&prefix).as_deref()) {
                let (k, v) = r?;
                let mut rd = Reader(&k[prefix.len()..]);
                let (from, tx) = (rd.u64().unwrap_or(0), rd.u64().unwrap_or(u64::MAX));
                if tx > self.at {
                    continue;
                }
                match latest.last_mut() {
                    Some((f, on)) if *f == from => *on = flag(&v),
                    _ => latest.push((from, flag(&v))),
                }
            }
            for (from, on) in latest {
                if on && self.merged_into(from)? == Some(out[i]) && !out.contains(&from) {
                    out.push(from);
                }
            }
            i += 1;
        }
        Ok(out)
    }

    /// Entities whose key, name or alias matches (case-insensitive), canonical.
    pub fn lookup(&self, text: &str) -> Result<Vec<u64>, IndexError> {
        if let Some(id) = self.entity_id(&text.to_lowercase())? {
            return Ok(vec![self.resolve(id)?]);
        }
        let prefix = Key::new(keys::NAME).str(&fold_name(text)).into_vec();
        let mut state: Vec<(u64, bool)> = Vec::new();
        for r in self.kv.range(&prefix, keys::prefix_end(&prefix).as_deref()) {
            let (k, v) = r?;
            let mut rd = Reader(&k[prefix.len()..]);
            let (id, tx) = (rd.u64().unwrap_or(0), rd.u64().unwrap_or(u64::MAX));
            if tx > self.at {
                continue;
            }
            match state.last_mut() {
                Some((i, on)) if *i == id => *on = flag(&v),
                _ => state.push((id, flag(&v))),
            }
        }
        let mut out = BTreeSet::new();
        for (id, on) in state {
            if on {
                out.insert(self.resolve(id)?);
            }
        }
        Ok(out.into_iter().collect())
    }

    /// Every entity id declared as of the snapshot, with its state.
    pub fn entities(&self) -> Result<Vec<(u64, Entity)>, IndexError> {
        let prefix = [keys::ENT];
        let mut out: Vec<(u64, Entity)> = Vec::new();
        let mut last: Option<(u64, Value)> = None;
        let flush = |last: &mut Option<(u64, Value)>, out: &mut Vec<(u64, Entity)>| {
            if let Some((id, bytes)) = last.take() {
                out.push((id, decode(&bytes, "entity")?));
            }
            Ok::<(), IndexError>(())
        };
        for r in self.kv.range(&prefix, keys::prefix_end(&prefix).as_deref()) {
            let (k, v) = r?;
            let mut rd = Reader(&k[1..]);
            let (id, tx) = (rd.u64().unwrap_or(0), rd.u64().unwrap_or(u64::MAX));
            if last.as_ref().is_some_and(|(l, _)| *l != id) {
                flush(&mut last, &mut out)?;
            }
            if tx <= self.at {
                last = Some((id, v));
            }
        }
        flush(&mut last, &mut out)?;
        Ok(out)
    }

    /// A predicate's id and metadata, if declared as of the snapshot.
    pub fn predicate(&self, name: &str) -> Result<Option<(u64, Predicate)>, IndexError> {
        let Some(id) = self.term_id(&keys::predicate_term(name))? else {
            return Ok(None);
        };
        match self.latest(Key::new(keys::PRED).u64(id))? {
            None => Ok(None),
            Some(b) => Ok(Some((id, decode(&b, "predicate")?))),
        }
    }

    /// Every predicate declared as of the snapshot.
    pub fn predicates(&self) -> Result<Vec<(u64, Predicate)>, IndexError> {
        let prefix = [keys::PRED];
        let mut out: Vec<(u64, Predicate)> = Vec::new();
        for r in self.kv.range(&prefix, keys::prefix_end(&prefix).as_deref()) {
            let (k, v) = r?;
            let mut rd = Reader(&k[1..]);
            let (id, tx) = (rd.u64().unwrap_or(0), rd.u64().unwrap_or(u64::MAX));
            if tx > self.at {
                continue;
            }
            let pred = decode(&v, "predicate")?;
            match out.last_mut() {
                Some((last, p)) if *last == id => *p = pred,
                _ => out.push((id, pred)),
            }
        }
        Ok(out)
    }

    /// The seq of a claim id, if asserted as of the snapshot. Ids the store
    /// assigned (`c<seq>`) need no CLAIM_ID entry; chosen ids have one.
    pub fn claim_seq(&self, id: &str) -> Result<Option<u64>, IndexError> {
        if let Some(v) = self.kv.get(&Key::new(keys::CLAIM_ID).str(id).into_vec())? {
            let seq = Reader(&v).u64().ok_or_else(|| IndexError::Corrupt("claim id".into()))?;
            return Ok(self.claim(seq)?.map(|_| seq));
        }
        let Some(seq) = auto_seq(id) else {
            return Ok(None);
        };
        Ok(self.claim(seq)?.filter(|c| c.id == id).map(|_| seq))
    }

    /// The claim with this seq as the snapshot sees it (retraction only if at
    /// or before the snapshot), if asserted by then.
    pub fn claim(&self, seq: u64) -> Result<Option<Claim>, IndexError> {
        let Some(block) = self.kv.get(&claim_block::block_key(seq))? else {
            return Ok(None);
        };
        let Some(record) = claim_block::find(&block, seq)? else {
            return Ok(None);
        };
        let mut c: Claim = decode(record, "claim")?;
        if c.tx > self.at {
            return Ok(None);
        }
        if c.retracted_tx.is_some_and(|r| r > self.at) {
            c.retracted_tx = None;
            c.retract_reason = None;
        }
        Ok(Some(c))
    }

    /// Postings under a key prefix of one ordering, visible in the snapshot.
    pub fn postings(
        &self,
        prefix: &[u8],
        include_retracted: bool,
    ) -> impl Iterator<Item = Result<Posting, IndexError>> + '_ {
        let at = self.at;
        self.kv
            .range(prefix, keys::prefix_end(prefix).as_deref())
            .flat_map(move |r| visible_postings(r, at, include_retracted))
    }

    /// Postings in an ordering for a range of keys `[start, end)`.
    pub fn postings_range(
        &self,
        start: &[u8],
        end: &[u8],
        include_retracted: bool,
    ) -> impl Iterator<Item = Result<Posting, IndexError>> + '_ {
        let at = self.at;
        self.kv.range(start, Some(end)).flat_map(move |r| visible_postings(r, at, include_retracted))
    }

    /// The metadata of a transaction at or before the snapshot.
    pub fn tx_meta(&self, tx: u64) -> Result<Option<TxMeta>, IndexError> {
        if tx > self.at {
            return Ok(None);
        }
        match self.kv.get(&Key::new(keys::TX).u64(tx).into_vec())? {
            None => Ok(None),
            Some(b) => decode(&b, "tx meta").map(Some),
        }
    }

    /// The last tx recorded at or before `t` (0 if none), within the snapshot.
    pub fn tx_at_time(&self, t: Timestamp) -> Result<u64, IndexError> {
        let start = Key::new(keys::TX_TIME).into_vec();
        let end = Key::new(keys::TX_TIME).i64(t.0).u64(u64::MAX).byte(0).into_vec();
        Ok(match self.kv.last_in(&start, &end)? {
            None => 0,
            Some((k, _)) => {
                let mut rd = Reader(&k[1..]);
                rd.i64();
                rd.u64().unwrap_or(0).min(self.at)
            }
        })
    }
}

impl<R: KvRead> Snapshot<R> {
    /// Every version of an entity up to the snapshot: `(tx, state)`.
    pub fn entity_versions(&self, id: u64) -> Result<Vec<(u64, Entity)>, IndexError> {
        let prefix = Key::new(keys::ENT).u64(id).into_vec();
        let mut out = Vec::new();
        for r in self.kv.range(&prefix, keys::prefix_end(&prefix).as_deref()) {
            let (k, v) = r?;
            let tx = Reader(&k[prefix.len()..]).u64().unwrap_or(u64::MAX);
            if tx <= self.at {
                out.push((tx, decode(&v, "entity")?));
            }
        }
        Ok(out)
    }

    /// Merge events of `id` as the merged side: `(tx, into)`, into 0 = unmerged.
    pub fn merge_events(&self, id: u64) -> Result<Vec<(u64, u64)>, IndexError> {
        let prefix = Key::new(keys::MERGE).u64(id).into_vec();
        let mut out = Vec::new();
        for r in self.kv.range(&prefix, keys::prefix_end(&prefix).as_deref()) {
            let (k, v) = r?;
            let tx = Reader(&k[prefix.len()..]).u64().unwrap_or(u64::MAX);
            if tx <= self.at {
                out.push((tx, Reader(&v).u64().unwrap_or(0)));
            }
        }
        Ok(out)
    }

    /// Merge events with `id` as the surviving side: `(tx, from, merged?)`.
    pub fn member_events(&self, id: u64) -> Result<Vec<(u64, u64, bool)>, IndexError> {
        let prefix = Key::new(keys::MEMBER).u64(id).into_vec();
        let mut out = Vec::new();
        for r in self.kv.range(&prefix, keys::prefix_end(&prefix).as_deref()) {
            let (k, v) = r?;
            let mut rd = Reader(&k[prefix.len()..]);
            let (from, tx) = (rd.u64().unwrap_or(0), rd.u64().unwrap_or(u64::MAX));
            if tx <= self.at {
                out.push((tx, from, flag(&v)));
            }
        }
        out.sort();
        Ok(out)
    }
}

/// The postings of one block read from a range that are visible at `at`,
/// decoded one at a time from the block value (shared with the backend's
/// cache, not copied): a block is not first decoded into a vector.
fn visible_postings(
    block: Result<(Value, Value), IndexError>,
    at: u64,
    include_retracted: bool,
) -> impl Iterator<Item = Result<Posting, IndexError>> {
    let (mut damage, block) = match block {
        Ok((_, v)) if v.len().is_multiple_of(POSTING_LEN) => (None, Some(v)),
        Ok((_, v)) => (Some(IndexError::Corrupt(format!("posting block of {} bytes", v.len()))), None),
        Err(e) => (Some(e), None),
    };
    let mut offset = 0;
    std::iter::from_fn(move || {
        if let Some(e) = damage.take() {
            return Some(Err(e));
        }
        let block = block.as_ref()?;
        while offset < block.len() {
            let chunk = &block[offset..offset + POSTING_LEN];
            offset += POSTING_LEN;
            match Posting::decode(chunk) {
                Some(p) if p.visible_at(at, include_retracted) => return Some(Ok(p)),
                Some(_) => {}
                None => {
                    offset = block.len();
                    return Some(Err(IndexError::Corrupt("bad posting".into())));
                }
            }
        }
        None
    })
}

impl<R: KvRead> Snapshot<R> {
    /// [`Snapshot::postings`] for an owned prefix, so the iterator borrows only
    /// the snapshot.
    pub fn postings_owned(
        &self,
        prefix: Vec<u8>,
        include_retracted: bool,
    ) -> impl Iterator<Item = Result<Posting, IndexError>> + '_ {
        let at = self.at;
        let end = keys::prefix_end(&prefix);
        self.kv.range(&prefix, end.as_deref()).flat_map(move |r| visible_postings(r, at, include_retracted))
    }

    /// Counts visible postings under a prefix, stopping at `cap` (planning).
    /// Decodes postings one at a time, so a capped count of a large block
    /// does not decode (and allocate) the whole block.
    pub fn count_postings(&self, prefix: Vec<u8>, cap: u64) -> Result<u64, IndexError> {
        let mut n = 0;
        let end = keys::prefix_end(&prefix);
        for r in self.kv.range(&prefix, end.as_deref()) {
            let (_, block) = r?;
            if !block.len().is_multiple_of(POSTING_LEN) {
                return Err(IndexError::Corrupt(format!("posting block of {} bytes", block.len())));
            }
            for chunk in block.chunks_exact(POSTING_LEN) {
                let p = Posting::decode(chunk).ok_or_else(|| IndexError::Corrupt("bad posting".into()))?;
                if p.visible_at(self.at, false) {
                    n += 1;
                    if n >= cap {
                        return Ok(n);
                    }
                }
            }
        }
        Ok(n)
    }
}

impl<R: KvRead> Snapshot<R> {
    /// Whether some version `prefix ++ tx` is stamped at or before the
    /// snapshot. Reads the first key only and decodes nothing: entities and
    /// predicates are never removed, so "declared as of the snapshot" is
    /// "has a version by then".
    fn has_version(&self, prefix: Key) -> Result<bool, IndexError> {
        let start = prefix.clone().u64(0).into_vec();
        let end = prefix.u64(self.at.saturating_add(1)).into_vec();
        Ok(self.kv.range(&start, Some(&end)).next().transpose()?.is_some())
    }

    /// [`Snapshot::entity_id`] without decoding the entity record.
    pub fn declared_entity_id(&self, key: &str) -> Result<Option<u64>, IndexError> {
        match self.term_id(&keys::entity_term(key))? {
            Some(id) if self.has_version(Key::new(keys::ENT).u64(id))? => Ok(Some(id)),
            _ => Ok(None),
        }
    }

    /// The id of a predicate declared as of the snapshot, without decoding
    /// its metadata.
    pub fn predicate_id(&self, name: &str) -> Result<Option<u64>, IndexError> {
        match self.term_id(&keys::predicate_term(name))? {
            Some(id) if self.has_version(Key::new(keys::PRED).u64(id))? => Ok(Some(id)),
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DayRange, Stance};

    fn posting(seq: u64, rtx: u64) -> Posting {
        let valid = DayRange { start: 0, end: i32::MAX };
        let stance = Stance::Asserts;
        Posting {
            seq,
            s: 1,
            p: 2,
            o: 3,
            by: 0,
            src: 4,
            atx: 5,
            rtx,
            valid,
            stance,
            object_entity: false,
            auto_id: true,
        }
    }

    fn decoded(block: Vec<u8>, at: u64) -> Vec<Result<u64, String>> {
        let read = Ok((Value::Owned(b"k".to_vec()), Value::Owned(block)));
        visible_postings(read, at, false).map(|r| r.map(|p| p.seq).map_err(|e| e.to_string())).collect()
    }

    #[test]
    fn a_block_yields_its_visible_postings_in_order() {
        let mut block = Vec::new();
        for p in [posting(1, 0), posting(2, 6), posting(3, 0)] {
            p.encode(&mut block);
        }
        assert_eq!(decoded(block.clone(), 5), vec![Ok(1), Ok(2), Ok(3)]);
        // Retracted at tx 6: gone from a snapshot at 6.
        assert_eq!(decoded(block, 6), vec![Ok(1), Ok(3)]);
    }

    #[test]
    fn a_damaged_block_is_one_error_and_the_end_of_the_block() {
        let mut block = Vec::new();
        posting(1, 0).encode(&mut block);
        let mut short = block.clone();
        short.pop();
        assert!(matches!(&decoded(short, 5)[..], [Err(e)] if e.contains("posting block of")));
        let mut bad_stance = block.clone();
        posting(2, 0).encode(&mut bad_stance);
        posting(3, 0).encode(&mut bad_stance);
        bad_stance[POSTING_LEN + 72] = 0xEE;
        assert!(matches!(&decoded(bad_stance, 5)[..], [Ok(1), Err(e)] if e.contains("bad posting")));
    }
}
