//! Derived, disposable indexes in sled: interned terms, versioned entity and
//! predicate state, merges, claim records in blocks, and posting blocks in
//! five orderings.
//!
//! [`keys`] owns every byte layout; [`writer`] turns transactions into one
//! atomic batch (a logged transaction too large for one, into several);
//! [`snapshot`] reads the state as of a tx; [`guarded`] is the index a store
//! uses: it stops trusting itself after a read error or a failed write and
//! puts writes and flushes behind a deadline; `faults` (hidden from the docs)
//! injects out-of-space, I/O, hang and read faults for the test suites.
//! Everything here can be rebuilt from the log alone.

pub mod backend;
pub mod claim_block;
#[doc(hidden)]
pub mod faults;
pub mod guarded;
pub mod keys;
pub mod posting;
pub mod snapshot;
pub mod writer;

use serde::{Deserialize, Serialize};

pub use backend::{IndexBackend, KvRead, SledBackend};
pub use guarded::Guarded;
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
    #[error("index storage error: {0}{REINDEX}")]
    Backend(String),
    #[error("the index storage panicked: {0}{REINDEX}")]
    Panicked(String),
    #[error("the index is damaged: {0}{REINDEX}")]
    Corrupt(String),
    /// An I/O error of the index's storage, its kind kept (out of space and
    /// permission errors are reported as such, never taken for damage).
    #[error("{}", io_message(.0))]
    Io(std::io::Error),
    /// The index was found damaged or could not be written, and has not
    /// been rebuilt yet.
    #[error("the index cannot be used ({0}){REINDEX}")]
    Unusable(String),
}

/// What every index-damage message ends with.
const REINDEX: &str =
    "; the index is derived from the log: reopen the store or run `claimgraph reindex` to rebuild it";

fn io_message(e: &std::io::Error) -> String {
    if is_out_of_space(e) {
        format!("out of disk space for the index: {e}; free some space and retry")
    } else if e.kind() == std::io::ErrorKind::PermissionDenied {
        format!("no permission to use the index files: {e}")
    } else {
        format!("index I/O error: {e}{REINDEX}")
    }
}

/// Whether an I/O error means the disk (or quota) is full.
pub fn is_out_of_space(e: &std::io::Error) -> bool {
    const ENOSPC: i32 = 28;
    const EDQUOT: i32 = 122;
    matches!(e.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded)
        || matches!(e.raw_os_error(), Some(ENOSPC | EDQUOT))
}

impl IndexError {
    /// Whether this is an out-of-space error.
    pub fn is_out_of_space(&self) -> bool {
        matches!(self, IndexError::Io(e) if is_out_of_space(e))
    }

    /// Whether this is an error of the environment (out of space, no
    /// permission, a read-only file system) rather than damage to the index.
    pub fn is_environment(&self) -> bool {
        use std::io::ErrorKind as K;
        matches!(self, IndexError::Io(e)
            if is_out_of_space(e) || matches!(e.kind(), K::PermissionDenied | K::ReadOnlyFilesystem))
    }
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
