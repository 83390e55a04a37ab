//! The wall clock stepped while `picket run` watches people in the kernel VM
//! (docs/design/clocks.md): back an hour and forward a day, as an NTP daemon or `date -s` would.
//!
//! The box runs in `auto` mode on a weekly schedule in UTC, fed the committed clip through
//! v4l2loopback, with a `log` siren held [`HOLD_S`] after each intrusion and quiet for
//! [`COOLDOWN_S`] after, and a loiter rule. The test sets the wall clock to Wednesday 12:10
//! (armed) and then, with the siren on:
//!
//! 1. steps it forward a day with `clock_settime`, as `date -s` does: the kernel marks the clock
//!    unsynchronised (`STA_UNSYNC`), so picket journals `clock_unsynced` and its events say
//!    `clock_synced: false`; then clears `STA_UNSYNC` (`adjtimex`), as an NTP daemon would once
//!    it answers: the events say synced again, and the schedule disarms the box (Thursday 12:10);
//! 2. once the hold has ended, steps it back an hour in one `adjtimex` call that also keeps it
//!    synchronised (`ADJ_SETOFFSET`, as chrony steps): Thursday 11:10, and the schedule arms the
//!    box again.
//!
//! What must hold: arming follows the wall clock as the schedule says; the hold and the cooldown
//! follow CLOCK_MONOTONIC (the siren neither stops at the day's step nor lasts a day, and the
//! next one waits out the cooldown, not an hour more); the loiter and intrusion dwells stay
//! seconds; the journal's ids rise in the order of the events' monotonic times while `ts` jumps
//! a day forward and an hour back, as it happened.

use crate::appliance::{kinds, Feeder, Picket};
use crate::run::{loopback_source, scratch, turn, EXIT, FEED_FPS, SCENE, STARTUP, WALKWAY};
use crate::util::journal::events;
use crate::vm;
use serde_json::Value;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

/// Wednesday 2026-03-04 12:10:00 UTC, in seconds since the epoch.
const WED_1210: i64 = 1_772_626_200;
const DAY_S: i64 = 86_400;
const HOUR_S: i64 = 3_600;
/// How long a step may take to show in the journal: the rules see the clock's state with each
/// frame, and under TCG on a loaded machine a frame can take 10 s.
const SEEN: Duration = Duration::from_secs(60);
/// The siren's hold and cooldown, in seconds.
const HOLD_S: i64 = 20;
const COOLDOWN_S: i64 = 30;

/// CLOCK_REALTIME in milliseconds.
fn wall_ms() -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-parameter.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    ts.tv_sec * 1000 + ts.tv_nsec / 1_000_000
}

/// Sets the wall clock to `ms` since the epoch, as `date -s` does; the kernel then marks the
/// clock unsynchronised.
fn set_wall(ms: i64) {
    let ts = libc::timespec {
        tv_sec: ms.div_euclid(1000),
        tv_nsec: ms.rem_euclid(1000) * 1_000_000,
    };
    // SAFETY: a plain clock_settime with a valid timespec; the test runs as root in the VM.
    let rc = unsafe { libc::clock_settime(libc::CLOCK_REALTIME, &ts) };
    assert_eq!(rc, 0, "clock_settime: {}", std::io::Error::last_os_error());
}

/// adjtimex with `tx`; returns the clock state (TIME_OK, TIME_ERROR, ...).
fn adjtimex(tx: &mut libc::timex) -> i32 {
    // SAFETY: `tx` is a valid timex; the test runs as root in the VM.
    let state = unsafe { libc::adjtimex(tx) };
    assert!(state >= 0, "adjtimex: {}", std::io::Error::last_os_error());
    state
}

/// The maximum error an NTP daemon reports with a synchronised clock, in microseconds. The
/// kernel adds 500 µs to it every second and marks the clock unsynchronised once it passes 16 s;
/// so clearing `STA_UNSYNC` alone, with the error left at 16 s by the last step, lasts a
/// second.
const MAXERROR_US: libc::c_long = 100_000;

/// Marks the kernel's clock synchronised (clears `STA_UNSYNC`, sets a small maximum error), as
/// chrony or ntpd do once a server answers.
fn mark_synced() {
    set_synced(None);
}

/// Steps the wall clock by `secs` and keeps it synchronised, in one call (`ADJ_SETOFFSET` with
/// `ADJ_STATUS`), as an NTP daemon steps a clock it trusts.
fn step_synced(secs: i64) {
    set_synced(Some(secs));
}

/// Clears `STA_UNSYNC` with a small maximum error, stepping the clock by `step` seconds in the
/// same call when given; the kernel must then read the clock synchronised.
fn set_synced(step: Option<i64>) {
    // SAFETY: `timex` is plain data, valid as all zeroes.
    let mut tx: libc::timex = unsafe { std::mem::zeroed() };
    tx.modes = libc::ADJ_STATUS | libc::ADJ_MAXERROR | libc::ADJ_ESTERROR;
    if let Some(secs) = step {
        tx.modes |= libc::ADJ_SETOFFSET;
        tx.time.tv_sec = secs;
        tx.time.tv_usec = 0;
    }
    tx.status = 0;
    tx.maxerror = MAXERROR_US;
    adjtimex(&mut tx);
    assert_eq!(
        kernel_state(),
        libc::TIME_OK,
        "the clock still reads unsynced (step {step:?})"
    );
}

/// The kernel's clock state, read only.
fn kernel_state() -> i32 {
    // SAFETY: `timex` is plain data; with `modes = 0` adjtimex only reads.
    let mut tx: libc::timex = unsafe { std::mem::zeroed() };
    adjtimex(&mut tx)
}

/// The first event after id `after` that `want` accepts, polling the journal for up to
/// `timeout`; panics naming `what` otherwise.
fn wait_event(
    db: &Path,
    what: &str,
    after: i64,
    timeout: Duration,
    want: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        let found = events(db)
            .into_iter()
            .find(|e| e["id"].as_i64().unwrap_or(0) > after && want(e));
        if let Some(e) = found {
            eprintln!("journal: {what}: {e}");
            return e;
        }
        if Instant::now() >= deadline {
            let seen: Vec<String> = events(db)
                .iter()
                .map(|e| {
                    format!(
                        "{} {} {} {}",
                        e["id"], e["kind"], e["clock_synced"], e["detail"]
                    )
                })
                .collect();
            panic!("no {what} within {timeout:?}; the journal: {seen:#?}");
        }
        thread::sleep(Duration::from_millis(500));
    }
}

fn id(e: &Value) -> i64 {
    e["id"].as_i64().expect("an event id")
}
fn mono(e: &Value) -> i64 {
    e["mono_ms"].as_i64().expect("mono_ms")
}
fn ts(e: &Value) -> i64 {
    e["ts_ms"].as_i64().expect("ts_ms")
}
fn kind_is(k: &'static str) -> impl Fn(&Value) -> bool {
    move |e| e["kind"] == k
}
/// An `armed` or `disarmed` event that the schedule decided.
fn by_schedule(k: &'static str) -> impl Fn(&Value) -> bool {
    move |e| e["kind"] == k && e["detail"]["by"] == "schedule"
}

/// The scenario's config: the loopback, the walkway with an intrusion rule and a loiter rule,
/// the schedule (Wednesday 12:00–13:00 and Thursday 10:00–12:00, UTC), a `log` siren.
fn config(dir: &Path, loopback: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let db = dir.join("events.db");
    let text = format!(
        "{}\n[model]\nthreads = 2\n\n\
         [detector]\nclasses = [\"Person\"]\nthreshold = 0.4\ntiles = \"1x1\"\n\n\
         {WALKWAY}\
         [[rules]]\nname = \"on_walkway\"\nkind = \"intrusion\"\nzone = \"walkway\"\n\
         min_frames = 3\n\n\
         [[rules]]\nname = \"lingering\"\nkind = \"loiter\"\nzone = \"walkway\"\n\
         min_seconds = 4.0\n\n\
         [[outputs]]\nname = \"siren\"\nkind = \"log\"\n\n\
         [[alarms]]\nrules = [\"on_walkway\"]\noutputs = [\"siren\"]\npattern = \"steady\"\n\
         hold_s = {HOLD_S}\ncooldown_s = {COOLDOWN_S}\n\n\
         [journal]\npath = \"{}\"\nbatch_interval_ms = 200\n\n\
         [arming]\nschedule = [\"wed 12:00-13:00\", \"thu 10:00-12:00\"]\n\
         timezone = \"UTC\"\nstate_file = \"{}\"\n\n\
         [health]\nfps_floor = 0.0\n",
        loopback_source(loopback),
        db.display(),
        dir.join("arming.toml").display()
    );
    let path = dir.join("picket.toml");
    std::fs::write(&path, text).unwrap();
    (path, db)
}

/// Hours and minutes of `ms` (UTC) and the weekday (0 = Thursday, as 1970-01-01 was).
fn when(ms: i64) -> (i64, i64, i64) {
    let s = ms.div_euclid(1000);
    let day = s.div_euclid(DAY_S);
    let in_day = s.rem_euclid(DAY_S);
    (day.rem_euclid(7), in_day / HOUR_S, in_day % HOUR_S / 60)
}
const THURSDAY: i64 = 0;
const WEDNESDAY: i64 = 6;

#[test]
#[ignore = "needs the arm64 kernel VM: scripts/test.d/90-hil.sh runs it there"]
fn wall_clock_steps_move_the_schedule_but_not_holds_cooldowns_or_dwells() {
    let loopback = vm::device("HIL_LOOPBACK");
    let _turn = turn();
    set_wall(WED_1210 * 1000);
    mark_synced();
    let dir = scratch("clock");
    let (cfg, db) = config(&dir, &loopback);
    let feeder = Feeder::start(&loopback, FEED_FPS, 0);
    let mut p = Picket::spawn("picket", &["run", "--config", cfg.to_str().unwrap()]);
    p.wait_for("the first frame", STARTUP, |t| t.contains("] frame 0 "));
    let armed = wait_event(&db, "armed by the schedule", 0, SCENE, by_schedule("armed"));
    assert_eq!(when(ts(&armed)).0, WEDNESDAY, "{armed}");
    let on = wait_event(&db, "the siren on", id(&armed), SCENE, kind_is("alarm_on"));

    // 1. Forward a day, as `date -s` does: unsynced until the NTP daemon answers.
    set_wall(wall_ms() + DAY_S * 1000);
    assert_ne!(kernel_state(), libc::TIME_OK, "a set clock reads synced");
    let unsynced = wait_event(
        &db,
        "clock_unsynced",
        id(&on),
        SEEN,
        kind_is("clock_unsynced"),
    );
    assert_eq!(unsynced["clock_synced"], false, "{unsynced}");
    assert!(ts(&unsynced) >= (WED_1210 + DAY_S) * 1000, "{unsynced}");
    thread::sleep(Duration::from_secs(3));
    mark_synced();
    let disarmed = wait_event(
        &db,
        "disarmed by the schedule",
        id(&unsynced),
        SEEN,
        by_schedule("disarmed"),
    );
    assert_eq!(disarmed["clock_synced"], true, "{disarmed}");
    let (day, hour, _) = when(ts(&disarmed));
    assert_eq!((day, hour), (THURSDAY, 12), "{disarmed}");
    let hold = Duration::from_secs(HOLD_S as u64 + 60);
    let off = wait_event(&db, "the siren off", id(&on), hold, kind_is("alarm_off"));

    // 2. Back an hour, in the cooldown, stepped and synced at once: armed by the schedule.
    step_synced(-HOUR_S);
    let rearmed = wait_event(
        &db,
        "armed by the schedule again",
        id(&off),
        SEEN,
        by_schedule("armed"),
    );
    let (day, hour, _) = when(ts(&rearmed));
    assert_eq!((day, hour), (THURSDAY, 11), "{rearmed}");
    let wait = Duration::from_secs(COOLDOWN_S as u64) + SCENE;
    let again = wait_event(
        &db,
        "the siren on again",
        id(&off),
        wait,
        kind_is("alarm_on"),
    );
    let (status, _) = p.stop(EXIT);
    feeder.stop();
    assert!(status.success(), "picket run: {status}");

    let journal = events(&db);
    eprintln!("journal: {:?}", kinds(&journal));
    // The hold: from the siren's start to its end by CLOCK_MONOTONIC, at least the hold; at
    // most the hold after the last trigger, which came before the box was disarmed.
    let held = mono(&off) - mono(&on);
    assert!(
        held >= HOLD_S * 1000 - 50 && held <= mono(&disarmed) - mono(&on) + HOLD_S * 1000 + 2000,
        "the siren held {held} ms; hold {HOLD_S} s, disarmed {} ms after it rose",
        mono(&disarmed) - mono(&on)
    );
    // The cooldown, across the step back an hour.
    let quiet = mono(&again) - mono(&off);
    assert!(
        quiet >= COOLDOWN_S * 1000 - 50,
        "the siren rose again {quiet} ms after it fell"
    );
    // The wall clock says what happened: a day forward, an hour back.
    assert!(ts(&off) - ts(&on) >= DAY_S * 1000, "on {on}, off {off}");
    assert!(ts(&again) < ts(&off), "on again {again}, off {off}");
    // Ids rise with the monotonic time (the journal's order), whatever `ts` did; events of
    // different threads may reach a batch a moment apart.
    for w in journal.windows(2) {
        assert!(id(&w[1]) > id(&w[0]));
        assert!(
            mono(&w[1]) >= mono(&w[0]) - 1000,
            "out of order: {} then {}",
            w[0],
            w[1]
        );
    }
    // Synced or not, as the kernel said when each event was made.
    for e in &journal {
        let between = id(e) >= id(&unsynced) && mono(e) < mono(&disarmed) - 1500;
        if between {
            assert_eq!(e["clock_synced"], false, "{e}");
        }
        if id(e) >= id(&disarmed) {
            assert_eq!(e["clock_synced"], true, "{e}");
        }
    }
    assert_eq!(
        kinds(&journal)
            .iter()
            .filter(|&&k| k == "clock_unsynced")
            .count(),
        1
    );
    // Dwells are seconds of frame time (CLOCK_MONOTONIC stamps), not a day.
    let dwells: Vec<f64> = journal
        .iter()
        .filter_map(|e| e["detail"]["dwell_s"].as_f64())
        .collect();
    let loiters = kinds(&journal).iter().filter(|&&k| k == "loiter").count();
    assert!(loiters > 0, "no loiter: {:?}", kinds(&journal));
    assert!(
        dwells.iter().all(|&d| (0.0..600.0).contains(&d)),
        "dwells {dwells:?}"
    );
    println!(
        "figure: clock steps: siren held {:.1} s (hold {HOLD_S} s) across +1 day, next after \
         {:.1} s quiet (cooldown {COOLDOWN_S} s) across -1 h; {} loiters, dwells {:.1}-{:.1} s; \
         disarmed by the schedule {:.1} s after clock_unsynced (3 s unsynced, then the next frame)",
        held as f64 / 1e3,
        quiet as f64 / 1e3,
        loiters,
        dwells.iter().copied().fold(f64::INFINITY, f64::min),
        dwells.iter().copied().fold(0.0, f64::max),
        (mono(&disarmed) - mono(&unsynced)) as f64 / 1e3,
    );
}
