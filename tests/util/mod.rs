//! Helpers shared by the integration tests: where the tree and the `picket` binary are, running
//! it, scratch directories, reading a journal back ([`journal`]) and a snapshot's drawing
//! ([`drawn`]), and a real Mosquitto broker
//! with a consumer for the uplink's tests ([`uplink`]), and a recording HTTP server for the push
//! sinks' ([`push`]).
//!
//! The host tests (`tests/tests.rs`) declare this module; the HIL tests (`tests/hil/main.rs`)
//! include it too, so a helper both need is written once.

pub mod drawn;
pub mod journal;
pub mod push;
pub mod relay;
pub mod uplink;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// The `picket` that cargo built for this test run.
pub const PICKET: &str = env!("CARGO_BIN_EXE_picket");

/// The committed clip: 80 frames of the vtest walkway at 10 fps, 384×288 MJPEG, relative to
/// [`root`].
pub const CLIP: &str = "tests/data/clip/vtest-460-539.mjpeg";

/// The repository's root (the appliance's package directory).
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The picket binary for a test to spawn: `PICKET_BIN` (the HIL runner packs one into the VM),
/// else [`PICKET`].
pub fn picket_bin() -> PathBuf {
    match std::env::var_os("PICKET_BIN") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(PICKET),
    }
}

/// Runs `picket ARGS` to completion, logging warnings and errors only.
pub fn picket(args: &[&str]) -> Output {
    Command::new(PICKET)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run picket")
}

/// A finished command's stderr, as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh directory on the build's disk (not tmpfs), removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
