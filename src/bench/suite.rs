//! The query suite Q1–Q8: claimgraph's text for each parameter pick, the
//! `$parameter` form where the language has a place for every parameter, and
//! the canonical rows used to check that claimgraph, SQLite and the floor
//! return the same answer (so a comparison is of equal work).

use std::collections::HashMap;

use crate::r#gen::Pick;
use crate::model::Date;
use crate::query::{Params, QueryResult, Value};

/// One query of the suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Q {
    Q1,
    Q2,
    Q3,
    Q4,
    Q5,
    Q6,
    Q7,
    Q8,
}

/// A row as text: the same canonical form from every engine.
pub type Row = Vec<String>;

impl Q {
    pub const ALL: [Q; 8] = [Q::Q1, Q::Q2, Q::Q3, Q::Q4, Q::Q5, Q::Q6, Q::Q7, Q::Q8];

    /// `q1` … `q8`, the key in the picks file.
    pub fn key(self) -> &'static str {
        ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8"][self as usize]
    }

    /// `Q1` … `Q8`.
    pub fn label(self) -> &'static str {
        ["Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q7", "Q8"][self as usize]
    }

    pub fn title(self) -> &'static str {
        match self {
            Q::Q1 => "live outgoing claims of X (predicate, object)",
            Q::Q2 => "Q1 with the predicate bound",
            Q::Q3 => "two hops X -[P]-> y -[any]-> z, distinct z",
            Q::Q4 => "claims by speaker S, source published in a 6-month window",
            Q::Q5 => "Q1 as of an earlier tx",
            Q::Q6 => "live claims about X (subject or object) valid on D",
            Q::Q7 => "live claims per predicate for X, top 10",
            Q::Q8 => "stance conflicts about X",
        }
    }

    /// Whether the row order is part of the answer (else rows compare as a
    /// multiset).
    pub fn ordered(self) -> bool {
        self == Q::Q7
    }

    /// claimgraph's query text for one pick, parameters written in.
    pub fn text(self, pick: &Pick) -> String {
        let x = pick.x.as_deref().unwrap_or("");
        let p = pick.p.as_deref().unwrap_or("");
        match self {
            Q::Q1 => format!("MATCH (@{x})-[c]->(o) RETURN c.predicate AS p, o"),
            Q::Q2 => format!("MATCH (@{x})-[c:{p}]->(o) RETURN c.predicate AS p, o"),
            Q::Q3 => format!("MATCH (@{x})-[:{p}]->(y)-[]->(z) RETURN DISTINCT z"),
            Q::Q4 => format!(
                "MATCH (a)-[c]->(b) WHERE c.by = @{} AND c.source.published >= {} \
                 AND c.source.published <= {} RETURN c.id",
                pick.speaker.as_deref().unwrap_or(""),
                pick.from.as_deref().unwrap_or(""),
                pick.to.as_deref().unwrap_or("")
            ),
            Q::Q5 => {
                format!("MATCH (@{x})-[c]->(o) RETURN c.predicate AS p, o AS OF TX {}", pick.tx.unwrap_or(0))
            }
            Q::Q6 => {
                format!("MATCH (@{x})-[c]-(o) RETURN c.id VALID AT {}", pick.date.as_deref().unwrap_or(""))
            }
            Q::Q7 => {
                format!(
                    "MATCH (@{x})-[c]->(o) RETURN c.predicate AS p, count(*) AS n ORDER BY n DESC, p LIMIT 10"
                )
            }
            Q::Q8 => format!("CONFLICTS ABOUT @{x}"),
        }
    }

    /// The same query with `$parameters`, prepared once for every pick, where
    /// the language can say it: an entity anchor (`@x`, `CONFLICTS ABOUT`)
    /// takes no parameter, so the anchor becomes a WHERE condition (Q8 has
    /// no such form); `AS OF TX $t` and `VALID AT $d` do.
    pub fn param_text(self) -> Option<&'static str> {
        Some(match self {
            Q::Q1 => "MATCH (x)-[c]->(o) WHERE x.key = $x RETURN c.predicate AS p, o",
            Q::Q2 => "MATCH (x)-[c]->(o) WHERE x.key = $x AND c.predicate = $p RETURN c.predicate AS p, o",
            Q::Q3 => "MATCH (x)-[c]->(y)-[]->(z) WHERE x.key = $x AND c.predicate = $p RETURN DISTINCT z",
            Q::Q4 => {
                "MATCH (a)-[c]->(b) WHERE c.by.key = $s AND c.source.published >= $from \
                 AND c.source.published <= $to RETURN c.id"
            }
            Q::Q5 => "MATCH (x)-[c]->(o) WHERE x.key = $x RETURN c.predicate AS p, o AS OF TX $t",
            Q::Q6 => "MATCH (x)-[c]-(o) WHERE x.key = $x RETURN c.id VALID AT $d",
            Q::Q7 => {
                "MATCH (x)-[c]->(o) WHERE x.key = $x \
                 RETURN c.predicate AS p, count(*) AS n ORDER BY n DESC, p LIMIT 10"
            }
            Q::Q8 => return None,
        })
    }

    /// The parameters of [`Q::param_text`] for one pick.
    pub fn params(self, pick: &Pick) -> Params {
        let mut out: Params = HashMap::new();
        let text = |v: &Option<String>| Value::String(v.clone().unwrap_or_default());
        let date = |v: &Option<String>| match v.as_deref().and_then(|d| d.parse::<Date>().ok()) {
            Some(d) => Value::Date(d),
            None => Value::Null,
        };
        match self {
            Q::Q4 => {
                out.insert("s".into(), text(&pick.speaker));
                out.insert("from".into(), date(&pick.from));
                out.insert("to".into(), date(&pick.to));
            }
            _ => {
                out.insert("x".into(), text(&pick.x));
                if pick.p.is_some() {
                    out.insert("p".into(), text(&pick.p));
                }
                if pick.date.is_some() {
                    out.insert("d".into(), date(&pick.date));
                }
                if let Some(t) = pick.tx {
                    out.insert("t".into(), Value::Int(i64::try_from(t).unwrap_or(i64::MAX)));
                }
            }
        }
        out
    }

    /// claimgraph's result as canonical rows (sorted unless [`Q::ordered`]).
    pub fn canonical(self, r: &QueryResult) -> Vec<Row> {
        let col = |name: &str| r.columns.iter().position(|c| c == name).unwrap_or(usize::MAX);
        let rows: Vec<Row> = match self {
            Q::Q1 | Q::Q2 | Q::Q5 => {
                r.rows.iter().map(|v| vec![plain_text(&v[0]), object_text(&v[1])]).collect()
            }
            Q::Q3 => r.rows.iter().map(|v| vec![object_text(&v[0])]).collect(),
            Q::Q4 | Q::Q6 => r.rows.iter().map(|v| vec![plain_text(&v[0])]).collect(),
            Q::Q7 => r.rows.iter().map(|v| vec![plain_text(&v[0]), plain_text(&v[1])]).collect(),
            Q::Q8 => {
                let (a, b) = (col("claim"), col("other_claim"));
                r.rows
                    .iter()
                    .map(|v| {
                        vec![
                            v.get(a).map_or_else(String::new, plain_text),
                            v.get(b).map_or_else(String::new, plain_text),
                        ]
                    })
                    .collect()
            }
        };
        self.normalize(rows)
    }

    /// Sorts rows unless their order is part of the answer.
    pub fn normalize(self, mut rows: Vec<Row>) -> Vec<Row> {
        if !self.ordered() {
            rows.sort();
        }
        rows
    }
}

/// An entity as an object column: `@key/name/kind`.
pub fn entity_text(key: &str, name: &str, kind: &str) -> String {
    format!("@{key}/{name}/{kind}")
}

/// A value in an object position: entities as [`entity_text`], literals as
/// the `Term` display (strings quoted), so `"5"` and `5` differ.
pub fn object_text(v: &Value) -> String {
    match v {
        Value::Entity { key, name, kind } => entity_text(key, name, kind),
        Value::String(s) => format!("{s:?}"),
        Value::Float(x) => format!("{x:?}"),
        other => other.to_string(),
    }
}

/// A value in a plain column (ids, predicates, counts).
pub fn plain_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => object_text(other),
    }
}
