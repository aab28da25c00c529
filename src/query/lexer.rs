//! Lexer: source text to tokens with byte spans.
//!
//! Owns the lexical grammar: identifiers (bare or backtick-quoted), numbers,
//! bare dates and timestamps, strings and their escapes, `@` entity
//! references, `$` parameters, punctuation, and the trivia skipped between
//! tokens (whitespace, `//` and `--` line comments, `/* */` block comments).
//! Keywords are not tokens of their own: they are bare identifiers that the
//! parser compares case-insensitively, so `MATCHx` is simply an identifier.
//!
//! Lexing stops at the first bad token; the tokens before it are kept so that
//! an earlier syntax error can still be reported first.

use crate::query::ast::{DateLit, Span, Timestamp};
use crate::query::time::{self, TimestampParts};

/// A token's kind and payload.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A bare identifier, which may be a keyword.
    Ident(String),
    /// A backtick-quoted identifier, never a keyword.
    Quoted(String),
    /// An unsigned integer.
    Int(i64),
    /// An unsigned finite float.
    Float(f64),
    /// A string literal, escapes resolved.
    Str(String),
    /// A bare date `YYYY-MM` or `YYYY-MM-DD` (a bare year lexes as `Int`).
    Date(DateLit),
    /// A timestamp.
    Timestamp(Timestamp),
    /// `$name`
    Param(String),
    /// `@key`
    EntityKey(String),
    /// `@"Name"`
    EntityName(String),
    /// Punctuation and operators.
    Punct(&'static str),
    /// End of the tokens (or the place lexing stopped).
    Eof,
}

/// A token with its span.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub span: Span,
}

/// Why lexing stopped early.
#[derive(Debug, Clone)]
pub(crate) struct LexError {
    pub offset: usize,
    pub found: String,
    pub expected: Vec<String>,
    pub message: String,
}

/// The result of lexing: tokens (always ending in `Eof`) and maybe an error.
pub(crate) struct Lexed {
    pub tokens: Vec<Token>,
    pub error: Option<LexError>,
}

/// Two-character punctuation, tried before single characters.
const PUNCT2: [&str; 6] = ["..", "<>", "!=", "<=", ">=", "=~"];

/// Single-character punctuation.
const PUNCT1: [&str; 20] =
    ["(", ")", "[", "]", "{", "}", ",", ";", ":", ".", "|", "*", "+", "-", "/", "%", "=", "<", ">", "^"];

const TIMESTAMP_SHAPE: &str = "`YYYY-MM-DDTHH:MM:SS[.ffffff]` and `Z` or `+HH:MM`";

/// Splits `src` into tokens.
pub(crate) fn tokenize(src: &str) -> Lexed {
    let mut lexer = Lexer { src, pos: 0, tokens: Vec::new() };
    let error = lexer.run().err();
    let end = match &error {
        Some(e) => e.offset,
        None => lexer.tokens.last().map_or(0, |t| t.span.end),
    };
    lexer.tokens.push(Token { tok: Tok::Eof, span: Span::new(end, end) });
    Lexed { tokens: lexer.tokens, error }
}

/// How a token is shown as "found" in messages: its source text in
/// backticks (shortened), or `end of input`.
pub(crate) fn describe(src: &str, token: &Token) -> String {
    if token.tok == Tok::Eof {
        return "end of input".to_string();
    }
    let text = src.get(token.span.start..token.span.end).unwrap_or("");
    quote_snippet(text)
}

/// Wraps the first line of `text` in backticks, shortened to 24 characters.
fn quote_snippet(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    let short: String = line.chars().take(24).collect();
    let cut = short.len() < text.len();
    format!("`{short}{}`", if cut { "…" } else { "" })
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

struct Lexer<'s> {
    src: &'s str,
    pos: usize,
    tokens: Vec<Token>,
}

type LexResult<T> = Result<T, LexError>;

impl Lexer<'_> {
    fn run(&mut self) -> LexResult<()> {
        loop {
            self.skip_trivia()?;
            if self.pos >= self.src.len() {
                return Ok(());
            }
            let start = self.pos;
            let tok = self.token()?;
            let span = Span::new(start, self.pos);
            self.tokens.push(Token { tok, span });
        }
    }

    fn byte(&self, at: usize) -> u8 {
        self.src.as_bytes().get(at).copied().unwrap_or(0)
    }

    fn char_at(&self, at: usize) -> Option<char> {
        self.src.get(at..).and_then(|s| s.chars().next())
    }

    fn scan_while(&self, mut at: usize, pred: fn(u8) -> bool) -> usize {
        while at < self.src.len() && pred(self.byte(at)) {
            at += 1;
        }
        at
    }

    fn error(&self, offset: usize, expected: &[&str], message: String) -> LexError {
        let found = match self.char_at(offset) {
            Some(c) => quote_snippet(&c.to_string()),
            None => "end of input".to_string(),
        };
        let expected = expected.iter().map(|s| s.to_string()).collect();
        LexError { offset, found, expected, message }
    }

    /// Whether the `--` at `at` is part of a Cypher arrow (`-->`, `<--`,
    /// `)--(`) rather than a comment: followed by `>` or `(`, or after `<`.
    fn arrow_at(&self, at: usize) -> bool {
        matches!(self.byte(at + 2), b'>' | b'(') || (at > 0 && self.byte(at - 1) == b'<')
    }

    fn skip_trivia(&mut self) -> LexResult<()> {
        while let Some(c) = self.char_at(self.pos) {
            let rest = &self.src[self.pos..];
            if c.is_whitespace() {
                self.pos += c.len_utf8();
            } else if rest.starts_with("//") || (rest.starts_with("--") && !self.arrow_at(self.pos)) {
                self.pos += rest.find('\n').unwrap_or(rest.len());
            } else if let Some(body) = rest.strip_prefix("/*") {
                let Some(close) = body.find("*/") else {
                    let msg = "unterminated block comment".to_string();
                    return Err(self.error(self.pos, &["`*/`"], msg));
                };
                self.pos += close + 4;
            } else {
                break;
            }
        }
        Ok(())
    }

    fn token(&mut self) -> LexResult<Tok> {
        let start = self.pos;
        let b = self.byte(start);
        match b {
            _ if is_ident_start(b) => Ok(Tok::Ident(self.bare_ident(start))),
            b'`' => self.quoted_ident(start).map(Tok::Quoted),
            b'0'..=b'9' => self.number(start),
            // `.5`: a float without integer digits, as Cypher allows.
            b'.' if self.byte(start + 1).is_ascii_digit() => {
                let mut end = self.scan_while(start + 1, |b| b.is_ascii_digit());
                if let Some(exp_end) = self.exponent(end) {
                    end = exp_end;
                }
                self.finish_number(start, end, true)
            }
            b'\'' | b'"' => self.string(start).map(Tok::Str),
            b'@' => self.entity_ref(start),
            b'$' => self.param(start),
            _ => self.punct(start),
        }
    }

    fn bare_ident(&mut self, start: usize) -> String {
        self.pos = self.scan_while(start, is_ident_char);
        self.src[start..self.pos].to_string()
    }

    fn quoted_ident(&mut self, start: usize) -> LexResult<String> {
        let mut out = String::new();
        let mut at = start + 1;
        loop {
            match self.char_at(at) {
                None => {
                    let msg = "unterminated quoted identifier".to_string();
                    return Err(self.error(start, &["closing `` ` ``"], msg));
                }
                Some('`') if self.byte(at + 1) == b'`' => {
                    out.push('`');
                    at += 2;
                }
                Some('`') => break,
                Some(c) => {
                    out.push(c);
                    at += c.len_utf8();
                }
            }
        }
        if out.is_empty() {
            let msg = "empty quoted identifier".to_string();
            return Err(self.error(start, &["an identifier"], msg));
        }
        self.pos = at + 1;
        Ok(out)
    }

    fn punct(&mut self, start: usize) -> LexResult<Tok> {
        let rest = &self.src[start..];
        let found = PUNCT2.iter().chain(PUNCT1.iter()).find(|p| rest.starts_with(**p));
        match found {
            Some(p) => {
                self.pos = start + p.len();
                Ok(Tok::Punct(p))
            }
            None => {
                let c = self.char_at(start).unwrap_or('?');
                Err(self.error(start, &[], format!("unexpected character `{c}`")))
            }
        }
    }

    fn param(&mut self, start: usize) -> LexResult<Tok> {
        let end = self.scan_while(start + 1, is_ident_char);
        if end == start + 1 {
            let msg = "expected a parameter name after `$`".to_string();
            return Err(self.error(start + 1, &["a parameter name"], msg));
        }
        self.pos = end;
        Ok(Tok::Param(self.src[start + 1..end].to_string()))
    }

    fn entity_ref(&mut self, start: usize) -> LexResult<Tok> {
        let at = start + 1;
        match self.byte(at) {
            b if is_ident_start(b) => Ok(Tok::EntityKey(self.bare_ident(at))),
            b'`' => self.quoted_ident(at).map(Tok::EntityKey),
            b'\'' | b'"' => self.string(at).map(Tok::EntityName),
            _ => {
                let msg = "expected an entity key or a quoted name after `@`".to_string();
                Err(self.error(at, &["an entity key", "a quoted name"], msg))
            }
        }
    }

    fn string(&mut self, start: usize) -> LexResult<String> {
        let quote = char::from(self.byte(start));
        let mut out = String::new();
        let mut at = start + 1;
        loop {
            match self.char_at(at) {
                None => {
                    let closing = format!("closing `{quote}`");
                    let mut err = self.error(at, &[&closing], String::new());
                    err.offset = start;
                    err.message = format!("unterminated string: expected {closing}, found end of input");
                    return Err(err);
                }
                Some(c) if c == quote => break,
                Some('\\') => {
                    let (c, next) = self.escape(at)?;
                    out.push(c);
                    at = next;
                }
                Some(c) => {
                    out.push(c);
                    at += c.len_utf8();
                }
            }
        }
        self.pos = at + 1;
        Ok(out)
    }

    /// Resolves the escape whose backslash is at `at`: the char and where
    /// the string continues.
    fn escape(&self, at: usize) -> LexResult<(char, usize)> {
        let simple = match self.char_at(at + 1) {
            Some('\\') => '\\',
            Some('\'') => '\'',
            Some('"') => '"',
            Some('n') => '\n',
            Some('t') => '\t',
            Some('r') => '\r',
            Some('u') => return self.unicode_escape(at),
            other => return Err(self.bad_escape(at, other)),
        };
        Ok((simple, at + 2))
    }

    fn bad_escape(&self, at: usize, next: Option<char>) -> LexError {
        let shown = next.map_or(String::from("\\"), |c| format!("\\{c}"));
        let expected = ["`\\\\`", "`\\'`", "`\\\"`", "`\\n`", "`\\t`", "`\\r`", "`\\u{...}`"];
        let mut err = self.error(at, &expected, format!("invalid escape `{shown}` in string"));
        err.found = format!("`{shown}`");
        err
    }

    fn unicode_escape(&self, at: usize) -> LexResult<(char, usize)> {
        let open = at + 2;
        let digits_end = self.scan_while(open + 1, |b| b.is_ascii_hexdigit());
        let n = digits_end - open - 1;
        let valid_shape = self.byte(open) == b'{' && self.byte(digits_end) == b'}' && (1..=6).contains(&n);
        let value = valid_shape
            .then(|| u32::from_str_radix(&self.src[open + 1..digits_end], 16).ok())
            .flatten()
            .and_then(char::from_u32);
        match value {
            Some(c) => Ok((c, digits_end + 1)),
            None => {
                let end = if valid_shape { digits_end + 1 } else { open };
                let shown = self.src.get(at..end).unwrap_or("\\u");
                let msg = format!("invalid unicode escape `{shown}` in string");
                let mut err =
                    self.error(at, &["`\\u{` and 1 to 6 hex digits of a Unicode scalar value `}`"], msg);
                err.found = format!("`{shown}`");
                Err(err)
            }
        }
    }

    fn number(&mut self, start: usize) -> LexResult<Tok> {
        if self.byte(start) == b'0' && matches!(self.byte(start + 1), b'x' | b'X' | b'o' | b'O') {
            return self.radix_number(start);
        }
        let digits_end = self.scan_while(start, |b| b.is_ascii_digit());
        if digits_end - start == 4 && self.two_digit_part(digits_end) {
            return self.date(start);
        }
        let mut end = digits_end;
        let mut float = false;
        if self.byte(end) == b'.' && self.byte(end + 1).is_ascii_digit() {
            end = self.scan_while(end + 1, |b| b.is_ascii_digit());
            float = true;
        }
        if let Some(exp_end) = self.exponent(end) {
            end = exp_end;
            float = true;
        }
        self.finish_number(start, end, float)
    }

    /// A hexadecimal (`0x1F`) or octal (`0o17`) integer, as in Cypher.
    fn radix_number(&mut self, start: usize) -> LexResult<Tok> {
        let hex = matches!(self.byte(start + 1), b'x' | b'X');
        let (radix, what) = if hex { (16, "hexadecimal") } else { (8, "octal") };
        let digit: fn(u8) -> bool =
            if hex { |b| b.is_ascii_hexdigit() } else { |b| (b'0'..=b'7').contains(&b) };
        let end = self.scan_while(start + 2, digit);
        if end == start + 2 {
            let msg = format!("invalid {what} number: no digits after `{}`", &self.src[start..start + 2]);
            return Err(self.error(start, &[], msg));
        }
        self.end_literal(end)?;
        let text = &self.src[start + 2..end];
        i64::from_str_radix(text, radix).map(Tok::Int).map_err(|_| {
            let lit = &self.src[start..end];
            self.error(start, &[], format!("integer `{lit}` is too large (maximum {})", i64::MAX))
        })
    }

    /// End of an exponent `e[+-]digits` starting at `at`, if there is one.
    fn exponent(&self, at: usize) -> Option<usize> {
        if !matches!(self.byte(at), b'e' | b'E') {
            return None;
        }
        let digits = if matches!(self.byte(at + 1), b'+' | b'-') { at + 2 } else { at + 1 };
        self.byte(digits).is_ascii_digit().then(|| self.scan_while(digits, |b| b.is_ascii_digit()))
    }

    /// Ends a numeric literal at `end`, which must not run into a word.
    fn end_literal(&mut self, end: usize) -> LexResult<()> {
        if is_ident_char(self.byte(end)) {
            let msg = "invalid number: a letter or `_` follows the digits".to_string();
            return Err(self.error(end, &[], msg));
        }
        self.pos = end;
        Ok(())
    }

    fn finish_number(&mut self, start: usize, end: usize, float: bool) -> LexResult<Tok> {
        self.end_literal(end)?;
        let text = &self.src[start..end];
        if float {
            match text.parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(Tok::Float(f)),
                _ => Err(self.error(start, &[], format!("float `{text}` is out of range"))),
            }
        } else {
            text.parse::<i64>().map(Tok::Int).map_err(|_| {
                self.error(start, &[], format!("integer `{text}` is too large (maximum {})", i64::MAX))
            })
        }
    }

    /// Whether `-DD` (exactly two digits) starts at `at`.
    fn two_digit_part(&self, at: usize) -> bool {
        self.byte(at) == b'-'
            && self.byte(at + 1).is_ascii_digit()
            && self.byte(at + 2).is_ascii_digit()
            && !self.byte(at + 3).is_ascii_digit()
    }

    fn digits_value(&self, at: usize, len: usize) -> u32 {
        self.src.as_bytes()[at..at + len].iter().fold(0, |acc, b| acc * 10 + u32::from(b - b'0'))
    }

    fn date(&mut self, start: usize) -> LexResult<Tok> {
        let year = self.digits_value(start, 4) as i32;
        let month = Some(self.digits_value(start + 5, 2) as u8);
        let (day, end) = if self.two_digit_part(start + 7) {
            (Some(self.digits_value(start + 8, 2) as u8), start + 10)
        } else {
            (None, start + 7)
        };
        let date = DateLit { year, month, day };
        if let Err(why) = time::check_date(&date) {
            let text = &self.src[start..end];
            return Err(self.error(start, &[], format!("invalid date `{text}`: {why}")));
        }
        let time_follows = matches!(self.byte(end), b'T' | b't') && self.byte(end + 1).is_ascii_digit();
        if day.is_some() && time_follows {
            return self.timestamp(start, date, end + 1);
        }
        self.end_literal(end).map(|()| Tok::Date(date))
    }

    fn two_digits(&self, at: usize) -> Option<u8> {
        let (a, b) = (self.byte(at), self.byte(at + 1));
        (a.is_ascii_digit() && b.is_ascii_digit()).then(|| (a - b'0') * 10 + (b - b'0'))
    }

    fn timestamp(&mut self, start: usize, date: DateLit, at: usize) -> LexResult<Tok> {
        let malformed = |lexer: &Self| {
            let msg = format!("malformed timestamp: expected {TIMESTAMP_SHAPE}");
            lexer.error(start, &[], msg)
        };
        let (parts, end) = self.timestamp_parts(date, at).ok_or_else(|| malformed(self))?;
        let ts = time::timestamp_from_parts(&parts).map_err(|why| {
            let text = &self.src[start..end];
            self.error(start, &[], format!("invalid timestamp `{text}`: {why}"))
        })?;
        self.end_literal(end).map(|()| Tok::Timestamp(ts))
    }

    /// Reads `HH:MM:SS[.f]` and the zone after the `T` at `at`.
    fn timestamp_parts(&self, date: DateLit, at: usize) -> Option<(TimestampParts, usize)> {
        let h = self.two_digits(at)?;
        let m = (self.byte(at + 2) == b':').then(|| self.two_digits(at + 3))??;
        let s = (self.byte(at + 5) == b':').then(|| self.two_digits(at + 6))??;
        let mut end = at + 8;
        let mut micros = 0;
        if self.byte(end) == b'.' {
            let frac_end = self.scan_while(end + 1, |b| b.is_ascii_digit());
            let n = frac_end - end - 1;
            if !(1..=6).contains(&n) {
                return None;
            }
            micros = self.digits_value(end + 1, n) * 10u32.pow((6 - n) as u32);
            end = frac_end;
        }
        let (offset_minutes, end) = self.zone(end)?;
        let parts = TimestampParts { date, hms: (h, m, s), micros, offset_minutes };
        Some((parts, end))
    }

    fn zone(&self, at: usize) -> Option<(i32, usize)> {
        match self.byte(at) {
            b'Z' | b'z' => Some((0, at + 1)),
            sign @ (b'+' | b'-') => {
                let h = self.two_digits(at + 1)?;
                let m = (self.byte(at + 3) == b':').then(|| self.two_digits(at + 4))??;
                let minutes = i32::from(h) * 60 + i32::from(m);
                Some((if sign == b'-' { -minutes } else { minutes }, at + 6))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        let lexed = tokenize(src);
        assert!(lexed.error.is_none(), "{:?}", lexed.error);
        lexed.tokens.into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn dates_numbers_and_ranges() {
        let d = |year, month, day| Tok::Date(DateLit { year, month, day });
        assert_eq!(
            toks("2025-03 2025-03-04 2025 1..3 0.6 1e-7"),
            vec![
                d(2025, Some(3), None),
                d(2025, Some(3), Some(4)),
                Tok::Int(2025),
                Tok::Int(1),
                Tok::Punct(".."),
                Tok::Int(3),
                Tok::Float(0.6),
                Tok::Float(1e-7),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn comments_are_trivia() {
        let t = toks("a // x\n -- y\n /* z */ b");
        assert_eq!(t, vec![Tok::Ident("a".into()), Tok::Ident("b".into()), Tok::Eof]);
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(toks(r#"'it\'s' "\u{e9}\n""#)[..2], [Tok::Str("it's".into()), Tok::Str("é\n".into())]);
        let err = tokenize(r#"'bad \q'"#).error.unwrap();
        assert_eq!((err.offset, err.message.as_str()), (5, "invalid escape `\\q` in string"));
    }

    #[test]
    fn timestamps() {
        let t = toks("2025-03-05T12:00:00Z 2025-03-05T14:00:00+02:00");
        assert_eq!(t[0], t[1]);
        assert!(tokenize("2025-03-05T12:00Z").error.is_some());
        assert!(tokenize("2025-02-30").error.is_some());
    }
}
