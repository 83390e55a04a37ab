//! The 8×8 inverse DCT in AVX2 intrinsics: the same [`idct_1d`] formula on one 256-bit register
//! of eight `i32` lanes, with the two transposes and the clamp to bytes done in registers. Bit
//! for bit the portable [`super::idct8x8_portable`] (wrapping arithmetic, arithmetic shifts,
//! saturating packs that clamp to 0..=255 as `clamp` does). Likewise the 4×4 reduced transform
//! of a frame decoded at half size ([`idct4x4`]): a 1280×720 MJPEG frame's whole preprocess
//! took 22.4 M instructions with the portable one and takes 18.9 M.
//!
//! Why by hand: LLVM kept the portable transform's transposes and its byte-by-byte stores
//! scalar. On a 640×480 4:2:2 frame with camera noise (every block has AC coefficients), the
//! whole baseline decode to RGB took 19.4 M instructions with the portable transform built for
//! AVX2 and takes 10.6 M with this one (valgrind's callgrind, which counts the same on a busy
//! machine); 1.76 ms against 1.1 ms a decode on a shared 2-core host.

use super::{idct_1d, Lane, PASS1_ROUND, PASS2_BIAS, REDUCED_4};
use std::arch::x86_64::*;
use std::ops::{Add, Mul, Sub};

/// Eight wrapping `i32` lanes in one AVX2 register.
#[derive(Clone, Copy)]
struct Avx(__m256i);

impl Lane for Avx {}

// The operators are only ever inlined into `idct8x8` below, which enables AVX2; the intrinsics
// inline with them.
impl Add for Avx {
    type Output = Self;
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        // SAFETY: reached only from `idct8x8`, which runs on CPUs with AVX2.
        Self(unsafe { _mm256_add_epi32(self.0, o.0) })
    }
}

impl Sub for Avx {
    type Output = Self;
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        // SAFETY: as for `add`.
        Self(unsafe { _mm256_sub_epi32(self.0, o.0) })
    }
}

impl Mul<i32> for Avx {
    type Output = Self;
    #[inline(always)]
    fn mul(self, k: i32) -> Self {
        // SAFETY: as for `add`.
        Self(unsafe { _mm256_mullo_epi32(self.0, _mm256_set1_epi32(k)) })
    }
}

/// The 8×8 transpose of eight registers: lane `j` of register `i` goes to lane `i` of `j`.
#[inline(always)]
unsafe fn transpose(r: [Avx; 8]) -> [Avx; 8] {
    let r = r.map(|a| a.0);
    let lo = |a, b| _mm256_unpacklo_epi32(a, b);
    let hi = |a, b| _mm256_unpackhi_epi32(a, b);
    let (t0, t1, t2, t3) = (
        lo(r[0], r[1]),
        hi(r[0], r[1]),
        lo(r[2], r[3]),
        hi(r[2], r[3]),
    );
    let (t4, t5, t6, t7) = (
        lo(r[4], r[5]),
        hi(r[4], r[5]),
        lo(r[6], r[7]),
        hi(r[6], r[7]),
    );
    // Per 128-bit half: columns 0 and 4 in u0, u4; 1 and 5 in u1, u5; and so on.
    let u0 = _mm256_unpacklo_epi64(t0, t2);
    let u1 = _mm256_unpackhi_epi64(t0, t2);
    let u2 = _mm256_unpacklo_epi64(t1, t3);
    let u3 = _mm256_unpackhi_epi64(t1, t3);
    let u4 = _mm256_unpacklo_epi64(t4, t6);
    let u5 = _mm256_unpackhi_epi64(t4, t6);
    let u6 = _mm256_unpacklo_epi64(t5, t7);
    let u7 = _mm256_unpackhi_epi64(t5, t7);
    [
        _mm256_permute2x128_si256(u0, u4, 0x20),
        _mm256_permute2x128_si256(u1, u5, 0x20),
        _mm256_permute2x128_si256(u2, u6, 0x20),
        _mm256_permute2x128_si256(u3, u7, 0x20),
        _mm256_permute2x128_si256(u0, u4, 0x31),
        _mm256_permute2x128_si256(u1, u5, 0x31),
        _mm256_permute2x128_si256(u2, u6, 0x31),
        _mm256_permute2x128_si256(u3, u7, 0x31),
    ]
    .map(Avx)
}

/// Transforms `coef` (natural order) and writes the 8×8 samples to `out`, rows `stride` apart.
///
/// # Safety
/// The CPU must support AVX2; `stride >= 8` and `out` must hold `7 * stride + 8` bytes.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn idct8x8(coef: &[i32; 64], out: &mut [u8], stride: usize) {
    let mut rows = [Avx(_mm256_setzero_si256()); 8];
    for (r, row) in rows.iter_mut().enumerate() {
        // Lane i of row r is coefficient (r, i): the columns run in the lanes.
        row.0 = _mm256_loadu_si256(coef.as_ptr().add(r * 8).cast());
    }
    let (x, t) = idct_1d(&rows);
    let round = Avx(_mm256_set1_epi32(PASS1_ROUND));
    let mut v = rows;
    for k in 0..4 {
        v[k] = Avx(_mm256_srai_epi32::<10>((x[k] + t[k] + round).0));
        v[7 - k] = Avx(_mm256_srai_epi32::<10>((x[k] - t[k] + round).0));
    }
    let (x, t) = idct_1d(&transpose(v));
    let bias = Avx(_mm256_set1_epi32(PASS2_BIAS));
    let mut s = v;
    for k in 0..4 {
        s[k] = Avx(_mm256_srai_epi32::<17>((x[k] + t[k] + bias).0));
        s[7 - k] = Avx(_mm256_srai_epi32::<17>((x[k] - t[k] + bias).0));
    }
    // s[x] holds column x of every row; rows of samples, two at a time, to bytes.
    let rows = transpose(s);
    for r in (0..8).step_by(2) {
        let words = _mm256_packs_epi32(rows[r].0, rows[r + 1].0);
        // i16 [r 0-3, r+1 0-3 | r 4-7, r+1 4-7] to [r 0-7 | r+1 0-7].
        let words = _mm256_permute4x64_epi64::<0b11_01_10_00>(words);
        let bytes = _mm256_packus_epi16(words, words);
        let at = out.as_mut_ptr().add(r * stride);
        _mm_storel_epi64(at.cast(), _mm256_castsi256_si128(bytes));
        _mm_storel_epi64(at.add(stride).cast(), _mm256_extracti128_si256::<1>(bytes));
    }
}

/// The 4×4 transpose of four 128-bit registers of `i32`.
#[inline(always)]
unsafe fn transpose4(r: [__m128i; 4]) -> [__m128i; 4] {
    let t0 = _mm_unpacklo_epi32(r[0], r[1]);
    let t1 = _mm_unpackhi_epi32(r[0], r[1]);
    let t2 = _mm_unpacklo_epi32(r[2], r[3]);
    let t3 = _mm_unpackhi_epi32(r[2], r[3]);
    [
        _mm_unpacklo_epi64(t0, t2),
        _mm_unpackhi_epi64(t0, t2),
        _mm_unpacklo_epi64(t1, t3),
        _mm_unpackhi_epi64(t1, t3),
    ]
}

/// `Σ_i k[i] · v[i]` lane by lane.
#[inline(always)]
unsafe fn weigh(k: &[i32; 4], v: &[__m128i; 4]) -> __m128i {
    let mut s = _mm_mullo_epi32(v[0], _mm_set1_epi32(k[0]));
    for i in 1..4 {
        s = _mm_add_epi32(s, _mm_mullo_epi32(v[i], _mm_set1_epi32(k[i])));
    }
    s
}

/// The 4×4 reduced transform ([`super::idct_reduced`] with `N` = 4, the block at half size),
/// the same sums in four-lane registers.
///
/// # Safety
/// The CPU must support AVX2; `stride >= 4` and `out` must hold `3 * stride + 4` bytes.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn idct4x4(coef: &[i32; 64], out: &mut [u8], stride: usize) {
    let k = &REDUCED_4;
    // Lane u of rows[v] is coefficient (v, u).
    let mut rows = [_mm_setzero_si128(); 4];
    for (v, row) in rows.iter_mut().enumerate() {
        *row = _mm_loadu_si128(coef.as_ptr().add(v * 8).cast());
    }
    // Columns: lane u of tmp[y] = Σ_v K[y][v] F(v, u), kept with 4 fraction bits.
    let mut tmp = rows;
    for (t, ky) in tmp.iter_mut().zip(k) {
        *t = _mm_srai_epi32::<8>(_mm_add_epi32(weigh(ky, &rows), _mm_set1_epi32(1 << 7)));
    }
    // Rows: lane y of cols[x] = Σ_u K[x][u] tmp(y, u), then the level shift and rounding.
    let by_u = transpose4(tmp);
    let bias = _mm_set1_epi32((128 << 16) + (1 << 15));
    let mut cols = by_u;
    for (c, kx) in cols.iter_mut().zip(k) {
        *c = _mm_srai_epi32::<16>(_mm_add_epi32(weigh(kx, &by_u), bias));
    }
    let rows = transpose4(cols);
    for (y, r) in rows.iter().enumerate() {
        let bytes = _mm_packus_epi16(_mm_packs_epi32(*r, *r), *r);
        let four = _mm_cvtsi128_si32(bytes).to_le_bytes();
        out[y * stride..y * stride + 4].copy_from_slice(&four);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{idct8x8_portable, idct_reduced, COEF_LIMIT, REDUCED_4};

    /// Random blocks of every size of coefficient, and the extremes that wrap: the same bytes
    /// as the portable transform.
    #[test]
    fn avx2_is_the_portable_transform_bit_for_bit() {
        if !std::is_x86_feature_detected!("avx2") {
            return;
        }
        let mut seed = 99u32;
        let mut blocks: Vec<[i32; 64]> = vec![[COEF_LIMIT; 64], [-COEF_LIMIT; 64]];
        for range in [1, 30, 300, COEF_LIMIT] {
            for _ in 0..500 {
                blocks.push(std::array::from_fn(|_| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (seed >> 8) as i32 % (2 * range + 1) - range
                }));
            }
        }
        for coef in &blocks {
            let (mut fast, mut portable) = ([0u8; 8 * 11], [0u8; 8 * 11]);
            // SAFETY: AVX2 was checked above; 8 rows 11 apart fit in 88 bytes.
            unsafe { super::idct8x8(coef, &mut fast, 11) };
            idct8x8_portable(coef, &mut portable, 11);
            assert_eq!(fast, portable, "{coef:?}");
        }
    }

    #[test]
    fn avx2_reduced_is_the_portable_transform_bit_for_bit() {
        if !std::is_x86_feature_detected!("avx2") {
            return;
        }
        let mut seed = 7u32;
        for range in [1, 30, 300, COEF_LIMIT] {
            for _ in 0..500 {
                let coef: [i32; 64] = std::array::from_fn(|_| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (seed >> 8) as i32 % (2 * range + 1) - range
                });
                let (mut fast, mut portable) = ([0u8; 4 * 6], [0u8; 4 * 6]);
                // SAFETY: AVX2 was checked above; 4 rows 6 apart fit in 24 bytes.
                unsafe { super::idct4x4(&coef, &mut fast, 6) };
                idct_reduced(&REDUCED_4, &coef, &mut portable, 6);
                assert_eq!(fast, portable, "{coef:?}");
            }
        }
    }
}
