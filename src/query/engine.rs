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
use super::rows::{Msg, QueryOptions, Rows, send_row};
use super::value::Value;
use crate::index::IndexError;
use crate::model::{Date, DayRange, Receipt, Timestamp, did_you_mean, entity_text};
use crate::store::{ReadView, Store, StoreError, Transaction};

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
    /// An entity the statement names exists nowhere in the store. `name` is
    /// the key or name as written (without `@`); `suggestion` the nearest
    /// known key.
    #[error("unknown entity `{}`{}", entity_text(name), did_you_mean(suggestion.as_deref().map(entity_text).as_deref()))]
    UnknownEntity { span: Span, name: String, suggestion: Option<String> },
    /// A predicate the statement names exists nowhere in the store.
    #[error("unknown predicate `{name}`{}", did_you_mean(suggestion.as_deref()))]
    UnknownPredicate { span: Span, name: String, suggestion: Option<String> },
    /// The store refused what a write statement asked for (the statement's
    /// own events; `kind` says which rule, for a program to branch on). The
    /// message is the rule's, without the event numbering a transaction of
    /// many events needs.
    #[error("{}", .0.message)]
    Rejected(crate::store::ValidationError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A budget (rows, time) ran out.
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    #[error("the query was cancelled")]
    Cancelled,
    /// A statement inside `BEGIN … COMMIT` failed earlier: every statement
    /// but `ROLLBACK` (and `COMMIT`, which commits nothing) is refused.
    #[error("the transaction is aborted; ROLLBACK to continue")]
    TransactionAborted,
    /// `COMMIT` of an aborted block: the block is closed, nothing committed.
    #[error(
        "the transaction was aborted by an earlier error: nothing was committed \
         ({discarded} queued statement(s) discarded)"
    )]
    AbortedCommit { discarded: usize },
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
            QueryError::Semantic { span, .. }
            | QueryError::UnknownEntity { span, .. }
            | QueryError::UnknownPredicate { span, .. } => {
                let found = src.get(span.start..span.end).unwrap_or("").to_string();
                ParseError::at(src, span.start, format!("`{found}`"), Vec::new(), self.to_string())
                    .render(src)
            }
            other => format!("error: {other}"),
        }
    }

    /// Where in `src` the error points, as 1-based (line, column), for
    /// errors tied to a spot in the statement.
    pub fn position(&self, src: &str) -> Option<(usize, usize)> {
        let at = match self {
            QueryError::Parse(e) => return Some((e.line, e.column)),
            QueryError::Semantic { span, .. }
            | QueryError::UnknownEntity { span, .. }
            | QueryError::UnknownPredicate { span, .. } => span.start,
            _ => return None,
        };
        let before = src.get(..at)?;
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Some((line, column))
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
    block: Option<Block>,
}

/// An open `BEGIN … COMMIT` block.
struct Block {
    tx: Transaction,
    /// Write statements queued so far.
    statements: usize,
    /// A statement inside the block failed: the rest are refused until
    /// ROLLBACK, as PostgreSQL does, so a COMMIT cannot commit half a block.
    aborted: bool,
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
            author: default_author(),
            block: None,
        }
    }

    /// Sets who the session's writes are recorded as (the default is
    /// `$CLAIMGRAPH_AUTHOR`, else `$USER`, else `claimgraph`).
    pub fn set_author(&mut self, author: impl Into<String>) -> &mut Session {
        self.author = author.into();
        self
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
            block: None,
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Whether a `BEGIN` block is open (aborted or not).
    pub fn in_transaction(&self) -> bool {
        self.block.is_some()
    }

    /// Whether the open block is aborted (a statement in it failed; only
    /// `ROLLBACK` continues).
    pub fn transaction_aborted(&self) -> bool {
        self.block.as_ref().is_some_and(|b| b.aborted)
    }

    /// Write statements queued in the open block.
    pub fn queued_statements(&self) -> usize {
        self.block.as_ref().map_or(0, |b| b.statements)
    }

    /// Drops the open block without committing it (leaving, end of input);
    /// returns how many queued statements were discarded, `None` if no block
    /// was open.
    pub fn discard_transaction(&mut self) -> Option<usize> {
        self.block.take().map(|b| b.statements)
    }

    /// Refuses a statement in an aborted block; marks the block aborted when
    /// a statement inside it fails.
    fn guarded(
        &mut self,
        stmt: &Statement,
        run: impl FnOnce(&mut Session) -> Result<QueryResult, QueryError>,
    ) -> Result<QueryResult, QueryError> {
        let control = matches!(stmt, Statement::Begin { .. } | Statement::Commit | Statement::Rollback);
        if self.transaction_aborted() && !matches!(stmt, Statement::Commit | Statement::Rollback) {
            return Err(QueryError::TransactionAborted);
        }
        let result = run(self);
        if result.is_err()
            && !control
            && let Some(block) = &mut self.block
        {
            block.aborted = true;
        }
        result
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
        self.take_early_cancel()?;
        let result = match stmt {
            Statement::Match(q) => self.guarded(stmt, |session| {
                let at = session
                    .resolve_as_of(&session.params, q.time.as_of.as_ref().map(|a| (&a.point, a.span)))?;
                let valid = session
                    .resolve_valid(&session.params, q.time.valid.as_ref().map(|v| (&v.range, v.span)))?;
                let cancel = Some(session.cancel.clone());
                let result = run_match(
                    &session.store,
                    &session.params,
                    session.limits,
                    cancel,
                    at,
                    valid,
                    q,
                    src,
                    sink,
                );
                // Rows may have gone out already: no second answer here, but
                // the index is rebuilt before the next read.
                if let Err(QueryError::Store(e)) = &result {
                    session.store.note_index_failure(e);
                }
                result
            }),
            other => {
                let result = self.run(other, src)?;
                for row in &result.rows {
                    if !sink(&result.columns, row.clone())? {
                        break;
                    }
                }
                Ok(QueryResult { rows: Vec::new(), ..result })
            }
        };
        // A cancel meant for this statement does not carry over to the next.
        self.cancel.reset();
        result
    }

    /// A cancel that fired before a statement starts stops it before it
    /// reads anything (and is used up); one that fires while it runs stops it
    /// at its next budget check.
    fn take_early_cancel(&self) -> Result<(), QueryError> {
        if self.cancel.is_cancelled() {
            self.cancel.reset();
            return Err(QueryError::Cancelled);
        }
        Ok(())
    }

    /// Runs one parsed statement (`src` is the text its spans point into).
    /// A read that meets a damaged index is answered again, once, after the
    /// store has rebuilt the index from the log (if it cannot, the error
    /// names `claimgraph reindex`).
    ///
    /// Inside `BEGIN … COMMIT`, a write is validated as it is queued (against
    /// the store plus the block so far), and a failing statement aborts the
    /// block: later statements get [`QueryError::TransactionAborted`] until
    /// `ROLLBACK`, and `COMMIT` commits nothing ([`QueryError::AbortedCommit`]).
    pub fn run(&mut self, stmt: &Statement, src: &str) -> Result<QueryResult, QueryError> {
        let read = stmt.is_read();
        match self.run_once(stmt, src) {
            Err(QueryError::Store(e)) if read && self.store.heal_after(&e) => self.run_once(stmt, src),
            other => other,
        }
    }

    fn run_once(&mut self, stmt: &Statement, src: &str) -> Result<QueryResult, QueryError> {
        self.take_early_cancel()?;
        let result = if matches!(stmt, Statement::Match(_)) {
            self.run_unguarded(stmt, src)
        } else {
            self.guarded(stmt, |session| session.run_unguarded(stmt, src))
        };
        self.cancel.reset();
        result
    }

    fn run_unguarded(&mut self, stmt: &Statement, src: &str) -> Result<QueryResult, QueryError> {
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
                if self.block.is_some() {
                    return Err(semantic(
                        Span::default(),
                        "a transaction is already open; COMMIT or ROLLBACK it first",
                    ));
                }
                let mut tx = Transaction::new(&self.author);
                tx.message = message.clone();
                self.block = Some(Block { tx, statements: 0, aborted: false });
                Ok(note("transaction open"))
            }
            Statement::Commit => match self.block.take() {
                None => Err(semantic(Span::default(), "COMMIT without BEGIN")),
                Some(b) if b.aborted => Err(QueryError::AbortedCommit { discarded: b.statements }),
                Some(b) if b.tx.events.is_empty() => Ok(note("nothing to commit")),
                Some(b) => Ok(receipt_result(self.store.commit(b.tx)?)),
            },
            Statement::Rollback => match self.block.take() {
                None => Err(semantic(Span::default(), "ROLLBACK without BEGIN")),
                Some(b) => Ok(note(&format!(
                    "rolled back {} statement(s), {} events",
                    b.statements,
                    b.tx.events.len()
                ))),
            },
            write => {
                let pending = self.block.as_ref().map_or(&[][..], |b| b.tx.events.as_slice());
                let events = writes::events(&self.store, &self.params, pending, write)?;
                match &mut self.block {
                    Some(block) => {
                        queue(&self.store, block, events)?;
                        Ok(note(&format!(
                            "queued ({} events in the open transaction)",
                            block.tx.events.len()
                        )))
                    }
                    None => {
                        let mut tx = Transaction::new(&self.author);
                        tx.events = events;
                        match self.store.commit(tx) {
                            Ok(receipt) => Ok(receipt_result(receipt)),
                            Err(StoreError::Invalid(v)) => Err(QueryError::Rejected(v)),
                            Err(e) => Err(e.into()),
                        }
                    }
                }
            }
        }
    }

    /// The tx a read sees: its own AS OF, else the session's, else the head.
    fn resolve_as_of(&self, params: &Params, point: Option<(&TxPoint, Span)>) -> Result<u64, QueryError> {
        let head = self.store.head();
        let (tx, span) = match point {
            Some((point, span)) => {
                (tx_of_point(params, point, span, &|t| Ok(self.store.tx_at_time(t)?))?, span)
            }
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
        valid_of(params, range, self.valid)
    }
}

/// The transaction an explicit `AS OF` point names; `tx_at_time` finds the
/// last transaction recorded by an instant.
fn tx_of_point(
    params: &Params,
    point: &TxPoint,
    span: Span,
    tx_at_time: &dyn Fn(Timestamp) -> Result<u64, QueryError>,
) -> Result<u64, QueryError> {
    match point {
        TxPoint::Tx(n) => Ok(*n),
        TxPoint::TxParam(p) => match params.get(p) {
            Some(Value::Int(n)) if *n >= 0 => Ok(*n as u64),
            Some(other) => {
                Err(semantic(span, format!("AS OF TX ${p} needs a transaction number, got {other}")))
            }
            None => Err(semantic(span, format!("no value for parameter `${p}`"))),
        },
        TxPoint::Timestamp(t) => tx_at_time(Timestamp(t.micros)),
    }
}

/// The valid-time filter a `VALID` clause names, else `default`.
fn valid_of(
    params: &Params,
    range: Option<(&ValidRange, Span)>,
    default: Option<DayRange>,
) -> Result<Option<DayRange>, QueryError> {
    let Some((range, span)) = range else {
        return Ok(default);
    };
    let date = |d: &super::ast::DateLit| {
        Date::new(d.year, d.month.map(u32::from), d.day.map(u32::from)).map_err(|e| semantic(span, e))
    };
    Ok(Some(match range {
        ValidRange::At(d) => DayRange::of(date(d)?),
        ValidRange::AtParam(p) => match params.get(p) {
            Some(Value::Date(d)) => DayRange::of(*d),
            // A year, as a bare year is in a date position.
            Some(Value::Int(y)) => match i32::try_from(*y).ok().and_then(|y| Date::new(y, None, None).ok()) {
                Some(d) => DayRange::of(d),
                None => return Err(semantic(span, format!("VALID AT ${p}: {y} is not a year"))),
            },
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

/// Who writes are recorded as when nobody said: `$CLAIMGRAPH_AUTHOR`, else
/// `$USER`, else `claimgraph`.
fn default_author() -> String {
    ["CLAIMGRAPH_AUTHOR", "USER"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|a| !a.trim().is_empty()))
        .unwrap_or_else(|| "claimgraph".into())
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
    run_match_on(&view, params, limits, cancel, valid, q, src, &mut |_| Ok(()), sink)
}

/// Runs a MATCH on `view`; `planned` hears the column names once the query
/// is planned, before the first row.
#[allow(clippy::too_many_arguments)]
fn run_match_on(
    view: &ReadView,
    params: &Params,
    limits: Limits,
    cancel: Option<CancelHandle>,
    valid: Option<DayRange>,
    q: &super::ast::Query,
    src: &str,
    planned: &mut dyn FnMut(&[String]) -> Result<(), QueryError>,
    sink: &mut RowSink<'_>,
) -> Result<QueryResult, QueryError> {
    let mut ctx = Ctx::new(view.index(), params, limits, cancel);
    ctx.valid = valid;
    ctx.include_retracted = q.time.include_retracted;
    // The column names go to `planned` before the first row (or, for a
    // query with no rows, once it is done): multi-part queries and unions
    // know their columns as they run.
    let mut announced = false;
    let mut first = |columns: &[String], row: Vec<Value>| -> Result<bool, QueryError> {
        if !announced {
            planned(columns)?;
            announced = true;
        }
        sink(columns, row)
    };
    if !q.unions.is_empty() {
        let columns = super::exec::multipart::run_union(&ctx, q, src, &mut first)?;
        if !announced {
            planned(&columns)?;
        }
        return Ok(QueryResult { columns, ..QueryResult::default() });
    }
    if !q.stages.is_empty() || q.items.is_empty() {
        let columns = super::exec::multipart::run_query(&ctx, q, src, &mut |c, row| first(c, row))?;
        if !announced {
            planned(&columns)?;
        }
        return Ok(QueryResult { columns, ..QueryResult::default() });
    }
    let plan = plan::plan(&ctx, q, src)?;
    let columns = run::columns(q, src);
    planned(&columns)?;
    run::run(&ctx, q, plan, &mut |row| sink(&columns, row))?;
    Ok(QueryResult { columns, ..QueryResult::default() })
}

/// Validates a write's `events` on top of the block's (as a commit would,
/// writing nothing), then queues them: a broken rule fails at its statement,
/// not at COMMIT. An error's event number counts from the statement's first.
fn queue(store: &Store, block: &mut Block, events: Vec<crate::model::Event>) -> Result<(), QueryError> {
    let before = block.tx.events.len();
    block.tx.events.extend(events);
    if let Err(e) = store.check(&block.tx) {
        block.tx.events.truncate(before);
        return Err(match e {
            StoreError::Invalid(mut v) if v.index > before => {
                v.index -= before;
                QueryError::Rejected(v)
            }
            other => other.into(),
        });
    }
    block.statements += 1;
    Ok(())
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

impl Prepared {
    /// [`Prepared::run`] under `opts`' budgets and cancel token: a read runs
    /// as [`Prepared::rows`] on the store's current snapshot and is collected;
    /// any other statement runs as `run` does, after checking the token.
    pub fn run_with(
        &self,
        store: &Store,
        params: &Params,
        opts: &QueryOptions,
    ) -> Result<QueryResult, QueryError> {
        if opts.cancel.as_ref().is_some_and(CancelHandle::is_cancelled) {
            return Err(QueryError::Cancelled);
        }
        if !matches!(self.stmt, Statement::Match(_) | Statement::History(_) | Statement::Conflicts(_)) {
            return self.run(store, params);
        }
        let rows = self.rows(&store.snapshot(), params, opts)?;
        let columns = rows.columns().to_vec();
        let rows = rows.map(|r| r.map(super::rows::Row::into_values)).collect::<Result<_, _>>()?;
        Ok(QueryResult { columns, rows, ..QueryResult::default() })
    }

    /// Runs a read (MATCH, HISTORY, CONFLICTS) on `view` and returns its
    /// rows as they are produced, in bounded memory (see [`Rows`]). The
    /// query reads the view's transaction unless it says `AS OF` an earlier
    /// one; `opts` sets its budgets and cancel token (a token cancelled
    /// before this call stops the query before it reads anything).
    pub fn rows(&self, view: &ReadView, params: &Params, opts: &QueryOptions) -> Result<Rows, QueryError> {
        if opts.cancel.as_ref().is_some_and(CancelHandle::is_cancelled) {
            return Err(QueryError::Cancelled);
        }
        let at_point = |point: Option<(&TxPoint, Span)>| -> Result<u64, QueryError> {
            let Some((point, span)) = point else { return Ok(view.at()) };
            let tx = tx_of_point(params, point, span, &|t| Ok(view.tx_at_time(t)?))?;
            if tx > view.at() {
                return Err(semantic(
                    span,
                    format!("AS OF TX {tx} is beyond the view's transaction (tx {})", view.at()),
                ));
            }
            Ok(tx)
        };
        match &self.stmt {
            Statement::Match(q) => {
                let view = view.rewind(at_point(q.time.as_of.as_ref().map(|a| (&a.point, a.span)))?);
                let valid = valid_of(params, q.time.valid.as_ref().map(|v| (&v.range, v.span)), None)?;
                let (prepared, params, opts) = (self.clone(), params.clone(), opts.clone());
                Rows::spawn(opts.buffer, move |started, rows| {
                    let Statement::Match(q) = &prepared.stmt else { return };
                    let was_planned = std::cell::Cell::new(false);
                    let mut planned = |columns: &[String]| {
                        was_planned.set(true);
                        started.send(Ok(columns.to_vec())).map_err(|_| QueryError::Cancelled)
                    };
                    let mut sink = |_: &[String], row: Vec<Value>| Ok(send_row(rows, row));
                    let done = run_match_on(
                        &view,
                        &params,
                        opts.limits,
                        opts.cancel.clone(),
                        valid,
                        q,
                        &prepared.src,
                        &mut planned,
                        &mut sink,
                    );
                    // Before planning finished the caller waits on `started`;
                    // after, on the rows. Either may have gone away: nothing
                    // is left to tell then.
                    match done {
                        Ok(_) => drop(rows.send(Msg::Done(Ok(())))),
                        Err(e) if was_planned.get() => drop(rows.send(Msg::Done(Err(e)))),
                        Err(e) => drop(started.send(Err(e))),
                    }
                })
            }
            Statement::History(h) => Ok(Rows::ready(statements::history(view, params, h)?)),
            Statement::Conflicts(c) => {
                let view = view.rewind(at_point(c.as_of.as_ref().map(|a| (&a.point, a.span)))?);
                let cancel = opts.cancel.clone();
                let mut ctx = Ctx::new(view.index(), params, opts.limits, cancel);
                ctx.valid = valid_of(params, c.valid.as_ref().map(|v| (&v.range, v.span)), None)?;
                Ok(Rows::ready(statements::conflicts(&ctx, c)?))
            }
            _ => Err(semantic(
                Span::default(),
                "Prepared::rows reads MATCH, HISTORY and CONFLICTS; run writes and other statements with Prepared::run",
            )),
        }
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
