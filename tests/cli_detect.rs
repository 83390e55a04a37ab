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
    // Then each tiling on the 640×480 gradient, side by side: "auto" cuts it in two (its short
    // side is 1.6× the model's), without the whole frame by default; 2×2 would cut it finer
    // than the model's input.
    assert!(s.contains("tiles 1x1   1 tiles  median"), "{s}");
    assert!(s.contains("tiles auto  2 tiles  median"), "{s}");
    assert!(
        s.contains("tiles 2x2   not possible: detector.tiles: 2x2 on a 640×480"),
        "{s}"
    );
}

/// The small-people clip's frame 40 in a 2×2 mosaic (768×576), as a JPEG: people 30–75 px tall.
fn mosaic_jpeg() -> std::path::PathBuf {
    use picket_image::jpeg::{self, Extent, JpegDecoder};
    use picket_image::RgbImage;
    let clip =
        std::fs::read(crate::util::root().join("tests/data/clip/vtest-000-079.mjpeg")).unwrap();
    let mut rest = &clip[..];
    for _ in 0..40 {
        let Extent::Complete(n) = jpeg::scan_length(rest) else {
            panic!("the clip has 80 frames")
        };
        rest = &rest[n..];
    }
    let Extent::Complete(n) = jpeg::scan_length(rest) else {
        panic!("the clip has 80 frames")
    };
    let mut rgb = RgbImage::default();
    JpegDecoder::new().decode(&rest[..n], &mut rgb).unwrap();
    let (w, h) = (2 * rgb.width(), 2 * rgb.height());
    let img = RgbImage::from_vec(w, h, crate::pipeline_e2e::mosaic(&rgb)).unwrap();
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mosaic-40.jpg");
    std::fs::write(&path, img.to_jpeg(95).unwrap()).unwrap();
    path
}

fn detect_json(args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["detect", "--json", "--no-xnnpack", "--threads", "1"];
    all.extend_from_slice(args);
    let o = picket(&all);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v[0]["detections"].as_array().unwrap().clone()
}

#[test]
fn detect_tiles_a_large_frame_by_default_and_1x1_is_the_whole_frame() {
    let img = mosaic_jpeg();
    let img = img.to_str().unwrap();
    let whole = detect_json(&[img, "--tiles", "1x1"]);
    // `-c`'s [detector] section is honoured, as the running box would judge the frame.
    let cfg = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tiles-1x1.toml");
    std::fs::write(&cfg, "[detector]\ntiles = \"1x1\"\n").unwrap();
    assert_eq!(detect_json(&["-c", cfg.to_str().unwrap(), img]), whole);
    let tiled = detect_json(&[img]);
    eprintln!(
        "whole frame: {} people; tiled: {}",
        whole.len(),
        tiled.len()
    );
    assert!(
        tiled.len() >= whole.len() + 4,
        "tiles found {} people, the whole frame {}",
        tiled.len(),
        whole.len()
    );
    // The schema is unchanged; boxes are in pixels of the whole image, in every quadrant.
    let mut quadrants = [0; 4];
    for d in &tiled {
        let keys: Vec<&String> = d.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["bbox", "class", "label", "pixels", "score"], "{d}");
        let (b, p) = (&d["bbox"], &d["pixels"]);
        let x0 = b["x0"].as_f64().unwrap();
        assert_eq!(
            p["x0"].as_u64().unwrap(),
            (x0.clamp(0.0, 1.0) * 768.0).round() as u64
        );
        assert!(
            p["x1"].as_u64().unwrap() <= 768 && p["y1"].as_u64().unwrap() <= 576,
            "{d}"
        );
        let cx = (p["x0"].as_u64().unwrap() + p["x1"].as_u64().unwrap()) / 2;
        let cy = (p["y0"].as_u64().unwrap() + p["y1"].as_u64().unwrap()) / 2;
        quadrants[usize::from(cx >= 384) + 2 * usize::from(cy >= 288)] += 1;
    }
    assert!(quadrants.iter().all(|&n| n >= 2), "{quadrants:?}");
    // max_detections applies after the merge.
    let cfg = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tiles-max3.toml");
    std::fs::write(&cfg, "[detector]\nmax_detections = 3\n").unwrap();
    let three = detect_json(&["-c", cfg.to_str().unwrap(), img]);
    assert_eq!(three, tiled[..3]);
}

/// Box centres in pixels.
fn centres(found: &[serde_json::Value]) -> Vec<(u64, u64)> {
    found
        .iter()
        .map(|d| {
            let p = &d["pixels"];
            let c = |a: &str, b: &str| (p[a].as_u64().unwrap() + p[b].as_u64().unwrap()) / 2;
            (c("x0", "x1"), c("y0", "y1"))
        })
        .collect()
}

#[test]
fn detect_with_roi_zones_looks_only_around_the_zones_and_closer() {
    let img = mosaic_jpeg();
    let img = img.to_str().unwrap();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    // The far end of the walkway in the top-left quadrant; with the default margin (0.1) the
    // detector sees x 0..0.6, y 0.1..0.4 of the frame: 461×173 px.
    let cfg = dir.join("roi-zones.toml");
    std::fs::write(
        &cfg,
        "[detector]\nroi = \"zones\"\n\n[[zones]]\nname = \"far\"\n\
         polygon = [[0.0, 0.2], [0.5, 0.2], [0.5, 0.3], [0.0, 0.3]]\n",
    )
    .unwrap();
    let zones = centres(&detect_json(&["-c", cfg.to_str().unwrap(), img]));
    let inside = |&(x, y): &(u64, u64)| x <= 461 && (57..=231).contains(&y);
    assert!(zones.iter().all(inside), "{zones:?}");
    let whole = centres(&detect_json(&[img, "--tiles", "1x1"]));
    let whole_inside = whole.iter().filter(|c| inside(c)).count();
    eprintln!(
        "in the region: {} with roi = zones, {whole_inside} on the whole frame",
        zones.len()
    );
    assert!(
        zones.len() >= 3 && zones.len() > whole_inside,
        "{zones:?} {whole:?}"
    );
    // Without zones there is nothing to look at: refused, where it is set.
    let cfg = dir.join("roi-no-zones.toml");
    std::fs::write(&cfg, "[detector]\nroi = \"zones\"\n").unwrap();
    fails_with(
        &["check", "--config", cfg.to_str().unwrap()],
        "roi-no-zones.toml:2:7: detector.roi: \"zones\" looks only around the zones and lines",
    );
}

#[test]
fn detect_refuses_a_grid_finer_than_the_model_input() {
    fails_with(
        &["detect", "tests/data/inputs/person.png", "--tiles", "2x2"],
        "detector.tiles: 2x2 on a 300×300 region gives 167×167 tiles, smaller than the \
         model's 300×300 input",
    );
    // A misspelt grid is a usage error, as clap reports them.
    let o = picket(&["detect", "tests/data/inputs/person.png", "--tiles", "9x9"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("`9x9` is not a tiling"),
        "{}",
        stderr(&o)
    );
}

/// `picket eval-detect` on known boxes: ten 300×300 frames of the campus (`tests/data/inputs`),
/// labelled with the people the reference implementation finds in them (`golden.json`), so the
/// detector on TFLite's reference kernels should score them all. Then the same frames with as
/// many rectangles again drawn where nobody is: at most half can be found.
#[test]
fn eval_detect_scores_known_boxes() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("eval-detect");
    let _ = std::fs::remove_dir_all(&dir);
    let frames = dir.join("frames");
    std::fs::create_dir_all(&frames).unwrap();
    let golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("tests/data/golden.json").unwrap()).unwrap();
    let mut images: Vec<&serde_json::Value> = golden["images"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["input"].as_str().unwrap().starts_with("vtest_"))
        .collect();
    images.sort_by_key(|i| i["input"].as_str().unwrap().to_owned());
    assert_eq!(images.len(), 10);
    let (mut gt, mut padded, mut people) = (String::new(), String::new(), 0);
    for (n, img) in images.iter().enumerate() {
        let name = img["input"].as_str().unwrap();
        std::fs::copy(format!("tests/data/inputs/{name}"), frames.join(name)).unwrap();
        for (k, d) in img["detections"].as_array().unwrap().iter().enumerate() {
            let b: Vec<f64> = (0..4)
                .map(|i| d["box"][i].as_f64().unwrap() * 300.0)
                .collect();
            let line = format!(
                "{},{k},{:.2},{:.2},{:.2},{:.2},1,-1,-1,-1\n",
                n + 1,
                b[0],
                b[1],
                b[2] - b[0],
                b[3] - b[1]
            );
            gt.push_str(&line);
            padded.push_str(&line);
            // A drawn rectangle in the sky strip at the top, where nobody walks.
            padded.push_str(&format!(
                "{},{},{},2,20,40,1,-1,-1,-1\n",
                n + 1,
                100 + k,
                k * 25
            ));
            people += 1;
        }
    }
    std::fs::write(dir.join("gt.txt"), gt).unwrap();
    std::fs::write(dir.join("padded.txt"), padded).unwrap();
    let run = |gt: &str| {
        let o = picket(&[
            "eval-detect",
            "--frames",
            frames.to_str().unwrap(),
            "--gt",
            dir.join(gt).to_str().unwrap(),
            "--no-xnnpack",
            "--threads",
            "1",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let s = String::from_utf8_lossy(&o.stdout).into_owned();
        let field = |key: &str| -> f64 {
            let at = s.find(key).unwrap_or_else(|| panic!("no `{key}` in {s}")) + key.len();
            s[at..]
                .split_whitespace()
                .next()
                .unwrap()
                .trim_end_matches(',')
                .parse()
                .unwrap()
        };
        (
            s.clone(),
            field("AP@0.5 "),
            field("AP@0.3 "),
            field("at 1 FP/frame "),
        )
    };
    let (s, ap50, ap30, recall) = run("gt.txt");
    assert!(
        s.contains(&format!("frames 10 (300×300), people {people}")),
        "{s}"
    );
    assert!(s.contains("time a frame: median"), "{s}");
    assert!(ap50 >= 0.95 && ap30 >= ap50 && recall >= 0.95, "{s}");
    let (s, ap50, _, recall) = run("padded.txt");
    assert!(s.contains(&format!("people {}", 2 * people)), "{s}");
    assert!(
        (0.45..=0.5).contains(&ap50) && (0.45..=0.5).contains(&recall),
        "{s}"
    );
    // The same frames as one MJPEG clip (concatenated JPEGs, slightly lossy): nearly as good.
    let mut clip = Vec::new();
    for img in &images {
        let name = img["input"].as_str().unwrap();
        let rgb = picket_image::still::load(&frames.join(name)).unwrap();
        clip.extend(rgb.to_jpeg(95).unwrap());
    }
    std::fs::remove_dir_all(&frames).unwrap();
    std::fs::write(&frames, clip).unwrap();
    let (s, ap50, _, _) = run("gt.txt");
    assert!(s.contains("frames 10 (300×300)") && ap50 >= 0.85, "{s}");
}
