//! `=~`: Cypher's regular-expression match, on the `regex` crate (linear
//! time in the text, so no pattern can make a query backtrack for ever),
//! with limits on the pattern and a small per-thread cache of compiled
//! patterns (a query usually matches one pattern against many rows).

use std::cell::RefCell;
use std::collections::HashMap;

use super::super::QueryError;
use super::eval::semantic;
use crate::query::ast::Span;

/// Longest pattern accepted, in bytes.
pub(crate) const MAX_PATTERN_LEN: usize = 1_000;

/// Limit on a compiled pattern's size (the `regex` crate's size limit).
const MAX_COMPILED: usize = 1 << 20;

/// Compiled patterns kept per thread.
const CACHE: usize = 64;

thread_local! {
    static COMPILED: RefCell<HashMap<String, regex::Regex>> = RefCell::new(HashMap::new());
}

/// Whether `pattern` matches the whole of `text`, as `text =~ pattern`.
pub(crate) fn full_match(pattern: &str, text: &str, span: Span) -> Result<bool, QueryError> {
    if pattern.len() > MAX_PATTERN_LEN {
        return Err(semantic(
            span,
            format!("regular expression too long: {} bytes (limit {MAX_PATTERN_LEN})", pattern.len()),
        ));
    }
    COMPILED.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(re) = cache.get(pattern) {
            return Ok(re.is_match(text));
        }
        let re =
            regex::RegexBuilder::new(&format!("^(?:{pattern})$")).size_limit(MAX_COMPILED).build().map_err(
                |e| semantic(span, format!("invalid regular expression: {}", first_line(&e.to_string()))),
            )?;
        let hit = re.is_match(text);
        if cache.len() >= CACHE {
            cache.clear();
        }
        cache.insert(pattern.to_string(), re);
        Ok(hit)
    })
}

fn first_line(s: &str) -> String {
    s.lines().rfind(|l| !l.trim().is_empty()).unwrap_or(s).trim().to_string()
}
