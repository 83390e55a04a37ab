//! The output state machine: which output is on, with which pattern, for how long.
//!
//! [`Engine`] is pure logic over owned pins and a time passed in, so tests drive it on simulated
//! time; the output thread ([`super::spawn`]) is a thin loop around it. Per output:
//!
//! ```text
//! Idle ──trigger──▶ Active{pattern, until = now + hold}   (latch: until = never)
//! Active ──trigger──▶ Active, until extended
//! Active ──until passed──▶ Cooldown(cooldown) ──elapsed──▶ Idle      (triggers ignored meanwhile)
//! Active ──on for max_on──▶ Cooldown, or Spent if latched           (a siren is never stuck on)
//! Active(latched) | Spent ──reset──▶ Idle
//! ```
//! The `healthy` output is on while the last heartbeat is younger than its timeout.

use crate::alarm::pattern::Pattern;
use crate::alarm::pin::DynPin;
use crate::alarm::Trigger;
use crate::event::EventKind;
use std::time::Duration;

/// One output the engine drives.
pub struct OutputSpec {
    pub name: String,
    pub pin: DynPin,
    pub max_on: Duration,
}

/// Which outputs a set of triggers sounds, and how.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub rules: Vec<Trigger>,
    pub outputs: Vec<usize>,
    pub pattern: Pattern,
    pub hold: Duration,
    pub cooldown: Duration,
    pub latch: bool,
}

/// Something the journal should hear about: `kind` is alarm_on, alarm_off or alarm_reset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub kind: EventKind,
    pub output: usize,
    pub why: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Idle,
    Active {
        pattern: Pattern,
        start: Duration,
        until: Option<Duration>,
        cooldown: Duration,
    },
    Cooldown(Duration),
    Spent,
}

struct Out {
    spec: OutputSpec,
    state: State,
    written: Option<bool>,
    /// The last write failed; logged once, retried every tick.
    failing: bool,
}

/// The state of all outputs. Owned by the output thread.
pub struct Engine {
    outs: Vec<Out>,
    maps: Vec<Mapping>,
    healthy: Option<(usize, Duration)>,
    last_beat: Option<Duration>,
    notices: Vec<Notice>,
    /// Pin writes that failed (logged when an output starts failing).
    pub errors: u64,
    /// Triggers ignored because an output was cooling down or spent.
    pub suppressed: u64,
}

impl Engine {
    /// `healthy`: the index of the healthy output and its heartbeat timeout.
    pub fn new(
        outputs: Vec<OutputSpec>,
        maps: Vec<Mapping>,
        healthy: Option<(usize, Duration)>,
    ) -> Self {
        let outs = outputs
            .into_iter()
            .map(|spec| Out {
                spec,
                state: State::Idle,
                written: None,
                failing: false,
            })
            .collect();
        Engine {
            outs,
            maps,
            healthy,
            last_beat: None,
            notices: Vec::with_capacity(64),
            errors: 0,
            suppressed: 0,
        }
    }

    pub fn output_index(&self, name: &str) -> Option<usize> {
        self.outs.iter().position(|o| o.spec.name == name)
    }

    pub fn output_name(&self, i: usize) -> &str {
        self.outs.get(i).map_or("", |o| o.spec.name.as_str())
    }

    /// Notices since the last call, oldest first.
    pub fn take_notices(&mut self) -> impl Iterator<Item = Notice> + '_ {
        self.notices.drain(..)
    }

    /// The hot loop is alive at `now`.
    pub fn heartbeat(&mut self, now: Duration) {
        self.last_beat = Some(now);
    }

    /// A trigger fired: start or extend every output its mappings name.
    pub fn trigger(&mut self, trigger: Trigger, now: Duration) {
        for mi in 0..self.maps.len() {
            if !self.maps[mi].rules.contains(&trigger) {
                continue;
            }
            let m = self.maps[mi].clone();
            for &oi in &m.outputs {
                let until = (!m.latch).then_some(now + m.hold);
                self.activate(oi, m.pattern, until, m.cooldown, now, false);
            }
        }
        self.tick(now);
    }

    /// Sounds output `oi` with `pattern` for `duration`, ignoring cooldown (`picket alarm-test`).
    pub fn test(&mut self, oi: usize, pattern: Pattern, duration: Duration, now: Duration) {
        self.activate(oi, pattern, Some(now + duration), Duration::ZERO, now, true);
        self.tick(now);
    }

    fn activate(
        &mut self,
        oi: usize,
        pattern: Pattern,
        until: Option<Duration>,
        cooldown: Duration,
        now: Duration,
        force: bool,
    ) {
        let Some(o) = self.outs.get_mut(oi) else {
            return;
        };
        match o.state {
            State::Active {
                until: ref mut u, ..
            } => {
                *u = match (*u, until) {
                    (None, _) | (_, None) => None,
                    (Some(a), Some(b)) => Some(a.max(b)),
                };
                return;
            }
            State::Cooldown(end) if now < end && !force => {
                self.suppressed += 1;
                return;
            }
            State::Spent if !force => {
                self.suppressed += 1;
                return;
            }
            _ => {}
        }
        o.state = State::Active {
            pattern,
            start: now,
            until,
            cooldown,
        };
        self.notices.push(Notice {
            kind: EventKind::AlarmOn,
            output: oi,
            why: if force { "test" } else { "rule" },
        });
    }

    /// `picket alarm reset`: ends latched and spent alarms.
    pub fn reset(&mut self, now: Duration) {
        for (i, o) in self.outs.iter_mut().enumerate() {
            let latched = matches!(o.state, State::Active { until: None, .. } | State::Spent);
            if latched {
                o.state = State::Idle;
                self.notices.push(Notice {
                    kind: EventKind::AlarmReset,
                    output: i,
                    why: "reset",
                });
            }
        }
        self.tick(now);
    }

    /// Every output off now, whatever its state (shutdown, `outputs off`, errors).
    pub fn all_off(&mut self) {
        for (i, o) in self.outs.iter_mut().enumerate() {
            if matches!(o.state, State::Active { .. }) {
                self.notices.push(Notice {
                    kind: EventKind::AlarmOff,
                    output: i,
                    why: "shutdown",
                });
            }
            o.state = State::Idle;
            if let Err(e) = o.spec.pin.set_low() {
                self.errors += 1;
                log::error!("output {}: cannot drive it inactive: {e}", o.spec.name);
            }
            o.written = Some(false);
        }
        self.last_beat = None;
    }

    /// Whether output `oi` is currently driven active.
    pub fn is_on(&self, oi: usize) -> bool {
        self.outs.get(oi).and_then(|o| o.written).unwrap_or(false)
    }

    /// Advances every output to `now` and writes the levels that changed.
    pub fn tick(&mut self, now: Duration) {
        let healthy = self.healthy;
        let beat = self.last_beat;
        for (i, o) in self.outs.iter_mut().enumerate() {
            let level = match o.state {
                State::Active {
                    pattern,
                    start,
                    until,
                    cooldown,
                } => {
                    let on_for = now.saturating_sub(start);
                    let (ended, why) = if until.is_some_and(|u| now >= u) {
                        (true, "hold elapsed")
                    } else if on_for >= o.spec.max_on {
                        (true, "max on-time")
                    } else {
                        (false, "")
                    };
                    if ended {
                        o.state = match until {
                            None => State::Spent,
                            Some(_) => State::Cooldown(now + cooldown),
                        };
                        self.notices.push(Notice {
                            kind: EventKind::AlarmOff,
                            output: i,
                            why,
                        });
                        false
                    } else {
                        pattern.level(on_for)
                    }
                }
                State::Cooldown(end) => {
                    if now >= end {
                        o.state = State::Idle;
                    }
                    false
                }
                State::Idle | State::Spent => {
                    matches!(healthy, Some((h, timeout)) if h == i
                        && beat.is_some_and(|b| now.saturating_sub(b) <= timeout))
                }
            };
            if o.written != Some(level) {
                let r = if level {
                    o.spec.pin.set_high()
                } else {
                    o.spec.pin.set_low()
                };
                match r {
                    Ok(()) => {
                        o.written = Some(level);
                        o.failing = false;
                    }
                    Err(e) => {
                        self.errors += 1;
                        if !o.failing {
                            log::error!("output {}: {e}", o.spec.name);
                        }
                        o.failing = true;
                    }
                }
            }
        }
    }
}
