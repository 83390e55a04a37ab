//! An allocation-free decoder for the JPEGs cameras send: baseline (SOF0/SOF1), 8-bit,
//! Huffman-coded, one interleaved scan, grey or YCbCr with the luma sampled 1 or 2 times the
//! chroma in each direction (4:4:4, 4:2:2, 4:2:0, 4:4:0), restart markers allowed.
//!
//! A missing DHT means the standard tables of Annex K, as UVC webcams assume. Anything else
//! (progressive, 12-bit, arithmetic, CMYK, odd sampling) is [`JpegError::Unsupported`], so the
//! caller can hand the frame to a general decoder.
//!
//! State lives in [`Baseline`] and is reused: the component planes grow when a bigger frame
//! arrives and are never shrunk, so after the first frame of a stream no call allocates. The
//! planes hold two rows of MCUs, not the whole image: each MCU row is converted to RGB as soon
//! as the chroma its pixels are upsampled from is decoded (for 4:2:0, all but its last pixel row,
//! which waits for the next MCU row). That keeps a 768×576 frame's planes at 37 KB, not 660 KB,
//! and hot in the cache.
//!
//! [`Baseline::decode_planes`] instead keeps the whole of each plane and stops there, optionally
//! at 1/2, 1/4 or 1/8 of the size: each block goes through the 4×4, 2×2 or 1×1 inverse DCT of
//! its lowest coefficients (`idct::idct_scaled`), so the smaller image costs the entropy
//! decoding and little else. A 1280×720 4:2:2 frame at 1/2 keeps 460 KB of planes.
//! Every length and index in the input is checked; corrupt data is an error, never a panic.

mod header;

use super::color::{upsample_row, ycbcr_row};
use super::huffman::{Bits, Huffman};
use super::idct::{dc_only, idct_scaled, COEF_LIMIT};
use super::tables::{TableSpec, STANDARD};
use super::JpegError;
use crate::RgbImage;
use std::ops::Range;

/// Natural-order index of the k-th coefficient in zig-zag order.
#[rustfmt::skip]
const ZIGZAG: [u8; 64] = [
     0,  1,  8, 16,  9,  2,  3, 10, 17, 24, 32, 25, 18, 11,  4,  5,
    12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13,  6,  7, 14, 21, 28,
    35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
    58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

#[derive(Debug, Clone, Copy, Default)]
struct Component {
    id: u8,
    h: usize,
    v: usize,
    tq: usize,
    td: usize,
    ta: usize,
    /// Offset of this component's plane in `Baseline::planes`, its row length, and how many
    /// rows it holds (two MCU rows'; image row `y` is at row `y % rows`).
    offset: usize,
    stride: usize,
    rows: usize,
}

impl Component {
    /// Where image row `y` of this component starts in the planes.
    fn row(&self, y: usize) -> usize {
        self.offset + (y % self.rows) * self.stride
    }
}

/// Reusable decoder state; see the module doc.
pub struct Baseline {
    qt: [[i32; 64]; 4],
    qt_set: [bool; 4],
    /// DC tables 0..4 then AC tables 0..4, as the frame defined them.
    custom: Vec<Huffman>,
    custom_set: [bool; 8],
    /// Annex K tables: luma DC, chroma DC, luma AC, chroma AC.
    standard: Vec<Huffman>,
    comps: [Component; 3],
    ncomp: usize,
    width: usize,
    height: usize,
    mcux: usize,
    mcuy: usize,
    restart: usize,
    /// Samples a side of each block as decoded: 8, or 4, 2, 1 when decoding to planes at
    /// 1/2, 1/4, 1/8 of the size.
    block: usize,
    planes: Vec<u8>,
    /// Whether `planes` hold the whole image of a successful [`Baseline::decode_planes`].
    planes_ok: bool,
    /// Scratch for the colour conversion.
    rgb: Rgb,
    /// Whether the CPU has AVX2 (checked once, at construction).
    #[cfg(target_arch = "x86_64")]
    avx2: bool,
}

impl Default for Baseline {
    fn default() -> Self {
        Self::new()
    }
}

impl Baseline {
    pub fn new() -> Self {
        let standard = STANDARD
            .iter()
            .map(|t: &TableSpec| {
                let mut h = Huffman::empty();
                // The Annex K tables are well formed; `tables` tests them.
                let _ = h.build(&t.counts, t.symbols);
                h
            })
            .collect();
        Self {
            qt: [[0; 64]; 4],
            qt_set: [false; 4],
            custom: vec![Huffman::empty(); 8],
            custom_set: [false; 8],
            standard,
            comps: [Component::default(); 3],
            ncomp: 0,
            width: 0,
            height: 0,
            mcux: 0,
            mcuy: 0,
            restart: 0,
            block: 8,
            planes: Vec::new(),
            planes_ok: false,
            rgb: Rgb::default(),
            #[cfg(target_arch = "x86_64")]
            avx2: crate::resize::has_avx2(),
        }
    }

    /// Decodes one JPEG into `out`, resized to the image. After an error in the image data,
    /// `out` may hold the rows decoded before it.
    pub fn decode(&mut self, data: &[u8], out: &mut RgbImage) -> Result<(), JpegError> {
        self.planes_ok = false;
        let scan = self.header(data)?;
        self.layout(8, false);
        out.set_size(self.width as u32, self.height as u32);
        self.scan(&data[scan..], Some(out.as_bytes_mut()))
    }

    /// Decodes one colour JPEG at 1/`scale` of its size (`scale` 1, 2, 4 or 8, by a reduced
    /// inverse DCT) into its Y, Cb and Cr planes, each at its own resolution, without
    /// converting to RGB: for callers that resize before they convert. Grey images are
    /// [`JpegError::Unsupported`] here (decode them with [`Baseline::decode`]). After an error
    /// in the image data the planes may hold the rows decoded before it.
    pub fn decode_planes(&mut self, data: &[u8], scale: u32) -> Result<Planes<'_>, JpegError> {
        let block = match scale {
            1 => 8,
            2 => 4,
            4 => 2,
            8 => 1,
            _ => return Err(JpegError::Unsupported("scale other than 1, 2, 4 or 8")),
        };
        self.planes_ok = false;
        let scan = self.header(data)?;
        if self.ncomp != 3 {
            return Err(JpegError::Unsupported("grey image decoded to YCbCr planes"));
        }
        self.layout(block, true);
        self.scan(&data[scan..], None)?;
        self.planes_ok = true;
        Ok(self.planes_view())
    }

    /// The planes of the last [`Baseline::decode_planes`], if it succeeded and nothing was
    /// decoded since.
    pub fn last_planes(&self) -> Option<Planes<'_>> {
        self.planes_ok.then(|| self.planes_view())
    }

    fn planes_view(&self) -> Planes<'_> {
        let block = self.block;
        let plane = |c: &Component| {
            // The component's size in the image (A.1.1), then at the decoded scale.
            let (hmax, vmax) = (self.comps[0].h, self.comps[0].v);
            let w = (self.width * c.h).div_ceil(hmax).div_ceil(8 / block);
            let h = (self.height * c.v).div_ceil(vmax).div_ceil(8 / block);
            Plane {
                data: &self.planes[c.offset..c.offset + c.stride * c.rows],
                width: w as u32,
                height: h as u32,
                stride: c.stride,
            }
        };
        Planes {
            y: plane(&self.comps[0]),
            cb: plane(&self.comps[1]),
            cr: plane(&self.comps[2]),
            h_sub: self.comps[0].h as u32,
            v_sub: self.comps[0].v as u32,
        }
    }

    /// Places the component planes for blocks of `block` samples a side: two MCU rows each
    /// (a ring, converted to RGB as it goes) or, for `whole`, the whole image.
    fn layout(&mut self, block: usize, whole: bool) {
        self.block = block;
        let mut offset = 0;
        for c in &mut self.comps[..self.ncomp] {
            c.offset = offset;
            c.stride = self.mcux * c.h * block;
            c.rows = if whole { self.mcuy } else { 2 } * c.v * block;
            offset += c.stride * c.rows;
        }
        if self.planes.len() < offset {
            self.planes.resize(offset, 0);
        }
    }

    fn table(&self, class: usize, id: usize) -> &Huffman {
        if self.custom_set[class * 4 + id] {
            &self.custom[class * 4 + id]
        } else {
            &self.standard[class * 2 + id.min(1)]
        }
    }

    /// Decodes the scan into the planes and converts each MCU row into `out` (RGB rows of the
    /// image's width) as soon as it can be.
    /// Without `out`, the planes are left for the caller ([`Baseline::decode_planes`]).
    fn scan(&mut self, data: &[u8], out: Option<&mut [u8]>) -> Result<(), JpegError> {
        let mut planes = std::mem::take(&mut self.planes);
        let mut rgb = std::mem::take(&mut self.rgb);
        #[cfg(target_arch = "x86_64")]
        let result = if self.avx2 {
            // SAFETY: `avx2` is true only when the CPU reported AVX2 at construction.
            unsafe { self.scan_avx2(data, &mut planes, &mut rgb, out) }
        } else {
            self.scan_mcus(data, &mut planes, &mut rgb, out)
        };
        #[cfg(not(target_arch = "x86_64"))]
        let result = self.scan_mcus(data, &mut planes, &mut rgb, out);
        self.planes = planes;
        self.rgb = rgb;
        result
    }

    /// [`Self::scan_mcus`] compiled for AVX2, where LLVM runs the IDCT's eight lanes and the
    /// colour conversion in 256-bit registers.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn scan_avx2(
        &self,
        data: &[u8],
        planes: &mut [u8],
        rgb: &mut Rgb,
        out: Option<&mut [u8]>,
    ) -> Result<(), JpegError> {
        self.scan_mcus(data, planes, rgb, out)
    }

    #[inline(always)]
    fn scan_mcus(
        &self,
        data: &[u8],
        planes: &mut [u8],
        rgb: &mut Rgb,
        mut out: Option<&mut [u8]>,
    ) -> Result<(), JpegError> {
        let mut bits = Bits::new(data);
        let mut pred = [0i32; 3];
        let mut coef = [0i32; 64];
        let mut left = self.restart;
        // For 4:2:0 an MCU row's last pixel row needs the next MCU row's first chroma row.
        let lag = usize::from(self.ncomp == 3 && self.comps[0].v == 2);
        let mcu_h = 8 * self.comps[0].v;
        let n = self.block;
        let mut done = 0;
        for my in 0..self.mcuy {
            // Where each component's block rows of this MCU row start in the planes.
            let mut at_row = [[0usize; 2]; 3];
            for (at, c) in at_row.iter_mut().zip(&self.comps[..self.ncomp]) {
                for (by, at) in at.iter_mut().enumerate().take(c.v) {
                    *at = c.row((my * c.v + by) * n);
                }
            }
            for mx in 0..self.mcux {
                if self.restart > 0 {
                    if left == 0 {
                        if bits.overran() {
                            return Err(JpegError::Corrupt("restart interval overran its data"));
                        }
                        bits.restart()?;
                        pred = [0; 3];
                        left = self.restart;
                    }
                    left -= 1;
                }
                for (ci, c) in self.comps[..self.ncomp].iter().enumerate() {
                    let (dc, ac) = (self.table(0, c.td), self.table(1, c.ta));
                    let q = &self.qt[c.tq];
                    for &row_at in &at_row[ci][..c.v] {
                        for bx in 0..c.h {
                            let ac_coded = block(&mut bits, dc, ac, q, &mut pred[ci], &mut coef)?;
                            let at = row_at + (mx * c.h + bx) * n;
                            if ac_coded {
                                idct_scaled(n, &coef, &mut planes[at..], c.stride);
                            } else {
                                let v = dc_only(coef[0]);
                                for row in planes[at..].chunks_mut(c.stride).take(n) {
                                    row[..n].fill(v);
                                }
                            }
                        }
                    }
                }
                if bits.padded > 16 {
                    return Err(JpegError::Truncated("in the image data"));
                }
            }
            if let Some(out) = out.as_deref_mut() {
                let ready = if my + 1 == self.mcuy {
                    self.height
                } else {
                    ((my + 1) * mcu_h - lag).min(self.height)
                };
                self.write_rgb(planes, out, done..ready, rgb);
                done = ready;
            }
        }
        if bits.overran() {
            return Err(JpegError::Truncated("in the image data"));
        }
        Ok(())
    }

    /// Converts image rows `rows` from the planes into `out`.
    #[inline(always)]
    fn write_rgb(&self, planes: &[u8], out: &mut [u8], rows: Range<usize>, rgb: &mut Rgb) {
        let w = self.width;
        let y = self.comps[0];
        let dst_rows = out.chunks_exact_mut(w * 3).skip(rows.start);
        if self.ncomp == 1 {
            for (r, dst) in rows.zip(dst_rows) {
                let src = &planes[y.row(r)..][..w];
                for (px, &l) in dst.chunks_exact_mut(3).zip(src) {
                    px.fill(l);
                }
            }
            return;
        }
        let (cb, cr) = (self.comps[1], self.comps[2]);
        let (hs, vs) = (y.h - 1, y.v - 1); // log2 of the luma:chroma ratio
        let (cw, ch) = (w.div_ceil(1 << hs), self.height.div_ceil(1 << vs));
        if rgb.sums.len() < 2 * cw {
            rgb.sums.resize(2 * cw, 0);
        }
        if rgb.full.len() < 2 * w {
            rgb.full.resize(2 * w, 0);
        }
        // The scratch keeps the size of the widest frame so far: take this frame's share.
        let (su, sv) = rgb.sums[..2 * cw].split_at_mut(cw);
        let (fu, fv) = rgb.full[..2 * w].split_at_mut(w);
        for (r, dst) in rows.zip(dst_rows) {
            // "Fancy" upsampling as libjpeg and zune-jpeg do it: each chroma sample weighs 3:1
            // against its neighbour on the side of the output pixel, vertically then
            // horizontally; `sums` holds the vertical pass, scaled by 4, and `full` the
            // horizontal one, so the colour conversion below is one plain loop over pixels.
            let near = r >> vs;
            let far = match (vs, r % 2) {
                (0, _) => near,
                (_, 0) => near.saturating_sub(1),
                _ => (near + 1).min(ch - 1),
            };
            for (c, sum, out) in [(&cb, &mut *su, &mut *fu), (&cr, &mut *sv, &mut *fv)] {
                let n = &planes[c.row(near)..][..cw];
                let f = &planes[c.row(far)..][..cw];
                for ((s, &a), &b) in sum.iter_mut().zip(n).zip(f) {
                    *s = 3 * a as i32 + b as i32;
                }
                upsample_row(sum, hs, out);
            }
            ycbcr_row(&planes[y.row(r)..][..w], fu, fv, dst);
        }
    }
}

/// One plane of a decoded image: `height` rows of `width` samples, `stride` bytes apart.
#[derive(Debug, Clone, Copy)]
pub struct Plane<'a> {
    pub data: &'a [u8],
    pub width: u32,
    pub height: u32,
    pub stride: usize,
}

/// The Y, Cb and Cr planes of an image from [`Baseline::decode_planes`], full-range (JFIF).
/// The luma has `h_sub`×`v_sub` samples per chroma sample (2×2 for 4:2:0), and chroma
/// samples are centred on the luma samples they cover.
#[derive(Debug, Clone, Copy)]
pub struct Planes<'a> {
    pub y: Plane<'a>,
    pub cb: Plane<'a>,
    pub cr: Plane<'a>,
    pub h_sub: u32,
    pub v_sub: u32,
}

/// Scratch for the colour conversion, kept in [`Baseline`] between frames.
#[derive(Default)]
struct Rgb {
    /// One row of each chroma plane, vertically filtered.
    sums: Vec<i32>,
    /// One output row of Cb then one of Cr, at full width.
    full: Vec<u8>,
}

/// Decodes one block's coefficients, dequantised, into `coef` in natural order. Returns
/// whether any AC coefficient was coded; a flat block need not go through the IDCT.
#[inline(always)]
fn block(
    bits: &mut Bits<'_>,
    dc: &Huffman,
    ac: &Huffman,
    q: &[i32; 64],
    pred: &mut i32,
    coef: &mut [i32; 64],
) -> Result<bool, JpegError> {
    coef.fill(0);
    let t = dc.decode(bits)? as u32;
    if t > 15 {
        return Err(JpegError::Corrupt("DC difference category above 15"));
    }
    *pred = pred.wrapping_add(bits.receive_extend(t));
    coef[0] = pred.saturating_mul(q[0]).clamp(-COEF_LIMIT, COEF_LIMIT);
    let mut k = 1;
    let mut coded = false;
    while k < 64 {
        let fast = ac.peek_ac(bits);
        if fast != 0 {
            // A code and its magnitude bits at once; see `Huffman::fast_ac`.
            bits.consume((fast & 0xFF) as u32);
            k += (fast >> 8 & 0xFF) as usize;
            if k > 63 {
                return Err(JpegError::Corrupt("coefficient index past 63"));
            }
            coef[ZIGZAG[k] as usize] = ((fast >> 16) * q[k]).clamp(-COEF_LIMIT, COEF_LIMIT);
            coded = true;
            k += 1;
            continue;
        }
        let rs = ac.decode(bits)?;
        let (run, size) = ((rs >> 4) as usize, (rs & 15) as u32);
        if size == 0 {
            if run != 15 {
                break; // end of block
            }
            k += 16;
            continue;
        }
        k += run;
        if k > 63 {
            return Err(JpegError::Corrupt("coefficient index past 63"));
        }
        let v = bits.receive_extend(size).saturating_mul(q[k]);
        coef[ZIGZAG[k] as usize] = v.clamp(-COEF_LIMIT, COEF_LIMIT);
        coded = true;
        k += 1;
    }
    Ok(coded)
}
