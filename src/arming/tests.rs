//! Arming on simulated time: schedules across midnight and DST, the unsynced clock, syntax
//! errors, the state file across a restart, the input watcher following the state file, and
//! the uplink's arming requests.

use super::*;
use crate::live::{Action, Request, Source};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Berlin's rules as a POSIX TZ string: CET, CEST from the last Sunday of March 02:00 to the
/// last Sunday of October 03:00.
const BERLIN: &str = "CET-1CEST,M3.5.0,M10.5.0/3";

fn ms(s: &str) -> i64 {
    s.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

fn arming(entries: &[&str]) -> Arming {
    Arming::with(
        Schedule::parse(entries).unwrap(),
        jiff::tz::TimeZone::posix(BERLIN).unwrap(),
    )
}

#[test]
fn an_overnight_window_runs_past_midnight() {
    let s = Schedule::parse(&["fri 22:00-06:00"]).unwrap();
    assert!(s.armed_at(4, 22 * 60)); // Friday 22:00
    assert!(s.armed_at(5, 5 * 60 + 59)); // Saturday 05:59
    assert!(!s.armed_at(5, 6 * 60)); // Saturday 06:00
    assert!(!s.armed_at(4, 5 * 60)); // Friday morning: Thursday was not in the window
    assert!(!s.armed_at(5, 22 * 60));
    let w = Schedule::parse(&["sun-mon 23:00-01:00"]).unwrap();
    assert!(w.armed_at(0, 30), "Monday 00:30 continues Sunday's window");
    assert!(w.armed_at(1, 30), "Tuesday 00:30 continues Monday's window");
    assert!(!w.armed_at(2, 30));
}

#[test]
fn the_schedule_follows_local_time_across_dst() {
    let a = arming(&["daily 22:00-06:00"]);
    // Spring forward, Sunday 2024-03-31: 02:00 CET becomes 03:00 CEST (01:00 UTC).
    assert!(a.decide(Mode::Auto, ms("2024-03-31T03:59:00Z"), true).0); // 05:59 CEST
    assert!(!a.decide(Mode::Auto, ms("2024-03-31T04:00:00Z"), true).0); // 06:00 CEST
                                                                        // In winter the same UTC instant is 05:00 CET, still armed.
    assert!(a.decide(Mode::Auto, ms("2024-03-24T04:00:00Z"), true).0);
    // Fall back, Sunday 2024-10-27: 03:00 CEST becomes 02:00 CET (01:00 UTC).
    assert!(a.decide(Mode::Auto, ms("2024-10-27T04:59:00Z"), true).0); // 05:59 CET
    assert!(!a.decide(Mode::Auto, ms("2024-10-27T05:00:00Z"), true).0); // 06:00 CET
    assert!(a.decide(Mode::Auto, ms("2024-10-26T20:00:00Z"), true).0); // 22:00 CEST
    assert!(!a.decide(Mode::Auto, ms("2024-10-26T19:59:00Z"), true).0);
}

#[test]
fn an_unsynced_clock_keeps_an_auto_box_armed_but_manual_modes_hold() {
    let a = arming(&["mon-fri 18:00-07:00"]);
    let tuesday_noon = ms("2024-06-04T10:00:00Z");
    assert_eq!(
        a.decide(Mode::Auto, tuesday_noon, true),
        (false, Reason::Schedule)
    );
    assert_eq!(
        a.decide(Mode::Auto, tuesday_noon, false),
        (true, Reason::ClockUnsynced)
    );
    assert_eq!(
        a.decide(Mode::Disarmed, tuesday_noon, false),
        (false, Reason::Manual)
    );
    assert_eq!(
        arming(&[]).decide(Mode::Auto, 0, false),
        (true, Reason::NoSchedule)
    );
}

#[test]
fn schedule_syntax_errors_say_what_is_wrong() {
    for (bad, why) in [
        ("weekdays 18:00-07:00", "unknown day"),
        ("mon 18:00", "not a span"),
        ("mon 25:00-07:00", "not a time"),
        ("mon 18:00-18:00", "empty"),
        ("mon-fri", "expected"),
    ] {
        let e = Schedule::parse(&[bad]).unwrap_err().to_string();
        assert!(e.contains(why), "{bad}: {e}");
    }
    assert!(Schedule::parse(&["sat,sun 00:00-24:00", "Mon-Fri 18:30-07:15"]).is_ok());
}

#[test]
fn the_state_file_survives_a_restart() {
    let dir = std::env::temp_dir().join(format!("picket-arming-{}", std::process::id()));
    let path = dir.join("arming.toml");
    assert_eq!(StateFile::load(&path).unwrap(), StateFile::default());
    StateFile::update(&path, |s| {
        s.mode = Mode::Disarmed;
        s.by = "cli".into();
    })
    .unwrap();
    let back = StateFile::load(&path).unwrap();
    assert_eq!(back.mode, Mode::Disarmed);
    assert_eq!(back.by, "cli");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Waits (up to 10 s, polling) for `f` to hold; the watcher re-reads the state file each second.
fn eventually(f: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn the_watcher_follows_the_state_file_and_passes_resets_on() {
    let dir = std::env::temp_dir().join(format!("picket-watch-{}", std::process::id()));
    let state = dir.join("arming.toml");
    let shared = Arc::new(ArmingShared::default());
    let stop = Arc::new(AtomicBool::new(false));
    let resets = Arc::new(AtomicU32::new(0));
    let counted = resets.clone();
    let request = dir.join("cursor.request");
    let w = watch::spawn(
        &crate::alarm::InputsConfig::default(),
        state.clone(),
        Some(request.clone()),
        shared.clone(),
        move || {
            counted.fetch_add(1, Ordering::Relaxed);
        },
        stop.clone(),
    )
    .unwrap();
    assert_eq!(shared.inputs().mode, Mode::Auto);
    assert!(!shared.inputs().tamper);
    StateFile::update(&state, |s| s.mode = Mode::Disarmed).unwrap();
    assert!(eventually(|| shared.inputs().mode == Mode::Disarmed));
    assert_eq!(
        resets.load(Ordering::Relaxed),
        0,
        "a mode change is no reset"
    );

    StateFile::update(&state, |s| s.reset_seq += 1).unwrap(); // `picket alarm reset`
    assert!(eventually(|| resets.load(Ordering::Relaxed) == 1));
    StateFile::update(&state, |s| s.mode = Mode::Armed).unwrap();
    assert!(eventually(|| shared.inputs().mode == Mode::Armed));
    assert_eq!(resets.load(Ordering::Relaxed), 1, "one bump, one reset");

    // An MQTT command, as `picket uplink` hands it over.
    std::fs::write(&request, mqtt_request(Action::Disarm)).unwrap();
    assert!(eventually(|| shared.inputs().mode == Mode::Disarmed));
    assert_eq!(shared.inputs().by, By::Mqtt);
    assert!(eventually(|| !request.exists()), "applied and removed");

    stop.store(true, Ordering::Relaxed);
    w.join().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

fn mqtt_request(request: Action) -> String {
    Request {
        version: 1,
        request,
        source: Source::Mqtt,
        at_ms: 1_796_419_740_656,
    }
    .to_text()
}

#[test]
fn a_request_is_applied_once_and_a_bad_one_only_removed() {
    let dir = crate::testdir::TestDir::new("arming-request");
    let (state, request) = (
        dir.path().join("arming.toml"),
        dir.path().join("cursor.request"),
    );
    StateFile::update(&state, |s| {
        s.mode = Mode::Armed;
        s.by = "cli".into();
    })
    .unwrap();
    let mut applied = None;
    assert!(
        watch::take_request(&request, &state, &mut applied).is_none(),
        "none there"
    );

    for bad in [
        "version = 1\nrequest = \"self_destruct\"\nsource = \"mqtt\"\nat_ms = 1\n",
        "not toml at all [",
        "",
    ] {
        std::fs::write(&request, bad).unwrap();
        assert!(
            watch::take_request(&request, &state, &mut applied).is_none(),
            "{bad}"
        );
        assert!(!request.exists(), "{bad}: removed");
        let s = StateFile::load(&state).unwrap();
        assert_eq!(
            (s.mode, s.by.as_str()),
            (Mode::Armed, "cli"),
            "{bad}: unchanged"
        );
    }

    std::fs::write(&request, mqtt_request(Action::Disarm)).unwrap();
    let s = watch::take_request(&request, &state, &mut applied).expect("applied");
    assert_eq!((s.mode, s.by.as_str()), (Mode::Disarmed, "mqtt"));
    assert_eq!(StateFile::load(&state).unwrap(), s, "stored");
    assert!(!request.exists());
    // The same request again (a file that could not be removed) is not applied twice.
    std::fs::write(&request, mqtt_request(Action::Disarm)).unwrap();
    assert!(watch::take_request(&request, &state, &mut applied).is_none());
    std::fs::write(&request, mqtt_request(Action::Arm)).unwrap();
    let s = watch::take_request(&request, &state, &mut applied).expect("applied");
    assert_eq!((s.mode, s.by.as_str()), (Mode::Armed, "mqtt"));
}

#[test]
fn utc_by_name_needs_no_time_zone_database() {
    let tz = time_zone(Some("UTC")).unwrap();
    let at = jiff::Timestamp::from_second(1_800_000_000).unwrap();
    assert_eq!(tz.to_offset(at).seconds(), 0);
}
