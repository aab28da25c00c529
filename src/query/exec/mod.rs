//! Execution: the per-query context, expression evaluation, operators, the
//! planner, the RETURN stage, and the non-MATCH statements.

pub(crate) mod aggregates;
pub(crate) mod ctx;
pub(crate) mod eval;
pub(crate) mod functions;
pub(crate) mod multipart;
pub(crate) mod ops;
pub(crate) mod plan;
pub(crate) mod regex;
pub(crate) mod run;
pub(crate) mod statements;
pub(crate) mod writes;
