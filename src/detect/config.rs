//! The `[model]` and `[detector]` config sections, with their defaults and validation.

use super::tiles::{TileSpec, MAX_OVERLAP};
use crate::validate::{join, Report, Validate};
use picket_runtime::{litert, Options, Runtime};
use serde::Deserialize;
use std::path::PathBuf;

/// `[model]`: which model to run, and how.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// The `.tflite` file. Unset means the shipped model (see [`super::shipped_models_dir`]).
    pub path: Option<PathBuf>,
    /// The label map, one class name a line. Required when `path` is set; unset means the
    /// shipped label map.
    pub labels: Option<PathBuf>,
    /// CPU threads for inference.
    pub threads: u16,
    /// Run the model on the XNNPACK delegate (several times faster for int8 models).
    pub xnnpack: bool,
    /// Which library runs the model: `auto` (LiteRT when its library loads, else the TfLite C
    /// API), `litert` or `tflite`.
    pub runtime: RuntimeChoice,
    /// LiteRT only: a file for XNNPACK's packed weights, written on the first start and mapped
    /// on the next (faster start; file-backed pages instead of anonymous ones).
    pub weight_cache: Option<PathBuf>,
    /// LiteRT only: the `libLiteRt.so` to open, when it is not beside the binary or in
    /// `../lib/picket`.
    pub litert_library: Option<PathBuf>,
}

/// `[model] runtime`, as written in the config (and in `--runtime`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeChoice {
    #[default]
    Auto,
    Litert,
    Tflite,
}

impl ModelConfig {
    /// The runtime crate's options for this section.
    pub fn runtime_options(&self) -> Options {
        Options {
            threads: self.threads.max(1),
            xnnpack: self.xnnpack,
            runtime: match self.runtime {
                RuntimeChoice::Auto => Runtime::Auto,
                RuntimeChoice::Litert => Runtime::LiteRt,
                RuntimeChoice::Tflite => Runtime::TfLite,
            },
            weight_cache: self.weight_cache.clone(),
            litert_library: self.litert_library.clone(),
        }
    }
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            path: None,
            labels: None,
            threads: 2,
            xnnpack: true,
            runtime: RuntimeChoice::Auto,
            weight_cache: None,
            litert_library: None,
        }
    }
}

pub const MAX_THREADS: u16 = 16;

impl Validate for ModelConfig {
    fn validate(&self, at: &str, report: &mut Report) {
        if !(1..=MAX_THREADS).contains(&self.threads) {
            report.error(
                join(at, "threads"),
                format!("must be between 1 and {MAX_THREADS}, not {}", self.threads),
            );
        }
        if let Some(p) = &self.path {
            if !p.is_file() {
                report.error(
                    join(at, "path"),
                    format!("no model file at {}", p.display()),
                );
            }
            if self.labels.is_none() {
                report.error(
                    join(at, "path"),
                    "a model of your own needs its label map too: set `labels`",
                );
            }
        }
        if let Some(p) = &self.labels {
            if !p.is_file() {
                report.error(
                    join(at, "labels"),
                    format!("no label map at {}", p.display()),
                );
            }
        }
        self.validate_runtime(at, report);
    }
}

impl ModelConfig {
    /// `runtime = "litert"` must find a usable library now, not at the first frame; the weight
    /// cache's path must fit LiteRT's option text and its directory exist.
    fn validate_runtime(&self, at: &str, report: &mut Report) {
        if self.runtime == RuntimeChoice::Litert {
            if let Err(e) = litert::open(self.litert_library.as_deref()) {
                report.error(join(at, "runtime"), format!("\"litert\": {e}"));
            }
        }
        if let Some(p) = &self.weight_cache {
            let text = p.to_string_lossy();
            if text.contains(['"', '\n', '\0']) {
                report.error(
                    join(at, "weight_cache"),
                    "the path cannot hold a double quote or a newline",
                );
            } else if !p
                .parent()
                .is_some_and(|d| d.as_os_str().is_empty() || d.is_dir())
            {
                report.error(
                    join(at, "weight_cache"),
                    format!("no directory for the weight cache at {}", p.display()),
                );
            }
            if self.runtime == RuntimeChoice::Tflite {
                report.warn(
                    join(at, "weight_cache"),
                    "only LiteRT uses the weight cache; the TfLite C API ignores it",
                );
            }
        }
    }
}

/// `[detector]`: what counts as a detection.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectorConfig {
    /// Label names of the classes to report (case-insensitive).
    pub classes: Vec<String>,
    /// Minimum score, `0 < threshold ≤ 1`. The tracker's score thresholds follow it unless set
    /// (see `[tracker]`). Default 0.35: the shipped model's true person detections score
    /// 0.41–0.61 (10th to 99th percentile); below 0.35 it finds hardly any
    /// more people (recall 0.785 → 0.791 at 0.30) for 1.7× the false ones (`docs/design/detection.md`).
    pub threshold: f32,
    /// Overlap (IoU) above which the weaker of two boxes of a class is dropped, `0 < x ≤ 1`.
    pub nms_iou: f32,
    /// At most this many detections a frame, best first (after the merge across tiles).
    pub max_detections: usize,
    /// `"auto"` (default), `"1x1"` (the whole frame only, as before tiles), or `"COLSxROWS"`:
    /// overlapping crops of the frame at near-native scale, merged (`docs/design/detection.md`).
    /// `"auto"` tiles only frames whose short side is ≥ 1.5× the model's input, in two.
    pub tiles: TileSpec,
    /// How much neighbouring tiles overlap, as a fraction of a tile, `0 ≤ x ≤ 0.5`; enough
    /// for a person to lie whole in one of them.
    pub tile_overlap: f32,
    /// Also run the whole frame on tiled frames and merge it in (people taller than a tile).
    /// Default off: on PETS09-S2L1 the whole frame's coarse boxes, merged in, cost AP@0.5
    /// (0.892 without, 0.848 with, frames 201–400) for a third inference a frame.
    pub tile_whole_frame: bool,
    /// Where to look: `"frame"` (default: the whole frame, or `[source] roi`), or `"zones"`:
    /// only the bounding box of the zones and lines, widened by `roi_margin`, at the scale it
    /// allows (tiled, when large enough, as a frame would be).
    pub roi: RoiMode,
    /// How far around the zones and lines to look with `roi = "zones"`, as a fraction of the
    /// frame on each side, `0 ≤ x ≤ 0.5`: people standing at a zone's far edge reach above it.
    pub roi_margin: f32,
}

/// `[detector] roi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoiMode {
    #[default]
    Frame,
    Zones,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            classes: vec!["Person".to_owned()],
            threshold: 0.35,
            nms_iou: 0.4,
            max_detections: 50,
            tiles: TileSpec::Auto,
            tile_overlap: 0.2,
            tile_whole_frame: false,
            roi: RoiMode::Frame,
            roi_margin: 0.1,
        }
    }
}

pub const MAX_DETECTIONS: usize = 1000;

impl DetectorConfig {
    /// Refuses a tile grid finer than a model input of `input` allows on `frame`-sized frames
    /// through `roi`, when both sizes are known before the first frame (a V4L2 camera's
    /// configured size, the shipped model). The pipeline checks again on the real frame.
    pub fn check_tiles(
        &self,
        at: &str,
        frame: (u32, u32),
        roi: Option<picket_geom::NormRect>,
        input: (u32, u32),
        report: &mut Report,
    ) {
        if frame.0 == 0 || frame.1 == 0 {
            return;
        }
        let region = match &roi {
            Some(r) => picket_image::resize::CropBox::from_roi(r, frame.0, frame.1),
            None => picket_image::resize::CropBox::full(frame.0, frame.1),
        };
        if region.width <= 0.0 || region.height <= 0.0 {
            return;
        }
        let grid = super::tiles::TileGrid::new(self.tiles, region, frame, input, self.tile_overlap);
        if let Err(e) = grid {
            let m = e.to_string();
            let m = m.strip_prefix("detector.tiles: ").unwrap_or(&m);
            report.error(join(at, "tiles"), m);
        }
    }
}

/// Checks `0 < v ≤ 1`; shared by the config and the command line.
pub fn check_fraction(v: f32) -> Result<(), String> {
    if v > 0.0 && v <= 1.0 {
        Ok(())
    } else {
        Err(format!("must be in (0, 1], not {v}"))
    }
}

impl Validate for DetectorConfig {
    fn validate(&self, at: &str, report: &mut Report) {
        if self.classes.is_empty() {
            report.error(join(at, "classes"), "must name at least one class");
        }
        for (i, c) in self.classes.iter().enumerate() {
            if c.trim().is_empty() {
                report.error(
                    join(at, format!("classes.{i}")),
                    "a class name cannot be empty",
                );
            } else if self.classes[..i].iter().any(|d| d.eq_ignore_ascii_case(c)) {
                report.error(
                    join(at, format!("classes.{i}")),
                    format!("`{c}` is listed twice"),
                );
            }
        }
        if let Err(m) = check_fraction(self.threshold) {
            report.error(join(at, "threshold"), m);
        }
        if let Err(m) = check_fraction(self.nms_iou) {
            report.error(join(at, "nms_iou"), m);
        }
        if !(1..=MAX_DETECTIONS).contains(&self.max_detections) {
            report.error(
                join(at, "max_detections"),
                format!(
                    "must be between 1 and {MAX_DETECTIONS}, not {}",
                    self.max_detections
                ),
            );
        }
        if !(0.0..=0.5).contains(&self.roi_margin) {
            report.error(
                join(at, "roi_margin"),
                format!("must be between 0 and 0.5, not {}", self.roi_margin),
            );
        }
        if !(0.0..=MAX_OVERLAP).contains(&self.tile_overlap) {
            report.error(
                join(at, "tile_overlap"),
                format!(
                    "must be between 0 and {MAX_OVERLAP}, not {}",
                    self.tile_overlap
                ),
            );
        }
    }
}
