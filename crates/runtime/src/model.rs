//! [`Model`]: a model on whichever backend [`Runtime`] chose, behind one set of methods, so the
//! detector names no backend.
//!
//! The choice is made once, at load, and logged: `auto` takes LiteRT when its pinned library
//! opens (it is about 2–3× faster on x86_64), else the TfLite C API library, which is linked
//! and so always there. A LiteRT library that is present but refused (another build, a missing
//! symbol) is logged with its reason before falling back, so a board that should run LiteRT and
//! does not says why.

use crate::litert::{self, CompiledModel};
use crate::tflite::{self, Interpreter};
use crate::{Element, Options, RuntimeError, TensorInfo};
use std::fmt;
use std::path::Path;

/// Which library runs the model: `[model] runtime` in the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Runtime {
    /// LiteRT if its pinned library opens, else the TfLite C API.
    #[default]
    Auto,
    /// LiteRT's CompiledModel API, or an error.
    LiteRt,
    /// The TfLite C API library.
    TfLite,
}

impl Runtime {
    /// The config's spelling.
    pub fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::LiteRt => "litert",
            Self::TfLite => "tflite",
        }
    }
}

/// A model loaded into one of the backends, ready to run.
pub enum Model {
    LiteRt(CompiledModel),
    TfLite(Interpreter),
}

impl Model {
    /// Loads the model at `path` on the runtime `opts` asks for, and logs which one it is.
    pub fn from_file(path: &Path, opts: &Options) -> Result<Self, RuntimeError> {
        let lib = match opts.runtime {
            Runtime::TfLite => None,
            Runtime::LiteRt => Some(
                litert::open(opts.litert_library.as_deref())
                    .map_err(|cause| RuntimeError::Library { cause })?,
            ),
            Runtime::Auto => match litert::open(opts.litert_library.as_deref()) {
                Ok(lib) => Some(lib),
                Err(e) => {
                    log::info!("runtime auto: LiteRT not used: {e}");
                    None
                }
            },
        };
        let model = match lib {
            Some(lib) => Self::LiteRt(CompiledModel::from_file(lib, path, opts)?),
            None => Self::TfLite(Interpreter::from_file(path, opts)?),
        };
        log::info!(
            "runtime {}: {}, {} thread(s), XNNPACK {}",
            opts.runtime.name(),
            model.runtime(),
            opts.threads.max(1),
            if model.xnnpack() { "on" } else { "off" }
        );
        Ok(model)
    }

    /// Which library runs this model, for logs and `picket bench`: `LiteRT 2.3.0 (PATH)` or
    /// `TFLite 2.9.0 C API`.
    pub fn runtime(&self) -> String {
        match self {
            Self::LiteRt(m) => format!("LiteRT 2.3.0 CompiledModel ({})", m.library().display()),
            Self::TfLite(_) => format!("TFLite {} C API", tflite::version()),
        }
    }

    pub fn path(&self) -> &Path {
        match self {
            Self::LiteRt(m) => m.path(),
            Self::TfLite(m) => m.path(),
        }
    }

    pub fn xnnpack(&self) -> bool {
        match self {
            Self::LiteRt(m) => m.xnnpack(),
            Self::TfLite(m) => m.xnnpack(),
        }
    }

    pub fn inputs(&self) -> Box<dyn ExactSizeIterator<Item = &TensorInfo> + '_> {
        match self {
            Self::LiteRt(m) => Box::new(m.inputs()),
            Self::TfLite(m) => Box::new(m.inputs()),
        }
    }

    pub fn outputs(&self) -> Box<dyn ExactSizeIterator<Item = &TensorInfo> + '_> {
        match self {
            Self::LiteRt(m) => Box::new(m.outputs()),
            Self::TfLite(m) => Box::new(m.outputs()),
        }
    }

    /// Output `index`'s description, without allocating (the hot path's decoder asks).
    pub fn output_info(&self, index: usize) -> Option<&TensorInfo> {
        match self {
            Self::LiteRt(m) => m.outputs().nth(index),
            Self::TfLite(m) => m.outputs().nth(index),
        }
    }

    pub fn input_mut<T: Element>(&mut self, index: usize) -> Result<&mut [T], RuntimeError> {
        match self {
            Self::LiteRt(m) => m.input_mut(index),
            Self::TfLite(m) => m.input_mut(index),
        }
    }

    pub fn output<T: Element>(&self, index: usize) -> Result<&[T], RuntimeError> {
        match self {
            Self::LiteRt(m) => m.output(index),
            Self::TfLite(m) => m.output(index),
        }
    }

    /// Runs the model on the current input; allocates nothing unless it fails.
    pub fn invoke(&mut self) -> Result<(), RuntimeError> {
        match self {
            Self::LiteRt(m) => m.invoke(),
            Self::TfLite(m) => m.invoke(),
        }
    }
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LiteRt(m) => m.fmt(f),
            Self::TfLite(m) => m.fmt(f),
        }
    }
}
