//! Metrics values: percentiles, windows, fps, the textfile's text and atomic replacement, the
//! summary line, allocation-free recording, and `[metrics]` validation.

use super::*;
use crate::alloc_count::count;
use crate::testdir::TestDir;

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

fn metrics(window: u32) -> Metrics {
    Metrics::new(&MetricsConfig {
        window,
        ..MetricsConfig::default()
    })
}

#[test]
fn percentiles_are_nearest_rank_over_the_window() {
    let mut m = metrics(100);
    // 1..=100 ms, in a scrambled order.
    for i in 0..100u64 {
        m.record(Stage::Invoke, ms((i * 37) % 100 + 1));
    }
    let s = m.snapshot(ms(10_000));
    let inv = s.stage(Stage::Invoke);
    assert_eq!((inv.p50, inv.p99, inv.max), (ms(50), ms(99), ms(100)));
    assert_eq!((inv.count, inv.sum), (100, ms(5050)));
    assert_eq!(*s.stage(Stage::Track), StageStats::default());
}

#[test]
fn the_window_forgets_old_samples_but_count_and_sum_do_not() {
    let mut m = metrics(16);
    for _ in 0..100 {
        m.record(Stage::Frame, ms(1));
    }
    for _ in 0..16 {
        m.record(Stage::Frame, ms(5));
    }
    let f = *m.snapshot(ms(1)).stage(Stage::Frame);
    assert_eq!((f.p50, f.p99), (ms(5), ms(5)));
    assert_eq!((f.count, f.sum), (116, ms(180)));
    // A stage longer than u32 nanoseconds saturates instead of wrapping.
    m.record(Stage::Source, Duration::from_secs(10));
    assert_eq!(
        m.snapshot(ms(2)).stage(Stage::Source).max,
        Duration::from_nanos(u32::MAX.into())
    );
}

#[test]
fn fps_is_over_the_interval_since_the_last_snapshot() {
    let mut m = metrics(64);
    assert!(!m.due(ms(9_999)));
    assert!(m.due(ms(10_000)));
    m.add(Counter::Frames, 100);
    assert_eq!(m.snapshot(ms(10_000)).fps, 10.0);
    m.add(Counter::Frames, 25);
    let s = m.snapshot(ms(20_000));
    assert_eq!(s.fps, 2.5);
    assert_eq!(s.counter(Counter::Frames), 125);
    assert!(!m.due(ms(29_000)));
}

#[test]
fn recording_and_snapshots_do_not_allocate() {
    let mut m = metrics(1024);
    let ((), n) = count(|| {
        for i in 0..5000u64 {
            m.record(Stage::Invoke, Duration::from_micros(8000 + i % 50));
            m.time(Stage::Rules, || ());
            m.inc(Counter::Frames);
            m.set(Counter::InferencesSkipped, i / 2);
        }
        let s = m.snapshot(ms(5000));
        assert_eq!(s.counter(Counter::Frames), 5000);
    });
    assert_eq!(n, 0);
}

fn sample() -> Snapshot {
    let mut m = metrics(100);
    for i in 1..=100u64 {
        m.record(Stage::Invoke, Duration::from_micros(8000 + i));
        m.record(Stage::Frame, Duration::from_micros(9000 + i));
    }
    m.add(Counter::Frames, 100);
    m.add(Counter::Inferences, 60);
    m.set(Counter::InferencesSkipped, 40);
    m.inc(Counter::Alarms);
    m.snapshot(ms(10_000))
}

#[test]
fn the_textfile_is_prometheus_text() {
    let mut text = String::new();
    sample().render_prometheus(&mut text);
    for line in [
        "# TYPE picket_stage_seconds summary",
        "picket_stage_seconds{stage=\"invoke\",quantile=\"0.5\"} 0.00805",
        "picket_stage_seconds{stage=\"invoke\",quantile=\"0.99\"} 0.008099",
        "picket_stage_seconds_count{stage=\"invoke\"} 100",
        "picket_stage_seconds{stage=\"frame\",quantile=\"0.5\"} 0.00905",
        "picket_fps 10",
        "# TYPE picket_inferences_skipped_total counter",
        "picket_inferences_skipped_total 40",
        "picket_alarms_total 1",
        "picket_queue_drops_total 0",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    let sum = text
        .lines()
        .find_map(|l| l.strip_prefix("picket_stage_seconds_sum{stage=\"invoke\"} "))
        .unwrap();
    assert!(
        (sum.parse::<f64>().unwrap() - 0.80505).abs() < 1e-9,
        "{sum}"
    );
    assert!(
        !text.contains("stage=\"track\""),
        "unrecorded stages are left out"
    );
    // Every sample line is `name{labels} value` or `name value` with a numeric value.
    for l in text.lines().filter(|l| !l.starts_with('#')) {
        let v = l.rsplit(' ').next().unwrap();
        assert!(v.parse::<f64>().is_ok(), "{l}");
    }
}

#[test]
fn the_summary_is_one_line() {
    let line = sample().summary().to_string();
    assert_eq!(
        line,
        "fps 10.0 | p50/p99 ms: invoke 8.05/8.10 frame 9.05/9.10 | frames 100 inferences 60 \
         inferences_skipped 40 queue_drops 0 reconnects 0 alarms 1 events 0"
    );
}

#[test]
fn publishing_replaces_the_textfile_and_paces_the_log() {
    let dir = TestDir::new("metrics");
    let path = dir.path().join("picket.prom");
    std::fs::write(&path, "stale").unwrap();
    let mut p = Publisher::new(&MetricsConfig {
        textfile: Some(path.clone()),
        log_interval_s: 60.0,
        ..MetricsConfig::default()
    });
    let mut s = sample();
    assert!(
        p.publish(&s).unwrap().is_some(),
        "the first snapshot is logged"
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("# HELP picket_stage_seconds"), "{text}");
    assert!(text.contains("picket_frames_total 100\n"));
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["picket.prom"], "no temporary is left behind");
    // Then one a minute after it (the sample was taken at 10 s).
    s.at = ms(69_999);
    assert!(p.publish(&s).unwrap().is_none());
    s.at = ms(70_000);
    assert!(p.publish(&s).unwrap().is_some());
    // A missing directory is an error with the path, not a panic.
    let mut p = Publisher::new(&MetricsConfig {
        textfile: Some(dir.path().join("no/such/dir/picket.prom")),
        ..MetricsConfig::default()
    });
    let e = p.publish(&s).unwrap_err().to_string();
    assert!(
        e.starts_with("metrics: write ") && e.contains("no/such/dir/picket.prom"),
        "{e}"
    );
}

#[test]
fn the_textfile_carries_the_uplink_backlog_once_the_uplink_ran() {
    use crate::journal::cursor::Cursor;
    use crate::journal::sample::sample_event;
    use crate::journal::{JournalConfig, JournalItem, Reader, Writer};
    let dir = TestDir::new("metrics-uplink");
    let db = dir.path().join("events.db");
    let mut w = Writer::open(&JournalConfig {
        path: db.clone(),
        ..JournalConfig::default()
    })
    .unwrap();
    let items: Vec<JournalItem> = (1..=25)
        .map(|i| JournalItem::new(sample_event(i, i)))
        .collect();
    w.append(&items).unwrap();
    let created = Reader::open(&db).unwrap().head().unwrap().created_ms;
    let prom = dir.path().join("picket.prom");
    let state = dir.path().join("events.db.uplink");
    let cfg = MetricsConfig {
        textfile: Some(prom.clone()),
        ..MetricsConfig::default()
    };
    let backlog = |p: &mut Publisher| {
        p.publish(&sample()).unwrap();
        let text = std::fs::read_to_string(&prom).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix("picket_uplink_backlog "))
            .map(|v| v.parse::<u64>().unwrap())
    };
    let mut p = Publisher::new(&cfg).with_uplink(Some((db.clone(), state.clone())));
    assert_eq!(backlog(&mut p), None, "the uplink never ran: no figure");
    Cursor {
        acked_through: 20,
        ..Cursor::start(created)
    }
    .store(&state)
    .unwrap();
    assert_eq!(backlog(&mut p), Some(5));
    w.append(&[JournalItem::new(sample_event(26, 26))]).unwrap();
    assert_eq!(backlog(&mut p), Some(6), "read afresh at each snapshot");
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(
        text.contains("# TYPE picket_uplink_backlog gauge\n"),
        "{text}"
    );
    // No uplink configured: no figure, however far behind a cursor file says it is.
    let mut p = Publisher::new(&cfg);
    assert_eq!(backlog(&mut p), None);
    // A journal that cannot be read leaves the figure out; the rest is still written.
    let mut p = Publisher::new(&cfg).with_uplink(Some((dir.path().join("gone.db"), state)));
    assert_eq!(backlog(&mut p), None);
    assert!(std::fs::read_to_string(&prom)
        .unwrap()
        .contains("picket_frames_total 100\n"));
}

#[test]
fn a_textfile_in_ram_is_told_from_one_on_another_file_system() {
    // /dev/shm is tmpfs on Linux; /proc is procfs, not RAM for this purpose.
    assert_eq!(in_ram(Path::new("/dev/shm/picket.prom")), Some(true));
    assert_eq!(in_ram(Path::new("/proc/picket.prom")), Some(false));
    assert_eq!(in_ram(Path::new("/no/such/dir/picket.prom")), None);
}
