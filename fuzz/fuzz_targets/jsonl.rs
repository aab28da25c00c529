//! Feeds arbitrary bytes to the JSON Lines importer's line parser, line by
//! line: every line must give a transaction or an error, never a panic, and
//! the parse must not allocate without bound (libFuzzer's `-rss_limit_mb`
//! and `-malloc_limit_mb` catch that). A line that parses, written back as
//! export writes a committed transaction and parsed again, must give the
//! same author, message, time and events (whatever the spelling it came
//! in). tests/fuzz_corpus.rs replays the corpus with the same checks.
#![no_main]

use claimgraph::model::{Hash, Timestamp, TxBody, TxRecord};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for line in data.split(|&b| b == b'\n') {
        let Ok(text) = std::str::from_utf8(line) else { continue };
        let Ok(tx) = claimgraph::jsonl::parse_line(text) else { continue };
        let at = tx.recorded_at.unwrap_or(Timestamp(1_700_000_000_000_000));
        let body = TxBody {
            recorded_at: at,
            author: tx.author.clone(),
            message: tx.message.clone(),
            events: tx.events.clone(),
        };
        let rec = TxRecord { tx: tx.expect_tx.unwrap_or(1), prev_hash: Hash::ZERO, hash: Hash::ZERO, body };
        let written = claimgraph::jsonl::format_record(&rec);
        let again = claimgraph::jsonl::parse_line(&written).expect("an exported line parses");
        assert_eq!(
            (&again.author, &again.message, again.recorded_at, &again.events, again.expect_tx),
            (&tx.author, &tx.message, Some(at), &tx.events, Some(rec.tx)),
            "{written}"
        );
    }
});
