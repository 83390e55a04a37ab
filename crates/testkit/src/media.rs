//! Synthetic test media, generated in the tests so nothing large is committed: an RGB scene with
//! gradients and hard edges, its JPEG encoding, and its YUV encodings (BT.601 limited range,
//! the inverse of `picket_image::convert`).

use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

/// A deterministic `w`×`h` RGB picture: smooth ramps, a checkerboard corner and solid blocks,
/// shifted by `t` so consecutive frames differ.
pub fn scene(w: u32, h: u32, t: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let px = if x < w / 4 && y < h / 4 {
                if ((x + t) / 8 + y / 8) % 2 == 0 {
                    [230, 230, 230]
                } else {
                    [20, 20, 20]
                }
            } else if (w / 2..w / 2 + w / 6).contains(&((x + t) % w)) && y > h / 2 {
                [200, 40, 30]
            } else {
                [
                    (x * 255 / w.max(1)) as u8,
                    (y * 255 / h.max(1)) as u8,
                    (((x + y + t) * 255) / (w + h)) as u8,
                ]
            };
            out.extend_from_slice(&px);
        }
    }
    out
}

/// Encodes RGB as a baseline JPEG with standard tables.
pub fn jpeg(rgb: &[u8], w: u32, h: u32, quality: u8, sampling: SamplingFactor) -> Vec<u8> {
    jpeg_with(rgb, w, h, quality, |e| e.set_sampling_factor(sampling))
}

/// Encodes RGB as a JPEG after `setup` has configured the encoder.
pub fn jpeg_with(
    rgb: &[u8],
    w: u32,
    h: u32,
    quality: u8,
    setup: impl FnOnce(&mut Encoder<&mut Vec<u8>>),
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut e = Encoder::new(&mut out, quality);
    setup(&mut e);
    e.encode(rgb, w as u16, h as u16, ColorType::Rgb).unwrap();
    out
}

/// Encodes a grey image as JPEG.
pub fn jpeg_grey(luma: &[u8], w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    Encoder::new(&mut out, 90)
        .encode(luma, w as u16, h as u16, ColorType::Luma)
        .unwrap();
    out
}

/// RGB to limited-range BT.601 Y, Cb, Cr (rounded).
pub fn rgb_to_yuv(p: &[u8]) -> [u8; 3] {
    let (r, g, b) = (p[0] as f64, p[1] as f64, p[2] as f64);
    let y = 16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0;
    let u = 128.0 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0;
    let v = 128.0 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0;
    let q = |x: f64| x.round().clamp(0.0, 255.0) as u8;
    [q(y), q(u), q(v)]
}

fn yuv_planes(rgb: &[u8], w: u32, h: u32) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let yuv: Vec<[u8; 3]> = rgb.chunks_exact(3).map(rgb_to_yuv).collect();
    let (w, h) = (w as usize, h as usize);
    let y = yuv.iter().map(|p| p[0]).collect();
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let (mut u, mut v) = (Vec::new(), Vec::new());
    for cy in 0..ch {
        for cx in 0..cw {
            let p = yuv[(cy * 2) * w + cx * 2];
            u.push(p[1]);
            v.push(p[2]);
        }
    }
    (y, u, v)
}

/// RGB as I420 (chroma sampled at the top-left pixel of each 2×2 block).
pub fn i420(rgb: &[u8], w: u32, h: u32) -> Vec<u8> {
    let (mut y, u, v) = yuv_planes(rgb, w, h);
    y.extend_from_slice(&u);
    y.extend_from_slice(&v);
    y
}

/// RGB as NV12.
pub fn nv12(rgb: &[u8], w: u32, h: u32) -> Vec<u8> {
    let (mut y, u, v) = yuv_planes(rgb, w, h);
    for (a, b) in u.iter().zip(&v) {
        y.extend_from_slice(&[*a, *b]);
    }
    y
}

/// RGB as packed YUYV (chroma from the left pixel of each pair).
pub fn yuyv(rgb: &[u8], w: u32) -> Vec<u8> {
    let mut out = Vec::new();
    for row in rgb.chunks_exact(w as usize * 3) {
        for pair in row.chunks(6) {
            let a = rgb_to_yuv(&pair[..3]);
            let b = if pair.len() == 6 {
                rgb_to_yuv(&pair[3..])
            } else {
                a
            };
            out.extend_from_slice(&[a[0], a[1], b[0], a[2]]);
        }
    }
    out
}

/// A Y4M stream of `frames` I420 (`C420jpeg`) or I422 (`C422`) frames of the scene; even `h`.
pub fn y4m(w: u32, h: u32, frames: u32, c422: bool) -> Vec<u8> {
    let tag = if c422 { "422" } else { "420jpeg" };
    let mut out = format!("YUV4MPEG2 W{w} H{h} F25:1 Ip A1:1 C{tag} XYSCSS=x\n").into_bytes();
    for t in 0..frames {
        out.extend_from_slice(b"FRAME\n");
        let (y, u, v) = yuv_planes(&scene(w, h, t), w, h);
        out.extend_from_slice(&y);
        for plane in [&u, &v] {
            let cw = w.div_ceil(2) as usize;
            for row in plane.chunks_exact(cw) {
                out.extend_from_slice(row);
                if c422 {
                    out.extend_from_slice(row); // 4:2:2 repeats each chroma row
                }
            }
        }
    }
    out
}

/// Largest and mean absolute difference between two byte images.
pub fn diff(a: &[u8], b: &[u8]) -> (u8, f64) {
    assert_eq!(a.len(), b.len(), "images differ in size");
    let mut max = 0u8;
    let mut sum = 0u64;
    for (x, y) in a.iter().zip(b) {
        let d = x.abs_diff(*y);
        max = max.max(d);
        sum += d as u64;
    }
    (max, sum as f64 / a.len().max(1) as f64)
}

/// `head`, then `body` repeated `times` times, read without allocating.
pub struct Repeat {
    pub head: Vec<u8>,
    pub body: Vec<u8>,
    pub pos: usize,
    pub times: usize,
}

impl std::io::Read for Repeat {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let total = self.head.len() + self.body.len() * self.times;
        if self.pos >= total {
            return Ok(0);
        }
        let (src, at) = if self.pos < self.head.len() {
            (&self.head, self.pos)
        } else {
            (&self.body, (self.pos - self.head.len()) % self.body.len())
        };
        let n = out.len().min(src.len() - at);
        out[..n].copy_from_slice(&src[at..at + n]);
        self.pos += n;
        Ok(n)
    }
}
