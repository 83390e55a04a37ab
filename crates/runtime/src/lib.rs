//! Picket's model runtime: a small, safe wrapper of an on-device inference library, loaded once
//! and then run on the hot thread without allocating.
//!
//! - [`litert`]: LiteRT 2.3's CompiledModel C API (`libLiteRt.so`, opened at run time, pinned to
//!   one build); [`CompiledModel`] is a model compiled by it;
//! - [`tflite`]: the stable TfLite C API (`libtensorflowlite_c.so`, TF 2.9, linked; or a
//!   library exporting the same API swapped in at run time); [`Interpreter`] is a model loaded
//!   into it;
//! - [`Model`] is either, chosen by [`Runtime`] (`auto`: LiteRT when its library loads, else
//!   the TfLite C API);
//! - the types at the root name no backend: [`Options`], [`TensorInfo`], [`ElementType`],
//!   [`Quant`], [`RuntimeError`].
//!
//! The model file is mapped, not read (`model_file.rs`, for why).
//!
//! Linking: this crate's build script finds the library (`$PICKET_TFLITE_DIR`, or the cache that
//! `scripts/bootstrap.sh` fills), links it, and gives its directory to the packages that depend
//! on this one as `DEP_TENSORFLOWLITE_C_DIR` (`links = "tensorflowlite_c"`). The appliance's build
//! script turns that into its binaries' RUNPATH; this crate's own test binaries get the directory
//! as their rpath, so `cargo test -p picket-runtime` needs no environment.

pub mod litert;
mod litert_ffi;
mod model;
mod model_file;
mod tensor;
pub mod tflite;
mod tflite_ffi;

pub use litert::CompiledModel;
pub use model::{Model, Runtime};
pub use tensor::{Element, ElementType, Quant, TensorInfo};
pub use tflite::Interpreter;

use std::path::PathBuf;

/// Why a model could not be loaded or run. Each names the model file and carries TFLite's own
/// message where it gave one.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("model {}: {cause}", path.display())]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("model {}: not a TFLite model: {reason}", path.display())]
    NotAModel { path: PathBuf, reason: String },
    #[error("model {}: the interpreter could not be created: {message}", path.display())]
    Create { path: PathBuf, message: String },
    #[error("model {}: the XNNPACK delegate could not be created", path.display())]
    Delegate { path: PathBuf },
    #[error("model {}: allocating tensors failed: {message}", path.display())]
    Allocate { path: PathBuf, message: String },
    #[error("model {}: inference failed: {message}", path.display())]
    Invoke { path: PathBuf, message: String },
    #[error("model {}: tensor `{tensor}` holds {actual}, not {expected}", path.display())]
    TensorType {
        path: PathBuf,
        tensor: String,
        expected: ElementType,
        actual: ElementType,
    },
    #[error("model {}: it has no {kind} tensor {index}", path.display())]
    NoTensor {
        path: PathBuf,
        kind: &'static str,
        index: usize,
    },
    /// `runtime = "litert"` and the LiteRT library cannot be used.
    #[error("{cause}")]
    Library { cause: litert::LoadError },
    #[error("model {}: LiteRT's {call} failed: {status}", path.display())]
    LiteRt {
        path: PathBuf,
        call: &'static str,
        status: String,
    },
}

/// How to build a model's interpreter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// CPU threads for the interpreter and the delegate; at least 1.
    pub threads: u16,
    /// Run supported ops, int8 included, on the XNNPACK delegate.
    pub xnnpack: bool,
    /// Which library runs the model.
    pub runtime: Runtime,
    /// LiteRT only: XNNPACK's packed weights in this file, written on the first start and
    /// mapped on the next ones (file-backed pages the kernel can reclaim, not anonymous ones).
    pub weight_cache: Option<PathBuf>,
    /// LiteRT only: the library to open instead of `libLiteRt.so` found by the RUNPATH.
    pub litert_library: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            threads: 1,
            xnnpack: true,
            runtime: Runtime::Auto,
            weight_cache: None,
            litert_library: None,
        }
    }
}
