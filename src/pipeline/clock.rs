//! [`FrameClock`]: the time the seeing stages and the rules go by.

use std::time::Duration;

/// The time the seeing stages and the rules go by: the frames' own timestamps (the driver's
/// capture time, or the position in a replay), moved to picket's clock at the first frame.
/// Tracking and rules then depend on when frames were taken, not on when they were processed,
/// so a replay gives the same events however loaded the machine is. Metrics, health, the
/// watchdog and the output thread keep the wall clock.
///
/// A source whose stamps stand still (a driver that leaves them zero) falls back to the wall
/// clock from its second frame on.
#[derive(Debug, Default)]
pub(super) struct FrameClock {
    /// The first frame's timestamp, and picket's time when it arrived.
    base: Option<(Duration, Duration)>,
    frames: u64,
    wall: bool,
}

impl FrameClock {
    pub(super) fn at(&mut self, stamp: Duration, now: Duration) -> Duration {
        let (first, arrived) = *self.base.get_or_insert((stamp, now));
        self.frames += 1;
        if self.frames == 2 && stamp == first {
            log::warn!("the source's frames carry no timestamps: tracking by arrival time");
            self.wall = true;
        }
        if self.wall {
            now
        } else {
            arrived + stamp.saturating_sub(first)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frame_clock_follows_the_stamps_unless_they_stand_still() {
        let s = Duration::from_secs;
        let mut c = FrameClock::default();
        assert_eq!(c.at(s(100), s(2)), s(2));
        assert_eq!(c.at(s(101), s(2)), s(3));
        let mut c = FrameClock::default();
        c.at(s(0), s(2));
        assert_eq!(c.at(s(0), s(5)), s(5));
        assert_eq!(c.at(s(0), s(7)), s(7));
    }
}
