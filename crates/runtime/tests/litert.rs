//! The LiteRT backend against the real library: the options picket writes in LiteRT's text form
//! reach XNNPACK (QS8 on: outputs differ from the built-in kernels; off: the built-in kernels,
//! bit-identical to TF 2.9's on x86_64), and a library that is missing, another build or lacks a
//! symbol is a clear error naming it. The thread count has its own test binary
//! (`litert_threads.rs`), since it counts the process's threads.

// Test code: a panic here is a failing test, not a box that stops. (clippy.toml exempts `#[test]`
// functions and `#[cfg(test)]` modules, not the helpers of an integration-test crate.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use picket_runtime::litert::{self, LoadError};
use picket_runtime::{CompiledModel, Model, Options, Runtime, RuntimeError};
use std::path::{Path, PathBuf};

const MODEL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../models/ssd_mobilenetv2_oidv4_int8_u8in.tflite"
);

fn tmp(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("runtime_litert");
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

/// A fixed input with structure at several scales, so every layer sees varied values.
fn fill(input: &mut [u8]) {
    for (i, v) in input.iter_mut().enumerate() {
        let (p, c) = (i / 3, i % 3);
        let (x, y) = (p % 300, p / 300);
        *v = ((x * 7 + y * 3 + c * 50) ^ (x / 16 * 40 + y / 32 * 25)) as u8;
    }
}

/// Both outputs of one run, as bytes.
fn run(model: &mut Model) -> Vec<i8> {
    fill(model.input_mut::<u8>(0).unwrap());
    model.invoke().unwrap();
    let mut out = model.output::<i8>(0).unwrap().to_vec();
    out.extend_from_slice(model.output::<i8>(1).unwrap());
    out
}

fn load(runtime: Runtime, xnnpack: bool) -> Model {
    let opts = Options {
        runtime,
        xnnpack,
        ..Options::default()
    };
    Model::from_file(Path::new(MODEL), &opts).unwrap()
}

#[test]
fn the_qs8_flag_reaches_xnnpack() {
    let mut on = load(Runtime::LiteRt, true);
    let mut off = load(Runtime::LiteRt, false);
    assert!(matches!(on, Model::LiteRt(_)), "{on:?}");
    let infos: Vec<_> = on
        .outputs()
        .map(|t| (t.name.clone(), t.dims.clone()))
        .collect();
    assert_eq!(
        infos,
        [
            ("raw_outputs/box_encodings".to_owned(), vec![1, 1917, 4]),
            (
                "raw_outputs/class_predictions".to_owned(),
                vec![1, 1917, 24]
            )
        ]
    );
    let q = on.outputs().nth(1).unwrap().quant;
    assert!(
        (q.scale - 0.0627451).abs() < 1e-6 && q.zero_point == -1,
        "{q:?}"
    );

    let (a, b) = (run(&mut on), run(&mut off));
    let differ = a.iter().zip(&b).filter(|(x, y)| x != y).count();
    eprintln!(
        "LiteRT, flags 3 against flags 0: {differ} of {} values differ",
        a.len()
    );
    // With QS8 the int8 ops run on XNNPACK's kernels, which round differently.
    assert!(differ > 0, "flags = 3 gave the built-in kernels' outputs");

    // With flags 0 they stay on LiteRT's built-in kernels, close to TF 2.9's reference kernels
    // (measured on x86_64: 1.3% of values differ, by a step or so, against 56% with QS8): had
    // the text been ignored, both runs would have used LiteRT's defaults and agreed above.
    if cfg!(target_arch = "x86_64") {
        // (aarch64's builds round their int8 kernels differently; there the check above holds.)
        let mut reference = load(Runtime::TfLite, false);
        let r = run(&mut reference);
        let n = |x: &[i8]| x.iter().zip(&r).filter(|(p, q)| p != q).count();
        let (n_off, n_on) = (n(&b), n(&a));
        eprintln!("against TF 2.9's reference kernels: flags 0 {n_off}, flags 3 {n_on} differ");
        assert!(
            n_off * 20 < r.len(),
            "flags = 0: {n_off} values differ from the reference"
        );
        assert!(
            n_on * 4 > r.len(),
            "flags = 3: only {n_on} values differ from the reference"
        );
    }
    // Same input, same library: a second run gives the same outputs.
    assert_eq!(run(&mut on), a);
}

#[test]
fn auto_takes_litert_and_tflite_is_what_it_says() {
    assert!(matches!(load(Runtime::Auto, true), Model::LiteRt(_)));
    let t = load(Runtime::TfLite, true);
    assert!(matches!(t, Model::TfLite(_)), "{t:?}");
    assert!(t.runtime().starts_with("TFLite 2."), "{}", t.runtime());
}

#[test]
fn a_missing_library_is_an_error_for_litert_and_a_fallback_for_auto() {
    let missing = tmp("nowhere/libLiteRt.so");
    let opts = |runtime| Options {
        runtime,
        litert_library: Some(missing.clone()),
        ..Options::default()
    };
    let e = Model::from_file(Path::new(MODEL), &opts(Runtime::LiteRt)).unwrap_err();
    assert!(matches!(e, RuntimeError::Library { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("nowhere/libLiteRt.so") && text.contains("could not be loaded"),
        "{text}"
    );
    let m = Model::from_file(Path::new(MODEL), &opts(Runtime::Auto)).unwrap();
    assert!(matches!(m, Model::TfLite(_)), "{m:?}");
}

#[test]
fn a_library_lacking_a_symbol_is_named_with_the_symbol() {
    // The TfLite C library is a real shared library with none of LiteRT's functions.
    let e = litert::open(Some(Path::new(env!("PICKET_TFLITE_LIBRARY")))).unwrap_err();
    assert_eq!(
        e,
        LoadError::Symbol {
            library: PathBuf::from(env!("PICKET_TFLITE_LIBRARY")),
            symbol: "LiteRtCreateEnvironment",
        }
    );
    assert!(
        e.to_string()
            .contains("lacks the symbol `LiteRtCreateEnvironment`"),
        "{e}"
    );
}

#[test]
fn another_build_of_the_library_is_refused_by_name() {
    // The pinned library with one byte changed in its compiler note: it loads and has every
    // symbol, but it is not the build whose C API picket declares.
    let mut bytes = std::fs::read(env!("PICKET_LITERT_LIBRARY")).unwrap();
    let at = bytes
        .windows(13)
        .position(|w| w == b"clang version")
        .expect("the library's .comment note");
    bytes[at] = b'C';
    let other = tmp("other/libLiteRt.so");
    std::fs::create_dir_all(other.parent().unwrap()).unwrap();
    std::fs::write(&other, &bytes).unwrap();
    let e = litert::open(Some(&other)).unwrap_err();
    assert!(matches!(e, LoadError::Version { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("other/libLiteRt.so") && text.contains("not the LiteRT 2.3.0 build"),
        "{text}"
    );
}

#[test]
fn a_bad_model_is_a_clear_error_on_litert_too() {
    let lib = litert::open(None).unwrap();
    let opts = Options::default();
    let e = CompiledModel::from_bytes(
        lib.clone(),
        b"not a model".to_vec(),
        Path::new("x.tflite"),
        &opts,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("x.tflite") && e.contains("not a TFLite model"),
        "{e}"
    );
    let mut b = std::fs::read(MODEL).unwrap();
    b.truncate(b.len() / 2);
    let e = CompiledModel::from_bytes(lib, b, Path::new("half.tflite"), &opts)
        .unwrap_err()
        .to_string();
    assert!(e.contains("half.tflite"), "{e}");
}

#[test]
fn the_weight_cache_is_written_once_and_reused() {
    let cache = tmp("xnnpack.cache");
    let _ = std::fs::remove_file(&cache);
    let opts = Options {
        runtime: Runtime::LiteRt,
        weight_cache: Some(cache.clone()),
        ..Options::default()
    };
    let mut first = Model::from_file(Path::new(MODEL), &opts).unwrap();
    let want = run(&mut first);
    drop(first);
    let written = std::fs::metadata(&cache).expect("no weight cache written");
    // The packed weights of a 5.5 MB int8 model: megabytes, not a header.
    assert!(written.len() > 1 << 20, "{} bytes", written.len());
    let mut second = Model::from_file(Path::new(MODEL), &opts).unwrap();
    assert_eq!(
        run(&mut second),
        want,
        "outputs changed with the cache reused"
    );
    let again = std::fs::metadata(&cache).unwrap();
    assert_eq!(
        again.modified().unwrap(),
        written.modified().unwrap(),
        "rewritten"
    );
    let mut plain = load(Runtime::LiteRt, true);
    assert_eq!(
        run(&mut plain),
        want,
        "outputs differ with and without the cache"
    );
}
