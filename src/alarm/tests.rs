//! The output engine on simulated time with fake pins, the output thread's contract, and the
//! alarm sections' validation.

use super::*;
use crate::event::EventKind;
use embedded_hal::digital::ErrorType;
use std::sync::Mutex;

const MS: Duration = Duration::from_millis(1);

/// A pin that remembers its level, shared with the test.
#[derive(Clone, Default)]
struct FakePin(Arc<Mutex<bool>>);

impl ErrorType for FakePin {
    type Error = PinError;
}

impl embedded_hal::digital::OutputPin for FakePin {
    fn set_low(&mut self) -> Result<(), PinError> {
        *self.0.lock().unwrap() = false;
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), PinError> {
        *self.0.lock().unwrap() = true;
        Ok(())
    }
}

impl FakePin {
    fn on(&self) -> bool {
        *self.0.lock().unwrap()
    }
}

fn engine(
    pattern: &str,
    hold_ms: u64,
    cooldown_ms: u64,
    latch: bool,
    max_on_s: u64,
) -> (Engine, FakePin) {
    let pin = FakePin::default();
    let spec = OutputSpec {
        name: "siren".into(),
        pin: Box::new(pin.clone()),
        max_on: Duration::from_secs(max_on_s),
    };
    let map = Mapping {
        rules: vec![Trigger::Rule(0)],
        outputs: vec![0],
        pattern: Pattern::parse(pattern).unwrap(),
        hold: Duration::from_millis(hold_ms),
        cooldown: Duration::from_millis(cooldown_ms),
        latch,
    };
    (Engine::new(vec![spec], vec![map], None), pin)
}

/// Ticks every 10 ms over `[from, to)` and returns the times (ms) at which the level changed,
/// with the new level.
fn edges(e: &mut Engine, pin: &FakePin, from: u64, to: u64) -> Vec<(u64, bool)> {
    let mut last = pin.on();
    let mut out = Vec::new();
    for t in (from..to).step_by(10) {
        e.tick(Duration::from_millis(t));
        if pin.on() != last {
            last = pin.on();
            out.push((t, last));
        }
    }
    out
}

#[test]
fn a_pulse_keeps_its_timing_for_the_hold_time() {
    let (mut e, pin) = engine("pulse:200/300", 2000, 0, false, 180);
    e.trigger(Trigger::Rule(0), Duration::ZERO);
    assert!(pin.on());
    let got = edges(&mut e, &pin, 0, 3000);
    let want = [
        (200, false),
        (500, true),
        (700, false),
        (1000, true),
        (1200, false),
        (1500, true),
        (1700, false),
    ];
    assert_eq!(got, want);
    let kinds: Vec<EventKind> = e.take_notices().map(|n| n.kind).collect();
    assert_eq!(kinds, [EventKind::AlarmOn, EventKind::AlarmOff]);
}

#[test]
fn retriggers_extend_the_hold_and_the_cooldown_ignores_triggers() {
    let (mut e, pin) = engine("steady", 1000, 2000, false, 180);
    e.trigger(Trigger::Rule(0), Duration::ZERO);
    e.trigger(Trigger::Rule(0), 500 * MS);
    assert_eq!(edges(&mut e, &pin, 0, 2000), [(1500, false)]);
    e.trigger(Trigger::Rule(0), 2000 * MS);
    assert!(!pin.on(), "cooling down until 3.5 s");
    assert_eq!(e.suppressed, 1);
    e.trigger(Trigger::Rule(1), 3600 * MS);
    assert!(!pin.on(), "rule 1 is not mapped");
    e.trigger(Trigger::Rule(0), 3600 * MS);
    assert!(pin.on());
}

#[test]
fn a_latched_siren_stops_at_its_maximum_on_time_and_stays_off_until_reset() {
    let (mut e, pin) = engine("steady", 1000, 0, true, 5);
    e.trigger(Trigger::Rule(0), Duration::ZERO);
    assert_eq!(edges(&mut e, &pin, 0, 8000), [(5000, false)]);
    e.trigger(Trigger::Rule(0), 8000 * MS);
    assert!(!pin.on(), "spent: no restart before a reset");
    e.reset(9000 * MS);
    e.trigger(Trigger::Rule(0), 9000 * MS);
    assert!(pin.on());
    let n: Vec<(EventKind, &str)> = e.take_notices().map(|n| (n.kind, n.why)).collect();
    assert_eq!(
        n,
        [
            (EventKind::AlarmOn, "rule"),
            (EventKind::AlarmOff, "max on-time"),
            (EventKind::AlarmReset, "reset"),
            (EventKind::AlarmOn, "rule"),
        ]
    );
}

#[test]
fn a_siren_cadence_on_simulated_time() {
    let (mut e, pin) = engine("siren", 4000, 0, false, 180);
    e.trigger(Trigger::Rule(0), Duration::ZERO);
    let got = edges(&mut e, &pin, 0, 4500);
    assert_eq!(
        got,
        [
            (500, false),
            (1000, true),
            (1500, false),
            (2000, true),
            (2500, false)
        ]
    );
}

#[test]
fn the_healthy_output_follows_the_heartbeat() {
    let ok = FakePin::default();
    let spec = OutputSpec {
        name: "ok".into(),
        pin: Box::new(ok.clone()),
        max_on: Duration::from_secs(1),
    };
    let mut e = Engine::new(vec![spec], vec![], Some((0, 500 * MS)));
    e.tick(Duration::ZERO);
    assert!(!ok.on(), "no heartbeat yet");
    for t in (0..3000).step_by(100) {
        e.heartbeat(t * MS);
        e.tick(t * MS);
        assert!(ok.on(), "beating at {t} ms (and exempt from max on-time)");
    }
    // The hot loop hangs after its beat at 2.9 s.
    assert_eq!(edges(&mut e, &pin_clone(&ok), 3000, 4000), [(3410, false)]);
}

fn pin_clone(p: &FakePin) -> FakePin {
    p.clone()
}

#[test]
fn the_output_thread_returns_its_engine_with_every_output_off() {
    let pin = FakePin::default();
    let spec = OutputSpec {
        name: "siren".into(),
        pin: Box::new(pin.clone()),
        max_on: Duration::from_secs(60),
    };
    let (h, notices, join) = spawn(
        Engine::new(vec![spec], vec![], None),
        Instant::now(),
        || true,
    )
    .unwrap();
    h.test(0, Pattern::Steady, Duration::from_secs(30)).unwrap();
    let on = notices.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!((on.kind, on.place.as_str()), (EventKind::AlarmOn, "siren"));
    assert!(pin.on());
    h.shutdown().unwrap();
    let engine = join.join().unwrap();
    assert!(!pin.on());
    assert!(!engine.is_on(0));
    let off = notices.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(off.kind, EventKind::AlarmOff);
    assert!(off.detail.contains("shutdown"));
    assert_eq!(h.queue_full(), 0);
    assert!(
        h.trigger(Trigger::Rule(0)).is_err(),
        "the thread has stopped"
    );
}

#[test]
fn sending_commands_does_not_allocate() {
    let (h, _n, join) = spawn(Engine::new(vec![], vec![], None), Instant::now(), || true).unwrap();
    h.trigger(Trigger::Rule(0)).unwrap();
    let ((), n) = crate::alloc_count::count(|| {
        for _ in 0..10 {
            h.heartbeat();
            h.trigger(Trigger::Rule(3)).unwrap();
        }
    });
    assert_eq!(n, 0);
    h.shutdown().unwrap();
    join.join().unwrap();
}

#[test]
fn a_health_event_kind_sounds_the_outputs_mapped_to_it() {
    let outputs: Vec<OutputConfig> =
        toml::from_str::<toml::Table>("[[o]]\nname = \"siren\"\nkind = \"log\"\n").unwrap()["o"]
            .clone()
            .try_into()
            .unwrap();
    let alarms = vec![AlarmConfig {
        rules: vec!["camera_lost".into()],
        outputs: vec!["siren".into()],
        pattern: "steady".into(),
        hold_s: 1.0,
        cooldown_s: 0.0,
        latch: false,
    }];
    let mut e = build(&outputs, &alarms, None, &["door"]).unwrap();
    let t = Duration::from_secs(1);
    e.trigger(Trigger::Rule(0), t);
    e.tick(t);
    assert_eq!(e.take_notices().count(), 0, "the rule `door` is not mapped");
    e.trigger(
        Trigger::health(crate::event::EventKind::CameraLost).unwrap(),
        t,
    );
    e.tick(t);
    let kinds: Vec<_> = e.take_notices().map(|n| n.kind).collect();
    assert_eq!(kinds, [crate::event::EventKind::AlarmOn]);
}

#[test]
fn a_mapping_names_rules_health_kinds_and_tamper_apart() {
    let rules = ["door", "camera_lost"];
    assert_eq!(Trigger::resolve("door", &rules), Some(Trigger::Rule(0)));
    assert_eq!(
        Trigger::resolve("camera_lost", &rules),
        Some(Trigger::Rule(1)),
        "a rule's name wins over a health kind"
    );
    assert_eq!(
        Trigger::resolve("fps_low", &rules),
        Trigger::health(EventKind::FpsLow)
    );
    assert_eq!(
        Trigger::health(EventKind::FpsLow),
        Some(Trigger::Health(EventKind::FpsLow))
    );
    assert_eq!(Trigger::resolve("tamper", &rules), Some(Trigger::Tamper));
    assert_eq!(
        Trigger::resolve("video_tamper", &rules),
        Some(Trigger::VideoTamper)
    );
    // The event kinds of video tamper are not health triggers: `video_tamper` names it.
    assert_eq!(Trigger::resolve("tamper_cleared", &rules), None);
    assert_eq!(Trigger::health(EventKind::Tamper), None);
    assert_eq!(Trigger::resolve("intrusion", &rules), None);
    assert_eq!(Trigger::health(EventKind::CameraBack), None);
    assert!(Trigger::HEALTH.iter().all(|k| !k.is_rule()));
}
