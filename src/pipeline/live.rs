//! The box's state for `picket uplink` (`crate::live::BoxState`), kept cheaply: the hot thread
//! fills a fixed-size [`Live`] at most every [`LOOK`] and hands it to the worker when it changed
//! (at most once a second, [`MIN_GAP`]) or every [`REFRESH`] (for fps); the worker names it,
//! adds fps and the journal's last id, and replaces the JSON file whole ([`StateWriter`]), at
//! most once a second, also when only the last id moved. Nothing here allocates on the hot
//! thread.

use crate::arming::Mode;
use crate::live::{BoxState, STATE_VERSION};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Zones counted in the state (the first ones of the config), and outputs tracked.
pub const MAX_ZONES: usize = 16;
pub const MAX_OUTPUTS: usize = 32;
/// How often the hot thread looks at the state.
pub const LOOK: Duration = Duration::from_millis(200);
/// The least time between two writes.
pub const MIN_GAP: Duration = Duration::from_secs(1);
/// The state is written at least this often while it runs, for fps and the last id.
pub const REFRESH: Duration = Duration::from_secs(10);

/// What the hot thread knows of the box's state. Fixed-size and `Copy`: it crosses the worker's
/// queue without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Live {
    pub armed: bool,
    pub mode: Mode,
    /// A bit per `[[outputs]]` entry with its alarm on.
    pub outputs_on: u32,
    /// Confirmed tracks now.
    pub people: u16,
    /// People per zone, in zone order.
    pub zones: [u16; MAX_ZONES],
    /// A bit per rule firing now.
    pub firing: u16,
    pub camera_ok: bool,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            armed: true,
            mode: Mode::Auto,
            outputs_on: 0,
            people: 0,
            zones: [0; MAX_ZONES],
            firing: 0,
            camera_ok: true,
        }
    }
}

impl Live {
    /// Output `i` went on or off (its `alarm_on`, `alarm_off` or `alarm_reset`).
    pub fn set_output(&mut self, i: usize, on: bool) {
        if i < MAX_OUTPUTS {
            let bit = 1u32 << i;
            if on {
                self.outputs_on |= bit;
            } else {
                self.outputs_on &= !bit;
            }
        }
    }
}

/// When the hot thread hands the state on: changes at most every [`MIN_GAP`], and a refresh
/// every [`REFRESH`]. Times are the pipeline's monotonic clock.
#[derive(Debug, Default)]
pub struct Pacer {
    sent: Option<(Live, Duration)>,
    looked_at: Option<Duration>,
}

impl Pacer {
    /// Whether it is time to look at the state again (every [`LOOK`]).
    pub fn look(&mut self, now: Duration) -> bool {
        if self.looked_at.is_some_and(|t| now.saturating_sub(t) < LOOK) {
            return false;
        }
        self.looked_at = Some(now);
        true
    }

    /// Whether `live` is due to be written at `now`. Call [`Pacer::sent`] once it is queued.
    pub fn due(&self, live: &Live, now: Duration) -> bool {
        match &self.sent {
            None => true,
            Some((last, at)) => {
                let since = now.saturating_sub(*at);
                (since >= MIN_GAP && last != live) || since >= REFRESH
            }
        }
    }

    pub fn sent(&mut self, live: Live, now: Duration) {
        self.sent = Some((live, now));
    }
}

/// The worker's end: the names the bits stand for, and the file.
#[derive(Debug)]
pub struct StateWriter {
    pub path: PathBuf,
    pub zones: Vec<String>,
    pub rules: Vec<String>,
    pub outputs: Vec<String>,
    /// The last write failed with this (logged once until it succeeds).
    trouble: Option<String>,
    /// A state from the hot thread not written yet.
    pending: Option<Live>,
    /// The state last written, when, and with which last id.
    written: Option<(Live, Instant, Option<i64>)>,
}

impl StateWriter {
    pub fn new(
        path: PathBuf,
        zones: Vec<String>,
        rules: Vec<String>,
        outputs: Vec<String>,
    ) -> Self {
        StateWriter {
            path,
            zones,
            rules,
            outputs,
            trouble: None,
            pending: None,
            written: None,
        }
    }

    /// The writer for `cfg`'s `state_json` and the names of `rules`; none without an uplink.
    pub fn of(cfg: &crate::config::Config, rules: &crate::rules::Rules) -> Option<Self> {
        let path = cfg.state_json()?;
        Some(StateWriter::new(
            path,
            rules.zone_names().map(String::from).collect(),
            rules.rule_names().map(String::from).collect(),
            cfg.outputs.iter().map(|o| o.name.clone()).collect(),
        ))
    }

    /// A new state from the hot thread, written at the next [`StateWriter::poll`] allowed.
    pub fn offer(&mut self, live: Live) {
        self.pending = Some(live);
    }

    /// Writes the state when a new one is pending or the journal's last id moved, at most
    /// every [`MIN_GAP`] unless `now_anyway` (at stop). Whether it wrote.
    pub fn poll(
        &mut self,
        fps: Option<f32>,
        last_id: Option<i64>,
        now: Instant,
        now_anyway: bool,
    ) -> bool {
        let recent = self
            .written
            .is_some_and(|(_, at, _)| now.saturating_duration_since(at) < MIN_GAP);
        if recent && !now_anyway {
            return false;
        }
        let live = match (self.pending.take(), self.written) {
            (Some(l), _) => l,
            (None, Some((l, _, id))) if id != last_id => l,
            _ => return false,
        };
        let s = self.state(&live, fps, last_id, crate::journal::time_now_ms());
        self.write(&s);
        self.written = Some((live, now, last_id));
        true
    }

    /// `live` with its names, the fps and the journal's last id, at wall time `ts_ms`.
    pub fn state(
        &self,
        live: &Live,
        fps: Option<f32>,
        last_id: Option<i64>,
        ts_ms: i64,
    ) -> BoxState {
        let bits = |names: &[String], bits: u32| {
            names
                .iter()
                .enumerate()
                .filter(|(i, _)| *i < 32 && bits & (1 << i) != 0)
                .map(|(_, n)| n.clone())
                .collect()
        };
        BoxState {
            v: STATE_VERSION,
            ts: crate::journal::time::rfc3339(ts_ms),
            armed: live.armed,
            mode: live.mode.as_str().into(),
            outputs_on: bits(&self.outputs, live.outputs_on),
            people: u32::from(live.people),
            zones: self
                .zones
                .iter()
                .zip(live.zones)
                .map(|(n, c)| (n.clone(), u32::from(c)))
                .collect(),
            firing: bits(&self.rules, u32::from(live.firing)),
            fps: fps.map(|f| crate::event::detail::rounded(f64::from(f), 1)),
            camera_ok: live.camera_ok,
            last_id,
        }
    }

    /// Replaces the file with `state` (a temporary file renamed over it); a failure is logged
    /// once until a write succeeds again.
    pub fn write(&mut self, state: &BoxState) {
        let json = serde_json::to_vec(state).unwrap_or_default();
        match crate::metrics::write_atomically(&self.path, &json) {
            Ok(()) => {
                if self.trouble.take().is_some() {
                    log::info!("state_json {} written again", self.path.display());
                }
            }
            Err(e) => {
                let why = e.to_string();
                if self.trouble.as_ref() != Some(&why) {
                    log::warn!("{why}; picket uplink will not see the box's state");
                    self.trouble = Some(why);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn changes_go_out_at_most_once_a_second_and_a_refresh_every_ten() {
        let mut p = Pacer::default();
        let quiet = Live::default();
        let busy = Live { people: 1, ..quiet };
        assert!(p.look(ms(0)) && !p.look(ms(150)) && p.look(ms(200)));
        assert!(p.due(&quiet, ms(0)), "the first state goes out at once");
        p.sent(quiet, ms(0));
        assert!(!p.due(&quiet, ms(5_000)), "unchanged");
        assert!(!p.due(&busy, ms(999)), "a change within the second waits");
        assert!(p.due(&busy, ms(1_000)));
        p.sent(busy, ms(1_000));
        assert!(!p.due(&busy, ms(10_999)));
        assert!(p.due(&busy, ms(11_000)), "the refresh");
    }

    #[test]
    fn the_worker_writes_at_most_once_a_second_and_when_the_last_id_moves() {
        let dir = crate::testdir::TestDir::new("live-pace");
        let path = dir.path().join("state.json");
        let mut w = StateWriter::new(path.clone(), vec![], vec![], vec![]);
        let t0 = Instant::now();
        let people = |p: &std::path::Path| BoxState::parse(&std::fs::read(p).unwrap()).unwrap();
        assert!(!w.poll(None, None, t0, false), "nothing offered yet");
        w.offer(Live::default());
        assert!(w.poll(None, None, t0, false));
        assert_eq!(people(&path).last_id, None);
        w.offer(Live {
            people: 2,
            ..Live::default()
        });
        assert!(
            !w.poll(None, Some(1), t0 + ms(500), false),
            "within the second"
        );
        assert!(w.poll(None, Some(1), t0 + ms(1_000), false));
        let s = people(&path);
        assert_eq!((s.people, s.last_id), (2, Some(1)));
        assert!(
            !w.poll(None, Some(1), t0 + ms(5_000), false),
            "nothing moved"
        );
        assert!(
            w.poll(Some(10.0), Some(7), t0 + ms(5_100), false),
            "the last id moved"
        );
        let s = people(&path);
        assert_eq!((s.people, s.last_id, s.fps), (2, Some(7), Some(10.0)));
        w.offer(Live {
            camera_ok: false,
            ..Live::default()
        });
        assert!(
            w.poll(None, Some(7), t0 + ms(5_200), true),
            "at stop, at once"
        );
        assert!(!people(&path).camera_ok);
    }

    #[test]
    fn the_file_holds_the_named_state_whole() {
        let dir = crate::testdir::TestDir::new("live-state");
        let path = dir.path().join("state.json");
        let mut w = StateWriter::new(
            path.clone(),
            vec!["walkway".into(), "drive".into()],
            vec!["on_walkway".into(), "crossed".into(), "lurk".into()],
            vec!["siren".into(), "light".into()],
        );
        let mut live = Live {
            armed: false,
            mode: Mode::Disarmed,
            people: 3,
            firing: 0b101,
            camera_ok: false,
            ..Live::default()
        };
        live.zones[0] = 2;
        live.zones[1] = 1;
        live.set_output(1, true);
        live.set_output(0, true);
        live.set_output(0, false);
        let s = w.state(&live, Some(9.87), Some(42), 1_796_419_740_656);
        w.write(&s);
        let back = BoxState::parse(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(back, s);
        assert_eq!(
            serde_json::to_value(&back).unwrap(),
            serde_json::json!({
                "v": 1, "ts": "2026-12-04T21:29:00.656Z", "armed": false, "mode": "disarmed",
                "outputs_on": ["light"], "people": 3, "zones": {"drive": 1, "walkway": 2},
                "firing": ["on_walkway", "lurk"], "fps": 9.9, "camera_ok": false, "last_id": 42
            })
        );
        // No temporary file is left beside it.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["state.json"]);
        // An unwritable place is logged, not fatal.
        let mut bad = StateWriter::new(
            dir.path().join("no/such/dir/state.json"),
            vec![],
            vec![],
            vec![],
        );
        bad.write(&s);
        assert!(
            bad.trouble
                .as_deref()
                .is_some_and(|t| t.contains("no/such/dir")),
            "{:?}",
            bad.trouble
        );
    }
}
