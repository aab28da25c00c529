//! The library as a program embedding it uses it, through the documented API
//! only: typed rows, parameters, a streaming iterator (its memory bound is
//! `tests/stream_memory.rs`, alone in its process), cancellation and budgets, and errors a program can match.

use claimgraph::model::{Date, Stance, Term};
use claimgraph::query::{CancelHandle, ConflictKind, EntityRef, Limits, QueryOptions, Row, RowError};
use claimgraph::{QueryError, Session, Store, StoreError, ValidationKind, Value, params};

fn news_store() -> Store {
    let store = Store::temporary().unwrap();
    let mut session = Session::new(store.clone());
    session
        .run_script(
            "CREATE ENTITY us :Country {name: 'United States'};
             CREATE ENTITY russia :Country {name: 'Russia'};
             CREATE ENTITY kremlin :Organization {name: 'Kremlin'};
             CREATE PREDICATE may_ease_sanctions_on;
             CREATE PREDICATE borders;
             ASSERT (@us)-[:may_ease_sanctions_on]->(@russia) {by: @kremlin, valid: 2025-03, confidence: 0.6};
             ASSERT (@russia)-[:borders]->('Ukraine');",
        )
        .unwrap();
    store
}

#[test]
fn rows_read_as_rust_types_by_name_and_position() {
    let store = news_store();
    let q = store
        .prepare(
            "MATCH (a)-[c:may_ease_sanctions_on]->(b) WHERE a.key = $who \
             RETURN c.id, a, c.valid, c.confidence, c.quote",
        )
        .unwrap();
    let rows: Vec<Row> = q
        .rows(&store.snapshot(), &params! { "who" => "us" }, &QueryOptions::default())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.get::<String>("c.id").unwrap(), "c1");
    let a: EntityRef = row.get(1).unwrap();
    assert_eq!((a.key.as_str(), a.name.as_str(), a.kind.as_str()), ("us", "United States", "Country"));
    assert_eq!(row.get::<Date>("c.valid").unwrap().to_string(), "2025-03");
    assert_eq!(row.get::<f64>("c.confidence").unwrap(), 0.6);
    assert_eq!(row.get::<Option<String>>("c.quote").unwrap(), None);
    // Wrong type, null into a plain type, unknown column: errors that say so.
    assert_eq!(
        row.get::<i64>("c.id").unwrap_err(),
        RowError::WrongType { column: "c.id".into(), expected: "an integer", found: "a string" }
    );
    assert!(matches!(row.get::<String>("c.quote"), Err(RowError::WrongType { found: "null", .. })));
    let err = row.get::<String>("c.nope").unwrap_err();
    assert!(matches!(&err, RowError::NoColumn { name, .. } if name == "c.nope"), "{err}");
    assert!(matches!(row.get::<String>(9), Err(RowError::OutOfRange { index: 9, len: 5 })));

    // The same through a collected result, and serde for a row.
    let result = store.query("MATCH (a)-[c:borders]->(o) RETURN c.id, o").unwrap();
    let row = result.iter().next().unwrap();
    assert_eq!(row.get::<String>(1).unwrap(), "Ukraine");
    assert_eq!(serde_json::to_value(&row).unwrap(), serde_json::json!({"c.id": "c2", "o": "Ukraine"}));
    let json = serde_json::to_value(&result).unwrap();
    assert_eq!(json["columns"], serde_json::json!(["c.id", "o"]));
    assert_eq!(json["rows"], serde_json::json!([["c2", "Ukraine"]]));
}

#[test]
fn params_macro_converts_rust_values() {
    let p = params! { "s" => "x", "n" => 3, "f" => 1.5, "b" => true, "none" => None::<i64>, "list" => vec![1, 2] };
    assert_eq!(p["s"], Value::String("x".into()));
    assert_eq!(p["n"], Value::Int(3));
    assert_eq!(p["f"], Value::Float(1.5));
    assert_eq!(p["b"], Value::Bool(true));
    assert_eq!(p["none"], Value::Null);
    assert_eq!(p["list"], Value::List(vec![Value::Int(1), Value::Int(2)]));
    assert!(params! {}.is_empty());
}

#[test]
fn a_cancel_before_the_query_starts_stops_it() {
    let store = news_store();
    let q = store.prepare("MATCH (a)-[c]->(b) RETURN c.id").unwrap();
    let cancel = CancelHandle::new();
    cancel.cancel();
    let opts = QueryOptions { cancel: Some(cancel), ..QueryOptions::default() };
    assert!(matches!(q.rows(&store.snapshot(), &params! {}, &opts), Err(QueryError::Cancelled)));
}

#[test]
fn a_cancel_while_reading_ends_the_rows_with_cancelled() {
    let store = Store::temporary().unwrap();
    store
        .transact("loader", |tx| {
            for i in 0..300 {
                tx.entity(&format!("e{i}"), "Thing", &format!("Thing {i}"));
            }
        })
        .unwrap();
    let q = store.prepare("MATCH (a:Thing), (b:Thing) RETURN a.key, b.key").unwrap();
    let cancel = CancelHandle::new();
    let opts = QueryOptions { cancel: Some(cancel.clone()), buffer: 16, ..QueryOptions::default() };
    let mut rows = q.rows(&store.snapshot(), &params! {}, &opts).unwrap();
    for _ in 0..10 {
        rows.next().unwrap().unwrap();
    }
    cancel.cancel();
    let rest: Vec<_> = rows.collect();
    let last = rest.last().expect("the cancelled query reports it");
    assert!(matches!(last, Err(QueryError::Cancelled)), "{last:?}");
    assert!(rest.len() < 90_000 - 10, "the query ran to its end: {} rows after the cancel", rest.len());
}

#[test]
fn per_query_limits_stop_a_runaway_query() {
    let store = news_store();
    let q = store.prepare("MATCH (a), (b), (c) RETURN a.key, b.key, c.key").unwrap();
    let opts =
        QueryOptions { limits: Limits { max_rows: 5, ..Limits::default() }, ..QueryOptions::default() };
    let out: Vec<_> = q.rows(&store.snapshot(), &params! {}, &opts).unwrap().collect();
    assert!(matches!(out.last(), Some(Err(QueryError::LimitExceeded(_)))), "{out:?}");
    // The collecting form takes the same options.
    assert!(matches!(q.run_with(&store, &params! {}, &opts), Err(QueryError::LimitExceeded(_))));
    let all = q.run_with(&store, &params! {}, &QueryOptions::default()).unwrap();
    assert_eq!(all.rows.len(), 27);
    let cancelled = CancelHandle::new();
    cancelled.cancel();
    let opts = QueryOptions { cancel: Some(cancelled), ..QueryOptions::default() };
    assert!(matches!(q.run_with(&store, &params! {}, &opts), Err(QueryError::Cancelled)));
}

#[test]
fn unknown_names_are_errors_a_program_can_match() {
    let store = news_store();
    let view = store.snapshot();
    let q = store.prepare("MATCH (a)-[c:may_ease_sanction_on]->(b) RETURN c.id").unwrap();
    match q.rows(&view, &params! {}, &QueryOptions::default()) {
        Err(QueryError::UnknownPredicate { name, suggestion, .. }) => {
            assert_eq!(name, "may_ease_sanction_on");
            assert_eq!(suggestion.as_deref(), Some("may_ease_sanctions_on"));
        }
        Err(other) => panic!("expected UnknownPredicate, got {other:?}"),
        Ok(_) => panic!("expected UnknownPredicate, got rows"),
    }
    let src = "MATCH (a)\n  WHERE a = @rusia RETURN a";
    let err = store.query(src).unwrap_err();
    match &err {
        QueryError::UnknownEntity { name, suggestion, .. } => {
            assert_eq!((name.as_str(), suggestion.as_deref()), ("rusia", Some("russia")));
        }
        other => panic!("expected UnknownEntity, got {other:?}"),
    }
    assert_eq!(err.to_string(), "unknown entity `@rusia`, did you mean `@russia`?");
    assert_eq!(err.position(src), Some((2, 13)));
}

#[test]
fn a_view_pinned_before_a_predicate_existed_reads_nothing_rather_than_failing() {
    let store = news_store();
    let first = store.head();
    store
        .transact("analyst", |tx| {
            tx.predicate("denies", false, None);
            tx.assert("kremlin", "denies", Term::String("talks".into()));
        })
        .unwrap();
    let q = store.prepare("MATCH (a)-[c:denies]->(b) RETURN c.id").unwrap();
    let then: Vec<_> =
        q.rows(&store.snapshot_at(first), &params! {}, &QueryOptions::default()).unwrap().collect();
    assert!(then.is_empty(), "{then:?}");
    let now: Vec<_> = q.rows(&store.snapshot(), &params! {}, &QueryOptions::default()).unwrap().collect();
    assert_eq!(now.len(), 1);
}

#[test]
fn history_and_conflicts_come_back_as_claims_entities_and_dates() {
    let store = news_store();
    let mut session = Session::new(store.clone());
    session
        .run_script(
            "ASSERT (@us)-[:may_ease_sanctions_on]->(@russia) {id: c9, stance: denies, valid: 2025-03-10};
             RETRACT c2 BECAUSE 'misread the map';",
        )
        .unwrap();
    let view = store.snapshot();

    let found = view.conflicts(Some("russia"), None).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    let c = &found[0];
    assert_eq!(c.kind, ConflictKind::Stance);
    assert_eq!((c.subject.as_str(), c.predicate.as_str()), ("us", "may_ease_sanctions_on"));
    assert_eq!((c.claim.id.as_str(), c.other.id.as_str()), ("c1", "c9"));
    assert_eq!(c.other.stance, Stance::Denies);
    assert_eq!(c.overlap.to_string(), "2025-03-10..2025-03-10");
    // Before the denial there was nothing to contradict.
    assert!(store.snapshot_at(1).conflicts(None, None).unwrap().is_empty());

    let life = view.claim_history("c2").unwrap();
    let ops: Vec<&str> = life.iter().map(|e| e.op).collect();
    assert_eq!(ops, ["assert", "retract"]);
    assert!(life[1].tx > life[0].tx);
    assert_eq!(life[1].claim.as_ref().unwrap().o, Term::String("Ukraine".into()));
    assert!(life[1].detail.contains("misread the map"), "{}", life[1].detail);
    // The statements' rows are typed too: entities as entities, literal
    // objects as their values.
    let rows = store.query("CONFLICTS").unwrap();
    let row = rows.iter().next().expect("one conflict");
    assert_eq!(row.get::<EntityRef>("subject").unwrap().key, "us");
    assert_eq!(row.get::<EntityRef>("object").unwrap().name, "Russia");
    assert_eq!(row.get::<EntityRef>("by").unwrap().key, "kremlin");
    let rows = store.query("HISTORY @russia").unwrap();
    let borders = rows.iter().find(|r| r.get::<String>("claim").is_ok_and(|c| c == "c2")).unwrap();
    assert_eq!(borders.get::<Option<EntityRef>>("by").unwrap(), None);
    assert_eq!(borders.get::<i64>("tx").unwrap(), life[0].tx as i64);
    // Known later: no history yet; never known: an error a program can match.
    assert!(store.snapshot_at(1).claim_history("c9").unwrap().is_empty());
    assert!(matches!(view.claim_history("c404"), Err(StoreError::UnknownClaim { id }) if id == "c404"));
}

#[test]
fn a_session_records_the_author_it_is_given() {
    let store = news_store();
    let mut session = Session::new(store.clone());
    session.set_author("desk-7");
    let r = session.execute("ASSERT (@russia)-[:borders]->('Finland');").unwrap();
    let tx = r.receipt.expect("a write returns its receipt").tx;
    assert_eq!(store.snapshot().transaction(tx).unwrap().unwrap().author, "desk-7");
}

#[test]
fn a_rejected_transaction_says_why_once() {
    let store = news_store();
    let err = store
        .transact("a", |tx| {
            tx.assert("nobody", "borders", Term::String("x".into()));
        })
        .unwrap_err();
    match &err {
        StoreError::Invalid(v) => match &v.kind {
            ValidationKind::UnknownEntity { key, suggestion } => {
                assert_eq!((key.as_str(), suggestion.as_deref(), v.index), ("nobody", None, 1));
            }
            other => panic!("expected UnknownEntity, got {other:?}"),
        },
        other => panic!("expected Invalid, got {other:?}"),
    }
    // Retracting twice, and a taken id: kinds a pipeline retries or skips on.
    let kind = |r: Result<claimgraph::model::Receipt, StoreError>| match r {
        Err(StoreError::Invalid(v)) => v.kind,
        other => panic!("expected a validation error, got {other:?}"),
    };
    store
        .transact("a", |tx| {
            tx.retract("c1", "wrong");
        })
        .unwrap();
    assert_eq!(
        kind(store.transact("a", |tx| {
            tx.retract("c1", "again");
        })),
        ValidationKind::AlreadyRetracted { id: "c1".into(), tx: store.head() }
    );
    assert_eq!(
        kind(store.transact("a", |tx| {
            tx.retract("c77", "?");
        })),
        ValidationKind::UnknownClaim { id: "c77".into() }
    );
    let taken = store.transact("a", |tx| {
        tx.assert("russia", "borders", Term::String("Estonia".into())).claim = Some("c2".into());
    });
    assert_eq!(kind(taken), ValidationKind::ClaimIdTaken { id: "c2".into() });
    // The message is the validation error's; its source does not repeat it.
    let source = std::error::Error::source(&err);
    assert!(source.is_none_or(|s| s.to_string() != err.to_string()), "{err} / {source:?}");
}

#[test]
fn close_releases_the_store_only_when_nothing_else_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path()).unwrap();
    let clone = store.clone();
    assert!(matches!(store.close(), Err(StoreError::InUse { handles: 1, views: 0 })));
    clone.close().unwrap();
    // Closed: another open of the same directory succeeds.
    Store::open(dir.path()).unwrap().close().unwrap();
}

#[test]
fn a_second_open_of_an_open_store_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path()).unwrap();
    match Store::open(dir.path()) {
        Err(StoreError::Locked { path }) => assert_eq!(path, dir.path()),
        Err(other) => panic!("expected Locked, got {other:?}"),
        Ok(_) => panic!("expected Locked, got a second store"),
    }
    store.close().unwrap();
    Store::open(dir.path()).unwrap();
}

#[test]
fn a_commit_goes_through_while_an_export_reads_the_log() {
    let store = news_store();
    let head = store.head();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let mut seen = Vec::new();
    store
        .for_each_tx(1, |rec| {
            if rec.tx == 1 {
                // The reader is inside the export: a commit must not wait for it.
                let writer = store.clone();
                let done = done_tx.clone();
                std::thread::spawn(move || {
                    let r = writer.transact("other", |tx| {
                        tx.entity("ukraine", "Country", "Ukraine");
                    });
                    let _ = done.send(r.map(|r| r.tx));
                });
                let committed = done_rx
                    .recv_timeout(std::time::Duration::from_secs(60))
                    .expect("a commit waited for the export to finish");
                assert_eq!(committed.unwrap(), head + 1);
            }
            seen.push(rec.tx);
            Ok(())
        })
        .unwrap();
    // The export reads the transactions as of its start.
    assert_eq!(seen, (1..=head).collect::<Vec<_>>());
    assert_eq!(store.head(), head + 1);
}

#[test]
fn a_session_cancel_sent_before_a_statement_stops_it_and_is_used_up() {
    let store = news_store();
    let mut session = Session::new(store.clone());
    session.cancel.cancel();
    assert!(matches!(session.execute("MATCH (a) RETURN a.key"), Err(QueryError::Cancelled)));
    // Used up: the next statement runs.
    assert_eq!(session.execute("MATCH (a) RETURN a.key").unwrap().rows.len(), 3);
}

#[test]
fn an_import_refused_by_the_store_keeps_the_store_error() {
    let store = news_store();
    let lines = concat!(
        r#"{"events":[{"op":"entity","key":"ukraine","kind":"Country","name":"Ukraine"}]}"#,
        "\n",
        r#"{"events":[{"op":"assert","s":"ukrane","p":"borders","o":{"entity":"russia"}}]}"#,
        "\n",
    );
    let err = claimgraph::jsonl::import(&store, lines.as_bytes(), "feed.jsonl").unwrap_err();
    assert_eq!((err.line, err.committed), (2, 1));
    match err.store_error.map(|e| *e) {
        Some(StoreError::Invalid(v)) => assert_eq!(
            v.kind,
            ValidationKind::UnknownEntity { key: "ukrane".into(), suggestion: Some("ukraine".into()) }
        ),
        other => panic!("expected the store's validation error, got {other:?}"),
    }
    // A line that does not parse has no store error.
    let err = claimgraph::jsonl::import(&store, "{not json\n".as_bytes(), "bad.jsonl").unwrap_err();
    assert!(err.store_error.is_none());
}

#[test]
fn the_index_cache_size_is_an_option() {
    let dir = tempfile::tempdir().unwrap();
    let options =
        claimgraph::Options { create: true, index_cache_bytes: Some(1 << 20), ..Default::default() };
    let store = Store::open_with(dir.path(), options).unwrap();
    store
        .transact("a", |tx| {
            tx.entity("us", "Country", "United States");
        })
        .unwrap();
    assert_eq!(store.snapshot().entity("us").unwrap().unwrap().name, "United States");
}

#[test]
fn a_query_as_of_before_an_entity_existed_answers_as_of_then() {
    let store = news_store();
    let before = store.head();
    let mut session = Session::new(store.clone());
    session
        .run_script(
            "CREATE ENTITY ukraine :Country {name: 'Ukraine'}; ASSERT (@russia)-[:borders]->(@ukraine);",
        )
        .unwrap();
    let q = format!("MATCH (a)-[c]->(@ukraine) RETURN c.id AS OF TX {before}");
    assert!(store.query(&q).unwrap().rows.is_empty());
    assert_eq!(store.query("MATCH (a)-[c]->(@ukraine) RETURN c.id").unwrap().rows.len(), 1);
    // HISTORY at the session's AS OF: nothing yet, rather than an error.
    session.as_of = Some(claimgraph::query::AsOf::Tx(before));
    assert!(session.execute("HISTORY @ukraine").unwrap().rows.is_empty());
    session.as_of = None;
    assert_eq!(session.execute("HISTORY @ukraine").unwrap().rows.len(), 2);
    // Never declared: still an error with a suggestion.
    let err = store.query(&format!("MATCH (a)-[c]->(@ukrain) RETURN c.id AS OF TX {before}")).unwrap_err();
    assert!(
        matches!(err, QueryError::UnknownEntity { suggestion: Some(ref s), .. } if s == "ukraine"),
        "{err:?}"
    );
}

#[test]
fn an_entity_parameter_compared_with_a_string_is_an_error_not_zero_rows() {
    let store = news_store();
    let us = store.query("MATCH (a) WHERE a.key = 'us' RETURN a").unwrap().iter().next().unwrap();
    let entity: EntityRef = us.get(0).unwrap();
    let q = store.prepare("MATCH (a)-[c]->(b) WHERE a.key = $who RETURN c.id").unwrap();
    let err = q.run(&store, &params! { "who" => entity.clone() }).unwrap_err();
    assert!(err.to_string().contains("`$who` holds an entity, compared here with a string"), "{err}");
    // Compared with a node, or passed as its key, it answers.
    let by_node = store.prepare("MATCH (a)-[c]->(b) WHERE a = $who RETURN c.id").unwrap();
    assert_eq!(by_node.run(&store, &params! { "who" => entity }).unwrap().rows.len(), 1);
    assert_eq!(q.run(&store, &params! { "who" => "us" }).unwrap().rows.len(), 1);
}

/// The news pipeline of issue 14, end to end through the documented API:
/// a document and claims from it, a valid-time question, a duplicate entity
/// merged and split again, readers on other threads while it writes, a
/// verified store, and a JSON Lines copy that reads the same.
#[test]
fn a_news_pipeline_end_to_end() {
    use claimgraph::model::{DocumentEvent, Stance, ValidTime};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path().join("news")).unwrap();
    let first = store
        .transact("pipeline", |tx| {
            tx.message("cls 2025-03-04");
            tx.entity("us", "Country", "United States");
            tx.entity("russia", "Country", "Russia");
            tx.entity("usa", "Country", "USA");
            tx.predicate("may_ease_sanctions_on", false, None);
            tx.document(DocumentEvent {
                key: "cls".into(),
                title: Some("US may ease sanctions".into()),
                published: Some("2025-03-04".parse().unwrap()),
                ..DocumentEvent::default()
            });
            let c = tx.assert("us", "may_ease_sanctions_on", Term::Entity("russia".into()));
            c.source = Some("cls".into());
            c.stance = Stance::Suggests;
            c.valid = ValidTime::during("2025-03".parse().unwrap());
            let d = tx.assert("usa", "may_ease_sanctions_on", Term::Entity("russia".into()));
            d.valid = ValidTime::during("2025-06".parse().unwrap());
        })
        .unwrap();
    // Readers on other threads see whole transactions while the writer goes on.
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || {
                for _ in 0..20 {
                    let view = store.snapshot();
                    let n = view.claims(&claimgraph::ClaimQuery::default()).unwrap().len();
                    assert_eq!(n, 2, "a reader at tx {} saw {n} claims", view.at());
                }
            })
        })
        .collect();
    store
        .transact("pipeline", |tx| {
            tx.merge("usa", "us");
        })
        .unwrap();
    for r in readers {
        r.join().unwrap();
    }
    let q = store
        .prepare(
            "MATCH (a)-[c:may_ease_sanctions_on]->(@russia) RETURN c.id, a.key ORDER BY c.id VALID AT $d",
        )
        .unwrap();
    let march = q.run(&store, &params! { "d" => "2025-03-15".parse::<Date>().unwrap() }).unwrap();
    assert_eq!(march.iter().map(|r| r.get::<String>(0).unwrap()).collect::<Vec<_>>(), ["c1"]);
    // Merged: both claims are about the United States now; split, as before.
    let all = store.prepare("MATCH (@us)-[c:may_ease_sanctions_on]->(o) RETURN c.id").unwrap();
    assert_eq!(all.run(&store, &params! {}).unwrap().rows.len(), 2);
    store
        .transact("pipeline", |tx| {
            tx.unmerge("usa");
        })
        .unwrap();
    assert_eq!(all.run(&store, &params! {}).unwrap().rows.len(), 1);
    assert_eq!(store.snapshot_at(first.tx).entity("usa").unwrap().unwrap().name, "USA");
    assert!(store.verify().unwrap().ok());
    // A JSON Lines copy reads the same.
    let mut lines = Vec::new();
    claimgraph::jsonl::export(&store, None, &mut lines).unwrap();
    let copy = Store::temporary().unwrap();
    claimgraph::jsonl::import(&copy, lines.as_slice(), "copy.jsonl").unwrap();
    assert_eq!(copy.head(), store.head());
    assert_eq!(copy.snapshot().stats().unwrap(), store.snapshot().stats().unwrap());
    assert_eq!(all.run(&copy, &params! {}).unwrap().rows, all.run(&store, &params! {}).unwrap().rows);
}

#[test]
fn an_open_may_wait_for_the_holder_to_close() {
    let dir = tempfile::tempdir().unwrap();
    let holder = Store::create(dir.path()).unwrap();
    // By default an open gives up fast.
    assert!(matches!(Store::open(dir.path()), Err(StoreError::Locked { .. })));
    // Told to wait, it takes the store once the holder closes it.
    let closer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        holder.close().unwrap();
    });
    let patient =
        claimgraph::Options { lock_wait: Some(std::time::Duration::from_secs(60)), ..Default::default() };
    let store = Store::open_with(dir.path(), patient).expect("the open waited for the holder");
    closer.join().unwrap();
    assert_eq!(store.head(), 0);
}

#[test]
fn verify_runs_beside_a_stream_of_commits_and_finds_nothing_wrong() {
    let store = news_store();
    for i in 0..200 {
        store
            .transact("feed", |tx| {
                for j in 0..5 {
                    tx.assert("russia", "borders", Term::Int(i * 10 + j));
                }
            })
            .unwrap();
    }
    let before = store.verify().unwrap();
    assert!(before.ok(), "before any concurrent commit: {:?}", before.problems);
    let verifier = {
        let store = store.clone();
        std::thread::spawn(move || store.verify().unwrap())
    };
    // Commit until verify is done: every comparison it makes must still see
    // the live index equal to a rebuild, whatever landed meanwhile.
    let mut committed = 0;
    while !verifier.is_finished() {
        store
            .transact("feed", |tx| {
                tx.assert("russia", "borders", Term::String(format!("town {committed}")));
            })
            .unwrap();
        committed += 1;
    }
    let report = verifier.join().unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert!(report.transactions >= 205, "{}", report.transactions);
    assert!(store.verify().unwrap().ok());
}
