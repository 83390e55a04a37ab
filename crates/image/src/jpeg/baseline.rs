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
//! Every length and index in the input is checked; corrupt data is an error, never a panic.

use super::huffman::{Bits, Huffman};
use super::idct::{dc_only, idct8x8, ycbcr_to_rgb, COEF_LIMIT};
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
    planes: Vec<u8>,
    /// Scratch for the colour conversion.
    rgb: Rgb,
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
            planes: Vec::new(),
            rgb: Rgb::default(),
        }
    }

    /// Decodes one JPEG into `out`, resized to the image. After an error in the image data,
    /// `out` may hold the rows decoded before it.
    pub fn decode(&mut self, data: &[u8], out: &mut RgbImage) -> Result<(), JpegError> {
        if data.len() < 4 || data[0] != 0xFF || data[1] != 0xD8 {
            return Err(JpegError::Corrupt("no SOI marker"));
        }
        self.qt_set = [false; 4];
        self.custom_set = [false; 8];
        self.ncomp = 0;
        self.restart = 0;
        let mut pos = 2;
        loop {
            if pos + 1 >= data.len() {
                return Err(JpegError::Truncated("ends before the image data"));
            }
            if data[pos] != 0xFF {
                return Err(JpegError::Corrupt("expected a marker"));
            }
            let m = data[pos + 1];
            pos += 2;
            match m {
                0xFF => pos -= 1, // fill byte
                0x01 | 0xD0..=0xD8 => {}
                0xD9 => return Err(JpegError::Corrupt("EOI before any scan")),
                _ => {
                    let len = match data.get(pos..pos + 2) {
                        Some(b) => u16::from_be_bytes([b[0], b[1]]) as usize,
                        None => return Err(JpegError::Truncated("in a marker segment")),
                    };
                    let seg = match data.get(pos + 2..pos + len) {
                        Some(s) if len >= 2 => s,
                        _ => return Err(JpegError::Truncated("in a marker segment")),
                    };
                    pos += len;
                    match m {
                        0xC0 | 0xC1 => self.frame(seg)?,
                        0xC2 | 0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                            return Err(JpegError::Unsupported(
                                "progressive, lossless or arithmetic coding",
                            ))
                        }
                        0xC4 => self.huffman(seg)?,
                        0xDB => self.quant(seg)?,
                        0xDD if seg.len() >= 2 => {
                            self.restart = u16::from_be_bytes([seg[0], seg[1]]) as usize
                        }
                        0xDA => {
                            self.scan_header(seg)?;
                            // Every block costs at least one bit of coded data: a header that
                            // claims more blocks than the rest can hold is refused before its
                            // image is allocated (a few bytes must not ask for gigabytes).
                            let per_mcu: usize =
                                self.comps[..self.ncomp].iter().map(|c| c.h * c.v).sum();
                            let blocks = per_mcu.saturating_mul(self.mcux * self.mcuy);
                            if blocks / 8 > data.len() - pos {
                                return Err(JpegError::Truncated(
                                    "less data than the frame's size needs",
                                ));
                            }
                            out.set_size(self.width as u32, self.height as u32);
                            return self.scan(&data[pos..], out.as_bytes_mut());
                        }
                        _ => {} // APPn, COM and friends
                    }
                }
            }
        }
    }

    fn frame(&mut self, seg: &[u8]) -> Result<(), JpegError> {
        if seg.len() < 6 {
            return Err(JpegError::Corrupt("short frame header"));
        }
        if seg[0] != 8 {
            return Err(JpegError::Unsupported("sample precision other than 8 bits"));
        }
        let height = u16::from_be_bytes([seg[1], seg[2]]) as usize;
        let width = u16::from_be_bytes([seg[3], seg[4]]) as usize;
        let n = seg[5] as usize;
        if height == 0 || width == 0 {
            return Err(JpegError::Unsupported("height defined by a DNL marker"));
        }
        if n != 1 && n != 3 {
            return Err(JpegError::Unsupported("component count other than 1 or 3"));
        }
        if seg.len() < 6 + 3 * n {
            return Err(JpegError::Corrupt("short frame header"));
        }
        for (i, c) in seg[6..6 + 3 * n].chunks_exact(3).enumerate() {
            let (h, v, tq) = ((c[1] >> 4) as usize, (c[1] & 15) as usize, c[2] as usize);
            if tq > 3 {
                return Err(JpegError::Corrupt("quantisation table id above 3"));
            }
            let ok = if i == 0 {
                (1..=2).contains(&h) && (1..=2).contains(&v)
            } else {
                h == 1 && v == 1
            };
            if !ok {
                return Err(JpegError::Unsupported(
                    "chroma sampling other than 4:4:4/4:2:2/4:2:0/4:4:0",
                ));
            }
            self.comps[i] = Component {
                id: c[0],
                h: if n == 1 { 1 } else { h },
                v: if n == 1 { 1 } else { v },
                tq,
                ..Component::default()
            };
        }
        let (hmax, vmax) = (self.comps[0].h, self.comps[0].v);
        self.mcux = width.div_ceil(8 * hmax);
        self.mcuy = height.div_ceil(8 * vmax);
        let mut offset = 0;
        for c in &mut self.comps[..n] {
            c.offset = offset;
            c.stride = self.mcux * c.h * 8;
            c.rows = 2 * c.v * 8;
            offset += c.stride * c.rows;
        }
        if self.planes.len() < offset {
            self.planes.resize(offset, 0);
        }
        self.ncomp = n;
        self.width = width;
        self.height = height;
        Ok(())
    }

    fn huffman(&mut self, mut seg: &[u8]) -> Result<(), JpegError> {
        while !seg.is_empty() {
            if seg.len() < 17 {
                return Err(JpegError::Corrupt("short Huffman table"));
            }
            let (class, id) = ((seg[0] >> 4) as usize, (seg[0] & 15) as usize);
            if class > 1 || id > 3 {
                return Err(JpegError::Corrupt("Huffman table class or id out of range"));
            }
            let counts: [u8; 16] = seg[1..17].try_into().unwrap_or([0; 16]);
            let total: usize = counts.iter().map(|&c| c as usize).sum();
            let symbols = seg
                .get(17..17 + total)
                .ok_or(JpegError::Corrupt("short Huffman table"))?;
            self.custom[class * 4 + id].build(&counts, symbols)?;
            self.custom_set[class * 4 + id] = true;
            seg = &seg[17 + total..];
        }
        Ok(())
    }

    fn quant(&mut self, mut seg: &[u8]) -> Result<(), JpegError> {
        while !seg.is_empty() {
            let (wide, id) = (seg[0] >> 4 != 0, (seg[0] & 15) as usize);
            let size = if wide { 128 } else { 64 };
            let body = seg
                .get(1..1 + size)
                .ok_or(JpegError::Corrupt("short quantisation table"))?;
            if id > 3 {
                return Err(JpegError::Corrupt("quantisation table id above 3"));
            }
            for k in 0..64 {
                self.qt[id][k] = if wide {
                    u16::from_be_bytes([body[2 * k], body[2 * k + 1]]) as i32
                } else {
                    body[k] as i32
                };
            }
            self.qt_set[id] = true;
            seg = &seg[1 + size..];
        }
        Ok(())
    }

    fn scan_header(&mut self, seg: &[u8]) -> Result<(), JpegError> {
        if self.ncomp == 0 {
            return Err(JpegError::Corrupt("scan before the frame header"));
        }
        let ns = *seg.first().unwrap_or(&0) as usize;
        if ns != self.ncomp {
            return Err(JpegError::Unsupported("more than one scan"));
        }
        let specs = seg
            .get(1..1 + 2 * ns)
            .ok_or(JpegError::Corrupt("short scan header"))?;
        for s in specs.chunks_exact(2) {
            let c = self.comps[..self.ncomp]
                .iter_mut()
                .find(|c| c.id == s[0])
                .ok_or(JpegError::Corrupt("scan names an unknown component"))?;
            c.td = (s[1] >> 4) as usize;
            c.ta = (s[1] & 15) as usize;
            if c.td > 3 || c.ta > 3 {
                return Err(JpegError::Corrupt("Huffman table id above 3"));
            }
        }
        for c in &self.comps[..self.ncomp] {
            if !self.qt_set[c.tq] {
                return Err(JpegError::Corrupt("missing quantisation table"));
            }
            let known = |class: usize, id: usize| self.custom_set[class * 4 + id] || id < 2;
            if !known(0, c.td) || !known(1, c.ta) {
                return Err(JpegError::Corrupt("missing Huffman table"));
            }
        }
        Ok(())
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
    fn scan(&mut self, data: &[u8], out: &mut [u8]) -> Result<(), JpegError> {
        let mut bits = Bits::new(data);
        let mut pred = [0i32; 3];
        let mut coef = [0i32; 64];
        let mut planes = std::mem::take(&mut self.planes);
        let mut rgb = std::mem::take(&mut self.rgb);
        let mut left = self.restart;
        // For 4:2:0 an MCU row's last pixel row needs the next MCU row's first chroma row.
        let lag = usize::from(self.ncomp == 3 && self.comps[0].v == 2);
        let mcu_h = 8 * self.comps[0].v;
        let mut done = 0;
        let result = (|| {
            for my in 0..self.mcuy {
                for mx in 0..self.mcux {
                    if self.restart > 0 {
                        if left == 0 {
                            if bits.overran() {
                                return Err(JpegError::Corrupt(
                                    "restart interval overran its data",
                                ));
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
                        for by in 0..c.v {
                            for bx in 0..c.h {
                                let ac_coded =
                                    block(&mut bits, dc, ac, q, &mut pred[ci], &mut coef)?;
                                let at = c.row((my * c.v + by) * 8) + (mx * c.h + bx) * 8;
                                if ac_coded {
                                    idct8x8(&coef, &mut planes[at..], c.stride);
                                } else {
                                    let v = dc_only(coef[0]);
                                    for row in planes[at..].chunks_mut(c.stride).take(8) {
                                        row[..8].fill(v);
                                    }
                                }
                            }
                        }
                    }
                    if bits.padded > 16 {
                        return Err(JpegError::Truncated("in the image data"));
                    }
                }
                let ready = if my + 1 == self.mcuy {
                    self.height
                } else {
                    ((my + 1) * mcu_h - lag).min(self.height)
                };
                self.write_rgb(&planes, out, done..ready, &mut rgb);
                done = ready;
            }
            if bits.overran() {
                return Err(JpegError::Truncated("in the image data"));
            }
            Ok(())
        })();
        self.planes = planes;
        self.rgb = rgb;
        result
    }

    /// Converts image rows `rows` from the planes into `out`.
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
            let ly = &planes[y.row(r)..][..w];
            let ycc = ly.iter().zip(&*fu).zip(&*fv);
            for (px, ((&l, &u), &v)) in dst.chunks_exact_mut(3).zip(ycc) {
                px.copy_from_slice(&ycbcr_to_rgb(l, u, v));
            }
        }
    }
}

/// Scratch for the colour conversion, kept in [`Baseline`] between frames.
#[derive(Default)]
struct Rgb {
    /// One row of each chroma plane, vertically filtered.
    sums: Vec<i32>,
    /// One output row of Cb then one of Cr, at full width.
    full: Vec<u8>,
}

/// One row of chroma at full width from its vertical sums (scaled by 4): copied when the
/// chroma is not subsampled across (`hs` 0), else two output samples per input sample, each
/// leaning 3:1 towards its neighbour on its own side (the row's ends lean on themselves).
fn upsample_row(sum: &[i32], hs: usize, out: &mut [u8]) {
    if hs == 0 {
        for (o, &s) in out.iter_mut().zip(sum) {
            *o = ((s + 2) >> 2) as u8;
        }
        return;
    }
    let lean = |s: i32, n: i32| ((3 * s + 8 + n) >> 4) as u8;
    let n = sum.len();
    if n == 1 {
        out.fill(lean(sum[0], sum[0])); // one sample leans only on itself
        return;
    }
    // The inner samples, whose neighbours both exist, in one loop without index checks.
    let inner = sum[..n - 2].iter().zip(&sum[1..n - 1]).zip(&sum[2..]);
    for (pair, ((&l, &s), &r)) in out[2..].chunks_exact_mut(2).zip(inner) {
        pair[0] = lean(s, l);
        pair[1] = lean(s, r);
    }
    out[0] = lean(sum[0], sum[0]);
    out[1] = lean(sum[0], sum[1]);
    let last = &mut out[2 * (n - 1)..];
    last[0] = lean(sum[n - 1], sum[n - 2]);
    if let Some(o) = last.get_mut(1) {
        *o = lean(sum[n - 1], sum[n - 1]);
    }
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

#[cfg(test)]
mod tests {
    use super::upsample_row;

    #[test]
    fn upsampling_leans_three_to_one_on_each_side_to_the_row_ends() {
        for (n, width) in [(1, 1), (1, 2), (2, 3), (2, 4), (3, 5), (7, 13), (40, 80)] {
            let sum: Vec<i32> = (0..n).map(|i| (i * 97 % 255 * 4) as i32).collect();
            let mut got = vec![0u8; width];
            upsample_row(&sum, 1, &mut got);
            for (x, &g) in got.iter().enumerate() {
                let i = x / 2;
                let side = if x % 2 == 0 {
                    i.saturating_sub(1)
                } else {
                    (i + 1).min(n - 1)
                };
                let want = (3.0 * sum[i] as f64 + sum[side] as f64) / 16.0;
                assert_eq!(g, (want + 0.5).floor() as u8, "n {n}, x {x}");
            }
        }
    }
}
