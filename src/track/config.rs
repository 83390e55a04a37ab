//! The `[tracker]` section of the config: thresholds of ByteTrack's association stages, the
//! track life cycle in seconds, and the sizes the tracker preallocates.

use crate::config::{join, Report, Validate};
use serde::Deserialize;
use std::time::Duration;

/// How the tracker associates detections and when tracks are born, confirmed and removed.
///
/// The defaults start from ByteTrack's published MOT17 settings, with the life cycle in seconds
/// instead of frames, and four changes for a fixed camera at 5–25 fps:
/// - a motion gate (as DeepSORT has, and ByteTrack has not) refuses matches far from a track's
///   predicted motion;
/// - the IoU gates are looser (0.1, 0.3, 0.1 rather than 0.2, 0.5, 0.3). At 5 fps a walking
///   person's boxes in consecutive frames overlap by only 0.2–0.5 IoU (measured on TUD-Campus,
///   every 6th frame), so the paper's 30 fps gates split tracks; the Hungarian solver still
///   prefers the best overlaps, so a loose gate costs little when people are apart;
/// - a confirmed track coasts through 0.1 s of misses before it is called lost;
/// - lost tracks are kept 2 s rather than 30 frames, because a person behind a pillar for a
///   second or two is the common case, and re-identifying them keeps loitering timers honest.
///
/// They were chosen on seeded noisy TUD-Campus detections (`scripts/eval_tracker.py`) with
/// seeds other than the ones the evaluation reports.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrackerConfig {
    /// Tracks held at once; all tracker state is sized from this at start. Default 64.
    pub max_tracks: usize,
    /// Detections considered per frame; any beyond are ignored and counted. Default 128.
    pub max_detections: usize,
    /// Detections scoring at least this are "high" and take part in the first association.
    /// Default 0.5 (ByteTrack's `track_thresh`).
    pub high_score: f32,
    /// Detections below this are ignored; those from here up to `high_score` are "low" and may
    /// only continue a track that was being followed. Default 0.1.
    pub low_score: f32,
    /// An unmatched high detection starts a track only if it scores at least this.
    /// Default 0.6 (ByteTrack's `track_thresh + 0.1`).
    pub new_track_score: f32,
    /// The least IoU for the first association (high detections with followed and lost tracks).
    /// Default 0.1.
    pub match_iou: f32,
    /// The least IoU for the second association (low detections). Default 0.3.
    pub low_match_iou: f32,
    /// The least IoU for matching a tentative track. Default 0.1.
    pub tentative_match_iou: f32,
    /// Multiply IoU by the detection's score in the high-score stages, as ByteTrack does, so a
    /// confident detection wins a tie. Default true.
    pub fuse_score: bool,
    /// The motion gate: a detection whose squared Mahalanobis distance from a track's predicted
    /// box (centre, width, height) exceeds this cannot match it, however well the boxes overlap.
    /// Default 18.47, χ² with 4 degrees of freedom at 99.9%, so a true match is refused once in
    /// a thousand (DeepSORT gates at 95%, which refuses too many when detections jitter).
    pub motion_gate: f32,
    /// Consecutive matches that confirm a tentative track; a tentative track that misses one
    /// frame is dropped. Default 2.
    pub confirm_hits: u32,
    /// Seconds a confirmed track may go unmatched, coasting on its prediction, before it is
    /// called lost. It bridges a detector's single-frame misses, so the rules do not see a person
    /// flicker between confirmed and lost. 0 marks a track lost at its first miss. Default 0.1.
    pub coast_s: f32,
    /// Seconds a lost track is kept, coasting on its motion, before it is removed. Default 2.0.
    pub max_age_s: f32,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        Self {
            max_tracks: 64,
            max_detections: 128,
            high_score: 0.5,
            low_score: 0.1,
            new_track_score: 0.6,
            match_iou: 0.1,
            low_match_iou: 0.3,
            tentative_match_iou: 0.1,
            fuse_score: true,
            confirm_hits: 2,
            motion_gate: 18.47,
            coast_s: 0.1,
            max_age_s: 2.0,
        }
    }
}

impl TrackerConfig {
    /// `max_age_s` as a duration (validation keeps it finite and positive).
    pub fn max_age(&self) -> Duration {
        Duration::from_secs_f32(self.max_age_s.clamp(0.0, 1e6))
    }

    /// `coast_s` as a duration.
    pub fn coast(&self) -> Duration {
        Duration::from_secs_f32(self.coast_s.clamp(0.0, 1e6))
    }
}

impl Validate for TrackerConfig {
    fn validate(&self, at: &str, report: &mut Report) {
        for (name, n) in [
            ("max_tracks", self.max_tracks),
            ("max_detections", self.max_detections),
        ] {
            if !(1..=4096).contains(&n) {
                report.error(join(at, name), format!("{n} is not in 1..=4096"));
            }
        }
        let unit = [
            ("high_score", self.high_score),
            ("low_score", self.low_score),
            ("new_track_score", self.new_track_score),
            ("match_iou", self.match_iou),
            ("low_match_iou", self.low_match_iou),
            ("tentative_match_iou", self.tentative_match_iou),
        ];
        for (name, x) in unit {
            if !(0.0..=1.0).contains(&x) {
                report.error(join(at, name), format!("{x} is not in 0..=1"));
            }
        }
        if self.low_score > self.high_score {
            report.error(
                join(at, "low_score"),
                format!(
                    "{} is above high_score {}: no detection could be low",
                    self.low_score, self.high_score
                ),
            );
        }
        if self.new_track_score < self.high_score {
            report.error(
                join(at, "new_track_score"),
                format!(
                    "{} is below high_score {}: only high detections start tracks",
                    self.new_track_score, self.high_score
                ),
            );
        }
        if self.motion_gate.is_nan() || self.motion_gate <= 0.0 {
            report.error(
                join(at, "motion_gate"),
                format!("{} is not a positive χ² value", self.motion_gate),
            );
        }
        if self.confirm_hits == 0 {
            report.error(join(at, "confirm_hits"), "must be at least 1");
        }
        let max_age_ok = self.max_age_s > 0.0 && self.max_age_s <= 3600.0;
        if self.coast_s.is_nan()
            || self.coast_s < 0.0
            || (max_age_ok && self.coast_s > self.max_age_s)
        {
            report.error(
                join(at, "coast_s"),
                format!(
                    "{} s is not in 0..=max_age_s ({} s)",
                    self.coast_s, self.max_age_s
                ),
            );
        }
        if !max_age_ok {
            report.error(
                join(at, "max_age_s"),
                format!("{} s is not in (0, 3600]", self.max_age_s),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{parse, Config};

    #[test]
    fn defaults_are_valid_and_an_empty_section_gives_them() {
        let c: Config = parse("[tracker]\n", "picket.toml").unwrap();
        assert_eq!(c.tracker, TrackerConfig::default());
        assert_eq!(c.tracker.max_age(), Duration::from_secs(2));
    }

    #[test]
    fn every_bad_value_is_located() {
        let text = "[tracker]\nmax_tracks = 0\nhigh_score = 0.4\nlow_score = 0.45\n\
                    confirm_hits = 0\nmax_age_s = -1.0\n";
        let err = parse::<Config>(text, "picket.toml").unwrap_err();
        let at: Vec<(usize, usize, &str)> = err
            .problems()
            .iter()
            .map(|p| (p.line, p.column, p.path.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            at,
            [
                (2, 14, "tracker.max_tracks"),
                (4, 13, "tracker.low_score"),
                (5, 16, "tracker.confirm_hits"),
                (6, 13, "tracker.max_age_s"),
            ],
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("picket.toml:4:13: tracker.low_score: 0.45 is above high_score 0.4"),
            "{err}"
        );
    }

    #[test]
    fn a_value_left_to_its_default_points_at_the_section() {
        // new_track_score keeps its default 0.6, which is below this high_score.
        let err = parse::<Config>("\n[tracker]\nhigh_score = 0.7\n", "c.toml").unwrap_err();
        let p = &err.problems()[0];
        assert_eq!(p.path.as_deref(), Some("tracker.new_track_score"));
        assert_eq!((p.line, p.column), (2, 1), "{err}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = parse::<Config>("[tracker]\nmax_age = 3\n", "c.toml").unwrap_err();
        assert_eq!(err.problems()[0].line, 2, "{err}");
        assert!(err.to_string().contains("unknown field `max_age`"), "{err}");
    }
}
