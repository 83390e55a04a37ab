//! Correctness of the per-frame image path against references: the BT.601 formula for YUV,
//! `zune-jpeg` for JPEG, `fast_image_resize`'s scalar path for resizing. Also run under
//! qemu-aarch64 (`scripts/test.d/30-sources-aarch64.sh`), where the resize runs NEON code.

// Test code: a panic here is a failing test, not a box that stops. (clippy.toml exempts `#[test]`
// functions and `#[cfg(test)]` modules, not the helpers of an integration-test crate.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use picket_testkit::media;

use fast_image_resize as fir;
use jpeg_encoder::SamplingFactor;
use picket_image::jpeg::{self, JpegDecoder, JpegError};
use picket_image::resize::{CropBox, Resizer};
use picket_image::{convert, FrameRef, PixelFormat, Preprocessor, Rgb8View, RgbImage};

fn frame(format: PixelFormat, w: u32, h: u32, data: &[u8]) -> FrameRef<'_> {
    FrameRef::new(format, w, h, data)
}

fn zune(data: &[u8]) -> RgbImage {
    let mut out = RgbImage::default();
    jpeg::decode_general(data, &mut out).unwrap();
    out
}

#[test]
fn baseline_decoder_agrees_with_zune_jpeg_for_camera_samplings() {
    use SamplingFactor::*;
    for (w, h) in [(64, 48), (37, 29), (640, 480)] {
        let rgb = media::scene(w, h, 3);
        for sampling in [F_1_1, F_2_1, F_2_2, F_1_2] {
            let data = media::jpeg(&rgb, w, h, 90, sampling);
            let mut d = JpegDecoder::new();
            let mut ours = RgbImage::default();
            d.decode(&data, &mut ours).unwrap();
            let theirs = zune(&data);
            assert_eq!((ours.width(), ours.height()), (w, h));
            let (max, mean) = media::diff(ours.as_bytes(), theirs.as_bytes());
            // Same IDCT family, colour formula and chroma interpolation; they round differently
            // in places (measured: at most 4, mean below 0.41).
            assert!(max <= 4, "{w}x{h} {sampling:?}: max {max}");
            assert!(mean < 0.5, "{w}x{h} {sampling:?}: mean {mean}");
            assert_eq!(d.general_path_frames(), 0);
        }
    }
}

#[test]
fn frames_without_huffman_tables_decode_to_the_same_pixels() {
    let rgb = media::scene(160, 120, 0);
    let with = media::jpeg(&rgb, 160, 120, 85, SamplingFactor::F_2_1);
    let without = jpeg::strip_huffman_tables(&with);
    assert!(jpeg::has_huffman_tables(&with));
    assert!(!jpeg::has_huffman_tables(&without));
    assert!(without.len() < with.len());
    let mut d = JpegDecoder::new();
    let (mut a, mut b) = (RgbImage::default(), RgbImage::default());
    d.decode(&with, &mut a).unwrap();
    d.decode(&without, &mut b).unwrap();
    assert_eq!(a, b);
    // The general decoder gets the tables inserted and agrees exactly too.
    assert_eq!(zune(&with), zune(&without));
}

#[test]
fn restart_markers_grey_and_odd_sizes_decode() {
    let rgb = media::scene(75, 41, 1);
    let plain = media::jpeg(&rgb, 75, 41, 80, SamplingFactor::F_2_2);
    let restarts = media::jpeg_with(&rgb, 75, 41, 80, |e| {
        e.set_sampling_factor(SamplingFactor::F_2_2);
        e.set_restart_interval(3);
    });
    let mut d = JpegDecoder::new();
    let (mut a, mut b) = (RgbImage::default(), RgbImage::default());
    d.decode(&plain, &mut a).unwrap();
    d.decode(&restarts, &mut b).unwrap();
    assert_eq!(a, b);

    let luma: Vec<u8> = rgb.chunks_exact(3).map(|p| p[1]).collect();
    let grey = media::jpeg_grey(&luma, 75, 41);
    d.decode(&grey, &mut a).unwrap();
    assert!(a
        .as_bytes()
        .chunks_exact(3)
        .all(|p| p[0] == p[1] && p[1] == p[2]));
    let (max, _) = media::diff(a.as_bytes(), zune(&grey).as_bytes());
    assert!(max <= 1, "grey max {max}");
}

#[test]
fn progressive_and_4_1_1_frames_take_the_general_decoder() {
    let rgb = media::scene(96, 64, 2);
    let progressive = media::jpeg_with(&rgb, 96, 64, 80, |e| e.set_progressive(true));
    let f411 = media::jpeg(&rgb, 96, 64, 80, SamplingFactor::F_4_1);
    let mut d = JpegDecoder::new();
    let mut out = RgbImage::default();
    for data in [&progressive, &f411] {
        d.decode(data, &mut out).unwrap();
        assert_eq!(out, zune(data));
    }
    assert_eq!(d.general_path_frames(), 2);
}

#[test]
fn truncated_and_corrupt_jpegs_are_errors_never_panics() {
    let rgb = media::scene(64, 48, 0);
    let data = media::jpeg(&rgb, 64, 48, 90, SamplingFactor::F_2_1);
    let mut d = JpegDecoder::new();
    let mut out = RgbImage::default();
    let mut truncated = 0;
    for cut in 0..data.len() - 2 {
        match d.decode(&data[..cut], &mut out) {
            Err(JpegError::Truncated(_)) => truncated += 1,
            Err(_) => {}
            Ok(()) => panic!("a JPEG cut to {cut} of {} bytes decoded", data.len()),
        }
    }
    assert!(
        truncated > data.len() / 2,
        "{truncated} truncations reported"
    );
    // Flip bytes everywhere: any result but a panic is acceptable.
    let mut bad = 0;
    for at in (2..data.len()).step_by(3) {
        let mut c = data.clone();
        c[at] ^= 0x5A;
        if d.decode(&c, &mut out).is_err() {
            bad += 1;
        }
    }
    assert!(bad > 0);
    // The decoder still works afterwards.
    d.decode(&data, &mut out).unwrap();
    assert_eq!((out.width(), out.height()), (64, 48));
}

/// `fast_image_resize` with its scalar code (`CpuExtensions::None`), the reference.
fn fir_scalar(src: &[u8], sw: u32, sh: u32, crop: CropBox, dw: u32, dh: u32) -> Vec<u8> {
    let src = fir::images::ImageRef::new(sw, sh, src, fir::PixelType::U8x3).unwrap();
    let mut dst = fir::images::Image::new(dw, dh, fir::PixelType::U8x3);
    let mut r = fir::Resizer::new();
    // SAFETY: scalar code runs on every CPU.
    unsafe { r.set_cpu_extensions(fir::CpuExtensions::None) };
    let opts = fir::ResizeOptions::new()
        .resize_alg(fir::ResizeAlg::Convolution(fir::FilterType::Bilinear))
        .crop(crop.left, crop.top, crop.width, crop.height);
    r.resize(&src, &mut dst, &opts).unwrap();
    dst.into_vec()
}

#[test]
fn resize_matches_fast_image_resize_scalar_within_one() {
    let crop = CropBox {
        left: 100.5,
        top: 50.25,
        width: 320.0,
        height: 241.5,
    };
    let cases = [
        (640, 480, CropBox::full(640, 480), 300, 300),
        (1280, 720, CropBox::full(1280, 720), 300, 300),
        (100, 80, CropBox::full(100, 80), 300, 300),
        (300, 300, CropBox::full(300, 300), 300, 300),
        (640, 480, crop, 300, 300),
        (37, 29, CropBox::full(37, 29), 13, 31),
    ];
    for (sw, sh, crop, dw, dh) in cases {
        let src = media::scene(sw, sh, 5);
        let want = fir_scalar(&src, sw, sh, crop, dw, dh);
        let mut r = Resizer::new(sw, sh, crop, dw, dh).unwrap();
        let mut got = vec![0; (dw * dh * 3) as usize];
        let view = Rgb8View {
            width: sw,
            height: sh,
            data: &src,
        };
        r.resize(view, &mut got).unwrap();
        let (max, _) = media::diff(&got, &want);
        assert!(max <= 1, "{sw}x{sh} {crop:?} -> {dw}x{dh}: max {max}");
    }
}

#[test]
fn raw_frames_convert_pixel_by_pixel_with_their_own_chroma() {
    let (w, h) = (62u32, 46u32);
    let rgb = media::scene(w, h, 7);
    let (wu, hu) = (w as usize, h as usize);
    let (cw, ch) = (wu / 2, hu / 2);
    let i420 = media::i420(&rgb, w, h);
    let nv12 = media::nv12(&rgb, w, h);
    let yuyv = media::yuyv(&rgb, w);
    let mut out = RgbImage::default();
    for (format, data) in [
        (PixelFormat::I420, &i420),
        (PixelFormat::Nv12, &nv12),
        (PixelFormat::Yuyv, &yuyv),
    ] {
        convert::to_rgb(&frame(format, w, h, data), &mut out).unwrap();
        for y in 0..hu {
            for x in 0..wu {
                let (l, u, v) = match format {
                    PixelFormat::Yuyv => {
                        let q = &data[y * wu * 2 + (x / 2) * 4..];
                        (q[(x % 2) * 2], q[1], q[3])
                    }
                    PixelFormat::I420 => {
                        let c = (y / 2) * cw + x / 2;
                        (
                            data[y * wu + x],
                            data[wu * hu + c],
                            data[wu * hu + cw * ch + c],
                        )
                    }
                    _ => {
                        let c = wu * hu + (y / 2) * wu + (x / 2) * 2;
                        (data[y * wu + x], data[c], data[c + 1])
                    }
                };
                // `yuv_to_rgb` is held to the formula within ±1 for every triple by its unit
                // test; here every pixel must use its own luma and its block's chroma.
                let want = convert::yuv_to_rgb(l, u, v);
                let got = &out.as_bytes()[(y * wu + x) * 3..][..3];
                assert_eq!(got, want, "{format} ({x},{y})");
            }
        }
        // And the picture survives the round trip through YUV (chroma is subsampled).
        let (_, mean) = media::diff(out.as_bytes(), &rgb);
        assert!(mean < 12.0, "{format}: mean error {mean}");
    }
}

#[test]
fn preprocessor_decodes_crops_and_resizes_into_the_callers_buffer() {
    let (w, h) = (320u32, 240u32);
    let rgb = media::scene(w, h, 0);
    let data = media::jpeg(&rgb, w, h, 90, SamplingFactor::F_2_1);
    let roi = picket_geom::NormRect::new(0.25, 0.5, 0.75, 1.0);
    let mut p = Preprocessor::new(100, 60, Some(roi));
    let mut dst = vec![0u8; 100 * 60 * 3];
    let f = frame(PixelFormat::Mjpeg, 0, 0, &data);
    p.run(&f, &mut dst).unwrap();
    let mut full = RgbImage::default();
    JpegDecoder::new().decode(&data, &mut full).unwrap();
    let crop = CropBox {
        left: 80.0,
        top: 120.0,
        width: 160.0,
        height: 120.0,
    };
    let want = fir_scalar(full.as_bytes(), w, h, crop, 100, 60);
    let (max, _) = media::diff(&dst, &want);
    assert!(max <= 1, "max {max}");
    // The decoded frame is kept for snapshots.
    assert_eq!(p.rgb(&f).map(|v| v.data), Some(full.as_bytes()));
    // A corrupt frame is an error for that frame only, and counted.
    let e = p.run(&frame(PixelFormat::Mjpeg, 0, 0, &data[..100]), &mut dst);
    assert!(e.is_err());
    let s = p.stats();
    assert_eq!((s.frames, s.bad_frames), (1, 1));
}

#[test]
fn stream_splitting_is_not_fooled_by_end_markers_inside_segments() {
    let rgb = media::scene(32, 24, 0);
    let data = media::jpeg_with(&rgb, 32, 24, 80, |e| {
        e.add_app_segment(1, b"Exif\0\0\xFF\xD9 a thumbnail's end")
            .unwrap()
    });
    assert_eq!(jpeg::scan_length(&data), jpeg::Extent::Complete(data.len()));
    let mut two = data.clone();
    two.extend_from_slice(&data);
    assert_eq!(jpeg::scan_length(&two), jpeg::Extent::Complete(data.len()));
    assert_eq!(
        jpeg::scan_length(&data[..data.len() - 1]),
        jpeg::Extent::Incomplete
    );
    assert_eq!(jpeg::scan_length(b"\x00\x01"), jpeg::Extent::Corrupt);
    assert_eq!(jpeg::dimensions(&data), Some((32, 24)));
}

/// YUYV is resized before it is converted: the result must match converting the whole frame
/// and resizing that, within the rounding of the two orders.
#[test]
fn yuyv_is_resized_in_yuv_like_converting_first() {
    let roi = picket_geom::NormRect::new(0.1, 0.3, 0.8, 0.95);
    // Small, odd and short frames, camera frames, and one taller than its output.
    for (w, h, dw, dh, roi) in [
        (640u32, 480u32, 300u32, 300u32, None),
        (640, 480, 300, 300, Some(roi)),
        (62, 46, 30, 20, None),
        (7, 5, 3, 2, None),
        (33, 17, 40, 19, Some(roi)),
        (320, 240, 300, 300, None),
    ] {
        let scene = media::yuyv(&media::scene(w, h, 3), w);
        for (name, yuyv) in [("blocks", in_gamut_blocks(w, h)), ("scene", scene)] {
            let f = frame(PixelFormat::Yuyv, w, h, &yuyv);
            let mut p = Preprocessor::new(dw, dh, roi);
            let mut got = vec![0u8; (dw * dh * 3) as usize];
            p.run(&f, &mut got).unwrap();

            let mut full = RgbImage::default();
            convert::to_rgb(&f, &mut full).unwrap();
            let crop = match roi {
                Some(r) => CropBox::from_roi(&r, w, h),
                None => CropBox::full(w, h),
            };
            let want = fir_scalar(full.as_bytes(), w, h, crop, dw, dh);
            let (max, mean) = media::diff(&got, &want);
            let off = got.iter().zip(&want).filter(|(a, b)| a.abs_diff(**b) > 4);
            let off = off.count() as f64 / got.len() as f64;
            let at = format!("{name} {w}x{h} {roi:?}: max {max}, mean {mean:.3}, off {off:.4}");
            // Resizing YUV rounds Y and Cb to 8 bits after each pass (±1 in all), which the
            // conversion grows by up to 2.02 (Cb into blue) and rounds once more; converting
            // first rounds RGB once and then after its passes. Together: 4 levels at worst.
            assert!(mean < 0.75, "{at}");
            if name == "blocks" {
                assert!(max <= 4, "{at}");
            } else {
                // Where a pixel pair straddles a sharp colour edge, one pixel gets the other's
                // chroma and its colour lies outside RGB: converting first clamps it before
                // the filter, converting last after. Those edges alone may differ more.
                assert!(off < 0.005, "{at}");
            }

            // The full-size frame for a snapshot is converted on demand, and is the same.
            assert_eq!(p.rgb(&f).map(|v| v.data), Some(full.as_bytes()));
        }
    }
}

/// A YUYV frame of 4×3-pixel blocks of random colour, every one inside RGB's range.
fn in_gamut_blocks(w: u32, h: u32) -> Vec<u8> {
    let mut seed = 0x9e37_79b9_u32;
    let mut next = |lo: u8, hi: u8| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        lo + (seed % u32::from(hi - lo + 1)) as u8
    };
    let quads = w.div_ceil(2) as usize;
    let blocks: Vec<[u8; 3]> = (0..quads.div_ceil(2) * (h as usize).div_ceil(3))
        .map(|_| [next(60, 180), next(108, 148), next(108, 148)])
        .collect();
    let mut out = Vec::with_capacity(quads * 4 * h as usize);
    for y in 0..h as usize {
        for q in 0..quads {
            let [l, u, v] = blocks[(y / 3) * quads.div_ceil(2) + q / 2];
            out.extend_from_slice(&[l, u, l.saturating_add((q % 3) as u8), v]);
        }
    }
    out
}

#[test]
fn yuyv_frames_too_short_for_their_size_are_errors() {
    let yuyv = media::yuyv(&media::scene(64, 48, 0), 64);
    let mut p = Preprocessor::new(30, 30, None);
    let mut dst = vec![0u8; 30 * 30 * 3];
    let e = p
        .run(
            &frame(PixelFormat::Yuyv, 64, 48, &yuyv[..yuyv.len() - 1]),
            &mut dst,
        )
        .unwrap_err();
    assert!(e.to_string().contains("yuyv 64x48 frame"), "{e}");
    assert!(e.to_string().contains("needs 6144 bytes, got 6143"), "{e}");
    assert_eq!(p.stats().bad_frames, 1);
    assert!(p
        .run(&frame(PixelFormat::Yuyv, 64, 48, &yuyv), &mut dst)
        .is_ok());
}

/// The detector's input from `data` the old way: decoded whole to RGB, then resized.
fn full_then_resize(data: &[u8], roi: Option<picket_geom::NormRect>, dw: u32, dh: u32) -> Vec<u8> {
    let mut full = RgbImage::default();
    JpegDecoder::new().decode(data, &mut full).unwrap();
    let (w, h) = (full.width(), full.height());
    let crop = roi.map_or(CropBox::full(w, h), |r| CropBox::from_roi(&r, w, h));
    let mut out = vec![0u8; (dw * dh * 3) as usize];
    Resizer::new(w, h, crop, dw, dh)
        .unwrap()
        .resize(full.view(), &mut out)
        .unwrap();
    out
}

#[test]
fn mjpeg_through_reduced_planes_matches_decoding_whole_then_resizing() {
    use SamplingFactor::*;
    let roi = picket_geom::NormRect::new(0.1, 0.2, 0.9, 1.0);
    // (size, sampling, roi, the scale the decoder picks for a 300×300 input).
    let cases = [
        ((640, 480), F_2_1, None, 1),
        ((640, 480), F_2_2, Some(roi), 1),
        ((1280, 720), F_2_1, None, 2),
        ((1280, 720), F_2_2, None, 2),
        ((1280, 720), F_1_1, Some(roi), 1), // 1024×576 of it: 512×288 at 1/2
        ((1920, 1080), F_2_1, None, 2),
        ((2600, 2400), F_2_2, None, 8),
        ((1300, 1250), F_2_2, None, 4),
    ];
    for ((w, h), sampling, roi, scale) in cases {
        let data = media::jpeg(&media::scene(w, h, 5), w, h, 85, sampling);
        let mut p = Preprocessor::new(300, 300, roi);
        let mut dst = vec![0u8; 300 * 300 * 3];
        let f = frame(PixelFormat::Mjpeg, w, h, &data);
        p.run(&f, &mut dst).unwrap();
        let want = full_then_resize(&data, roi, 300, 300);
        let (max, mean) = media::diff(&dst, &want);
        println!(
            "{w}x{h} {sampling:?} roi {}: max {max}, mean {mean:.3}",
            roi.is_some()
        );
        // The luma plane the motion gate reads is the decoded one, at the reduced size; a
        // frame no reduced transform applies to is decoded whole, as before.
        match p.luma(&f) {
            Some(y) => assert_eq!((y.width, y.height), (w.div_ceil(scale), h.div_ceil(scale))),
            None => assert_eq!((scale, max), (1, 0), "{w}x{h}: decoded whole, unchanged"),
        }
        // Measured: mean 0.33–0.48 at 1/2, 1.07–1.11 at 1/4 and 1/8 (where the reduced
        // transform drops detail the full one keeps for the resize to average); the largest
        // differences, up to 41, are single pixels on the scene's saturated red edge, whose
        // colour lies outside RGB after filtering in YUV (converting first clamps it first).
        let limit = if scale <= 2 { 0.6 } else { 1.3 };
        assert!(
            max <= 48 && mean < limit,
            "{w}x{h} {sampling:?}: max {max}, mean {mean}"
        );
        // A snapshot still gets the whole frame, decoded when asked.
        let mut full = RgbImage::default();
        JpegDecoder::new().decode(&data, &mut full).unwrap();
        assert_eq!(p.rgb(&f).map(|v| v.data), Some(full.as_bytes()));
        assert_eq!(p.stats().general_jpeg_frames, 0);
    }
}

#[test]
fn reduced_planes_have_the_sizes_of_the_scaled_components_and_their_values() {
    let (w, h) = (1283u32, 723u32);
    let rgb = media::scene(w, h, 1);
    let data = media::jpeg(&rgb, w, h, 95, SamplingFactor::F_2_2);
    let mut full = RgbImage::default();
    let mut d = JpegDecoder::new();
    d.decode(&data, &mut full).unwrap();
    assert!(d.last_planes().is_none(), "an RGB decode leaves no planes");
    for scale in [1u32, 2, 4, 8] {
        let p = d.decode_planes(&data, scale).unwrap();
        assert_eq!(
            (p.y.width, p.y.height),
            (w.div_ceil(scale), h.div_ceil(scale))
        );
        let (cw, ch) = (w.div_ceil(2).div_ceil(scale), h.div_ceil(2).div_ceil(scale));
        assert_eq!((p.cb.width, p.cb.height, p.cr.width), (cw, ch, cw));
        assert_eq!((p.h_sub, p.v_sub), (2, 2));
        // Each reduced luma sample is close to the mean BT.601 luma of the pixels it covers.
        let s = scale as usize;
        let mut worst = 0f64;
        let mut sum = 0f64;
        let (yw, yh) = ((w as usize) / s, (h as usize) / s);
        for ry in 0..yh {
            for rx in 0..yw {
                let mut acc = 0f64;
                for dy in 0..s {
                    for dx in 0..s {
                        let i = ((ry * s + dy) * w as usize + rx * s + dx) * 3;
                        let px = &full.as_bytes()[i..i + 3];
                        acc += 0.299 * px[0] as f64 + 0.587 * px[1] as f64 + 0.114 * px[2] as f64;
                    }
                }
                let got = p.y.data[ry * p.y.stride + rx] as f64;
                let e = (got - acc / (s * s) as f64).abs();
                worst = worst.max(e);
                sum += e;
            }
        }
        let mean = sum / (yw * yh) as f64;
        println!("scale {scale}: luma vs box mean: max {worst:.1}, mean {mean:.3}");
        assert!(
            mean < 3.0 && worst < 255.0,
            "scale {scale}: max {worst}, mean {mean}"
        );
    }
    let mut grey = JpegDecoder::new();
    let g = media::jpeg_grey(&vec![77u8; 64 * 48], 64, 48);
    assert!(matches!(
        grey.decode_planes(&g, 2),
        Err(JpegError::Unsupported(_))
    ));
    assert!(matches!(
        grey.decode_planes(&data, 3),
        Err(JpegError::Unsupported(_))
    ));
}

#[test]
fn truncated_and_corrupt_jpegs_are_errors_at_every_reduced_scale() {
    let rgb = media::scene(96, 64, 0);
    for sampling in [SamplingFactor::F_2_2, SamplingFactor::F_2_1] {
        let data = media::jpeg_with(&rgb, 96, 64, 90, |e| {
            e.set_sampling_factor(sampling);
            e.set_restart_interval(3);
        });
        let mut d = JpegDecoder::new();
        for scale in [1u32, 2, 4, 8] {
            let mut truncated = 0;
            for cut in 0..data.len() - 2 {
                match d.decode_planes(&data[..cut], scale) {
                    Err(JpegError::Truncated(_)) => truncated += 1,
                    Err(_) => {}
                    Ok(_) => panic!(
                        "scale {scale}: cut to {cut} of {} bytes decoded",
                        data.len()
                    ),
                }
                assert!(d.last_planes().is_none());
            }
            assert!(
                truncated > data.len() / 2,
                "scale {scale}: {truncated} truncations"
            );
            let mut bad = 0;
            for at in (2..data.len()).step_by(3) {
                let mut c = data.clone();
                c[at] ^= 0x5A;
                if d.decode_planes(&c, scale).is_err() {
                    bad += 1;
                }
            }
            assert!(bad > data.len() / 30, "scale {scale}: {bad} flips rejected");
            let p = d.decode_planes(&data, scale).unwrap();
            assert_eq!(p.y.width, 96u32.div_ceil(scale));
        }
        // Through the preprocessor: counted and skipped, the next frame fine.
        let mut p = Preprocessor::new(20, 20, None);
        let mut dst = vec![0u8; 20 * 20 * 3];
        let cut = &data[..data.len() / 2];
        assert!(p
            .run(&frame(PixelFormat::Mjpeg, 96, 64, cut), &mut dst)
            .is_err());
        assert!(p.luma(&frame(PixelFormat::Mjpeg, 96, 64, cut)).is_none());
        p.run(&frame(PixelFormat::Mjpeg, 96, 64, &data), &mut dst)
            .unwrap();
        assert_eq!((p.stats().frames, p.stats().bad_frames), (1, 1));
    }
}

#[test]
fn nv12_and_i420_are_resized_in_yuv_like_converting_first() {
    let roi = picket_geom::NormRect::new(0.0, 0.25, 0.5, 1.0);
    for (w, h) in [(640u32, 480u32), (1280, 720)] {
        let rgb = media::scene(w, h, 2);
        for (format, data) in [
            (PixelFormat::Nv12, media::nv12(&rgb, w, h)),
            (PixelFormat::I420, media::i420(&rgb, w, h)),
        ] {
            for roi in [None, Some(roi)] {
                let f = frame(format, w, h, &data);
                let mut p = Preprocessor::new(300, 300, roi);
                let mut dst = vec![0u8; 300 * 300 * 3];
                p.run(&f, &mut dst).unwrap();
                let mut full = RgbImage::default();
                convert::to_rgb(&f, &mut full).unwrap();
                let crop = roi.map_or(CropBox::full(w, h), |r| CropBox::from_roi(&r, w, h));
                let mut want = vec![0u8; 300 * 300 * 3];
                Resizer::new(w, h, crop, 300, 300)
                    .unwrap()
                    .resize(full.view(), &mut want)
                    .unwrap();
                let (max, mean) = media::diff(&dst, &want);
                println!(
                    "{w}x{h} {format} roi {}: max {max}, mean {mean:.3}",
                    roi.is_some()
                );
                // As for YUYV: rounding in YUV, and out-of-RGB colour on the saturated edges
                // (measured: max 19-32, mean 0.17-0.25).
                assert!(
                    max <= 40 && mean < 0.6,
                    "{w}x{h} {format}: max {max}, mean {mean}"
                );
                assert_eq!(p.rgb(&f).map(|v| v.data), Some(full.as_bytes()));
                assert!(p.luma(&f).is_none(), "raw frames' luma is the frame's own");
            }
        }
        let short = media::i420(&rgb, w, h);
        let mut p = Preprocessor::new(300, 300, None);
        let mut dst = vec![0u8; 300 * 300 * 3];
        let f = frame(PixelFormat::I420, w, h, &short[..short.len() - 1]);
        assert!(p.run(&f, &mut dst).is_err());
    }
}

#[test]
fn a_stream_that_changes_its_chroma_sampling_keeps_decoding_at_reduced_size() {
    let (w, h) = (1280u32, 720u32);
    let rgb = media::scene(w, h, 4);
    let mut p = Preprocessor::new(300, 300, None);
    let mut dst = vec![0u8; 300 * 300 * 3];
    for (i, sampling) in [
        SamplingFactor::F_2_1,
        SamplingFactor::F_2_2,
        SamplingFactor::F_2_1,
    ]
    .into_iter()
    .enumerate()
    {
        let data = media::jpeg(&rgb, w, h, 80, sampling);
        let mut f = frame(PixelFormat::Mjpeg, w, h, &data);
        f.sequence = i as u64;
        p.run(&f, &mut dst).unwrap();
        assert_eq!(p.luma(&f).map(|y| (y.width, y.height)), Some((640, 360)));
        let (_, mean) = media::diff(&dst, &full_then_resize(&data, None, 300, 300));
        assert!(mean < 0.6, "{sampling:?}: mean {mean}");
    }
    assert_eq!((p.stats().frames, p.stats().bad_frames), (3, 0));
}
