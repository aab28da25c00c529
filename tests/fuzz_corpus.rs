//! Replays the checked-in fuzz corpora through the same checks the fuzz
//! targets make, so an ordinary `cargo test` keeps every saved input honest.

use std::path::Path;

fn corpus(name: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(name);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
        .collect();
    files.sort();
    files
}

#[test]
fn parser_corpus_never_panics_and_round_trips() {
    let files = corpus("parse");
    assert!(files.len() > 50, "the parse corpus should hold the grammar's examples");
    for (name, data) in files {
        let Ok(text) = std::str::from_utf8(&data) else { continue };
        if let Ok(stmt) = claimgraph::query::parse_statement(text) {
            let printed = stmt.to_string();
            let again = claimgraph::query::parse_statement(&printed)
                .unwrap_or_else(|e| panic!("{name}: printed form does not parse: {e}\n{printed}"));
            assert_eq!(stmt, again, "{name}");
        }
        let _ = claimgraph::query::parse_script(text);
    }
}
