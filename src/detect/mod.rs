//! Finding people: the [`Detector`] trait and the detections it fills.
//!
//! A detector owns its model's input buffer. The preprocess stage writes the resized RGB frame
//! straight into [`Detector::input`], then [`Detector::detect`] runs inference and decodes into a
//! caller-owned [`Detections`], whose storage is allocated once.
//!
//! - [`picket_runtime`] runs the model: the project's own wrapper of the TfLite C API;
//! - [`ssd`]: decoding both SSD output styles, with [`anchors`] and [`nms`];
//! - [`ap`]: scoring detections against labelled boxes (`picket eval-detect`);
//! - [`labels`]: label maps; [`config`]: the `[model]` and `[detector]` sections;
//! - [`detector`]: [`SsdDetector`], the model, decoder and labels together;
//! - [`tiles`]: `[detector] tiles`, the grid of overlapping crops and the merge across them;
//!   [`tiled`]: [`Tiler`], which runs a detector over them.

pub mod anchors;
pub mod ap;
pub mod config;
pub mod detector;
pub mod labels;
pub mod nms;
pub mod ssd;
pub mod tiled;
pub mod tiles;

pub use detector::{DetectError, SsdDetector};
pub use tiled::Tiler;

use picket_geom::NormRect;
use std::path::{Path, PathBuf};

/// A model that finds objects in one RGB image.
///
/// The caller owns the frame loop: write the frame, resized to [`Detector::input_size`], as
/// packed RGB888 rows into [`Detector::input`], then call [`Detector::detect`]. Both run on the
/// hot thread and allocate nothing after the first frame.
pub trait Detector {
    /// The model's input width and height in pixels.
    fn input_size(&self) -> (u32, u32);
    /// The input buffer: `width × height × 3` bytes of RGB.
    fn input(&mut self) -> &mut [u8];
    /// Runs the model on the input and replaces `out` with what it found, best first, in
    /// normalised coordinates of the input image.
    fn detect(&mut self, out: &mut Detections) -> Result<(), DetectError>;
}

/// The shipped model's and label map's file names, under `models/`.
pub const SHIPPED_MODEL: &str = "ssd_mobilenetv2_oidv4_int8_u8in.tflite";
pub const SHIPPED_LABELS: &str = "object_detection_oidv4_labelmap.txt";
/// The shipped model's input width and height.
pub const SHIPPED_INPUT: (u32, u32) = (300, 300);
/// The best score the shipped model gives a person on real footage: its highest true
/// detection on PETS09-S2L1 frames 1–200 (whole 768×576 frames) scored 0.623, and 99 in 100
/// score below 0.61. A tracker that needs more never starts a track (`docs/design/detection.md`).
pub const SHIPPED_PERSON_CEILING: f32 = 0.62;

/// Where the shipped `models/` directory is: the first that exists of
/// 1. `../share/picket/models` beside the binary (a package installs `/usr/bin/picket` and
///    `/usr/share/picket/models/`);
/// 2. `models` under the current directory (a checkout);
/// 3. `models` in the source tree the binary was built from (`cargo run`, tests).
pub fn shipped_models_dir() -> PathBuf {
    let beside_exe = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(|d| d.join("../share/picket/models")));
    let candidates = [
        beside_exe,
        Some(PathBuf::from("models")),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("models")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|d| d.join(SHIPPED_MODEL).is_file())
        .unwrap_or_else(|| PathBuf::from("/usr/share/picket/models"))
}

/// The model and label-map paths a `[model]` section means, filling in the shipped ones.
pub fn model_paths(m: &config::ModelConfig) -> (PathBuf, PathBuf) {
    let dir = shipped_models_dir();
    let model = m.path.clone().unwrap_or_else(|| dir.join(SHIPPED_MODEL));
    let labels = m.labels.clone().unwrap_or_else(|| dir.join(SHIPPED_LABELS));
    (model, labels)
}

/// One detected object, in normalised frame coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Detection {
    pub bbox: NormRect,
    /// Confidence in `0..=1`, after the sigmoid.
    pub score: f32,
    /// Index into the model's label map.
    pub class: u16,
}

/// A reusable list of detections with a fixed capacity.
///
/// `push` beyond the capacity drops the detection and counts it, so a pathological frame cannot
/// make the hot path allocate.
#[derive(Debug, Clone)]
pub struct Detections {
    items: Vec<Detection>,
    overflow: u64,
}

impl Detections {
    pub fn with_capacity(cap: usize) -> Self {
        Self {
            items: Vec::with_capacity(cap),
            overflow: 0,
        }
    }

    pub fn clear(&mut self) {
        self.items.clear();
    }

    /// Adds `d`; returns false (and counts it) when full.
    pub fn push(&mut self, d: Detection) -> bool {
        if self.items.len() == self.items.capacity() {
            self.overflow += 1;
            return false;
        }
        self.items.push(d);
        true
    }

    pub fn as_slice(&self) -> &[Detection] {
        &self.items
    }

    pub fn as_mut_slice(&mut self) -> &mut [Detection] {
        &mut self.items
    }

    /// Keeps only the detections for which `keep` is true, in order.
    pub fn retain(&mut self, keep: impl FnMut(&Detection) -> bool) {
        self.items.retain(keep);
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.items.capacity()
    }

    /// Detections dropped because the list was full, since creation.
    pub fn overflowed(&self) -> u64 {
        self.overflow
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_past_capacity_is_counted_not_grown() {
        let mut d = Detections::with_capacity(2);
        let cap = d.capacity();
        for _ in 0..cap {
            assert!(d.push(Detection::default()));
        }
        assert!(!d.push(Detection::default()));
        assert_eq!(d.len(), cap);
        assert_eq!(d.capacity(), cap);
        assert_eq!(d.overflowed(), 1);
    }
}
