//! `picket run` under a service manager's signals: SIGHUP reloads zones and rules (and keeps the
//! old ones when the new file is bad), SIGTERM drains, journals `stopped` and exits 0. Frames
//! arrive on stdin, looped, so the run lasts as long as the test needs.

use crate::util::{root, CLIP};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Waits until `file` contains `what`; the deadline only guards against a hang.
fn wait_for(file: &Path, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        if text.contains(what) {
            return text;
        }
        assert!(Instant::now() < deadline, "no `{what}` in:\n{text}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn signal(pid: u32, sig: libc::c_int) {
    // SAFETY: kill has no memory effects; the pid is our own child, still unreaped.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, sig) }, 0);
}

#[test]
fn sighup_reloads_the_rules_and_sigterm_stops_cleanly() {
    let dir = std::env::temp_dir().join(format!("picket-signals-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let demo = std::fs::read_to_string(root().join("board/config/demo.toml")).unwrap();
    let cfg = dir.join("picket.toml");
    std::fs::write(&cfg, &demo).unwrap();
    let log = dir.join("stderr.log");
    let db = dir.join("events.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_picket"))
        .args([
            "run", "--source", "stdin", "--format", "mjpeg", "--size", "384x288", "--config",
        ])
        .arg(&cfg)
        .arg("--journal")
        .arg(&db)
        .arg("--state-file")
        .arg(dir.join("arming.toml"))
        .env("RUST_LOG", "info")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let clip = std::fs::read(root().join(CLIP)).unwrap();
    let feeder = std::thread::spawn(move || {
        // Until picket closes the pipe: a broken pipe is the end.
        while stdin.write_all(&clip).is_ok() {}
    });

    wait_for(&log, ", XNNPACK "); // the detector is up, on either runtime
    let moved = demo.replace("[0.0, 0.32], [1.0, 0.28]", "[0.0, 0.30], [1.0, 0.26]");
    assert_ne!(moved, demo);
    std::fs::write(&cfg, moved).unwrap();
    signal(child.id(), libc::SIGHUP);
    wait_for(&log, "zones and rules reloaded");

    std::fs::write(
        &cfg,
        demo.replace("kind = \"intrusion\"", "kind = \"burglary\""),
    )
    .unwrap();
    signal(child.id(), libc::SIGHUP);
    let text = wait_for(&log, "keeping the current zones and rules");
    assert!(text.contains("burglary"), "{text}");

    signal(child.id(), libc::SIGTERM);
    let status = child.wait().unwrap();
    feeder.join().unwrap();
    let mut text = String::new();
    std::fs::File::open(&log)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert!(status.success(), "{status}\n{text}");
    assert!(text.contains("stopped:"), "{text}");

    let list = Command::new(env!("CARGO_BIN_EXE_picket"))
        .args(["events", "list", "--json", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let events: Vec<serde_json::Value> = serde_json::from_slice(&list.stdout).unwrap();
    let newest = events.iter().max_by_key(|e| e["id"].as_i64()).unwrap();
    assert_eq!(newest["kind"], "stopped");
    let _ = std::fs::remove_dir_all(dir);
}
