//! Per-stage cost of the preprocess path at 640×480 and 1280×720: JPEG decode, YUV → RGB
//! conversion, and the resize to the detector's 300×300, with `fast_image_resize` and a plain
//! scalar bilinear resize measured in the same run for comparison; and YUYV straight to the
//! detector's input, resized in YUV, beside converting first. Prints medians.
//!
//! `cargo bench -p picket-image --bench preprocess` (add `-- --quick` for fewer rounds).

// A benchmark: a panic here stops a measurement on its own fixtures, never the appliance.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use picket_testkit::media;

use fast_image_resize as fir;
use jpeg_encoder::SamplingFactor;
use picket_image::jpeg::{self, JpegDecoder};
use picket_image::resize::{CropBox, Resizer};
use picket_image::yuyv_resize::YuyvResizer;
use picket_image::{convert, FrameRef, PixelFormat, Rgb8View, RgbImage};
use std::hint::black_box;
use std::time::{Duration, Instant};

const OUT: u32 = 300;

/// The median of `rounds` timed calls of `f`, after a few untimed ones.
fn median(rounds: usize, mut f: impl FnMut()) -> Duration {
    for _ in 0..3 {
        f();
    }
    let mut t: Vec<Duration> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    t.sort();
    t[t.len() / 2]
}

/// Textbook bilinear interpolation: each output pixel from its four nearest source pixels,
/// in f32, one pixel at a time. The baseline the optimised resizers are compared with.
fn plain_bilinear(src: &[u8], sw: u32, sh: u32, dst: &mut [u8], dw: u32, dh: u32) {
    let (sx, sy) = (sw as f32 / dw as f32, sh as f32 / dh as f32);
    for y in 0..dh as usize {
        let fy = ((y as f32 + 0.5) * sy - 0.5).clamp(0.0, (sh - 1) as f32);
        let (y0, wy) = (fy as usize, fy.fract());
        let y1 = (y0 + 1).min(sh as usize - 1);
        for x in 0..dw as usize {
            let fx = ((x as f32 + 0.5) * sx - 0.5).clamp(0.0, (sw - 1) as f32);
            let (x0, wx) = (fx as usize, fx.fract());
            let x1 = (x0 + 1).min(sw as usize - 1);
            for c in 0..3 {
                let p = |xx: usize, yy: usize| src[(yy * sw as usize + xx) * 3 + c] as f32;
                let top = p(x0, y0) * (1.0 - wx) + p(x1, y0) * wx;
                let bottom = p(x0, y1) * (1.0 - wx) + p(x1, y1) * wx;
                dst[(y * dw as usize + x) * 3 + c] = (top * (1.0 - wy) + bottom * wy + 0.5) as u8;
            }
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:8.3} ms", d.as_secs_f64() * 1e3)
}

/// Whether the host has the AVX2 path of the resizer, for the heading.
fn simd() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        return "AVX2 available";
    }
    "no AVX2"
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = if quick { 15 } else { 61 };
    println!(
        "preprocess stages, median of {rounds} runs ({}; {})",
        std::env::consts::ARCH,
        simd()
    );
    for (w, h) in [(640u32, 480u32), (1280, 720)] {
        println!("\n{w}x{h} → {OUT}x{OUT}");
        let rgb = media::scene(w, h, 0);
        let frame = |format, data| FrameRef::new(format, w, h, data);

        let mjpeg = jpeg::strip_huffman_tables(&media::jpeg(&rgb, w, h, 85, SamplingFactor::F_2_1));
        let mut out = RgbImage::default();
        let mut dec = JpegDecoder::new();
        let t = median(rounds, || dec.decode(black_box(&mjpeg), &mut out).unwrap());
        println!("  decode  MJPEG 4:2:2 q85 (picket)     {}", ms(t));
        let t = median(rounds, || {
            jpeg::decode_general(black_box(&mjpeg), &mut out).unwrap()
        });
        println!("  decode  MJPEG 4:2:2 q85 (zune-jpeg)  {}", ms(t));

        let yuyv = media::yuyv(&rgb, w);
        let t = median(rounds, || {
            convert::to_rgb(&frame(PixelFormat::Yuyv, black_box(&yuyv)), &mut out).unwrap()
        });
        println!("  convert YUYV → RGB                   {}", ms(t));
        let i420 = media::i420(&rgb, w, h);
        let t = median(rounds, || {
            convert::to_rgb(&frame(PixelFormat::I420, black_box(&i420)), &mut out).unwrap()
        });
        println!("  convert I420 → RGB                   {}", ms(t));

        let mut dst = vec![0u8; (OUT * OUT * 3) as usize];
        let mut ours = Resizer::new(w, h, CropBox::full(w, h), OUT, OUT).unwrap();
        let view = Rgb8View {
            width: w,
            height: h,
            data: &rgb,
        };
        let t_ours = median(rounds, || ours.resize(black_box(view), &mut dst).unwrap());
        let mut fr = fir::Resizer::new();
        let opts = fir::ResizeOptions::new()
            .resize_alg(fir::ResizeAlg::Convolution(fir::FilterType::Bilinear));
        let src = fir::images::ImageRef::new(w, h, &rgb, fir::PixelType::U8x3).unwrap();
        let t_fir = median(rounds, || {
            let mut d = fir::images::Image::from_slice_u8(OUT, OUT, &mut dst, fir::PixelType::U8x3)
                .unwrap();
            fr.resize(black_box(&src), &mut d, &opts).unwrap();
        });
        let t_plain = median(rounds, || {
            plain_bilinear(black_box(&rgb), w, h, &mut dst, OUT, OUT)
        });
        println!("  resize  picket (allocation-free)     {}", ms(t_ours));
        println!(
            "  resize  fast_image_resize ({:?})    {}",
            fr.cpu_extensions(),
            ms(t_fir)
        );
        println!("  resize  plain scalar bilinear        {}", ms(t_plain));
        println!(
            "  speedup over plain bilinear: fast_image_resize {:.1}x, picket {:.1}x",
            t_plain.as_secs_f64() / t_fir.as_secs_f64(),
            t_plain.as_secs_f64() / t_ours.as_secs_f64()
        );

        // The YUYV path as the pipeline runs it: resized in YUV, against converting first.
        let mut direct = YuyvResizer::new(w, h, CropBox::full(w, h), OUT, OUT).unwrap();
        let t_yuv = median(rounds, || {
            direct
                .resize(black_box(&yuyv), w as usize * 2, &mut dst)
                .unwrap()
        });
        let t_rgb = median(rounds, || {
            convert::to_rgb(&frame(PixelFormat::Yuyv, black_box(&yuyv)), &mut out).unwrap();
            ours.resize(out.view(), &mut dst).unwrap();
        });
        println!("  YUYV → {OUT}x{OUT} RGB, resized in YUV  {}", ms(t_yuv));
        println!("  YUYV → {OUT}x{OUT} RGB, converted first {}", ms(t_rgb));
    }
}
