//! The log's acknowledged head, kept outside the segments: the last tx whose
//! commit was acknowledged, and its hash. A log that ends before it lost
//! acknowledged transactions (a segment deleted, emptied or cut short, the
//! `log/` folder removed, an acknowledged write zeroed), which the segments
//! alone cannot show: a log cut at a record boundary looks whole.
//!
//! The file (`<store>/LOG_HEAD` on disk) holds two slots, one per 512-byte
//! sector, so that an update overwrites one sector in place with a single
//! `fdatasync` and a torn update leaves the other slot, the previous head,
//! intact:
//!
//! ```text
//! offset  size  field (slot k starts at k * 512)
//!      0     4  magic  b"CGLH"
//!      4     1  format version (1)
//!      5     3  zero
//!      8     8  tx number, u64 little-endian
//!     16    32  hash of that tx's record
//!     48    16  check: the first 16 bytes of blake3(domain, bytes 0..48)
//! ```
//! The newest valid slot wins. Updates alternate between the slots. The file
//! is created whole (written to a temporary file, fsynced, renamed, the
//! directory fsynced), so a crash never leaves a half-made head file.

use crate::model::Hash;

pub const MAGIC: [u8; 4] = *b"CGLH";
pub const VERSION: u8 = 1;
/// Bytes of one slot's record.
pub const RECORD_LEN: usize = 64;
/// Where slot `k` starts: one sector each, so a torn write damages only one.
pub const SLOT_STRIDE: usize = 512;
/// The whole file.
pub const FILE_LEN: usize = 2 * SLOT_STRIDE;
const DOMAIN: &[u8] = b"claimgraph/head/v1";

/// An acknowledged head: the last acknowledged tx and its hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub tx: u64,
    pub hash: Hash,
}

fn check(bytes: &[u8]) -> [u8; 16] {
    let mut h = blake3::Hasher::new();
    h.update(DOMAIN);
    h.update(bytes);
    let mut out = [0u8; 16];
    out.copy_from_slice(&h.finalize().as_bytes()[..16]);
    out
}

/// One slot's record.
pub fn encode_slot(head: Head) -> [u8; RECORD_LEN] {
    let mut out = [0u8; RECORD_LEN];
    out[0..4].copy_from_slice(&MAGIC);
    out[4] = VERSION;
    out[8..16].copy_from_slice(&head.tx.to_le_bytes());
    out[16..48].copy_from_slice(&head.hash.0);
    let c = check(&out[..48]);
    out[48..64].copy_from_slice(&c);
    out
}

fn decode_slot(bytes: &[u8]) -> Option<Head> {
    let b = bytes.get(..RECORD_LEN)?;
    if b[0..4] != MAGIC || b[4] != VERSION || b[5..8] != [0, 0, 0] || b[48..64] != check(&b[..48]) {
        return None;
    }
    let mut tx = [0u8; 8];
    tx.copy_from_slice(&b[8..16]);
    let mut hash = [0u8; 32];
    hash.copy_from_slice(&b[16..48]);
    Some(Head { tx: u64::from_le_bytes(tx), hash: Hash(hash) })
}

/// A whole head file with both slots holding `head`.
pub fn encode_file(head: Head) -> Vec<u8> {
    let mut out = vec![0u8; FILE_LEN];
    let slot = encode_slot(head);
    out[..RECORD_LEN].copy_from_slice(&slot);
    out[SLOT_STRIDE..SLOT_STRIDE + RECORD_LEN].copy_from_slice(&slot);
    out
}

/// The newest valid slot of a head file and its index; `None` when no slot
/// is valid (the file is damaged).
pub fn decode_file(bytes: &[u8]) -> Option<(Head, usize)> {
    (0..2)
        .filter_map(|k| bytes.get(k * SLOT_STRIDE..).and_then(decode_slot).map(|h| (h, k)))
        .max_by_key(|(h, k)| (h.tx, std::cmp::Reverse(*k)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(tx: u64) -> Head {
        Head { tx, hash: Hash([tx as u8; 32]) }
    }

    #[test]
    fn the_newest_valid_slot_wins() {
        let mut file = encode_file(head(3));
        assert_eq!(decode_file(&file), Some((head(3), 0)));
        file[SLOT_STRIDE..SLOT_STRIDE + RECORD_LEN].copy_from_slice(&encode_slot(head(4)));
        assert_eq!(decode_file(&file), Some((head(4), 1)));
        // A torn update of slot 0 leaves slot 1's head.
        file[..RECORD_LEN].fill(0);
        assert_eq!(decode_file(&file), Some((head(4), 1)));
    }

    #[test]
    fn any_flipped_bit_invalidates_a_slot() {
        let slot = encode_slot(head(7));
        for i in 0..RECORD_LEN {
            for bit in 0..8 {
                let mut b = slot;
                b[i] ^= 1 << bit;
                assert_eq!(decode_slot(&b), None, "byte {i} bit {bit}");
            }
        }
        assert_eq!(decode_file(&[0u8; FILE_LEN]), None);
        assert_eq!(decode_file(&[]), None);
    }
}
