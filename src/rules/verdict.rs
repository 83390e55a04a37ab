//! What the rules are given and hand back: the moment judged ([`Now`]), and the [`Verdict`]
//! (events for the journal, and what [`Fired`] for the output thread).

use super::MAX_EVENTS;
use crate::event::Event;
use std::time::Duration;

/// A rule, by its index in the config's `[[rules]]` (the order of [`super::Rules::rule_names`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RuleId(pub u8);

/// What a verdict asks to sound: a rule that fired while armed, or the tamper input that became
/// active (armed or not). The pipeline turns each into the output thread's trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fired {
    Rule(RuleId),
    Tamper,
}

/// The moment being judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Now {
    /// Monotonic time since picket started (the same clock as `Track` times).
    pub mono: Duration,
    /// Wall-clock time, ms since the Unix epoch.
    pub wall_ms: i64,
    /// Whether the wall clock is synchronised (the input watcher checks it once a second).
    pub clock_synced: bool,
}

/// What one `judge` call found. Owned by the caller and reused; `judge` clears it first.
#[derive(Debug, Default)]
pub struct Verdict {
    pub events: heapless::Vec<Event, MAX_EVENTS>,
    /// Rules that fired while armed, and tamper: send each to the output thread.
    pub alarms: heapless::Vec<Fired, MAX_EVENTS>,
    /// Events that did not fit; always 0 unless something is badly wrong.
    pub overflow: u32,
    /// Confirmed tracks whose foot is inside a zone that a rule watches: the frames a person
    /// stands in a zone, as the rules see them (the debug log shows it per frame).
    pub in_zones: u16,
}

impl Verdict {
    pub(super) fn push(&mut self, e: Event, alarm: Option<Fired>) {
        if self.events.push(e).is_err() {
            self.overflow += 1;
        }
        if let Some(id) = alarm {
            // An alarm must not be lost even when the journal's share overflowed.
            if self.alarms.push(id).is_err() {
                self.overflow += 1;
            }
        }
    }
}
