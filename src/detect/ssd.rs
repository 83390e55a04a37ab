//! SSD output decoding, for both output styles a MobileNet-SSD `.tflite` comes in:
//!
//! - **Raw** (the shipped model): box encodings `[1,N,4]` as (ty, tx, th, tw) and class logits
//!   `[1,N,C]`, decoded against generated [anchors](super::anchors), with a sigmoid, the
//!   threshold and per-class NMS done here.
//! - **Post-processed** (a `TFLite_Detection_PostProcess` model such as COCO `detect.tflite`):
//!   boxes `[1,N,4]` as (ymin, xmin, ymax, xmax), classes `[1,N]`, scores `[1,N]`, count `[1]`,
//!   already suppressed by the model.
//!
//! The style is told from the output tensors' shapes and names, never from their position.
//! Quantized outputs are dequantized with each tensor's own scale and zero point. All buffers
//! are allocated in [`SsdDecoder::new`]; [`SsdDecoder::decode`] allocates nothing.

use super::anchors::{Anchor, AnchorSpec};
use super::labels::{LabelError, Labels};
use super::nms::{self, Candidate};
use super::{Detection, Detections};
use picket_geom::NormRect;
use picket_runtime::{ElementType, Quant, TensorInfo};

/// Box-encoding scales of the raw style: x and y divide by 10, w and h by 5.
const XY_SCALE: f32 = 10.0;
const WH_SCALE: f32 = 5.0;

/// Why a model's outputs cannot be decoded.
#[derive(Debug, thiserror::Error)]
pub enum SsdError {
    #[error(
        "its outputs fit neither SSD style (raw box encodings + class logits, or the four \
         TFLite_Detection_PostProcess outputs): {outputs}"
    )]
    NeitherStyle { outputs: String },
    #[error("cannot tell which output is {what}: {outputs}")]
    Ambiguous { what: &'static str, outputs: String },
    #[error("it predicts {boxes} boxes, but the SSD anchor settings give {anchors} anchors")]
    AnchorCount { boxes: usize, anchors: usize },
    #[error("output `{tensor}` holds {dtype}; only float32, int8 and uint8 outputs are supported")]
    UnsupportedType { tensor: String, dtype: ElementType },
    #[error("output {index} holds {len} values, expected {want}")]
    ShortOutput {
        index: usize,
        len: usize,
        want: usize,
    },
    #[error(transparent)]
    Labels(#[from] LabelError),
}

/// The values of one output tensor, typed, with its quantization.
#[derive(Debug, Clone, Copy)]
pub enum OutputView<'a> {
    F32(&'a [f32]),
    I8(&'a [i8], Quant),
    U8(&'a [u8], Quant),
}

impl OutputView<'_> {
    pub fn len(&self) -> usize {
        match self {
            Self::F32(v) => v.len(),
            Self::I8(v, _) => v.len(),
            Self::U8(v, _) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element `i`, dequantized: `scale · (q − zero_point)`.
    #[inline]
    fn at(&self, i: usize) -> f32 {
        match *self {
            Self::F32(v) => v[i],
            Self::I8(v, q) => (f32::from(v[i]) - q.zero_point as f32) * q.scale,
            Self::U8(v, q) => (f32::from(v[i]) - q.zero_point as f32) * q.scale,
        }
    }
}

/// Where a decoder reads a model's outputs from, by output index.
pub trait Outputs {
    fn output(&self, index: usize) -> OutputView<'_>;
}

/// What to keep.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeParams {
    /// Label-map indices of the classes to report.
    pub classes: Vec<u16>,
    /// Minimum score (after the sigmoid) in `0..=1`.
    pub threshold: f32,
    /// Boxes of one class overlapping a better one by more than this IoU are dropped.
    pub nms_iou: f32,
    pub max_detections: usize,
}

/// Which output is which, found once from the tensors' shapes and names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Raw {
        boxes: usize,
        logits: usize,
        anchors: usize,
        classes: usize,
    },
    PostProcessed {
        boxes: usize,
        classes: usize,
        scores: usize,
        count: usize,
        rows: usize,
    },
}

/// Decodes one model's outputs into detections, reusing its buffers frame after frame.
#[derive(Debug)]
pub struct SsdDecoder {
    style: Style,
    anchors: Vec<Anchor>,
    cands: Vec<Candidate>,
    params: DecodeParams,
    /// Added to a post-processed class number to get its label index (1 when the label map
    /// starts with a background placeholder, as COCO's does).
    label_offset: i64,
}

fn describe(outputs: &[TensorInfo]) -> String {
    let v: Vec<String> = outputs
        .iter()
        .map(|t| format!("`{}` {:?} {}", t.name, t.dims, t.dtype))
        .collect();
    v.join(", ")
}

/// Finds the style of a model from its output tensors.
pub fn classify(outputs: &[TensorInfo]) -> Result<Style, SsdError> {
    for t in outputs {
        if !matches!(
            t.dtype,
            ElementType::Float32 | ElementType::Int8 | ElementType::UInt8
        ) {
            return Err(SsdError::UnsupportedType {
                tensor: t.name.clone(),
                dtype: t.dtype,
            });
        }
    }
    let neither = || SsdError::NeitherStyle {
        outputs: describe(outputs),
    };
    let name = |i: usize| outputs[i].name.to_ascii_lowercase();
    let rows3: Vec<usize> = (0..outputs.len())
        .filter(|&i| outputs[i].dims.len() == 3 && outputs[i].dims[0] == 1)
        .collect();
    if outputs.len() == 2 && rows3.len() == 2 {
        let (a, b) = (&outputs[0].dims, &outputs[1].dims);
        if a[1] != b[1] || a[1] == 0 {
            return Err(neither());
        }
        // The box encodings have 4 values a row; if both do, the names decide.
        let boxes = match (a[2] == 4, b[2] == 4) {
            (true, false) => 0,
            (false, true) => 1,
            (true, true) => match (name(0).contains("box"), name(1).contains("box")) {
                (true, false) => 0,
                (false, true) => 1,
                _ => {
                    return Err(SsdError::Ambiguous {
                        what: "the box encodings",
                        outputs: describe(outputs),
                    })
                }
            },
            (false, false) => return Err(neither()),
        };
        let logits = 1 - boxes;
        return Ok(Style::Raw {
            boxes,
            logits,
            anchors: outputs[boxes].dims[1],
            classes: outputs[logits].dims[2],
        });
    }
    if outputs.len() == 4 && rows3.len() == 1 && outputs[rows3[0]].dims[2] == 4 {
        let boxes = rows3[0];
        let rows = outputs[boxes].dims[1];
        let count = (0..4).find(|&i| outputs[i].len() == 1 && i != boxes);
        let per_row: Vec<usize> = (0..4)
            .filter(|&i| i != boxes && outputs[i].dims == [1, rows])
            .collect();
        let (Some(count), &[p, q]) = (count, &per_row[..]) else {
            return Err(neither());
        };
        // Names first ("…classes", "…scores"); then TFLite_Detection_PostProcess's own
        // naming, where `:1` is the classes and `:2` the scores.
        let is_classes = |i: usize| {
            let n = name(i);
            if n.contains("class") {
                Some(true)
            } else if n.contains("score") {
                Some(false)
            } else if n.ends_with(":1") {
                Some(true)
            } else if n.ends_with(":2") {
                Some(false)
            } else {
                None
            }
        };
        let (classes, scores) = match (is_classes(p), is_classes(q)) {
            (Some(true), Some(false) | None) | (None, Some(false)) => (p, q),
            (Some(false), Some(true) | None) | (None, Some(true)) => (q, p),
            _ => {
                return Err(SsdError::Ambiguous {
                    what: "the classes and which the scores",
                    outputs: describe(outputs),
                })
            }
        };
        return Ok(Style::PostProcessed {
            boxes,
            classes,
            scores,
            count,
            rows,
        });
    }
    Err(neither())
}

impl SsdDecoder {
    /// Prepares to decode a model with these outputs. `labels` must hold one name per class of
    /// a raw-style model; `params.classes` are label indices.
    pub fn new(
        outputs: &[TensorInfo],
        labels: &Labels,
        params: DecodeParams,
        anchors: &AnchorSpec,
    ) -> Result<Self, SsdError> {
        let style = classify(outputs)?;
        let (anchors, cap, label_offset) = match style {
            Style::Raw {
                anchors: n,
                classes,
                ..
            } => {
                labels.expect_count(classes)?;
                let a = anchors.generate();
                if a.len() != n {
                    return Err(SsdError::AnchorCount {
                        boxes: n,
                        anchors: a.len(),
                    });
                }
                (a, n * params.classes.len(), 0)
            }
            Style::PostProcessed { rows, .. } => {
                (Vec::new(), rows, i64::from(labels.has_background()))
            }
        };
        Ok(Self {
            style,
            anchors,
            cands: Vec::with_capacity(cap),
            params,
            label_offset,
        })
    }

    pub fn style(&self) -> Style {
        self.style
    }

    pub fn params(&self) -> &DecodeParams {
        &self.params
    }

    /// Decodes the current outputs into `out` (cleared first), best first.
    pub fn decode(&mut self, o: &impl Outputs, out: &mut Detections) -> Result<(), SsdError> {
        out.clear();
        self.cands.clear();
        match self.style {
            Style::Raw {
                boxes,
                logits,
                anchors,
                classes,
            } => {
                let (b, l) = (o.output(boxes), o.output(logits));
                check_len(boxes, &b, anchors * 4)?;
                check_len(logits, &l, anchors * classes)?;
                self.raw(&b, &l, classes);
                let kept = nms::suppress(&mut self.cands, self.params.nms_iou);
                self.cands.truncate(kept);
            }
            Style::PostProcessed {
                boxes,
                classes,
                scores,
                count,
                rows,
            } => {
                let (b, c, s, n) = (
                    o.output(boxes),
                    o.output(classes),
                    o.output(scores),
                    o.output(count),
                );
                check_len(boxes, &b, rows * 4)?;
                check_len(classes, &c, rows)?;
                check_len(scores, &s, rows)?;
                check_len(count, &n, 1)?;
                self.post_processed(&b, &c, &s, n.at(0), rows);
            }
        }
        for c in self.cands.iter().take(self.params.max_detections) {
            out.push(Detection {
                bbox: c.bbox,
                score: c.score,
                class: c.class,
            });
        }
        Ok(())
    }

    fn raw(&mut self, b: &OutputView, l: &OutputView, classes: usize) {
        for (i, a) in self.anchors.iter().enumerate() {
            for &class in &self.params.classes {
                let c = usize::from(class);
                if c >= classes {
                    continue;
                }
                let score = sigmoid(l.at(i * classes + c));
                if score < self.params.threshold {
                    continue;
                }
                let (ty, tx, th, tw) = (
                    b.at(i * 4),
                    b.at(i * 4 + 1),
                    b.at(i * 4 + 2),
                    b.at(i * 4 + 3),
                );
                let cx = tx / XY_SCALE * a.w + a.cx;
                let cy = ty / XY_SCALE * a.h + a.cy;
                let w = (tw / WH_SCALE).exp() * a.w;
                let h = (th / WH_SCALE).exp() * a.h;
                self.cands.push(Candidate {
                    bbox: NormRect::from_center(cx, cy, w, h),
                    score,
                    class,
                    index: i as u32,
                });
            }
        }
    }

    fn post_processed(
        &mut self,
        b: &OutputView,
        c: &OutputView,
        s: &OutputView,
        n: f32,
        rows: usize,
    ) {
        let n = if n.is_finite() && n > 0.0 {
            (n as usize).min(rows)
        } else {
            0
        };
        for k in 0..n {
            let score = s.at(k);
            if score < self.params.threshold {
                continue;
            }
            let label = c.at(k).round() as i64 + self.label_offset;
            let Some(class) = u16::try_from(label)
                .ok()
                .filter(|l| self.params.classes.contains(l))
            else {
                continue;
            };
            // (ymin, xmin, ymax, xmax)
            let bbox = NormRect::new(
                b.at(k * 4 + 1),
                b.at(k * 4),
                b.at(k * 4 + 3),
                b.at(k * 4 + 2),
            );
            self.cands.push(Candidate {
                bbox,
                score,
                class,
                index: k as u32,
            });
        }
    }
}

fn check_len(index: usize, v: &OutputView, want: usize) -> Result<(), SsdError> {
    if v.len() < want {
        return Err(SsdError::ShortOutput {
            index,
            len: v.len(),
            want,
        });
    }
    Ok(())
}

#[inline]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

#[cfg(test)]
#[path = "ssd_tests.rs"]
mod tests;
