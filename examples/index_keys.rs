//! Counts a store's index entries per logical tree: keys, key bytes, value
//! bytes, and keys per claim. A bulk load's speed is bounded by how many sled
//! keys it writes (BENCHMARKS.md §5.2), so this is the number to watch when
//! the layout changes.
//!
//! `cargo run --release --example index_keys -- STORE` (the store must not be
//! open in another process: sled locks its directory).

use std::collections::BTreeMap;

use claimgraph::index::keys;

fn tree_name(tag: u8) -> &'static str {
    match tag {
        keys::META => "META",
        keys::TERM => "TERM",
        keys::TERM_OF => "TERM_OF",
        keys::ENT => "ENT",
        keys::NAME => "NAME",
        keys::MERGE => "MERGE",
        keys::MEMBER => "MEMBER",
        keys::PRED => "PRED",
        keys::CLAIM => "CLAIM",
        keys::CLAIM_ID => "CLAIM_ID",
        keys::KIND => "KIND",
        keys::PUB => "PUB",
        keys::SPO => "SPO",
        keys::OPS => "OPS",
        keys::PSO => "PSO",
        keys::BY => "BY",
        keys::SRC => "SRC",
        keys::TX => "TX",
        keys::TX_TIME => "TX_TIME",
        _ => "?",
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(store) = std::env::args().nth(1) else {
        return Err("usage: index_keys STORE".into());
    };
    let dir = claimgraph::store::live_index_dir(std::path::Path::new(&store));
    // sled would create an empty database here and report zero keys.
    if !dir.is_dir() {
        return Err(format!("{}: no index directory (is {store} a claimgraph store?)", dir.display()).into());
    }
    let db = sled::Config::new().path(&dir).open()?;
    let mut trees: BTreeMap<u8, [u64; 3]> = BTreeMap::new();
    for entry in db.iter() {
        let (k, v) = entry?;
        let t = trees.entry(k.first().copied().unwrap_or(0)).or_default();
        t[0] += 1;
        t[1] += k.len() as u64;
        t[2] += v.len() as u64;
    }
    let next_seq = db.get(claimgraph::index::meta_key(claimgraph::index::meta::NEXT_SEQ))?;
    let next_seq = next_seq.and_then(|v| <[u8; 8]>::try_from(&v[..]).ok()).map_or(1, u64::from_be_bytes);
    let claims = next_seq.saturating_sub(1).max(1) as f64;
    println!("{:<9} {:>10} {:>12} {:>14} {:>11}", "tree", "keys", "key bytes", "value bytes", "keys/claim");
    let mut total = [0u64; 3];
    for (tag, [n, kb, vb]) in &trees {
        println!("{:<9} {n:>10} {kb:>12} {vb:>14} {:>11.3}", tree_name(*tag), *n as f64 / claims);
        total = [total[0] + n, total[1] + kb, total[2] + vb];
    }
    let [n, kb, vb] = total;
    println!("{:<9} {n:>10} {kb:>12} {vb:>14} {:>11.3}", "total", n as f64 / claims);
    Ok(())
}
