//! Postings: the fixed-width summary of one claim stored in every ordering's
//! blocks, so scans filter by time, stance, speaker and source without
//! fetching the claim record.

use crate::model::{DayRange, Stance};

/// Bytes per posting.
pub const POSTING_LEN: usize = 73;

/// The stance byte's flag for an entity object.
const OBJECT_ENTITY: u8 = 0x80;
/// The stance byte's flag for an assigned claim id.
const AUTO_ID: u8 = 0x40;

/// One claim as an index ordering sees it. Ids are term ids; 0 means absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Posting {
    pub seq: u64,
    pub s: u64,
    pub p: u64,
    pub o: u64,
    pub by: u64,
    pub src: u64,
    /// Asserting transaction.
    pub atx: u64,
    /// Retracting transaction, 0 while live.
    pub rtx: u64,
    /// Valid time as a half-open day range.
    pub valid: DayRange,
    pub stance: Stance,
    /// Whether the object is an entity (else a literal), so a reader knows
    /// what `o` stands for without looking its term up. Stored in the top
    /// bit of the stance byte (stance codes are 0..=2).
    pub object_entity: bool,
    /// Whether the claim's id is the assigned `c<seq>` (none was chosen), so
    /// a reader knows `c.id` without the claim record. The stance byte's
    /// next bit.
    pub auto_id: bool,
}

impl Posting {
    pub fn encode(&self, out: &mut Vec<u8>) {
        for v in [self.seq, self.s, self.p, self.o, self.by, self.src, self.atx, self.rtx] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out.extend_from_slice(&self.valid.start.to_be_bytes());
        out.extend_from_slice(&self.valid.end.to_be_bytes());
        let flag = |on: bool, bit: u8| if on { bit } else { 0 };
        out.push(self.stance.code() | flag(self.object_entity, OBJECT_ENTITY) | flag(self.auto_id, AUTO_ID));
    }

    pub fn decode(b: &[u8]) -> Option<Posting> {
        let u = |i: usize| u64::from_be_bytes(b[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
        let i32_at = |at: usize| i32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes"));
        if b.len() != POSTING_LEN {
            return None;
        }
        Some(Posting {
            seq: u(0),
            s: u(1),
            p: u(2),
            o: u(3),
            by: u(4),
            src: u(5),
            atx: u(6),
            rtx: u(7),
            valid: DayRange { start: i32_at(64), end: i32_at(68) },
            stance: Stance::from_code(b[72] & !(OBJECT_ENTITY | AUTO_ID))?,
            object_entity: b[72] & OBJECT_ENTITY != 0,
            auto_id: b[72] & AUTO_ID != 0,
        })
    }

    /// Whether the claim is part of the snapshot at `t` (retracted ones count
    /// when `include_retracted`).
    pub fn visible_at(&self, t: u64, include_retracted: bool) -> bool {
        self.atx <= t && (include_retracted || self.rtx == 0 || self.rtx > t)
    }

    /// The retracting tx as seen from `t`.
    pub fn retracted_at(&self, t: u64) -> Option<u64> {
        (self.rtx != 0 && self.rtx <= t).then_some(self.rtx)
    }
}

/// Sets the retracting tx of posting `seq` inside a block; false if absent.
pub fn mark_retracted(block: &mut [u8], seq: u64, rtx: u64) -> bool {
    for chunk in block.chunks_exact_mut(POSTING_LEN) {
        if chunk[0..8] == seq.to_be_bytes() {
            chunk[56..64].copy_from_slice(&rtx.to_be_bytes());
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_retract() {
        let p = Posting {
            seq: 9,
            s: 1,
            p: 2,
            o: 3,
            by: 0,
            src: 4,
            atx: 5,
            rtx: 0,
            valid: DayRange { start: -3, end: i32::MAX },
            stance: Stance::Denies,
            object_entity: true,
            auto_id: false,
        };
        let mut block = Vec::new();
        p.encode(&mut block);
        assert_eq!(block.len(), POSTING_LEN);
        assert_eq!(Posting::decode(&block), Some(p));
        assert!(mark_retracted(&mut block, 9, 7));
        let back = Posting::decode(&block).unwrap();
        assert_eq!(back.rtx, 7);
        assert!(back.visible_at(6, false) && !back.visible_at(7, false) && back.visible_at(7, true));
        assert!(!back.visible_at(4, true));
        // The flags share the stance byte without changing it.
        for (stance, object_entity, auto_id) in
            [(Stance::Denies, false, true), (Stance::Suggests, true, false), (Stance::Asserts, true, true)]
        {
            let mut one = Vec::new();
            Posting { stance, object_entity, auto_id, ..p }.encode(&mut one);
            let back = Posting::decode(&one).map(|q| (q.stance, q.object_entity, q.auto_id));
            assert_eq!(back, Some((stance, object_entity, auto_id)));
        }
    }
}
