//! The `[model]` and `[detector]` config sections, with their defaults and validation.

use crate::config::{join, Report, Validate};
use serde::Deserialize;
use std::path::PathBuf;

/// `[model]`: which model to run, and how.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// The `.tflite` file. Unset means the shipped model (see [`super::shipped_model`]).
    pub path: Option<PathBuf>,
    /// The label map, one class name a line. Required when `path` is set; unset means the
    /// shipped label map.
    pub labels: Option<PathBuf>,
    /// CPU threads for inference.
    pub threads: u16,
    /// Run the model on the XNNPACK delegate (several times faster for int8 models).
    pub xnnpack: bool,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            path: None,
            labels: None,
            threads: 2,
            xnnpack: true,
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
    }
}

/// `[detector]`: what counts as a detection.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectorConfig {
    /// Label names of the classes to report (case-insensitive).
    pub classes: Vec<String>,
    /// Minimum score, `0 < threshold ≤ 1`. Person scores of the shipped model on real footage
    /// are about 0.4 to 0.65.
    pub threshold: f32,
    /// Overlap (IoU) above which the weaker of two boxes of a class is dropped, `0 < x ≤ 1`.
    pub nms_iou: f32,
    /// At most this many detections a frame, best first.
    pub max_detections: usize,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            classes: vec!["Person".to_owned()],
            threshold: 0.4,
            nms_iou: 0.4,
            max_detections: 50,
        }
    }
}

pub const MAX_DETECTIONS: usize = 1000;

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
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{parse, Config};

    /// The located problems of `text`, as `line:col: path`.
    fn problems(text: &str) -> Vec<String> {
        let e = parse::<Config>(text, "p.toml").unwrap_err();
        e.problems()
            .iter()
            .map(|p| {
                format!(
                    "{}:{}: {}",
                    p.line,
                    p.column,
                    p.path.as_deref().unwrap_or("-")
                )
            })
            .collect()
    }

    #[test]
    fn defaults_are_valid() {
        let c: Config = parse("", "p.toml").unwrap();
        assert_eq!(c.model.threads, 2);
        assert!(c.model.xnnpack);
        assert_eq!(c.detector.classes, ["Person"]);
        assert_eq!(c.detector.threshold, 0.4);
        assert_eq!(c.detector.nms_iou, 0.4);
        let c: Config = parse(
            "[detector]\nthreshold = 0.55\nclasses = [\"person\", \"car\"]\n",
            "p",
        )
        .unwrap();
        assert_eq!(c.detector.threshold, 0.55);
    }

    #[test]
    fn each_detector_error_is_located() {
        let text = "[detector]\nthreshold = 1.5\nnms_iou = 0.0\nmax_detections = 0\nclasses = []\n";
        assert_eq!(
            problems(text),
            [
                "5:11: detector.classes",
                "2:13: detector.threshold",
                "3:11: detector.nms_iou",
                "4:18: detector.max_detections"
            ]
        );
        let text = "[detector]\nclasses = [\"Person\", \"\", \"person\"]\n";
        assert_eq!(
            problems(text),
            ["2:22: detector.classes.1", "2:26: detector.classes.2"]
        );
        let e = parse::<Config>("[detector]\nthreshold = -0.1\n", "p.toml").unwrap_err();
        assert!(
            e.to_string()
                .contains("p.toml:2:13: detector.threshold: must be in (0, 1], not -0.1"),
            "{e}"
        );
    }

    #[test]
    fn each_model_error_is_located() {
        let text = "[model]\nthreads = 0\npath = \"no/such/model.tflite\"\n";
        let p = problems(text);
        assert_eq!(
            p,
            ["2:11: model.threads", "3:8: model.path", "3:8: model.path"]
        );
        let e = parse::<Config>(text, "p.toml").unwrap_err().to_string();
        assert!(e.contains("no model file at no/such/model.tflite"), "{e}");
        assert!(e.contains("set `labels`"), "{e}");
        let text = "[model]\nlabels = \"no/such/labels.txt\"\n";
        assert_eq!(problems(text), ["2:10: model.labels"]);
        // Unknown keys and wrong types stop at the parser, located too.
        assert_eq!(problems("[model]\nthreds = 2\n")[0], "2:1: -");
        assert_eq!(problems("[detector]\nthreshold = \"high\"\n")[0], "2:13: -");
    }
}
