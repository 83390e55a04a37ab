//! Links the TfLite C library (`libtensorflowlite_c.so`, TF 2.9) for the target architecture,
//! and finds LiteRT's (`libLiteRt.so`, 2.3.0), which is opened at run time, not linked.
//!
//! The TfLite library comes from `$PICKET_TFLITE_DIR`, or else from the cache that
//! `scripts/bootstrap.sh` fills: `${XDG_CACHE_HOME:-$HOME/.cache}/picket/tflite/tf29/<arch>`.
//! LiteRT's comes from `$PICKET_LITERT_DIR`, or else `…/picket/tflite/litert-2.3/<arch>`; it is
//! optional (the `auto` runtime falls back to the TfLite C API without it), and its directory
//! is given on as `DEP_TENSORFLOWLITE_C_LITERT_DIR` so the binaries' RUNPATH finds it too.
//!
//! The directory goes to the packages that depend on this one as `DEP_TENSORFLOWLITE_C_DIR`
//! (`links = "tensorflowlite_c"` in Cargo.toml): the appliance's build script makes its
//! binaries' RUNPATH from it, since link arguments given here reach only this package's own
//! binaries. Those, its test binaries, get the directory as their rpath (RUNPATH, through
//! `--enable-new-dtags`, so that `LD_LIBRARY_PATH` can still swap in another build, such as
//! LiteRT's), so that `cargo test -p picket-runtime` works with no environment.

// A build script fails the build by panicking, with its message; it reads no outside data.
#![allow(clippy::panic)]

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PICKET_TFLITE_DIR");
    println!("cargo:rerun-if-env-changed=PICKET_LITERT_DIR");
    println!("cargo:rerun-if-env-changed=XDG_CACHE_HOME");
    println!("cargo:rerun-if-env-changed=HOME");

    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let cache = env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"))
        .join("picket/tflite");
    let dir = match env::var_os("PICKET_TFLITE_DIR") {
        Some(d) => PathBuf::from(d),
        None => cache.join("tf29").join(&arch),
    };
    let litert = match env::var_os("PICKET_LITERT_DIR") {
        Some(d) => PathBuf::from(d),
        None => cache.join("litert-2.3").join(&arch),
    };
    // For this crate's tests: the libraries they load or copy by path.
    println!(
        "cargo:rustc-env=PICKET_TFLITE_LIBRARY={}",
        dir.join("libtensorflowlite_c.so").display()
    );
    println!(
        "cargo:rustc-env=PICKET_LITERT_LIBRARY={}",
        litert.join("libLiteRt.so").display()
    );
    if litert.join("libLiteRt.so").is_file() {
        println!("cargo:litert_dir={}", litert.display());
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", litert.display());
    } else {
        println!(
            "cargo:warning=LiteRT 2.3 for {arch} is not in {}: picket will run on the TfLite C \
             API (scripts/bootstrap.sh fetches it)",
            litert.display()
        );
    }
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
