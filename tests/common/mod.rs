//! Set-up shared by the integration tests (each test file includes it with
//! `mod common;`).
#![allow(dead_code)]

/// These fixtures write predicates without declaring them: the store lets an
/// assert create one on first use (issue 14 made that an explicit option).
pub fn first_use() -> claimgraph::Options {
    claimgraph::Options { create_predicates: true, ..claimgraph::Options::default() }
}

/// [`claimgraph::Store::create`] with predicates created on first use.
pub fn create_first_use(
    path: impl AsRef<std::path::Path>,
) -> Result<claimgraph::Store, claimgraph::StoreError> {
    claimgraph::Store::open_with(path, claimgraph::Options { create: true, ..first_use() })
}
