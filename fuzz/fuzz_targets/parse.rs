//! Feeds arbitrary bytes to the query parser: it must return a statement or a
//! positioned error, never panic, and whatever it accepts must print back to
//! text that parses to the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(stmt) = claimgraph::query::parse_statement(text) {
        let printed = stmt.to_string();
        let again = claimgraph::query::parse_statement(&printed).expect("printed statements re-parse");
        assert_eq!(stmt, again);
    }
    let _ = claimgraph::query::parse_script(text);
});
