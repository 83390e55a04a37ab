//! Health: the edge and hysteresis rules on given readings, the probes against a fake sysfs
//! tree and a fake `vcgencmd`, the journal events, and `[health]` validation.

use super::*;
use crate::testdir::TestDir;

fn s(v: u64) -> Duration {
    Duration::from_secs(v)
}

fn health() -> Health {
    let none = Probes {
        sys_root: PathBuf::from("/nonexistent"),
        vcgencmd: None,
    };
    Health::new(&HealthConfig::default(), &none, None)
}

/// The (kind, active) of each event `judge` returns for `r` at `t` seconds.
fn edges(h: &mut Health, t: u64, r: Readings) -> Vec<(EventKind, bool)> {
    h.judge(s(t), &r)
        .iter()
        .map(|e| (e.kind, e.active))
        .collect()
}

fn temp(c: f32) -> Readings {
    Readings {
        temp_c: Some(c),
        ..Readings::default()
    }
}

#[test]
fn temperature_rises_at_the_limit_and_clears_below_the_clear_level() {
    let mut h = health();
    let seq = [70.0, 75.0, 78.0, 72.0, 74.9, 70.0, 71.0, 76.0];
    let got: Vec<_> = seq
        .iter()
        .enumerate()
        .map(|(i, &c)| edges(&mut h, i as u64, temp(c)))
        .collect();
    use EventKind::TempHigh;
    let want: [&[(EventKind, bool)]; 8] = [
        &[],
        &[(TempHigh, true)],
        &[],
        &[],
        &[],
        &[(TempHigh, false)],
        &[],
        &[(TempHigh, true)],
    ];
    assert_eq!(got, want);
    let e = h.judge(s(9), &temp(69.5));
    assert_eq!((e[0].value, e[0].limit), (69.5, 70.0));
}

#[test]
fn throttling_clears_only_after_three_clean_polls() {
    let mut h = health();
    let flags = |f| Readings {
        throttled: Some(f),
        ..Readings::default()
    };
    use EventKind::Throttled;
    // Bit 16 alone is "under-voltage has occurred since boot": history, not now.
    assert_eq!(edges(&mut h, 0, flags(0x10000)), []);
    assert_eq!(edges(&mut h, 1, flags(0x50005)), [(Throttled, true)]);
    assert_eq!(edges(&mut h, 2, flags(0x50000)), []);
    assert_eq!(edges(&mut h, 3, flags(0x50000)), []);
    assert_eq!(
        edges(&mut h, 4, flags(0x50001)),
        [],
        "a flicker restarts the count"
    );
    assert_eq!(edges(&mut h, 5, flags(0x50000)), []);
    assert_eq!(edges(&mut h, 6, flags(0x50000)), []);
    assert_eq!(edges(&mut h, 7, flags(0x50000)), [(Throttled, false)]);
}

#[test]
fn disk_and_fps_have_their_own_hysteresis() {
    let mut h = health();
    let disk = |mb| Readings {
        disk_free_mb: Some(mb),
        ..Readings::default()
    };
    use EventKind::{DiskLow, FpsLow};
    assert_eq!(edges(&mut h, 0, disk(150)), [(DiskLow, true)]);
    assert_eq!(edges(&mut h, 1, disk(299)), []);
    assert_eq!(edges(&mut h, 2, disk(300)), [(DiskLow, false)]);
    let fps = |f| Readings {
        fps: Some(f),
        ..Readings::default()
    };
    // Below the floor of 2 must last 30 s; a good reading restarts the clock.
    assert_eq!(edges(&mut h, 100, fps(1.0)), []);
    assert_eq!(edges(&mut h, 120, fps(2.0)), []);
    assert_eq!(edges(&mut h, 125, fps(1.5)), []);
    assert_eq!(edges(&mut h, 150, fps(1.5)), []);
    assert_eq!(edges(&mut h, 155, fps(0.5)), [(FpsLow, true)]);
    assert_eq!(
        edges(&mut h, 160, fps(2.5)),
        [],
        "above the floor, below the clear level"
    );
    assert_eq!(edges(&mut h, 165, fps(3.0)), [(FpsLow, false)]);
}

/// A Pi-like sysfs: a CPU zone at 81.2 °C, a hotter GPU zone, and the firmware's flags.
fn fake_sys(dir: &TestDir) {
    dir.write("sys/class/thermal/thermal_zone0/type", "gpu-thermal\n");
    dir.write("sys/class/thermal/thermal_zone0/temp", "90000\n");
    dir.write("sys/class/thermal/thermal_zone1/type", "cpu-thermal\n");
    dir.write("sys/class/thermal/thermal_zone1/temp", "81234\n");
    dir.write(
        "sys/devices/platform/soc/soc:firmware/get_throttled",
        "50005\n",
    );
}

#[test]
fn probes_read_a_sysfs_tree_and_poll_on_their_interval() {
    let dir = TestDir::new("health");
    fake_sys(&dir);
    let probes = Probes {
        sys_root: dir.path().join("sys"),
        vcgencmd: None,
    };
    let cfg = HealthConfig {
        disk_min_free_mb: 0,
        disk_clear_mb: 1,
        ..HealthConfig::default()
    };
    let mut h = Health::new(&cfg, &probes, Some(dir.path()));
    assert_eq!(h.found(), (1, true, true));
    let r = h.read();
    assert_eq!(r.temp_c, Some(81.234));
    assert_eq!(r.throttled, Some(0x50005));
    assert!(r.disk_free_mb.is_some_and(|mb| mb > 0));
    let kinds = |ev: &HealthEvents| ev.iter().map(|e| (e.kind, e.active)).collect::<Vec<_>>();
    let first = h.poll(s(0), Some(10.0));
    assert_eq!(
        kinds(&first),
        [(EventKind::TempHigh, true), (EventKind::Throttled, true)]
    );
    dir.write("sys/class/thermal/thermal_zone1/temp", "55000\n");
    assert!(h.poll(s(4), Some(10.0)).is_empty(), "not due for 5 s");
    // Reading sysfs and statvfs needs no heap, so any thread may poll.
    let (ev, n) = crate::alloc_count::count(|| h.poll(s(5), Some(10.0)));
    assert_eq!(kinds(&ev), [(EventKind::TempHigh, false)]);
    assert_eq!(n, 0);
    // A probe that vanishes reads nothing and is counted, without an event.
    std::fs::remove_file(dir.path().join("sys/class/thermal/thermal_zone1/temp")).unwrap();
    assert_eq!(h.read().temp_c, None);
    assert_eq!(h.failures(), 1);
}

#[test]
fn other_layouts_zone0_and_a_pi5_firmware_path_are_found() {
    let dir = TestDir::new("health");
    dir.write("sys/class/thermal/thermal_zone0/type", "x86_pkg_temp\n");
    dir.write("sys/class/thermal/thermal_zone0/temp", "42000\n");
    dir.write("sys/class/thermal/thermal_zone1/type", "acpitz\n");
    dir.write("sys/class/thermal/thermal_zone1/temp", "99000\n");
    dir.write("sys/devices/platform/axi/axi:firmware/get_throttled", "0\n");
    let probes = Probes {
        sys_root: dir.path().join("sys"),
        vcgencmd: None,
    };
    let mut h = Health::new(&HealthConfig::default(), &probes, None);
    assert_eq!(h.found(), (1, true, false));
    let r = h.read();
    assert_eq!(
        (r.temp_c, r.throttled, r.disk_free_mb),
        (Some(42.0), Some(0), None)
    );
    // Nothing at all: every probe off, and polling is harmless.
    let mut h = Health::new(&HealthConfig::default(), &probes_at("/nonexistent"), None);
    assert_eq!(h.found(), (0, false, false));
    assert!(h.poll(s(0), None).is_empty());
}

fn probes_at(root: &str) -> Probes {
    Probes {
        sys_root: PathBuf::from(root),
        vcgencmd: None,
    }
}

#[test]
fn vcgencmd_is_the_fallback_and_is_dropped_when_it_fails() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = TestDir::new("health");
    let script = dir.write(
        "vcgencmd",
        "#!/bin/sh\n[ \"$1\" = get_throttled ] && echo throttled=0x4\n",
    );
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let probes = Probes {
        sys_root: dir.path().join("sys"),
        vcgencmd: Some(script),
    };
    let mut h = Health::new(&HealthConfig::default(), &probes, None);
    assert_eq!(h.read().throttled, Some(4));
    let probes = Probes {
        vcgencmd: Some(dir.path().join("missing-vcgencmd")),
        ..probes
    };
    let mut h = Health::new(&HealthConfig::default(), &probes, None);
    assert_eq!(h.found(), (0, true, false));
    assert_eq!(h.read().throttled, None);
    assert_eq!((h.found(), h.failures()), ((0, false, false), 1));
}

#[test]
fn edges_become_journal_events() {
    let e = HealthEvent {
        kind: EventKind::TempHigh,
        active: true,
        value: 81.234,
        limit: 75.0,
    };
    let ev = e.to_event(1_700_000_000_000, 42, true);
    assert_eq!(ev.kind, EventKind::TempHigh);
    assert_eq!(ev.mono_ms, 42);
    assert_eq!(
        ev.detail.as_str(),
        r#"{"active":true,"temp_c":81.23,"limit":75}"#
    );
    let e = HealthEvent {
        kind: EventKind::Throttled,
        active: false,
        value: f64::from(0x50000u32),
        limit: 0.0,
    };
    assert_eq!(
        e.to_event(0, 0, false).detail.as_str(),
        r#"{"active":false,"flags":"0x50000"}"#
    );
    assert_eq!(parse_throttled("throttled=0x50005\n"), Some(0x50005));
    assert_eq!(parse_throttled("zzz"), None);
}
