//! Motion gating: skip inference while nothing in view moves.
//!
//! A [`MotionGate`] sits on the hot thread between the source and preprocess. For each frame it
//! asks the [`MotionDetector`] whether the scene moved (a coarse luma grid against a slowly
//! adapting background, with mask regions ignored), then asks the [`Policy`] whether to run
//! inference given that, the tracks and the clock. The two halves are tested apart.
//!
//! Gating is **off by default**: the default config runs inference on every frame, and a
//! disabled gate does not even look at the pixels. Turned on, it still runs inference every
//! `keepalive_s`, on every frame while a confirmed track is present, and every `coast_every`-th
//! frame while tracks coast. On a skipped frame the pipeline lets the tracker coast on its
//! prediction.

mod detector;
mod policy;

pub use detector::{watched_cells, Layout, LumaInput, Motion, MotionDetector};
pub use policy::{Decision, Policy, Reason, Tracks};

use crate::validate::{join, Report, Validate};
use serde::Deserialize;
use std::time::Duration;

/// Why the gate could not look at a frame. The pipeline should run inference anyway.
#[derive(Debug, thiserror::Error)]
pub enum MotionError {
    #[error("motion gate: frame geometry {width}x{height} with stride {stride} bytes is invalid")]
    Geometry {
        width: u32,
        height: u32,
        stride: usize,
    },
    #[error("motion gate: frame buffer holds {got} bytes, its geometry needs {need}")]
    ShortFrame { need: usize, got: usize },
    #[error("motion gate: grid {0}x{1} is empty")]
    Grid(u32, u32),
    #[error("motion gate: the masks hide the whole frame")]
    AllMasked,
}

/// `[motion]`: the gate's settings. Every field has a default; see [`MotionConfig::default`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MotionConfig {
    /// Skip inference on still frames. Off by default: every frame is inferred.
    pub enabled: bool,
    /// Cells of the luma grid, `[columns, rows]`.
    pub grid: [u32; 2],
    /// A cell changed when its luma differs from the background by more than this (of 255).
    pub pixel_threshold: u8,
    /// The frame moves when at least this fraction of the unmasked cells changed.
    pub changed_fraction: f32,
    /// Time constant of the background's running average, in seconds.
    pub background_s: f32,
    /// Run inference at least this often, in seconds, even when nothing moves.
    pub keepalive_s: f32,
    /// While tracks coast unconfirmed, run inference on every N-th frame (1: every frame).
    pub coast_every: u32,
    /// Regions to ignore, such as a tree in the wind or a road beyond the fence.
    pub masks: Vec<MaskRegion>,
}

impl Default for MotionConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            grid: [64, 48],
            pixel_threshold: 15,
            changed_fraction: 0.003,
            background_s: 5.0,
            keepalive_s: 5.0,
            coast_every: 1,
            masks: Vec::new(),
        }
    }
}

/// One ignored region in normalised frame coordinates: either `rect = [x0, y0, x1, y1]` or
/// `polygon = [[x, y], ...]` (at least 3 points). A grid cell is ignored when its centre is
/// inside.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaskRegion {
    /// For messages only.
    pub name: Option<String>,
    pub rect: Option<[f32; 4]>,
    pub polygon: Option<Vec<[f32; 2]>>,
}

impl MaskRegion {
    pub fn rect(r: [f32; 4]) -> Self {
        Self {
            rect: Some(r),
            ..Self::default()
        }
    }

    pub fn polygon(points: &[[f32; 2]]) -> Self {
        Self {
            polygon: Some(points.to_vec()),
            ..Self::default()
        }
    }

    /// Whether the point (`x`, `y`) is inside the region (even-odd rule for polygons).
    pub fn contains(&self, x: f32, y: f32) -> bool {
        if let Some([x0, y0, x1, y1]) = self.rect {
            return (x0..=x1).contains(&x) && (y0..=y1).contains(&y);
        }
        let Some(poly) = &self.polygon else {
            return false;
        };
        let mut inside = false;
        let mut j = poly.len().wrapping_sub(1);
        for (i, &[xi, yi]) in poly.iter().enumerate() {
            let [xj, yj] = poly[j];
            if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
                inside = !inside;
            }
            j = i;
        }
        inside
    }
}

impl Validate for MotionConfig {
    fn validate(&self, at: &str, report: &mut Report) {
        let [w, h] = self.grid;
        if !(8..=320).contains(&w) || !(6..=240).contains(&h) {
            report.error(
                join(at, "grid"),
                format!("{w}x{h} is out of range (8..=320 columns, 6..=240 rows)"),
            );
        }
        if self.pixel_threshold == 0 {
            report.error(join(at, "pixel_threshold"), "must be at least 1");
        }
        if !(self.changed_fraction > 0.0 && self.changed_fraction <= 1.0) {
            report.error(join(at, "changed_fraction"), "must be in (0, 1]");
        }
        for (key, v) in [
            ("background_s", self.background_s),
            ("keepalive_s", self.keepalive_s),
        ] {
            if !(v > 0.0 && v <= 3600.0) {
                report.error(join(at, key), "must be in (0, 3600] seconds");
            }
        }
        if self.coast_every == 0 {
            report.error(
                join(at, "coast_every"),
                "must be at least 1 (1: every frame)",
            );
        }
        let in_frame = |v: f32| (0.0..=1.0).contains(&v);
        for (i, m) in self.masks.iter().enumerate() {
            let here = join(at, format!("masks.{i}"));
            let name = m
                .name
                .as_deref()
                .map_or(String::new(), |n| format!("mask `{n}`: "));
            match (&m.rect, &m.polygon) {
                (Some([x0, y0, x1, y1]), None) => {
                    if !([*x0, *y0, *x1, *y1].into_iter().all(in_frame) && x0 < x1 && y0 < y1) {
                        report.error(
                            join(&here, "rect"),
                            format!("{name}needs 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1"),
                        );
                    }
                }
                (None, Some(p)) => {
                    if p.len() < 3 {
                        report.error(
                            join(&here, "polygon"),
                            format!("{name}polygon has {} points (needs ≥ 3)", p.len()),
                        );
                    } else if !p.iter().flatten().copied().all(in_frame) {
                        report.error(
                            join(&here, "polygon"),
                            format!("{name}points must be inside the frame, 0..=1"),
                        );
                    }
                }
                _ => report.error(
                    here,
                    format!("{name}give exactly one of `rect` or `polygon`"),
                ),
            }
        }
        if !self.masks.is_empty() && w > 0 && h > 0 && w <= 320 && h <= 240 {
            let watched = detector::watched_cells(&self.masks, w as usize, h as usize);
            if !watched.contains(&true) {
                report.error(join(at, "masks"), "the masks hide the whole frame");
            }
        }
    }
}

/// The gate for one camera: the motion detector and the decision policy together.
///
/// Owned by the hot thread and called once per frame, before preprocess. All buffers are sized in
/// [`MotionGate::new`]; [`MotionGate::decide`] never allocates. The counts are cumulative since
/// creation; the pipeline copies [`MotionGate::skipped`] into its metrics.
#[derive(Debug)]
pub struct MotionGate {
    detector: MotionDetector,
    policy: Policy,
    last_motion: Option<Motion>,
    /// Sample the grid even with gating off, for a reader of [`MotionGate::cells`].
    keep_cells: bool,
    /// Whether the grid holds the frame last decided.
    fresh: bool,
}

impl MotionGate {
    pub fn new(cfg: &MotionConfig) -> Result<Self, MotionError> {
        Ok(Self {
            detector: MotionDetector::new(cfg)?,
            policy: Policy::new(cfg),
            last_motion: None,
            keep_cells: false,
            fresh: false,
        })
    }

    /// Samples every frame's luma grid even while gating is off, so that another analysis (video
    /// tamper) reads [`MotionGate::cells`] instead of computing its own.
    pub fn keep_cells(mut self, keep: bool) -> Self {
        self.keep_cells = keep;
        self
    }

    /// The luma grid of the frame last decided, row-major, with its `(columns, rows)`; `None`
    /// when the gate did not look at that frame (gating off and cells not kept, or a frame it
    /// could not read).
    pub fn cells(&self) -> Option<(&[f32], (usize, usize))> {
        self.fresh
            .then(|| (self.detector.cells(), self.detector.grid()))
    }

    /// Whether gating is on. When off, [`MotionGate::decide`] always runs and reads no pixels.
    pub fn enabled(&self) -> bool {
        self.policy.enabled()
    }

    /// Decides whether to run inference on `frame`, seen at monotonic time `now`, given what the
    /// tracker held after the previous frame.
    ///
    /// A frame the detector cannot read (bad geometry) is an error; the caller should run
    /// inference on it anyway, which is the safe side.
    pub fn decide(
        &mut self,
        now: Duration,
        tracks: Tracks,
        frame: LumaInput<'_>,
    ) -> Result<Decision, MotionError> {
        self.fresh = false;
        if !self.policy.enabled() {
            if self.keep_cells {
                self.detector.observe(now, frame)?;
                self.fresh = true;
            }
            return Ok(self.policy.decide(now, true, tracks));
        }
        let motion = self.detector.observe(now, frame)?;
        self.fresh = true;
        self.last_motion = Some(motion);
        Ok(self.policy.decide(now, motion.moving, tracks))
    }

    /// Marks a frame the gate could not be shown (it could not be decoded): [`MotionGate::cells`]
    /// no longer describes the current frame.
    pub fn unseen(&mut self) {
        self.fresh = false;
    }

    /// Forgets the background, e.g. after the camera reconnects.
    pub fn reset(&mut self) {
        self.detector.reset();
    }

    /// The last observation, when gating is on.
    pub fn last_motion(&self) -> Option<Motion> {
        self.last_motion
    }

    /// Frames decided so far.
    pub fn frames(&self) -> u64 {
        self.policy.frames()
    }

    /// Inferences skipped so far.
    pub fn skipped(&self) -> u64 {
        self.policy.skipped()
    }
}

#[cfg(test)]
mod tests;
