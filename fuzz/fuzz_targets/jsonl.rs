//! Feeds arbitrary bytes to the JSON Lines importer's line parser, line by
//! line: every line must give a transaction or an error, never a panic, and
//! the parse must not allocate without bound (libFuzzer's `-rss_limit_mb`
//! and `-malloc_limit_mb` catch that). A line that parses, written back as
//! export writes a committed transaction and parsed again, must give the
//! same author, message, time and events (whatever the spelling it came
//! in). tests/fuzz_corpus.rs replays the corpus with the same checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for line in data.split(|&b| b == b'\n') {
        let Ok(text) = std::str::from_utf8(line) else { continue };
        let Ok(tx) = claimgraph::jsonl::parse_line(text) else { continue };
        if let Err(e) = claimgraph::jsonl::check_round_trip(&tx) {
            panic!("{e}");
        }
    }
});
