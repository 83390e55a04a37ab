//! The hardware-in-the-loop tests, as one binary: picket on real kernel drivers (vivid,
//! v4l2loopback, gpio-sim, ext4 on a virtio disk) in the arm64 kernel VM of `scripts/hil/`.
//!
//! Every test is `#[ignore]`d, so a host `cargo test` lists them as ignored. The HIL stage
//! (`scripts/test.d/90-hil.sh`) cross-builds this binary for aarch64 and runs each test in a boot
//! of its own: `hil --ignored --exact NAME`. [`vm`] is the contract with the VM's `/init`;
//! [`appliance`] is `picket run` as a child process and what the scenarios watch it with;
//! [`wire`] is what a GPIO line did, from the kernel's record.

// Test code: a panic here is a failing test, not a box that stops. (clippy.toml exempts `#[test]`
// functions and `#[cfg(test)]` modules, not the helpers of an integration-test crate.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

// The helpers of the host tests; these use some of them (the picket binary, the journal).
#[allow(dead_code)]
#[path = "../util/mod.rs"]
mod util;

mod appliance;
mod vm;
mod wire;

mod clock;
mod gpio;
mod memory;
mod run;
mod smoke;
mod v4l2;
mod wear;
