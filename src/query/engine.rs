//! The public face of the language: [`Session`] runs statements (reads, time
//! travel, history, conflicts, SHOW, writes and `BEGIN … COMMIT` blocks)
//! against a [`Store`]; [`Store::query`] and [`Store::prepare`] are the
//! one-shot forms. A statement flows: parse → plan (check names, choose
//! indexes) → execute (pull rows) → typed rows.

use std::collections::HashMap;

use super::ast::{Span, Statement, TxPoint, ValidRange};
use super::error::ParseError;
use super::exec::ctx::{CancelHandle, Ctx, Limits, Params};
use super::exec::eval::semantic;
use super::exec::{plan, run, statements, writes};
use super::parser::{parse_script, parse_statement};
use super::value::Value;
use crate::index::IndexError;
use crate::model::{Date, DayRange, Receipt, Timestamp};
use crate::store::{Store, StoreError, Transaction};

/// Errors of the query layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// The text is not a statement of the language.
    #[error("{0}")]
    Parse(#[from] ParseError),
    /// The statement is well-formed but names something wrong.
    #[error("{message}")]
    Semantic { span: Span, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A budget (rows, time) ran out.
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    #[error("the query was cancelled")]
    Cancelled,
}

impl From<IndexError> for QueryError {
    fn from(e: IndexError) -> QueryError {
        QueryError::Store(StoreError::Index(e))
    }
}

impl QueryError {
    /// The error for people: parse and semantic errors point at the spot in
    /// `src` with a caret; others are one line.
    pub fn render(&self, src: &str) -> String {
        match self {
            QueryError::Parse(e) => e.render(src),
            QueryError::Semantic { span, message } => {
                let found = src.get(span.start..span.end).unwrap_or("").to_string();
                ParseError::at(src, span.start, format!("`{found}`"), Vec::new(), message.clone()).render(src)
            }
            other => format!("error: {other}"),
        }
    }
}

/// The result of one statement.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    /// For writes: what was committed.
    pub receipt: Option<Receipt>,
    /// A one-line note (BEGIN, ROLLBACK, a write inside a block).
    pub message: Option<String>,
}

/// Receives the column names and one row; returns false to stop.
pub type RowSink<'a> = dyn FnMut(&[String], Vec<Value>) -> Result<bool, QueryError> + 'a;

/// Session-wide default for transaction time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsOf {
    Tx(u64),
    Time(Timestamp),
}

/// A conversation with the store: parameters, time settings, an open
/// transaction block, budgets and a cancel handle.
pub struct Session {
    store: Store,
    pub params: Params,
    pub limits: Limits,
    pub cancel: CancelHandle,
    /// Applied to reads that give no AS OF of their own.
    pub as_of: Option<AsOf>,
    /// Applied to reads that give no VALID clause of their own.
    pub valid: Option<DayRange>,
    pub author: String,
    pending: Option<Transaction>,
}

impl Session {
    pub fn new(store: Store) -> Session {
        Session {
            store,
            params: HashMap::new(),
            limits: Limits::default(),
            cancel: CancelHandle::new(),
            as_of: None,
            valid: None,
            author: std::env::var("USER").unwrap_or_else(|_| "claimgraph".into()),
            pending: None,
        }
    }

    /// A session for one read: the defaults of [`Session::new`] but no
    /// author (reads record nothing).
    fn reader(store: Store) -> Session {
        Session {
            store,
            params: HashMap::new(),
            limits: Limits::default(),
            cancel: CancelHandle::new(),
            as_of: None,
            valid: None,
            author: String::new(),
            pending: None,
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Whether a `BEGIN` block is open.
    pub fn in_transaction(&self) -> bool {
        self.pending.is_some()
    }

    /// Runs every statement of a script, stopping at the first error.
    pub fn run_script(&mut self, src: &str) -> Result<Vec<QueryResult>, QueryError> {
        let statements = parse_script(src)?;
        let mut out = Vec::with_capacity(statements.len());
        for (stmt, _) in statements {
            out.push(self.run(&stmt, src)?);
        }
        Ok(out)
    }

    /// Parses and runs one statement.
    pub fn execute(&mut self, src: &str) -> Result<QueryResult, QueryError> {
        let stmt = parse_statement(src)?;
        self.run(&stmt, src)
    }

    /// Runs one parsed statement, streaming rows to `sink` (return false to
    /// stop); the result's `rows` stays empty.
    pub fn run_streaming(
        &mut self,
        stmt: &Statement,
        src: &str,
        sink: &mut RowSink<'_>,
    ) -> Result<QueryResult, QueryError> {
        self.cancel.reset();
        match stmt {
            Statement::Match(q) => {
                let at =
                    self.resolve_as_of(&self.params, q.time.as_of.as_ref().map(|a| (&a.point, a.span)))?;
                let valid =
                    self.resolve_valid(&self.params, q.time.valid.as_ref().map(|v| (&v.range, v.span)))?;
                let cancel = Some(self.cancel.clone());
                run_match(&self.store, &self.params, self.limits, cancel, at, valid, q, src, sink)
            }
            other => {
                let result = self.run(other, src)?;
                for row in &result.rows {
                    if !sink(&result.columns, row.clone())? {
                        break;
                    }
                }
                Ok(QueryResult { rows: Vec::new(), ..result })
            }
        }
    }

    /// Runs one parsed statement (`src` is the text its spans point into).
    pub fn run(&mut self, stmt: &Statement, src: &str) -> Result<QueryResult, QueryError> {
        self.cancel.reset();
        match stmt {
            Statement::Match(_) => {
                let mut rows = Vec::new();
                let mut result = self.run_streaming(stmt, src, &mut |_, row| {
                    rows.push(row);
                    Ok(true)
                })?;
                result.rows = rows;
                Ok(result)
            }
            Statement::Explain { analyze, inner } => {
                let at =
                    self.resolve_as_of(&self.params, inner.time.as_of.as_ref().map(|a| (&a.point, a.span)))?;
                let view = self.store.snapshot_at(at);
                let mut ctx = Ctx::new(view.index(), &self.params, self.limits, Some(self.cancel.clone()));
                ctx.valid =
                    self.resolve_valid(&self.params, inner.time.valid.as_ref().map(|v| (&v.range, v.span)))?;
                ctx.include_retracted = inner.time.include_retracted;
                statements::explain(&ctx, inner, src, *analyze)
            }
            Statement::History(h) => {
                let view = self.store.snapshot_at(self.resolve_as_of(&self.params, None)?);
                statements::history(&view, &self.params, h)
            }
            Statement::Conflicts(c) => {
                let at = self.resolve_as_of(&self.params, c.as_of.as_ref().map(|a| (&a.point, a.span)))?;
                let view = self.store.snapshot_at(at);
                let mut ctx = Ctx::new(view.index(), &self.params, self.limits, Some(self.cancel.clone()));
                ctx.valid = self.resolve_valid(&self.params, c.valid.as_ref().map(|v| (&v.range, v.span)))?;
                statements::conflicts(&ctx, c)
            }
            Statement::Show(s) => {
                let view = self.store.snapshot_at(self.resolve_as_of(&self.params, None)?);
                if let super::ast::Show::Tx(Some(n)) = s
                    && (*n == 0 || *n > view.at())
                {
                    let span = number_span(src, *n);
                    return Err(semantic(span, format!("there is no tx {n} (the last is tx {})", view.at())));
                }
                statements::show(&view, s)
            }
            Statement::Stats => {
                let view = self.store.snapshot_at(self.resolve_as_of(&self.params, None)?);
                statements::stats(&view, self.store.size_on_disk())
            }
            Statement::Begin { message } => {
                if self.pending.is_some() {
                    return Err(semantic(
                        Span::default(),
                        "a transaction is already open; COMMIT or ROLLBACK it first",
                    ));
                }
                let mut tx = Transaction::new(&self.author);
                tx.message = message.clone();
                self.pending = Some(tx);
                Ok(note("transaction open"))
            }
            Statement::Commit => match self.pending.take() {
                None => Err(semantic(Span::default(), "COMMIT without BEGIN")),
                Some(tx) if tx.events.is_empty() => Ok(note("nothing to commit")),
                Some(tx) => Ok(receipt_result(self.store.commit(tx)?)),
            },
            Statement::Rollback => match self.pending.take() {
                None => Err(semantic(Span::default(), "ROLLBACK without BEGIN")),
                Some(tx) => Ok(note(&format!("rolled back {} events", tx.events.len()))),
            },
            write => {
                let pending = self.pending.as_ref().map_or(&[][..], |t| t.events.as_slice());
                let events = writes::events(&self.store, &self.params, pending, write)?;
                match &mut self.pending {
                    Some(tx) => {
                        tx.events.extend(events);
                        Ok(note(&format!("queued ({} events in the open transaction)", tx.events.len())))
                    }
                    None => {
                        let mut tx = Transaction::new(&self.author);
                        tx.events = events;
                        Ok(receipt_result(self.store.commit(tx)?))
                    }
                }
            }
        }
    }

    /// The tx a read sees: its own AS OF, else the session's, else the head.
    fn resolve_as_of(&self, params: &Params, point: Option<(&TxPoint, Span)>) -> Result<u64, QueryError> {
        let head = self.store.head();
        let (tx, span) = match point {
            Some((TxPoint::Tx(n), span)) => (*n, span),
            Some((TxPoint::TxParam(p), span)) => match params.get(p) {
                Some(Value::Int(n)) if *n >= 0 => (*n as u64, span),
                Some(other) => {
                    return Err(semantic(
                        span,
                        format!("AS OF TX ${p} needs a transaction number, got {other}"),
                    ));
                }
                None => return Err(semantic(span, format!("no value for parameter `${p}`"))),
            },
            Some((TxPoint::Timestamp(t), span)) => (self.store.tx_at_time(Timestamp(t.micros))?, span),
            None => match self.as_of {
                Some(AsOf::Tx(n)) => (n, Span::default()),
                Some(AsOf::Time(t)) => (self.store.tx_at_time(t)?, Span::default()),
                None => (head, Span::default()),
            },
        };
        if tx > head {
            return Err(semantic(span, format!("AS OF TX {tx} is beyond the last transaction (tx {head})")));
        }
        Ok(tx)
    }

    fn resolve_valid(
        &self,
        params: &Params,
        range: Option<(&ValidRange, Span)>,
    ) -> Result<Option<DayRange>, QueryError> {
        let Some((range, span)) = range else {
            return Ok(self.valid);
        };
        let date = |d: &super::ast::DateLit| {
            Date::new(d.year, d.month.map(u32::from), d.day.map(u32::from)).map_err(|e| semantic(span, e))
        };
        Ok(Some(match range {
            ValidRange::At(d) => DayRange::of(date(d)?),
            ValidRange::AtParam(p) => match params.get(p) {
                Some(Value::Date(d)) => DayRange::of(*d),
                // A year, as a bare year is in a date position.
                Some(Value::Int(y)) => {
                    match i32::try_from(*y).ok().and_then(|y| Date::new(y, None, None).ok()) {
                        Some(d) => DayRange::of(d),
                        None => return Err(semantic(span, format!("VALID AT ${p}: {y} is not a year"))),
                    }
                }
                Some(other) => {
                    return Err(semantic(span, format!("VALID AT ${p} needs a date, got {other}")));
                }
                None => return Err(semantic(span, format!("no value for parameter `${p}`"))),
            },
            ValidRange::During(a, b) => {
                let (a, b) = (date(a)?, date(b)?);
                if a.first_day() >= b.end_day() {
                    return Err(semantic(span, format!("VALID DURING {a} .. {b} runs backwards")));
                }
                DayRange { start: a.first_day(), end: b.end_day() }
            }
        }))
    }
}

/// Runs a MATCH at tx `at` under a valid-time filter.
#[allow(clippy::too_many_arguments)]
fn run_match(
    store: &Store,
    params: &Params,
    limits: Limits,
    cancel: Option<CancelHandle>,
    at: u64,
    valid: Option<DayRange>,
    q: &super::ast::Query,
    src: &str,
    sink: &mut RowSink<'_>,
) -> Result<QueryResult, QueryError> {
    let view = store.snapshot_at(at);
    let mut ctx = Ctx::new(view.index(), params, limits, cancel);
    ctx.valid = valid;
    ctx.include_retracted = q.time.include_retracted;
    if !q.unions.is_empty() {
        let columns = super::exec::multipart::run_union(&ctx, q, src, sink)?;
        return Ok(QueryResult { columns, ..QueryResult::default() });
    }
    if !q.stages.is_empty() || q.items.is_empty() {
        let columns = super::exec::multipart::run_query(&ctx, q, src, &mut |c, row| sink(c, row))?;
        return Ok(QueryResult { columns, ..QueryResult::default() });
    }
    let planned = plan::plan(&ctx, q, src)?;
    let columns = run::columns(q, src);
    run::run(&ctx, q, planned, &mut |row| sink(&columns, row))?;
    Ok(QueryResult { columns, ..QueryResult::default() })
}

/// Where the number `n` is written in `src` (its last occurrence).
fn number_span(src: &str, n: u64) -> Span {
    let text = n.to_string();
    src.rfind(&text).map_or(Span::default(), |i| Span::new(i, i + text.len()))
}

fn note(text: &str) -> QueryResult {
    QueryResult { message: Some(text.to_string()), ..QueryResult::default() }
}

fn receipt_result(r: Receipt) -> QueryResult {
    let row = vec![
        Value::Int(r.tx as i64),
        Value::String(r.hash.to_string()),
        Value::List(r.claim_ids.iter().map(|c| Value::String(c.clone())).collect()),
    ];
    QueryResult {
        columns: vec!["tx".into(), "hash".into(), "claims".into()],
        rows: vec![row],
        message: Some(format!("committed tx {}", r.tx)),
        receipt: Some(r),
    }
}

/// A parsed statement ready to run with different parameters.
#[derive(Debug, Clone)]
pub struct Prepared {
    src: String,
    stmt: Statement,
}

impl Prepared {
    /// Runs the statement with `params`.
    pub fn run(&self, store: &Store, params: &Params) -> Result<QueryResult, QueryError> {
        // A MATCH needs no session: no author, no copy of the parameters.
        if let Statement::Match(q) = &self.stmt {
            let defaults = Session::reader(store.clone());
            let at = defaults.resolve_as_of(params, q.time.as_of.as_ref().map(|a| (&a.point, a.span)))?;
            let valid = defaults.resolve_valid(params, q.time.valid.as_ref().map(|v| (&v.range, v.span)))?;
            let mut rows = Vec::new();
            let mut result =
                run_match(store, params, defaults.limits, None, at, valid, q, &self.src, &mut |_, row| {
                    rows.push(row);
                    Ok(true)
                })?;
            result.rows = rows;
            return Ok(result);
        }
        let mut session = Session::new(store.clone());
        session.params = params.clone();
        session.run(&self.stmt, &self.src)
    }
}

impl Store {
    /// Parses and runs one statement.
    pub fn query(&self, src: &str) -> Result<QueryResult, QueryError> {
        Session::new(self.clone()).execute(src)
    }

    /// Parses a statement once for repeated runs with parameters.
    pub fn prepare(&self, src: &str) -> Result<Prepared, QueryError> {
        Ok(Prepared { src: src.to_string(), stmt: parse_statement(src)? })
    }
}
