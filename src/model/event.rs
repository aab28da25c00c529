//! Events, transactions and the state they build: what the log records.
//!
//! The log stores events *resolved* by validation (claim ids assigned, keys folded,
//! merged keys mapped to their canonical entity, `said_at` filled in), so a replay
//! never re-derives a default. The binary codec encodes enum variants by their
//! position: never reorder or remove a variant, only append.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::date::{Date, Timestamp, ValidTime};
use super::value::{Attrs, Stance, Term};

/// Declares an entity, or updates an existing one: given fields replace old ones.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EntityEvent {
    pub key: String,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub aliases: Option<Vec<String>>,
    pub attrs: Option<Attrs>,
}

/// Declares (or updates) an entity of kind `Document`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DocumentEvent {
    pub key: String,
    pub title: Option<String>,
    pub publisher: Option<String>,
    pub published: Option<Date>,
    pub url: Option<String>,
    pub language: Option<String>,
    pub text: Option<String>,
}

/// Declares a predicate or updates its metadata.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PredicateEvent {
    pub key: String,
    pub description: Option<String>,
    pub functional: Option<bool>,
}

/// Asserts a claim: `s -[p]-> o` with its qualifiers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssertEvent {
    /// The claim id; assigned (`c<N>`) by the store when absent.
    pub claim: Option<String>,
    pub s: String,
    pub p: String,
    pub o: Term,
    /// Who made the statement; absent means the source document itself.
    pub by: Option<String>,
    /// The document the claim was recorded from.
    pub source: Option<String>,
    pub valid: ValidTime,
    /// When it was said; defaults to the source's published date.
    pub said_at: Option<Date>,
    pub stance: Stance,
    pub confidence: Option<f64>,
    pub quote: Option<String>,
    pub qualifiers: Attrs,
}

impl AssertEvent {
    /// A plain asserted claim with no qualifiers.
    pub fn new(s: impl Into<String>, p: impl Into<String>, o: Term) -> AssertEvent {
        AssertEvent {
            claim: None,
            s: s.into(),
            p: p.into(),
            o,
            by: None,
            source: None,
            valid: ValidTime::default(),
            said_at: None,
            stance: Stance::Asserts,
            confidence: None,
            quote: None,
            qualifiers: Attrs::new(),
        }
    }
}

/// One change to the record. Corrections are new events; nothing is rewritten.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    Entity(EntityEvent),
    Document(DocumentEvent),
    Predicate(PredicateEvent),
    Assert(AssertEvent),
    Retract { claim: String, reason: Option<String> },
    Merge { from: String, into: String },
    Unmerge { entity: String },
}

impl Event {
    /// The event's name as written in JSON Lines (`op`).
    pub fn op(&self) -> &'static str {
        match self {
            Event::Entity(_) => "entity",
            Event::Document(_) => "document",
            Event::Predicate(_) => "predicate",
            Event::Assert(_) => "assert",
            Event::Retract { .. } => "retract",
            Event::Merge { .. } => "merge",
            Event::Unmerge { .. } => "unmerge",
        }
    }
}

/// What a transaction says, before the log gives it a number and a hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TxBody {
    pub recorded_at: Timestamp,
    pub author: String,
    pub message: Option<String>,
    pub events: Vec<Event>,
}

/// A 32-byte blake3 hash, written as lowercase hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The hash "before" the first transaction.
    pub const ZERO: Hash = Hash([0; 32]);

    /// Parses 64 hex digits.
    pub fn from_hex(text: &str) -> Option<Hash> {
        if text.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, chunk) in text.as_bytes().chunks(2).enumerate() {
            let pair = std::str::from_utf8(chunk).ok()?;
            out[i] = u8::from_str_radix(pair, 16).ok()?;
        }
        Some(Hash(out))
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({self})")
    }
}

/// A committed transaction as the log holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct TxRecord {
    pub tx: u64,
    pub prev_hash: Hash,
    pub hash: Hash,
    pub body: TxBody,
}

/// What a successful commit returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub tx: u64,
    pub hash: Hash,
    pub recorded_at: Timestamp,
    /// The ids of the claims this transaction asserted, in order.
    pub claim_ids: Vec<String>,
}

/// Document fields of an entity of kind `Document`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DocumentInfo {
    pub title: Option<String>,
    pub publisher: Option<String>,
    pub published: Option<Date>,
    pub url: Option<String>,
    pub language: Option<String>,
    pub text: Option<String>,
}

/// An entity as it stands after some transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    pub key: String,
    pub kind: String,
    pub name: String,
    pub aliases: Vec<String>,
    pub attrs: Attrs,
    pub document: Option<DocumentInfo>,
}

/// The kind given to documents.
pub const DOCUMENT_KIND: &str = "Document";

impl Entity {
    /// A new entity with defaults: kind `Entity`, name = key.
    pub fn new(key: &str) -> Entity {
        Entity {
            key: key.to_string(),
            kind: "Entity".to_string(),
            name: key.to_string(),
            aliases: Vec::new(),
            attrs: Attrs::new(),
            document: None,
        }
    }

    /// Applies an entity event's given fields.
    pub fn apply(&mut self, e: &EntityEvent) {
        if let Some(kind) = &e.kind {
            self.kind = kind.clone();
        }
        if let Some(name) = &e.name {
            self.name = name.clone();
        }
        if let Some(aliases) = &e.aliases {
            self.aliases = aliases.clone();
        }
        if let Some(attrs) = &e.attrs {
            self.attrs = attrs.clone();
        }
    }

    /// Applies a document event's given fields and makes this a document.
    pub fn apply_document(&mut self, d: &DocumentEvent) {
        self.kind = DOCUMENT_KIND.to_string();
        let doc = self.document.get_or_insert_with(DocumentInfo::default);
        let set = |slot: &mut Option<String>, v: &Option<String>| {
            if v.is_some() {
                slot.clone_from(v);
            }
        };
        set(&mut doc.title, &d.title);
        set(&mut doc.publisher, &d.publisher);
        set(&mut doc.url, &d.url);
        set(&mut doc.language, &d.language);
        set(&mut doc.text, &d.text);
        if d.published.is_some() {
            doc.published = d.published;
        }
        if let Some(title) = &d.title {
            self.name = title.clone();
        }
    }

    /// The names this entity can be looked up by: its name and aliases.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.aliases.iter().map(|s| s.as_str()))
    }
}

/// A predicate's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Predicate {
    pub key: String,
    pub description: Option<String>,
    /// One object at a time: two different objects valid at once conflict.
    pub functional: bool,
}

/// A claim as the store holds it: the resolved assertion plus its bookkeeping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    pub id: String,
    pub s: String,
    pub p: String,
    pub o: Term,
    pub by: Option<String>,
    pub source: Option<String>,
    pub valid: ValidTime,
    pub said_at: Option<Date>,
    pub stance: Stance,
    pub confidence: Option<f64>,
    pub quote: Option<String>,
    pub qualifiers: Attrs,
    /// The transaction that asserted it.
    pub tx: u64,
    /// The transaction that retracted it, if any (as of the read).
    pub retracted_tx: Option<u64>,
    pub retract_reason: Option<String>,
}

impl Claim {
    /// The claim an assertion makes in transaction `tx` (the event must be resolved).
    pub fn from_assert(a: &AssertEvent, tx: u64) -> Claim {
        Claim {
            id: a.claim.clone().unwrap_or_default(),
            s: a.s.clone(),
            p: a.p.clone(),
            o: a.o.clone(),
            by: a.by.clone(),
            source: a.source.clone(),
            valid: a.valid,
            said_at: a.said_at,
            stance: a.stance,
            confidence: a.confidence,
            quote: a.quote.clone(),
            qualifiers: a.qualifiers.clone(),
            tx,
            retracted_tx: None,
            retract_reason: None,
        }
    }

    /// Whether the claim is live at transaction `t`.
    pub fn live_at(&self, t: u64) -> bool {
        self.tx <= t && self.retracted_tx.is_none_or(|r| r > t)
    }
}

impl fmt::Display for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: @{} -[{}]-> {}", self.id, self.s, self.p, self.o)?;
        if let Some(by) = &self.by {
            write!(f, " by @{by}")?;
        }
        write!(f, " ({}, valid {})", self.stance, self.valid)
    }
}
