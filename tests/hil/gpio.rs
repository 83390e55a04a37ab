//! Real GPIO on gpio-sim, inside the kernel VM (see `tests/hil/vm.rs`): `picket outputs test`
//! drives the `RELAY` line, a keyswitch (line 1, driven through its simulated pull) arms and
//! disarms, and SIGTERM or a panic drive the line inactive *while picket still holds it*.
//!
//! gpio-sim resets a released line to its pull, so reading after picket exits proves nothing.
//! These tests pull the line *up* and read it while picket, started with the `--hold` test hook
//! (the `test-hooks` feature, which `cargo test` and the HIL stage build with), keeps the lines
//! after driving them safe until its stdin closes: a 0 read then can only be picket's own doing.
//!
//! The picket binary is `$PICKET_BIN` when set (in the VM only the test binary and a copied
//! picket exist), else the one cargo built.

use crate::util::picket_bin;
use crate::vm::{GpioSim, Pull};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

/// The tests share the simulated chip's lines, so they take turns (the harness runs tests in
/// parallel).
static CHIP: Mutex<()> = Mutex::new(());

/// The chip and this test's turn on it.
fn hil() -> (GpioSim, MutexGuard<'static, ()>) {
    let sim = GpioSim::from_env();
    (sim, CHIP.lock().unwrap_or_else(|e| e.into_inner()))
}

fn value(sim: &GpioSim, line: u32) -> u8 {
    sim.value(line)
        .unwrap_or_else(|e| panic!("read line {line}: {e}"))
}

fn pull(sim: &GpioSim, line: u32, how: Pull) {
    sim.set_pull(line, how)
        .unwrap_or_else(|e| panic!("pull line {line} {how:?}: {e}"));
}

/// A scratch directory with a config whose outputs and inputs use the simulated chip.
fn config(name: &str, chip: &Path, extra: &str) -> PathBuf {
    let base = std::env::var_os("HIL_DISK")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!("picket-hil-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = format!(
        "[arming]\nstate_file = \"{}\"\n\n[[outputs]]\nname = \"relay\"\nkind = \"gpiocdev\"\nchip = \"{}\"\noffset = 0\n\n[[outputs]]\nname = \"by_name\"\nkind = \"gpiocdev\"\nline = \"RELAY\"\n{extra}",
        dir.join("arming.toml").display(),
        chip.display()
    );
    let path = dir.join("picket.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Stdout lines as they come, so a test can wait for one with a timeout.
fn lines(out: ChildStdout) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    rx
}

fn expect_line(rx: &Receiver<String>, want: &str) {
    let deadline = Instant::now() + WAIT;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(l) if l.contains(want) => return,
            Ok(_) => continue,
            Err(_) => break,
        }
    }
    panic!("picket never printed `{want}`");
}

fn start(args: &[&str]) -> (Child, Receiver<String>) {
    let mut child = Command::new(picket_bin())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start picket");
    let rx = lines(child.stdout.take().unwrap());
    (child, rx)
}

/// Waits until `line` reads `want` while `child` is still running: the level is picket's own.
fn held_at(child: &mut Child, sim: &GpioSim, line: u32, want: u8) {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        let v = value(sim, line);
        let running = child.try_wait().unwrap().is_none();
        assert!(
            running,
            "picket exited before line {line} read {want} (last {v})"
        );
        if v == want {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("line {line} never read {want} while picket held it");
}

fn finish(mut child: Child) -> i32 {
    drop(child.stdin.take()); // ends --hold
    child.wait().unwrap().code().unwrap_or(-1)
}

#[test]
#[ignore = "needs the arm64 kernel VM: scripts/test.d/90-hil.sh runs it there"]
fn outputs_test_sets_the_relay_line_then_clears_it() {
    let (sim, _turn) = hil();
    pull(&sim, 0, Pull::Down);
    let cfg = config("test", &sim.chip, "");
    let c = cfg.to_str().unwrap();
    let (mut child, out) = start(&["outputs", "test", "by_name", "-s", "1", "--hold", "-c", c]);
    expect_line(&out, "output by_name: on");
    assert_eq!(value(&sim, 0), 1);
    expect_line(&out, "output by_name: safe");
    held_at(&mut child, &sim, 0, 0);
    assert_eq!(finish(child), 0);
}

#[test]
#[ignore = "needs the arm64 kernel VM: scripts/test.d/90-hil.sh runs it there"]
fn sigterm_drives_the_line_inactive_while_picket_holds_it() {
    let (sim, _turn) = hil();
    pull(&sim, 0, Pull::Up);
    let cfg = config("term", &sim.chip, "");
    let c = cfg.to_str().unwrap();
    let (mut child, out) = start(&["outputs", "test", "relay", "-s", "600", "--hold", "-c", c]);
    expect_line(&out, "output relay: on");
    assert_eq!(value(&sim, 0), 1);
    // SAFETY: a plain kill(2) of our own child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    held_at(&mut child, &sim, 0, 0);
    assert_eq!(finish(child), 0);
    pull(&sim, 0, Pull::Down);
}

#[test]
#[ignore = "needs the arm64 kernel VM: scripts/test.d/90-hil.sh runs it there"]
fn a_panic_drives_the_line_inactive_while_picket_holds_it() {
    let (sim, _turn) = hil();
    pull(&sim, 0, Pull::Up);
    let cfg = config("panic", &sim.chip, "");
    let c = cfg.to_str().unwrap();
    let (mut child, out) = start(&[
        "outputs",
        "test",
        "relay",
        "-s",
        "600",
        "--hold",
        "--inject-panic",
        "-c",
        c,
    ]);
    expect_line(&out, "output relay: on");
    held_at(&mut child, &sim, 0, 0);
    assert_eq!(finish(child), 101, "a panic exits 101 after the safe state");
    pull(&sim, 0, Pull::Down);
}

#[test]
#[ignore = "needs the arm64 kernel VM: scripts/test.d/90-hil.sh runs it there"]
fn a_keyswitch_arms_and_disarms() {
    let (sim, _turn) = hil();
    pull(&sim, 1, Pull::Down);
    let key = format!(
        "\n[inputs.keyswitch]\nchip = \"{}\"\noffset = 1\ndebounce_ms = 20\n",
        sim.chip.display()
    );
    let cfg = config("key", &sim.chip, &key);
    let c = cfg.to_str().unwrap();
    let (child, out) = start(&["inputs", "-c", c]);
    expect_line(&out, "mode: disarmed");
    pull(&sim, 1, Pull::Up);
    expect_line(&out, "mode: armed");
    let status = Command::new(picket_bin())
        .args(["status", "-c", c])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(text.contains("mode: armed (by key"), "{text}");
    assert!(text.contains("armed: yes (manual)"), "{text}");
    pull(&sim, 1, Pull::Down);
    expect_line(&out, "mode: disarmed");
    // SAFETY: a plain kill(2) of our own child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    assert_eq!(finish(child), 0);
}
