//! Every rule on synthetic tracks, on simulated time (10 frames per second).

use super::*;
use crate::arming::Mode;
use crate::track::{FootSample, TrackState};
use picket_geom::{NormPoint, NormRect};

const FRAME: Duration = Duration::from_millis(100);
/// Tuesday 2024-06-04 12:00 in Berlin (CEST).
const TUESDAY_NOON_MS: i64 = 1_717_495_200_000;

fn person(id: u64, x: f32, y: f32) -> Track {
    Track {
        id,
        state: TrackState::Confirmed,
        bbox: NormRect::new(x - 0.05, y - 0.3, x + 0.05, y),
        score: 0.6,
        first_seen: Duration::ZERO,
        last_seen: Duration::ZERO,
        hits: 1,
        history: heapless::HistoryBuffer::new(),
    }
}

/// The sections of a config that the rules read.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Doc {
    zones: Vec<ZoneConfig>,
    lines: Vec<LineConfig>,
    rules: Vec<RuleConfig>,
    arming: ArmingConfig,
}

/// A config, a rule engine and a clock.
struct Sim {
    rules: Rules,
    t: Duration,
    synced: bool,
    inputs: Inputs,
    verdict: Verdict,
    events: Vec<Event>,
    alarms: Vec<Fired>,
}

impl Sim {
    fn new(toml: &str) -> Sim {
        let cfg: Doc = toml::from_str(toml).unwrap();
        let mut rules = Rules::new(&cfg.zones, &cfg.lines, &cfg.rules, &cfg.arming).unwrap();
        let schedule = crate::arming::Schedule::parse(&cfg.arming.schedule).unwrap();
        let tz = jiff::tz::TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
        rules.set_arming(Arming::with(schedule, tz));
        Sim {
            rules,
            t: Duration::ZERO,
            synced: true,
            inputs: Inputs::default(),
            verdict: Verdict::default(),
            events: Vec::new(),
            alarms: Vec::new(),
        }
    }

    fn now(&self) -> Now {
        Now {
            mono: self.t,
            wall_ms: TUESDAY_NOON_MS + self.t.as_millis() as i64,
            clock_synced: self.synced,
        }
    }

    /// One frame: move the tracks' feet to `feet` (None: the track is Lost this frame).
    fn frame(&mut self, tracks: &mut [Track], feet: &[Option<(f32, f32)>]) {
        for (t, f) in tracks.iter_mut().zip(feet) {
            match f {
                Some((x, y)) => {
                    t.state = TrackState::Confirmed;
                    t.bbox = NormRect::new(x - 0.05, y - 0.3, x + 0.05, *y);
                    t.last_seen = self.t;
                    t.history.write(FootSample {
                        t: self.t,
                        at: NormPoint::new(*x, *y),
                    });
                }
                None => t.state = TrackState::Lost,
            }
        }
        let now = self.now();
        self.rules
            .judge(tracks, &now, &self.inputs, &mut self.verdict);
        self.events.extend(self.verdict.events.iter().cloned());
        self.alarms.extend(self.verdict.alarms.iter().copied());
        self.t += FRAME;
    }

    fn of(&self, kind: EventKind) -> Vec<&Event> {
        self.events.iter().filter(|e| e.kind == kind).collect()
    }
}

const LINE: &str = r#"
[[lines]]
name = "gate"
a = [0.5, 0.0]
b = [0.5, 1.0]

[[rules]]
name = "any_way"
kind = "line_cross"
line = "gate"

[[rules]]
name = "inbound"
kind = "line_cross"
line = "gate"
direction = "left_to_right"
"#;

#[test]
fn jitter_across_a_line_gives_exactly_one_crossing_in_the_right_direction() {
    let mut s = Sim::new(LINE);
    let mut t = [person(1, 0.3, 0.5)];
    // Walk right, dither on the line for a while, then go on.
    let mut xs: Vec<f32> = (0..8).map(|i| 0.3 + 0.025 * i as f32).collect();
    xs.extend([
        0.49, 0.51, 0.495, 0.508, 0.49, 0.512, 0.5, 0.491, 0.515, 0.505,
    ]);
    xs.extend((0..8).map(|i| 0.53 + 0.025 * i as f32));
    for x in xs {
        s.frame(&mut t, &[Some((x, 0.5 + 0.003 * x.sin()))]);
    }
    let c = s.of(EventKind::LineCross);
    assert_eq!(c.len(), 1, "{:?}", s.events);
    // a→b points down the image, so the image's left half is the line's right side.
    assert_eq!(c[0].direction, Some(Direction::RightToLeft));
    assert_eq!(c[0].place.as_str(), "gate");
    assert_eq!(c[0].track_id, Some(1));
    assert!(
        c[0].detail.contains(r#""rule":"any_way""#),
        "{}",
        c[0].detail
    );
    assert_eq!(
        s.alarms,
        vec![Fired::Rule(RuleId(0))],
        "inbound only counts left_to_right"
    );
    assert_eq!(s.rules.line_counts("gate"), Some([0, 1]));
}

#[test]
fn walking_past_the_end_of_a_segment_is_not_a_crossing() {
    let mut s = Sim::new(&LINE.replace("b = [0.5, 1.0]", "b = [0.5, 0.4]"));
    let mut t = [person(1, 0.3, 0.8)];
    for i in 0..20 {
        s.frame(&mut t, &[Some((0.3 + 0.02 * i as f32, 0.8))]);
    }
    assert!(s.of(EventKind::LineCross).is_empty());
    assert_eq!(s.rules.line_counts("gate"), Some([0, 0]));
}

const U_ZONE: &str = r#"
[[zones]]
name = "u"
polygon = [[0.1,0.1],[0.3,0.1],[0.3,0.6],[0.7,0.6],[0.7,0.1],[0.9,0.1],[0.9,0.9],[0.1,0.9]]
"#;

#[test]
fn a_diagonal_walk_through_a_concave_zones_notch_is_two_visits() {
    let cfg = format!(
        "{U_ZONE}
[[rules]]
name = \"long\"
kind = \"intrusion\"
zone = \"u\"
min_frames = 6
exit_grace_s = 0

[[rules]]
name = \"short\"
kind = \"intrusion\"
zone = \"u\"
min_frames = 3
exit_grace_s = 0
retrigger = \"every\"
retrigger_s = 1
"
    );
    let mut s = Sim::new(&cfg);
    let mut t = [person(7, 0.15, 0.2)];
    // From the left arm, through the notch, into the right arm: y rises 0.3 over x's 0.7.
    for i in 0..=20 {
        let x = 0.15 + 0.035 * i as f32;
        s.frame(&mut t, &[Some((x, 0.2 + (x - 0.15) * 0.3 / 0.7))]);
    }
    let hits = s.of(EventKind::Intrusion);
    assert_eq!(hits.len(), 2, "{:?}", s.events);
    assert!(hits[0].detail.contains("short") && hits[1].detail.contains("short"));
    let foot_x: Vec<f32> = hits.iter().map(|e| e.bbox.unwrap().foot().x).collect();
    assert!(foot_x[0] < 0.3 && foot_x[1] > 0.7, "{foot_x:?}");
    assert!(
        hits[1].detail.contains(r#""dwell_s":0.2"#),
        "a new visit: {}",
        hits[1].detail
    );
}

fn intrusion(retrigger: &str) -> String {
    format!(
        "{U_ZONE}
[[rules]]
name = \"door\"
kind = \"intrusion\"
zone = \"u\"
exit_grace_s = 0.5
cooldown_s = 5
{retrigger}
"
    )
}

/// Inside for 1 s, outside for 1 s, and so on, `visits` times (a visit starts every 2 s).
fn in_and_out(s: &mut Sim, t: &mut [Track], visits: usize) {
    for _ in 0..visits {
        for _ in 0..10 {
            s.frame(t, &[Some((0.5, 0.8))]);
        }
        for _ in 0..10 {
            s.frame(t, &[Some((0.5, 0.3))]);
        }
    }
}

#[test]
fn re_entry_fires_again_only_after_the_cooldown() {
    let mut s = Sim::new(&intrusion("retrigger = \"every\"\nretrigger_s = 0"));
    let mut t = [person(1, 0.5, 0.3)];
    in_and_out(&mut s, &mut t, 4); // visits at 0, 2, 4 and 6 s
    let at: Vec<u64> = s
        .of(EventKind::Intrusion)
        .iter()
        .map(|e| e.mono_ms)
        .collect();
    assert_eq!(
        at,
        vec![0, 6000],
        "visits at 2 s and 4 s are inside the cooldown"
    );
}

#[test]
fn the_verdict_counts_the_people_standing_in_watched_zones() {
    let mut s = Sim::new(&intrusion(""));
    // Two people in the zone's arms, one in its notch (outside), then one of them lost.
    let mut t = [
        person(1, 0.2, 0.8),
        person(2, 0.8, 0.8),
        person(3, 0.5, 0.3),
    ];
    let feet = [Some((0.2, 0.8)), Some((0.8, 0.8)), Some((0.5, 0.3))];
    s.frame(&mut t, &feet);
    assert_eq!(s.verdict.in_zones, 2);
    s.frame(&mut t, &[feet[0], None, feet[2]]);
    assert_eq!(s.verdict.in_zones, 1, "a lost track is not judged");
    s.frame(&mut t, &[Some((0.5, 0.3)); 3]);
    assert_eq!(s.verdict.in_zones, 0);
}

#[test]
fn once_per_track_fires_once_per_person() {
    let mut s = Sim::new(&intrusion(""));
    let mut t = [person(1, 0.5, 0.3)];
    in_and_out(&mut s, &mut t, 4);
    assert_eq!(s.of(EventKind::Intrusion).len(), 1);
    let mut other = [person(2, 0.5, 0.3)];
    in_and_out(&mut s, &mut other, 1);
    assert_eq!(
        s.of(EventKind::Intrusion).len(),
        2,
        "a new person after the cooldown"
    );
}

const LOITER: &str = r#"
[[zones]]
name = "porch"
polygon = [[0,0.5],[1,0.5],[1,1],[0,1]]

[[rules]]
name = "lurk"
kind = "loiter"
zone = "porch"
min_seconds = 8
"#;

#[test]
fn loitering_survives_a_one_second_occlusion() {
    let mut s = Sim::new(LOITER);
    let mut t = [person(3, 0.4, 0.7)];
    for i in 0..100 {
        let seen = !(40..50).contains(&i); // Lost from 4 s to 5 s
        s.frame(&mut t, &[seen.then_some((0.4 + 0.001 * i as f32, 0.7))]);
    }
    let l = s.of(EventKind::Loiter);
    assert_eq!(l.len(), 1, "{:?}", s.events);
    assert_eq!(l[0].mono_ms, 8000);
    assert!(l[0].detail.contains(r#""dwell_s":8.0"#), "{}", l[0].detail);
}

#[test]
fn a_track_that_dies_starts_its_dwell_again() {
    let mut s = Sim::new(LOITER);
    let mut a = [person(3, 0.4, 0.7)];
    for _ in 0..40 {
        s.frame(&mut a, &[Some((0.4, 0.7))]);
    }
    let mut none: [Track; 0] = [];
    for _ in 0..10 {
        s.frame(&mut none, &[]);
    }
    let mut b = [person(4, 0.4, 0.7)];
    for _ in 0..50 {
        s.frame(&mut b, &[Some((0.4, 0.7))]);
    }
    assert!(s.of(EventKind::Loiter).is_empty(), "{:?}", s.events);
}

const WANDER: &str = r#"
[[zones]]
name = "lot"
polygon = [[0,0],[1,0],[1,1],[0,1]]

[[rules]]
name = "prowl"
kind = "wander"
zone = "lot"
min_seconds = 3
"#;

#[test]
fn wandering_is_told_from_purposeful_walking() {
    let mut s = Sim::new(WANDER);
    let mut t = [person(5, 0.4, 0.6)];
    for i in 0..120 {
        let ph = (i as f32 / 10.0) % 4.0; // pace 0.2 of the frame and back every 4 s
        let x = if ph < 2.0 { ph } else { 4.0 - ph };
        s.frame(&mut t, &[Some((0.4 + 0.1 * x, 0.6))]);
    }
    assert_eq!(s.of(EventKind::Wander).len(), 1, "{:?}", s.events);

    let mut s = Sim::new(WANDER);
    let mut t = [person(6, 0.05, 0.5)];
    for i in 0..120 {
        let x = 0.05 + 0.0075 * i as f32; // across the frame in 12 s, with a slight curve
        s.frame(&mut t, &[Some((x, 0.5 + 0.1 * (x * 3.0).sin()))]);
    }
    assert!(s.of(EventKind::Wander).is_empty(), "{:?}", s.events);
}

#[test]
fn a_crowd_fires_once_per_episode() {
    let mut s = Sim::new(&format!(
        "{LOITER}\n[[rules]]\nname = \"mob\"\nkind = \"crowd\"\nzone = \"porch\"\nmin_people = 3\n"
    ));
    let mut t = [
        person(1, 0.2, 0.7),
        person(2, 0.5, 0.7),
        person(3, 0.8, 0.3),
    ];
    for i in 0..30 {
        let third = if i < 10 { 0.3 } else { 0.8 }; // the third walks in after 1 s
        s.frame(
            &mut t,
            &[Some((0.2, 0.7)), Some((0.5, 0.7)), Some((0.8, third))],
        );
    }
    let c = s.of(EventKind::Crowd);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].mono_ms, 1000);
    assert!(c[0].detail.contains(r#""people":3"#));
}

#[test]
fn an_unsynced_clock_keeps_a_scheduled_box_armed_and_says_so() {
    let cfg = format!("{LOITER}\n[arming]\nschedule = [\"mon-fri 18:00-07:00\"]\n");
    let mut s = Sim::new(&cfg.replace("min_seconds = 8", "min_seconds = 1"));
    s.synced = false;
    let mut t = [person(1, 0.4, 0.7)];
    for _ in 0..20 {
        s.frame(&mut t, &[Some((0.4, 0.7))]);
    }
    assert_eq!(s.of(EventKind::ClockUnsynced).len(), 1);
    let armed = s.of(EventKind::Armed);
    assert_eq!(armed.len(), 1);
    assert!(armed[0].detail.contains("clock_unsynced"));
    assert_eq!(
        s.of(EventKind::Loiter).len(),
        1,
        "armed at noon while unsynced"
    );
    assert!(!s.of(EventKind::Loiter)[0].clock_synced);
    // Once synchronised, noon on a Tuesday is outside the schedule.
    s.synced = true;
    let mut u = [person(2, 0.4, 0.7)];
    for _ in 0..20 {
        s.frame(&mut u, &[Some((0.4, 0.7))]);
    }
    assert_eq!(s.of(EventKind::Disarmed).len(), 1);
    assert_eq!(
        s.of(EventKind::Loiter).len(),
        1,
        "no new alarm while disarmed"
    );
}

#[test]
fn a_manual_mode_says_who_set_it() {
    let mut s = Sim::new(LOITER);
    s.inputs = Inputs {
        mode: Mode::Disarmed,
        by: By::Mqtt,
        ..Inputs::default()
    };
    let mut none: [Track; 0] = [];
    s.frame(&mut none, &[]);
    s.inputs = Inputs {
        mode: Mode::Auto,
        by: By::Cli,
        ..Inputs::default()
    };
    s.frame(&mut none, &[]);
    s.inputs.mode = Mode::Disarmed;
    s.inputs.by = By::Unknown;
    s.frame(&mut none, &[]);
    let details: Vec<&str> = s
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Armed | EventKind::Disarmed))
        .map(|e| e.detail.as_str())
        .collect();
    assert_eq!(
        details,
        [
            r#"{"by":"manual","mode":"disarmed","source":"mqtt"}"#,
            r#"{"by":"no_schedule","mode":"auto"}"#,
            r#"{"by":"manual","mode":"disarmed"}"#,
        ]
    );
}

#[test]
fn tamper_alarms_even_when_disarmed() {
    let mut s = Sim::new(LOITER);
    s.inputs = Inputs {
        mode: Mode::Disarmed,
        tamper: true,
        ..Inputs::default()
    };
    let mut none: [Track; 0] = [];
    for _ in 0..5 {
        s.frame(&mut none, &[]);
    }
    assert_eq!(s.alarms, vec![Fired::Tamper]);
    assert_eq!(s.of(EventKind::Disarmed).len(), 1);
}

#[test]
fn judging_a_busy_scene_does_not_allocate() {
    let cfg = format!("{LINE}{LOITER}{WANDER}\n[arming]\nschedule = [\"daily 00:00-24:00\"]\n")
        .replace("name = \"lurk\"", "name = \"lurk\"\ncooldown_s = 1");
    let mut s = Sim::new(&cfg);
    let mut tracks: Vec<Track> = (0..20).map(|i| person(i, 0.05 * i as f32, 0.6)).collect();
    let warm: Vec<Option<(f32, f32)>> = (0..20).map(|i| Some((0.05 * i as f32, 0.6))).collect();
    s.frame(&mut tracks, &warm);
    let ((), n) = crate::alloc_count::count(|| {
        for f in 0..50 {
            for (i, t) in tracks.iter_mut().enumerate() {
                let (x, y) = (0.05 * i as f32 + 0.005 * f as f32, 0.45 + 0.005 * f as f32);
                t.bbox = NormRect::new(x - 0.05, y - 0.3, x + 0.05, y);
                t.history.write(FootSample {
                    t: s.t,
                    at: NormPoint::new(x, y),
                });
            }
            let now = s.now();
            s.rules.judge(&tracks, &now, &s.inputs, &mut s.verdict);
            s.t += FRAME;
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn a_loiter_rule_fires_while_its_track_stays_and_zones_count_people() {
    let mut s = Sim::new(LOITER);
    let mut t = [person(3, 0.4, 0.7), person(4, 0.4, 0.2)];
    let mut counts = [9u16; 2];
    s.rules.zone_counts(&t, &mut counts);
    assert_eq!(counts, [1, 0], "one foot in the porch; no second zone");
    assert_eq!(s.rules.zone_names().collect::<Vec<_>>(), ["porch"]);
    for _ in 0..80 {
        s.frame(&mut t, &[Some((0.4, 0.7)), Some((0.4, 0.2))]);
    }
    assert_eq!(s.rules.firing(s.t), 0, "7.9 s: not yet");
    s.frame(&mut t, &[Some((0.4, 0.7)), Some((0.4, 0.2))]);
    assert_eq!(s.of(EventKind::Loiter).len(), 1);
    assert_eq!(s.rules.firing(s.t), 1, "fired, and still there");
    // Out of the zone: firing through the exit grace (1 s by default), then not.
    s.frame(&mut t, &[Some((0.4, 0.3)), Some((0.4, 0.2))]);
    assert_eq!(s.rules.firing(s.t), 1, "in the exit grace");
    for _ in 0..11 {
        s.frame(&mut t, &[Some((0.4, 0.3)), Some((0.4, 0.2))]);
    }
    assert_eq!(s.rules.firing(s.t), 0);
    s.rules.zone_counts(&t, &mut counts);
    assert_eq!(counts, [0, 0]);
}
