//! What one query execution carries: the snapshot it reads, its time filters,
//! parameters, budgets and cancel flag, and per-query caches of entities,
//! claims, terms and merge resolution.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::super::QueryError;
use super::super::value::{Val, Value};
use crate::index::{IndexError, KvRead, Posting};
use crate::model::{Claim, DayRange, Entity, Term};
use crate::store::IndexView;

/// Values for `$name` parameters.
pub type Params = HashMap<String, Value>;

/// The multiply-rotate hash of rustc (FxHash): the per-query caches key by
/// term ids and seqs, which need no defence against chosen collisions, and
/// SipHash cost more than the lookups it guards.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.write_u64(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        for &b in chunks.remainder() {
            self.write_u64(b as u64);
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write_u64(i as u64);
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(i as u64);
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type FxBuild = std::hash::BuildHasherDefault<FxHasher>;
pub(crate) type FxMap<K, V> = HashMap<K, V, FxBuild>;
pub(crate) type FxSet<K> = std::collections::HashSet<K, FxBuild>;

/// Per-query budgets, checked inside every expanding operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most intermediate rows (postings and bindings) a query may examine; a
    /// variable-length trail of n claims counts n.
    pub max_rows: u64,
    /// Longest a query may run.
    pub max_time: Duration,
    /// Most bytes (approximate) a query may hold in rows it keeps: sorting,
    /// DISTINCT, grouping and aggregate values (`collect` of paths among
    /// them). Rows that stream to the caller cost nothing here.
    pub max_memory: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_rows: 50_000_000, max_time: Duration::from_secs(300), max_memory: DEFAULT_MAX_MEMORY }
    }
}

/// The default memory budget: 1 GiB, a quarter of a small machine's memory,
/// well above any reasonable query's sort or grouping state.
pub const DEFAULT_MAX_MEMORY: u64 = 1 << 30;

/// Approximate heap and inline bytes one value occupies where a query keeps it.
pub(crate) fn val_bytes(v: &Val) -> u64 {
    let own = std::mem::size_of::<Val>() as u64;
    own + match v {
        Val::Str(s) => s.len() as u64,
        Val::List(items) | Val::Path(items) => items.iter().map(val_bytes).sum(),
        _ => 0,
    }
}

/// Approximate bytes of a kept row of values (its vector and the values).
pub(crate) fn row_bytes(row: &[Val]) -> u64 {
    // The vector's header, plus a hash-table slot's overhead where one holds it.
    48 + row.iter().map(val_bytes).sum::<u64>()
}

/// `1 GiB`, `64 MiB`, `1000 bytes`.
fn bytes_text(n: u64) -> String {
    match n {
        n if n >= 1 << 30 && n % (1 << 30) == 0 => format!("{} GiB", n >> 30),
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}

/// Cancels a running query from another thread.
#[derive(Debug, Clone, Default)]
pub struct CancelHandle(pub(crate) Arc<AtomicBool>);

impl CancelHandle {
    pub fn new() -> CancelHandle {
        CancelHandle::default()
    }
    /// Asks the query to stop at its next budget check.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Release);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
    /// Clears the flag so the handle can serve the next query.
    pub fn reset(&self) {
        self.0.store(false, Ordering::Release);
    }
}

pub(crate) struct Ctx<'s> {
    pub snap: &'s IndexView,
    pub valid: Option<DayRange>,
    pub include_retracted: bool,
    pub params: &'s Params,
    limits: Limits,
    cancel: Option<CancelHandle>,
    started: Instant,
    examined: Cell<u64>,
    /// Bytes charged against [`Limits::max_memory`] and not yet released.
    memory: Cell<u64>,
    /// Whether operators time their `next` calls: only EXPLAIN ANALYZE reads
    /// the times, and two clock reads per row per operator cost 5-8% of a
    /// scan-heavy query.
    timed: Cell<bool>,
    entities: RefCell<FxMap<u64, Option<Rc<Entity>>>>,
    claims: RefCell<FxMap<u64, Rc<Claim>>>,
    terms: RefCell<FxMap<u64, Rc<Term>>>,
    canon: RefCell<FxMap<u64, u64>>,
    members: RefCell<FxMap<u64, Rc<Vec<u64>>>>,
    /// Whether the store holds any merge at all (None: not looked yet);
    /// without one every entity is canonical and its own only member.
    merges: Cell<Option<bool>>,
    /// Entity keys written in data (claim records, attributes) → value.
    keys: RefCell<FxMap<String, Val>>,
    /// The posting each edge slot was last bound from, by slot: claim fields
    /// the posting carries are read from it instead of the claim record.
    bound: RefCell<Vec<Option<Posting>>>,
    /// Entity references already resolved: written text → canonical id.
    pub refs: RefCell<HashMap<String, u64>>,
}

impl<'s> Ctx<'s> {
    pub fn new(
        snap: &'s IndexView,
        params: &'s Params,
        limits: Limits,
        cancel: Option<CancelHandle>,
    ) -> Ctx<'s> {
        Ctx {
            snap,
            valid: None,
            include_retracted: false,
            params,
            limits,
            cancel,
            started: Instant::now(),
            examined: Cell::new(0),
            memory: Cell::new(0),
            timed: Cell::new(false),
            entities: RefCell::default(),
            claims: RefCell::default(),
            terms: RefCell::default(),
            canon: RefCell::default(),
            members: RefCell::default(),
            merges: Cell::new(None),
            keys: RefCell::default(),
            bound: RefCell::default(),
            refs: RefCell::default(),
        }
    }

    /// Makes operators time their work (EXPLAIN ANALYZE).
    pub fn time_operators(&self) {
        self.timed.set(true);
    }

    /// Now, when operators are timed.
    pub fn clock(&self) -> Option<Instant> {
        self.timed.get().then(Instant::now)
    }

    /// Counts `n` examined rows and checks the budgets and the cancel flag.
    pub fn tick(&self, n: u64) -> Result<(), QueryError> {
        let total = self.examined.get() + n;
        self.examined.set(total);
        if total > self.limits.max_rows {
            return Err(QueryError::LimitExceeded(format!(
                "the query examined more than {} rows",
                self.limits.max_rows
            )));
        }
        if total % 1024 < n.max(1) {
            if self.cancel.as_ref().is_some_and(|c| c.is_cancelled()) {
                return Err(QueryError::Cancelled);
            }
            if self.started.elapsed() > self.limits.max_time {
                return Err(QueryError::LimitExceeded(format!(
                    "the query ran longer than {:?}",
                    self.limits.max_time
                )));
            }
        }
        Ok(())
    }

    /// Counts `bytes` more held by a sort, DISTINCT, grouping or
    /// aggregate; fails once the query holds more than its memory budget.
    pub fn charge(&self, bytes: u64) -> Result<(), QueryError> {
        let total = self.memory.get().saturating_add(bytes);
        self.memory.set(total);
        if total > self.limits.max_memory {
            return Err(QueryError::LimitExceeded(format!(
                "memory: the query needs more than {} to sort, group or deduplicate its rows \
                 (the memory budget); use LIMIT or a narrower pattern",
                bytes_text(self.limits.max_memory)
            )));
        }
        Ok(())
    }

    /// Before a kept container (`len` of `capacity` elements of `elem`
    /// bytes) takes one more: when it is full, charges the room it grows
    /// by (as much as it holds, at least 4 elements) and returns that
    /// many elements to reserve, so its storage is counted before it is
    /// allocated, not only its elements.
    pub fn room(&self, len: usize, capacity: usize, elem: usize) -> Result<usize, QueryError> {
        if len < capacity {
            return Ok(0);
        }
        let add = capacity.max(4);
        self.charge((add * elem) as u64)?;
        Ok(add)
    }

    /// Returns `bytes` charged before and now freed.
    pub fn release(&self, bytes: u64) {
        self.memory.set(self.memory.get().saturating_sub(bytes));
    }

    pub fn examined(&self) -> u64 {
        self.examined.get()
    }

    pub fn entity(&self, id: u64) -> Result<Option<Rc<Entity>>, IndexError> {
        if let Some(e) = self.entities.borrow().get(&id) {
            return Ok(e.clone());
        }
        let e = match shared::entity(self.snap, id) {
            Some(e) => e,
            None => {
                let e = self.snap.entity(id)?.map(Rc::new);
                shared::put_entity(self.snap, id, e.clone());
                e
            }
        };
        self.entities.borrow_mut().insert(id, e.clone());
        Ok(e)
    }

    pub fn claim(&self, seq: u64) -> Result<Rc<Claim>, IndexError> {
        if let Some(c) = self.claims.borrow().get(&seq) {
            return Ok(c.clone());
        }
        let c = match shared::claim(self.snap, seq) {
            Some(c) => c,
            None => {
                let c = self
                    .snap
                    .claim(seq)?
                    .ok_or_else(|| IndexError::Corrupt(format!("claim seq {seq} has no record")))?;
                let c = Rc::new(c);
                shared::put_claim(self.snap, seq, c.clone());
                c
            }
        };
        self.claims.borrow_mut().insert(seq, c.clone());
        Ok(c)
    }

    pub fn term(&self, id: u64) -> Result<Rc<Term>, IndexError> {
        if let Some(t) = self.terms.borrow().get(&id) {
            return Ok(t.clone());
        }
        let t = match shared::term(self.snap, id) {
            Some(t) => t,
            None => {
                let t =
                    self.snap.term(id)?.ok_or_else(|| IndexError::Corrupt(format!("term {id} unknown")))?;
                let t = Rc::new(t);
                shared::put_term(self.snap, id, t.clone());
                t
            }
        };
        self.terms.borrow_mut().insert(id, t.clone());
        Ok(t)
    }

    /// Whether any entity was ever merged (one range probe per query).
    pub fn any_merges(&self) -> Result<bool, IndexError> {
        if let Some(m) = self.merges.get() {
            return Ok(m);
        }
        let prefix = [crate::index::keys::MERGE];
        let end = crate::index::keys::prefix_end(&prefix);
        let m = self.snap.kv().range(&prefix, end.as_deref()).next().transpose()?.is_some();
        self.merges.set(Some(m));
        Ok(m)
    }

    /// The canonical entity of an entity id.
    pub fn canonical(&self, id: u64) -> Result<u64, IndexError> {
        if !self.any_merges()? {
            return Ok(id);
        }
        if let Some(&c) = self.canon.borrow().get(&id) {
            return Ok(c);
        }
        let c = self.snap.resolve(id)?;
        self.canon.borrow_mut().insert(id, c);
        Ok(c)
    }

    /// An entity and everything merged into it.
    pub fn members(&self, id: u64) -> Result<Rc<Vec<u64>>, IndexError> {
        if let Some(m) = self.members.borrow().get(&id) {
            return Ok(m.clone());
        }
        if !self.any_merges()? {
            return Ok(Rc::new(vec![id]));
        }
        let m = Rc::new(self.snap.members(id)?);
        self.members.borrow_mut().insert(id, m.clone());
        Ok(m)
    }

    /// The value a term id stands for: a canonical entity or a literal.
    pub fn term_val(&self, id: u64) -> Result<Val, IndexError> {
        Ok(match &*self.term(id)? {
            Term::Entity(_) => Val::Entity(self.canonical(id)?),
            other => literal_val(other),
        })
    }

    /// The value at one end of a posting (`object`: its object, else its
    /// subject). A subject is always an entity and the posting says whether
    /// its object is one, so only a literal object's term is read.
    pub fn end_val(&self, p: &Posting, object: bool) -> Result<Val, IndexError> {
        match (object, p.object_entity) {
            (false, _) => Ok(Val::Entity(self.canonical(p.s)?)),
            (true, true) => Ok(Val::Entity(self.canonical(p.o)?)),
            (true, false) => self.term_val(p.o),
        }
    }

    /// Whether a claim is a self-loop: its object is an entity and the same
    /// canonical entity as its subject (also when a merge made it one). An
    /// undirected edge reads such a claim from both sides and takes it once.
    pub fn self_loop(&self, p: &Posting) -> Result<bool, IndexError> {
        Ok(p.object_entity && self.canonical(p.s)? == self.canonical(p.o)?)
    }

    /// The value of a term written in data (entity keys resolve to canonical ids).
    pub fn data_val(&self, t: &Term) -> Result<Val, IndexError> {
        Ok(match t {
            Term::Entity(key) => {
                if let Some(v) = self.keys.borrow().get(key) {
                    return Ok(v.clone());
                }
                let v = match self.snap.term_id(&crate::index::keys::entity_term(key))? {
                    Some(id) => self.entity_val(id)?,
                    None => Val::Null,
                };
                self.keys.borrow_mut().insert(key.clone(), v.clone());
                v
            }
            other => literal_val(other),
        })
    }

    /// The value of an entity term id as data names it: its canonical
    /// entity, or null if no entity with that key is declared (what
    /// [`Ctx::data_val`] gives for the key).
    pub fn entity_val(&self, id: u64) -> Result<Val, IndexError> {
        Ok(match self.entity(id)? {
            Some(_) => Val::Entity(self.canonical(id)?),
            None => Val::Null,
        })
    }

    /// Records the posting an operator bound edge slot `slot` from.
    pub fn note_posting(&self, slot: usize, p: &Posting) {
        let mut bound = self.bound.borrow_mut();
        if bound.len() <= slot {
            bound.resize(slot + 1, None);
        }
        bound[slot] = Some(*p);
    }

    /// The posting of claim `seq`, if an edge slot is bound from it.
    pub fn posting(&self, seq: u64) -> Option<Posting> {
        self.bound.borrow().iter().flatten().find(|p| p.seq == seq).copied()
    }

    /// Turns an execution value into a result value.
    pub fn resolve(&self, v: &Val) -> Result<Value, IndexError> {
        Ok(match v {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Int(i) => Value::Int(*i),
            Val::Float(f) => Value::Float(*f),
            Val::Str(s) => Value::String(s.clone()),
            Val::Date(d) => Value::Date(*d),
            Val::Time(t) => Value::Timestamp(*t),
            Val::Entity(id) => match self.entity(*id)? {
                Some(e) => Value::Entity { key: e.key.clone(), name: e.name.clone(), kind: e.kind.clone() },
                None => Value::Null,
            },
            Val::Claim(seq) => {
                let c = self.claim(*seq)?;
                Value::Claim { id: c.id.clone(), summary: c.to_string() }
            }
            Val::List(items) => Value::List(items.iter().map(|v| self.resolve(v)).collect::<Result<_, _>>()?),
            Val::Map(m) => Value::Map(
                m.iter()
                    .map(|(k, v)| Ok((k.clone(), self.resolve(v)?)))
                    .collect::<Result<_, IndexError>>()?,
            ),
            Val::Path(items) => {
                let (mut nodes, mut claims, mut forward) = (Vec::new(), Vec::new(), Vec::new());
                for (i, v) in items.iter().enumerate() {
                    if i % 2 == 0 {
                        nodes.push(self.resolve(v)?);
                        continue;
                    }
                    if let (Val::Claim(seq), Some(prev)) = (v, items.get(i - 1)) {
                        let c = self.claim(*seq)?;
                        forward.push(self.data_val(&Term::Entity(c.s.clone()))? == *prev);
                    }
                    claims.push(self.resolve(v)?);
                }
                Value::Path { nodes, claims, forward }
            }
        })
    }
}

/// The execution value of a literal term.
pub(crate) fn literal_val(t: &Term) -> Val {
    match t {
        Term::Entity(_) => Val::Null,
        Term::String(s) => Val::Str(s.clone()),
        Term::Int(i) => Val::Int(*i),
        Term::Float(f) => Val::Float(*f),
        Term::Bool(b) => Val::Bool(*b),
        Term::Date(d) => Val::Date(*d),
    }
}

/// Empties the calling thread's cache of decoded terms, entity and claim
/// records that queries share (see `shared` below): the next query on this
/// thread reads everything from the index, as the first one did. For
/// measuring a query cold, or releasing the memory of a thread that is done.
pub fn clear_thread_cache() {
    shared::clear();
}

/// Decoded terms, entity records and claim records shared by the queries
/// of one thread.
///
/// Correct by construction, with no invalidation to get wrong:
/// - a term id names one term for the life of an index (terms are interned
///   once and never rewritten), so terms are cached per index;
/// - an entity record as of tx `T` never changes (a later event writes a
///   version stamped with a later tx, which a snapshot at `T` does not see),
///   so records are cached per (index, `T`); likewise a claim record as of
///   `T` (a later retraction rewrites the record with a tx after `T`, which
///   the snapshot masks);
/// - the index is told apart by its backend's allocation, held by a `Weak`
///   so the address cannot be reused by another index while cached: a
///   rebuild or reopen brings a new backend and empties the cache.
///
/// Merge resolution is not cached here (it stays per query). One index and
/// one `T` at a time: a read at another `T` empties the records, another
/// index empties everything; at most [`shared::CAP`] entries of each.
mod shared {
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::sync::{Arc, Weak};

    use super::FxMap;
    use crate::index::Guarded;
    use crate::model::{Claim, Entity, Term};
    use crate::store::IndexView;

    /// Entries per map before it is emptied.
    pub(super) const CAP: usize = 1 << 16;

    struct Shared {
        index: Weak<Guarded>,
        at: u64,
        terms: FxMap<u64, Rc<Term>>,
        entities: FxMap<u64, Option<Rc<Entity>>>,
        claims: FxMap<u64, Rc<Claim>>,
    }

    thread_local! {
        static SHARED: RefCell<Shared> = RefCell::new(Shared {
            index: Weak::new(),
            at: 0,
            terms: FxMap::default(),
            entities: FxMap::default(),
            claims: FxMap::default(),
        });
    }

    /// Runs `f` on the cache after pointing it at `snap`'s index and tx.
    fn with<T>(snap: &IndexView, f: impl FnOnce(&mut Shared) -> T) -> T {
        SHARED.with(|cell| {
            let mut s = cell.borrow_mut();
            let index: &Arc<Guarded> = snap.kv();
            if !std::ptr::eq(s.index.as_ptr(), Arc::as_ptr(index)) {
                s.index = Arc::downgrade(index);
                s.terms.clear();
                s.entities.clear();
                s.claims.clear();
                s.at = snap.at();
            } else if s.at != snap.at() {
                s.entities.clear();
                s.claims.clear();
                s.at = snap.at();
            }
            f(&mut s)
        })
    }

    /// Empties this thread's cache.
    pub(crate) fn clear() {
        SHARED.with(|cell| {
            let mut s = cell.borrow_mut();
            s.index = Weak::new();
            s.terms = FxMap::default();
            s.entities = FxMap::default();
            s.claims = FxMap::default();
        })
    }

    pub(super) fn term(snap: &IndexView, id: u64) -> Option<Rc<Term>> {
        with(snap, |s| s.terms.get(&id).cloned())
    }

    pub(super) fn put_term(snap: &IndexView, id: u64, t: Rc<Term>) {
        with(snap, |s| {
            if s.terms.len() >= CAP {
                s.terms.clear();
            }
            s.terms.insert(id, t);
        })
    }

    pub(super) fn claim(snap: &IndexView, seq: u64) -> Option<Rc<Claim>> {
        with(snap, |s| s.claims.get(&seq).cloned())
    }

    pub(super) fn put_claim(snap: &IndexView, seq: u64, c: Rc<Claim>) {
        with(snap, |s| {
            if s.claims.len() >= CAP {
                s.claims.clear();
            }
            s.claims.insert(seq, c);
        })
    }

    pub(super) fn entity(snap: &IndexView, id: u64) -> Option<Option<Rc<Entity>>> {
        with(snap, |s| s.entities.get(&id).cloned())
    }

    pub(super) fn put_entity(snap: &IndexView, id: u64, e: Option<Rc<Entity>>) {
        with(snap, |s| {
            if s.entities.len() >= CAP {
                s.entities.clear();
            }
            s.entities.insert(id, e);
        })
    }
}
