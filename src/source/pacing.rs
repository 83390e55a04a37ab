//! Replay pacing: hand out recorded frames at the rate they were recorded, or at once.

use super::Pacing;
use std::time::{Duration, Instant};

/// Sleeps so that a frame stamped `t` is released `t − t₀` after the first frame was.
///
/// Anchoring every frame to the first (rather than sleeping one frame interval each time) keeps
/// a replay from drifting when the consumer is occasionally slow: a late frame is released at
/// once and the next ones catch up.
#[derive(Debug, Clone)]
pub struct Pacer {
    mode: Pacing,
    anchor: Option<(Instant, Duration)>,
}

impl Pacer {
    pub fn new(mode: Pacing) -> Self {
        Self { mode, anchor: None }
    }

    /// Blocks until the frame stamped `t` is due; returns at once in [`Pacing::Fast`].
    pub fn wait(&mut self, t: Duration) {
        if let Some(d) = self.delay(t, Instant::now()) {
            std::thread::sleep(d);
        }
    }

    /// How long to wait at `now` for the frame stamped `t`.
    fn delay(&mut self, t: Duration, now: Instant) -> Option<Duration> {
        if self.mode == Pacing::Fast {
            return None;
        }
        let (start, t0) = *self.anchor.get_or_insert((now, t));
        let due = start + t.saturating_sub(t0);
        due.checked_duration_since(now).filter(|d| !d.is_zero())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_due_relative_to_the_first() {
        let mut p = Pacer::new(Pacing::Realtime);
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        assert_eq!(p.delay(ms(1000), t0), None);
        assert_eq!(p.delay(ms(1100), t0 + ms(40)), Some(ms(60)));
        // Late: released at once, and the schedule does not shift.
        assert_eq!(p.delay(ms(1200), t0 + ms(250)), None);
        assert_eq!(p.delay(ms(1300), t0 + ms(260)), Some(ms(40)));
        let mut fast = Pacer::new(Pacing::Fast);
        assert_eq!(fast.delay(ms(5000), t0), None);
    }
}
