//! The claimgraph query language: text in, typed rows (or a receipt) out.
//!
//! A statement flows through this module as follows:
//! 1. the `lexer` turns the source into tokens with byte spans, dropping
//!    whitespace and comments (`//`, `--`, `/* */`).
//! 2. [`parser`] runs nom combinators over the token slice, tracking the
//!    furthest failure and what was expected there.
//! 3. On failure, [`error`] turns that record into a [`ParseError`] (plain data
//!    with offset, line and column) that [`ParseError::render`] prints with a
//!    caret; [`QueryError::render`] does the same for semantic errors.
//! 4. [`ast`] types print back as canonical text (`display`) that re-parses
//!    to the same tree.
//! 5. `exec::plan` checks names against the snapshot (entities, predicates,
//!    variables) and builds a tree of pull-based operators, choosing for each
//!    pattern the index that binds the fewest rows; `exec::run` projects,
//!    groups, sorts and limits; [`engine`] ties statements, sessions and time
//!    travel together.
//!
//! The normative grammar is `grammar/claimgraph.ebnf`; tests hold the parser
//! to its examples and its production names ([`parser::PRODUCTIONS`]).

pub mod ast;
mod display;
pub mod engine;
pub mod error;
mod exec;
mod lexer;
pub mod parser;
pub mod rows;
mod time;
pub mod typed;
pub mod value;

pub use ast::{Span, Statement};
pub use engine::{AsOf, Prepared, QueryError, QueryResult, Session};
pub use error::ParseError;
pub use exec::ctx::{CancelHandle, Limits, Params, clear_thread_cache};
pub use parser::{MAX_DEPTH, MAX_INPUT_LEN, parse_script, parse_statement};
pub use rows::{ClaimRef, EntityRef, FromValue, QueryOptions, Row, RowError, RowIndex, Rows};
pub use typed::{Conflict, ConflictKind};
pub use value::Value;
