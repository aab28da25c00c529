//! Property test: for generated ASTs, printing and parsing gives back the
//! same tree (spans aside), and printing is stable.
//!
//! Generated trees are in the parser's normal form: `AND` / `OR` operands
//! are flattened, property chains have a non-property base, year-only dates
//! appear only where a date is required, and map keys are unique.

use proptest::prelude::*;
use proptest::strategy::Union;

use claimgraph::query::ast::*;
use claimgraph::query::parse_statement;

fn sp() -> Span {
    Span::default()
}

/// Names, including reserved words and ones that need backticks.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_][a-z0-9_]{0,6}",
        prop::sample::select(vec!["order", "match", "TRUE", "null", "by", "odd name", "back`tick", "x-y"])
            .prop_map(String::from),
    ]
}

fn ident() -> impl Strategy<Value = Ident> {
    name().prop_map(|name| Ident { name, span: sp() })
}

fn param_name() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_]{1,6}"
}

fn entity_ref() -> impl Strategy<Value = EntityRef> {
    let target =
        prop_oneof![name().prop_map(EntityTarget::Key), any::<String>().prop_map(EntityTarget::Name)];
    target.prop_map(|target| EntityRef { target, span: sp() })
}

fn date(year_only: bool) -> impl Strategy<Value = DateLit> {
    (0..=9999i32, 1..=12u8, prop::option::of(1..=28u8), any::<bool>()).prop_map(
        move |(year, m, day, bare)| {
            if year_only && bare {
                DateLit { year, month: None, day: None }
            } else {
                DateLit { year, month: Some(m), day }
            }
        },
    )
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    // Years 0000 to 9999 in UTC.
    (-62_167_219_200_000_000i64..253_402_300_799_999_999).prop_map(|micros| Timestamp { micros })
}

/// Literals; numbers are non-negative unless `signed`.
fn literal(signed: bool) -> impl Strategy<Value = Literal> {
    let int = if signed { (i64::MIN + 1..=i64::MAX).boxed() } else { (0..=i64::MAX).boxed() };
    let float =
        any::<f64>().prop_filter("finite", move |f| f.is_finite() && (signed || f.is_sign_positive()));
    prop_oneof![
        Just(Literal::Null),
        any::<bool>().prop_map(Literal::Bool),
        int.prop_map(Literal::Int),
        float.prop_map(Literal::Float),
        any::<String>().prop_map(Literal::Str),
        date(false).prop_map(Literal::Date),
        timestamp().prop_map(Literal::Timestamp),
    ]
}

fn e(kind: ExprKind) -> Expr {
    Expr::new(kind, sp())
}

/// Splices operands of the same junction, as the parser does.
fn junction(items: Vec<Expr>, or: bool) -> Expr {
    let mut flat = Vec::new();
    for item in items {
        match item.kind {
            ExprKind::Or(inner) if or => flat.extend(inner),
            ExprKind::And(inner) if !or => flat.extend(inner),
            kind => flat.push(e(kind)),
        }
    }
    e(if or { ExprKind::Or(flat) } else { ExprKind::And(flat) })
}

fn property(base: Expr, path: Vec<Ident>) -> Expr {
    match base.kind {
        ExprKind::Property { base, path: mut first } => {
            first.extend(path);
            e(ExprKind::Property { base, path: first })
        }
        kind => e(ExprKind::Property { base: Box::new(e(kind)), path }),
    }
}

fn bin_op() -> impl Strategy<Value = BinOp> {
    use BinOp::*;
    prop::sample::select(vec![
        Eq, Ne, Lt, Le, Gt, Ge, In, StartsWith, EndsWith, Contains, Add, Sub, Mul, Div, Mod,
    ])
}

fn agg_func() -> impl Strategy<Value = AggFunc> {
    use AggFunc::*;
    prop::sample::select(vec![Count, Min, Max, Sum, Avg, Collect])
}

fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        literal(false).prop_map(|l| e(ExprKind::Lit(l))),
        param_name().prop_map(|p| e(ExprKind::Param(p))),
        entity_ref().prop_map(|r| e(ExprKind::Entity(r))),
        name().prop_map(|v| e(ExprKind::Var(v))),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        let boxed = || inner.clone().prop_map(Box::new);
        let call_name = prop::sample::select(vec!["f", "toUpper", "order"]);
        let agg_arg = (agg_func(), any::<bool>(), prop::option::of(boxed()));
        Union::new(vec![
            (inner.clone(), prop::collection::vec(ident(), 1..3)).prop_map(|(b, p)| property(b, p)).boxed(),
            prop::collection::vec(inner.clone(), 0..3).prop_map(|v| e(ExprKind::List(v))).boxed(),
            boxed().prop_map(|x| e(ExprKind::Not(x))).boxed(),
            boxed().prop_map(|x| e(ExprKind::Neg(x))).boxed(),
            (bin_op(), boxed(), boxed())
                .prop_map(|(op, lhs, rhs)| e(ExprKind::Binary { op, lhs, rhs }))
                .boxed(),
            (prop::collection::vec(inner.clone(), 2..4), any::<bool>())
                .prop_map(|(v, or)| junction(v, or))
                .boxed(),
            (boxed(), any::<bool>())
                .prop_map(|(expr, negated)| e(ExprKind::IsNull { expr, negated }))
                .boxed(),
            agg_arg
                .prop_map(|(func, distinct, arg)| match arg {
                    Some(arg) => e(ExprKind::Aggregate { func, distinct, arg: Some(arg) }),
                    None => e(ExprKind::Aggregate { func: AggFunc::Count, distinct: false, arg: None }),
                })
                .boxed(),
            (call_name, prop::collection::vec(inner.clone(), 0..3))
                .prop_map(|(n, args)| e(ExprKind::Call { name: Ident { name: n.into(), span: sp() }, args }))
                .boxed(),
        ])
    })
}

/// Maps with unique keys, none of them a date key.
fn map_of<V: std::fmt::Debug + Clone>(
    value: impl Strategy<Value = V>,
) -> impl Strategy<Value = Vec<MapEntry<V>>> {
    let key = prop::sample::select(vec!["name", "by", "stance", "order", "x y", "k1", "id"]);
    prop::collection::btree_map(key, value, 0..3).prop_map(|m| {
        m.into_iter()
            .map(|(k, value)| MapEntry { key: Ident { name: k.into(), span: sp() }, value })
            .collect()
    })
}

fn node() -> impl Strategy<Value = NodePattern> {
    let parts = (prop::option::of(ident()), prop::option::of(ident()), prop::option::of(entity_ref()));
    (parts, map_of(expr())).prop_map(|((var, kind, entity), props)| NodePattern {
        var,
        kind,
        entity,
        props,
        span: sp(),
    })
}

fn var_length() -> impl Strategy<Value = VarLength> {
    (prop::option::of(0..=MAX_HOPS), prop::option::of(1..=MAX_HOPS)).prop_map(|(min, max)| {
        let max = match (min, max) {
            (Some(lo), Some(hi)) => Some(hi.max(lo)),
            (None, Some(hi)) => Some(hi.max(1)),
            (_, None) => None,
        };
        VarLength { min, max, span: sp() }
    })
}

fn edge() -> impl Strategy<Value = EdgePattern> {
    let dir = prop::sample::select(vec![Direction::Out, Direction::In, Direction::Either]);
    let parts = (
        prop::option::of(ident()),
        prop::collection::vec(ident(), 0..3),
        dir,
        prop::option::of(var_length()),
    );
    (parts, map_of(expr())).prop_map(|((var, predicates, direction, length), props)| EdgePattern {
        var,
        predicates,
        direction,
        length,
        props,
        span: sp(),
    })
}

fn pattern(min_hops: usize) -> impl Strategy<Value = Pattern> {
    let hops =
        prop::collection::vec((edge(), node()).prop_map(|(edge, node)| Hop { edge, node }), min_hops..3);
    (prop::option::of(ident()), node(), hops).prop_map(|(path_var, start, hops)| Pattern {
        path_var,
        start,
        hops,
        span: sp(),
    })
}

fn as_of() -> impl Strategy<Value = AsOf> {
    let point = prop_oneof![
        any::<u64>().prop_map(|n| TxPoint::Tx(n >> 1)),
        param_name().prop_map(TxPoint::TxParam),
        timestamp().prop_map(TxPoint::Timestamp)
    ];
    point.prop_map(|point| AsOf { point, span: sp() })
}

fn valid_time() -> impl Strategy<Value = ValidTime> {
    let range = prop_oneof![
        date(true).prop_map(ValidRange::At),
        param_name().prop_map(ValidRange::AtParam),
        (date(true), date(true)).prop_map(|(a, b)| ValidRange::During(a, b)),
    ];
    range.prop_map(|range| ValidTime { range, span: sp() })
}

fn count() -> impl Strategy<Value = Expr> {
    prop_oneof![
        (0..=i64::MAX).prop_map(|n| e(ExprKind::Lit(Literal::Int(n)))),
        param_name().prop_map(|p| e(ExprKind::Param(p))),
    ]
}

fn query() -> impl Strategy<Value = Query> {
    let item =
        (expr(), prop::option::of(ident())).prop_map(|(expr, alias)| ReturnItem { expr, alias, span: sp() });
    let order = (expr(), any::<bool>()).prop_map(|(expr, descending)| OrderItem { expr, descending });
    let time = (prop::option::of(as_of()), prop::option::of(valid_time()), any::<bool>())
        .prop_map(|(as_of, valid, include_retracted)| TimeClauses { as_of, valid, include_retracted });
    let head = (prop::collection::vec(pattern(0), 1..3), prop::option::of(expr()), any::<bool>());
    let tail = (
        prop::collection::vec(item, 1..3),
        prop::collection::vec(order, 0..2),
        prop::option::of(count()),
        prop::option::of(count()),
        time,
    );
    (head, tail).prop_map(|((patterns, filter, distinct), (items, order_by, skip, limit, time))| Query {
        patterns,
        filter,
        stages: Vec::new(),
        unions: Vec::new(),
        distinct,
        items,
        order_by,
        skip,
        limit,
        time,
        span: sp(),
    })
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        literal(true).prop_map(ValueKind::Lit),
        entity_ref().prop_map(ValueKind::Entity),
        name().prop_map(ValueKind::Symbol),
        param_name().prop_map(ValueKind::Param),
    ]
    .prop_map(|kind| Value { kind, span: sp() });
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop::collection::vec(inner, 0..3).prop_map(|v| Value { kind: ValueKind::List(v), span: sp() })
    })
}

fn write_statement() -> impl Strategy<Value = Statement> {
    let object = prop_oneof![
        entity_ref().prop_map(AssertObject::Entity),
        literal(true).prop_map(|l| AssertObject::Literal(l, sp())),
    ];
    let assert =
        (entity_ref(), ident(), object, map_of(value())).prop_map(|(subject, predicate, object, props)| {
            Statement::Assert(Box::new(Assert { subject, predicate, object, props, span: sp() }))
        });
    prop_oneof![
        (ident(), prop::option::of(ident()), map_of(value()))
            .prop_map(|(key, kind, props)| { Statement::CreateEntity(CreateEntity { key, kind, props }) }),
        (ident(), map_of(value()))
            .prop_map(|(name, props)| Statement::CreateDocument(CreateNamed { name, props })),
        (ident(), map_of(value()))
            .prop_map(|(name, props)| Statement::CreatePredicate(CreateNamed { name, props })),
        assert,
        (ident(), any::<String>()).prop_map(|(claim, reason)| Statement::Retract { claim, reason }),
        (entity_ref(), entity_ref()).prop_map(|(from, into)| Statement::MergeEntity { from, into }),
        entity_ref().prop_map(|entity| Statement::UnmergeEntity { entity }),
        prop::option::of(any::<String>()).prop_map(|message| Statement::Begin { message }),
        Just(Statement::Commit),
        Just(Statement::Rollback),
    ]
}

fn read_statement() -> impl Strategy<Value = Statement> {
    let show = prop_oneof![
        (prop::option::of(ident()), prop::option::of(any::<String>()))
            .prop_map(|(kind, like)| Show::Entities { kind, like }),
        Just(Show::Predicates),
        Just(Show::Sources),
        prop::option::of(any::<u64>().prop_map(|n| n >> 1)).prop_map(Show::Tx),
    ];
    let conflicts =
        (prop::option::of(entity_ref()), prop::option::of(valid_time()), prop::option::of(as_of()))
            .prop_map(|(about, valid, as_of)| Statement::Conflicts(Conflicts { about, valid, as_of }));
    let history = prop_oneof![
        entity_ref().prop_map(History::Entity),
        pattern(1).prop_map(|mut p| {
            p.path_var = None;
            History::Edge(p)
        }),
    ];
    prop_oneof![
        query().prop_map(|q| Statement::Match(Box::new(q))),
        (any::<bool>(), query()).prop_map(|(analyze, q)| Statement::Explain { analyze, inner: Box::new(q) }),
        history.prop_map(Statement::History),
        conflicts,
        show.prop_map(Statement::Show),
        Just(Statement::Stats),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn reads_round_trip(s in read_statement()) {
        check(&s)?;
    }

    #[test]
    fn writes_round_trip(s in write_statement()) {
        check(&s)?;
    }
}

fn check(s: &Statement) -> Result<(), TestCaseError> {
    let printed = s.to_string();
    let parsed = parse_statement(&printed)
        .map_err(|e| TestCaseError::fail(format!("{}\nfrom {s:?}", e.render(&printed))))?;
    prop_assert_eq!(&parsed, s, "printed as {}", printed);
    prop_assert_eq!(parsed.to_string(), printed);
    Ok(())
}
