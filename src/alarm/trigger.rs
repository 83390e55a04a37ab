//! What sounds an alarm: a [`Trigger`]. The `rules` of an `[[alarms]]` mapping name triggers;
//! the output thread receives them. Alarms know rules only by their index and name, so the
//! pipeline turns a rules verdict (and a health event that starts) into triggers.

use crate::event::EventKind;

/// What the output thread is asked to sound, and what an alarm mapping names.
///
/// A plain value, `Copy`: the hot thread and the worker send it over the output thread's queue
/// without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// A rule fired, by its index in the config's `[[rules]]` (the order of the rule names the
    /// engine was built with).
    Rule(u8),
    /// A health condition started; one of [`Trigger::HEALTH`], named by its event kind
    /// (`rules = ["camera_lost", "temp_high"]`).
    Health(EventKind),
    /// The tamper input became active; named `tamper`.
    Tamper,
    /// Video tamper was raised (the `tamper` event: a covered, blinded, turned or defocused
    /// view); named `video_tamper`, since `tamper` names the input.
    VideoTamper,
}

impl Trigger {
    /// The health event kinds that can sound an alarm when they start.
    pub const HEALTH: [EventKind; 5] = [
        EventKind::CameraLost,
        EventKind::TempHigh,
        EventKind::Throttled,
        EventKind::DiskLow,
        EventKind::FpsLow,
    ];

    /// The trigger of a health event kind, if it is one of [`Trigger::HEALTH`].
    pub fn health(kind: EventKind) -> Option<Trigger> {
        Self::HEALTH
            .contains(&kind)
            .then_some(Trigger::Health(kind))
    }

    /// The trigger a mapping names: a rule of `rules` (the rule names in index order),
    /// `tamper`, `video_tamper`, or a health event kind. A rule's name wins over the others.
    pub fn resolve(name: &str, rules: &[&str]) -> Option<Trigger> {
        if let Some(i) = rules.iter().position(|r| *r == name) {
            return u8::try_from(i).ok().map(Trigger::Rule);
        }
        if name == "tamper" {
            return Some(Trigger::Tamper);
        }
        if name == "video_tamper" {
            return Some(Trigger::VideoTamper);
        }
        EventKind::parse(name).and_then(Trigger::health)
    }
}
