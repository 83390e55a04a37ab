//! The command line's shape as a user meets it: one `-c/--config` (or `PICKET_CONFIG`) on every
//! command that reads a config, and no config read by the commands that can do without one
//! unless one is given.

use crate::util::{stderr, Scratch};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Writes `text` to `name` in `dir`.
fn write(dir: &Scratch, name: &str, text: &str) -> PathBuf {
    let p = dir.path(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// `picket ARGS` with `PICKET_CONFIG` set to `env`, or removed.
fn picket_env(args: &[&str], env: Option<&Path>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_picket"));
    c.args(args).env("RUST_LOG", "warn");
    match env {
        Some(p) => c.env("PICKET_CONFIG", p),
        None => c.env_remove("PICKET_CONFIG"),
    };
    c.output().unwrap()
}

fn picket(args: &[&str]) -> Output {
    picket_env(args, None)
}

/// `picket ARGS`, with `PICKET_CONFIG` set to `env` or removed, prints exactly `want` on stdout.
fn prints(args: &[&str], env: Option<&Path>, want: &str) {
    let o = picket_env(args, env);
    assert_eq!(stdout(&o), want, "{}", stderr(&o));
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn the_config_comes_from_c_config_or_the_environment() {
    let dir = Scratch::new("config");
    let good = write(&dir, "good.toml", "[model]\nthreads = 2\n");
    let bad = write(&dir, "bad.toml", "[model]\nthreads = 0\n");
    let ok = format!("{}: ok\n", good.display());
    prints(&["check", "-c", s(&good)], None, &ok);
    prints(&["check", "--config", s(&good)], None, &ok);
    prints(&["check"], Some(&good), &ok);
    // The flag beats the environment.
    prints(&["check", "-c", s(&good)], Some(&bad), &ok);
    // `run` takes `-c` too, and reads that file before anything else.
    let o = picket(&["run", "-c", s(&bad), "--max-frames", "1"]);
    assert_eq!(o.status.code(), Some(1));
    let want = format!(
        "{}:2:11: model.threads: must be between 1 and 16",
        bad.display()
    );
    assert!(stderr(&o).contains(&want), "{}", stderr(&o));
}

/// `track-eval` (like `detect` and `bench`) reads a config only when one is given, and then
/// that very file: a missing one is an error, never the defaults.
#[test]
fn commands_that_need_no_config_read_only_the_one_given() {
    let dir = Scratch::new("optional");
    let det = write(&dir, "det.txt", "1,-1,10,10,40,120,0.9\n");
    let out = dir.path("out.txt");
    let args = [
        "track-eval",
        "--fps",
        "25",
        "--size",
        "640x480",
        "--det",
        s(&det),
        "--out",
    ];
    let o = picket(&[&args[..], &[s(&out)]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let missing = dir.path("missing.toml");
    let o = picket_env(&[&args[..], &[s(&out)]].concat(), Some(&missing));
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains(s(&missing)), "{}", stderr(&o));
}

/// A config with one log-only output and its arming state file in `dir`.
fn outputs_config(dir: &Scratch) -> PathBuf {
    let state = dir.path("arming.toml");
    write(
        dir,
        "picket.toml",
        &format!(
            "[arming]\nstate_file = \"{}\"\n\n[[outputs]]\nname = \"siren\"\nkind = \"log\"\n",
            state.display()
        ),
    )
}

#[test]
fn outputs_test_and_its_old_spelling_sound_the_output_then_leave_it_safe() {
    let dir = Scratch::new("outputs");
    let cfg = outputs_config(&dir);
    for verb in [&["outputs", "test"][..], &["alarm-test"]] {
        let args = [verb, &["siren", "-s", "0.05", "-c", s(&cfg)]].concat();
        let want = "output siren: on\noutput siren: off\noutput siren: safe\n";
        prints(&args, None, want);
    }
    let want = "picket: no output `horn` (the config has: siren)".to_owned();
    fails_saying(&["outputs", "test", "horn", "-c", s(&cfg)], want);
    prints(
        &["outputs", "off", "-c", s(&cfg)],
        None,
        "output siren: off\n",
    );
}

#[test]
fn reset_and_its_old_spelling_each_request_one_reset() {
    let dir = Scratch::new("reset");
    let cfg = outputs_config(&dir);
    prints(
        &["reset", "-c", s(&cfg)],
        None,
        "alarm reset requested (#1)\n",
    );
    prints(
        &["alarm", "reset", "--config", s(&cfg)],
        None,
        "alarm reset requested (#2)\n",
    );
}

/// The test hooks, in this build only because `cargo test` enables `test-hooks` (the release
/// refuses them; `scripts/test.d/70-package.sh` checks the shipped binary).
#[test]
fn a_panic_in_outputs_test_exits_101_after_the_safe_state() {
    let dir = Scratch::new("panic");
    let cfg = outputs_config(&dir);
    let o = picket(&[
        "outputs",
        "test",
        "siren",
        "-s",
        "30",
        "--inject-panic",
        "-c",
        s(&cfg),
    ]);
    assert_eq!(o.status.code(), Some(101), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("output siren: on\n"),
        "{}",
        stdout(&o)
    );
    assert!(
        stderr(&o).contains("injected panic (outputs test --inject-panic)")
            && stderr(&o).contains("picket: panic: 1 outputs driven inactive; exiting"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn hold_keeps_picket_after_the_safe_state_until_stdin_closes() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let dir = Scratch::new("hold");
    let cfg = outputs_config(&dir);
    let mut child = Command::new(env!("CARGO_BIN_EXE_picket"))
        .args([
            "outputs",
            "test",
            "siren",
            "-s",
            "0.05",
            "--hold",
            "-c",
            s(&cfg),
        ])
        .env_remove("PICKET_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let safe = lines.find(|l| l.as_ref().is_ok_and(|l| l == "output siren: safe"));
    assert!(safe.is_some(), "no safe line");
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(child.try_wait().unwrap().is_none(), "exited while holding");
    drop(child.stdin.take());
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

const ENOENT: &str = "No such file or directory (os error 2)";

/// `picket ARGS` fails, and the one line `picket: …` that reports it is `want`: the whole
/// message, with each layer's text once.
fn fails_saying(args: &[&str], want: String) {
    let o = picket(args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("picket: ")).collect();
    assert_eq!(lines, [want.as_str()], "{err}");
}

/// A scratch directory with a config whose journal and state file are in it, and a path in
/// it that does not exist.
fn errors_fixture(name: &str) -> (Scratch, PathBuf, PathBuf) {
    let dir = Scratch::new(name);
    let text = format!(
        "[journal]\npath = \"{0}/events.db\"\n[arming]\nstate_file = \"{0}/arming.toml\"\n",
        dir.0.display()
    );
    let cfg = write(&dir, "picket.toml", &text);
    let missing = dir.path("missing");
    (dir, cfg, missing)
}

// One error per layer, each printed whole and every part of it once: the config file, the frame
// source, the detector's files, the journal, and the command line's own context.

#[test]
fn a_config_read_error_is_said_once() {
    let (_dir, _, missing) = errors_fixture("err-config");
    let want = format!("picket: read {}: {ENOENT}", missing.display());
    fails_saying(&["check", "-c", s(&missing)], want);
}

#[test]
fn a_source_open_error_is_said_once() {
    let (_dir, cfg, missing) = errors_fixture("err-source");
    for source in [s(&missing), "/dev/v4l/by-id/picket-test-no-such-camera"] {
        let run = format!("picket run --config {}", cfg.display());
        let want = format!("picket: {run}: open {source}: {ENOENT}");
        fails_saying(&["run", "-c", s(&cfg), "--source", source], want);
    }
}

#[test]
fn a_detector_error_is_said_once() {
    let (_dir, _, missing) = errors_fixture("err-detect");
    let image = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/inputs/person.png");
    let want = format!("picket: labels {}: {ENOENT}", missing.display());
    fails_saying(&["detect", "--labels", s(&missing), image], want);
}

#[test]
fn a_journal_error_is_said_once() {
    let (dir, cfg, _) = errors_fixture("err-journal");
    // Its directory cannot be made under a file.
    let file = write(&dir, "file", "");
    let journal = file.join("events.db");
    let clip = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/clip/vtest-460-539.mjpeg"
    );
    let want = format!(
        "picket: picket run --config {}: journal {}: create directory: File exists (os error 17)",
        cfg.display(),
        file.display()
    );
    let args = [
        "run",
        "-c",
        s(&cfg),
        "--source",
        clip,
        "--journal",
        s(&journal),
    ];
    fails_saying(&args, want);
}

#[test]
fn a_command_line_error_is_said_once() {
    let (dir, _, missing) = errors_fixture("err-cli");
    let out = dir.path("out.txt");
    let want = format!("picket: open {}: {ENOENT}", missing.display());
    fails_saying(
        &[
            "track-eval",
            "--fps",
            "1",
            "--det",
            s(&missing),
            "--out",
            s(&out),
        ],
        want,
    );
}
