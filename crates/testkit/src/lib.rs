//! Fixtures for the workspace's tests and benchmarks, and nothing else: no member depends on it
//! outside `[dev-dependencies]`.
//!
//! - [`media`]: synthetic frames (an RGB scene, its JPEG and YUV encodings, Y4M streams) made in
//!   the test itself, so nothing large is committed;
//! - [`timing`]: medians of thread CPU time, for benchmarks run beside another program.

// Only tests and benchmarks link this crate: a panic in a fixture is a failing test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod media;
pub mod timing;
