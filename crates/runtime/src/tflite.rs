//! The project's own small, safe wrapper of the stable TfLite C API (`libtensorflowlite_c.so`).
//!
//! Why not a crate: tflitec 0.7 cannot set the XNNPACK `flags` (int8 models run about 8× slower
//! without QS8), allocates on every tensor access, and drops TFLite's error messages. The C API
//! calls used here are stable across TF 2.x and need no bindgen and no headers; the one struct
//! passed by value, the XNNPACK delegate options, is laid out per the `TfLiteVersion()` of the
//! library actually loaded (see [`XnnpackLayout`]).
//!
//! An [`Interpreter`] is built once: the model is read and checked, tensors are looked up and
//! their shapes, types and quantization cached, and buffers allocated. After that, writing the
//! input, [`Interpreter::invoke`] and reading the outputs allocate nothing.

use crate::model_file::ModelBytes;
use crate::tflite_ffi as ffi;
use crate::{Element, ElementType, Options, Quant, RuntimeError, TensorInfo};
use std::ffi::{c_char, c_void, CStr};
use std::fmt;
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::Mutex;

/// The layout of `TfLiteXNNPackDelegateOptions` in the loaded library, which differs between
/// TFLite versions and is passed by value, so it must match at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XnnpackLayout {
    /// TF ≤ 2.9: 8 bytes, `{ int32 num_threads; uint32 flags; }`, returned in a register.
    Compact,
    /// LiteRT (TF 2.19 and later; measured on 2.21): 56 bytes, `flags` at byte 8, returned through
    /// a hidden pointer.
    LiteRt,
}

impl XnnpackLayout {
    /// The layout for a `TfLiteVersion()` string, or `None` for versions whose layout is not known
    /// (TF 2.10 to 2.18 grew the struct a field at a time).
    pub fn for_version(version: &str) -> Option<Self> {
        let mut parts = version.split(|c: char| !c.is_ascii_digit());
        let major: u32 = parts.next()?.parse().ok()?;
        let minor: u32 = parts.next()?.parse().ok()?;
        match (major, minor) {
            (2, 0..=9) => Some(Self::Compact),
            (2, 19..) => Some(Self::LiteRt),
            _ => None,
        }
    }
}

/// The version string of the TfLite library loaded in this process, e.g. `2.9.0`.
pub fn version() -> &'static str {
    // SAFETY: TfLiteVersion returns a pointer to a static NUL-terminated string.
    unsafe { CStr::from_ptr(ffi::TfLiteVersion()) }
        .to_str()
        .unwrap_or("unknown")
}

/// Collects the text of TFLite's error reporter; owned by the interpreter, which outlives every
/// call into it.
struct ErrorSink {
    text: Mutex<String>,
}

impl ErrorSink {
    fn take(&self) -> String {
        let mut t = self.text.lock().unwrap_or_else(|e| e.into_inner());
        let s = t.trim_end().to_owned();
        t.clear();
        if s.is_empty() {
            "TFLite gave no message".to_owned()
        } else {
            s
        }
    }

    fn clear(&self) {
        self.text.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// The error reporter given to TFLite: formats with `vsnprintf` and appends to the sink.
///
/// `args` is a C `va_list`. On x86_64 it is an array and decays to a pointer; on aarch64 it is a
/// 32-byte struct, which the ABI passes by reference; on armv7 it is one pointer. In each case
/// the callee receives one pointer-sized value that `vsnprintf` accepts as its `va_list`.
unsafe extern "C" fn report(user_data: *mut c_void, format: *const c_char, args: *mut c_void) {
    if user_data.is_null() || format.is_null() {
        return;
    }
    let mut buf = [0 as c_char; 1024];
    // SAFETY: buf is writable for its length; format and args come from TFLite as a pair.
    let n = unsafe { ffi::vsnprintf(buf.as_mut_ptr(), buf.len(), format, args) };
    if n < 0 {
        return;
    }
    // SAFETY: vsnprintf NUL-terminates within the buffer.
    let msg = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy();
    // SAFETY: user_data is the interpreter's boxed ErrorSink, alive while TFLite can call this.
    let sink = unsafe { &*(user_data as *const ErrorSink) };
    let mut t = sink.text.lock().unwrap_or_else(|e| e.into_inner());
    t.push_str(msg.trim_end());
    t.push('\n');
}

/// The XNNPACK delegate, deleted after the interpreter that uses it.
struct Delegate(NonNull<ffi::TfLiteDelegate>);

impl Delegate {
    /// Creates the delegate with QS8 and QU8 turned on, in the struct layout the library expects.
    fn new(layout: XnnpackLayout, threads: u16) -> Option<Self> {
        let flags = ffi::XNNPACK_FLAG_QS8 | ffi::XNNPACK_FLAG_QU8;
        // SAFETY: the layout was chosen from TfLiteVersion(), so the declared return type of
        // the default-options function and the struct passed to Create match the library.
        let raw = unsafe {
            match layout {
                XnnpackLayout::Compact => {
                    let mut o = ffi::TfLiteXNNPackDelegateOptionsDefault_compact();
                    o.num_threads = i32::from(threads);
                    o.flags |= flags;
                    ffi::TfLiteXNNPackDelegateCreate(&o as *const _ as *const c_void)
                }
                XnnpackLayout::LiteRt => {
                    let mut o = ffi::TfLiteXNNPackDelegateOptionsDefault_litert();
                    o.words[0] = u32::from(threads);
                    o.words[2] |= flags;
                    ffi::TfLiteXNNPackDelegateCreate(&o as *const _ as *const c_void)
                }
            }
        };
        NonNull::new(raw).map(Self)
    }
}

impl Drop for Delegate {
    fn drop(&mut self) {
        // SAFETY: created by TfLiteXNNPackDelegateCreate; no interpreter uses it any more.
        unsafe { ffi::TfLiteXNNPackDelegateDelete(self.0.as_ptr()) }
    }
}

/// A model loaded into a ready interpreter.
///
/// Owns, and drops in this order: the interpreter, the delegate it runs on, the model, the
/// model's bytes (TFLite reads them in place; see `ModelBytes` for why they are mapped and
/// their pages released once the interpreter is ready), and the error sink. Not `Sync`: one
/// thread runs it, but it may move between threads.
pub struct Interpreter {
    interp: NonNull<ffi::TfLiteInterpreter>,
    delegate: Option<Delegate>,
    model: NonNull<ffi::TfLiteModel>,
    _bytes: ModelBytes,
    errors: Box<ErrorSink>,
    inputs: Vec<(NonNull<ffi::TfLiteTensor>, TensorInfo)>,
    outputs: Vec<(NonNull<ffi::TfLiteTensor>, TensorInfo)>,
    path: PathBuf,
}

// SAFETY: the interpreter and everything it points to are owned by this value alone; TFLite
// has no thread affinity, only a need for exclusive access, which `&mut self` gives.
unsafe impl Send for Interpreter {}

impl Interpreter {
    /// Loads the model at `path` (mapped, not read: see `ModelBytes`) and prepares it to run.
    pub fn from_file(path: &Path, opts: &Options) -> Result<Self, RuntimeError> {
        let bytes = ModelBytes::open(path).map_err(|cause| RuntimeError::Read {
            path: path.to_owned(),
            cause,
        })?;
        Self::build(bytes, path, opts)
    }

    /// Loads a model from its bytes; `path` only names it in errors.
    pub fn from_bytes(bytes: Vec<u8>, path: &Path, opts: &Options) -> Result<Self, RuntimeError> {
        Self::build(ModelBytes::Owned(bytes), path, opts)
    }

    fn build(bytes: ModelBytes, path: &Path, opts: &Options) -> Result<Self, RuntimeError> {
        let not_a_model = |reason: &str| RuntimeError::NotAModel {
            path: path.to_owned(),
            reason: reason.to_owned(),
        };
        // The flatbuffer file identifier; checked here so the message is ours, not a crash.
        let b = bytes.as_slice();
        if b.len() < 8 || &b[4..8] != b"TFL3" {
            return Err(not_a_model("it lacks the TFL3 flatbuffer identifier"));
        }
        // SAFETY: the bytes are moved into the Interpreter below and outlive the model.
        let model = unsafe { ffi::TfLiteModelCreate(b.as_ptr() as *const c_void, b.len()) };
        let model = NonNull::new(model)
            .ok_or_else(|| not_a_model("flatbuffer verification failed (truncated or corrupt)"))?;

        let errors = Box::new(ErrorSink {
            text: Mutex::new(String::new()),
        });
        let delegate = if opts.xnnpack {
            match XnnpackLayout::for_version(version()) {
                Some(layout) => {
                    Some(Delegate::new(layout, opts.threads.max(1)).ok_or_else(|| {
                        // SAFETY: model was created above and is not used elsewhere.
                        unsafe { ffi::TfLiteModelDelete(model.as_ptr()) };
                        RuntimeError::Delegate {
                            path: path.to_owned(),
                        }
                    })?)
                }
                None => {
                    log::warn!(
                        "TFLite {}: XNNPACK options layout unknown; running without the delegate",
                        version()
                    );
                    None
                }
            }
        } else {
            None
        };

        // SAFETY: plain C API calls on pointers created here; the options are deleted right
        // after the interpreter is created, which the API allows.
        let interp = unsafe {
            let o = ffi::TfLiteInterpreterOptionsCreate();
            ffi::TfLiteInterpreterOptionsSetNumThreads(o, i32::from(opts.threads.max(1)));
            ffi::TfLiteInterpreterOptionsSetErrorReporter(
                o,
                report,
                &*errors as *const ErrorSink as *mut c_void,
            );
            if let Some(d) = &delegate {
                ffi::TfLiteInterpreterOptionsAddDelegate(o, d.0.as_ptr());
            }
            let i = ffi::TfLiteInterpreterCreate(model.as_ptr(), o);
            ffi::TfLiteInterpreterOptionsDelete(o);
            i
        };
        let Some(interp) = NonNull::new(interp) else {
            let message = errors.take();
            drop(delegate);
            // SAFETY: no interpreter refers to the model.
            unsafe { ffi::TfLiteModelDelete(model.as_ptr()) };
            return Err(RuntimeError::Create {
                path: path.to_owned(),
                message,
            });
        };
        let mut me = Self {
            interp,
            delegate,
            model,
            _bytes: bytes,
            errors,
            inputs: Vec::new(),
            outputs: Vec::new(),
            path: path.to_owned(),
        };
        // SAFETY: interp is valid.
        if unsafe { ffi::TfLiteInterpreterAllocateTensors(me.interp.as_ptr()) } != 0 {
            return Err(RuntimeError::Allocate {
                path: me.path.clone(),
                message: me.errors.take(),
            });
        }
        me.lookup_tensors();
        // The delegate has packed its weights and the arena is planned: from here on TFLite reads
        // only a few of the model's pages, which fault back in when it does.
        me._bytes.release_pages();
        Ok(me)
    }

    fn lookup_tensors(&mut self) {
        let i = self.interp.as_ptr();
        // SAFETY: indices are within the counts the interpreter reports; tensors it returns
        // live as long as it does.
        unsafe {
            for k in 0..ffi::TfLiteInterpreterGetInputTensorCount(i) {
                if let Some(t) = NonNull::new(ffi::TfLiteInterpreterGetInputTensor(i, k)) {
                    self.inputs.push((t, describe(t)));
                }
            }
            for k in 0..ffi::TfLiteInterpreterGetOutputTensorCount(i) {
                let t = ffi::TfLiteInterpreterGetOutputTensor(i, k) as *mut ffi::TfLiteTensor;
                if let Some(t) = NonNull::new(t) {
                    self.outputs.push((t, describe(t)));
                }
            }
        }
    }

    /// The model file this interpreter was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the XNNPACK delegate is applied.
    pub fn xnnpack(&self) -> bool {
        self.delegate.is_some()
    }

    pub fn inputs(&self) -> impl ExactSizeIterator<Item = &TensorInfo> {
        self.inputs.iter().map(|(_, i)| i)
    }

    pub fn outputs(&self) -> impl ExactSizeIterator<Item = &TensorInfo> {
        self.outputs.iter().map(|(_, i)| i)
    }

    /// Input tensor `index` as a mutable slice of `T`, which must be its element type.
    pub fn input_mut<T: Element>(&mut self, index: usize) -> Result<&mut [T], RuntimeError> {
        let (t, info) = view::<T>(&self.inputs, index, "input", &self.path)?;
        // SAFETY: the tensor's buffer holds info.len() elements of T (type checked by `view`),
        // and &mut self makes this the only access until the borrow ends.
        Ok(unsafe { std::slice::from_raw_parts_mut(data::<T>(t), info.len()) })
    }

    /// Output tensor `index` as a slice of `T`, which must be its element type.
    pub fn output<T: Element>(&self, index: usize) -> Result<&[T], RuntimeError> {
        let (t, info) = view::<T>(&self.outputs, index, "output", &self.path)?;
        // SAFETY: as for input_mut; invoke needs &mut self, so the data cannot change meanwhile.
        Ok(unsafe { std::slice::from_raw_parts(data::<T>(t), info.len()) })
    }

    /// Runs the model on the current input. Allocates nothing unless it fails.
    pub fn invoke(&mut self) -> Result<(), RuntimeError> {
        self.errors.clear();
        // SAFETY: interp is valid and tensors are allocated.
        if unsafe { ffi::TfLiteInterpreterInvoke(self.interp.as_ptr()) } != 0 {
            return Err(RuntimeError::Invoke {
                path: self.path.clone(),
                message: self.errors.take(),
            });
        }
        Ok(())
    }
}

impl fmt::Debug for Interpreter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interpreter")
            .field("path", &self.path)
            .field("xnnpack", &self.xnnpack())
            .finish_non_exhaustive()
    }
}

impl Drop for Interpreter {
    fn drop(&mut self) {
        // SAFETY: the interpreter goes first, then its delegate (dropped with the fields after
        // this), then the model; the bytes and the error sink are dropped last, as fields.
        unsafe {
            ffi::TfLiteInterpreterDelete(self.interp.as_ptr());
            self.delegate = None;
            ffi::TfLiteModelDelete(self.model.as_ptr());
        }
    }
}

fn view<'a, T: Element>(
    list: &'a [(NonNull<ffi::TfLiteTensor>, TensorInfo)],
    index: usize,
    kind: &'static str,
    path: &Path,
) -> Result<(NonNull<ffi::TfLiteTensor>, &'a TensorInfo), RuntimeError> {
    let (t, info) = list.get(index).ok_or_else(|| RuntimeError::NoTensor {
        path: path.to_owned(),
        kind,
        index,
    })?;
    crate::tensor::check_type::<T>(info, path)?;
    Ok((*t, info))
}

/// The tensor's data pointer, asked each time: cheap, and never stale after a reallocation.
///
/// # Safety
/// `t` must be a tensor of a live interpreter whose tensors are allocated.
unsafe fn data<T>(t: NonNull<ffi::TfLiteTensor>) -> *mut T {
    // SAFETY: the caller guarantees `t` is a live tensor; the call only reads its data pointer.
    let p = unsafe { ffi::TfLiteTensorData(t.as_ptr()) } as *mut T;
    if p.is_null() {
        NonNull::dangling().as_ptr()
    } else {
        p
    }
}

/// The tensor's name, type, shape and quantisation, copied out.
///
/// # Safety
/// `t` must be a tensor of a live interpreter.
unsafe fn describe(t: NonNull<ffi::TfLiteTensor>) -> TensorInfo {
    let t = t.as_ptr();
    // SAFETY: the caller guarantees `t` is live; these getters only read it, and its name is a
    // NUL-terminated string the interpreter owns for its lifetime, copied before we return.
    unsafe {
        let name = ffi::TfLiteTensorName(t);
        let name = if name.is_null() {
            String::new()
        } else {
            CStr::from_ptr(name).to_string_lossy().into_owned()
        };
        let dims = (0..ffi::TfLiteTensorNumDims(t))
            .map(|d| ffi::TfLiteTensorDim(t, d).max(0) as usize)
            .collect();
        let q = ffi::TfLiteTensorQuantizationParams(t);
        TensorInfo {
            name,
            dtype: ElementType::from_c(ffi::TfLiteTensorType(t)),
            dims,
            quant: Quant {
                scale: q.scale,
                zero_point: q.zero_point,
            },
            bytes: ffi::TfLiteTensorByteSize(t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xnnpack_layout_follows_the_version() {
        assert_eq!(
            XnnpackLayout::for_version("2.9.0"),
            Some(XnnpackLayout::Compact)
        );
        assert_eq!(
            XnnpackLayout::for_version("2.21.0-dev20250101"),
            Some(XnnpackLayout::LiteRt)
        );
        assert_eq!(XnnpackLayout::for_version("2.14.0"), None);
        assert_eq!(XnnpackLayout::for_version("garbage"), None);
        assert_eq!(std::mem::size_of::<ffi::XnnpackOptionsCompact>(), 8);
        assert_eq!(std::mem::size_of::<ffi::XnnpackOptionsLiteRt>(), 56);
    }

    #[test]
    fn the_linked_library_reports_its_version() {
        let v = version();
        assert!(v.starts_with("2."), "{v}");
        if let Ok(want) = std::env::var("PICKET_EXPECT_TFLITE_VERSION") {
            assert!(
                v.starts_with(&want),
                "loaded TFLite {v}, expected {want}: the library swap did not happen"
            );
        }
    }
}
