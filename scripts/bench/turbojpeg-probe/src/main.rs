//! The `turbojpeg` crate's scaled decode to Y/Cb/Cr planes (1/2 where 300×300 still fits, as
//! picket's decoder does), then picket's planar resizer: prints `case turbojpeg median_ms`
//! lines (median thread CPU time) for scripts/bench-mjpeg.sh. `turbojpeg-probe DIR [ROUNDS]`.

use picket_image::planar_resize::{jpeg_scale, PlanarResizer, PlaneRef, YuvRange};
use picket_image::resize::CropBox;
use std::hint::black_box;
use picket_testkit::timing::median_cpu_ms;
use turbojpeg::{Decompressor, ScalingFactor, YuvImage};

const OUT: u32 = 300;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::Path::new(&args[1]);
    let rounds = args.get(2).map_or(51, |r| r.parse().unwrap());
    let mut dst = vec![0u8; (OUT * OUT * 3) as usize];
    for case in ["640x480", "1280x720"] {
        let data = std::fs::read(dir.join(format!("{case}.jpg"))).unwrap();
        let mut d = Decompressor::new().unwrap();
        let header = d.read_header(&data).unwrap();
        let scale = jpeg_scale(header.width as f64, header.height as f64, OUT, OUT);
        let factor = ScalingFactor::new(1, scale as usize);
        d.set_scaling_factor(factor).unwrap();
        let h = header.scaled(factor);
        let (w, ht) = (h.width, h.height);
        // 4:2:2 (what the frames are): chroma planes at half width, full height.
        let cw = w.div_ceil(2);
        let mut yuv = vec![0u8; w * ht + 2 * cw * ht];
        let mut r = PlanarResizer::new(
            (w as u32, ht as u32),
            (cw as u32, ht as u32),
            (2, 1),
            CropBox::full(w as u32, ht as u32),
            (OUT, OUT),
            YuvRange::Full,
        )
        .unwrap();
        let t = median_cpu_ms(rounds, || {
            let img = YuvImage {
                pixels: &mut yuv[..],
                width: w,
                align: 1,
                height: ht,
                subsamp: h.subsamp,
            };
            d.decompress_to_yuv(black_box(&data), img).unwrap();
            let (y, c) = yuv.split_at(w * ht);
            let (u, v) = c.split_at(cw * ht);
            let (hh, ww, cc) = (ht as u32, w as u32, cw as u32);
            let (y, u, v) = (
                PlaneRef::new(y, ww, hh, w),
                PlaneRef::new(u, cc, hh, cw),
                PlaneRef::new(v, cc, hh, cw),
            );
            r.resize(y, u, v, &mut dst).unwrap();
        });
        println!("{case} turbojpeg {t:.4}");
    }
}
