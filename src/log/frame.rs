//! The byte layout of one log record (a committed transaction), and the checks
//! that decide whether bytes at an offset are a valid record.
//!
//! ```text
//! offset  size  field
//!      0     4  magic  b"CGLR"
//!      4     1  format version (1)
//!      5     2  write position, u16 little-endian (see below)
//!      7     1  check byte of the write position: byte 5 XOR byte 6
//!      8     4  body length, u32 little-endian (at most codec::MAX_DECODE_BYTES)
//!     12     8  tx number, u64 little-endian
//!     20    32  hash of the previous record (zeros before tx 1)
//!     52    32  this record's hash
//!     84     n  body: the codec encoding of a TxBody
//! ```
//! The hash is blake3 over a domain tag, version, length, tx, previous hash and
//! body, so it is at once the checksum (verified before the body is decoded) and
//! the link of the hash chain. blake3 because it is fast (GB/s, so verifying the
//! whole log on open is cheap), cryptographic, and a small well-kept crate.
//!
//! What the chain proves, and what it does not: a record's hash commits to it
//! and to every record before it, so accidental damage is always caught, and
//! nobody can make two different logs with the same hash at tx `N` (that would
//! be a blake3 collision). But the chain is unkeyed and lives in the files it
//! protects: whoever can write them can change a record and recompute every
//! hash after it (and the head file), and the result checks out. Only a hash
//! kept elsewhere shows that: a checkpoint ([`super::checkpoint`],
//! `claimgraph verify --against`).
//!
//! The *write position* is the record's index among the records written by one
//! append (one fsync): 0 for the first, 1 for the next, and so on. It lets
//! recovery tell a torn multi-record write, whose sectors may reach the disk in
//! any order when the power goes (a later record durable, an earlier one not),
//! from damage to records that had been synced: a valid record after damage
//! at tx `T` was written together with tx `T` iff `tx - position <= T`. It is
//! left out of the hash, so that a record's hash does not depend on how
//! transactions were batched (an export imported elsewhere reproduces every
//! hash); the check byte catches any single damaged bit in it, and it only
//! ever steers the torn-or-damaged decision, never what is read as data.
//! Records written before it existed have position 0 (three zero bytes).

use crate::codec;
use crate::model::Hash;

pub const MAGIC: [u8; 4] = *b"CGLR";
pub const VERSION: u8 = 1;
pub const HEADER_LEN: usize = 84;
const DOMAIN: &[u8] = b"claimgraph/tx/v1";

/// A frame's header fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub body_len: usize,
    /// The record's index within the write (append) that wrote it.
    pub write_pos: u16,
    pub tx: u64,
    pub prev: Hash,
    pub hash: Hash,
}

/// Why the bytes at an offset are not a valid record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameFault {
    /// Fewer bytes remain than the header or the body needs.
    Truncated {
        have: usize,
        need: usize,
    },
    BadMagic,
    BadVersion(u8),
    /// The write position and its check byte disagree.
    BadReserved,
    /// The length field is larger than any record may be.
    BadLength(u64),
    /// The recomputed hash differs: the bytes were damaged.
    BadChecksum,
}

impl std::fmt::Display for FrameFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameFault::Truncated { have, need } => {
                write!(f, "record is incomplete ({have} of {need} bytes)")
            }
            FrameFault::BadMagic => write!(f, "no record marker"),
            FrameFault::BadVersion(v) => write!(f, "unknown record format version {v}"),
            FrameFault::BadReserved => write!(f, "the write-position bytes are damaged"),
            FrameFault::BadLength(n) => write!(f, "record length {n} exceeds the limit"),
            FrameFault::BadChecksum => write!(f, "checksum mismatch (the record is damaged)"),
        }
    }
}

/// The hash of a record with these fields.
pub fn record_hash(tx: u64, prev: &Hash, body: &[u8]) -> Hash {
    let mut h = blake3::Hasher::new();
    h.update(DOMAIN);
    h.update(&[VERSION]);
    h.update(&(body.len() as u32).to_le_bytes());
    h.update(&tx.to_le_bytes());
    h.update(&prev.0);
    h.update(body);
    Hash(*h.finalize().as_bytes())
}

/// Builds the bytes of a record that is alone in its write.
pub fn encode(tx: u64, prev: &Hash, body: &[u8]) -> (Vec<u8>, Hash) {
    encode_in_write(tx, prev, body, 0)
}

/// Builds the bytes of a record at position `write_pos` of a write.
pub fn encode_in_write(tx: u64, prev: &Hash, body: &[u8], write_pos: u16) -> (Vec<u8>, Hash) {
    let hash = record_hash(tx, prev, body);
    let [lo, hi] = write_pos.to_le_bytes();
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&[VERSION, lo, hi, lo ^ hi]);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&tx.to_le_bytes());
    out.extend_from_slice(&prev.0);
    out.extend_from_slice(&hash.0);
    out.extend_from_slice(body);
    (out, hash)
}

/// Checks the record starting at `bytes[0]`: header, length, and checksum.
/// Returns the header; the body is `bytes[HEADER_LEN..HEADER_LEN + body_len]`.
pub fn check(bytes: &[u8]) -> Result<Header, FrameFault> {
    if bytes.len() < HEADER_LEN {
        if !MAGIC.starts_with(&bytes[..bytes.len().min(4)]) {
            return Err(FrameFault::BadMagic);
        }
        return Err(FrameFault::Truncated { have: bytes.len(), need: HEADER_LEN });
    }
    if bytes[0..4] != MAGIC {
        return Err(FrameFault::BadMagic);
    }
    if bytes[4] != VERSION {
        return Err(FrameFault::BadVersion(bytes[4]));
    }
    if bytes[7] != bytes[5] ^ bytes[6] {
        return Err(FrameFault::BadReserved);
    }
    let body_len = u32::from_le_bytes(take(&bytes[8..12])) as usize;
    if body_len > codec::MAX_DECODE_BYTES {
        return Err(FrameFault::BadLength(body_len as u64));
    }
    let need = HEADER_LEN + body_len;
    if bytes.len() < need {
        return Err(FrameFault::Truncated { have: bytes.len(), need });
    }
    let header = Header {
        body_len,
        write_pos: u16::from_le_bytes([bytes[5], bytes[6]]),
        tx: u64::from_le_bytes(take(&bytes[12..20])),
        prev: Hash(take(&bytes[20..52])),
        hash: Hash(take(&bytes[52..84])),
    };
    if record_hash(header.tx, &header.prev, &bytes[HEADER_LEN..need]) != header.hash {
        return Err(FrameFault::BadChecksum);
    }
    Ok(header)
}

/// The first valid record that starts anywhere in `bytes`, with its offset
/// (used to tell a torn tail, after which nothing valid follows, from damage
/// in the middle).
pub fn any_valid_record(bytes: &[u8]) -> Option<(usize, Header)> {
    let mut from = 0;
    while let Some(i) = find(&bytes[from..], &MAGIC) {
        let at = from + i;
        if let Ok(h) = check(&bytes[at..]) {
            return Some((at, h));
        }
        from = at + 1;
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn take<const N: usize>(s: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(s);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_then_check() {
        let (bytes, hash) = encode(7, &Hash::ZERO, b"body");
        let h = check(&bytes).unwrap();
        assert_eq!((h.tx, h.body_len, h.hash), (7, 4, hash));
        assert_eq!(&bytes[HEADER_LEN..], b"body");
    }

    #[test]
    fn the_write_position_round_trips_outside_the_hash() {
        for pos in [0u16, 1, 2, 255, 256, 4097, u16::MAX] {
            let (bytes, hash) = encode_in_write(9, &Hash::ZERO, b"body", pos);
            let h = check(&bytes).unwrap();
            assert_eq!((h.write_pos, h.hash), (pos, hash));
            assert_eq!(hash, encode(9, &Hash::ZERO, b"body").1, "the hash ignores the position");
        }
    }

    #[test]
    fn every_damage_is_detected() {
        for pos in [0u16, 3, 300] {
            every_damage_is_detected_at(pos);
        }
    }

    fn every_damage_is_detected_at(pos: u16) {
        let (bytes, _) = encode_in_write(1, &Hash::ZERO, b"some body bytes", pos);
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                assert!(check(&b).is_err(), "flip at byte {i} bit {bit} went unnoticed");
            }
        }
        for cut in 0..bytes.len() {
            assert!(check(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn hostile_length_is_rejected_before_reading() {
        let (mut bytes, _) = encode(1, &Hash::ZERO, b"x");
        bytes[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(check(&bytes), Err(FrameFault::BadLength(u32::MAX as u64)));
    }
}
