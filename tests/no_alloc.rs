//! The per-frame path allocates nothing: source → decode or convert → crop and resize into the
//! detector's buffer, over 200 frames after warm-up, for MJPEG (webcam-style, without Huffman
//! tables, and at 1280×720 where it is decoded at half size), YUYV and I420 input; and the tiled
//! detector (the shipped model on each tile, the merge) on 768×576 frames of people. The counter
//! counts this thread's allocations only.

use picket_testkit::media;

use jpeg_encoder::SamplingFactor;
use media::Repeat;
use picket::alloc_count::count;
use picket::source::file::StreamSource;
use picket::source::{FrameSource, Pacing};
use picket_image::{jpeg, PixelFormat, Preprocessor};

const W: u32 = 320;
const H: u32 = 240;
const WARM_UP: usize = 10;
const COUNTED: usize = 200;

/// Runs the stage over every frame and returns the allocations of the counted ones.
fn allocations_per_run(src: StreamSource, roi: bool) -> u64 {
    allocations_over(src, roi, COUNTED)
}

/// [`allocations_per_run`] counting `counted` frames after the warm-up.
fn allocations_over(mut src: StreamSource, roi: bool, counted: usize) -> u64 {
    let roi = roi.then(|| picket_geom::NormRect::new(0.1, 0.2, 0.9, 1.0));
    let mut pre = Preprocessor::new(300, 300, roi);
    let mut dst = vec![0u8; 300 * 300 * 3];
    for _ in 0..WARM_UP {
        let f = src.next().unwrap().frame().unwrap();
        pre.run(&f, &mut dst).unwrap();
    }
    let ((), n) = count(|| {
        for _ in 0..counted {
            let f = src.next().unwrap().frame().unwrap();
            pre.run(&f, &mut dst).unwrap();
        }
    });
    assert_eq!(pre.stats().frames, (WARM_UP + counted) as u64);
    assert_eq!(pre.stats().bad_frames, 0);
    assert_eq!(src.stats().frames, (WARM_UP + counted) as u64);
    n
}

fn source(format: PixelFormat, head: Vec<u8>, body: Vec<u8>, times: usize) -> StreamSource {
    source_sized(format, (W, H), head, body, times)
}

fn source_sized(
    format: PixelFormat,
    size: (u32, u32),
    head: Vec<u8>,
    body: Vec<u8>,
    times: usize,
) -> StreamSource {
    let reader = Repeat {
        head,
        body,
        pos: 0,
        times,
    };
    StreamSource::new("test", Box::new(reader), format, size, 30.0, Pacing::Fast)
}

#[test]
fn mjpeg_frames_without_huffman_tables_allocate_nothing() {
    let mut body = Vec::new();
    for t in 0..5 {
        let j = media::jpeg(&media::scene(W, H, t * 7), W, H, 85, SamplingFactor::F_2_1);
        body.extend_from_slice(&jpeg::strip_huffman_tables(&j));
    }
    let src = source(
        PixelFormat::Mjpeg,
        Vec::new(),
        body,
        (WARM_UP + COUNTED) / 5,
    );
    assert_eq!(allocations_per_run(src, true), 0);
}

#[test]
fn mjpeg_4_2_0_frames_with_tables_and_restarts_allocate_nothing() {
    let mut body = Vec::new();
    for t in 0..3 {
        body.extend_from_slice(&media::jpeg_with(&media::scene(W, H, t), W, H, 75, |e| {
            e.set_sampling_factor(SamplingFactor::F_2_2);
            e.set_restart_interval(8);
        }));
    }
    let src = source(
        PixelFormat::Mjpeg,
        Vec::new(),
        body,
        (WARM_UP + COUNTED).div_ceil(3),
    );
    assert_eq!(allocations_per_run(src, false), 0);
}

#[test]
fn mjpeg_720p_frames_decoded_at_half_size_allocate_nothing() {
    let (w, h) = (1280, 720);
    let mut body = Vec::new();
    for t in 0..2 {
        let j = media::jpeg(&media::scene(w, h, t * 9), w, h, 80, SamplingFactor::F_2_1);
        body.extend_from_slice(&jpeg::strip_huffman_tables(&j));
    }
    // 40 counted frames: a 720p decode is slow in a debug build, and each frame alternates
    // between the two encodings all the same.
    let counted = 40;
    let times = (WARM_UP + counted) / 2;
    let src = source_sized(PixelFormat::Mjpeg, (w, h), Vec::new(), body, times);
    assert_eq!(allocations_over(src, false, counted), 0);
}

#[test]
fn yuyv_frames_allocate_nothing() {
    let body = media::yuyv(&media::scene(W, H, 1), W);
    let src = source(PixelFormat::Yuyv, Vec::new(), body, WARM_UP + COUNTED);
    assert_eq!(allocations_per_run(src, true), 0);
}

#[test]
fn i420_frames_from_y4m_allocate_nothing() {
    let y4m = media::y4m(W, H, 1, false);
    let header_end = y4m.iter().position(|&b| b == b'\n').unwrap() + 1;
    let reader = Repeat {
        head: y4m[..header_end].to_vec(),
        body: y4m[header_end..].to_vec(),
        pos: 0,
        times: WARM_UP + COUNTED,
    };
    let src = StreamSource::y4m(
        std::path::Path::new("test.y4m"),
        Box::new(reader),
        25.0,
        Pacing::Fast,
    )
    .unwrap();
    assert_eq!(src.info().format, PixelFormat::I420);
    assert_eq!(allocations_per_run(src, false), 0);
}

/// The tiled path: the whole frame and each tile through the shipped model, merged. The frames
/// are the small-people clip in a 2×2 mosaic (768×576), which `tiles = "auto"` cuts in two.
#[test]
fn the_tiled_detector_allocates_nothing() {
    use picket::detect::config::{DetectorConfig, ModelConfig};
    use picket::detect::{Detections, Detector, SsdDetector, Tiler};
    use picket_image::jpeg::{Extent, JpegDecoder};
    use picket_image::RgbImage;

    let clip =
        std::fs::read(crate::util::root().join("tests/data/clip/vtest-000-079.mjpeg")).unwrap();
    let (mut rest, mut body, mut frames) = (&clip[..], Vec::new(), 0);
    let (mut dec, mut rgb) = (JpegDecoder::new(), RgbImage::default());
    while let Extent::Complete(n) = jpeg::scan_length(rest) {
        if frames % 20 == 0 {
            dec.decode(&rest[..n], &mut rgb).unwrap();
            body.extend(crate::pipeline_e2e::mosaic(&rgb));
        }
        (rest, frames) = (&rest[n..], frames + 1);
    }
    let (w, h) = (2 * rgb.width(), 2 * rgb.height());
    let reader = Repeat {
        head: Vec::new(),
        body,
        pos: 0,
        times: 3,
    };
    let mut src = StreamSource::new(
        "test",
        Box::new(reader),
        PixelFormat::Rgb24,
        (w, h),
        30.0,
        Pacing::Fast,
    );
    let cfg = DetectorConfig::default();
    let model = ModelConfig {
        threads: 1,
        ..ModelConfig::default()
    };
    let mut det = SsdDetector::new(&model, &cfg).unwrap();
    let (iw, ih) = det.input_size();
    let mut pre = Preprocessor::new(iw, ih, None);
    let mut dets = Detections::with_capacity(cfg.max_detections);
    let mut tiler = Tiler::new(&cfg, None);
    let mut found = 0;
    let mut frame = |found: &mut usize| {
        let f = src.next().unwrap().frame().unwrap();
        pre.run(&f, det.input()).unwrap();
        det.detect(&mut dets).unwrap();
        assert!(tiler.plan((f.width, f.height), (iw, ih)).unwrap());
        let full = pre.rgb(&f).unwrap();
        tiler.run(&mut det, full, &mut dets).unwrap();
        *found += dets.len();
    };
    for _ in 0..2 {
        frame(&mut found);
    }
    let ((), n) = count(|| {
        for _ in 0..10 {
            frame(&mut found);
        }
    });
    assert_eq!(tiler.grid().tiles.len(), 2);
    assert!(found >= 12, "the tiles found {found} people in 12 frames");
    assert_eq!(n, 0);
}
