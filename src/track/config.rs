//! The `[tracker]` section of the config: thresholds of ByteTrack's association stages, the
//! track life cycle in seconds, and the sizes the tracker preallocates.

use crate::validate::{join, Report, Validate};
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
/// The association and life-cycle values were chosen on seeded noisy TUD-Campus detections
/// (`scripts/eval_tracker.py`) with seeds other than the ones the evaluation reports.
///
/// # Score thresholds follow the detector
/// The three score thresholds default *relative to the detector's threshold* (the lowest score
/// it reports, its "floor"), because a tracker threshold means nothing apart from the scores
/// of the model in use: ByteTrack's 0.5 and 0.6 suit detectors whose people score about 0.8,
/// while the shipped model's person scores top out near 0.62. Left unset, they are
/// - `low_score` = the floor: every detection the detector reports may continue a track;
/// - `high_score` = the floor + `HIGH_ABOVE_FLOOR`;
/// - `new_track_score` = the floor + `NEW_ABOVE_FLOOR`.
///
/// So a user who raises `[detector] threshold` for a more confident model moves the tracker
/// with it, and one who lowers it cannot leave the tracker unable to start a track. How the
/// offsets were measured is in `docs/design/detection.md`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrackerConfig {
    /// Tracks held at once; all tracker state is sized from this at start. Default 64.
    pub max_tracks: usize,
    /// Detections considered per frame; any beyond are ignored and counted. Default 128.
    pub max_detections: usize,
    /// Detections scoring at least this are "high" and take part in the first association.
    /// Default: the detector's threshold + `HIGH_ABOVE_FLOOR` (0.40 with the defaults).
    pub high_score: Option<f32>,
    /// Detections below this are ignored; those from here up to `high_score` are "low" and may
    /// only continue a track that was being followed. Default: the detector's threshold.
    pub low_score: Option<f32>,
    /// An unmatched high detection starts a track only if it scores at least this.
    /// Default: the detector's threshold + `NEW_ABOVE_FLOOR` (0.45 with the defaults).
    pub new_track_score: Option<f32>,
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
            high_score: None,
            low_score: None,
            new_track_score: None,
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

/// `high_score` above the detector's threshold, when unset. On PETS09-S2L1 frames 1–200 the
/// shipped model's true person detections score 0.41 at their 10th percentile: from the
/// threshold 0.35 up, 0.05 more keeps nine in ten people "high".
pub const HIGH_ABOVE_FLOOR: f32 = 0.05;
/// `new_track_score` above the detector's threshold, when unset: 0.45 with the defaults, where
/// the shipped model's detections are right five times in six (precision 0.83) and a walking
/// person scores at least this in most frames (the median true detection scores 0.52).
pub const NEW_ABOVE_FLOOR: f32 = 0.10;

/// The score thresholds in force: the configured ones, or their defaults from the detector's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    pub high: f32,
    pub low: f32,
    pub new_track: f32,
}

impl TrackerConfig {
    /// The thresholds for a detector that reports scores from `floor` (its threshold) up.
    pub fn scores(&self, floor: f32) -> Scores {
        // Rounded to a thousandth, so that 0.35 + 0.1 reads 0.45 in messages.
        let above = |d: f32| ((floor + d) * 1000.0).round().min(1000.0) / 1000.0;
        Scores {
            high: self.high_score.unwrap_or(above(HIGH_ABOVE_FLOOR)),
            low: self.low_score.unwrap_or(floor),
            new_track: self.new_track_score.unwrap_or(above(NEW_ABOVE_FLOOR)),
        }
    }

    /// `max_age_s` as a duration (validation keeps it finite and positive).
    pub fn max_age(&self) -> Duration {
        Duration::from_secs_f32(self.max_age_s.clamp(0.0, 1e6))
    }

    /// `coast_s` as a duration.
    pub fn coast(&self) -> Duration {
        Duration::from_secs_f32(self.coast_s.clamp(0.0, 1e6))
    }
}

impl TrackerConfig {
    /// Checks the score thresholds against each other and against the detector that feeds
    /// them: `floor` is its threshold, and `ceiling`, when known, the best score its people
    /// reach on real footage. Relations that make no track possible are errors; thresholds the
    /// detector makes moot, or that no person reaches, are warnings.
    pub fn check_scores(&self, at: &str, floor: f32, ceiling: Option<f32>, report: &mut Report) {
        let s = self.scores(floor);
        if s.low > s.high {
            report.error(
                join(at, "low_score"),
                format!(
                    "{} is above high_score {}: no detection could be low",
                    s.low, s.high
                ),
            );
        }
        if s.new_track < s.high {
            report.error(
                join(at, "new_track_score"),
                format!(
                    "{} is below high_score {}: only high detections start tracks",
                    s.new_track, s.high
                ),
            );
        }
        if let Some(c) = ceiling.filter(|&c| s.new_track > c) {
            report.warn(
                join(at, "new_track_score"),
                format!(
                    "{} is above {c}, the best score the model gives people on real footage: \
                     no track would start, and no rule would fire",
                    s.new_track
                ),
            );
        }
        let set = [
            ("low_score", self.low_score),
            ("high_score", self.high_score),
            ("new_track_score", self.new_track_score),
        ];
        for (name, v) in set {
            if let Some(v) = v.filter(|&v| v < floor) {
                report.warn(
                    join(at, name),
                    format!(
                        "{v} is below [detector] threshold {floor}, which drops such detections \
                         first; leave it unset to follow the threshold"
                    ),
                );
            }
        }
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
            ("match_iou", Some(self.match_iou)),
            ("low_match_iou", Some(self.low_match_iou)),
            ("tentative_match_iou", Some(self.tentative_match_iou)),
        ];
        for (name, x) in unit {
            if let Some(x) = x.filter(|x| !(0.0..=1.0).contains(x)) {
                report.error(join(at, name), format!("{x} is not in 0..=1"));
            }
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
