//! The hardware-in-the-loop contract: tests in `tests/hil_*.rs` run inside the arm64 kernel VM
//! (`scripts/hil/`), whose `/init` exports where the real devices are:
//!
//! | variable | what |
//! |---|---|
//! | `HIL_VIVID` | the vivid capture node, e.g. `/dev/video0` (YUYV test patterns) |
//! | `HIL_LOOPBACK` | the v4l2loopback node that the feeder writes MJPEG footage to |
//! | `HIL_GPIOCHIP` | the gpio-sim chip, e.g. `/dev/gpiochip1`; line 0 is named `RELAY` |
//! | `HIL_GPIOSIM_SYSFS` | the gpio-sim bank's sysfs dir: `sim_gpioN/value` and `sim_gpioN/pull` |
//! | `HIL_DISK` | a directory on the VM's virtio disk, for journals that must survive a power cut |
//!
//! Outside the VM these are unset and the tests say so and pass without touching anything;
//! `scripts/test.sh` runs them in the VM whenever the tools are present.

use std::path::PathBuf;

/// The value of `var`, or `None` after printing why the test is skipped.
pub fn device(var: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(v) if !v.is_empty() => Some(PathBuf::from(v)),
        _ => {
            eprintln!("skipped: {var} is not set; this test runs in the kernel VM (scripts/hil/)");
            None
        }
    }
}
