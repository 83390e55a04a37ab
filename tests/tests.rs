//! The appliance's host integration tests, as one binary: one link, one process, and the tests
//! of every area run side by side. Each module below is one area; [`util`] holds the helpers they
//! share. `cargo test --test tests -- journal_` runs the journal's, for instance.
//!
//! The tests that need the arm64 kernel VM are the separate `hil` binary (`tests/hil/`); the
//! image, runtime and geometry crates keep their tests in `crates/*/tests/`.

// Test code: a panic here is a failing test, not a box that stops. (clippy.toml exempts `#[test]`
// functions and `#[cfg(test)]` modules, not the helpers of an integration-test crate.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// Counts each thread's allocations, for the tests that hold a hot path to zero.
#[global_allocator]
static ALLOC: picket::alloc_count::CountingAlloc = picket::alloc_count::CountingAlloc;

mod util;

mod architecture;
mod bad_config;
mod board_profiles;
mod cli;
mod cli_detect;
mod cli_feed;
mod detect_errors;
mod detect_parity;
mod example_config;
mod fuzz_replay;
mod hub;
mod journal_cap;
mod journal_cli;
mod journal_crash;
mod journal_full_disk;
mod no_alloc;
mod pipeline;
mod pipeline_e2e;
mod pipeline_signals;
mod pipeline_tamper;
mod preview;
mod push;
mod snapshot;
mod sources;
mod track_eval;
mod uplink;
