//! Write statements, one per store event: `CREATE ENTITY / DOCUMENT /
//! PREDICATE`, `ASSERT`, `RETRACT`, `MERGE ENTITY`, `UNMERGE ENTITY`, and the
//! transaction brackets `BEGIN`, `COMMIT`, `ROLLBACK`.

use nom::Parser;
use nom::branch::alt;
use nom::combinator::{cut, map, opt, value};
use nom::sequence::{delimited, preceded};

use super::input::{Expect, PResult, Tokens, entity_ref, ident, joined, kw, label, punct, spanned, string};
use super::pattern::kind_label;
use super::values::{signed_literal, value_map};
use crate::query::ast::{Assert, AssertObject, CreateEntity, CreateNamed, EntityRef, Property, Statement};

/// `CREATE` followed by `ENTITY`, `DOCUMENT` or `PREDICATE`.
pub(crate) fn create(i: Tokens<'_>) -> PResult<'_, Statement> {
    let what = alt((create_entity, create_document, create_predicate));
    preceded(kw("CREATE"), cut(what)).parse(i)
}

fn props(i: Tokens<'_>) -> PResult<'_, Vec<Property>> {
    map(opt(value_map), Option::unwrap_or_default).parse(i)
}

/// `create_entity`: `CREATE ENTITY key [':' kind] [value_map]`.
fn create_entity(i: Tokens<'_>) -> PResult<'_, Statement> {
    let body = (ident("an entity key"), opt(kind_label), props);
    let (rest, (key, kind, props)) = preceded(kw("ENTITY"), cut(body)).parse(i)?;
    Ok((rest, Statement::CreateEntity(CreateEntity { key, kind, props })))
}

/// `create_document`: `CREATE DOCUMENT key [value_map]`.
fn create_document(i: Tokens<'_>) -> PResult<'_, Statement> {
    let body = map((ident("a document key"), props), |(name, props)| CreateNamed { name, props });
    map(preceded(kw("DOCUMENT"), cut(body)), Statement::CreateDocument).parse(i)
}

/// `create_predicate`: `CREATE PREDICATE name [value_map]`.
fn create_predicate(i: Tokens<'_>) -> PResult<'_, Statement> {
    let body = map((ident("a predicate name"), props), |(name, props)| CreateNamed { name, props });
    map(preceded(kw("PREDICATE"), cut(body)), Statement::CreatePredicate).parse(i)
}

/// `assert`: `ASSERT subject -[:predicate]-> object [value_map]`.
pub(crate) fn assert(i: Tokens<'_>) -> PResult<'_, Statement> {
    let edge = (punct("-"), punct("["), punct(":"), ident("a predicate name"), punct("]"));
    let arrow = joined("-", ">", Expect::Punct("->"));
    let body = (subject, edge, arrow, object, props);
    let (rest, (subject, (_, _, _, predicate, _), _, object, props)) =
        preceded(kw("ASSERT"), cut(body)).parse(i)?;
    let span = i.span_to(&rest);
    let a = Assert { subject, predicate, object, props, span };
    Ok((rest, Statement::Assert(Box::new(a))))
}

/// The subject: `@x` or `(@x)`.
fn subject(i: Tokens<'_>) -> PResult<'_, EntityRef> {
    let wrapped = delimited(punct("("), cut(entity_ref), cut(punct(")")));
    label("a subject entity", alt((entity_ref, wrapped))).parse(i)
}

/// The object: `@x`, `(@x)` or a literal in parentheses, `(42)`.
fn object(i: Tokens<'_>) -> PResult<'_, AssertObject> {
    let lit = map(spanned(signed_literal), |(l, span)| AssertObject::Literal(l, span));
    let inner = alt((map(entity_ref, AssertObject::Entity), lit));
    let wrapped = delimited(punct("("), cut(inner), cut(punct(")")));
    label("an object", alt((map(entity_ref, AssertObject::Entity), wrapped))).parse(i)
}

/// `retract`: `RETRACT claim_id BECAUSE "reason"`.
pub(crate) fn retract(i: Tokens<'_>) -> PResult<'_, Statement> {
    let body = (ident("a claim id"), kw("BECAUSE"), map(string, |(s, _)| s));
    let (rest, (claim, _, reason)) = preceded(kw("RETRACT"), cut(body)).parse(i)?;
    Ok((rest, Statement::Retract { claim, reason }))
}

/// `merge_entity`: `MERGE ENTITY @from INTO @into`.
pub(crate) fn merge_entity(i: Tokens<'_>) -> PResult<'_, Statement> {
    let body = (kw("ENTITY"), entity_ref, kw("INTO"), entity_ref);
    let (rest, (_, from, _, into)) = preceded(kw("MERGE"), cut(body)).parse(i)?;
    Ok((rest, Statement::MergeEntity { from, into }))
}

/// `unmerge_entity`: `UNMERGE ENTITY @x`.
pub(crate) fn unmerge_entity(i: Tokens<'_>) -> PResult<'_, Statement> {
    let body = preceded(kw("ENTITY"), entity_ref);
    let (rest, entity) = preceded(kw("UNMERGE"), cut(body)).parse(i)?;
    Ok((rest, Statement::UnmergeEntity { entity }))
}

/// `begin`: `BEGIN [MESSAGE 'text']`.
pub(crate) fn begin(i: Tokens<'_>) -> PResult<'_, Statement> {
    let message = opt(preceded(kw("MESSAGE"), cut(map(string, |(s, _)| s))));
    map(preceded(kw("BEGIN"), message), |message| Statement::Begin { message }).parse(i)
}

/// `commit`: `COMMIT`.
pub(crate) fn commit(i: Tokens<'_>) -> PResult<'_, Statement> {
    value(Statement::Commit, kw("COMMIT")).parse(i)
}

/// `rollback`: `ROLLBACK`.
pub(crate) fn rollback(i: Tokens<'_>) -> PResult<'_, Statement> {
    value(Statement::Rollback, kw("ROLLBACK")).parse(i)
}
