//! `picket run` whole, on real drivers in the kernel VM (`scripts/hil/`, `tests/hil/vm.rs`):
//!
//! 1. **People → relay.** `picket feed` plays the committed vtest clip into v4l2loopback; picket
//!    reads it as a camera, sees people on the walkway, and drives the gpio-sim `RELAY` line
//!    through the character device, within [`N`] processed frames of the first frame in which a
//!    person stands in the zone, then lets it fall after the hold. The journal holds the
//!    intrusion. The alarm latency, from the triggering frame's V4L2 timestamp to the line's
//!    change, is printed as a figure.
//! 2. **Camera loss.** vivid at 640×480 YUYV; its Disconnect control mid-run. Picket journals
//!    `camera_lost` and `camera_back`, sounds only the output mapped to `camera_lost`, never the
//!    relay, and counts frames again after.
//! 3. **SIGTERM with the alarm on.** `RELAY` pulled up, so a released line reads 1: the line
//!    must read 0 while picket still holds it, then picket exits 0 with its journal intact.
//! 4. **A view gone black.** The clip's first frames, then black ones, through v4l2loopback:
//!    picket journals `tamper` (covered) and drives the relay mapped to `video_tamper`.
//!
//! Every scenario prints the line's transitions with their CLOCK_MONOTONIC times, the frames
//! picket processed and the events it journalled. The scenarios share the devices and the two
//! cores, so they take turns.

use crate::appliance::{
    self, assert_integrity, frame, frame_seq, kinds, rule_event, secs, Feeder, Picket,
};
use crate::util::journal::events;
use crate::vm::{self, line, GpioSim, Pull};
use crate::wire::{LineWatch, Transition};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// The intrusion rule's `min_frames`: frames a confirmed track must be judged inside the zone.
const MIN_FRAMES: u32 = 3;

/// The most processed frames, counted from the first in which a person stands in the zone
/// (a frame whose debug line reports a confirmed track in a zone), until the relay reads 1.
/// The rule fires on the [`MIN_FRAMES`]th frame it judges a track inside; the hot thread hands
/// the alarm to the output thread in that same frame, which drives the line within one 10 ms
/// tick, while a frame takes about a second under TCG. So the line must be 1 before picket
/// reports frame `first + MIN_FRAMES`: no frame of slack is needed, and a frame late fails.
const N: usize = MIN_FRAMES as usize;

/// The feeder's rate. Under TCG an inference takes about a second, ten times a board's; fed at
/// the clip's 10 fps, picket would see every tenth frame, in which a walker moves about a body
/// width, and no track would last. At 1 fps it sees the clip's consecutive frames, as a board
/// at 10 fps would, and the frames' timestamps still come from the driver.
pub(crate) const FEED_FPS: u32 = 1;

/// Every wait is bounded; inference under TCG takes 0.5–3 s a frame.
pub(crate) const STARTUP: Duration = Duration::from_secs(60);
pub(crate) const SCENE: Duration = Duration::from_secs(120);
pub(crate) const EXIT: Duration = Duration::from_secs(30);

static TURN: Mutex<()> = Mutex::new(());

pub(crate) fn turn() -> MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

/// A fresh directory on the virtio disk for one scenario's config and journal.
pub(crate) fn scratch(name: &str) -> PathBuf {
    let dir = vm::disk().join(format!("run-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The walkway zone of the committed clip (as in `board/config/demo.toml`), as a config table.
pub(crate) const WALKWAY: &str = "[[zones]]\nname = \"walkway\"\n\
    polygon = [[0.0, 0.32], [1.0, 0.28], [1.0, 0.85], [0.6, 0.80], [0.0, 0.52]]\n\n";

/// A config with `source` (a `[source]` table), the walkway zone and its intrusion rule (as in
/// `board/config/demo.toml`), the journal and arming file in `dir`, and `rest` (outputs and
/// alarms), detecting with `tiles` (`"1x1"` but in one scenario: emulated inference is slow).
/// Returns the config's path and the journal's.
fn config(dir: &Path, source: &str, tiles: &str, rest: &str) -> (PathBuf, PathBuf) {
    let db = dir.join("events.db");
    let text = format!(
        "{source}\n\
         [model]\nthreads = 2\n\n\
         [detector]\nclasses = [\"Person\"]\nthreshold = 0.4\ntiles = \"{tiles}\"\n\n\
         {WALKWAY}\
         [[rules]]\nname = \"on_walkway\"\nkind = \"intrusion\"\nzone = \"walkway\"\n\
         min_frames = {MIN_FRAMES}\n\n\
         [journal]\npath = \"{}\"\nbatch_interval_ms = 200\n\n\
         [arming]\nstate_file = \"{}\"\n\n\
         [health]\nfps_floor = 0.0\n\n\
         {rest}",
        db.display(),
        dir.join("arming.toml").display()
    );
    let path = dir.join("picket.toml");
    std::fs::write(&path, text).unwrap();
    (path, db)
}

/// The loopback as picket's source: the clip's MJPEG at its size.
pub(crate) fn loopback_source(dev: &Path) -> String {
    format!(
        "[source]\nkind = \"v4l2\"\ndevice = \"{}\"\nformat = \"mjpeg\"\nwidth = 384\n\
         height = 288\nfps = 10\ntimeout_ms = 10000\n",
        dev.display()
    )
}

/// The relay on gpio-sim line 0, sounded steadily by the intrusion rule for `hold_s`, and not
/// again for ten minutes after.
fn relay(chip: &Path, hold_s: u32) -> String {
    format!(
        "[[outputs]]\nname = \"relay\"\nkind = \"gpiocdev\"\nchip = \"{}\"\noffset = {}\n\n\
         [[alarms]]\nrules = [\"on_walkway\"]\noutputs = [\"relay\"]\npattern = \"steady\"\n\
         hold_s = {hold_s}\ncooldown_s = 600\n",
        chip.display(),
        line::RELAY
    )
}

/// A loopback scenario's setup: the devices, its turn, a config with the relay held `hold_s`,
/// and a watcher on the relay line, pulled as `pull` first.
struct Rig {
    loopback: PathBuf,
    sim: GpioSim,
    cfg: PathBuf,
    db: PathBuf,
    watch: LineWatch,
    _turn: MutexGuard<'static, ()>,
}

/// The [`Rig`] for scenario `name`.
fn relay_rig(name: &str, pull: Pull, hold_s: u32) -> Rig {
    let (loopback, sim) = (vm::device("HIL_LOOPBACK"), GpioSim::from_env());
    let turn = turn();
    sim.set_pull(line::RELAY, pull).unwrap();
    let dir = scratch(name);
    let (cfg, db) = config(
        &dir,
        &loopback_source(&loopback),
        "1x1",
        &relay(&sim.chip, hold_s),
    );
    let watch = LineWatch::start(&sim, line::RELAY);
    Rig {
        loopback,
        sim,
        cfg,
        db,
        watch,
        _turn: turn,
    }
}

/// The frames picket processed, from its debug lines.
fn frames(p: &Picket) -> Vec<appliance::Frame> {
    p.seen.iter().filter_map(frame).collect()
}

/// Feeds the clip and runs picket until its first rule event; returns the feeder, picket, and
/// the event's log line.
fn run_until_intrusion(loopback: &Path, cfg: &Path) -> (Feeder, Picket, appliance::Logged) {
    let feeder = Feeder::start(loopback, FEED_FPS, 0);
    let mut p = Picket::spawn("picket", &["run", "--config", cfg.to_str().unwrap()]);
    p.wait_for("the first frame", STARTUP, |t| t.contains("] frame 0 "));
    let hit = p.wait_for("an intrusion on the walkway", SCENE, |t| {
        t.contains(" s: intrusion walkway track ")
    });
    (feeder, p, hit)
}

#[test]
#[ignore = "needs the arm64 kernel VM: scripts/test.d/90-hil.sh runs it there"]
fn people_on_the_walkway_sound_the_relay_within_n_frames_and_it_falls_after_the_hold() {
    let hold_s = 2;
    // Every field bound: one left to `..` would be dropped here, the turn with it.
    let Rig {
        loopback,
        sim: _,
        cfg,
        db,
        watch,
        _turn,
    } = relay_rig("relay", Pull::Down, hold_s);

    let (feeder, mut p, hit) = run_until_intrusion(&loopback, &cfg);
    let trigger = rule_event(&hit).expect("the intrusion's frame");
    let on = watch
        .wait(1, 0, Duration::from_secs(10))
        .expect("RELAY never read 1 after the intrusion");
    assert!(on.used, "RELAY read 1 while no process held it");
    let off = watch
        .wait(0, 2, Duration::from_secs(u64::from(hold_s) + 20))
        .expect("RELAY never fell after the hold");
    p.poll();
    let seen = frames(&p);
    let (status, lines) = p.stop(EXIT);
    feeder.stop();
    let transitions = watch.stop();
    assert!(status.success(), "picket run: {status}");

    // The first frame in which a person stands in the zone: where the run of frames with a
    // confirmed track in the zone that ends at the triggering frame begins.
    let k = seen
        .iter()
        .position(|f| f.seq == trigger.seq)
        .expect("the triggering frame's debug line");
    assert!(
        seen[k].in_zones > 0,
        "frame {}: nobody in the zone",
        trigger.seq
    );
    let start = seen[..=k]
        .iter()
        .rposition(|f| f.in_zones == 0)
        .map_or(0, |i| i + 1);
    let first = seen[start];
    let before = seen[start..].iter().filter(|f| f.at < on.at).count();
    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1e3);
    eprintln!(
        "person in the zone from frame {} (stamped {} s); intrusion at frame {} (track {}); \
         RELAY=1 at {} s, after {before} processed frames; RELAY=0 {:.2} s later",
        first.seq,
        secs(first.stamp),
        trigger.seq,
        trigger.track,
        secs(on.at),
        (off.at - on.at).as_secs_f64(),
    );
    // The latency from the frame's V4L2 timestamp to the line, and its last leg: from the
    // frame's verdict (its debug line, logged just before the alarm goes to the output thread;
    // to the millisecond) to the line. The rest is the frame's wait in the driver's queue and
    // its inference.
    println!(
        "figure: alarm latency {} from the V4L2 timestamp of frame {} to RELAY=1 \
         ({} of it from the frame's verdict to the line), under TCG; RELAY=1 {before} processed \
         frames (N = {N}) from frame {}, the first with a person in the zone",
        ms(on.at.saturating_sub(trigger.stamp)),
        trigger.seq,
        ms(on.at.saturating_sub(seen[k].at)),
        first.seq,
    );
    assert!(
        (1..=N).contains(&before),
        "RELAY read 1 after {before} processed frames from frame {}, allowed {N}",
        first.seq
    );
    assert!(
        on.at > trigger.stamp,
        "the line moved before the frame was taken"
    );
    assert!(
        off.at - on.at >= Duration::from_secs(u64::from(hold_s)) - Duration::from_millis(50),
        "RELAY fell {:?} after it rose; the hold is {hold_s} s",
        off.at - on.at
    );
    // Pulled down, and driven 0 by picket at start: 0, 1 at the alarm, 0 after the hold.
    let levels: Vec<u8> = transitions.iter().map(|t| t.value).collect();
    assert_eq!(levels, [0, 1, 0], "{transitions:?}");

    let journal = events(&db);
    eprintln!("journal: {:?}", kinds(&journal));
    // Every rule event picket logged is journalled, in order, the triggering one first.
    let logged: Vec<(String, u64)> = lines
        .iter()
        .filter_map(rule_event)
        .map(|e| (format!("{} {}", e.kind, e.place), e.track))
        .collect();
    let journalled: Vec<(String, u64)> = journal
        .iter()
        .filter(|e| e["kind"] == "intrusion")
        .map(|e| {
            let place = e["place"].as_str().unwrap_or("");
            (
                format!("intrusion {place}"),
                e["track_id"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    eprintln!("rule events logged {logged:?}, journalled {journalled:?}");
    assert_eq!(journalled, logged);
    assert_eq!(
        journalled.first(),
        Some(&("intrusion walkway".to_owned(), trigger.track))
    );
    let k = kinds(&journal);
    let alarm_on = k.iter().position(|&k| k == "alarm_on").expect("alarm_on");
    let alarm_off = k.iter().position(|&k| k == "alarm_off").expect("alarm_off");
    assert!(alarm_on < alarm_off, "{k:?}");
    assert_eq!(k.last(), Some(&"stopped"), "{k:?}");
}

#[test]
#[ignore = "needs the arm64 kernel VM: scripts/test.d/90-hil.sh runs it there"]
fn a_lost_camera_is_journalled_sounds_only_its_output_and_comes_back() {
    let (vivid, sim) = (vm::device("HIL_VIVID"), GpioSim::from_env());
    let _turn = turn();
    // Line 4 (unnamed) is a fault lamp mapped to camera_lost; the relay answers people only.
    const FAULT: u32 = 4;
    for l in [line::RELAY, FAULT] {
        sim.set_pull(l, Pull::Down).unwrap();
    }
    let dir = scratch("camera");
    let source = format!(
        "[source]\nkind = \"v4l2\"\ndevice = \"{}\"\nformat = \"yuyv\"\nwidth = 640\n\
         height = 480\nfps = 30\ntimeout_ms = 2000\nreconnect_max_ms = 500\n",
        vivid.display()
    );
    let fault = format!(
        "[[outputs]]\nname = \"fault\"\nkind = \"gpiocdev\"\nchip = \"{}\"\noffset = {FAULT}\n\n\
         [[alarms]]\nrules = [\"camera_lost\"]\noutputs = [\"fault\"]\npattern = \"steady\"\n\
         hold_s = 2\ncooldown_s = 0\n",
        sim.chip.display()
    );
    // The one scenario on the default tiles: its 640×480 frames are cut in two.
    let (cfg, db) = config(
        &dir,
        &source,
        "auto",
        &(relay(&sim.chip, 2) + "\n" + &fault),
    );
    let (relay_watch, fault_watch) = (
        LineWatch::start(&sim, line::RELAY),
        LineWatch::start(&sim, FAULT),
    );

    let mut p = Picket::spawn("picket", &["run", "--config", cfg.to_str().unwrap()]);
    p.wait_for("three frames", STARTUP, |t| t.contains("] frame 2 "));
    vm::press_disconnect(&vivid);
    let lost = p.wait_for("camera lost", SCENE, |t| t.contains(" lost: "));
    let back = p.wait_for("camera back", SCENE, |t| t.contains(" back after "));
    let last_before = frames(&p).last().map(|f| f.seq).expect("frames before");
    let again = p.wait_for("three frames after the camera came back", SCENE, |t| {
        frame_seq(t).is_some_and(|seq| seq >= last_before + 3)
    });
    let on = fault_watch
        .wait(1, 0, Duration::from_secs(5))
        .expect("fault never on");
    let off = fault_watch
        .wait(0, 2, Duration::from_secs(20))
        .expect("fault never off");
    let (status, _) = p.stop(EXIT);
    let (relay_levels, fault_levels) = (relay_watch.stop(), fault_watch.stop());
    assert!(status.success(), "picket run: {status}");
    println!(
        "figure: camera lost at {} s, back at {} s ({:.1} s down), 3 frames more by {} s; fault \
         lamp on at {} s, off at {} s; RELAY never moved",
        secs(lost.at),
        secs(back.at),
        (back.at - lost.at).as_secs_f64(),
        secs(again.at),
        secs(on.at),
        secs(off.at)
    );
    assert!(on.at >= lost.at - Duration::from_millis(50) && on.used);
    let levels = |v: &[Transition]| v.iter().map(|t| t.value).collect::<Vec<_>>();
    assert_eq!(
        levels(&relay_levels),
        [0],
        "the relay moved: {relay_levels:?}"
    );
    assert_eq!(levels(&fault_levels), [0, 1, 0], "{fault_levels:?}");

    let journal = events(&db);
    let k = kinds(&journal);
    eprintln!("journal: {k:?}");
    let lost_at = k
        .iter()
        .position(|&k| k == "camera_lost")
        .expect("camera_lost");
    let back_at = k
        .iter()
        .position(|&k| k == "camera_back")
        .expect("camera_back");
    assert!(lost_at < back_at, "{k:?}");
    assert!(k.contains(&"alarm_on") && k.contains(&"alarm_off"), "{k:?}");
    assert!(!k.contains(&"intrusion"), "colour bars are nobody: {k:?}");
}

#[test]
#[ignore = "needs the arm64 kernel VM: scripts/test.d/90-hil.sh runs it there"]
fn sigterm_with_the_alarm_on_drives_the_relay_off_while_picket_holds_it() {
    // Pulled up: released, the line would read 1; only picket driving it reads 0.
    let Rig {
        loopback,
        sim,
        cfg,
        db,
        watch,
        _turn,
    } = relay_rig("sigterm", Pull::Up, 600);

    let (feeder, p, _) = run_until_intrusion(&loopback, &cfg);
    let on = watch
        .wait(1, 2, Duration::from_secs(10))
        .expect("RELAY never on");
    let term = appliance::monotonic();
    p.signal(libc::SIGTERM);
    let (status, lines) = p.finish(EXIT);
    feeder.stop();
    let transitions = watch.stop();
    sim.set_pull(line::RELAY, Pull::Down).unwrap();
    assert_eq!(status.code(), Some(0), "picket run after SIGTERM: {status}");
    // Free at 1 (the pull), driven 0 at start, 1 by the alarm, 0 at SIGTERM while still held,
    // and 1 again, free, once picket let go: the kernel's record, however short the held 0.
    let seen: Vec<(u8, bool)> = transitions.iter().map(|t| (t.value, t.used)).collect();
    assert_eq!(
        seen,
        [(1, false), (0, true), (1, true), (0, true), (1, false)],
        "{transitions:?}"
    );
    let (safe, free) = (transitions[3], transitions[4]);
    println!(
        "figure: SIGTERM with RELAY on (since {} s) at {} s: RELAY=0 while held {:.0} ms later, \
         released {:.0} ms after that",
        secs(on.at),
        secs(term),
        (safe.at.saturating_sub(term)).as_secs_f64() * 1e3,
        (free.at - safe.at).as_secs_f64() * 1e3
    );
    assert!(lines.iter().any(|l| l.text.contains("stopped: ")));

    eprintln!("{}", assert_integrity(&db).trim());
    let journal = events(&db);
    let k = kinds(&journal);
    eprintln!("journal: {k:?}");
    for want in ["started", "intrusion", "alarm_on", "alarm_off", "stopped"] {
        assert!(k.contains(&want), "no {want} in {k:?}");
    }
    let off = journal.iter().find(|e| e["kind"] == "alarm_off").unwrap();
    assert!(off["detail"].to_string().contains("shutdown"), "{off}");
}

/// Where each frame of an MJPEG clip starts: at SOI and a marker (FF D8 FF); the committed
/// clip has no thumbnails.
pub(crate) fn frame_starts(clip: &[u8]) -> Vec<usize> {
    clip.windows(3)
        .enumerate()
        .filter(|(_, w)| *w == [0xff, 0xd8, 0xff])
        .map(|(i, _)| i)
        .collect()
}

/// The committed clip's first `n` frames, then `frames_black` black frames of its size: a camera whose
/// lens is covered mid-run. Written to `dir`.
fn clip_going_black(dir: &Path, n: usize, frames_black: usize) -> PathBuf {
    let clip = std::fs::read(appliance::CLIP).unwrap();
    let starts = frame_starts(&clip);
    assert!(starts.len() > n, "the clip has {} frames", starts.len());
    let mut out = clip[..starts[n]].to_vec();
    let (w, h) = (384, 288);
    let sampling = jpeg_encoder::SamplingFactor::F_2_2;
    let black = vec![0u8; w * h * 3];
    let frame = picket_testkit::media::jpeg(&black, w as u32, h as u32, 85, sampling);
    (0..frames_black).for_each(|_| out.extend_from_slice(&frame));
    let path = dir.join("going-black.mjpeg");
    std::fs::write(&path, out).unwrap();
    path
}

#[test]
#[ignore = "needs the arm64 kernel VM: scripts/test.d/90-hil.sh runs it there"]
fn a_view_gone_black_mid_run_raises_tamper_and_sounds_its_output() {
    let (loopback, sim) = (vm::device("HIL_LOOPBACK"), GpioSim::from_env());
    let _turn = turn();
    sim.set_pull(line::RELAY, Pull::Down).unwrap();
    let dir = scratch("tamper");
    let outputs = format!(
        "[[outputs]]\nname = \"relay\"\nkind = \"gpiocdev\"\nchip = \"{}\"\noffset = {}\n\n\
         [[alarms]]\nrules = [\"video_tamper\"]\noutputs = [\"relay\"]\npattern = \"steady\"\n\
         hold_s = 600\n\n[tamper]\nenabled = true\n",
        sim.chip.display(),
        line::RELAY
    );
    let (cfg, db) = config(&dir, &loopback_source(&loopback), "1x1", &outputs);
    let watch = LineWatch::start(&sim, line::RELAY);
    // At 1 fps: 8 s of the scene, then 40 s of black, far more than the 3 s hold.
    let clip = clip_going_black(&dir, 8, 40);
    let feeder = Feeder::start_clip(&loopback, FEED_FPS, 0, &clip);
    let mut p = Picket::spawn("picket", &["run", "--config", cfg.to_str().unwrap()]);
    p.wait_for("the first frame", STARTUP, |t| t.contains("] frame 0 "));
    let hit = p.wait_for("video tamper", SCENE, |t| t.contains(": video tamper: "));
    let on = watch
        .wait(1, 0, Duration::from_secs(10))
        .expect("RELAY never read 1 after the tamper");
    let (status, _) = p.stop(EXIT);
    feeder.stop();
    let transitions = watch.stop();
    assert!(status.success(), "picket run: {status}");
    assert!(on.used, "RELAY read 1 while no process held it");
    assert!(hit.text.contains(": video tamper: covered"), "{}", hit.text);

    eprintln!("{}", assert_integrity(&db).trim());
    let journal = events(&db);
    let k = kinds(&journal);
    eprintln!("journal: {k:?}; RELAY: {transitions:?}");
    let tamper = journal
        .iter()
        .find(|e| e["kind"] == "tamper")
        .unwrap_or_else(|| panic!("no tamper in {k:?}"));
    assert_eq!(tamper["detail"]["reason"], "covered", "{tamper}");
    assert!(k.contains(&"alarm_on"), "no alarm_on in {k:?}");
    println!(
        "figure: view gone black: tamper (covered) logged at {} s, RELAY=1 at {} s",
        secs(hit.at),
        secs(on.at)
    );
}
