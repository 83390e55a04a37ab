//! LiteRT 2.3's CompiledModel C API (`libLiteRt.so`), opened at run time and checked: the
//! library must be one of the builds picket pins, and every function [`super::litert`] calls
//! must be there.
//!
//! Why opened, not linked: LiteRT is the faster runtime where it can run, and the TfLite C API
//! library (linked) is the fallback where it cannot (glibc older than 2.34 on aarch64, or no
//! library shipped), so its absence must be an answer at run time, not a failed start.
//!
//! Why pinned to a build: LiteRT ships no headers with the library and its C API changed shape
//! between releases without changing symbol names (`LiteRtCreateModelFromBuffer` gained the
//! environment as its first argument in 2.1.6; the 2.1.4 form returns error 1), and it exports
//! no version function. The declarations below are those of LiteRT 2.2.0 to 2.3.0's headers; a
//! library whose size and FNV-1a fingerprint are not those of the pinned 2.3.0 builds is refused
//! with its path, rather than called with arguments it may read differently.

#![allow(non_snake_case)]

use std::ffi::{c_char, c_int, c_void, CStr};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The library's file name, as it ships beside the binary and in the cache.
pub const LIBRARY: &str = "libLiteRt.so";

/// The pinned builds: PyPI `ai-edge-litert==2.3.0`'s `ai_edge_litert/libLiteRt.so`, by target.
/// (size in bytes, FNV-1a 64 of the whole file); `scripts/bootstrap.sh` pins their sha256.
pub const PINNED: &[(&str, u64, u64)] = &[
    ("x86_64", 8_039_424, 0xb3f0_5b2e_1047_36b2),
    ("aarch64", 5_991_672, 0x008b_0e5d_a97a_9fc1),
];

pub type Handle = *mut c_void;
pub type Status = c_int;

/// `LiteRtLayout`: a 7-bit rank and a stride flag in one `unsigned int`, then 8 dimensions and
/// 8 strides (68 bytes, as the header's `static_assert` says).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub rank_bits: u32,
    pub dims: [i32; 8],
    pub strides: [u32; 8],
}

impl Layout {
    pub fn rank(&self) -> usize {
        (self.rank_bits & 0x7f) as usize
    }
}

/// `LiteRtRankedTensorType`: the element type (numbered as `TfLiteType`) and the layout.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RankedTensorType {
    pub element_type: c_int,
    pub layout: Layout,
}

/// `LiteRtQuantizationPerTensor`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct PerTensor {
    pub scale: f32,
    pub zero_point: i64,
}

/// `kLiteRtHwAcceleratorCpu`.
pub const HW_CPU: c_int = 1;
/// `kLiteRtQuantizationPerTensor`.
pub const QUANT_PER_TENSOR: c_int = 1;

/// Declares [`Api`]: one function pointer per C function, each looked up by name.
macro_rules! api {
    ($($name:ident: fn($($arg:ty),*) $(-> $ret:ty)?;)*) => {
        /// The functions of the loaded library, each looked up once. Holds the library open.
        pub struct Api {
            $(pub $name: unsafe extern "C" fn($($arg),*) $(-> $ret)?,)*
            pub path: PathBuf,
            /// Never closed: LiteRT's C++ runtime registers thread-local and exit-time
            /// destructors that would run into unmapped code after a `dlclose`.
            _lib: std::mem::ManuallyDrop<libloading::Library>,
        }

        impl Api {
            fn resolve(lib: std::mem::ManuallyDrop<libloading::Library>, path: PathBuf) -> Result<Self, LoadError> {
                // SAFETY: only addresses are taken here; each is declared with the signature of
                // LiteRT 2.3.0's header, and `load` checks the library is that build before
                // handing the table out.
                unsafe {
                    $(let $name = *lib
                        .get::<unsafe extern "C" fn($($arg),*) $(-> $ret)?>(
                            concat!(stringify!($name), "\0").as_bytes(),
                        )
                        .map_err(|_| LoadError::Symbol {
                            library: path.clone(),
                            symbol: stringify!($name),
                        })?;)*
                    Ok(Self { $($name,)* path, _lib: lib })
                }
            }
        }
    };
}

api! {
    LiteRtCreateEnvironment: fn(c_int, *const c_void, *mut Handle) -> Status;
    LiteRtDestroyEnvironment: fn(Handle);
    LiteRtCreateModelFromBuffer: fn(Handle, *const c_void, usize, *mut Handle) -> Status;
    LiteRtDestroyModel: fn(Handle);
    LiteRtGetNumModelSignatures: fn(Handle, *mut usize) -> Status;
    LiteRtGetModelSignature: fn(Handle, usize, *mut Handle) -> Status;
    LiteRtGetNumSignatureInputs: fn(Handle, *mut usize) -> Status;
    LiteRtGetNumSignatureOutputs: fn(Handle, *mut usize) -> Status;
    LiteRtGetSignatureInputTensorByIndex: fn(Handle, usize, *mut Handle) -> Status;
    LiteRtGetSignatureOutputTensorByIndex: fn(Handle, usize, *mut Handle) -> Status;
    LiteRtGetTensorName: fn(Handle, *mut *const c_char) -> Status;
    LiteRtGetRankedTensorType: fn(Handle, *mut RankedTensorType) -> Status;
    LiteRtGetQuantizationTypeId: fn(Handle, *mut c_int) -> Status;
    LiteRtGetPerTensorQuantization: fn(Handle, *mut PerTensor) -> Status;
    LiteRtCreateOptions: fn(*mut Handle) -> Status;
    LiteRtDestroyOptions: fn(Handle);
    LiteRtSetOptionsHardwareAccelerators: fn(Handle, c_int) -> Status;
    LiteRtCreateOpaqueOptions: fn(
        *const c_char,
        *mut c_void,
        Option<unsafe extern "C" fn(*mut c_void)>,
        *mut Handle
    ) -> Status;
    LiteRtAddOpaqueOptions: fn(Handle, Handle) -> Status;
    LiteRtCreateCompiledModel: fn(Handle, Handle, Handle, *mut Handle) -> Status;
    LiteRtDestroyCompiledModel: fn(Handle);
    LiteRtCreateTensorBufferFromHostMemory: fn(
        *const RankedTensorType,
        *mut c_void,
        usize,
        Option<unsafe extern "C" fn(*mut c_void)>,
        *mut Handle
    ) -> Status;
    LiteRtDestroyTensorBuffer: fn(Handle);
    LiteRtRunCompiledModel: fn(Handle, usize, usize, *mut Handle, usize, *mut Handle) -> Status;
}

/// Why the LiteRT library could not be used; each names the library.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error("LiteRT library {}: it could not be loaded: {cause}", library.display())]
    Open { library: PathBuf, cause: String },
    #[error(
        "LiteRT library {}: not the LiteRT 2.3.0 build picket pins for {arch} ({size} bytes, \
         fingerprint {fingerprint:016x}); its C API differs between releases, so no other \
         build is called",
        library.display()
    )]
    Version {
        library: PathBuf,
        arch: &'static str,
        size: u64,
        fingerprint: u64,
    },
    #[error("LiteRT library {}: it lacks the symbol `{symbol}`", library.display())]
    Symbol {
        library: PathBuf,
        symbol: &'static str,
    },
}

impl fmt::Debug for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Api")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Api {
    /// Opens the library at `path`, or, with `None`, `libLiteRt.so` by the search the binary's
    /// RUNPATH gives (beside the binary, `../lib/picket`, or the build's cache), looks up every
    /// function (a missing one is named), and checks the file is a pinned build.
    pub fn load(path: Option<&Path>) -> Result<Self, LoadError> {
        let name = path.unwrap_or(Path::new(LIBRARY));
        // SAFETY: loading runs the library's initialisers; LiteRT's only register its CPU
        // accelerator. RTLD_LOCAL keeps its symbols (it carries its own TFLite) out of the
        // process's global namespace, away from the linked TfLite C library.
        let lib = unsafe {
            libloading::os::unix::Library::open(
                Some(name),
                libloading::os::unix::RTLD_NOW | libloading::os::unix::RTLD_LOCAL,
            )
        }
        .map_err(|e| LoadError::Open {
            library: name.to_owned(),
            cause: e.to_string(),
        })?;
        // Never closed, even when refused below (see `Api::_lib`).
        let lib = std::mem::ManuallyDrop::new(libloading::Library::from(lib));
        let library = loaded_path(&lib).unwrap_or_else(|| name.to_owned());
        let api = Self::resolve(lib, library)?;
        check_pinned(&api.path)?;
        Ok(api)
    }
}

/// Where the dynamic loader found the library: the file of one of its symbols.
fn loaded_path(lib: &libloading::Library) -> Option<PathBuf> {
    // SAFETY: only the address is taken, to ask dladdr which file holds it.
    let sym = unsafe { lib.get::<*const c_void>(b"LiteRtCreateEnvironment\0") }.ok()?;
    let mut info = libc::Dl_info {
        dli_fname: std::ptr::null(),
        dli_fbase: std::ptr::null_mut(),
        dli_sname: std::ptr::null(),
        dli_saddr: std::ptr::null_mut(),
    };
    // SAFETY: dladdr fills `info` for an address inside a loaded object; the file name it
    // gives is owned by the loader and copied before the library can be closed.
    let found = unsafe { libc::dladdr(*sym, &mut info) };
    if found == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dli_fname is a NUL-terminated string.
    let name = unsafe { CStr::from_ptr(info.dli_fname) };
    Some(PathBuf::from(name.to_string_lossy().into_owned()))
}

/// The target's pin, if picket pins a LiteRT build for it.
pub fn pin_for_target() -> Option<(&'static str, u64, u64)> {
    PINNED
        .iter()
        .copied()
        .find(|(arch, _, _)| *arch == std::env::consts::ARCH)
}

/// Refuses a library that is not the pinned build for this target.
fn check_pinned(library: &Path) -> Result<(), LoadError> {
    let (size, fingerprint) = fingerprint(library).map_err(|e| LoadError::Open {
        library: library.to_owned(),
        cause: e.to_string(),
    })?;
    match pin_for_target() {
        Some((_, s, f)) if (s, f) == (size, fingerprint) => Ok(()),
        _ => Err(LoadError::Version {
            library: library.to_owned(),
            arch: std::env::consts::ARCH,
            size,
            fingerprint,
        }),
    }
}

/// The file's size and FNV-1a 64 hash: which build it is (not a defence against tampering,
/// which the package's checksums are for).
pub fn fingerprint(path: &Path) -> std::io::Result<(u64, u64)> {
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 16];
    let (mut size, mut h) = (0u64, 0xcbf2_9ce4_8422_2325u64);
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok((size, h));
        }
        size += n as u64;
        for &b in &buf[..n] {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// A LiteRT status as its name in the header, for error messages.
pub struct StatusName(pub Status);

impl fmt::Display for StatusName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.0 {
            0 => "Ok",
            1 => "ErrorInvalidArgument",
            2 => "ErrorMemoryAllocationFailure",
            3 => "ErrorRuntimeFailure",
            4 => "ErrorMissingInputTensor",
            5 => "ErrorUnsupported",
            6 => "ErrorNotFound",
            7 => "ErrorTimeoutExpired",
            8 => "ErrorWrongVersion",
            9 => "ErrorUnknown",
            10 => "ErrorAlreadyExists",
            500 => "ErrorFileIO",
            501 => "ErrorInvalidFlatbuffer",
            502 => "ErrorDynamicLoading",
            503 => "ErrorSerialization",
            504 => "ErrorCompilation",
            1000 => "ErrorIndexOOB",
            _ => "",
        };
        if name.is_empty() {
            write!(f, "status {}", self.0)
        } else {
            write!(f, "kLiteRtStatus{name} ({})", self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layouts_match_the_headers() {
        assert_eq!(std::mem::size_of::<Layout>(), 68);
        assert_eq!(std::mem::size_of::<RankedTensorType>(), 72);
        assert_eq!(std::mem::size_of::<PerTensor>(), 16);
    }

    #[test]
    fn a_fingerprint_is_fnv1a_of_the_bytes() {
        let path = std::env::temp_dir().join(format!("picket-fnv-{}", std::process::id()));
        std::fs::write(&path, b"a").unwrap();
        // FNV-1a 64 of "a", from the reference's test vectors.
        assert_eq!(fingerprint(&path).unwrap(), (1, 0xaf63_dc4c_8601_ec8c));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_status_reads_as_its_name() {
        assert_eq!(
            StatusName(504).to_string(),
            "kLiteRtStatusErrorCompilation (504)"
        );
        assert_eq!(StatusName(77).to_string(), "status 77");
    }
}
