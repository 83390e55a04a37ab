//! The inverse DCT of one 8×8 block and the JFIF YCbCr → RGB conversion, in integer arithmetic.
//!
//! The IDCT is the classic separable LLM/AAN-family integer transform (as in libjpeg's
//! `jidctint` and stb_image): 12-bit fixed-point constants, two extra bits kept between the
//! column and row passes, rounding and the +128 level shift folded into the last shift.
//! Coefficients arrive dequantised, in natural order, and clamped by the caller; the 8×8
//! transform runs on eight columns (then rows) at once in wrapping `i32` lanes ([`Lanes`]).

/// Largest dequantised coefficient magnitude the caller lets through. Real 8-bit data stays
/// below about 1200 (DC) and 2048 (AC); corrupt data is clamped here instead of overflowing.
pub const COEF_LIMIT: i32 = 4095;

const fn f2f(x: f64) -> i32 {
    (x * 4096.0 + 0.5) as i32
}

#[cfg(target_arch = "x86_64")]
mod avx2;

/// What [`idct_1d`] computes with: eight wrapping `i32` lanes, portable ([`Lanes`]) or one
/// AVX2 register (`idct/avx2.rs`), so that both run the one formula.
trait Lane:
    Copy
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<i32, Output = Self>
{
}

impl Lane for Lanes {}

/// Eight `i32` lanes, one per column (then row) of a block, with wrapping arithmetic: the
/// element-wise loops become SIMD (SSE2/AVX2 on x86_64, NEON on aarch64), and corrupt input
/// wraps instead of overflowing; its samples are clamped to 0..=255 at the end either way.
/// Valid 8-bit data stays far inside `i32` with these constants, as in libjpeg's `jidctint`.
#[derive(Clone, Copy)]
struct Lanes([i32; 8]);

impl Lanes {
    #[inline(always)]
    fn zip(self, o: Self, f: impl Fn(i32, i32) -> i32) -> Self {
        let mut r = [0; 8];
        for (r, (&a, &b)) in r.iter_mut().zip(self.0.iter().zip(&o.0)) {
            *r = f(a, b);
        }
        Self(r)
    }
}

impl std::ops::Add for Lanes {
    type Output = Self;
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        self.zip(o, i32::wrapping_add)
    }
}

impl std::ops::Sub for Lanes {
    type Output = Self;
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        self.zip(o, i32::wrapping_sub)
    }
}

impl std::ops::Mul<i32> for Lanes {
    type Output = Self;
    #[inline(always)]
    fn mul(self, k: i32) -> Self {
        Self(self.0.map(|v| v.wrapping_mul(k)))
    }
}

impl std::ops::Shr<u32> for Lanes {
    type Output = Self;
    #[inline(always)]
    fn shr(self, k: u32) -> Self {
        Self(self.0.map(|v| v >> k))
    }
}

/// The 8-point 1-D transform of eight columns (or rows) at once: `s[i]` holds coefficient `i`
/// of each. Returns the even part `x` and the odd part `t`, paired as out[i] = x[i] ± t[i].
#[inline(always)]
fn idct_1d<L: Lane>(s: &[L; 8]) -> ([L; 4], [L; 4]) {
    let p1 = (s[2] + s[6]) * f2f(0.5411961);
    let t2 = p1 + s[6] * f2f(-1.847759065);
    let t3 = p1 + s[2] * f2f(0.765366865);
    let t0 = (s[0] + s[4]) * 4096;
    let t1 = (s[0] - s[4]) * 4096;
    let x = [t0 + t3, t1 + t2, t1 - t2, t0 - t3];
    let (o0, o1, o2, o3) = (s[7], s[5], s[3], s[1]);
    let p3 = o0 + o2;
    let p4 = o1 + o3;
    let p1 = o0 + o3;
    let p2 = o1 + o2;
    let p5 = (p3 + p4) * f2f(1.175875602);
    let o0 = o0 * f2f(0.298631336);
    let o1 = o1 * f2f(2.053119869);
    let o2 = o2 * f2f(3.072711026);
    let o3 = o3 * f2f(1.501321110);
    let p1 = p5 + p1 * f2f(-0.899976223);
    let p2 = p5 + p2 * f2f(-2.562915447);
    let p3 = p3 * f2f(-1.961570560);
    let p4 = p4 * f2f(-0.390180644);
    (x, [o3 + p1 + p4, o2 + p2 + p3, o1 + p2 + p4, o0 + p1 + p3])
}

/// The shift and rounding after the column pass (two extra bits kept), and the bias before
/// the row pass's shift by 17 (rounding and the +128 level shift).
const PASS1_ROUND: i32 = 512;
const PASS2_BIAS: i32 = 65536 + (128 << 17);

/// Transforms `coef` (natural order) and writes the 8×8 samples to `out`, rows `stride` apart.
#[inline(always)]
pub fn idct8x8(coef: &[i32; 64], out: &mut [u8], stride: usize) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && stride >= 8 && out.len() >= 7 * stride + 8 {
        // SAFETY: the CPU has AVX2, and `out` holds the block's 8 rows of 8 samples.
        unsafe { avx2::idct8x8(coef, out, stride) };
        return;
    }
    idct8x8_portable(coef, out, stride);
}

/// [`idct8x8`] in portable code, which LLVM vectorises (NEON on aarch64).
#[inline(always)]
fn idct8x8_portable(coef: &[i32; 64], out: &mut [u8], stride: usize) {
    // Columns: lane i of row r is coefficient (r, i).
    let rows: [Lanes; 8] = std::array::from_fn(|r| Lanes(std::array::from_fn(|i| coef[r * 8 + i])));
    let (x, t) = idct_1d(&rows);
    let mut v = [Lanes([0; 8]); 8];
    for k in 0..4 {
        v[k] = (x[k] + t[k] + Lanes([PASS1_ROUND; 8])) >> 10;
        v[7 - k] = (x[k] - t[k] + Lanes([PASS1_ROUND; 8])) >> 10;
    }
    // Rows: transposed, so lane r of `cols[i]` is sample (r, i) of the column pass.
    let cols: [Lanes; 8] = std::array::from_fn(|i| Lanes(std::array::from_fn(|r| v[r].0[i])));
    let (x, t) = idct_1d(&cols);
    let px = |l: Lanes| l.0.map(|s| (s >> 17).clamp(0, 255) as u8);
    let mut samples = [[0u8; 8]; 8]; // [x][r]
    for k in 0..4 {
        samples[k] = px(x[k] + t[k] + Lanes([PASS2_BIAS; 8]));
        samples[7 - k] = px(x[k] - t[k] + Lanes([PASS2_BIAS; 8]));
    }
    for (r, o) in out.chunks_mut(stride).take(8).enumerate() {
        for (o, s) in o[..8].iter_mut().zip(&samples) {
            *o = s[r];
        }
    }
}

/// `C(u)/2 · cos((2x+1)uπ/2N)` in 12-bit fixed point, for the `N`-point reduced transforms:
/// row `x` holds the weights of coefficients `u = 0..N` for output sample `x`.
const fn reduced_table<const N: usize>() -> [[i32; N]; N] {
    let mut t = [[0i32; N]; N];
    let mut x = 0;
    while x < N {
        let mut u = 0;
        while u < N {
            // const fn has no cos: a Taylor series of cos around 0 after folding the angle
            // into [-π, π], exact to well below the 12-bit rounding.
            let a = ((2 * x + 1) * u) as f64 * std::f64::consts::PI / (2 * N) as f64;
            let c = if u == 0 {
                std::f64::consts::FRAC_1_SQRT_2
            } else {
                1.0
            };
            let v = c / 2.0 * const_cos(a) * 4096.0;
            t[x][u] = if v >= 0.0 {
                (v + 0.5) as i32
            } else {
                (v - 0.5) as i32
            };
            u += 1;
        }
        x += 1;
    }
    t
}

const fn const_cos(a: f64) -> f64 {
    let two_pi = 2.0 * std::f64::consts::PI;
    let mut a = a - ((a / two_pi) as i64) as f64 * two_pi;
    if a > std::f64::consts::PI {
        a -= two_pi;
    }
    let (mut term, mut sum, mut k) = (1.0, 1.0, 1);
    while k < 30 {
        term = -term * a * a / ((2 * k - 1) * (2 * k)) as f64;
        sum += term;
        k += 1;
    }
    sum
}

const REDUCED_4: [[i32; 4]; 4] = reduced_table::<4>();
const REDUCED_2: [[i32; 2]; 2] = reduced_table::<2>();

/// The `N`×`N` inverse DCT of the block's lowest `N`×`N` coefficients, with the 8-point
/// transform's normalisation: the block at 1/(8/N) of its size, as libjpeg's scaled decoding
/// gives it (a flat block keeps its value; a smooth one is sampled at the centres of the
/// reduced pixels). `N` is 4 or 2; 1 is [`dc_only`]. Coefficients are clamped by the caller to
/// [`COEF_LIMIT`], which keeps every sum inside `i32`.
#[inline(always)]
fn idct_reduced<const N: usize>(
    table: &[[i32; N]; N],
    coef: &[i32; 64],
    out: &mut [u8],
    stride: usize,
) {
    // Columns: tmp[y][u] = Σ_v K[y][v] F(v, u), kept with 4 fraction bits.
    let mut tmp = [[0i32; N]; N];
    for (y, t) in tmp.iter_mut().enumerate() {
        for (u, t) in t.iter_mut().enumerate() {
            let s: i32 = (0..N).map(|v| table[y][v] * coef[v * 8 + u]).sum();
            *t = (s + (1 << 7)) >> 8;
        }
    }
    // Rows, then the +128 level shift and rounding.
    const BIAS: i32 = (128 << 16) + (1 << 15);
    for (y, t) in tmp.iter().enumerate() {
        let o = &mut out[y * stride..y * stride + N];
        for (x, o) in o.iter_mut().enumerate() {
            let s: i32 = (0..N).map(|u| table[x][u] * t[u]).sum();
            *o = ((s + BIAS) >> 16).clamp(0, 255) as u8;
        }
    }
}

/// The block at 1/`8 / n` of its size (`n` = 8, 4, 2 or 1 samples a side) into `out`, rows
/// `stride` apart; see [`idct_reduced`].
#[inline(always)]
pub fn idct_scaled(n: usize, coef: &[i32; 64], out: &mut [u8], stride: usize) {
    match n {
        8 => idct8x8(coef, out, stride),
        #[cfg(target_arch = "x86_64")]
        4 if std::is_x86_feature_detected!("avx2")
            && stride >= 4
            && out.len() >= 3 * stride + 4 =>
        {
            // SAFETY: the CPU has AVX2, and `out` holds the block's 4 rows of 4 samples.
            unsafe { avx2::idct4x4(coef, out, stride) }
        }
        4 => idct_reduced(&REDUCED_4, coef, out, stride),
        2 => idct_reduced(&REDUCED_2, coef, out, stride),
        _ => out[0] = dc_only(coef[0]),
    }
}

/// The sample value of a block whose only non-zero coefficient is `dc`: what [`idct8x8`]
/// writes to all 64 samples, without the transform.
#[inline(always)]
pub fn dc_only(dc: i32) -> u8 {
    (((dc + 4) >> 3) + 128).clamp(0, 255) as u8
}

// JFIF (full-range BT.601) in 16.16 fixed point.
pub(super) const CR_R: i32 = 91881; // 1.402
pub(super) const CB_G: i32 = 22554; // 0.344136
pub(super) const CR_G: i32 = 46802; // 0.714136
pub(super) const CB_B: i32 = 116130; // 1.772

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

    /// The textbook `n`-point reduced transform in f64: the lowest `n`×`n` coefficients with
    /// the 8-point normalisation.
    fn reduced_reference(n: usize, coef: &[i32; 64]) -> Vec<u8> {
        let c = |u: usize| if u == 0 { 1.0 / 2f64.sqrt() } else { 1.0 };
        let mut out = vec![0u8; n * n];
        for y in 0..n {
            for x in 0..n {
                let mut s = 0.0;
                for v in 0..n {
                    for u in 0..n {
                        let a = ((2 * x + 1) * u) as f64 * std::f64::consts::PI / (2 * n) as f64;
                        let b = ((2 * y + 1) * v) as f64 * std::f64::consts::PI / (2 * n) as f64;
                        s += c(u) * c(v) / 4.0 * coef[v * 8 + u] as f64 * a.cos() * b.cos();
                    }
                }
                out[y * n + x] = (s + 128.0).round().clamp(0.0, 255.0) as u8;
            }
        }
        out
    }

    #[test]
    fn reduced_transforms_match_the_textbook_within_one() {
        let mut seed = 777u32;
        for n in [4usize, 2, 1] {
            for _ in 0..200 {
                let mut coef = [0i32; 64];
                for (i, c) in coef.iter_mut().enumerate() {
                    seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
                    let range = if i == 0 { 1600 } else { 300 };
                    *c = (seed >> 8) as i32 % (2 * range + 1) - range;
                }
                let mut got = vec![0u8; n * n];
                idct_scaled(n, &coef, &mut got, n);
                let want = reduced_reference(n, &coef);
                for i in 0..n * n {
                    assert!(
                        (got[i] as i32 - want[i] as i32).abs() <= 1,
                        "n {n}, {i}: {got:?} vs {want:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn reduced_transforms_keep_a_flat_block_and_clamp_extremes() {
        for n in [4usize, 2, 1] {
            for dc in [-COEF_LIMIT, -1024, 0, 333, COEF_LIMIT] {
                let mut coef = [0i32; 64];
                coef[0] = dc;
                let mut out = vec![0u8; n * n];
                idct_scaled(n, &coef, &mut out, n);
                assert!(
                    out.iter().all(|&v| v == dc_only(dc)),
                    "n {n}, dc {dc}: {out:?}"
                );
            }
            for sign in [1, -1] {
                let mut out = vec![0u8; n * n];
                idct_scaled(n, &[sign * COEF_LIMIT; 64], &mut out, n);
                assert_eq!(out[0], if sign > 0 { 255 } else { 0 }, "n {n}");
            }
        }
    }
}
