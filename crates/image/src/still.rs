//! Still images: a whole JPEG or PNG file decoded into an owned [`RgbImage`], for one-off use
//! (`picket detect photo.jpg`, snapshots in tests) and for PNG frames of a directory replay.
//! These allocate per image; the per-frame path is [`crate::Preprocessor`].

use crate::jpeg::{self, JpegError};
use crate::RgbImage;
use std::path::{Path, PathBuf};
use zune_core::bytestream::ZCursor;
use zune_core::options::DecoderOptions;

/// Why a still image could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum StillError {
    #[error("read {}: {cause}", path.display())]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{}: {cause}", path.display())]
    Jpeg { path: PathBuf, cause: JpegError },
    #[error("{}: PNG: {message}", path.display())]
    Png { path: PathBuf, message: String },
    #[error("{}: neither JPEG nor PNG (starts with {magic:02x?})", path.display())]
    Unknown { path: PathBuf, magic: Vec<u8> },
}

/// The kind of image `data` holds, by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StillKind {
    Jpeg,
    Png,
}

impl StillKind {
    pub fn sniff(data: &[u8]) -> Option<Self> {
        if data.starts_with(&[0xFF, 0xD8]) {
            Some(StillKind::Jpeg)
        } else if data.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(StillKind::Png)
        } else {
            None
        }
    }
}

/// Reads and decodes the JPEG or PNG file at `path`.
pub fn load(path: &Path) -> Result<RgbImage, StillError> {
    let data = std::fs::read(path).map_err(|cause| StillError::Read {
        path: path.to_owned(),
        cause,
    })?;
    decode(&data, path)
}

/// Decodes JPEG or PNG bytes; `origin` names them in errors.
pub fn decode(data: &[u8], origin: &Path) -> Result<RgbImage, StillError> {
    let mut out = RgbImage::default();
    match StillKind::sniff(data) {
        Some(StillKind::Jpeg) => {
            jpeg::decode_general(data, &mut out).map_err(|cause| StillError::Jpeg {
                path: origin.to_owned(),
                cause,
            })?
        }
        Some(StillKind::Png) => decode_png(data, &mut out).map_err(|message| StillError::Png {
            path: origin.to_owned(),
            message,
        })?,
        None => {
            return Err(StillError::Unknown {
                path: origin.to_owned(),
                magic: data.iter().take(8).copied().collect(),
            })
        }
    }
    Ok(out)
}

/// Decodes a PNG of any colour type and depth into RGB888 (alpha dropped, grey expanded).
pub fn decode_png(data: &[u8], out: &mut RgbImage) -> Result<(), String> {
    let options = DecoderOptions::default()
        .png_set_strip_to_8bit(true)
        .set_max_width(1 << 14)
        .set_max_height(1 << 14);
    let mut d = zune_png::PngDecoder::new_with_options(ZCursor::new(data), options);
    d.decode_headers().map_err(|e| format!("{e:?}"))?;
    let (w, h) = d.dimensions().ok_or("no IHDR")?;
    let len = d.output_buffer_size().ok_or("no IHDR")?;
    let mut raw = vec![0u8; len];
    d.decode_into(&mut raw).map_err(|e| format!("{e:?}"))?;
    let pixels = w * h;
    let channels = len.checked_div(pixels).unwrap_or(0);
    out.set_size(w as u32, h as u32);
    let dst = out.as_bytes_mut().chunks_exact_mut(3);
    match channels {
        1 | 2 => {
            for (px, s) in dst.zip(raw.chunks_exact(channels)) {
                px.fill(s[0]);
            }
        }
        3 | 4 => {
            for (px, s) in dst.zip(raw.chunks_exact(channels)) {
                px.copy_from_slice(&s[..3]);
            }
        }
        n => return Err(format!("{n} bytes per pixel after decoding")),
    }
    Ok(())
}
