//! A watch for the one failure a tracker shows no sign of: detections keep coming, and no track
//! is ever confirmed, so no rule ever fires. It happens when the score thresholds sit above
//! what the model gives the people in view (small, far people score lowest), and the box
//! then looks armed and sees nobody. [`StartWatch`] notices it and says why, once.

use super::{Scores, Track};
use crate::detect::Detections;
use std::time::Duration;

/// How long detections must come without a confirmed track before the watch speaks.
pub const AFTER: Duration = Duration::from_secs(60);
/// A pause in detections longer than this starts the count again.
const PAUSE: Duration = Duration::from_secs(10);

/// Counts time with detections but no confirmed track; see the module doc.
///
/// The hot thread calls [`observe`](Self::observe) after each tracker update. It allocates
/// nothing until the one time it reports.
#[derive(Debug)]
pub struct StartWatch {
    scores: Scores,
    confirm_hits: u32,
    /// When the current stretch began, and when a detection was last seen in it.
    since: Option<(Duration, Duration)>,
    best: f32,
    told: bool,
}

impl StartWatch {
    /// A watch on a tracker with these score thresholds and `confirm_hits`.
    pub fn new(scores: Scores, confirm_hits: u32) -> Self {
        Self {
            scores,
            confirm_hits,
            since: None,
            best: 0.0,
            told: false,
        }
    }

    /// Takes one update's detections and tracks at time `t`; returns, the first time detections
    /// have come for [`AFTER`] with no confirmed track, why no track started.
    pub fn observe(&mut self, t: Duration, dets: &Detections, tracks: &[Track]) -> Option<String> {
        if self.told {
            return None;
        }
        if tracks.iter().any(Track::is_confirmed) {
            (self.since, self.best) = (None, 0.0);
            return None;
        }
        let Some(top) = dets.as_slice().iter().map(|d| d.score).reduce(f32::max) else {
            if self
                .since
                .is_some_and(|(_, last)| t.saturating_sub(last) > PAUSE)
            {
                (self.since, self.best) = (None, 0.0);
            }
            return None;
        };
        let (start, _) = *self.since.get_or_insert((t, t));
        self.since = Some((start, t));
        self.best = self.best.max(top);
        if t.saturating_sub(start) < AFTER {
            return None;
        }
        self.told = true;
        let (scores, confirm_hits) = (self.scores, self.confirm_hits);
        let why = if self.best < scores.new_track {
            format!(
                "none scored [tracker] new_track_score {} (the best scored {:.2})",
                scores.new_track, self.best
            )
        } else {
            format!(
                "some scored [tracker] new_track_score {} (the best {:.2}), but none was matched \
                 in {confirm_hits} frames in a row above high_score {} (confirm_hits)",
                scores.new_track, self.best, scores.high
            )
        };
        Some(format!(
            "for {} s the detector has found people but no track was confirmed, so no rule can \
             fire: {why}. Lower those thresholds, or leave them unset to follow [detector] \
             threshold; `picket check` shows what is in force",
            t.saturating_sub(start).as_secs()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Detection;
    use crate::track::{Tracker, TrackerConfig};
    use picket_geom::NormRect;

    fn dets(score: f32) -> Detections {
        let mut d = Detections::with_capacity(1);
        d.push(Detection {
            bbox: NormRect::from_center(0.5, 0.5, 0.05, 0.2),
            score,
            class: 0,
        });
        d
    }

    /// Feeds `score`d detections at 10 fps for `secs` through a tracker at ByteTrack's
    /// thresholds; returns what the watch said, and when.
    fn run(score: f32, secs: u64) -> Vec<(u64, String)> {
        let cfg = TrackerConfig {
            high_score: Some(0.5),
            new_track_score: Some(0.6),
            ..TrackerConfig::default()
        };
        let mut watch = StartWatch::new(cfg.scores(0.35), cfg.confirm_hits);
        let mut tr = Tracker::new(cfg, 0.35);
        let (d, mut said) = (dets(score), Vec::new());
        for f in 0..secs * 10 {
            let t = Duration::from_millis(f * 100);
            let tracks = tr.update(&d, t);
            if let Some(m) = watch.observe(t, &d, tracks) {
                said.push((t.as_secs(), m));
            }
        }
        said
    }

    #[test]
    fn people_scoring_below_new_track_score_are_reported_once_after_a_minute() {
        let said = run(0.45, 180);
        assert_eq!(said.len(), 1, "{said:?}");
        assert_eq!(said[0].0, 60);
        assert!(
            said[0]
                .1
                .contains("none scored [tracker] new_track_score 0.6 (the best scored 0.45)"),
            "{said:?}"
        );
    }

    #[test]
    fn a_confirmed_track_keeps_it_quiet() {
        assert!(run(0.9, 180).is_empty());
    }

    #[test]
    fn a_long_pause_in_detections_starts_the_count_again() {
        let mut w = StartWatch::new(TrackerConfig::default().scores(0.35), 2);
        let (d, none) = (dets(0.4), Detections::with_capacity(1));
        let at = Duration::from_secs;
        assert!(w.observe(at(0), &d, &[]).is_none());
        assert!(w.observe(at(40), &d, &[]).is_none());
        assert!(w.observe(at(55), &none, &[]).is_none());
        assert!(
            w.observe(at(70), &d, &[]).is_none(),
            "the count began again at 70"
        );
        assert!(w.observe(at(130), &d, &[]).is_some());
    }
}
