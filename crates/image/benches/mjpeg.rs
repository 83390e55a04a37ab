//! MJPEG to the detector's 300×300 RGB input, before and after decoding at reduced size: the
//! old path (decoded whole to RGB, then resized) beside the new one ([`Preprocessor`]: decoded
//! to planes at 1/1, 1/2, 1/4 or 1/8, resized in YCbCr, converted last).
//!
//! Two modes, for `scripts/bench-mjpeg.sh`, which alternates them with OpenCV in one run:
//! - `write DIR`: writes the test frames, `640x480.jpg` and `1280x720.jpg` (4:2:2, quality 85,
//!   a scene with camera-like noise so the entropy decoder has real work);
//! - `measure DIR [ROUNDS]`: prints `case path median_ms` lines, the median thread CPU time of
//!   ROUNDS calls (preemption on a loaded machine does not count);
//!   `planes1` is the planar path forced to full size (decode to planes at 1/1, resize,
//!   convert), which the preprocessor does not take; `zune` is the `zune-jpeg` crate (whole
//!   frame to RGB, allocating on every call; it has no reduced IDCT and no planar output),
//!   then the same RGB resize as `before`.
//!
//! `cargo bench -p picket-image --bench mjpeg -- measure DIR`

// A benchmark: a panic here stops a measurement on its own fixtures, never the appliance.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use picket_testkit::media;
use picket_testkit::timing::median_cpu_ms;

use jpeg_encoder::SamplingFactor;
use picket_image::jpeg::JpegDecoder;
use picket_image::planar_resize::{PlanarResizer, YuvRange};
use picket_image::resize::{CropBox, Resizer};
use picket_image::{FrameRef, PixelFormat, Preprocessor, RgbImage};
use std::hint::black_box;
use std::path::Path;

const OUT: u32 = 300;
const SIZES: [(u32, u32); 2] = [(640, 480), (1280, 720)];

/// The scene with deterministic noise of ±6 levels, as a sensor adds.
fn noisy_scene(w: u32, h: u32) -> Vec<u8> {
    let mut seed = 0x2545_f491u32;
    media::scene(w, h, 11)
        .into_iter()
        .map(|v| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            (v as i32 + (seed % 13) as i32 - 6).clamp(0, 255) as u8
        })
        .collect()
}

fn write(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for (w, h) in SIZES {
        let data = media::jpeg(&noisy_scene(w, h), w, h, 85, SamplingFactor::F_2_1);
        std::fs::write(dir.join(format!("{w}x{h}.jpg")), data).unwrap();
    }
}

fn measure(dir: &Path, rounds: usize) {
    let mut dst = vec![0u8; (OUT * OUT * 3) as usize];
    for (w, h) in SIZES {
        let case = format!("{w}x{h}");
        let data = std::fs::read(dir.join(format!("{case}.jpg"))).unwrap();
        let mut dec = JpegDecoder::new();
        let mut rgb = RgbImage::default();
        let mut resizer = Resizer::new(w, h, CropBox::full(w, h), OUT, OUT).unwrap();
        let before = median_cpu_ms(rounds, || {
            dec.decode(black_box(&data), &mut rgb).unwrap();
            resizer.resize(rgb.view(), &mut dst).unwrap();
        });
        let zune = median_cpu_ms(rounds, || {
            picket_image::jpeg::decode_general(black_box(&data), &mut rgb).unwrap();
            resizer.resize(rgb.view(), &mut dst).unwrap();
        });
        let mut pre = Preprocessor::new(OUT, OUT, None);
        let mut seq = 0;
        let after = median_cpu_ms(rounds, || {
            let mut f = FrameRef::new(PixelFormat::Mjpeg, w, h, black_box(&data));
            f.sequence = seq;
            seq += 1;
            pre.run(&f, &mut dst).unwrap();
        });
        // Planes at full size, resized and converted last: what 640×480 would cost on the
        // planar path (the preprocessor decodes it whole; see its doc).
        let mut planar = None;
        let planes1 = median_cpu_ms(rounds, || {
            let p = dec.decode_planes(black_box(&data), 1).unwrap();
            let r = planar.get_or_insert_with(|| {
                let (y, c) = ((p.y.width, p.y.height), (p.cb.width, p.cb.height));
                let crop = CropBox::full(y.0, y.1);
                PlanarResizer::new(y, c, (p.h_sub, p.v_sub), crop, (OUT, OUT), YuvRange::Full)
                    .unwrap()
            });
            r.resize(p.y.into(), p.cb.into(), p.cr.into(), &mut dst)
                .unwrap();
        });
        println!("{case} before {before:.4}");
        println!("{case} after {after:.4}");
        println!("{case} planes1 {planes1:.4}");
        println!("{case} zune {zune:.4}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["write", dir] => write(Path::new(dir)),
        ["measure", dir] => measure(Path::new(dir), 51),
        ["measure", dir, rounds] => measure(Path::new(dir), rounds.parse().unwrap()),
        _ => eprintln!("usage: mjpeg write DIR | mjpeg measure DIR [ROUNDS]"),
    }
}
