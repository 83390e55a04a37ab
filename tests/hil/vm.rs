//! The hardware-in-the-loop contract: the tests of `tests/hil/` run inside the arm64 kernel VM
//! (`scripts/hil/`), whose `/init` exports where the real devices are:
//!
//! | variable | what |
//! |---|---|
//! | `HIL_VIVID` | the vivid capture node, e.g. `/dev/video0` (YUYV test patterns, Disconnect control) |
//! | `HIL_LOOPBACK` | the v4l2loopback node (`picket-loopback`) that the feeder writes MJPEG footage to |
//! | `HIL_GPIOCHIP` | the gpio-sim chip, e.g. `/dev/gpiochip1`: bank0, 8 lines, named as in [`line`] |
//! | `HIL_GPIOSIM_SYSFS` | the gpio-sim bank's sysfs dir: `sim_gpioN/value` and `sim_gpioN/pull` |
//! | `HIL_DISK` | a directory on the VM's ext4 virtio disk, for journals that must survive a power cut |
//! | `PICKET_BIN` | the aarch64 `picket` packed into the VM, when the runner was given one |
//!
//! tracefs is mounted at `/sys/kernel/tracing` (for gpiolib's trace events, [`crate::wire`]).
//! The guest also has `LD_LIBRARY_PATH` set to the aarch64 loader, libc and
//! `libtensorflowlite_c.so` that the runner packed. Under `scripts/hil/cargo-runner.sh` the
//! repository is mounted read-only at its host path and the test starts in the package directory,
//! as under `cargo test`, so `env!("CARGO_MANIFEST_DIR")` and `env!("CARGO_BIN_EXE_picket")` work;
//! write to `HIL_DISK` or `/tmp`.
//!
//! Outside the VM these are unset: the tests are `#[ignore]`d there, and one run anyway fails at
//! the first variable it asks for, saying where it runs ([`RUN_IT`]). `scripts/test.sh` runs
//! them in the VM whenever the tools are present. The contract's other half is
//! `scripts/hil/init.sh`: change both together.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

/// Where the HIL tests run, for the messages of those run outside it.
pub const RUN_IT: &str = "scripts/test.d/90-hil.sh runs each test there; docs/design/hil.md";

/// The gpio-sim lines that carry a name, by offset on bank0. The other lines (4..8) are unnamed.
pub mod line {
    /// Line 0: the alarm relay output.
    pub const RELAY: u32 = 0;
    /// Line 1: the arm keyswitch input.
    pub const KEYSWITCH: u32 = 1;
    /// Line 2: the tamper input.
    pub const TAMPER: u32 = 2;
    /// Line 3: the `healthy` output (fault LED or external watchdog).
    pub const HEALTHY: u32 = 3;
    /// The names `/init` gives lines 0..4, in offset order.
    pub const NAMES: [&str; 4] = ["RELAY", "KEYSWITCH", "TAMPER", "HEALTHY"];
    /// How many lines bank0 has.
    pub const COUNT: u32 = 8;
}

/// The value of `var`. A test asks only in the VM, where `/init` sets them all, so an unset one
/// fails the test, saying so.
pub fn device(var: &str) -> PathBuf {
    match std::env::var_os(var) {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => panic!("{var} is not set: this test runs in the arm64 kernel VM ({RUN_IT})"),
    }
}

/// What a simulated line reads as while nothing drives it: gpio-sim's `pull` attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pull {
    Up,
    Down,
}

/// The simulated side of the gpio-sim chip: what the "wire" reads, and how it is pulled.
///
/// The appliance drives lines through the character device (`chip`); tests observe them here.
/// gpio-sim resets a line to its pull when the process holding it releases it, so a test that
/// wants to see picket drive a line inactive must pull it *up* first, or observe it while picket
/// still holds it.
#[derive(Clone)]
pub struct GpioSim {
    /// The character device, e.g. `/dev/gpiochip1`.
    pub chip: PathBuf,
    /// The bank's sysfs directory, holding `sim_gpioN/{value,pull}`.
    pub sysfs: PathBuf,
}

impl GpioSim {
    /// The chip from `HIL_GPIOCHIP` and `HIL_GPIOSIM_SYSFS`.
    pub fn from_env() -> Self {
        Self {
            chip: device("HIL_GPIOCHIP"),
            sysfs: device("HIL_GPIOSIM_SYSFS"),
        }
    }

    fn attr(&self, offset: u32, name: &str) -> PathBuf {
        self.sysfs.join(format!("sim_gpio{offset}")).join(name)
    }

    /// The level on the simulated wire: 0 or 1.
    pub fn value(&self, offset: u32) -> io::Result<u8> {
        let path = self.attr(offset, "value");
        let text = fs::read_to_string(&path)?;
        match text.trim() {
            "0" => Ok(0),
            "1" => Ok(1),
            other => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: unexpected value {other:?}", path.display()),
            )),
        }
    }

    /// Pull the simulated line up or down: what an input reads, and where a released output goes.
    pub fn set_pull(&self, offset: u32, pull: Pull) -> io::Result<()> {
        let word = match pull {
            Pull::Up => "pull-up",
            Pull::Down => "pull-down",
        };
        fs::write(self.attr(offset, "pull"), word)
    }

    /// The bank's first line in gpiolib's global numbering (what its trace events name): the
    /// `base` of the one legacy sysfs chip beside the bank, `<device>/gpio/gpiochipN/base`.
    pub fn base(&self) -> io::Result<u32> {
        let legacy = self.sysfs.with_file_name("gpio");
        let mut chips = fs::read_dir(&legacy)?.collect::<io::Result<Vec<_>>>()?;
        let (Some(chip), true) = (chips.pop(), chips.is_empty()) else {
            let what = format!("{}: not one chip", legacy.display());
            return Err(io::Error::new(io::ErrorKind::InvalidData, what));
        };
        let text = fs::read_to_string(chip.path().join("base"))?;
        text.trim()
            .parse()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("base {text:?}: {e}")))
    }

    /// The line's current pull.
    pub fn pull(&self, offset: u32) -> io::Result<Pull> {
        match fs::read_to_string(self.attr(offset, "pull"))?.trim() {
            "pull-up" => Ok(Pull::Up),
            _ => Ok(Pull::Down),
        }
    }

    /// Poll the wire until it reads `want` or `timeout` passes; returns the time it took, or the
    /// last value seen as the error. For watching picket, which runs in another process.
    pub fn wait_value(&self, offset: u32, want: u8, timeout: Duration) -> io::Result<Duration> {
        let start = Instant::now();
        loop {
            let got = self.value(offset)?;
            if got == want {
                return Ok(start.elapsed());
            }
            if start.elapsed() >= timeout {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("line {offset} still {got} after {timeout:?}, want {want}"),
                ));
            }
            thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Presses vivid's Disconnect button through a handle of our own, closed at once: the node comes
/// back only after every handle on it is closed, this one included.
pub fn press_disconnect(dev: &Path) {
    use picket::source::v4l2::device;
    let ctl = v4l::Device::with_path(dev).expect("a second handle on vivid");
    let button = device::find_control(&ctl, "Disconnect")
        .expect("list vivid's controls")
        .expect("vivid has a Disconnect control");
    assert_eq!(button.kind, "button");
    device::set_control(&ctl, button.id, 1).expect("press Disconnect");
}

/// The directory on the virtio disk (`HIL_DISK`).
pub fn disk() -> PathBuf {
    device("HIL_DISK")
}

/// Whether `path` lies on a real block-device file system (ext4) rather than the initramfs.
pub fn on_ext4(path: &Path) -> io::Result<bool> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())?;
    // SAFETY: `statfs` is plain data, valid as all zeroes.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `st` an out-parameter of the right type.
    if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(st.f_type == 0xEF53) // EXT4_SUPER_MAGIC
}
