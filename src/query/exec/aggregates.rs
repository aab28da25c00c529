//! The statistical aggregates: `stDev`, `stDevP`, `percentileCont` and
//! `percentileDisc`, finishing over the values the RETURN stage collected.

use super::super::QueryError;
use super::super::value::Val;
use super::eval::{semantic, with_article};
use crate::query::ast::Span;

/// Sample (`population: false`) or population standard deviation; 0.0 for
/// fewer than two values (one for the population form), as Cypher gives.
pub(crate) fn stdev(values: &[f64], population: bool) -> Val {
    let n = values.len() as f64;
    let min = if population { 1.0 } else { 2.0 };
    if n < min {
        return Val::Float(0.0);
    }
    let mean = values.iter().sum::<f64>() / n;
    let squares: f64 = values.iter().map(|x| (x - mean) * (x - mean)).sum();
    Val::Float((squares / if population { n } else { n - 1.0 }).sqrt())
}

/// `percentileCont` (`continuous`, linear interpolation, a float) or
/// `percentileDisc` (the nearest value itself). Each collected value is
/// the list `[x, p]`; rows where `x` is null are skipped; `p` must be a
/// number from 0 to 1.
pub(crate) fn percentile(pairs: &[Val], continuous: bool, span: Span) -> Result<Val, QueryError> {
    let mut xs: Vec<Val> = Vec::with_capacity(pairs.len());
    let mut p: Option<f64> = None;
    for pair in pairs {
        let Val::List(items) = pair else { continue };
        let [x, q] = items.as_slice() else { continue };
        let q = match q {
            Val::Int(i) => *i as f64,
            Val::Float(f) => *f,
            other => {
                return Err(semantic(
                    span,
                    format!("a percentile must be a number, got {}", with_article(other.type_name())),
                ));
            }
        };
        if !(0.0..=1.0).contains(&q) {
            return Err(semantic(span, format!("a percentile must be between 0 and 1, got {q}")));
        }
        p = Some(q);
        match x {
            Val::Null => {}
            Val::Int(_) | Val::Float(_) => xs.push(x.clone()),
            other => {
                return Err(semantic(
                    span,
                    format!(
                        "type mismatch: percentiles need numbers, got {}",
                        with_article(other.type_name())
                    ),
                ));
            }
        }
    }
    let Some(p) = p else { return Ok(Val::Null) };
    if xs.is_empty() {
        return Ok(Val::Null);
    }
    xs.sort_by(|a, b| a.sort_cmp(b));
    let n = xs.len();
    let f = |v: &Val| match v {
        Val::Int(i) => *i as f64,
        Val::Float(x) => *x,
        _ => 0.0,
    };
    if continuous {
        let at = p * (n - 1) as f64;
        let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
        let (a, b) = (f(&xs[lo]), f(&xs[hi]));
        return Ok(Val::Float(a + (b - a) * (at - lo as f64)));
    }
    // Neo4j's rule: the value at ceil(p * n) - 1, or the first for p = 0.
    let at = p * n as f64;
    let idx = if p >= 1.0 { n - 1 } else { (at.ceil() as usize).saturating_sub(1) };
    Ok(xs[idx.min(n - 1)].clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(xs: &[i64], p: f64) -> Vec<Val> {
        xs.iter().map(|x| Val::List(vec![Val::Int(*x), Val::Float(p)])).collect()
    }

    #[test]
    fn standard_deviations() {
        let v = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert_eq!(stdev(&v, true), Val::Float(2.0));
        let Val::Float(s) = stdev(&v, false) else { panic!() };
        assert!((s - 2.138089935299395).abs() < 1e-12);
        assert_eq!(stdev(&[1.0], false), Val::Float(0.0));
    }

    #[test]
    fn percentiles() {
        let xs = [10, 20, 30, 40];
        assert_eq!(percentile(&pairs(&xs, 0.5), true, Span::default()).unwrap(), Val::Float(25.0));
        assert_eq!(percentile(&pairs(&xs, 0.5), false, Span::default()).unwrap(), Val::Int(20));
        assert_eq!(percentile(&pairs(&xs, 0.0), false, Span::default()).unwrap(), Val::Int(10));
        assert_eq!(percentile(&pairs(&xs, 1.0), false, Span::default()).unwrap(), Val::Int(40));
        assert!(percentile(&pairs(&xs, 1.5), true, Span::default()).is_err());
        assert_eq!(percentile(&[], true, Span::default()).unwrap(), Val::Null);
    }
}
