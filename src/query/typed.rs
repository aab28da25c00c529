//! Typed reads that the query engine answers for programs: a view's
//! contradictions ([`ReadView::conflicts`]) as claims, entities and dates
//! rather than rows of text. (A claim's own history is a store read:
//! [`ReadView::claim_history`].)

use super::ast::{Conflicts, EntityRef, EntityTarget, Span};
use super::engine::QueryError;
use super::exec::ctx::{Ctx, Limits, Params};
use super::exec::statements::conflict_pairs;
use crate::model::{Claim, DayRange, check_key, fold_key};
use crate::store::ReadView;

/// Why two claims contradict each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConflictKind {
    /// The same subject, predicate and object, asserted (or suggested) by
    /// one claim and denied by the other.
    Stance,
    /// A functional predicate with two different objects for one subject.
    Functional,
}

/// Two live claims that contradict each other while both hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub kind: ConflictKind,
    /// The canonical key of the subject (through merges).
    pub subject: String,
    pub predicate: String,
    /// The earlier claim (for a stance conflict, the one that does not deny).
    pub claim: Claim,
    pub other: Claim,
    /// The days both claims hold.
    pub overlap: DayRange,
}

impl ReadView {
    /// The contradictions as of this view (what `CONFLICTS` lists), ordered
    /// by the two claims' assertion order: all of them, or those touching
    /// the entity `about` (a key, name or alias), within `valid` if given.
    ///
    /// ```
    /// use claimgraph::{Store, model::{Stance, Term}};
    /// let store = Store::temporary()?;
    /// store.transact("a", |tx| {
    ///     tx.entity("us", "Country", "United States");
    ///     tx.predicate("eases_sanctions", false, None);
    ///     tx.assert("us", "eases_sanctions", Term::Bool(true));
    ///     tx.assert("us", "eases_sanctions", Term::Bool(true)).stance = Stance::Denies;
    /// })?;
    /// let found = store.snapshot().conflicts(Some("us"), None)?;
    /// assert_eq!(found.len(), 1);
    /// assert_eq!((found[0].claim.id.as_str(), found[0].other.id.as_str()), ("c1", "c2"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn conflicts(
        &self,
        about: Option<&str>,
        valid: Option<DayRange>,
    ) -> Result<Vec<Conflict>, QueryError> {
        let params = Params::new();
        let mut ctx = Ctx::new(self.index(), &params, Limits::default(), None);
        ctx.valid = valid;
        let about = about.map(|text| {
            let target = if check_key(&fold_key(text)).is_ok() {
                EntityTarget::Key(text.to_string())
            } else {
                EntityTarget::Name(text.to_string())
            };
            EntityRef { target, span: Span::default() }
        });
        let statement = Conflicts { about, valid: None, as_of: None };
        let pairs = conflict_pairs(&ctx, &statement)?;
        Ok(pairs
            .into_iter()
            .map(|p| Conflict {
                kind: if p.kind == "functional" { ConflictKind::Functional } else { ConflictKind::Stance },
                subject: p.subject,
                predicate: p.claim.p.clone(),
                claim: (*p.claim).clone(),
                other: (*p.other).clone(),
                overlap: p.overlap,
            })
            .collect())
    }
}
