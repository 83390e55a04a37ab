//! The RUNPATH of picket's binaries, by which they find the TfLite C library at run time.
//!
//! `picket-runtime`'s build script finds and links `libtensorflowlite_c.so` and gives its
//! directory here as `DEP_TENSORFLOWLITE_C_DIR`; link arguments reach only the package that
//! emits them, so the RUNPATH is set here (`--enable-new-dtags`, so that `LD_LIBRARY_PATH` can
//! still swap in another build, such as LiteRT's):
//! - `$ORIGIN` and `$ORIGIN/../lib/picket`, where a release or package ships it;
//! - the directory it was linked from, so `cargo test` and `cargo run` work with no environment,
//!   and likewise LiteRT's (`DEP_TENSORFLOWLITE_C_LITERT_DIR`, when the cache has it), which is
//!   opened at run time by name (`dlopen` searches the calling binary's RUNPATH).
//!   A release (`PICKET_RELEASE=1`, set by `scripts/build-release.sh`) leaves these out: they
//!   would name directories of the build machine in the shipped binary.
//!
//! It also links the binaries with `link/hot-text.ld`, which puts the code `picket run`
//! executes first in the text, so that less of the binary is resident (`scripts/hot_text.py`).

// A build script fails the build by panicking, with its message; it reads no outside data.
#![allow(clippy::panic)]

use std::env;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PICKET_RELEASE");
    println!("cargo:rerun-if-changed=link/hot-text.ld");

    let root = env!("CARGO_MANIFEST_DIR");
    println!("cargo:rustc-link-arg-bins=-Wl,-T,{root}/link/hot-text.ld");

    println!("cargo:rustc-link-arg=-Wl,--enable-new-dtags");
    println!("cargo:rustc-link-arg=-Wl,-rpath,$ORIGIN:$ORIGIN/../lib/picket");
    if env::var("PICKET_RELEASE").as_deref() != Ok("1") {
        match env::var("DEP_TENSORFLOWLITE_C_DIR") {
            Ok(dir) => println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}"),
            Err(_) => panic!("picket-runtime gave no DEP_TENSORFLOWLITE_C_DIR (its `links` key)"),
        }
        if let Ok(dir) = env::var("DEP_TENSORFLOWLITE_C_LITERT_DIR") {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        }
    }
}
