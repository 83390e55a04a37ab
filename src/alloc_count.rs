//! A counting global allocator for tests that prove a hot path does not allocate.
//!
//! It counts allocations made on the *calling thread only* (a thread-local counter), so a test
//! is not disturbed by the test harness or other threads. A test binary installs it with
//! `#[global_allocator] static A: picket::alloc_count::CountingAlloc = CountingAlloc;` (the
//! library's own unit tests already do), then wraps the code under test in [`count`].

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Forwards to the system allocator and counts allocations and reallocations per thread.
pub struct CountingAlloc;

thread_local! {
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

fn bump() {
    // `try_with`: the counter may already be gone while the thread is being torn down.
    let _ = COUNT.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every call is forwarded unchanged to `System`; the counter has no effect on memory.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        System.realloc(ptr, layout, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

/// Allocations made so far on this thread (only meaningful where [`CountingAlloc`] is installed).
pub fn allocations() -> u64 {
    COUNT.with(|c| c.get())
}

/// Runs `f` and returns its result with the number of allocations it made on this thread.
pub fn count<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let before = allocations();
    let r = f();
    (r, allocations() - before)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_this_threads_allocations_only() {
        let (v, n) = count(|| vec![1u8; 10]);
        assert_eq!(v.len(), 10);
        assert_eq!(n, 1);
        let (_, n) = count(|| std::thread::spawn(|| vec![0u8; 100]).join().unwrap());
        // Spawning allocates on this thread, but the 100-byte vector is the child's.
        assert!(n >= 1);
        let mut buf = Vec::with_capacity(8);
        let ((), n) = count(|| {
            buf.clear();
            buf.extend_from_slice(&[1, 2, 3]);
        });
        assert_eq!(n, 0);
    }
}
