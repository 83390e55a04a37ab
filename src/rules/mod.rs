//! Judging behaviour: zones, intrusion, loitering, line crossing, wandering, crowds, and whether
//! the box is armed ([`Arming`]'s decision, on the inputs it is given: no arming I/O here).
//!
//! [`Rules`] is owned by the hot thread. Each frame the pipeline calls [`Rules::judge`] with the
//! tracker's tracks, the time ([`Now`], never read inside, so tests run on simulated time) and the
//! arming inputs ([`Inputs`], a snapshot of what the input watcher publishes). It fills a
//! caller-owned [`Verdict`]: events for the journal, and what [`Fired`] (a rule by its
//! [`RuleId`], or tamper) for the pipeline to turn into the output thread's triggers. `judge`
//! does not allocate: every per-track memo lives in storage sized once in [`Rules::new`].
//!
//! Rules judge confirmed tracks at the foot point (bottom-centre of the box). A track that is
//! `Lost` keeps its memos (so a loiter survives a short occlusion) but is not judged; a track
//! that leaves the tracker's list is gone, and so are its memos. Nothing here survives a restart;
//! the arming mode is kept by `crate::arming`'s state file and arrives as [`Inputs::mode`].

pub mod config;
pub mod motion;
pub mod shape;
#[cfg(test)]
mod tests;
mod verdict;

pub use config::{validate, LineConfig, RuleConfig, RuleKind, ZoneConfig};
pub use verdict::{Fired, Now, RuleId, Verdict};

use crate::arming::{Arming, ArmingConfig, ArmingError, By, Inputs, Reason};
use crate::event::detail::rounded;
use crate::event::{Direction, Event, EventKind, Value};
use crate::track::Track;
use config::{DirectionFilter, Retrigger};
use motion::{SideMemo, Tripwire};
use shape::Polygon;
use std::time::Duration;

/// At most this many rules, lines and tracks; the config is checked against the first two.
pub const MAX_RULES: usize = 16;
pub const MAX_LINES: usize = 8;
pub const MAX_TRACKS: usize = 64;
/// How long a line rule counts as firing after a crossing ([`Rules::firing`]).
pub const LINE_FIRING: Duration = Duration::from_secs(5);
/// Events one `judge` call can return; more are counted in [`Verdict::overflow`].
pub const MAX_EVENTS: usize = 32;

/// Why the rules could not be built from a config (validation reports the same, located).
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("zone `{zone}`: {cause}")]
    Zone {
        zone: String,
        cause: shape::PolygonError,
    },
    #[error("rule `{0}`: unknown zone or line")]
    Unknown(String),
    #[error("too many {0} (at most {1})")]
    TooMany(&'static str, usize),
    #[error(transparent)]
    Arming(#[from] ArmingError),
}

#[derive(Debug, Clone)]
struct Zone {
    name: String,
    polygon: Polygon,
}

#[derive(Debug, Clone)]
struct Line {
    name: String,
    wire: Tripwire,
    counts: [u64; 2],
}

#[derive(Debug, Clone)]
struct Rule {
    name: String,
    kind: RuleKind,
    place: usize,
    direction: DirectionFilter,
    min_frames: u32,
    min_time: Duration,
    min_people: u32,
    window: Duration,
    min_turn_rate: f32,
    min_step: f32,
    exit_grace: Duration,
    cooldown: Duration,
    retrigger: Retrigger,
    every: Duration,
    last_fired: Option<Duration>,
    /// crowd: the current episode has fired.
    crowd_fired: Option<Duration>,
}

impl Rule {
    /// Whether the rule may fire now: its cooldown has passed, and the retrigger policy allows
    /// another firing for a track (or crowd episode) that last fired at `last`.
    fn may_fire(&self, last: Option<Duration>, now: Duration) -> bool {
        let cooled = self
            .last_fired
            .map_or(true, |f| now.saturating_sub(f) >= self.cooldown);
        let again = match (self.retrigger, last) {
            (_, None) => true,
            (Retrigger::OncePerTrack, Some(_)) => false,
            (Retrigger::Every, Some(f)) => now.saturating_sub(f) >= self.every,
        };
        cooled && again
    }
}

/// One track's visit to one rule's zone.
#[derive(Debug, Clone, Copy, Default)]
struct Visit {
    inside_since: Option<Duration>,
    outside_since: Option<Duration>,
    frames: u32,
}

impl Visit {
    fn update(&mut self, inside: bool, now: Duration, grace: Duration) {
        if inside {
            self.inside_since.get_or_insert(now);
            self.outside_since = None;
            self.frames += 1;
        } else if self.inside_since.is_some() {
            let out = *self.outside_since.get_or_insert(now);
            if now.saturating_sub(out) >= grace {
                *self = Visit::default();
            }
        }
    }

    fn dwell(&self, now: Duration) -> Option<Duration> {
        self.inside_since.map(|t| now.saturating_sub(t))
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    visit: Visit,
    fired_at: Option<Duration>,
}

#[derive(Debug, Clone)]
struct Memo {
    id: u64,
    seen: bool,
    last: Duration,
    slots: [Slot; MAX_RULES],
    sides: [SideMemo; MAX_LINES],
}

/// Counters for the metrics file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RulesStats {
    /// Memos evicted because more than [`MAX_TRACKS`] tracks were alive at once.
    pub evicted: u64,
}

/// The rule engine. See the module docs for its contract.
#[derive(Debug)]
pub struct Rules {
    zones: Vec<Zone>,
    lines: Vec<Line>,
    rules: Vec<Rule>,
    memos: Vec<Memo>,
    arming: Arming,
    armed: Option<bool>,
    unsynced_reported: bool,
    tamper: bool,
    stats: RulesStats,
}

fn secs(s: f32) -> Duration {
    Duration::try_from_secs_f32(s).unwrap_or(Duration::ZERO)
}

impl Rules {
    /// Builds the engine from validated sections; every buffer is sized here, once.
    pub fn new(
        zones: &[ZoneConfig],
        lines: &[LineConfig],
        rules: &[RuleConfig],
        arming: &ArmingConfig,
    ) -> Result<Self, RulesError> {
        if rules.len() > MAX_RULES {
            return Err(RulesError::TooMany("rules", MAX_RULES));
        }
        if lines.len() > MAX_LINES {
            return Err(RulesError::TooMany("lines", MAX_LINES));
        }
        let zones = zones
            .iter()
            .map(|z| {
                Ok(Zone {
                    name: z.name.clone(),
                    polygon: z.polygon().map_err(|cause| RulesError::Zone {
                        zone: z.name.clone(),
                        cause,
                    })?,
                })
            })
            .collect::<Result<Vec<_>, RulesError>>()?;
        let p = |v: [f32; 2]| picket_geom::NormPoint::new(v[0], v[1]);
        let lines: Vec<Line> = lines
            .iter()
            .map(|l| Line {
                name: l.name.clone(),
                wire: Tripwire::new(p(l.a), p(l.b), l.hysteresis),
                counts: [0; 2],
            })
            .collect();
        let rules = rules
            .iter()
            .map(|r| {
                let place = match r.kind {
                    RuleKind::LineCross => {
                        lines.iter().position(|l| Some(&l.name) == r.line.as_ref())
                    }
                    _ => zones.iter().position(|z| Some(&z.name) == r.zone.as_ref()),
                }
                .ok_or_else(|| RulesError::Unknown(r.name.clone()))?;
                Ok(Rule {
                    name: r.name.clone(),
                    kind: r.kind,
                    place,
                    direction: r.direction.unwrap_or_default(),
                    min_frames: r.min_frames.unwrap_or(1),
                    min_time: secs(r.min_seconds.unwrap_or(match r.kind {
                        RuleKind::Wander => 10.0,
                        _ => 0.0,
                    })),
                    min_people: r.min_people.unwrap_or(1),
                    window: secs(r.window_s.unwrap_or(6.0)),
                    min_turn_rate: r.min_turn_rate.unwrap_or(0.8),
                    min_step: r.min_step.unwrap_or(0.05),
                    exit_grace: secs(r.exit_grace_s),
                    cooldown: secs(r.cooldown_s),
                    retrigger: r.retrigger,
                    every: secs(r.retrigger_s.unwrap_or(0.0)),
                    last_fired: None,
                    crowd_fired: None,
                })
            })
            .collect::<Result<Vec<_>, RulesError>>()?;
        Ok(Rules {
            zones,
            lines,
            rules,
            memos: Vec::with_capacity(MAX_TRACKS),
            arming: Arming::new(arming)?,
            armed: None,
            unsynced_reported: false,
            tamper: false,
            stats: RulesStats::default(),
        })
    }

    /// Replaces the arming decision (tests use a fixed time zone this way).
    pub fn set_arming(&mut self, arming: Arming) {
        self.arming = arming;
    }

    /// The rule names in index order ([`RuleId`]), for the output thread's mappings.
    pub fn rule_names(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| r.name.as_str())
    }

    /// Crossings of a line so far, as `[left_to_right, right_to_left]`, counted while armed or
    /// not, whatever the rules' cooldowns.
    pub fn line_counts(&self, line: &str) -> Option<[u64; 2]> {
        self.lines.iter().find(|l| l.name == line).map(|l| l.counts)
    }

    /// Every line's crossings, as [`Rules::line_counts`], in config order.
    pub fn line_counts_in_order(&self) -> impl Iterator<Item = [u64; 2]> + '_ {
        self.lines.iter().map(|l| l.counts)
    }

    /// The zone names in config order (the order of [`Rules::zone_counts`]).
    pub fn zone_names(&self) -> impl Iterator<Item = &str> {
        self.zones.iter().map(|z| z.name.as_str())
    }

    /// People whose foot is in each zone now (confirmed tracks), in zone order, into `out`
    /// (zones past its length are not counted). Does not allocate.
    pub fn zone_counts(&self, tracks: &[Track], out: &mut [u16]) {
        out.fill(0);
        for t in tracks.iter().filter(|t| t.is_confirmed()) {
            let foot = t.foot();
            for (n, z) in out.iter_mut().zip(&self.zones) {
                if z.polygon.contains(foot) {
                    *n = n.saturating_add(1);
                }
            }
        }
    }

    /// The rules firing at `now`, one bit per rule ([`RuleId`] order): a zone rule while a
    /// track it fired for is still in its zone (or in its exit grace), a crowd rule while its
    /// episode lasts, a line rule for [`LINE_FIRING`] after a crossing it fired for.
    pub fn firing(&self, now: Duration) -> u16 {
        let mut bits = 0u16;
        for (ri, r) in self.rules.iter().enumerate() {
            let on = match r.kind {
                RuleKind::LineCross => r
                    .last_fired
                    .is_some_and(|f| now.saturating_sub(f) < LINE_FIRING),
                RuleKind::Crowd => r.crowd_fired.is_some(),
                _ => self.memos.iter().any(|m| {
                    let slot = &m.slots[ri];
                    slot.fired_at.is_some() && slot.visit.inside_since.is_some()
                }),
            };
            if on {
                bits |= 1 << ri;
            }
        }
        bits
    }

    /// Whether the last `judge` found the box armed.
    pub fn armed(&self) -> bool {
        self.armed.unwrap_or(true)
    }

    pub fn stats(&self) -> RulesStats {
        self.stats
    }

    /// Judges one frame. See the module docs; `out` is cleared first.
    pub fn judge(&mut self, tracks: &[Track], now: &Now, inputs: &Inputs, out: &mut Verdict) {
        out.events.clear();
        out.alarms.clear();
        out.overflow = 0;
        out.in_zones = 0;
        let armed = self.judge_arming(now, inputs, out);
        for m in &mut self.memos {
            m.seen = false;
        }
        for t in tracks {
            let Some(mi) = self.memo_for(t, now.mono) else {
                continue;
            };
            if !t.is_confirmed() {
                continue;
            }
            self.judge_track(t, mi, now, armed, out);
        }
        self.memos.retain(|m| m.seen);
        self.judge_crowds(now, armed, out);
    }

    fn event(&self, kind: EventKind, now: &Now, place: &str) -> Event {
        Event::new(
            kind,
            now.wall_ms,
            now.mono.as_millis() as u64,
            now.clock_synced,
        )
        .with_place(place)
    }

    fn judge_arming(&mut self, now: &Now, inputs: &Inputs, out: &mut Verdict) -> bool {
        if !now.clock_synced && !self.unsynced_reported {
            self.unsynced_reported = true;
            out.push(self.event(EventKind::ClockUnsynced, now, ""), None);
        } else if now.clock_synced {
            self.unsynced_reported = false;
        }
        let (armed, why) = self
            .arming
            .decide(inputs.mode, now.wall_ms, now.clock_synced);
        if self.armed != Some(armed) {
            self.armed = Some(armed);
            let kind = if armed {
                EventKind::Armed
            } else {
                EventKind::Disarmed
            };
            let fields = [
                ("by", why.as_str().into()),
                ("mode", inputs.mode.as_str().into()),
                ("source", inputs.by.as_str().into()),
            ];
            // A manual mode says who set it: cli, key or mqtt.
            let n = if why == Reason::Manual && inputs.by != By::Unknown {
                3
            } else {
                2
            };
            let e = self.event(kind, now, "").with_detail(&fields[..n]);
            out.push(e, None);
        }
        if inputs.tamper && !self.tamper {
            // Tamper is a 24-hour zone: it raises its alarm armed or not.
            let e = self
                .event(EventKind::Intrusion, now, "tamper")
                .with_detail(&[("rule", "tamper".into())]);
            out.push(e, Some(Fired::Tamper));
        }
        self.tamper = inputs.tamper;
        armed
    }

    /// The index of `t`'s memo, made if new; `None` when the table is full of live tracks.
    fn memo_for(&mut self, t: &Track, now: Duration) -> Option<usize> {
        if let Some(i) = self.memos.iter().position(|m| m.id == t.id) {
            self.memos[i].seen = true;
            if t.is_confirmed() {
                self.memos[i].last = now;
            }
            return Some(i);
        }
        if !t.is_confirmed() {
            return None;
        }
        let fresh = Memo {
            id: t.id,
            seen: true,
            last: now,
            slots: [Slot::default(); MAX_RULES],
            sides: [SideMemo::default(); MAX_LINES],
        };
        if self.memos.len() < MAX_TRACKS {
            self.memos.push(fresh);
            return Some(self.memos.len() - 1);
        }
        // Full: reuse the memo of the track judged longest ago that is not in this frame yet.
        let victim = self
            .memos
            .iter()
            .enumerate()
            .filter(|(_, m)| !m.seen)
            .min_by_key(|(_, m)| m.last)
            .map(|(i, _)| i)?;
        self.stats.evicted += 1;
        self.memos[victim] = fresh;
        Some(victim)
    }

    fn judge_track(&mut self, t: &Track, mi: usize, now: &Now, armed: bool, out: &mut Verdict) {
        let foot = t.foot();
        let mut in_zone = false;
        let mut crossed: [Option<Direction>; MAX_LINES] = [None; MAX_LINES];
        for (li, line) in self.lines.iter_mut().enumerate() {
            crossed[li] = self.memos[mi].sides[li].update(&line.wire, foot);
            if let Some(d) = crossed[li] {
                line.counts[(d == Direction::RightToLeft) as usize] += 1;
            }
        }
        for ri in 0..self.rules.len() {
            let rule = &self.rules[ri];
            let slot = &mut self.memos[mi].slots[ri];
            let mut dwell = None;
            let mut rate = None;
            let hit = match rule.kind {
                RuleKind::LineCross => crossed[rule.place]
                    .filter(|d| match rule.direction {
                        DirectionFilter::Both => true,
                        DirectionFilter::LeftToRight => *d == Direction::LeftToRight,
                        DirectionFilter::RightToLeft => *d == Direction::RightToLeft,
                    })
                    .map(Some),
                RuleKind::Crowd => {
                    let inside = self.zones[rule.place].polygon.contains(foot);
                    in_zone |= inside;
                    slot.visit.update(inside, now.mono, rule.exit_grace);
                    None
                }
                kind => {
                    let inside = self.zones[rule.place].polygon.contains(foot);
                    in_zone |= inside;
                    slot.visit.update(inside, now.mono, rule.exit_grace);
                    dwell = slot.visit.dwell(now.mono);
                    // Judged only while the foot is inside, not during an exit's grace.
                    let long = inside && dwell.is_some_and(|d| d >= rule.min_time);
                    let ok = match kind {
                        RuleKind::Intrusion => long && slot.visit.frames >= rule.min_frames,
                        RuleKind::Loiter => long,
                        _ => {
                            rate = long
                                .then(|| {
                                    motion::turn_rate(
                                        t.history.oldest_ordered(),
                                        now.mono,
                                        rule.window,
                                        rule.min_step,
                                    )
                                })
                                .flatten();
                            rate.is_some_and(|r| r >= rule.min_turn_rate)
                        }
                    };
                    ok.then_some(None)
                }
            };
            let Some(dir) = hit else { continue };
            if !(armed && rule.may_fire(slot.fired_at, now.mono)) {
                continue;
            }
            slot.fired_at = Some(now.mono);
            self.rules[ri].last_fired = Some(now.mono);
            let e = self.rule_event(ri, t, now, dwell, rate, dir);
            out.push(e, Some(Fired::Rule(RuleId(ri as u8))));
        }
        out.in_zones = out.in_zones.saturating_add(u16::from(in_zone));
    }

    fn rule_event(
        &self,
        ri: usize,
        t: &Track,
        now: &Now,
        dwell: Option<Duration>,
        rate: Option<f32>,
        dir: Option<Direction>,
    ) -> Event {
        let rule = &self.rules[ri];
        let (kind, place) = match rule.kind {
            RuleKind::Intrusion => (EventKind::Intrusion, &self.zones[rule.place].name),
            RuleKind::Loiter => (EventKind::Loiter, &self.zones[rule.place].name),
            RuleKind::Wander => (EventKind::Wander, &self.zones[rule.place].name),
            RuleKind::Crowd => (EventKind::Crowd, &self.zones[rule.place].name),
            RuleKind::LineCross => (EventKind::LineCross, &self.lines[rule.place].name),
        };
        let mut e = self.event(kind, now, place);
        e.track_id = Some(t.id);
        e.score = Some(t.score);
        e.bbox = Some(t.bbox);
        // At most five fields; pushing into room for five cannot fail.
        let mut d = heapless::Vec::<(&str, Value<'_>), 5>::new();
        let _ = d.push(("rule", rule.name.as_str().into()));
        if rule.kind == RuleKind::LineCross {
            e.direction = dir;
            let c = self.lines[rule.place].counts;
            let _ = d.push(("count_ltr", c[0].into()));
            let _ = d.push(("count_rtl", c[1].into()));
        }
        if let Some(dw) = dwell {
            let _ = d.push(("dwell_s", rounded(f64::from(dw.as_secs_f32()), 1).into()));
        }
        if let Some(r) = rate {
            let _ = d.push(("turn_rate", rounded(f64::from(r), 2).into()));
        }
        e.set_detail(&d);
        e
    }

    fn judge_crowds(&mut self, now: &Now, armed: bool, out: &mut Verdict) {
        for ri in 0..self.rules.len() {
            if self.rules[ri].kind != RuleKind::Crowd {
                continue;
            }
            let count = self
                .memos
                .iter()
                .filter(|m| m.last == now.mono && m.slots[ri].visit.inside_since.is_some())
                .count() as u32;
            let rule = &mut self.rules[ri];
            if count < rule.min_people {
                rule.crowd_fired = None;
                continue;
            }
            if !(armed && rule.may_fire(rule.crowd_fired, now.mono)) {
                continue;
            }
            rule.crowd_fired = Some(now.mono);
            rule.last_fired = Some(now.mono);
            let e = self
                .event(
                    EventKind::Crowd,
                    now,
                    &self.zones[self.rules[ri].place].name,
                )
                .with_detail(&[
                    ("rule", self.rules[ri].name.as_str().into()),
                    ("people", count.into()),
                ]);
            out.push(e, Some(Fired::Rule(RuleId(ri as u8))));
        }
    }
}
