//! YUV to RGB888, for the raw formats cameras and pipes send.
//!
//! **BT.601, limited range** ("studio swing": Y in 16..=235, Cb and Cr in 16..=240), which is
//! what USB webcams (UVC), V4L2's default `SMPTE170M` colourspace and `rpicam-vid --codec yuv420`
//! produce:
//!
//! ```text
//! R = 1.164383 (Y − 16)                      + 1.596027 (Cr − 128)
//! G = 1.164383 (Y − 16) − 0.391762 (Cb − 128) − 0.812968 (Cr − 128)
//! B = 1.164383 (Y − 16) + 2.017232 (Cb − 128)
//! ```
//!
//! computed in 16.16 fixed point, rounded and clamped to 0..=255, so every channel is within ±1
//! of that formula. Chroma is not interpolated: each chroma sample colours the 2 (4:2:2) or 2×2
//! (4:2:0) pixels it covers. JPEG, which is full range, has its own conversion in [`crate::jpeg`].

use crate::planar_resize::PlaneRef;
use crate::{FrameRef, PixelFormat, RgbImage};

/// Why a frame could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    #[error("{format} {width}x{height} frame with stride {stride} needs {need} bytes, got {got}")]
    Short {
        format: PixelFormat,
        width: u32,
        height: u32,
        stride: usize,
        need: usize,
        got: usize,
    },
    #[error("{format} frame: stride {stride} is less than a row of {width} pixels")]
    Stride {
        format: PixelFormat,
        width: u32,
        stride: usize,
    },
    #[error("{0} frames are compressed; decode them instead of converting")]
    Compressed(PixelFormat),
}

// 16.16 fixed-point coefficients of the formula in the module doc.
const CY: i32 = 76309; // 255 / 219
const RV: i32 = 104597; // 1.402 · 255 / 224
const GU: i32 = 25675; // 0.344136 · 255 / 224
const GV: i32 = 53279; // 0.714136 · 255 / 224
const BU: i32 = 132201; // 1.772 · 255 / 224
const HALF: i32 = 1 << 15;

#[inline(always)]
fn clamp8(v: i32) -> u8 {
    (v >> 16).clamp(0, 255) as u8
}

/// One pixel of limited-range BT.601 YCbCr as RGB.
#[inline(always)]
pub fn yuv_to_rgb(y: u8, u: u8, v: u8) -> [u8; 3] {
    let c = (y as i32 - 16) * CY + HALF;
    let d = u as i32 - 128;
    let e = v as i32 - 128;
    [
        clamp8(c + RV * e),
        clamp8(c - GU * d - GV * e),
        clamp8(c + BU * d),
    ]
}

/// Where the planes of a raw frame start and how long their rows are.
struct Layout {
    stride: usize,
    cstride: usize,
    chroma_rows: usize,
    u_off: usize,
    v_off: usize,
    need: usize,
}

fn layout(f: &FrameRef<'_>) -> Result<Layout, ConvertError> {
    let (w, h) = (f.width as usize, f.height as usize);
    let stride = f.stride.max(f.format.min_stride(f.width));
    if f.stride != 0 && f.stride < f.format.min_stride(f.width) {
        return Err(ConvertError::Stride {
            format: f.format,
            width: f.width,
            stride: f.stride,
        });
    }
    let ch = h.div_ceil(2);
    let luma = stride * h;
    let l = match f.format {
        PixelFormat::Rgb24 | PixelFormat::Yuyv => Layout {
            stride,
            cstride: 0,
            chroma_rows: 0,
            u_off: 0,
            v_off: 0,
            need: stride * (h.max(1) - 1) + f.format.min_stride(f.width),
        },
        PixelFormat::Nv12 => Layout {
            stride,
            cstride: stride,
            chroma_rows: ch,
            u_off: luma,
            v_off: luma + 1,
            need: luma + stride * ch,
        },
        PixelFormat::I420 | PixelFormat::I422 => {
            let cstride = stride.div_ceil(2);
            let rows = if f.format == PixelFormat::I420 { ch } else { h };
            Layout {
                stride,
                cstride,
                chroma_rows: rows,
                u_off: luma,
                v_off: luma + cstride * rows,
                need: luma + 2 * cstride * rows,
            }
        }
        PixelFormat::Mjpeg => return Err(ConvertError::Compressed(f.format)),
    };
    if w == 0 || h == 0 || f.data.len() < l.need {
        return Err(ConvertError::Short {
            format: f.format,
            width: f.width,
            height: f.height,
            stride,
            need: l.need,
            got: f.data.len(),
        });
    }
    Ok(l)
}

/// The Y, U and V planes of a planar raw frame (NV12, I420, I422), once its size, stride and
/// length are checked, and its luma samples per chroma sample across and down.
pub fn yuv_planes<'a>(
    frame: &FrameRef<'a>,
) -> Result<([PlaneRef<'a>; 3], (u32, u32)), ConvertError> {
    let l = layout(frame)?;
    let (w, h, d) = (frame.width, frame.height, frame.data);
    let (cw, rows) = (w.div_ceil(2), l.chroma_rows as u32);
    let step = if frame.format == PixelFormat::Nv12 {
        2
    } else {
        1
    };
    let chroma = |off: usize| PlaneRef {
        step,
        ..PlaneRef::new(&d[off..], cw, rows, l.cstride)
    };
    let v_sub = if rows == h { 1 } else { 2 };
    match frame.format {
        PixelFormat::Nv12 | PixelFormat::I420 | PixelFormat::I422 => Ok((
            [
                PlaneRef::new(d, w, h, l.stride),
                chroma(l.u_off),
                chroma(l.v_off),
            ],
            (2, v_sub),
        )),
        other => Err(ConvertError::Compressed(other)),
    }
}

/// The row stride of a raw frame, once its size, stride and length are checked: the error
/// [`to_rgb`] would give, without converting.
pub fn checked_stride(frame: &FrameRef<'_>) -> Result<usize, ConvertError> {
    layout(frame).map(|l| l.stride)
}

/// Converts a raw frame into `out`, which is resized to the frame (reusing its allocation).
pub fn to_rgb(frame: &FrameRef<'_>, out: &mut RgbImage) -> Result<(), ConvertError> {
    let l = layout(frame)?;
    out.set_size(frame.width, frame.height);
    let w = frame.width as usize;
    let data = frame.data;
    let rows = out.as_bytes_mut().chunks_exact_mut(w * 3);
    for (y, dst) in rows.enumerate() {
        let src = &data[y * l.stride..];
        match frame.format {
            PixelFormat::Rgb24 => dst.copy_from_slice(&src[..w * 3]),
            PixelFormat::Yuyv => yuyv_row(&src[..w.div_ceil(2) * 4], dst),
            PixelFormat::Nv12 | PixelFormat::I420 | PixelFormat::I422 => {
                let cy = if l.chroma_rows == frame.height as usize {
                    y
                } else {
                    y / 2
                };
                let step = if frame.format == PixelFormat::Nv12 {
                    2
                } else {
                    1
                };
                let u = &data[l.u_off + cy * l.cstride..];
                let v = &data[l.v_off + cy * l.cstride..];
                planar_row(&src[..w], u, v, step, dst);
            }
            PixelFormat::Mjpeg => unreachable!("rejected by layout()"),
        }
    }
    Ok(())
}

/// One row of `Y0 U Y1 V` quads.
fn yuyv_row(src: &[u8], dst: &mut [u8]) {
    let mut quads = src.chunks_exact(4);
    let mut pairs = dst.chunks_exact_mut(6);
    for (q, p) in (&mut quads).zip(&mut pairs) {
        p[..3].copy_from_slice(&yuv_to_rgb(q[0], q[1], q[3]));
        p[3..].copy_from_slice(&yuv_to_rgb(q[2], q[1], q[3]));
    }
    // An odd width leaves one pixel, coloured by the last quad.
    let rest = pairs.into_remainder();
    if rest.len() == 3 {
        if let Some(q) = src.chunks_exact(4).last() {
            rest.copy_from_slice(&yuv_to_rgb(q[0], q[1], q[3]));
        }
    }
}

/// One row of planar (or, with `step` 2, NV12-interleaved) YUV with horizontally halved chroma.
fn planar_row(y: &[u8], u: &[u8], v: &[u8], step: usize, dst: &mut [u8]) {
    for (x, (px, &luma)) in dst.chunks_exact_mut(3).zip(y).enumerate() {
        let c = (x / 2) * step;
        px.copy_from_slice(&yuv_to_rgb(luma, u[c], v[c]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// The formula of the module doc, in floating point.
    fn reference(y: u8, u: u8, v: u8) -> [u8; 3] {
        let (y, u, v) = (y as f64 - 16.0, u as f64 - 128.0, v as f64 - 128.0);
        let q = |x: f64| x.round().clamp(0.0, 255.0) as u8;
        [
            q(1.164383 * y + 1.596027 * v),
            q(1.164383 * y - 0.391762 * u - 0.812968 * v),
            q(1.164383 * y + 2.017232 * u),
        ]
    }

    #[test]
    fn every_yuv_triple_is_within_one_of_the_formula() {
        let mut worst = 0;
        for y in (0..=255u8).step_by(3) {
            for u in 0..=255u8 {
                for v in (0..=255u8).step_by(5) {
                    let got = yuv_to_rgb(y, u, v);
                    let want = reference(y, u, v);
                    for c in 0..3 {
                        worst = worst.max((got[c] as i32 - want[c] as i32).abs());
                    }
                }
            }
        }
        assert!(worst <= 1, "worst channel difference {worst}");
        assert_eq!(yuv_to_rgb(16, 128, 128), [0, 0, 0]);
        assert_eq!(yuv_to_rgb(235, 128, 128), [255, 255, 255]);
    }

    fn frame(format: PixelFormat, w: u32, h: u32, stride: usize, data: &[u8]) -> FrameRef<'_> {
        FrameRef {
            format,
            width: w,
            height: h,
            stride,
            data,
            timestamp: Duration::ZERO,
            sequence: 0,
        }
    }

    #[test]
    fn yuyv_with_padded_stride_uses_each_pairs_chroma() {
        // 3x2 pixels, 2 quads per row, stride padded to 10 bytes.
        let data = [
            16, 90, 235, 240, 81, 54, 145, 34, 0, 0, //
            235, 128, 16, 128, 126, 128, 126, 128, 0, 0,
        ];
        let mut out = RgbImage::default();
        to_rgb(&frame(PixelFormat::Yuyv, 3, 2, 10, &data), &mut out).unwrap();
        let px = |x: usize, y: usize| &out.as_bytes()[(y * 3 + x) * 3..][..3];
        assert_eq!(px(0, 0), yuv_to_rgb(16, 90, 240));
        assert_eq!(px(1, 0), yuv_to_rgb(235, 90, 240));
        assert_eq!(px(2, 0), yuv_to_rgb(81, 54, 34));
        assert_eq!(px(0, 1), [255, 255, 255]);
        assert_eq!(px(1, 1), [0, 0, 0]);
    }

    #[test]
    fn nv12_i420_and_i422_agree_on_the_same_picture() {
        let (w, h) = (4u32, 4u32);
        let luma: Vec<u8> = (0..16).map(|i| 16 + i * 13).collect();
        let (u, v) = ([60u8, 200, 90, 128], [240u8, 30, 128, 100]);
        let mut i420 = luma.clone();
        i420.extend_from_slice(&u);
        i420.extend_from_slice(&v);
        let mut nv12 = luma.clone();
        for i in 0..4 {
            nv12.extend_from_slice(&[u[i], v[i]]);
        }
        // I422 repeats each chroma row for both luma rows.
        let mut i422 = luma.clone();
        for plane in [&u, &v] {
            for row in 0..4 {
                i422.extend_from_slice(&plane[(row / 2) * 2..][..2]);
            }
        }
        let mut a = RgbImage::default();
        let mut b = RgbImage::default();
        let mut c = RgbImage::default();
        to_rgb(&frame(PixelFormat::I420, w, h, 4, &i420), &mut a).unwrap();
        to_rgb(&frame(PixelFormat::Nv12, w, h, 4, &nv12), &mut b).unwrap();
        to_rgb(&frame(PixelFormat::I422, w, h, 4, &i422), &mut c).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        // Pixel (3, 2) is covered by chroma sample (1, 1).
        let at = (2 * 4 + 3) * 3;
        assert_eq!(&a.as_bytes()[at..at + 3], &yuv_to_rgb(luma[11], u[3], v[3]));
    }

    #[test]
    fn short_frames_and_narrow_strides_are_errors_not_panics() {
        let mut out = RgbImage::default();
        let e = to_rgb(&frame(PixelFormat::I420, 4, 4, 4, &[0; 23]), &mut out).unwrap_err();
        assert!(
            matches!(
                e,
                ConvertError::Short {
                    need: 24,
                    got: 23,
                    ..
                }
            ),
            "{e}"
        );
        let e = to_rgb(&frame(PixelFormat::Yuyv, 4, 1, 6, &[0; 8]), &mut out).unwrap_err();
        assert!(matches!(e, ConvertError::Stride { stride: 6, .. }), "{e}");
        let e = to_rgb(&frame(PixelFormat::Mjpeg, 4, 1, 0, &[0; 8]), &mut out).unwrap_err();
        assert_eq!(e, ConvertError::Compressed(PixelFormat::Mjpeg));
    }
}
