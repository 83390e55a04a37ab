//! The wear budget: what `picket run` writes to the card its journal lives on, in the kernel VM,
//! where the journal's disk is a virtio disk of its own (`/dev/vda`, ext4, `HIL_DISK`).
//!
//! Picket watches v4l2loopback, fed at 1 fps, armed, with health probes and the metrics textfile
//! on. Two counts over the measured window, after a `sync` at each end:
//! - sectors written to the block device (`/sys/block/vda/stat`), which include the ext4
//!   journal and metadata: what the card sees;
//! - `write_bytes` of picket's `/proc/PID/io`: what picket made the kernel write.
//!
//! Both scaled to a day. `HIL_WEAR` chooses the scene:
//! - `idle` (default): a still, empty scene; nobody in view, every frame motion-skipped. The
//!   budget is 5 MB a day ([`IDLE_BUDGET`]), checked on the block device.
//! - `busy`: 45 s of the still scene, then 15 s of the committed clip's people, looped: one
//!   intrusion a minute (the rule's cooldown keeps it to one), with its snapshot and the siren's
//!   `alarm_on`/`alarm_off`. Reported, not judged.
//!
//! `HIL_WEAR_S` is the measured window (default [`DEFAULT_S`]; `scripts/wear.sh` runs 30 minutes
//! and more); `HIL_WEAR_TEXTFILE=disk` puts the metrics textfile on the journal's disk (where
//! node_exporter's default directory would be) instead of tmpfs (`/run`).

use crate::appliance::{Feeder, Picket};
use crate::run::{frame_starts, loopback_source, scratch, turn, EXIT, STARTUP, WALKWAY};
use crate::util::journal::events;
use crate::vm;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Idle writes allowed a day, in bytes.
const IDLE_BUDGET: f64 = 5e6;
/// The measured window when `HIL_WEAR_S` is unset: the HIL stage's scaled run.
const DEFAULT_S: u64 = 150;
/// The loop of the busy scene: still frames, then the clip's first frames (one per second).
const STILL_FRAMES: usize = 45;
const PEOPLE_FRAMES: usize = 15;

/// A still scene of the clip's size: a grey gradient, nobody in it.
fn still_jpeg() -> Vec<u8> {
    let (w, h) = (384usize, 288usize);
    let rgb: Vec<u8> = (0..w * h)
        .flat_map(|i| {
            let (x, y) = (i % w, i / w);
            let v = (96 + (x + y) / 8) as u8;
            [v, v, v.saturating_sub(8)]
        })
        .collect();
    let sampling = jpeg_encoder::SamplingFactor::F_2_2;
    picket_testkit::media::jpeg(&rgb, w as u32, h as u32, 85, sampling)
}

/// The fed clip for `busy` or not, written to `dir`.
fn scene(dir: &Path, busy: bool) -> PathBuf {
    let still = still_jpeg();
    let mut out = Vec::new();
    (0..STILL_FRAMES).for_each(|_| out.extend_from_slice(&still));
    if busy {
        let clip = std::fs::read(crate::appliance::CLIP).unwrap();
        let starts = frame_starts(&clip);
        out.extend_from_slice(&clip[starts[0]..starts[PEOPLE_FRAMES]]);
    }
    let path = dir.join("scene.mjpeg");
    std::fs::write(&path, out).unwrap();
    path
}

/// The config: the loopback, the walkway's intrusion rule (one a minute at most), a `log`
/// siren, health every 5 s, metrics every 10 s into `textfile`, the journal in `dir`.
fn config(dir: &Path, loopback: &Path, textfile: &Path) -> PathBuf {
    let text = format!(
        "{}\n[model]\nthreads = 2\n\n\
         [detector]\nclasses = [\"Person\"]\nthreshold = 0.4\ntiles = \"1x1\"\n\n\
         {WALKWAY}\
         [[rules]]\nname = \"on_walkway\"\nkind = \"intrusion\"\nzone = \"walkway\"\n\
         min_frames = 3\ncooldown_s = 50.0\n\n\
         [[outputs]]\nname = \"siren\"\nkind = \"log\"\n\n\
         [[alarms]]\nrules = [\"on_walkway\"]\noutputs = [\"siren\"]\npattern = \"steady\"\n\
         hold_s = 5\n\n\
         [journal]\npath = \"{}\"\n\n\
         [arming]\nstate_file = \"{}\"\n\n\
         [health]\nfps_floor = 0.1\nfps_clear = 0.2\n\n\
         [metrics]\ntextfile = \"{}\"\n",
        loopback_source(loopback),
        dir.join("events.db").display(),
        dir.join("arming.toml").display(),
        textfile.display()
    );
    let path = dir.join("picket.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Sectors written to the block device that holds `HIL_DISK` (field 7 of its `stat`).
fn sectors_written() -> u64 {
    let stat = std::fs::read_to_string("/sys/block/vda/stat").unwrap();
    stat.split_whitespace().nth(6).unwrap().parse().unwrap()
}

/// `write_bytes` of process `pid`.
fn write_bytes(pid: u32) -> u64 {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap();
    io.lines()
        .find_map(|l| l.strip_prefix("write_bytes: ")?.parse().ok())
        .unwrap()
}

fn sync() {
    assert!(Command::new("sync").status().unwrap().success());
}

fn env_or(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_owned())
}

#[test]
#[ignore = "needs the arm64 kernel VM: scripts/test.d/90-hil.sh runs it there"]
fn idle_picket_writes_at_most_5_mb_a_day_to_its_journal_disk() {
    let loopback = vm::device("HIL_LOOPBACK");
    let _turn = turn();
    let busy = env_or("HIL_WEAR", "idle") == "busy";
    let secs: u64 = env_or("HIL_WEAR_S", &DEFAULT_S.to_string())
        .parse()
        .unwrap();
    let on_disk = env_or("HIL_WEAR_TEXTFILE", "tmpfs") == "disk";
    let dir = scratch("wear");
    assert!(
        vm::on_ext4(&dir).unwrap(),
        "{} is not on the virtio disk",
        dir.display()
    );
    let textfile = if on_disk {
        dir.join("picket.prom")
    } else {
        PathBuf::from("/run/picket.prom")
    };
    let cfg = config(&dir, &loopback, &textfile);
    let feeder = Feeder::start_clip(&loopback, 1, 0, &scene(&dir, busy));
    let mut p = Picket::spawn("picket", &["run", "--config", cfg.to_str().unwrap()]);
    p.wait_for("the third frame", STARTUP, |t| t.contains("] frame 2 "));
    // Past the start: the journal's first commits, the first textfile.
    std::thread::sleep(Duration::from_secs(15));
    sync();
    let (s0, w0) = (sectors_written(), write_bytes(p.pid()));
    std::thread::sleep(Duration::from_secs(secs));
    sync();
    let (s1, w1) = (sectors_written(), write_bytes(p.pid()));
    p.poll();
    let (status, _) = p.stop(EXIT);
    feeder.stop();
    assert!(status.success(), "picket run: {status}");

    let day = |bytes: u64| bytes as f64 * 86400.0 / secs as f64;
    let (disk, own) = (day((s1 - s0) * 512), day(w1 - w0));
    let journal = events(&dir.join("events.db"));
    let rule_events = journal.iter().filter(|e| e["kind"] == "intrusion").count();
    let snapshots = journal
        .iter()
        .filter(|e| e["snapshot_bytes"].as_i64().is_some())
        .count();
    let what = if busy { "busy" } else { "idle" };
    let where_ = if on_disk {
        "on the journal's disk"
    } else {
        "on tmpfs"
    };
    println!(
        "figure: wear {what} over {secs} s (textfile {where_}): block device {} sectors = {:.2} \
         MB/day, picket write_bytes {} B = {:.2} MB/day; {rule_events} intrusions, {snapshots} \
         snapshots in the journal",
        s1 - s0,
        disk / 1e6,
        w1 - w0,
        own / 1e6
    );
    if busy {
        assert!(rule_events > 0, "no intrusion in the busy scene");
    } else {
        assert_eq!(rule_events, 0, "somebody in the still scene");
        if !on_disk {
            assert!(
                disk <= IDLE_BUDGET,
                "idle: {:.2} MB a day to the journal's disk, budget {:.0} MB",
                disk / 1e6,
                IDLE_BUDGET / 1e6
            );
        }
    }
}
