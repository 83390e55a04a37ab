//! Drawing on still images and snapshots: box outlines, a stretch to the model's input, and JPEG
//! encoding. None of this is on the per-frame path; snapshots are drawn on the worker thread.

use crate::resize::{CropBox, ResizeError, Resizer};
use crate::RgbImage;
use picket_geom::NormRect;

/// Why an image could not be encoded.
#[derive(Debug, thiserror::Error)]
#[error("JPEG encoding of a {width}×{height} image: {reason}")]
pub struct EncodeError {
    pub width: u32,
    pub height: u32,
    pub reason: String,
}

impl RgbImage {
    /// Draws the outline of `r` (normalised), `thickness` pixels wide, in `rgb`.
    pub fn draw_rect(&mut self, r: &NormRect, thickness: u32, rgb: [u8; 3]) {
        let (w, h) = (self.width(), self.height());
        if w == 0 || h == 0 {
            return;
        }
        let p = r.to_pixels(w, h);
        let (x1, y1) = (p.x1.min(w - 1), p.y1.min(h - 1));
        for t in 0..thickness {
            let (xa, ya) = (p.x0 + t, p.y0 + t);
            let (xb, yb) = (x1.saturating_sub(t), y1.saturating_sub(t));
            if xa > xb || ya > yb {
                break;
            }
            for x in xa..=xb {
                self.put(x, ya, rgb);
                self.put(x, yb, rgb);
            }
            for y in ya..=yb {
                self.put(xa, y, rgb);
                self.put(xb, y, rgb);
            }
        }
    }

    fn put(&mut self, x: u32, y: u32, rgb: [u8; 3]) {
        let i = (y as usize * self.width() as usize + x as usize) * 3;
        if let Some(px) = self.as_bytes_mut().get_mut(i..i + 3) {
            px.copy_from_slice(&rgb);
        }
    }

    /// Stretches the whole image (no letterbox: the model was trained on stretched frames) into
    /// `dst`, a `width`×`height` RGB buffer such as a detector's input, with the same resizer
    /// as the per-frame path.
    pub fn stretch_into(&self, dst: &mut [u8], width: u32, height: u32) -> Result<(), ResizeError> {
        let (w, h) = (self.width(), self.height());
        Resizer::new(w, h, CropBox::full(w, h), width, height)?.resize(self.view(), dst)
    }

    /// The image as a baseline JPEG of `quality` (1–100).
    pub fn to_jpeg(&self, quality: u8) -> Result<Vec<u8>, EncodeError> {
        let err = |reason: String| EncodeError {
            width: self.width(),
            height: self.height(),
            reason,
        };
        let w = u16::try_from(self.width()).map_err(|_| err("wider than 65535".into()))?;
        let h = u16::try_from(self.height()).map_err(|_| err("taller than 65535".into()))?;
        let mut buf = Vec::new();
        jpeg_encoder::Encoder::new(&mut buf, quality)
            .encode(self.as_bytes(), w, h, jpeg_encoder::ColorType::Rgb)
            .map_err(|e| err(e.to_string()))?;
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outline_is_drawn_inside_the_image_and_only_there() {
        let mut img = RgbImage::new(10, 10);
        img.draw_rect(&NormRect::new(0.2, 0.2, 0.6, 1.5), 1, [255, 0, 0]);
        let px = |x: usize, y: usize| &img.as_bytes()[(y * 10 + x) * 3..][..3];
        assert_eq!(px(2, 2), [255, 0, 0]);
        assert_eq!(px(6, 9), [255, 0, 0], "clamped to the bottom-right pixel");
        assert_eq!(px(4, 5), [0, 0, 0], "the inside stays untouched");
        assert_eq!(px(0, 0), [0, 0, 0]);
    }

    #[test]
    fn a_same_size_stretch_is_a_copy_and_the_jpeg_decodes_back() {
        let data: Vec<u8> = (0..8 * 6 * 3).map(|i| (i * 7 % 251) as u8).collect();
        let img = RgbImage::from_vec(8, 6, data).unwrap();
        let mut out = vec![0; 8 * 6 * 3];
        img.stretch_into(&mut out, 8, 6).unwrap();
        assert_eq!(out, img.as_bytes());
        let jpeg = img.to_jpeg(90).unwrap();
        let back = crate::still::decode(&jpeg, std::path::Path::new("x.jpg")).unwrap();
        assert_eq!((back.width(), back.height()), (8, 6));
    }
}
