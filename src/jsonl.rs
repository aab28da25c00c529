//! JSON Lines interchange: one transaction per line, the log's own format.
//!
//! `export` writes every field (`tx`, `recorded_at`, `hash` included), and
//! export → import into an empty store → export gives the same bytes and the
//! same head hash. `import` stops at the first bad line with `file:line:
//! message`; the transactions before it stay committed and nothing of the bad
//! line is applied.
//!
//! Import commits in chunks and reports each one ("committed through tx
//! N"); a failure says which transactions the log holds. With `resume`, the
//! lines the log already holds are skipped, so a retry after a partial
//! import does not duplicate them: a line with a `tx` number is matched by
//! that number (and its `hash`, or else its content), a line without one by
//! its content against the end of the log. Content means the author, the
//! message and the events as written, compared ignoring case and the fields
//! the store fills in (claim ids, `said_at`, `recorded_at`).

use std::io::{BufRead, Read, Write};

use serde::{Deserialize, Serialize};

use crate::model::Hash;
use crate::model::{
    AssertEvent, Attrs, Date, DocumentEvent, EntityEvent, Event, PredicateEvent, Stance, Term, Timestamp,
    TxBody, TxRecord, ValidTime,
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

/// Writes a parsed line back as export writes a committed transaction
/// ([`format_record`]) and parses it again: the same author, message, time
/// and events must come back, whatever the line's spelling was. The check
/// the `jsonl` fuzz target and `tests/fuzz_corpus.rs` make of every line
/// that parses.
#[doc(hidden)]
pub fn check_round_trip(tx: &Transaction) -> Result<(), String> {
    let at = tx.recorded_at.unwrap_or(Timestamp(1_700_000_000_000_000));
    let body = TxBody {
        recorded_at: at,
        author: tx.author.clone(),
        message: tx.message.clone(),
        events: tx.events.clone(),
    };
    let rec = TxRecord { tx: tx.expect_tx.unwrap_or(1), prev_hash: Hash::ZERO, hash: Hash::ZERO, body };
    let line = format_record(&rec);
    let again = parse_line(&line).map_err(|e| format!("the written line does not parse: {e}\n{line}"))?;
    let same = (&again.author, &again.message, again.recorded_at, &again.events, again.expect_tx)
        == (&tx.author, &tx.message, Some(at), &tx.events, Some(rec.tx));
    if !same {
        return Err(format!("written and parsed again, it differs:\n{tx:?}\n{again:?}\n{line}"));
    }
    Ok(())
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
    /// The last transaction in the log when the import stopped (every
    /// transaction up to it is committed, this import's included).
    pub last_tx: u64,
    /// The store's refusal, when the store refused the line's transaction,
    /// for a program to match (`StoreError::Invalid` with its
    /// `ValidationKind`, `OutOfSpace`, …); `None` for a line that did not
    /// parse. Not `source()`: `message` already says it, and an error chain
    /// would say it twice.
    pub store_error: Option<Box<crate::StoreError>>,
}

/// How to import.
#[derive(Default)]
pub struct ImportOptions<'a> {
    /// Skip the lines the log already holds (see the module docs).
    pub resume: bool,
    /// Called after each committed chunk with the last tx committed.
    pub progress: Option<&'a mut dyn FnMut(u64)>,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub transactions: u64,
    pub events: u64,
    /// Lines skipped as already in the log (with `resume`).
    pub skipped: u64,
}

/// Imports JSON Lines from `input` (named `file` in messages), committing in
/// bulk (many transactions per fsync).
pub fn import(store: &Store, input: impl BufRead, file: &str) -> Result<ImportSummary, ImportError> {
    import_with(store, input, file, ImportOptions::default())
}

/// [`import`] with options: resume after a partial import, report progress.
pub fn import_with(
    store: &Store,
    input: impl BufRead,
    file: &str,
    mut options: ImportOptions<'_>,
) -> Result<ImportSummary, ImportError> {
    let mut resume = options.resume.then(|| Resume::new(store.head()));
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
            last_tx: store.head(),
            store_error: None,
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
            flush(store, &mut batch, &mut summary, file, &mut options)?;
            return Err(fail(lineno, format!("line is longer than {MAX_LINE_BYTES} bytes"), &summary));
        }
        let parsed = std::str::from_utf8(&buf)
            .map_err(|e| format!("not UTF-8: {e}"))
            .and_then(|text| if text.trim().is_empty() { Ok(None) } else { parse_line(text).map(Some) });
        match parsed {
            Ok(None) => {}
            Ok(Some(tx)) => match resume.as_mut().map(|r| r.in_log(store, &tx)).transpose() {
                Ok(Some(true)) => summary.skipped += 1,
                Ok(_) => batch.push((lineno, tx)),
                Err(message) => {
                    flush(store, &mut batch, &mut summary, file, &mut options)?;
                    return Err(fail(lineno, message, &summary));
                }
            },
            Err(message) => {
                flush(store, &mut batch, &mut summary, file, &mut options)?;
                return Err(fail(lineno, message, &summary));
            }
        }
        if batch.len() >= BATCH_LINES {
            flush(store, &mut batch, &mut summary, file, &mut options)?;
        }
    }
    flush(store, &mut batch, &mut summary, file, &mut options)?;
    if let Some(r) = &resume
        && let Some(line) = r.unfinished()
    {
        return Err(ImportError {
            file: file.to_string(),
            line: lineno,
            message: format!(
                "--resume: the file ends before it reaches the end of the log (its line {line} matched \
                 the log, which goes on past the file's last line); nothing was imported"
            ),
            committed: summary.transactions,
            last_tx: store.head(),
            store_error: None,
        });
    }
    Ok(summary)
}

/// Which lines of a resumed import the log already holds.
///
/// Lines with a `tx` number at or below the log's head are in the log if
/// their hash (or content) matches that transaction, and an error if not.
/// Lines without one are matched by content: the lines the log holds must
/// be the file's first lines, and they must be the last transactions of the
/// log, so candidates are the transactions whose content equals the first
/// line, each followed line by line until one reaches the log's head.
struct Resume {
    head: u64,
    /// Content fingerprints of every logged transaction (read once, when a
    /// line needs them).
    prints: Option<Vec<[u8; 32]>>,
    /// For lines without tx numbers: candidate first transactions, and the
    /// lines seen.
    starts: Option<Vec<u64>>,
    seen: u64,
    /// Whether a line was found not to be in the log (nothing after it is).
    past: bool,
}

impl Resume {
    fn new(head: u64) -> Resume {
        Resume { head, prints: None, starts: None, seen: 0, past: false }
    }

    fn prints(&mut self, store: &Store) -> Result<&[[u8; 32]], String> {
        if self.prints.is_none() {
            let mut prints = Vec::with_capacity(self.head as usize);
            store
                .for_each_tx(1, |rec| {
                    if rec.tx <= self.head {
                        prints.push(fingerprint(
                            &rec.body.author,
                            rec.body.message.as_deref(),
                            &rec.body.events,
                        ));
                    }
                    Ok(())
                })
                .map_err(|e| format!("--resume: cannot read the log: {e}"))?;
            self.prints = Some(prints);
        }
        Ok(self.prints.as_deref().unwrap_or_default())
    }

    /// Whether the log already holds this line's transaction.
    fn in_log(&mut self, store: &Store, t: &Transaction) -> Result<bool, String> {
        if self.past {
            return Ok(false);
        }
        let print = fingerprint(&t.author, t.message.as_deref(), &t.events);
        if let Some(tx) = t.expect_tx {
            if tx > self.head {
                self.past = true;
                return Ok(false);
            }
            let logged = store
                .snapshot()
                .transaction(tx)
                .map_err(|e| format!("--resume: {e}"))?
                .ok_or_else(|| format!("--resume: tx {tx} is not in the index"))?;
            let same = match &t.expect_hash {
                Some(given) => Hash::from_hex(given) == Some(logged.hash),
                None => self.prints(store)?.get(tx as usize - 1) == Some(&print),
            };
            return match same {
                true => Ok(true),
                false => Err(format!(
                    "--resume: tx {tx} is already in the log with other content (hash {}); not importing over it",
                    logged.hash
                )),
            };
        }
        let head = self.head;
        let seen = self.seen;
        self.seen += 1;
        self.prints(store)?;
        let prints = self.prints.as_deref().unwrap_or_default();
        let starts = match self.starts.take() {
            None => (1..=head).filter(|&s| prints[s as usize - 1] == print).collect(),
            Some(starts) => starts
                .into_iter()
                .filter(|&s| s + seen > head || prints[(s + seen - 1) as usize] == print)
                .collect::<Vec<u64>>(),
        };
        // The line is in the log if a candidate still runs through it; of
        // several, the earliest (the longest run of matching lines).
        let covered = starts.iter().any(|&s| s + seen <= head);
        if starts.is_empty() || !covered {
            let finished = starts.iter().any(|&s| s + seen > head);
            if !finished && seen > 0 {
                return Err(format!(
                    "--resume: the file does not continue the log: its first {seen} lines match \
                     transactions of the log but this one does not match the next, and the log goes on; \
                     nothing was imported"
                ));
            }
            self.past = true;
            self.starts = Some(starts);
            return Ok(false);
        }
        self.starts = Some(starts);
        Ok(true)
    }

    /// A line number if the file ended while its lines were still matching
    /// the log short of its head.
    fn unfinished(&self) -> Option<u64> {
        if self.past {
            return None;
        }
        let starts = self.starts.as_ref()?;
        (!starts.is_empty() && starts.iter().all(|&s| s + self.seen <= self.head)).then_some(self.seen)
    }
}

/// A transaction's content as written: author, message and events, ignoring
/// case and the fields the store fills in.
fn fingerprint(author: &str, message: Option<&str>, events: &[Event]) -> [u8; 32] {
    let mut events: Vec<serde_json::Value> =
        events.iter().map(|e| serde_json::to_value(WireEvent::from_event(e)).unwrap_or_default()).collect();
    for e in &mut events {
        if let Some(obj) = e.as_object_mut() {
            obj.remove("claim");
            obj.remove("said_at");
        }
    }
    let text = serde_json::json!([author, message, events]).to_string().to_lowercase();
    *blake3::hash(text.as_bytes()).as_bytes()
}

fn flush(
    store: &Store,
    batch: &mut Vec<(usize, Transaction)>,
    summary: &mut ImportSummary,
    file: &str,
    options: &mut ImportOptions<'_>,
) -> Result<(), ImportError> {
    let lines: Vec<usize> = batch.iter().map(|(l, _)| *l).collect();
    let events: Vec<u64> = batch.iter().map(|(_, t)| t.events.len() as u64).collect();
    let txs = std::mem::take(batch).into_iter().map(|(_, t)| t).collect();
    let (receipts, err) = store.commit_batch(txs);
    summary.transactions += receipts.len() as u64;
    summary.events += events[..receipts.len()].iter().sum::<u64>();
    if let (Some(last), Some(progress)) = (receipts.last(), options.progress.as_mut()) {
        progress(last.tx);
    }
    match err {
        None => Ok(()),
        Some((i, e)) => Err(ImportError {
            file: file.to_string(),
            line: lines[i],
            message: e.to_string(),
            committed: summary.transactions,
            last_tx: store.head(),
            store_error: Some(Box::new(e)),
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
