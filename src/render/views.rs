//! Views for results that read better as something other than a grid:
//! `HISTORY` as a timeline (one block per transaction: tx, recorded-at,
//! author and message, then what changed, who said it and where) and
//! `CONFLICTS` as the two claims side by side.

use std::io::{self, Write};

use super::text::{self, Style, pad, paint, width};
use super::{Lookup, Options};
use crate::model::Claim;
use crate::query::Value;

/// Width used when no width was given.
const DEFAULT_WIDTH: usize = 100;

fn get<'a>(columns: &[String], row: &'a [Value], name: &str) -> Option<&'a Value> {
    columns.iter().position(|c| c == name).and_then(|i| row.get(i)).filter(|v| !matches!(v, Value::Null))
}

fn get_str(columns: &[String], row: &[Value], name: &str) -> Option<String> {
    get(columns, row, name).map(text::cell)
}

/// A column as the views spell a reference: an entity as `@key` (or its
/// bare key when `at` is false), anything else as its text.
fn get_ref(columns: &[String], row: &[Value], name: &str, at: bool) -> Option<String> {
    get(columns, row, name).map(|v| match v {
        Value::Entity { key, .. } if at => format!("@{key}"),
        Value::Entity { key, .. } => key.clone(),
        other => text::cell(other),
    })
}

/// A speaker or source key as `Name (@key)` when the lookup knows it; a key
/// merged into another entity shows what it now stands for.
fn entity_label(lookup: Option<&dyn Lookup>, key: &str) -> String {
    match lookup.and_then(|l| l.entity(key)) {
        Some(e) if e.key != key => format!("@{key} (= {} @{})", e.name, e.key),
        Some(e) if e.name != e.key => format!("{} (@{key})", e.name),
        _ => format!("@{key}"),
    }
}

fn claim_of(lookup: Option<&dyn Lookup>, id: Option<&str>) -> Option<Claim> {
    lookup.and_then(|l| l.claim(id?))
}

/// `HISTORY` rows (tx, recorded_at, event, author, claim, what, by, source,
/// stance, valid) as a timeline.
pub(super) fn timeline(
    out: &mut dyn Write,
    columns: &[String],
    rows: &[Vec<Value>],
    opts: &Options,
    lookup: Option<&dyn Lookup>,
) -> io::Result<()> {
    let w = opts.max_width.unwrap_or(DEFAULT_WIDTH).max(40);
    let color = opts.color;
    let mut current: Option<String> = None;
    for row in rows {
        let tx = get_str(columns, row, "tx").unwrap_or_default();
        if current.as_deref() != Some(tx.as_str()) {
            if current.is_some() {
                writeln!(out)?;
            }
            current = Some(tx.clone());
            let at = get_str(columns, row, "recorded_at").unwrap_or_default();
            let author = get_str(columns, row, "author").unwrap_or_default();
            let head = format!("── tx {tx} · {at} · {author} ");
            let fill = w.saturating_sub(width(&head)).max(2);
            writeln!(out, "{}", paint(&format!("{head}{}", "─".repeat(fill)), Style::Bold, color))?;
            let message = tx.parse::<u64>().ok().and_then(|n| lookup.and_then(|l| l.tx_message(n)));
            if let Some(m) = message {
                for line in text::wrap_capped(&m, w - 3, 3) {
                    writeln!(out, "   {}", paint(&line, Style::Dim, color))?;
                }
            }
        }
        let event = get_str(columns, row, "event").unwrap_or_default();
        let id = get_str(columns, row, "claim");
        let what = get_str(columns, row, "what").unwrap_or_default();
        let claim = claim_of(lookup, id.as_deref());
        let (body, detail) = match (&claim, event.as_str()) {
            (Some(c), "assert") => {
                (format!("{}  @{} -[{}]-> {}", c.id, c.s, c.p, c.o), claim_detail(c, lookup))
            }
            (Some(c), "retract") => {
                let reason = what.split_once(": ").map_or(what.as_str(), |(_, r)| r).to_string();
                (format!("{}  {}", c.id, reason), None)
            }
            _ => (what.clone(), None),
        };
        let marker = match event.as_str() {
            "assert" => paint("+ assert ", Style::Green, color),
            "retract" => paint("- retract", Style::Red, color),
            "merge" | "unmerge" => paint(&format!("~ {}", pad(&event, 7)), Style::Yellow, color),
            other => paint(&format!("* {}", pad(other, 7)), Style::Cyan, color),
        };
        let indent = 3 + 9 + 2;
        let mut lines = text::wrap(&body, w.saturating_sub(indent)).into_iter();
        writeln!(out, "   {marker}  {}", lines.next().unwrap_or_default())?;
        for l in lines {
            writeln!(out, "{}{l}", " ".repeat(indent))?;
        }
        if let Some(d) = detail {
            for l in text::wrap(&d, w.saturating_sub(indent)) {
                writeln!(out, "{}{}", " ".repeat(indent), paint(&l, Style::Dim, color))?;
            }
        }
    }
    Ok(())
}

/// Stance, valid time, speaker and source of a claim, on one line.
fn claim_detail(c: &Claim, lookup: Option<&dyn Lookup>) -> Option<String> {
    let mut parts = vec![c.stance.as_str().to_string(), format!("valid {}", c.valid)];
    parts.push(match &c.by {
        Some(by) => format!("said by {}", entity_label(lookup, by)),
        None => "said by the source itself".to_string(),
    });
    if let Some(s) = &c.source {
        parts.push(format!("source @{s}"));
    }
    Some(parts.join(" · "))
}

/// One side of a conflict: the fields shown for a claim.
fn side(
    columns: &[String],
    row: &[Value],
    prefix: &str,
    lookup: Option<&dyn Lookup>,
) -> (String, Vec<(String, String)>) {
    let col = |name: &str| get_str(columns, row, &format!("{prefix}{name}"));
    let key = |name: &str| get_ref(columns, row, &format!("{prefix}{name}"), false);
    let id = col("claim").unwrap_or_default();
    let stance = col("stance").unwrap_or_default();
    let claim = claim_of(lookup, Some(&id));
    let object = get_ref(columns, row, &format!("{prefix}object"), true).unwrap_or_default();
    let object = match object.strip_prefix('@') {
        Some(key) => entity_label(lookup, key),
        None => object,
    };
    let mut fields = vec![("object".to_string(), object)];
    let by = key("by").map_or_else(|| "the source itself".to_string(), |b| entity_label(lookup, &b));
    fields.push(("by".into(), by));
    if let Some(src) = key("source") {
        fields.push(("source".into(), format!("@{src}")));
    }
    if let Some(c) = &claim {
        fields.push(("valid".into(), c.valid.to_string()));
        if let Some(s) = c.said_at {
            fields.push(("said at".into(), s.to_string()));
        }
        fields.push(("tx".into(), c.tx.to_string()));
        if let Some(q) = &c.quote {
            fields.push(("quote".into(), format!("“{q}”")));
        }
    }
    (format!("{id} · {stance}"), fields)
}

/// `CONFLICTS` rows, each as a heading and the two claims side by side.
pub(super) fn conflicts(
    out: &mut dyn Write,
    columns: &[String],
    rows: &[Vec<Value>],
    opts: &Options,
    lookup: Option<&dyn Lookup>,
) -> io::Result<()> {
    let w = opts.max_width.unwrap_or(DEFAULT_WIDTH).max(40);
    let color = opts.color;
    let half = (w - 7) / 2;
    for (n, row) in rows.iter().enumerate() {
        if n > 0 {
            writeln!(out)?;
        }
        let kind = get_str(columns, row, "conflict").unwrap_or_default();
        let subject = get_ref(columns, row, "subject", true).unwrap_or_default();
        let predicate = get_str(columns, row, "predicate").unwrap_or_default();
        let overlap = get_str(columns, row, "overlap").unwrap_or_default();
        let title = format!("{kind} conflict: {subject} {predicate}, overlapping {overlap}");
        for l in text::wrap(&title, w) {
            writeln!(out, "{}", paint(&l, Style::Bold, color))?;
        }
        let (ha, fa) = side(columns, row, "", lookup);
        let (hb, fb) = side(columns, row, "other_", lookup);
        let label = fa.iter().chain(&fb).map(|(k, _)| width(k)).max().unwrap_or(0);
        let body = |fields: &[(String, String)]| -> Vec<String> {
            let mut lines = Vec::new();
            for (k, v) in fields {
                for (i, l) in text::wrap(v, half.saturating_sub(label + 2)).into_iter().enumerate() {
                    let head = if i == 0 { k.as_str() } else { "" };
                    lines.push(format!("{}  {l}", pad(head, label)));
                }
            }
            lines
        };
        let (la, lb) = (body(&fa), body(&fb));
        let rule =
            |l: &str, m: &str, r: &str| format!("{l}{}{m}{}{r}", "─".repeat(half + 2), "─".repeat(half + 2));
        writeln!(out, "{}", rule("┌", "┬", "┐"))?;
        let heads = [text::truncate(&ha, half), text::truncate(&hb, half)];
        let heads = heads.map(|h| paint(&pad(&h, half), Style::Bold, color));
        writeln!(out, "│ {} │ {} │", heads[0], heads[1])?;
        writeln!(out, "{}", rule("├", "┼", "┤"))?;
        for i in 0..la.len().max(lb.len()) {
            let a = la.get(i).map_or("", String::as_str);
            let b = lb.get(i).map_or("", String::as_str);
            writeln!(
                out,
                "│ {} │ {} │",
                pad(&text::truncate(a, half), half),
                pad(&text::truncate(b, half), half)
            )?;
        }
        writeln!(out, "{}", rule("└", "┴", "┘"))?;
    }
    Ok(())
}
