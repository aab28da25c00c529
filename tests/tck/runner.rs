//! The store-facing half of the TCK runner: each scenario on a fresh
//! temporary store, the TCK's setup `CREATE`s mapped onto claimgraph's event
//! model, results turned into [`TckValue`]s and compared as the scenario says.
//!
//! Mapping (issue 15 item 4): a node becomes an entity with a generated key
//! (`_n1`, `_n2`, …), its label its kind (no label: kind `Entity`, shown with
//! no label), a `name` property its name, other properties its attributes; a
//! relationship becomes a claim whose predicate is the type and whose
//! properties are qualifiers. Until Cypher `CREATE` exists in the language,
//! setup statements are translated here: their patterns are read with the
//! language's own pattern parser (`MATCH <patterns> RETURN 1`), and anything
//! else in a setup (several labels, `UNWIND`, `WITH`, lists as property
//! values, …) fails the scenario with the reason, never passes it.
//!
//! Error expectations: a parse error counts as a compile-time error; a
//! semantic error as either phase (the engine does not separate planning
//! from execution in its error type). The error's kind (`SyntaxError`,
//! `TypeError`, …) is not checked. An error that says a construct "is not
//! supported" never satisfies an expected error.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use claimgraph::Store;
use claimgraph::model::Term;
use claimgraph::query::ast::{Direction, Expr, ExprKind, Literal, MapEntry};
use claimgraph::query::{QueryError, Session, Statement, Value, parse_statement};

use super::gherkin::{
    Exclusion, Keyword, Scenario, TckValue, compare_tables, expected_error, parse_feature, parse_value,
    result_mode, uses_keyword,
};

/// How one scenario ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Passed,
    Failed(String),
    Excluded(String),
}

#[derive(Debug, Clone)]
pub struct ScenarioReport {
    pub name: String,
    pub line: usize,
    pub outcome: Outcome,
}

#[derive(Debug, Clone)]
pub struct FeatureReport {
    /// Path relative to the features directory, with `/`.
    pub path: String,
    pub scenarios: Vec<ScenarioReport>,
}

impl FeatureReport {
    pub fn count(&self, which: fn(&Outcome) -> bool) -> usize {
        self.scenarios.iter().filter(|s| which(&s.outcome)).count()
    }
    pub fn passed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Passed))
    }
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed(_)))
    }
    pub fn excluded(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Excluded(_)))
    }
}

/// Every `*.feature` file under `dir`, sorted, as paths relative to it.
pub fn feature_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                walk(&path, base, out)?;
            } else if path.extension().is_some_and(|e| e == "feature") {
                out.push(path.strip_prefix(base).unwrap_or(&path).to_path_buf());
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort();
    Ok(out)
}

/// Runs one feature file. `graphs` is the TCK's `graphs` directory.
pub fn run_feature(features: &Path, rel: &Path, graphs: &Path, exclusions: &[Exclusion]) -> FeatureReport {
    let path = rel.to_string_lossy().replace('\\', "/");
    let text = match std::fs::read_to_string(features.join(rel)) {
        Ok(t) => t,
        Err(e) => return broken(path, format!("cannot read: {e}")),
    };
    let feature = match parse_feature(&text) {
        Ok(f) => f,
        Err(e) => return broken(path, format!("cannot parse: {e}")),
    };
    let scenarios = feature
        .scenarios
        .iter()
        .map(|s| {
            let outcome = match excluded(&path, s, exclusions) {
                Some(reason) => Outcome::Excluded(reason),
                None => run_scenario(s, graphs),
            };
            ScenarioReport { name: s.name.clone(), line: s.line, outcome }
        })
        .collect();
    FeatureReport { path, scenarios }
}

fn broken(path: String, reason: String) -> FeatureReport {
    let scenarios =
        vec![ScenarioReport { name: "(whole file)".into(), line: 0, outcome: Outcome::Failed(reason) }];
    FeatureReport { path, scenarios }
}

fn excluded(path: &str, s: &Scenario, exclusions: &[Exclusion]) -> Option<String> {
    for ex in exclusions {
        match ex {
            Exclusion::Keyword { word, reason } => {
                let uses = s.steps.iter().filter_map(|st| st.doc.as_deref()).any(|q| uses_keyword(q, word));
                if uses {
                    return Some(format!("{word}: {reason}"));
                }
            }
            Exclusion::Scenario { path: p, name, reason } => {
                if p == path && s.name.starts_with(name.as_str()) {
                    return Some(reason.clone());
                }
            }
        }
    }
    None
}

struct State {
    session: Session,
    params: HashMap<String, Value>,
    result: Option<Result<claimgraph::query::QueryResult, QueryError>>,
    counts_before: (usize, usize),
    types: HashMap<String, String>,
}

/// Runs one scenario on a fresh temporary store.
pub fn run_scenario(s: &Scenario, graphs: &Path) -> Outcome {
    match try_scenario(s, graphs) {
        Ok(()) => Outcome::Passed,
        Err(reason) => Outcome::Failed(reason),
    }
}

fn try_scenario(s: &Scenario, graphs: &Path) -> Result<(), String> {
    // Cypher's CREATE makes relationship types on first use.
    let options = claimgraph::Options { create_predicates: true, ..claimgraph::Options::default() };
    let store = Store::temporary_with(options).map_err(|e| format!("temporary store: {e}"))?;
    let mut session = Session::new(store);
    session.author = "tck".into();
    let mut st =
        State { session, params: HashMap::new(), result: None, counts_before: (0, 0), types: HashMap::new() };
    for step in &s.steps {
        match step.keyword {
            Keyword::Given => given(&mut st, step, graphs)?,
            Keyword::When => {
                let query = step.doc.as_deref().ok_or("a When step without a query")?;
                if !step.text.starts_with("executing") {
                    return Err(format!("unknown step `When {}`", step.text));
                }
                st.counts_before = counts(st.session.store())?;
                st.session.params = st.params.clone();
                st.result = Some(st.session.execute(query));
            }
            Keyword::Then => then(&mut st, step)?,
        }
    }
    Ok(())
}

fn given(st: &mut State, step: &super::gherkin::Step, graphs: &Path) -> Result<(), String> {
    let text = step.text.as_str();
    if text == "an empty graph" || text == "any graph" {
        return Ok(());
    }
    if text.starts_with("having executed") {
        let doc = step.doc.as_deref().ok_or("`having executed` without a statement")?;
        return setup(st.session.store(), doc, &mut st.types).map_err(|e| format!("setup: {e}"));
    }
    if text.starts_with("parameters are") {
        for row in &step.table {
            let [name, value] = row.as_slice() else { return Err(format!("parameter row {row:?}")) };
            let v = parse_value(value)?;
            st.params.insert(name.clone(), to_param(&v)?);
        }
        return Ok(());
    }
    if let Some(name) = text.strip_prefix("the ").and_then(|t| t.strip_suffix(" graph")) {
        let file = graphs.join(name).join(format!("{name}.cypher"));
        let src = std::fs::read_to_string(&file).map_err(|e| format!("graph {}: {e}", file.display()))?;
        return setup(st.session.store(), src.trim().trim_end_matches(';'), &mut st.types)
            .map_err(|e| format!("graph {name}: {e}"));
    }
    Err(format!("unknown step `Given {text}`"))
}

fn then(st: &mut State, step: &super::gherkin::Step) -> Result<(), String> {
    let text = step.text.as_str();
    let result = st.result.as_ref().ok_or("a Then step before any query")?;
    if let Some(mode) = result_mode(text) {
        let r = result.as_ref().map_err(|e| format!("error: {}", one_line(e)))?;
        let rows: Vec<Vec<TckValue>> = r
            .rows
            .iter()
            .map(|row| row.iter().map(|v| to_tck(st.session.store(), &st.types, v)).collect::<Result<_, _>>())
            .collect::<Result<_, _>>()?;
        let columns = if text.ends_with("empty") { Vec::new() } else { r.columns.clone() };
        let expected = if text.ends_with("empty") { Vec::new() } else { step.table.clone() };
        return compare_tables(&expected, &columns, &rows, mode);
    }
    if let Some(want) = expected_error(text) {
        let err = match result {
            Ok(r) => {
                return Err(format!("expected {} at {}, got {} rows", want.kind, want.phase, r.rows.len()));
            }
            Err(e) => e,
        };
        let message = one_line(err);
        if message.contains("not supported") {
            return Err(format!("expected {} ({}), got unsupported: {message}", want.kind, want.detail));
        }
        let phase_ok = matches!(
            (want.phase.as_str(), err),
            ("compile time", QueryError::Parse(_) | QueryError::Semantic { .. })
                | ("runtime", QueryError::Semantic { .. })
                | ("any time", _)
        );
        return if phase_ok {
            Ok(())
        } else {
            Err(format!("expected {} at {}, got: {message}", want.kind, want.phase))
        };
    }
    if text == "no side effects" {
        let now = counts(st.session.store())?;
        return if now == st.counts_before {
            Ok(())
        } else {
            Err(format!("side effects: {:?} -> {now:?}", st.counts_before))
        };
    }
    if text.starts_with("the side effects should be") {
        let now = counts(st.session.store())?;
        let mut want = (0i64, 0i64);
        for row in &step.table {
            let [what, n] = row.as_slice() else { return Err(format!("side effect row {row:?}")) };
            let n: i64 = n.parse().map_err(|_| format!("side effect count `{n}`"))?;
            match what.as_str() {
                "+nodes" => want.0 = n,
                "+relationships" => want.1 = n,
                other => return Err(format!("side effect `{other}` is not measured by this runner")),
            }
        }
        let got = (now.0 as i64 - st.counts_before.0 as i64, now.1 as i64 - st.counts_before.1 as i64);
        return if got == want { Ok(()) } else { Err(format!("side effects {got:?}, expected {want:?}")) };
    }
    Err(format!("unknown step `Then {text}`"))
}

fn one_line(e: &QueryError) -> String {
    e.to_string().lines().next().unwrap_or_default().to_string()
}

/// Entities and live claims in the store's current state.
fn counts(store: &Store) -> Result<(usize, usize), String> {
    let stats = store.snapshot().stats().map_err(|e| e.to_string())?;
    Ok((stats.entities as usize, stats.claims_live as usize))
}

fn to_param(v: &TckValue) -> Result<Value, String> {
    Ok(match v {
        TckValue::Null => Value::Null,
        TckValue::Bool(b) => Value::Bool(*b),
        TckValue::Int(i) => Value::Int(*i),
        TckValue::Float(f) => Value::Float(*f),
        TckValue::String(s) => Value::String(s.clone()),
        TckValue::List(items) => Value::List(items.iter().map(to_param).collect::<Result<_, _>>()?),
        TckValue::Map(m) => {
            Value::Map(m.iter().map(|(k, v)| Ok((k.clone(), to_param(v)?))).collect::<Result<_, String>>()?)
        }
        other => return Err(format!("parameter value {other} is not supported by the runner")),
    })
}

fn term_to_tck(t: &Term) -> TckValue {
    match t {
        Term::Entity(k) => TckValue::String(k.clone()),
        Term::String(s) => TckValue::String(s.clone()),
        Term::Int(i) => TckValue::Int(*i),
        Term::Float(f) => TckValue::Float(*f),
        Term::Bool(b) => TckValue::Bool(*b),
        Term::Date(d) => TckValue::String(d.to_string()),
    }
}

/// A result value as the TCK would print it.
pub fn to_tck(store: &Store, types: &HashMap<String, String>, v: &Value) -> Result<TckValue, String> {
    let view = store.snapshot();
    Ok(match v {
        Value::Null => TckValue::Null,
        Value::Bool(b) => TckValue::Bool(*b),
        Value::Int(i) => TckValue::Int(*i),
        Value::Float(f) => TckValue::Float(*f),
        Value::String(s) => TckValue::String(s.clone()),
        Value::Date(d) => TckValue::String(d.to_string()),
        Value::Timestamp(t) => TckValue::String(t.to_string()),
        Value::Entity { key, .. } => {
            let e = view
                .entity(key)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("entity `{key}` vanished"))?;
            let mut props: BTreeMap<String, TckValue> =
                e.attrs.iter().map(|(k, t)| (k.clone(), term_to_tck(t))).collect();
            if e.name != e.key {
                props.insert("name".into(), TckValue::String(e.name.clone()));
            }
            let labels =
                if e.kind == NO_LABEL { Vec::new() } else { e.kind.split(':').map(String::from).collect() };
            TckValue::Node { labels, props }
        }
        Value::Claim { id, .. } => {
            let c =
                view.claim(id).map_err(|e| e.to_string())?.ok_or_else(|| format!("claim `{id}` vanished"))?;
            let props = c.qualifiers.iter().map(|(k, t)| (k.clone(), term_to_tck(t))).collect();
            let rel_type = types.get(&c.p).unwrap_or(&c.p).clone();
            TckValue::Rel { rel_type, props }
        }
        Value::List(items) => {
            TckValue::List(items.iter().map(|i| to_tck(store, types, i)).collect::<Result<_, _>>()?)
        }
        Value::Map(m) => TckValue::Map(
            m.iter()
                .map(|(k, v)| Ok((k.clone(), to_tck(store, types, v)?)))
                .collect::<Result<_, String>>()?,
        ),
        Value::Path { nodes, claims, forward } => {
            let first = nodes.first().ok_or("an empty path")?;
            let mut steps = Vec::new();
            for (i, c) in claims.iter().enumerate() {
                let node = nodes.get(i + 1).ok_or("a path without its last node")?;
                steps.push((
                    to_tck(store, types, c)?,
                    forward.get(i).copied().unwrap_or(true),
                    to_tck(store, types, node)?,
                ));
            }
            TckValue::Path { start: Box::new(to_tck(store, types, first)?), steps }
        }
    })
}

/// The kind given to a node created without a label.
pub const NO_LABEL: &str = "Entity";

/// Translates a setup statement (one or more `CREATE` clauses) into one
/// transaction of entity and assert events and commits it.
/// `types` maps each predicate created to the relationship type written, so
/// results can show the type as the TCK wrote it.
pub fn setup(store: &Store, src: &str, types: &mut HashMap<String, String>) -> Result<(), String> {
    let clauses = split_create(src)?;
    let mut vars: HashMap<String, String> = HashMap::new();
    let mut next = 0usize;
    let mut tx = claimgraph::Transaction::new("tck");
    for body in clauses {
        let stmt = parse_statement(&format!("MATCH {body} RETURN 1"))
            .map_err(|e| format!("cannot read CREATE pattern `{}`: {}", body.trim(), e.message))?;
        let Statement::Match(q) = stmt else { return Err("not a pattern".into()) };
        for pattern in &q.patterns {
            if pattern.path_var.is_some() {
                return Err("named paths in CREATE are not mapped".into());
            }
            let mut left = node_key(&pattern.start, &mut tx, &mut vars, &mut next)?;
            for hop in &pattern.hops {
                let right = node_key(&hop.node, &mut tx, &mut vars, &mut next)?;
                let e = &hop.edge;
                if e.length.is_some() {
                    return Err("variable-length relationships cannot be created".into());
                }
                let [p] = e.predicates.as_slice() else {
                    return Err("a created relationship needs exactly one type".into());
                };
                let (s, o) = match e.direction {
                    Direction::Out => (&left, &right),
                    Direction::In => (&right, &left),
                    Direction::Either => return Err("a created relationship needs a direction".into()),
                };
                let quals = props(&e.props)?;
                // Predicates are snake_case: a type folds to lower case, and
                // the query layer folds `:KNOWS` the same way.
                let pred = p.name.to_ascii_lowercase();
                types.insert(pred.clone(), p.name.clone());
                let a = tx.assert(s, &pred, Term::Entity(o.clone()));
                a.qualifiers.extend(quals);
                left = right;
            }
        }
    }
    if tx.events.is_empty() {
        return Ok(());
    }
    store.commit(tx).map(|_| ()).map_err(|e| format!("commit: {e}"))
}

/// The entity key for a node of a setup pattern: a bound variable's, or a
/// new entity's.
fn node_key(
    n: &claimgraph::query::ast::NodePattern,
    tx: &mut claimgraph::Transaction,
    vars: &mut HashMap<String, String>,
    next: &mut usize,
) -> Result<String, String> {
    if n.entity.is_some() {
        return Err("entity references in CREATE are not mapped".into());
    }
    if let Some(v) = &n.var
        && let Some(k) = vars.get(&v.name)
    {
        if n.kind.is_some() || !n.props.is_empty() {
            return Err(format!("variable `{}` is already bound", v.name));
        }
        return Ok(k.clone());
    }
    *next += 1;
    let key = format!("_n{next}");
    let kind = n.kind.as_ref().map_or(NO_LABEL, |k| k.name.as_str());
    let mut name = key.clone();
    let mut attrs = BTreeMap::new();
    for (k, t) in props(&n.props)? {
        match (k.as_str(), &t) {
            ("name", Term::String(s)) => name = s.clone(),
            ("key" | "kind" | "aliases", _) => {
                return Err(format!("property `{k}` is reserved for entities"));
            }
            _ => {
                attrs.insert(k, t);
            }
        }
    }
    let e = tx.entity(&key, kind, &name);
    if !attrs.is_empty() {
        e.attrs = Some(attrs);
    }
    if let Some(v) = &n.var {
        vars.insert(v.name.clone(), key.clone());
    }
    Ok(key)
}

fn props(entries: &[MapEntry<Expr>]) -> Result<Vec<(String, Term)>, String> {
    let mut out = Vec::new();
    for e in entries {
        let t = match &e.value.kind {
            ExprKind::Lit(Literal::Null) => continue,
            ExprKind::Lit(l) => lit_term(l)?,
            ExprKind::Neg(inner) => match &inner.kind {
                ExprKind::Lit(Literal::Int(i)) => Term::Int(-i),
                ExprKind::Lit(Literal::Float(f)) => Term::Float(-f),
                _ => return Err(format!("property `{}`: only literals are mapped", e.key.name)),
            },
            _ => return Err(format!("property `{}`: only scalar literals are mapped", e.key.name)),
        };
        out.push((e.key.name.clone(), t));
    }
    Ok(out)
}

fn lit_term(l: &Literal) -> Result<Term, String> {
    Ok(match l {
        Literal::Bool(b) => Term::Bool(*b),
        Literal::Int(i) => Term::Int(*i),
        Literal::Float(f) => Term::Float(*f),
        Literal::Str(s) => Term::String(s.clone()),
        other => return Err(format!("literal {other:?} is not mapped")),
    })
}

/// The bodies of the `CREATE` clauses of a setup statement; anything other
/// than `CREATE` clauses is an error.
pub fn split_create(src: &str) -> Result<Vec<String>, String> {
    let mut bodies: Vec<String> = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut word = String::new();
    let mut cur = String::new();
    let mut started = false;
    let flush_word = |word: &mut String,
                      cur: &mut String,
                      bodies: &mut Vec<String>,
                      started: &mut bool,
                      depth: i32|
     -> Result<(), String> {
        if word.is_empty() {
            return Ok(());
        }
        let w = std::mem::take(word);
        if depth == 0 && w.eq_ignore_ascii_case("CREATE") {
            if *started {
                bodies.push(std::mem::take(cur));
            }
            *started = true;
            cur.clear();
            return Ok(());
        }
        if !*started {
            return Err(format!("setup clause `{w}` is not mapped (only CREATE)"));
        }
        if depth == 0
            && [
                "MATCH", "WITH", "UNWIND", "MERGE", "SET", "DELETE", "RETURN", "OPTIONAL", "FOREACH", "CALL",
                "REMOVE", "DETACH",
            ]
            .iter()
            .any(|k| w.eq_ignore_ascii_case(k))
        {
            return Err(format!("setup clause `{w}` is not mapped (only CREATE)"));
        }
        cur.push_str(&w);
        Ok(())
    };
    for c in src.chars() {
        if let Some(q) = quote {
            cur.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        flush_word(&mut word, &mut cur, &mut bodies, &mut started, depth)?;
        match c {
            '\'' | '"' | '`' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
        if !started && !c.is_whitespace() && c != ';' {
            return Err(format!("unexpected `{c}` before CREATE"));
        }
        cur.push(c);
    }
    flush_word(&mut word, &mut cur, &mut bodies, &mut started, depth)?;
    if started {
        bodies.push(cur.trim().trim_end_matches(';').to_string());
    }
    Ok(bodies.into_iter().map(|b| b.trim().to_string()).filter(|b| !b.is_empty()).collect())
}
