//! `picket feed` (hidden) on bad input, on the host: each error names what is wrong, and the
//! command is not listed in `--help`. Feeding a real v4l2loopback is `tests/hil/run.rs`'s job,
//! in the kernel VM.

use std::process::Command;

const CLIP: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/clip/vtest-460-539.mjpeg"
);

/// Runs `picket feed ARGS`; returns its exit code and stderr.
fn feed(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_picket"))
        .arg("feed")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn feed_is_hidden_from_help() {
    let out = Command::new(env!("CARGO_BIN_EXE_picket"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("run"), "{help}");
    assert!(!help.contains("feed"), "{help}");
}

/// `picket feed ARGS` must fail with exit 1 and say `want`.
fn refused(args: &[&str], want: &str) {
    let (code, err) = feed(args);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains(want), "want {want:?} in: {err}");
}

#[test]
fn bad_input_is_refused_naming_what_is_wrong() {
    let readme = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let null = ["--device", "/dev/null"];
    let cases: [(&[&str], &str); 7] = [
        (
            &[null[0], null[1], "/nonexistent/clip.mjpeg"],
            "/nonexistent/clip.mjpeg",
        ),
        (
            &[null[0], null[1], "--from", "100", CLIP],
            "no frames in 100..its end (the clip has 80)",
        ),
        (
            &[null[0], null[1], "--from", "10", "--to", "5", CLIP],
            "no frames in 10..5\n",
        ),
        (
            &[null[0], null[1], readme],
            "README.md: no JPEG frames in it",
        ),
        (
            &[null[0], null[1], "--to", "2", CLIP],
            "/dev/null: VIDIOC_S_FMT (output, MJPEG 384x288)",
        ),
        (
            &["--device", "/nonexistent/video9", CLIP],
            "/nonexistent/video9",
        ),
        (
            &[null[0], null[1], "--fps", "0", CLIP],
            "--fps 0 must be in 1..=240",
        ),
    ];
    for (args, want) in cases {
        refused(args, want);
    }
}
