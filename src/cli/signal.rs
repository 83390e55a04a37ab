//! SIGTERM and SIGINT as a stop flag, and SIGHUP as a reload flag, that long-running commands
//! poll.
//!
//! The handlers only store to atomics, which is async-signal-safe; the command's own loop then
//! puts the outputs in their safe state and exits 0, or reloads its config.

use std::sync::atomic::{AtomicBool, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);
static RELOAD: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_sig: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

extern "C" fn on_hangup(_sig: libc::c_int) {
    RELOAD.store(true, Ordering::SeqCst);
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

/// Installs the SIGHUP handler (idempotent) and returns the flag it sets; the reader clears it.
pub fn reload_flag() -> &'static AtomicBool {
    let handler: extern "C" fn(libc::c_int) = on_hangup;
    // SAFETY: as above.
    unsafe {
        libc::signal(libc::SIGHUP, handler as libc::sighandler_t);
    }
    &RELOAD
}

/// Whether SIGTERM or SIGINT has arrived.
pub fn stopping() -> bool {
    STOP.load(Ordering::SeqCst)
}
