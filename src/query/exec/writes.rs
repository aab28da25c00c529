//! Write statements → store events. The store validates them (keys, existing
//! entities, claim ids); this module only translates values and resolves
//! `@"Name"` references to keys.

use super::super::QueryError;
use super::super::ast::{
    AssertObject, CreateEntity, CreateNamed, EntityRef, EntityTarget, Literal, Property, Statement,
    Value as AstValue, ValueKind,
};
use super::super::value::Value;
use super::ctx::Params;
use super::eval::semantic;
use super::eval::with_article;
use crate::model::{
    AssertEvent, Attrs, Date, DocumentEvent, EntityEvent, Event, PredicateEvent, Stance, Term, ValidTime,
};
use crate::store::Store;

/// The events a write statement stands for.
pub(crate) fn events(
    store: &Store,
    params: &Params,
    pending: &[Event],
    stmt: &Statement,
) -> Result<Vec<Event>, QueryError> {
    let w = Writer { store, params, pending };
    Ok(vec![match stmt {
        Statement::CreateEntity(c) => w.entity(c)?,
        Statement::CreateDocument(c) => w.document(c)?,
        Statement::CreatePredicate(c) => w.predicate(c)?,
        Statement::Assert(a) => {
            let s = w.key(&a.subject)?;
            let o = match &a.object {
                AssertObject::Entity(r) => Term::Entity(w.key(r)?),
                AssertObject::Literal(l, span) => {
                    literal_term(l).ok_or_else(|| semantic(*span, "a claim object cannot be null"))?
                }
            };
            Event::Assert(w.assert(AssertEvent::new(s, a.predicate.name.clone(), o), &a.props)?)
        }
        Statement::Retract { claim, reason } => {
            Event::Retract { claim: claim.name.clone(), reason: Some(reason.clone()) }
        }
        Statement::MergeEntity { from, into } => Event::Merge { from: w.key(from)?, into: w.key(into)? },
        Statement::UnmergeEntity { entity } => Event::Unmerge { entity: w.key(entity)? },
        other => {
            return Err(semantic(Default::default(), format!("not a write statement: {other}")));
        }
    }])
}

struct Writer<'a> {
    store: &'a Store,
    params: &'a Params,
    /// Events queued earlier in an open BEGIN block.
    pending: &'a [Event],
}

fn literal_term(l: &Literal) -> Option<Term> {
    Some(match l {
        Literal::Null => return None,
        Literal::Bool(b) => Term::Bool(*b),
        Literal::Int(i) => Term::Int(*i),
        Literal::Float(f) => Term::Float(*f),
        Literal::Str(s) => Term::String(s.clone()),
        Literal::Date(d) => Term::Date(Date::new(d.year, d.month.map(u32::from), d.day.map(u32::from)).ok()?),
        Literal::Timestamp(t) => Term::String(crate::model::Timestamp(t.micros).to_string()),
    })
}

impl Writer<'_> {
    /// An entity key: `@key` as written (the store folds and checks it);
    /// `@"Name"` looked up by name or alias.
    fn key(&self, r: &EntityRef) -> Result<String, QueryError> {
        match &r.target {
            EntityTarget::Key(k) => {
                let folded = crate::model::fold_key(k);
                let declared_in_block = self.pending.iter().any(|e| match e {
                    Event::Entity(x) => crate::model::fold_key(&x.key) == folded,
                    Event::Document(x) => crate::model::fold_key(&x.key) == folded,
                    _ => false,
                });
                let view = self.store.snapshot();
                if declared_in_block || view.entity(&folded)?.is_some() {
                    return Ok(k.clone());
                }
                let known: Vec<String> = view.entities()?.into_iter().map(|e| e.key).collect();
                let suggestion =
                    crate::model::closest(&folded, known.iter().map(|s| s.as_str())).map(str::to_string);
                Err(QueryError::UnknownEntity { span: r.span, name: k.clone(), suggestion })
            }
            EntityTarget::Name(n) => {
                let view = self.store.snapshot();
                match view.entity(n)? {
                    Some(e) => Ok(e.key),
                    None => Err(semantic(r.span, format!("no entity is named `{n}`"))),
                }
            }
        }
    }

    fn term(&self, v: &AstValue) -> Result<Term, QueryError> {
        Ok(match &v.kind {
            ValueKind::Lit(l) => {
                literal_term(l).ok_or_else(|| semantic(v.span, "null is not a value here"))?
            }
            ValueKind::Entity(r) => Term::Entity(self.key(r)?),
            ValueKind::Symbol(s) => Term::String(s.clone()),
            ValueKind::Param(name) => match self.params.get(name) {
                Some(p) => param_term(p)
                    .ok_or_else(|| semantic(v.span, format!("parameter `${name}` is not a value")))?,
                None => {
                    return Err(semantic(v.span, format!("no value for parameter `${name}`")));
                }
            },
            ValueKind::List(_) => return Err(semantic(v.span, "a list is not allowed here")),
        })
    }

    fn string(&self, v: &AstValue) -> Result<String, QueryError> {
        match self.term(v)? {
            Term::String(s) => Ok(s),
            other => {
                Err(semantic(v.span, format!("expected a string, got {}", with_article(other.type_name()))))
            }
        }
    }

    fn date(&self, v: &AstValue) -> Result<Date, QueryError> {
        match self.term(v)? {
            Term::Date(d) => Ok(d),
            other => {
                Err(semantic(v.span, format!("expected a date, got {}", with_article(other.type_name()))))
            }
        }
    }

    fn strings(&self, v: &AstValue) -> Result<Vec<String>, QueryError> {
        match &v.kind {
            ValueKind::List(items) => items.iter().map(|i| self.string(i)).collect(),
            _ => Ok(vec![self.string(v)?]),
        }
    }

    fn entity(&self, c: &CreateEntity) -> Result<Event, QueryError> {
        let mut e = EntityEvent {
            key: c.key.name.clone(),
            kind: c.kind.as_ref().map(|k| k.name.clone()),
            ..Default::default()
        };
        let mut attrs = Attrs::new();
        for p in &c.props {
            match p.key.name.as_str() {
                "name" => e.name = Some(self.string(&p.value)?),
                "aliases" => e.aliases = Some(self.strings(&p.value)?),
                "kind" => e.kind = Some(self.string(&p.value)?),
                other => {
                    attrs.insert(other.to_string(), self.term(&p.value)?);
                }
            }
        }
        if !attrs.is_empty() {
            e.attrs = Some(attrs);
        }
        Ok(Event::Entity(e))
    }

    fn document(&self, c: &CreateNamed) -> Result<Event, QueryError> {
        let mut d = DocumentEvent { key: c.name.name.clone(), ..Default::default() };
        for p in &c.props {
            let v = &p.value;
            match p.key.name.as_str() {
                "title" => d.title = Some(self.string(v)?),
                "publisher" => d.publisher = Some(self.string(v)?),
                "published" => d.published = Some(self.date(v)?),
                "url" => d.url = Some(self.string(v)?),
                "language" => d.language = Some(self.string(v)?),
                "text" => d.text = Some(self.string(v)?),
                other => {
                    return Err(semantic(
                        p.key.span,
                        format!(
                            "unknown document field `{other}` (title, publisher, published, url, language, text)"
                        ),
                    ));
                }
            }
        }
        Ok(Event::Document(d))
    }

    fn predicate(&self, c: &CreateNamed) -> Result<Event, QueryError> {
        let mut p = PredicateEvent { key: c.name.name.clone(), ..Default::default() };
        for prop in &c.props {
            match (prop.key.name.as_str(), self.term(&prop.value)?) {
                ("functional", Term::Bool(b)) => p.functional = Some(b),
                ("description", Term::String(s)) => p.description = Some(s),
                (name, _) => {
                    return Err(semantic(
                        prop.key.span,
                        format!("`{name}` is not a predicate field (functional: bool, description: string)"),
                    ));
                }
            }
        }
        Ok(Event::Predicate(p))
    }

    fn assert(&self, mut a: AssertEvent, props: &[Property]) -> Result<AssertEvent, QueryError> {
        for p in props {
            let v = &p.value;
            match p.key.name.as_str() {
                "id" => a.claim = Some(self.string(v)?),
                "by" => a.by = Some(self.entity_key(v)?),
                "source" => a.source = Some(self.entity_key(v)?),
                "stance" => {
                    let s = self.string(v)?;
                    a.stance = Stance::parse(&s).ok_or_else(|| {
                        semantic(v.span, format!("stance must be asserts, suggests or denies, not `{s}`"))
                    })?;
                }
                "valid" => a.valid = ValidTime::during(self.date(v)?),
                "valid_from" => a.valid.from = Some(self.date(v)?),
                "valid_to" => a.valid.to = Some(self.date(v)?),
                "said_at" => a.said_at = Some(self.date(v)?),
                "confidence" => {
                    a.confidence = Some(match self.term(v)? {
                        Term::Float(f) => f,
                        Term::Int(i) => i as f64,
                        other => {
                            return Err(semantic(
                                v.span,
                                format!(
                                    "confidence must be a number, not {}",
                                    with_article(other.type_name())
                                ),
                            ));
                        }
                    })
                }
                "quote" => a.quote = Some(self.string(v)?),
                other => {
                    a.qualifiers.insert(other.to_string(), self.term(v)?);
                }
            }
        }
        Ok(a)
    }

    fn entity_key(&self, v: &AstValue) -> Result<String, QueryError> {
        match &v.kind {
            ValueKind::Entity(r) => self.key(r),
            ValueKind::Symbol(s) => Ok(s.clone()),
            _ => Err(semantic(v.span, "expected an entity reference such as @kremlin")),
        }
    }
}

fn param_term(v: &Value) -> Option<Term> {
    Some(match v {
        Value::Bool(b) => Term::Bool(*b),
        Value::Int(i) => Term::Int(*i),
        Value::Float(f) => Term::Float(*f),
        Value::String(s) => Term::String(s.clone()),
        Value::Date(d) => Term::Date(*d),
        Value::Entity { key, .. } => Term::Entity(key.clone()),
        _ => return None,
    })
}
