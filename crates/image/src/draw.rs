//! Drawing on still images and snapshots: box outlines, lines, filled boxes, text in an embedded
//! 8×8 bitmap font (`font8x8`, compiled in: no system fonts), a stretch to the model's input, and
//! JPEG encoding. None of this is on the per-frame path; snapshots and the live view are drawn
//! off the hot thread. What to draw for a frame is [`crate::annotate`]'s business.

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

    /// A straight segment from `a` to `b` (pixels, may lie outside the image: clipped per
    /// pixel), `thickness` pixels wide, in `rgb`.
    pub fn draw_line(&mut self, a: (i32, i32), b: (i32, i32), thickness: u32, rgb: [u8; 3]) {
        // Bresenham, stamping a square pen: plain integers, no anti-aliasing to blur the colours
        // a reader (or a test) looks for.
        let (mut x, mut y) = a;
        let (dx, dy) = ((b.0 - x).abs(), -(b.1 - y).abs());
        let (sx, sy) = (if x < b.0 { 1 } else { -1 }, if y < b.1 { 1 } else { -1 });
        let mut err = dx + dy;
        let half = (thickness.max(1) / 2) as i32;
        let span = thickness.max(1) as i32;
        loop {
            self.fill_px(x - half, y - half, span, span, rgb);
            if (x, y) == b {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    /// Fills the `w`×`h` box at (`x`, `y`) in pixels, clipped to the image.
    pub fn fill_px(&mut self, x: i32, y: i32, w: i32, h: i32, rgb: [u8; 3]) {
        let (iw, ih) = (self.width() as i32, self.height() as i32);
        let (x0, y0) = (x.max(0), y.max(0));
        let (x1, y1) = ((x + w).min(iw), (y + h).min(ih));
        for yy in y0..y1 {
            for xx in x0..x1 {
                self.put(xx as u32, yy as u32, rgb);
            }
        }
    }

    /// Mixes `rgb` into the `w`×`h` box at (`x`, `y`): `alpha` of 256 parts, clipped.
    pub fn tint_px(&mut self, x: i32, y: i32, w: i32, h: i32, rgb: [u8; 3], alpha: u16) {
        let (iw, ih) = (self.width() as i32, self.height() as i32);
        let (x0, y0) = (x.max(0), y.max(0));
        let (x1, y1) = ((x + w).min(iw), (y + h).min(ih));
        let a = u32::from(alpha.min(256));
        let stride = iw as usize * 3;
        let data = self.as_bytes_mut();
        for yy in y0..y1 {
            let row = yy as usize * stride;
            for px in data[row + x0 as usize * 3..row + x1 as usize * 3].chunks_exact_mut(3) {
                for (c, t) in px.iter_mut().zip(rgb) {
                    *c = ((u32::from(*c) * (256 - a) + u32::from(t) * a) >> 8) as u8;
                }
            }
        }
    }

    /// Writes `text` with its top left at (`x`, `y`), each glyph 8×8 pixels times `scale`, in
    /// `rgb` (background untouched). Characters outside printable ASCII show as `?`. Returns the
    /// width drawn, in pixels.
    pub fn draw_text(&mut self, x: i32, y: i32, scale: u32, text: &str, rgb: [u8; 3]) -> u32 {
        let s = scale.max(1) as i32;
        let mut pen = x;
        for ch in text.chars() {
            let glyph = glyph(ch);
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..8 {
                    // font8x8 rows put the leftmost pixel in bit 0.
                    if bits & (1 << col) != 0 {
                        self.fill_px(pen + col * s, y + row as i32 * s, s, s, rgb);
                    }
                }
            }
            pen += GLYPH as i32 * s;
        }
        text_width(text, scale)
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

/// A glyph's side in pixels at scale 1.
pub const GLYPH: u32 = 8;

/// The width `text` takes at `scale`, in pixels.
pub fn text_width(text: &str, scale: u32) -> u32 {
    text.chars().count() as u32 * GLYPH * scale.max(1)
}

fn glyph(ch: char) -> [u8; 8] {
    let i = if (' '..='~').contains(&ch) {
        ch as usize
    } else {
        '?' as usize
    };
    font8x8::legacy::BASIC_LEGACY[i]
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
    fn a_thick_line_covers_its_ends_and_leaves_the_rest() {
        let mut img = RgbImage::new(20, 20);
        img.draw_line((2, 2), (17, 17), 3, [0, 255, 0]);
        let px =
            |img: &RgbImage, x: usize, y: usize| img.as_bytes()[(y * 20 + x) * 3..][..3].to_vec();
        for (x, y) in [(2, 2), (10, 10), (17, 17), (11, 10)] {
            assert_eq!(px(&img, x, y), [0, 255, 0], "({x}, {y}) is on the line");
        }
        assert_eq!(px(&img, 17, 2), [0, 0, 0]);
        img.draw_line((-10, 5), (30, 5), 1, [9, 9, 9]);
        assert_eq!(
            (px(&img, 0, 5), px(&img, 19, 5)),
            (vec![9; 3], vec![9; 3]),
            "clipped, not lost"
        );
    }

    #[test]
    fn text_sets_pixels_only_inside_its_cells() {
        let mut img = RgbImage::new(40, 20);
        let w = img.draw_text(4, 2, 2, "1", [255, 255, 255]);
        assert_eq!(w, 16);
        let lit: Vec<(usize, usize)> = (0..20)
            .flat_map(|y| (0..40).map(move |x| (x, y)))
            .filter(|&(x, y)| img.as_bytes()[(y * 40 + x) * 3] == 255)
            .collect();
        assert!(
            lit.len() > 20,
            "a 1 at scale 2 lights more than 20 pixels: {}",
            lit.len()
        );
        assert!(lit
            .iter()
            .all(|&(x, y)| (4..20).contains(&x) && (2..18).contains(&y)));
    }

    #[test]
    fn a_tint_mixes_by_alpha() {
        let mut img = RgbImage::from_vec(2, 1, vec![0, 0, 0, 200, 200, 200]).unwrap();
        img.tint_px(0, 0, 2, 1, [0, 0, 255], 128);
        assert_eq!(img.as_bytes(), [0, 0, 127, 100, 100, 227]);
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
