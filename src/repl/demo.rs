//! The demo store: a temporary store loaded from `examples/sanctions.cg`
//! (built into the binary), the claims of a Cailian News article of
//! 2025-03-04 on US sanctions against Russia.
//!
//! The script is plain statements; the loader also reads one convention from
//! its comments: `-- @recorded_at <timestamp>` before a transaction pins the
//! clock its commit is recorded with, so the demo's transactions carry the
//! times an analyst recorded them (and `AS OF <timestamp>` has something to
//! show). Its author is `analyst`. Loaded so, the store holds exactly what
//! importing `examples/sanctions.jsonl` gives, hashes included.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use super::input;
use crate::model::Timestamp;
use crate::query::Session;
use crate::store::{Clock, Options, Store, StoreError};

/// The demo script.
pub const SCRIPT: &str = include_str!("../../examples/sanctions.cg");
/// Where the script lives in the repository (for messages).
pub const SCRIPT_PATH: &str = "examples/sanctions.cg";
/// The author of the demo's transactions.
pub const AUTHOR: &str = "analyst";

/// Why the demo store could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    #[error("cannot create the demo store: {0}")]
    Store(#[from] StoreError),
    #[error("{SCRIPT_PATH}:{line}: {message}")]
    Script { line: usize, message: String },
}

/// A clock that reads a pinned time when one is set, else the system clock.
#[derive(Default)]
pub struct PinnedClock(AtomicI64);

const UNPINNED: i64 = i64::MIN;

impl PinnedClock {
    pub fn new() -> PinnedClock {
        PinnedClock(AtomicI64::new(UNPINNED))
    }

    /// Pins the time (`None` goes back to the system clock).
    pub fn pin(&self, t: Option<Timestamp>) {
        self.0.store(t.map_or(UNPINNED, |t| t.0), Ordering::Release);
    }
}

impl Clock for PinnedClock {
    fn now(&self) -> Timestamp {
        match self.0.load(Ordering::Acquire) {
            UNPINNED => Timestamp::now(),
            t => Timestamp(t),
        }
    }
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "claimgraph-demo-{}-{}-{n}",
            std::process::id(),
            Timestamp::now().0
        ));
        std::fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The loaded demo store; its directory goes when this is dropped (drop
/// every session on it first).
pub struct Demo {
    pub store: Store,
    /// Statements run and transactions committed while loading.
    pub statements: usize,
    _dir: TempDir,
}

/// The pinned time a statement's leading comments give, if any.
pub fn recorded_at_pragma(leading: &str) -> Option<Result<Timestamp, String>> {
    leading.lines().rev().find_map(|l| {
        let rest = l.trim().strip_prefix("--")?.trim().strip_prefix("@recorded_at")?;
        Some(rest.trim().parse::<Timestamp>().map_err(|e| e.to_string()))
    })
}

/// Runs `script` into `store` the demo's way (pragmas, author `analyst`);
/// `clock` must be the store's clock.
pub fn load_script(store: &Store, clock: &PinnedClock, script: &str) -> Result<usize, DemoError> {
    let mut session = Session::new(store.clone());
    session.author = AUTHOR.to_string();
    let mut statements = 0;
    for chunk in input::split(script) {
        let line = input::line_of(script, chunk.start);
        if let Some(t) = recorded_at_pragma(chunk.leading) {
            clock.pin(Some(t.map_err(|message| DemoError::Script { line, message })?));
        }
        session.execute(chunk.text).map_err(|e| DemoError::Script { line, message: e.render(chunk.text) })?;
        statements += 1;
    }
    clock.pin(None);
    if session.in_transaction() {
        return Err(DemoError::Script {
            line: input::line_of(script, script.len()),
            message: "BEGIN without COMMIT".into(),
        });
    }
    Ok(statements)
}

/// Creates a temporary store and loads the demo script into it.
pub fn open() -> Result<Demo, DemoError> {
    let dir = TempDir::new()
        .map_err(|source| StoreError::Io { doing: "creating a temporary directory".into(), source })?;
    let clock = Arc::new(PinnedClock::new());
    let options = Options { clock: Some(clock.clone()), create: true, ..Options::default() };
    let store = Store::open_with(dir.0.join("store"), options)?;
    let statements = load_script(&store, &clock, SCRIPT)?;
    Ok(Demo { store, statements, _dir: dir })
}

/// The one-screen welcome of `claimgraph repl --demo`.
pub fn welcome(store: &Store) -> String {
    let stats = store.snapshot().stats().ok().unwrap_or_default();
    format!(
        "claimgraph {version}: the demo store, loaded from {SCRIPT_PATH}.\n\
         A Cailian News article of 2025-03-04 on US sanctions against Russia, as claims:\n\
         {entities} entities, {claims} claims ({retracted} retracted), with speakers, hedges, valid times\n\
         and quotes, and {tx} transactions including later corrections and a merge.\n\
         \n\
         Try:\n  \
           MATCH (a)-[c:may_ease_sanctions_on]->(@russia) RETURN a.name, c.by.name, c.stance, c.hedge;\n  \
           HISTORY @trump;\n  \
           CONFLICTS;\n\
         \n\
         :help for the language and the commands · Tab completes · Ctrl-D leaves\n",
        version = env!("CARGO_PKG_VERSION"),
        entities = stats.entities,
        claims = stats.claims_live + stats.claims_retracted,
        retracted = stats.claims_retracted,
        tx = stats.transactions,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pragmas_are_read_from_leading_comments() {
        let t = recorded_at_pragma("-- tx 3\n-- @recorded_at 2025-03-04T09:10:00Z\n").unwrap().unwrap();
        assert_eq!(t.to_string(), "2025-03-04T09:10:00Z");
        assert!(recorded_at_pragma("-- nothing here\n").is_none());
        assert!(recorded_at_pragma("-- @recorded_at yesterday").unwrap().is_err());
    }
}
