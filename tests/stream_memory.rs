//! `Prepared::rows` streams a million rows in bounded memory. Alone in its
//! test binary, with an allocator that counts live bytes, so other tests
//! cannot blur the figure.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use claimgraph::query::QueryOptions;
use claimgraph::{Store, params};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call forwards to the system allocator with the caller's
// layout unchanged; the counters are only bookkeeping beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is (see the impl).
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded as is (see the impl).
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is (see the impl).
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now =
                    LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size - layout.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[test]
fn a_million_rows_stream_in_bounded_memory() {
    let store = Store::temporary().unwrap();
    store
        .transact("loader", |tx| {
            for i in 0..1000 {
                tx.entity(&format!("e{i}"), "Thing", &format!("Thing number {i}"));
            }
        })
        .unwrap();
    let q = store.prepare("MATCH (a:Thing), (b:Thing) RETURN a.name, b.name").unwrap();
    let rows = q.rows(&store.snapshot(), &params! {}, &QueryOptions::default()).unwrap();
    assert_eq!(rows.columns(), ["a.name", "b.name"]);
    let start = LIVE.load(Ordering::Relaxed);
    PEAK.store(start, Ordering::Relaxed);
    let (mut n, mut chars) = (0u64, 0usize);
    for row in rows {
        let row = row.unwrap();
        chars += row.get::<String>(0).unwrap().len();
        n += 1;
    }
    assert_eq!(n, 1_000_000);
    assert!(chars > 10_000_000);
    // Collected, the rows would hold two strings each: well over 60 MB live.
    // Streamed, the channel holds a few hundred rows, and the query its
    // per-thread caches of the 1,000 entities.
    let grew = PEAK.load(Ordering::Relaxed).saturating_sub(start);
    assert!(grew < 16 << 20, "streaming 1M rows held {} KiB at its peak", grew >> 10);
}
