//! SQLite (bundled, in the same process) as the side-by-side peer: a
//! straightforward schema — a claims table with the columns of a claim,
//! entities, documents, transactions; indexes on (s,p,o), (o,p,s), p, speaker,
//! source, valid_from and documents(published) — loaded from the same JSON
//! Lines, and each query of the suite in the best SQL found for it (EXPLAIN
//! QUERY PLAN checked; see BENCHMARKS.md).
//!
//! Claims keep entity references as integer ids, dates as ISO `YYYY-MM-DD`
//! text (the workload's dates are all day-precision, so text order is date
//! order), literal objects as their display text in `o_lit`.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use rusqlite::{Connection, params};

use super::suite::{Q, Row, entity_text};
use crate::r#gen::Pick;
use crate::jsonl;
use crate::model::{Event, Term};

/// An open SQLite database of the workload.
pub struct Sqlite {
    conn: Connection,
}

const SCHEMA: &str = "
CREATE TABLE transactions (tx INTEGER PRIMARY KEY, recorded_at TEXT, author TEXT, message TEXT);
CREATE TABLE entities (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, kind TEXT, name TEXT);
CREATE TABLE documents (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, title TEXT, publisher TEXT,
                        published TEXT);
CREATE TABLE claims (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    s INTEGER NOT NULL,
    p TEXT NOT NULL,
    o INTEGER,
    o_lit TEXT,
    by INTEGER,
    source INTEGER,
    valid_from TEXT,
    valid_to TEXT,
    said_at TEXT,
    stance TEXT NOT NULL,
    confidence REAL,
    quote TEXT,
    tx INTEGER NOT NULL,
    retracted_tx INTEGER,
    retract_reason TEXT
);
";

const INDEXES: &str = "
CREATE INDEX claims_spo ON claims(s, p, o);
CREATE INDEX claims_ops ON claims(o, p, s);
CREATE INDEX claims_p ON claims(p);
CREATE INDEX claims_by ON claims(by);
CREATE INDEX claims_source ON claims(source);
CREATE INDEX claims_valid_from ON claims(valid_from);
CREATE INDEX documents_published ON documents(published);
ANALYZE;
";

const ENTITY: &str = "(SELECT id FROM entities WHERE key = ?1)";

/// The SQL of each query. Parameters: Q1/Q7/Q8 `?1` = X; Q2/Q3 `?2` = P;
/// Q4 `?1` = S, `?2`..`?3` = window; Q5 `?2` = tx; Q6 `?2` = date.
pub fn sql(q: Q) -> String {
    let object =
        "SELECT c.p, e.key, e.name, e.kind, c.o_lit FROM claims c LEFT JOIN entities e ON e.id = c.o";
    match q {
        Q::Q1 => format!("{object} WHERE c.s = {ENTITY} AND c.retracted_tx IS NULL"),
        Q::Q2 => format!("{object} WHERE c.s = {ENTITY} AND c.p = ?2 AND c.retracted_tx IS NULL"),
        // The semi-join rewrite: each y once, however many claims reach it.
        Q::Q3 => format!(
            "SELECT e.key, e.name, e.kind, z.o_lit FROM (
                 SELECT DISTINCT c2.o, c2.o_lit FROM claims c2
                 WHERE c2.s IN (SELECT c1.o FROM claims c1
                                WHERE c1.s = {ENTITY} AND c1.p = ?2 AND c1.retracted_tx IS NULL
                                  AND c1.o IS NOT NULL)
                   AND c2.retracted_tx IS NULL) z
             LEFT JOIN entities e ON e.id = z.o"
        ),
        Q::Q4 => format!(
            "SELECT c.id FROM claims c JOIN documents d ON d.id = c.source
             WHERE c.by = {ENTITY} AND c.retracted_tx IS NULL AND d.published >= ?2 AND d.published <= ?3"
        ),
        Q::Q5 => format!(
            "{object} WHERE c.s = {ENTITY} AND c.tx <= ?2 AND (c.retracted_tx IS NULL OR c.retracted_tx > ?2)"
        ),
        Q::Q6 => {
            let valid =
                "c.retracted_tx IS NULL AND c.valid_from <= ?2 AND (c.valid_to IS NULL OR c.valid_to >= ?2)";
            format!(
                "SELECT c.id FROM claims c WHERE c.s = {ENTITY} AND {valid}
                 UNION ALL
                 SELECT c.id FROM claims c WHERE c.o = {ENTITY} AND {valid}"
            )
        }
        Q::Q7 => format!(
            "SELECT c.p, count(*) AS n FROM claims c WHERE c.s = {ENTITY} AND c.retracted_tx IS NULL
             GROUP BY c.p ORDER BY n DESC, c.p LIMIT 10"
        ),
        // X's live claims once (a materialized CTE), joined with themselves on
        // (s, p, o): asserts/suggests against denies with overlapping valid time.
        Q::Q8 => format!(
            "WITH about AS MATERIALIZED (
                 SELECT seq, id, s, p, o, o_lit, stance, valid_from, valid_to FROM claims
                 WHERE s = {ENTITY} AND retracted_tx IS NULL
                 UNION ALL
                 SELECT seq, id, s, p, o, o_lit, stance, valid_from, valid_to FROM claims
                 WHERE o = {ENTITY} AND retracted_tx IS NULL)
             SELECT a.id, d.id FROM about a JOIN about d
               ON d.s = a.s AND d.p = a.p AND d.o IS a.o AND d.o_lit IS a.o_lit
             WHERE a.stance <> 'denies' AND d.stance = 'denies'
               AND COALESCE(a.valid_from, '') <= COALESCE(d.valid_to, '9999-12-31')
               AND COALESCE(d.valid_from, '') <= COALESCE(a.valid_to, '9999-12-31')"
        ),
    }
}

/// The straightforward two-hop join (for reference: every claim reaching y
/// scans y's claims again).
pub const Q3_NAIVE: &str = "SELECT DISTINCT e.key, e.name, e.kind, c2.o_lit FROM claims c1
    JOIN claims c2 ON c2.s = c1.o LEFT JOIN entities e ON e.id = c2.o
    WHERE c1.s = (SELECT id FROM entities WHERE key = ?1) AND c1.p = ?2
      AND c1.retracted_tx IS NULL AND c2.retracted_tx IS NULL";

fn e(err: rusqlite::Error) -> String {
    format!("sqlite: {err}")
}

fn object(key: Option<String>, name: Option<String>, kind: Option<String>, lit: Option<String>) -> String {
    match key {
        Some(k) => entity_text(&k, &name.unwrap_or_default(), &kind.unwrap_or_default()),
        None => lit.unwrap_or_default(),
    }
}

/// What a load did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Loaded {
    pub transactions: u64,
    pub claims: u64,
}

impl Sqlite {
    fn configure(conn: &Connection) -> Result<(), String> {
        // Durable commits (WAL, fsync at commit) and a 256 MiB page cache, as
        // claimgraph's sled gets.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA cache_size = -262144;
             PRAGMA temp_store = MEMORY;",
        )
        .map_err(e)
    }

    /// Opens an existing database.
    pub fn open(path: &Path) -> Result<Sqlite, String> {
        let conn = Connection::open(path).map_err(e)?;
        Sqlite::configure(&conn)?;
        Ok(Sqlite { conn })
    }

    /// A new, empty database at `path` (an old one is removed).
    pub fn create(path: &Path) -> Result<Sqlite, String> {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            let _ = std::fs::remove_file(&p);
        }
        let conn = Connection::open(path).map_err(e)?;
        Sqlite::configure(&conn)?;
        conn.execute_batch(SCHEMA).map_err(e)?;
        Ok(Sqlite { conn })
    }

    /// The connection, for ad-hoc SQL.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Loads JSON Lines (parsed with the same parser claimgraph's import uses)
    /// in one transaction, then builds the indexes. `progress` gets bytes read.
    pub fn load(&mut self, input: impl BufRead, progress: &mut dyn FnMut(u64)) -> Result<Loaded, String> {
        let tx = self.conn.transaction().map_err(e)?;
        let mut loaded = Loaded::default();
        {
            let mut ins_tx = tx
                .prepare(
                    "INSERT INTO transactions (tx, recorded_at, author, message) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(e)?;
            let mut ins_entity = tx
                .prepare("INSERT INTO entities (id, key, kind, name) VALUES (?1, ?2, ?3, ?4)")
                .map_err(e)?;
            let mut ins_doc = tx
                .prepare("INSERT INTO documents (id, key, title, publisher, published) VALUES (?1, ?2, ?3, ?4, ?5)")
                .map_err(e)?;
            let mut ins_claim = tx
                .prepare(
                    "INSERT INTO claims (seq, id, s, p, o, o_lit, by, source, valid_from, valid_to, said_at,
                                         stance, confidence, quote, tx)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                )
                .map_err(e)?;
            let mut retract = tx
                .prepare("UPDATE claims SET retracted_tx = ?1, retract_reason = ?2 WHERE id = ?3")
                .map_err(e)?;
            let mut ids: HashMap<String, i64> = HashMap::new();
            let mut published: HashMap<i64, Option<String>> = HashMap::new();
            let mut seq = 0i64;
            let mut bytes = 0u64;
            for (lineno, line) in input.lines().enumerate() {
                let line = line.map_err(|err| format!("line {}: {err}", lineno + 1))?;
                bytes += line.len() as u64 + 1;
                if line.trim().is_empty() {
                    continue;
                }
                let t = jsonl::parse_line(&line).map_err(|m| format!("line {}: {m}", lineno + 1))?;
                loaded.transactions += 1;
                let txno = loaded.transactions as i64;
                let at = t.recorded_at.map(|r| r.to_string());
                ins_tx.execute(params![txno, at, t.author, t.message]).map_err(e)?;
                for ev in t.events {
                    match ev {
                        Event::Entity(en) => {
                            let id = ids.len() as i64 + 1;
                            ids.insert(en.key.clone(), id);
                            ins_entity.execute(params![id, en.key, en.kind, en.name]).map_err(e)?;
                        }
                        Event::Document(d) => {
                            let id = ids.len() as i64 + 1;
                            ids.insert(d.key.clone(), id);
                            let date = d.published.map(|p| p.to_string());
                            published.insert(id, date.clone());
                            ins_doc.execute(params![id, d.key, d.title, d.publisher, date]).map_err(e)?;
                        }
                        Event::Predicate(_) => {}
                        Event::Assert(a) => {
                            seq += 1;
                            let id_of = |k: &str| {
                                ids.get(k)
                                    .copied()
                                    .ok_or_else(|| format!("line {}: unknown `{k}`", lineno + 1))
                            };
                            let (o, o_lit) = match &a.o {
                                Term::Entity(k) => (Some(id_of(k)?), None),
                                t => (None, Some(t.to_string())),
                            };
                            let by = a.by.as_deref().map(id_of).transpose()?;
                            let source = a.source.as_deref().map(id_of).transpose()?;
                            let said_at = match (a.said_at, source) {
                                (Some(d), _) => Some(d.to_string()),
                                (None, Some(src)) => published.get(&src).cloned().flatten(),
                                _ => None,
                            };
                            let id = a.claim.clone().unwrap_or_else(|| format!("c{seq}"));
                            ins_claim
                                .execute(params![
                                    seq,
                                    id,
                                    id_of(&a.s)?,
                                    a.p,
                                    o,
                                    o_lit,
                                    by,
                                    source,
                                    a.valid.from.map(|d| d.to_string()),
                                    a.valid.to.map(|d| d.to_string()),
                                    said_at,
                                    a.stance.as_str(),
                                    a.confidence,
                                    a.quote,
                                    txno
                                ])
                                .map_err(e)?;
                            loaded.claims += 1;
                        }
                        Event::Retract { claim, reason } => {
                            retract.execute(params![txno, reason, claim]).map_err(e)?;
                        }
                        Event::Merge { .. } | Event::Unmerge { .. } => {
                            return Err(format!(
                                "line {}: merges are not in the benchmark schema",
                                lineno + 1
                            ));
                        }
                    }
                }
                progress(bytes);
            }
        }
        tx.execute_batch(INDEXES).map_err(e)?;
        tx.commit().map_err(e)?;
        self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").map_err(e)?;
        Ok(loaded)
    }

    /// Commits one claim in its own durable transaction (the ingest bench's
    /// "one small commit").
    pub fn commit_one(&self, s: i64, p: &str, o: i64) -> Result<(), String> {
        let tx = self.conn.unchecked_transaction().map_err(e)?;
        let seq: i64 =
            tx.query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM claims", [], |r| r.get(0)).map_err(e)?;
        let txno: i64 =
            tx.query_row("SELECT COALESCE(MAX(tx), 0) + 1 FROM transactions", [], |r| r.get(0)).map_err(e)?;
        tx.execute("INSERT INTO transactions (tx, author) VALUES (?1, 'bench')", params![txno]).map_err(e)?;
        tx.execute(
            "INSERT INTO claims (seq, id, s, p, o, stance, tx) VALUES (?1, ?2, ?3, ?4, ?5, 'asserts', ?6)",
            params![seq, format!("c{seq}"), s, p, o, txno],
        )
        .map_err(e)?;
        tx.commit().map_err(e)
    }

    /// Runs one query for one pick; rows in the suite's canonical form.
    pub fn run(&self, q: Q, pick: &Pick) -> Result<Vec<Row>, String> {
        self.run_sql(q, &sql(q), pick)
    }

    /// Runs `text` (a variant of `q`'s SQL with the same parameters and columns).
    pub fn run_sql(&self, q: Q, text: &str, pick: &Pick) -> Result<Vec<Row>, String> {
        let mut stmt = self.conn.prepare_cached(text).map_err(e)?;
        let x = pick.x.clone().unwrap_or_default();
        let rows: Vec<Row> = match q {
            Q::Q1 | Q::Q2 | Q::Q5 => {
                let second: Box<dyn rusqlite::ToSql> = match q {
                    Q::Q2 => Box::new(pick.p.clone().unwrap_or_default()),
                    Q::Q5 => Box::new(pick.tx.unwrap_or(0) as i64),
                    _ => Box::new(rusqlite::types::Null),
                };
                let map = |r: &rusqlite::Row<'_>| {
                    Ok(vec![r.get::<_, String>(0)?, object(r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)])
                };
                if q == Q::Q1 {
                    stmt.query_map(params![x], map).map_err(e)?.collect::<Result<_, _>>().map_err(e)?
                } else {
                    stmt.query_map(params![x, second], map)
                        .map_err(e)?
                        .collect::<Result<_, _>>()
                        .map_err(e)?
                }
            }
            Q::Q3 => stmt
                .query_map(params![x, pick.p.clone().unwrap_or_default()], |r| {
                    Ok(vec![object(r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)])
                })
                .map_err(e)?
                .collect::<Result<_, _>>()
                .map_err(e)?,
            Q::Q4 => stmt
                .query_map(params![pick.speaker.clone().unwrap_or_default(), pick.from, pick.to], |r| {
                    Ok(vec![r.get::<_, String>(0)?])
                })
                .map_err(e)?
                .collect::<Result<_, _>>()
                .map_err(e)?,
            Q::Q6 => stmt
                .query_map(params![x, pick.date], |r| Ok(vec![r.get::<_, String>(0)?]))
                .map_err(e)?
                .collect::<Result<_, _>>()
                .map_err(e)?,
            Q::Q7 => stmt
                .query_map(params![x], |r| Ok(vec![r.get::<_, String>(0)?, r.get::<_, i64>(1)?.to_string()]))
                .map_err(e)?
                .collect::<Result<_, _>>()
                .map_err(e)?,
            Q::Q8 => stmt
                .query_map(params![x], |r| Ok(vec![r.get::<_, String>(0)?, r.get::<_, String>(1)?]))
                .map_err(e)?
                .collect::<Result<_, _>>()
                .map_err(e)?,
        };
        Ok(q.normalize(rows))
    }

    /// The query plan SQLite chooses for a query (EXPLAIN QUERY PLAN).
    pub fn plan(&self, q: Q) -> Result<String, String> {
        let text = format!("EXPLAIN QUERY PLAN {}", sql(q));
        let mut stmt = self.conn.prepare(&text).map_err(e)?;
        let n = stmt.parameter_count();
        let nulls: Vec<rusqlite::types::Value> = vec![rusqlite::types::Value::Null; n];
        let lines: Vec<String> = stmt
            .query_map(rusqlite::params_from_iter(nulls), |r| r.get::<_, String>(3))
            .map_err(e)?
            .collect::<Result<_, _>>()
            .map_err(e)?;
        Ok(lines.join("\n"))
    }
}
