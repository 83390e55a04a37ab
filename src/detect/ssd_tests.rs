//! Tests of SSD decoding on tensors built by hand: both styles, outputs in either order, class
//! offsets, `count`, shapes that fit neither style, and no allocation per decode.

use super::*;
use crate::alloc_count;
use std::path::Path;

fn info(name: &str, dims: &[usize], dtype: ElementType) -> TensorInfo {
    TensorInfo {
        name: name.to_owned(),
        dtype,
        dims: dims.to_vec(),
        quant: Quant::default(),
        bytes: 0,
    }
}

fn f32_info(name: &str, dims: &[usize]) -> TensorInfo {
    info(name, dims, ElementType::Float32)
}

struct Fake(Vec<Vec<f32>>);

impl Outputs for Fake {
    fn output(&self, index: usize) -> OutputView<'_> {
        OutputView::F32(&self.0[index])
    }
}

fn params(classes: &[u16]) -> DecodeParams {
    DecodeParams {
        classes: classes.to_vec(),
        threshold: 0.4,
        nms_iou: 0.4,
        max_detections: 10,
    }
}

fn coco_labels() -> Labels {
    Labels::parse("???\nperson\nbicycle\ncar\n", Path::new("coco.txt")).unwrap()
}

fn oid_labels() -> Labels {
    Labels::load(Path::new("models/object_detection_oidv4_labelmap.txt")).unwrap()
}

/// Post-processed outputs for 3 rows, of which `count` says 2 are valid; the order of the four
/// outputs is given by `order` (positions of boxes, classes, scores, count).
fn post_processed(order: [usize; 4], names: [&str; 4]) -> (Vec<TensorInfo>, Fake) {
    let infos = [
        f32_info(names[0], &[1, 3, 4]),
        f32_info(names[1], &[1, 3]),
        f32_info(names[2], &[1, 3]),
        f32_info(names[3], &[1]),
    ];
    let data = [
        // (ymin, xmin, ymax, xmax) per row; row 2 is past `count` and must be ignored.
        vec![0.1, 0.2, 0.5, 0.4, 0.0, 0.0, 1.0, 1.0, 0.3, 0.3, 0.6, 0.6],
        vec![0.0, 2.0, 0.0],
        vec![0.9, 0.8, 0.95],
        vec![2.0],
    ];
    let mut i = vec![f32_info("", &[]); 4];
    let mut d = vec![Vec::new(); 4];
    for k in 0..4 {
        i[order[k]] = infos[k].clone();
        d[order[k]] = data[k].clone();
    }
    (i, Fake(d))
}

#[test]
fn post_processed_boxes_classes_and_count_are_decoded() {
    let names = [
        "TFLite_Detection_PostProcess",
        "TFLite_Detection_PostProcess:1",
        "TFLite_Detection_PostProcess:2",
        "TFLite_Detection_PostProcess:3",
    ];
    for order in [[0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2]] {
        let (infos, fake) = post_processed(order, names);
        let labels = coco_labels();
        // COCO class 0 is person, which is label 1 after the `???` placeholder.
        let mut d = SsdDecoder::new(&infos, &labels, params(&[1]), &AnchorSpec::default()).unwrap();
        assert!(matches!(d.style(), Style::PostProcessed { rows: 3, .. }));
        let mut out = Detections::with_capacity(10);
        d.decode(&fake, &mut out).unwrap();
        assert_eq!(out.len(), 1, "order {order:?}: {out:?}");
        let p = out.as_slice()[0];
        assert_eq!(p.class, 1);
        assert_eq!(p.score, 0.9);
        assert_eq!(p.bbox, NormRect::new(0.2, 0.1, 0.4, 0.5));
        // Class 2 (bicycle after the offset) is there too when asked for; row 2 never is.
        let mut d =
            SsdDecoder::new(&infos, &labels, params(&[1, 3]), &AnchorSpec::default()).unwrap();
        d.decode(&fake, &mut out).unwrap();
        let classes: Vec<u16> = out.as_slice().iter().map(|d| d.class).collect();
        assert_eq!(classes, [1, 3]);
    }
}

#[test]
fn post_processed_outputs_are_told_apart_by_name_not_position() {
    // Scores first, classes second, and named so; with no background label there is no offset.
    let (infos, fake) = post_processed(
        [0, 2, 1, 3],
        [
            "detection_boxes",
            "detection_classes",
            "detection_scores",
            "num_detections",
        ],
    );
    let labels = Labels::parse("person\nbicycle\ncar\n", Path::new("l.txt")).unwrap();
    let mut d = SsdDecoder::new(&infos, &labels, params(&[0]), &AnchorSpec::default()).unwrap();
    assert!(matches!(
        d.style(),
        Style::PostProcessed {
            boxes: 0,
            classes: 2,
            scores: 1,
            count: 3,
            ..
        }
    ));
    let mut out = Detections::with_capacity(10);
    d.decode(&fake, &mut out).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out.as_slice()[0].class, 0);
    // Two [1,N] outputs with names that say nothing cannot be told apart.
    let (infos, _) = post_processed([0, 1, 2, 3], ["a", "b", "c", "d"]);
    let e = SsdDecoder::new(&infos, &labels, params(&[0]), &AnchorSpec::default()).unwrap_err();
    assert!(matches!(e, SsdError::Ambiguous { .. }), "{e}");
}

#[test]
fn raw_outputs_decode_against_anchors_with_nms() {
    let spec = AnchorSpec::default();
    let anchors = spec.generate();
    let n = anchors.len();
    let infos = [
        info(
            "raw_outputs/class_predictions",
            &[1, n, 24],
            ElementType::Float32,
        ),
        info(
            "raw_outputs/box_encodings",
            &[1, n, 4],
            ElementType::Float32,
        ),
    ];
    let mut logits = vec![-10.0f32; n * 24];
    let mut boxes = vec![0.0f32; n * 4];
    // Anchor 1500, person logit 1.0 (score 0.731); its encoding shifts x by 0.1·w and scales
    // h by e^(1/5).
    let a = anchors[1500];
    logits[1500 * 24 + 4] = 1.0;
    boxes[1500 * 4..1500 * 4 + 4].copy_from_slice(&[0.0, 1.0, 1.0, 0.0]);
    // Anchor 1501 is the same cell: a near duplicate with a lower score, suppressed by NMS.
    logits[1501 * 24 + 4] = 0.5;
    // A car (class 8) above the threshold is not asked for.
    logits[10 * 24 + 8] = 3.0;
    let fake = Fake(vec![logits, boxes]);
    let mut d = SsdDecoder::new(&infos, &oid_labels(), params(&[4]), &spec).unwrap();
    assert!(matches!(
        d.style(),
        Style::Raw {
            boxes: 1,
            logits: 0,
            anchors: 1917,
            classes: 24
        }
    ));
    let mut out = Detections::with_capacity(10);
    d.decode(&fake, &mut out).unwrap();
    let want = NormRect::from_center(a.cx + 0.1 * a.w, a.cy, a.w, a.h * 0.2f32.exp());
    let got = out.as_slice();
    assert!(
        got.len() == 1 || got[1].bbox.iou(&got[0].bbox) <= 0.4,
        "{got:?}"
    );
    assert_eq!(got[0].class, 4);
    assert!((got[0].score - 0.7310586).abs() < 1e-6);
    assert!(
        got[0].bbox.iou(&want) > 0.9999,
        "{:?} vs {want:?}",
        got[0].bbox
    );

    // After a warm-up, decoding allocates nothing.
    let ((), allocs) = alloc_count::count(|| {
        for _ in 0..3 {
            d.decode(&fake, &mut out).unwrap();
        }
    });
    assert_eq!(allocs, 0);
}

#[test]
fn tensors_that_fit_neither_style_are_refused_with_their_shapes() {
    let labels = oid_labels();
    let spec = AnchorSpec::default();
    let cases: [&[TensorInfo]; 4] = [
        &[f32_info("logits", &[1, 1001])],
        &[f32_info("a", &[1, 1917, 4]), f32_info("b", &[1, 100, 24])],
        &[
            f32_info("a", &[1, 10, 4]),
            f32_info("b", &[1, 10]),
            f32_info("c", &[1, 10]),
        ],
        &[f32_info("a", &[1, 1917, 5]), f32_info("b", &[1, 1917, 24])],
    ];
    for outputs in cases {
        let e = SsdDecoder::new(outputs, &labels, params(&[4]), &spec).unwrap_err();
        assert!(matches!(e, SsdError::NeitherStyle { .. }), "{e}");
        assert!(
            e.to_string().contains(&format!("{:?}", outputs[0].dims)),
            "{e}"
        );
    }
    // Raw style with another number of anchors than the settings give.
    let outputs = [
        f32_info("box", &[1, 100, 4]),
        f32_info("cls", &[1, 100, 24]),
    ];
    let e = SsdDecoder::new(&outputs, &labels, params(&[4]), &spec).unwrap_err();
    assert!(
        e.to_string().contains("100 boxes") && e.to_string().contains("1917"),
        "{e}"
    );
    // An int32 output is not a supported type.
    let outputs = [
        info("box", &[1, 1917, 4], ElementType::Int32),
        f32_info("cls", &[1, 1917, 24]),
    ];
    let e = SsdDecoder::new(&outputs, &labels, params(&[4]), &spec).unwrap_err();
    assert!(e.to_string().contains("int32"), "{e}");
}

#[test]
fn a_label_map_of_the_wrong_size_is_refused() {
    let outputs = [
        f32_info("box", &[1, 1917, 4]),
        f32_info("cls", &[1, 1917, 91]),
    ];
    let e = SsdDecoder::new(
        &outputs,
        &oid_labels(),
        params(&[4]),
        &AnchorSpec::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("24 labels") && e.contains("91 classes"), "{e}");
}

#[test]
fn short_outputs_are_an_error_not_a_panic() {
    let outputs = [
        f32_info("box", &[1, 1917, 4]),
        f32_info("cls", &[1, 1917, 24]),
    ];
    let mut d = SsdDecoder::new(
        &outputs,
        &oid_labels(),
        params(&[4]),
        &AnchorSpec::default(),
    )
    .unwrap();
    let mut out = Detections::with_capacity(4);
    let e = d
        .decode(&Fake(vec![vec![0.0; 8], vec![0.0; 24]]), &mut out)
        .unwrap_err();
    assert!(matches!(e, SsdError::ShortOutput { index: 0, .. }), "{e}");
}

#[test]
fn quantized_views_use_their_own_scale_and_zero_point() {
    let q = Quant {
        scale: 0.0627451,
        zero_point: -1,
    };
    assert!((OutputView::I8(&[15], q).at(0) - 1.0039216).abs() < 1e-6);
    let q = Quant {
        scale: 0.5,
        zero_point: 128,
    };
    assert_eq!(OutputView::U8(&[130], q).at(0), 1.0);
}
