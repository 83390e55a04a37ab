//! `picket detect`, `picket bench` and `picket check` run as a user runs them.

use crate::util::{picket, stderr};
use std::path::Path;

#[test]
fn detect_prints_json_and_draws_boxes() {
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli_detect_out");
    let _ = std::fs::remove_dir_all(&out_dir);
    let o = picket(&[
        "detect",
        "tests/data/inputs/person.png",
        "tests/data/inputs/vtest_720.png",
        "--json",
        "--no-xnnpack",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let people = v[0]["detections"].as_array().unwrap();
    assert_eq!(people.len(), 1, "{v}");
    assert_eq!(people[0]["label"], "Person");
    let score = people[0]["score"].as_f64().unwrap();
    assert!((score - 0.6375).abs() < 0.001, "{score}");
    // The person stands left of centre: x 89..127 of 300.
    let px = &people[0]["pixels"];
    assert!((85..=93).contains(&px["x0"].as_u64().unwrap()), "{px}");
    assert!((123..=131).contains(&px["x1"].as_u64().unwrap()), "{px}");
    assert_eq!(v[1]["detections"].as_array().unwrap().len(), 8, "{v}");
    let jpeg = std::fs::read(out_dir.join("person.jpg")).unwrap();
    assert!(jpeg.starts_with(&[0xff, 0xd8, 0xff]) && jpeg.len() > 1000);
}

/// Runs picket with `args`, which must fail with exit status 1 and a message containing `want`.
fn fails_with(args: &[&str], want: &str) {
    let o = picket(args);
    assert_eq!(o.status.code(), Some(1), "{args:?}");
    assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
}

#[test]
fn detect_refuses_bad_input_with_a_clear_message() {
    fails_with(
        &["detect", "Cargo.toml"],
        "Cargo.toml: neither JPEG nor PNG",
    );
    let person = "tests/data/inputs/person.png";
    fails_with(
        &["detect", person, "--threshold", "1.5"],
        "--threshold: must be in (0, 1], not 1.5",
    );
    fails_with(
        &["detect", person, "--model", "no/such.tflite"],
        "no/such.tflite",
    );
    fails_with(&["detect", "no/such/image.jpg"], "no/such/image.jpg");
    fails_with(
        &["bench", "--threads", "0"],
        "--threads: must be between 1 and 16",
    );
}

#[test]
fn check_reports_detector_errors_with_line_and_column() {
    let cfg = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bad-detector.toml");
    std::fs::write(&cfg, "[detector]\nthreshold = 0\nclasses = []\n").unwrap();
    let o = picket(&["check", "--config", cfg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("bad-detector.toml:3:11: detector.classes"),
        "{e}"
    );
    assert!(
        e.contains("bad-detector.toml:2:13: detector.threshold"),
        "{e}"
    );
}

#[test]
fn bench_reports_invoke_times_and_the_model_spec() {
    let o = picket(&["bench", "--runs", "3", "--threads", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(s.contains("invoke   median"), "{s}");
    assert!(
        s.contains("raw_outputs/box_encodings [1, 1917, 4] int8"),
        "{s}"
    );
    assert!(s.contains("XNNPACK on"), "{s}");
}
