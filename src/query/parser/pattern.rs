//! Graph pattern rules: node patterns, edge patterns (which bind claims),
//! variable-length ranges, path variables and comma-separated pattern lists.

use nom::Parser;
use nom::branch::alt;
use nom::combinator::{cut, map, opt, value};
use nom::multi::many0;
use nom::sequence::preceded;

use super::input::{
    Expect, PResult, Tokens, entity_ref, fatal, hint, ident, integer, joined, label, op, punct, variable,
};
use super::values::property_map;
use crate::query::ast::{
    Direction, EdgePattern, Hop, Ident, MAX_HOPS, NodePattern, Pattern, Span, VarLength,
};
use crate::query::lexer::Tok;

/// `pattern_list`: `pattern (',' pattern)*`.
pub(crate) fn pattern_list(i: Tokens<'_>) -> PResult<'_, Vec<Pattern>> {
    let (i, first) = pattern(i)?;
    let (i, mut rest) = many0(preceded(punct(","), cut(pattern))).parse(i)?;
    rest.insert(0, first);
    Ok((i, rest))
}

/// `pattern`: `[variable '='] node (edge node)*`.
pub(crate) fn pattern(i: Tokens<'_>) -> PResult<'_, Pattern> {
    label("a node pattern", named_pattern).parse(i)
}

fn named_pattern(i: Tokens<'_>) -> PResult<'_, Pattern> {
    let named = (variable, op("="));
    let (rest, path_var) = opt(map(named, |(v, _)| v)).parse(i)?;
    let (rest, mut p) = if path_var.is_some() { cut(chain).parse(rest)? } else { chain(rest)? };
    p.path_var = path_var;
    p.span = i.span_to(&rest);
    Ok((rest, p))
}

/// A path without a name: `node (edge node)*`.
pub(crate) fn chain(i: Tokens<'_>) -> PResult<'_, Pattern> {
    let (rest, start) = node_pattern(i)?;
    let hop = map((edge_pattern, cut(node_pattern)), |(edge, node)| Hop { edge, node });
    let (rest, hops) = many0(hop).parse(rest)?;
    let span = i.span_to(&rest);
    Ok((rest, Pattern { path_var: None, start, hops, span }))
}

/// `node_pattern`: `'(' [variable] [':' kind] [entity_ref] [property_map] ')'`
/// or a bare entity reference.
pub(crate) fn node_pattern(i: Tokens<'_>) -> PResult<'_, NodePattern> {
    let bare = map(entity_ref, |r| NodePattern {
        var: None,
        kind: None,
        span: r.span,
        entity: Some(r),
        props: Vec::new(),
    });
    label("a node pattern", alt((parenthesised_node, bare))).parse(i)
}

fn parenthesised_node(i: Tokens<'_>) -> PResult<'_, NodePattern> {
    let (rest, _) = punct("(")(i)?;
    let (rest, var) = opt(variable).parse(rest)?;
    let body = (opt(kind_label), opt(entity_ref), opt(property_map), punct(")"));
    let (rest, (kind, entity, props, _)) = if var.is_some() {
        let items = [Expect::Punct(")"), Expect::Punct(":")];
        cut(hint("after node variable", &items, body)).parse(rest)?
    } else {
        cut(body).parse(rest)?
    };
    let props = props.unwrap_or_default();
    let span = i.span_to(&rest);
    Ok((rest, NodePattern { var, kind, entity, props, span }))
}

/// `kind_label`: `':' identifier`.
pub(crate) fn kind_label(i: Tokens<'_>) -> PResult<'_, Ident> {
    let (rest, kind) = preceded(punct(":"), cut(ident("a kind name"))).parse(i)?;
    super::unsupported::second_label(rest)?;
    Ok((rest, kind))
}

/// `edge_pattern`: `-[...]->`, `<-[...]-` or `-[...]-`.
pub(crate) fn edge_pattern(i: Tokens<'_>) -> PResult<'_, EdgePattern> {
    label("an edge pattern", alt((incoming, outgoing_or_either))).parse(i)
}

/// `-->`, `<--` or `--`: an edge with nothing in brackets.
fn bare_edge(direction: Direction) -> EdgePattern {
    EdgePattern {
        var: None,
        predicates: Vec::new(),
        direction,
        length: None,
        props: Vec::new(),
        span: Span::default(),
    }
}

fn incoming(i: Tokens<'_>) -> PResult<'_, EdgePattern> {
    let (rest, _) = joined("<", "-", Expect::Punct("<-"))(i)?;
    if let Ok((rest, _)) = op("-")(rest) {
        let mut edge = bare_edge(Direction::In);
        edge.span = i.span_to(&rest);
        return Ok((rest, edge));
    }
    let (rest, mut edge) =
        cut((punct("["), edge_body, punct("]"), punct("-"))).map(|(_, body, _, _)| body).parse(rest)?;
    edge.direction = Direction::In;
    edge.span = i.span_to(&rest);
    Ok((rest, edge))
}

fn outgoing_or_either(i: Tokens<'_>) -> PResult<'_, EdgePattern> {
    let (rest, _) = punct("-")(i)?;
    if rest.peek().tok == Tok::Punct("-") {
        let arrow = value(Direction::Out, joined("-", ">", Expect::Punct("->")));
        let dash = value(Direction::Either, punct("-"));
        let (rest, direction) = cut(alt((arrow, dash))).parse(rest)?;
        let mut edge = bare_edge(direction);
        edge.span = i.span_to(&rest);
        return Ok((rest, edge));
    }
    let (rest, mut edge) = cut((punct("["), edge_body, punct("]"))).map(|(_, body, _)| body).parse(rest)?;
    let arrow = value(Direction::Out, joined("-", ">", Expect::Punct("->")));
    let dash = value(Direction::Either, punct("-"));
    let (rest, direction) = cut(alt((arrow, dash))).parse(rest)?;
    edge.direction = direction;
    edge.span = i.span_to(&rest);
    Ok((rest, edge))
}

/// `edge_body`: `[variable] [predicate_list] [var_length] [property_map]`.
fn edge_body(i: Tokens<'_>) -> PResult<'_, EdgePattern> {
    let mut parts = (opt(variable), opt(predicate_list), opt(var_length), opt(property_map));
    let (rest, (var, predicates, length, props)) = parts.parse(i)?;
    let edge = EdgePattern {
        var,
        predicates: predicates.unwrap_or_default(),
        direction: Direction::Either,
        length,
        props: props.unwrap_or_default(),
        span: Span::default(),
    };
    Ok((rest, edge))
}

/// `predicate_list`: `':' identifier ('|' ':'? identifier)*`.
pub(crate) fn predicate_list(i: Tokens<'_>) -> PResult<'_, Vec<Ident>> {
    let name = || ident("a predicate name");
    let (rest, first) = preceded(punct(":"), cut(name())).parse(i)?;
    let alternative = preceded((punct("|"), opt(op(":"))), cut(name()));
    let (rest, mut more) = many0(alternative).parse(rest)?;
    more.insert(0, first);
    Ok((rest, more))
}

/// `var_length`: `'*' [integer] ['..' [integer]]`.
pub(crate) fn var_length(i: Tokens<'_>) -> PResult<'_, VarLength> {
    let (rest, _) = punct("*")(i)?;
    let (rest, min) = opt(hops).parse(rest)?;
    let (rest, range) = opt(preceded(punct(".."), opt(hops))).parse(rest)?;
    let max = match range {
        Some(max) => max,
        None => min,
    };
    let span = i.span_to(&rest);
    if let Some(hi) = max {
        let lo = min.unwrap_or(1);
        if lo > hi {
            return fatal(
                span.start,
                format!("variable-length range `*{lo}..{hi}` has its minimum above its maximum"),
            );
        }
    }
    Ok((rest, VarLength { min, max, span }))
}

/// A hop count, at most [`MAX_HOPS`].
fn hops(i: Tokens<'_>) -> PResult<'_, u32> {
    let (rest, (n, span)) = integer(i)?;
    match u32::try_from(n) {
        Ok(n) if n <= MAX_HOPS => Ok((rest, n)),
        _ => fatal(span.start, format!("hop count {n} exceeds the limit of {MAX_HOPS}")),
    }
}
