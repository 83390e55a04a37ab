//! Events: what the rules, the alarm outputs, arming and health report, and what the journal keeps.
//!
//! An [`Event`] is a fixed-size value (no heap), so the hot thread can build one per frame and
//! hand it to the journal's queue without allocating. The journal assigns `id` when it commits.
//! Its `detail` is a JSON object made in one place, [`detail`].

pub mod detail;

pub use detail::{Detail, Value};

use picket_geom::NormRect;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest zone, line, rule or output name the config accepts, in bytes.
pub const NAME_CAP: usize = 32;
/// Longest `detail` JSON an event carries, in bytes.
pub const DETAIL_CAP: usize = 192;

/// A zone, line, rule or output name, stored inline.
pub type Name = heapless::String<NAME_CAP>;

/// What happened. The string forms (`as_str`) are what the journal stores and the CLI filters on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    // Rules.
    Intrusion,
    Loiter,
    LineCross,
    Wander,
    Crowd,
    // Alarms.
    AlarmOn,
    AlarmOff,
    AlarmReset,
    // Arming.
    Armed,
    Disarmed,
    // Health.
    CameraLost,
    CameraBack,
    TempHigh,
    Throttled,
    DiskLow,
    FpsLow,
    ClockUnsynced,
    // Video tamper: the camera still sends frames, but of a covered, blinded, turned or
    // defocused view; `detail.reason` says which (`covered`, `blinded`, `moved`, `defocused`).
    Tamper,
    TamperCleared,
    // Life.
    Started,
    Stopped,
    // Journal.
    /// Events pruned by the byte cap before the uplink had them acknowledged; `detail` is
    /// `{"from": A, "to": B}`, the ids lost to the uplink.
    UplinkGap,
    // Hub: raised by `picket hub` about a box.
    /// The box's uplink went offline (its last will) or sent nothing for `[hub] silence_s`;
    /// `detail.why` is `offline` or `silent`.
    BoxOffline,
    /// A box that was offline or silent is heard again.
    BoxBack,
}

impl EventKind {
    pub const ALL: [EventKind; 24] = [
        EventKind::Intrusion,
        EventKind::Loiter,
        EventKind::LineCross,
        EventKind::Wander,
        EventKind::Crowd,
        EventKind::AlarmOn,
        EventKind::AlarmOff,
        EventKind::AlarmReset,
        EventKind::Armed,
        EventKind::Disarmed,
        EventKind::CameraLost,
        EventKind::CameraBack,
        EventKind::TempHigh,
        EventKind::Throttled,
        EventKind::DiskLow,
        EventKind::FpsLow,
        EventKind::ClockUnsynced,
        EventKind::Tamper,
        EventKind::TamperCleared,
        EventKind::Started,
        EventKind::Stopped,
        EventKind::UplinkGap,
        EventKind::BoxOffline,
        EventKind::BoxBack,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            EventKind::Intrusion => "intrusion",
            EventKind::Loiter => "loiter",
            EventKind::LineCross => "line_cross",
            EventKind::Wander => "wander",
            EventKind::Crowd => "crowd",
            EventKind::AlarmOn => "alarm_on",
            EventKind::AlarmOff => "alarm_off",
            EventKind::AlarmReset => "alarm_reset",
            EventKind::Armed => "armed",
            EventKind::Disarmed => "disarmed",
            EventKind::CameraLost => "camera_lost",
            EventKind::CameraBack => "camera_back",
            EventKind::TempHigh => "temp_high",
            EventKind::Throttled => "throttled",
            EventKind::DiskLow => "disk_low",
            EventKind::FpsLow => "fps_low",
            EventKind::ClockUnsynced => "clock_unsynced",
            EventKind::Tamper => "tamper",
            EventKind::TamperCleared => "tamper_cleared",
            EventKind::Started => "started",
            EventKind::Stopped => "stopped",
            EventKind::UplinkGap => "uplink_gap",
            EventKind::BoxOffline => "box_offline",
            EventKind::BoxBack => "box_back",
        }
    }

    /// Parses the string form; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Rule events are the ones that can raise an alarm.
    pub const fn is_rule(self) -> bool {
        matches!(
            self,
            EventKind::Intrusion
                | EventKind::Loiter
                | EventKind::LineCross
                | EventKind::Wander
                | EventKind::Crowd
        )
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The direction of a line crossing, relative to the line's a→b segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    LeftToRight,
    RightToLeft,
}

impl Direction {
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::LeftToRight => "left_to_right",
            Direction::RightToLeft => "right_to_left",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Direction::LeftToRight, Direction::RightToLeft]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

/// One thing that happened. Fields that do not apply to a kind are `None` or empty.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Wall-clock time, milliseconds since the Unix epoch.
    pub ts_ms: i64,
    /// Monotonic time since picket started, milliseconds; immune to clock steps.
    pub mono_ms: u64,
    /// Whether the wall clock was synchronised when the event was made (a Pi has no RTC).
    pub clock_synced: bool,
    pub kind: EventKind,
    /// The zone or line (or output, for alarm events) the event is about.
    pub place: Name,
    pub track_id: Option<u64>,
    pub score: Option<f32>,
    pub bbox: Option<NormRect>,
    pub direction: Option<Direction>,
    /// Kind-specific facts as a JSON object, e.g. `{"dwell_s":31.5}`; empty means none. Set it
    /// with [`Event::set_detail`].
    pub detail: Detail,
}

impl Event {
    /// An event of `kind` with every optional field empty.
    pub fn new(kind: EventKind, ts_ms: i64, mono_ms: u64, clock_synced: bool) -> Self {
        Self {
            ts_ms,
            mono_ms,
            clock_synced,
            kind,
            place: Name::new(),
            track_id: None,
            score: None,
            bbox: None,
            direction: None,
            detail: Detail::default(),
        }
    }

    /// Sets `detail` to the JSON object of `fields`, in order, within [`DETAIL_CAP`] (see
    /// [`detail`] for how it is shortened).
    pub fn set_detail(&mut self, fields: &[(&str, Value<'_>)]) {
        self.detail = Detail::new(fields);
    }

    /// The event with `detail` set, as [`Event::set_detail`].
    pub fn with_detail(mut self, fields: &[(&str, Value<'_>)]) -> Self {
        self.set_detail(fields);
        self
    }

    /// Sets `place`, truncating at [`NAME_CAP`] bytes on a character boundary.
    pub fn with_place(mut self, name: &str) -> Self {
        self.place = truncated(name);
        self
    }
}

/// `s` as a [`Name`], cut at [`NAME_CAP`] bytes on a character boundary.
pub fn truncated(s: &str) -> Name {
    let mut end = s.len().min(NAME_CAP);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let mut n = Name::new();
    // Cannot fail: `end <= NAME_CAP`.
    let _ = n.push_str(&s[..end]);
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_strings() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(EventKind::parse("burglary"), None);
        assert_eq!(EventKind::ALL.iter().filter(|k| k.is_rule()).count(), 5);
    }

    #[test]
    fn long_names_are_cut_on_a_char_boundary() {
        let long = "é".repeat(20); // 40 bytes
        let n = truncated(&long);
        assert_eq!(n.len(), 32);
        assert!(n.chars().all(|c| c == 'é'));
    }
}
