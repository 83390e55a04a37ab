//! Following people from frame to frame: the [`Track`] the tracker publishes to the rules.
//!
//! A ByteTrack-class tracker on motion alone, no appearance network:
//! - `kalman`: the constant-velocity box filter that predicts where each track will be;
//! - `assign`: the Hungarian solver that pairs tracks with detections;
//! - `tracker`: ByteTrack's two-stage association and the track life cycle;
//! - `config`: the `[tracker]` section;
//! - `mot`: MOTChallenge CSV for evaluating the tracker offline (`picket track-eval`);
//! - `starts`: a watch that says why, when detections never become a confirmed track.

pub mod assign;
mod config;
pub mod kalman;
pub mod mot;
pub mod starts;
#[cfg(test)]
mod tests;
mod tracker;

pub use config::{Scores, TrackerConfig};
pub use tracker::{Tracker, TrackerStats};

use picket_geom::{NormPoint, NormRect};
use std::time::Duration;

/// How many foot points a track remembers for the rules (line crossing, wandering).
pub const HISTORY_LEN: usize = 64;

/// Where a track is in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackState {
    /// Seen, but not yet for enough frames to be trusted. Rules ignore it.
    Tentative,
    /// Matched often enough to be a person the rules judge. It stays confirmed while it coasts
    /// through a brief miss (the config's `coast_s`).
    Confirmed,
    /// Not matched recently; coasting on its prediction until its max age.
    Lost,
}

/// One foot point (bottom-centre of the box) at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FootSample {
    /// Time since picket started.
    pub t: Duration,
    pub at: NormPoint,
}

/// A person being followed. Ids are unique for the life of the process and never reused.
#[derive(Debug, Clone)]
pub struct Track {
    pub id: u64,
    pub state: TrackState,
    /// The filtered box in normalised coordinates.
    pub bbox: NormRect,
    /// The score of the last matched detection.
    pub score: f32,
    /// When the track was born and when it was last matched to a detection.
    pub first_seen: Duration,
    pub last_seen: Duration,
    /// Matched detections so far.
    pub hits: u32,
    /// Recent foot points, oldest first; only frames where the track was matched.
    pub history: heapless::HistoryBuffer<FootSample, HISTORY_LEN>,
}

impl Track {
    pub fn is_confirmed(&self) -> bool {
        self.state == TrackState::Confirmed
    }

    /// The newest foot point.
    pub fn foot(&self) -> NormPoint {
        self.bbox.foot()
    }
}
