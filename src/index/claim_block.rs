//! Claim records packed into blocks of [`CLAIMS_PER_BLOCK`] consecutive seqs,
//! one sled key per block instead of one per claim (a bulk load's key count
//! is what bounds its speed: sled pays per key, not per byte).
//!
//! Blocks are aligned: the block of seq `n` is `n / CLAIMS_PER_BLOCK`, so a
//! reader finds a claim with one `get` and the same claims always land in the
//! same block whatever the batching (a rebuild from the log writes identical
//! blocks). A block is a run of entries in seq order, each `seq u64 BE, len
//! u32 BE, codec(Claim)`. A chunk that continues a block an earlier chunk
//! started rewrites it with its claims appended; a retraction rewrites the
//! entry of its claim in place.

use super::IndexError;
use super::keys::{self, Key};

/// Claims per block (a power of two; ~110 bytes each in the news workload).
pub const CLAIMS_PER_BLOCK: u64 = 32;

const HEADER: usize = 12;

/// The key of the block holding `seq`.
pub fn block_key(seq: u64) -> Vec<u8> {
    Key::new(keys::CLAIM).u64(seq / CLAIMS_PER_BLOCK).into_vec()
}

fn damaged(what: &str) -> IndexError {
    IndexError::Corrupt(format!("claim block: {what}"))
}

/// The entries of a block as `(seq, start, end)` of each record, in order; seqs
/// of different blocks or out of order are damage.
fn entries(block: &[u8]) -> impl Iterator<Item = Result<(u64, usize, usize), IndexError>> + '_ {
    let mut at = 0;
    let mut prev: Option<u64> = None;
    std::iter::from_fn(move || {
        if at == block.len() {
            return None;
        }
        let Some(header) = block.get(at..at + HEADER) else {
            at = block.len();
            return Some(Err(damaged("truncated entry header")));
        };
        let seq = u64::from_be_bytes(header[..8].try_into().expect("8 bytes"));
        let len = u32::from_be_bytes(header[8..].try_into().expect("4 bytes")) as usize;
        if prev.is_some_and(|p| p >= seq || p / CLAIMS_PER_BLOCK != seq / CLAIMS_PER_BLOCK) {
            at = block.len();
            return Some(Err(damaged("entry seq out of place")));
        }
        prev = Some(seq);
        let (start, end) = (at + HEADER, at + HEADER + len);
        if end > block.len() {
            at = block.len();
            return Some(Err(damaged("entry runs past the end")));
        }
        at = end;
        Some(Ok((seq, start, end)))
    })
}

/// The encoded record of `seq` in a block, if the block holds it. Every entry
/// header is checked (at most 32 hops), so a damaged seq is an error rather
/// than a claim that silently goes missing.
pub fn find(block: &[u8], seq: u64) -> Result<Option<&[u8]>, IndexError> {
    let mut found = None;
    for entry in entries(block) {
        let (s, start, end) = entry?;
        if s == seq {
            found = Some(&block[start..end]);
        }
    }
    Ok(found)
}

/// Appends the record of `seq`, which must follow every seq in the block.
pub fn append(block: &mut Vec<u8>, seq: u64, record: &[u8]) -> Result<(), IndexError> {
    let len = u32::try_from(record.len()).map_err(|_| damaged("record over 4 GiB"))?;
    block.extend_from_slice(&seq.to_be_bytes());
    block.extend_from_slice(&len.to_be_bytes());
    block.extend_from_slice(record);
    Ok(())
}

/// Replaces the record of `seq`; false if the block does not hold it.
pub fn replace(block: &mut Vec<u8>, seq: u64, record: &[u8]) -> Result<bool, IndexError> {
    let len = u32::try_from(record.len()).map_err(|_| damaged("record over 4 GiB"))?;
    let found = entries(block).find(|e| e.as_ref().map_or(true, |(s, ..)| *s == seq));
    let Some((_, start, end)) = found.transpose()? else {
        return Ok(false);
    };
    block[start - 4..start].copy_from_slice(&len.to_be_bytes());
    block.splice(start..end, record.iter().copied());
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_find_replace() {
        let mut block = Vec::new();
        append(&mut block, 64, b"first").unwrap();
        append(&mut block, 65, b"").unwrap();
        append(&mut block, 66, b"third").unwrap();
        assert_eq!(find(&block, 64).unwrap(), Some(&b"first"[..]));
        assert_eq!(find(&block, 65).unwrap(), Some(&b""[..]));
        assert_eq!(find(&block, 66).unwrap(), Some(&b"third"[..]));
        assert_eq!(find(&block, 67).unwrap(), None);
        assert_eq!(find(&block, 1).unwrap(), None);

        assert!(replace(&mut block, 65, b"now longer").unwrap());
        assert!(replace(&mut block, 64, b"1").unwrap());
        assert!(!replace(&mut block, 99, b"x").unwrap());
        assert_eq!(find(&block, 64).unwrap(), Some(&b"1"[..]));
        assert_eq!(find(&block, 65).unwrap(), Some(&b"now longer"[..]));
        assert_eq!(find(&block, 66).unwrap(), Some(&b"third"[..]));
    }

    #[test]
    fn blocks_are_aligned() {
        assert_eq!(block_key(0), block_key(CLAIMS_PER_BLOCK - 1));
        assert_ne!(block_key(CLAIMS_PER_BLOCK - 1), block_key(CLAIMS_PER_BLOCK));
        assert!(block_key(CLAIMS_PER_BLOCK) < block_key(2 * CLAIMS_PER_BLOCK));
    }

    #[test]
    fn damage_is_an_error_not_a_panic() {
        let mut block = Vec::new();
        append(&mut block, 7, b"record").unwrap();
        for cut in 1..block.len() {
            let short = &block[..cut];
            assert!(find(short, 7).is_err(), "cut at {cut}");
            assert!(find(short, 8).is_err(), "cut at {cut}");
            assert!(replace(&mut short.to_vec(), 7, b"x").is_err(), "cut at {cut}");
        }
        let mut long = block.clone();
        long[11] = 0xFF;
        assert!(find(&long, 7).is_err());
    }

    #[test]
    fn a_damaged_seq_is_an_error_not_a_missing_claim() {
        let mut block = Vec::new();
        append(&mut block, 33, b"first").unwrap();
        append(&mut block, 34, b"second").unwrap();
        // The first entry's seq is damaged: a seq of another block, or out of order.
        for bad in [u64::MAX, 99, 35, 34] {
            let mut damaged = block.clone();
            damaged[..8].copy_from_slice(&bad.to_be_bytes());
            assert!(find(&damaged, 34).is_err(), "seq {bad}");
            assert!(find(&damaged, 33).is_err(), "seq {bad}");
        }
    }
}
