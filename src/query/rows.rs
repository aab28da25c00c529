//! Results for programs: a [`Row`] whose values are read by column name or
//! position as Rust types ([`Row::get`] through [`FromValue`]), conversions
//! into [`Value`] for parameters (the [`params!`](crate::params) macro),
//! serde for values, rows and results, and [`Rows`], an iterator over a read
//! query's rows in bounded memory with per-query [`QueryOptions`] (budgets and
//! a cancel token that also works when it fires before the query starts).
//!
//! ```
//! use claimgraph::{Store, params, query::{QueryOptions, EntityRef}};
//!
//! let store = Store::temporary()?;
//! let mut session = claimgraph::Session::new(store.clone());
//! session.run_script("CREATE ENTITY us :Country {name: 'United States'}; \
//!                     CREATE ENTITY ru :Country {name: 'Russia'}; \
//!                     CREATE PREDICATE talks_to; \
//!                     ASSERT (@us)-[:talks_to]->(@ru);")?;
//! let q = store.prepare("MATCH (a)-[c:talks_to]->(b) WHERE a.key = $who RETURN c.id, b")?;
//! for row in q.rows(&store.snapshot(), &params! { "who" => "us" }, &QueryOptions::default())? {
//!     let row = row?;
//!     let id: String = row.get("c.id")?;
//!     let b: EntityRef = row.get(1)?;
//!     assert_eq!((id.as_str(), b.key.as_str()), ("c1", "ru"));
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};

use super::engine::{QueryError, QueryResult};
use super::exec::ctx::{CancelHandle, Limits};
use super::value::Value;
use crate::model::{Date, Timestamp};

/// Errors of reading a value out of a row.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RowError {
    /// No column has that name (`columns`: the ones there are).
    #[error("no column `{name}`; the columns are {}", columns.join(", "))]
    NoColumn { name: String, columns: Vec<String> },
    /// A position past the row's end (`len` columns).
    #[error("no column {index}: the row has {len}")]
    OutOfRange { index: usize, len: usize },
    /// The column holds another kind of value than the type asked for.
    #[error("column `{column}` holds {found}, not {expected}")]
    WrongType { column: String, expected: &'static str, found: &'static str },
}

/// An entity as a row holds it: its key, name and kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct EntityRef {
    /// The entity's key (`@key`).
    pub key: String,
    /// Its display name.
    pub name: String,
    /// Its kind (`Person`, `Country`, …).
    pub kind: String,
}

/// A claim as a row holds it: its id and a one-line summary.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ClaimRef {
    /// The claim's id (`c12`, or the one its writer chose).
    pub id: String,
    /// One line: subject, predicate, object, speaker, stance, valid time.
    pub summary: String,
}

/// A Rust type a [`Value`] converts into. `Option<T>` reads null as `None`;
/// every other type refuses null.
pub trait FromValue: Sized {
    /// What the type is called in errors ("a string", "an integer", …).
    const EXPECTED: &'static str;
    /// The value as `Self`, or `None` when it is of another type.
    fn from_value(v: &Value) -> Option<Self>;
}

impl FromValue for Value {
    const EXPECTED: &'static str = "a value";
    fn from_value(v: &Value) -> Option<Self> {
        Some(v.clone())
    }
}

impl FromValue for String {
    const EXPECTED: &'static str = "a string";
    fn from_value(v: &Value) -> Option<Self> {
        v.as_str().map(str::to_string)
    }
}

impl FromValue for i64 {
    const EXPECTED: &'static str = "an integer";
    fn from_value(v: &Value) -> Option<Self> {
        v.as_i64()
    }
}

impl FromValue for u64 {
    const EXPECTED: &'static str = "a non-negative integer";
    fn from_value(v: &Value) -> Option<Self> {
        v.as_i64().and_then(|i| u64::try_from(i).ok())
    }
}

impl FromValue for i32 {
    const EXPECTED: &'static str = "a 32-bit integer";
    fn from_value(v: &Value) -> Option<Self> {
        v.as_i64().and_then(|i| i32::try_from(i).ok())
    }
}

impl FromValue for usize {
    const EXPECTED: &'static str = "a non-negative integer";
    fn from_value(v: &Value) -> Option<Self> {
        v.as_i64().and_then(|i| usize::try_from(i).ok())
    }
}

impl FromValue for f64 {
    const EXPECTED: &'static str = "a number";
    fn from_value(v: &Value) -> Option<Self> {
        v.as_f64()
    }
}

impl FromValue for bool {
    const EXPECTED: &'static str = "a boolean";
    fn from_value(v: &Value) -> Option<Self> {
        v.as_bool()
    }
}

impl FromValue for Date {
    const EXPECTED: &'static str = "a date";
    fn from_value(v: &Value) -> Option<Self> {
        v.as_date()
    }
}

impl FromValue for Timestamp {
    const EXPECTED: &'static str = "a timestamp";
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Timestamp(t) => Some(*t),
            _ => None,
        }
    }
}

impl FromValue for EntityRef {
    const EXPECTED: &'static str = "an entity";
    fn from_value(v: &Value) -> Option<Self> {
        v.as_entity()
    }
}

impl FromValue for ClaimRef {
    const EXPECTED: &'static str = "a claim";
    fn from_value(v: &Value) -> Option<Self> {
        v.as_claim()
    }
}

impl<T: FromValue> FromValue for Option<T> {
    const EXPECTED: &'static str = T::EXPECTED;
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Null => Some(None),
            other => T::from_value(other).map(Some),
        }
    }
}

impl<T: FromValue> FromValue for std::collections::BTreeMap<String, T> {
    const EXPECTED: &'static str = "a map";
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Map(m) => m.iter().map(|(k, v)| Some((k.clone(), T::from_value(v)?))).collect(),
            _ => None,
        }
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    const EXPECTED: &'static str = "a list";
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::List(items) => items.iter().map(T::from_value).collect(),
            _ => None,
        }
    }
}

impl Value {
    /// What kind of value this is, as errors name it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a float",
            Value::String(_) => "a string",
            Value::Date(_) => "a date",
            Value::Timestamp(_) => "a timestamp",
            Value::Entity { .. } => "an entity",
            Value::Claim { .. } => "a claim",
            Value::List(_) => "a list",
            Value::Map(_) => "a map",
            Value::Path { .. } => "a path",
        }
    }

    /// The text of a string value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// An integer value.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// A number (an integer widens to a float).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// A boolean value.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// A date value (day, month or year precision).
    pub fn as_date(&self) -> Option<Date> {
        match self {
            Value::Date(d) => Some(*d),
            _ => None,
        }
    }

    /// An entity value's key, name and kind.
    pub fn as_entity(&self) -> Option<EntityRef> {
        match self {
            Value::Entity { key, name, kind } => {
                Some(EntityRef { key: key.clone(), name: name.clone(), kind: kind.clone() })
            }
            _ => None,
        }
    }

    /// A claim value's id and summary.
    pub fn as_claim(&self) -> Option<ClaimRef> {
        match self {
            Value::Claim { id, summary } => Some(ClaimRef { id: id.clone(), summary: summary.clone() }),
            _ => None,
        }
    }

    /// Whether the value is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::String(s.clone())
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Value {
        Value::Int(i64::from(i))
    }
}

impl From<u32> for Value {
    fn from(i: u32) -> Value {
        Value::Int(i64::from(i))
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<Date> for Value {
    fn from(d: Date) -> Value {
        Value::Date(d)
    }
}

impl From<Timestamp> for Value {
    fn from(t: Timestamp) -> Value {
        Value::Timestamp(t)
    }
}

impl From<EntityRef> for Value {
    fn from(e: EntityRef) -> Value {
        Value::Entity { key: e.key, name: e.name, kind: e.kind }
    }
}

impl From<ClaimRef> for Value {
    fn from(c: ClaimRef) -> Value {
        Value::Claim { id: c.id, summary: c.summary }
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(v: Vec<T>) -> Value {
        Value::List(v.into_iter().map(Into::into).collect())
    }
}

/// Builds [`Params`](crate::query::Params) for `$name` parameters from `name => value` pairs; each
/// value is anything that converts into a [`Value`] (strings, integers,
/// floats, booleans, dates, `Option`s and `Vec`s of those).
///
/// ```
/// let p = claimgraph::params! { "who" => "us", "n" => 3, "maybe" => None::<i64> };
/// assert_eq!(p["n"], claimgraph::Value::Int(3));
/// ```
#[macro_export]
macro_rules! params {
    () => { $crate::query::Params::new() };
    ($($name:expr => $value:expr),+ $(,)?) => {{
        let mut params = $crate::query::Params::new();
        $( params.insert(::std::string::String::from($name), $crate::Value::from($value)); )+
        params
    }};
}

/// Which column of a row: a name (as the result's `columns` spell it) or a
/// position from 0.
pub trait RowIndex {
    /// Where the column stands among `columns`.
    fn position(&self, columns: &[String]) -> Result<usize, RowError>;
}

impl RowIndex for usize {
    fn position(&self, columns: &[String]) -> Result<usize, RowError> {
        if *self < columns.len() {
            Ok(*self)
        } else {
            Err(RowError::OutOfRange { index: *self, len: columns.len() })
        }
    }
}

impl RowIndex for &str {
    fn position(&self, columns: &[String]) -> Result<usize, RowError> {
        columns
            .iter()
            .position(|c| c == self)
            .ok_or_else(|| RowError::NoColumn { name: self.to_string(), columns: columns.to_vec() })
    }
}

/// One row of a result: its values with the result's column names.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    columns: Arc<[String]>,
    values: Vec<Value>,
}

impl Row {
    pub(crate) fn new(columns: Arc<[String]>, values: Vec<Value>) -> Row {
        Row { columns, values }
    }

    /// The value of a column as `T`: `row.get::<String>("c.id")`,
    /// `row.get::<Option<Date>>(2)`.
    pub fn get<T: FromValue>(&self, column: impl RowIndex) -> Result<T, RowError> {
        let i = column.position(&self.columns)?;
        let v = &self.values[i];
        T::from_value(v).ok_or_else(|| RowError::WrongType {
            column: self.columns[i].clone(),
            expected: T::EXPECTED,
            found: v.type_name(),
        })
    }

    /// The value of a column as it is.
    pub fn value(&self, column: impl RowIndex) -> Result<&Value, RowError> {
        Ok(&self.values[column.position(&self.columns)?])
    }

    /// The result's column names, in order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The values, in column order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// The values, taken out of the row.
    pub fn into_values(self) -> Vec<Value> {
        self.values
    }

    /// How many columns the row has.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the row has no column (a `RETURN` of nothing cannot make one).
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

impl QueryResult {
    /// The rows as [`Row`]s, for typed reads.
    pub fn iter(&self) -> impl Iterator<Item = Row> + '_ {
        let columns: Arc<[String]> = self.columns.clone().into();
        self.rows.iter().map(move |values| Row::new(columns.clone(), values.clone()))
    }
}

impl Serialize for Value {
    /// As [`Value::to_json`]: entities as `{"key","name","kind"}`, claims as
    /// `{"claim","summary"}`, dates and timestamps as strings.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl Serialize for Row {
    /// A map from column name to value, in column order.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.values.len()))?;
        for (c, v) in self.columns.iter().zip(&self.values) {
            map.serialize_entry(c, v)?;
        }
        map.end()
    }
}

impl Serialize for QueryResult {
    /// `{"columns": [...], "rows": [[...], ...], "tx": n?, "message": "..."?}`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("QueryResult", 4)?;
        st.serialize_field("columns", &self.columns)?;
        st.serialize_field("rows", &self.rows)?;
        match &self.receipt {
            Some(r) => st.serialize_field("tx", &r.tx)?,
            None => st.skip_field("tx")?,
        }
        match &self.message {
            Some(m) => st.serialize_field("message", m)?,
            None => st.skip_field("message")?,
        }
        st.end()
    }
}

/// Per-query settings for [`Rows`].
#[derive(Debug, Clone)]
pub struct QueryOptions {
    /// Budgets: rows examined and time.
    pub limits: Limits,
    /// Stops the query at its next budget check; a token cancelled before the
    /// query starts stops it before it reads anything.
    pub cancel: Option<CancelHandle>,
    /// Rows produced ahead of the reader (the memory the iterator holds).
    pub buffer: usize,
}

impl Default for QueryOptions {
    fn default() -> QueryOptions {
        QueryOptions { limits: Limits::default(), cancel: None, buffer: 256 }
    }
}

pub(crate) enum Msg {
    Row(Vec<Value>),
    Done(Result<(), QueryError>),
}

/// The rows of one read query, produced as they are read. The query runs on
/// a worker thread over the view's snapshot and hands rows over a bounded
/// channel, so a result of any size takes [`QueryOptions::buffer`] rows of
/// memory; dropping the iterator stops the query. (A worker thread, because
/// the operators borrow the snapshot they read and so cannot live inside an
/// iterator that owns that snapshot.)
pub struct Rows {
    columns: Arc<[String]>,
    rx: Receiver<Msg>,
    worker: Option<JoinHandle<()>>,
    finished: bool,
}

impl Rows {
    /// Rows already computed (statements other than MATCH).
    pub(crate) fn ready(result: QueryResult) -> Rows {
        let (tx, rx) = sync_channel(result.rows.len() + 1);
        for row in result.rows {
            // The receiver is alive: cannot fail.
            let _ = tx.send(Msg::Row(row));
        }
        let _ = tx.send(Msg::Done(Ok(())));
        Rows { columns: result.columns.into(), rx, worker: None, finished: false }
    }

    /// Starts `work` on a worker thread; it sends its column names on
    /// `started` once the query is planned (or fails before that), then its
    /// rows.
    pub(crate) fn spawn<F>(buffer: usize, work: F) -> Result<Rows, QueryError>
    where
        F: FnOnce(&SyncSender<Result<Vec<String>, QueryError>>, &SyncSender<Msg>) + Send + 'static,
    {
        let (started_tx, started_rx) = sync_channel(1);
        let (tx, rx) = sync_channel(buffer.max(1));
        let worker = std::thread::Builder::new()
            .name("claimgraph-query".into())
            .spawn(move || work(&started_tx, &tx))
            .map_err(|e| {
                QueryError::Store(crate::StoreError::Io { doing: "start a query thread".into(), source: e })
            })?;
        let columns = match started_rx.recv() {
            Ok(Ok(columns)) => columns,
            Ok(Err(e)) => {
                let _ = worker.join();
                return Err(e);
            }
            Err(_) => {
                let _ = worker.join();
                return Err(QueryError::LimitExceeded("the query thread stopped before it started".into()));
            }
        };
        Ok(Rows { columns: columns.into(), rx, worker: Some(worker), finished: false })
    }

    /// The result's column names.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }
}

impl Iterator for Rows {
    type Item = Result<Row, QueryError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        match self.rx.recv() {
            Ok(Msg::Row(values)) => Some(Ok(Row::new(self.columns.clone(), values))),
            Ok(Msg::Done(Ok(()))) => {
                self.finished = true;
                None
            }
            Ok(Msg::Done(Err(e))) => {
                self.finished = true;
                Some(Err(e))
            }
            Err(_) => {
                self.finished = true;
                Some(Err(QueryError::LimitExceeded("the query thread stopped without finishing".into())))
            }
        }
    }
}

impl Drop for Rows {
    fn drop(&mut self) {
        // Dropping the receiver makes the worker's next send fail, which
        // stops its query; wait for it so the snapshot is released.
        let (_, dead) = sync_channel(0);
        drop(std::mem::replace(&mut self.rx, dead));
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

/// What the worker's row sink does with a row: false once nobody listens.
pub(crate) fn send_row(tx: &SyncSender<Msg>, row: Vec<Value>) -> bool {
    tx.send(Msg::Row(row)).is_ok()
}
