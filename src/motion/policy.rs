//! When to run inference, given motion, the tracks and the clock. Pure logic, no pixels.
//!
//! The rules, in order (the first that applies decides):
//! 1. gating disabled (the default): run;
//! 2. the first frame: run;
//! 3. a confirmed track is present: run, so a person in view is never lost to gating;
//! 4. the frame moves: run;
//! 5. tracks coast on their Kalman prediction: run on every `coast_every`-th frame;
//! 6. `keepalive_s` have passed since the last inference: run, so someone creeping slower than
//!    the background adapts is still looked for;
//! 7. otherwise skip, and count it.

use super::MotionConfig;
use std::time::Duration;

/// What the tracker held after the previous frame, as the gate needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tracks {
    /// No live track.
    #[default]
    None,
    /// Live tracks, none of them confirmed and matched by the last inference: tentative
    /// tracks, or confirmed ones that missed and are carried on their Kalman prediction.
    Coasting,
    /// At least one confirmed track matched by the last inference.
    Confirmed,
}

/// Why a frame was sent to the detector, or that it was not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Run(Reason),
    Skip,
}

impl Decision {
    pub const fn runs(self) -> bool {
        matches!(self, Decision::Run(_))
    }
}

/// The rule that sent a frame to the detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Disabled,
    First,
    Confirmed,
    Motion,
    Coasting,
    Keepalive,
}

/// The decision state: when inference last ran, and the counts. See the module docs.
#[derive(Debug, Clone)]
pub struct Policy {
    enabled: bool,
    keepalive: Duration,
    coast_every: u32,
    last_run: Option<Duration>,
    /// Frames since the last inference (0 right after one).
    since_run: u32,
    frames: u64,
    skipped: u64,
}

impl Policy {
    pub fn new(cfg: &MotionConfig) -> Self {
        Self {
            enabled: cfg.enabled,
            // Validation bounds it; an unvalidated NaN or negative falls back to the default.
            keepalive: Duration::try_from_secs_f32(cfg.keepalive_s)
                .unwrap_or(Duration::from_secs(5)),
            coast_every: cfg.coast_every.max(1),
            last_run: None,
            since_run: 0,
            frames: 0,
            skipped: 0,
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Decides for one frame at monotonic time `now`. `moving` is the detector's verdict.
    pub fn decide(&mut self, now: Duration, moving: bool, tracks: Tracks) -> Decision {
        self.frames += 1;
        let reason = match self.last_run {
            _ if !self.enabled => Some(Reason::Disabled),
            None => Some(Reason::First),
            Some(last) => {
                if tracks == Tracks::Confirmed {
                    Some(Reason::Confirmed)
                } else if moving {
                    Some(Reason::Motion)
                } else if tracks == Tracks::Coasting && self.since_run + 1 >= self.coast_every {
                    Some(Reason::Coasting)
                } else if now.saturating_sub(last) >= self.keepalive {
                    Some(Reason::Keepalive)
                } else {
                    None
                }
            }
        };
        match reason {
            Some(r) => {
                self.last_run = Some(now);
                self.since_run = 0;
                Decision::Run(r)
            }
            None => {
                self.since_run = self.since_run.saturating_add(1);
                self.skipped += 1;
                Decision::Skip
            }
        }
    }

    /// Frames decided so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Inferences skipped so far.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(enabled: bool, coast_every: u32) -> Policy {
        Policy::new(&MotionConfig {
            enabled,
            coast_every,
            keepalive_s: 2.0,
            ..MotionConfig::default()
        })
    }

    fn at(p: &mut Policy, ms: u64, moving: bool, tracks: Tracks) -> Decision {
        p.decide(Duration::from_millis(ms), moving, tracks)
    }

    #[test]
    fn the_default_config_never_skips() {
        let mut p = Policy::new(&MotionConfig::default());
        for i in 0..100 {
            assert_eq!(
                at(&mut p, i * 100, false, Tracks::None),
                Decision::Run(Reason::Disabled)
            );
        }
        assert_eq!((p.frames(), p.skipped()), (100, 0));
    }

    #[test]
    fn a_still_scene_runs_only_on_the_keepalive() {
        let mut p = policy(true, 1);
        assert_eq!(
            at(&mut p, 0, false, Tracks::None),
            Decision::Run(Reason::First)
        );
        let runs: Vec<u64> = (1..=50)
            .filter(|i| at(&mut p, i * 100, false, Tracks::None).runs())
            .collect();
        // 10 fps, a 2 s keepalive: every 20th frame.
        assert_eq!(runs, [20, 40]);
        assert_eq!(p.skipped(), 48);
    }

    #[test]
    fn motion_and_confirmed_tracks_always_run() {
        let mut p = policy(true, 1);
        at(&mut p, 0, false, Tracks::None);
        assert_eq!(
            at(&mut p, 100, true, Tracks::None),
            Decision::Run(Reason::Motion)
        );
        assert_eq!(
            at(&mut p, 200, false, Tracks::Confirmed),
            Decision::Run(Reason::Confirmed)
        );
        assert_eq!(
            at(&mut p, 300, true, Tracks::Confirmed),
            Decision::Run(Reason::Confirmed)
        );
        assert_eq!(at(&mut p, 400, false, Tracks::None), Decision::Skip);
    }

    #[test]
    fn an_unvalidated_config_does_not_panic() {
        let mut p = Policy::new(&MotionConfig {
            enabled: true,
            keepalive_s: f32::NAN,
            coast_every: 0,
            ..MotionConfig::default()
        });
        at(&mut p, 0, false, Tracks::None);
        assert_eq!(
            at(&mut p, 5000, false, Tracks::None),
            Decision::Run(Reason::Keepalive)
        );
    }

    #[test]
    fn coasting_tracks_run_every_nth_frame() {
        let mut p = policy(true, 3);
        at(&mut p, 0, false, Tracks::None);
        let d: Vec<bool> = (1..=9)
            .map(|i| at(&mut p, i * 10, false, Tracks::Coasting).runs())
            .collect();
        assert_eq!(
            d,
            [false, false, true, false, false, true, false, false, true]
        );
        // Every frame, with coast_every = 1.
        let mut p = policy(true, 1);
        at(&mut p, 0, false, Tracks::None);
        assert!((1..=5).all(
            |i| at(&mut p, i * 10, false, Tracks::Coasting) == Decision::Run(Reason::Coasting)
        ));
    }
}
