//! A result's subgraph as Graphviz DOT: the entities it names become nodes
//! (merged entities drawn as the one they were merged into), the claims it
//! names become edges from subject to object labelled with the predicate,
//! the stance and the speaker; hedged claims are dashed, denials red and
//! dotted; literal objects are note-shaped nodes. Claims are looked up by id
//! (a result row only holds a claim's id and summary).

use std::collections::HashSet;
use std::io::{self, Write};

use super::{Lookup, Shape};
use crate::model::{Stance, Term};
use crate::query::Value;

#[derive(Default)]
struct Graph {
    nodes: Vec<(String, String, &'static str)>,
    node_ids: HashSet<String>,
    edges: Vec<String>,
    edge_ids: HashSet<String>,
    missing: usize,
    literals: usize,
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Graph {
    fn node(&mut self, id: String, label: String, shape: &'static str) {
        if self.node_ids.insert(id.clone()) {
            self.nodes.push((id, label, shape));
        }
    }

    /// The node of an entity key, canonical and labelled by name.
    fn entity(&mut self, key: &str, lookup: Option<&dyn Lookup>) -> String {
        match lookup.and_then(|l| l.entity(key)) {
            Some(e) => {
                let label = format!("{}\n@{} · {}", e.name, e.key, e.kind);
                self.node(e.key.clone(), label, "box");
                e.key
            }
            None => {
                self.node(key.to_string(), format!("@{key}"), "box");
                key.to_string()
            }
        }
    }

    fn claim(&mut self, id: &str, lookup: Option<&dyn Lookup>) {
        if self.edge_ids.contains(id) {
            return;
        }
        let Some(c) = lookup.and_then(|l| l.claim(id)) else {
            self.missing += 1;
            return;
        };
        self.edge_ids.insert(id.to_string());
        let s = self.entity(&c.s, lookup);
        let o = match &c.o {
            Term::Entity(k) => self.entity(k, lookup),
            literal => {
                self.literals += 1;
                let node = format!("literal:{}", self.literals);
                self.node(node.clone(), literal.to_string(), "note");
                node
            }
        };
        let speaker = match &c.by {
            Some(by) => match lookup.and_then(|l| l.entity(by)) {
                Some(e) => format!("by {}", e.name),
                None => format!("by @{by}"),
            },
            None => "by the source itself".to_string(),
        };
        let label = format!("{}: {}\n{} · {}", c.id, c.p, c.stance.as_str(), speaker);
        let style = match c.stance {
            Stance::Asserts => String::new(),
            Stance::Suggests => ", style=dashed".to_string(),
            Stance::Denies => ", style=dotted, color=\"#c0392b\", fontcolor=\"#c0392b\"".to_string(),
        };
        self.edges.push(format!(
            "  {} -> {} [label={}, tooltip={}{style}];",
            quote(&s),
            quote(&o),
            quote(&label),
            quote(&c.id)
        ));
    }

    fn value(&mut self, v: &Value, lookup: Option<&dyn Lookup>) {
        match v {
            Value::Entity { key, .. } => {
                self.entity(key, lookup);
            }
            Value::Claim { id, .. } => self.claim(id, lookup),
            Value::List(items) => {
                for i in items {
                    self.value(i, lookup);
                }
            }
            Value::Path { nodes, claims, .. } => {
                for i in nodes.iter().chain(claims) {
                    self.value(i, lookup);
                }
            }
            _ => {}
        }
    }
}

/// Writes the subgraph named by `rows`.
pub(super) fn write(
    out: &mut dyn Write,
    columns: &[String],
    rows: &[Vec<Value>],
    shape: Shape,
    lookup: Option<&dyn Lookup>,
) -> io::Result<()> {
    let mut g = Graph::default();
    // HISTORY and CONFLICTS name claims by id, in string columns.
    let id_columns: Vec<usize> = match shape {
        Shape::Rows => Vec::new(),
        Shape::Timeline | Shape::Conflicts => columns
            .iter()
            .enumerate()
            .filter(|(_, c)| *c == "claim" || *c == "other_claim")
            .map(|(i, _)| i)
            .collect(),
    };
    for row in rows {
        for (i, v) in row.iter().enumerate() {
            match v {
                Value::String(id) if id_columns.contains(&i) => g.claim(id, lookup),
                other => g.value(other, lookup),
            }
        }
    }
    writeln!(out, "digraph claimgraph {{")?;
    writeln!(out, "  rankdir=LR;")?;
    writeln!(out, "  node [shape=box, style=rounded, fontname=\"Helvetica\"];")?;
    writeln!(out, "  edge [fontname=\"Helvetica\", fontsize=10];")?;
    if g.nodes.is_empty() {
        writeln!(out, "  // the result names no entities or claims")?;
    }
    if g.missing > 0 {
        writeln!(out, "  // {} claim(s) could not be looked up", g.missing)?;
    }
    for (id, label, shape) in &g.nodes {
        let shape = if *shape == "box" { String::new() } else { format!(", shape={shape}") };
        writeln!(out, "  {} [label={}{shape}];", quote(id), quote(label))?;
    }
    for e in &g.edges {
        writeln!(out, "{e}")?;
    }
    writeln!(out, "}}")
}
