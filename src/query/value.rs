//! Values that flow through query execution (`Val`, cheap: entities and
//! claims by id) and the values a result row holds ([`Value`], resolved: keys,
//! names, claim ids), with the comparison rules of the language.
//!
//! Dates compare by the period they name: `x < y` when `x` ends before `y`
//! starts, `x > y` when `x` starts after `y` ends, and `x = y` when the periods
//! overlap (so `2025-02-12 = 2025-02` and `2025-02-12 >= 2025-02` hold). For
//! dates of one precision this is the usual order. Sorting uses (first day,
//! last day), a total order consistent with it.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use crate::model::{Date, Timestamp};

/// A value during execution.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Date(Date),
    Time(Timestamp),
    /// A canonical entity id in the query's snapshot.
    Entity(u64),
    /// A claim by seq.
    Claim(u64),
    List(Vec<Val>),
    /// Alternating nodes and claims, starting and ending with a node.
    Path(Vec<Val>),
    /// A map literal or `properties(x)`, keys sorted.
    Map(BTreeMap<String, Val>),
}

impl Val {
    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Null => "null",
            Val::Bool(_) => "boolean",
            Val::Int(_) => "integer",
            Val::Float(_) => "float",
            Val::Str(_) => "string",
            Val::Date(_) => "date",
            Val::Time(_) => "timestamp",
            Val::Entity(_) => "entity",
            Val::Claim(_) => "claim",
            Val::List(_) => "list",
            Val::Path(_) => "path",
            Val::Map(_) => "map",
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Val::Bool(_) => 0,
            Val::Int(_) | Val::Float(_) => 1,
            Val::Str(_) => 2,
            Val::Date(_) => 3,
            Val::Time(_) => 4,
            Val::Entity(_) => 5,
            Val::Claim(_) => 6,
            Val::List(_) => 7,
            Val::Path(_) => 8,
            Val::Map(_) => 9,
            Val::Null => 10,
        }
    }

    /// A total order for ORDER BY, DISTINCT and grouping: by type, then value;
    /// nulls last.
    pub fn sort_cmp(&self, other: &Val) -> Ordering {
        use Val::*;
        match (self, other) {
            (Int(a), Int(b)) => a.cmp(b),
            (Int(_) | Float(_), Int(_) | Float(_)) => {
                as_f64(self).unwrap_or(0.0).total_cmp(&as_f64(other).unwrap_or(0.0))
            }
            (Bool(a), Bool(b)) => a.cmp(b),
            // Ids (claim ids above all) in their natural order: c3 < c11.
            (Str(a), Str(b)) => crate::model::natural_cmp(a, b),
            (Date(a), Date(b)) => (a.first_day(), a.end_day()).cmp(&(b.first_day(), b.end_day())),
            (Time(a), Time(b)) => a.cmp(b),
            (Entity(a), Entity(b)) | (Claim(a), Claim(b)) => a.cmp(b),
            (List(a), List(b)) | (Path(a), Path(b)) => {
                for (x, y) in a.iter().zip(b) {
                    let o = x.sort_cmp(y);
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                a.len().cmp(&b.len())
            }
            (Map(a), Map(b)) => {
                for ((ka, va), (kb, vb)) in a.iter().zip(b) {
                    let o = ka.cmp(kb).then_with(|| va.sort_cmp(vb));
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                a.len().cmp(&b.len())
            }
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

/// Hashes a value so that values [`Val::sort_cmp`] finds equal hash alike
/// (an integer as the float it compares as; a date by its period), for
/// grouping without a tree.
pub(crate) fn sort_hash<H: std::hash::Hasher>(v: &Val, h: &mut H) {
    use std::hash::Hash;
    v.rank().hash(h);
    match v {
        Val::Null => {}
        Val::Bool(b) => b.hash(h),
        Val::Int(i) => (*i as f64).to_bits().hash(h),
        Val::Float(f) => f.to_bits().hash(h),
        Val::Str(s) => s.hash(h),
        Val::Date(d) => (d.first_day(), d.end_day()).hash(h),
        Val::Time(t) => t.hash(h),
        Val::Entity(id) | Val::Claim(id) => id.hash(h),
        Val::List(items) | Val::Path(items) => {
            items.len().hash(h);
            items.iter().for_each(|i| sort_hash(i, h));
        }
        Val::Map(m) => {
            m.len().hash(h);
            m.iter().for_each(|(k, v)| {
                k.hash(h);
                sort_hash(v, h);
            });
        }
    }
}

/// Values as DISTINCT sees them: the same value of the same type (1 and 1.0
/// differ, as do -0.0 and 0.0; every NaN is one value), hashable.
#[derive(Debug, Clone)]
pub(crate) struct DistinctKey(pub Vec<Val>);

fn float_bits(f: f64) -> u64 {
    if f.is_nan() { f64::NAN.to_bits() } else { f.to_bits() }
}

fn hash_val<H: std::hash::Hasher>(v: &Val, h: &mut H) {
    use std::hash::Hash;
    std::mem::discriminant(v).hash(h);
    match v {
        Val::Null => {}
        Val::Bool(b) => b.hash(h),
        Val::Int(i) => i.hash(h),
        Val::Float(f) => float_bits(*f).hash(h),
        Val::Str(s) => s.hash(h),
        Val::Date(d) => d.hash(h),
        Val::Time(t) => t.hash(h),
        Val::Entity(id) | Val::Claim(id) => id.hash(h),
        Val::List(items) | Val::Path(items) => {
            items.len().hash(h);
            items.iter().for_each(|i| hash_val(i, h));
        }
        Val::Map(m) => {
            m.len().hash(h);
            m.iter().for_each(|(k, v)| {
                k.hash(h);
                hash_val(v, h);
            });
        }
    }
}

fn same_val(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::Float(x), Val::Float(y)) => float_bits(*x) == float_bits(*y),
        (Val::List(x), Val::List(y)) | (Val::Path(x), Val::Path(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_val(x, y))
        }
        (Val::List(_) | Val::Path(_), _) => false,
        (Val::Map(x), Val::Map(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((kx, vx), (ky, vy))| kx == ky && same_val(vx, vy))
        }
        _ => a == b,
    }
}

impl std::hash::Hash for DistinctKey {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.0.len().hash(h);
        self.0.iter().for_each(|v| hash_val(v, h));
    }
}

impl PartialEq for DistinctKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len() && self.0.iter().zip(&other.0).all(|(a, b)| same_val(a, b))
    }
}

impl Eq for DistinctKey {}

fn as_f64(v: &Val) -> Option<f64> {
    match v {
        Val::Int(i) => Some(*i as f64),
        Val::Float(f) => Some(*f),
        _ => None,
    }
}

fn year(y: i64) -> Option<Date> {
    Date::new(i32::try_from(y).ok()?, None, None).ok()
}

/// How two dates' periods relate.
fn date_relation(a: &Date, b: &Date) -> Ordering {
    if a.end_day() <= b.first_day() {
        Ordering::Less
    } else if a.first_day() >= b.end_day() {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

/// Compares two values for `= <> < <= > >=`; `None` when they are not
/// comparable (a null, or different types), which makes the comparison null.
pub(crate) fn compare(a: &Val, b: &Val) -> Option<Ordering> {
    use Val::*;
    match (a, b) {
        (Null, _) | (_, Null) => None,
        (Int(x), Int(y)) => Some(x.cmp(y)),
        (Int(_) | Float(_), Int(_) | Float(_)) => as_f64(a)?.partial_cmp(&as_f64(b)?),
        (Bool(x), Bool(y)) => Some(x.cmp(y)),
        (Str(x), Str(y)) => Some(x.cmp(y)),
        (Date(x), Date(y)) => Some(date_relation(x, y)),
        (Time(x), Time(y)) => Some(x.cmp(y)),
        (Time(t), Date(d)) => Some(date_relation(&t.date(), d)),
        // A bare year outside a date position parses as an integer; next to a
        // date it means that year.
        (Date(d), Int(y)) => Some(date_relation(d, &year(*y)?)),
        (Int(y), Date(d)) => Some(date_relation(&year(*y)?, d)),
        (Date(d), Time(t)) => Some(date_relation(d, &t.date())),
        // Entities, claims and lists have no order; only `equals` relates them.
        (Entity(x), Entity(y)) | (Claim(x), Claim(y)) => (x == y).then_some(Ordering::Equal),
        _ => None,
    }
}

/// `a = b` with null propagation: values of different types are unequal,
/// entities and claims are equal when they are the same, lists elementwise.
pub(crate) fn equals(a: &Val, b: &Val) -> Option<bool> {
    use Val::*;
    match (a, b) {
        (Null, _) | (_, Null) => None,
        (Entity(x), Entity(y)) | (Claim(x), Claim(y)) => Some(x == y),
        (List(x), List(y)) | (Path(x), Path(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            let mut unknown = false;
            for (p, q) in x.iter().zip(y) {
                match equals(p, q) {
                    Some(false) => return Some(false),
                    None => unknown = true,
                    Some(true) => {}
                }
            }
            if unknown { None } else { Some(true) }
        }
        (Map(x), Map(y)) => {
            if x.len() != y.len() || x.keys().ne(y.keys()) {
                return Some(false);
            }
            let mut unknown = false;
            for (p, q) in x.values().zip(y.values()) {
                match equals(p, q) {
                    Some(false) => return Some(false),
                    None => unknown = true,
                    Some(true) => {}
                }
            }
            if unknown { None } else { Some(true) }
        }
        _ => Some(compare(a, b) == Some(Ordering::Equal)),
    }
}

/// A value in a result row, resolved for people and programs.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Date(Date),
    Timestamp(Timestamp),
    Entity {
        key: String,
        name: String,
        kind: String,
    },
    Claim {
        id: String,
        summary: String,
    },
    List(Vec<Value>),
    /// `nodes[0] claims[0] nodes[1] …`; `forward[i]` tells whether claim i
    /// runs from `nodes[i]` (its subject) to `nodes[i + 1]`.
    Path {
        nodes: Vec<Value>,
        claims: Vec<Value>,
        forward: Vec<bool>,
    },
    /// A map, keys sorted.
    Map(BTreeMap<String, Value>),
}

impl Value {
    /// The entity key, for entity values.
    pub fn entity_key(&self) -> Option<&str> {
        match self {
            Value::Entity { key, .. } => Some(key),
            _ => None,
        }
    }

    /// The value as JSON (entities as `{"key","name","kind"}`, claims as
    /// `{"claim","summary"}`, dates and timestamps as strings).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => json!(b),
            Value::Int(i) => json!(i),
            Value::Float(f) => json!(f),
            Value::String(s) => json!(s),
            Value::Date(d) => json!(d.to_string()),
            Value::Timestamp(t) => json!(t.to_string()),
            Value::Entity { key, name, kind } => json!({"key": key, "name": name, "kind": kind}),
            Value::Claim { id, summary } => json!({"claim": id, "summary": summary}),
            Value::List(v) => serde_json::Value::Array(v.iter().map(Value::to_json).collect()),
            Value::Path { nodes, claims, forward } => json!({
                "nodes": nodes.iter().map(Value::to_json).collect::<Vec<_>>(),
                "claims": claims.iter().map(Value::to_json).collect::<Vec<_>>(),
                "forward": forward,
            }),
            Value::Map(m) => {
                serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::String(s) => f.write_str(s),
            Value::Date(d) => write!(f, "{d}"),
            Value::Timestamp(t) => write!(f, "{t}"),
            Value::Entity { key, name, .. } if name == key => write!(f, "@{key}"),
            Value::Entity { key, name, .. } => write!(f, "{name} (@{key})"),
            Value::Claim { summary, .. } => f.write_str(summary),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    match v {
                        Value::String(s) => write!(f, "{s:?}")?,
                        other => write!(f, "{other}")?,
                    }
                }
                f.write_str("]")
            }
            Value::Map(m) => {
                f.write_str("{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    match v {
                        Value::String(s) => write!(f, "{k}: {s:?}")?,
                        other => write!(f, "{k}: {other}")?,
                    }
                }
                f.write_str("}")
            }
            Value::Path { nodes, claims, forward } => {
                for (i, node) in nodes.iter().enumerate() {
                    write!(f, "({node})")?;
                    let id = match claims.get(i) {
                        Some(Value::Claim { id, .. }) => id.as_str(),
                        Some(_) => "?",
                        None => break,
                    };
                    if forward.get(i).copied().unwrap_or(true) {
                        write!(f, "-[{id}]->")?;
                    } else {
                        write!(f, "<-[{id}]-")?;
                    }
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Val {
        Val::Date(s.parse().unwrap())
    }

    #[test]
    fn dates_compare_by_period() {
        assert_eq!(compare(&d("2025-02-12"), &d("2025-02")), Some(Ordering::Equal));
        assert_eq!(compare(&d("2025-02-12"), &d("2025-03")), Some(Ordering::Less));
        assert_eq!(compare(&d("2025-03-01"), &d("2025-02")), Some(Ordering::Greater));
        assert_eq!(compare(&d("2025"), &d("2025-03-04")), Some(Ordering::Equal));
        assert_eq!(compare(&d("2024"), &d("2025-03-04")), Some(Ordering::Less));
        assert_eq!(d("2025").sort_cmp(&d("2025-01")), Ordering::Greater);
        assert_eq!(compare(&d("2025-02-12"), &Val::Int(2025)), Some(Ordering::Equal));
        assert_eq!(compare(&Val::Int(2024), &d("2025-02-12")), Some(Ordering::Less));
        assert_eq!(compare(&Val::Int(99999), &d("2025-02-12")), None);
    }

    #[test]
    fn equality_relates_what_order_cannot() {
        assert_eq!(equals(&Val::Entity(1), &Val::Entity(2)), Some(false));
        assert_eq!(equals(&Val::Entity(1), &Val::Entity(1)), Some(true));
        assert_eq!(
            equals(&Val::List(vec![Val::Int(1)]), &Val::List(vec![Val::Int(1), Val::Int(2)])),
            Some(false)
        );
        assert_eq!(equals(&Val::List(vec![Val::Null]), &Val::List(vec![Val::Int(1)])), None);
        assert_eq!(equals(&Val::Int(1), &Val::Str("1".into())), Some(false));
        assert_eq!(equals(&Val::Null, &Val::Int(1)), None);
        assert_eq!(compare(&Val::Entity(1), &Val::Entity(2)), None);
    }

    #[test]
    fn mixed_types_and_nulls_do_not_compare() {
        assert_eq!(compare(&Val::Int(1), &Val::Float(1.0)), Some(Ordering::Equal));
        assert_eq!(compare(&Val::Int(1), &Val::Str("1".into())), None);
        assert_eq!(compare(&Val::Null, &Val::Null), None);
        assert_eq!(Val::Null.sort_cmp(&Val::Int(1)), Ordering::Greater);
    }
}
