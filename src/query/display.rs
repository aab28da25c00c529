//! Canonical text for the AST: the `Display` impls.
//!
//! The printed text re-parses to an equal tree (spans aside): keywords are
//! upper case, strings double-quoted with escapes, identifiers backticked
//! when they are reserved or not bare-shaped, and parentheses are added
//! exactly where operator precedence needs them.

use std::fmt::{self, Display, Formatter, Write as _};

use crate::query::ast::{
    AggFunc, AsOf, AssertObject, BinOp, Conflicts, DateLit, Direction, EdgePattern, EntityRef, EntityTarget,
    Expr, ExprKind, History, Ident, Literal, MapEntry, NodePattern, OrderItem, Pattern, Quantifier, Query,
    ReturnItem, Show, Stage, Statement, TimeClauses, TxPoint, ValidRange, ValidTime, Value, ValueKind,
    VarLength,
};
use crate::query::parser::is_reserved;
use crate::query::time::format_timestamp;

/// Precedence levels, loosest first; atoms bind tightest.
const OR: u8 = 1;
const XOR: u8 = 2;
const AND: u8 = 3;
const NOT: u8 = 4;
const CMP: u8 = 5;
const PRED: u8 = 6;
const ADD: u8 = 7;
const MUL: u8 = 8;
const POW: u8 = 9;
const NEG: u8 = 10;
const POSTFIX: u8 = 11;
const ATOM: u8 = 12;

/// Writes `name` bare when it can be, else in backticks.
struct Name<'a>(&'a str);

impl Display for Name<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let name = self.0;
        if is_bare(name) && !is_reserved(name) {
            f.write_str(name)
        } else {
            write!(f, "`{}`", name.replace('`', "``"))
        }
    }
}

/// Writes a name in a position where reserved words are allowed (property
/// names, map keys, kinds, predicates, keys and ids): bare when bare-shaped.
struct Key<'a>(&'a str);

impl Display for Key<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if is_bare(self.0) { f.write_str(self.0) } else { write!(f, "`{}`", self.0.replace('`', "``")) }
    }
}

/// Whether `name` has the shape of a bare identifier.
fn is_bare(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Writes a string literal in double quotes.
struct Quoted<'a>(&'a str);

impl Display for Quoted<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        for c in self.0.chars() {
            match c {
                '\\' => f.write_str("\\\\")?,
                '"' => f.write_str("\\\"")?,
                '\n' => f.write_str("\\n")?,
                '\t' => f.write_str("\\t")?,
                '\r' => f.write_str("\\r")?,
                c if c.is_control() => write!(f, "\\u{{{:x}}}", u32::from(c))?,
                c => f.write_char(c)?,
            }
        }
        f.write_char('"')
    }
}

/// Writes items separated by `sep`.
fn list<T: Display>(f: &mut Formatter<'_>, items: &[T], sep: &str) -> fmt::Result {
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            f.write_str(sep)?;
        }
        item.fmt(f)?;
    }
    Ok(())
}

impl Display for Ident {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        Name(&self.name).fmt(f)
    }
}

impl Display for EntityRef {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.target {
            EntityTarget::Key(k) => write!(f, "@{}", Key(k)),
            EntityTarget::Name(n) => write!(f, "@{}", Quoted(n)),
        }
    }
}

impl Display for DateLit {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(m) = self.month {
            write!(f, "-{m:02}")?;
        }
        if let Some(d) = self.day {
            write!(f, "-{d:02}")?;
        }
        Ok(())
    }
}

impl Display for Literal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Null => f.write_str("NULL"),
            Literal::Bool(true) => f.write_str("TRUE"),
            Literal::Bool(false) => f.write_str("FALSE"),
            Literal::Int(n) => write!(f, "{n}"),
            Literal::Float(x) => write!(f, "{x:?}"),
            Literal::Str(s) => Quoted(s).fmt(f),
            Literal::Date(d) => d.fmt(f),
            Literal::Timestamp(t) => f.write_str(&format_timestamp(*t)),
        }
    }
}

/// Precedence of an expression's outermost operator.
fn precedence(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Or(_) => OR,
        ExprKind::And(_) => AND,
        ExprKind::Not(_) => NOT,
        ExprKind::IsNull { .. } => PRED,
        ExprKind::Binary { op, .. } => binary_precedence(*op),
        ExprKind::Neg(_) => NEG,
        ExprKind::Property { .. } | ExprKind::Index { .. } | ExprKind::Slice { .. } => POSTFIX,
        ExprKind::HasLabel { .. } => POSTFIX,
        _ => ATOM,
    }
}

fn binary_precedence(op: BinOp) -> u8 {
    match op {
        BinOp::Add | BinOp::Sub => ADD,
        BinOp::Mul | BinOp::Div | BinOp::Mod => MUL,
        BinOp::Pow => POW,
        BinOp::Xor => XOR,
        BinOp::In | BinOp::StartsWith | BinOp::EndsWith | BinOp::Contains | BinOp::Regex => PRED,
        _ => CMP,
    }
}

fn binary_symbol(op: BinOp) -> &'static str {
    match op {
        BinOp::Eq => "=",
        BinOp::Ne => "<>",
        BinOp::Lt => "<",
        BinOp::Le => "<=",
        BinOp::Gt => ">",
        BinOp::Ge => ">=",
        BinOp::In => "IN",
        BinOp::StartsWith => "STARTS WITH",
        BinOp::EndsWith => "ENDS WITH",
        BinOp::Contains => "CONTAINS",
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        BinOp::Mod => "%",
        BinOp::Pow => "^",
        BinOp::Xor => "XOR",
        BinOp::Regex => "=~",
    }
}

fn aggregate_name(func: AggFunc) -> &'static str {
    match func {
        AggFunc::Count => "count",
        AggFunc::Min => "min",
        AggFunc::Max => "max",
        AggFunc::Sum => "sum",
        AggFunc::Avg => "avg",
        AggFunc::Collect => "collect",
        AggFunc::StDev => "stDev",
        AggFunc::StDevP => "stDevP",
        AggFunc::PercentileCont => "percentileCont",
        AggFunc::PercentileDisc => "percentileDisc",
    }
}

/// An operand printed with parentheses if it binds looser than `min`.
struct Operand<'a>(&'a Expr, u8);

impl Display for Operand<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if precedence(self.0) < self.1 { write!(f, "({})", self.0) } else { self.0.fmt(f) }
    }
}

/// Operands joined by a keyword, each at least at precedence `min`.
fn junction(f: &mut Formatter<'_>, items: &[Expr], word: &str, min: u8) -> fmt::Result {
    let operands: Vec<Operand<'_>> = items.iter().map(|e| Operand(e, min)).collect();
    list(f, &operands, word)
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Lit(l) => l.fmt(f),
            ExprKind::Param(p) => write!(f, "${p}"),
            ExprKind::Entity(r) => r.fmt(f),
            ExprKind::Var(v) => Name(v).fmt(f),
            ExprKind::Property { base, path } => {
                Operand(base, POSTFIX).fmt(f)?;
                path.iter().try_for_each(|key| write!(f, ".{}", Key(&key.name)))
            }
            ExprKind::List(items) => {
                // `[x IN l]` reads as a comprehension: a list literal whose
                // first item is `x IN l` keeps it in parentheses.
                if let Some((first, rest)) = items.split_first()
                    && matches!(&first.kind, ExprKind::Binary { op: BinOp::In, lhs, .. }
                        if matches!(lhs.kind, ExprKind::Var(_)))
                {
                    write!(f, "[({first})")?;
                    for item in rest {
                        write!(f, ", {item}")?;
                    }
                    return f.write_char(']');
                }
                f.write_char('[')?;
                list(f, items, ", ")?;
                f.write_char(']')
            }
            ExprKind::Not(e) => write!(f, "NOT {}", Operand(e, NOT)),
            ExprKind::Neg(e) => {
                let inner = Operand(e, NEG).to_string();
                let gap = if inner.starts_with('-') { " " } else { "" };
                write!(f, "-{gap}{inner}")
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let p = binary_precedence(*op);
                let sym = binary_symbol(*op);
                write!(f, "{} {sym} {}", Operand(lhs, p), Operand(rhs, p + 1))
            }
            ExprKind::And(items) => junction(f, items, " AND ", NOT),
            ExprKind::Or(items) => junction(f, items, " OR ", AND),
            ExprKind::IsNull { expr, negated } => {
                let not = if *negated { "NOT " } else { "" };
                write!(f, "{} IS {not}NULL", Operand(expr, PRED))
            }
            ExprKind::Aggregate { func, distinct, arg } => {
                let name = aggregate_name(*func);
                let distinct = if *distinct { "DISTINCT " } else { "" };
                match arg {
                    // The two arguments of a percentile are kept as a list.
                    Some(arg)
                        if matches!(func, AggFunc::PercentileCont | AggFunc::PercentileDisc)
                            && matches!(&arg.kind, ExprKind::List(items) if items.len() == 2) =>
                    {
                        let ExprKind::List(items) = &arg.kind else { return Ok(()) };
                        write!(f, "{name}({distinct}{}, {})", items[0], items[1])
                    }
                    Some(arg) => write!(f, "{name}({distinct}{arg})"),
                    None => write!(f, "{name}(*)"),
                }
            }
            ExprKind::Map(entries) => {
                f.write_char('{')?;
                list(f, entries, ", ")?;
                f.write_char('}')
            }
            ExprKind::Index { base, index } => write!(f, "{}[{index}]", Operand(base, POSTFIX)),
            ExprKind::Slice { base, from, to } => {
                write!(f, "{}[", Operand(base, POSTFIX))?;
                if let Some(e) = from {
                    e.fmt(f)?;
                }
                f.write_str("..")?;
                if let Some(e) = to {
                    e.fmt(f)?;
                }
                f.write_char(']')
            }
            ExprKind::Case { operand, whens, otherwise } => {
                f.write_str("CASE")?;
                if let Some(o) = operand {
                    write!(f, " {o}")?;
                }
                for (w, t) in whens {
                    write!(f, " WHEN {w} THEN {t}")?;
                }
                if let Some(e) = otherwise {
                    write!(f, " ELSE {e}")?;
                }
                f.write_str(" END")
            }
            ExprKind::Local(v) => Name(v).fmt(f),
            ExprKind::HasLabel { expr, labels } => {
                Operand(expr, POSTFIX).fmt(f)?;
                labels.iter().try_for_each(|l| write!(f, ":{}", Key(&l.name)))
            }
            ExprKind::Quantifier { kind, var, list, pred } => {
                let name = match kind {
                    Quantifier::All => "all",
                    Quantifier::Any => "any",
                    Quantifier::None => "none",
                    Quantifier::Single => "single",
                };
                write!(f, "{name}({} IN {list} WHERE {pred})", Name(&var.name))
            }
            ExprKind::ListComp { var, list, pred, map } => {
                write!(f, "[{} IN {list}", Name(&var.name))?;
                if let Some(p) = pred {
                    write!(f, " WHERE {p}")?;
                }
                if let Some(m) = map {
                    write!(f, " | {m}")?;
                }
                f.write_char(']')
            }
            ExprKind::Call { name, args } => {
                write!(f, "{name}(")?;
                list(f, args, ", ")?;
                f.write_char(')')
            }
        }
    }
}

impl<V: Display> Display for MapEntry<V> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", Key(&self.key.name), self.value)
    }
}

/// Writes ` {k: v, ...}` if `entries` is not empty (`lead` before the brace).
fn map_of<V: Display>(f: &mut Formatter<'_>, lead: &str, entries: &[MapEntry<V>]) -> fmt::Result {
    if entries.is_empty() {
        return Ok(());
    }
    write!(f, "{lead}{{")?;
    list(f, entries, ", ")?;
    f.write_char('}')
}

impl Display for NodePattern {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut head = String::new();
        if let Some(v) = &self.var {
            write!(head, "{v}")?;
        }
        if let Some(k) = &self.kind {
            write!(head, ":{}", Key(&k.name))?;
        }
        if let Some(e) = &self.entity {
            let gap = if head.is_empty() { "" } else { " " };
            write!(head, "{gap}{e}")?;
        }
        let lead = if head.is_empty() { "" } else { " " };
        write!(f, "({head}")?;
        map_of(f, lead, &self.props)?;
        f.write_char(')')
    }
}

impl Display for VarLength {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_char('*')?;
        match (self.min, self.max) {
            (None, None) => Ok(()),
            (Some(a), Some(b)) if a == b => write!(f, "{a}"),
            (Some(a), Some(b)) => write!(f, "{a}..{b}"),
            (Some(a), None) => write!(f, "{a}.."),
            (None, Some(b)) => write!(f, "..{b}"),
        }
    }
}

impl Display for EdgePattern {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut body = String::new();
        if let Some(v) = &self.var {
            write!(body, "{v}")?;
        }
        for (n, p) in self.predicates.iter().enumerate() {
            body.push(if n == 0 { ':' } else { '|' });
            write!(body, "{}", Key(&p.name))?;
        }
        if let Some(len) = &self.length {
            write!(body, "{len}")?;
        }
        let (open, close) = match self.direction {
            Direction::Out => ("-[", "]->"),
            Direction::In => ("<-[", "]-"),
            Direction::Either => ("-[", "]-"),
        };
        let lead = if body.is_empty() { "" } else { " " };
        write!(f, "{open}{body}")?;
        map_of(f, lead, &self.props)?;
        f.write_str(close)
    }
}

impl Display for Pattern {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let Some(v) = &self.path_var {
            write!(f, "{v} = ")?;
        }
        self.start.fmt(f)?;
        self.hops.iter().try_for_each(|h| write!(f, "{}{}", h.edge, h.node))
    }
}

impl Display for ReturnItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.expr.fmt(f)?;
        match &self.alias {
            Some(a) => write!(f, " AS {a}"),
            None => Ok(()),
        }
    }
}

impl Display for OrderItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let dir = if self.descending { " DESC" } else { "" };
        write!(f, "{}{dir}", self.expr)
    }
}

impl Display for AsOf {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.point {
            TxPoint::Tx(n) => write!(f, "AS OF TX {n}"),
            TxPoint::TxParam(p) => write!(f, "AS OF TX ${p}"),
            TxPoint::Timestamp(t) => write!(f, "AS OF {}", format_timestamp(*t)),
        }
    }
}

impl Display for ValidTime {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.range {
            ValidRange::At(d) => write!(f, "VALID AT {d}"),
            ValidRange::AtParam(p) => write!(f, "VALID AT ${p}"),
            ValidRange::During(a, b) => write!(f, "VALID DURING {a} .. {b}"),
        }
    }
}

impl Display for TimeClauses {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let Some(a) = &self.as_of {
            write!(f, " {a}")?;
        }
        if let Some(v) = &self.valid {
            write!(f, " {v}")?;
        }
        if self.include_retracted {
            f.write_str(" INCLUDE RETRACTED")?;
        }
        Ok(())
    }
}

impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        // A query without patterns is a standalone `RETURN` (or starts
        // with its first WITH / UNWIND).
        if !self.patterns.is_empty() {
            f.write_str("MATCH ")?;
            list(f, &self.patterns, ", ")?;
            if let Some(w) = &self.filter {
                write!(f, " WHERE {w}")?;
            }
            f.write_str(" ")?;
        }
        for stage in &self.stages {
            match stage {
                Stage::Unwind { expr, var } => write!(f, "UNWIND {expr} AS {var} ")?,
                Stage::With(w) => {
                    f.write_str(if w.distinct { "WITH DISTINCT " } else { "WITH " })?;
                    list(f, &w.items, ", ")?;
                    if !w.order_by.is_empty() {
                        f.write_str(" ORDER BY ")?;
                        list(f, &w.order_by, ", ")?;
                    }
                    if let Some(s) = &w.skip {
                        write!(f, " SKIP {s}")?;
                    }
                    if let Some(l) = &w.limit {
                        write!(f, " LIMIT {l}")?;
                    }
                    if let Some(c) = &w.filter {
                        write!(f, " WHERE {c}")?;
                    }
                    f.write_str(" ")?;
                }
            }
        }
        f.write_str(if self.distinct { "RETURN DISTINCT " } else { "RETURN " })?;
        if self.items.is_empty() {
            f.write_str("*")?;
        }
        list(f, &self.items, ", ")?;
        if !self.order_by.is_empty() {
            f.write_str(" ORDER BY ")?;
            list(f, &self.order_by, ", ")?;
        }
        if let Some(s) = &self.skip {
            write!(f, " SKIP {s}")?;
        }
        if let Some(l) = &self.limit {
            write!(f, " LIMIT {l}")?;
        }
        self.time.fmt(f)?;
        for (all, part) in &self.unions {
            write!(f, " UNION {}{part}", if *all { "ALL " } else { "" })?;
        }
        Ok(())
    }
}

impl Display for Value {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ValueKind::Lit(l) => l.fmt(f),
            ValueKind::Entity(r) => r.fmt(f),
            ValueKind::Symbol(s) => Name(s).fmt(f),
            ValueKind::Param(p) => write!(f, "${p}"),
            ValueKind::List(items) => {
                f.write_char('[')?;
                list(f, items, ", ")?;
                f.write_char(']')
            }
        }
    }
}

impl Display for Show {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Show::Entities { kind, like } => {
                f.write_str("SHOW ENTITIES")?;
                if let Some(k) = kind {
                    write!(f, " KIND {}", Key(&k.name))?;
                }
                match like {
                    Some(p) => write!(f, " LIKE {}", Quoted(p)),
                    None => Ok(()),
                }
            }
            Show::Predicates => f.write_str("SHOW PREDICATES"),
            Show::Sources => f.write_str("SHOW SOURCES"),
            Show::Tx(None) => f.write_str("SHOW TX"),
            Show::Tx(Some(n)) => write!(f, "SHOW TX {n}"),
        }
    }
}

impl Display for Conflicts {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("CONFLICTS")?;
        if let Some(a) = &self.about {
            write!(f, " ABOUT {a}")?;
        }
        if let Some(v) = &self.valid {
            write!(f, " {v}")?;
        }
        match &self.as_of {
            Some(a) => write!(f, " {a}"),
            None => Ok(()),
        }
    }
}

impl Display for AssertObject {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            AssertObject::Entity(e) => write!(f, "({e})"),
            AssertObject::Literal(l, _) => write!(f, "({l})"),
        }
    }
}

impl Display for Statement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Statement::Match(q) => q.fmt(f),
            Statement::Explain { analyze: true, inner } => write!(f, "EXPLAIN ANALYZE {inner}"),
            Statement::Explain { analyze: false, inner } => write!(f, "EXPLAIN {inner}"),
            Statement::History(History::Entity(e)) => write!(f, "HISTORY {e}"),
            Statement::History(History::Edge(p)) => write!(f, "HISTORY {p}"),
            Statement::Conflicts(c) => c.fmt(f),
            Statement::Show(s) => s.fmt(f),
            Statement::Stats => f.write_str("STATS"),
            Statement::CreateEntity(c) => {
                write!(f, "CREATE ENTITY {}", Key(&c.key.name))?;
                if let Some(k) = &c.kind {
                    write!(f, " :{}", Key(&k.name))?;
                }
                map_of(f, " ", &c.props)
            }
            Statement::CreateDocument(c) => {
                write!(f, "CREATE DOCUMENT {}", Key(&c.name.name))?;
                map_of(f, " ", &c.props)
            }
            Statement::CreatePredicate(c) => {
                write!(f, "CREATE PREDICATE {}", Key(&c.name.name))?;
                map_of(f, " ", &c.props)
            }
            Statement::Assert(a) => {
                let pred = Key(&a.predicate.name);
                write!(f, "ASSERT ({})-[:{pred}]->{}", a.subject, a.object)?;
                map_of(f, " ", &a.props)
            }
            Statement::Retract { claim, reason } => {
                write!(f, "RETRACT {} BECAUSE {}", Key(&claim.name), Quoted(reason))
            }
            Statement::MergeEntity { from, into } => write!(f, "MERGE ENTITY {from} INTO {into}"),
            Statement::UnmergeEntity { entity } => write!(f, "UNMERGE ENTITY {entity}"),
            Statement::Begin { message: None } => f.write_str("BEGIN"),
            Statement::Begin { message: Some(m) } => write!(f, "BEGIN MESSAGE {}", Quoted(m)),
            Statement::Commit => f.write_str("COMMIT"),
            Statement::Rollback => f.write_str("ROLLBACK"),
        }
    }
}
