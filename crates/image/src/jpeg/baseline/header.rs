//! The marker segments of a baseline JPEG up to its first scan: frame header, Huffman and
//! quantisation tables, restart interval and scan header, read into [`Baseline`]'s state with
//! every length checked.

use super::{Baseline, Component};
use crate::jpeg::JpegError;

impl Baseline {
    /// Reads the marker segments up to the first scan; returns where its entropy-coded data
    /// starts.
    pub(super) fn header(&mut self, data: &[u8]) -> Result<usize, JpegError> {
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
                            return Ok(pos);
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
}
