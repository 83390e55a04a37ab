//! Huffman decoding of the entropy-coded data of a baseline JPEG: canonical tables with a
//! 9-bit fast lookup, and a bit reader that un-stuffs `FF 00`, stops at markers and notices when
//! the decoder runs past the end of the data.
//!
//! Two shortcuts carry most of the work, as in libjpeg-turbo and stb_image: an AC code and
//! the magnitude bits after it are looked up together when both fit in the 9 bits
//! ([`Huffman::fast_ac`]), and the bit buffer takes up to 8 bytes at once when none of them is
//! `FF` (the only byte that needs un-stuffing or starts a marker).

use super::JpegError;

const FAST_BITS: u32 = 9;

/// A canonical Huffman table: a 9-bit lookup for short codes, then the spec's MAXCODE search.
#[derive(Clone)]
pub(super) struct Huffman {
    /// `len << 8 | symbol` for every 9-bit prefix that starts a code of ≤ 9 bits; 0 otherwise.
    fast: [u16; 1 << FAST_BITS],
    /// For an AC table, `value << 16 | run << 8 | bits` for every 9-bit prefix holding a
    /// whole code and its magnitude bits (`bits` in all, 1..=9), `value` the coefficient as
    /// EXTEND gives it; 0 where they do not fit (and for end of block and ZRL).
    fast_ac: [i32; 1 << FAST_BITS],
    maxcode: [i32; 17],
    /// Symbol index = code + delta[len].
    delta: [i32; 17],
    symbols: [u8; 256],
}

impl Huffman {
    pub(super) fn empty() -> Self {
        Self {
            fast: [0; 1 << FAST_BITS],
            fast_ac: [0; 1 << FAST_BITS],
            maxcode: [-1; 17],
            delta: [0; 17],
            symbols: [0; 256],
        }
    }

    pub(super) fn build(&mut self, counts: &[u8; 16], symbols: &[u8]) -> Result<(), JpegError> {
        let total: usize = counts.iter().map(|&c| c as usize).sum();
        if total > 256 || symbols.len() < total {
            return Err(JpegError::Corrupt("Huffman table lists too many codes"));
        }
        self.symbols[..total].copy_from_slice(&symbols[..total]);
        self.fast.fill(0);
        let (mut code, mut k) = (0u32, 0usize);
        for len in 1..=16u32 {
            let n = counts[len as usize - 1] as u32;
            if code + n > 1 << len {
                return Err(JpegError::Corrupt("Huffman code lengths overflow"));
            }
            self.delta[len as usize] = k as i32 - code as i32;
            for _ in 0..n {
                if len <= FAST_BITS {
                    let shift = FAST_BITS - len;
                    let entry = (len << 8) as u16 | self.symbols[k] as u16;
                    let base = (code << shift) as usize;
                    self.fast[base..base + (1 << shift)].fill(entry);
                }
                code += 1;
                k += 1;
            }
            self.maxcode[len as usize] = if n > 0 { code as i32 - 1 } else { -1 };
            code <<= 1;
        }
        for (i, (ac, &f)) in self.fast_ac.iter_mut().zip(&self.fast).enumerate() {
            let (len, size, run) = ((f >> 8) as u32, (f & 15) as u32, (f >> 4 & 15) as i32);
            *ac = 0;
            if f != 0 && size != 0 && len + size <= FAST_BITS {
                let raw = (i as u32 >> (FAST_BITS - len - size)) & ((1 << size) - 1);
                let v = extend(raw as i32, size);
                *ac = v << 16 | run << 8 | (len + size) as i32;
            }
        }
        Ok(())
    }

    /// The [`Huffman::fast_ac`] entry for the next bits: 0, or a coefficient's value, the
    /// zero run before it and the bits to consume (see [`Bits::consume`]).
    #[inline(always)]
    pub(super) fn peek_ac(&self, bits: &mut Bits<'_>) -> i32 {
        self.fast_ac[(bits.peek16() >> (16 - FAST_BITS)) as usize]
    }

    #[inline(always)]
    pub(super) fn decode(&self, bits: &mut Bits<'_>) -> Result<u8, JpegError> {
        let look = bits.peek16();
        let fast = self.fast[(look >> (16 - FAST_BITS)) as usize];
        if fast != 0 {
            bits.consume((fast >> 8) as u32);
            return Ok(fast as u8);
        }
        for len in FAST_BITS as usize + 1..=16 {
            let code = (look >> (16 - len)) as i32;
            if code <= self.maxcode[len] {
                bits.consume(len as u32);
                let i = (code + self.delta[len]) as usize;
                return self
                    .symbols
                    .get(i)
                    .copied()
                    .ok_or(JpegError::Corrupt("bad Huffman code"));
            }
        }
        Err(JpegError::Corrupt("bad Huffman code"))
    }
}

/// The spec's EXTEND: `v`, `s` raw bits, as the signed value they stand for.
#[inline(always)]
fn extend(v: i32, s: u32) -> i32 {
    if v < 1 << (s - 1) {
        v - (1 << s) + 1
    } else {
        v
    }
}

/// Reads the entropy-coded segment MSB first, un-stuffing `FF 00` and stopping at markers.
/// Past a marker or the end it feeds zeros and counts them, so running off the data is
/// detected rather than read.
pub(super) struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    acc: u64,
    n: u32,
    marker: Option<u8>,
    /// Zero bytes fed past a marker or the end of the data.
    pub(super) padded: u32,
}

impl<'a> Bits<'a> {
    pub(super) fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            pos: 0,
            acc: 0,
            n: 0,
            marker: None,
            padded: 0,
        }
    }

    fn refill(&mut self) {
        if self.marker.is_none() {
            if let Some(&chunk) = self.data.get(self.pos..).and_then(|d| d.first_chunk::<8>()) {
                let x = u64::from_be_bytes(chunk);
                // Whether any byte of `x` is FF (a zero byte of !x): then byte by byte below.
                let inv = !x;
                if inv.wrapping_sub(0x0101_0101_0101_0101) & x & 0x8080_8080_8080_8080 == 0 {
                    let k = (64 - self.n) / 8; // 1..=8 whole bytes fit
                    self.acc |= (x >> (64 - 8 * k)) << (64 - self.n - 8 * k);
                    self.n += 8 * k;
                    self.pos += k as usize;
                    return;
                }
            }
        }
        while self.n <= 56 {
            let byte = match (self.marker, self.data.get(self.pos)) {
                (None, Some(&0xFF)) => match self.data.get(self.pos + 1).copied() {
                    Some(0) => {
                        self.pos += 2;
                        0xFF
                    }
                    Some(0xFF) => {
                        self.pos += 1; // a fill byte before a marker
                        continue;
                    }
                    Some(m) => {
                        self.marker = Some(m);
                        continue;
                    }
                    None => {
                        self.pos += 1;
                        continue;
                    }
                },
                (None, Some(&b)) => {
                    self.pos += 1;
                    b
                }
                _ => {
                    self.padded += 1;
                    0
                }
            };
            self.acc |= (byte as u64) << (56 - self.n);
            self.n += 8;
        }
    }

    #[inline(always)]
    fn peek16(&mut self) -> u32 {
        if self.n < 16 {
            self.refill();
        }
        (self.acc >> 48) as u32
    }

    #[inline(always)]
    pub(super) fn consume(&mut self, k: u32) {
        self.acc <<= k;
        self.n -= k;
    }

    /// `s` raw bits (1..=16) as a signed value per the spec's EXTEND.
    #[inline(always)]
    pub(super) fn receive_extend(&mut self, s: u32) -> i32 {
        if s == 0 {
            return 0;
        }
        if self.n < s {
            self.refill();
        }
        let v = (self.acc >> (64 - s)) as i32;
        self.consume(s);
        extend(v, s)
    }

    /// Whether the decoder has used bits that were not in the data.
    pub(super) fn overran(&self) -> bool {
        self.padded * 8 > self.n
    }

    /// Skips to the restart marker that must follow and resets the bit buffer.
    pub(super) fn restart(&mut self) -> Result<(), JpegError> {
        if self.marker.is_none() {
            // The marker was not reached by read-ahead yet.
            while self.data.get(self.pos) == Some(&0xFF)
                && self.data.get(self.pos + 1) == Some(&0xFF)
            {
                self.pos += 1;
            }
            if self.data.get(self.pos) == Some(&0xFF) {
                self.marker = self.data.get(self.pos + 1).copied();
            }
        }
        match self.marker {
            Some(0xD0..=0xD7) => {
                self.pos += 2;
                self.marker = None;
                self.acc = 0;
                self.n = 0;
                self.padded = 0;
                Ok(())
            }
            _ => Err(JpegError::Corrupt("missing restart marker")),
        }
    }
}
