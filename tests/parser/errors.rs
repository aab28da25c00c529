//! Malformed statements with their exact rendered errors: message (what
//! was expected, what was found), line, column and caret. Regenerate an
//! entry by running the statement and reviewing the output by eye.

use claimgraph::query::{parse_script, parse_statement};

/// `(source, rendered error)` pairs.
const CASES: &[(&str, &str)] = &[
    (
        r##"MATCH (a -[c]->(b) RETURN a"##,
        r##"error: expected `)` or `:` after node variable, found `-`
 --> line 1, column 10
  |
1 | MATCH (a -[c]->(b) RETURN a
  |          ^"##,
    ),
    (
        r##"MATCH (a) RETRN a"##,
        r##"error: expected an edge pattern, `,`, `WHERE`, `MATCH`, `UNWIND`, `WITH` or `RETURN`, found `RETRN` (did you mean `RETURN`?)
 --> line 1, column 11
  |
1 | MATCH (a) RETRN a
  |           ^"##,
    ),
    (
        r##"MATHC (a) RETURN a"##,
        r##"error: expected a statement, found `MATHC` (did you mean `MATCH`?)
 --> line 1, column 1
  |
1 | MATHC (a) RETURN a
  | ^"##,
    ),
    (
        r##"MATCH (a) RETURN a LIMT 5"##,
        r##"error: expected `AS`, `,`, `ORDER BY`, `SKIP`, `LIMIT`, a time clause, `UNION`, `;` or end of input, found `LIMT` (did you mean `LIMIT`?)
 --> line 1, column 20
  |
1 | MATCH (a) RETURN a LIMT 5
  |                    ^"##,
    ),
    (
        r##"MATCH (a) WHERE a.x = RETURN a"##,
        r##"error: expected an expression, found `RETURN`
 --> line 1, column 23
  |
1 | MATCH (a) WHERE a.x = RETURN a
  |                       ^"##,
    ),
    (
        r##"MATCH (a)"##,
        r##"error: expected an edge pattern, `,`, `WHERE`, `MATCH`, `UNWIND`, `WITH` or `RETURN`, found end of input
 --> line 1, column 10
  |
1 | MATCH (a)
  |          ^"##,
    ),
    (
        r##"MATCH (a) RETURN"##,
        r##"error: expected `DISTINCT`, `*` or an expression, found end of input
 --> line 1, column 17
  |
1 | MATCH (a) RETURN
  |                 ^"##,
    ),
    (
        r##"MATCH (a) RETURN a,"##,
        r##"error: expected an expression, found end of input
 --> line 1, column 20
  |
1 | MATCH (a) RETURN a,
  |                    ^"##,
    ),
    (
        r##"MATCH (a), RETURN a"##,
        r##"error: expected a node pattern, found `RETURN`
 --> line 1, column 12
  |
1 | MATCH (a), RETURN a
  |            ^"##,
    ),
    (
        r##"MATCH (a)-[c]->(b RETURN a"##,
        r##"error: expected `)` or `:` after node variable, found `RETURN`
 --> line 1, column 19
  |
1 | MATCH (a)-[c]->(b RETURN a
  |                   ^"##,
    ),
    (
        r##"MATCH (a)-[c:]->(b) RETURN a"##,
        r##"error: expected a predicate name, found `]`
 --> line 1, column 14
  |
1 | MATCH (a)-[c:]->(b) RETURN a
  |              ^"##,
    ),
    (
        r##"MATCH (a)-[c:p]>(b) RETURN a"##,
        r##"error: expected `->` or `-`, found `>`
 --> line 1, column 16
  |
1 | MATCH (a)-[c:p]>(b) RETURN a
  |                ^"##,
    ),
    (
        r##"MATCH (a)-[c:p]- >(b) RETURN a"##,
        r##"error: expected a node pattern, found `>`
 --> line 1, column 18
  |
1 | MATCH (a)-[c:p]- >(b) RETURN a
  |                  ^"##,
    ),
    (
        r##"MATCH (a)-(b) RETURN a"##,
        r##"error: expected `[`, found `(`
 --> line 1, column 11
  |
1 | MATCH (a)-(b) RETURN a
  |           ^"##,
    ),
    (
        r##"MATCH (a)<-[c]->(b) RETURN a"##,
        r##"error: expected a node pattern, found `>`
 --> line 1, column 16
  |
1 | MATCH (a)<-[c]->(b) RETURN a
  |                ^"##,
    ),
    (
        r##"MATCH (a)-[c*3..1]->(b) RETURN a"##,
        r##"error: variable-length range `*3..1` has its minimum above its maximum
 --> line 1, column 13
  |
1 | MATCH (a)-[c*3..1]->(b) RETURN a
  |             ^"##,
    ),
    (
        r##"MATCH (a)-[c*1..100]->(b) RETURN a"##,
        r##"error: hop count 100 exceeds the limit of 32
 --> line 1, column 17
  |
1 | MATCH (a)-[c*1..100]->(b) RETURN a
  |                 ^"##,
    ),
    (
        r##"MATCH (x {name: 'a', name: 'b'}) RETURN x"##,
        r##"error: duplicate key `name` in map
 --> line 1, column 22
  |
1 | MATCH (x {name: 'a', name: 'b'}) RETURN x
  |                      ^"##,
    ),
    (
        r##"MATCH (x {name 'a'}) RETURN x"##,
        r##"error: expected `:`, found `'a'`
 --> line 1, column 16
  |
1 | MATCH (x {name 'a'}) RETURN x
  |                ^"##,
    ),
    (
        r##"MATCH (match) RETURN 1"##,
        r##"error: expected a variable, `:`, an entity reference, `{` or `)`, found `match` (`match` is a reserved word: quote it in backticks to use it as a name)
 --> line 1, column 8
  |
1 | MATCH (match) RETURN 1
  |        ^"##,
    ),
    (
        r##"MATCH (a) RETURN a AS order"##,
        r##"error: expected a variable or `OF`, found `order` (`order` is a reserved word: quote it in backticks to use it as a name)
 --> line 1, column 23
  |
1 | MATCH (a) RETURN a AS order
  |                       ^"##,
    ),
    (
        r##"MATCH (a) WHERE a.name = 'bad \q' RETURN a"##,
        r##"error: invalid escape `\q` in string
 --> line 1, column 31
  |
1 | MATCH (a) WHERE a.name = 'bad \q' RETURN a
  |                               ^"##,
    ),
    (
        r##"MATCH (a) WHERE a.name = 'open RETURN a"##,
        r##"error: unterminated string: expected closing `'`, found end of input
 --> line 1, column 26
  |
1 | MATCH (a) WHERE a.name = 'open RETURN a
  |                          ^"##,
    ),
    (
        r##"MATCH (a) WHERE a.born < 2025-02-29 RETURN a"##,
        r##"error: invalid date `2025-02-29`: day 29 is out of range for 2025-02 (28 days)
 --> line 1, column 26
  |
1 | MATCH (a) WHERE a.born < 2025-02-29 RETURN a
  |                          ^"##,
    ),
    (
        r##"MATCH (a) WHERE a.born < 2025-13 RETURN a"##,
        r##"error: invalid date `2025-13`: month 13 is out of range 1..12
 --> line 1, column 26
  |
1 | MATCH (a) WHERE a.born < 2025-13 RETURN a
  |                          ^"##,
    ),
    (
        r##"MATCH (a) RETURN a AS OF 2025-03-05T12:00Z"##,
        r##"error: malformed timestamp: expected `YYYY-MM-DDTHH:MM:SS[.ffffff]` and `Z` or `+HH:MM`
 --> line 1, column 26
  |
1 | MATCH (a) RETURN a AS OF 2025-03-05T12:00Z
  |                          ^"##,
    ),
    (
        r##"MATCH (a) RETURN a AS OF 2025-03-05T24:00:00Z"##,
        r##"error: invalid timestamp `2025-03-05T24:00:00Z`: time 24:00:00 is out of range
 --> line 1, column 26
  |
1 | MATCH (a) RETURN a AS OF 2025-03-05T24:00:00Z
  |                          ^"##,
    ),
    (
        r##"MATCH (a) RETURN a AS OF TX 1 FOR SYSTEM_TIME AS OF TX 2"##,
        r##"error: duplicate transaction-time clause (`AS OF`): each time clause may appear at most once
 --> line 1, column 31
  |
1 | MATCH (a) RETURN a AS OF TX 1 FOR SYSTEM_TIME AS OF TX 2
  |                               ^"##,
    ),
    (
        r##"MATCH (a) RETURN a VALID AT 2025 VALID DURING 2025 .. 2026"##,
        r##"error: duplicate valid-time clause (`VALID`): each time clause may appear at most once
 --> line 1, column 34
  |
1 | MATCH (a) RETURN a VALID AT 2025 VALID DURING 2025 .. 2026
  |                                  ^"##,
    ),
    (
        r##"MATCH (a) RETURN a INCLUDE RETRACTED INCLUDE RETRACTED"##,
        r##"error: duplicate `INCLUDE RETRACTED` clause: each time clause may appear at most once
 --> line 1, column 38
  |
1 | MATCH (a) RETURN a INCLUDE RETRACTED INCLUDE RETRACTED
  |                                      ^"##,
    ),
    (
        r##"MATCH (a) RETURN a VALID DURING 2025-01"##,
        r##"error: expected `..`, found end of input
 --> line 1, column 40
  |
1 | MATCH (a) RETURN a VALID DURING 2025-01
  |                                        ^"##,
    ),
    (
        r##"MATCH (a) RETURN a FOR VALID_TIME 2025"##,
        r##"error: expected `AS` or `BETWEEN`, found `2025`
 --> line 1, column 35
  |
1 | MATCH (a) RETURN a FOR VALID_TIME 2025
  |                                   ^"##,
    ),
    (
        r##"MATCH (a) RETURN a AS OF 12"##,
        r##"error: expected `TX` or a date or a timestamp, found `12`
 --> line 1, column 26
  |
1 | MATCH (a) RETURN a AS OF 12
  |                          ^"##,
    ),
    (
        r##"MATCH (a) RETURN a LIMIT -1"##,
        r##"error: expected an integer or a parameter, found `-`
 --> line 1, column 26
  |
1 | MATCH (a) RETURN a LIMIT -1
  |                          ^"##,
    ),
    (
        r##"MATCH (a) RETURN a LIMIT 1 SKIP 1"##,
        r##"error: expected a time clause, `UNION`, `;` or end of input, found `SKIP`
 --> line 1, column 28
  |
1 | MATCH (a) RETURN a LIMIT 1 SKIP 1
  |                            ^"##,
    ),
    (
        r##"MATCH (a) RETURN a ORDER a"##,
        r##"error: expected `BY`, found `a`
 --> line 1, column 26
  |
1 | MATCH (a) RETURN a ORDER a
  |                          ^"##,
    ),
    (
        r##"MATCH (a) WHERE a.x IS 1 RETURN a"##,
        r##"error: expected `NOT` or `NULL`, found `1`
 --> line 1, column 24
  |
1 | MATCH (a) WHERE a.x IS 1 RETURN a
  |                        ^"##,
    ),
    (
        r##"MATCH (a) WHERE a.x STARTS 'U' RETURN a"##,
        r##"error: expected `WITH`, found `'U'`
 --> line 1, column 28
  |
1 | MATCH (a) WHERE a.x STARTS 'U' RETURN a
  |                            ^"##,
    ),
    (
        r##"MATCH (a) WHERE a.x == 1 RETURN a"##,
        r##"error: expected an expression, found `=`
 --> line 1, column 22
  |
1 | MATCH (a) WHERE a.x == 1 RETURN a
  |                      ^"##,
    ),
    (
        r##"MATCH (a) WHERE (a.x RETURN a"##,
        r##"error: expected `)`, found `RETURN`
 --> line 1, column 22
  |
1 | MATCH (a) WHERE (a.x RETURN a
  |                      ^"##,
    ),
    (
        r##"MATCH (a) RETURN sum(*)"##,
        r##"error: expected `DISTINCT` or an expression, found `*`
 --> line 1, column 22
  |
1 | MATCH (a) RETURN sum(*)
  |                      ^"##,
    ),
    (
        r##"MATCH (a) RETURN count(a, b)"##,
        r##"error: expected `)`, found `,`
 --> line 1, column 25
  |
1 | MATCH (a) RETURN count(a, b)
  |                         ^"##,
    ),
    (
        r##"MATCH (a) RETURN [1, 2"##,
        r##"error: expected `,` or `]`, found end of input
 --> line 1, column 23
  |
1 | MATCH (a) RETURN [1, 2
  |                       ^"##,
    ),
    (
        r##"MATCH (a) RETURN a."##,
        r##"error: expected a property name, found end of input
 --> line 1, column 20
  |
1 | MATCH (a) RETURN a.
  |                    ^"##,
    ),
    (
        r##"MATCH (@ russia) RETURN 1"##,
        r##"error: expected an entity key or a quoted name after `@`
 --> line 1, column 9
  |
1 | MATCH (@ russia) RETURN 1
  |         ^"##,
    ),
    (
        r##"MATCH (a) WHERE a.key = $ RETURN a"##,
        r##"error: expected a parameter name after `$`
 --> line 1, column 26
  |
1 | MATCH (a) WHERE a.key = $ RETURN a
  |                          ^"##,
    ),
    (
        r##"MATCH (a) RETURN 9223372036854775808"##,
        r##"error: integer `9223372036854775808` is too large (maximum 9223372036854775807)
 --> line 1, column 18
  |
1 | MATCH (a) RETURN 9223372036854775808
  |                  ^"##,
    ),
    (
        r##"MATCH (a) RETURN 1e999"##,
        r##"error: float `1e999` is out of range
 --> line 1, column 18
  |
1 | MATCH (a) RETURN 1e999
  |                  ^"##,
    ),
    (
        r##"MATCH (a) RETURN '\u{d800}'"##,
        r##"error: invalid unicode escape `\u{d800}` in string
 --> line 1, column 19
  |
1 | MATCH (a) RETURN '\u{d800}'
  |                   ^"##,
    ),
    (
        r##"MATCH (a) RETURN a # nope"##,
        r##"error: unexpected character `#`
 --> line 1, column 20
  |
1 | MATCH (a) RETURN a # nope
  |                    ^"##,
    ),
    (
        r##"MATCH (a) RETURN 12abc"##,
        r##"error: invalid number: a letter or `_` follows the digits
 --> line 1, column 20
  |
1 | MATCH (a) RETURN 12abc
  |                    ^"##,
    ),
    (
        r##"SELECT * FROM claims"##,
        r##"error: expected a statement, found `SELECT`
 --> line 1, column 1
  |
1 | SELECT * FROM claims
  | ^"##,
    ),
    (
        r##"EXPLAIN STATS"##,
        r##"error: expected `ANALYZE` or `MATCH`, found `STATS`
 --> line 1, column 9
  |
1 | EXPLAIN STATS
  |         ^"##,
    ),
    (
        r##"HISTORY (x)"##,
        r##"error: HISTORY takes an entity reference such as `@x` or an edge pattern such as `(@a)-[:p]->(@b)`
 --> line 1, column 9
  |
1 | HISTORY (x)
  |         ^"##,
    ),
    (
        r##"HISTORY"##,
        r##"error: expected a node pattern, found end of input
 --> line 1, column 8
  |
1 | HISTORY
  |        ^"##,
    ),
    (
        r##"CONFLICTS INCLUDE RETRACTED"##,
        r##"error: expected `ABOUT`, a time clause, `;` or end of input, found `INCLUDE`
 --> line 1, column 11
  |
1 | CONFLICTS INCLUDE RETRACTED
  |           ^"##,
    ),
    (
        r##"SHOW TABLES"##,
        r##"error: expected `ENTITIES`, `PREDICATES`, `SOURCES` or `TX`, found `TABLES`
 --> line 1, column 6
  |
1 | SHOW TABLES
  |      ^"##,
    ),
    (
        r##"STATS 1"##,
        r##"error: expected `;` or end of input, found `1`
 --> line 1, column 7
  |
1 | STATS 1
  |       ^"##,
    ),
    (
        r##"CREATE ENTITY {name: 'x'}"##,
        r##"error: expected an entity key, found `{`
 --> line 1, column 15
  |
1 | CREATE ENTITY {name: 'x'}
  |               ^"##,
    ),
    (
        r##"CREATE PREDICATES x"##,
        r##"error: expected `ENTITY`, `DOCUMENT` or `PREDICATE`, found `PREDICATES` (did you mean `PREDICATE`?)
 --> line 1, column 8
  |
1 | CREATE PREDICATES x
  |        ^"##,
    ),
    (
        r##"CREATE ENTITY x {a: 1, a: 2}"##,
        r##"error: duplicate key `a` in map
 --> line 1, column 24
  |
1 | CREATE ENTITY x {a: 1, a: 2}
  |                        ^"##,
    ),
    (
        r##"CREATE ENTITY x {a: 1,}"##,
        r##"error: expected a key, found `}`
 --> line 1, column 23
  |
1 | CREATE ENTITY x {a: 1,}
  |                       ^"##,
    ),
    (
        r##"CREATE ENTITY x {a: 1 + 2}"##,
        r##"error: expected `,` or `}`, found `+`
 --> line 1, column 23
  |
1 | CREATE ENTITY x {a: 1 + 2}
  |                       ^"##,
    ),
    (
        r##"CREATE ENTITY x {t: -'cold'}"##,
        r##"error: expected a number, found `'cold'`
 --> line 1, column 22
  |
1 | CREATE ENTITY x {t: -'cold'}
  |                      ^"##,
    ),
    (
        r##"ASSERT (@us)-[may_ease]->(@russia)"##,
        r##"error: expected `:`, found `may_ease`
 --> line 1, column 15
  |
1 | ASSERT (@us)-[may_ease]->(@russia)
  |               ^"##,
    ),
    (
        r##"ASSERT (@us)<-[:p]-(@russia)"##,
        r##"error: expected `-`, found `<`
 --> line 1, column 13
  |
1 | ASSERT (@us)<-[:p]-(@russia)
  |             ^"##,
    ),
    (
        r##"ASSERT (a)-[:p]->(@b)"##,
        r##"error: expected an entity reference, found `a`
 --> line 1, column 9
  |
1 | ASSERT (a)-[:p]->(@b)
  |         ^"##,
    ),
    (
        r##"ASSERT (@a)-[:p]->1991"##,
        r##"error: expected an object, found `1991`
 --> line 1, column 19
  |
1 | ASSERT (@a)-[:p]->1991
  |                   ^"##,
    ),
    (
        r##"RETRACT c1"##,
        r##"error: expected `BECAUSE`, found end of input
 --> line 1, column 11
  |
1 | RETRACT c1
  |           ^"##,
    ),
    (
        r##"RETRACT c1 BECAUSE misattributed"##,
        r##"error: expected a string, found `misattributed`
 --> line 1, column 20
  |
1 | RETRACT c1 BECAUSE misattributed
  |                    ^"##,
    ),
    (
        r##"MERGE ENTITY @trump @donald_trump"##,
        r##"error: expected `INTO`, found `@donald_trump`
 --> line 1, column 21
  |
1 | MERGE ENTITY @trump @donald_trump
  |                     ^"##,
    ),
    (
        r##"UNMERGE @trump"##,
        r##"error: expected `ENTITY`, found `@trump`
 --> line 1, column 9
  |
1 | UNMERGE @trump
  |         ^"##,
    ),
    (
        r##"BEGIN MESSAGE"##,
        r##"error: expected a string, found end of input
 --> line 1, column 14
  |
1 | BEGIN MESSAGE
  |              ^"##,
    ),
    (
        r##"MATCH (a) RETURN a; MATCH (b) RETURN b"##,
        r##"error: expected end of input, found `MATCH`
 --> line 1, column 21
  |
1 | MATCH (a) RETURN a; MATCH (b) RETURN b
  |                     ^"##,
    ),
    (
        r##"MATCH (a) RETURN a /* never closed"##,
        r##"error: unterminated block comment
 --> line 1, column 20
  |
1 | MATCH (a) RETURN a /* never closed
  |                    ^"##,
    ),
    (
        r##"MATCH (a) WHERE a.x = 1 ADN a.y = 2 RETURN a"##,
        r##"error: expected `MATCH`, `UNWIND`, `WITH` or `RETURN`, found `ADN` (did you mean `AND`?)
 --> line 1, column 25
  |
1 | MATCH (a) WHERE a.x = 1 ADN a.y = 2 RETURN a
  |                         ^"##,
    ),
    (
        r##"MATCH (a) WHERE a.name = "Zürich" AND a.x = RETURN a"##,
        r##"error: expected an expression, found `RETURN`
 --> line 1, column 45
  |
1 | MATCH (a) WHERE a.name = "Zürich" AND a.x = RETURN a
  |                                             ^"##,
    ),
    (
        r##"MATCH (é) RETURN 1"##,
        r##"error: unexpected character `é`
 --> line 1, column 8
  |
1 | MATCH (é) RETURN 1
  |        ^"##,
    ),
    (
        r##"MATCH (a)
WHERE a.name = 'x' AND
RETURN a"##,
        r##"error: expected an expression, found `RETURN`
 --> line 3, column 1
  |
3 | RETURN a
  | ^"##,
    ),
    (
        r##"MATCH (a)
	WHERE a.x = )
RETURN a"##,
        r##"error: expected an expression, found `)`
 --> line 2, column 14
  |
2 | 	WHERE a.x = )
  | 	            ^"##,
    ),
    (
        r##"CREATE ENTITY a;
CREATE ENTITY b {x: }
"##,
        r##"error: expected end of input, found `CREATE`
 --> line 2, column 1
  |
2 | CREATE ENTITY b {x: }
  | ^"##,
    ),
];

#[test]
fn malformed_statements_render_exactly() {
    assert!(CASES.len() >= 40);
    let mut wrong = Vec::new();
    for (src, want) in CASES {
        let got = match parse_statement(src) {
            Ok(s) => format!("parsed as {s}"),
            Err(e) => e.render(src),
        };
        if got != *want {
            wrong.push(format!("{src:?}\n--- want\n{want}\n--- got\n{got}"));
        }
    }
    assert!(wrong.is_empty(), "{} of {} differ:\n\n{}", wrong.len(), CASES.len(), wrong.join("\n\n"));
}

#[test]
fn error_fields_are_plain_data() {
    let e = parse_statement("MATCH (a -[c]->(b) RETURN a").unwrap_err();
    assert_eq!((e.offset, e.line, e.column), (9, 1, 10));
    assert_eq!(e.found, "`-`");
    assert_eq!(e.expected, ["`)`", "`:`"]);
    let e = parse_statement("MATCH (a)\nRETURN").unwrap_err();
    assert_eq!((e.offset, e.line, e.column, e.found.as_str()), (16, 2, 7, "end of input"));
    assert_eq!(e.expected, ["`DISTINCT`", "`*`", "an expression"]);
    assert_eq!(
        e.to_string(),
        "line 2, column 7: expected `DISTINCT`, `*` or an expression, found end of input"
    );
}

#[test]
fn script_errors_point_into_the_right_statement() {
    let src = "STATS;\nSHOW TX;\nSHOW TABLES;\nSTATS";
    let e = parse_script(src).unwrap_err();
    assert_eq!((e.line, e.column), (3, 6));
    assert_eq!(e.message, "expected `ENTITIES`, `PREDICATES`, `SOURCES` or `TX`, found `TABLES`");
}

#[test]
fn an_earlier_syntax_error_wins_over_a_later_bad_token() {
    let src = "MATCH (a RETURN 'unterminated";
    let e = parse_statement(src).unwrap_err();
    assert_eq!(e.message, "expected `)` or `:` after node variable, found `RETURN`");
    let e = parse_statement("MATCH (a) RETURN a 'unterminated").unwrap_err();
    assert!(e.message.starts_with("unterminated string"), "{}", e.message);
}
