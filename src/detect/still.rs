//! Still images for `picket detect`: load a JPEG or PNG as RGB, stretch it to the model's input,
//! and draw boxes into a JPEG.
//!
//! This is the small slice of image handling that still images need. It moves onto the shared
//! `image` module (pixel formats, decode, resize) once that lands, and is not on the hot path.

use crate::geom::NormRect;
use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use std::path::{Path, PathBuf};

/// Why an image could not be read, resized or written.
#[derive(Debug, thiserror::Error)]
pub enum StillError {
    #[error("image {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("image {}: not a JPEG or PNG file", path.display())]
    NotAnImage { path: PathBuf },
    #[error("image {}: cannot decode it: {reason}", path.display())]
    Decode { path: PathBuf, reason: String },
    #[error("image {}: cannot resize it: {reason}", path.display())]
    Resize { path: PathBuf, reason: String },
    #[error("image {}: cannot encode it: {reason}", path.display())]
    Encode { path: PathBuf, reason: String },
}

/// A decoded image: packed RGB888 rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbImage {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

impl RgbImage {
    /// Reads a JPEG or PNG file (told apart by their signatures, not the file name).
    pub fn load(path: &Path) -> Result<Self, StillError> {
        let data = std::fs::read(path).map_err(|source| StillError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::decode(&data, path)
    }

    /// Decodes JPEG or PNG bytes; `path` names them in errors.
    pub fn decode(data: &[u8], path: &Path) -> Result<Self, StillError> {
        let err = |reason: String| StillError::Decode {
            path: path.to_owned(),
            reason,
        };
        if data.starts_with(&[0xff, 0xd8, 0xff]) {
            decode_jpeg(data).map_err(err)
        } else if data.starts_with(b"\x89PNG\r\n\x1a\n") {
            decode_png(data).map_err(err)
        } else {
            Err(StillError::NotAnImage {
                path: path.to_owned(),
            })
        }
    }

    /// Stretches this image (no letterbox: the model was trained on stretched frames) into
    /// `dst`, a `width × height` RGB buffer such as a detector's input.
    pub fn resize_into(
        &self,
        dst: &mut [u8],
        width: u32,
        height: u32,
        path: &Path,
    ) -> Result<(), StillError> {
        let err = |reason: String| StillError::Resize {
            path: path.to_owned(),
            reason,
        };
        let src = ImageRef::new(self.width, self.height, &self.pixels, PixelType::U8x3)
            .map_err(|e| err(e.to_string()))?;
        let mut out = Image::from_slice_u8(width, height, dst, PixelType::U8x3)
            .map_err(|e| err(e.to_string()))?;
        let opts = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
        Resizer::new()
            .resize(&src, &mut out, &opts)
            .map_err(|e| err(e.to_string()))
    }

    /// Draws the outline of `r` (normalised), `thickness` pixels wide, in `rgb`.
    pub fn draw_rect(&mut self, r: &NormRect, thickness: u32, rgb: [u8; 3]) {
        if self.width == 0 || self.height == 0 {
            return;
        }
        let p = r.to_pixels(self.width, self.height);
        let (x1, y1) = (p.x1.min(self.width - 1), p.y1.min(self.height - 1));
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
        let i = (y as usize * self.width as usize + x as usize) * 3;
        if let Some(px) = self.pixels.get_mut(i..i + 3) {
            px.copy_from_slice(&rgb);
        }
    }

    /// Writes the image as a JPEG file.
    pub fn save_jpeg(&self, path: &Path, quality: u8) -> Result<(), StillError> {
        let err = |reason: String| StillError::Encode {
            path: path.to_owned(),
            reason,
        };
        let (w, h) = (
            u16::try_from(self.width).map_err(|_| err("wider than 65535".into()))?,
            u16::try_from(self.height).map_err(|_| err("taller than 65535".into()))?,
        );
        let mut buf = Vec::new();
        jpeg_encoder::Encoder::new(&mut buf, quality)
            .encode(&self.pixels, w, h, jpeg_encoder::ColorType::Rgb)
            .map_err(|e| err(e.to_string()))?;
        std::fs::write(path, buf).map_err(|source| StillError::Io {
            path: path.to_owned(),
            source,
        })
    }
}

fn decode_jpeg(data: &[u8]) -> Result<RgbImage, String> {
    use zune_jpeg::zune_core::{bytestream::ZCursor, colorspace::ColorSpace, options};
    let opts = options::DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::RGB);
    let mut d = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(data), opts);
    let pixels = d.decode().map_err(|e| format!("{e:?}"))?;
    let info = d.info().ok_or("no image header")?;
    rgb(u32::from(info.width), u32::from(info.height), pixels, 3)
}

fn decode_png(data: &[u8]) -> Result<RgbImage, String> {
    use zune_png::zune_core::{colorspace::ColorSpace, options, result::DecodingResult};
    let opts = options::DecoderOptions::default().png_set_strip_to_8bit(true);
    let mut d = zune_png::PngDecoder::new_with_options(data, opts);
    let out = d.decode().map_err(|e| format!("{e:?}"))?;
    let (w, h) = d.get_dimensions().ok_or("no image header")?;
    let DecodingResult::U8(pixels) = out else {
        return Err("16-bit samples were not reduced to 8".into());
    };
    let channels = match d.get_colorspace() {
        Some(ColorSpace::RGB) => 3,
        Some(ColorSpace::RGBA) => 4,
        Some(ColorSpace::Luma) => 1,
        Some(ColorSpace::LumaA) => 2,
        other => return Err(format!("unsupported colour space {other:?}")),
    };
    rgb(w as u32, h as u32, pixels, channels)
}

/// Packs `channels`-per-pixel samples (grey, grey+alpha, RGB or RGBA) as RGB.
fn rgb(width: u32, height: u32, px: Vec<u8>, channels: usize) -> Result<RgbImage, String> {
    let n = width as usize * height as usize;
    if width == 0 || height == 0 || px.len() < n * channels {
        return Err(format!("{width}×{height} image with {} bytes", px.len()));
    }
    let pixels = match channels {
        3 => px,
        1 | 2 => px.chunks_exact(channels).flat_map(|p| [p[0]; 3]).collect(),
        _ => px
            .chunks_exact(channels)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect(),
    };
    Ok(RgbImage {
        width,
        height,
        pixels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_png_round_trips_and_a_text_file_is_not_an_image() {
        let p = Path::new("tests/data/inputs/person.png");
        let img = RgbImage::load(p).unwrap();
        assert_eq!(
            (img.width, img.height, img.pixels.len()),
            (300, 300, 270_000)
        );
        let e = RgbImage::load(Path::new("Cargo.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("Cargo.toml") && e.contains("not a JPEG or PNG"),
            "{e}"
        );
        let e = RgbImage::decode(b"\xff\xd8\xff\xe0garbage", Path::new("x.jpg"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.jpg: cannot decode"), "{e}");
        let png = std::fs::read(p).unwrap();
        let e = RgbImage::decode(&png[..5000], Path::new("cut.png")).unwrap_err();
        assert!(e.to_string().contains("cut.png: cannot decode"), "{e}");
    }

    #[test]
    fn resize_stretches_and_boxes_are_drawn_inside_the_image() {
        let mut img = RgbImage {
            width: 4,
            height: 2,
            pixels: vec![200; 24],
        };
        let mut dst = vec![0u8; 2 * 2 * 3];
        img.resize_into(&mut dst, 2, 2, Path::new("t")).unwrap();
        assert!(dst.iter().all(|&v| v == 200), "{dst:?}");
        img.draw_rect(&NormRect::new(-0.5, 0.0, 2.0, 1.0), 1, [255, 0, 0]);
        assert_eq!(&img.pixels[..3], &[255, 0, 0]);
        assert_eq!(&img.pixels[21..], &[255, 0, 0]);
    }
}
