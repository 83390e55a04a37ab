//! JPEG decoding: camera MJPEG frames on the hot path, and any JPEG file as a still image.
//!
//! [`JpegDecoder`] first tries [`baseline::Baseline`], the project's allocation-free decoder for
//! the baseline JPEGs cameras send. A frame it does not support (progressive, 12-bit,
//! arithmetic-coded, CMYK) goes to `zune-jpeg`, which handles everything but allocates about
//! twenty buffers per image; such frames are counted ([`JpegDecoder::general_path_frames`]).
//!
//! USB webcams may omit the Huffman tables (DHT) and rely on the standard ones of Annex K. The
//! baseline decoder assumes them when a frame has none; for `zune-jpeg` they are inserted into a
//! copy of the frame ([`with_standard_tables`]).
//!
//! [`JpegDecoder::decode_planes`] decodes to Y, Cb and Cr planes instead, optionally at 1/2, 1/4
//! or 1/8 of the size through a reduced inverse DCT, for callers that only need a smaller image:
//! the detector's input is resized from those planes and converted last
//! ([`crate::planar_resize`]).
//!
//! Measured by `scripts/bench-mjpeg.sh 5 --turbojpeg` (x86_64 with AVX2, 2 cores shared with
//! other work; every call timed in thread CPU time; medians of 5 alternating rounds, each the
//! median of 51 calls), MJPEG 4:2:2 q85 with camera noise → 300×300 RGB, as a multiple of
//! OpenCV 4.10's `cv2.imdecode` (`IMREAD_REDUCED_COLOR_2` at 1280×720) + `cv2.resize` in the
//! same rounds (below 1.0 = faster):
//!
//! | frame | this decoder, first build | then | now | `zune-jpeg` + RGB resize | `turbojpeg` + planar resize |
//! |---|---|---|---|---|---|
//! | 640×480 (whole frame) | 1.21× | 1.07× | 0.61× | 0.68× | 0.49× |
//! | 1280×720 (at 1/2) | 1.50× | 1.12× | 0.78× | 1.59× (whole frame) | 0.88× |
//!
//! "Then" added, each as libjpeg-turbo or stb_image does it: an AC code and its magnitude bits
//! looked up together in one 9-bit table, the bit buffer filled eight bytes at a time unless one
//! is `FF`, the scan built for AVX2 where the CPU has it. "Now" adds, on x86_64 with AVX2, the
//! 8×8 and 4×4 inverse DCTs (`idct/avx2.rs`), the chroma upsampling and colour conversion
//! (`color.rs`) and both resizers' passes (`crate::resize`) in intrinsics, each bit for bit the
//! portable code it replaces (tests compare them on every call shape), each with its
//! instruction counts where it is written; aarch64 keeps the portable code (NEON by LLVM). The
//! 640×480 frame still decodes whole to RGB before the resize, since decoding it to planes at
//! full size (0.45× here) moves the detector's input by rounding enough to change the golden
//! events of the demo clip. The crates, measured before keeping this decoder:
//! - `zune-jpeg` (pure Rust, SIMD IDCT/upsampling/colour on x86_64 and aarch64) allocates about
//!   twenty buffers per image (the hot path allocates nothing: `tests/no_alloc.rs`), outputs
//!   interleaved pixels, not planes, and has no reduced IDCT, so at 1280×720 it decodes four
//!   times the pixels and is the slowest here;
//! - `turbojpeg` (libjpeg-turbo) is faster at 640×480 through the planar path and slower at
//!   1280×720, and builds libjpeg-turbo with cmake and nasm (the aarch64 cross build and the
//!   .deb would take them on), or links the system's `libturbojpeg` (a runtime dependency and
//!   arm64 development packages in the cross stage).
//!
//! The goals (1280×720 ≤ 1.0× OpenCV, 640×480 ≤ 1.3×) are met by this decoder.

pub mod baseline;
pub(crate) mod color;
mod huffman;
pub(crate) mod idct;
pub mod tables;

pub use baseline::{Plane, Planes};

use crate::RgbImage;
use std::borrow::Cow;
use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;

/// Why a JPEG could not be decoded. All variants mean "skip this frame".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JpegError {
    #[error("truncated JPEG: {0}")]
    Truncated(&'static str),
    #[error("corrupt JPEG: {0}")]
    Corrupt(&'static str),
    #[error("unsupported JPEG: {0}")]
    Unsupported(&'static str),
    /// `zune-jpeg`'s message, for frames that went to the general decoder.
    #[error("JPEG: {0}")]
    General(String),
}

/// Decodes JPEG frames into a reused RGB image; see the module doc.
pub struct JpegDecoder {
    baseline: baseline::Baseline,
    general: u64,
}

impl Default for JpegDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl JpegDecoder {
    pub fn new() -> Self {
        Self {
            baseline: baseline::Baseline::new(),
            general: 0,
        }
    }

    /// Decodes `data` into `out`, resizing it to the image.
    pub fn decode(&mut self, data: &[u8], out: &mut RgbImage) -> Result<(), JpegError> {
        match self.baseline.decode(data, out) {
            Err(JpegError::Unsupported(_)) => {
                self.general += 1;
                decode_general(data, out)
            }
            other => other,
        }
    }

    /// Decodes `data` at 1/`scale` of its size into its Y, Cb and Cr planes with the baseline
    /// decoder alone; see [`baseline::Baseline::decode_planes`]. A frame that decoder does not
    /// support is [`JpegError::Unsupported`]: decode it to RGB with [`JpegDecoder::decode`].
    pub fn decode_planes(&mut self, data: &[u8], scale: u32) -> Result<Planes<'_>, JpegError> {
        self.baseline.decode_planes(data, scale)
    }

    /// The planes of the last [`JpegDecoder::decode_planes`], if it succeeded and nothing was
    /// decoded since.
    pub fn last_planes(&self) -> Option<Planes<'_>> {
        self.baseline.last_planes()
    }

    /// Frames that needed the general (allocating) decoder since creation.
    pub fn general_path_frames(&self) -> u64 {
        self.general
    }
}

/// Decodes any JPEG with `zune-jpeg` into `out`, inserting the standard Huffman tables when the
/// data has none. Allocates; for still images and unusual frames.
pub fn decode_general(data: &[u8], out: &mut RgbImage) -> Result<(), JpegError> {
    let data = with_standard_tables(data);
    // `zune-jpeg` asserts on some malformed images instead of returning an error; such a
    // panic is contained to this frame (`crate::contain`).
    crate::contain::contain(|| zune_decode(&data, out)).unwrap_or_else(|| {
        Err(JpegError::General(
            "the decoder failed on malformed data".into(),
        ))
    })
}

fn zune_decode(data: &[u8], out: &mut RgbImage) -> Result<(), JpegError> {
    let options = DecoderOptions::default()
        .jpeg_set_out_colorspace(ColorSpace::RGB)
        .set_max_width(1 << 14)
        .set_max_height(1 << 14);
    let mut d = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(data), options);
    d.decode_headers()
        .map_err(|e| JpegError::General(format!("{e:?}")))?;
    let (w, h) = d
        .dimensions()
        .ok_or(JpegError::Corrupt("no frame header"))?;
    // At least one bit of coded data per luma block, as in the baseline decoder: no allocation
    // out of proportion to the data.
    if w.div_ceil(8) * h.div_ceil(8) / 8 > data.len() {
        return Err(JpegError::Truncated(
            "less data than the frame's size needs",
        ));
    }
    out.set_size(w as u32, h as u32);
    d.decode_into(out.as_bytes_mut())
        .map_err(|e| JpegError::General(format!("{e:?}")))
}

/// Whether `data` defines any Huffman table before its first scan.
pub fn has_huffman_tables(data: &[u8]) -> bool {
    first_scan(data).is_some_and(|(_, dht)| dht)
}

/// `data` with the standard DHT segment inserted before its first scan if it has no table of
/// its own; borrowed unchanged otherwise (or when it is not a JPEG at all).
pub fn with_standard_tables(data: &[u8]) -> Cow<'_, [u8]> {
    match first_scan(data) {
        Some((sos, false)) => {
            let dht = tables::standard_dht_segment();
            let mut v = Vec::with_capacity(data.len() + dht.len());
            v.extend_from_slice(&data[..sos]);
            v.extend_from_slice(&dht);
            v.extend_from_slice(&data[sos..]);
            Cow::Owned(v)
        }
        _ => Cow::Borrowed(data),
    }
}

/// The marker segments of a JPEG's header, up to and including its first SOS: (marker, offset
/// of its `FF`, length in bytes including the marker). Stops early at anything malformed.
struct Segments<'a> {
    data: &'a [u8],
    pos: usize,
}

fn segments(data: &[u8]) -> Segments<'_> {
    let pos = if data.starts_with(&[0xFF, 0xD8]) {
        2
    } else {
        usize::MAX
    };
    Segments { data, pos }
}

impl Iterator for Segments<'_> {
    type Item = (u8, usize, usize);

    fn next(&mut self) -> Option<Self::Item> {
        if *self.data.get(self.pos)? != 0xFF {
            return None;
        }
        let m = *self.data.get(self.pos + 1)?;
        let len = match m {
            0xFF => 1, // a fill byte
            0x01 | 0xD0..=0xD8 => 2,
            _ => {
                let b = self.data.get(self.pos + 2..self.pos + 4)?;
                2 + u16::from_be_bytes([b[0], b[1]]) as usize
            }
        };
        let item = (m, self.pos, len);
        // After the first scan header comes entropy-coded data, not segments.
        self.pos = if m == 0xDA {
            usize::MAX
        } else {
            self.pos + len
        };
        Some(item)
    }
}

/// The offset of the first SOS marker, and whether a DHT came before it.
fn first_scan(data: &[u8]) -> Option<(usize, bool)> {
    let mut dht = false;
    for (m, pos, _) in segments(data) {
        match m {
            0xDA => return Some((pos, dht)),
            0xC4 => dht = true,
            _ => {}
        }
    }
    None
}

/// Removes every DHT segment before the first scan, as a webcam would send the frame.
pub fn strip_huffman_tables(data: &[u8]) -> Vec<u8> {
    if first_scan(data).is_none() {
        return data.to_vec();
    }
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(&data[..2]);
    for (m, pos, len) in segments(data) {
        if m == 0xDA {
            out.extend_from_slice(&data[pos..]);
            break;
        }
        if m != 0xC4 {
            out.extend_from_slice(&data[pos..pos + len]);
        }
    }
    out
}

/// How much of a byte stream the JPEG at its start takes, as [`scan_length`] finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extent {
    /// A whole JPEG, SOI to EOI, of this many bytes.
    Complete(usize),
    /// More bytes are needed.
    Incomplete,
    /// Not a JPEG, or its marker structure is broken.
    Corrupt,
}

/// Finds where the JPEG that starts `data` ends, by walking its marker segments and scanning
/// its entropy-coded data for the EOI marker (so an `FF D9` inside an embedded thumbnail or a
/// segment is not mistaken for the end). Used to split MJPEG streams without copying.
pub fn scan_length(data: &[u8]) -> Extent {
    match data {
        [] | [0xFF] => return Extent::Incomplete,
        [0xFF, 0xD8, ..] => {}
        _ => return Extent::Corrupt,
    }
    let mut pos = 2;
    loop {
        let (Some(&ff), Some(&m)) = (data.get(pos), data.get(pos + 1)) else {
            return Extent::Incomplete;
        };
        if ff != 0xFF {
            return Extent::Corrupt;
        }
        match m {
            0xFF => pos += 1,
            0xD9 => return Extent::Complete(pos + 2),
            0x01 | 0xD0..=0xD7 => pos += 2,
            0xD8 | 0x00 => return Extent::Corrupt,
            _ => {
                let Some(len) = data.get(pos + 2..pos + 4) else {
                    return Extent::Incomplete;
                };
                let len = u16::from_be_bytes([len[0], len[1]]) as usize;
                if len < 2 {
                    return Extent::Corrupt;
                }
                pos += 2 + len;
                if m == 0xDA {
                    // Entropy-coded data: runs to the next marker that is not a stuffed byte,
                    // a restart marker or a fill byte.
                    loop {
                        let Some(off) = data
                            .get(pos..)
                            .and_then(|d| d.iter().position(|&b| b == 0xFF))
                        else {
                            return Extent::Incomplete;
                        };
                        pos += off;
                        match data.get(pos + 1) {
                            None => return Extent::Incomplete,
                            Some(0x00 | 0xD0..=0xD7) => pos += 2,
                            Some(0xFF) => pos += 1,
                            Some(_) => break,
                        }
                    }
                }
            }
        }
    }
}

/// Width and height from the frame header of a JPEG, without decoding it.
pub fn dimensions(data: &[u8]) -> Option<(u32, u32)> {
    let (_, pos, _) = segments(data)
        .find(|&(m, _, _)| matches!(m, 0xC0..=0xCF) && !matches!(m, 0xC4 | 0xC8 | 0xCC))?;
    let b = data.get(pos + 5..pos + 9)?;
    let h = u16::from_be_bytes([b[0], b[1]]);
    let w = u16::from_be_bytes([b[2], b[3]]);
    Some((w as u32, h as u32))
}
