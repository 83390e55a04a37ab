//! SIGTERM and SIGINT as a flag that long-running commands poll.
//!
//! The handler only stores to an atomic, which is async-signal-safe; the command's own loop then
//! puts the outputs in their safe state and exits 0.

use std::sync::atomic::{AtomicBool, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_sig: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// Installs the handlers (idempotent) and returns the flag they set.
pub fn stop_flag() -> &'static AtomicBool {
    let handler: extern "C" fn(libc::c_int) = on_signal;
    // SAFETY: the handler is a plain function that only touches an atomic.
    unsafe {
        libc::signal(libc::SIGTERM, handler as libc::sighandler_t);
        libc::signal(libc::SIGINT, handler as libc::sighandler_t);
    }
    &STOP
}

/// Whether SIGTERM or SIGINT has arrived.
pub fn stopping() -> bool {
    STOP.load(Ordering::SeqCst)
}
