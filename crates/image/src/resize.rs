//! Resizing RGB888 to the detector's input, with an optional crop, into the caller's buffer.
//!
//! The filter is `fast_image_resize`'s `Convolution(Bilinear)` (Pillow's algorithm): a triangle
//! filter widened by the scale when shrinking, so every source pixel counts and small people do
//! not alias away. Its arithmetic is reproduced exactly: the same f64 weights, normalised to
//! i16 fixed point with the same precision, a vertical pass then a horizontal pass, one
//! destination row at a time (so the temporary is one row, not an image). Tests hold the result
//! within ±1 of the crate's scalar path.
//!
//! Why not call `fast_image_resize` itself: it recomputes its coefficient tables on every call,
//! about 600 heap allocations for one 640×480 → 300×300 resize. A [`Resizer`] computes them once
//! for a geometry, in [`Resizer::new`], and then allocates nothing.
//!
//! Speed: the vertical pass is a multiply-accumulate over whole rows that LLVM vectorises with
//! NEON on aarch64 (baseline there); on x86_64 with AVX2 both passes are intrinsics
//! (`resize/avx2.rs`, picked at run time, with the measurement that made them worth it). On
//! armv7 treat it as scalar code; nothing is claimed about NEON there.

use crate::Rgb8View;

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2;

/// What a resizer's constructor and its `resize` return.
pub type Result<T, E = ResizeError> = std::result::Result<T, E>;

/// Why a resize could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResizeError {
    #[error("source is {got_w}x{got_h}, the resizer was built for {want_w}x{want_h}")]
    SourceSize {
        got_w: u32,
        got_h: u32,
        want_w: u32,
        want_h: u32,
    },
    #[error("destination buffer has {got} bytes, {want} needed for {w}x{h} RGB")]
    Destination {
        got: usize,
        want: usize,
        w: u32,
        h: u32,
    },
    #[error("crop {left},{top} {width}x{height} is empty or outside the {src_w}x{src_h} source")]
    Crop {
        left: f64,
        top: f64,
        width: f64,
        height: f64,
        src_w: u32,
        src_h: u32,
    },
    #[error("cannot resize to or from an empty image")]
    Empty,
}

impl ResizeError {
    /// Whether `dst` holds exactly one tightly packed `w`×`h` RGB888 image.
    pub(super) fn check_destination(dst: &[u8], w: u32, h: u32) -> Result<(), Self> {
        let want = w as usize * h as usize * 3;
        if dst.len() != want {
            return Err(ResizeError::Destination {
                got: dst.len(),
                want,
                w,
                h,
            });
        }
        Ok(())
    }
}

/// A crop box in source pixels; fractional edges are allowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CropBox {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
}

impl CropBox {
    /// The whole of a `width`×`height` image.
    pub fn full(width: u32, height: u32) -> Self {
        Self {
            left: 0.0,
            top: 0.0,
            width: width as f64,
            height: height as f64,
        }
    }

    /// The pixels of a `width`×`height` image that a normalised region covers. Edges are
    /// rounded to 1/1024 pixel, so that f32 fractions like 0.1 do not leave the image.
    pub fn from_roi(roi: &crate::Roi, width: u32, height: u32) -> Self {
        let r = roi.clamped();
        let px = |v: f32, size: u32| ((v as f64 * size as f64) * 1024.0).round() / 1024.0;
        let (left, right) = (px(r.x0, width), px(r.x1, width));
        let (top, bottom) = (px(r.y0, height), px(r.y1, height));
        Self {
            left,
            top,
            width: (right - left).max(0.0),
            height: (bottom - top).max(0.0),
        }
    }

    /// What both resizers compute first: the bilinear weights of this box scaled to
    /// `dst_w`×`dst_h`, horizontal (not yet fixed point: the YUYV resizer pairs them for its
    /// chroma first) and vertical, once the box is found to be a non-empty part of a
    /// `src_w`×`src_h` image and the destination not empty.
    pub(super) fn plan(
        self,
        src_w: u32,
        src_h: u32,
        dst_w: u32,
        dst_h: u32,
    ) -> Result<(Weights, Taps)> {
        if src_w == 0 || src_h == 0 || dst_w == 0 || dst_h == 0 {
            return Err(ResizeError::Empty);
        }
        let c = self;
        let inside = c.left >= 0.0
            && c.top >= 0.0
            && c.width > 0.0
            && c.height > 0.0
            && c.left + c.width <= src_w as f64 + 1e-6
            && c.top + c.height <= src_h as f64 + 1e-6;
        if !inside {
            return Err(ResizeError::Crop {
                left: c.left,
                top: c.top,
                width: c.width,
                height: c.height,
                src_w,
                src_h,
            });
        }
        let horiz = Weights::bilinear(src_w, c.left, c.left + c.width, dst_w);
        let vert = Weights::bilinear(src_h, c.top, c.top + c.height, dst_h).fixed();
        Ok((horiz, vert))
    }
}

/// One pass's weights: for output pixel `i`, `len[i]` taps starting at input pixel `start[i]`,
/// their i16 weights at `values[i * window..]`, zero past `len[i]`.
#[derive(Debug, Clone)]
pub(super) struct Taps {
    pub(super) precision: u8,
    window: usize,
    pub(super) start: Vec<u32>,
    pub(super) len: Vec<u32>,
    values: Vec<i16>,
}

/// One pass's weights before they are rounded to fixed point; laid out as in [`Taps`].
#[derive(Debug, Clone)]
pub(super) struct Weights {
    window: usize,
    start: Vec<u32>,
    len: Vec<u32>,
    values: Vec<f64>,
}

impl Weights {
    /// `fast_image_resize`'s `precompute_coefficients` with the bilinear filter and an adaptive
    /// kernel.
    pub(super) fn bilinear(in_size: u32, in0: f64, in1: f64, out_size: u32) -> Self {
        let scale = (in1 - in0) / out_size as f64;
        let filter_scale = scale.max(1.0);
        let radius = filter_scale; // the bilinear filter's support is 1
        let window = radius.ceil() as usize * 2 + 1;
        let recip = 1.0 / filter_scale;
        let mut values = vec![0f64; window * out_size as usize];
        let mut start = Vec::with_capacity(out_size as usize);
        let mut len = Vec::with_capacity(out_size as usize);
        for (out_x, w) in values.chunks_exact_mut(window).enumerate() {
            let in_center = in0 + (out_x as f64 + 0.5) * scale;
            let x_min = (in_center - radius).floor().max(0.0) as u32;
            let x_max = (in_center + radius).ceil().min(in_size as f64) as u32;
            let center = in_center - 0.5;
            let (mut first, mut n, mut sum) = (x_min, 0usize, 0.0);
            for x in x_min..x_max {
                let v = triangle((x as f64 - center) * recip);
                if x == first && v == 0.0 {
                    first += 1; // no zero weights at the start
                } else if n < window {
                    w[n] = v;
                    n += 1;
                    sum += v;
                }
            }
            while n > 0 && w[n - 1] == 0.0 {
                n -= 1; // nor at the end
            }
            if sum != 0.0 {
                w.iter_mut().for_each(|v| *v /= sum);
            }
            start.push(first);
            len.push(n as u32);
        }
        Self {
            window,
            start,
            len,
            values,
        }
    }

    /// The same filter over an input whose pixels come in pairs that share one sample, as the
    /// chroma of 4:2:2 does: input pixels `2j` and `2j + 1` both read sample `j`, so their
    /// weights add up on it.
    pub(super) fn paired(&self) -> Self {
        let window = self.window / 2 + 1;
        let n_out = self.start.len();
        let mut values = vec![0f64; window * n_out];
        let (mut start, mut len) = (Vec::with_capacity(n_out), Vec::with_capacity(n_out));
        for (i, out) in values.chunks_exact_mut(window).enumerate() {
            let (first, n) = (self.start[i] as usize, self.len[i] as usize);
            let ws = &self.values[i * self.window..][..n];
            for (k, &w) in ws.iter().enumerate() {
                out[(first + k) / 2 - first / 2] += w;
            }
            start.push((first / 2) as u32);
            len.push(if n == 0 {
                0
            } else {
                ((first + n - 1) / 2 - first / 2 + 1) as u32
            });
        }
        Self {
            window,
            start,
            len,
            values,
        }
    }

    /// `fast_image_resize`'s `Normalizer16`: the weights in i16 fixed point, with as many
    /// fraction bits as the largest weight allows.
    pub(super) fn fixed(&self) -> Taps {
        let max_weight = self.values.iter().copied().fold(0.0, f64::max);
        let mut precision = 0u8;
        for p in 0..(32 - 8 - 2) {
            precision = p;
            if (max_weight * (1u32 << (p + 1)) as f64).round() as i32 >= 1 << 15 {
                break;
            }
        }
        let scale = (1u32 << precision) as f64;
        let values = self.values.iter().map(|v| (v * scale).round() as i16);
        Taps {
            precision,
            window: self.window,
            start: self.start.clone(),
            len: self.len.clone(),
            values: values.collect(),
        }
    }
}

impl Taps {
    /// The taps of output pixel `i`.
    #[inline(always)]
    pub(super) fn get(&self, i: usize) -> (usize, &[i16]) {
        let n = self.len[i] as usize;
        (self.start[i] as usize, &self.values[i * self.window..][..n])
    }

    /// All `window` weights of output pixel `i`, zero past its `len`: one loop length for
    /// every pixel, for a caller whose input reaches `window` samples past `start`.
    #[inline(always)]
    pub(super) fn get_window(&self, i: usize) -> (usize, &[i16]) {
        (
            self.start[i] as usize,
            &self.values[i * self.window..][..self.window],
        )
    }

    /// Weights per output pixel, as [`Taps::get_window`] gives them.
    pub(super) fn window(&self) -> usize {
        self.window
    }

    /// The rounding term an accumulator starts from.
    #[inline(always)]
    pub(super) fn half(&self) -> i32 {
        1 << (self.precision - 1)
    }

    #[inline(always)]
    pub(super) fn clip(&self, v: i32) -> u8 {
        (v >> self.precision).clamp(0, 255) as u8
    }

    /// One past the last input pixel any output pixel reads.
    pub(super) fn end(&self) -> usize {
        self.start
            .iter()
            .zip(&self.len)
            .map(|(&s, &n)| (s + n) as usize)
            .max()
            .unwrap_or(0)
    }
}

fn triangle(x: f64) -> f64 {
    let x = x.abs();
    if x < 1.0 {
        1.0 - x
    } else {
        0.0
    }
}

/// Resizes `src_w`×`src_h` RGB888 images (or a crop of them) to `dst_w`×`dst_h`.
///
/// Build one per geometry, outside the frame loop: [`Resizer::new`] computes the weights and
/// allocates the scratch rows; [`Resizer::resize`] then allocates nothing and writes every
/// destination byte.
#[derive(Debug, Clone)]
pub struct Resizer {
    src_w: u32,
    src_h: u32,
    dst_w: u32,
    dst_h: u32,
    horiz: Taps,
    vert: Taps,
    /// The columns the horizontal pass reads: `x_first..x_first + temp_w`.
    x_first: usize,
    temp_w: usize,
    /// One row of the vertical pass's result, which the horizontal pass then reads.
    temp: Vec<u8>,
    acc: Vec<i32>,
    /// The horizontal weights for the AVX2 pass, when the CPU has AVX2.
    #[cfg(target_arch = "x86_64")]
    avx2: Option<avx2::Horizontal>,
}

impl Resizer {
    /// A resizer from the `crop` of a `src_w`×`src_h` image to `dst_w`×`dst_h`.
    pub fn new(src_w: u32, src_h: u32, crop: CropBox, dst_w: u32, dst_h: u32) -> Result<Self> {
        let (horiz, vert) = crop.plan(src_w, src_h, dst_w, dst_h)?;
        let horiz = horiz.fixed();
        let x_first = horiz.start[0] as usize;
        let x_last = horiz.end().max(x_first + 1);
        let temp_w = x_last - x_first;
        #[cfg(target_arch = "x86_64")]
        let avx2 = has_avx2().then(|| avx2::Horizontal::new(&horiz, x_first));
        // The AVX2 pass reads whole pairs of taps, past the row's last pixel.
        #[cfg(target_arch = "x86_64")]
        let temp_len = (temp_w * 3).max(avx2.as_ref().map_or(0, avx2::Horizontal::reach));
        #[cfg(not(target_arch = "x86_64"))]
        let temp_len = temp_w * 3;
        Ok(Self {
            src_w,
            src_h,
            dst_w,
            dst_h,
            x_first,
            temp_w,
            temp: vec![0; temp_len],
            acc: vec![0; temp_w * 3],
            horiz,
            vert,
            #[cfg(target_arch = "x86_64")]
            avx2,
        })
    }

    /// The source size this resizer was built for.
    pub fn source_size(&self) -> (u32, u32) {
        (self.src_w, self.src_h)
    }

    /// The destination size.
    pub fn destination_size(&self) -> (u32, u32) {
        (self.dst_w, self.dst_h)
    }

    /// Resizes `src` into `dst`, tightly packed RGB888 of the destination size.
    pub fn resize(&mut self, src: Rgb8View<'_>, dst: &mut [u8]) -> Result<()> {
        if (src.width, src.height) != (self.src_w, self.src_h)
            || src.data.len() < self.src_w as usize * self.src_h as usize * 3
        {
            return Err(ResizeError::SourceSize {
                got_w: src.width,
                got_h: src.height,
                want_w: self.src_w,
                want_h: self.src_h,
            });
        }
        ResizeError::check_destination(dst, self.dst_w, self.dst_h)?;
        #[cfg(target_arch = "x86_64")]
        if self.avx2.is_some() {
            // SAFETY: `avx2` is set only when the CPU reported AVX2 at construction; the sizes
            // were checked above.
            unsafe { self.run_avx2(src.data, dst) };
            return Ok(());
        }
        self.run(src.data, dst);
        Ok(())
    }

    /// [`Self::run`] in AVX2 intrinsics, the same result bit for bit.
    ///
    /// # Safety
    /// The CPU must support AVX2; `src` must hold the source image and `dst` the destination
    /// (both checked by [`Self::resize`]).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn run_avx2(&mut self, src: &[u8], dst: &mut [u8]) {
        let stride = self.src_w as usize * 3;
        let (row_len, x0) = (self.temp_w * 3, self.x_first * 3);
        let Some(h) = &self.avx2 else {
            return;
        };
        for (y, dst_row) in dst.chunks_exact_mut(self.dst_w as usize * 3).enumerate() {
            let taps = self.vert.get(y);
            avx2::vertical(src, stride, x0, row_len, taps, &self.vert, &mut self.temp);
            avx2::horizontal(&self.temp, h, dst_row);
        }
    }

    #[inline(always)]
    fn run(&mut self, src: &[u8], dst: &mut [u8]) {
        let stride = self.src_w as usize * 3;
        let row_len = self.temp_w * 3;
        let x0 = self.x_first * 3;
        let (v, h) = (&self.vert, &self.horiz);
        let (initial_v, initial_h) = (v.half(), h.half());
        let dst_rows = dst.chunks_exact_mut(self.dst_w as usize * 3);
        for (y, dst_row) in dst_rows.enumerate() {
            // Vertical pass into one temporary row, over the columns the horizontal pass will
            // read; whole-row multiply-adds vectorise.
            let (first, ks) = v.get(y);
            self.acc.fill(initial_v);
            for (k, &w) in ks.iter().enumerate() {
                let row = &src[(first + k) * stride + x0..][..row_len];
                for (a, &p) in self.acc.iter_mut().zip(row) {
                    *a += p as i32 * w as i32;
                }
            }
            for (t, &a) in self.temp.iter_mut().zip(&self.acc) {
                *t = v.clip(a);
            }
            // Horizontal pass of that row.
            for (x, out) in dst_row.chunks_exact_mut(3).enumerate() {
                let (first, ks) = h.get(x);
                let taps = &self.temp[(first - self.x_first) * 3..][..ks.len() * 3];
                let mut ss = [initial_h; 3];
                for (&w, px) in ks.iter().zip(taps.chunks_exact(3)) {
                    for c in 0..3 {
                        ss[c] += px[c] as i32 * w as i32;
                    }
                }
                for c in 0..3 {
                    out[c] = h.clip(ss[c]);
                }
            }
        }
    }
}

/// Whether this CPU has AVX2, for the resizers' vectorised builds (checked once, at
/// construction; the standard library caches the answer).
#[cfg(target_arch = "x86_64")]
pub(crate) fn has_avx2() -> bool {
    std::is_x86_feature_detected!("avx2")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32) -> Vec<u8> {
        (0..w * h)
            .flat_map(|i| {
                let (x, y) = (i % w, i / w);
                [
                    (x * 255 / w) as u8,
                    (y * 255 / h) as u8,
                    ((x ^ y) & 0xff) as u8,
                ]
            })
            .collect()
    }

    #[test]
    fn identity_is_a_copy_and_crop_picks_the_region() {
        let src = gradient(8, 6);
        let view = Rgb8View {
            width: 8,
            height: 6,
            data: &src,
        };
        let mut r = Resizer::new(8, 6, CropBox::full(8, 6), 8, 6).unwrap();
        let mut out = vec![0; 8 * 6 * 3];
        r.resize(view, &mut out).unwrap();
        assert_eq!(out, src);
        let crop = CropBox {
            left: 2.0,
            top: 1.0,
            width: 3.0,
            height: 2.0,
        };
        let mut r = Resizer::new(8, 6, crop, 3, 2).unwrap();
        let mut out = vec![0; 3 * 2 * 3];
        r.resize(view, &mut out).unwrap();
        assert_eq!(&out[..9], &src[(8 + 2) * 3..][..9]);
        assert_eq!(&out[9..], &src[(16 + 2) * 3..][..9]);
    }

    #[test]
    fn halving_averages_neighbours() {
        // A 4x1 row 0, 100, 200, 255 halves to the means of the pairs it covers.
        let src = [0, 0, 0, 100, 100, 100, 200, 200, 200, 250, 250, 250];
        let view = Rgb8View {
            width: 4,
            height: 1,
            data: &src,
        };
        let mut r = Resizer::new(4, 1, CropBox::full(4, 1), 2, 1).unwrap();
        let mut out = [0u8; 6];
        r.resize(view, &mut out).unwrap();
        // The triangle, stretched by 2, weighs x = 0, 1, 2 as 3 : 3 : 1 for the first output
        // pixel (0 · 3/7 + 100 · 3/7 + 200 · 1/7 = 71.4) and x = 1, 2, 3 as 1 : 3 : 3 for the
        // second (207.1).
        assert_eq!(out[0], 71);
        assert_eq!(out[3], 207);
    }

    #[test]
    fn paired_weights_filter_a_pixel_doubled_signal_alike() {
        // Chroma of 4:2:2: 7 samples, each covering two of 13 pixels (the last one alone).
        let chroma: Vec<f64> = (0..7).map(|j| (j * j * 37 % 101) as f64).collect();
        let doubled: Vec<f64> = (0..13).map(|i| chroma[i / 2]).collect();
        let w = Weights::bilinear(13, 1.5, 12.0, 5);
        let p = w.paired();
        for x in 0..5 {
            let sum = |ws: &Weights, at: &[f64]| {
                let (s, n) = (ws.start[x] as usize, ws.len[x] as usize);
                let v = &ws.values[x * ws.window..][..n];
                v.iter().zip(&at[s..]).map(|(w, a)| w * a).sum::<f64>()
            };
            let (a, b) = (sum(&w, &doubled), sum(&p, &chroma));
            assert!((a - b).abs() < 1e-9, "pixel {x}: {a} vs {b}");
            assert!(p.len[x] as usize <= p.window);
        }
    }

    #[test]
    fn regions_of_interest_stay_inside_the_image() {
        let roi = picket_geom::NormRect::new(0.1, 0.2, 0.9, 1.0);
        let c = CropBox::from_roi(&roi, 320, 240);
        assert_eq!(
            (c.left, c.top, c.width, c.height),
            (32.0, 48.0, 256.0, 192.0)
        );
        assert!(Resizer::new(320, 240, c, 300, 300).is_ok());
    }

    #[test]
    fn wrong_sizes_and_crops_are_errors() {
        let e = Resizer::new(8, 6, CropBox::full(9, 6), 3, 3).unwrap_err();
        assert!(matches!(e, ResizeError::Crop { .. }), "{e}");
        assert_eq!(
            Resizer::new(0, 6, CropBox::full(0, 6), 3, 3).unwrap_err(),
            ResizeError::Empty
        );
        let mut r = Resizer::new(8, 6, CropBox::full(8, 6), 3, 3).unwrap();
        let src = gradient(8, 6);
        let view = Rgb8View {
            width: 8,
            height: 6,
            data: &src,
        };
        let e = r.resize(view, &mut [0; 26]).unwrap_err();
        assert!(
            matches!(e, ResizeError::Destination { want: 27, .. }),
            "{e}"
        );
        let small = Rgb8View {
            width: 8,
            height: 5,
            data: &src,
        };
        let e = r.resize(small, &mut [0; 27]).unwrap_err();
        assert!(matches!(e, ResizeError::SourceSize { got_h: 5, .. }), "{e}");
    }
}
