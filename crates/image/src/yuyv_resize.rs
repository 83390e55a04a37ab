//! YUYV straight to the detector's RGB input: resize in YUV, convert only the small result.
//!
//! Converting a 640×480 frame to RGB and then resizing it costs more than the two passes of the
//! resize on their own, and most of those converted pixels are averaged away. A YUYV frame is
//! therefore filtered as it is: the vertical pass runs over the packed `Y0 U Y1 V` bytes (all
//! three channels have full vertical resolution in 4:2:2), the horizontal pass reads luma and
//! chroma from their own rows, and each output pixel is converted once.
//!
//! The filter is [`crate::resize`]'s, so the result matches converting first and resizing
//! after, within rounding: luma uses the same taps, and chroma uses them summed over each pair
//! of pixels that shares a sample, which is what the pixel-doubling conversion of
//! [`crate::convert`] followed by the resize computes. Rounding in YUV between the passes
//! costs up to 4 levels against that order (tests hold it there, and the mean under 0.75).
//! Where a pixel pair straddles a sharp colour edge its colour can lie outside RGB, and there
//! the two orders differ more: converting first clamps before the filter, this after it.
//!
//! Speed comes from filtering `LANES` output rows together: the vertical pass runs over the
//! packed bytes row by row, its planes are transposed so that one column of all lanes is
//! contiguous, and the horizontal pass and the conversion then run across the lanes, which
//! vectorises without gathers. LLVM emits NEON on aarch64 (baseline there); on x86_64 the same
//! code is also built for AVX2 and picked at run time.

use crate::convert::yuv_to_rgb;
use crate::resize::{CropBox, ResizeError, Result, Taps};

/// Output rows filtered together: the horizontal pass runs across them, in lanes.
const LANES: usize = 8;

/// Resizes (a crop of) `src_w`×`src_h` YUYV frames to `dst_w`×`dst_h` RGB888.
///
/// Build one per geometry, outside the frame loop; [`YuyvResizer::resize`] then allocates
/// nothing and writes every destination byte.
#[derive(Debug, Clone)]
pub struct YuyvResizer {
    src_w: u32,
    src_h: u32,
    dst_w: u32,
    dst_h: u32,
    vert: Taps,
    luma: Taps,
    chroma: Taps,
    /// The quads (pairs of pixels) the horizontal pass reads: `q_first..q_first + quads`.
    q_first: usize,
    quads: usize,
    /// Accumulators of the vertical pass over the quads' bytes.
    acc: Vec<i32>,
    /// [`LANES`] rows of the vertical pass, as planes.
    y: Vec<u8>,
    u: Vec<u8>,
    v: Vec<u8>,
    /// The planes of [`LANES`] rows, transposed: sample `i` of row `r` at `i * LANES + r`.
    yt: Vec<u8>,
    ut: Vec<u8>,
    vt: Vec<u8>,
    /// [`LANES`] rows of output, transposed the same way, `R G B` lanes per pixel.
    rgb: Vec<u8>,
    #[cfg(target_arch = "x86_64")]
    avx2: bool,
}

impl YuyvResizer {
    /// A resizer from the `crop` of a `src_w`×`src_h` YUYV frame to `dst_w`×`dst_h` RGB.
    pub fn new(src_w: u32, src_h: u32, crop: CropBox, dst_w: u32, dst_h: u32) -> Result<Self> {
        let (horiz, vert) = crop.plan(src_w, src_h, dst_w, dst_h)?;
        let luma = horiz.fixed();
        let chroma = horiz.paired().fixed();
        let q_first = (luma.start[0] as usize / 2).min(chroma.start[0] as usize);
        let q_last = luma.end().div_ceil(2).max(chroma.end()).max(q_first + 1);
        let quads = q_last - q_first;
        Ok(Self {
            src_w,
            src_h,
            dst_w,
            dst_h,
            acc: vec![0; quads * 4],
            y: vec![0; quads * 2 * LANES],
            u: vec![0; quads * LANES],
            v: vec![0; quads * LANES],
            yt: vec![0; quads * 2 * LANES],
            ut: vec![0; quads * LANES],
            vt: vec![0; quads * LANES],
            rgb: vec![0; dst_w as usize * 3 * LANES],
            vert,
            luma,
            chroma,
            q_first,
            quads,
            #[cfg(target_arch = "x86_64")]
            avx2: crate::resize::has_avx2(),
        })
    }

    /// Resizes the YUYV frame `src`, rows `stride` bytes apart, into `dst`, tightly packed
    /// RGB888 of the destination size.
    pub fn resize(&mut self, src: &[u8], stride: usize, dst: &mut [u8]) -> Result<()> {
        let row = self.src_w.div_ceil(2) as usize * 4;
        let rows = self.src_h as usize;
        if stride < row || src.len() < stride * (rows - 1) + row {
            return Err(ResizeError::SourceSize {
                got_w: (stride / 2) as u32,
                got_h: (src.len() / stride.max(1)) as u32,
                want_w: self.src_w,
                want_h: self.src_h,
            });
        }
        ResizeError::check_destination(dst, self.dst_w, self.dst_h)?;
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is true only when the CPU reported AVX2 at construction.
            unsafe { self.run_avx2(src, stride, dst) };
            return Ok(());
        }
        self.run(src, stride, dst);
        Ok(())
    }

    /// The source size this resizer was built for, which [`Self::resize`] checks.
    pub fn source_size(&self) -> (u32, u32) {
        (self.src_w, self.src_h)
    }

    /// [`Self::run`] compiled for AVX2, which LLVM vectorises across 8 lanes.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn run_avx2(&mut self, src: &[u8], stride: usize, dst: &mut [u8]) {
        self.run(src, stride, dst);
    }

    #[inline(always)]
    fn run(&mut self, src: &[u8], stride: usize, dst: &mut [u8]) {
        let row_len = self.dst_w as usize * 3;
        for (block, out) in dst.chunks_mut(row_len * LANES).enumerate() {
            let rows = out.len() / row_len;
            // The vertical pass, row by row; a short last block repeats its last row.
            for lane in 0..LANES {
                self.vertical(src, stride, block * LANES + lane.min(rows - 1), lane);
            }
            transpose(&self.y, &mut self.yt);
            transpose(&self.u, &mut self.ut);
            transpose(&self.v, &mut self.vt);
            self.horizontal();
            for (lane, dst_row) in out.chunks_exact_mut(row_len).enumerate() {
                for (d, px) in dst_row.iter_mut().zip(self.rgb.chunks_exact(LANES)) {
                    *d = px[lane];
                }
            }
        }
    }

    /// Output row `out_y` of the vertical pass, over the packed bytes, split into the planes
    /// of `lane`.
    #[inline(always)]
    fn vertical(&mut self, src: &[u8], stride: usize, out_y: usize, lane: usize) {
        let b0 = self.q_first * 4;
        let n = self.quads;
        let v = &self.vert;
        let (first, ks) = v.get(out_y);
        let row = |k: usize| &src[(first + k) * stride + b0..][..n * 4];
        let (half, w0) = (v.half(), ks.first().map_or(0, |&w| w as i32));
        for (a, &p) in self.acc.iter_mut().zip(row(0)) {
            *a = half + p as i32 * w0;
        }
        for (k, &w) in ks.iter().enumerate().skip(1) {
            for (a, &p) in self.acc.iter_mut().zip(row(k)) {
                *a += p as i32 * w as i32;
            }
        }
        let y = self.y[lane * n * 2..][..n * 2].chunks_exact_mut(2);
        let u = &mut self.u[lane * n..][..n];
        let planes = y.zip(u).zip(&mut self.v[lane * n..][..n]);
        for (((y, u), v_out), a) in planes.zip(self.acc.chunks_exact(4)) {
            y[0] = v.clip(a[0]);
            *u = v.clip(a[1]);
            y[1] = v.clip(a[2]);
            *v_out = v.clip(a[3]);
        }
    }

    /// The horizontal pass and the conversion to RGB, across [`LANES`] rows at once.
    #[inline(always)]
    fn horizontal(&mut self) {
        let (y0, c0) = (self.q_first * 2, self.q_first);
        let (l, c) = (&self.luma, &self.chroma);
        for (x, out) in self.rgb.chunks_exact_mut(3 * LANES).enumerate() {
            let (ls, lw) = l.get(x);
            let (cs, cw) = c.get(x);
            let luma = filter(l, &self.yt[(ls - y0) * LANES..], lw);
            let u = filter(c, &self.ut[(cs - c0) * LANES..], cw);
            let v = filter(c, &self.vt[(cs - c0) * LANES..], cw);
            let (r, rest) = out.split_at_mut(LANES);
            let (g, b) = rest.split_at_mut(LANES);
            for lane in 0..LANES {
                let [pr, pg, pb] = yuv_to_rgb(luma[lane], u[lane], v[lane]);
                (r[lane], g[lane], b[lane]) = (pr, pg, pb);
            }
        }
    }
}

/// Taps `w` of `taps` over transposed samples `t`, in all lanes.
#[inline(always)]
fn filter(taps: &Taps, t: &[u8], w: &[i16]) -> [u8; LANES] {
    let mut acc = [taps.half(); LANES];
    for (col, &w) in t.chunks_exact(LANES).zip(w) {
        for lane in 0..LANES {
            acc[lane] += col[lane] as i32 * w as i32;
        }
    }
    acc.map(|a| taps.clip(a))
}

/// [`LANES`] rows, one after the other in `rows`, into `t` with sample `i` of row `r` at
/// `i * LANES + r`.
#[inline(always)]
fn transpose(rows: &[u8], t: &mut [u8]) {
    let n = rows.len() / LANES;
    let r: [&[u8]; LANES] = std::array::from_fn(|lane| &rows[lane * n..][..n]);
    for (i, d) in t.chunks_exact_mut(LANES).enumerate().take(n) {
        d.copy_from_slice(&[
            r[0][i], r[1][i], r[2][i], r[3][i], r[4][i], r[5][i], r[6][i], r[7][i],
        ]);
    }
}
