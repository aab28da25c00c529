//! Syntax errors as plain data, and the one place they are rendered.
//!
//! A [`ParseError`] knows where (byte offset, 1-based line and column, the
//! column counting characters), what was found and what was expected.
//! [`ParseError::render`] prints it with the offending line and a caret:
//!
//! ```text
//! error: expected `)` or `:` after node variable, found `-`
//!  --> line 1, column 10
//!   |
//! 1 | MATCH (a -[c]->(b) RETURN a
//!   |          ^
//! ```

use std::fmt::Write as _;

/// A syntax error with its position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ParseError {
    /// Byte offset of the error in the source.
    pub offset: usize,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// What was found there: a backticked token such as `` `-` `` or
    /// `end of input`.
    pub found: String,
    /// What would have been accepted there (may be empty for errors that are
    /// not about a missing token, such as a bad escape).
    pub expected: Vec<String>,
    /// The headline, e.g. ``expected `)`, found `-` ``.
    pub message: String,
}

impl ParseError {
    /// Builds an error at `offset` of `src`, computing line and column.
    pub(crate) fn at(
        src: &str,
        offset: usize,
        found: String,
        expected: Vec<String>,
        message: String,
    ) -> ParseError {
        let offset = floor_char_boundary(src, offset);
        let (line, column) = line_column(src, offset);
        ParseError { offset, line, column, found, expected, message }
    }

    /// Renders the error against the source it came from:
    /// headline, location, the source line and a caret under the spot.
    pub fn render(&self, src: &str) -> String {
        let (text, caret_pad) = excerpt(source_line(src, self.line), self.column.saturating_sub(1));
        let number = self.line.to_string();
        let pad = " ".repeat(number.len());
        let mut out = String::new();
        let _ = writeln!(out, "error: {}", self.message);
        let _ = writeln!(out, "{pad}--> line {}, column {}", self.line, self.column);
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(out, "{number} | {text}");
        let _ = write!(out, "{pad} | {caret_pad}^");
        out
    }
}

/// Joins expected items the way the messages read: `a`, `a or b`, `a, b or c`.
pub(crate) fn join_alternatives(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// 1-based line and character column of a byte offset.
fn line_column(src: &str, offset: usize) -> (usize, usize) {
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// The text of 1-based line `line`, without its line terminator.
/// Characters of a source line shown on each side of the caret.
const CONTEXT: usize = 100;

/// The part of `line` around character `column` (at most [`CONTEXT`] on
/// either side, cuts marked `…`), so an error in a multi-megabyte line does
/// not echo it; and the padding that puts a caret under that character.
fn excerpt(line: &str, column: usize) -> (String, String) {
    let start = column.saturating_sub(CONTEXT);
    let mut text = String::new();
    let mut pad = String::new();
    if start > 0 {
        text.push('…');
        pad.push(' ');
    }
    let mut shown = line.chars().skip(start);
    for c in shown.by_ref().take(column - start + 1 + CONTEXT) {
        text.push(c);
    }
    for c in line.chars().skip(start).take(column - start) {
        pad.push(if c == '\t' { '\t' } else { ' ' });
    }
    if shown.next().is_some() {
        text.push('…');
    }
    (text, pad)
}

fn source_line(src: &str, line: usize) -> &str {
    let text = src.split('\n').nth(line.saturating_sub(1)).unwrap_or("");
    text.strip_suffix('\r').unwrap_or(text)
}

/// The largest char boundary not above `offset` (and not past the end).
fn floor_char_boundary(src: &str, offset: usize) -> usize {
    let mut at = offset.min(src.len());
    while !src.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_issue_example() {
        let src = "MATCH (a -[c]->(b) RETURN a";
        let msg = "expected `)` or `:` after node variable, found `-`".to_string();
        let err = ParseError::at(src, 9, "`-`".into(), vec![], msg);
        let want = "error: expected `)` or `:` after node variable, found `-`\n \
                    --> line 1, column 10\n  |\n1 | MATCH (a -[c]->(b) RETURN a\n  |          ^";
        assert_eq!(err.render(src), want);
    }

    #[test]
    fn columns_count_chars_and_lines_are_found() {
        let src = "é\r\nab\tc";
        assert_eq!(line_column(src, 0), (1, 1));
        assert_eq!(line_column(src, 2), (1, 2));
        assert_eq!(line_column(src, 6), (2, 3));
        assert_eq!(source_line(src, 1), "é");
        let err = ParseError::at(src, 7, "`c`".into(), vec![], "m".into());
        assert!(err.render(src).ends_with("2 | ab\tc\n  |   \t^"));
    }

    #[test]
    fn a_long_line_is_shown_around_the_caret() {
        // Issue 12, finding 13: "input too long" echoed a 2.9 MB line whole.
        let src = format!("{}X{}", "a".repeat(3_000_000), "b".repeat(500));
        let err = ParseError::at(&src, 3_000_000, "`X`".into(), vec![], "m".into());
        let text = err.render(&src);
        let want =
            format!("1 | …{}X{}…\n  |  {}^", "a".repeat(CONTEXT), "b".repeat(CONTEXT), " ".repeat(CONTEXT));
        assert!(text.ends_with(&want), "{text}");
        assert!(text.len() < 400);
        // At the start of a long line: no cut on the left.
        let err = ParseError::at(&src, 0, "`a`".into(), vec![], "input too long".into());
        assert!(err.render(&src).ends_with(&format!("1 | {}…\n  | ^", "a".repeat(CONTEXT + 1))));
    }

    #[test]
    fn joins_alternatives() {
        let items: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        assert_eq!(join_alternatives(&items[..1]), "a");
        assert_eq!(join_alternatives(&items[..2]), "a or b");
        assert_eq!(join_alternatives(&items), "a, b or c");
    }
}
