//! Building a transaction: a list of events with its author and message.

use crate::model::{AssertEvent, DocumentEvent, EntityEvent, Event, PredicateEvent, Term, Timestamp};

/// A transaction to commit. Events apply in order; the whole is validated
/// before anything is written.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Transaction {
    pub author: String,
    pub message: Option<String>,
    /// The recorded-at time to use (imports); `None` takes the clock.
    pub recorded_at: Option<Timestamp>,
    pub events: Vec<Event>,
    /// The tx number the caller expects this to get (imports check it).
    pub expect_tx: Option<u64>,
    /// The hash the caller expects (hex); a mismatch rejects the transaction.
    pub expect_hash: Option<String>,
}

impl Transaction {
    pub fn new(author: &str) -> Transaction {
        Transaction { author: author.to_string(), ..Transaction::default() }
    }

    /// Sets the commit message.
    pub fn message(&mut self, message: &str) -> &mut Transaction {
        self.message = Some(message.to_string());
        self
    }

    /// Appends any event.
    pub fn push(&mut self, event: Event) -> &mut Transaction {
        self.events.push(event);
        self
    }

    /// Declares (or updates) an entity; returns the event to fill in further.
    pub fn entity(&mut self, key: &str, kind: &str, name: &str) -> &mut EntityEvent {
        self.events.push(Event::Entity(EntityEvent {
            key: key.to_string(),
            kind: Some(kind.to_string()),
            name: Some(name.to_string()),
            ..EntityEvent::default()
        }));
        match self.events.last_mut() {
            Some(Event::Entity(e)) => e,
            _ => unreachable!("just pushed an entity event"),
        }
    }

    /// Declares (or updates) a document.
    pub fn document(&mut self, doc: DocumentEvent) -> &mut Transaction {
        self.push(Event::Document(doc))
    }

    /// Declares a predicate or updates its metadata.
    pub fn predicate(&mut self, key: &str, functional: bool, description: Option<&str>) -> &mut Transaction {
        self.push(Event::Predicate(PredicateEvent {
            key: key.to_string(),
            description: description.map(str::to_string),
            functional: Some(functional),
        }))
    }

    /// Asserts `s -[p]-> o`; returns the event to add qualifiers to.
    pub fn assert(&mut self, s: &str, p: &str, o: Term) -> &mut AssertEvent {
        self.events.push(Event::Assert(AssertEvent::new(s, p, o)));
        match self.events.last_mut() {
            Some(Event::Assert(a)) => a,
            _ => unreachable!("just pushed an assert event"),
        }
    }

    /// Retracts a live claim.
    pub fn retract(&mut self, claim: &str, reason: &str) -> &mut Transaction {
        self.push(Event::Retract { claim: claim.to_string(), reason: Some(reason.to_string()) })
    }

    /// Merges entity `from` into `into`.
    pub fn merge(&mut self, from: &str, into: &str) -> &mut Transaction {
        self.push(Event::Merge { from: from.to_string(), into: into.to_string() })
    }

    /// Undoes the merge of `entity`.
    pub fn unmerge(&mut self, entity: &str) -> &mut Transaction {
        self.push(Event::Unmerge { entity: entity.to_string() })
    }
}
