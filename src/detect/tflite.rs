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

use super::model_file::ModelBytes;
use super::tflite_ffi as ffi;
use std::ffi::{c_char, c_void, CStr};
use std::fmt;
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::Mutex;

/// Why a model could not be loaded or run. Each names the model file and carries TFLite's own
/// message where it gave one.
#[derive(Debug, thiserror::Error)]
pub enum TfliteError {
    #[error("model {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
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
}

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
    fn from_c(t: i32) -> Self {
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

/// How to build the interpreter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// CPU threads for the interpreter and the delegate; at least 1.
    pub threads: u16,
    /// Run supported ops, int8 included, on the XNNPACK delegate.
    pub xnnpack: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            threads: 1,
            xnnpack: true,
        }
    }
}

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
/// model's bytes (TFLite reads them in place; see [`ModelBytes`] for why they are mapped and
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
    /// Loads the model at `path` (mapped, not read: see [`ModelBytes`]) and prepares it to run.
    pub fn from_file(path: &Path, opts: Options) -> Result<Self, TfliteError> {
        let bytes = ModelBytes::open(path).map_err(|source| TfliteError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::build(bytes, path, opts)
    }

    /// Loads a model from its bytes; `path` only names it in errors.
    pub fn from_bytes(bytes: Vec<u8>, path: &Path, opts: Options) -> Result<Self, TfliteError> {
        Self::build(ModelBytes::Owned(bytes), path, opts)
    }

    fn build(bytes: ModelBytes, path: &Path, opts: Options) -> Result<Self, TfliteError> {
        let not_a_model = |reason: &str| TfliteError::NotAModel {
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
                        TfliteError::Delegate {
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
            return Err(TfliteError::Create {
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
            return Err(TfliteError::Allocate {
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
    pub fn input_mut<T: Element>(&mut self, index: usize) -> Result<&mut [T], TfliteError> {
        let (t, info) = view::<T>(&self.inputs, index, "input", &self.path)?;
        // SAFETY: the tensor's buffer holds info.len() elements of T (type checked by `view`),
        // and &mut self makes this the only access until the borrow ends.
        Ok(unsafe { std::slice::from_raw_parts_mut(data::<T>(t), info.len()) })
    }

    /// Output tensor `index` as a slice of `T`, which must be its element type.
    pub fn output<T: Element>(&self, index: usize) -> Result<&[T], TfliteError> {
        let (t, info) = view::<T>(&self.outputs, index, "output", &self.path)?;
        // SAFETY: as for input_mut; invoke needs &mut self, so the data cannot change meanwhile.
        Ok(unsafe { std::slice::from_raw_parts(data::<T>(t), info.len()) })
    }

    /// Runs the model on the current input. Allocates nothing unless it fails.
    pub fn invoke(&mut self) -> Result<(), TfliteError> {
        self.errors.clear();
        // SAFETY: interp is valid and tensors are allocated.
        if unsafe { ffi::TfLiteInterpreterInvoke(self.interp.as_ptr()) } != 0 {
            return Err(TfliteError::Invoke {
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
) -> Result<(NonNull<ffi::TfLiteTensor>, &'a TensorInfo), TfliteError> {
    let (t, info) = list.get(index).ok_or_else(|| TfliteError::NoTensor {
        path: path.to_owned(),
        kind,
        index,
    })?;
    if info.dtype != T::TYPE {
        return Err(TfliteError::TensorType {
            path: path.to_owned(),
            tensor: info.name.clone(),
            expected: T::TYPE,
            actual: info.dtype,
        });
    }
    Ok((*t, info))
}

/// The tensor's data pointer, asked each time: cheap, and never stale after a reallocation.
unsafe fn data<T>(t: NonNull<ffi::TfLiteTensor>) -> *mut T {
    let p = unsafe { ffi::TfLiteTensorData(t.as_ptr()) } as *mut T;
    if p.is_null() {
        NonNull::dangling().as_ptr()
    } else {
        p
    }
}

unsafe fn describe(t: NonNull<ffi::TfLiteTensor>) -> TensorInfo {
    let t = t.as_ptr();
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
