//! Expression evaluation against one row: variables by slot, properties of
//! entities and claims (dotted chains walk through entity-valued ones),
//! operators with null propagation, and scalar functions.

use std::cmp::Ordering;

use super::super::QueryError;
use super::super::ast::{BinOp, EntityRef, EntityTarget, Expr, ExprKind, Literal, Span};
use super::super::value::{Val, compare, equals};
use super::ctx::Ctx;
use crate::model::{Date, Term, closest};

/// Variable name → row slot.
pub(crate) type Scope = super::ctx::FxMap<String, usize>;

/// A type name with its article: "an integer", "a string".
pub(crate) fn with_article(type_name: &str) -> String {
    let article = if type_name.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!("{article} {type_name}")
}

pub(crate) fn semantic(span: Span, message: impl Into<String>) -> QueryError {
    QueryError::Semantic { span, message: message.into() }
}

/// The scalar functions the language knows (aggregates are separate).
pub(crate) const FUNCTIONS: &[&str] = super::functions::NAMES;

/// Resolves `@key` / `@"Name"` to a canonical entity id, or an error naming
/// the nearest known entity.
pub(crate) fn entity_ref(ctx: &Ctx<'_>, r: &EntityRef) -> Result<u64, QueryError> {
    let text = match &r.target {
        EntityTarget::Key(k) => k.as_str(),
        EntityTarget::Name(n) => n.as_str(),
    };
    if let Some(&id) = ctx.refs.borrow().get(text) {
        return Ok(id);
    }
    let found = match &r.target {
        EntityTarget::Key(k) => match ctx.snap.declared_entity_id(k)? {
            Some(id) => Some(ctx.canonical(id)?),
            None => ctx.snap.lookup(k)?.first().copied(),
        },
        EntityTarget::Name(n) => ctx.snap.lookup(n)?.first().copied(),
    };
    match found {
        Some(id) => {
            ctx.refs.borrow_mut().insert(text.to_string(), id);
            Ok(id)
        }
        None => {
            // Declared only after the snapshot: its id matches nothing here
            // (no claim, record or merge of it is visible yet), so the query
            // answers as of then instead of failing.
            let latest = ctx.snap.at_head();
            let later = match &r.target {
                EntityTarget::Key(k) => latest.declared_entity_id(k)?,
                EntityTarget::Name(n) => latest.lookup(n)?.first().copied(),
            };
            if let Some(id) = later {
                ctx.refs.borrow_mut().insert(text.to_string(), id);
                return Ok(id);
            }
            let known: Vec<String> = latest.entities()?.into_iter().map(|(_, e)| e.key).collect();
            let suggestion =
                closest(&text.to_lowercase(), known.iter().map(|s| s.as_str())).map(str::to_string);
            Err(QueryError::UnknownEntity { span: r.span, name: text.to_string(), suggestion })
        }
    }
}

pub(crate) fn literal(l: &Literal) -> Val {
    match l {
        Literal::Null => Val::Null,
        Literal::Bool(b) => Val::Bool(*b),
        Literal::Int(i) => Val::Int(*i),
        Literal::Float(f) => Val::Float(*f),
        Literal::Str(s) => Val::Str(s.clone()),
        Literal::Date(d) => match Date::new(d.year, d.month.map(u32::from), d.day.map(u32::from)) {
            Ok(date) => Val::Date(date),
            Err(_) => Val::Null,
        },
        Literal::Timestamp(t) => Val::Time(crate::model::Timestamp(t.micros)),
    }
}

/// A parameter holding an entity compared with a string (`a.key = $who`
/// with an entity in `$who`) is never true: a program that passed the wrong
/// kind of value would get no rows and no word. Said as an error instead;
/// a comparison of data values of mixed kinds (an object that is sometimes
/// an entity) stays null, as Cypher has it.
fn entity_parameter_against_string(
    ctx: &Ctx<'_>,
    op: super::super::ast::BinOp,
    (lhs, a): (Option<&Expr>, &Val),
    (rhs, b): (&Expr, &Val),
    span: Span,
) -> Result<(), QueryError> {
    use super::super::ast::BinOp::{Eq, Ge, Gt, Le, Lt, Ne};
    if !matches!(op, Eq | Ne | Lt | Le | Gt | Ge) {
        return Ok(());
    }
    fn entity_param<'e>(ctx: &Ctx<'_>, e: Option<&'e Expr>) -> Option<&'e str> {
        match e.map(|e| &e.kind) {
            Some(ExprKind::Param(name)) => {
                matches!(ctx.params.get(name), Some(super::super::value::Value::Entity { .. }))
                    .then_some(name.as_str())
            }
            _ => None,
        }
    }
    let name = match (entity_param(ctx, lhs), entity_param(ctx, Some(rhs))) {
        (Some(name), _) if matches!(b, Val::Str(_)) => name,
        (_, Some(name)) if matches!(a, Val::Str(_)) => name,
        _ => return Ok(()),
    };
    Err(semantic(
        span,
        format!(
            "`${name}` holds an entity, compared here with a string (never true): compare it with a node \
             (`a = ${name}`), or pass the entity's key as a string"
        ),
    ))
}

/// Evaluates an expression for one row.
pub(crate) fn eval(ctx: &Ctx<'_>, scope: &Scope, row: &[Val], e: &Expr) -> Result<Val, QueryError> {
    Ok(match &e.kind {
        ExprKind::Lit(l) => literal(l),
        ExprKind::Param(name) => match ctx.params.get(name) {
            Some(v) => param_val(ctx, v),
            None => {
                return Err(semantic(e.span, format!("no value for parameter `${name}`")));
            }
        },
        ExprKind::Entity(r) => Val::Entity(entity_ref(ctx, r)?),
        ExprKind::Var(name) => match scope.get(name) {
            Some(&slot) => row.get(slot).cloned().unwrap_or(Val::Null),
            None => return Err(semantic(e.span, format!("unknown variable `{name}`"))),
        },
        ExprKind::Property { base, path } => {
            let mut v = eval(ctx, scope, row, base)?;
            // A node variable may hold a literal object, which has no
            // properties: reading one is null, so the answer never depends on
            // which rows a plan filters first. Other scalars are type errors.
            if matches!(base.kind, ExprKind::Var(_))
                && !matches!(v, Val::Entity(_) | Val::Claim(_) | Val::Map(_))
            {
                return Ok(Val::Null);
            }
            for ident in path {
                v = property(ctx, &v, &ident.name, ident.span)?;
            }
            v
        }
        ExprKind::List(items) => {
            Val::List(items.iter().map(|i| eval(ctx, scope, row, i)).collect::<Result<_, _>>()?)
        }
        ExprKind::Not(inner) => match eval(ctx, scope, row, inner)? {
            Val::Bool(b) => Val::Bool(!b),
            Val::Null => Val::Null,
            other => return Err(type_error(inner.span, "NOT", &other)),
        },
        ExprKind::Neg(inner) => match eval(ctx, scope, row, inner)? {
            Val::Int(i) => Val::Int(i.checked_neg().ok_or_else(|| semantic(e.span, "integer overflow"))?),
            Val::Float(f) => Val::Float(-f),
            Val::Null => Val::Null,
            other => return Err(type_error(inner.span, "-", &other)),
        },
        ExprKind::And(items) => {
            let mut saw_null = false;
            for i in items {
                match eval(ctx, scope, row, i)? {
                    Val::Bool(false) => return Ok(Val::Bool(false)),
                    Val::Bool(true) => {}
                    Val::Null => saw_null = true,
                    other => return Err(type_error(i.span, "AND", &other)),
                }
            }
            if saw_null { Val::Null } else { Val::Bool(true) }
        }
        ExprKind::Or(items) => {
            let mut saw_null = false;
            for i in items {
                match eval(ctx, scope, row, i)? {
                    Val::Bool(true) => return Ok(Val::Bool(true)),
                    Val::Bool(false) => {}
                    Val::Null => saw_null = true,
                    other => return Err(type_error(i.span, "OR", &other)),
                }
            }
            if saw_null { Val::Null } else { Val::Bool(false) }
        }
        ExprKind::IsNull { expr, negated } => {
            let is_null = matches!(eval(ctx, scope, row, expr)?, Val::Null);
            Val::Bool(is_null != *negated)
        }
        ExprKind::Binary { .. } => {
            // A chain `a + b + c` is a left-deep tree as deep as it is long
            // (the parser bounds its length, not as nesting): its left spine
            // is walked in a loop, so a long chain costs no stack.
            let mut spine = Vec::new();
            let mut left = e;
            while let ExprKind::Binary { op, lhs, rhs } = &left.kind {
                spine.push((*op, &**rhs, left.span));
                left = lhs;
            }
            let mut acc = eval(ctx, scope, row, left)?;
            let mut acc_expr = Some(left);
            for (op, rhs, span) in spine.into_iter().rev() {
                let b = eval(ctx, scope, row, rhs)?;
                entity_parameter_against_string(ctx, op, (acc_expr, &acc), (rhs, &b), span)?;
                acc = binary(op, acc, b, span)?;
                acc_expr = None;
            }
            acc
        }
        ExprKind::Aggregate { .. } => {
            return Err(semantic(e.span, "aggregate functions are only allowed in RETURN and ORDER BY"));
        }
        ExprKind::Call { name, args } => {
            let vals: Vec<Val> = args.iter().map(|a| eval(ctx, scope, row, a)).collect::<Result<_, _>>()?;
            super::functions::call(ctx, &name.name, vals, e.span)?
        }
        ExprKind::HasLabel { expr, labels } => match eval(ctx, scope, row, expr)? {
            Val::Null => Val::Null,
            Val::Entity(id) => match ctx.entity(id)? {
                Some(ent) => Val::Bool(labels.iter().all(|l| l.name == ent.kind)),
                None => Val::Null,
            },
            v @ Val::Claim(_) => {
                let Val::Str(p) = property(ctx, &v, "predicate", e.span)? else { return Ok(Val::Null) };
                Val::Bool(labels.iter().all(|l| l.name == p || l.name.to_ascii_lowercase() == p))
            }
            other => return Err(type_error(expr.span, ":Label", &other)),
        },
        ExprKind::Local(name) => match scope.get(name) {
            Some(&slot) => row.get(slot).cloned().unwrap_or(Val::Null),
            None => return Err(semantic(e.span, format!("unknown variable `{name}`"))),
        },
        ExprKind::Quantifier { kind, var, list, pred } => {
            let Some(items) = list_operand(eval(ctx, scope, row, list)?, list.span)? else {
                return Ok(Val::Null);
            };
            let (mut trues, mut nulls, total) = (0usize, 0usize, items.len());
            let mut inner = Local::new(scope, row, &var.name);
            for item in items {
                match inner.eval(ctx, item, pred)? {
                    Val::Bool(true) => trues += 1,
                    Val::Bool(false) => {}
                    Val::Null => nulls += 1,
                    other => return Err(type_error(pred.span, "a quantifier's WHERE", &other)),
                }
            }
            let falses = total - trues - nulls;
            use super::super::ast::Quantifier as Q;
            match kind {
                Q::All if falses > 0 => Val::Bool(false),
                Q::Any | Q::None if trues > 0 => Val::Bool(*kind == Q::Any),
                Q::Single if trues > 1 => Val::Bool(false),
                _ if nulls > 0 => Val::Null,
                Q::All => Val::Bool(true),
                Q::Any => Val::Bool(false),
                Q::None => Val::Bool(true),
                Q::Single => Val::Bool(trues == 1),
            }
        }
        ExprKind::ListComp { var, list, pred, map } => {
            let Some(items) = list_operand(eval(ctx, scope, row, list)?, list.span)? else {
                return Ok(Val::Null);
            };
            let mut inner = Local::new(scope, row, &var.name);
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                if let Some(p) = pred
                    && !matches!(inner.eval(ctx, item.clone(), p)?, Val::Bool(true))
                {
                    continue;
                }
                out.push(match map {
                    Some(m) => inner.eval(ctx, item, m)?,
                    None => item,
                });
            }
            Val::List(out)
        }
        ExprKind::Map(entries) => Val::Map(
            entries
                .iter()
                .map(|m| Ok((m.key.name.clone(), eval(ctx, scope, row, &m.value)?)))
                .collect::<Result<_, QueryError>>()?,
        ),
        ExprKind::Index { base, index } => {
            let (b, i) = (eval(ctx, scope, row, base)?, eval(ctx, scope, row, index)?);
            index_val(ctx, b, i, e.span)?
        }
        ExprKind::Slice { base, from, to } => {
            let b = eval(ctx, scope, row, base)?;
            let bound = |x: &Option<Box<Expr>>| x.as_ref().map(|x| eval(ctx, scope, row, x)).transpose();
            slice_val(b, bound(from)?, bound(to)?, e.span)?
        }
        ExprKind::Case { operand, whens, otherwise } => {
            let subject = operand.as_ref().map(|o| eval(ctx, scope, row, o)).transpose()?;
            for (when, then) in whens {
                let w = eval(ctx, scope, row, when)?;
                let hit = match &subject {
                    Some(s) => equals(s, &w) == Some(true),
                    None => matches!(w, Val::Bool(true)),
                };
                if hit {
                    return eval(ctx, scope, row, then);
                }
            }
            match otherwise {
                Some(o) => eval(ctx, scope, row, o)?,
                None => Val::Null,
            }
        }
    })
}

/// The list a quantifier or comprehension ranges over; None for null.
fn list_operand(v: Val, span: Span) -> Result<Option<Vec<Val>>, QueryError> {
    match v {
        Val::Null => Ok(None),
        Val::List(items) => Ok(Some(items)),
        other => Err(semantic(
            span,
            format!("type mismatch: expected a list, got {}", with_article(other.type_name())),
        )),
    }
}

/// A row extended by one local variable (a quantifier's or
/// comprehension's element), reused across the elements.
struct Local {
    scope: Scope,
    row: Vec<Val>,
}

impl Local {
    fn new(scope: &Scope, row: &[Val], name: &str) -> Local {
        let mut scope = scope.clone();
        let slot = row.len().max(scope.values().copied().max().map_or(0, |m| m + 1));
        scope.insert(name.to_string(), slot);
        let mut row = row.to_vec();
        row.resize(slot + 1, Val::Null);
        Local { scope, row }
    }

    fn eval(&mut self, ctx: &Ctx<'_>, item: Val, e: &Expr) -> Result<Val, QueryError> {
        if let Some(last) = self.row.last_mut() {
            *last = item;
        }
        eval(ctx, &self.scope, &self.row, e)
    }
}

/// `base[index]`: a list element (negative from the end, out of range is
/// null) or a property by name.
fn index_val(ctx: &Ctx<'_>, base: Val, index: Val, span: Span) -> Result<Val, QueryError> {
    Ok(match (base, index) {
        (Val::Null, _) | (_, Val::Null) => Val::Null,
        (Val::List(items), Val::Int(i)) => {
            let len = items.len() as i64;
            let at = if i < 0 { len + i } else { i };
            if (0..len).contains(&at) { items[at as usize].clone() } else { Val::Null }
        }
        (Val::Map(m), Val::Str(k)) => m.get(&k).cloned().unwrap_or(Val::Null),
        (v @ (Val::Entity(_) | Val::Claim(_)), Val::Str(k)) => property(ctx, &v, &k, span)?,
        (b, i) => {
            return Err(semantic(
                span,
                format!(
                    "type mismatch: cannot index {} with {}",
                    with_article(b.type_name()),
                    with_article(i.type_name())
                ),
            ));
        }
    })
}

/// `base[from..to]`: indexes as in [`index_val`], clamped to the list.
fn slice_val(base: Val, from: Option<Val>, to: Option<Val>, span: Span) -> Result<Val, QueryError> {
    let items = match base {
        Val::Null => return Ok(Val::Null),
        Val::List(items) => items,
        other => {
            return Err(semantic(
                span,
                format!("type mismatch: cannot slice {}", with_article(other.type_name())),
            ));
        }
    };
    let len = items.len() as i64;
    let at = |v: Option<Val>, default: i64| -> Result<Option<i64>, QueryError> {
        match v {
            None => Ok(Some(default)),
            Some(Val::Null) => Ok(None),
            Some(Val::Int(i)) => Ok(Some((if i < 0 { len + i } else { i }).clamp(0, len))),
            Some(other) => Err(semantic(
                span,
                format!(
                    "type mismatch: a slice bound must be an integer, got {}",
                    with_article(other.type_name())
                ),
            )),
        }
    };
    let (Some(a), Some(b)) = (at(from, 0)?, at(to, len)?) else {
        return Ok(Val::Null);
    };
    Ok(Val::List(if a < b { items[a as usize..b as usize].to_vec() } else { Vec::new() }))
}

pub(crate) fn param_val(ctx: &Ctx<'_>, v: &super::super::value::Value) -> Val {
    use super::super::value::Value;
    match v {
        Value::Null => Val::Null,
        Value::Bool(b) => Val::Bool(*b),
        Value::Int(i) => Val::Int(*i),
        Value::Float(f) => Val::Float(*f),
        Value::String(s) => Val::Str(s.clone()),
        Value::Date(d) => Val::Date(*d),
        Value::Timestamp(t) => Val::Time(*t),
        Value::Entity { key, .. } => ctx.data_val(&Term::Entity(key.clone())).unwrap_or(Val::Null),
        Value::Claim { id, .. } => match ctx.snap.claim_seq(id) {
            Ok(Some(seq)) => Val::Claim(seq),
            _ => Val::Null,
        },
        Value::List(items) => Val::List(items.iter().map(|i| param_val(ctx, i)).collect()),
        Value::Path { .. } => Val::Null,
        Value::Map(m) => Val::Map(m.iter().map(|(k, v)| (k.clone(), param_val(ctx, v))).collect()),
    }
}

fn type_error(span: Span, op: &str, v: &Val) -> QueryError {
    semantic(span, format!("type mismatch: `{op}` cannot take {}", with_article(v.type_name())))
}

fn binary(op: BinOp, a: Val, b: Val, span: Span) -> Result<Val, QueryError> {
    use BinOp::*;
    let cmp = |want: fn(Ordering) -> bool| compare(&a, &b).map_or(Val::Null, |o| Val::Bool(want(o)));
    Ok(match op {
        Eq => equals(&a, &b).map_or(Val::Null, Val::Bool),
        Ne => equals(&a, &b).map_or(Val::Null, |e| Val::Bool(!e)),
        Lt => cmp(|o| o == Ordering::Less),
        Le => cmp(|o| o != Ordering::Greater),
        Gt => cmp(|o| o == Ordering::Greater),
        Ge => cmp(|o| o != Ordering::Less),
        In => match &b {
            Val::List(items) => {
                if matches!(a, Val::Null) {
                    return Ok(Val::Null);
                }
                let mut unknown = false;
                for i in items {
                    match equals(&a, i) {
                        Some(true) => return Ok(Val::Bool(true)),
                        None => unknown = true,
                        Some(false) => {}
                    }
                }
                if unknown { Val::Null } else { Val::Bool(false) }
            }
            Val::Null => Val::Null,
            other => {
                return Err(semantic(
                    span,
                    format!("type mismatch: IN needs a list, got {}", with_article(other.type_name())),
                ));
            }
        },
        // Cypher: a string operator on anything but two strings is null
        // (so `c.object CONTAINS 'oil'` on an entity object is null).
        StartsWith | EndsWith | Contains => match (&a, &b) {
            (Val::Str(x), Val::Str(y)) => Val::Bool(match op {
                StartsWith => x.starts_with(y.as_str()),
                EndsWith => x.ends_with(y.as_str()),
                _ => x.contains(y.as_str()),
            }),
            _ => Val::Null,
        },
        Regex => match (&a, &b) {
            (Val::Str(x), Val::Str(p)) => Val::Bool(super::regex::full_match(p, x, span)?),
            _ => Val::Null,
        },
        Xor => match (&a, &b) {
            (Val::Bool(x), Val::Bool(y)) => Val::Bool(x != y),
            (Val::Null | Val::Bool(_), Val::Null | Val::Bool(_)) => Val::Null,
            (x, y) => {
                let bad = if matches!(x, Val::Null | Val::Bool(_)) { y } else { x };
                return Err(type_error(span, "XOR", bad));
            }
        },
        Pow => match (&a, &b) {
            (Val::Null, _) | (_, Val::Null) => Val::Null,
            (Val::Int(_) | Val::Float(_), Val::Int(_) | Val::Float(_)) => Val::Float(num(&a).powf(num(&b))),
            (x, y) => {
                return Err(semantic(
                    span,
                    format!(
                        "type mismatch: `^` on {} and {}",
                        with_article(x.type_name()),
                        with_article(y.type_name())
                    ),
                ));
            }
        },
        Add | Sub | Mul | Div | Mod => arithmetic(op, &a, &b, span)?,
    })
}

fn arithmetic(op: BinOp, a: &Val, b: &Val, span: Span) -> Result<Val, QueryError> {
    let overflow = || semantic(span, "integer overflow");
    Ok(match (a, b) {
        (Val::Null, _) | (_, Val::Null) => Val::Null,
        (Val::Int(x), Val::Int(y)) => Val::Int(match op {
            BinOp::Add => x.checked_add(*y).ok_or_else(overflow)?,
            BinOp::Sub => x.checked_sub(*y).ok_or_else(overflow)?,
            BinOp::Mul => x.checked_mul(*y).ok_or_else(overflow)?,
            BinOp::Div if *y == 0 => return Err(semantic(span, "division by zero")),
            BinOp::Div => x.checked_div(*y).ok_or_else(overflow)?,
            BinOp::Mod if *y == 0 => return Err(semantic(span, "division by zero")),
            _ => x.checked_rem(*y).ok_or_else(overflow)?,
        }),
        (Val::Int(_) | Val::Float(_), Val::Int(_) | Val::Float(_)) => {
            let (x, y) = (num(a), num(b));
            Val::Float(match op {
                BinOp::Add => x + y,
                BinOp::Sub => x - y,
                BinOp::Mul => x * y,
                BinOp::Div => x / y,
                _ => x % y,
            })
        }
        (Val::Str(x), Val::Str(y)) if op == BinOp::Add => Val::Str(format!("{x}{y}")),
        // Cypher's list `+`: concatenation, or appending / prepending one
        // element.
        (Val::List(x), Val::List(y)) if op == BinOp::Add => Val::List(x.iter().chain(y).cloned().collect()),
        (Val::List(x), y) if op == BinOp::Add => Val::List(x.iter().chain([y]).cloned().collect()),
        (x, Val::List(y)) if op == BinOp::Add => Val::List([x].into_iter().chain(y).cloned().collect()),
        (x, y) => {
            return Err(semantic(
                span,
                format!(
                    "type mismatch: arithmetic on {} and {}",
                    with_article(x.type_name()),
                    with_article(y.type_name())
                ),
            ));
        }
    })
}

fn num(v: &Val) -> f64 {
    match v {
        Val::Int(i) => *i as f64,
        Val::Float(f) => *f,
        _ => 0.0,
    }
}

/// `base.name`.
pub(crate) fn property(ctx: &Ctx<'_>, base: &Val, name: &str, span: Span) -> Result<Val, QueryError> {
    Ok(match base {
        Val::Null => Val::Null,
        Val::Entity(id) => match ctx.entity(*id)? {
            None => Val::Null,
            Some(e) => {
                let doc = e.document.as_ref();
                let s = |v: Option<&String>| v.map_or(Val::Null, |s| Val::Str(s.clone()));
                match name {
                    "key" => Val::Str(e.key.clone()),
                    "name" => Val::Str(e.name.clone()),
                    "kind" => Val::Str(e.kind.clone()),
                    "aliases" => Val::List(e.aliases.iter().map(|a| Val::Str(a.clone())).collect()),
                    "title" => s(doc.and_then(|d| d.title.as_ref())),
                    "publisher" => s(doc.and_then(|d| d.publisher.as_ref())),
                    "published" => doc.and_then(|d| d.published).map_or(Val::Null, Val::Date),
                    "url" => s(doc.and_then(|d| d.url.as_ref())),
                    "language" => s(doc.and_then(|d| d.language.as_ref())),
                    "text" => s(doc.and_then(|d| d.text.as_ref())),
                    other => match e.attrs.get(other) {
                        Some(t) => ctx.data_val(t)?,
                        None => Val::Null,
                    },
                }
            }
        },
        Val::Claim(seq) => claim_property(ctx, *seq, name)?,
        Val::Map(m) => m.get(name).cloned().unwrap_or(Val::Null),
        other => {
            return Err(semantic(
                span,
                format!("cannot read property `{name}` of {}", with_article(other.type_name())),
            ));
        }
    })
}

/// A claim field the posting an edge was bound from carries, without
/// reading the claim record; None when the record is needed.
fn posting_property(ctx: &Ctx<'_>, seq: u64, name: &str) -> Result<Option<Val>, QueryError> {
    let Some(p) = ctx.posting(seq) else {
        return Ok(None);
    };
    let entity =
        |id: u64| -> Result<Val, QueryError> { Ok(if id == 0 { Val::Null } else { ctx.entity_val(id)? }) };
    Ok(Some(match name {
        "predicate" => match &*ctx.term(p.p)? {
            Term::String(name) => Val::Str(name.clone()),
            _ => return Ok(None),
        },
        "subject" => entity(p.s)?,
        // A literal object reads from the record: its term is normalized
        // (-0.0 is interned as 0.0).
        "object" if p.object_entity => entity(p.o)?,
        "id" if p.auto_id => Val::Str(crate::index::snapshot::auto_claim_id(p.seq)),
        "by" => entity(p.by)?,
        "source" => entity(p.src)?,
        "stance" => Val::Str(p.stance.as_str().to_string()),
        "tx" => Val::Int(p.atx as i64),
        "retracted_tx" => p.retracted_at(ctx.snap.at()).map_or(Val::Null, |t| Val::Int(t as i64)),
        _ => return Ok(None),
    }))
}

fn claim_property(ctx: &Ctx<'_>, seq: u64, name: &str) -> Result<Val, QueryError> {
    if let Some(v) = posting_property(ctx, seq, name)? {
        return Ok(v);
    }
    let c = ctx.claim(seq)?;
    let entity = |k: Option<&String>| -> Result<Val, QueryError> {
        Ok(match k {
            Some(k) => ctx.data_val(&Term::Entity(k.clone()))?,
            None => Val::Null,
        })
    };
    Ok(match name {
        "id" => Val::Str(c.id.clone()),
        "predicate" => Val::Str(c.p.clone()),
        "subject" => entity(Some(&c.s))?,
        "object" => ctx.data_val(&c.o)?,
        "stance" => Val::Str(c.stance.as_str().to_string()),
        "confidence" => c.confidence.map_or(Val::Null, Val::Float),
        "by" => entity(c.by.as_ref())?,
        "source" => entity(c.source.as_ref())?,
        // `valid` is the one period a claim holds for (`valid: 2025-03`); a
        // range of periods has no single date, so it reads as null.
        "valid" => match (c.valid.from, c.valid.to) {
            (Some(f), Some(t)) if f == t => Val::Date(f),
            _ => Val::Null,
        },
        "valid_from" => c.valid.from.map_or(Val::Null, Val::Date),
        "valid_to" => c.valid.to.map_or(Val::Null, Val::Date),
        "said_at" => c.said_at.map_or(Val::Null, Val::Date),
        "quote" => c.quote.clone().map_or(Val::Null, Val::Str),
        "tx" => Val::Int(c.tx as i64),
        "recorded_at" => ctx.snap.tx_meta(c.tx)?.map_or(Val::Null, |m| Val::Time(m.recorded_at)),
        "retracted_tx" => c.retracted_tx.map_or(Val::Null, |t| Val::Int(t as i64)),
        "retract_reason" => c.retract_reason.clone().map_or(Val::Null, Val::Str),
        other => match c.qualifiers.get(other) {
            Some(t) => ctx.data_val(t)?,
            None => Val::Null,
        },
    })
}
