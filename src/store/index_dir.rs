//! Which directory holds the live index. The index is derived state, so a
//! rebuild never repairs it in place: it builds a fresh sled in a new
//! directory (`index.1`, `index.2`, ...) and switches to it by replacing the
//! `INDEX_DIR` pointer file atomically (write, fsync, rename, fsync the
//! directory). Clearing a damaged sled would have to read its damaged pages,
//! and readers of the old index keep using it until they finish.
//!
//! A store without the pointer file (every store until its first rebuild)
//! uses `index`. Index directories the pointer does not name are leftovers
//! of an interrupted rebuild or of a retired index; they are removed at open,
//! when the store lock guarantees nobody else uses them.

use std::path::{Path, PathBuf};

use super::{StoreError, io};

/// The pointer file, named so it differs from `index` on case-insensitive
/// file systems too.
const POINTER: &str = "INDEX_DIR";
const DEFAULT: &str = "index";

/// What the pointer says, if it can be read.
pub(super) enum Pointer {
    /// The live index's directory name.
    Named(String),
    /// The pointer is there but unreadable or names no index directory.
    Damaged(String),
}

/// Reads the pointer (`index` when there is none).
pub(super) fn current(store: &Path) -> Pointer {
    match std::fs::read(store.join(POINTER)) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Pointer::Named(DEFAULT.into()),
        Err(e) => Pointer::Damaged(format!("the index pointer could not be read ({e})")),
        Ok(bytes) => match std::str::from_utf8(&bytes).ok().map(str::trim_end).filter(|n| is_index_dir(n)) {
            Some(name) => Pointer::Named(name.to_string()),
            None => Pointer::Damaged(format!("the index pointer {POINTER} names no index directory")),
        },
    }
}

/// The directory the live index of the closed store in `store` uses (with a
/// damaged pointer: `index`, though the next open will build a new one).
pub fn live_index_dir(store: &Path) -> PathBuf {
    match current(store) {
        Pointer::Named(name) => store.join(name),
        Pointer::Damaged(_) => store.join(DEFAULT),
    }
}

/// `index` or `index.<n>`.
fn is_index_dir(name: &str) -> bool {
    name == DEFAULT
        || name
            .strip_prefix("index.")
            .is_some_and(|n| !n.is_empty() && n.len() <= 20 && n.bytes().all(|b| b.is_ascii_digit()))
}

fn generation(name: &str) -> u64 {
    name.strip_prefix("index.").and_then(|n| n.parse().ok()).unwrap_or(0)
}

fn index_dirs(store: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(store) else {
        return Vec::new();
    };
    entries.flatten().filter_map(|e| e.file_name().into_string().ok()).filter(|n| is_index_dir(n)).collect()
}

/// A directory name no index has used yet: one past the highest
/// generation, or, once that is `u64::MAX`, the lowest free one (the
/// numbers wrap rather than run out).
pub(super) fn fresh_name(store: &Path) -> String {
    let used: Vec<u64> = index_dirs(store).iter().map(|n| generation(n)).collect();
    let next = match used.iter().max().copied().unwrap_or(0).checked_add(1) {
        Some(next) => next,
        None => (1..).find(|g| !used.contains(g)).unwrap_or(1),
    };
    format!("index.{next}")
}

/// Makes `name` the live index, durably.
pub(super) fn switch(store: &Path, name: &str) -> Result<(), StoreError> {
    let tmp = store.join(format!("{POINTER}.tmp"));
    let doing = || format!("switching the index pointer to {name}");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp).map_err(io(doing()))?;
        f.write_all(format!("{name}\n").as_bytes()).map_err(io(doing()))?;
        f.sync_all().map_err(io(doing()))?;
    }
    std::fs::rename(&tmp, store.join(POINTER)).map_err(io(doing()))?;
    std::fs::File::open(store).and_then(|d| d.sync_all()).map_err(io(doing()))
}

/// Removes every index directory but `keep` (best effort: what cannot be
/// removed now is removed at a later open).
pub(super) fn remove_others(store: &Path, keep: Option<&str>) {
    for name in index_dirs(store) {
        if Some(name.as_str()) != keep {
            let _ = std::fs::remove_dir_all(store.join(&name));
        }
    }
    let _ = std::fs::remove_file(store.join(format!("{POINTER}.tmp")));
}

/// The dirty mark: present while the named index may hold writes that were
/// never flushed clean. Written (and fsynced) before the first index write
/// after a clean flush, removed after the next one; an open that finds it
/// naming the live index rebuilds that index rather than trust it.
const DIRTY: &str = "INDEX_DIRTY";

/// Puts the dirty mark for index `name` on disk.
pub(super) fn mark_dirty(store: &Path, name: &str) -> Result<(), StoreError> {
    let doing = || format!("marking the index {name} as being written");
    let path = store.join(DIRTY);
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&path).map_err(io(doing()))?;
        f.write_all(format!("{name}\n").as_bytes()).map_err(io(doing()))?;
        f.sync_all().map_err(io(doing()))?;
    }
    std::fs::File::open(store).and_then(|d| d.sync_all()).map_err(io(doing()))
}

/// Removes the dirty mark (best effort: a mark left behind costs a rebuild,
/// never a wrong answer).
pub(super) fn mark_clean(store: &Path) {
    if std::fs::remove_file(store.join(DIRTY)).is_ok() {
        let _ = std::fs::File::open(store).and_then(|d| d.sync_all());
    }
}

/// The index the dirty mark names, if there is one. An unreadable mark
/// names no index directory, so it is taken as naming the live one.
pub(super) fn dirty(store: &Path) -> Option<String> {
    match std::fs::read(store.join(DIRTY)) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(_) => Some(live_name(store)),
        Ok(bytes) => match std::str::from_utf8(&bytes).ok().map(str::trim_end).filter(|n| is_index_dir(n)) {
            Some(name) => Some(name.to_string()),
            None => Some(live_name(store)),
        },
    }
}

fn live_name(store: &Path) -> String {
    match current(store) {
        Pointer::Named(name) => name,
        Pointer::Damaged(_) => DEFAULT.into(),
    }
}

/// Removes every index and the pointer (after a repair cut the log).
pub(super) fn remove_all(store: &Path) -> Result<(), StoreError> {
    remove_others(store, None);
    mark_clean(store);
    match std::fs::remove_file(store.join(POINTER)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("removing the index pointer")(e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_index_and_numbered_generations_are_index_directories() {
        for ok in ["index", "index.1", "index.42"] {
            assert!(is_index_dir(ok), "{ok}");
        }
        for bad in ["INDEX_DIR", "index.", "index.x", "index.1a", "log", "../index", "index/1", ""] {
            assert!(!is_index_dir(bad), "{bad}");
        }
    }

    #[test]
    fn the_pointer_switches_and_a_damaged_pointer_is_reported() {
        let tmp = std::env::temp_dir().join(format!("claimgraph-index-dir-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(tmp.join("index")).unwrap();
        assert!(matches!(current(&tmp), Pointer::Named(n) if n == "index"));
        let fresh = fresh_name(&tmp);
        assert_eq!(fresh, "index.1");
        std::fs::create_dir_all(tmp.join(&fresh)).unwrap();
        switch(&tmp, &fresh).unwrap();
        assert!(matches!(current(&tmp), Pointer::Named(n) if n == "index.1"));
        assert_eq!(fresh_name(&tmp), "index.2");
        remove_others(&tmp, Some("index.1"));
        assert!(!tmp.join("index").exists() && tmp.join("index.1").exists());
        std::fs::write(tmp.join(POINTER), b"../../etc\n").unwrap();
        assert!(matches!(current(&tmp), Pointer::Damaged(_)));
        // At the last generation the numbers wrap to the lowest free one.
        std::fs::create_dir_all(tmp.join("index.18446744073709551615")).unwrap();
        assert_eq!(fresh_name(&tmp), "index.2");
        remove_all(&tmp).unwrap();
        assert!(!tmp.join("index.1").exists() && !tmp.join(POINTER).exists());
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
