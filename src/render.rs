//! Query results written for people and programs: aligned tables, CSV
//! (RFC 4180 quoting), JSON (an array of objects) and JSON Lines.

use std::io::{self, Write};

use crate::query::{QueryResult, Value};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Json,
    Jsonl,
}

impl Format {
    /// The format of a name (`table`, `csv`, `json`, `jsonl`).
    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "table" => Some(Format::Table),
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            "jsonl" => Some(Format::Jsonl),
            _ => None,
        }
    }
}

/// The longest cell a table shows before cutting it with `…`.
const MAX_CELL: usize = 120;

fn cell(v: &Value) -> String {
    let text = v.to_string().replace('\n', " ");
    if text.chars().count() > MAX_CELL {
        let cut: String = text.chars().take(MAX_CELL - 1).collect();
        format!("{cut}…")
    } else {
        text
    }
}

/// Writes one statement's result.
pub fn write_result(out: &mut impl Write, r: &QueryResult, format: Format) -> io::Result<()> {
    if r.columns.is_empty() {
        if let Some(m) = &r.message {
            writeln!(out, "{m}")?;
        }
        return Ok(());
    }
    match format {
        Format::Table => table(out, r),
        Format::Csv => csv(out, r),
        Format::Json => {
            let rows: Vec<serde_json::Value> = r.rows.iter().map(|row| object(&r.columns, row)).collect();
            writeln!(out, "{}", serde_json::Value::Array(rows))
        }
        Format::Jsonl => {
            for row in &r.rows {
                writeln!(out, "{}", object(&r.columns, row))?;
            }
            Ok(())
        }
    }
}

fn object(columns: &[String], row: &[Value]) -> serde_json::Value {
    let map = columns.iter().cloned().zip(row.iter().map(Value::to_json)).collect();
    serde_json::Value::Object(map)
}

fn table(out: &mut impl Write, r: &QueryResult) -> io::Result<()> {
    let cells: Vec<Vec<String>> = r.rows.iter().map(|row| row.iter().map(cell).collect()).collect();
    let mut widths: Vec<usize> = r.columns.iter().map(|c| c.chars().count()).collect();
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: &[String]| -> String {
        let padded: Vec<String> = cols
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        padded.join(" | ").trim_end().to_string()
    };
    writeln!(out, "{}", line(&r.columns))?;
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    writeln!(out, "{}", rule.join("-+-"))?;
    for row in &cells {
        writeln!(out, "{}", line(row))?;
    }
    let n = r.rows.len();
    writeln!(out, "({n} row{})", if n == 1 { "" } else { "s" })
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

fn csv(out: &mut impl Write, r: &QueryResult) -> io::Result<()> {
    let header: Vec<String> = r.columns.iter().map(|c| csv_field(c)).collect();
    writeln!(out, "{}", header.join(","))?;
    for row in &r.rows {
        let fields: Vec<String> = row
            .iter()
            .map(|v| match v {
                Value::Null => String::new(),
                other => csv_field(&other.to_string()),
            })
            .collect();
        writeln!(out, "{}", fields.join(","))?;
    }
    Ok(())
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

    #[test]
    fn csv_quotes_commas_and_quotes() {
        let mut out = Vec::new();
        write_result(&mut out, &result(), Format::Csv).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "who,quote\nKremlin,\"said \"\"below, freezing\"\"\"\n,3\n"
        );
    }

    #[test]
    fn tables_align_and_count() {
        let mut out = Vec::new();
        write_result(&mut out, &result(), Format::Table).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "who     | quote\n--------+-------------------------\nKremlin | said \"below, freezing\"\nnull    | 3\n(2 rows)\n"
        );
    }

    #[test]
    fn json_is_an_array_of_objects() {
        let mut out = Vec::new();
        write_result(&mut out, &result(), Format::Json).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v[0]["who"], "Kremlin");
        assert_eq!(v[1]["quote"], 3);
    }
}
