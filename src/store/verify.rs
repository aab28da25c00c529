//! `verify`: every record's checksum and chain link, and the indexes compared
//! entry by entry with a fresh rebuild from the log.

use super::{StoreError, replay};
use crate::index::{IndexBackend, KvRead, SledBackend};
use crate::log::{Log, LogError};
use crate::model::Hash;

/// What `verify` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Transactions whose records were checked.
    pub transactions: u64,
    /// The first transaction whose record is damaged, if any.
    pub first_bad_tx: Option<u64>,
    /// Index entries compared.
    pub index_entries: u64,
    /// Human-readable problems, the first few of each kind.
    pub problems: Vec<String>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.first_bad_tx.is_none() && self.problems.is_empty()
    }
}

const MAX_PROBLEMS: usize = 10;

pub(super) fn verify(log: &Log, index: &SledBackend) -> Result<VerifyReport, StoreError> {
    let mut report = VerifyReport::default();
    let mut prev = Hash::ZERO;
    let checked = log.for_each_from(1, |rec| -> Result<(), LogError> {
        if rec.prev_hash != prev {
            return Err(LogError::Corrupt {
                tx: rec.tx,
                segment: String::new(),
                offset: 0,
                why: "the previous-hash link does not match".into(),
            });
        }
        prev = rec.hash;
        report.transactions += 1;
        Ok(())
    });
    if let Err(e) = checked {
        let tx = match &e {
            LogError::Corrupt { tx, .. } => *tx,
            _ => report.transactions + 1,
        };
        report.first_bad_tx = Some(tx);
        report.problems.push(e.to_string());
        return Ok(report);
    }
    let fresh = SledBackend::temporary()?;
    replay(&fresh, log, 1, &mut 0)?;
    compare(index, &fresh, &mut report)?;
    Ok(report)
}

/// Compares two indexes entry by entry.
fn compare(
    live: &SledBackend,
    fresh: &SledBackend,
    report: &mut VerifyReport,
) -> Result<(), StoreError> {
    let mut a = live.range(&[], None);
    let mut b = fresh.range(&[], None);
    let (mut x, mut y) = (a.next().transpose()?, b.next().transpose()?);
    while x.is_some() || y.is_some() {
        let problem = match (&x, &y) {
            (Some((ka, va)), Some((kb, vb))) if ka == kb => {
                report.index_entries += 1;
                let p =
                    (va != vb).then(|| format!("index entry {} differs from a rebuild", show(ka)));
                x = a.next().transpose()?;
                y = b.next().transpose()?;
                p
            }
            (Some((ka, _)), Some((kb, _))) if ka < kb => {
                let p = Some(format!("index entry {} is not in a rebuild", show(ka)));
                x = a.next().transpose()?;
                p
            }
            (Some((ka, _)), None) => {
                let p = Some(format!("index entry {} is not in a rebuild", show(ka)));
                x = a.next().transpose()?;
                p
            }
            (_, Some((kb, _))) => {
                let p = Some(format!("index entry {} is missing", show(kb)));
                y = b.next().transpose()?;
                p
            }
            (None, None) => None,
        };
        if let Some(p) = problem
            && report.problems.len() < MAX_PROBLEMS
        {
            report.problems.push(p);
        }
    }
    let _ = fresh.clear();
    Ok(())
}

fn show(key: &[u8]) -> String {
    let hex: String = key.iter().take(24).map(|b| format!("{b:02x}")).collect();
    format!("{hex}{}", if key.len() > 24 { "…" } else { "" })
}
