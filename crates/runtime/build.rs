//! Links the TfLite C library (`libtensorflowlite_c.so`, TF 2.9) for the target architecture.
//!
//! The library comes from `$PICKET_TFLITE_DIR`, or else from the cache that
//! `scripts/bootstrap.sh` fills: `${XDG_CACHE_HOME:-$HOME/.cache}/picket/tflite/tf29/<arch>`.
//!
//! The directory goes to the packages that depend on this one as `DEP_TENSORFLOWLITE_C_DIR`
//! (`links = "tensorflowlite_c"` in Cargo.toml): the appliance's build script makes its
//! binaries' RUNPATH from it, since link arguments given here reach only this package's own
//! binaries. Those, its test binaries, get the directory as their rpath (RUNPATH, through
//! `--enable-new-dtags`, so that `LD_LIBRARY_PATH` can still swap in another build, such as
//! LiteRT's), so that `cargo test -p picket-runtime` works with no environment.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PICKET_TFLITE_DIR");
    println!("cargo:rerun-if-env-changed=XDG_CACHE_HOME");
    println!("cargo:rerun-if-env-changed=HOME");

    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let dir = match env::var_os("PICKET_TFLITE_DIR") {
        Some(d) => PathBuf::from(d),
        None => {
            let cache = env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .unwrap_or_else(|| PathBuf::from(".cache"));
            cache.join("picket/tflite/tf29").join(&arch)
        }
    };
    let lib = dir.join("libtensorflowlite_c.so");
    if !lib.is_file() {
        panic!(
            "\n\nthe TfLite C library for {arch} is missing: {} not found.\n\
             Run scripts/bootstrap.sh to fetch it, or set PICKET_TFLITE_DIR to a directory \
             holding libtensorflowlite_c.so.\n\n",
            lib.display()
        );
    }
    println!("cargo:rerun-if-changed={}", lib.display());
    println!("cargo:rustc-link-search=native={}", dir.display());
    println!("cargo:rustc-link-lib=dylib=tensorflowlite_c");
    println!("cargo:dir={}", dir.display());
    println!("cargo:rustc-link-arg=-Wl,--enable-new-dtags");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
}
