//! The inverse DCT of one 8×8 block and the JFIF YCbCr → RGB conversion, in integer arithmetic.
//!
//! The IDCT is the classic separable LLM/AAN-family integer transform (as in libjpeg's
//! `jidctint` and stb_image): 12-bit fixed-point constants, two extra bits kept between the
//! column and row passes, rounding and the +128 level shift folded into the last shift.
//! Coefficients arrive dequantised, in natural order, and clamped by the caller; the arithmetic
//! runs in `i64` so that even corrupt input (every coefficient at the limit) cannot overflow.

/// Largest dequantised coefficient magnitude the caller lets through. Real 8-bit data stays
/// below about 1200 (DC) and 2048 (AC); corrupt data is clamped here instead of overflowing.
pub const COEF_LIMIT: i32 = 4095;

const fn f2f(x: f64) -> i64 {
    (x * 4096.0 + 0.5) as i64
}

#[inline(always)]
fn idct_1d(s: [i64; 8]) -> ([i64; 4], [i64; 4]) {
    let p1 = (s[2] + s[6]) * f2f(0.5411961);
    let t2 = p1 + s[6] * f2f(-1.847759065);
    let t3 = p1 + s[2] * f2f(0.765366865);
    let t0 = (s[0] + s[4]) * 4096;
    let t1 = (s[0] - s[4]) * 4096;
    let x = [t0 + t3, t1 + t2, t1 - t2, t0 - t3];
    let (mut o0, mut o1, mut o2, mut o3) = (s[7], s[5], s[3], s[1]);
    let p3 = o0 + o2;
    let p4 = o1 + o3;
    let p1 = o0 + o3;
    let p2 = o1 + o2;
    let p5 = (p3 + p4) * f2f(1.175875602);
    o0 *= f2f(0.298631336);
    o1 *= f2f(2.053119869);
    o2 *= f2f(3.072711026);
    o3 *= f2f(1.501321110);
    let p1 = p5 + p1 * f2f(-0.899976223);
    let p2 = p5 + p2 * f2f(-2.562915447);
    let p3 = p3 * f2f(-1.961570560);
    let p4 = p4 * f2f(-0.390180644);
    o3 += p1 + p4;
    o2 += p2 + p3;
    o1 += p2 + p4;
    o0 += p1 + p3;
    // Even part x[0..4], odd part paired as out[i] = x[i] ± t[i].
    (x, [o3, o2, o1, o0])
}

/// Transforms `coef` (natural order) and writes the 8×8 samples to `out`, rows `stride` apart.
#[inline]
pub fn idct8x8(coef: &[i32; 64], out: &mut [u8], stride: usize) {
    let mut v = [0i64; 64];
    for i in 0..8 {
        let col = [0, 1, 2, 3, 4, 5, 6, 7].map(|r| coef[r * 8 + i] as i64);
        if col[1..].iter().all(|&c| c == 0) {
            // A flat column: skip the transform.
            for r in 0..8 {
                v[r * 8 + i] = col[0] * 4;
            }
            continue;
        }
        let (x, t) = idct_1d(col);
        for k in 0..4 {
            v[k * 8 + i] = (x[k] + 512 + t[k]) >> 10;
            v[(7 - k) * 8 + i] = (x[k] + 512 - t[k]) >> 10;
        }
    }
    for r in 0..8 {
        let row: [i64; 8] = v[r * 8..r * 8 + 8].try_into().unwrap_or([0; 8]);
        let (x, t) = idct_1d(row);
        let o = &mut out[r * stride..r * stride + 8];
        const BIAS: i64 = 65536 + (128 << 17);
        for k in 0..4 {
            o[k] = ((x[k] + BIAS + t[k]) >> 17).clamp(0, 255) as u8;
            o[7 - k] = ((x[k] + BIAS - t[k]) >> 17).clamp(0, 255) as u8;
        }
    }
}

/// The sample value of a block whose only non-zero coefficient is `dc`: what [`idct8x8`]
/// writes to all 64 samples, without the transform.
#[inline(always)]
pub fn dc_only(dc: i32) -> u8 {
    (((dc + 4) >> 3) + 128).clamp(0, 255) as u8
}

// JFIF (full-range BT.601) in 16.16 fixed point.
const CR_R: i32 = 91881; // 1.402
const CB_G: i32 = 22554; // 0.344136
const CR_G: i32 = 46802; // 0.714136
const CB_B: i32 = 116130; // 1.772

/// One full-range YCbCr pixel as RGB.
#[inline(always)]
pub fn ycbcr_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    let y = ((y as i32) << 16) + (1 << 15);
    let (cb, cr) = (cb as i32 - 128, cr as i32 - 128);
    let q = |v: i32| (v >> 16).clamp(0, 255) as u8;
    [
        q(y + CR_R * cr),
        q(y - CB_G * cb - CR_G * cr),
        q(y + CB_B * cb),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook 2-D IDCT in f64.
    fn reference(coef: &[i32; 64]) -> [u8; 64] {
        let mut out = [0u8; 64];
        let c = |u: usize| if u == 0 { 1.0 / 2f64.sqrt() } else { 1.0 };
        for y in 0..8 {
            for x in 0..8 {
                let mut s = 0.0;
                for v in 0..8 {
                    for u in 0..8 {
                        let a = ((2 * x + 1) as f64 * u as f64 * std::f64::consts::PI / 16.0).cos();
                        let b = ((2 * y + 1) as f64 * v as f64 * std::f64::consts::PI / 16.0).cos();
                        s += c(u) * c(v) * coef[v * 8 + u] as f64 * a * b;
                    }
                }
                out[y * 8 + x] = (s / 4.0 + 128.0).round().clamp(0.0, 255.0) as u8;
            }
        }
        out
    }

    #[test]
    fn idct_matches_the_textbook_transform_within_one() {
        let mut seed = 12345u32;
        for _ in 0..200 {
            let mut coef = [0i32; 64];
            for (i, c) in coef.iter_mut().enumerate() {
                seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
                let range = if i == 0 {
                    1600
                } else {
                    160 / (1 + i as i32 / 8)
                };
                *c = (seed >> 8) as i32 % (2 * range + 1) - range;
            }
            let mut got = [0u8; 64];
            idct8x8(&coef, &mut got, 8);
            let want = reference(&coef);
            for i in 0..64 {
                assert!(
                    (got[i] as i32 - want[i] as i32).abs() <= 1,
                    "{i}: {got:?} vs {want:?}"
                );
            }
        }
    }

    #[test]
    fn the_dc_only_shortcut_equals_the_transform() {
        for dc in -COEF_LIMIT..=COEF_LIMIT {
            let mut coef = [0i32; 64];
            coef[0] = dc;
            let mut out = [0u8; 64];
            idct8x8(&coef, &mut out, 8);
            assert!(out.iter().all(|&v| v == dc_only(dc)), "dc {dc}: {out:?}");
        }
    }

    #[test]
    fn extreme_coefficients_clamp_instead_of_overflowing() {
        let coef = [COEF_LIMIT; 64];
        let mut out = [0u8; 64];
        idct8x8(&coef, &mut out, 8);
        let coef = [-COEF_LIMIT; 64];
        idct8x8(&coef, &mut out, 8);
        assert_eq!(ycbcr_to_rgb(128, 128, 128), [128, 128, 128]);
        assert_eq!(ycbcr_to_rgb(255, 0, 255), [255, 208, 28]);
    }
}
