//! claimgraph: an embedded, event-sourced knowledge graph of claims — who said
//! what, about whom, when it holds, where it was reported, and how the record
//! changed.
//!
//! Data flows one way: [`model`] events → [`log`] (the truth, in segment files)
//! → [`index`] (derived sled trees) → reads ([`Store::snapshot`]). See
//! `docs/architecture.md` for the tour.
//!
//! ```
//! use claimgraph::{Store, model::Term};
//!
//! let store = Store::temporary()?;
//! store.transact("analyst", |tx| {
//!     tx.entity("us", "Country", "United States").aliases = Some(vec!["U.S.".into()]);
//!     tx.entity("russia", "Country", "Russia");
//!     // An assert's predicate must be declared (here or earlier), so a typo
//!     // is refused instead of becoming a new predicate.
//!     tx.predicate("may_ease_sanctions_on", false, Some("may ease sanctions on"));
//!     tx.assert("us", "may_ease_sanctions_on", Term::Entity("russia".into()));
//! })?;
//! let view = store.snapshot();
//! assert_eq!(view.entity("U.S.")?.unwrap().key, "us");
//! # Ok::<(), claimgraph::StoreError>(())
//! ```

// The command line's parts: built only with the `cli` feature (on by default),
// so a program embedding the library does not compile a line editor, an
// allocator or the benchmark suite.
#[cfg(feature = "cli")]
pub mod bench;
#[cfg(feature = "cli")]
pub mod r#gen;
#[cfg(feature = "cli")]
pub mod render;
#[cfg(feature = "cli")]
pub mod repl;

// The layers below the store: public for the project's own tests, benches and
// tools, but not part of the documented surface a program should build on.
#[doc(hidden)]
pub mod codec;
#[doc(hidden)]
pub mod index;
#[doc(hidden)]
pub mod log;

pub mod jsonl;
pub mod model;
pub mod query;
pub mod store;

pub use query::{QueryError, QueryResult, Session, Value};
pub use store::{
    ClaimQuery, Clock, HistoryEntry, OpenReport, Options, ReadView, Stats, Store, StoreError, SystemClock,
    Transaction, ValidationError, ValidationKind, VerifyReport,
};
