//! The pure half of the openCypher TCK runner: a small Gherkin reader (the
//! subset the TCK uses), `Scenario Outline` expansion, the TCK's value
//! literals and the comparison of result tables. No store, no I/O: unit tests
//! at the bottom cover it, and `runner.rs` drives it against claimgraph.
//!
//! Shared by `examples/tck.rs` and `tests/tck.rs` through `#[path]`, so it is
//! not part of the library's API.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt;

/// A step's keyword after `And` / `But` take the one before them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    Given,
    When,
    Then,
}

/// One step with its doc string and data table, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub keyword: Keyword,
    pub text: String,
    pub doc: Option<String>,
    pub table: Vec<Vec<String>>,
}

/// A runnable scenario (background steps first, outlines already expanded).
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    /// Line of the `Scenario` keyword (1-based).
    pub line: usize,
    pub steps: Vec<Step>,
}

/// A feature file.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    pub name: String,
    pub scenarios: Vec<Scenario>,
}

/// A malformed feature file: where and what.
#[derive(Debug, Clone, PartialEq)]
pub struct GherkinError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for GherkinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// A scenario or outline while its block is being read.
struct Block {
    name: String,
    line: usize,
    outline: bool,
    steps: Vec<Step>,
    /// Each `Examples:` table: header first.
    examples: Vec<Vec<Vec<String>>>,
}

fn table_row(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|');
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    // Cells may contain an escaped pipe `\|`.
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cur.push('|');
                chars.next();
            }
            '|' => cells.push(std::mem::take(&mut cur).trim().to_string()),
            c => cur.push(c),
        }
    }
    cells.push(cur.trim().to_string());
    cells
}

/// Parses a feature file and expands its outlines.
pub fn parse_feature(src: &str) -> Result<Feature, GherkinError> {
    let lines: Vec<&str> = src.lines().collect();
    let mut name = String::new();
    let mut background: Vec<Step> = Vec::new();
    let mut in_background = false;
    let mut blocks: Vec<Block> = Vec::new();
    let mut in_examples = false;
    let mut last_kw: Option<Keyword> = None;
    let mut i = 0;
    while i < lines.len() {
        let raw = lines[i];
        let line = raw.trim();
        let lineno = i + 1;
        i += 1;
        if line.is_empty() || line.starts_with('#') || line.starts_with('@') {
            continue;
        }
        let err = |message: String| GherkinError { line: lineno, message };
        if let Some(rest) = line.strip_prefix("Feature:") {
            name = rest.trim().to_string();
        } else if line.starts_with("Background:") {
            in_background = true;
            in_examples = false;
            last_kw = None;
        } else if let Some(rest) =
            line.strip_prefix("Scenario Outline:").or_else(|| line.strip_prefix("Scenario Template:"))
        {
            in_background = false;
            in_examples = false;
            last_kw = None;
            let name = rest.trim().to_string();
            blocks.push(Block { name, line: lineno, outline: true, steps: Vec::new(), examples: Vec::new() });
        } else if let Some(rest) = line.strip_prefix("Scenario:") {
            in_background = false;
            in_examples = false;
            last_kw = None;
            let name = rest.trim().to_string();
            blocks.push(Block {
                name,
                line: lineno,
                outline: false,
                steps: Vec::new(),
                examples: Vec::new(),
            });
        } else if line.starts_with("Examples:") || line.starts_with("Scenarios:") {
            let block = blocks
                .last_mut()
                .filter(|b| b.outline)
                .ok_or_else(|| err("Examples outside an outline".into()))?;
            block.examples.push(Vec::new());
            in_examples = true;
        } else if line.starts_with('|') {
            let row = table_row(line);
            if in_examples {
                let table = blocks.last_mut().and_then(|b| b.examples.last_mut());
                table.ok_or_else(|| err("table row without Examples".into()))?.push(row);
            } else {
                let steps = if in_background {
                    &mut background
                } else {
                    &mut blocks.last_mut().ok_or_else(|| err("table outside a scenario".into()))?.steps
                };
                steps.last_mut().ok_or_else(|| err("table row before any step".into()))?.table.push(row);
            }
        } else if line.starts_with("\"\"\"") || line.starts_with("```") {
            let fence = &line[..3];
            let indent = raw.len() - raw.trim_start().len();
            let mut body = Vec::new();
            loop {
                let Some(l) = lines.get(i) else {
                    return Err(err("doc string is not closed".into()));
                };
                i += 1;
                if l.trim() == fence {
                    break;
                }
                // Strip the fence's indentation, as Gherkin does.
                let cut = l.len() - l.trim_start().len();
                body.push(&l[cut.min(indent)..]);
            }
            let steps = if in_background {
                &mut background
            } else {
                &mut blocks.last_mut().ok_or_else(|| err("doc string outside a scenario".into()))?.steps
            };
            let step = steps.last_mut().ok_or_else(|| err("doc string before any step".into()))?;
            step.doc = Some(body.join("\n"));
        } else {
            let (word, text) = line.split_once(' ').unwrap_or((line, ""));
            let keyword = match word {
                "Given" => Keyword::Given,
                "When" => Keyword::When,
                "Then" => Keyword::Then,
                // A scenario may open with `And`, continuing its background's
                // `Given` steps.
                "And" | "But" | "*" => match last_kw {
                    Some(k) => k,
                    None if !in_background && !background.is_empty() => Keyword::Given,
                    None => return Err(err(format!("`{word}` before any step"))),
                },
                other => return Err(err(format!("unexpected line starting with `{other}`"))),
            };
            last_kw = Some(keyword);
            let step = Step { keyword, text: text.trim().to_string(), doc: None, table: Vec::new() };
            if in_background {
                background.push(step);
            } else {
                blocks.last_mut().ok_or_else(|| err("step outside a scenario".into()))?.steps.push(step);
            }
        }
    }
    let mut scenarios = Vec::new();
    for b in blocks {
        if !b.outline {
            let mut steps = background.clone();
            steps.extend(b.steps);
            scenarios.push(Scenario { name: b.name, line: b.line, steps });
            continue;
        }
        for table in &b.examples {
            let Some((header, rows)) = table.split_first() else { continue };
            for (n, row) in rows.iter().enumerate() {
                let vars: Vec<(String, &str)> =
                    header.iter().zip(row).map(|(h, v)| (format!("<{h}>"), v.as_str())).collect();
                let subst = |s: &str| vars.iter().fold(s.to_string(), |acc, (k, v)| acc.replace(k, v));
                let mut steps = background.clone();
                steps.extend(b.steps.iter().map(|s| Step {
                    keyword: s.keyword,
                    text: subst(&s.text),
                    doc: s.doc.as_deref().map(subst),
                    table: s.table.iter().map(|r| r.iter().map(|c| subst(c)).collect()).collect(),
                }));
                scenarios.push(Scenario {
                    name: format!("{} #{}", subst(&b.name), n + 1),
                    line: b.line,
                    steps,
                });
            }
        }
    }
    Ok(Feature { name, scenarios })
}

/// A value as the TCK writes it in result tables and parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum TckValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    List(Vec<TckValue>),
    Map(BTreeMap<String, TckValue>),
    Node {
        labels: Vec<String>,
        props: BTreeMap<String, TckValue>,
    },
    Rel {
        rel_type: String,
        props: BTreeMap<String, TckValue>,
    },
    /// First node, then (relationship, forward?, node) steps.
    Path {
        start: Box<TckValue>,
        steps: Vec<(TckValue, bool, TckValue)>,
    },
}

impl fmt::Display for TckValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn props(f: &mut fmt::Formatter<'_>, p: &BTreeMap<String, TckValue>, space: bool) -> fmt::Result {
            if p.is_empty() {
                return Ok(());
            }
            f.write_str(if space { " {" } else { "{" })?;
            for (i, (k, v)) in p.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{k}: {v}")?;
            }
            f.write_str("}")
        }
        match self {
            TckValue::Null => f.write_str("null"),
            TckValue::Bool(b) => write!(f, "{b}"),
            TckValue::Int(i) => write!(f, "{i}"),
            TckValue::Float(x) => write!(f, "{x:?}"),
            TckValue::String(s) => write!(f, "'{}'", s.replace('\'', "\\'")),
            TckValue::List(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            TckValue::Map(m) => {
                f.write_str("{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
            TckValue::Node { labels, props: p } => {
                f.write_str("(")?;
                for l in labels {
                    write!(f, ":{l}")?;
                }
                props(f, p, !labels.is_empty())?;
                f.write_str(")")
            }
            TckValue::Rel { rel_type, props: p } => {
                write!(f, "[:{rel_type}")?;
                props(f, p, true)?;
                f.write_str("]")
            }
            TckValue::Path { start, steps } => {
                write!(f, "<{start}")?;
                for (rel, forward, node) in steps {
                    if *forward { write!(f, "-{rel}->{node}")? } else { write!(f, "<-{rel}-{node}")? }
                }
                f.write_str(">")
            }
        }
    }
}

/// Parses one TCK value literal (a whole cell).
pub fn parse_value(src: &str) -> Result<TckValue, String> {
    let mut p = ValueParser { s: src.as_bytes(), src, pos: 0 };
    let v = p.value()?;
    p.ws();
    if p.pos != p.s.len() {
        return Err(format!("unexpected `{}` at {} in `{src}`", &src[p.pos..], p.pos));
    }
    Ok(v)
}

struct ValueParser<'a> {
    s: &'a [u8],
    src: &'a str,
    pos: usize,
}

impl ValueParser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.pos).is_some_and(|c| c.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected `{}` at {} in `{}`", c as char, self.pos, self.src))
        }
    }

    fn word(&mut self) -> String {
        self.ws();
        let start = self.pos;
        while self.s.get(self.pos).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_') {
            self.pos += 1;
        }
        if start == self.pos && self.s.get(self.pos) == Some(&b'`') {
            let end = self.src[start + 1..].find('`').map_or(self.s.len(), |e| start + 1 + e);
            self.pos = (end + 1).min(self.s.len());
            return self.src[start + 1..end].to_string();
        }
        self.src[start..self.pos].to_string()
    }

    fn value(&mut self) -> Result<TckValue, String> {
        match self.peek() {
            None => Err(format!("empty value in `{}`", self.src)),
            Some(b'\'') | Some(b'"') => self.string().map(TckValue::String),
            Some(b'[') => {
                let save = self.pos;
                self.pos += 1;
                if self.peek() == Some(b':') {
                    self.pos = save;
                    return self.rel();
                }
                let mut items = Vec::new();
                if !self.eat(b']') {
                    loop {
                        items.push(self.value()?);
                        if self.eat(b']') {
                            break;
                        }
                        self.expect(b',')?;
                    }
                }
                Ok(TckValue::List(items))
            }
            Some(b'{') => self.map().map(TckValue::Map),
            Some(b'(') => self.node(),
            Some(b'<') => self.path(),
            Some(_) => self.scalar(),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        let quote = self.s[self.pos];
        self.pos += 1;
        let mut out = String::new();
        let rest = &self.src[self.pos..];
        let mut chars = rest.char_indices();
        while let Some((i, c)) = chars.next() {
            if c as u32 == quote as u32 {
                self.pos += i + 1;
                return Ok(out);
            }
            if c == '\\' {
                match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, 'r')) => out.push('\r'),
                    Some((_, other)) => out.push(other),
                    None => break,
                }
            } else {
                out.push(c);
            }
        }
        Err(format!("unterminated string in `{}`", self.src))
    }

    fn map(&mut self) -> Result<BTreeMap<String, TckValue>, String> {
        self.expect(b'{')?;
        let mut m = BTreeMap::new();
        if self.eat(b'}') {
            return Ok(m);
        }
        loop {
            let k = self.word();
            if k.is_empty() {
                return Err(format!("expected a key at {} in `{}`", self.pos, self.src));
            }
            self.expect(b':')?;
            m.insert(k, self.value()?);
            if self.eat(b'}') {
                return Ok(m);
            }
            self.expect(b',')?;
        }
    }

    fn node(&mut self) -> Result<TckValue, String> {
        self.expect(b'(')?;
        let mut labels = Vec::new();
        while self.eat(b':') {
            labels.push(self.word());
        }
        let props = if self.peek() == Some(b'{') { self.map()? } else { BTreeMap::new() };
        self.expect(b')')?;
        labels.sort();
        Ok(TckValue::Node { labels, props })
    }

    fn rel(&mut self) -> Result<TckValue, String> {
        self.expect(b'[')?;
        self.expect(b':')?;
        let rel_type = self.word();
        let props = if self.peek() == Some(b'{') { self.map()? } else { BTreeMap::new() };
        self.expect(b']')?;
        Ok(TckValue::Rel { rel_type, props })
    }

    fn path(&mut self) -> Result<TckValue, String> {
        self.expect(b'<')?;
        let start = Box::new(self.node()?);
        let mut steps = Vec::new();
        while !self.eat(b'>') {
            let forward = if self.eat(b'<') {
                self.expect(b'-')?;
                false
            } else {
                self.expect(b'-')?;
                true
            };
            let rel = self.rel()?;
            self.expect(b'-')?;
            if forward {
                self.expect(b'>')?;
            }
            steps.push((rel, forward, self.node()?));
        }
        Ok(TckValue::Path { start, steps })
    }

    fn scalar(&mut self) -> Result<TckValue, String> {
        self.ws();
        let start = self.pos;
        while self
            .s
            .get(self.pos)
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'+' | b'_'))
        {
            self.pos += 1;
        }
        let tok = &self.src[start..self.pos];
        Ok(match tok {
            "null" => TckValue::Null,
            "true" => TckValue::Bool(true),
            "false" => TckValue::Bool(false),
            "NaN" => TckValue::Float(f64::NAN),
            "Inf" | "Infinity" => TckValue::Float(f64::INFINITY),
            "-Inf" | "-Infinity" => TckValue::Float(f64::NEG_INFINITY),
            _ => {
                if let Ok(i) = tok.parse::<i64>() {
                    TckValue::Int(i)
                } else if let Some(hex) = tok.strip_prefix("0x") {
                    TckValue::Int(i64::from_str_radix(hex, 16).map_err(|e| format!("`{tok}`: {e}"))?)
                } else if let Ok(f) = tok.parse::<f64>() {
                    TckValue::Float(f)
                } else {
                    return Err(format!("not a value: `{tok}` in `{}`", self.src));
                }
            }
        })
    }
}

/// Equality as the TCK means it; with `unordered_lists`, lists compare as
/// multisets (recursively).
pub fn values_match(expected: &TckValue, actual: &TckValue, unordered_lists: bool) -> bool {
    use TckValue::*;
    let maps = |a: &BTreeMap<std::string::String, TckValue>, b: &BTreeMap<std::string::String, TckValue>| {
        a.len() == b.len()
            && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| values_match(v, w, unordered_lists)))
    };
    match (expected, actual) {
        (Float(a), Float(b)) => {
            (a.is_nan() && b.is_nan()) || a == b || ((a - b).abs() <= 1e-12 * a.abs().max(b.abs()))
        }
        (List(a), List(b)) if unordered_lists => multiset_match(a, b, |x, y| values_match(x, y, true)),
        (List(a), List(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| values_match(x, y, false)),
        (Map(a), Map(b)) => maps(a, b),
        (Node { labels: la, props: pa }, Node { labels: lb, props: pb }) => la == lb && maps(pa, pb),
        (Rel { rel_type: ta, props: pa }, Rel { rel_type: tb, props: pb }) => ta == tb && maps(pa, pb),
        (Path { start: sa, steps: a }, Path { start: sb, steps: b }) => {
            values_match(sa, sb, unordered_lists)
                && a.len() == b.len()
                && a.iter().zip(b).all(|((r1, f1, n1), (r2, f2, n2))| {
                    f1 == f2 && values_match(r1, r2, unordered_lists) && values_match(n1, n2, unordered_lists)
                })
        }
        _ => expected == actual,
    }
}

/// Whether every element of `a` pairs with a distinct element of `b`.
fn multiset_match<T>(a: &[T], b: &[T], eq: impl Fn(&T, &T) -> bool) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut used = vec![false; b.len()];
    'outer: for x in a {
        for (j, y) in b.iter().enumerate() {
            if !used[j] && eq(x, y) {
                used[j] = true;
                continue 'outer;
            }
        }
        return false;
    }
    true
}

/// How a `Then the result should be…` step compares rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ordering {
    pub in_order: bool,
    pub unordered_lists: bool,
}

/// Reads the comparison mode from a `Then` step's text, or None if the step
/// is not a result table step.
pub fn result_mode(text: &str) -> Option<Ordering> {
    let rest = text.strip_prefix("the result should be")?;
    if rest.trim() == "empty" {
        return Some(Ordering { in_order: false, unordered_lists: false });
    }
    Some(Ordering {
        in_order: rest.contains("in order"),
        unordered_lists: rest.contains("ignoring element order"),
    })
}

/// Compares a result table: `expected` and `actual` each have a header row
/// first. Returns a reason on mismatch.
pub fn compare_tables(
    expected: &[Vec<String>],
    columns: &[String],
    actual: &[Vec<TckValue>],
    mode: Ordering,
) -> Result<(), String> {
    let (header, rows) = match expected.split_first() {
        Some((h, r)) => (h.as_slice(), r),
        None => (&[][..], &[][..]),
    };
    if !header.is_empty() && header != columns {
        return Err(format!("columns {columns:?}, expected {header:?}"));
    }
    let parsed: Vec<Vec<TckValue>> = rows
        .iter()
        .map(|r| r.iter().map(|c| parse_value(c)).collect::<Result<_, _>>())
        .collect::<Result<_, _>>()?;
    let row_eq = |e: &Vec<TckValue>, a: &Vec<TckValue>| {
        e.len() == a.len() && e.iter().zip(a).all(|(x, y)| values_match(x, y, mode.unordered_lists))
    };
    let ok = if mode.in_order {
        parsed.len() == actual.len() && parsed.iter().zip(actual).all(|(e, a)| row_eq(e, a))
    } else {
        multiset_match(&parsed, actual, row_eq)
    };
    if ok {
        return Ok(());
    }
    let show = |rows: &[Vec<TckValue>]| {
        rows.iter()
            .take(6)
            .map(|r| r.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" | "))
            .collect::<Vec<_>>()
            .join("; ")
    };
    Err(format!(
        "{} rows [{}], expected {} rows [{}]",
        actual.len(),
        show(actual),
        parsed.len(),
        show(&parsed)
    ))
}

/// An expected error: `Then a TypeError should be raised at runtime: X`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedError {
    pub kind: String,
    /// `compile time`, `runtime` or `any time`.
    pub phase: String,
    pub detail: String,
}

pub fn expected_error(text: &str) -> Option<ExpectedError> {
    let rest = text.strip_prefix("a ").or_else(|| text.strip_prefix("an "))?;
    let (kind, rest) = rest.split_once(" should be raised at ")?;
    let (phase, detail) = rest.split_once(':').unwrap_or((rest, ""));
    Some(ExpectedError { kind: kind.into(), phase: phase.trim().into(), detail: detail.trim().into() })
}

/// One line of the exclusion list: `keyword WORD | reason` (a clause
/// keyword that excludes every scenario whose queries use it) or
/// `scenario FEATURE-PATH: NAME-PREFIX | reason`.
#[derive(Debug, Clone, PartialEq)]
pub enum Exclusion {
    Keyword { word: String, reason: String },
    Scenario { path: String, name: String, reason: String },
}

pub fn parse_exclusions(src: &str) -> Result<Vec<Exclusion>, String> {
    let mut out = Vec::new();
    for (n, line) in src.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (what, reason) = line.split_once('|').ok_or_else(|| format!("line {}: no `| reason`", n + 1))?;
        let reason = reason.trim().to_string();
        if reason.is_empty() {
            return Err(format!("line {}: empty reason", n + 1));
        }
        let what = what.trim();
        if let Some(word) = what.strip_prefix("keyword ") {
            out.push(Exclusion::Keyword { word: word.trim().to_string(), reason });
        } else if let Some(rest) = what.strip_prefix("scenario ") {
            let (path, name) =
                rest.split_once(':').ok_or_else(|| format!("line {}: want `path: name`", n + 1))?;
            out.push(Exclusion::Scenario { path: path.trim().into(), name: name.trim().into(), reason });
        } else {
            return Err(format!("line {}: want `keyword` or `scenario`", n + 1));
        }
    }
    Ok(out)
}

/// Whether `query` uses `word` as a keyword: a whole word, case-insensitive,
/// outside string literals (a multi-word keyword matches with any spacing).
pub fn uses_keyword(query: &str, word: &str) -> bool {
    let mut code = String::with_capacity(query.len());
    let mut quote: Option<char> = None;
    for c in query.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None => code.push(if c.is_alphanumeric() || c == '_' { c.to_ascii_uppercase() } else { ' ' }),
        }
    }
    let words: Vec<&str> = code.split_whitespace().collect();
    let want: Vec<String> = word.split_whitespace().map(|w| w.to_ascii_uppercase()).collect();
    !want.is_empty() && words.windows(want.len()).any(|w| w.iter().zip(&want).all(|(a, b)| *a == b))
}

/// Pass count recorded in the ratchet file: the first integer on a line not
/// starting with `#`.
pub fn parse_ratchet(src: &str) -> Option<usize> {
    src.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .find_map(|l| l.split_whitespace().next()?.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FEATURE: &str = r#"
#encoding: utf-8
Feature: F1 - demo

  Background:
    Given an empty graph

  Scenario: [1] plain
    And having executed:
      """
      CREATE (:A)
      """
    When executing query:
      """
      MATCH (n)
        RETURN n
      """
    Then the result should be, in any order:
      | n    |
      | (:A) |
    And no side effects

  Scenario Outline: [2] outline <x>
    When executing query:
      """
      RETURN <x> AS v
      """
    Then the result should be, in order:
      | v   |
      | <y> |

    Examples:
      | x | y |
      | 1 | 1 |
      | 'a\|b' | 'a\|b' |
"#;

    #[test]
    fn reads_background_doc_strings_tables_and_outlines() {
        let f = parse_feature(FEATURE).unwrap();
        assert_eq!(f.name, "F1 - demo");
        assert_eq!(f.scenarios.len(), 3);
        let s = &f.scenarios[0];
        assert_eq!(s.steps[0].text, "an empty graph");
        assert_eq!(s.steps[1].keyword, Keyword::Given);
        assert_eq!(s.steps[1].doc.as_deref(), Some("CREATE (:A)"));
        assert_eq!(s.steps[2].doc.as_deref(), Some("MATCH (n)\n  RETURN n"));
        assert_eq!(s.steps[3].table, vec![vec!["n".to_string()], vec!["(:A)".to_string()]]);
        assert_eq!(s.steps[4].keyword, Keyword::Then);
        let o = &f.scenarios[2];
        assert_eq!(o.name, "[2] outline 'a|b' #2");
        assert_eq!(o.steps[1].doc.as_deref(), Some("RETURN 'a|b' AS v"));
        assert_eq!(o.steps[2].table[1], vec!["'a|b'".to_string()]);
    }

    #[test]
    fn malformed_features_say_where() {
        let e = parse_feature("Feature: x\n  Scenario: s\n    When q:\n      \"\"\"\n      RETURN 1\n")
            .unwrap_err();
        assert_eq!(e.line, 4);
        assert!(parse_feature("Feature: x\n  And oops\n").is_err());
    }

    #[test]
    fn parses_tck_values() {
        let v = parse_value("[1, -2.5, 'it\\'s', null, true, {a: [], b: 0x1F}]").unwrap();
        let mut m = BTreeMap::new();
        m.insert("a".to_string(), TckValue::List(vec![]));
        m.insert("b".to_string(), TckValue::Int(31));
        assert_eq!(
            v,
            TckValue::List(vec![
                TckValue::Int(1),
                TckValue::Float(-2.5),
                TckValue::String("it's".into()),
                TckValue::Null,
                TckValue::Bool(true),
                TckValue::Map(m)
            ])
        );
        let p = parse_value("<(:A {name: 'a'})-[:T]->(:B)<-[:U {w: 1}]-()>").unwrap();
        let TckValue::Path { steps, .. } = &p else { panic!("not a path: {p:?}") };
        assert_eq!(steps.len(), 2);
        assert!(steps[0].1 && !steps[1].1);
        assert_eq!(p.to_string(), "<(:A {name: 'a'})-[:T]->(:B)<-[:U {w: 1}]-()>");
        assert_eq!(parse_value("(:B:A)").unwrap(), parse_value("(:A:B)").unwrap());
        assert!(parse_value("[1, 2").is_err());
        assert!(parse_value("bogus").is_err());
    }

    #[test]
    fn compares_tables_by_mode() {
        let exp = vec![vec!["x".to_string()], vec!["1".to_string()], vec!["[1, 2]".to_string()]];
        let cols = vec!["x".to_string()];
        let list = |v: Vec<i64>| TckValue::List(v.into_iter().map(TckValue::Int).collect());
        let any = Ordering { in_order: false, unordered_lists: false };
        let ordered = Ordering { in_order: true, unordered_lists: false };
        let lists = Ordering { in_order: false, unordered_lists: true };
        let rows = vec![vec![list(vec![1, 2])], vec![TckValue::Int(1)]];
        assert!(compare_tables(&exp, &cols, &rows, any).is_ok());
        assert!(compare_tables(&exp, &cols, &rows, ordered).is_err());
        let swapped = vec![vec![TckValue::Int(1)], vec![list(vec![2, 1])]];
        assert!(compare_tables(&exp, &cols, &swapped, any).is_err());
        assert!(compare_tables(&exp, &cols, &swapped, lists).is_ok());
        assert!(compare_tables(&exp, &["y".to_string()], &rows, any).is_err());
        assert!(compare_tables(&exp, &cols, &rows[..1], any).is_err());
        // An int never equals a float.
        let f = vec![vec![TckValue::Float(1.0)], vec![list(vec![1, 2])]];
        assert!(compare_tables(&exp, &cols, &f, any).is_err());
        assert_eq!(result_mode("the result should be empty"), Some(any));
        assert_eq!(result_mode("the result should be, in order:"), Some(ordered));
        assert_eq!(result_mode("the result should be (ignoring element order for lists):"), Some(lists));
    }

    #[test]
    fn reads_errors_exclusions_and_ratchet() {
        let e = expected_error("a SyntaxError should be raised at compile time: UnknownFunction").unwrap();
        assert_eq!(
            (e.kind.as_str(), e.phase.as_str(), e.detail.as_str()),
            ("SyntaxError", "compile time", "UnknownFunction")
        );
        let ex =
            parse_exclusions("# c\nkeyword DETACH DELETE | append-only\nscenario a/b.feature: [3] | why\n")
                .unwrap();
        assert_eq!(ex.len(), 2);
        assert!(parse_exclusions("keyword SET\n").is_err());
        assert!(uses_keyword("MATCH (n) detach\n delete n", "DETACH DELETE"));
        assert!(!uses_keyword("RETURN 'SET' AS x, n.offset", "SET"));
        assert!(uses_keyword("MATCH (n) SET n.x = 1", "SET"));
        assert_eq!(parse_ratchet("# pass count\n 42 scenarios\n"), Some(42));
        assert_eq!(parse_ratchet("# nothing\n"), None);
    }
}
