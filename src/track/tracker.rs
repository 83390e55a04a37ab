//! ByteTrack's association, frame by frame: predict every track, match high-score detections,
//! then low-score ones, then the tentative tracks, and run the life cycle.
//!
//! The stages carry the paper's names (Zhang et al., "ByteTrack: Multi-Object Tracking by
//! Associating Every Detection Box", ECCV 2022, Algorithm 1):
//! 1. **first association**: high detections against tracked tracks, then what is left against
//!    lost tracks, on IoU (fused with the detection's score). The paper matches both at once;
//!    we match by recency, like DeepSORT's matching cascade, because a lost track's prediction
//!    has drifted and its motion gate has widened, so in one round it can take the detection of
//!    a person another track is following, and the two then swap ids back and forth;
//! 2. **second association**: low detections against the tracks the first left over, on plain IoU
//!    with a stricter gate. This is the "BYTE" step: an occluded person's weak box still
//!    continues the track. The paper leaves lost tracks out of it; we keep them in;
//! 3. **unconfirmed association**: the remaining high detections against tentative tracks;
//! 4. **re-finding** (ours): the high detections that would start a track, against the lost
//!    tracks still unmatched, on motion alone (no IoU), within a walk of where each was last
//!    seen;
//! 5. **init new tracks** from what high detections remain, and **remove** tracks lost too long.
//!
//! ByteTrack's reference code also removes "duplicate" tracks, a lost track whose box nearly
//! coincides with a followed one. We do not: where two people cross, the hidden one's predicted
//! box *is* the visible one's, and that step deletes the hidden person's track (the crossing
//! test shows it). On the evaluation it made no difference.

use super::assign::Hungarian;
use super::config::Scores;
use super::kalman::BoxFilter;
use super::{FootSample, Track, TrackState, TrackerConfig};
use crate::detect::{Detection, Detections};
use std::time::Duration;

/// The motion gate of re-finding a lost track without overlap: χ² with 4 degrees of freedom
/// at 95 %, as DeepSORT gates, stricter than the association's (`motion_gate`), because motion
/// is then the only evidence.
const REFIND_GATE: f32 = 9.488;

/// How far a person walks in a second, in their own widths and heights: 1.4 m/s for one 0.45 m
/// wide and 1.7 m tall.
const WALK_WIDTHS_PER_S: f32 = 3.1;
const WALK_HEIGHTS_PER_S: f32 = 0.8;

/// Whether `det`'s foot is within a walk, since `track` was last matched, of where it was then.
/// A lost track's motion gate keeps widening with the time unseen, faster than a person can
/// walk; this bounds what re-finding may take.
fn within_walk(track: &Track, det: &Detection, t: Duration) -> bool {
    let Some(last) = track.history.recent() else {
        return false;
    };
    let secs = t.saturating_sub(track.last_seen).as_secs_f32();
    let foot = det.bbox.foot();
    let (w, h) = (track.bbox.width(), track.bbox.height());
    (foot.x - last.at.x).abs() <= WALK_WIDTHS_PER_S * w * secs
        && (foot.y - last.at.y).abs() <= WALK_HEIGHTS_PER_S * h * secs
}

/// Counters of what the tracker had to give up on, since creation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrackerStats {
    /// Detections beyond `max_detections` in one frame, ignored.
    pub dropped_detections: u64,
    /// New tracks not started because `max_tracks` were live and none was lost.
    pub refused_births: u64,
    /// Lost tracks removed early to make room for a new one.
    pub evicted: u64,
}

/// Follows people from frame to frame.
///
/// # Contract
/// - **Who calls it.** The hot thread owns one `Tracker` and calls [`update`](Self::update)
///   once per processed frame, after the detector, with that frame's detections and its time
///   since start. The returned slice is valid until the next call; the rules read it there and
///   copy what they keep.
/// - **Time.** `t` should not go backwards; if it does, the step is taken as zero. Every
///   duration in the life cycle is in seconds of `t`, so behaviour does not depend on the frame
///   rate, and skipped frames (the motion gate) simply make a longer step.
/// - **Ids** start at 1, are given at birth, and are never reused for the life of the tracker
///   (a `u64` does not wrap in practice).
/// - **What it is given.** Every detection is taken for a person: the caller passes only the
///   classes it wants followed. Detections below `low_score`, and boxes that are not finite
///   or have no area, are ignored.
/// - **What is published.** Tentative, confirmed and lost tracks, in no particular order; only
///   confirmed ones are people to judge. A confirmed track may be coasting through a miss of
///   up to `coast_s` (then `last_seen < t`); a lost track's box is its prediction.
/// - **Memory.** Everything is allocated in [`new`](Self::new) from the config's `max_tracks`
///   and `max_detections`; `update` never allocates. When full, a new track evicts the
///   longest-lost track, or is refused; both are counted in [`stats`](Self::stats).
/// - **Restart.** Nothing survives: after a restart ids start again at 1, so anything stored
///   (the journal) must not treat a track id as unique across runs.
#[derive(Debug)]
pub struct Tracker {
    cfg: TrackerConfig,
    scores: Scores,
    max_age: Duration,
    coast: Duration,
    tracks: Vec<Track>,
    filters: Vec<BoxFilter>,
    next_id: u64,
    last_t: Option<Duration>,
    solver: Hungarian,
    stats: TrackerStats,
    // Scratch, sized once: the tracks and detections taking part in one stage, and what each
    // stage has matched so far.
    pool: Vec<usize>,
    cand: Vec<usize>,
    high: Vec<usize>,
    low: Vec<usize>,
    det_taken: Vec<bool>,
    matched: Vec<bool>,
}

impl Tracker {
    /// A tracker with all its storage allocated, for detections that score from `floor` (the
    /// detector's threshold) up; the score thresholds the config leaves unset follow it. The
    /// config should have been validated.
    pub fn new(cfg: TrackerConfig, floor: f32) -> Self {
        let (nt, nd) = (cfg.max_tracks.max(1), cfg.max_detections.max(1));
        Self {
            scores: cfg.scores(floor),
            max_age: cfg.max_age(),
            coast: cfg.coast(),
            cfg,
            tracks: Vec::with_capacity(nt),
            filters: Vec::with_capacity(nt),
            next_id: 1,
            last_t: None,
            solver: Hungarian::new(nt, nd),
            stats: TrackerStats::default(),
            pool: Vec::with_capacity(nt),
            cand: Vec::with_capacity(nd),
            high: Vec::with_capacity(nd),
            low: Vec::with_capacity(nd),
            det_taken: Vec::with_capacity(nd),
            matched: Vec::with_capacity(nt),
        }
    }

    /// The live tracks, as of the last update.
    pub fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    pub fn stats(&self) -> TrackerStats {
        self.stats
    }

    /// The score thresholds in force.
    pub fn scores(&self) -> Scores {
        self.scores
    }

    /// Takes in one frame's detections at time `t` and returns the tracks.
    pub fn update(&mut self, dets: &Detections, t: Duration) -> &[Track] {
        let dets = dets.as_slice();
        let dt = self.last_t.map_or(Duration::ZERO, |l| t.saturating_sub(l));
        self.last_t = Some(t.max(self.last_t.unwrap_or(t)));
        for (track, f) in self.tracks.iter_mut().zip(&mut self.filters) {
            f.predict(dt);
            track.bbox = f.rect();
        }
        self.split_by_score(dets);
        self.matched.clear();
        self.matched.resize(self.tracks.len(), false);

        // First association: high detections with followed tracks, then with lost ones.
        let high = std::mem::take(&mut self.high);
        let mut rest = std::mem::take(&mut self.cand);
        self.select(|s, _| s == TrackState::Confirmed);
        self.associate(dets, &high, self.cfg.match_iou, self.cfg.fuse_score, t);
        self.untaken(&high, &mut rest);
        self.select(|s, _| s == TrackState::Lost);
        self.associate(dets, &rest, self.cfg.match_iou, self.cfg.fuse_score, t);

        // Second association: low detections with the tracks still unmatched, lost ones too.
        // The paper leaves lost tracks out; we keep them in because a person stepping out from
        // behind something is usually detected weakly first, and the stricter IoU gate of this
        // stage keeps clutter from reviving a track.
        self.select(|s, matched| s != TrackState::Tentative && !matched);
        let low = std::mem::take(&mut self.low);
        self.associate(dets, &low, self.cfg.low_match_iou, false, t);
        self.low = low;

        // Unconfirmed association: the remaining high detections with tentative tracks.
        self.select(|s, _| s == TrackState::Tentative);
        self.untaken(&high, &mut rest);
        self.associate(
            dets,
            &rest,
            self.cfg.tentative_match_iou,
            self.cfg.fuse_score,
            t,
        );
        self.cand = rest;

        // Re-finding: a detection that would start a track, against the lost tracks still
        // unmatched, on motion alone.
        self.refind(dets, &high, t);

        self.age_and_remove(t);

        // Init new tracks from the high detections nobody took.
        for &d in &high {
            if !self.det_taken[d] && dets[d].score >= self.scores.new_track {
                self.start(&dets[d], t);
            }
        }
        self.high = high;
        &self.tracks
    }

    /// Fills `pool` with the tracks for which `keep(state, matched so far)` holds.
    fn select(&mut self, keep: impl Fn(TrackState, bool) -> bool) {
        self.pool.clear();
        let (tracks, matched) = (&self.tracks, &self.matched);
        self.pool
            .extend((0..tracks.len()).filter(|&i| keep(tracks[i].state, matched[i])));
    }

    /// Fills `out` with the detections of `from` that no track has taken yet.
    fn untaken(&self, from: &[usize], out: &mut Vec<usize>) {
        out.clear();
        out.extend(from.iter().copied().filter(|&d| !self.det_taken[d]));
    }

    /// Fills `high` and `low` with detection indices, and resets `det_taken`.
    fn split_by_score(&mut self, dets: &[Detection]) {
        let n = dets.len().min(self.cfg.max_detections);
        self.stats.dropped_detections += (dets.len() - n) as u64;
        self.high.clear();
        self.low.clear();
        self.det_taken.clear();
        self.det_taken.resize(n, false);
        for (i, d) in dets[..n].iter().enumerate() {
            let b = &d.bbox;
            // A broken box (NaN, or no area) would make a track that can never match again.
            let finite = [b.x0, b.y0, b.x1, b.y1].iter().all(|v| v.is_finite());
            if !(finite && b.x1 > b.x0 && b.y1 > b.y0) {
                continue;
            }
            if d.score >= self.scores.high {
                self.high.push(i);
            } else if d.score >= self.scores.low {
                self.low.push(i);
            }
        }
    }

    /// Matches the tracks in `pool` with `cand` detections by the Hungarian algorithm on
    /// `1 − IoU` (times the score when `fuse`), gated at `min_iou` and by the motion gate, and
    /// updates the matched.
    ///
    /// The motion gate is what lets the IoU gates be loose: a box that overlaps a track's
    /// prediction but sits many standard deviations off its motion (a bystander's box when the
    /// track's own detection is missing) is refused. It widens by itself with the uncertainty of
    /// a track unseen for a while, or of a track just started, so it suits any frame rate.
    fn associate(
        &mut self,
        dets: &[Detection],
        cand: &[usize],
        min_iou: f32,
        fuse: bool,
        t: Duration,
    ) {
        let (rows, cols) = (self.pool.len(), cand.len());
        if rows == 0 || cols == 0 {
            return;
        }
        let costs = self.solver.costs_mut(rows, cols);
        for (r, &k) in self.pool.iter().enumerate() {
            let bbox = self.tracks[k].bbox;
            let f = &self.filters[k];
            for (c, &d) in cand.iter().enumerate() {
                let iou = bbox.iou(&dets[d].bbox);
                let sim = if fuse { iou * dets[d].score } else { iou };
                let gated = f.mahalanobis2(&dets[d].bbox) > self.cfg.motion_gate;
                costs[r * cols + c] = if gated { 1.0 } else { 1.0 - sim };
            }
        }
        self.solver.solve(1.0 - min_iou);
        for r in 0..rows {
            let Some(c) = self.solver.row_match(r) else {
                continue;
            };
            let (k, d) = (self.pool[r], cand[c]);
            self.matched[k] = true;
            self.det_taken[d] = true;
            self.hit(k, &dets[d], t);
        }
    }

    /// Matches the high detections that would start a track with the lost tracks left over, by
    /// the motion gate alone (cost: the squared Mahalanobis distance over the gate), no IoU
    /// needed. A lost track's prediction drifts behind a person who sped up or turned while
    /// hidden, until its box no longer overlaps theirs, while its motion gate has widened with
    /// the time unseen to cover where they may be. Without this stage the person reappears
    /// as a new track, and what the rules knew of them (the side of a line they were on) is
    /// lost: someone who crosses a line while hidden in a group is not counted.
    fn refind(&mut self, dets: &[Detection], high: &[usize], t: Duration) {
        self.select(|s, matched| s == TrackState::Lost && !matched);
        let mut rest = std::mem::take(&mut self.cand);
        rest.clear();
        // A box over a followed track that missed this frame is more likely that track's
        // person, whom its own motion gate refused, than a long-lost one's: not re-found.
        let (tracks, matched) = (&self.tracks, &self.matched);
        let followed = |d: &Detection| {
            (0..tracks.len()).any(|k| {
                tracks[k].state == TrackState::Confirmed
                    && !matched[k]
                    && tracks[k].bbox.iou(&d.bbox) >= self.cfg.match_iou
            })
        };
        let new_track = self.scores.new_track;
        rest.extend(
            high.iter().copied().filter(|&d| {
                !self.det_taken[d] && dets[d].score >= new_track && !followed(&dets[d])
            }),
        );
        let (rows, cols) = (self.pool.len(), rest.len());
        if rows > 0 && cols > 0 {
            let gate = self.cfg.motion_gate.min(REFIND_GATE);
            let costs = self.solver.costs_mut(rows, cols);
            for (r, &k) in self.pool.iter().enumerate() {
                let (f, track) = (&self.filters[k], &self.tracks[k]);
                for (c, &d) in rest.iter().enumerate() {
                    let m2 = f.mahalanobis2(&dets[d].bbox);
                    let ok = m2 <= gate && within_walk(track, &dets[d], t);
                    costs[r * cols + c] = if ok { m2 / gate } else { 1.0 };
                }
            }
            self.solver.solve(1.0);
            for r in 0..rows {
                if let Some(c) = self.solver.row_match(r) {
                    let (k, d) = (self.pool[r], rest[c]);
                    self.matched[k] = true;
                    self.det_taken[d] = true;
                    self.hit(k, &dets[d], t);
                }
            }
        }
        self.cand = rest;
    }

    /// Track `k` was matched with `det` at `t`.
    fn hit(&mut self, k: usize, det: &Detection, t: Duration) {
        let f = &mut self.filters[k];
        f.update(&det.bbox);
        let track = &mut self.tracks[k];
        track.bbox = f.rect();
        track.score = det.score;
        track.last_seen = t;
        track.hits = track.hits.saturating_add(1);
        track.history.write(FootSample {
            t,
            at: track.bbox.foot(),
        });
        if track.state == TrackState::Lost || track.hits >= self.cfg.confirm_hits {
            track.state = TrackState::Confirmed;
        }
    }

    /// Marks unmatched tracks lost, and removes tentative tracks that missed and lost tracks
    /// past their max age. Keeps the survivors' order.
    fn age_and_remove(&mut self, t: Duration) {
        let mut w = 0;
        for r in 0..self.tracks.len() {
            let keep = if self.matched[r] {
                true
            } else {
                let track = &mut self.tracks[r];
                match track.state {
                    TrackState::Tentative => false,
                    TrackState::Confirmed => {
                        if t.saturating_sub(track.last_seen) > self.coast {
                            track.state = TrackState::Lost;
                            self.filters[r].freeze_size();
                        }
                        true
                    }
                    TrackState::Lost => t.saturating_sub(track.last_seen) <= self.max_age,
                }
            };
            if keep {
                self.tracks.swap(w, r);
                self.filters.swap(w, r);
                w += 1;
            }
        }
        self.tracks.truncate(w);
        self.filters.truncate(w);
    }

    /// Starts a tentative track (confirmed at once if one hit suffices) from `det`.
    fn start(&mut self, det: &Detection, t: Duration) {
        if self.tracks.len() == self.tracks.capacity() && !self.evict_longest_lost() {
            self.stats.refused_births += 1;
            return;
        }
        let f = BoxFilter::new(&det.bbox);
        let mut history = heapless::HistoryBuffer::new();
        history.write(FootSample {
            t,
            at: det.bbox.foot(),
        });
        let state = if self.cfg.confirm_hits <= 1 {
            TrackState::Confirmed
        } else {
            TrackState::Tentative
        };
        self.tracks.push(Track {
            id: self.next_id,
            state,
            bbox: f.rect(),
            score: det.score,
            first_seen: t,
            last_seen: t,
            hits: 1,
            history,
        });
        self.filters.push(f);
        self.next_id += 1;
    }

    /// Removes the lost track unseen the longest; false if no track is lost.
    fn evict_longest_lost(&mut self) -> bool {
        let oldest = self
            .tracks
            .iter()
            .enumerate()
            .filter(|(_, k)| k.state == TrackState::Lost)
            .min_by_key(|(_, k)| k.last_seen)
            .map(|(i, _)| i);
        let Some(i) = oldest else {
            return false;
        };
        self.tracks.remove(i);
        self.filters.remove(i);
        self.stats.evicted += 1;
        true
    }
}
