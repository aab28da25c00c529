//! Tabular views of rows: aligned tables with Unicode box drawing that fit a
//! width (wide columns are wrapped, narrow ones keep their width), the
//! expanded one-field-per-line view (psql's `\x`), Markdown tables and
//! sqlite's `line` mode.

use std::io::{self, Write};

use super::text::{self, Style, pad, pad_left, paint, width};
use super::{Expanded, Options};
use crate::query::Value;

/// Without a width to fit, the longest line a cell shows before `…`.
const MAX_CELL: usize = 120;
/// The most lines one wrapped cell may take in a table.
const MAX_CELL_LINES: usize = 8;
/// In `:expanded auto`, a table whose wrapped columns would be narrower than
/// this is shown expanded instead.
const MIN_COMFORTABLE: usize = 16;

/// One cell, split into lines, and whether it aligns right (numbers).
struct Cell {
    lines: Vec<String>,
    right: bool,
    null: bool,
}

fn make_cell(v: &Value) -> Cell {
    let text = text::cell(v);
    Cell {
        lines: text.split('\n').map(|l| l.trim_end_matches('\r').to_string()).collect(),
        right: matches!(v, Value::Int(_) | Value::Float(_)),
        null: matches!(v, Value::Null),
    }
}

/// Column widths that fit `max_width`, or `None` when the table would need
/// columns narrower than is comfortable (used by `:expanded auto`).
fn fit(natural: &[usize], max_width: Option<usize>) -> (Vec<usize>, bool) {
    let n = natural.len();
    let Some(max) = max_width else {
        return (natural.iter().map(|w| (*w).min(MAX_CELL)).collect(), true);
    };
    let overhead = 3 * n + 1;
    let total: usize = natural.iter().sum::<usize>() + overhead;
    if total <= max {
        return (natural.to_vec(), true);
    }
    // Water-filling: find the largest cap C with sum(min(w, C)) <= available.
    let available = max.saturating_sub(overhead).max(n);
    let mut sorted = natural.to_vec();
    sorted.sort_unstable();
    let mut used = 0;
    let mut cap = 1;
    for (i, w) in sorted.iter().enumerate() {
        let rest = n - i;
        if used + w * rest > available {
            cap = ((available - used) / rest).max(1);
            break;
        }
        used += w;
        cap = *w;
    }
    let mut widths: Vec<usize> = natural.iter().map(|w| (*w).min(cap).max(1)).collect();
    // Hand what is left to the cut columns, those closest to whole first.
    let mut left = available.saturating_sub(widths.iter().sum());
    let mut cut: Vec<usize> = (0..n).filter(|&i| widths[i] < natural[i]).collect();
    cut.sort_by_key(|&i| natural[i] - widths[i]);
    for i in cut {
        let more = (natural[i] - widths[i]).min(left);
        widths[i] += more;
        left -= more;
    }
    let comfortable = natural.iter().all(|w| *w <= cap || cap >= MIN_COMFORTABLE);
    (widths, comfortable)
}

/// A table (or the expanded view, per `opts.expanded`).
pub(super) fn write(
    out: &mut dyn Write,
    columns: &[String],
    rows: &[Vec<Value>],
    opts: &Options,
) -> io::Result<()> {
    let cells: Vec<Vec<Cell>> = rows.iter().map(|r| r.iter().map(make_cell).collect()).collect();
    let mut natural: Vec<usize> = columns.iter().map(|c| width(c)).collect();
    for row in &cells {
        for (w, c) in natural.iter_mut().zip(row) {
            for line in &c.lines {
                *w = (*w).max(width(line));
            }
        }
    }
    let (widths, comfortable) = fit(&natural, opts.max_width);
    let expanded = match opts.expanded {
        Expanded::On => true,
        Expanded::Off => false,
        Expanded::Auto => !comfortable,
    };
    if expanded && !rows.is_empty() {
        return write_expanded(out, columns, &cells, opts);
    }
    let color = opts.color;
    let rule = |l: &str, m: &str, r: &str| -> String {
        let parts: Vec<String> = widths.iter().map(|w| "─".repeat(w + 2)).collect();
        format!("{l}{}{r}", parts.join(m))
    };
    writeln!(out, "{}", rule("┌", "┬", "┐"))?;
    let header: Vec<Cell> =
        columns.iter().map(|c| Cell { lines: vec![c.clone()], right: false, null: false }).collect();
    write_row(out, &header, &widths, true, color)?;
    writeln!(out, "{}", rule("├", "┼", "┤"))?;
    for row in &cells {
        write_row(out, row, &widths, false, color)?;
    }
    writeln!(out, "{}", rule("└", "┴", "┘"))
}

fn write_row(
    out: &mut dyn Write,
    row: &[Cell],
    widths: &[usize],
    header: bool,
    color: bool,
) -> io::Result<()> {
    let wrapped: Vec<Vec<String>> = row
        .iter()
        .zip(widths)
        .map(|(c, w)| {
            let mut lines = Vec::new();
            for l in &c.lines {
                lines.extend(text::wrap(l, *w).into_iter().map(|x| text::truncate(&x, *w)));
            }
            if lines.len() > MAX_CELL_LINES {
                lines.truncate(MAX_CELL_LINES);
                if let Some(last) = lines.last_mut() {
                    *last = format!("{}…", text::truncate(last, w.saturating_sub(1)).trim_end_matches('…'));
                }
            }
            lines
        })
        .collect();
    let height = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
    for i in 0..height {
        let mut line = String::from("│");
        for ((lines, w), c) in wrapped.iter().zip(widths).zip(row) {
            let t = lines.get(i).map_or("", String::as_str);
            let padded = if c.right { pad_left(t, *w) } else { pad(t, *w) };
            let styled = if header {
                paint(&padded, Style::Bold, color)
            } else if c.null {
                paint(&padded, Style::Dim, color)
            } else {
                padded
            };
            line.push(' ');
            line.push_str(&styled);
            line.push_str(" │");
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn write_expanded(
    out: &mut dyn Write,
    columns: &[String],
    cells: &[Vec<Cell>],
    opts: &Options,
) -> io::Result<()> {
    let mut label = columns.iter().map(|c| width(c)).max().unwrap_or(0);
    if let Some(max) = opts.max_width {
        label = label.min(max / 3);
    }
    let value_width = opts.max_width.map(|m| m.saturating_sub(label + 3).max(10));
    let rule_width = opts.max_width.unwrap_or(label + 3 + 40);
    for (n, row) in cells.iter().enumerate() {
        let title = format!("─[ RECORD {} ]", n + 1);
        let fill = rule_width.saturating_sub(width(&title)).max(2);
        writeln!(out, "{}", paint(&format!("{title}{}", "─".repeat(fill)), Style::Dim, opts.color))?;
        for (name, c) in columns.iter().zip(row) {
            let mut lines = Vec::new();
            for l in &c.lines {
                match value_width {
                    Some(w) => lines.extend(text::wrap(l, w)),
                    None => lines.push(l.clone()),
                }
            }
            for (i, l) in lines.iter().enumerate() {
                let head = if i == 0 { text::truncate(name, label) } else { String::new() };
                let head = paint(&pad(&head, label), Style::Bold, opts.color);
                let value = if c.null { paint(l, Style::Dim, opts.color) } else { l.clone() };
                writeln!(out, "{} │ {}", head, value)?;
            }
        }
    }
    Ok(())
}

fn markdown_cell(s: &str) -> String {
    s.replace('\\', "\\\\").replace('|', "\\|").replace("\r\n", "<br>").replace('\n', "<br>")
}

/// The header of a Markdown table.
pub(super) fn markdown_header(out: &mut dyn Write, columns: &[String]) -> io::Result<()> {
    let names: Vec<String> = columns.iter().map(|c| markdown_cell(c)).collect();
    writeln!(out, "| {} |", names.join(" | "))?;
    let rules: Vec<String> = columns.iter().map(|_| "---".to_string()).collect();
    writeln!(out, "|{}|", rules.join("|"))
}

/// One row of a Markdown table.
pub(super) fn markdown_row(out: &mut dyn Write, row: &[Value]) -> io::Result<()> {
    let cells: Vec<String> = row
        .iter()
        .map(|v| match v {
            Value::Null => String::new(),
            other => markdown_cell(&text::cell(other)),
        })
        .collect();
    writeln!(out, "| {} |", cells.join(" | "))
}

/// One row in sqlite's `line` mode: `name = value` per field, right-aligned
/// names, a blank line between rows.
pub(super) fn line_row(
    out: &mut dyn Write,
    columns: &[String],
    row: &[Value],
    first: bool,
) -> io::Result<()> {
    if !first {
        writeln!(out)?;
    }
    let w = columns.iter().map(|c| width(c)).max().unwrap_or(0);
    for (name, v) in columns.iter().zip(row) {
        writeln!(out, "{} = {}", pad_left(name, w), text::cell(v))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_columns_keep_their_width_and_wide_ones_share_the_rest() {
        let (w, ok) = fit(&[4, 10, 100], Some(60));
        assert_eq!(w[0], 4);
        assert_eq!(w[1], 10);
        assert!(w.iter().sum::<usize>() + 10 <= 60, "{w:?}");
        assert!(ok);
        let (w, ok) = fit(&[40, 40, 40, 40, 40], Some(60));
        assert!(w.iter().sum::<usize>() + 16 <= 60, "{w:?}");
        assert!(!ok);
        assert_eq!(fit(&[3, 500], None).0, [3, MAX_CELL]);
    }
}
