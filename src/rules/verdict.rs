//! What the rules hand to the pipeline: the moment judged ([`Now`]), the arming inputs
//! ([`Inputs`]), and the [`Verdict`] (events for the journal, [`RuleId`]s for the output thread).

use super::{Mode, MAX_EVENTS};
use crate::event::{Event, EventKind};
use std::time::Duration;

/// Identifies a rule for the output thread's mapping (its index in the config), or tamper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RuleId(pub u8);

impl RuleId {
    /// The pseudo-rule a tamper input raises; alarm mappings name it `tamper`.
    pub const TAMPER: RuleId = RuleId(u8::MAX);

    /// Health events that can sound an alarm when they start, as pseudo-rules named by their
    /// kind (`rules = ["camera_lost", "temp_high"]` in an `[[alarms]]` mapping).
    pub const HEALTH: [EventKind; 5] = [
        EventKind::CameraLost,
        EventKind::TempHigh,
        EventKind::Throttled,
        EventKind::DiskLow,
        EventKind::FpsLow,
    ];

    /// The pseudo-rule of a health event kind, if it is one of [`RuleId::HEALTH`].
    pub fn health(kind: EventKind) -> Option<RuleId> {
        let i = Self::HEALTH.iter().position(|&k| k == kind)?;
        Some(RuleId(0xf0 + i as u8))
    }

    /// The pseudo-rule an alarm mapping names: `tamper` or a health event kind.
    pub fn pseudo(name: &str) -> Option<RuleId> {
        if name == "tamper" {
            return Some(RuleId::TAMPER);
        }
        EventKind::parse(name).and_then(RuleId::health)
    }
}

/// The moment being judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Now {
    /// Monotonic time since picket started (the same clock as `Track` times).
    pub mono: Duration,
    /// Wall-clock time, ms since the Unix epoch.
    pub wall_ms: i64,
    /// Whether the wall clock is synchronised (see [`super::arming::clock_synchronised`]).
    pub clock_synced: bool,
}

/// The arming inputs for this frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Inputs {
    pub mode: Mode,
    /// The tamper input is active (its loop is open).
    pub tamper: bool,
}

/// What one `judge` call found. Owned by the caller and reused; `judge` clears it first.
#[derive(Debug, Default)]
pub struct Verdict {
    pub events: heapless::Vec<Event, MAX_EVENTS>,
    /// Rules that fired while armed, and tamper: send each to the output thread.
    pub alarms: heapless::Vec<RuleId, MAX_EVENTS>,
    /// Events that did not fit; always 0 unless something is badly wrong.
    pub overflow: u32,
    /// Confirmed tracks whose foot is inside a zone that a rule watches: the frames a person
    /// stands in a zone, as the rules see them (the debug log shows it per frame).
    pub in_zones: u16,
}

impl Verdict {
    pub(super) fn push(&mut self, e: Event, alarm: Option<RuleId>) {
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
