//! Integration tests of the public API: each event type, retraction, merges
//! before/after/undone, AS OF TX and AS OF timestamp, VALID filters, reopening,
//! rejected transactions leaving no trace, and the JSONL round trip.

mod common;
use common::*;

use claimgraph::jsonl;
use claimgraph::model::{
    Attrs, Claim, Date, DayRange, DocumentEvent, DocumentInfo, Entity, EntityEvent, Event, Predicate,
    PredicateEvent, Stance, Term, Timestamp, ValidTime,
};
use claimgraph::{ClaimQuery, ReadView, Stats, Store, StoreError, Transaction};

fn d(text: &str) -> Date {
    text.parse().expect("a valid date")
}

fn ts(text: &str) -> Timestamp {
    text.parse().expect("a valid timestamp")
}

fn ent(key: &str) -> Term {
    Term::Entity(key.to_string())
}

fn subject(key: &str) -> ClaimQuery {
    ClaimQuery { subject: Some(key.to_string()), ..ClaimQuery::default() }
}

fn object(term: Term) -> ClaimQuery {
    ClaimQuery { object: Some(term), ..ClaimQuery::default() }
}

/// The ids of the claims a query returns, in order.
fn ids(view: &ReadView, q: &ClaimQuery) -> Vec<String> {
    view.claims(q).expect("query").into_iter().map(|c| c.id).collect()
}

fn key_of(view: &ReadView, text: &str) -> Option<String> {
    view.entity(text).expect("lookup").map(|e| e.key)
}

fn commit_events(store: &Store, events: Vec<Event>) -> Result<u64, StoreError> {
    let mut tx = Transaction::new("tester");
    tx.events = events;
    store.commit(tx).map(|r| r.tx)
}

fn export(store: &Store) -> Vec<u8> {
    let mut out = Vec::new();
    jsonl::export(store, None, &mut out).expect("export");
    out
}

fn head_hash(store: &Store) -> Option<String> {
    let view = store.snapshot();
    view.transaction(view.at()).expect("tx meta").map(|m| m.hash.to_string())
}

/// A store touched by every event type: entities, a document, predicates,
/// assertions with qualifiers, a retraction, a merge and an unmerge.
fn populate(store: &Store) {
    store
        .transact("analyst", |tx| {
            tx.message("declare");
            tx.recorded_at = Some(ts("2025-03-04T09:00:00Z"));
            tx.entity("us", "Country", "United States").aliases = Some(vec!["U.S.".into(), "USA".into()]);
            tx.entity("russia", "Country", "Russia");
            tx.entity("trump", "Person", "Trump");
            tx.entity("donald_trump", "Person", "Donald Trump").attrs =
                Some(Attrs::from([("born".to_string(), Term::Date(d("1946-06-14")))]));
            tx.entity("media_reports", "Source", "Media reports");
            tx.document(DocumentEvent {
                key: "cls_2025_03_04".into(),
                title: Some("US may ease sanctions on Russia".into()),
                publisher: Some("Cailian News".into()),
                published: Some(d("2025-03-04")),
                url: None,
                language: Some("en".into()),
                text: Some("As U.S. President Trump seeks …".into()),
            });
            tx.predicate("president_of", true, Some("holds the office of"));
        })
        .expect("declare");
    store
        .transact("analyst", |tx| {
            tx.recorded_at = Some(ts("2025-03-04T09:05:00Z"));
            let a = tx.assert("us", "may_ease_sanctions_on", ent("russia"));
            a.by = Some("media_reports".into());
            a.source = Some("cls_2025_03_04".into());
            a.valid = ValidTime::during(d("2025-03"));
            a.stance = Stance::Suggests;
            a.confidence = Some(0.7);
            a.quote = Some("the United States may relax sanctions on Russia".into());
            a.qualifiers = Attrs::from([
                ("hedge".to_string(), Term::String("may".into())),
                ("citing".to_string(), ent("media_reports")),
            ]);
            let b = tx.assert("trump", "president_of", ent("us"));
            b.valid = ValidTime { from: Some(d("2025-01-20")), to: None };
            tx.assert("russia", "gdp_growth", Term::Float(0.5));
        })
        .expect("assert");
    store
        .transact("editor", |tx| {
            tx.recorded_at = Some(ts("2025-03-05T08:00:00Z"));
            tx.retract("c3", "wrong figure");
            tx.merge("trump", "donald_trump");
        })
        .expect("retract and merge");
    store
        .transact("editor", |tx| {
            tx.recorded_at = Some(ts("2025-03-06T08:00:00Z"));
            tx.unmerge("trump");
            tx.assert("russia", "population", Term::Int(143_000_000));
        })
        .expect("unmerge");
}

#[test]
fn entity_declare_then_update_replaces_only_given_fields() {
    let store = Store::temporary_with(first_use()).unwrap();
    let first = store
        .transact("a", |tx| {
            let e = tx.entity("US", "Country", "United States");
            e.aliases = Some(vec!["U.S.".into(), "USA".into()]);
            e.attrs = Some(Attrs::from([("capital".to_string(), Term::String("Washington".into()))]));
        })
        .unwrap()
        .tx;
    let declared = Entity {
        key: "us".into(),
        kind: "Country".into(),
        name: "United States".into(),
        aliases: vec!["U.S.".into(), "USA".into()],
        attrs: Attrs::from([("capital".to_string(), Term::String("Washington".into()))]),
        document: None,
    };
    let view = store.snapshot();
    assert_eq!(view.entity("us").unwrap(), Some(declared.clone()));
    for text in ["US", "usa", "u.s.", "  United States "] {
        assert_eq!(key_of(&view, text).as_deref(), Some("us"), "{text}");
    }

    // Only the name is given: kind, aliases and attributes stay.
    let renamed = commit_events(
        &store,
        vec![Event::Entity(EntityEvent {
            key: "us".into(),
            name: Some("America".into()),
            ..EntityEvent::default()
        })],
    )
    .unwrap();
    let view = store.snapshot();
    let us = view.entity("us").unwrap().unwrap();
    assert_eq!(us, Entity { name: "America".into(), ..declared.clone() });
    assert_eq!(key_of(&view, "america").as_deref(), Some("us"));
    assert_eq!(key_of(&view, "United States"), None);
    assert_eq!(key_of(&view, "USA").as_deref(), Some("us"));

    // Aliases and attributes given: they replace the old ones whole.
    commit_events(
        &store,
        vec![Event::Entity(EntityEvent {
            key: "us".into(),
            kind: Some("State".into()),
            aliases: Some(vec!["US of A".into()]),
            attrs: Some(Attrs::new()),
            ..EntityEvent::default()
        })],
    )
    .unwrap();
    let view = store.snapshot();
    assert_eq!(
        view.entity("us").unwrap().unwrap(),
        Entity {
            key: "us".into(),
            kind: "State".into(),
            name: "America".into(),
            aliases: vec!["US of A".into()],
            attrs: Attrs::new(),
            document: None,
        }
    );
    assert_eq!(key_of(&view, "USA"), None);
    assert_eq!(key_of(&view, "us of a").as_deref(), Some("us"));

    // Earlier states stay readable as of their transactions.
    assert_eq!(store.snapshot_at(first).entity("us").unwrap(), Some(declared));
    assert_eq!(key_of(&store.snapshot_at(first), "America"), None);
    assert_eq!(store.snapshot_at(renamed).entity("usa").unwrap().unwrap().name, "America");
    assert_eq!(store.snapshot_at(0).entity("us").unwrap(), None);

    // An entity with no kind or name given gets the defaults.
    commit_events(&store, vec![Event::Entity(EntityEvent { key: "bare".into(), ..EntityEvent::default() })])
        .unwrap();
    assert_eq!(store.snapshot().entity("bare").unwrap(), Some(Entity::new("bare")));

    let history = store.snapshot().history("us").unwrap();
    let ops: Vec<(u64, &str)> = history.iter().map(|h| (h.tx, h.op)).collect();
    assert_eq!(ops, vec![(1, "entity"), (2, "entity"), (3, "entity")]);
    assert_eq!(history[0].author, "a");
}

#[test]
fn document_event_declares_a_document_and_defaults_said_at() {
    let store = Store::temporary_with(first_use()).unwrap();
    let doc = DocumentEvent {
        key: "cls_2025_03_04".into(),
        title: Some("US may ease sanctions on Russia".into()),
        publisher: Some("Cailian News".into()),
        published: Some(d("2025-03-04")),
        url: Some("https://example.org/cls".into()),
        language: Some("en".into()),
        text: Some("Full text.".into()),
    };
    store
        .transact("a", |tx| {
            tx.document(doc.clone());
            tx.entity("us", "Country", "United States");
            tx.entity("russia", "Country", "Russia");
            let a = tx.assert("us", "may_ease_sanctions_on", ent("russia"));
            a.source = Some("CLS_2025_03_04".into());
            let b = tx.assert("us", "talks_with", ent("russia"));
            b.source = Some("cls_2025_03_04".into());
            b.said_at = Some(d("2025-03"));
            tx.assert("us", "talks_with", ent("russia"));
        })
        .unwrap();
    let view = store.snapshot();
    let info = DocumentInfo {
        title: doc.title.clone(),
        publisher: doc.publisher.clone(),
        published: doc.published,
        url: doc.url.clone(),
        language: doc.language.clone(),
        text: doc.text.clone(),
    };
    let e = view.entity("cls_2025_03_04").unwrap().unwrap();
    assert_eq!(e.kind, "Document");
    assert_eq!(e.name, "US may ease sanctions on Russia");
    assert_eq!(e.document.as_ref(), Some(&info));
    assert_eq!(key_of(&view, "us may ease sanctions on russia").as_deref(), Some("cls_2025_03_04"));
    assert_eq!(view.stats().unwrap().documents, 1);
    assert_eq!(view.stats().unwrap().entities, 2);

    let q = ClaimQuery { source: Some("cls_2025_03_04".into()), ..ClaimQuery::default() };
    let claims = view.claims(&q).unwrap();
    assert_eq!(claims.len(), 2);
    assert_eq!(claims[0].source.as_deref(), Some("cls_2025_03_04"));
    assert_eq!(claims[0].said_at, Some(d("2025-03-04")), "defaults to published");
    assert_eq!(claims[1].said_at, Some(d("2025-03")), "given said_at kept");
    assert_eq!(view.claim("c3").unwrap().unwrap().said_at, None, "no source");

    // A document update replaces only the given fields.
    commit_events(
        &store,
        vec![Event::Document(DocumentEvent {
            key: "cls_2025_03_04".into(),
            text: Some("Corrected text.".into()),
            ..DocumentEvent::default()
        })],
    )
    .unwrap();
    let e = store.snapshot().entity("cls_2025_03_04").unwrap().unwrap();
    assert_eq!(e.document, Some(DocumentInfo { text: Some("Corrected text.".into()), ..info }));
    assert_eq!(e.name, "US may ease sanctions on Russia");

    // Only a document can be a source.
    let err = store
        .transact("a", |tx| {
            tx.assert("us", "talks_with", ent("russia")).source = Some("us".into());
        })
        .unwrap_err();
    assert!(err.to_string().contains("is not a document"), "{err}");
}

#[test]
fn predicates_are_declared_explicitly_or_on_first_use() {
    let store = Store::temporary_with(first_use()).unwrap();
    store
        .transact("a", |tx| {
            tx.predicate("president_of", true, Some("holds the office of"));
            tx.entity("trump", "Person", "Trump");
            tx.entity("us", "Country", "United States");
            tx.assert("trump", "met_with", ent("us"));
        })
        .unwrap();
    let mut preds = store.snapshot().predicates().unwrap();
    preds.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(
        preds,
        vec![
            Predicate { key: "met_with".into(), description: None, functional: false },
            Predicate {
                key: "president_of".into(),
                description: Some("holds the office of".into()),
                functional: true,
            },
        ]
    );
    // An update with only a description keeps `functional`.
    commit_events(
        &store,
        vec![Event::Predicate(PredicateEvent {
            key: "president_of".into(),
            description: Some("is the president of".into()),
            functional: None,
        })],
    )
    .unwrap();
    let view = store.snapshot();
    let p = view.predicates().unwrap().into_iter().find(|p| p.key == "president_of").unwrap();
    assert!(p.functional);
    assert_eq!(p.description.as_deref(), Some("is the president of"));
    assert_eq!(view.stats().unwrap().predicates, 2);
    assert_eq!(store.snapshot_at(0).predicates().unwrap(), Vec::new());
    let err = commit_events(
        &store,
        vec![Event::Predicate(PredicateEvent { key: "PresidentOf".into(), ..PredicateEvent::default() })],
    )
    .unwrap_err();
    assert!(err.to_string().contains("snake_case"), "{err}");
}

#[test]
fn assert_keeps_every_field_and_qualifier_kind() {
    let store = Store::temporary_with(first_use()).unwrap();
    store
        .transact("a", |tx| {
            tx.entity("us", "Country", "United States");
            tx.entity("russia", "Country", "Russia");
            tx.entity("trump", "Person", "Trump");
            tx.entity("donald_trump", "Person", "Donald Trump");
            tx.entity("media_reports", "Source", "Media reports");
            tx.document(DocumentEvent {
                key: "doc".into(),
                published: Some(d("2025-03-04")),
                ..DocumentEvent::default()
            });
            tx.merge("trump", "donald_trump");
        })
        .unwrap();
    let qualifiers = |via: &str| {
        Attrs::from([
            ("via".to_string(), ent(via)),
            ("hedge".to_string(), Term::String("may".into())),
            ("count".to_string(), Term::Int(-3)),
            ("weight".to_string(), Term::Float(0.25)),
            ("confirmed".to_string(), Term::Bool(false)),
            ("year".to_string(), Term::Date(d("2025"))),
            ("month".to_string(), Term::Date(d("2025-03"))),
            ("day".to_string(), Term::Date(d("2025-03-04"))),
        ])
    };
    let receipt = store
        .transact("a", |tx| {
            let a = tx.assert("US", "may_ease_sanctions_on", ent("Russia"));
            a.claim = Some("main".into());
            a.by = Some("media_reports".into());
            a.source = Some("doc".into());
            a.valid = ValidTime { from: Some(d("2025-03")), to: Some(d("2025-06-30")) };
            a.said_at = Some(d("2025-03-03"));
            a.stance = Stance::Suggests;
            a.confidence = Some(0.6);
            a.quote = Some("the United States may relax sanctions".into());
            a.qualifiers = qualifiers("TRUMP");
            // A literal object of each type.
            tx.assert("russia", "name_is", Term::String("russia".into()));
            tx.assert("russia", "rank", Term::Int(3));
            tx.assert("russia", "rank", Term::Float(3.0));
            tx.assert("russia", "flag", Term::Bool(true));
            tx.assert("russia", "founded", Term::Date(d("1991")));
            tx.assert("russia", "founded", Term::Date(d("1991-12")));
            tx.assert("russia", "founded", Term::Date(d("1991-12-25")));
            tx.assert("russia", "denies", ent("us")).stance = Stance::Denies;
        })
        .unwrap();
    assert_eq!(receipt.tx, 2);
    assert_eq!(receipt.claim_ids, vec!["main", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"]);
    let view = store.snapshot();
    let want = Claim {
        id: "main".into(),
        s: "us".into(),
        p: "may_ease_sanctions_on".into(),
        o: ent("russia"),
        by: Some("media_reports".into()),
        source: Some("doc".into()),
        valid: ValidTime { from: Some(d("2025-03")), to: Some(d("2025-06-30")) },
        said_at: Some(d("2025-03-03")),
        stance: Stance::Suggests,
        confidence: Some(0.6),
        quote: Some("the United States may relax sanctions".into()),
        // Keys fold to lower case and merged keys resolve to the canonical entity.
        qualifiers: qualifiers("donald_trump"),
        tx: 2,
        retracted_tx: None,
        retract_reason: None,
    };
    assert_eq!(view.claim("main").unwrap(), Some(want.clone()));
    assert_eq!(view.claims(&subject("us")).unwrap(), vec![want.clone()]);
    let by = ClaimQuery { by: Some("media_reports".into()), ..ClaimQuery::default() };
    assert_eq!(view.claims(&by).unwrap(), vec![want]);

    // Literal objects match by type and value (and date precision).
    let cases = [
        (Term::String("russia".into()), vec!["c2"]),
        (ent("russia"), vec!["main"]),
        (Term::Int(3), vec!["c3"]),
        (Term::Float(3.0), vec!["c4"]),
        (Term::Bool(true), vec!["c5"]),
        (Term::Bool(false), vec![]),
        (Term::Date(d("1991")), vec!["c6"]),
        (Term::Date(d("1991-12")), vec!["c7"]),
        (Term::Date(d("1991-12-25")), vec!["c8"]),
        (Term::Date(d("1991-01")), vec![]),
        (Term::String("never seen".into()), vec![]),
    ];
    for (term, want) in cases {
        assert_eq!(ids(&view, &object(term.clone())), want, "{term}");
    }
    let denied = view.claim("c9").unwrap().unwrap();
    assert_eq!(denied.stance, Stance::Denies);
    let rank = ClaimQuery {
        subject: Some("russia".into()),
        predicate: Some("rank".into()),
        ..ClaimQuery::default()
    };
    assert_eq!(ids(&view, &rank), vec!["c3", "c4"]);
}

#[test]
fn retraction_hides_a_claim_from_then_on_only() {
    let store = Store::temporary_with(first_use()).unwrap();
    store
        .transact("a", |tx| {
            tx.entity("us", "Country", "United States");
            tx.entity("russia", "Country", "Russia");
        })
        .unwrap();
    store
        .transact("a", |tx| {
            tx.assert("us", "sanctions", ent("russia"));
            tx.assert("us", "talks_with", ent("russia"));
        })
        .unwrap();
    let retracted = store
        .transact("b", |tx| {
            tx.retract("c1", "misread the article");
        })
        .unwrap()
        .tx;
    assert_eq!(retracted, 3);
    let now = store.snapshot();
    assert_eq!(ids(&now, &subject("us")), vec!["c2"]);
    let all = ClaimQuery { include_retracted: true, ..subject("us") };
    let with_retracted = now.claims(&all).unwrap();
    assert_eq!(with_retracted.len(), 2);
    assert_eq!(with_retracted[0].retracted_tx, Some(3));
    assert_eq!(with_retracted[0].retract_reason.as_deref(), Some("misread the article"));
    assert_eq!(now.claim("c1").unwrap().unwrap().retracted_tx, Some(3));
    let stats = now.stats().unwrap();
    assert_eq!((stats.claims_live, stats.claims_retracted), (1, 1));

    // As of the earlier transaction, it is live and shows no retraction.
    let before = store.snapshot_at(2);
    let claims = before.claims(&subject("us")).unwrap();
    assert_eq!(claims.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["c1", "c2"]);
    assert_eq!(claims[0].retracted_tx, None);
    assert_eq!(claims[0].retract_reason, None);
    assert_eq!(before.claims(&all).unwrap(), claims);
    let stats = before.stats().unwrap();
    assert_eq!((stats.claims_live, stats.claims_retracted), (2, 0));
    assert_eq!(store.snapshot_at(1).claim("c1").unwrap(), None);

    // Only live claims can be retracted.
    let err = store
        .transact("b", |tx| {
            tx.retract("c1", "again");
        })
        .unwrap_err();
    assert_eq!(err.to_string(), "event 1 (retract): claim `c1` is already retracted (tx 3)");

    // Asserted and retracted in one transaction: never live.
    store
        .transact("b", |tx| {
            tx.assert("russia", "talks_with", ent("us"));
            tx.retract("c3", "typo");
        })
        .unwrap();
    let view = store.snapshot();
    assert_eq!(ids(&view, &subject("russia")), Vec::<String>::new());
    let all = ClaimQuery { include_retracted: true, ..subject("russia") };
    assert_eq!(ids(&view, &all), vec!["c3"]);
    assert!(store.verify().unwrap().ok());
}

#[test]
fn merge_moves_claims_to_the_survivor_from_its_tx_and_unmerge_moves_them_back() {
    let store = Store::temporary_with(first_use()).unwrap();
    store
        .transact("a", |tx| {
            tx.entity("trump", "Person", "Trump").aliases = Some(vec!["The Donald".into()]);
            tx.entity("donald_trump", "Person", "Donald Trump");
            tx.entity("us", "Country", "United States");
        })
        .unwrap();
    store
        .transact("a", |tx| {
            tx.assert("trump", "president_of", ent("us")).claim = Some("a".into());
            tx.assert("donald_trump", "met_with", ent("us")).claim = Some("b".into());
            tx.assert("us", "elected", ent("trump")).claim = Some("c".into());
        })
        .unwrap();
    let merged =
        commit_events(&store, vec![Event::Merge { from: "Trump".into(), into: "donald_trump".into() }])
            .unwrap();
    assert_eq!(merged, 3);
    store
        .transact("a", |tx| {
            tx.assert("trump", "visited", ent("us")).claim = Some("d".into());
        })
        .unwrap();
    let unmerged = store
        .transact("a", |tx| {
            tx.unmerge("trump");
        })
        .unwrap()
        .tx;
    assert_eq!(unmerged, 5);

    // Before the merge: separate entities.
    let v = store.snapshot_at(2);
    assert_eq!(ids(&v, &subject("donald_trump")), vec!["b"]);
    assert_eq!(ids(&v, &subject("trump")), vec!["a"]);
    assert_eq!(ids(&v, &object(ent("donald_trump"))), Vec::<String>::new());
    assert_eq!(key_of(&v, "trump").as_deref(), Some("trump"));
    assert_eq!(key_of(&v, "the donald").as_deref(), Some("trump"));

    // After it: reads about either reach both; keys and aliases resolve to the survivor.
    let v = store.snapshot_at(3);
    assert_eq!(ids(&v, &subject("donald_trump")), vec!["a", "b"]);
    assert_eq!(ids(&v, &subject("trump")), vec!["a", "b"]);
    assert_eq!(ids(&v, &object(ent("donald_trump"))), vec!["c"]);
    assert_eq!(key_of(&v, "trump").as_deref(), Some("donald_trump"));
    assert_eq!(key_of(&v, "The Donald").as_deref(), Some("donald_trump"));
    assert_eq!(v.claim("a").unwrap().unwrap().s, "trump", "claims keep their entity");
    assert_eq!(v.stats().unwrap().entities, 3, "a merged entity still counts");

    // A claim made about the merged key while merged is about the survivor.
    let v = store.snapshot_at(4);
    assert_eq!(v.claim("d").unwrap().unwrap().s, "donald_trump");
    assert_eq!(ids(&v, &subject("trump")), vec!["a", "b", "d"]);

    // After the unmerge: every claim is back on the entity it was asserted about.
    let v = store.snapshot();
    assert_eq!(ids(&v, &subject("donald_trump")), vec!["b", "d"]);
    assert_eq!(ids(&v, &subject("trump")), vec!["a"]);
    assert_eq!(ids(&v, &object(ent("trump"))), vec!["c"]);
    assert_eq!(ids(&v, &object(ent("donald_trump"))), Vec::<String>::new());
    assert_eq!(key_of(&v, "the donald").as_deref(), Some("trump"));
    // ...while the merged past stays readable.
    assert_eq!(ids(&store.snapshot_at(4), &subject("trump")), vec!["a", "b", "d"]);

    let history = v.history("donald_trump").unwrap();
    let merges: Vec<(u64, &str)> =
        history.iter().filter(|h| h.op == "merge" || h.op == "unmerge").map(|h| (h.tx, h.op)).collect();
    assert_eq!(merges, vec![(3, "merge"), (5, "unmerge")]);

    // Transitive merges, cycles, self-merges and double merges.
    store
        .transact("a", |tx| {
            tx.entity("potus", "Office", "POTUS");
            tx.merge("trump", "donald_trump");
            tx.merge("donald_trump", "potus");
        })
        .unwrap();
    let v = store.snapshot();
    assert_eq!(ids(&v, &subject("potus")), vec!["a", "b", "d"]);
    assert_eq!(ids(&v, &subject("trump")), vec!["a", "b", "d"]);
    assert_eq!(key_of(&v, "trump").as_deref(), Some("potus"));
    for (events, message) in [
        (
            vec![Event::Merge { from: "potus".into(), into: "trump".into() }],
            "event 1 (merge): merging `potus` into `trump` would make a cycle",
        ),
        (
            vec![Event::Merge { from: "us".into(), into: "US".into() }],
            "event 1 (merge): cannot merge `us` into itself",
        ),
        (
            vec![Event::Merge { from: "trump".into(), into: "us".into() }],
            "event 1 (merge): `trump` is already merged into `donald_trump`; unmerge it first",
        ),
        (vec![Event::Unmerge { entity: "us".into() }], "event 1 (unmerge): `us` is not merged into anything"),
    ] {
        let err = commit_events(&store, events).unwrap_err();
        assert_eq!(err.to_string(), message);
    }
    // Unmerging the middle link leaves the first merge standing.
    store
        .transact("a", |tx| {
            tx.unmerge("donald_trump");
        })
        .unwrap();
    let v = store.snapshot();
    assert_eq!(ids(&v, &subject("potus")), Vec::<String>::new());
    assert_eq!(ids(&v, &subject("trump")), vec!["a", "b", "d"]);
    assert_eq!(key_of(&v, "trump").as_deref(), Some("donald_trump"));
    assert!(store.verify().unwrap().ok());
}

#[test]
fn as_of_tx_and_as_of_timestamp() {
    let store = Store::temporary_with(first_use()).unwrap();
    let times =
        ["2025-03-04T09:00:00Z", "2025-03-04T09:05:00Z", "2025-03-04T09:05:00Z", "2025-03-04T10:00:00.5Z"];
    for (i, t) in times.iter().enumerate() {
        let mut tx = Transaction::new("a");
        tx.recorded_at = Some(ts(t));
        tx.push(Event::Entity(EntityEvent { key: format!("e{i}"), ..EntityEvent::default() }));
        let r = store.commit(tx).unwrap();
        assert_eq!((r.tx, r.recorded_at), (i as u64 + 1, ts(t)));
    }
    let cases = [
        ("2025-03-04T08:59:59.999999Z", 0),
        ("2025-03-04T09:00:00Z", 1),
        ("2025-03-04T09:04:59Z", 1),
        ("2025-03-04T09:05:00Z", 3),
        ("2025-03-04T10:00:00Z", 3),
        ("2025-03-04T10:00:00.5Z", 4),
        ("2030-01-01T00:00:00Z", 4),
        ("2025-03-04T11:30:00+02:00", 3),
    ];
    for (t, want) in cases {
        assert_eq!(store.tx_at_time(ts(t)).unwrap(), want, "{t}");
    }
    // AS OF <timestamp> is AS OF TX of the resolved transaction.
    let at = store.tx_at_time(ts("2025-03-04T09:30:00Z")).unwrap();
    let view = store.snapshot_at(at);
    assert_eq!(view.at(), 3);
    assert_eq!(view.stats().unwrap().entities, 3);
    assert!(view.entity("e3").unwrap().is_none());
    assert!(store.snapshot().entity("e3").unwrap().is_some());
    assert_eq!(store.snapshot_at(0).stats().unwrap(), Stats::default());
    assert_eq!(store.snapshot_at(99).at(), 4, "clamped to the head");
    // A view only sees transactions up to its own.
    let t = ts("2030-01-01T00:00:00Z");
    assert_eq!(store.snapshot_at(2).tx_at_time(t).unwrap(), 2);
    let meta = view.transaction(2).unwrap().unwrap();
    assert_eq!((meta.tx, meta.recorded_at), (2, ts(times[1])));
    assert_eq!(view.transaction(4).unwrap(), None);

    // Recorded-at never goes backwards; the clock takes over from the last one.
    let mut tx = Transaction::new("a");
    tx.recorded_at = Some(ts("2025-03-04T09:30:00Z"));
    tx.push(Event::Entity(EntityEvent { key: "late".into(), ..EntityEvent::default() }));
    let err = store.commit(tx).unwrap_err();
    assert!(matches!(err, StoreError::TimeGoesBackwards { tx: 5, .. }), "{err}");
    let r = store
        .transact("a", |tx| {
            tx.entity("now", "Thing", "Now");
        })
        .unwrap();
    assert_eq!(r.tx, 5);
    assert!(r.recorded_at >= ts(times[3]));
    assert_eq!(store.tx_at_time(r.recorded_at).unwrap(), 5);
}

#[test]
fn valid_time_filters_by_year_month_day_and_open_ends() {
    let store = Store::temporary_with(first_use()).unwrap();
    let claims = [
        ("y", ValidTime::during(d("2024"))),
        ("m", ValidTime::during(d("2025-02"))),
        ("dd", ValidTime::during(d("2025-03-15"))),
        ("open_from", ValidTime { from: Some(d("2025-06")), to: None }),
        ("open_to", ValidTime { from: None, to: Some(d("2023-12")) }),
        ("span", ValidTime { from: Some(d("2024-11")), to: Some(d("2025-01")) }),
        ("always", ValidTime::default()),
    ];
    store
        .transact("a", |tx| {
            tx.entity("x", "Thing", "X");
            tx.entity("y", "Thing", "Y");
            for (id, valid) in claims {
                let a = tx.assert("x", "holds", Term::Bool(true));
                a.claim = Some(id.into());
                a.valid = valid;
            }
            // `valid_from: 2025-01, valid_to: 2025-03` is January through March.
            let a = tx.assert("y", "holds", Term::Bool(true));
            a.claim = Some("q1".into());
            a.valid = ValidTime { from: Some(d("2025-01")), to: Some(d("2025-03")) };
        })
        .unwrap();
    let view = store.snapshot();
    let during = |text: &str| DayRange::of(d(text));
    let range = |from: Option<&str>, to: Option<&str>| ValidTime { from: from.map(d), to: to.map(d) }.days();
    let cases: Vec<(DayRange, Vec<&str>)> = vec![
        (during("2024"), vec!["y", "span", "always"]),
        (during("2023-12-31"), vec!["open_to", "always"]),
        (during("2024-01-01"), vec!["y", "always"]),
        (during("2025-01-31"), vec!["span", "always"]),
        (during("2025-02"), vec!["m", "always"]),
        (during("2025-02-28"), vec!["m", "always"]),
        (during("2025-03-01"), vec!["always"]),
        (during("2025-03-15"), vec!["dd", "always"]),
        (during("2025-03-16"), vec!["always"]),
        (during("2025-05-31"), vec!["always"]),
        (during("2025-06-01"), vec!["open_from", "always"]),
        (during("9999"), vec!["open_from", "always"]),
        (during("0001"), vec!["open_to", "always"]),
        (range(Some("2025-06-01"), None), vec!["open_from", "always"]),
        (range(None, Some("2023")), vec!["open_to", "always"]),
        (range(Some("2024-12"), Some("2025-03")), vec!["y", "m", "dd", "span", "always"]),
        (DayRange::ALL, vec!["y", "m", "dd", "open_from", "open_to", "span", "always"]),
    ];
    for (valid, want) in cases {
        let q = ClaimQuery { valid: Some(valid), ..subject("x") };
        assert_eq!(ids(&view, &q), want, "{valid}");
    }
    for (day, hit) in
        [("2024-12-31", false), ("2025-01-01", true), ("2025-03-31", true), ("2025-04-01", false)]
    {
        let q = ClaimQuery { valid: Some(during(day)), ..subject("y") };
        assert_eq!(!ids(&view, &q).is_empty(), hit, "{day}");
    }
    // The predicate-only and no-filter plans apply the valid filter too.
    let q = ClaimQuery {
        predicate: Some("holds".into()),
        valid: Some(during("2025-02")),
        ..ClaimQuery::default()
    };
    assert_eq!(ids(&view, &q), vec!["m", "always", "q1"]);
    let q = ClaimQuery { valid: Some(during("2025-03-15")), ..ClaimQuery::default() };
    assert_eq!(ids(&view, &q), vec!["dd", "always", "q1"]);

    let err = store
        .transact("a", |tx| {
            tx.assert("x", "holds", Term::Bool(true)).valid =
                ValidTime { from: Some(d("2025-03")), to: Some(d("2025-01")) };
        })
        .unwrap_err();
    assert_eq!(err.to_string(), "event 1 (assert): valid_from 2025-03 is after valid_to 2025-01");
}

/// Every answer a test might ask for, as of every transaction.
fn answers(store: &Store) -> Vec<String> {
    let mut out = Vec::new();
    for t in 0..=store.head() {
        let v = store.snapshot_at(t);
        out.push(format!("{t} {:?}", v.stats().unwrap()));
        let all = ClaimQuery { include_retracted: true, ..ClaimQuery::default() };
        out.push(format!("{:?}", v.claims(&all).unwrap()));
        for key in ["us", "russia", "trump", "donald_trump", "USA", "cls_2025_03_04"] {
            out.push(format!("{key} {:?}", v.entity(key).unwrap()));
            out.push(format!("{key} {:?}", v.claims(&subject(key)).map(|c| c.len())));
        }
    }
    out
}

#[test]
fn reopen_after_drop_gives_the_same_answers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let (before, bytes, hash) = {
        let store = create_first_use(&path).unwrap();
        populate(&store);
        let copy = store.clone();
        drop(store);
        (answers(&copy), export(&copy), head_hash(&copy))
    };
    let store = Store::open(&path).unwrap();
    assert_eq!(store.head(), 4);
    assert_eq!(store.open_report().rebuilt, None);
    assert_eq!(answers(&store), before);
    assert_eq!(export(&store), bytes);
    assert_eq!(head_hash(&store), hash);
    // Writing goes on from the next tx, and recorded-at does not go backwards.
    let r = store
        .transact("a", |tx| {
            tx.retract("c1", "superseded");
        })
        .unwrap();
    assert_eq!(r.tx, 5);
    assert!(r.recorded_at >= ts("2025-03-06T08:00:00Z"));
    let after = answers(&store);
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(answers(&store), after);
    assert!(store.verify().unwrap().ok());
}

#[test]
fn opening_a_missing_store_is_not_found_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typo");
    match Store::open(&path) {
        Err(StoreError::NotFound { path: p }) => assert_eq!(p, path),
        Err(e) => panic!("expected NotFound, got {e}"),
        Ok(_) => panic!("a missing store opened"),
    }
    assert!(!path.exists(), "open must not create the directory");
    // An existing empty directory is not a store either.
    std::fs::create_dir(&path).unwrap();
    assert!(matches!(Store::open(&path), Err(StoreError::NotFound { .. })));
    assert_eq!(std::fs::read_dir(&path).unwrap().count(), 0, "nothing written into it");
    // Creation is explicit; after it, open finds the store.
    drop(create_first_use(&path).unwrap());
    assert!(Store::exists(&path));
    assert_eq!(Store::open(&path).unwrap().head(), 0);
}

#[test]
fn rejected_transactions_leave_no_trace() {
    let store = Store::temporary_with(first_use()).unwrap();
    store
        .transact("a", |tx| {
            tx.entity("us", "Country", "United States");
            tx.entity("russia", "Country", "Russia");
            tx.assert("us", "sanctions", ent("russia"));
        })
        .unwrap();
    let stats = store.snapshot().stats().unwrap();
    let bytes = export(&store);
    let before = answers(&store);
    // Each transaction starts with valid events, then breaks a rule.
    let valid_start = |tx: &mut Transaction| {
        tx.entity("newco", "Org", "New Co").aliases = Some(vec!["NC".into()]);
        tx.assert("newco", "owns", ent("us"));
        tx.predicate("brand_new", false, None);
    };
    let mut attempts: Vec<(Transaction, &str)> = Vec::new();
    let mut tx = Transaction::new("a");
    valid_start(&mut tx);
    tx.assert("rusia", "sanctions", ent("us"));
    attempts.push((tx, "event 4 (assert): unknown entity `@rusia`, did you mean `@russia`?"));
    let mut tx = Transaction::new("a");
    valid_start(&mut tx);
    tx.retract("c9", "no such claim");
    attempts.push((tx, "event 4 (retract): unknown claim `c9`"));
    let mut tx = Transaction::new("a");
    valid_start(&mut tx);
    tx.merge("newco", "newco");
    attempts.push((tx, "event 4 (merge): cannot merge `newco` into itself"));
    let mut tx = Transaction::new("a");
    valid_start(&mut tx);
    tx.assert("us", "sanctions", ent("russia")).confidence = Some(1.5);
    attempts.push((tx, "event 4 (assert): confidence 1.5 is outside 0..1"));
    let mut tx = Transaction::new("a");
    valid_start(&mut tx);
    tx.entity("bad key", "Org", "Bad");
    attempts.push((tx, "event 4 (entity): entity key `bad key` may only hold a-z, 0-9 and `_`, found ` `"));
    let mut tx = Transaction::new("a");
    valid_start(&mut tx);
    tx.assert("us", "sanctions", ent("russia")).claim = Some("c1".into());
    attempts.push((tx, "event 4 (assert): claim id `c1` is already taken"));
    attempts.push((Transaction::new("a"), "a transaction needs at least one event"));
    let mut tx = Transaction::new("a");
    valid_start(&mut tx);
    tx.expect_tx = Some(3);
    attempts.push((tx, "expected tx 2, but the transaction says tx 3"));
    let mut tx = Transaction::new("a");
    valid_start(&mut tx);
    tx.expect_hash = Some("00".repeat(32));
    attempts.push((tx, "tx 2: the given hash"));
    for (tx, message) in attempts {
        let err = store.commit(tx).unwrap_err();
        assert!(err.to_string().starts_with(message), "{err}");
        assert_eq!(store.head(), 1);
        assert_eq!(store.snapshot().stats().unwrap(), stats);
        let view = store.snapshot();
        assert_eq!(view.entity("newco").unwrap(), None);
        assert_eq!(view.entity("NC").unwrap(), None);
        assert_eq!(view.claim("c2").unwrap(), None);
        assert!(view.predicates().unwrap().iter().all(|p| p.key != "brand_new"));
        assert_eq!(answers(&store), before);
        assert_eq!(export(&store), bytes);
    }
    // A bulk commit stops at the bad transaction; the ones before it stay.
    let mut good = Transaction::new("a");
    good.entity("first", "Thing", "First");
    let mut bad = Transaction::new("a");
    bad.assert("nobody", "knows", Term::Int(1));
    let mut later = Transaction::new("a");
    later.entity("never", "Thing", "Never");
    let (receipts, err) = store.commit_batch(vec![good, bad, later]);
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0].tx, 2);
    let (pos, err) = err.expect("the bad transaction fails");
    assert_eq!(pos, 1);
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    assert_eq!(store.head(), 2);
    assert!(store.snapshot().entity("first").unwrap().is_some());
    assert!(store.snapshot().entity("never").unwrap().is_none());
    // The next commit gets the next tx number and the next claim id.
    let r = store
        .transact("a", |tx| {
            tx.assert("us", "talks_with", ent("russia"));
        })
        .unwrap();
    assert_eq!((r.tx, r.claim_ids), (3, vec!["c2".to_string()]));
    assert!(store.verify().unwrap().ok());
}

#[test]
fn jsonl_round_trip_is_byte_for_byte() {
    let store = Store::temporary_with(first_use()).unwrap();
    populate(&store);
    store
        .transact("a", |tx| {
            tx.message("literal objects");
            let a = tx.assert("us", "founded", Term::Date(d("1776-07-04")));
            a.qualifiers = Attrs::from([
                ("precision".to_string(), Term::Date(d("1776"))),
                ("month".to_string(), Term::Date(d("1776-07"))),
                ("verified".to_string(), Term::Bool(true)),
                ("count".to_string(), Term::Int(-1)),
                ("ratio".to_string(), Term::Float(1e-7)),
            ]);
            a.valid = ValidTime { from: Some(d("1776")), to: None };
        })
        .unwrap();
    let first = export(&store);
    assert_eq!(first.iter().filter(|&&b| b == b'\n').count(), 5);
    let copy = Store::temporary_with(first_use()).unwrap();
    let summary = jsonl::import(&copy, &first[..], "export.jsonl").unwrap();
    assert_eq!(summary.transactions, 5);
    let second = export(&copy);
    assert_eq!(String::from_utf8(second).unwrap(), String::from_utf8(first.clone()).unwrap());
    assert_eq!(head_hash(&copy), head_hash(&store));
    assert_eq!(answers(&copy), answers(&store));
    assert!(copy.verify().unwrap().ok());
    // Export as of a tx is a prefix of the full export.
    let mut partial = Vec::new();
    assert_eq!(jsonl::export(&store, Some(2), &mut partial).unwrap(), 2);
    let two_lines: Vec<&[u8]> = first.split_inclusive(|&b| b == b'\n').take(2).collect();
    assert_eq!(partial, two_lines.concat());
}

#[test]
fn sanctions_example_round_trips() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/sanctions.jsonl");
    let file = std::fs::read(path).unwrap();
    let store = Store::temporary_with(first_use()).unwrap();
    let summary = jsonl::import(&store, &file[..], "sanctions.jsonl").unwrap();
    assert_eq!(summary.transactions, store.head());
    assert!(store.head() > 1);
    let first = export(&store);
    let copy = Store::temporary_with(first_use()).unwrap();
    jsonl::import(&copy, &first[..], "export.jsonl").unwrap();
    let second = export(&copy);
    assert!(first == second, "export → import → export changed the bytes");
    assert_eq!(head_hash(&copy), head_hash(&store));
    assert_eq!(copy.snapshot().stats().unwrap(), store.snapshot().stats().unwrap());
    // Importing the original again with explicit tx numbers would clash.
    let err = jsonl::import(&copy, &first[..], "again.jsonl").unwrap_err();
    assert_eq!(err.line, 1);
    assert_eq!(copy.head(), store.head());
}

#[test]
fn posting_blocks_hold_many_claims_across_block_boundaries() {
    let store = Store::temporary_with(first_use()).unwrap();
    store
        .transact("a", |tx| {
            tx.entity("a", "Thing", "A");
            tx.entity("b", "Thing", "B");
        })
        .unwrap();
    // 600 claims: seqs cross the 256-posting block boundary twice.
    for chunk in 0..3i64 {
        store
            .transact("a", |tx| {
                for i in 0..200 {
                    let n = chunk * 200 + i;
                    let s = if n % 3 == 0 { "b" } else { "a" };
                    tx.assert(s, "counts", Term::Int(n)).valid =
                        ValidTime::during(d(&format!("{}", 2000 + n % 20)));
                }
            })
            .unwrap();
    }
    store
        .transact("a", |tx| {
            for seq in [1u64, 255, 256, 257, 511, 512, 513, 600] {
                tx.retract(&format!("c{seq}"), "sampled");
            }
        })
        .unwrap();
    let check = |store: &Store| {
        let v = store.snapshot();
        let a = v.claims(&subject("a")).unwrap();
        let b = v.claims(&subject("b")).unwrap();
        // Claim `c<seq>` is about `b` when (seq - 1) % 3 == 0: seqs 1, 256, 511.
        assert_eq!((a.len(), b.len()), (400 - 5, 200 - 3));
        assert!(a.iter().all(|c| c.s == "a") && b.iter().all(|c| c.s == "b"));
        // Assertion order, strictly increasing seqs.
        let seqs: Vec<u64> = a.iter().map(|c| c.id[1..].parse().unwrap()).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]));
        let q = ClaimQuery {
            predicate: Some("counts".into()),
            valid: Some(DayRange::of(d("2005"))),
            include_retracted: true,
            ..ClaimQuery::default()
        };
        assert_eq!(v.claims(&q).unwrap().len(), 30);
        let before = store.snapshot_at(4);
        assert_eq!(
            before.claims(&ClaimQuery::default()).unwrap().len(),
            600,
            "retractions are invisible as of the earlier tx"
        );
        let stats = v.stats().unwrap();
        assert_eq!((stats.claims_live, stats.claims_retracted), (592, 8));
        (a, b)
    };
    let live = check(&store);
    assert!(store.verify().unwrap().ok());
    store.rebuild_indexes().unwrap();
    assert_eq!(check(&store), live);
    assert!(store.verify().unwrap().ok());
}

#[test]
fn names_unknown_everywhere_are_errors_and_names_declared_later_match_nothing() {
    let store = Store::temporary_with(first_use()).unwrap();
    store
        .transact("a", |tx| {
            tx.entity("russia", "Country", "Russia");
            tx.assert("russia", "borders", Term::String("ukraine".into()));
        })
        .unwrap();
    let view = store.snapshot();
    let err = view.claims(&subject("rusia")).unwrap_err();
    assert_eq!(err.to_string(), "unknown entity `@rusia`, did you mean `@russia`?");
    match err {
        StoreError::UnknownEntity { name, suggestion } => {
            assert_eq!((name.as_str(), suggestion.as_deref()), ("rusia", Some("russia")));
        }
        other => panic!("expected UnknownEntity, got {other:?}"),
    }
    // A misspelt predicate is an error a program can match, not `Ok(empty)`.
    let q = ClaimQuery { predicate: Some("bordres".into()), ..ClaimQuery::default() };
    match view.claims(&q).unwrap_err() {
        StoreError::UnknownPredicate { name, suggestion } => {
            assert_eq!((name.as_str(), suggestion.as_deref()), ("bordres", Some("borders")));
        }
        other => panic!("expected UnknownPredicate, got {other:?}"),
    }
    // As of before their declaration the entity and the predicate match
    // nothing: walking back through transactions is not a failure.
    let before = store.snapshot_at(0);
    assert_eq!(before.claims(&subject("russia")).unwrap(), Vec::new());
    let q = ClaimQuery { predicate: Some("borders".into()), ..ClaimQuery::default() };
    assert_eq!(before.claims(&q).unwrap(), Vec::new());
    assert_eq!(view.claims(&q).unwrap().len(), 1);
}
