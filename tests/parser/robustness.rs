//! Bounded robustness test: random bytes and mutated valid statements never
//! panic the parser; accepted inputs round-trip through the printer; error
//! positions are always inside the input and render.

use std::panic;

use claimgraph::query::{parse_script, parse_statement};

/// Valid statements to mutate.
const SEEDS: &[&str] = &[
    "MATCH (a)-[c:may_ease_sanctions_on]->(@russia) WHERE c.stance = 'suggests' AND c.source.published >= 2025-03-01 RETURN a.name AS who, c.by.name AS speaker ORDER BY speaker LIMIT 20 AS OF TX 12 VALID AT 2025-03-04",
    "MATCH p = (a:Person {name: \"x\"})-[*1..3]->(b), (b)<-[c:p1|p2]-(@\"United States\") RETURN DISTINCT count(*), collect(b.name) SKIP $s",
    "MATCH (a) WHERE NOT a.x IN [1, 2.5, -3] OR a.y IS NOT NULL AND a.z STARTS WITH 'q\\n' RETURN (a.x + 1) * -2 % 3 FOR VALID_TIME BETWEEN 2025 AND 2025-03 INCLUDE RETRACTED",
    "CREATE ENTITY us :Country {name: \"United States\", aliases: [\"U.S.\", \"USA\"]}",
    "ASSERT (@us)-[:may_ease_sanctions_on]->(@russia) {id: c1, by: @unnamed_sources, stance: suggests, valid: 2025-03, confidence: 0.6, quote: \"\\u{e9}\"}",
    "CONFLICTS ABOUT @x VALID DURING 2025-01 .. 2025-03 AS OF 2025-03-05T12:00:00Z",
    "SHOW ENTITIES KIND Person LIKE 'D%'; HISTORY (@a)-[:p]->(@b); RETRACT c1 BECAUSE 'x' -- done",
    "BEGIN MESSAGE 'm'; MERGE ENTITY @a INTO @b; UNMERGE ENTITY @a; /* c */ COMMIT; EXPLAIN ANALYZE MATCH (`x y`) RETURN `x y`",
];

/// Fragments inserted by mutations: tokens the lexer and parser care about.
const SNIPPETS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "-",
    "->",
    "<-",
    "*",
    "..",
    ":",
    "|",
    "'",
    "\"",
    "`",
    "@",
    "$",
    "\\",
    "\\u{",
    "/*",
    "--",
    "//",
    "2025-",
    "2025-02-30",
    "T12:",
    "9999999999999999999",
    "1e999",
    " MATCH ",
    " RETURN ",
    " AS OF ",
    " NOT ",
    " IS ",
    " AND ",
    ";",
    ",",
    "é",
    "\u{0}",
    "\n",
];

/// xorshift64*: a tiny deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn random_bytes(rng: &mut Rng) -> Vec<u8> {
    let len = rng.below(80);
    (0..len)
        .map(|_| match rng.below(4) {
            0 => rng.next() as u8,
            _ => b"()[]{}-<>*.:|'\"`@$\\/ aZ_09\n;,=!#T"[rng.below(33)],
        })
        .collect()
}

fn mutate(rng: &mut Rng, seed: &str) -> Vec<u8> {
    let mut bytes = seed.as_bytes().to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(5) {
            0 if at < bytes.len() => bytes[at] ^= 1 << rng.below(8),
            1 => bytes.truncate(at),
            2 => bytes.splice(at..at, SNIPPETS[rng.below(SNIPPETS.len())].bytes()).for_each(drop),
            3 if at < bytes.len() => drop(bytes.remove(at)),
            _ => {
                let end = (at + rng.below(12)).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy).for_each(drop);
            }
        }
    }
    bytes
}

/// Parses `src` both ways and checks the invariants; says if it parsed.
fn check(src: &str) -> bool {
    let accepted = match parse_statement(src) {
        Ok(s) => {
            let printed = s.to_string();
            let again = parse_statement(&printed).unwrap_or_else(|e| {
                panic!("accepted {src:?} but not its printed form:\n{}", e.render(&printed))
            });
            assert_eq!(again, s, "round trip of {src:?} via {printed:?}");
            true
        }
        Err(e) => {
            assert!(e.offset <= src.len() && e.line >= 1 && e.column >= 1, "{e:?} for {src:?}");
            assert!(e.render(src).starts_with("error: "));
            false
        }
    };
    if let Err(e) = parse_script(src) {
        assert!(e.offset <= src.len());
    }
    accepted
}

#[test]
fn random_and_mutated_inputs_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut accepted = 0;
    for n in 0..10_000 {
        let bytes = if n % 4 == 0 {
            random_bytes(&mut rng)
        } else {
            let seed = SEEDS[rng.below(SEEDS.len())];
            mutate(&mut rng, seed)
        };
        let src = String::from_utf8_lossy(&bytes).into_owned();
        match panic::catch_unwind(|| check(&src)) {
            Ok(ok) => accepted += usize::from(ok),
            Err(_) => panic!("input #{n} failed: {src:?}"),
        }
    }
    // Enough mutants still parse for the round-trip check to bite.
    assert!(accepted > 500, "only {accepted} inputs parsed");
}

#[test]
fn every_prefix_of_the_seeds_is_handled() {
    for seed in SEEDS {
        for end in (0..=seed.len()).filter(|&i| seed.is_char_boundary(i)) {
            check(&seed[..end]);
        }
    }
}
