//! Reading what the user types: a forgiving scanner over the query
//! language's lexical shapes (it never fails, so it works on half-typed
//! input for highlighting and completion), the test for "this statement is
//! finished" (it ends at a `;` outside strings and comments), splitting a
//! chunk into statements with their offsets, and gathering lines into
//! meta commands and statements.

/// What a piece of input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Space,
    Comment,
    /// A bare word that is a keyword of the language.
    Keyword,
    /// Any other word (variables, labels, property names, function names).
    Ident,
    /// A backtick-quoted name.
    Quoted,
    Str,
    Number,
    /// `@key` or `@"Name"`.
    Entity,
    /// `$name`.
    Param,
    Punct,
}

/// A classified byte range of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    pub class: Class,
    pub start: usize,
    pub end: usize,
    /// A string, quoted name or block comment that runs to the end unclosed.
    pub open: bool,
}

/// The keywords of the language (grammar/claimgraph.ebnf), upper case.
pub const KEYWORDS: &[&str] = &[
    "ABOUT",
    "ALL",
    "ANALYZE",
    "AND",
    "AS",
    "ASC",
    "ASSERT",
    "AT",
    "BECAUSE",
    "BEGIN",
    "BETWEEN",
    "BY",
    "CASE",
    "COMMIT",
    "CONFLICTS",
    "CONTAINS",
    "CREATE",
    "DESC",
    "DISTINCT",
    "DOCUMENT",
    "DURING",
    "ELSE",
    "END",
    "ENDS",
    "ENTITIES",
    "ENTITY",
    "EXPLAIN",
    "FALSE",
    "FOR",
    "HISTORY",
    "IN",
    "INCLUDE",
    "INTO",
    "IS",
    "KIND",
    "LIKE",
    "LIMIT",
    "MATCH",
    "MERGE",
    "MESSAGE",
    "NOT",
    "NULL",
    "OF",
    "OR",
    "ORDER",
    "PREDICATE",
    "PREDICATES",
    "PROFILE",
    "RETRACT",
    "RETRACTED",
    "RETURN",
    "ROLLBACK",
    "SHOW",
    "SKIP",
    "SOURCES",
    "STARTS",
    "STATS",
    "SYSTEM_TIME",
    "THEN",
    "TRUE",
    "TX",
    "UNION",
    "UNMERGE",
    "UNWIND",
    "VALID",
    "VALID_TIME",
    "WHEN",
    "WHERE",
    "WITH",
    "XOR",
];

/// Whether `word` is a keyword (case-insensitively).
pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word))
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

struct Scanner<'s> {
    src: &'s str,
    pos: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.src[self.pos..].chars().nth(n)
    }

    fn bump(&mut self) {
        if let Some(c) = self.peek() {
            self.pos += c.len_utf8();
        }
    }

    fn eat_while(&mut self, f: impl Fn(char) -> bool) {
        while self.peek().is_some_and(&f) {
            self.bump();
        }
    }

    /// A quoted run closed by `quote`; backslash escapes unless `doubled`
    /// (backticks close on a lone backtick, `` `` `` stands for one).
    fn quoted(&mut self, quote: char, doubled: bool) -> bool {
        self.bump();
        while let Some(c) = self.peek() {
            self.bump();
            if c == '\\' && !doubled {
                self.bump();
            } else if c == quote {
                if doubled && self.peek() == Some(quote) {
                    self.bump();
                } else {
                    return false;
                }
            }
        }
        true
    }

    fn number(&mut self) {
        self.eat_while(|c| c.is_ascii_digit());
        loop {
            let next = self.peek_at(1);
            match self.peek() {
                Some('-' | ':' | '.' | 'T' | '+') if next.is_some_and(|c| c.is_ascii_digit()) => {
                    self.bump();
                    self.eat_while(|c| c.is_ascii_digit());
                }
                Some('Z') => {
                    self.bump();
                    return;
                }
                Some('e' | 'E') if next.is_some_and(|c| c.is_ascii_digit() || c == '-' || c == '+') => {
                    self.bump();
                    self.bump();
                    self.eat_while(|c| c.is_ascii_digit());
                }
                _ => return,
            }
        }
    }

    fn next_piece(&mut self) -> Option<Piece> {
        let start = self.pos;
        let c = self.peek()?;
        let mut open = false;
        let class = match c {
            c if c.is_whitespace() => {
                self.eat_while(char::is_whitespace);
                Class::Space
            }
            '/' if self.peek_at(1) == Some('/') => {
                self.eat_while(|c| c != '\n');
                Class::Comment
            }
            '-' if self.peek_at(1) == Some('-') => {
                self.eat_while(|c| c != '\n');
                Class::Comment
            }
            '/' if self.peek_at(1) == Some('*') => {
                self.bump();
                self.bump();
                open = true;
                while self.peek().is_some() {
                    if self.src[self.pos..].starts_with("*/") {
                        self.pos += 2;
                        open = false;
                        break;
                    }
                    self.bump();
                }
                Class::Comment
            }
            '\'' | '"' => {
                open = self.quoted(c, false);
                Class::Str
            }
            '`' => {
                open = self.quoted('`', true);
                Class::Quoted
            }
            '@' => {
                self.bump();
                match self.peek() {
                    Some(q @ ('\'' | '"')) => open = self.quoted(q, false),
                    Some('`') => open = self.quoted('`', true),
                    _ => self.eat_while(is_word_char),
                }
                Class::Entity
            }
            '$' => {
                self.bump();
                self.eat_while(is_word_char);
                Class::Param
            }
            c if c.is_ascii_digit() => {
                self.number();
                Class::Number
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                self.eat_while(is_word_char);
                if is_keyword(&self.src[start..self.pos]) { Class::Keyword } else { Class::Ident }
            }
            _ => {
                let two = &self.src[self.pos..];
                if ["->", "<-", "..", "<>", "!=", "<=", ">="].iter().any(|p| two.starts_with(p)) {
                    self.pos += 2;
                } else {
                    self.bump();
                }
                Class::Punct
            }
        };
        Some(Piece { class, start, end: self.pos, open })
    }
}

/// Classifies all of `src`. Words used as property names (`a.kind`), labels
/// and predicates (`:in`) or map keys (`{by: …}`) are never keywords.
pub fn scan(src: &str) -> Vec<Piece> {
    let mut s = Scanner { src, pos: 0 };
    let mut pieces = Vec::new();
    while let Some(p) = s.next_piece() {
        pieces.push(p);
    }
    for i in 0..pieces.len() {
        if pieces[i].class != Class::Keyword {
            continue;
        }
        let prev = pieces[..i].iter().rev().find(|p| !matches!(p.class, Class::Space | Class::Comment));
        let next = pieces[i + 1..].iter().find(|p| !matches!(p.class, Class::Space | Class::Comment));
        let text = |p: &Piece| &src[p.start..p.end];
        let after_dot_or_colon = prev.is_some_and(|p| matches!(text(p), "." | ":" | "|"));
        let before_colon = next.is_some_and(|p| text(p) == ":");
        if after_dot_or_colon || before_colon {
            pieces[i].class = Class::Ident;
        }
    }
    pieces
}

/// What `src` leaves open at its end: the quote of an unclosed string or
/// quoted name (`'`, `"`, `` ` ``), or `*` for a block comment.
pub fn open_quote(src: &str) -> Option<char> {
    let p = scan(src).into_iter().rfind(|p| p.open)?;
    let text = &src[p.start..p.end];
    let text = text.strip_prefix('@').unwrap_or(text);
    if text.starts_with("/*") { Some('*') } else { text.chars().next() }
}

/// Whether `src` holds finished statements: it ends with a `;` outside any
/// string, quoted name or comment.
pub fn is_complete(src: &str) -> bool {
    let pieces = scan(src);
    if pieces.iter().any(|p| p.open) {
        return false;
    }
    pieces
        .iter()
        .rev()
        .find(|p| !matches!(p.class, Class::Space | Class::Comment))
        .is_some_and(|p| &src[p.start..p.end] == ";")
}

/// One statement of a chunk of input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk<'s> {
    /// The statement, from its first token up to (not including) its `;`.
    pub text: &'s str,
    /// Byte offset of `text` in the input.
    pub start: usize,
    /// The whitespace and comments before it.
    pub leading: &'s str,
}

/// Splits input into statements at each `;` outside strings and comments,
/// dropping empty ones.
pub fn split(src: &str) -> Vec<Chunk<'_>> {
    let mut out = Vec::new();
    let mut seg_start = 0;
    let mut first_token: Option<usize> = None;
    let mut last_end = 0;
    let mut push = |seg_start: usize, first: Option<usize>, end: usize| {
        if let Some(first) = first {
            out.push(Chunk {
                text: src[first..end].trim_end(),
                start: first,
                leading: &src[seg_start..first],
            });
        }
    };
    for p in scan(src) {
        match p.class {
            Class::Space | Class::Comment => {}
            Class::Punct if &src[p.start..p.end] == ";" => {
                push(seg_start, first_token, last_end);
                seg_start = p.end;
                first_token = None;
            }
            _ => {
                first_token.get_or_insert(p.start);
                last_end = p.end;
            }
        }
    }
    push(seg_start, first_token, last_end);
    out
}

/// 1-based line number of byte `offset` in `src`.
pub fn line_of(src: &str, offset: usize) -> usize {
    src.get(..offset).map_or(1, |s| s.matches('\n').count() + 1)
}

/// What a line (or the end of input) completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A `:` command (or `\q`), on one line.
    Meta(String),
    /// One or more statements, each ended by `;`.
    Statements(String),
}

/// Gathers lines into meta commands and finished statements.
#[derive(Debug, Default)]
pub struct Gather {
    pending: String,
}

impl Gather {
    /// The lines of an unfinished statement so far.
    pub fn pending(&self) -> &str {
        &self.pending
    }

    pub fn clear(&mut self) {
        self.pending.clear();
    }

    /// Takes one line; returns what it completed, if anything.
    pub fn line(&mut self, line: &str) -> Option<Input> {
        let trimmed = line.trim();
        if self.pending.is_empty() {
            if trimmed.is_empty() {
                return None;
            }
            if trimmed.starts_with(':') || trimmed.starts_with('\\') {
                return Some(Input::Meta(trimmed.trim_end_matches(';').trim_end().to_string()));
            }
        }
        self.pending.push_str(line);
        self.pending.push('\n');
        if is_complete(&self.pending) {
            return Some(Input::Statements(std::mem::take(&mut self.pending)));
        }
        // Only comments so far: nothing to wait for.
        if scan(&self.pending).iter().all(|p| matches!(p.class, Class::Space | Class::Comment) && !p.open) {
            self.pending.clear();
        }
        None
    }

    /// The end of input: an unfinished statement is run as it is.
    pub fn finish(&mut self) -> Option<Input> {
        let rest = std::mem::take(&mut self.pending);
        (!rest.trim().is_empty()).then_some(Input::Statements(rest))
    }
}

#[cfg(test)]
mod tests {
    /// The REPL completes and highlights exactly the grammar's keywords: every
    /// upper-case word the grammar quotes (one-letter ones are the `T`/`Z`
    /// of timestamps) and nothing else.
    #[test]
    fn the_keywords_are_the_grammars() {
        let grammar = include_str!("../../grammar/claimgraph.ebnf");
        // Every `'WORD'`: a quote, two or more of A-Z and `_`, a quote.
        let mut quoted: Vec<&str> = Vec::new();
        let bytes = grammar.as_bytes();
        for (i, _) in grammar.match_indices('\'') {
            let word_len =
                bytes[i + 1..].iter().take_while(|b| b.is_ascii_uppercase() || **b == b'_').count();
            if word_len > 1 && bytes.get(i + 1 + word_len) == Some(&b'\'') {
                quoted.push(&grammar[i + 1..i + 1 + word_len]);
            }
        }
        quoted.sort_unstable();
        quoted.dedup();
        assert!(quoted.len() > 50, "read only {} keywords from the grammar", quoted.len());
        let missing: Vec<&&str> = quoted.iter().filter(|w| !KEYWORDS.contains(w)).collect();
        assert!(missing.is_empty(), "grammar keywords the REPL does not know: {missing:?}");
        let extra: Vec<&&str> = KEYWORDS.iter().filter(|k| !quoted.contains(k)).collect();
        assert!(extra.is_empty(), "REPL keywords the grammar does not have: {extra:?}");
    }

    use super::*;

    fn classes(src: &str) -> Vec<(Class, &str)> {
        scan(src)
            .into_iter()
            .filter(|p| p.class != Class::Space)
            .map(|p| (p.class, &src[p.start..p.end]))
            .collect()
    }

    #[test]
    fn scans_the_shapes_of_the_language() {
        use Class::*;
        assert_eq!(
            classes(
                "MATCH (a:Person)-[c:in]->(@russia) WHERE c.kind = 'x;' AND a.d > 2025-03-04 RETURN $p -- c"
            ),
            [
                (Keyword, "MATCH"),
                (Punct, "("),
                (Ident, "a"),
                (Punct, ":"),
                (Ident, "Person"),
                (Punct, ")"),
                (Punct, "-"),
                (Punct, "["),
                (Ident, "c"),
                (Punct, ":"),
                (Ident, "in"),
                (Punct, "]"),
                (Punct, "->"),
                (Punct, "("),
                (Entity, "@russia"),
                (Punct, ")"),
                (Keyword, "WHERE"),
                (Ident, "c"),
                (Punct, "."),
                (Ident, "kind"),
                (Punct, "="),
                (Str, "'x;'"),
                (Keyword, "AND"),
                (Ident, "a"),
                (Punct, "."),
                (Ident, "d"),
                (Punct, ">"),
                (Number, "2025-03-04"),
                (Keyword, "RETURN"),
                (Param, "$p"),
                (Comment, "-- c"),
            ]
        );
        assert_eq!(
            classes("@\"United States\" 1..3"),
            [
                (Class::Entity, "@\"United States\""),
                (Class::Number, "1"),
                (Class::Punct, ".."),
                (Class::Number, "3")
            ]
        );
        assert_eq!(classes("{by: @x}")[1], (Class::Ident, "by"));
    }

    #[test]
    fn the_open_quote_at_the_end_is_named() {
        assert_eq!(open_quote("HISTORY @\"Uni"), Some('"'));
        assert_eq!(open_quote("MATCH (a) WHERE a.name = 'Bel\n"), Some('\''));
        assert_eq!(open_quote("MATCH (a) /* note"), Some('*'));
        assert_eq!(open_quote("MATCH (a) WHERE a.name = 'Bel' RETURN a"), None);
    }

    #[test]
    fn statements_end_at_a_semicolon_outside_strings_and_comments() {
        assert!(is_complete("STATS;"));
        assert!(is_complete("MATCH (a)\nRETURN a;  -- done\n"));
        assert!(!is_complete("MATCH (a)\nRETURN a"));
        assert!(!is_complete("MATCH (a) WHERE a.name = 'x;"));
        assert!(!is_complete("MATCH (a) RETURN a; /* open"));
        assert!(!is_complete("MATCH (a) RETURN a -- ;"));
        assert!(is_complete("RETURN `a;b`;"));
    }

    #[test]
    fn splits_statements_with_offsets() {
        let src = "-- head\nSTATS;\n\n  MATCH (a)\n  RETURN a ;;";
        let parts = split(src);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].text, "STATS");
        assert_eq!(parts[0].leading, "-- head\n");
        assert_eq!(parts[1].text, "MATCH (a)\n  RETURN a");
        assert_eq!(line_of(src, parts[1].start), 4);
        assert_eq!(split("MATCH (a) RETURN 'a;b'")[0].text, "MATCH (a) RETURN 'a;b'");
    }

    #[test]
    fn gathers_lines_into_commands_and_statements() {
        let mut g = Gather::default();
        assert_eq!(g.line(":timing off;"), Some(Input::Meta(":timing off".into())));
        assert_eq!(g.line("MATCH (a)"), None);
        assert_eq!(g.pending(), "MATCH (a)\n");
        assert_eq!(g.line(":not a command here"), None);
        assert_eq!(
            g.line("RETURN a;"),
            Some(Input::Statements("MATCH (a)\n:not a command here\nRETURN a;\n".into()))
        );
        assert_eq!(g.line("-- just a comment"), None);
        assert_eq!(g.pending(), "");
        assert_eq!(g.line("STATS"), None);
        assert_eq!(g.finish(), Some(Input::Statements("STATS\n".into())));
    }
}
