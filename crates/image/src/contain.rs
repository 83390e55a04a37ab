//! Panics contained to one call: [`contain`] runs a call that may panic on hostile input and
//! turns a panic into `None`, and [`panic_is_contained`] tells a process's panic hook that the
//! panic on this thread is one of those, so that the hook neither reports it nor stops the
//! process.
//!
//! Why: `zune-jpeg`, the general decoder behind the baseline one, asserts on some malformed
//! images instead of returning an error (its upsamplers' length checks and its AVX2 IDCT's
//! stores; open upstream, e.g. zune-image issues #236 and #281). Picket's fuzzer found 14 such
//! MJPEG frames in 10 minutes (`fuzz/regressions/mjpeg/`). `picket run`'s panic hook drives
//! every output inactive and exits, as it must for a panic in picket's own code; a frame that a
//! library cannot read is only a bad frame, counted and skipped like any other.
//!
//! What runs inside [`contain`] must leave nothing shared half-changed if it stops: the general
//! decoder builds its decoder per call and writes only the caller's output image, which a
//! failed decode leaves to be overwritten by the next one.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

thread_local! {
    static CONTAINED: Cell<bool> = const { Cell::new(false) };
}

/// Whether the panic now unwinding on this thread will be caught by [`contain`]: a panic hook
/// that sees `true` should return at once, leaving the process as it was.
pub fn panic_is_contained() -> bool {
    CONTAINED.with(Cell::get)
}

/// Runs `f`; `None` if it panicked. Calls do not nest.
pub fn contain<T>(f: impl FnOnce() -> T) -> Option<T> {
    CONTAINED.with(|c| c.set(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    CONTAINED.with(|c| c.set(false));
    result.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_is_none_and_flagged_only_while_inside() {
        assert!(!panic_is_contained());
        assert_eq!(contain(|| 7), Some(7));
        let seen = contain(|| {
            assert!(panic_is_contained());
            // The hook this test binary has prints the message; it is expected.
            #[allow(clippy::panic)] // the panic is what is tested
            {
                panic!("contained on purpose")
            }
        });
        assert_eq!(seen, None::<()>);
        assert!(!panic_is_contained());
    }
}
