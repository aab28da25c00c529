//! `:help`: an overview, and one topic per statement kind with its syntax
//! and examples that run on the demo store (`claimgraph repl --demo`;
//! tests/demo.rs runs every one of them).

use super::meta::COMMANDS;

/// One help topic.
pub struct Topic {
    pub name: &'static str,
    /// Other words that find it (`:help as_of` finds `time`).
    pub aliases: &'static [&'static str],
    pub syntax: &'static str,
    pub about: &'static str,
    /// Statements that run on the demo store, in order.
    pub examples: &'static [&'static str],
}

/// Every topic, in the order `:help` lists them.
pub const TOPICS: &[Topic] = &[
    Topic {
        name: "match",
        aliases: &["query", "pattern", "patterns"],
        syntax: "MATCH pattern [, pattern …] [WHERE expr] RETURN [DISTINCT] expr [AS name], …\n  \
                 [ORDER BY expr [ASC|DESC], …] [SKIP n] [LIMIT n] [time clauses]",
        about: "Nodes are entities: (x), (x:Person), (@russia), (x @russia), (x {name: 'Russia'}).\n\
                Edges are claims: -[c:may_ease_sanctions_on]->, <-[c]-, -[c]- (either way),\n\
                -[:p1|p2]-> (alternatives), -[*1..3]-> (variable length). Patterns that share a\n\
                variable join on it. An edge variable reads the claim: c.by, c.stance, c.quote,\n\
                c.valid_from, c.said_at, c.source.title, c.tx and any qualifier such as c.hedge.",
        examples: &[
            "MATCH (a)-[c:may_ease_sanctions_on]->(@russia) RETURN a.name, c.by.name, c.stance, c.hedge",
            "MATCH (p:Person) RETURN p.name, p.role ORDER BY p.name LIMIT 5",
            "MATCH (@white_house)-[:asked]->(d)<-[:part_of]-(u) RETURN d.name, u.name",
        ],
    },
    Topic {
        name: "where",
        aliases: &["expressions", "operators", "functions"],
        syntax: "WHERE expr   -- AND OR NOT, = <> < <= > >=, IN [..], STARTS WITH, ENDS WITH,\n  \
                 CONTAINS, IS [NOT] NULL, + - * / %",
        about: "Dates compare by the period they name: 2025-03-04 = 2025-03 holds, and\n\
                2025-02 < 2025-03-04. Functions: count, min, max, sum, avg, collect (aggregates),\n\
                coalesce, lower, upper, size, year, to_string. Entities compare with @refs.",
        examples: &[
            "MATCH (s)-[c]->(o) WHERE c.said_at < 2025-03-04 RETURN c.id, c.said_at, c.by.name",
            "MATCH (s)-[c]->(o) WHERE c.by = @kremlin AND c.quote CONTAINS 'rare' RETURN c.id, c.quote",
            "MATCH (s)-[c]->(o) WHERE c.stance IN ['suggests', 'denies'] RETURN count(*) AS hedged",
        ],
    },
    Topic {
        name: "return",
        aliases: &["order", "limit", "aggregates", "count"],
        syntax: "RETURN [DISTINCT] expr [AS name], … [ORDER BY …] [SKIP n] [LIMIT n]",
        about: "Aggregates group by the other returned items, as in Cypher. Name a column\n\
                with AS and order by the name.",
        examples: &[
            "MATCH (s)-[c]->(o) RETURN coalesce(c.by.name, '(the source itself)') AS speaker, count(*) AS claims \
             ORDER BY claims DESC, speaker",
            "MATCH (s)-[c]->(o) RETURN DISTINCT c.predicate ORDER BY c.predicate LIMIT 5",
        ],
    },
    Topic {
        name: "time",
        aliases: &["as_of", "asof", "valid", "time_travel", "retracted", "include"],
        syntax: "AS OF TX n | AS OF TX $t | AS OF 2025-03-05T12:00:00Z  -- transaction time: what we knew then\n  \
                 VALID AT date | VALID AT $d | VALID DURING date .. date -- valid time: what the claim is about\n  \
                 INCLUDE RETRACTED                             -- retracted claims too\n  \
                 FOR SYSTEM_TIME AS OF … | FOR VALID_TIME AS OF … | BETWEEN … AND …",
        about: "Time clauses end a query, in any order. AS OF a date (2025-03-04) means the end\n\
                of that day, UTC. :asof and :valid set them for the whole session (shown in\n\
                the prompt); a query's own clause wins.",
        examples: &[
            "MATCH (@russia)-[c:is_building]->(v) RETURN c.id, c.valid_from, c.valid_to AS OF TX 16",
            "MATCH (s)-[c]->(o) RETURN c.id, s.name, c.predicate ORDER BY c.id LIMIT 5 VALID AT 2025-02-12",
            "MATCH (@russia)-[c:is_building]->(v) RETURN c.id, c.retracted_tx INCLUDE RETRACTED",
        ],
    },
    Topic {
        name: "history",
        aliases: &["timeline"],
        syntax: "HISTORY @entity | HISTORY (@a)-[:p]->(@b)",
        about: "Everything recorded about an entity (or one edge), oldest first, as a timeline:\n\
                transaction, recorded-at, what changed, who said it, the source.",
        examples: &["HISTORY @trump", "HISTORY (@us)-[:may_ease_sanctions_on]->(@russia)"],
    },
    Topic {
        name: "conflicts",
        aliases: &["contradictions"],
        syntax: "CONFLICTS [ABOUT @entity] [VALID AT … | VALID DURING …] [AS OF …]",
        about: "Live claims that contradict each other while both are valid: the same claim\n\
                asserted and denied, or a functional predicate with two objects at once.\n\
                Each conflict shows the two claims side by side.",
        examples: &["CONFLICTS", "CONFLICTS ABOUT @ofac VALID AT 2025-03-04", "CONFLICTS AS OF TX 19"],
    },
    Topic {
        name: "show",
        aliases: &["entities", "predicates", "sources", "tx"],
        syntax: "SHOW ENTITIES [KIND k] [LIKE 'pattern%'] | SHOW PREDICATES | SHOW SOURCES | SHOW TX [n]",
        about: "What the store declares. :schema shows kinds and predicates with counts.",
        examples: &["SHOW ENTITIES KIND Person", "SHOW ENTITIES LIKE 'U%'", "SHOW SOURCES", "SHOW TX 18"],
    },
    Topic {
        name: "stats",
        aliases: &[],
        syntax: "STATS",
        about: "Counts of transactions, entities, documents, predicates and claims.",
        examples: &["STATS"],
    },
    Topic {
        name: "explain",
        aliases: &["profile", "plan", "analyze"],
        syntax: "EXPLAIN query | EXPLAIN ANALYZE query | PROFILE query",
        about: "The operator tree a query runs as, with estimated rows (and, analysed, the\n\
                actual rows and time). :explain <query> is a shortcut.",
        examples: &[
            "EXPLAIN MATCH (a)-[c:may_ease_sanctions_on]->(@russia) RETURN a.name",
            "PROFILE MATCH (s)-[c]->(o) WHERE c.by = @kremlin RETURN c.id",
        ],
    },
    Topic {
        name: "create",
        aliases: &["entity", "document", "predicate", "declare"],
        syntax: "CREATE ENTITY key [:Kind] {name: …, aliases: […], attr: …}\n  \
                 CREATE DOCUMENT key {title, publisher, published, url, language, text}\n  \
                 CREATE PREDICATE name {functional: true|false, description: …}",
        about: "Declares (or updates) an entity, a document or a predicate. Outside a BEGIN\n\
                block each write commits on its own.",
        examples: &[
            "CREATE ENTITY eu :Organization {name: \"European Union\", aliases: [\"EU\"]}",
            "CREATE PREDICATE extends_sanctions_on {description: \"extends sanctions on\"}",
        ],
    },
    Topic {
        name: "assert",
        aliases: &["claim", "qualifiers", "stance"],
        syntax: "ASSERT (@s)-[:predicate]->(@o | literal) {id, by, source, stance, valid,\n  \
                 valid_from, valid_to, said_at, confidence, quote, any_other: value}",
        about: "Records a claim. stance is asserts (default), suggests (hedged: may, could)\n\
                or denies. Under valid/valid_from/valid_to/said_at a bare year is a date.",
        examples: &[
            "ASSERT (@eu)-[:extends_sanctions_on]->(@russia) {by: @media_reports, stance: suggests, \
             valid: 2025-03, quote: \"(example, not from the article)\"}",
        ],
    },
    Topic {
        name: "retract",
        aliases: &["correct", "correction"],
        syntax: "RETRACT claim_id BECAUSE \"reason\"",
        about: "Takes a claim back (it stays visible AS OF earlier transactions and with\n\
                INCLUDE RETRACTED). To correct a claim, retract it and assert the fix in\n\
                one transaction.",
        examples: &["RETRACT c60 BECAUSE \"example retraction\""],
    },
    Topic {
        name: "merge",
        aliases: &["unmerge", "duplicates"],
        syntax: "MERGE ENTITY @duplicate INTO @canonical | UNMERGE ENTITY @duplicate",
        about: "Makes one entity stand for another (reads about the canonical entity see the\n\
                duplicate's claims too); UNMERGE undoes it exactly.",
        examples: &["MERGE ENTITY @experts INTO @unnamed_sources", "UNMERGE ENTITY @experts"],
    },
    Topic {
        name: "transactions",
        aliases: &["begin", "commit", "rollback", "transaction"],
        syntax: "BEGIN [MESSAGE 'why']; …writes…; COMMIT | ROLLBACK",
        about: "Groups writes into one transaction (the prompt shows it is open). :begin,\n\
                :commit and :rollback do the same. Each write is checked as it is queued; a\n\
                failing statement aborts the block: later ones are refused until ROLLBACK,\n\
                and COMMIT commits nothing. Leaving asks before discarding an open block.",
        examples: &[
            "BEGIN MESSAGE 'example: declare and roll back'",
            "CREATE ENTITY nato :Organization {name: \"NATO\"}",
            "ROLLBACK",
        ],
    },
    Topic {
        name: "params",
        aliases: &["param", "parameters", "$"],
        syntax: ":param name => value   then   … WHERE c.by = $name …",
        about: "Values: 'text', 42, 0.5, true, null, 2025-03-04, 2025-03-05T12:00:00Z,\n\
                @entity, [lists]. :params lists them, :params clear drops them.",
        examples: &[],
    },
    Topic {
        name: "formats",
        aliases: &["format", "output", "dot", "csv", "json", "markdown"],
        syntax: ":format table|csv|json|jsonl|markdown|line|dot",
        about: "table: aligned, wrapped to the width, capped at :max_rows, expanded per\n\
                :expanded. dot: the result's subgraph for Graphviz (claimgraph query … --format\n\
                dot | dot -Tsvg > out.svg). Results longer than the screen go through $PAGER.",
        examples: &[],
    },
    Topic {
        name: "editing",
        aliases: &["keys", "completion", "ctrl"],
        syntax: "Tab completes · Ctrl-R searches history · Ctrl-C cancels · Ctrl-D exits",
        about: "Tab completes keywords, :commands, @entities, predicates after -[:, kinds after\n\
                (x:, properties after c. and variables. Statements end at ; and may span lines\n\
                (..> continues). Ctrl-C cancels a running query or clears the line; Ctrl-C on\n\
                an empty line twice, or Ctrl-D, leaves. History is kept in\n\
                $XDG_DATA_HOME/claimgraph/history (or $CLAIMGRAPH_HISTORY).",
        examples: &[],
    },
];

/// The topic a word names.
pub fn find(word: &str) -> Option<&'static Topic> {
    let w = word.trim().trim_start_matches(':').to_ascii_lowercase();
    let by_name = TOPICS.iter().find(|t| t.name == w);
    by_name.or_else(|| TOPICS.iter().find(|t| t.aliases.contains(&w.as_str())))
}

/// The overview `:help` prints.
pub fn overview() -> String {
    let mut out = String::from(
        "claimgraph: who said what, about whom, when it holds, and how the record changed.\n\n\
         Statements end with ; and may span lines. Help on a statement: :help TOPIC, one of\n",
    );
    let names: Vec<&str> = TOPICS.iter().map(|t| t.name).collect();
    for line in names.chunks(9) {
        out.push_str(&format!("  {}\n", line.join("  ")));
    }
    out.push_str("\nCommands:\n");
    for c in COMMANDS.iter().filter(|c| !c.hidden) {
        let usage =
            if c.args.is_empty() { format!(":{}", c.name) } else { format!(":{} {}", c.name, c.args) };
        out.push_str(&format!("  {usage:<38} {}\n", c.help));
    }
    out
}

/// The text of one topic.
pub fn topic(t: &Topic) -> String {
    let mut out = format!("{}\n\n  {}\n\n{}\n", t.name.to_uppercase(), t.syntax, t.about);
    if !t.examples.is_empty() {
        out.push_str("\nExamples (they run on the demo store, claimgraph repl --demo):\n");
        for e in t.examples {
            out.push_str(&format!("  {e};\n"));
        }
    }
    out
}
