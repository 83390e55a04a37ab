//! Bad models: each gets an error naming the file and the problem, and TFLite's own messages
//! reach our errors through the error reporter (a C `va_list` crossing into Rust, which the
//! aarch64 stage runs under qemu with both TFLite libraries).

// Test code: a panic here is a failing test, not a box that stops. (clippy.toml exempts `#[test]`
// functions and `#[cfg(test)]` modules, not the helpers of an integration-test crate.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use picket_runtime::{Interpreter, Options};
use std::path::{Path, PathBuf};

const MODEL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../models/ssd_mobilenetv2_oidv4_int8_u8in.tflite"
);

fn tmp(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("runtime_errors");
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn load_err(model: &Path) -> String {
    Interpreter::from_file(model, &Options::default())
        .unwrap_err()
        .to_string()
}

#[test]
fn missing_garbage_and_truncated_models_are_clear_errors() {
    let e = load_err(Path::new("no/such/model.tflite"));
    assert!(
        e.contains("no/such/model.tflite") && e.contains("No such file"),
        "{e}"
    );

    let garbage = tmp("garbage.tflite");
    std::fs::write(&garbage, b"this is not a model at all").unwrap();
    let e = load_err(&garbage);
    assert!(
        e.contains("garbage.tflite") && e.contains("not a TFLite model"),
        "{e}"
    );

    let bytes = std::fs::read(MODEL).unwrap();
    let truncated = tmp("truncated.tflite");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let e = load_err(&truncated);
    assert!(
        e.contains("truncated.tflite") && e.contains("not a TFLite model"),
        "{e}"
    );
}

/// Little-endian reads and the flatbuffer table walk needed to find operator-code versions.
fn u32_at(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize
}

/// The absolute position of field `k` of the table at `table`, if the buffer stores it.
fn field(b: &[u8], table: usize, k: usize) -> Option<usize> {
    let soffset = i32::from_le_bytes(b[table..table + 4].try_into().unwrap());
    let vtable = (table as i64 - i64::from(soffset)) as usize;
    let vt_len = u16::from_le_bytes(b[vtable..vtable + 2].try_into().unwrap()) as usize;
    let slot = 4 + 2 * k;
    if slot + 2 > vt_len {
        return None;
    }
    let off = u16::from_le_bytes(b[vtable + slot..vtable + slot + 2].try_into().unwrap());
    (off != 0).then(|| table + off as usize)
}

#[test]
fn tflite_messages_reach_our_errors() {
    // Ask for op versions no TFLite has: interpreter creation fails, and the reason TFLite gives
    // through its error reporter must be in our error.
    let mut b = std::fs::read(MODEL).unwrap();
    let model = u32_at(&b, 0);
    let codes = field(&b, model, 1).expect("Model.operator_codes");
    let vec = codes + u32_at(&b, codes);
    let mut changed = 0;
    for i in 0..u32_at(&b, vec) {
        let elem = vec + 4 + 4 * i;
        let code = elem + u32_at(&b, elem);
        // OperatorCode.version is field 2, an int32.
        if let Some(v) = field(&b, code, 2) {
            b[v..v + 4].copy_from_slice(&99i32.to_le_bytes());
            changed += 1;
        }
    }
    assert!(changed > 0, "no operator code stores its version");
    let path = tmp("version99.tflite");
    std::fs::write(&path, &b).unwrap();
    let e = load_err(&path);
    assert!(
        e.contains("version99.tflite") && e.contains("interpreter could not be created"),
        "{e}"
    );
    assert!(
        e.contains("version '99'"),
        "TFLite's message is missing: {e}"
    );
}
