//! Smoke test of the hardware-in-the-loop VM itself (`scripts/hil/`): the devices that the real
//! HIL tests rely on are there and behave. vivid answers `VIDIOC_QUERYCAP`, the loopback node is
//! v4l2loopback, gpio-sim's lines carry the contract's names and an output driven through the
//! character device shows on the simulated wire (and in the kernel's record that the scenarios
//! watch lines with, however short the level), and the virtio disk keeps what was synced.

use crate::vm::{self, line, GpioSim, Pull};
use crate::wire::LineWatch;
use gpiocdev::line::Value;
use std::fs::{self, File};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::Duration;

/// `struct v4l2_capability` from `linux/videodev2.h`.
#[repr(C)]
struct V4l2Capability {
    driver: [u8; 16],
    card: [u8; 32],
    bus_info: [u8; 32],
    version: u32,
    capabilities: u32,
    device_caps: u32,
    reserved: [u32; 3],
}

/// `_IOR('V', 0, struct v4l2_capability)`.
const VIDIOC_QUERYCAP: u32 =
    (2 << 30) | ((size_of::<V4l2Capability>() as u32) << 16) | (b'V' as u32) << 8;
const V4L2_CAP_VIDEO_CAPTURE: u32 = 0x1;
const V4L2_CAP_STREAMING: u32 = 0x0400_0000;

fn c_str(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// The driver name, card name and device caps of a V4L2 node.
fn querycap(node: &Path) -> (String, String, u32) {
    let file = File::open(node).unwrap_or_else(|e| panic!("open {}: {e}", node.display()));
    // SAFETY: the struct is plain data, and all zeroes is a valid value.
    let mut cap: V4l2Capability = unsafe { std::mem::zeroed() };
    // SAFETY: the file is open, and the ioctl writes at most the struct's size into `cap`.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), VIDIOC_QUERYCAP as _, &mut cap) };
    assert_eq!(
        rc,
        0,
        "VIDIOC_QUERYCAP on {}: {}",
        node.display(),
        std::io::Error::last_os_error()
    );
    (c_str(&cap.driver), c_str(&cap.card), cap.device_caps)
}

/// Request one gpio-sim line through the character device: an output at `value`, or an input.
fn request_line(sim: &GpioSim, offset: u32, output: Option<Value>) -> gpiocdev::Request {
    let mut builder = gpiocdev::Request::builder();
    builder
        .on_chip(&sim.chip)
        .with_consumer("hil-smoke")
        .with_line(offset);
    match output {
        Some(value) => builder.as_output(value),
        None => builder.as_input(),
    };
    builder
        .request()
        .unwrap_or_else(|e| panic!("request line {offset}: {e}"))
}

#[test]
#[ignore = "needs the arm64 kernel VM: scripts/test.d/90-hil.sh runs it there"]
fn vivid_answers_querycap_as_a_streaming_capture_device() {
    let node = vm::device("HIL_VIVID");
    let (driver, card, caps) = querycap(&node);
    assert_eq!(driver, "vivid", "card {card:?}");
    assert_ne!(caps & V4L2_CAP_VIDEO_CAPTURE, 0, "device caps {caps:#x}");
    assert_ne!(caps & V4L2_CAP_STREAMING, 0, "device caps {caps:#x}");
}

#[test]
#[ignore = "needs the arm64 kernel VM: scripts/test.d/90-hil.sh runs it there"]
fn loopback_node_is_v4l2loopback() {
    let node = vm::device("HIL_LOOPBACK");
    let (driver, card, _) = querycap(&node);
    assert_eq!(driver, "v4l2 loopback");
    assert_eq!(card, "picket-loopback");
}

#[test]
#[ignore = "needs the arm64 kernel VM: scripts/test.d/90-hil.sh runs it there"]
fn gpio_sim_lines_carry_the_contract_names() {
    let sim = GpioSim::from_env();
    let chip = gpiocdev::Chip::from_path(&sim.chip).expect("open the gpio-sim chip");
    assert_eq!(chip.info().expect("chip info").num_lines, line::COUNT);
    for (offset, name) in line::NAMES.iter().enumerate() {
        let info = chip.line_info(offset as u32).expect("line info");
        assert_eq!(info.name, *name, "line {offset}");
        assert!(
            !info.used,
            "line {offset} is already requested by {:?}",
            info.consumer
        );
    }
    let named = [
        ("RELAY", line::RELAY),
        ("KEYSWITCH", line::KEYSWITCH),
        ("TAMPER", line::TAMPER),
        ("HEALTHY", line::HEALTHY),
    ];
    for (name, offset) in named {
        assert_eq!(
            chip.find_line_info(name).map(|i| i.offset),
            Some(offset),
            "{name}"
        );
    }
}

#[test]
#[ignore = "needs the arm64 kernel VM: scripts/test.d/90-hil.sh runs it there"]
fn relay_output_shows_on_the_simulated_wire() {
    let sim = GpioSim::from_env();
    let req = request_line(&sim, line::RELAY, Some(Value::Active));
    assert_eq!(sim.value(line::RELAY).unwrap(), 1, "RELAY driven high");
    req.set_value(line::RELAY, Value::Inactive).unwrap();
    assert_eq!(sim.value(line::RELAY).unwrap(), 0, "RELAY driven low");
    req.set_value(line::RELAY, Value::Active).unwrap();
    sim.wait_value(line::RELAY, 1, Duration::from_millis(100))
        .unwrap();
}

#[test]
#[ignore = "needs the arm64 kernel VM: scripts/test.d/90-hil.sh runs it there"]
fn the_line_watch_keeps_levels_too_short_for_any_sample() {
    let sim = GpioSim::from_env();
    sim.set_pull(line::RELAY, Pull::Up).unwrap();
    let watch = LineWatch::start(&sim, line::RELAY);
    // Each level lasts as long as one ioctl: a sampler sees them by luck, the record always.
    let req = request_line(&sim, line::RELAY, Some(Value::Inactive));
    req.set_value(line::RELAY, Value::Active).unwrap();
    req.set_value(line::RELAY, Value::Inactive).unwrap();
    drop(req);
    let transitions = watch.stop();
    sim.set_pull(line::RELAY, Pull::Down).unwrap();
    let seen: Vec<(u8, bool)> = transitions.iter().map(|t| (t.value, t.used)).collect();
    assert_eq!(
        seen,
        [(1, false), (0, true), (1, true), (0, true), (1, false)],
        "{transitions:?}"
    );
    assert!(transitions.windows(2).all(|w| w[0].at <= w[1].at));
}

#[test]
#[ignore = "needs the arm64 kernel VM: scripts/test.d/90-hil.sh runs it there"]
fn keyswitch_input_follows_its_pull() {
    let sim = GpioSim::from_env();
    let req = request_line(&sim, line::KEYSWITCH, None);
    sim.set_pull(line::KEYSWITCH, Pull::Up).unwrap();
    assert_eq!(req.value(line::KEYSWITCH).unwrap(), Value::Active);
    sim.set_pull(line::KEYSWITCH, Pull::Down).unwrap();
    assert_eq!(req.value(line::KEYSWITCH).unwrap(), Value::Inactive);
    assert_eq!(sim.pull(line::KEYSWITCH).unwrap(), Pull::Down);
}

#[test]
#[ignore = "needs the arm64 kernel VM: scripts/test.d/90-hil.sh runs it there"]
fn disk_is_ext4_and_keeps_a_synced_file() {
    let dir = vm::disk();
    assert!(
        vm::on_ext4(&dir).unwrap(),
        "{} is not on the ext4 virtio disk",
        dir.display()
    );
    let path = dir.join("hil-smoke.bin");
    let data: Vec<u8> = (0..64 * 1024u32).map(|i| (i * 31 % 251) as u8).collect();
    let mut file = File::create(&path).unwrap();
    file.write_all(&data).unwrap();
    file.sync_all().unwrap();
    drop(file);
    // SAFETY: sync(2) takes no arguments and cannot fail.
    unsafe { libc::sync() };
    // Drop the page cache so that the read below comes from the disk, not from memory.
    fs::write("/proc/sys/vm/drop_caches", "3").expect("drop the page cache (root in the VM)");
    assert_eq!(fs::read(&path).unwrap(), data);
    fs::remove_file(&path).unwrap();
}
