//! Text measured the way a terminal shows it: display widths (wide CJK
//! characters count two columns, combining marks none), word wrapping,
//! truncation with `…`, padding, and the few ANSI styles the views use.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::query::Value;

/// Columns `s` takes on a terminal.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `s` cut to at most `max` columns, ending in `…` when something was cut.
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// `s` padded with spaces to `w` columns (never cut).
pub fn pad(s: &str, w: usize) -> String {
    let have = width(s);
    if have >= w { s.to_string() } else { format!("{s}{}", " ".repeat(w - have)) }
}

/// `s` padded on the left to `w` columns.
pub fn pad_left(s: &str, w: usize) -> String {
    let have = width(s);
    if have >= w { s.to_string() } else { format!("{}{s}", " ".repeat(w - have)) }
}

/// Splits `s` into lines of at most `w` columns: at newlines, then between
/// words, breaking a word only when it is longer than a line. Always returns
/// at least one line; `w == 0` is treated as 1.
pub fn wrap(s: &str, w: usize) -> Vec<String> {
    let w = w.max(1);
    let mut lines = Vec::new();
    for para in s.split('\n') {
        let para = para.trim_end_matches('\r');
        let mut line = String::new();
        let mut used = 0;
        for word in para.split(' ') {
            let ww = width(word);
            let sep = usize::from(!line.is_empty());
            if used + sep + ww <= w {
                if sep == 1 {
                    line.push(' ');
                }
                line.push_str(word);
                used += sep + ww;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // A word longer than a line is broken after `_` or `-` where it
            // can be, else by characters.
            let mut rest = word;
            while width(rest) > w {
                let mut fit = 0;
                let mut used_here = 0;
                let mut soft = None;
                for (i, c) in rest.char_indices() {
                    let cw = c.width().unwrap_or(0);
                    if used_here + cw > w {
                        break;
                    }
                    used_here += cw;
                    fit = i + c.len_utf8();
                    if c == '_' || c == '-' {
                        soft = Some(fit);
                    }
                }
                let cut = soft
                    .filter(|s| *s * 2 >= fit)
                    .unwrap_or(fit.max(rest.chars().next().map_or(1, char::len_utf8)));
                lines.push(rest[..cut].to_string());
                rest = &rest[cut..];
            }
            line.push_str(rest);
            used = width(rest);
        }
        lines.push(line);
    }
    lines
}

/// `wrap`, keeping at most `max_lines` lines; the last kept line ends in `…`
/// when lines were dropped.
pub fn wrap_capped(s: &str, w: usize, max_lines: usize) -> Vec<String> {
    let mut lines = wrap(s, w);
    if lines.len() > max_lines.max(1) {
        lines.truncate(max_lines.max(1));
        if let Some(last) = lines.last_mut() {
            let cut = truncate(last, w.saturating_sub(1).max(1));
            *last = if cut.ends_with('…') { cut } else { format!("{cut}…") };
        }
    }
    lines
}

/// A value as a table cell: entities by name with their key, dates in their
/// own precision, null as `null`.
pub fn cell(v: &Value) -> String {
    v.to_string()
}

/// ANSI styles, applied only when colour is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Bold,
    Dim,
    Red,
    Green,
    Yellow,
    Blue,
    Magenta,
    Cyan,
}

impl Style {
    fn code(self) -> &'static str {
        match self {
            Style::Bold => "1",
            Style::Dim => "2",
            Style::Red => "31",
            Style::Green => "32",
            Style::Yellow => "33",
            Style::Blue => "34",
            Style::Magenta => "35",
            Style::Cyan => "36",
        }
    }
}

/// `s` in `style` when `on`; plain otherwise.
pub fn paint(s: &str, style: Style, on: bool) -> String {
    if on && !s.is_empty() { format!("\x1b[{}m{s}\x1b[0m", style.code()) } else { s.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_count_wide_characters_twice() {
        assert_eq!(width("abc"), 3);
        assert_eq!(width("航空"), 4);
        assert_eq!(width("Russia。"), 8);
    }

    #[test]
    fn truncation_keeps_within_the_width() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
        assert_eq!(truncate("航空航空", 5), "航空…");
        assert_eq!(truncate("abc", 0), "");
    }

    #[test]
    fn wrapping_breaks_between_words_and_inside_long_ones() {
        assert_eq!(wrap("the quick brown fox", 9), ["the quick", "brown fox"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("is_among_largest_producers_of", 20), ["is_among_largest_", "producers_of"]);
        assert_eq!(wrap("a\nb c", 10), ["a", "b c"]);
        assert_eq!(wrap("", 5), [""]);
        assert_eq!(wrap_capped("one two three four", 5, 2), ["one", "two…"]);
        for line in wrap("航空航空航空 x", 3) {
            assert!(width(&line) <= 3, "{line}");
        }
    }

    #[test]
    fn padding_and_paint() {
        assert_eq!(pad("ab", 4), "ab  ");
        assert_eq!(pad_left("ab", 4), "  ab");
        assert_eq!(paint("x", Style::Red, false), "x");
        assert_eq!(paint("x", Style::Red, true), "\x1b[31mx\x1b[0m");
    }
}
