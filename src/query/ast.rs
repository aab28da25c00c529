//! Abstract syntax tree of the claimgraph query language.
//!
//! Plain data, produced by [`crate::query::parser`] and printed back as
//! canonical text by the `Display` impls in `display.rs`. Every node a later
//! semantic check may complain about carries a [`Span`] of byte offsets into
//! the source. Spans never take part in equality, so two trees parsed from
//! differently formatted text compare equal when their structure does (the
//! same trade-off as sqlparser-rs's `AttachedToken`).

use crate::query::time;

/// A half-open range `start..end` of byte offsets into the source text.
///
/// `PartialEq` always returns `true` so that spans do not affect AST equality;
/// use [`Span::same_as`] to compare the offsets themselves.
#[derive(Debug, Clone, Copy, Default, Eq)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset one past the last byte.
    pub end: usize,
}

impl PartialEq for Span {
    fn eq(&self, _other: &Span) -> bool {
        true
    }
}

impl Span {
    /// Creates a span from its two offsets.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// Exact comparison of the offsets (equality ignores them).
    pub fn same_as(&self, other: &Span) -> bool {
        self.start == other.start && self.end == other.end
    }
}

/// An identifier as written (bare or backtick-quoted), case preserved.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    /// The name, without backticks.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// A reference to an entity: `@key` or `@"Name or alias"`.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityRef {
    /// What the reference names.
    pub target: EntityTarget,
    /// Where it was written.
    pub span: Span,
}

/// The two spellings of an [`EntityRef`].
#[derive(Debug, Clone, PartialEq)]
pub enum EntityTarget {
    /// `@us`: an entity key (case-sensitive).
    Key(String),
    /// `@"United States"`: a name or alias (matched case-insensitively).
    Name(String),
}

/// A calendar date of year, month or day precision, always a real date.
///
/// A date names the whole period it covers. Comparisons between dates of
/// different precision compare periods: `x < y` when `x` ends before `y`
/// starts, `x > y` when `x` starts after `y` ends, `x = y` when the periods
/// overlap (one contains the other), and `<=` / `>=` as "`<` or `=`" /
/// "`>` or `=`". For dates of equal precision this is the usual order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateLit {
    /// Year, 0 to 9999.
    pub year: i32,
    /// Month 1 to 12, if given.
    pub month: Option<u8>,
    /// Day of month, if given (only with a month).
    pub day: Option<u8>,
}

impl DateLit {
    /// First day of the period, as days since 1970-01-01.
    pub fn first_day(&self) -> i64 {
        time::days_from_civil(self.year, self.month.unwrap_or(1), self.day.unwrap_or(1))
    }

    /// Last day of the period (inclusive), as days since 1970-01-01.
    pub fn last_day(&self) -> i64 {
        let month = self.month.unwrap_or(12);
        let day = self.day.unwrap_or_else(|| time::days_in_month(self.year, month));
        time::days_from_civil(self.year, month, day)
    }
}

/// A UTC instant with microsecond precision, written
/// `2025-03-05T12:00:00Z` (an offset such as `+02:00` is converted to UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp {
    /// Microseconds since 1970-01-01T00:00:00Z.
    pub micros: i64,
}

/// A constant value.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A 64-bit integer.
    Int(i64),
    /// A finite float.
    Float(f64),
    /// A string.
    Str(String),
    /// A bare date such as `2025-03`.
    Date(DateLit),
    /// A timestamp such as `2025-03-05T12:00:00Z`.
    Timestamp(Timestamp),
}

/// An expression with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What kind of expression.
    pub kind: ExprKind,
    /// Where it was written.
    pub span: Span,
}

impl Expr {
    /// Wraps a kind with its span.
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }

    /// The direct subexpressions of the Cypher expression forms (map,
    /// index, slice, CASE); empty for the others, which tree walkers match
    /// one by one.
    pub fn cypher_children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Map(entries) => entries.iter().map(|e| &e.value).collect(),
            ExprKind::Index { base, index } => vec![base, index],
            ExprKind::Slice { base, from, to } => {
                std::iter::once(&**base).chain(from.as_deref()).chain(to.as_deref()).collect()
            }
            ExprKind::Case { operand, whens, otherwise } => operand
                .as_deref()
                .into_iter()
                .chain(whens.iter().flat_map(|(w, t)| [w, t]))
                .chain(otherwise.as_deref())
                .collect(),
            ExprKind::Quantifier { list, pred, .. } => vec![list, pred],
            ExprKind::ListComp { list, pred, map, .. } => {
                std::iter::once(&**list).chain(pred.as_deref()).chain(map.as_deref()).collect()
            }
            ExprKind::HasLabel { expr, .. } => vec![expr],
            _ => Vec::new(),
        }
    }

    /// Every direct subexpression, mutably (all forms).
    pub fn children_mut(&mut self) -> Vec<&mut Expr> {
        if !self.cypher_children().is_empty() {
            return self.cypher_children_mut();
        }
        match &mut self.kind {
            ExprKind::Property { base, .. } => vec![&mut **base],
            ExprKind::List(items) | ExprKind::And(items) | ExprKind::Or(items) => items.iter_mut().collect(),
            ExprKind::Not(x) | ExprKind::Neg(x) => vec![&mut **x],
            ExprKind::IsNull { expr, .. } => vec![&mut **expr],
            ExprKind::Binary { lhs, rhs, .. } => vec![&mut **lhs, &mut **rhs],
            ExprKind::Aggregate { arg, .. } => arg.as_deref_mut().into_iter().collect(),
            ExprKind::Call { args, .. } => args.iter_mut().collect(),
            _ => Vec::new(),
        }
    }

    /// Turns the variable `name` into [`ExprKind::Local`] throughout.
    pub fn bind_local(&mut self, name: &str) {
        if let ExprKind::Var(v) = &self.kind
            && v == name
        {
            self.kind = ExprKind::Local(name.to_string());
            return;
        }
        self.children_mut().into_iter().for_each(|c| c.bind_local(name));
    }

    /// [`Expr::cypher_children`], mutably.
    pub fn cypher_children_mut(&mut self) -> Vec<&mut Expr> {
        match &mut self.kind {
            ExprKind::Map(entries) => entries.iter_mut().map(|e| &mut e.value).collect(),
            ExprKind::Index { base, index } => vec![&mut **base, &mut **index],
            ExprKind::Slice { base, from, to } => {
                std::iter::once(&mut **base).chain(from.as_deref_mut()).chain(to.as_deref_mut()).collect()
            }
            ExprKind::Case { operand, whens, otherwise } => operand
                .as_deref_mut()
                .into_iter()
                .chain(whens.iter_mut().flat_map(|(w, t)| [w, t]))
                .chain(otherwise.as_deref_mut())
                .collect(),
            ExprKind::Quantifier { list, pred, .. } => vec![&mut **list, &mut **pred],
            ExprKind::HasLabel { expr, .. } => vec![&mut **expr],
            ExprKind::ListComp { list, pred, map, .. } => {
                std::iter::once(&mut **list).chain(pred.as_deref_mut()).chain(map.as_deref_mut()).collect()
            }
            _ => Vec::new(),
        }
    }
}

/// The expression forms.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A constant.
    Lit(Literal),
    /// `$name`
    Param(String),
    /// `@key` / `@"Name"`
    Entity(EntityRef),
    /// A variable bound by a pattern or a `RETURN` alias.
    Var(String),
    /// `base.a.b`: property access; `path` is never empty and `base` is never
    /// itself a `Property` (chains are flattened).
    Property {
        /// The value whose properties are read.
        base: Box<Expr>,
        /// Property names, outermost last.
        path: Vec<Ident>,
    },
    /// `[a, b, ...]`
    List(Vec<Expr>),
    /// `NOT e`
    Not(Box<Expr>),
    /// `-e`
    Neg(Box<Expr>),
    /// A binary operator.
    Binary {
        /// The operator.
        op: BinOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `a AND b AND ...` (two or more operands, none itself an `And`).
    And(Vec<Expr>),
    /// `a OR b OR ...` (two or more operands, none itself an `Or`).
    Or(Vec<Expr>),
    /// `e IS NULL` (`negated: false`) or `e IS NOT NULL`.
    IsNull {
        /// The tested value.
        expr: Box<Expr>,
        /// Whether `NOT` was written.
        negated: bool,
    },
    /// `count(*)`, `count(DISTINCT x)`, `min(x)`, ...
    Aggregate {
        /// Which aggregate.
        func: AggFunc,
        /// Whether `DISTINCT` was written.
        distinct: bool,
        /// The argument; `None` only for `count(*)`.
        arg: Option<Box<Expr>>,
    },
    /// `{k: v, ...}`
    Map(Vec<MapEntry<Expr>>),
    /// `base[index]`: a list element (negative counts from the end) or a
    /// map / entity / claim property by name.
    Index {
        /// The indexed value.
        base: Box<Expr>,
        /// The index.
        index: Box<Expr>,
    },
    /// `base[from..to]`: a sub-list (either bound may be omitted).
    Slice {
        /// The sliced list.
        base: Box<Expr>,
        /// First index (inclusive).
        from: Option<Box<Expr>>,
        /// Last index (exclusive).
        to: Option<Box<Expr>>,
    },
    /// `CASE [operand] WHEN a THEN b ... [ELSE c] END`: with an operand the
    /// simple form (`operand = a`), without it the searched form.
    Case {
        /// The compared value of a simple `CASE`.
        operand: Option<Box<Expr>>,
        /// `(WHEN, THEN)` pairs, at least one.
        whens: Vec<(Expr, Expr)>,
        /// `ELSE` value (null when absent).
        otherwise: Option<Box<Expr>>,
    },
    /// `n:Label` (`n:A:B`: every label): whether an entity is of that kind
    /// (or a claim of that predicate).
    HasLabel {
        /// The tested variable.
        expr: Box<Expr>,
        /// The labels, at least one.
        labels: Vec<Ident>,
    },
    /// A variable bound inside the expression by a quantifier or a list
    /// comprehension (`x` in `all(x IN l WHERE x > 0)`).
    Local(String),
    /// `all(x IN list WHERE p)`, `any`, `none`, `single`.
    Quantifier {
        /// Which quantifier.
        kind: Quantifier,
        /// The element variable.
        var: Ident,
        /// The list.
        list: Box<Expr>,
        /// The predicate, over [`ExprKind::Local`] `var`.
        pred: Box<Expr>,
    },
    /// `[x IN list WHERE p | e]` (both parts optional).
    ListComp {
        /// The element variable.
        var: Ident,
        /// The list.
        list: Box<Expr>,
        /// Keeps the elements for which this is true.
        pred: Option<Box<Expr>>,
        /// Maps each kept element.
        map: Option<Box<Expr>>,
    },
    /// Any other function call, `name(args)`; resolved by the checker.
    Call {
        /// Function name.
        name: Ident,
        /// Arguments.
        args: Vec<Expr>,
    },
}

/// The list quantifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quantifier {
    /// `all`
    All,
    /// `any`
    Any,
    /// `none`
    None,
    /// `single`
    Single,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    /// `=`
    Eq,
    /// `<>` (also written `!=`)
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `IN`
    In,
    /// `STARTS WITH`
    StartsWith,
    /// `ENDS WITH`
    EndsWith,
    /// `CONTAINS`
    Contains,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `^` (always a float, as in Cypher)
    Pow,
    /// `XOR`
    Xor,
    /// `=~` (the whole string must match the regular expression)
    Regex,
}

/// Aggregate functions, with Cypher's implicit grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggFunc {
    /// `count`
    Count,
    /// `min`
    Min,
    /// `max`
    Max,
    /// `sum`
    Sum,
    /// `avg`
    Avg,
    /// `collect`
    Collect,
    /// `stDev` (sample standard deviation)
    StDev,
    /// `stDevP` (population standard deviation)
    StDevP,
    /// `percentileCont(x, p)`: the argument is the list `[x, p]`.
    PercentileCont,
    /// `percentileDisc(x, p)`: the argument is the list `[x, p]`.
    PercentileDisc,
}

/// One `key: value` entry of a map, generic over the value type.
#[derive(Debug, Clone, PartialEq)]
pub struct MapEntry<V> {
    /// The key.
    pub key: Ident,
    /// The value.
    pub value: V,
}

/// A node pattern: `(x:Kind @ref {k: v})`, or a bare entity reference.
#[derive(Debug, Clone, PartialEq)]
pub struct NodePattern {
    /// Variable bound to the node (or to the literal object of a claim).
    pub var: Option<Ident>,
    /// Required entity kind (`:Country`).
    pub kind: Option<Ident>,
    /// The node must be this entity.
    pub entity: Option<EntityRef>,
    /// Required property values.
    pub props: Vec<MapEntry<Expr>>,
    /// Where it was written.
    pub span: Span,
}

/// Direction of an edge pattern relative to the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `-[...]->`: left node is the subject.
    Out,
    /// `<-[...]-`: right node is the subject.
    In,
    /// `-[...]-`: either way.
    Either,
}

/// Upper bound used for `*` and `*n..` when no maximum is written.
pub const DEFAULT_MAX_HOPS: u32 = 8;

/// Largest upper bound accepted in a variable-length edge.
pub const MAX_HOPS: u32 = 32;

/// `*min..max` on an edge; absent bounds take documented defaults.
///
/// `*` is `1..=8`, `*n` is exactly `n` (stored as `min = max = n`), `*n..` is
/// `n..=max(n, 8)`, `*..m` is `1..=m`. Bounds never exceed [`MAX_HOPS`].
#[derive(Debug, Clone, PartialEq)]
pub struct VarLength {
    /// Lower bound as written.
    pub min: Option<u32>,
    /// Upper bound as written.
    pub max: Option<u32>,
    /// Where it was written.
    pub span: Span,
}

impl VarLength {
    /// Effective lower bound.
    pub fn min_hops(&self) -> u32 {
        self.min.unwrap_or(1)
    }

    /// Effective upper bound (inclusive).
    pub fn max_hops(&self) -> u32 {
        self.max.unwrap_or_else(|| DEFAULT_MAX_HOPS.max(self.min_hops()))
    }
}

/// An edge pattern, which binds a claim: `-[c:p1|p2*1..3 {k: v}]->`.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgePattern {
    /// Variable bound to the claim.
    pub var: Option<Ident>,
    /// Predicate alternatives; empty means any predicate.
    pub predicates: Vec<Ident>,
    /// Direction.
    pub direction: Direction,
    /// Variable length, if written.
    pub length: Option<VarLength>,
    /// Required claim property values.
    pub props: Vec<MapEntry<Expr>>,
    /// Where it was written.
    pub span: Span,
}

/// One step of a path: an edge and the node it leads to.
#[derive(Debug, Clone, PartialEq)]
pub struct Hop {
    /// The edge.
    pub edge: EdgePattern,
    /// The node after it.
    pub node: NodePattern,
}

/// A path pattern, optionally named: `p = (a)-[*1..3]->(b)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    /// Path variable.
    pub path_var: Option<Ident>,
    /// First node.
    pub start: NodePattern,
    /// Following edges and nodes.
    pub hops: Vec<Hop>,
    /// Where it was written.
    pub span: Span,
}

/// A `RETURN` item: `expr [AS alias]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnItem {
    /// The value.
    pub expr: Expr,
    /// Column name.
    pub alias: Option<Ident>,
    /// Where it was written.
    pub span: Span,
}

/// An `ORDER BY` key.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderItem {
    /// The key.
    pub expr: Expr,
    /// `DESC` was written (`ASC` is the default).
    pub descending: bool,
}

/// The point of transaction time a read sees.
#[derive(Debug, Clone, PartialEq)]
pub enum TxPoint {
    /// `TX n`
    Tx(u64),
    /// `TX $name`: a parameter holding the transaction number.
    TxParam(String),
    /// A UTC instant.
    Timestamp(Timestamp),
}

/// `AS OF ...` / `FOR SYSTEM_TIME AS OF ...`.
#[derive(Debug, Clone, PartialEq)]
pub struct AsOf {
    /// The point.
    pub point: TxPoint,
    /// Where the clause was written.
    pub span: Span,
}

/// Valid-time filters.
#[derive(Debug, Clone, PartialEq)]
pub enum ValidRange {
    /// `VALID AT d` / `FOR VALID_TIME AS OF d`
    At(DateLit),
    /// `VALID AT $name` / `FOR VALID_TIME AS OF $name`: a parameter holding
    /// the date.
    AtParam(String),
    /// `VALID DURING d1 .. d2` / `FOR VALID_TIME BETWEEN d1 AND d2`
    During(DateLit, DateLit),
}

/// A valid-time clause with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidTime {
    /// The filter.
    pub range: ValidRange,
    /// Where the clause was written.
    pub span: Span,
}

/// The time clauses at the end of a read, each given at most once.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TimeClauses {
    /// Transaction time.
    pub as_of: Option<AsOf>,
    /// Valid time.
    pub valid: Option<ValidTime>,
    /// `INCLUDE RETRACTED`
    pub include_retracted: bool,
}

/// `WITH`: a projection (with implicit grouping, as `RETURN`) that the rest
/// of the query reads instead of the rows before it.
#[derive(Debug, Clone, PartialEq)]
pub struct With {
    /// `WITH DISTINCT` was written.
    pub distinct: bool,
    /// The projected items; an expression other than a variable needs an
    /// alias.
    pub items: Vec<ReturnItem>,
    /// `ORDER BY` keys.
    pub order_by: Vec<OrderItem>,
    /// `SKIP`.
    pub skip: Option<Expr>,
    /// `LIMIT`.
    pub limit: Option<Expr>,
    /// `WHERE` on the projected rows.
    pub filter: Option<Expr>,
}

/// A clause between the first `MATCH` and `RETURN`.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    /// `WITH ...`
    With(Box<With>),
    /// `UNWIND expr AS var`: one row per element of the list.
    Unwind {
        /// The list (null or an empty list gives no rows; another value
        /// gives one row with it).
        expr: Expr,
        /// The element variable.
        var: Ident,
    },
}

/// A `MATCH` read query.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Comma-separated patterns, joined on shared variables.
    pub patterns: Vec<Pattern>,
    /// `WHERE` condition.
    pub filter: Option<Expr>,
    /// `WITH` / `UNWIND` clauses after the patterns, in order.
    pub stages: Vec<Stage>,
    /// `UNION [ALL] query ...` after this one: `true` for `UNION ALL`.
    pub unions: Vec<(bool, Query)>,
    /// `RETURN DISTINCT` was written.
    pub distinct: bool,
    /// `RETURN` items.
    pub items: Vec<ReturnItem>,
    /// `ORDER BY` keys.
    pub order_by: Vec<OrderItem>,
    /// `SKIP` (an integer literal or a parameter).
    pub skip: Option<Expr>,
    /// `LIMIT` (an integer literal or a parameter).
    pub limit: Option<Expr>,
    /// Time clauses.
    pub time: TimeClauses,
    /// Where the statement was written.
    pub span: Span,
}

/// What `HISTORY` is about.
#[derive(Debug, Clone, PartialEq)]
pub enum History {
    /// `HISTORY @x`
    Entity(EntityRef),
    /// `HISTORY (@a)-[:p]->(@b)` (at least one edge).
    Edge(Pattern),
}

/// `CONFLICTS [ABOUT @x] [valid-time clause] [AS OF ...]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflicts {
    /// Restrict to claims about this entity.
    pub about: Option<EntityRef>,
    /// Valid-time filter.
    pub valid: Option<ValidTime>,
    /// Transaction-time point.
    pub as_of: Option<AsOf>,
}

/// `SHOW ...`
#[derive(Debug, Clone, PartialEq)]
pub enum Show {
    /// `SHOW ENTITIES [KIND k] [LIKE 'pat']`
    Entities {
        /// Kind filter.
        kind: Option<Ident>,
        /// Name pattern.
        like: Option<String>,
    },
    /// `SHOW PREDICATES`
    Predicates,
    /// `SHOW SOURCES`
    Sources,
    /// `SHOW TX [n]`
    Tx(Option<u64>),
}

/// A value in a write statement's map.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    /// What kind of value.
    pub kind: ValueKind,
    /// Where it was written.
    pub span: Span,
}

/// Write-statement values: constants, references, bare words and lists.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueKind {
    /// A constant (numbers may carry a leading `-`).
    Lit(Literal),
    /// `@key` / `@"Name"`
    Entity(EntityRef),
    /// A bare word such as `suggests` or `c1`.
    Symbol(String),
    /// `$name`
    Param(String),
    /// `[v, ...]`
    List(Vec<Value>),
}

/// A write map entry.
pub type Property = MapEntry<Value>;

/// The object of an asserted claim.
#[derive(Debug, Clone, PartialEq)]
pub enum AssertObject {
    /// Another entity.
    Entity(EntityRef),
    /// A literal value, written in parentheses: `(144000000)`.
    Literal(Literal, Span),
}

/// `CREATE ENTITY key [:Kind] [{...}]`
#[derive(Debug, Clone, PartialEq)]
pub struct CreateEntity {
    /// Entity key.
    pub key: Ident,
    /// Kind.
    pub kind: Option<Ident>,
    /// Name, aliases and attributes.
    pub props: Vec<Property>,
}

/// `CREATE DOCUMENT key [{...}]` and `CREATE PREDICATE name [{...}]`.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateNamed {
    /// Document key or predicate name.
    pub name: Ident,
    /// Metadata.
    pub props: Vec<Property>,
}

/// `ASSERT (@s)-[:p]->(o) [{qualifiers}]`
#[derive(Debug, Clone, PartialEq)]
pub struct Assert {
    /// Subject entity.
    pub subject: EntityRef,
    /// Predicate name.
    pub predicate: Ident,
    /// Object.
    pub object: AssertObject,
    /// Qualifiers (`id`, `by`, `source`, `stance`, `valid`, ...).
    pub props: Vec<Property>,
    /// Where the statement was written.
    pub span: Span,
}

/// One statement of the language.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// `MATCH ...`
    Match(Box<Query>),
    /// `EXPLAIN [ANALYZE] <query>` / `PROFILE <query>` (= `EXPLAIN ANALYZE`).
    Explain {
        /// Run the query and report actual rows and times.
        analyze: bool,
        /// The explained query.
        inner: Box<Query>,
    },
    /// `HISTORY ...`
    History(History),
    /// `CONFLICTS ...`
    Conflicts(Conflicts),
    /// `SHOW ...`
    Show(Show),
    /// `STATS`
    Stats,
    /// `CREATE ENTITY ...`
    CreateEntity(CreateEntity),
    /// `CREATE DOCUMENT ...`
    CreateDocument(CreateNamed),
    /// `CREATE PREDICATE ...`
    CreatePredicate(CreateNamed),
    /// `ASSERT ...`
    Assert(Box<Assert>),
    /// `RETRACT id BECAUSE "reason"`
    Retract {
        /// Claim id.
        claim: Ident,
        /// Why.
        reason: String,
    },
    /// `MERGE ENTITY @from INTO @into`
    MergeEntity {
        /// The entity merged away.
        from: EntityRef,
        /// The surviving entity.
        into: EntityRef,
    },
    /// `UNMERGE ENTITY @x`
    UnmergeEntity {
        /// The entity to split out again.
        entity: EntityRef,
    },
    /// `BEGIN [MESSAGE '...']`
    Begin {
        /// Transaction message.
        message: Option<String>,
    },
    /// `COMMIT`
    Commit,
    /// `ROLLBACK`
    Rollback,
}

impl Statement {
    /// Whether the statement only reads (as opposed to a write or block
    /// control): MATCH, EXPLAIN, HISTORY, CONFLICTS, SHOW, STATS.
    pub fn is_read(&self) -> bool {
        matches!(
            self,
            Statement::Match(_)
                | Statement::Explain { .. }
                | Statement::History(_)
                | Statement::Conflicts(_)
                | Statement::Show(_)
                | Statement::Stats
        )
    }
}
