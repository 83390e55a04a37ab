//! `picket run` under a memory limit in the kernel VM: the demo (board/config/demo.toml on the
//! committed clip, `--fast`) runs once in a cgroup v2 group without a limit, whose `memory.peak`
//! is its peak; then again in a fresh group with `memory.max` at 1.5 times that peak. The limited
//! run must end as the first did: exit 0, no OOM kill, no event dropped, the same frames and
//! the same rule events.

use crate::run::{scratch, turn};
use crate::util::picket_bin;
use std::path::{Path, PathBuf};
use std::process::Command;

const CGROUP: &str = "/sys/fs/cgroup";
const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/board/config/demo.toml");

/// cgroup v2 mounted at [`CGROUP`], with the memory controller handed to its children.
fn cgroup_root() -> PathBuf {
    let root = PathBuf::from(CGROUP);
    if !root.join("cgroup.controllers").exists() {
        let out = Command::new("mount")
            .args(["-t", "cgroup2", "none", CGROUP])
            .output()
            .expect("run mount");
        assert!(out.status.success(), "mount cgroup2: {out:?}");
    }
    let controllers = std::fs::read_to_string(root.join("cgroup.controllers")).unwrap();
    assert!(
        controllers.split_whitespace().any(|c| c == "memory"),
        "the kernel offers no memory controller (CONFIG_MEMCG): {controllers}"
    );
    std::fs::write(root.join("cgroup.subtree_control"), "+memory").unwrap();
    root
}

/// A fresh child group `name`, with `memory.max` set to `max` bytes when given.
fn group(name: &str, max: Option<u64>) -> PathBuf {
    let g = cgroup_root().join(name);
    std::fs::create_dir_all(&g).unwrap();
    if let Some(max) = max {
        std::fs::write(g.join("memory.max"), max.to_string()).unwrap();
        let _ = std::fs::write(g.join("memory.swap.max"), "0");
    }
    g
}

fn read_u64(path: &Path) -> u64 {
    let text = std::fs::read_to_string(path).unwrap();
    text.trim()
        .parse()
        .unwrap_or_else(|e| panic!("{}: {text:?}: {e}", path.display()))
}

/// `KEY value` from a flat-keyed cgroup file such as `memory.events`.
fn keyed(path: &Path, key: &str) -> u64 {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in {}: {text}", path.display()))
}

/// What one run left: its exit status, the `stopped:` line, the rule events (kind, place,
/// track) and the group's peak.
struct Demo {
    ok: bool,
    stopped: String,
    rules: Vec<(String, String, i64)>,
    peak: u64,
    log: String,
}

/// The demo, `--fast`, in group `g` (the shell moves itself there, then becomes
/// picket), its journal and arming state in `dir`.
fn demo_in(g: &Path, dir: &Path) -> Demo {
    let db = dir.join("events.db");
    let out = Command::new("sh")
        .arg("-c")
        .arg("echo $$ >\"$0/cgroup.procs\" && exec \"$@\"")
        .arg(g)
        .arg(picket_bin())
        .args(["run", "--fast", "--config", DEMO, "--source"])
        .arg(crate::appliance::CLIP)
        .arg("--journal")
        .arg(&db)
        .arg("--state-file")
        .arg(dir.join("arming.toml"))
        .env("RUST_LOG", "info")
        .env_remove("NOTIFY_SOCKET")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    let stopped = log
        .lines()
        .find_map(|l| l.split_once("stopped: ").map(|(_, s)| s.to_owned()))
        .unwrap_or_default();
    let rules = if out.status.success() {
        crate::util::journal::events(&db)
            .iter()
            .filter(|e| {
                ["intrusion", "line_cross", "loiter"].contains(&e["kind"].as_str().unwrap_or(""))
            })
            .map(|e| {
                (
                    e["kind"].as_str().unwrap_or("").to_owned(),
                    e["place"].as_str().unwrap_or("").to_owned(),
                    e["track_id"].as_i64().unwrap_or(-1),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    Demo {
        ok: out.status.success(),
        stopped,
        rules,
        peak: read_u64(&g.join("memory.peak")),
        log,
    }
}

#[test]
#[ignore = "needs the arm64 kernel VM: scripts/test.d/90-hil.sh runs it there"]
fn the_demo_runs_to_the_end_with_memory_max_at_one_and_a_half_times_its_peak() {
    let _turn = turn();
    let free = demo_in(&group("picket-free", None), &scratch("mem-free"));
    assert!(free.ok, "the demo without a limit failed:\n{}", free.log);
    assert!(!free.rules.is_empty(), "no rule events:\n{}", free.log);
    let max = free.peak * 3 / 2;
    let g = group("picket-capped", Some(max));
    let capped = demo_in(&g, &scratch("mem-capped"));
    let (oom, kills, high) = (
        keyed(&g.join("memory.events"), "oom"),
        keyed(&g.join("memory.events"), "oom_kill"),
        keyed(&g.join("memory.events"), "max"),
    );
    let kib = |b: u64| b / 1024;
    println!(
        "figure: demo clip peak {} KiB (memory.peak, no limit); with memory.max {} KiB: peak {} \
         KiB, {high} times at the limit, {oom} OOM, {kills} OOM kills; {}",
        kib(free.peak),
        kib(max),
        kib(capped.peak),
        capped.stopped
    );
    assert!(
        capped.ok,
        "the demo under memory.max = {max} failed:\n{}",
        capped.log
    );
    assert_eq!((oom, kills), (0, 0));
    assert!(capped.peak <= max);
    // Frames and inferences must match; the event count need not: `alarm_on`/`alarm_off` follow
    // the wall clock (`hold_s`), and a run under TCG can fit one more pulse of the siren.
    let frames = |d: &Demo| d.stopped.split_once(" skipped)").map(|(f, _)| f.to_owned());
    assert!(frames(&free).is_some(), "no frame counts: {}", free.stopped);
    assert_eq!(frames(&capped), frames(&free));
    assert!(
        capped.stopped.contains("events (0 dropped)"),
        "{}",
        capped.stopped
    );
    assert_eq!(capped.rules, free.rules);
}
