//! Expression rules. The grammar's precedence levels (`or_expr`,
//! `and_expr`, `not_expr`, `comparison`, `additive`, `multiplicative`,
//! `unary`) are implemented by one precedence-climbing loop, [`binary`],
//! whose levels are the constants below; `postfix`, `primary`,
//! `function_call` and `list` are functions of their own.
//!
//! `AND` / `OR` chains become one n-ary node (flattening parenthesised
//! chains of the same operator); other binary operators associate to the
//! left. Every parenthesis, list, call, `NOT`, unary minus and the first
//! operator of a chain counts one level against [`super::input::MAX_DEPTH`];
//! the rest of a chain is not nesting and counts against
//! [`super::input::MAX_OPERATORS`] instead.
//!
//! The recursive path is written with direct calls rather than nested
//! combinators and keeps per-call work in helpers: in debug builds every
//! combinator layer and every temporary costs stack, and 64 levels of
//! nesting must fit in a 2 MiB thread stack.

use super::input::{
    PErr, PResult, Tokens, comma_list, commit, entity_ref, ident, is_reserved, kw, kw_op, labelled,
    note_keywords, op, punct, variable,
};
use super::values::{literal, map_literal};
use crate::query::ast::{AggFunc, BinOp, Expr, ExprKind, Ident, Literal, Quantifier, Span};
use crate::query::lexer::Tok;

/// Precedence of `OR` (loosest).
pub(crate) const OR: u8 = 1;
/// Precedence of `XOR`.
pub(crate) const XOR: u8 = 2;
/// Precedence of `AND`.
pub(crate) const AND: u8 = 3;
/// Precedence of prefix `NOT`.
pub(crate) const NOT: u8 = 4;
/// Precedence of the comparisons `= <> < <= > >=`.
pub(crate) const CMP: u8 = 5;
/// Precedence of the predicates `IN`, `STARTS WITH`, `ENDS WITH`,
/// `CONTAINS`, `=~` and `IS [NOT] NULL`, which bind tighter than the
/// comparisons (openCypher: `a = b IN c` is `a = (b IN c)`).
pub(crate) const PRED: u8 = 6;
/// Precedence of `+` and `-`.
pub(crate) const ADD: u8 = 7;
/// Precedence of `*`, `/` and `%`.
pub(crate) const MUL: u8 = 8;
/// Precedence of `^`.
pub(crate) const POW: u8 = 9;
/// Precedence of unary minus (its operand binds tighter than `^`, so
/// `-2 ^ 2` is `(-2) ^ 2`, as in openCypher's grammar).
pub(crate) const NEG: u8 = 10;

/// An infix operator found after an operand.
#[derive(Debug, Clone, Copy)]
enum Infix {
    Or,
    And,
    Bin(BinOp),
    IsNull(bool),
}

impl Infix {
    fn level(self) -> u8 {
        match self {
            Infix::Or => OR,
            Infix::And => AND,
            Infix::IsNull(_) => PRED,
            Infix::Bin(BinOp::In | BinOp::StartsWith | BinOp::EndsWith | BinOp::Contains | BinOp::Regex) => {
                PRED
            }
            Infix::Bin(BinOp::Add | BinOp::Sub) => ADD,
            Infix::Bin(BinOp::Mul | BinOp::Div | BinOp::Mod) => MUL,
            Infix::Bin(BinOp::Pow) => POW,
            Infix::Bin(BinOp::Xor) => XOR,
            Infix::Bin(_) => CMP,
        }
    }
}

/// `expression`: a full expression.
pub(crate) fn expression(i: Tokens<'_>) -> PResult<'_, Expr> {
    labelled(i, "an expression", |i| binary(i, OR))
}

/// An expression whose operators all bind at least as tight as `min`.
fn binary(start: Tokens<'_>, min: u8) -> PResult<'_, Expr> {
    let (mut i, mut lhs) = prefixed(start, min)?;
    let _guard = start.depth_guard();
    let mut chained = false;
    while let Some((rest, infix)) = infix(i, min)? {
        // The first operator starts a tree (one level); the rest of a chain
        // is not nesting (`1 + 2 + … + 66` is flat to the reader), and its
        // length is bounded on its own.
        if !matches!(infix, Infix::Or | Infix::And) {
            if chained {
                i.operator()?
            } else {
                i.deepen()?
            }
            chained = true;
        }
        let (rest, kind) = match infix {
            Infix::IsNull(negated) => (rest, ExprKind::IsNull { expr: Box::new(lhs), negated }),
            _ => {
                let (rest, rhs) = commit(binary(rest, infix.level() + 1))?;
                (rest, combine(lhs, infix, rhs))
            }
        };
        lhs = Expr::new(kind, start.span_to(&rest));
        i = rest;
    }
    Ok((i, lhs))
}

/// The node for `lhs infix rhs`, flattening `AND` / `OR`.
fn combine(lhs: Expr, infix: Infix, rhs: Expr) -> ExprKind {
    match infix {
        Infix::Or => ExprKind::Or(flatten(lhs, rhs, true)),
        Infix::And => ExprKind::And(flatten(lhs, rhs, false)),
        Infix::Bin(op) => ExprKind::Binary { op, lhs: Box::new(lhs), rhs: Box::new(rhs) },
        // `IS NULL` has no right operand; `binary` builds it directly.
        Infix::IsNull(negated) => ExprKind::IsNull { expr: Box::new(lhs), negated },
    }
}

/// Operands of an n-ary `OR` (`or`) or `AND` built from two sides.
fn flatten(lhs: Expr, rhs: Expr, or: bool) -> Vec<Expr> {
    // Reuses the left side's vector so long chains stay linear.
    let mut items = match lhs.kind {
        ExprKind::Or(inner) if or => inner,
        ExprKind::And(inner) if !or => inner,
        kind => vec![Expr::new(kind, lhs.span)],
    };
    match rhs.kind {
        ExprKind::Or(inner) if or => items.extend(inner),
        ExprKind::And(inner) if !or => items.extend(inner),
        kind => items.push(Expr::new(kind, rhs.span)),
    }
    items
}

/// The operator after an operand, if there is one of level `min` or more.
fn infix(i: Tokens<'_>, min: u8) -> Result<Option<(Tokens<'_>, Infix)>, nom::Err<PErr>> {
    let found = match &i.peek().tok {
        Tok::Punct(p) => symbol(p).map(|op| (i.next(), Infix::Bin(op))),
        Tok::Ident(w) => return keyword_infix(i, w, min),
        _ => None,
    };
    Ok(found.filter(|(_, infix)| infix.level() >= min))
}

fn symbol(p: &str) -> Option<BinOp> {
    let op = match p {
        "=" => BinOp::Eq,
        "<>" | "!=" => BinOp::Ne,
        "<" => BinOp::Lt,
        "<=" => BinOp::Le,
        ">" => BinOp::Gt,
        ">=" => BinOp::Ge,
        "+" => BinOp::Add,
        "-" => BinOp::Sub,
        "*" => BinOp::Mul,
        "/" => BinOp::Div,
        "%" => BinOp::Mod,
        "^" => BinOp::Pow,
        "=~" => BinOp::Regex,
        _ => return None,
    };
    Some(op)
}

/// Keyword operators: `OR`, `AND`, `IN`, `STARTS WITH`, `ENDS WITH`,
/// `CONTAINS`, `IS [NOT] NULL`. The second word is committed to.
fn keyword_infix<'a>(
    i: Tokens<'a>,
    word: &str,
    min: u8,
) -> Result<Option<(Tokens<'a>, Infix)>, nom::Err<PErr>> {
    let upper = word.to_ascii_uppercase();
    let infix = match upper.as_str() {
        "OR" => Infix::Or,
        "AND" => Infix::And,
        "XOR" => Infix::Bin(BinOp::Xor),
        "IN" => Infix::Bin(BinOp::In),
        "STARTS" => Infix::Bin(BinOp::StartsWith),
        "ENDS" => Infix::Bin(BinOp::EndsWith),
        "CONTAINS" => Infix::Bin(BinOp::Contains),
        "IS" => Infix::IsNull(false),
        _ => {
            note_keywords(i, &["AND", "OR", "XOR", "CONTAINS", "STARTS", "ENDS"]);
            return Ok(None);
        }
    };
    if infix.level() < min {
        return Ok(None);
    }
    let rest = i.next();
    let rest = match infix {
        Infix::Bin(BinOp::StartsWith | BinOp::EndsWith) => commit(kw("WITH")(rest))?.0,
        Infix::IsNull(_) => return is_null_tail(rest).map(Some),
        _ => rest,
    };
    Ok(Some((rest, infix)))
}

/// `[NOT] NULL` after `IS`.
fn is_null_tail(i: Tokens<'_>) -> Result<(Tokens<'_>, Infix), nom::Err<PErr>> {
    let (i, negated) = match kw("NOT")(i) {
        Ok((rest, _)) => (rest, true),
        Err(_) => (i, false),
    };
    let (i, _) = commit(kw("NULL")(i))?;
    Ok((i, Infix::IsNull(negated)))
}

/// `NOT` (where `min` allows it), unary minus, or a postfix expression.
fn prefixed(i: Tokens<'_>, min: u8) -> PResult<'_, Expr> {
    let not = if min <= NOT { kw_op("NOT")(i).ok() } else { None };
    if let Some((rest, span)) = not {
        return prefix_operand(i, rest, span, NOT);
    }
    match op("-")(i) {
        Ok((rest, span)) => prefix_operand(i, rest, span, NEG),
        Err(_) => postfix(i),
    }
}

/// The operand of a prefix operator at `level`, one nesting level deeper.
fn prefix_operand<'a>(at: Tokens<'a>, rest: Tokens<'a>, op: Span, level: u8) -> PResult<'a, Expr> {
    let _guard = at.enter()?;
    let (rest, inner) = commit(binary(rest, level))?;
    let span = op.to(inner.span);
    let inner = Box::new(inner);
    let kind = if level == NOT { ExprKind::Not(inner) } else { ExprKind::Neg(inner) };
    Ok((rest, Expr::new(kind, span)))
}

/// `postfix`: a primary followed by `.name` accesses (flattened into one
/// path), `[index]` and `[from..to]`.
fn postfix(i: Tokens<'_>) -> PResult<'_, Expr> {
    let (mut rest, mut base) = primary(i)?;
    // `n:Label[:Label...]` after a variable: a label predicate.
    if matches!(base.kind, ExprKind::Var(_) | ExprKind::Local(_))
        && rest.peek().tok == Tok::Punct(":")
        && matches!(rest.next().peek().tok, Tok::Ident(_) | Tok::Quoted(_))
    {
        let mut labels = Vec::new();
        while let Ok((after, _)) = punct(":")(rest) {
            let (after, label) = commit(ident("a label")(after))?;
            labels.push(label);
            rest = after;
        }
        let kind = ExprKind::HasLabel { expr: Box::new(base), labels };
        return Ok((rest, Expr::new(kind, i.span_to(&rest))));
    }
    loop {
        match rest.peek().tok {
            Tok::Punct(".") => {
                let (after, e) = property_path(i, rest, base)?;
                (rest, base) = (after, e);
            }
            Tok::Punct("[") => {
                rest.deepen()?;
                let (after, e) = subscript(i, rest, base)?;
                (rest, base) = (after, e);
            }
            _ => return Ok((rest, base)),
        }
    }
}

fn property_path<'a>(start: Tokens<'a>, mut rest: Tokens<'a>, base: Expr) -> PResult<'a, Expr> {
    let mut path = Vec::new();
    while let Ok((after_dot, _)) = op(".")(rest) {
        let (after, key) = commit(ident("a property name")(after_dot))?;
        path.push(key);
        rest = after;
    }
    let kind = match base.kind {
        ExprKind::Property { base, path: mut first } => {
            first.extend(path);
            ExprKind::Property { base, path: first }
        }
        kind => ExprKind::Property { base: Box::new(Expr::new(kind, base.span)), path },
    };
    Ok((rest, Expr::new(kind, start.span_to(&rest))))
}

/// `[index]` or `[from..to]` after `base`.
fn subscript<'a>(start: Tokens<'a>, rest: Tokens<'a>, base: Expr) -> PResult<'a, Expr> {
    let (rest, _) = punct("[")(rest)?;
    let _guard = start.enter()?;
    let (rest, from) = match op("..")(rest) {
        Ok(_) => (rest, None),
        Err(_) => {
            let (r, e) = commit(expression(rest))?;
            (r, Some(Box::new(e)))
        }
    };
    let base = Box::new(base);
    let (rest, kind) = match op("..")(rest) {
        Ok((after, _)) => {
            let (after, to) = if after.peek().tok == Tok::Punct("]") {
                (after, None)
            } else {
                let (r, e) = commit(expression(after))?;
                (r, Some(Box::new(e)))
            };
            (after, ExprKind::Slice { base, from, to })
        }
        Err(_) => match from {
            Some(index) => (rest, ExprKind::Index { base, index }),
            None => return commit(super::input::fail(rest, super::input::Expect::Label("an expression"))),
        },
    };
    let (rest, _) = commit(punct("]")(rest))?;
    Ok((rest, Expr::new(kind, start.span_to(&rest))))
}

/// `primary`, dispatched on the next token.
fn primary(i: Tokens<'_>) -> PResult<'_, Expr> {
    labelled(i, "an expression", |i| match &i.peek().tok {
        Tok::Punct("(") => parenthesised(i),
        Tok::Punct("[") => list(i),
        Tok::Punct("{") => map_expr(i),
        Tok::Ident(w) if w.eq_ignore_ascii_case("CASE") => case(i),
        Tok::Ident(w) if is_reserved(w) => literal_expr(i),
        Tok::Ident(_) | Tok::Quoted(_) => call_or_variable(i),
        Tok::Param(_) | Tok::EntityKey(_) | Tok::EntityName(_) => reference(i),
        _ => literal_expr(i),
    })
}

/// A parameter or an entity reference.
fn reference(i: Tokens<'_>) -> PResult<'_, Expr> {
    if let Tok::Param(p) = &i.peek().tok {
        return Ok((i.next(), Expr::new(ExprKind::Param(p.clone()), i.peek().span)));
    }
    let (rest, r) = entity_ref(i)?;
    let span = r.span;
    Ok((rest, Expr::new(ExprKind::Entity(r), span)))
}

fn literal_expr(i: Tokens<'_>) -> PResult<'_, Expr> {
    let (rest, lit) = literal(i)?;
    Ok((rest, Expr::new(ExprKind::Lit(lit), i.peek().span)))
}

/// The quantifier a function name denotes, if any.
fn quantifier(name: &str) -> Option<Quantifier> {
    let all = [
        ("all", Quantifier::All),
        ("any", Quantifier::Any),
        ("none", Quantifier::None),
        ("single", Quantifier::Single),
    ];
    all.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, q)| *q)
}

/// The parts of a comprehension after its opening bracket: `x IN list
/// [WHERE p] [| e]` (`|` only for list comprehensions). `x` becomes
/// [`ExprKind::Local`] in `p` and `e`.
type Comprehension = (Ident, Box<Expr>, Option<Box<Expr>>, Option<Box<Expr>>);

fn comprehension(i: Tokens<'_>, quantifier: bool) -> PResult<'_, Comprehension> {
    let (i, var) = variable(i)?;
    let (i, _) = commit(kw("IN")(i))?;
    let (mut i, list) = commit(expression(i))?;
    let mut pred = None;
    if let Ok((rest, _)) = kw("WHERE")(i) {
        let (rest, mut p) = commit(expression(rest))?;
        p.bind_local(&var.name);
        pred = Some(Box::new(p));
        i = rest;
    } else if quantifier {
        commit(kw("WHERE")(i))?;
    }
    let mut map = None;
    if !quantifier && let Ok((rest, _)) = op("|")(i) {
        let (rest, mut m) = commit(expression(rest))?;
        m.bind_local(&var.name);
        map = Some(Box::new(m));
        i = rest;
    }
    Ok((i, (var, Box::new(list), pred, map)))
}

/// `list`: `[a, b, ...]`, or a comprehension `[x IN l WHERE p | e]`.
fn list(i: Tokens<'_>) -> PResult<'_, Expr> {
    let (rest, _) = punct("[")(i)?;
    let _guard = i.enter()?;
    let is_comprehension = matches!(rest.peek().tok, Tok::Ident(_) | Tok::Quoted(_))
        && matches!(&rest.next().peek().tok, Tok::Ident(w) if w.eq_ignore_ascii_case("IN"));
    if is_comprehension {
        let (rest, (var, list, pred, map)) = comprehension(rest, false)?;
        let (rest, _) = commit(punct("]")(rest))?;
        return Ok((rest, Expr::new(ExprKind::ListComp { var, list, pred, map }, i.span_to(&rest))));
    }
    let (rest, items) = comma_list(rest, expression, "]")?;
    Ok((rest, Expr::new(ExprKind::List(items), i.span_to(&rest))))
}

/// `map`: `{k: v, ...}`.
fn map_expr(i: Tokens<'_>) -> PResult<'_, Expr> {
    let _guard = i.enter()?;
    let (rest, entries) = map_literal(i)?;
    Ok((rest, Expr::new(ExprKind::Map(entries), i.span_to(&rest))))
}

/// `case`: `CASE [operand] (WHEN e THEN e)+ [ELSE e] END`.
fn case(i: Tokens<'_>) -> PResult<'_, Expr> {
    let (mut rest, _) = kw("CASE")(i)?;
    let _guard = i.enter()?;
    let mut operand = None;
    if kw("WHEN")(rest).is_err() {
        let (r, e) = commit(expression(rest))?;
        operand = Some(Box::new(e));
        rest = r;
    }
    let mut whens = Vec::new();
    while let Ok((r, _)) = kw("WHEN")(rest) {
        let (r, cond) = commit(expression(r))?;
        let (r, _) = commit(kw("THEN")(r))?;
        let (r, then) = commit(expression(r))?;
        whens.push((cond, then));
        rest = r;
    }
    if whens.is_empty() {
        return commit(kw("WHEN")(rest))
            .map(|(r, _)| (r, Expr::new(ExprKind::Lit(Literal::Null), i.span_to(&r))));
    }
    let mut otherwise = None;
    if let Ok((r, _)) = kw("ELSE")(rest) {
        let (r, e) = commit(expression(r))?;
        otherwise = Some(Box::new(e));
        rest = r;
    }
    let (rest, _) = commit(kw("END")(rest))?;
    Ok((rest, Expr::new(ExprKind::Case { operand, whens, otherwise }, i.span_to(&rest))))
}

fn parenthesised(i: Tokens<'_>) -> PResult<'_, Expr> {
    let (rest, _) = punct("(")(i)?;
    let _guard = i.enter()?;
    let (rest, e) = commit(expression(rest))?;
    let (rest, _) = commit(punct(")")(rest))?;
    Ok((rest, e))
}

/// A variable, or a `function_call` when `(` follows the name.
fn call_or_variable(i: Tokens<'_>) -> PResult<'_, Expr> {
    let (rest, name) = variable(i)?;
    if rest.peek().tok != Tok::Punct("(") {
        return Ok((rest, Expr::new(ExprKind::Var(name.name), name.span)));
    }
    if let Some(q) = quantifier(&name.name)
        && let Tok::Ident(_) | Tok::Quoted(_) = rest.next().peek().tok
        && matches!(&rest.next().next().peek().tok, Tok::Ident(w) if w.eq_ignore_ascii_case("IN"))
    {
        let _guard = i.enter()?;
        let (after, (var, list, pred, _)) = comprehension(rest.next(), true)?;
        let (after, _) = commit(punct(")")(after))?;
        let pred =
            pred.ok_or_else(|| nom::Err::Failure(PErr::custom(after.offset(), "expected `WHERE`".into())))?;
        let kind = ExprKind::Quantifier { kind: q, var, list, pred };
        return Ok((after, Expr::new(kind, i.span_to(&after))));
    }
    if let Some(what) = super::unsupported::call_name(&name.name) {
        return super::input::fatal(name.span.start, format!("{what} is not supported yet"));
    }
    let _guard = i.enter()?;
    let (rest, kind) = match aggregate(&name.name) {
        Some(func) => aggregate_args(rest, func)?,
        None => {
            let (rest, args) = comma_list(rest.next(), expression, ")")?;
            (rest, ExprKind::Call { name, args })
        }
    };
    Ok((rest, Expr::new(kind, i.span_to(&rest))))
}

/// The aggregate a function name denotes, if any.
fn aggregate(name: &str) -> Option<AggFunc> {
    let all = [
        ("count", AggFunc::Count),
        ("min", AggFunc::Min),
        ("max", AggFunc::Max),
        ("sum", AggFunc::Sum),
        ("avg", AggFunc::Avg),
        ("collect", AggFunc::Collect),
        ("stdev", AggFunc::StDev),
        ("stdevp", AggFunc::StDevP),
        ("percentilecont", AggFunc::PercentileCont),
        ("percentiledisc", AggFunc::PercentileDisc),
    ];
    all.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, f)| *f)
}

/// `(*)`, `(DISTINCT x)` or `(x)` after an aggregate's name.
fn aggregate_args(i: Tokens<'_>, func: AggFunc) -> PResult<'_, ExprKind> {
    let (i, _) = punct("(")(i)?;
    if func == AggFunc::Count
        && let Ok((rest, _)) = punct("*")(i)
    {
        let (rest, _) = commit(punct(")")(rest))?;
        let kind = ExprKind::Aggregate { func, distinct: false, arg: None };
        return Ok((rest, kind));
    }
    let (i, distinct) = match kw("DISTINCT")(i) {
        Ok((rest, _)) => (rest, true),
        Err(_) => (i, false),
    };
    let (i, mut arg) = commit(expression(i))?;
    let mut i = i;
    if matches!(func, AggFunc::PercentileCont | AggFunc::PercentileDisc) {
        let (rest, _) = commit(punct(",")(i))?;
        let (rest, p) = commit(expression(rest))?;
        let span = arg.span.to(p.span);
        arg = Expr::new(ExprKind::List(vec![arg, p]), span);
        i = rest;
    }
    let (i, _) = commit(punct(")")(i))?;
    Ok((i, ExprKind::Aggregate { func, distinct, arg: Some(Box::new(arg)) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered() {
        let levels = [OR, XOR, AND, NOT, CMP, PRED, ADD, MUL, POW, NEG];
        assert!(levels.windows(2).all(|w| w[0] < w[1]));
    }
}
