//! A reference model of the store for the property tests: the committed
//! transactions' *resolved* events, read back from the log and folded naively
//! in memory, one full state per transaction.
//!
//! It is meant to be small and obviously correct. It shares nothing with the
//! indexes: only the model types, `Entity::apply`/`apply_document` (the
//! definition of "given fields replace old ones"), `Claim::from_assert` and
//! `ValidTime::days` (valid-time arithmetic, unit-tested in `model::date`).
//! Everything else (merges, name lookup, filters, as-of visibility, counts) is
//! written out here from the rules in `docs/architecture.md`.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use claimgraph::model::{Claim, Entity, Event, Predicate, Term, Timestamp};
use claimgraph::{ClaimQuery, Stats, Store};

/// Every state the store has passed through.
pub struct Reference {
    /// `states[t]` is the state after tx `t` (`states[0]` is empty).
    states: Vec<State>,
    /// `recorded_at[t - 1]` is tx `t`'s recorded-at time.
    recorded_at: Vec<Timestamp>,
}

/// The state as of one transaction.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// The transaction this state stands at.
    pub tx: u64,
    /// Every declared entity (documents and merged ones included), by key.
    pub entities: BTreeMap<String, Entity>,
    /// `from → into` for every entity merged as of this state (one step).
    pub merged_into: BTreeMap<String, String>,
    pub predicates: BTreeMap<String, Predicate>,
    /// Every claim asserted so far, in assertion order, with its retraction
    /// as of this state.
    pub claims: Vec<Claim>,
}

impl Reference {
    /// Folds every committed transaction of `store`, read from its log.
    pub fn from_store(store: &Store) -> Reference {
        let mut states = vec![State::default()];
        let mut recorded_at = Vec::new();
        store
            .for_each_tx(1, |rec| {
                assert_eq!(rec.tx, states.len() as u64, "tx numbers are dense from 1");
                let mut next = states.last().expect("state 0").clone();
                next.tx = rec.tx;
                for event in &rec.body.events {
                    next.apply(rec.tx, event);
                }
                states.push(next);
                recorded_at.push(rec.body.recorded_at);
                Ok(())
            })
            .expect("read the log");
        Reference { states, recorded_at }
    }

    /// The last committed transaction.
    pub fn head(&self) -> u64 {
        self.states.len() as u64 - 1
    }

    /// The state as of `tx` (clamped to the head, like `Store::snapshot_at`).
    pub fn at(&self, tx: u64) -> &State {
        &self.states[tx.min(self.head()) as usize]
    }

    /// The last transaction recorded at or before `t` (0 if none).
    pub fn tx_at_time(&self, t: Timestamp) -> u64 {
        self.recorded_at.iter().rposition(|r| *r <= t).map_or(0, |i| i as u64 + 1)
    }

    /// Recorded-at times of every transaction, tx 1 first.
    pub fn recorded_at(&self) -> &[Timestamp] {
        &self.recorded_at
    }
}

/// Case-insensitive name matching: trimmed, lower case.
fn fold(text: &str) -> String {
    text.trim().to_lowercase()
}

impl State {
    /// Applies one resolved event of transaction `tx`.
    pub fn apply(&mut self, tx: u64, event: &Event) {
        match event {
            Event::Entity(e) => {
                self.entities.entry(e.key.clone()).or_insert_with(|| Entity::new(&e.key)).apply(e)
            }
            Event::Document(d) => {
                self.entities.entry(d.key.clone()).or_insert_with(|| Entity::new(&d.key)).apply_document(d)
            }
            Event::Predicate(p) => {
                let pred = self.predicate_entry(&p.key);
                if p.description.is_some() {
                    pred.description.clone_from(&p.description);
                }
                if let Some(f) = p.functional {
                    pred.functional = f;
                }
            }
            Event::Assert(a) => {
                self.predicate_entry(&a.p);
                assert!(a.claim.is_some(), "a logged assertion has its claim id");
                assert!(self.claims.iter().all(|c| Some(&c.id) != a.claim.as_ref()), "claim ids are unique");
                for key in [Some(&a.s), a.by.as_ref(), a.source.as_ref()].into_iter().flatten() {
                    assert!(self.entities.contains_key(key), "{key} is declared");
                    assert_eq!(&self.canonical(key), key, "logged keys are canonical");
                }
                self.claims.push(Claim::from_assert(a, tx));
            }
            Event::Retract { claim, reason } => {
                let c = self.claims.iter_mut().find(|c| c.id == *claim).expect("a retraction names a claim");
                assert_eq!(c.retracted_tx, None, "only live claims are retracted");
                c.retracted_tx = Some(tx);
                c.retract_reason.clone_from(reason);
            }
            Event::Merge { from, into } => {
                assert!(self.entities.contains_key(from) && self.entities.contains_key(into));
                assert!(!self.merged_into.contains_key(from), "not already merged");
                assert_ne!(self.canonical(into), *from, "a merge makes no cycle");
                self.merged_into.insert(from.clone(), into.clone());
            }
            Event::Unmerge { entity } => {
                assert!(self.merged_into.remove(entity).is_some(), "unmerge of a merged entity");
            }
        }
    }

    fn predicate_entry(&mut self, key: &str) -> &mut Predicate {
        self.predicates.entry(key.to_string()).or_insert_with(|| Predicate {
            key: key.to_string(),
            description: None,
            functional: false,
        })
    }

    /// The canonical key of a declared key: follow merges to the end.
    pub fn canonical(&self, key: &str) -> String {
        let mut k = key.to_string();
        for _ in 0..=self.merged_into.len() {
            match self.merged_into.get(&k) {
                Some(next) => k = next.clone(),
                None => return k,
            }
        }
        panic!("merge cycle at {key}");
    }

    /// The canonical keys a key, name or alias stands for: a declared key
    /// (any case) wins; otherwise every entity with that name or alias.
    pub fn lookup(&self, text: &str) -> BTreeSet<String> {
        let key = text.to_lowercase();
        if self.entities.contains_key(&key) {
            return BTreeSet::from([self.canonical(&key)]);
        }
        let name = fold(text);
        self.entities
            .iter()
            .filter(|(_, e)| e.names().any(|n| fold(n) == name))
            .map(|(k, _)| self.canonical(k))
            .collect()
    }

    /// The canonical entities a key, name or alias stands for, by key.
    pub fn entities_named(&self, text: &str) -> Vec<Entity> {
        self.lookup(text).iter().map(|k| self.entities[k].clone()).collect()
    }

    /// The canonical entity of a declared key (exact key, any case).
    pub fn entity(&self, key: &str) -> Option<Entity> {
        let key = key.to_lowercase();
        self.entities.contains_key(&key).then(|| self.entities[&self.canonical(&key)].clone())
    }

    /// A claim by id as this state sees it.
    pub fn claim(&self, id: &str) -> Option<Claim> {
        self.claims.iter().find(|c| c.id == id).cloned()
    }

    /// The claims a query returns, in assertion order. An entity or
    /// predicate that `latest` (the store's last state) does not know either
    /// is an error; one that exists only later than this state matches
    /// nothing.
    pub fn claims(&self, q: &ClaimQuery, latest: &State) -> Result<Vec<Claim>, String> {
        let roots = |text: Option<&str>| -> Result<Option<BTreeSet<String>>, String> {
            match text {
                None => Ok(None),
                Some(t) => {
                    let found = self.lookup(t);
                    if found.is_empty() && latest.lookup(t).is_empty() {
                        Err(format!("unknown entity `{t}`"))
                    } else {
                        Ok(Some(found))
                    }
                }
            }
        };
        if let Some(p) = &q.predicate
            && !latest.predicates.contains_key(p)
        {
            return Err(format!("unknown predicate `{p}`"));
        }
        let subjects = roots(q.subject.as_deref())?;
        let bys = roots(q.by.as_deref())?;
        let sources = roots(q.source.as_deref())?;
        let objects = roots(q.object.as_ref().and_then(Term::entity))?;
        // An entity filter matches a claim whose entity resolves (as of this
        // state) to one of the roots the filter names.
        let about = |roots: &Option<BTreeSet<String>>, key: Option<&str>| match roots {
            None => true,
            Some(r) => key.is_some_and(|k| r.contains(&self.canonical(k))),
        };
        let keep = |c: &Claim| {
            (q.include_retracted || c.retracted_tx.is_none())
                && about(&subjects, Some(&c.s))
                && about(&bys, c.by.as_deref())
                && about(&sources, c.source.as_deref())
                && match &q.object {
                    None => true,
                    Some(Term::Entity(_)) => about(&objects, c.o.entity()),
                    Some(literal) => c.o == *literal,
                }
                && q.predicate.as_ref().is_none_or(|p| c.p == *p)
                && q.valid.is_none_or(|v| {
                    let d = c.valid.days();
                    v.start < d.end && d.start < v.end
                })
        };
        Ok(self.claims.iter().filter(|c| keep(c)).cloned().collect())
    }

    /// Counts as of this state.
    pub fn stats(&self) -> Stats {
        let documents = self.entities.values().filter(|e| e.document.is_some()).count() as u64;
        let retracted = self.claims.iter().filter(|c| c.retracted_tx.is_some()).count() as u64;
        Stats {
            transactions: self.tx,
            entities: self.entities.len() as u64 - documents,
            documents,
            predicates: self.predicates.len() as u64,
            claims_live: self.claims.len() as u64 - retracted,
            claims_retracted: retracted,
        }
    }
}
