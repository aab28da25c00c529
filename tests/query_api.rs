//! The query API end to end: one-shot and prepared queries with parameters,
//! budgets, cancellation, streaming LIMIT, and semantic errors with carets.

mod common;
use common::*;

use std::collections::HashMap;

use claimgraph::model::Term;
use claimgraph::query::{QueryError, Value};
use claimgraph::{Session, Store};

/// A hub with `n` outgoing claims to distinct entities, plus a few named ones.
fn hub(n: usize) -> Store {
    let store = Store::temporary_with(first_use()).unwrap();
    let mut txs = Vec::new();
    let mut tx = claimgraph::Transaction::new("t");
    tx.entity("hub", "Thing", "Hub");
    tx.entity("russia", "Country", "Russia");
    tx.entity("kremlin", "Organization", "Kremlin");
    for i in 0..n {
        tx.entity(&format!("e{i}"), "Thing", &format!("Entity {i}"));
    }
    txs.push(tx);
    let mut tx = claimgraph::Transaction::new("t");
    for i in 0..n {
        tx.assert("hub", "links", Term::Entity(format!("e{i}")));
    }
    tx.assert("kremlin", "said", Term::String("relations are below freezing point".into())).by =
        Some("kremlin".into());
    txs.push(tx);
    let (_, err) = store.commit_batch(txs);
    assert!(err.is_none());
    store
}

/// A query's rows as text, sorted (for results whose order is not asked for).
fn sorted_rows(store: &Store, q: &str) -> Vec<String> {
    let mut r = strings(&store.query(q).unwrap().rows);
    r.sort();
    r
}

fn strings(rows: &[Vec<Value>]) -> Vec<String> {
    rows.iter().map(|r| r.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" | ")).collect()
}

#[test]
fn prepared_queries_take_parameters() {
    let store = hub(5);
    let q = store.prepare("MATCH (@hub)-[c:links]->(x) WHERE x.name = $name RETURN x.key").unwrap();
    let mut params = HashMap::new();
    params.insert("name".to_string(), Value::String("Entity 3".into()));
    assert_eq!(strings(&q.run(&store, &params).unwrap().rows), vec!["e3"]);
    params.insert("name".to_string(), Value::String("Entity 4".into()));
    assert_eq!(strings(&q.run(&store, &params).unwrap().rows), vec!["e4"]);
    let err = q.run(&store, &HashMap::new()).unwrap_err();
    assert_eq!(err.to_string(), "no value for parameter `$name`");
}

#[test]
fn explain_analyze_times_its_operators() {
    // Operators time their calls only under EXPLAIN ANALYZE; the times must
    // still be there when asked for.
    let store = hub(2000);
    let mut session = Session::new(store);
    let r = session.execute("EXPLAIN ANALYZE MATCH (@hub)-[c:links]->(x) RETURN x.name").unwrap();
    let expand = strings(&r.rows).into_iter().find(|l| l.contains("Expand")).unwrap();
    let ms: f64 = expand.rsplit(", ").next().unwrap().trim_end_matches(" ms]").parse().unwrap();
    assert!(expand.contains("[actual 2000 rows"), "{expand}");
    assert!(ms > 0.0, "an Expand over 2000 postings took no time: {expand}");
}

#[test]
fn limit_streams_instead_of_reading_everything() {
    let store = hub(3000);
    let mut session = Session::new(store);
    let r = session.execute("PROFILE MATCH (@hub)-[c:links]->(x) RETURN x LIMIT 10").unwrap();
    let note = r.message.unwrap();
    let examined: u64 = note.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(examined <= 20, "LIMIT 10 examined {examined} rows: {note}");
    let all = session.execute("MATCH (@hub)-[c:links]->(x) RETURN count(*)").unwrap();
    assert_eq!(all.rows[0][0], Value::Int(3000));
}

#[test]
fn row_budget_stops_a_runaway_query() {
    let store = hub(200);
    let mut session = Session::new(store);
    session.limits.max_rows = 1_000;
    let err = session.execute("MATCH (a)-[c]->(b), (x)-[d]->(y) RETURN count(*)").unwrap_err();
    assert!(matches!(err, QueryError::LimitExceeded(_)), "{err}");
    assert_eq!(err.to_string(), "limit exceeded: the query examined more than 1000 rows");
    // The session is still usable.
    assert!(session.execute("MATCH (@hub)-[c]->(x) RETURN count(*)").is_ok());
}

#[test]
fn a_query_can_be_cancelled_from_another_thread() {
    let store = hub(300);
    let mut session = Session::new(store);
    let cancel = session.cancel.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopper = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Acquire) {
                std::thread::sleep(std::time::Duration::from_millis(5));
                cancel.cancel();
            }
        })
    };
    let result = session.execute("MATCH (a)-[c]->(b), (x)-[d]->(y), (p)-[q]->(r) RETURN count(*)");
    stop.store(true, std::sync::atomic::Ordering::Release);
    stopper.join().unwrap();
    assert!(matches!(result, Err(QueryError::Cancelled)), "{result:?}");
}

#[test]
fn semantic_errors_point_at_the_spot() {
    let store = hub(2);
    let cases = [
        (
            "MATCH (@rusia)-[c]->(x) RETURN x",
            "error: unknown entity `@rusia`, did you mean `@russia`?\n --> line 1, column 8",
        ),
        (
            "MATCH (a)-[c:lnks]->(b) RETURN b",
            "error: unknown predicate `lnks`, did you mean `links`?\n --> line 1, column 14",
        ),
        ("MATCH (a)-[c]->(b) RETURN bb", "error: unknown variable `bb`\n --> line 1, column 27"),
        (
            "MATCH (a)-[c]->(b) WHERE count(*) > 1 RETURN a",
            "error: aggregate functions are only allowed in RETURN and ORDER BY\n --> line 1, column 26",
        ),
        (
            "MATCH (x @kremlin) RETURN x.name.first",
            "error: cannot read property `first` of a string\n --> line 1, column 34",
        ),
        (
            "MATCH (a)-[c]->(b) WHERE c.tx + 'x' > 1 RETURN a",
            "error: type mismatch: arithmetic on an integer and a string\n --> line 1, column 26",
        ),
        (
            "MATCH (a)-[c]->(b) RETURN a AS OF TX 99",
            "error: AS OF TX 99 is beyond the last transaction (tx 2)\n --> line 1, column 29",
        ),
        (
            "MATCH (a)-[a]->(b) RETURN a",
            "error: variable `a` is already bound to a node, not a claim\n --> line 1, column 12",
        ),
    ];
    for (src, want) in cases {
        let err = store.query(src).unwrap_err();
        let shown = err.render(src);
        assert!(shown.starts_with(want), "{src}\n--- got ---\n{shown}\n--- wanted prefix ---\n{want}");
        assert!(shown.contains('^'));
    }
}

#[test]
fn writes_and_transaction_blocks() {
    let store = hub(1);
    let mut session = Session::new(store.clone());
    let head = store.head();
    session.execute("BEGIN MESSAGE 'two claims'").unwrap();
    assert!(session.in_transaction());
    session.execute("ASSERT (@russia)-[:produces]->(\"oil\") {id: oil1, confidence: 0.9}").unwrap();
    session.execute("ASSERT (@russia)-[:produces]->(\"gas\")").unwrap();
    assert_eq!(store.head(), head, "nothing is committed before COMMIT");
    let r = session.execute("COMMIT").unwrap();
    assert_eq!(r.receipt.as_ref().unwrap().tx, head + 1);
    assert_eq!(r.receipt.unwrap().claim_ids.len(), 2);
    let rows = store.query("MATCH (@russia)-[c:produces]->(v) RETURN v ORDER BY v").unwrap().rows;
    assert_eq!(strings(&rows), vec!["gas", "oil"]);
    session.execute("BEGIN").unwrap();
    session.execute("RETRACT oil1 BECAUSE 'wrong'").unwrap();
    session.execute("ROLLBACK").unwrap();
    assert_eq!(
        store.query("MATCH (@russia)-[c:produces]->(v) RETURN count(*)").unwrap().rows[0][0],
        Value::Int(2)
    );
    let err = session.execute("RETRACT nope BECAUSE 'x'").unwrap_err();
    // A statement's own write error: the rule's words, no event numbering,
    // and the kind a program branches on.
    assert_eq!(err.to_string(), "unknown claim `nope`");
    assert!(
        matches!(&err, QueryError::Rejected(v) if v.kind == claimgraph::ValidationKind::UnknownClaim { id: "nope".into() }),
        "{err:?}"
    );
}

#[test]
fn a_failed_statement_aborts_the_block_until_rollback() {
    let store = hub(1);
    let mut session = Session::new(store.clone());
    let head = store.head();
    session.execute("BEGIN").unwrap();
    session.execute("ASSERT (@russia)-[:produces]->(\"oil\") {id: oil1}").unwrap();
    // Validated when queued: a duplicate id fails at its own statement.
    let err = session.execute("ASSERT (@russia)-[:produces]->(\"gas\") {id: oil1}").unwrap_err();
    assert_eq!(err.to_string(), "claim id `oil1` is already taken");
    assert!(session.transaction_aborted());
    // Every later statement, reads included, is refused until ROLLBACK.
    for later in ["ASSERT (@russia)-[:produces]->(\"coal\")", "MATCH (n) RETURN count(*)", "STATS", "BEGIN"] {
        let err = session.execute(later).unwrap_err();
        assert!(matches!(err, QueryError::TransactionAborted), "{later}: {err}");
        assert_eq!(err.to_string(), "the transaction is aborted; ROLLBACK to continue");
    }
    // COMMIT of the aborted block commits nothing, says so, and closes it.
    let err = session.execute("COMMIT").unwrap_err();
    assert!(matches!(err, QueryError::AbortedCommit { discarded: 1 }), "{err}");
    assert!(err.to_string().contains("nothing was committed (1 queued statement(s) discarded)"), "{err}");
    assert_eq!(store.head(), head, "the statement queued before the error was not committed");
    assert!(!session.in_transaction());
    // ROLLBACK also ends an aborted block; then work goes on.
    session.execute("BEGIN").unwrap();
    session.execute("RETRACT nope BECAUSE 'x'").unwrap_err();
    assert!(session.transaction_aborted());
    session.execute("ROLLBACK").unwrap();
    session.execute("ASSERT (@russia)-[:produces]->(\"oil\") {id: oil1}").unwrap();
    assert_eq!(store.head(), head + 1);
    // A block's queued claim id and a retraction of it, in the same block.
    session.execute("BEGIN").unwrap();
    session.execute("ASSERT (@russia)-[:produces]->(\"gas\") {id: gas1}").unwrap();
    let err = session.execute("ASSERT (@russia)-[:produces]->(\"gas\") {id: gas1}").unwrap_err();
    assert!(err.to_string().contains("claim id `gas1` is already taken"), "{err}");
    assert_eq!(session.discard_transaction(), Some(1));
    assert_eq!(store.head(), head + 1);
}

#[test]
fn claim_ids_order_naturally() {
    let store = Store::temporary_with(first_use()).unwrap();
    let mut tx = claimgraph::Transaction::new("t");
    tx.entity("x", "Thing", "X");
    for id in ["c11", "c3", "c11_2", "c20", "c11_10", "c4"] {
        tx.assert("x", "p", Term::Int(1)).claim = Some(id.into());
    }
    store.commit(tx).unwrap();
    let ids = |q: &str| strings(&store.query(q).unwrap().rows);
    assert_eq!(
        ids("MATCH (x)-[c:p]->(v) RETURN c.id ORDER BY c.id"),
        ["c3", "c4", "c11", "c11_2", "c11_10", "c20"]
    );
    assert_eq!(ids("MATCH (x)-[c:p]->(v) RETURN c.id ORDER BY c.id DESC LIMIT 2"), ["c20", "c11_10"]);
    assert_eq!(ids("MATCH (x)-[c:p]->(v) RETURN max(c.id)"), ["c20"]);
}

#[test]
fn conflicts_compare_objects_by_value() {
    use claimgraph::model::Stance;
    let store = Store::temporary_with(first_use()).unwrap();
    let mut tx = claimgraph::Transaction::new("t");
    tx.entity("x", "Thing", "X");
    tx.entity("y", "Thing", "Y");
    // Each pair: a claim, and a denial of the same subject and predicate.
    let pair = |tx: &mut claimgraph::Transaction, p: &str, claimed: (Term, &str), denied: (Term, &str)| {
        tx.assert("x", p, claimed.0).claim = Some(claimed.1.into());
        let d = tx.assert("x", p, denied.0);
        (d.claim, d.stance) = (Some(denied.1.into()), Stance::Denies);
    };
    pair(&mut tx, "count", (Term::Int(5), "int5"), (Term::Float(5.0), "float5_denied"));
    pair(&mut tx, "size", (Term::Float(2.5), "float2_5"), (Term::Int(2), "int2_denied"));
    pair(&mut tx, "big", (Term::Float(1e300), "float1e300"), (Term::Float(1e300), "float1e300_denied"));
    pair(&mut tx, "label", (Term::String("a".into()), "a"), (Term::String("a".into()), "a_denied"));
    let d = tx.assert("x", "label", Term::String("b".into()));
    (d.claim, d.stance) = (Some("b_denied".into()), Stance::Denies);
    pair(&mut tx, "knows", (Term::Entity("y".into()), "y"), (Term::Entity("y".into()), "y_denied"));
    store.commit(tx).unwrap();
    let mut session = Session::new(store);
    let r = session.execute("CONFLICTS ABOUT @x").unwrap();
    let col = |name: &str| r.columns.iter().position(|c| c == name).unwrap();
    let mut pairs: Vec<String> =
        r.rows.iter().map(|row| format!("{} {}", row[col("claim")], row[col("other_claim")])).collect();
    pairs.sort();
    assert_eq!(pairs, ["a a_denied", "float1e300 float1e300_denied", "int5 float5_denied", "y y_denied"]);
}

/// `c.source.published` bounds narrow the scan to documents filed under
/// those days; the answer is the plain filter's, for dates of every precision
/// on both sides.
#[test]
fn publication_bounds_match_the_plain_filter() {
    use claimgraph::model::{Date, DocumentEvent};
    let store = Store::temporary_with(first_use()).unwrap();
    let mut tx = claimgraph::Transaction::new("t");
    tx.entity("x", "Thing", "X");
    tx.entity("s", "Person", "S");
    let dates = ["2023", "2023-12", "2024-01", "2024-01-31", "2024-02-01", "2024-12-31", "2025"];
    for (i, d) in dates.iter().enumerate() {
        let published = Some(d.parse::<Date>().unwrap());
        tx.document(DocumentEvent { key: format!("d{i}"), published, ..Default::default() });
    }
    tx.document(DocumentEvent { key: "undated".into(), ..Default::default() });
    for i in 0..=dates.len() {
        let a = tx.assert("x", "p", Term::Int(i as i64));
        a.by = Some("s".into());
        a.source = Some(if i < dates.len() { format!("d{i}") } else { "undated".into() });
    }
    store.commit(tx).unwrap();
    let ids = |q: &str| sorted_rows(&store, q);
    for d in ["2024", "2024-01", "2024-01-31", "2023-12-31", "2025-01-01"] {
        for op in ["<", "<=", "=", ">=", ">"] {
            let narrowed = ids(&format!(
                "MATCH (a)-[c]->(b) WHERE c.by = @s AND c.source.published {op} {d} RETURN c.id"
            ));
            let plain = ids(&format!(
                "MATCH (a)-[c]->(b) WHERE c.by = @s AND (c.source.published {op} {d} OR false) RETURN c.id"
            ));
            assert_eq!(narrowed, plain, "published {op} {d}");
            let flipped = ids(&format!(
                "MATCH (a)-[c]->(b) WHERE c.by = @s AND {d} {op} c.source.published RETURN c.id"
            ));
            let plain = ids(&format!(
                "MATCH (a)-[c]->(b) WHERE c.by = @s AND ({d} {op} c.source.published OR false) RETURN c.id"
            ));
            assert_eq!(flipped, plain, "{d} {op} published");
        }
    }
    assert_eq!(
        ids("MATCH (a)-[c]->(b) WHERE c.by = @s AND c.source.published >= 2024-01-31 RETURN c.id").len(),
        5
    );
    let explain =
        store.query("EXPLAIN MATCH (a)-[c]->(b) WHERE c.by = @s AND c.source.published >= 2024 RETURN c.id");
    assert!(format!("{:?}", explain.unwrap().rows).contains("sources by publication day"));
}

/// A busy speaker's claims in a narrow publication window are scanned from
/// the window's documents (SRC) instead of the speaker's postings (BY), a
/// wide window still scans BY, and a merge turns the window off; every plan
/// returns what the plain filter returns, for publication dates of every
/// precision (a year or month date is filed under its first day, before a
/// bound inside that year or month).
#[test]
fn publication_windows_scan_documents_and_match_the_plain_filter() {
    use claimgraph::model::{Date, DocumentEvent};
    let store = Store::temporary_with(first_use()).unwrap();
    let mut tx = claimgraph::Transaction::new("t");
    tx.entity("x", "Thing", "X");
    tx.entity("s", "Person", "S");
    tx.entity("t", "Person", "T");
    // 400 documents: mostly days of 2021-2024, some months and years.
    let mut dates = Vec::new();
    for i in 0..400u32 {
        let k = i / 10;
        let y = 2021 + (k % 4) as i32;
        let date = match i % 10 {
            0 => Date::new(y, None, None),
            1 => Date::new(y, Some(1 + (k * 5) % 12), None),
            _ => Date::ymd(y, 1 + (i * 7) % 12, 1 + (i * 11) % 28),
        };
        dates.push(date.unwrap());
    }
    for (i, d) in dates.iter().enumerate() {
        tx.document(DocumentEvent { key: format!("d{i}"), published: Some(*d), ..Default::default() });
    }
    tx.document(DocumentEvent { key: "undated".into(), ..Default::default() });
    store.commit(tx).unwrap();
    let mut tx = claimgraph::Transaction::new("t");
    for i in 0..1200usize {
        let a = tx.assert("x", "p", Term::Int(i as i64));
        a.by = Some(if i % 5 == 4 { "t" } else { "s" }.into());
        a.source = Some(if i % 97 == 0 { "undated".into() } else { format!("d{}", i % 400) });
    }
    store.commit(tx).unwrap();
    let ids = |q: &str| sorted_rows(&store, q);
    let explain = |q: &str| format!("{:?}", store.query(&format!("EXPLAIN {q}")).unwrap().rows);
    let mut by_window = 0;
    for d in ["2022", "2022-03", "2022-03-01", "2022-03-15", "2023-01-01", "2024-12"] {
        for op in ["<", "<=", "=", ">=", ">"] {
            for extra in ["", "c.source.published >= 2022-02-10", "c.source.published <= 2022-04-20"] {
                let conds: Vec<String> = [format!("c.source.published {op} {d}"), extra.to_string()]
                    .into_iter()
                    .filter(|c| !c.is_empty())
                    .collect();
                let query = |conds: Vec<String>| {
                    format!("MATCH (a)-[c]->(b) WHERE c.by = @s AND {} RETURN c.id", conds.join(" AND "))
                };
                let q = query(conds.clone());
                let plain = query(conds.iter().map(|c| format!("({c} OR false)")).collect());
                assert!(!explain(&plain).contains("publication day"), "{plain}");
                assert_eq!(ids(&q), ids(&plain), "{q}");
                by_window += explain(&q).contains("documents in the window") as usize;
            }
        }
    }
    // Narrow windows scan documents; some bounds admit too many to.
    assert!(by_window > 10, "{by_window} windows scanned by document");
    assert!(by_window < 90, "{by_window} windows scanned by document");
    let narrow = "MATCH (a)-[c]->(b) WHERE c.by = @s AND c.source.published >= 2022-03-01 \
                  AND c.source.published <= 2022-03-31 RETURN c.id";
    let wide = "MATCH (a)-[c]->(b) WHERE c.by = @s AND c.source.published >= 2021 RETURN c.id";
    assert!(explain(narrow).contains("documents in the window"), "{}", explain(narrow));
    assert!(explain(wide).contains("BY (speaker)"), "{}", explain(wide));
    // The month and year documents of March 2022 count in a March window.
    let march = ids(narrow);
    let month_or_year = dates
        .iter()
        .filter(|d| d.year() == 2022 && d.day().is_none() && d.month().is_none_or(|m| m == 3))
        .count();
    assert!(month_or_year >= 2);
    let plain =
        narrow.replace("c.source.published >= 2022-03-01", "(c.source.published >= 2022-03-01 OR false)");
    assert_eq!(march, ids(&plain));
    // The 2022 and 2022-03 documents' claims are among them.
    let sources = ids(&narrow.replace("RETURN c.id", "RETURN DISTINCT c.source.key"));
    for (i, d) in dates.iter().enumerate() {
        if d.year() == 2022 && d.day().is_none() && d.month().is_none_or(|m| m == 3) {
            assert!(sources.contains(&format!("d{i}")), "d{i} ({d}) in {sources:?}");
        }
    }
    // After a merge the window is off and the answer unchanged.
    let mut tx = claimgraph::Transaction::new("t");
    tx.entity("y", "Thing", "Y");
    tx.merge("y", "x");
    store.commit(tx).unwrap();
    assert!(!explain(narrow).contains("documents in the window"), "{}", explain(narrow));
    assert_eq!(ids(narrow), march);
}

/// Grouping keys compare as ORDER BY does (1 and 1.0 are one group), groups
/// without ORDER BY come out in key order, and `c.predicate` groups alike
/// whether it is read from the posting or computed.
#[test]
fn grouping_merges_equal_keys_and_orders_groups_by_key() {
    let store = Store::temporary_with(first_use()).unwrap();
    let mut tx = claimgraph::Transaction::new("t");
    tx.entity("x", "Thing", "X");
    tx.entity("y", "Thing", "Y");
    tx.assert("x", "weight", Term::Int(1));
    tx.assert("x", "weight", Term::Float(1.0));
    tx.assert("x", "weight", Term::Int(3));
    tx.assert("x", "weight", Term::Float(2.5));
    tx.assert("x", "size", Term::Int(3));
    tx.assert("x", "knows", Term::Entity("y".into()));
    tx.assert("y", "knows", Term::Entity("x".into()));
    store.commit(tx).unwrap();
    let mut session = Session::new(store);
    let r = session.execute("MATCH (@x)-[c]->(o) RETURN o, count(*) AS n").unwrap();
    assert_eq!(strings(&r.rows), ["1 | 2", "2.5 | 1", "3 | 2", "Y (@y) | 1"], "{:?}", r.rows);
    let r = session.execute("MATCH (a)-[c]->(o) RETURN c.predicate AS p, count(*) AS n").unwrap();
    assert_eq!(strings(&r.rows), ["knows | 2", "size | 1", "weight | 4"]);
    let r = session
        .execute("MATCH (a)-[c]->(o) RETURN lower(c.predicate) AS p, count(*) AS n ORDER BY n DESC, p")
        .unwrap();
    assert_eq!(strings(&r.rows), ["weight | 4", "knows | 2", "size | 1"]);
    let r = session.execute("MATCH (a)-[c]->(o) RETURN c.predicate, a, count(*) AS n").unwrap();
    assert_eq!(
        strings(&r.rows),
        ["knows | X (@x) | 1", "knows | Y (@y) | 1", "size | X (@x) | 1", "weight | X (@x) | 4"]
    );
}

/// `VALID AT $d` and `AS OF TX $t` (and their `FOR …` spellings) read the
/// parameter as the literal form reads the text; a parameter of the wrong
/// type or without a value is a semantic error.
#[test]
fn time_clauses_take_parameters() {
    use claimgraph::model::{Date, ValidTime};
    let store = Store::temporary_with(first_use()).unwrap();
    let mut tx = claimgraph::Transaction::new("t");
    tx.entity("x", "Thing", "X");
    tx.entity("y", "Thing", "Y");
    tx.assert("x", "p", Term::Entity("y".into())).valid = ValidTime::during("2024".parse().unwrap());
    store.commit(tx).unwrap();
    let mut tx = claimgraph::Transaction::new("t");
    tx.assert("x", "p", Term::Int(1)).valid = ValidTime::during("2025-03".parse().unwrap());
    tx.assert("x", "q", Term::Int(2));
    store.commit(tx).unwrap();
    let date = |d: &str| Value::Date(d.parse::<Date>().unwrap());
    let run = |text: &str, params: &[(&str, Value)]| {
        let params: HashMap<String, Value> = params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        let prepared = store.prepare(text).unwrap();
        let mut rows = strings(&prepared.run(&store, &params).map_err(|e| e.to_string())?.rows);
        let mut session = Session::new(store.clone());
        session.params = params;
        let mut again = strings(&session.execute(text).map_err(|e| e.to_string())?.rows);
        rows.sort();
        again.sort();
        assert_eq!(rows, again, "{text}");
        Ok::<_, String>(rows)
    };
    let q = "MATCH (@x)-[c]->(o) RETURN c.id, o";
    for (lit, value) in
        [("2024-06-01", date("2024-06-01")), ("2025", Value::Int(2025)), ("2025-03-02", date("2025-03-02"))]
    {
        let literal = run(&format!("{q} VALID AT {lit}"), &[]).unwrap();
        assert_eq!(run(&format!("{q} VALID AT $d"), &[("d", value.clone())]).unwrap(), literal, "{lit}");
        assert_eq!(run(&format!("{q} FOR VALID_TIME AS OF $d"), &[("d", value)]).unwrap(), literal, "{lit}");
    }
    assert_eq!(run(&format!("{q} VALID AT $d"), &[("d", Value::Int(2024))]).unwrap().len(), 2);
    for t in 1..=2 {
        let literal = run(&format!("{q} AS OF TX {t}"), &[]).unwrap();
        assert_eq!(literal.len(), if t == 1 { 1 } else { 3 });
        assert_eq!(run(&format!("{q} AS OF TX $t"), &[("t", Value::Int(t))]).unwrap(), literal);
        assert_eq!(
            run(&format!("{q} FOR SYSTEM_TIME AS OF TX $t"), &[("t", Value::Int(t))]).unwrap(),
            literal
        );
    }
    let both = run(&format!("{q} AS OF TX $t VALID AT $d"), &[("t", Value::Int(1)), ("d", Value::Int(2025))]);
    assert_eq!(both.unwrap(), Vec::<String>::new());
    let conflicts =
        run("CONFLICTS ABOUT @x AS OF TX $t VALID AT $d", &[("t", Value::Int(2)), ("d", Value::Int(2025))]);
    assert!(conflicts.is_ok(), "{conflicts:?}");
    for (text, params, message) in [
        (format!("{q} VALID AT $d"), vec![("d", Value::String("2025".into()))], "needs a date"),
        (format!("{q} VALID AT $d"), vec![("d", Value::Int(99_999))], "is not a year"),
        (format!("{q} VALID AT $d"), vec![], "no value for parameter `$d`"),
        (format!("{q} AS OF TX $t"), vec![("t", Value::Int(-1))], "needs a transaction number"),
        (format!("{q} AS OF TX $t"), vec![("t", date("2025"))], "needs a transaction number"),
        (format!("{q} AS OF TX $t"), vec![("t", Value::Int(3))], "beyond the last transaction"),
        (format!("{q} AS OF TX $t"), vec![], "no value for parameter `$t`"),
    ] {
        let err = run(&text, &params).unwrap_err();
        assert!(err.contains(message), "{text}: {err}");
    }
}

/// Terms, entity and claim records decoded by one query are reused by the
/// next ones on the thread only where they cannot have changed: an update,
/// a merge, an unmerge, a retraction, a rebuild of the indexes or another
/// store shows at once, and an older `AS OF` still sees the older record.
#[test]
fn records_reused_across_queries_never_go_stale() {
    let q = "MATCH (@a)-[c]->(o) RETURN o.key, o.name";
    let a = Store::temporary_with(first_use()).unwrap();
    let mut tx = claimgraph::Transaction::new("t");
    tx.entity("a", "Thing", "A");
    tx.entity("b", "Thing", "Bee");
    tx.entity("c", "Thing", "Sea");
    tx.assert("a", "p", Term::Entity("b".into()));
    a.commit(tx).unwrap();
    // Another store whose ids stand for other entities.
    let z = Store::temporary_with(first_use()).unwrap();
    let mut tx = claimgraph::Transaction::new("t");
    tx.entity("a", "Thing", "A");
    tx.entity("zed", "Thing", "Zed");
    tx.assert("a", "p", Term::Entity("zed".into()));
    z.commit(tx).unwrap();
    for _ in 0..2 {
        assert_eq!(sorted_rows(&a, q), ["b | Bee"]);
        assert_eq!(sorted_rows(&z, q), ["zed | Zed"]);
    }
    // An update of the record.
    let mut tx = claimgraph::Transaction::new("t");
    tx.entity("b", "Thing", "Bee 2");
    a.commit(tx).unwrap();
    assert_eq!(sorted_rows(&a, q), ["b | Bee 2"]);
    assert_eq!(sorted_rows(&a, &format!("{q} AS OF TX 1")), ["b | Bee"]);
    assert_eq!(sorted_rows(&a, q), ["b | Bee 2"]);
    // A merge and an unmerge change what the object resolves to.
    let mut tx = claimgraph::Transaction::new("t");
    tx.merge("b", "c");
    a.commit(tx).unwrap();
    assert_eq!(sorted_rows(&a, q), ["c | Sea"]);
    assert_eq!(sorted_rows(&a, &format!("{q} AS OF TX 2")), ["b | Bee 2"]);
    let mut tx = claimgraph::Transaction::new("t");
    tx.unmerge("b");
    a.commit(tx).unwrap();
    assert_eq!(sorted_rows(&a, q), ["b | Bee 2"]);
    // A rebuilt index answers alike, and so does the other store.
    a.rebuild_indexes().unwrap();
    assert_eq!(sorted_rows(&a, q), ["b | Bee 2"]);
    assert_eq!(sorted_rows(&a, &format!("{q} AS OF TX 1")), ["b | Bee"]);
    assert_eq!(sorted_rows(&z, q), ["zed | Zed"]);
    // A record read from another thread's queries is its own.
    let a2 = a.clone();
    let other = std::thread::spawn(move || strings(&a2.query(q).unwrap().rows)).join().unwrap();
    assert_eq!(other, ["b | Bee 2"]);
    // A retraction rewrites the claim's record; an earlier view does not see it.
    let claims = "MATCH (@a)-[c]->(o) RETURN c.id, c.retract_reason INCLUDE RETRACTED";
    let before = a.head();
    assert_eq!(sorted_rows(&a, claims), ["c1 | null"]);
    assert_eq!(sorted_rows(&a, claims), ["c1 | null"]);
    let mut tx = claimgraph::Transaction::new("t");
    tx.retract("c1", "wrong");
    a.commit(tx).unwrap();
    assert_eq!(sorted_rows(&a, claims), ["c1 | wrong"]);
    assert_eq!(sorted_rows(&a, &format!("{claims} AS OF TX {before}")), ["c1 | null"]);
    assert_eq!(sorted_rows(&a, claims), ["c1 | wrong"]);
}

/// `c.id` comes from the posting for an assigned id and from the record for a
/// chosen one, whichever plan binds the claim, before and after a retraction.
#[test]
fn chosen_and_assigned_claim_ids_both_read_back() {
    let store = Store::temporary_with(first_use()).unwrap();
    let mut tx = claimgraph::Transaction::new("t");
    tx.entity("a", "Thing", "A");
    tx.entity("b", "Thing", "B");
    tx.assert("a", "links", Term::Entity("b".into()));
    tx.assert("a", "links", Term::String("text".into())).claim = Some("chosen_1".into());
    tx.assert("b", "links", Term::Entity("a".into()));
    store.commit(tx).unwrap();
    let ids = |q: &str| sorted_rows(&store, q);
    let all = vec!["c1", "c3", "chosen_1"];
    assert_eq!(ids("MATCH (x)-[c:links]->(y) RETURN c.id"), all);
    assert_eq!(ids("MATCH (@a)-[c]-(y) RETURN c.id"), all);
    assert_eq!(ids("MATCH (@a)-[c]->(y) RETURN c.id, c.object"), vec!["c1 | B (@b)", "chosen_1 | text"]);
    let mut tx = claimgraph::Transaction::new("t");
    tx.retract("chosen_1", "withdrawn");
    store.commit(tx).unwrap();
    assert_eq!(ids("MATCH (@a)-[c]->(y) RETURN c.id"), vec!["c1"]);
    assert_eq!(ids("MATCH (@a)-[c]->(y) RETURN c.id AS OF TX 1"), vec!["c1", "chosen_1"]);
}

/// `a -[rates]-> 5`, `b -[rates]-> 5`, `c -[likes]-> a`: a literal object
/// shared by two claims, and one entity edge.
fn ratings() -> Store {
    let store = Store::temporary_with(first_use()).unwrap();
    store
        .transact("t", |tx| {
            for k in ["a", "b", "c"] {
                tx.entity(k, "Thing", k);
            }
            tx.assert("a", "rates", Term::Int(5));
            tx.assert("b", "rates", Term::Int(5));
            tx.assert("c", "likes", Term::Entity("a".into()));
        })
        .unwrap();
    store
}

#[test]
fn a_variable_length_edge_starts_from_and_passes_through_a_literal() {
    // Issue 13: the `*1..1` spelling returned nothing, from whichever end.
    let store = ratings();
    let fixed = sorted_rows(&store, "MATCH (x @a)-[:rates]->(v)<-[:rates]-(y) RETURN v, y.key");
    assert_eq!(fixed, vec!["5 | a", "5 | b"]);
    for q in [
        "MATCH (x @a)-[:rates]->(v)<-[:rates*1..1]-(y) RETURN v, y.key",
        "MATCH (y)-[:rates*1..1]->(v)<-[:rates]-(x @a) RETURN v, y.key",
        "MATCH (x @a)-[:rates*1..1]->(v)<-[:rates*1..1]-(y) RETURN v, y.key",
        "MATCH (v)<-[:rates*1..1]-(y), (x @a)-[:rates]->(v) RETURN v, y.key",
    ] {
        assert_eq!(sorted_rows(&store, q), fixed, "{q}");
    }
    // Through the literal: a -> 5 <- b is one undirected trail of two claims.
    assert_eq!(sorted_rows(&store, "MATCH (x @a)-[:rates*2..2]-(y) RETURN y.key"), vec!["b"]);
    // With both ends free and undirected, the literal is a start as well as an end.
    let either = sorted_rows(&store, "MATCH (v)-[:rates*1..1]-(y) RETURN v, y");
    let fixed_either = sorted_rows(&store, "MATCH (v)-[:rates]-(y) RETURN v, y");
    assert_eq!(either, fixed_either);
    assert_eq!(either.len(), 4, "{either:?}");
}

#[test]
fn a_zero_length_hop_adds_nothing_to_the_path() {
    // Issue 13: `size(p)` was 1 for y = c and the node was listed as a claim.
    let store = ratings();
    let q = "MATCH p = (x @c)-[:likes*0..1]->(y) RETURN y.key, length(p), size(p), p ORDER BY y.key";
    let r = store.query(q).unwrap();
    assert_eq!(r.rows.len(), 2);
    let (a, c) = (&r.rows[0], &r.rows[1]);
    assert_eq!((&a[0], &a[1], &a[2]), (&Value::String("a".into()), &Value::Int(1), &Value::Int(1)));
    assert_eq!((&c[0], &c[1], &c[2]), (&Value::String("c".into()), &Value::Int(0), &Value::Int(0)));
    let Value::Path { nodes, claims, forward } = &c[3] else { panic!("a path: {:?}", c[3]) };
    assert_eq!((nodes.len(), claims.len(), forward.len()), (1, 0, 0), "{:?}", c[3]);
    assert!(matches!(&nodes[0], Value::Entity { key, .. } if key == "c"));
    let Value::Path { nodes, claims, .. } = &a[3] else { panic!("a path: {:?}", a[3]) };
    assert_eq!((nodes.len(), claims.len()), (2, 1));
    assert!(matches!(&claims[0], Value::Claim { .. }), "{:?}", claims[0]);
    // `length` is for paths.
    let err = store.query("MATCH (x @c) RETURN length(x.key)").unwrap_err();
    assert!(err.to_string().contains("`length` takes a path, got a string"), "{err}");
}

/// The memory error's text for a budget of `text`.
fn memory_error(text: &str) -> String {
    format!(
        "limit exceeded: memory: the query needs more than {text} to sort, group or deduplicate its rows \
         (the memory budget); use LIMIT or a narrower pattern"
    )
}

#[test]
fn sorting_distinct_and_grouping_stop_at_the_memory_budget() {
    // Issue 12, finding 12: 1,000 × 1,000 pairs fit the row budget but their
    // sort, DISTINCT and grouping state must not outgrow the memory budget.
    let store = hub(1000);
    let mut session = Session::new(store);
    session.limits.max_memory = 256 << 10;
    for q in [
        "MATCH (@hub)-[:links]->(a), (@hub)-[:links]->(b) RETURN a.name, b.name ORDER BY a.name, b.name",
        "MATCH (@hub)-[:links]->(a), (@hub)-[:links]->(b) RETURN DISTINCT a.name, b.name",
        "MATCH (@hub)-[:links]->(a), (@hub)-[:links]->(b) RETURN count(DISTINCT [a, b])",
        "MATCH (@hub)-[:links]->(a), (@hub)-[:links]->(b) RETURN a, b, count(*)",
        "MATCH (@hub)-[:links]->(a), (@hub)-[:links]->(b) RETURN collect(b.name)",
    ] {
        let err = session.execute(q).unwrap_err();
        assert!(matches!(err, QueryError::LimitExceeded(_)), "{q}: {err}");
        assert_eq!(err.to_string(), memory_error("256 KiB"), "{q}");
    }
    // Streaming rows and top-k hold little: these answer under the same budget.
    let r = session
        .execute("MATCH (@hub)-[:links]->(a), (@hub)-[:links]->(b) RETURN a.key, b.key ORDER BY a.key DESC, b.key LIMIT 3")
        .unwrap();
    // Strings order naturally (digit runs by value): e2 before e10.
    assert_eq!(strings(&r.rows), vec!["e999 | e0", "e999 | e1", "e999 | e2"]);
    let r = session.execute("MATCH (@hub)-[:links]->(a), (@hub)-[:links]->(b) RETURN count(*)").unwrap();
    assert_eq!(r.rows[0][0], Value::Int(1_000_000));
    // The default budget is the machine-sized one, and it is configurable.
    assert_eq!(claimgraph::query::Limits::default().max_memory, 1 << 30);
}

/// A deterministic pseudo-random sequence (xorshift), for table tests.
fn xorshift(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn top_k_gives_the_rows_of_a_full_sort_and_limit() {
    // Values with many ties, so the order rows arrive in decides among equals.
    let store = Store::temporary_with(first_use()).unwrap();
    let mut seed = 0x9e37_79b9_7f4a_7c15;
    store
        .transact("t", |tx| {
            tx.entity("hub", "Thing", "Hub");
            for i in 0..300 {
                let v = xorshift(&mut seed) % 7;
                let key = format!("n{i}");
                tx.entity(&key, "Thing", &format!("name {}", xorshift(&mut seed) % 5));
                tx.assert("hub", "links", Term::Entity(key.clone()));
                tx.assert(&key, "score", Term::Int(v as i64));
            }
        })
        .unwrap();
    let mut session = Session::new(store);
    let orders = ["s", "s DESC", "x.name, s DESC", "x.name DESC, s", "s, x.name DESC"];
    for order in orders {
        let base =
            format!("MATCH (@hub)-[:links]->(x)-[c:score]->(s) RETURN x.key, x.name, s ORDER BY {order}");
        let full = strings(&session.execute(&base).unwrap().rows);
        assert_eq!(full.len(), 300);
        for (skip, limit) in
            [(0, 0), (0, 1), (0, 5), (3, 10), (0, 299), (0, 300), (10, 1000), (299, 2), (400, 3)]
        {
            let q = format!("{base} SKIP {skip} LIMIT {limit}");
            let got = strings(&session.execute(&q).unwrap().rows);
            let want: Vec<String> = full.iter().skip(skip).take(limit).cloned().collect();
            assert_eq!(got, want, "{q}");
        }
    }
}

/// `1 + 1 + … + 1` with `n` operators.
fn flat_sum(n: usize) -> String {
    let mut s = "1".to_string();
    for _ in 0..n {
        s.push_str(" + 1");
    }
    s
}

#[test]
fn a_flat_chain_of_operators_is_not_nesting() {
    // Issue 12, finding 13: a sum of 66 terms was "nested too deeply".
    let store = hub(1);
    let mut session = Session::new(store.clone());
    let r = session.execute(&format!("MATCH (x @hub) RETURN {}", flat_sum(65))).unwrap();
    assert_eq!(r.rows[0][0], Value::Int(66));
    // The longest chain allowed, inside the deepest nesting allowed,
    // evaluates on a 2 MiB thread (a test thread's stack) in a debug build:
    // its tree is as deep as it is long.
    let max = claimgraph::query::parser::MAX_OPERATORS;
    let depth = claimgraph::query::parser::MAX_DEPTH - 2;
    let q = format!(
        "MATCH (x @hub) WHERE {} > 0 RETURN {}{}{}",
        flat_sum(9),
        "coalesce(".repeat(depth),
        flat_sum(max - 8),
        ")".repeat(depth)
    );
    let r = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || Session::new(store).execute(&q).map(|r| r.rows))
        .unwrap()
        .join()
        .expect("no stack overflow");
    assert_eq!(r.unwrap(), vec![vec![Value::Int(max as i64 - 7)]]);
    // One more is refused by name; real nesting still counts levels.
    let err = session.execute(&format!("MATCH (x @hub) RETURN {}", flat_sum(max + 2))).unwrap_err();
    assert!(err.to_string().contains("too many operators in one statement (limit 1024)"), "{err}");
    let nested = format!("MATCH (x @hub) RETURN {}1{}", "(".repeat(65), ")".repeat(65));
    let err = session.execute(&nested).unwrap_err();
    assert!(err.to_string().contains("nested too deeply"), "{err}");
}
