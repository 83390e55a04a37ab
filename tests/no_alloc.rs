//! The per-frame path allocates nothing: source → decode or convert → crop and resize into the
//! detector's buffer, over 200 frames after warm-up, for MJPEG (webcam-style, without Huffman
//! tables, and at 1280×720 where it is decoded at half size), YUYV and I420 input. The counter counts this thread's allocations only.

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
