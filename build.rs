//! Links the TfLite C library (`libtensorflowlite_c.so`, TF 2.9) for the target architecture.
//!
//! The library comes from `$PICKET_TFLITE_DIR`, or else from the cache that
//! `scripts/bootstrap.sh` fills: `${XDG_CACHE_HOME:-$HOME/.cache}/picket/tflite/tf29/<arch>`.
//!
//! The binary finds it at run time through a RUNPATH (`--enable-new-dtags`, so that
//! `LD_LIBRARY_PATH` can still swap in another build, such as LiteRT's):
//! - `$ORIGIN` and `$ORIGIN/../lib/picket`, where a release or package ships it;
//! - the directory it was linked from, so `cargo test` and `cargo run` work with no environment.
//!   A release (`PICKET_RELEASE=1`, set by `scripts/build-release.sh`) leaves this one out: it
//!   would name a directory of the build machine in the shipped binary.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PICKET_TFLITE_DIR");
    println!("cargo:rerun-if-env-changed=XDG_CACHE_HOME");
    println!("cargo:rerun-if-env-changed=HOME");
    println!("cargo:rerun-if-env-changed=PICKET_RELEASE");

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
    println!("cargo:rustc-link-arg=-Wl,--enable-new-dtags");
    println!("cargo:rustc-link-arg=-Wl,-rpath,$ORIGIN:$ORIGIN/../lib/picket");
    if env::var("PICKET_RELEASE").as_deref() != Ok("1") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }
}
