//! nom plumbing for the parser: the token-slice input type [`Tokens`], our
//! error type [`PErr`], the furthest-failure tracker [`Ctx`] and the
//! primitive token parsers the grammar rules are built from.
//!
//! Error reporting works like a PEG "farthest failure": every primitive that
//! fails records, in the shared [`Ctx`], what it expected at which token.
//! Only the furthest position is kept, with the set of things expected there.
//! [`label`] replaces that set with one name when a rule fails without
//! consuming anything, and [`hint`] adds a phrase ("after node variable").
//! Errors that are not about a missing token (too deep, duplicate clause)
//! are [`Custom`] and travel as `nom::Err::Failure`. nom's `ErrorKind`
//! is ignored entirely, so it can never reach a user.

use std::cell::{Cell, RefCell};

use nom::error::{ContextError, ErrorKind, ParseError as NomParseError};
use nom::{Err, IResult, Input, Needed, Parser};

use crate::query::ast::{EntityRef, EntityTarget, Ident, Span};
use crate::query::lexer::{Tok, Token};

/// Maximum nesting depth of expressions and values.
pub const MAX_DEPTH: usize = 64;

/// Maximum chained binary operators in one statement: the second and later
/// operators of a chain such as `a + b + c` (the first counts one nesting
/// level, as it starts a new tree). A chain is not nesting to the reader,
/// but it builds a tree as deep as it is long, which drop, clone and the
/// planner walk recursively: this bounds that depth.
pub const MAX_OPERATORS: usize = 1024;

/// Words that cannot be bare variable names (backticks lift this); they may
/// still be property names, map keys, kinds and predicates.
pub(crate) const RESERVED: &[&str] = &[
    "AND", "AS", "ASC", "BY", "CASE", "CONTAINS", "DESC", "DISTINCT", "ELSE", "END", "ENDS", "FALSE", "FOR",
    "IN", "INCLUDE", "IS", "LIMIT", "MATCH", "NOT", "NULL", "OF", "OR", "ORDER", "RETURN", "SKIP", "STARTS",
    "THEN", "TRUE", "VALID", "WHEN", "WHERE", "WITH", "XOR",
];

/// Whether `word` is reserved (case-insensitive).
pub(crate) fn is_reserved(word: &str) -> bool {
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(word))
}

/// Something the parser expected at a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// A keyword, shown in backticks.
    Kw(&'static str),
    /// A punctuation token, shown in backticks.
    Punct(&'static str),
    /// A named thing shown as is ("an expression").
    Label(&'static str),
}

impl Expect {
    /// How the expectation reads in a message.
    pub(crate) fn render(self) -> String {
        match self {
            Expect::Kw(s) | Expect::Punct(s) => format!("`{s}`"),
            Expect::Label(s) => s.to_string(),
        }
    }
}

/// The furthest failure seen so far.
#[derive(Debug, Default)]
pub(crate) struct Furthest {
    /// Token index of the failure.
    pub index: usize,
    /// What was expected there, in the order first tried.
    pub expected: Vec<Expect>,
    /// Phrase describing the spot, e.g. "after node variable".
    pub context: Option<&'static str>,
    /// Keywords tried there, for "did you mean" suggestions.
    pub keywords: Vec<&'static str>,
}

/// State shared by all parsers of one run.
#[derive(Debug, Default)]
pub(crate) struct Ctx {
    far: RefCell<Furthest>,
    depth: Cell<usize>,
    operators: Cell<usize>,
}

impl Furthest {
    /// Moves the record to `index` if that is further, dropping what was
    /// expected before; says whether `index` is now the furthest.
    fn reach(&mut self, index: usize) -> bool {
        if index > self.index {
            *self = Furthest { index, ..Furthest::default() };
        }
        index == self.index
    }
}

impl Ctx {
    fn record(&self, index: usize, e: Expect) {
        let mut far = self.far.borrow_mut();
        if far.reach(index) && !far.expected.contains(&e) {
            far.expected.push(e);
        }
    }

    fn record_keyword(&self, index: usize, word: &'static str) {
        let mut far = self.far.borrow_mut();
        if far.reach(index) && !far.keywords.contains(&word) {
            far.keywords.push(word);
        }
    }

    fn snapshot(&self) -> (usize, usize) {
        let far = self.far.borrow();
        (far.index, far.expected.len())
    }

    /// After a rule starting at `start` failed: if nothing beyond `start`
    /// was reached, replace what the rule recorded there by `items`.
    fn relabel(&self, start: usize, snap: (usize, usize), items: &[Expect]) {
        let mut far = self.far.borrow_mut();
        if far.index != start {
            return;
        }
        let keep = if snap.0 == start { snap.1 } else { 0 };
        far.expected.truncate(keep);
        for e in items {
            if !far.expected.contains(e) {
                far.expected.push(*e);
            }
        }
    }

    fn set_context(&self, start: usize, phrase: &'static str) {
        let mut far = self.far.borrow_mut();
        if far.index == start {
            far.context = Some(phrase);
        }
    }

    /// Takes the final record.
    pub(crate) fn into_furthest(self) -> Furthest {
        self.far.into_inner()
    }
}

/// Restores the nesting depth when a nested rule returns, however it returns.
pub(crate) struct DepthGuard<'a> {
    ctx: &'a Ctx,
    saved: usize,
}

impl Drop for DepthGuard<'_> {
    fn drop(&mut self) {
        self.ctx.depth.set(self.saved);
    }
}

static EOF: Token = Token { tok: Tok::Eof, span: Span { start: 0, end: 0 } };

/// The parser input: a window `pos..end` of the token list.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tokens<'a> {
    all: &'a [Token],
    pos: usize,
    end: usize,
    ctx: &'a Ctx,
}

impl<'a> Tokens<'a> {
    /// The whole token list (which ends with `Eof`).
    pub(crate) fn new(all: &'a [Token], ctx: &'a Ctx) -> Tokens<'a> {
        Tokens { all, pos: 0, end: all.len(), ctx }
    }

    /// The next token (`Eof` once the window is exhausted).
    pub(crate) fn peek(&self) -> &'a Token {
        let last = self.all.last().unwrap_or(&EOF);
        self.all[..self.end].get(self.pos).unwrap_or(last)
    }

    /// The input after the next token.
    pub(crate) fn next(self) -> Tokens<'a> {
        self.take_from(1.min(self.input_len()))
    }

    /// Where the next token starts.
    pub(crate) fn offset(&self) -> usize {
        self.peek().span.start
    }

    /// Where the last consumed token ends.
    pub(crate) fn prev_end(&self) -> usize {
        match self.pos.checked_sub(1).and_then(|p| self.all.get(p)) {
            Some(t) => t.span.end,
            None => self.offset(),
        }
    }

    /// Span from the start of `self` to the end of what `rest` consumed.
    pub(crate) fn span_to(&self, rest: &Tokens<'a>) -> Span {
        let start = self.offset();
        Span::new(start, rest.prev_end().max(start))
    }

    /// Enters one nesting level, failing once [`MAX_DEPTH`] is exceeded.
    pub(crate) fn enter(&self) -> Result<DepthGuard<'a>, Err<PErr>> {
        let saved = self.ctx.depth.get();
        if saved >= MAX_DEPTH {
            let msg = format!("expression nested too deeply (limit {MAX_DEPTH})");
            return Err(Err::Failure(PErr::custom(self.offset(), msg)));
        }
        self.ctx.depth.set(saved + 1);
        Ok(DepthGuard { ctx: self.ctx, saved })
    }

    /// Guard that restores the current depth when dropped.
    pub(crate) fn depth_guard(&self) -> DepthGuard<'a> {
        DepthGuard { ctx: self.ctx, saved: self.ctx.depth.get() }
    }

    /// Starts counting [`MAX_OPERATORS`] for the next statement of a script.
    pub(crate) fn new_statement(&self) {
        self.ctx.operators.set(0);
    }

    /// Adds one level without a matching exit (for the first operator of a
    /// chain; the caller holds a [`Tokens::depth_guard`]).
    pub(crate) fn deepen(&self) -> Result<(), Err<PErr>> {
        self.enter().map(std::mem::forget)
    }

    /// Counts one chained binary operator, failing past [`MAX_OPERATORS`].
    pub(crate) fn operator(&self) -> Result<(), Err<PErr>> {
        let n = self.ctx.operators.get() + 1;
        if n > MAX_OPERATORS {
            let msg = format!("too many operators in one statement (limit {MAX_OPERATORS})");
            return Err(Err::Failure(PErr::custom(self.offset(), msg)));
        }
        self.ctx.operators.set(n);
        Ok(())
    }
}

impl<'a> Input for Tokens<'a> {
    type Item = &'a Token;
    type Iter = std::slice::Iter<'a, Token>;
    type IterIndices = std::iter::Enumerate<std::slice::Iter<'a, Token>>;

    fn input_len(&self) -> usize {
        self.end - self.pos
    }

    fn take(&self, index: usize) -> Self {
        let end = self.pos + index.min(self.input_len());
        Tokens { end, ..*self }
    }

    fn take_from(&self, index: usize) -> Self {
        let pos = self.pos + index.min(self.input_len());
        Tokens { pos, ..*self }
    }

    fn take_split(&self, index: usize) -> (Self, Self) {
        (self.take_from(index), self.take(index))
    }

    fn position<P>(&self, predicate: P) -> Option<usize>
    where
        P: Fn(Self::Item) -> bool,
    {
        self.iter_elements().position(predicate)
    }

    fn iter_elements(&self) -> Self::Iter {
        self.all[self.pos..self.end].iter()
    }

    fn iter_indices(&self) -> Self::IterIndices {
        self.iter_elements().enumerate()
    }

    fn slice_index(&self, count: usize) -> Result<usize, Needed> {
        match count.checked_sub(self.input_len()) {
            Some(missing) if missing > 0 => Err(Needed::new(missing)),
            _ => Ok(count),
        }
    }
}

/// A failure that is not about a missing token.
#[derive(Debug, Clone)]
pub(crate) struct Custom {
    /// Where the caret goes.
    pub offset: usize,
    /// The whole headline.
    pub message: String,
}

/// Our nom error type: where the failing parser stood, or a [`Custom`]
/// error. What was expected lives in [`Ctx`], not here.
#[derive(Debug, Clone)]
pub(crate) struct PErr {
    /// Token index where the failing parser stood.
    pub index: usize,
    /// A non-token error, which wins over any expectation.
    pub custom: Option<Box<Custom>>,
}

impl PErr {
    /// A custom error at a byte offset.
    pub(crate) fn custom(offset: usize, message: String) -> PErr {
        PErr { index: 0, custom: Some(Box::new(Custom { offset, message })) }
    }
}

impl<'a> NomParseError<Tokens<'a>> for PErr {
    fn from_error_kind(input: Tokens<'a>, _kind: ErrorKind) -> Self {
        PErr { index: input.pos, custom: None }
    }

    fn append(_input: Tokens<'a>, _kind: ErrorKind, other: Self) -> Self {
        other
    }

    fn or(self, other: Self) -> Self {
        match (&self.custom, &other.custom) {
            (Some(_), _) => self,
            (None, Some(_)) => other,
            _ if self.index > other.index => self,
            _ => other,
        }
    }
}

impl<'a> ContextError<Tokens<'a>> for PErr {
    fn add_context(input: Tokens<'a>, ctx: &'static str, other: Self) -> Self {
        input.ctx.set_context(input.pos, ctx);
        other
    }
}

/// Result of every parser here.
pub(crate) type PResult<'a, O> = IResult<Tokens<'a>, O, PErr>;

/// Records `e` at the next token and fails (recoverably).
pub(crate) fn fail<'a, O>(i: Tokens<'a>, e: Expect) -> PResult<'a, O> {
    i.ctx.record(i.pos, e);
    Err(Err::Error(PErr { index: i.pos, custom: None }))
}

/// Fails fatally with a custom message at `offset`.
pub(crate) fn fatal<'a, O>(offset: usize, message: String) -> PResult<'a, O> {
    Err(Err::Failure(PErr::custom(offset, message)))
}

/// Fails without recording anything (for operators, which would only add
/// noise to "expected" lists).
pub(crate) fn fail_silently<'a, O>(i: Tokens<'a>) -> PResult<'a, O> {
    Err(Err::Error(PErr { index: i.pos, custom: None }))
}

/// Matches punctuation `p`, recording it as expected on failure.
pub(crate) fn punct<'a>(p: &'static str) -> impl Fn(Tokens<'a>) -> PResult<'a, Span> {
    move |i| match i.peek().tok {
        Tok::Punct(q) if q == p => Ok((i.next(), i.peek().span)),
        _ => fail(i, Expect::Punct(p)),
    }
}

/// Matches punctuation `p` without recording it.
pub(crate) fn op<'a>(p: &'static str) -> impl Fn(Tokens<'a>) -> PResult<'a, Span> {
    move |i| match i.peek().tok {
        Tok::Punct(q) if q == p => Ok((i.next(), i.peek().span)),
        _ => fail_silently(i),
    }
}

fn is_keyword(token: &Token, word: &str) -> bool {
    matches!(&token.tok, Tok::Ident(s) if s.eq_ignore_ascii_case(word))
}

/// Matches keyword `word` (case-insensitive, bare identifiers only).
pub(crate) fn kw<'a>(word: &'static str) -> impl Fn(Tokens<'a>) -> PResult<'a, Span> {
    move |i| {
        if is_keyword(i.peek(), word) {
            return Ok((i.next(), i.peek().span));
        }
        i.ctx.record_keyword(i.pos, word);
        fail(i, Expect::Kw(word))
    }
}

/// Matches keyword `word` without listing it as expected (operators).
pub(crate) fn kw_op<'a>(word: &'static str) -> impl Fn(Tokens<'a>) -> PResult<'a, Span> {
    move |i| {
        if is_keyword(i.peek(), word) {
            return Ok((i.next(), i.peek().span));
        }
        i.ctx.record_keyword(i.pos, word);
        fail_silently(i)
    }
}

/// Notes `words` as keywords tried here (for "did you mean"), without
/// listing them as expected.
pub(crate) fn note_keywords(i: Tokens<'_>, words: &[&'static str]) {
    for word in words {
        i.ctx.record_keyword(i.pos, word);
    }
}

/// Matches `a` immediately followed by `b` (no space), e.g. `-` `>`.
pub(crate) fn joined<'a>(
    a: &'static str,
    b: &'static str,
    what: Expect,
) -> impl Fn(Tokens<'a>) -> PResult<'a, Span> {
    move |i| {
        let first = i.peek();
        let rest = i.next();
        let second = rest.peek();
        let adjacent = first.span.end == second.span.start;
        match (&first.tok, &second.tok) {
            (Tok::Punct(x), Tok::Punct(y)) if *x == a && *y == b && adjacent => {
                Ok((rest.next(), first.span.to(second.span)))
            }
            _ => fail(i, what),
        }
    }
}

/// Any identifier, keywords included; `what` names it in messages.
pub(crate) fn ident<'a>(what: &'static str) -> impl Fn(Tokens<'a>) -> PResult<'a, Ident> {
    move |i| match &i.peek().tok {
        Tok::Ident(s) | Tok::Quoted(s) => {
            let id = Ident { name: s.clone(), span: i.peek().span };
            Ok((i.next(), id))
        }
        _ => fail(i, Expect::Label(what)),
    }
}

/// A variable name: an identifier that is not reserved, or any quoted one.
pub(crate) fn variable(i: Tokens<'_>) -> PResult<'_, Ident> {
    match &i.peek().tok {
        Tok::Ident(s) if is_reserved(s) => fail(i, Expect::Label("a variable")),
        Tok::Ident(_) | Tok::Quoted(_) => ident("a variable")(i),
        _ => fail(i, Expect::Label("a variable")),
    }
}

/// A string literal.
pub(crate) fn string(i: Tokens<'_>) -> PResult<'_, (String, Span)> {
    match &i.peek().tok {
        Tok::Str(s) => Ok((i.next(), (s.clone(), i.peek().span))),
        _ => fail(i, Expect::Label("a string")),
    }
}

/// A non-negative integer literal.
pub(crate) fn integer(i: Tokens<'_>) -> PResult<'_, (i64, Span)> {
    match i.peek().tok {
        Tok::Int(n) => Ok((i.next(), (n, i.peek().span))),
        _ => fail(i, Expect::Label("an integer")),
    }
}

/// `@key` or `@"Name"`.
pub(crate) fn entity_ref(i: Tokens<'_>) -> PResult<'_, EntityRef> {
    let target = match &i.peek().tok {
        Tok::EntityKey(k) => EntityTarget::Key(k.clone()),
        Tok::EntityName(n) => EntityTarget::Name(n.clone()),
        _ => return fail(i, Expect::Label("an entity reference")),
    };
    Ok((i.next(), EntityRef { target, span: i.peek().span }))
}

/// `$name`.
pub(crate) fn param(i: Tokens<'_>) -> PResult<'_, (String, Span)> {
    match &i.peek().tok {
        Tok::Param(p) => Ok((i.next(), (p.clone(), i.peek().span))),
        _ => fail(i, Expect::Label("a parameter")),
    }
}

/// The end of the tokens.
pub(crate) fn end_of_input(i: Tokens<'_>) -> PResult<'_, ()> {
    match i.peek().tok {
        Tok::Eof => Ok((i, ())),
        _ => fail(i, Expect::Label("end of input")),
    }
}

/// Runs `p`; if it fails without getting past its first token, what it
/// expected there is reported as `name`.
pub(crate) fn label<'a, O, P>(name: &'static str, mut p: P) -> impl FnMut(Tokens<'a>) -> PResult<'a, O>
where
    P: Parser<Tokens<'a>, Output = O, Error = PErr>,
{
    move |i: Tokens<'a>| labelled(i, name, |i| p.parse(i))
}

/// [`label`] as a direct call, for rules on the recursive descent path
/// (each combinator layer costs stack frames in debug builds).
pub(crate) fn labelled<'a, O>(
    i: Tokens<'a>,
    name: &'static str,
    rule: impl FnOnce(Tokens<'a>) -> PResult<'a, O>,
) -> PResult<'a, O> {
    let snap = i.ctx.snapshot();
    let result = rule(i);
    if result.is_err() {
        i.ctx.relabel(i.pos, snap, &[Expect::Label(name)]);
    }
    result
}

/// nom's `cut` as a function: makes a recoverable error fatal.
pub(crate) fn commit<T>(result: Result<T, Err<PErr>>) -> Result<T, Err<PErr>> {
    result.map_err(|e| match e {
        Err::Error(e) => Err::Failure(e),
        other => other,
    })
}

/// `item (',' item)* close`, possibly empty, committed once begun: the
/// comma lists of lists, calls and maps.
pub(crate) fn comma_list<'a, T>(
    mut i: Tokens<'a>,
    item: fn(Tokens<'a>) -> PResult<'a, T>,
    close: &'static str,
) -> PResult<'a, Vec<T>> {
    let mut items = Vec::new();
    match item(i) {
        Ok((rest, x)) => {
            items.push(x);
            i = rest;
        }
        Err(Err::Error(_)) => return commit(punct(close)(i)).map(|(rest, _)| (rest, items)),
        Err(e) => return Err(e),
    }
    while let Ok((rest, _)) = punct(",")(i) {
        let (rest, x) = commit(item(rest))?;
        items.push(x);
        i = rest;
    }
    commit(punct(close)(i)).map(|(rest, _)| (rest, items))
}

/// Like [`label`] with several alternatives and a phrase for the spot:
/// `` expected `)` or `:` after node variable ``.
pub(crate) fn hint<'a, O, P>(
    phrase: &'static str,
    items: &[Expect],
    p: P,
) -> impl FnMut(Tokens<'a>) -> PResult<'a, O>
where
    P: Parser<Tokens<'a>, Output = O, Error = PErr>,
{
    relabeled(Some(phrase), items.to_vec(), p)
}

fn relabeled<'a, O, P>(
    phrase: Option<&'static str>,
    items: Vec<Expect>,
    mut p: P,
) -> impl FnMut(Tokens<'a>) -> PResult<'a, O>
where
    P: Parser<Tokens<'a>, Output = O, Error = PErr>,
{
    move |i: Tokens<'a>| {
        let snap = i.ctx.snapshot();
        let result = p.parse(i);
        if result.is_err() {
            i.ctx.relabel(i.pos, snap, &items);
            if let Some(phrase) = phrase {
                i.ctx.set_context(i.pos, phrase);
            }
        }
        result
    }
}

/// Runs `p` and also returns the span of what it consumed.
pub(crate) fn spanned<'a, O, P>(mut p: P) -> impl FnMut(Tokens<'a>) -> PResult<'a, (O, Span)>
where
    P: Parser<Tokens<'a>, Output = O, Error = PErr>,
{
    move |i: Tokens<'a>| {
        let (rest, out) = p.parse(i)?;
        let span = i.span_to(&rest);
        Ok((rest, (out, span)))
    }
}
