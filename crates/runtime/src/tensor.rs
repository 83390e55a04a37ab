//! What a model's tensors are: element types, quantization and shapes, read once at load and
//! shared by every backend.

use crate::RuntimeError;
use std::fmt;
use std::path::Path;

/// A tensor's element type, as the C API's `TfLiteType` numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElementType {
    Float32,
    Int32,
    UInt8,
    Int64,
    Int16,
    Int8,
    Float16,
    /// Any other `TfLiteType`, by number.
    Other(i32),
}

impl ElementType {
    pub(crate) fn from_c(t: i32) -> Self {
        match t {
            1 => Self::Float32,
            2 => Self::Int32,
            3 => Self::UInt8,
            4 => Self::Int64,
            7 => Self::Int16,
            9 => Self::Int8,
            10 => Self::Float16,
            n => Self::Other(n),
        }
    }

    /// Bytes per element, for the types picket names.
    pub fn size(self) -> Option<usize> {
        match self {
            Self::Float32 | Self::Int32 => Some(4),
            Self::UInt8 | Self::Int8 => Some(1),
            Self::Int64 => Some(8),
            Self::Int16 | Self::Float16 => Some(2),
            Self::Other(_) => None,
        }
    }
}

impl fmt::Display for ElementType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Float32 => f.write_str("float32"),
            Self::Int32 => f.write_str("int32"),
            Self::UInt8 => f.write_str("uint8"),
            Self::Int64 => f.write_str("int64"),
            Self::Int16 => f.write_str("int16"),
            Self::Int8 => f.write_str("int8"),
            Self::Float16 => f.write_str("float16"),
            Self::Other(n) => write!(f, "TfLiteType {n}"),
        }
    }
}

/// A Rust element type that a tensor view can have.
pub trait Element: Copy + 'static {
    const TYPE: ElementType;
}
impl Element for u8 {
    const TYPE: ElementType = ElementType::UInt8;
}
impl Element for i8 {
    const TYPE: ElementType = ElementType::Int8;
}
impl Element for f32 {
    const TYPE: ElementType = ElementType::Float32;
}

/// Affine quantization: `real = scale · (q − zero_point)`. A scale of 0 means not quantized.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Quant {
    pub scale: f32,
    pub zero_point: i32,
}

/// What the model says about one of its input or output tensors, read once at load.
#[derive(Debug, Clone)]
pub struct TensorInfo {
    pub name: String,
    pub dtype: ElementType,
    pub dims: Vec<usize>,
    pub quant: Quant,
    pub bytes: usize,
}

impl TensorInfo {
    /// The number of elements.
    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Checks that a tensor holds `T`, for the typed views of both backends.
pub(crate) fn check_type<T: Element>(info: &TensorInfo, path: &Path) -> Result<(), RuntimeError> {
    if info.dtype == T::TYPE {
        Ok(())
    } else {
        Err(RuntimeError::TensorType {
            path: path.to_owned(),
            tensor: info.name.clone(),
            expected: T::TYPE,
            actual: info.dtype,
        })
    }
}
