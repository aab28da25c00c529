//! The query parser held to its contract: the grammar file, the examples,
//! exact error messages, round trips, limits and robustness.

mod errors;
mod examples;
mod grammar;
mod limits;
mod robustness;
mod roundtrip;
mod unsupported;
