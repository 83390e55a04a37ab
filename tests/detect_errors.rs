//! Setting up the detector fails with a clear error: a label map that does not match its model
//! is refused, naming both, and the runtime's errors about the model file come through whole.
//! (Bad model files themselves are `picket-runtime`'s tests.)

use picket::detect::config::{DetectorConfig, ModelConfig};
use picket::detect::SsdDetector;
use std::path::{Path, PathBuf};

const MODEL: &str = "models/ssd_mobilenetv2_oidv4_int8_u8in.tflite";
const LABELS: &str = "models/object_detection_oidv4_labelmap.txt";

fn load_err(model: &Path, labels: &Path) -> String {
    let m = ModelConfig {
        path: Some(model.to_owned()),
        labels: Some(labels.to_owned()),
        ..ModelConfig::default()
    };
    SsdDetector::new(&m, &DetectorConfig::default())
        .unwrap_err()
        .to_string()
}

#[test]
fn labels_that_do_not_match_the_model_are_refused() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("detect_errors");
    std::fs::create_dir_all(&dir).unwrap();
    let labels = dir.join("three.txt");
    std::fs::write(&labels, "???\nPerson\nCar\n").unwrap();
    let e = load_err(Path::new(MODEL), &labels);
    assert!(
        e.contains("three.txt") && e.contains("3 labels") && e.contains("24 classes"),
        "{e}"
    );
}

#[test]
fn a_missing_model_is_named_in_the_detectors_error() {
    let e = load_err(&PathBuf::from("no/such/model.tflite"), Path::new(LABELS));
    assert!(e.starts_with("model no/such/model.tflite: "), "{e}");
}
