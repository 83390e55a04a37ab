//! The thread count picket writes into LiteRT's CPU options reaches XNNPACK: a model compiled
//! for N threads adds N − 1 worker threads to the process. Its own test binary, with one test,
//! because it counts the process's threads.

// Test code: a panic here is a failing test, not a box that stops. (clippy.toml exempts `#[test]`
// functions and `#[cfg(test)]` modules, not the helpers of an integration-test crate.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use picket_runtime::{Model, Options, Runtime};
use std::path::Path;

const MODEL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../models/ssd_mobilenetv2_oidv4_int8_u8in.tflite"
);

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

#[test]
fn the_thread_count_reaches_xnnpack() {
    let mut added = Vec::new();
    for n in [1u16, 3, 2] {
        let before = threads();
        let opts = Options {
            runtime: Runtime::LiteRt,
            threads: n,
            ..Options::default()
        };
        let mut m = Model::from_file(Path::new(MODEL), &opts).unwrap();
        m.invoke().unwrap();
        added.push(threads() - before);
        drop(m);
    }
    // XNNPACK's pool runs on the caller's thread plus N − 1 workers.
    assert_eq!(added, [0, 2, 1], "threads added for 1, 3 and 2 threads");
}
