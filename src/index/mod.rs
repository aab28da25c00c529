//! Derived, disposable indexes in sled: interned terms, versioned entity and
//! predicate state, merges, claim records in blocks, and posting blocks in
//! five orderings.
//!
//! [`keys`] owns every byte layout; [`writer`] turns transactions into one
//! atomic batch; [`snapshot`] reads the state as of a tx. Everything here can
//! be rebuilt from the log alone.

pub mod backend;
pub mod claim_block;
pub mod keys;
pub mod posting;
pub mod snapshot;
pub mod writer;

use serde::{Deserialize, Serialize};

pub use backend::{IndexBackend, KvRead, SledBackend};
pub use posting::Posting;
pub use snapshot::{Ordering, Snapshot};
pub use writer::ChunkWriter;

use crate::model::{Hash, Timestamp};

/// The index layout version, checked on open; a mismatch means rebuild.
/// 2: claim blocks (01f1a03, still with valid-from postings); 3: without them;
/// 4: postings flag an entity object (top bit of the stance byte); 5: and an
/// assigned claim id (the next bit).
pub const FORMAT_VERSION: u64 = 5;

/// Errors of the index layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    #[error("index storage error: {0}")]
    Backend(String),
    #[error("the index storage panicked: {0}")]
    Panicked(String),
    #[error("the index is damaged: {0}")]
    Corrupt(String),
}

/// What the index keeps about each transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TxMeta {
    pub tx: u64,
    pub recorded_at: Timestamp,
    pub author: String,
    pub message: Option<String>,
    pub hash: Hash,
    pub events: u32,
}

/// META entry names.
pub mod meta {
    pub const APPLIED: &[u8] = b"applied";
    pub const NEXT_TERM: &[u8] = b"next_term";
    pub const NEXT_SEQ: &[u8] = b"next_seq";
    pub const FORMAT: &[u8] = b"format";
    pub const HEAD_HASH: &[u8] = b"head_hash";
}

/// Reads a META u64 (0 when absent).
pub fn read_meta<R: KvRead + ?Sized>(kv: &R, name: &[u8]) -> Result<u64, IndexError> {
    let key = keys::Key::new(keys::META).bytes(name).into_vec();
    match kv.get(&key)? {
        None => Ok(0),
        Some(v) => {
            Ok(u64::from_be_bytes(v[..].try_into().map_err(|_| IndexError::Corrupt("meta value".into()))?))
        }
    }
}

/// The META key of a name.
pub fn meta_key(name: &[u8]) -> Vec<u8> {
    keys::Key::new(keys::META).bytes(name).into_vec()
}
