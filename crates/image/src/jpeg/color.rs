//! Chroma rows upsampled to full width ([`upsample_row`]), and rows of full-range YCbCr (JFIF)
//! to interleaved RGB: [`ycbcr_row`], the arithmetic of
//! [`ycbcr_to_rgb`] pixel by pixel, or, on x86_64 with AVX2, sixteen pixels at a time in
//! intrinsics, bit for bit the same (`i32` products that cannot overflow, arithmetic shifts,
//! saturating packs that clamp to 0..=255 as `clamp` does).
//!
//! Why by hand: LLVM does not vectorise the per-pixel conversion into three interleaved bytes,
//! nor the upsampling's two interleaved outputs per sample; both are AVX2 intrinsics here, bit
//! for bit the portable loops, which stay for the ends of rows and for other CPUs. On a 640×480
//! 4:2:2 frame with camera noise the whole baseline decode to RGB took 10.6 M instructions with
//! the portable loops built for AVX2, 9.6 M with the conversion in intrinsics and 8.5 M with
//! the upsampling too (valgrind's callgrind).

use super::idct::ycbcr_to_rgb;

/// Converts `y`, `cb`, `cr` (one sample each per pixel) into `dst`, three bytes per pixel, for
/// as many pixels as all four hold.
pub fn ycbcr_row(y: &[u8], cb: &[u8], cr: &[u8], dst: &mut [u8]) {
    let n = y.len().min(cb.len()).min(cr.len()).min(dst.len() / 3);
    #[cfg(target_arch = "x86_64")]
    let done = if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2; every slice holds `n` pixels.
        unsafe { avx2::rows(&y[..n], &cb[..n], &cr[..n], &mut dst[..3 * n]) }
    } else {
        0
    };
    #[cfg(not(target_arch = "x86_64"))]
    let done = 0;
    let ycc = y[done..n].iter().zip(&cb[done..n]).zip(&cr[done..n]);
    for (px, ((&l, &u), &v)) in dst[3 * done..3 * n].chunks_exact_mut(3).zip(ycc) {
        px.copy_from_slice(&ycbcr_to_rgb(l, u, v));
    }
}

/// One row of chroma at full width from its vertical sums (scaled by 4): copied when the
/// chroma is not subsampled across (`hs` 0), else two output samples per input sample, each
/// leaning 3:1 towards its neighbour on its own side (the row's ends lean on themselves).
pub fn upsample_row(sum: &[i32], hs: usize, out: &mut [u8]) {
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
    // The inner samples, whose neighbours both exist: sixteen at a time in AVX2, then the rest
    // in one loop without index checks.
    #[cfg(target_arch = "x86_64")]
    let done = if std::is_x86_feature_detected!("avx2") && out.len() >= 2 * n - 1 {
        // SAFETY: the CPU has AVX2; `out` holds two samples for each inner one.
        unsafe { avx2::upsample_inner(sum, &mut out[2..]) }
    } else {
        0
    };
    #[cfg(not(target_arch = "x86_64"))]
    let done = 0;
    let inner = sum[done..n - 2]
        .iter()
        .zip(&sum[done + 1..n - 1])
        .zip(&sum[done + 2..]);
    for (pair, ((&l, &s), &r)) in out[2 + 2 * done..].chunks_exact_mut(2).zip(inner) {
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

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::super::idct::{CB_B, CB_G, CR_G, CR_R};
    use std::arch::x86_64::*;

    /// Eight pixels' samples from `p` as `i32` lanes.
    #[inline(always)]
    unsafe fn widen(p: *const u8) -> __m256i {
        _mm256_cvtepu8_epi32(_mm_loadl_epi64(p.cast()))
    }

    /// Sixteen `i32` results (two registers) shifted down and clamped to bytes, in order.
    #[inline(always)]
    unsafe fn bytes(lo: __m256i, hi: __m256i) -> __m128i {
        let words = _mm256_packs_epi32(_mm256_srai_epi32::<16>(lo), _mm256_srai_epi32::<16>(hi));
        let words = _mm256_permute4x64_epi64::<0b11_01_10_00>(words);
        _mm_packus_epi16(
            _mm256_castsi256_si128(words),
            _mm256_extracti128_si256::<1>(words),
        )
    }

    /// Byte `i` of a 16-byte block of RGB output takes channel `i % 3` of pixel `i / 3`; these
    /// masks pick, for each of the three blocks, that channel's bytes (-1: none).
    const fn spread(block: usize, channel: usize) -> [i8; 16] {
        let mut m = [-1i8; 16];
        let mut i = 0;
        while i < 16 {
            let at = block * 16 + i;
            if at % 3 == channel {
                m[i] = (at / 3) as i8;
            }
            i += 1;
        }
        m
    }
    const MASKS: [[[i8; 16]; 3]; 3] = {
        let mut m = [[[0i8; 16]; 3]; 3];
        let mut b = 0;
        while b < 3 {
            let mut c = 0;
            while c < 3 {
                m[b][c] = spread(b, c);
                c += 1;
            }
            b += 1;
        }
        m
    };

    /// The inner samples of [`super::upsample_row`] (those with both neighbours), sixteen at a
    /// time: inner sample `j` (`sum[j + 1]`) gives `out[2j]`, leaning on `sum[j]`, and
    /// `out[2j + 1]`, leaning on `sum[j + 2]`. Returns how many inner samples it did.
    ///
    /// # Safety
    /// The CPU must support AVX2; `out` must hold two bytes for each of `sum.len() - 2` inner
    /// samples.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn upsample_inner(sum: &[i32], out: &mut [u8]) -> usize {
        let inner = sum.len().saturating_sub(2);
        let todo = inner / 16 * 16;
        let eight = _mm256_set1_epi32(8);
        let at = |i: usize| _mm256_loadu_si256(sum.as_ptr().add(i).cast());
        for j in (0..todo).step_by(16) {
            let mut words = [_mm256_setzero_si256(); 2];
            for (h, w) in words.iter_mut().enumerate() {
                let i = j + 8 * h;
                let (l, s, r) = (at(i), at(i + 1), at(i + 2));
                let three = _mm256_add_epi32(_mm256_add_epi32(s, _mm256_slli_epi32::<1>(s)), eight);
                let a = _mm256_srai_epi32::<4>(_mm256_add_epi32(three, l));
                let b = _mm256_srai_epi32::<4>(_mm256_add_epi32(three, r));
                // [a0 b0 a1 b1 | a4 b4 a5 b5] and [a2 b2 a3 b3 | a6 b6 a7 b7], packed in order.
                *w = _mm256_packs_epi32(_mm256_unpacklo_epi32(a, b), _mm256_unpackhi_epi32(a, b));
            }
            let bytes = _mm256_packus_epi16(words[0], words[1]);
            let bytes = _mm256_permute4x64_epi64::<0b11_01_10_00>(bytes);
            _mm256_storeu_si256(out.as_mut_ptr().add(2 * j).cast(), bytes);
        }
        todo
    }

    /// Converts whole groups of sixteen pixels; returns how many pixels it converted.
    ///
    /// # Safety
    /// The CPU must support AVX2; `cb` and `cr` must hold `y.len()` samples and `dst` three
    /// bytes for each.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn rows(y: &[u8], cb: &[u8], cr: &[u8], dst: &mut [u8]) -> usize {
        let (half, centre) = (_mm256_set1_epi32(1 << 15), _mm256_set1_epi32(128));
        let k = |v: i32| _mm256_set1_epi32(v);
        let masks = MASKS.map(|b| b.map(|m| _mm_loadu_si128(m.as_ptr().cast())));
        let n = y.len() / 16 * 16;
        for i in (0..n).step_by(16) {
            let mut rgb = [[_mm256_setzero_si256(); 2]; 3];
            for (h, at) in [i, i + 8].into_iter().enumerate() {
                let l = _mm256_add_epi32(_mm256_slli_epi32::<16>(widen(y.as_ptr().add(at))), half);
                let u = _mm256_sub_epi32(widen(cb.as_ptr().add(at)), centre);
                let v = _mm256_sub_epi32(widen(cr.as_ptr().add(at)), centre);
                rgb[0][h] = _mm256_add_epi32(l, _mm256_mullo_epi32(k(CR_R), v));
                let g = _mm256_sub_epi32(l, _mm256_mullo_epi32(k(CB_G), u));
                rgb[1][h] = _mm256_sub_epi32(g, _mm256_mullo_epi32(k(CR_G), v));
                rgb[2][h] = _mm256_add_epi32(l, _mm256_mullo_epi32(k(CB_B), u));
            }
            let planes = rgb.map(|[lo, hi]| bytes(lo, hi));
            for (b, m) in masks.iter().enumerate() {
                let block = _mm_or_si128(
                    _mm_or_si128(
                        _mm_shuffle_epi8(planes[0], m[0]),
                        _mm_shuffle_epi8(planes[1], m[1]),
                    ),
                    _mm_shuffle_epi8(planes[2], m[2]),
                );
                _mm_storeu_si128(dst.as_mut_ptr().add(3 * i + 16 * b).cast(), block);
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every width from 0 to 40 (whole groups of sixteen and the rest), and every value of
    /// each channel: the bytes `ycbcr_to_rgb` gives.
    #[test]
    fn rows_are_ycbcr_to_rgb_pixel_by_pixel() {
        let noise = |n: usize, salt: u32| -> Vec<u8> {
            (0..n as u32)
                .map(|i| ((i ^ salt).wrapping_mul(2_654_435_761) >> 24) as u8)
                .collect()
        };
        let mut cases: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)> = (0..=40)
            .map(|n| (noise(n, 1), noise(n, 2), noise(n, 3)))
            .collect();
        let all: Vec<u8> = (0..=255).collect();
        let rev: Vec<u8> = all.iter().rev().copied().collect();
        cases.push((all.clone(), rev.clone(), all.clone()));
        cases.push((rev, all.clone(), vec![0; 256]));
        cases.push((all, vec![255; 256], vec![255; 256]));
        for (y, cb, cr) in cases {
            let mut got = vec![0u8; 3 * y.len()];
            ycbcr_row(&y, &cb, &cr, &mut got);
            for (i, px) in got.chunks_exact(3).enumerate() {
                assert_eq!(
                    px,
                    ycbcr_to_rgb(y[i], cb[i], cr[i]),
                    "pixel {i} of {}",
                    y.len()
                );
            }
        }
    }

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
