//! Hand-written declarations of the part of the stable TfLite C API that [`super::tflite`] uses.
//!
//! Only opaque pointers, scalars and two small structs cross this boundary. The XNNPACK options
//! struct is the exception that differs between library versions, so it is declared twice, and
//! `TfLiteXNNPackDelegateOptionsDefault` is declared with both return types: only the one that
//! matches the loaded library's `TfLiteVersion()` may be called.

#![allow(non_snake_case, clashing_extern_declarations)]

use std::ffi::{c_char, c_int, c_void};

#[repr(C)]
pub struct TfLiteModel {
    _opaque: [u8; 0],
}
#[repr(C)]
pub struct TfLiteInterpreterOptions {
    _opaque: [u8; 0],
}
#[repr(C)]
pub struct TfLiteInterpreter {
    _opaque: [u8; 0],
}
#[repr(C)]
pub struct TfLiteTensor {
    _opaque: [u8; 0],
}
#[repr(C)]
pub struct TfLiteDelegate {
    _opaque: [u8; 0],
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct TfLiteQuantizationParams {
    pub scale: f32,
    pub zero_point: i32,
}

/// `TfLiteXNNPackDelegateOptions` in TF ≤ 2.9: small enough to come back in a register.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct XnnpackOptionsCompact {
    pub num_threads: i32,
    pub flags: u32,
}

/// `TfLiteXNNPackDelegateOptions` in LiteRT 2.x (TF 2.21): 56 bytes, returned through a hidden
/// pointer. Only `num_threads` (word 0) and `flags` (word 2) are touched; the rest keeps the
/// library's defaults.
#[repr(C, align(8))]
#[derive(Debug, Clone, Copy)]
pub struct XnnpackOptionsLiteRt {
    pub words: [u32; 14],
}

pub const XNNPACK_FLAG_QS8: u32 = 0x1;
pub const XNNPACK_FLAG_QU8: u32 = 0x2;

/// A C error reporter; the last argument is the `va_list` (see `tflite::report`).
pub type Reporter =
    unsafe extern "C" fn(user_data: *mut c_void, format: *const c_char, args: *mut c_void);

#[link(name = "tensorflowlite_c")]
extern "C" {
    pub fn TfLiteVersion() -> *const c_char;
    pub fn TfLiteModelCreate(model_data: *const c_void, model_size: usize) -> *mut TfLiteModel;
    pub fn TfLiteModelDelete(model: *mut TfLiteModel);

    pub fn TfLiteInterpreterOptionsCreate() -> *mut TfLiteInterpreterOptions;
    pub fn TfLiteInterpreterOptionsDelete(options: *mut TfLiteInterpreterOptions);
    pub fn TfLiteInterpreterOptionsSetNumThreads(
        options: *mut TfLiteInterpreterOptions,
        num_threads: i32,
    );
    pub fn TfLiteInterpreterOptionsAddDelegate(
        options: *mut TfLiteInterpreterOptions,
        delegate: *mut TfLiteDelegate,
    );
    pub fn TfLiteInterpreterOptionsSetErrorReporter(
        options: *mut TfLiteInterpreterOptions,
        reporter: Reporter,
        user_data: *mut c_void,
    );

    pub fn TfLiteInterpreterCreate(
        model: *const TfLiteModel,
        options: *const TfLiteInterpreterOptions,
    ) -> *mut TfLiteInterpreter;
    pub fn TfLiteInterpreterDelete(interpreter: *mut TfLiteInterpreter);
    pub fn TfLiteInterpreterAllocateTensors(interpreter: *mut TfLiteInterpreter) -> c_int;
    pub fn TfLiteInterpreterInvoke(interpreter: *mut TfLiteInterpreter) -> c_int;
    pub fn TfLiteInterpreterGetInputTensorCount(interpreter: *const TfLiteInterpreter) -> i32;
    pub fn TfLiteInterpreterGetInputTensor(
        interpreter: *const TfLiteInterpreter,
        index: i32,
    ) -> *mut TfLiteTensor;
    pub fn TfLiteInterpreterGetOutputTensorCount(interpreter: *const TfLiteInterpreter) -> i32;
    pub fn TfLiteInterpreterGetOutputTensor(
        interpreter: *const TfLiteInterpreter,
        index: i32,
    ) -> *const TfLiteTensor;

    pub fn TfLiteTensorType(tensor: *const TfLiteTensor) -> c_int;
    pub fn TfLiteTensorNumDims(tensor: *const TfLiteTensor) -> i32;
    pub fn TfLiteTensorDim(tensor: *const TfLiteTensor, dim_index: i32) -> i32;
    pub fn TfLiteTensorByteSize(tensor: *const TfLiteTensor) -> usize;
    pub fn TfLiteTensorData(tensor: *const TfLiteTensor) -> *mut c_void;
    pub fn TfLiteTensorName(tensor: *const TfLiteTensor) -> *const c_char;
    pub fn TfLiteTensorQuantizationParams(tensor: *const TfLiteTensor) -> TfLiteQuantizationParams;

    #[link_name = "TfLiteXNNPackDelegateOptionsDefault"]
    pub fn TfLiteXNNPackDelegateOptionsDefault_compact() -> XnnpackOptionsCompact;
    #[link_name = "TfLiteXNNPackDelegateOptionsDefault"]
    pub fn TfLiteXNNPackDelegateOptionsDefault_litert() -> XnnpackOptionsLiteRt;
    /// `options` points at the struct of the layout the library expects.
    pub fn TfLiteXNNPackDelegateCreate(options: *const c_void) -> *mut TfLiteDelegate;
    pub fn TfLiteXNNPackDelegateDelete(delegate: *mut TfLiteDelegate);
}

extern "C" {
    /// libc's `vsnprintf`; `ap` is the reporter's `va_list`, passed on as it came.
    pub fn vsnprintf(
        buf: *mut c_char,
        size: usize,
        format: *const c_char,
        ap: *mut c_void,
    ) -> c_int;
}
