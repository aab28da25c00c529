//! Query results written for people and programs.
//!
//! A [`Renderer`] takes a statement's rows one at a time, as the engine
//! streams them, and writes them in a [`Format`]:
//! - `table`: aligned tables with Unicode box drawing, fitted to a width
//!   (long text wrapped), at most `max_rows` rows with a footer that says so
//!   (`(214 rows, 20 shown)`), or the expanded one-field-per-line view; a
//!   `HISTORY` result reads as a timeline and a `CONFLICTS` result shows the
//!   two claims side by side ([`Shape`]);
//! - `csv` (RFC 4180 quoting), `json` (an array of objects), `jsonl`,
//!   `markdown`, `line` (sqlite's one `name = value` per line): streamed,
//!   never buffered;
//! - `dot`: the result's subgraph as Graphviz DOT.
//!
//! Rows name claims by id; a [`Lookup`] (a store snapshot) supplies what the
//! timeline, the side-by-side view and DOT need beyond that.

mod dot;
mod table;
pub mod text;
mod views;

use std::io::{self, Write};

use crate::model::{Claim, Entity};
use crate::query::{QueryResult, Statement, Value};
use crate::store::ReadView;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Json,
    Jsonl,
    Markdown,
    Line,
    Dot,
}

impl Format {
    /// Every format, by name.
    pub const ALL: [(&'static str, Format); 7] = [
        ("table", Format::Table),
        ("csv", Format::Csv),
        ("json", Format::Json),
        ("jsonl", Format::Jsonl),
        ("markdown", Format::Markdown),
        ("line", Format::Line),
        ("dot", Format::Dot),
    ];

    /// The format of a name (`table`, `csv`, `json`, `jsonl`, `markdown`,
    /// `line`, `dot`), case-insensitively.
    pub fn parse(name: &str) -> Option<Format> {
        let name = name.to_ascii_lowercase();
        Format::ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }

    pub fn name(self) -> &'static str {
        Format::ALL.iter().find(|(_, f)| *f == self).map_or("table", |(n, _)| n)
    }

    /// The names joined for messages: `table, csv, …, dot`.
    pub fn names() -> String {
        Format::ALL.map(|(n, _)| n).join(", ")
    }
}

/// When the table format shows one field per line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Expanded {
    #[default]
    Off,
    On,
    /// Expanded when a table would not fit the width comfortably.
    Auto,
}

/// What a result is, which picks its view in the table format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shape {
    #[default]
    Rows,
    /// `HISTORY`: a timeline.
    Timeline,
    /// `CONFLICTS`: claims side by side.
    Conflicts,
}

impl Shape {
    /// The shape of a statement's result.
    pub fn of(stmt: &Statement) -> Shape {
        match stmt {
            Statement::History(_) => Shape::Timeline,
            Statement::Conflicts(_) => Shape::Conflicts,
            _ => Shape::Rows,
        }
    }
}

/// How to write a result.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub format: Format,
    /// The most rows a table shows (the footer counts the rest).
    pub max_rows: Option<usize>,
    /// The width tables fit into; `None` for no limit.
    pub max_width: Option<usize>,
    pub expanded: Expanded,
    /// ANSI colour (only for terminals, never with `NO_COLOR`).
    pub color: bool,
    pub shape: Shape,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            format: Format::Table,
            max_rows: None,
            max_width: None,
            expanded: Expanded::Off,
            color: false,
            shape: Shape::Rows,
        }
    }
}

/// What a result names only by id: claims, entities, transactions.
pub trait Lookup {
    /// A claim by id.
    fn claim(&self, id: &str) -> Option<Claim>;
    /// An entity by key, resolved through merges to the one it now is.
    fn entity(&self, key: &str) -> Option<Entity>;
    /// A transaction's message.
    fn tx_message(&self, tx: u64) -> Option<String>;
}

impl Lookup for ReadView {
    fn claim(&self, id: &str) -> Option<Claim> {
        ReadView::claim(self, id).ok().flatten()
    }

    fn entity(&self, key: &str) -> Option<Entity> {
        let snap = self.index();
        let id = snap.entity_id(&crate::model::fold_key(key)).ok().flatten()?;
        let canonical = snap.resolve(id).ok()?;
        snap.entity(canonical).ok().flatten()
    }

    fn tx_message(&self, tx: u64) -> Option<String> {
        self.transaction(tx).ok().flatten().and_then(|m| m.message)
    }
}

/// Writes one statement's result as its rows arrive.
pub struct Renderer<'a> {
    out: &'a mut dyn Write,
    opts: Options,
    lookup: Option<&'a dyn Lookup>,
    columns: Option<Vec<String>>,
    /// Rows kept for views that need them all (tables, DOT).
    kept: Vec<Vec<Value>>,
    count: usize,
}

impl<'a> Renderer<'a> {
    pub fn new(out: &'a mut dyn Write, opts: Options, lookup: Option<&'a dyn Lookup>) -> Renderer<'a> {
        Renderer { out, opts, lookup, columns: None, kept: Vec::new(), count: 0 }
    }

    fn start(&mut self, columns: &[String]) -> io::Result<()> {
        self.columns = Some(columns.to_vec());
        match self.opts.format {
            Format::Csv => csv_row(self.out, columns.iter().map(|c| Some(c.as_str()))),
            Format::Markdown => table::markdown_header(self.out, columns),
            _ => Ok(()),
        }
    }

    /// Takes one row.
    pub fn row(&mut self, columns: &[String], row: Vec<Value>) -> io::Result<()> {
        if self.columns.is_none() {
            self.start(columns)?;
        }
        let first = self.count == 0;
        self.count += 1;
        match self.opts.format {
            Format::Table => {
                if self.opts.max_rows.is_none_or(|m| self.kept.len() < m) {
                    self.kept.push(row);
                }
                Ok(())
            }
            Format::Dot => {
                self.kept.push(row);
                Ok(())
            }
            Format::Csv => {
                let fields: Vec<Option<String>> = row
                    .iter()
                    .map(|v| match v {
                        Value::Null => None,
                        other => Some(other.to_string()),
                    })
                    .collect();
                csv_row(self.out, fields.iter().map(|f| f.as_deref()))
            }
            Format::Json => {
                let sep = if first { "[\n" } else { ",\n" };
                write!(self.out, "{sep}{}", object(columns, &row))
            }
            Format::Jsonl => writeln!(self.out, "{}", object(columns, &row)),
            Format::Markdown => table::markdown_row(self.out, &row),
            Format::Line => table::line_row(self.out, columns, &row, first),
        }
    }

    /// Ends a result whose statement failed after some rows were written:
    /// closes what the format opened, so the output stays well-formed (a
    /// JSON array of the rows that came before the error, which the caller
    /// reports on its error stream).
    pub fn abort(self) -> io::Result<()> {
        match self.opts.format {
            Format::Json if self.count > 0 => writeln!(self.out, "\n]"),
            _ => Ok(()),
        }
    }

    /// Ends the result: writes what was kept, the footer and any message.
    pub fn finish(mut self, result: &QueryResult) -> io::Result<()> {
        let started = self.columns.is_some();
        let columns = self.columns.take().unwrap_or_else(|| result.columns.clone());
        let out = &mut *self.out;
        if self.opts.format == Format::Table
            && let Some(r) = &result.receipt
        {
            let claims = match r.claim_ids.as_slice() {
                [] => String::new(),
                [one] => format!(" (claim {one})"),
                many => format!(" (claims {})", many.join(", ")),
            };
            return writeln!(out, "committed tx {}{claims}", r.tx);
        }
        if columns.is_empty() {
            if let Some(m) = &result.message {
                writeln!(out, "{m}")?;
            }
            return Ok(());
        }
        match self.opts.format {
            Format::Table => {
                match self.opts.shape {
                    Shape::Timeline if !self.kept.is_empty() => {
                        views::timeline(out, &columns, &self.kept, &self.opts, self.lookup)?
                    }
                    Shape::Conflicts if !self.kept.is_empty() => {
                        views::conflicts(out, &columns, &self.kept, &self.opts, self.lookup)?
                    }
                    Shape::Rows => table::write(out, &columns, &self.kept, &self.opts)?,
                    // An empty timeline or conflict list is just its footer.
                    Shape::Timeline | Shape::Conflicts => {}
                }
                let footer = footer(self.count, self.kept.len(), self.opts.shape);
                writeln!(out, "{}", text::paint(&footer, text::Style::Dim, self.opts.color))?;
                if let Some(m) = &result.message {
                    writeln!(out, "{m}")?;
                }
                Ok(())
            }
            Format::Dot => dot::write(out, &columns, &self.kept, self.opts.shape, self.lookup),
            Format::Csv if !started => csv_row(out, columns.iter().map(|c| Some(c.as_str()))),
            Format::Markdown if !started => table::markdown_header(out, &columns),
            Format::Json if self.count == 0 => writeln!(out, "[]"),
            Format::Json => writeln!(out, "\n]"),
            _ => Ok(()),
        }
    }
}

/// `(11 rows)`, `(1 row)`, `(214 rows, 20 shown)`; timelines count events.
fn footer(total: usize, shown: usize, shape: Shape) -> String {
    let noun = match (shape, total) {
        (Shape::Timeline, 1) => "event",
        (Shape::Timeline, _) => "events",
        (Shape::Conflicts, 1) => "conflict",
        (Shape::Conflicts, _) => "conflicts",
        (_, 1) => "row",
        _ => "rows",
    };
    if shown < total { format!("({total} {noun}, {shown} shown)") } else { format!("({total} {noun})") }
}

/// Writes a whole result (rows already collected).
pub fn write_result(
    out: &mut dyn Write,
    r: &QueryResult,
    opts: &Options,
    lookup: Option<&dyn Lookup>,
) -> io::Result<()> {
    let mut renderer = Renderer::new(out, opts.clone(), lookup);
    for row in &r.rows {
        renderer.row(&r.columns, row.clone())?;
    }
    renderer.finish(r)
}

fn object(columns: &[String], row: &[Value]) -> serde_json::Value {
    let map = columns.iter().cloned().zip(row.iter().map(Value::to_json)).collect();
    serde_json::Value::Object(map)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// One CSV record; `None` is an empty field (null).
fn csv_row<'s>(out: &mut dyn Write, fields: impl Iterator<Item = Option<&'s str>>) -> io::Result<()> {
    let fields: Vec<String> = fields.map(|f| f.map_or(String::new(), csv_field)).collect();
    writeln!(out, "{}", fields.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result() -> QueryResult {
        QueryResult {
            columns: vec!["who".into(), "quote".into()],
            rows: vec![
                vec![Value::String("Kremlin".into()), Value::String("said \"below, freezing\"".into())],
                vec![Value::Null, Value::Int(3)],
            ],
            ..QueryResult::default()
        }
    }

    fn render(r: &QueryResult, opts: Options) -> String {
        let mut out = Vec::new();
        write_result(&mut out, r, &opts, None).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn format(f: Format) -> Options {
        Options { format: f, ..Options::default() }
    }

    #[test]
    fn csv_quotes_commas_and_quotes() {
        assert_eq!(
            render(&result(), format(Format::Csv)),
            "who,quote\nKremlin,\"said \"\"below, freezing\"\"\"\n,3\n"
        );
    }

    #[test]
    fn tables_align_and_count() {
        let want = "\
┌─────────┬────────────────────────┐
│ who     │ quote                  │
├─────────┼────────────────────────┤
│ Kremlin │ said \"below, freezing\" │
│ null    │                      3 │
└─────────┴────────────────────────┘
(2 rows)
";
        assert_eq!(render(&result(), Options::default()), want);
    }

    #[test]
    fn tables_cap_rows_wrap_to_the_width_and_expand() {
        let capped = render(&result(), Options { max_rows: Some(1), ..Options::default() });
        assert!(capped.ends_with("(2 rows, 1 shown)\n"), "{capped}");
        assert!(!capped.contains("null"), "{capped}");
        let narrow = render(&result(), Options { max_width: Some(26), ..Options::default() });
        for line in narrow.lines() {
            assert!(text::width(line) <= 26, "{line}\n{narrow}");
        }
        assert!(narrow.contains("│ said \"below,"), "{narrow}");
        let expanded = render(&result(), Options { expanded: Expanded::On, ..Options::default() });
        assert!(expanded.starts_with("─[ RECORD 1 ]"), "{expanded}");
        assert!(expanded.contains("who   │ Kremlin\nquote │ said \"below, freezing\"\n"), "{expanded}");
    }

    #[test]
    fn an_aborted_json_result_is_still_an_array() {
        let mut out = Vec::new();
        let mut r = Renderer::new(&mut out, format(Format::Json), None);
        let columns = vec!["x".to_string()];
        r.row(&columns, vec![Value::Int(1)]).unwrap();
        r.row(&columns, vec![Value::Int(2)]).unwrap();
        r.abort().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v, serde_json::json!([{"x": 1}, {"x": 2}]));
        // Nothing written, nothing to close.
        let mut out = Vec::new();
        Renderer::new(&mut out, format(Format::Json), None).abort().unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn json_is_an_array_of_objects() {
        let v: serde_json::Value = serde_json::from_str(&render(&result(), format(Format::Json))).unwrap();
        assert_eq!(v[0]["who"], "Kremlin");
        assert_eq!(v[1]["quote"], 3);
        let empty = QueryResult { columns: vec!["a".into()], ..QueryResult::default() };
        assert_eq!(render(&empty, format(Format::Json)), "[]\n");
        assert_eq!(render(&empty, format(Format::Csv)), "a\n");
    }

    #[test]
    fn markdown_and_line_modes() {
        let md = render(&result(), format(Format::Markdown));
        assert_eq!(md, "| who | quote |\n|---|---|\n| Kremlin | said \"below, freezing\" |\n|  | 3 |\n");
        let line = render(&result(), format(Format::Line));
        assert_eq!(line, "  who = Kremlin\nquote = said \"below, freezing\"\n\n  who = null\nquote = 3\n");
    }

    #[test]
    fn dot_without_lookup_draws_entities() {
        let r = QueryResult {
            columns: vec!["a".into()],
            rows: vec![vec![Value::Entity {
                key: "us".into(),
                name: "United States".into(),
                kind: "Country".into(),
            }]],
            ..QueryResult::default()
        };
        let dot = render(&r, format(Format::Dot));
        assert!(dot.starts_with("digraph claimgraph {\n"), "{dot}");
        assert!(dot.contains("\"us\" [label=\"@us\"];"), "{dot}");
        assert!(dot.ends_with("}\n"));
    }

    #[test]
    fn formats_parse_by_name() {
        for (name, f) in Format::ALL {
            assert_eq!(Format::parse(name), Some(f));
            assert_eq!(f.name(), name);
        }
        assert_eq!(Format::parse("JSON"), Some(Format::Json));
        assert_eq!(Format::parse("xml"), None);
    }
}
