//! Cypher constructs the language recognises but does not implement yet are
//! named in the error ("OPTIONAL MATCH is not supported yet"), at the
//! keyword, instead of a generic "expected …" message.

use claimgraph::query::parse_statement;

/// `(source, construct named, column of the caret)`.
const CASES: &[(&str, &str, usize)] = &[
    ("MATCH (n) OPTIONAL MATCH (n)-[r]->(m) RETURN m", "OPTIONAL MATCH is not supported yet", 11),
    ("OPTIONAL MATCH (n) RETURN n", "OPTIONAL MATCH is not supported yet", 1),
    ("MATCH (n) WITH n MATCH (n)-[r]->(m) RETURN m", "MATCH after WITH or UNWIND is not supported yet", 18),
    ("UNWIND [1] AS x OPTIONAL MATCH (n) RETURN n", "OPTIONAL MATCH is not supported yet", 17),
    ("MATCH (n) CALL { RETURN 1 } RETURN n", "CALL is not supported yet", 11),
    ("MATCH (n:A:B) RETURN n", "several labels on a node is not supported yet", 11),
    ("MATCH p = shortestPath((a)-[*]-(b)) RETURN p", "expected", 11),
    ("RETURN shortestPath((a)-[*]-(b)) AS p", "shortestPath is not supported yet", 8),
    ("RETURN reduce(s = 0, x IN [1] | s + x) AS b", "reduce(…) is not supported yet", 8),
    ("RETURN exists(n.name) AS b", "exists(…) is not supported yet", 8),
    ("MATCH (n) SET n.x = 1", "SET (the store is append-only", 11),
    ("MATCH (n) DETACH DELETE n", "DETACH DELETE (the store is append-only", 11),
    ("CREATE (n:Person {name: 'a'})", "Cypher CREATE of nodes and relationships", 1),
    ("MERGE (n:Person {name: 'a'})", "Cypher MERGE", 1),
];

#[test]
fn unsupported_constructs_are_named() {
    for (src, want, column) in CASES {
        let err = parse_statement(src).expect_err(src);
        assert!(err.message.contains(want), "{src}: got `{}`, want `{want}`", err.message);
        assert_eq!(err.column, *column, "{src}: {}", err.message);
    }
}

#[test]
fn supported_statements_that_share_the_words_still_parse() {
    for src in [
        "CREATE ENTITY x :Person {name: 'X'}",
        "MERGE ENTITY @a INTO @b",
        "RETURN 1 + 2 AS three",
        "MATCH (n) WITH n RETURN n",
        "MATCH (n) WHERE n.x = 1 MATCH (n)-[c]->(m) WHERE m.y = 2 RETURN m",
        "WITH 1 AS x RETURN x",
        "UNWIND [1, 2] AS x RETURN x",
        "MATCH (n) WHERE n.name STARTS WITH 'U' RETURN n",
        "MATCH (n) RETURN n.with AS w",
    ] {
        parse_statement(src).unwrap_or_else(|e| panic!("{src}: {}", e.message));
    }
    let s = parse_statement("return 1 as x order by x limit 1").unwrap();
    assert_eq!(s.to_string(), "RETURN 1 AS x ORDER BY x LIMIT 1");
}

#[test]
fn bare_arrows_are_edges_and_other_dashes_still_comment() {
    let s = parse_statement("MATCH (a)-->(b)<--(c)--(d) RETURN d").unwrap();
    let again = parse_statement(&s.to_string()).unwrap();
    assert_eq!(s, again, "{s}");
    let s = parse_statement("MATCH (a) -- all nodes\nRETURN a").unwrap();
    assert_eq!(s.to_string(), "MATCH (a) RETURN a");
}
