//! `[model]` and `[detector]` through [`Config`]: defaults, tiles and roi, and their problems
//! located by line and column.

use super::*;

/// The located problems of `text`, as `line:col: path`.
fn problems(text: &str) -> Vec<String> {
    let e = parse::<Config>(text, "p.toml").unwrap_err();
    e.problems()
        .iter()
        .map(|p| {
            format!(
                "{}:{}: {}",
                p.line,
                p.column,
                p.path.as_deref().unwrap_or("-")
            )
        })
        .collect()
}

#[test]
fn defaults_are_valid() {
    let c: Config = parse("", "p.toml").unwrap();
    assert_eq!(c.model.threads, 2);
    assert!(c.model.xnnpack);
    assert_eq!(c.detector.classes, ["Person"]);
    assert_eq!(c.detector.threshold, 0.35);
    assert_eq!(c.detector.nms_iou, 0.4);
    let c: Config = parse(
        "[detector]\nthreshold = 0.55\nclasses = [\"person\", \"car\"]\n",
        "p",
    )
    .unwrap();
    assert_eq!(c.detector.threshold, 0.55);
}

#[test]
fn each_detector_error_is_located() {
    let text = "[detector]\nthreshold = 1.5\nnms_iou = 0.0\nmax_detections = 0\nclasses = []\n";
    assert_eq!(
        problems(text),
        [
            "5:11: detector.classes",
            "2:13: detector.threshold",
            "3:11: detector.nms_iou",
            "4:18: detector.max_detections"
        ]
    );
    let text = "[detector]\nclasses = [\"Person\", \"\", \"person\"]\n";
    assert_eq!(
        problems(text),
        ["2:22: detector.classes.1", "2:26: detector.classes.2"]
    );
    let e = parse::<Config>("[detector]\nthreshold = -0.1\n", "p.toml").unwrap_err();
    assert!(
        e.to_string()
            .contains("p.toml:2:13: detector.threshold: must be in (0, 1], not -0.1"),
        "{e}"
    );
}

#[test]
fn tiles_default_to_auto_and_a_bad_grid_is_located_and_explained() {
    use crate::detect::tiles::TileSpec;
    let c: Config = parse("", "p.toml").unwrap();
    assert_eq!(c.detector.tiles, TileSpec::Auto);
    assert_eq!(c.detector.tile_overlap, 0.2);
    let c: Config = parse("[detector]\ntiles = \"1x1\"\n", "p.toml").unwrap();
    assert_eq!(c.detector.tiles, TileSpec::WHOLE);
    let e = parse::<Config>("[detector]\ntiles = \"3by2\"\n", "p.toml")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("p.toml:2:9") && e.contains("`3by2` is not a tiling"),
        "{e}"
    );
    assert_eq!(
        problems("[detector]\ntile_overlap = 0.7\n"),
        ["2:16: detector.tile_overlap"]
    );
    // The default camera's 640×480 cut 2×2 gives tiles smaller than the model's 300×300.
    let text = "[detector]\ntiles = \"2x2\"\n";
    let e = parse::<Config>(text, "p.toml").unwrap_err().to_string();
    assert!(
        e.contains("p.toml:2:9: detector.tiles: 2x2 on a 640×480 region gives 356×267 tiles"),
        "{e}"
    );
    assert!(e.contains("smaller than the model's 300×300 input"), "{e}");
    let text = "[source]\nwidth = 1280\nheight = 720\n[detector]\ntiles = \"2x2\"\n";
    parse::<Config>(text, "p.toml").unwrap();
    // A file's size is known only at its first frame, where the pipeline checks again.
    let text = "[source]\nkind = \"file\"\n[detector]\ntiles = \"4x4\"\n";
    let e = parse::<Config>(text, "p.toml").unwrap_err().to_string();
    assert!(!e.contains("tiles"), "{e}");
}

#[test]
fn roi_zones_looks_at_the_zones_and_lines_with_a_margin() {
    let c: Config = parse("", "p.toml").unwrap();
    assert_eq!(c.detector_roi(), None);
    let c: Config = parse("[source]\nroi = [0.0, 0.5, 1.0, 1.0]\n", "p.toml").unwrap();
    assert_eq!(c.detector_roi(), Some(NormRect::new(0.0, 0.5, 1.0, 1.0)));
    let text = "[detector]\nroi = \"zones\"\nroi_margin = 0.05\n\
                [[zones]]\nname = \"door\"\npolygon = [[0.3, 0.4], [0.5, 0.4], [0.5, 0.6]]\n\
                [[lines]]\nname = \"gate\"\na = [0.2, 0.5]\nb = [0.25, 0.98]\n";
    let c: Config = parse(text, "p.toml").unwrap();
    let r = c.detector_roi().unwrap();
    let want = [0.15, 0.35, 0.55, 1.0];
    for (got, want) in [r.x0, r.y0, r.x1, r.y1].into_iter().zip(want) {
        assert!((got - want).abs() < 1e-6, "{r:?}");
    }
}

#[test]
fn roi_zones_without_zones_or_beside_a_source_roi_is_refused() {
    let e = parse::<Config>("[detector]\nroi = \"zones\"\n", "p.toml")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("p.toml:2:7: detector.roi: \"zones\" looks only around the zones and lines, and none is configured"),
        "{e}"
    );
    let text = "[source]\nroi = [0.0, 0.5, 1.0, 1.0]\n[detector]\nroi = \"zones\"\n\
                [[lines]]\nname = \"gate\"\na = [0.2, 0.5]\nb = [0.25, 0.98]\n";
    let e = parse::<Config>(text, "p.toml").unwrap_err().to_string();
    assert!(
        e.contains("detector.roi: \"zones\" and [source] roi both"),
        "{e}"
    );
    assert_eq!(
        problems("[detector]\nroi_margin = 0.6\n"),
        ["2:14: detector.roi_margin"]
    );
    assert_eq!(problems("[detector]\nroi = \"zone\"\n")[0], "2:7: -");
}

#[test]
fn each_model_error_is_located() {
    let text = "[model]\nthreads = 0\npath = \"no/such/model.tflite\"\n";
    let p = problems(text);
    assert_eq!(
        p,
        ["2:11: model.threads", "3:8: model.path", "3:8: model.path"]
    );
    let e = parse::<Config>(text, "p.toml").unwrap_err().to_string();
    assert!(e.contains("no model file at no/such/model.tflite"), "{e}");
    assert!(e.contains("set `labels`"), "{e}");
    let text = "[model]\nlabels = \"no/such/labels.txt\"\n";
    assert_eq!(problems(text), ["2:10: model.labels"]);
    // Unknown keys and wrong types stop at the parser, located too.
    assert_eq!(problems("[model]\nthreds = 2\n")[0], "2:1: -");
    assert_eq!(problems("[detector]\nthreshold = \"high\"\n")[0], "2:13: -");
}
