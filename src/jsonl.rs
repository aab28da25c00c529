//! JSON Lines interchange: one transaction per line, the log's own format.
//!
//! `export` writes every field (`tx`, `recorded_at`, `hash` included), and
//! export → import into an empty store → export gives the same bytes and the
//! same head hash. `import` stops at the first bad line with `file:line:
//! message`; the transactions before it stay committed and nothing of the bad
//! line is applied.

use std::io::{BufRead, Read, Write};

use serde::{Deserialize, Serialize};

use crate::model::{
    AssertEvent, Attrs, Date, DocumentEvent, EntityEvent, Event, PredicateEvent, Stance, Term, Timestamp,
    TxRecord, ValidTime,
};
use crate::store::{Store, StoreError, Transaction};

/// The longest line import accepts.
pub const MAX_LINE_BYTES: u64 = 64 << 20;
/// Transactions handed to the store per bulk commit.
const BATCH_LINES: usize = 512;

/// One line of JSON Lines.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tx: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    recorded_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    events: Vec<WireEvent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hash: Option<String>,
}

/// Events as written in JSON, discriminated by `op`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
enum WireEvent {
    Entity {
        key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kind: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        aliases: Option<Vec<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attrs: Option<Attrs>,
    },
    Document {
        key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        publisher: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        published: Option<Date>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        language: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
    Predicate {
        key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        functional: Option<bool>,
    },
    Assert(Box<WireAssert>),
    Retract {
        claim: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    Merge {
        from: String,
        into: String,
    },
    Unmerge {
        entity: String,
    },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireAssert {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    claim: Option<String>,
    s: String,
    p: String,
    o: Term,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    valid: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    valid_from: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    valid_to: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    said_at: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stance: Option<Stance>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    confidence: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    quote: Option<String>,
    #[serde(default, skip_serializing_if = "Attrs::is_empty")]
    qualifiers: Attrs,
}

impl WireEvent {
    fn into_event(self) -> Result<Event, String> {
        Ok(match self {
            WireEvent::Entity { key, kind, name, aliases, attrs } => {
                Event::Entity(EntityEvent { key, kind, name, aliases, attrs })
            }
            WireEvent::Document { key, title, publisher, published, url, language, text } => {
                Event::Document(DocumentEvent { key, title, publisher, published, url, language, text })
            }
            WireEvent::Predicate { key, description, functional } => {
                Event::Predicate(PredicateEvent { key, description, functional })
            }
            WireEvent::Assert(a) => Event::Assert(a.into_event()?),
            WireEvent::Retract { claim, reason } => Event::Retract { claim, reason },
            WireEvent::Merge { from, into } => Event::Merge { from, into },
            WireEvent::Unmerge { entity } => Event::Unmerge { entity },
        })
    }

    fn from_event(e: &Event) -> WireEvent {
        match e.clone() {
            Event::Entity(EntityEvent { key, kind, name, aliases, attrs }) => {
                WireEvent::Entity { key, kind, name, aliases, attrs }
            }
            Event::Document(DocumentEvent { key, title, publisher, published, url, language, text }) => {
                WireEvent::Document { key, title, publisher, published, url, language, text }
            }
            Event::Predicate(PredicateEvent { key, description, functional }) => {
                WireEvent::Predicate { key, description, functional }
            }
            Event::Assert(a) => WireEvent::Assert(Box::new(WireAssert::from_event(a))),
            Event::Retract { claim, reason } => WireEvent::Retract { claim, reason },
            Event::Merge { from, into } => WireEvent::Merge { from, into },
            Event::Unmerge { entity } => WireEvent::Unmerge { entity },
        }
    }
}

impl WireAssert {
    fn into_event(self) -> Result<AssertEvent, String> {
        let valid = match (self.valid, self.valid_from, self.valid_to) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err("give either `valid` or `valid_from`/`valid_to`, not both".into());
            }
            (Some(d), None, None) => ValidTime::during(d),
            (None, from, to) => ValidTime { from, to },
        };
        Ok(AssertEvent {
            claim: self.claim,
            s: self.s,
            p: self.p,
            o: self.o,
            by: self.by,
            source: self.source,
            valid,
            said_at: self.said_at,
            stance: self.stance.unwrap_or_default(),
            confidence: self.confidence,
            quote: self.quote,
            qualifiers: self.qualifiers,
        })
    }

    fn from_event(a: AssertEvent) -> WireAssert {
        let (valid, valid_from, valid_to) = match (a.valid.from, a.valid.to) {
            (Some(f), Some(t)) if f == t => (Some(f), None, None),
            (f, t) => (None, f, t),
        };
        WireAssert {
            claim: a.claim,
            s: a.s,
            p: a.p,
            o: a.o,
            by: a.by,
            source: a.source,
            valid,
            valid_from,
            valid_to,
            said_at: a.said_at,
            stance: (a.stance != Stance::Asserts).then_some(a.stance),
            confidence: a.confidence,
            quote: a.quote,
            qualifiers: a.qualifiers,
        }
    }
}

/// Parses one line into a transaction.
pub fn parse_line(text: &str) -> Result<Transaction, String> {
    let line: Line = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut events = Vec::with_capacity(line.events.len());
    for (i, e) in line.events.into_iter().enumerate() {
        events.push(e.into_event().map_err(|m| format!("event {}: {m}", i + 1))?);
    }
    Ok(Transaction {
        author: line.author.unwrap_or_else(|| "import".to_string()),
        message: line.message,
        recorded_at: line.recorded_at,
        events,
        expect_tx: line.tx,
        expect_hash: line.hash,
    })
}

/// Writes one committed transaction as a line (without the newline).
pub fn format_record(rec: &TxRecord) -> String {
    let line = Line {
        tx: Some(rec.tx),
        recorded_at: Some(rec.body.recorded_at),
        author: Some(rec.body.author.clone()),
        message: rec.body.message.clone(),
        events: rec.body.events.iter().map(WireEvent::from_event).collect(),
        hash: Some(rec.hash.to_string()),
    };
    serde_json::to_string(&line).unwrap_or_else(|e| format!("{{\"error\":{:?}}}", e.to_string()))
}

/// An import that stopped at a bad line.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ImportError {
    pub file: String,
    pub line: usize,
    pub message: String,
    /// Transactions committed before the bad line.
    pub committed: u64,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub transactions: u64,
    pub events: u64,
}

/// Imports JSON Lines from `input` (named `file` in messages), committing in
/// bulk (many transactions per fsync).
pub fn import(store: &Store, input: impl BufRead, file: &str) -> Result<ImportSummary, ImportError> {
    let mut summary = ImportSummary::default();
    let mut batch: Vec<(usize, Transaction)> = Vec::new();
    let mut reader = input;
    let mut lineno = 0usize;
    loop {
        let mut buf = Vec::new();
        let n = (&mut reader).take(MAX_LINE_BYTES + 1).read_until(b'\n', &mut buf);
        let fail = |line: usize, message: String, s: &ImportSummary| ImportError {
            file: file.to_string(),
            line,
            message,
            committed: s.transactions,
        };
        let n = n.map_err(|e| fail(lineno + 1, format!("cannot read: {e}"), &summary))?;
        if n == 0 {
            break;
        }
        lineno += 1;
        // A UTF-8 byte order mark (editors on Windows write one) is not JSON.
        if lineno == 1 && buf.starts_with(b"\xEF\xBB\xBF") {
            buf.drain(..3);
        }
        if buf.len() as u64 > MAX_LINE_BYTES {
            flush(store, &mut batch, &mut summary, file)?;
            return Err(fail(lineno, format!("line is longer than {MAX_LINE_BYTES} bytes"), &summary));
        }
        let parsed = std::str::from_utf8(&buf)
            .map_err(|e| format!("not UTF-8: {e}"))
            .and_then(|text| if text.trim().is_empty() { Ok(None) } else { parse_line(text).map(Some) });
        match parsed {
            Ok(None) => {}
            Ok(Some(tx)) => batch.push((lineno, tx)),
            Err(message) => {
                flush(store, &mut batch, &mut summary, file)?;
                return Err(fail(lineno, message, &summary));
            }
        }
        if batch.len() >= BATCH_LINES {
            flush(store, &mut batch, &mut summary, file)?;
        }
    }
    flush(store, &mut batch, &mut summary, file)?;
    Ok(summary)
}

fn flush(
    store: &Store,
    batch: &mut Vec<(usize, Transaction)>,
    summary: &mut ImportSummary,
    file: &str,
) -> Result<(), ImportError> {
    let lines: Vec<usize> = batch.iter().map(|(l, _)| *l).collect();
    let events: Vec<u64> = batch.iter().map(|(_, t)| t.events.len() as u64).collect();
    let txs = std::mem::take(batch).into_iter().map(|(_, t)| t).collect();
    let (receipts, err) = store.commit_batch(txs);
    summary.transactions += receipts.len() as u64;
    summary.events += events[..receipts.len()].iter().sum::<u64>();
    match err {
        None => Ok(()),
        Some((i, e)) => Err(ImportError {
            file: file.to_string(),
            line: lines[i],
            message: e.to_string(),
            committed: summary.transactions,
        }),
    }
}

/// Writes every transaction up to `as_of` (all when `None`) as JSON Lines.
pub fn export(store: &Store, as_of: Option<u64>, out: &mut impl Write) -> Result<u64, StoreError> {
    let last = as_of.unwrap_or(u64::MAX).min(store.head());
    let mut n = 0;
    store.for_each_tx(1, |rec| {
        if rec.tx > last {
            return Ok(());
        }
        writeln!(out, "{}", format_record(&rec))
            .map_err(|e| StoreError::Io { doing: "writing the export".into(), source: e })?;
        n += 1;
        Ok(())
    })?;
    Ok(n)
}
