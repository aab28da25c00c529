//! The floor: each query of the suite answered by the same index prefix scans
//! the planner chooses (SPO, OPS, BY posting blocks, claim records for ids,
//! entity records for names), called directly on the index snapshot with no
//! parsing, planning, operators or row values. The query layer's overhead is
//! its time minus this.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::suite::{Q, Row, entity_text};
use crate::r#gen::Pick;
use crate::index::keys::{self, Key};
use crate::index::{IndexError, Posting};
use crate::model::{Date, DayRange, Stance, Term};
use crate::store::Store;

type Snap = crate::store::IndexView;

fn err(e: IndexError) -> String {
    e.to_string()
}

/// Resolves term ids to text, with a cache for the duration of one query.
struct Names<'s> {
    snap: &'s Snap,
    objects: HashMap<u64, String>,
    preds: HashMap<u64, String>,
}

impl<'s> Names<'s> {
    fn new(snap: &'s Snap) -> Self {
        Names { snap, objects: HashMap::new(), preds: HashMap::new() }
    }

    /// A posting's object as text; an entity (the posting says which) is
    /// read from its record alone, a literal from its term.
    fn object(&mut self, p: &Posting) -> Result<String, String> {
        let id = p.o;
        if let Some(t) = self.objects.get(&id) {
            return Ok(t.clone());
        }
        let text = match p.object_entity {
            true => match self.snap.entity(id).map_err(err)? {
                Some(e) => entity_text(&e.key, &e.name, &e.kind),
                None => match self.snap.term(id).map_err(err)? {
                    Some(Term::Entity(k)) => format!("@{k}"),
                    other => return Err(format!("entity term {id} is {other:?}")),
                },
            },
            false => match self.snap.term(id).map_err(err)? {
                Some(t) => t.to_string(),
                None => return Err(format!("term {id} is missing")),
            },
        };
        self.objects.insert(id, text.clone());
        Ok(text)
    }

    fn predicate(&mut self, id: u64) -> Result<String, String> {
        if let Some(t) = self.preds.get(&id) {
            return Ok(t.clone());
        }
        let name = match self.snap.term(id).map_err(err)? {
            Some(Term::String(s)) => s,
            other => return Err(format!("predicate term {id} is {other:?}")),
        };
        self.preds.insert(id, name.clone());
        Ok(name)
    }

    /// A posting's claim id: the assigned `c<seq>` unless the posting says
    /// one was chosen, which is read from the record.
    fn claim_id(&self, p: &Posting) -> Result<String, String> {
        if p.auto_id {
            return Ok(crate::index::snapshot::auto_claim_id(p.seq));
        }
        Ok(self.snap.claim(p.seq).map_err(err)?.map(|c| c.id).unwrap_or_default())
    }
}

fn scan(snap: &Snap, prefix: Vec<u8>) -> Result<Vec<Posting>, String> {
    snap.postings_owned(prefix, false).collect::<Result<Vec<_>, _>>().map_err(err)
}

fn entity(snap: &Snap, key: Option<&str>) -> Result<u64, String> {
    let key = key.unwrap_or("");
    snap.entity_id(key).map_err(err)?.ok_or_else(|| format!("unknown entity `{key}`"))
}

fn predicate(snap: &Snap, name: Option<&str>) -> Result<Option<u64>, String> {
    Ok(snap.predicate(name.unwrap_or("")).map_err(err)?.map(|(id, _)| id))
}

fn day(text: Option<&str>) -> Result<Date, String> {
    text.unwrap_or("").parse::<Date>().map_err(|e| e.to_string())
}

/// Answers one query for one pick by direct index scans.
pub fn run(store: &Store, q: Q, pick: &Pick) -> Result<Vec<Row>, String> {
    let view = match q {
        Q::Q5 => store.snapshot_at(pick.tx.unwrap_or(0)),
        _ => store.snapshot(),
    };
    let snap = view.index();
    let mut names = Names::new(snap);
    let mut rows: Vec<Row> = Vec::new();
    match q {
        Q::Q1 | Q::Q5 => {
            let x = entity(snap, pick.x.as_deref())?;
            for p in scan(snap, Key::new(keys::SPO).u64(x).into_vec())? {
                rows.push(vec![names.predicate(p.p)?, names.object(&p)?]);
            }
        }
        Q::Q2 => {
            let x = entity(snap, pick.x.as_deref())?;
            if let Some(pid) = predicate(snap, pick.p.as_deref())? {
                for p in scan(snap, Key::new(keys::SPO).u64(x).u64(pid).into_vec())? {
                    rows.push(vec![names.predicate(p.p)?, names.object(&p)?]);
                }
            }
        }
        Q::Q3 => {
            let x = entity(snap, pick.x.as_deref())?;
            if let Some(pid) = predicate(snap, pick.p.as_deref())? {
                let mut ys = BTreeSet::new();
                for p in scan(snap, Key::new(keys::SPO).u64(x).u64(pid).into_vec())? {
                    if p.object_entity {
                        ys.insert(p.o);
                    }
                }
                let mut zs = HashMap::new();
                for y in ys {
                    for p in scan(snap, Key::new(keys::SPO).u64(y).into_vec())? {
                        zs.entry(p.o).or_insert(p);
                    }
                }
                for p in zs.into_values() {
                    rows.push(vec![names.object(&p)?]);
                }
            }
        }
        Q::Q4 => {
            let s = entity(snap, pick.speaker.as_deref())?;
            let (from, to) = (day(pick.from.as_deref())?.first_day(), day(pick.to.as_deref())?.first_day());
            let mut published: HashMap<u64, Option<i32>> = HashMap::new();
            for p in scan(snap, Key::new(keys::BY).u64(s).into_vec())? {
                let d = match published.get(&p.src) {
                    Some(d) => *d,
                    None => {
                        let e = snap.entity(p.src).map_err(err)?;
                        let d = e.and_then(|e| e.document).and_then(|d| d.published).map(|d| d.first_day());
                        published.insert(p.src, d);
                        d
                    }
                };
                if d.is_some_and(|d| from <= d && d <= to) {
                    rows.push(vec![names.claim_id(&p)?]);
                }
            }
        }
        Q::Q6 => {
            let x = entity(snap, pick.x.as_deref())?;
            let on = DayRange::of(day(pick.date.as_deref())?);
            for tag in [keys::SPO, keys::OPS] {
                for p in scan(snap, Key::new(tag).u64(x).into_vec())? {
                    if p.valid.overlaps(&on) {
                        rows.push(vec![names.claim_id(&p)?]);
                    }
                }
            }
        }
        Q::Q7 => {
            let x = entity(snap, pick.x.as_deref())?;
            let mut counts: HashMap<u64, u64> = HashMap::new();
            for p in scan(snap, Key::new(keys::SPO).u64(x).into_vec())? {
                *counts.entry(p.p).or_default() += 1;
            }
            let mut named = Vec::with_capacity(counts.len());
            for (p, n) in counts {
                named.push((n, names.predicate(p)?));
            }
            named.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
            rows = named.into_iter().take(10).map(|(n, p)| vec![p, n.to_string()]).collect();
        }
        Q::Q8 => {
            let x = entity(snap, pick.x.as_deref())?;
            let mut about: BTreeMap<u64, Posting> = BTreeMap::new();
            for tag in [keys::SPO, keys::OPS] {
                for p in scan(snap, Key::new(tag).u64(x).into_vec())? {
                    about.insert(p.seq, p);
                }
            }
            let mut groups: HashMap<(u64, u64, u64), Vec<Posting>> = HashMap::new();
            for p in about.into_values() {
                groups.entry((p.s, p.p, p.o)).or_default().push(p);
            }
            let mut pairs = Vec::new();
            for group in groups.values() {
                for a in group.iter().filter(|p| p.stance != Stance::Denies) {
                    for d in group.iter().filter(|p| p.stance == Stance::Denies) {
                        if a.valid.intersect(&d.valid).is_some() {
                            pairs.push((a, d));
                        }
                    }
                }
            }
            pairs.sort_by_key(|(a, d)| (a.seq, d.seq));
            for (a, d) in pairs {
                rows.push(vec![names.claim_id(a)?, names.claim_id(d)?]);
            }
        }
    }
    Ok(q.normalize(rows))
}
