//! Parity of the Rust detector with the Python reference (`scripts/reference/`) on the committed
//! 300×300 inputs, with XNNPACK off (exact) and on (agreement), plus the real model's hot path
//! allocating nothing and its bad-input errors.
//!
//! `PICKET_EXPECT_TFLITE_VERSION`, when set, must prefix the loaded library's version: the
//! aarch64 stage sets it to prove which library a run used.

use picket::alloc_count::{self, CountingAlloc};
use picket::detect::config::{DetectorConfig, ModelConfig};
use picket::detect::still::RgbImage;
use picket::detect::{tflite, Detection, Detections, Detector, SsdDetector};
use picket::geom::NormRect;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

#[derive(Deserialize)]
struct Golden {
    threshold: f32,
    nms_iou: f32,
    class: String,
    class_index: u16,
    images: Vec<GoldenImage>,
}

#[derive(Deserialize)]
struct GoldenImage {
    input: String,
    detections: Vec<GoldenDet>,
}

#[derive(Deserialize)]
struct GoldenDet {
    score: f32,
    r#box: [f32; 4],
}

fn golden() -> Golden {
    let text = std::fs::read_to_string("tests/data/golden.json").unwrap();
    serde_json::from_str(&text).unwrap()
}

fn detector(xnnpack: bool, g: &Golden) -> SsdDetector {
    let model = ModelConfig {
        threads: 1,
        xnnpack,
        ..ModelConfig::default()
    };
    let det = DetectorConfig {
        classes: vec![g.class.clone()],
        threshold: g.threshold,
        nms_iou: g.nms_iou,
        ..DetectorConfig::default()
    };
    SsdDetector::new(&model, &det).unwrap()
}

fn check_library_version() {
    if let Ok(want) = std::env::var("PICKET_EXPECT_TFLITE_VERSION") {
        let got = tflite::version();
        assert!(
            got.starts_with(&want),
            "loaded TFLite {got}, expected {want}"
        );
    }
}

/// Runs `det` on every golden input; returns (reference, found) pairs per image.
fn run_all(det: &mut SsdDetector, g: &Golden) -> Vec<(Vec<Detection>, Vec<Detection>)> {
    let mut out = Detections::with_capacity(100);
    g.images
        .iter()
        .map(|img| {
            let path = Path::new("tests/data/inputs").join(&img.input);
            let rgb = RgbImage::load(&path).unwrap();
            assert_eq!((rgb.width, rgb.height), det.input_size(), "{}", img.input);
            det.input().copy_from_slice(&rgb.pixels);
            det.detect(&mut out).unwrap();
            let want = img
                .detections
                .iter()
                .map(|d| Detection {
                    bbox: NormRect::new(d.r#box[0], d.r#box[1], d.r#box[2], d.r#box[3]),
                    score: d.score,
                    class: g.class_index,
                })
                .collect();
            (want, out.as_slice().to_vec())
        })
        .collect()
}

/// Pairs each reference box with the unused found box of the highest IoU; returns
/// (IoU, score difference) per reference box, or None where nothing overlaps.
fn pair(want: &[Detection], found: &[Detection]) -> Vec<Option<(f32, f32)>> {
    let mut used = vec![false; found.len()];
    want.iter()
        .map(|w| {
            let best = (0..found.len())
                .filter(|&k| !used[k] && found[k].class == w.class)
                .max_by(|&a, &b| {
                    w.bbox
                        .iou(&found[a].bbox)
                        .total_cmp(&w.bbox.iou(&found[b].bbox))
                })?;
            let iou = w.bbox.iou(&found[best].bbox);
            if iou <= 0.0 {
                return None;
            }
            used[best] = true;
            Some((iou, (found[best].score - w.score).abs()))
        })
        .collect()
}

#[test]
fn reference_kernels_match_the_python_reference_exactly() {
    check_library_version();
    let g = golden();
    let mut det = detector(false, &g);
    assert!(!det.interpreter().xnnpack());
    let results = run_all(&mut det, &g);
    let mut boxes = 0;
    for ((want, found), img) in results.iter().zip(&g.images) {
        assert_eq!(
            found.len(),
            want.len(),
            "{}: {found:?} vs {want:?}",
            img.input
        );
        for (k, p) in pair(want, found).into_iter().enumerate() {
            let (iou, ds) = p.unwrap_or_else(|| panic!("{}: box {k} unmatched", img.input));
            assert!(iou >= 0.98, "{}: box {k} IoU {iou}", img.input);
            assert!(ds <= 0.02, "{}: box {k} score Δ {ds}", img.input);
            boxes += 1;
        }
    }
    eprintln!("reference kernels: {boxes} reference boxes, all matched");
    // The goldens are not trivially empty: a person in each still and 3–8 in each vtest frame.
    assert!(boxes >= 40, "only {boxes} reference boxes");
}

#[test]
fn xnnpack_agrees_with_the_reference() {
    check_library_version();
    let g = golden();
    let mut det = detector(true, &g);
    assert!(det.interpreter().xnnpack(), "XNNPACK was not applied");
    let (mut total, mut matched, mut extras) = (0, 0, 0);
    for (want, found) in run_all(&mut det, &g) {
        let pairs = pair(&want, &found);
        let good = pairs
            .iter()
            .flatten()
            .filter(|(iou, ds)| *iou >= 0.5 && *ds <= 0.12)
            .count();
        total += want.len();
        matched += good;
        extras += found.len().saturating_sub(pairs.iter().flatten().count());
    }
    eprintln!("XNNPACK: {matched} of {total} reference boxes matched, {extras} extra");
    assert!(
        matched * 100 >= total * 95,
        "XNNPACK matched {matched} of {total} reference boxes"
    );
    assert!(
        extras * 100 <= total * 5,
        "XNNPACK found {extras} extra boxes over {total}"
    );
}

#[test]
fn detect_allocates_nothing_after_warm_up() {
    let g = golden();
    for xnnpack in [false, true] {
        let mut det = detector(xnnpack, &g);
        let rgb = RgbImage::load(Path::new("tests/data/inputs/vtest_080.png")).unwrap();
        let mut out = Detections::with_capacity(50);
        det.input().copy_from_slice(&rgb.pixels);
        det.detect(&mut out).unwrap();
        let (r, allocs) = alloc_count::count(|| {
            for _ in 0..3 {
                det.input().copy_from_slice(&rgb.pixels);
                det.detect(&mut out)?;
            }
            Ok::<_, picket::detect::DetectError>(())
        });
        r.unwrap();
        assert!(out.len() >= 3, "{out:?}");
        assert_eq!(allocs, 0, "xnnpack {xnnpack}");
    }
}

fn tmp(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("detect_parity");
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn load_err(model: &Path, labels: Option<&Path>) -> String {
    let m = ModelConfig {
        path: Some(model.to_owned()),
        labels: Some(labels.map_or_else(
            || PathBuf::from("models/object_detection_oidv4_labelmap.txt"),
            Path::to_owned,
        )),
        ..ModelConfig::default()
    };
    SsdDetector::new(&m, &DetectorConfig::default())
        .unwrap_err()
        .to_string()
}

#[test]
fn bad_models_and_labels_are_clear_errors() {
    let e = load_err(Path::new("no/such/model.tflite"), None);
    assert!(
        e.contains("no/such/model.tflite") && e.contains("No such file"),
        "{e}"
    );

    let garbage = tmp("garbage.tflite");
    std::fs::write(&garbage, b"this is not a model at all").unwrap();
    let e = load_err(&garbage, None);
    assert!(
        e.contains("garbage.tflite") && e.contains("not a TFLite model"),
        "{e}"
    );

    let bytes = std::fs::read("models/ssd_mobilenetv2_oidv4_int8_u8in.tflite").unwrap();
    let truncated = tmp("truncated.tflite");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let e = load_err(&truncated, None);
    assert!(
        e.contains("truncated.tflite") && e.contains("not a TFLite model"),
        "{e}"
    );

    let labels = tmp("three.txt");
    std::fs::write(&labels, "???\nPerson\nCar\n").unwrap();
    let model = Path::new("models/ssd_mobilenetv2_oidv4_int8_u8in.tflite");
    let e = load_err(model, Some(&labels));
    assert!(
        e.contains("three.txt") && e.contains("3 labels") && e.contains("24 classes"),
        "{e}"
    );
}
