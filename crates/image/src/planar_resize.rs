//! Planar YUV straight to the detector's RGB input: resize each plane, convert only the result.
//!
//! The planes come from a JPEG decoded at reduced size ([`crate::jpeg::Planes`]) or from an
//! I420/NV12 camera frame. Converting a whole frame to RGB and then resizing it spends most of
//! its work on pixels the resize averages away, so, as [`crate::yuyv_resize`] does for YUYV,
//! each plane is filtered on its own (luma with the taps of the luma plane, chroma with taps
//! computed for the chroma plane's own size, its samples centred on the luma they cover, as
//! JPEG places them) and each output pixel is converted once.
//!
//! The filter is [`crate::resize`]'s bilinear convolution: vertical pass into one row of
//! accumulators (a plain loop over contiguous bytes, which LLVM vectorises with NEON), then the
//! horizontal pass, per plane. On x86_64 with AVX2 both passes are the intrinsics of
//! `resize/avx2.rs`, bit for bit the same: the 1280×720 MJPEG frame's whole preprocess (decode
//! at half size, resize, convert) took 32.0 M instructions with the portable passes built for
//! AVX2 and takes 22.4 M (valgrind's callgrind, one frame of `scripts/bench-mjpeg.sh`'s). Against
//! converting to RGB at full size and resizing after, the result differs by chroma rounding
//! and by how chroma is upsampled (the JPEG decoder's 3:1 "fancy" filter there, this filter's
//! own interpolation here); the parity tests hold both within a few levels.

use crate::convert::yuv_to_rgb;
use crate::jpeg::color::ycbcr_row;
#[cfg(test)]
use crate::jpeg::idct::ycbcr_to_rgb;
#[cfg(target_arch = "x86_64")]
use crate::resize::avx2;
use crate::resize::{CropBox, ResizeError, Result, Taps};

/// How the samples of the planes encode colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YuvRange {
    /// Full-range BT.601, as JPEG (JFIF) stores it.
    Full,
    /// Limited-range BT.601, as cameras send raw YUV ([`crate::convert`]).
    Limited,
}

/// One plane as the resizer reads it: sample `x` of row `y` at `y * stride + x * step` (`step`
/// is 2 for each half of NV12's interleaved chroma, 1 otherwise).
#[derive(Debug, Clone, Copy)]
pub struct PlaneRef<'a> {
    pub data: &'a [u8],
    pub width: u32,
    pub height: u32,
    pub stride: usize,
    pub step: usize,
}

impl<'a> PlaneRef<'a> {
    /// A plane of tightly spaced samples.
    pub fn new(data: &'a [u8], width: u32, height: u32, stride: usize) -> Self {
        Self {
            data,
            width,
            height,
            stride,
            step: 1,
        }
    }
}

impl<'a> From<crate::jpeg::Plane<'a>> for PlaneRef<'a> {
    fn from(p: crate::jpeg::Plane<'a>) -> Self {
        Self::new(p.data, p.width, p.height, p.stride)
    }
}

/// The taps of one plane's two passes, and the columns the horizontal pass reads.
#[derive(Debug, Clone)]
struct Pass {
    vert: Taps,
    horiz: Taps,
    /// First column read, and how many.
    x0: usize,
    n: usize,
    width: u32,
    height: u32,
    /// The horizontal weights for the AVX2 pass, when the CPU has AVX2 and a pixel has at most
    /// eight taps.
    #[cfg(target_arch = "x86_64")]
    avx2: Option<avx2::PlaneTaps>,
}

impl Pass {
    fn new(w: u32, h: u32, crop: CropBox, dst_w: u32, dst_h: u32) -> Result<Self> {
        let (horiz, vert) = crop.plan(w, h, dst_w, dst_h)?;
        let horiz = horiz.fixed();
        let x0 = horiz.start.iter().copied().min().unwrap_or(0) as usize;
        let n = horiz.end().max(x0 + 1) - x0;
        Ok(Self {
            #[cfg(target_arch = "x86_64")]
            avx2: crate::resize::has_avx2()
                .then(|| avx2::PlaneTaps::new(&horiz, x0))
                .flatten(),
            vert,
            horiz,
            x0,
            n,
            width: w,
            height: h,
        })
    }

    /// Checks that `p` is the plane this pass was built for and that its bytes are all there.
    fn check(&self, p: &PlaneRef<'_>) -> Result<()> {
        let (w, h) = (p.width as usize, p.height as usize);
        let row = (w.max(1) - 1) * p.step.max(1) + 1;
        let fits =
            p.step >= 1 && p.stride >= row && p.data.len() >= p.stride * (h.max(1) - 1) + row;
        if (p.width, p.height) != (self.width, self.height) || !fits {
            return Err(ResizeError::SourceSize {
                got_w: p.width,
                got_h: p.height,
                want_w: self.width,
                want_h: self.height,
            });
        }
        Ok(())
    }

    /// Resizes plane `p` into `out`, one byte per destination pixel.
    #[inline(always)]
    fn run(&self, p: &PlaneRef<'_>, acc: &mut [i32], row: &mut [u8], out: &mut [u8], dst_w: usize) {
        let acc = &mut acc[..self.n];
        let v = &self.vert;
        for (oy, out_row) in out.chunks_exact_mut(dst_w).enumerate() {
            let (first, ks) = v.get(oy);
            acc.fill(v.half());
            for (k, &w) in ks.iter().enumerate() {
                let src = &p.data[(first + k) * p.stride + self.x0 * p.step..];
                if p.step == 1 {
                    for (a, &s) in acc.iter_mut().zip(&src[..self.n]) {
                        *a += s as i32 * w as i32;
                    }
                } else {
                    for (a, &s) in acc.iter_mut().zip(src.iter().step_by(p.step)) {
                        *a += s as i32 * w as i32;
                    }
                }
            }
            for (r, &a) in row[..self.n].iter_mut().zip(acc.iter()) {
                *r = v.clip(a);
            }
            // Every pixel over the whole window (zero weights past its taps; `row` reaches a
            // window past its `n` samples), of a length known at compile time where it is
            // one of the common ones, so the loop unrolls.
            match self.horiz.window() {
                3 => self.horizontal::<3>(row, out_row),
                5 => self.horizontal::<5>(row, out_row),
                7 => self.horizontal::<7>(row, out_row),
                _ => self.horizontal::<0>(row, out_row),
            }
        }
    }
}

impl Pass {
    /// [`Pass::run`] in the AVX2 intrinsics of [`crate::resize`] for a plane of tightly spaced
    /// samples, bit for bit the same; other planes go the portable way.
    ///
    /// # Safety
    /// The CPU must support AVX2; `p` must have passed [`Pass::check`], and `row` must hold
    /// the row [`PlanarResizer::new`] sized.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn run_avx2(
        &self,
        p: &PlaneRef<'_>,
        acc: &mut [i32],
        row: &mut [u8],
        out: &mut [u8],
        dst_w: usize,
    ) {
        let (Some(h), 1) = (&self.avx2, p.step) else {
            return self.run(p, acc, row, out, dst_w);
        };
        let v = &self.vert;
        for (oy, out_row) in out.chunks_exact_mut(dst_w).enumerate() {
            avx2::vertical(p.data, p.stride, self.x0, self.n, v.get(oy), v, row);
            avx2::horizontal_plane(row, h, out_row);
        }
    }

    /// The horizontal pass of one row: `W` weights a pixel, or any window for `W` 0.
    #[inline(always)]
    fn horizontal<const W: usize>(&self, row: &[u8], out_row: &mut [u8]) {
        let h = &self.horiz;
        let wn = if W == 0 { h.window() } else { W };
        for (ox, o) in out_row.iter_mut().enumerate() {
            let (s, ws) = h.get_window(ox);
            let mut a = h.half();
            for (&x, &w) in row[s - self.x0..][..wn].iter().zip(&ws[..wn]) {
                a += x as i32 * w as i32;
            }
            *o = h.clip(a);
        }
    }
}

/// Resizes (a crop of) planar YUV images, luma `y_w`×`y_h` with chroma planes of their own
/// size, to `dst_w`×`dst_h` RGB888.
///
/// Build one per geometry, outside the frame loop: [`PlanarResizer::new`] computes the taps and
/// allocates every buffer; [`PlanarResizer::resize`] then allocates nothing, checks the planes'
/// sizes and lengths (an error, never a panic) and writes every destination byte.
#[derive(Debug, Clone)]
pub struct PlanarResizer {
    luma: Pass,
    chroma: Pass,
    dst_w: u32,
    dst_h: u32,
    range: YuvRange,
    acc: Vec<i32>,
    row: Vec<u8>,
    /// The resized planes, one byte per destination pixel each.
    y: Vec<u8>,
    u: Vec<u8>,
    v: Vec<u8>,
    #[cfg(target_arch = "x86_64")]
    avx2: bool,
}

impl PlanarResizer {
    /// A resizer from the `crop` (in luma pixels) of a `y_w`×`y_h` image whose chroma planes
    /// are `c_w`×`c_h` with `h_sub`×`v_sub` luma samples per chroma sample.
    pub fn new(
        (y_w, y_h): (u32, u32),
        (c_w, c_h): (u32, u32),
        (h_sub, v_sub): (u32, u32),
        crop: CropBox,
        (dst_w, dst_h): (u32, u32),
        range: YuvRange,
    ) -> Result<Self> {
        let luma = Pass::new(y_w, y_h, crop, dst_w, dst_h)?;
        let (hs, vs) = (h_sub.max(1) as f64, v_sub.max(1) as f64);
        let c_crop = CropBox {
            left: crop.left / hs,
            top: crop.top / vs,
            width: crop.width / hs,
            height: crop.height / vs,
        };
        let chroma = Pass::new(c_w, c_h, c_crop, dst_w, dst_h)?;
        let n = luma.n.max(chroma.n);
        let window = luma.horiz.window().max(chroma.horiz.window());
        let px = dst_w as usize * dst_h as usize;
        Ok(Self {
            luma,
            chroma,
            dst_w,
            dst_h,
            range,
            acc: vec![0; n],
            // A window past the row's samples for the portable pass, eight bytes for AVX2's.
            row: vec![0; n + window.max(8)],
            y: vec![0; px],
            u: vec![0; px],
            v: vec![0; px],
            #[cfg(target_arch = "x86_64")]
            avx2: crate::resize::has_avx2(),
        })
    }

    /// The luma size this resizer was built for.
    pub fn source_size(&self) -> (u32, u32) {
        (self.luma.width, self.luma.height)
    }

    /// Resizes planes `y`, `u`, `v` into `dst`, tightly packed RGB888 of the destination size.
    pub fn resize(
        &mut self,
        y: PlaneRef<'_>,
        u: PlaneRef<'_>,
        v: PlaneRef<'_>,
        dst: &mut [u8],
    ) -> Result<()> {
        self.luma.check(&y)?;
        self.chroma.check(&u)?;
        self.chroma.check(&v)?;
        ResizeError::check_destination(dst, self.dst_w, self.dst_h)?;
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is true only when the CPU reported AVX2 at construction.
            unsafe { self.run_avx2(y, u, v, dst) };
            return Ok(());
        }
        self.run(y, u, v, dst);
        Ok(())
    }

    /// [`Self::run`] with each plane's passes in AVX2 intrinsics ([`Pass::run_avx2`]).
    ///
    /// # Safety
    /// The CPU must support AVX2; the planes must have passed [`Pass::check`].
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn run_avx2(
        &mut self,
        y: PlaneRef<'_>,
        u: PlaneRef<'_>,
        v: PlaneRef<'_>,
        dst: &mut [u8],
    ) {
        let w = self.dst_w as usize;
        let (acc, row) = (&mut self.acc, &mut self.row);
        self.luma.run_avx2(&y, acc, row, &mut self.y, w);
        self.chroma.run_avx2(&u, acc, row, &mut self.u, w);
        self.chroma.run_avx2(&v, acc, row, &mut self.v, w);
        self.convert(dst);
    }

    #[inline(always)]
    fn run(&mut self, y: PlaneRef<'_>, u: PlaneRef<'_>, v: PlaneRef<'_>, dst: &mut [u8]) {
        let w = self.dst_w as usize;
        self.luma
            .run(&y, &mut self.acc, &mut self.row, &mut self.y, w);
        self.chroma
            .run(&u, &mut self.acc, &mut self.row, &mut self.u, w);
        self.chroma
            .run(&v, &mut self.acc, &mut self.row, &mut self.v, w);
        self.convert(dst);
    }

    /// The resized planes, pixel by pixel, to RGB in `dst`.
    #[inline(always)]
    fn convert(&self, dst: &mut [u8]) {
        match self.range {
            YuvRange::Full => ycbcr_row(&self.y, &self.u, &self.v, dst),
            YuvRange::Limited => {
                let yuv = self.y.iter().zip(&self.u).zip(&self.v);
                for (px, ((&l, &cb), &cr)) in dst.chunks_exact_mut(3).zip(yuv) {
                    px.copy_from_slice(&yuv_to_rgb(l, cb, cr));
                }
            }
        }
    }
}

/// The largest of 1, 2, 4 and 8 that keeps a `crop_w`×`crop_h` region, decoded at 1/scale,
/// at least `dst_w`×`dst_h`: the reduced inverse DCT then does part of the downscale, and the
/// resize still only shrinks.
pub fn jpeg_scale(crop_w: f64, crop_h: f64, dst_w: u32, dst_h: u32) -> u32 {
    [8u32, 4, 2]
        .into_iter()
        .find(|&s| crop_w / s as f64 >= dst_w as f64 && crop_h / s as f64 >= dst_h as f64)
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_keeps_the_decoded_region_at_least_the_destination() {
        assert_eq!(jpeg_scale(640.0, 480.0, 300, 300), 1);
        assert_eq!(jpeg_scale(1280.0, 720.0, 300, 300), 2);
        assert_eq!(jpeg_scale(1920.0, 1080.0, 300, 300), 2);
        assert_eq!(jpeg_scale(2592.0, 1944.0, 300, 300), 4);
        assert_eq!(jpeg_scale(4000.0, 3000.0, 300, 300), 8);
        assert_eq!(jpeg_scale(1280.0, 720.0, 320, 320), 2);
        assert_eq!(jpeg_scale(100.0, 100.0, 300, 300), 1);
    }

    /// The AVX2 passes give the portable code's bytes exactly: 4:2:2 and 4:2:0 planes as a
    /// JPEG decoded at half size gives them, a crop, an odd width, and windows wider than
    /// eight taps (which stay portable).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_is_the_portable_code_bit_for_bit() {
        if !crate::resize::has_avx2() {
            return;
        }
        let crop = |w: u32, h: u32| CropBox::full(w, h);
        let geometries = [
            ((640, 360), (320, 360), (2, 1), crop(640, 360), (300, 300)),
            ((640, 360), (320, 180), (2, 2), crop(640, 360), (300, 300)),
            ((963, 541), (482, 271), (2, 2), crop(963, 541), (300, 300)),
            ((1280, 720), (640, 360), (2, 2), crop(1280, 720), (300, 300)),
            (
                (640, 480),
                (320, 480),
                (2, 1),
                CropBox {
                    left: 64.5,
                    top: 20.0,
                    width: 400.25,
                    height: 333.0,
                },
                (300, 300),
            ),
        ];
        let noise = |n: u32, salt: u32| -> Vec<u8> {
            (0..n)
                .map(|i| ((i ^ salt).wrapping_mul(2_654_435_761) >> 24) as u8)
                .collect()
        };
        for ((yw, yh), (cw, ch), sub, crop, (dw, dh)) in geometries {
            let (y, u, v) = (noise(yw * yh, 1), noise(cw * ch, 2), noise(cw * ch, 3));
            let planes = (
                PlaneRef::new(&y, yw, yh, yw as usize),
                PlaneRef::new(&u, cw, ch, cw as usize),
                PlaneRef::new(&v, cw, ch, cw as usize),
            );
            let mut r = PlanarResizer::new((yw, yh), (cw, ch), sub, crop, (dw, dh), YuvRange::Full)
                .unwrap();
            let mut fast = vec![0u8; (dw * dh * 3) as usize];
            r.resize(planes.0, planes.1, planes.2, &mut fast).unwrap();
            let mut portable = vec![0u8; fast.len()];
            r.run(planes.0, planes.1, planes.2, &mut portable);
            assert!(fast == portable, "{yw}x{yh} {crop:?}");
        }
    }

    #[test]
    fn flat_planes_give_their_colour_in_both_ranges() {
        let (y, u, v) = (
            vec![120u8; 64 * 48],
            vec![90u8; 32 * 24],
            vec![200u8; 32 * 24],
        );
        for (range, want) in [
            (YuvRange::Full, ycbcr_to_rgb(120, 90, 200)),
            (YuvRange::Limited, yuv_to_rgb(120, 90, 200)),
        ] {
            let crop = CropBox::full(64, 48);
            let mut r =
                PlanarResizer::new((64, 48), (32, 24), (2, 2), crop, (20, 10), range).unwrap();
            let mut dst = vec![0u8; 20 * 10 * 3];
            r.resize(
                PlaneRef::new(&y, 64, 48, 64),
                PlaneRef::new(&u, 32, 24, 32),
                PlaneRef::new(&v, 32, 24, 32),
                &mut dst,
            )
            .unwrap();
            assert!(dst.chunks_exact(3).all(|p| p == want), "{range:?}");
        }
    }

    #[test]
    fn short_or_mis_sized_planes_are_errors() {
        let crop = CropBox::full(64, 48);
        let mut r =
            PlanarResizer::new((64, 48), (32, 24), (2, 2), crop, (20, 10), YuvRange::Full).unwrap();
        let (y, c) = (vec![0u8; 64 * 48], vec![0u8; 32 * 24]);
        let mut dst = vec![0u8; 20 * 10 * 3];
        let cp = PlaneRef::new(&c, 32, 24, 32);
        let short = PlaneRef::new(&y[..64 * 47], 64, 48, 64);
        assert!(matches!(
            r.resize(short, cp, cp, &mut dst),
            Err(ResizeError::SourceSize { .. })
        ));
        let other = PlaneRef::new(&y, 60, 48, 64);
        assert!(r.resize(other, cp, cp, &mut dst).is_err());
        let y = PlaneRef::new(&y, 64, 48, 64);
        assert!(r.resize(y, cp, cp, &mut dst[1..]).is_err());
        let nv12 = PlaneRef {
            step: 2,
            ..PlaneRef::new(&c, 32, 24, 32)
        };
        assert!(
            r.resize(y, nv12, nv12, &mut dst).is_err(),
            "a step-2 row needs 63 bytes"
        );
        assert!(r.resize(y, cp, cp, &mut dst).is_ok());
    }
}
