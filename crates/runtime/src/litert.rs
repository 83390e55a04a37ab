//! The LiteRT backend: a model compiled by LiteRT 2.3's CompiledModel C API (`libLiteRt.so`,
//! opened at run time, see `litert_ffi.rs`), on its CPU accelerator, XNNPACK.
//!
//! Why a second backend: on x86_64 the TfLite C API library that registries ship is TF 2.9,
//! whose XNNPACK runs the shipped int8 model about 2–3× slower than LiteRT 2.3's; LiteRT 2.3
//! exports only the CompiledModel API, not the TfLite one.
//!
//! A [`CompiledModel`] is built once: environment → model from the mapped bytes → CPU options →
//! compiled model → one tensor buffer per input and output, made over memory this value owns
//! (so the detector writes the input in place and reads the outputs in place, as with the
//! TfLite backend). After that, [`CompiledModel::invoke`] passes the same buffer handles each
//! time and nothing is allocated on the Rust side.
//!
//! The CPU options travel as LiteRT's own text form (`num_threads = N`, `flags = 3`, …), since
//! the library does not export the helpers that write it; the tests check that the thread
//! count and the QS8 flag take effect (`crates/runtime/tests/litert.rs`).

use crate::litert_ffi::{self as ffi, Handle, StatusName};
use crate::model_file::ModelBytes;
use crate::{Element, ElementType, Options, Quant, RuntimeError, TensorInfo};
use std::alloc::{self, Layout};
use std::ffi::{c_void, CStr, CString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::ptr::NonNull;

pub use crate::litert_ffi::{Api, LoadError, LIBRARY, PINNED};

/// The LiteRT library, opened and checked; shared by the models built on it.
pub type Library = std::sync::Arc<Api>;

/// Opens `libLiteRt.so` (at `path`, or by the binary's RUNPATH), checking it is the pinned
/// 2.3.0 build and has every function picket calls.
pub fn open(path: Option<&Path>) -> Result<Library, LoadError> {
    Api::load(path).map(std::sync::Arc::new)
}

/// Memory for one tensor, 64-byte aligned as LiteRT's host buffers want, zeroed, freed on drop.
struct HostMemory {
    ptr: NonNull<u8>,
    layout: Layout,
}

impl HostMemory {
    fn new(len: usize) -> Self {
        let layout = Layout::from_size_align(len.max(1).next_multiple_of(64), 64)
            .unwrap_or_else(|_| Layout::new::<u8>());
        // SAFETY: the layout has a non-zero size.
        let p = unsafe { alloc::alloc_zeroed(layout) };
        let ptr = NonNull::new(p).unwrap_or_else(|| alloc::handle_alloc_error(layout));
        Self { ptr, layout }
    }
}

impl Drop for HostMemory {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { alloc::dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

/// One input or output: its LiteRT tensor buffer over memory we own.
struct Tensor {
    memory: HostMemory,
    info: TensorInfo,
}

/// A model compiled by LiteRT for the CPU, with its tensor buffers.
///
/// Owns, and releases in this order: the tensor buffers, the compiled model, the options, the
/// model, the environment, then the buffers' memory and the model's bytes (LiteRT reads the
/// flatbuffer in place; their pages are released once it is compiled, as the TfLite backend
/// does). Not `Sync`: one thread runs it, but it may move between threads.
pub struct CompiledModel {
    api: Library,
    env: Handle,
    model: Handle,
    options: Handle,
    compiled: Handle,
    /// The handles passed to each run: inputs, then outputs.
    buffers: Vec<Handle>,
    inputs: Vec<Tensor>,
    outputs: Vec<Tensor>,
    _bytes: ModelBytes,
    path: PathBuf,
    xnnpack: bool,
}

// SAFETY: every handle is owned by this value alone; LiteRT has no thread affinity for a
// compiled model, only a need for exclusive access, which `&mut self` gives.
unsafe impl Send for CompiledModel {}

impl CompiledModel {
    /// Loads the model at `path` (mapped, as the TfLite backend does) into `api`.
    pub fn from_file(api: Library, path: &Path, opts: &Options) -> Result<Self, RuntimeError> {
        let bytes = ModelBytes::open(path).map_err(|cause| RuntimeError::Read {
            path: path.to_owned(),
            cause,
        })?;
        Self::build(api, bytes, path, opts)
    }

    /// Loads a model from its bytes; `path` only names it in errors.
    pub fn from_bytes(
        api: Library,
        bytes: Vec<u8>,
        path: &Path,
        opts: &Options,
    ) -> Result<Self, RuntimeError> {
        Self::build(api, ModelBytes::Owned(bytes), path, opts)
    }

    fn build(
        api: Library,
        bytes: ModelBytes,
        path: &Path,
        opts: &Options,
    ) -> Result<Self, RuntimeError> {
        let b = bytes.as_slice();
        if b.len() < 8 || &b[4..8] != b"TFL3" {
            return Err(RuntimeError::NotAModel {
                path: path.to_owned(),
                reason: "it lacks the TFL3 flatbuffer identifier".to_owned(),
            });
        }
        let mut me = Self {
            api,
            env: std::ptr::null_mut(),
            model: std::ptr::null_mut(),
            options: std::ptr::null_mut(),
            compiled: std::ptr::null_mut(),
            buffers: Vec::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            _bytes: bytes,
            path: path.to_owned(),
            xnnpack: opts.xnnpack,
        };
        // From here on, `me`'s Drop releases whatever was created when a step fails.
        let a = me.api.clone();
        // SAFETY: plain C calls with out-pointers to fields of `me`; each handle is released
        // by Drop, in reverse order of creation.
        unsafe {
            let s = (a.LiteRtCreateEnvironment)(0, std::ptr::null(), &mut me.env);
            me.check("LiteRtCreateEnvironment", s)?;
            let b = me._bytes.as_slice();
            let s =
                (a.LiteRtCreateModelFromBuffer)(me.env, b.as_ptr().cast(), b.len(), &mut me.model);
            if s != 0 {
                return Err(RuntimeError::NotAModel {
                    path: me.path.clone(),
                    reason: format!("LiteRT refused it: {}", StatusName(s)),
                });
            }
            let s = (a.LiteRtCreateOptions)(&mut me.options);
            me.check("LiteRtCreateOptions", s)?;
            me.check(
                "LiteRtSetOptionsHardwareAccelerators",
                (a.LiteRtSetOptionsHardwareAccelerators)(me.options, ffi::HW_CPU),
            )?;
            let text = cpu_options(opts);
            let mut cpu: Handle = std::ptr::null_mut();
            let raw = text.into_raw();
            let s = (a.LiteRtCreateOpaqueOptions)(
                c"xnnpack".as_ptr(),
                raw.cast(),
                Some(free_text),
                &mut cpu,
            );
            if s != 0 {
                free_text(raw.cast());
                return Err(me.failed("LiteRtCreateOpaqueOptions", s));
            }
            // The options list owns `cpu` (and its text) from here.
            let s = (a.LiteRtAddOpaqueOptions)(me.options, cpu);
            me.check("LiteRtAddOpaqueOptions", s)?;
            let s = (a.LiteRtCreateCompiledModel)(me.env, me.model, me.options, &mut me.compiled);
            if s != 0 {
                return Err(RuntimeError::Create {
                    path: me.path.clone(),
                    message: format!("LiteRtCreateCompiledModel: {}", StatusName(s)),
                });
            }
            me.make_buffers()?;
        }
        // The weights are packed and the plan made: LiteRT reads only a few of the model's
        // pages again, which fault back in from the file when it does.
        me._bytes.release_pages();
        Ok(me)
    }

    /// Describes each input and output of signature 0 and makes its buffer.
    ///
    /// # Safety
    /// The model and compiled model must be live.
    unsafe fn make_buffers(&mut self) -> Result<(), RuntimeError> {
        let a = self.api.clone();
        let mut sig: Handle = std::ptr::null_mut();
        let (mut n_in, mut n_out) = (0usize, 0usize);
        // SAFETY: out-pointers to locals; the signature lives as long as the model.
        unsafe {
            let s = (a.LiteRtGetModelSignature)(self.model, 0, &mut sig);
            self.check("LiteRtGetModelSignature", s)?;
            let s = (a.LiteRtGetNumSignatureInputs)(sig, &mut n_in);
            self.check("LiteRtGetNumSignatureInputs", s)?;
            let s = (a.LiteRtGetNumSignatureOutputs)(sig, &mut n_out);
            self.check("LiteRtGetNumSignatureOutputs", s)?;
        }
        for k in 0..n_in + n_out {
            let mut t: Handle = std::ptr::null_mut();
            // SAFETY: k is below the counts the signature reports.
            let s = unsafe {
                if k < n_in {
                    (a.LiteRtGetSignatureInputTensorByIndex)(sig, k, &mut t)
                } else {
                    (a.LiteRtGetSignatureOutputTensorByIndex)(sig, k - n_in, &mut t)
                }
            };
            self.check("LiteRtGetSignatureTensorByIndex", s)?;
            // SAFETY: t is a tensor of the live model.
            let (ranked, info) = unsafe { self.describe(t)? };
            let memory = HostMemory::new(info.bytes);
            let mut buffer: Handle = std::ptr::null_mut();
            // SAFETY: the memory outlives the buffer (buffers are destroyed first in Drop) and
            // holds `info.bytes` bytes; no deallocator, since we free it.
            let s = unsafe {
                (a.LiteRtCreateTensorBufferFromHostMemory)(
                    &ranked,
                    memory.ptr.as_ptr().cast::<c_void>(),
                    info.bytes,
                    None,
                    &mut buffer,
                )
            };
            self.check("LiteRtCreateTensorBufferFromHostMemory", s)?;
            self.buffers.push(buffer);
            let list = if k < n_in {
                &mut self.inputs
            } else {
                &mut self.outputs
            };
            list.push(Tensor { memory, info });
        }
        Ok(())
    }

    /// The tensor's type, shape and quantisation, copied out.
    ///
    /// # Safety
    /// `t` must be a tensor of the live model.
    unsafe fn describe(
        &self,
        t: Handle,
    ) -> Result<(ffi::RankedTensorType, TensorInfo), RuntimeError> {
        let a = &self.api;
        let mut name: *const std::ffi::c_char = std::ptr::null();
        // SAFETY: zeroed is a valid bit pattern for these plain C structs.
        let mut ranked: ffi::RankedTensorType = unsafe { std::mem::zeroed() };
        let mut qtype = 0;
        let mut q = ffi::PerTensor::default();
        // SAFETY: out-pointers to locals; the name is owned by the model and copied here.
        unsafe {
            let s = (a.LiteRtGetTensorName)(t, &mut name);
            self.check("LiteRtGetTensorName", s)?;
            let s = (a.LiteRtGetRankedTensorType)(t, &mut ranked);
            self.check("LiteRtGetRankedTensorType", s)?;
            let s = (a.LiteRtGetQuantizationTypeId)(t, &mut qtype);
            self.check("LiteRtGetQuantizationTypeId", s)?;
            if qtype == ffi::QUANT_PER_TENSOR {
                let s = (a.LiteRtGetPerTensorQuantization)(t, &mut q);
                self.check("LiteRtGetPerTensorQuantization", s)?;
            }
        }
        let name = if name.is_null() {
            String::new()
        } else {
            // SAFETY: a NUL-terminated string owned by the model.
            unsafe { CStr::from_ptr(name) }
                .to_string_lossy()
                .into_owned()
        };
        let rank = ranked.layout.rank().min(8);
        let dims: Vec<usize> = ranked.layout.dims[..rank]
            .iter()
            .map(|&d| d.max(0) as usize)
            .collect();
        let dtype = ElementType::from_c(ranked.element_type);
        let bytes = dims.iter().product::<usize>() * dtype.size().unwrap_or(1);
        let info = TensorInfo {
            name,
            dtype,
            dims,
            quant: Quant {
                scale: q.scale,
                zero_point: q.zero_point as i32,
            },
            bytes,
        };
        Ok((ranked, info))
    }

    fn failed(&self, call: &'static str, status: ffi::Status) -> RuntimeError {
        RuntimeError::LiteRt {
            path: self.path.clone(),
            call,
            status: StatusName(status).to_string(),
        }
    }

    fn check(&self, call: &'static str, status: ffi::Status) -> Result<(), RuntimeError> {
        if status == 0 {
            Ok(())
        } else {
            Err(self.failed(call, status))
        }
    }

    /// The model file this was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether XNNPACK runs the int8 and uint8 ops (its QS8 and QU8 flags).
    pub fn xnnpack(&self) -> bool {
        self.xnnpack
    }

    /// The library this model runs on.
    pub fn library(&self) -> &Path {
        &self.api.path
    }

    pub fn inputs(&self) -> impl ExactSizeIterator<Item = &TensorInfo> {
        self.inputs.iter().map(|t| &t.info)
    }

    pub fn outputs(&self) -> impl ExactSizeIterator<Item = &TensorInfo> {
        self.outputs.iter().map(|t| &t.info)
    }

    /// Input tensor `index` as a mutable slice of `T`, which must be its element type.
    pub fn input_mut<T: Element>(&mut self, index: usize) -> Result<&mut [T], RuntimeError> {
        let t = pick::<T>(&self.inputs, index, "input", &self.path)?;
        let p = t.memory.ptr.as_ptr().cast::<T>();
        let len = t.info.len();
        // SAFETY: the memory holds `len` elements of T (type checked by `pick`), is aligned to
        // 64, and &mut self makes this the only access until the borrow ends.
        Ok(unsafe { std::slice::from_raw_parts_mut(p, len) })
    }

    /// Output tensor `index` as a slice of `T`, which must be its element type.
    pub fn output<T: Element>(&self, index: usize) -> Result<&[T], RuntimeError> {
        let t = pick::<T>(&self.outputs, index, "output", &self.path)?;
        // SAFETY: as for input_mut; invoke needs &mut self, so the data cannot change meanwhile.
        Ok(unsafe { std::slice::from_raw_parts(t.memory.ptr.as_ptr().cast::<T>(), t.info.len()) })
    }

    /// Runs the model on the current input. Allocates nothing on our side unless it fails.
    pub fn invoke(&mut self) -> Result<(), RuntimeError> {
        let n_in = self.inputs.len();
        let n_out = self.outputs.len();
        let p = self.buffers.as_mut_ptr();
        // SAFETY: `buffers` holds n_in input then n_out output handles, all live; LiteRT reads
        // the array and writes only into the buffers' memory.
        let s = unsafe {
            (self.api.LiteRtRunCompiledModel)(self.compiled, 0, n_in, p, n_out, p.add(n_in))
        };
        if s != 0 {
            return Err(RuntimeError::Invoke {
                path: self.path.clone(),
                message: format!("LiteRtRunCompiledModel: {}", StatusName(s)),
            });
        }
        Ok(())
    }
}

/// Frees the CPU options' text, which LiteRT owns once it accepted it.
unsafe extern "C" fn free_text(p: *mut c_void) {
    if !p.is_null() {
        // SAFETY: `p` came from CString::into_raw in `build`, and LiteRT calls this once.
        drop(unsafe { CString::from_raw(p.cast()) });
    }
}

/// LiteRT's text form of the XNNPACK options (`litert_cpu_options.cc` in LiteRT's sources):
/// threads, the QS8 and QU8 flags (or none, so int8 ops stay on LiteRT's built-in kernels),
/// and the weight cache file.
pub fn cpu_options(opts: &Options) -> CString {
    let flags = if opts.xnnpack { 3 } else { 0 };
    let mut text = format!("num_threads = {}\nflags = {flags}\n", opts.threads.max(1));
    if let Some(p) = &opts.weight_cache {
        // The value is a quoted string with no escapes; a path with a quote or a newline in it
        // is refused by the config's validation.
        text.push_str(&format!("weight_cache_file_path = \"{}\"\n", p.display()));
    }
    // No NUL can be in it: the path's is refused by validation, the rest is ours.
    CString::new(text.replace('\0', "")).unwrap_or_default()
}

fn pick<'a, T: Element>(
    list: &'a [Tensor],
    index: usize,
    kind: &'static str,
    path: &Path,
) -> Result<&'a Tensor, RuntimeError> {
    let t = list.get(index).ok_or_else(|| RuntimeError::NoTensor {
        path: path.to_owned(),
        kind,
        index,
    })?;
    crate::tensor::check_type::<T>(&t.info, path)?;
    Ok(t)
}

impl fmt::Debug for CompiledModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompiledModel")
            .field("path", &self.path)
            .field("library", &self.api.path)
            .field("xnnpack", &self.xnnpack)
            .finish_non_exhaustive()
    }
}

impl Drop for CompiledModel {
    fn drop(&mut self) {
        let a = &self.api;
        // SAFETY: each handle was created by this value and is released once, users first:
        // the buffers, the compiled model, the options, the model, the environment. The
        // buffers' memory and the model's bytes are fields, freed after this.
        unsafe {
            for &b in &self.buffers {
                (a.LiteRtDestroyTensorBuffer)(b);
            }
            if !self.compiled.is_null() {
                (a.LiteRtDestroyCompiledModel)(self.compiled);
            }
            if !self.options.is_null() {
                (a.LiteRtDestroyOptions)(self.options);
            }
            if !self.model.is_null() {
                (a.LiteRtDestroyModel)(self.model);
            }
            if !self.env.is_null() {
                (a.LiteRtDestroyEnvironment)(self.env);
            }
        }
    }
}
