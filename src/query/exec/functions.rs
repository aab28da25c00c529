//! Scalar functions under their Cypher names (case-insensitive, as in
//! Cypher), with the language's older snake_case names kept as aliases
//! (`lower`, `upper`, `to_string`).
//!
//! Null in, null out: every function of one value returns null for a null
//! argument. A value of the wrong type is an error naming the function,
//! except where Cypher itself returns null (`toInteger('x')`).

use std::collections::BTreeMap;

use super::super::QueryError;
use super::super::value::Val;
use super::ctx::Ctx;
use super::eval::{property, semantic, with_article};
use crate::model::{Term, closest};
use crate::query::ast::Span;

/// Every function name the language knows, lower case (aggregates apart).
pub(crate) const NAMES: &[&str] = &[
    "lower",
    "upper",
    "tolower",
    "toupper",
    "size",
    "coalesce",
    "year",
    "to_string",
    "tostring",
    "substring",
    "trim",
    "ltrim",
    "rtrim",
    "replace",
    "split",
    "left",
    "right",
    "reverse",
    "tointeger",
    "tofloat",
    "toboolean",
    "abs",
    "round",
    "floor",
    "ceil",
    "sqrt",
    "sign",
    "head",
    "last",
    "tail",
    "range",
    "keys",
    "type",
    "id",
    "length",
    "labels",
    "properties",
    "nodes",
    "relationships",
    "startnode",
    "endnode",
    "rand",
];

/// Longest list `range` builds.
const MAX_RANGE: i64 = 1_000_000;

/// Calls function `name` on evaluated arguments.
pub(crate) fn call(ctx: &Ctx<'_>, name: &str, args: Vec<Val>, span: Span) -> Result<Val, QueryError> {
    let lower = name.to_ascii_lowercase();
    let f = Call { name, span };
    Ok(match lower.as_str() {
        "lower" | "tolower" => match f.one(args)? {
            Val::Str(s) => Val::Str(s.to_lowercase()),
            other => f.not_null(other, "a string")?,
        },
        "upper" | "toupper" => match f.one(args)? {
            Val::Str(s) => Val::Str(s.to_uppercase()),
            other => f.not_null(other, "a string")?,
        },
        "trim" | "ltrim" | "rtrim" => match f.one(args)? {
            Val::Str(s) => Val::Str(match lower.as_str() {
                "trim" => s.trim().to_string(),
                "ltrim" => s.trim_start().to_string(),
                _ => s.trim_end().to_string(),
            }),
            other => f.not_null(other, "a string")?,
        },
        "size" => match f.one(args)? {
            Val::Str(s) => Val::Int(s.chars().count() as i64),
            Val::List(l) => Val::Int(l.len() as i64),
            Val::Map(m) => Val::Int(m.len() as i64),
            Val::Path(p) => Val::Int((p.len() / 2) as i64),
            other => f.not_null(other, "a string or a list")?,
        },
        // openCypher's length is a path's (its relationships: claims, 0 for
        // a path of one node); `size` measures strings and lists.
        "length" => match f.one(args)? {
            Val::Path(p) => Val::Int((p.len() / 2) as i64),
            other => f.not_null(other, "a path")?,
        },
        "year" => match f.one(args)? {
            Val::Date(d) => Val::Int(d.year() as i64),
            Val::Time(t) => Val::Int(t.date().year() as i64),
            _ => Val::Null,
        },
        "to_string" | "tostring" => match f.one(args)? {
            Val::Null => Val::Null,
            Val::Str(s) => Val::Str(s),
            Val::Date(d) => Val::Str(d.to_string()),
            Val::Time(t) => Val::Str(t.to_string()),
            Val::Int(i) => Val::Str(i.to_string()),
            Val::Float(x) => Val::Str(float_string(x)),
            Val::Bool(b) => Val::Str(b.to_string()),
            // An entity reads as its key, a claim as its id.
            Val::Entity(id) => match ctx.entity(id)? {
                Some(e) => Val::Str(e.key.clone()),
                None => Val::Null,
            },
            v @ Val::Claim(_) => property(ctx, &v, "id", span)?,
            other => return Err(f.wrong(&other, "a scalar, an entity or a claim")),
        },
        "substring" => {
            let (s, start, len) = match args.as_slice() {
                [s, a] => (s.clone(), a.clone(), None),
                [s, a, n] => (s.clone(), a.clone(), Some(n.clone())),
                _ => return Err(f.arity("two or three arguments")),
            };
            let (Val::Str(s), Val::Int(start)) = (&s, &start) else {
                return if matches!(s, Val::Null) {
                    Ok(Val::Null)
                } else {
                    Err(f.wrong(&s, "a string and integers"))
                };
            };
            let len = match len {
                None => None,
                Some(Val::Int(n)) => Some(n),
                Some(Val::Null) => return Ok(Val::Null),
                Some(other) => return Err(f.wrong(&other, "an integer length")),
            };
            if *start < 0 || len.is_some_and(|n| n < 0) {
                return Err(semantic(span, format!("`{name}` takes a start and length of zero or more")));
            }
            let chars = s.chars().skip(*start as usize);
            Val::Str(match len {
                Some(n) => chars.take(n as usize).collect(),
                None => chars.collect(),
            })
        }
        "left" | "right" => {
            let [s, n] = f.two(args)?;
            match (s, n) {
                (Val::Null, _) => Val::Null,
                (_, Val::Null) => return Err(semantic(span, format!("`{name}` needs a length, got null"))),
                (Val::Str(s), Val::Int(n)) if n >= 0 => {
                    let count = s.chars().count();
                    let n = (n as usize).min(count);
                    Val::Str(if lower == "left" {
                        s.chars().take(n).collect()
                    } else {
                        s.chars().skip(count - n).collect()
                    })
                }
                (Val::Str(_), Val::Int(_)) => {
                    return Err(semantic(span, format!("`{name}` takes a length of zero or more")));
                }
                (s, _) => return Err(f.wrong(&s, "a string and an integer")),
            }
        }
        "replace" => {
            let [s, from, to] = f.three(args)?;
            match (s, from, to) {
                (Val::Str(s), Val::Str(a), Val::Str(b)) => Val::Str(s.replace(a.as_str(), &b)),
                (Val::Null, _, _) | (_, Val::Null, _) | (_, _, Val::Null) => Val::Null,
                (s, _, _) => return Err(f.wrong(&s, "three strings")),
            }
        }
        "split" => {
            let [s, d] = f.two(args)?;
            match (s, d) {
                (Val::Str(s), Val::Str(d)) => {
                    let parts: Vec<Val> = if d.is_empty() {
                        s.chars().map(|c| Val::Str(c.to_string())).collect()
                    } else {
                        s.split(d.as_str()).map(|p| Val::Str(p.to_string())).collect()
                    };
                    Val::List(parts)
                }
                (Val::Null, _) | (_, Val::Null) => Val::Null,
                (s, _) => return Err(f.wrong(&s, "two strings")),
            }
        }
        "reverse" => match f.one(args)? {
            Val::Str(s) => Val::Str(s.chars().rev().collect()),
            Val::List(mut l) => {
                l.reverse();
                Val::List(l)
            }
            other => f.not_null(other, "a string or a list")?,
        },
        "tointeger" => match f.one(args)? {
            Val::Int(i) => Val::Int(i),
            Val::Float(x) if x.is_finite() && x.abs() < 9.2e18 => Val::Int(x.trunc() as i64),
            Val::Float(_) => Val::Null,
            Val::Bool(b) => Val::Int(i64::from(b)),
            Val::Str(s) => match s.trim().parse::<i64>() {
                Ok(i) => Val::Int(i),
                Err(_) => match s.trim().parse::<f64>() {
                    Ok(x) if x.is_finite() && x.abs() < 9.2e18 => Val::Int(x.trunc() as i64),
                    _ => Val::Null,
                },
            },
            other => f.not_null(other, "a number, a boolean or a string")?,
        },
        "tofloat" => match f.one(args)? {
            Val::Int(i) => Val::Float(i as f64),
            Val::Float(x) => Val::Float(x),
            Val::Str(s) => s.trim().parse::<f64>().map_or(Val::Null, Val::Float),
            other => f.not_null(other, "a number or a string")?,
        },
        "toboolean" => match f.one(args)? {
            Val::Bool(b) => Val::Bool(b),
            Val::Int(i) => Val::Bool(i != 0),
            Val::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" => Val::Bool(true),
                "false" => Val::Bool(false),
                _ => Val::Null,
            },
            other => f.not_null(other, "a boolean, an integer or a string")?,
        },
        "abs" => match f.one(args)? {
            Val::Int(i) => Val::Int(i.checked_abs().ok_or_else(|| semantic(span, "integer overflow"))?),
            Val::Float(x) => Val::Float(x.abs()),
            other => f.not_null(other, "a number")?,
        },
        "sign" => match f.one(args)? {
            Val::Int(i) => Val::Int(i.signum()),
            Val::Float(x) if x == 0.0 || x.is_nan() => Val::Int(0),
            Val::Float(x) => Val::Int(if x > 0.0 { 1 } else { -1 }),
            other => f.not_null(other, "a number")?,
        },
        "round" | "floor" | "ceil" | "sqrt" => {
            let x = match f.one(args)? {
                Val::Int(i) => i as f64,
                Val::Float(x) => x,
                other => return f.not_null(other, "a number"),
            };
            Val::Float(match lower.as_str() {
                // Cypher rounds half up (towards positive infinity).
                "round" => (x + 0.5).floor(),
                "floor" => x.floor(),
                "ceil" => x.ceil(),
                _ => x.sqrt(),
            })
        }
        "head" | "last" => match f.one(args)? {
            Val::List(l) => {
                let v = if lower == "head" { l.into_iter().next() } else { l.into_iter().next_back() };
                v.unwrap_or(Val::Null)
            }
            other => f.not_null(other, "a list")?,
        },
        "tail" => match f.one(args)? {
            Val::List(l) => Val::List(l.into_iter().skip(1).collect()),
            other => f.not_null(other, "a list")?,
        },
        "range" => {
            let (a, b, step) = match args.as_slice() {
                [a, b] => (a.clone(), b.clone(), Val::Int(1)),
                [a, b, s] => (a.clone(), b.clone(), s.clone()),
                _ => return Err(f.arity("two or three arguments")),
            };
            let (Val::Int(a), Val::Int(b), Val::Int(step)) = (&a, &b, &step) else {
                return Err(semantic(span, format!("`{name}` takes integers")));
            };
            if *step == 0 {
                return Err(semantic(span, format!("`{name}` needs a step other than 0")));
            }
            let count = if (*step > 0 && a > b) || (*step < 0 && a < b) {
                0
            } else {
                (i128::from(*b) - i128::from(*a)) / i128::from(*step) + 1
            };
            if count > i128::from(MAX_RANGE) {
                return Err(semantic(
                    span,
                    format!("`{name}` would build {count} elements (limit {MAX_RANGE})"),
                ));
            }
            Val::List((0..count as i64).map(|k| Val::Int(a + k * step)).collect())
        }
        "coalesce" => args.into_iter().find(|v| !matches!(v, Val::Null)).unwrap_or(Val::Null),
        "rand" => {
            if !args.is_empty() {
                return Err(f.arity("no arguments"));
            }
            Val::Float(random_unit())
        }
        "nodes" | "relationships" => match f.one(args)? {
            // A path alternates nodes (even positions) and claims.
            Val::Path(items) => {
                let parity = usize::from(lower == "relationships");
                Val::List(
                    items.into_iter().enumerate().filter(|(k, _)| k % 2 == parity).map(|(_, v)| v).collect(),
                )
            }
            other => f.not_null(other, "a path")?,
        },
        "startnode" | "endnode" => match f.one(args)? {
            v @ Val::Claim(_) => {
                property(ctx, &v, if lower == "startnode" { "subject" } else { "object" }, span)?
            }
            other => f.not_null(other, "a claim")?,
        },
        "keys" => match f.one(args)? {
            Val::Map(m) => Val::List(m.into_keys().map(Val::Str).collect()),
            v @ (Val::Entity(_) | Val::Claim(_)) => {
                Val::List(properties(ctx, &v, span)?.into_keys().map(Val::Str).collect())
            }
            other => f.not_null(other, "a map, an entity or a claim")?,
        },
        "properties" => match f.one(args)? {
            Val::Map(m) => Val::Map(m),
            v @ (Val::Entity(_) | Val::Claim(_)) => Val::Map(properties(ctx, &v, span)?),
            other => f.not_null(other, "a map, an entity or a claim")?,
        },
        "type" => match f.one(args)? {
            v @ Val::Claim(_) => property(ctx, &v, "predicate", span)?,
            other => f.not_null(other, "a claim")?,
        },
        "labels" => match f.one(args)? {
            Val::Entity(id) => match ctx.entity(id)? {
                Some(e) => Val::List(vec![Val::Str(e.kind.clone())]),
                None => Val::Null,
            },
            other => f.not_null(other, "an entity")?,
        },
        "id" => match f.one(args)? {
            Val::Entity(id) | Val::Claim(id) => Val::Int(id as i64),
            other => f.not_null(other, "an entity or a claim")?,
        },
        _ => {
            let hint = closest(&lower, NAMES.iter().copied()).map(|c| format!(", did you mean `{c}`?"));
            return Err(semantic(span, format!("unknown function `{name}`{}", hint.unwrap_or_default())));
        }
    })
}

/// A uniformly distributed float in [0, 1): xorshift64* per thread, seeded
/// from the standard library's random hasher keys (no new dependency for a
/// function whose results are only ever compared statistically).
fn random_unit() -> f64 {
    use std::cell::Cell;
    use std::hash::{BuildHasher, Hasher};
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(0x9e37_79b9_7f4a_7c15);
            h.finish() | 1
        });
    }
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    })
}

/// A float as Cypher prints it: always with a decimal point.
fn float_string(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e16 { format!("{x:.1}") } else { x.to_string() }
}

/// The properties `keys` and `properties` show: for an entity its name
/// (when it differs from the key) and attributes; for a claim the optional
/// fields that are set and every qualifier.
fn properties(ctx: &Ctx<'_>, v: &Val, span: Span) -> Result<BTreeMap<String, Val>, QueryError> {
    let mut out = BTreeMap::new();
    match v {
        Val::Entity(id) => {
            if let Some(e) = ctx.entity(*id)? {
                if e.name != e.key {
                    out.insert("name".to_string(), Val::Str(e.name.clone()));
                }
                for (k, t) in &e.attrs {
                    out.insert(k.clone(), term(ctx, t)?);
                }
            }
        }
        Val::Claim(seq) => {
            let c = ctx.claim(*seq)?;
            for field in ["by", "source", "confidence", "quote", "said_at", "valid_from", "valid_to"] {
                let value = property(ctx, v, field, span)?;
                if !matches!(value, Val::Null) {
                    out.insert(field.to_string(), value);
                }
            }
            for (k, t) in &c.qualifiers {
                out.insert(k.clone(), term(ctx, t)?);
            }
        }
        _ => {}
    }
    Ok(out)
}

fn term(ctx: &Ctx<'_>, t: &Term) -> Result<Val, QueryError> {
    Ok(ctx.data_val(t)?)
}

/// A function being called, for argument checks and messages.
struct Call<'a> {
    name: &'a str,
    span: Span,
}

impl Call<'_> {
    fn arity(&self, what: &str) -> QueryError {
        semantic(self.span, format!("`{}` takes {what}", self.name))
    }

    fn one(&self, args: Vec<Val>) -> Result<Val, QueryError> {
        let [v] = <[Val; 1]>::try_from(args).map_err(|_| self.arity("one argument"))?;
        Ok(v)
    }

    fn two(&self, args: Vec<Val>) -> Result<[Val; 2], QueryError> {
        <[Val; 2]>::try_from(args).map_err(|_| self.arity("two arguments"))
    }

    fn three(&self, args: Vec<Val>) -> Result<[Val; 3], QueryError> {
        <[Val; 3]>::try_from(args).map_err(|_| self.arity("three arguments"))
    }

    fn wrong(&self, v: &Val, want: &str) -> QueryError {
        semantic(
            self.span,
            format!("type mismatch: `{}` takes {want}, got {}", self.name, with_article(v.type_name())),
        )
    }

    /// Null for a null argument, else the type error.
    fn not_null(&self, v: Val, want: &str) -> Result<Val, QueryError> {
        match v {
            Val::Null => Ok(Val::Null),
            other => Err(self.wrong(&other, want)),
        }
    }
}
