//! The line editor's helper: Tab completion (keywords, `:` commands and
//! their arguments, `@` entity keys and names, predicates after `-[:`, kinds
//! after `(x:`, properties after `c.`, `$` parameters, variables bound
//! earlier in the statement), hints (the rest of a unique completion, a
//! command's arguments, or a line from history) and highlighting (keywords,
//! strings, entities, parameters, numbers, comments).
//!
//! Completion sees the whole statement: the lines already entered (after a
//! `..>` prompt) are kept in [`ReplHelper::pending`].

use std::borrow::Cow;
use std::cell::RefCell;

use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::{Hinter, HistoryHinter};
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

use super::help::TOPICS;
use super::input::{self, Class, KEYWORDS, Piece};
use super::meta::COMMANDS;
use crate::ClaimQuery;
use crate::render::Format;
use crate::store::Store;

/// Properties every claim has (`c.by`, `c.quote`, …).
const CLAIM_PROPERTIES: &[&str] = &[
    "by",
    "confidence",
    "id",
    "object",
    "predicate",
    "quote",
    "recorded_at",
    "retract_reason",
    "retracted_tx",
    "said_at",
    "source",
    "stance",
    "subject",
    "tx",
    "valid_from",
    "valid_to",
];

/// Properties every entity has (documents add the rest).
const ENTITY_PROPERTIES: &[&str] =
    &["aliases", "key", "kind", "language", "name", "published", "publisher", "text", "title", "url"];

/// Functions of the language.
const FUNCTIONS: &[&str] = &[
    "avg",
    "coalesce",
    "collect",
    "count",
    "lower",
    "max",
    "min",
    "size",
    "sum",
    "to_string",
    "upper",
    "year",
];

/// Stores larger than this are not scanned for qualifier names.
const QUALIFIER_SCAN_LIMIT: u64 = 200_000;

/// Names the store knows, for completion.
#[derive(Debug, Default, Clone)]
pub struct Vocabulary {
    /// Key, name and aliases of each entity.
    pub entities: Vec<(String, String, Vec<String>)>,
    pub kinds: Vec<String>,
    pub predicates: Vec<String>,
    pub claim_properties: Vec<String>,
    pub entity_properties: Vec<String>,
}

impl Vocabulary {
    /// Reads the names from the store's current state.
    pub fn of(store: &Store) -> Vocabulary {
        let view = store.snapshot();
        let mut v = Vocabulary {
            claim_properties: CLAIM_PROPERTIES.iter().map(|s| s.to_string()).collect(),
            entity_properties: ENTITY_PROPERTIES.iter().map(|s| s.to_string()).collect(),
            ..Vocabulary::default()
        };
        for e in view.entities().unwrap_or_default() {
            v.kinds.push(e.kind.clone());
            v.entity_properties.extend(e.attrs.keys().cloned());
            v.entities.push((e.key, e.name, e.aliases));
        }
        v.predicates = view.predicates().unwrap_or_default().into_iter().map(|p| p.key).collect();
        let small = view.stats().is_ok_and(|s| s.claims_live + s.claims_retracted <= QUALIFIER_SCAN_LIMIT);
        if small {
            let all = ClaimQuery { include_retracted: true, ..ClaimQuery::default() };
            for c in view.claims(&all).unwrap_or_default() {
                v.claim_properties.extend(c.qualifiers.into_keys());
            }
        }
        for list in [&mut v.kinds, &mut v.predicates, &mut v.claim_properties, &mut v.entity_properties] {
            list.sort();
            list.dedup();
        }
        v.entities.sort();
        v
    }
}

/// The rustyline helper.
pub struct ReplHelper {
    store: Store,
    /// Lines of the statement entered so far.
    pub pending: String,
    /// Names of the session's parameters.
    pub params: Vec<String>,
    pub color: bool,
    vocabulary: RefCell<Option<(u64, Vocabulary)>>,
    files: FilenameCompleter,
    history: HistoryHinter,
}

impl ReplHelper {
    pub fn new(store: Store, color: bool) -> ReplHelper {
        ReplHelper {
            store,
            pending: String::new(),
            params: Vec::new(),
            color,
            vocabulary: RefCell::new(None),
            files: FilenameCompleter::new(),
            history: HistoryHinter::new(),
        }
    }

    /// Completion candidates, read fresh when the store has moved on.
    fn with_vocabulary<T>(&self, f: impl FnOnce(&Vocabulary) -> T) -> T {
        let head = self.store.head();
        let mut cache = self.vocabulary.borrow_mut();
        if cache.as_ref().is_none_or(|(at, _)| *at != head) {
            *cache = Some((head, Vocabulary::of(&self.store)));
        }
        match cache.as_ref() {
            Some((_, v)) => f(v),
            None => f(&Vocabulary::default()),
        }
    }
}

/// A completion: the text it replaces from, and the candidates.
pub type Completion = (usize, Vec<Pair>);

fn pair(display: impl Into<String>, replacement: impl Into<String>) -> Pair {
    Pair { display: display.into(), replacement: replacement.into() }
}

fn significant(pieces: &[Piece]) -> Vec<Piece> {
    pieces.iter().copied().filter(|p| !matches!(p.class, Class::Space | Class::Comment)).collect()
}

/// The innermost bracket still open at the end of `pieces`.
fn open_bracket<'s>(src: &'s str, pieces: &[Piece]) -> Option<&'s str> {
    let mut stack = Vec::new();
    for p in pieces.iter().filter(|p| p.class == Class::Punct) {
        match &src[p.start..p.end] {
            o @ ("(" | "[" | "{") => stack.push(o),
            ")" | "]" | "}" => {
                stack.pop();
            }
            _ => {}
        }
    }
    stack.pop()
}

/// Variables bound in `src`: (name, `(` for nodes or `[` for edges or `` for aliases).
fn variables(src: &str) -> Vec<(String, &'static str)> {
    let pieces = significant(&input::scan(src));
    let text = |p: &Piece| &src[p.start..p.end];
    let mut out: Vec<(String, &'static str)> = Vec::new();
    for (i, p) in pieces.iter().enumerate() {
        if p.class != Class::Ident {
            continue;
        }
        let prev = i.checked_sub(1).map(|j| text(&pieces[j]));
        let next = pieces.get(i + 1).map(text);
        let kind = match (prev, next) {
            (Some("("), _) => "(",
            (Some("["), _) => "[",
            (_, Some("=")) if pieces.get(i + 2).is_some_and(|n| text(n) == "(") => "",
            (Some(w), _) if w.eq_ignore_ascii_case("AS") => "",
            _ => continue,
        };
        let name = text(p).to_string();
        if !out.iter().any(|(n, _)| *n == name) {
            out.push((name, kind));
        }
    }
    out
}

fn keyword_case(word: &str, keyword: &str) -> String {
    let lower = word.chars().any(|c| c.is_ascii_lowercase()) && !word.chars().any(|c| c.is_ascii_uppercase());
    if lower { keyword.to_ascii_lowercase() } else { keyword.to_string() }
}

fn entity_candidates(v: &Vocabulary, word: &str) -> Vec<Pair> {
    let body = &word[1..];
    let quoted = body.chars().next().filter(|c| *c == '"' || *c == '\'');
    let mut out = Vec::new();
    // One candidate per entity (its name, else its first matching alias):
    // two names of one entity would leave only their common prefix, an
    // unclosed quote, where one closed name does the job.
    let names = |prefix: &str, q: char, out: &mut Vec<Pair>| {
        for (key, name, aliases) in &v.entities {
            if let Some(n) =
                std::iter::once(name).chain(aliases).find(|n| n.to_lowercase().starts_with(prefix))
            {
                out.push(pair(format!("@{q}{n}{q}  (@{key})"), format!("@{q}{n}{q}")));
            }
        }
    };
    match quoted {
        Some(q) => names(&body[1..].to_lowercase(), q, &mut out),
        None => {
            let prefix = body.to_lowercase();
            for (key, name, _) in &v.entities {
                if key.starts_with(&prefix) {
                    out.push(pair(format!("@{key}  ({name})"), format!("@{key}")));
                }
            }
            if out.is_empty() && !prefix.is_empty() {
                names(&prefix, '"', &mut out);
            }
        }
    }
    out.sort_by(|a, b| a.replacement.cmp(&b.replacement));
    out.dedup_by(|a, b| a.replacement == b.replacement);
    out
}

fn prefixed<'a>(items: impl IntoIterator<Item = &'a str>, word: &str) -> Vec<Pair> {
    let mut out: Vec<Pair> = items.into_iter().filter(|i| i.starts_with(word)).map(|i| pair(i, i)).collect();
    out.sort_by(|a, b| a.replacement.cmp(&b.replacement));
    out.dedup_by(|a, b| a.replacement == b.replacement);
    out
}

/// Completes the argument of a `:` command.
fn meta_candidates(command: &str, word: &str) -> Vec<Pair> {
    let words: Vec<&str> = match command {
        "help" => TOPICS.iter().map(|t| t.name).collect(),
        "format" => Format::ALL.iter().map(|(n, _)| *n).collect(),
        "timing" | "pager" => vec!["on", "off"],
        "expanded" => vec!["on", "off", "auto"],
        "asof" | "valid" | "max_rows" => vec!["off"],
        "max_width" => vec!["auto"],
        "params" => vec!["clear"],
        _ => Vec::new(),
    };
    prefixed(words, word)
}

/// Completion of `line` at `pos`, `pending` holding the statement's earlier lines.
pub fn complete(v: &Vocabulary, params: &[String], pending: &str, line: &str, pos: usize) -> Completion {
    let before = &line[..pos];
    if pending.trim().is_empty() && before.trim_start().starts_with(':') {
        let t = before.trim_start();
        return match t[1..].split_once(char::is_whitespace) {
            None => {
                let names = COMMANDS.iter().filter(|c| !c.hidden).map(|c| c.name);
                let found = prefixed(names, &t[1..]);
                let found =
                    found.into_iter().map(|p| pair(format!(":{}", p.display), format!(":{}", p.replacement)));
                (pos - t.len(), found.collect())
            }
            Some((command, rest)) => {
                let word = rest.rsplit(char::is_whitespace).next().unwrap_or("");
                (pos - word.len(), meta_candidates(command, word))
            }
        };
    }
    let pieces = input::scan(before);
    let word_piece = pieces.last().filter(|p| {
        p.end == pos && matches!(p.class, Class::Entity | Class::Param | Class::Ident | Class::Keyword)
    });
    let start = word_piece.map_or(pos, |p| p.start);
    let word = &before[start..];
    // The statement so far, from its start (after the last `;`).
    let whole = format!("{pending}{}", &before[..start]);
    let statement = match input::split(&whole).last() {
        Some(c) if !input::is_complete(&whole) => whole[c.start..].to_string(),
        _ => String::new(),
    };
    let context = significant(&input::scan(&statement));
    let text = |p: &Piece| &statement[p.start..p.end];
    let prev = context.last().map(text);
    let found = match word_piece.map(|p| p.class) {
        Some(Class::Entity) => entity_candidates(v, word),
        Some(Class::Param) => prefixed(params.iter().map(|p| p.as_str()), &word[1..])
            .into_iter()
            .map(|p| pair(format!("${}", p.display), format!("${}", p.replacement)))
            .collect(),
        _ => match prev {
            Some(".") => {
                let var =
                    context.len().checked_sub(2).map(|i| text(&context[i]).to_string()).unwrap_or_default();
                let bound = variables(&statement).into_iter().find(|(n, _)| *n == var).map(|(_, k)| k);
                let props: Vec<&str> = match bound {
                    Some("[") => v.claim_properties.iter().map(String::as_str).collect(),
                    Some("(") => v.entity_properties.iter().map(String::as_str).collect(),
                    _ => v.claim_properties.iter().chain(&v.entity_properties).map(String::as_str).collect(),
                };
                prefixed(props, word)
            }
            Some(":") | Some("|") => match open_bracket(&statement, &context) {
                Some("[") => prefixed(v.predicates.iter().map(String::as_str), word),
                Some("(") => prefixed(v.kinds.iter().map(String::as_str), word),
                _ if prev == Some(":")
                    && statement.trim_start().to_ascii_uppercase().starts_with("CREATE") =>
                {
                    prefixed(v.kinds.iter().map(String::as_str), word)
                }
                _ => Vec::new(),
            },
            Some(k) if k.eq_ignore_ascii_case("KIND") => prefixed(v.kinds.iter().map(String::as_str), word),
            _ => {
                let mut out = Vec::new();
                let vars = variables(&statement);
                out.extend(prefixed(vars.iter().map(|(n, _)| n.as_str()), word));
                if !word.is_empty() {
                    let upper = word.to_ascii_uppercase();
                    for k in KEYWORDS.iter().filter(|k| k.starts_with(&upper)) {
                        let k = keyword_case(word, k);
                        out.push(pair(k.clone(), k));
                    }
                    out.extend(prefixed(FUNCTIONS.iter().copied(), word));
                }
                out.dedup_by(|a, b| a.replacement == b.replacement);
                out
            }
        },
    };
    (start, found)
}

/// The hint for `line`: the rest of a unique completion, or a command's arguments.
pub fn hint(v: &Vocabulary, params: &[String], pending: &str, line: &str) -> Option<String> {
    let t = line.trim_start();
    if pending.trim().is_empty() && t.starts_with(':') {
        let body = &t[1..];
        let (name, rest) = body.split_once(' ').unwrap_or((body, ""));
        let command = COMMANDS.iter().find(|c| !c.hidden && c.name == name && !c.args.is_empty());
        if let Some(c) = command {
            if !body.contains(' ') {
                return Some(format!(" {}", c.args));
            }
            if rest.trim().is_empty() {
                return Some(c.args.to_string());
            }
        }
    }
    let (start, found) = complete(v, params, pending, line, line.len());
    let word = &line[start..];
    match found.as_slice() {
        [one]
            if one.replacement.len() > word.len()
                && one.replacement.starts_with(word)
                && !word.is_empty() =>
        {
            Some(one.replacement[word.len()..].to_string())
        }
        _ => None,
    }
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, ctx: &Context<'_>) -> rustyline::Result<Completion> {
        let t = line[..pos].trim_start();
        if self.pending.trim().is_empty() && t.starts_with(":source ") {
            return self.files.complete(line, pos, ctx);
        }
        Ok(self.with_vocabulary(|v| complete(v, &self.params, &self.pending, line, pos)))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;

    fn hint(&self, line: &str, pos: usize, ctx: &Context<'_>) -> Option<String> {
        // Without colour a hint cannot be told from typed text (and Enter
        // would submit only the typed part), so there are none.
        if !self.color || pos < line.len() || line.trim().is_empty() {
            return None;
        }
        self.with_vocabulary(|v| hint(v, &self.params, &self.pending, line))
            .or_else(|| if self.pending.is_empty() { self.history.hint(line, pos, ctx) } else { None })
    }
}

/// ANSI colour of a piece of input.
fn colour(class: Class) -> Option<&'static str> {
    match class {
        Class::Keyword => Some("1;34"),
        Class::Str => Some("32"),
        Class::Entity => Some("36"),
        Class::Param => Some("35"),
        Class::Number => Some("33"),
        Class::Comment => Some("2"),
        _ => None,
    }
}

/// `line` with ANSI colours (same display width).
pub fn highlight_line(line: &str, meta: bool) -> String {
    if meta {
        let t = line.trim_start();
        let lead = line.len() - t.len();
        let end = t.find(char::is_whitespace).map_or(line.len(), |i| lead + i);
        return format!("{}\x1b[1;36m{}\x1b[0m{}", &line[..lead], &line[lead..end], &line[end..]);
    }
    let mut out = String::with_capacity(line.len() + 16);
    for p in input::scan(line) {
        let text = &line[p.start..p.end];
        match colour(p.class) {
            Some(c) => out.push_str(&format!("\x1b[{c}m{text}\x1b[0m")),
            None => out.push_str(text),
        }
    }
    out
}

impl Highlighter for ReplHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if !self.color {
            return Cow::Borrowed(line);
        }
        let meta = self.pending.trim().is_empty() && line.trim_start().starts_with([':', '\\']);
        Cow::Owned(highlight_line(line, meta))
    }

    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(&'s self, prompt: &'p str, _default: bool) -> Cow<'b, str> {
        if self.color { Cow::Owned(format!("\x1b[1;32m{prompt}\x1b[0m")) } else { Cow::Borrowed(prompt) }
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if self.color { Cow::Owned(format!("\x1b[2m{hint}\x1b[0m")) } else { Cow::Borrowed(hint) }
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        self.color
    }
}

/// Statements end at `;`, which the REPL finds itself (so that it can show
/// a `..>` prompt for each further line); every line is accepted as typed.
impl Validator for ReplHelper {}

impl Helper for ReplHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Vocabulary {
        let e = |k: &str, n: &str| (k.to_string(), n.to_string(), Vec::<String>::new());
        Vocabulary {
            entities: vec![
                e("russia", "Russia"),
                e("russia_ukraine_war", "Russia-Ukraine war"),
                e("russian_oligarchs", "Russian oligarchs"),
                e("us", "United States"),
            ],
            kinds: vec!["Country".into(), "Person".into()],
            predicates: vec!["may_ease_sanctions_on".into(), "met_with".into()],
            claim_properties: vec!["by".into(), "hedge".into(), "stance".into()],
            entity_properties: vec!["kind".into(), "name".into()],
        }
    }

    fn replacements(pending: &str, line: &str) -> Vec<String> {
        complete(&vocab(), &["who".into()], pending, line, line.len())
            .1
            .into_iter()
            .map(|p| p.replacement)
            .collect()
    }

    #[test]
    fn a_quoted_name_completes_closed_when_one_entity_matches() {
        let mut v = vocab();
        v.entities[3].2 = vec!["United States of America".into(), "U.S.".into()];
        let got: Vec<String> =
            complete(&v, &[], "", "HISTORY @\"Uni", 13).1.into_iter().map(|p| p.replacement).collect();
        assert_eq!(got, ["@\"United States\""], "one candidate per entity, its quote closed");
        let got: Vec<String> = complete(&v, &[], "", "HISTORY @\"United States o", 25)
            .1
            .into_iter()
            .map(|p| p.replacement)
            .collect();
        assert_eq!(got, ["@\"United States of America\""]);
    }

    #[test]
    fn completes_entities_by_key_and_name() {
        assert_eq!(replacements("", "MATCH (@rus"), ["@russia", "@russia_ukraine_war", "@russian_oligarchs"]);
        assert_eq!(replacements("", "HISTORY @uni"), ["@\"United States\""]);
        assert_eq!(replacements("", "HISTORY @\"uni"), ["@\"United States\""]);
    }

    #[test]
    fn completes_predicates_kinds_properties_and_variables() {
        assert_eq!(replacements("", "MATCH (a)-[c:may"), ["may_ease_sanctions_on"]);
        assert_eq!(replacements("", "MATCH (a)-[:met_with|m"), ["may_ease_sanctions_on", "met_with"]);
        assert_eq!(replacements("", "MATCH (x:Pe"), ["Person"]);
        assert_eq!(replacements("MATCH (a)-[c]->(b)\n", "WHERE c.he"), ["hedge"]);
        assert_eq!(replacements("MATCH (a)-[c]->(b)\n", "WHERE a.k"), ["kind"]);
        // Variables first, then keywords (`all(x IN … WHERE …)` is a quantifier).
        assert_eq!(replacements("MATCH (alpha)-[c]->(b) WHERE ", "al"), ["alpha", "all"]);
        assert_eq!(replacements("MATCH (alpha)-[c]->(b) WHERE ", "alp"), ["alpha"]);
        assert_eq!(replacements("", "MATCH (a) retu"), ["return"]);
        assert_eq!(replacements("", "MATCH (a) WHERE a.x = $w"), ["$who"]);
        assert_eq!(replacements("", ":tim"), [":timing"]);
        assert_eq!(replacements("", ":format j"), ["json", "jsonl"]);
    }

    #[test]
    fn hints_finish_a_unique_word_or_show_arguments() {
        let v = vocab();
        assert_eq!(hint(&v, &[], "", "MATCH (a)-[c:may_e").as_deref(), Some("ase_sanctions_on"));
        assert_eq!(hint(&v, &[], "", ":asof").as_deref(), Some(" [TX|timestamp|off]"));
        assert_eq!(hint(&v, &[], "", ":tim").as_deref(), Some("ing"));
        assert_eq!(hint(&v, &[], "", "MATCH (a)"), None);
    }

    #[test]
    fn highlighting_keeps_the_text() {
        let line = "MATCH (a {n: 'x'}) RETURN @us, $p, 2025 -- c";
        let h = highlight_line(line, false);
        assert!(h.contains("\x1b[1;34mMATCH\x1b[0m"), "{h}");
        let plain: String = {
            let mut s = String::new();
            let mut chars = h.chars();
            while let Some(c) = chars.next() {
                if c == '\x1b' {
                    for d in chars.by_ref() {
                        if d == 'm' {
                            break;
                        }
                    }
                } else {
                    s.push(c);
                }
            }
            s
        };
        assert_eq!(plain, line);
    }
}
