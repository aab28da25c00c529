//! Checkpoints: a log's head written down somewhere else, to check the log
//! against later (`claimgraph checkpoint`, `claimgraph verify --against`).
//!
//! The hash chain makes tx `N`'s hash a commitment to every record up to
//! `N`: changing, inserting or removing any of them changes it, short of a
//! blake3 collision. But the chain lives in the files it protects, so anyone
//! who can write them can change a record and recompute every hash after
//! it, the head file included, and `verify` then passes. A checkpoint is
//! that commitment kept where such a writer cannot reach: a line of text the
//! operator stores elsewhere (another machine, a ticket, a signed message).
//! It needs no key, since it is not secret; what protects it is where it is
//! kept. The log still holds exactly that tx with that hash, or it was
//! changed (or cut) since.
//!
//! ```text
//! claimgraph-checkpoint v1 tx=204 hash=<64 hex digits>
//! ```

use std::fmt;
use std::str::FromStr;

use crate::model::Hash;

const PREFIX: &str = "claimgraph-checkpoint v1";

/// A log head to check the log against later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    pub tx: u64,
    pub hash: Hash,
}

/// Why a text is not a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a checkpoint ({0}); expected `{PREFIX} tx=<N> hash=<64 hex digits>`")]
pub struct BadCheckpoint(pub String);

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX} tx={} hash={}", self.tx, self.hash)
    }
}

impl FromStr for Checkpoint {
    type Err = BadCheckpoint;

    fn from_str(text: &str) -> Result<Checkpoint, BadCheckpoint> {
        let bad = |why: &str| BadCheckpoint(why.to_string());
        let rest =
            text.trim().strip_prefix(PREFIX).ok_or_else(|| bad("it does not start with the marker"))?;
        let mut fields = rest.split_whitespace();
        let tx = fields
            .next()
            .and_then(|f| f.strip_prefix("tx="))
            .ok_or_else(|| bad("no tx= field"))?
            .parse::<u64>()
            .map_err(|_| bad("tx= is not a number"))?;
        let hash =
            fields.next().and_then(|f| f.strip_prefix("hash=")).ok_or_else(|| bad("no hash= field"))?;
        let hash = Hash::from_hex(hash).ok_or_else(|| bad("hash= is not 64 hex digits"))?;
        if fields.next().is_some() {
            return Err(bad("text after the hash"));
        }
        Ok(Checkpoint { tx, hash })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_round_trips_and_bad_text_is_refused() {
        let cp = Checkpoint { tx: 204, hash: Hash([0xAB; 32]) };
        let text = cp.to_string();
        assert!(text.starts_with("claimgraph-checkpoint v1 tx=204 hash=abab"), "{text}");
        assert_eq!(format!(" {text}\n").parse::<Checkpoint>(), Ok(cp));
        for bad in [
            "",
            "claimgraph-checkpoint v1",
            "claimgraph-checkpoint v2 tx=1 hash=00",
            "claimgraph-checkpoint v1 tx=x hash=00",
            "claimgraph-checkpoint v1 tx=1 hash=00",
            &format!("{text} extra"),
        ] {
            assert!(bad.parse::<Checkpoint>().is_err(), "{bad:?}");
        }
    }
}
