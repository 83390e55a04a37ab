//! [`SsdDetector`]: a MobileNet-SSD `.tflite` on the runtime crate's [`Model`] (LiteRT or TFLite), with its decoder and
//! labels, behind the [`Detector`] trait.

use super::anchors::AnchorSpec;
use super::config::{DetectorConfig, ModelConfig};
use super::labels::{LabelError, Labels};
use super::ssd::{DecodeParams, OutputView, Outputs, SsdDecoder, SsdError, Style};
use super::{Detections, Detector};
use picket_runtime::{ElementType, Model, RuntimeError, TensorInfo};
use std::path::{Path, PathBuf};

/// Why detection could not be set up or run.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error(transparent)]
    Labels(#[from] LabelError),
    #[error(transparent)]
    Tiles(#[from] super::tiles::TileError),
    #[error("cropping a tile: {cause}")]
    TileCrop {
        cause: picket_image::resize::ResizeError,
    },
    #[error("model {}: {cause}", path.display())]
    Decode { path: PathBuf, cause: SsdError },
    #[error("model {}: it has {count} inputs; picket feeds exactly one image", path.display())]
    InputCount { path: PathBuf, count: usize },
    #[error(
        "model {}: input {shape:?} {dtype} is not supported; picket feeds one [1,H,W,3] \
         tensor of uint8 RGB, or float32 RGB scaled to [-1,1]",
        path.display()
    )]
    UnsupportedInput {
        path: PathBuf,
        shape: Vec<usize>,
        dtype: ElementType,
    },
}

/// How the RGB bytes reach the model's input tensor.
#[derive(Debug)]
enum Input {
    /// uint8 input: the caller writes straight into the tensor.
    Direct,
    /// float32 input: the caller writes into this buffer; each frame is converted to
    /// `(v − 127.5) / 127.5`, the usual MobileNet normalisation.
    Float(Vec<u8>),
}

/// A MobileNet-SSD detector.
///
/// Build it once with [`SsdDetector::new`]; each frame, fill [`Detector::input`] with the
/// resized RGB frame and call [`Detector::detect`]. After the first frame nothing allocates.
#[derive(Debug)]
pub struct SsdDetector {
    interp: Model,
    decoder: SsdDecoder,
    labels: Labels,
    input: Input,
    width: u32,
    height: u32,
}

impl SsdDetector {
    /// Loads the model and labels that `model` names (the shipped ones when unset) and checks
    /// they fit together and fit an SSD style.
    pub fn new(model: &ModelConfig, det: &DetectorConfig) -> Result<Self, DetectError> {
        let (path, labels_path) = super::model_paths(model);
        let interp = Model::from_file(&path, &model.runtime_options())?;
        let labels = Labels::load(&labels_path)?;
        let classes = det
            .classes
            .iter()
            .map(|c| labels.index_of(c).map(|i| i as u16))
            .collect::<Result<Vec<_>, _>>()?;
        let params = DecodeParams {
            classes,
            threshold: det.threshold,
            nms_iou: det.nms_iou,
            max_detections: det.max_detections,
        };
        let outputs: Vec<TensorInfo> = interp.outputs().cloned().collect();
        let decoder = SsdDecoder::new(&outputs, &labels, params, &AnchorSpec::default()).map_err(
            |source| match source {
                SsdError::Labels(l) => DetectError::Labels(l),
                cause => DetectError::Decode {
                    path: path.clone(),
                    cause,
                },
            },
        )?;
        let (input, width, height) = input_kind(&interp, &path)?;
        Ok(Self {
            interp,
            decoder,
            labels,
            input,
            width,
            height,
        })
    }

    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    pub fn style(&self) -> Style {
        self.decoder.style()
    }

    pub fn interpreter(&self) -> &Model {
        &self.interp
    }

    /// Runs inference on the current input (the first half of [`Detector::detect`]).
    pub fn invoke(&mut self) -> Result<(), DetectError> {
        if let Input::Float(staging) = &self.input {
            let t = self.interp.input_mut::<f32>(0)?;
            for (d, &s) in t.iter_mut().zip(staging.iter()) {
                *d = (f32::from(s) - 127.5) / 127.5;
            }
        }
        self.interp.invoke()?;
        Ok(())
    }

    /// Decodes the outputs of the last [`invoke`](Self::invoke) (the second half).
    pub fn decode(&mut self, out: &mut Detections) -> Result<(), DetectError> {
        let view = InterpOutputs(&self.interp);
        self.decoder
            .decode(&view, out)
            .map_err(|cause| DetectError::Decode {
                path: self.interp.path().to_owned(),
                cause,
            })
    }
}

fn input_kind(interp: &Model, path: &Path) -> Result<(Input, u32, u32), DetectError> {
    let inputs: Vec<&TensorInfo> = interp.inputs().collect();
    let unsupported = |t: &TensorInfo| DetectError::UnsupportedInput {
        path: path.to_owned(),
        shape: t.dims.clone(),
        dtype: t.dtype,
    };
    let [t] = inputs[..] else {
        return Err(DetectError::InputCount {
            path: path.to_owned(),
            count: inputs.len(),
        });
    };
    let (h, w) = match t.dims[..] {
        [1, h, w, 3] if h > 0 && w > 0 => (h, w),
        _ => return Err(unsupported(t)),
    };
    let input = match t.dtype {
        ElementType::UInt8 => Input::Direct,
        ElementType::Float32 => Input::Float(vec![0; h * w * 3]),
        _ => return Err(unsupported(t)),
    };
    Ok((input, w as u32, h as u32))
}

struct InterpOutputs<'a>(&'a Model);

impl Outputs for InterpOutputs<'_> {
    fn output(&self, index: usize) -> OutputView<'_> {
        let Some(info) = self.0.output_info(index) else {
            return OutputView::F32(&[]);
        };
        // The decoder checked the types when it was built; an empty view is refused by its
        // length check should that ever not hold.
        match info.dtype {
            ElementType::Int8 => OutputView::I8(self.0.output(index).unwrap_or(&[]), info.quant),
            ElementType::UInt8 => OutputView::U8(self.0.output(index).unwrap_or(&[]), info.quant),
            _ => OutputView::F32(self.0.output(index).unwrap_or(&[])),
        }
    }
}

impl Detector for SsdDetector {
    fn input_size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn input(&mut self) -> &mut [u8] {
        match &mut self.input {
            Input::Direct => self.interp.input_mut::<u8>(0).unwrap_or_default(),
            Input::Float(staging) => staging,
        }
    }

    fn detect(&mut self, out: &mut Detections) -> Result<(), DetectError> {
        self.invoke()?;
        self.decode(out)
    }
}

/// One line about the library and model, for logs and `picket bench`.
pub fn describe(d: &SsdDetector) -> String {
    let i = d.interpreter();
    let ins: Vec<String> = i
        .inputs()
        .map(|t| format!("{} {:?} {}", t.name, t.dims, t.dtype))
        .collect();
    let outs: Vec<String> = i
        .outputs()
        .map(|t| {
            format!(
                "{} {:?} {} (scale {}, zero point {})",
                t.name, t.dims, t.dtype, t.quant.scale, t.quant.zero_point
            )
        })
        .collect();
    format!(
        "{}, XNNPACK {}, style {:?}\n  input  {}\n  output {}",
        i.runtime(),
        if i.xnnpack() { "on" } else { "off" },
        d.style(),
        ins.join("; "),
        outs.join("\n  output ")
    )
}
