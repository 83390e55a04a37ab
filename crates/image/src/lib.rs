//! Picket's pixels: the frame a source hands out, conversion of camera formats to RGB, JPEG
//! decode and the resize to the detector's input.
//!
//! A leaf of the workspace: it depends on `picket-geom` and on crates from crates.io, never on
//! the appliance. Its tests check the decoder, conversions and resizers against references
//! (`zune-jpeg`, the BT.601 formula, `fast_image_resize`'s scalar path); its benchmark is
//! `cargo bench -p picket-image --bench preprocess` (and `--bench mjpeg`, run by
//! `scripts/bench-mjpeg.sh`; `--bench snapshot` for drawing a stored snapshot).
//!
//! Everything on the per-frame path writes into buffers its owner allocated once, so the hot
//! thread does not touch the heap in steady state:
//! - [`convert`]: YUYV, NV12, I420 and I422 to RGB888 (BT.601, limited range, as webcams send);
//! - [`jpeg`]: baseline JPEG and USB-webcam MJPEG (tables optional) into a reused RGB buffer,
//!   with `zune-jpeg` for anything else and for still images;
//! - [`resize`]: a separable convolution with the coefficients computed once per geometry;
//! - [`yuyv_resize`]: the same filter run on YUYV, converting only the small result;
//! - [`planar_resize`]: the same filter run on Y, Cb, Cr planes (MJPEG decoded at reduced
//!   size, I420, NV12), converting only the small result;
//! - [`Preprocessor`]: one frame of any format, through an optional region of interest, into the
//!   caller's buffer (the detector's input tensor).
//!
//! [`contain`] keeps a panic inside a library call on hostile input (`zune-jpeg`'s assertions)
//! to that call, as its error.
//!
//! [`still`] loads a whole JPEG or PNG file into an owned [`RgbImage`] for one-off use;
//! [`annotate`] draws what picket sees (boxes, zones, lines, motion, status) on one;
//! [`snapshot`] is an event snapshot as journalled (raw pixels, the overlay in a [`comment`])
//! and drawing it, for everyone who shows one.

pub mod annotate;
pub mod comment;
pub mod contain;
pub mod convert;
pub mod draw;
pub mod jpeg;
pub mod planar_resize;
mod preprocess;
pub mod resize;
pub mod snapshot;
pub mod still;
pub mod yuyv_resize;

pub use preprocess::{PreprocessStats, Preprocessor};

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// How the bytes of a frame are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PixelFormat {
    /// Packed R, G, B bytes.
    Rgb24,
    /// Packed 4:2:2, `Y0 U Y1 V` (V4L2 `YUYV`).
    Yuyv,
    /// Planar 4:2:0: a Y plane, then an interleaved `U V` plane at half size (V4L2 `NV12`).
    Nv12,
    /// Planar 4:2:0: Y, U, V planes, the chroma planes at half width and height (V4L2 `YU12`).
    I420,
    /// Planar 4:2:2: Y, U, V planes, the chroma planes at half width (Y4M `C422`).
    I422,
    /// One JPEG image per frame (V4L2 `MJPG`); may omit its Huffman tables.
    Mjpeg,
}

impl PixelFormat {
    /// Every format, in the order errors list them.
    pub const ALL: [PixelFormat; 6] = [
        PixelFormat::Rgb24,
        PixelFormat::Yuyv,
        PixelFormat::Nv12,
        PixelFormat::I420,
        PixelFormat::I422,
        PixelFormat::Mjpeg,
    ];

    /// The name used in configs and on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            PixelFormat::Rgb24 => "rgb24",
            PixelFormat::Yuyv => "yuyv",
            PixelFormat::Nv12 => "nv12",
            PixelFormat::I420 => "i420",
            PixelFormat::I422 => "i422",
            PixelFormat::Mjpeg => "mjpeg",
        }
    }

    /// Bytes of one uncompressed `width`×`height` frame with tightly packed rows; `None` for
    /// MJPEG, whose frames vary in size.
    pub fn frame_len(self, width: u32, height: u32) -> Option<usize> {
        let (w, h) = (width as usize, height as usize);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        match self {
            PixelFormat::Rgb24 => Some(w * h * 3),
            PixelFormat::Yuyv => Some(w.div_ceil(2) * 4 * h),
            PixelFormat::Nv12 => Some(w * h + cw * 2 * ch),
            PixelFormat::I420 => Some(w * h + 2 * cw * ch),
            PixelFormat::I422 => Some(w * h + 2 * cw * h),
            PixelFormat::Mjpeg => None,
        }
    }

    /// Bytes in one row of the first plane, tightly packed.
    pub fn min_stride(self, width: u32) -> usize {
        match self {
            PixelFormat::Rgb24 => width as usize * 3,
            PixelFormat::Yuyv => (width as usize).div_ceil(2) * 4,
            _ => width as usize,
        }
    }
}

impl fmt::Display for PixelFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not one of [`PixelFormat::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown pixel format `{0}` (supported: rgb24, yuyv, nv12, i420, i422, mjpeg)")]
pub struct UnknownFormat(pub String);

impl FromStr for PixelFormat {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        let alias = match lower.as_str() {
            "rgb" | "rgb3" => "rgb24",
            "yuv420" | "yuv420p" | "yu12" => "i420",
            "yuv422p" => "i422",
            "mjpg" | "jpeg" => "mjpeg",
            other => other,
        };
        PixelFormat::ALL
            .into_iter()
            .find(|f| f.name() == alias)
            .ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

/// One frame as a source hands it out: borrowed bytes valid until the next call to the source.
///
/// `stride` is the bytes per row of the first plane (V4L2's `bytesperline`; at least
/// [`PixelFormat::min_stride`]). Planar chroma rows are `stride / 2` bytes (`stride` for NV12's
/// interleaved plane), as in V4L2's single-planar formats. For MJPEG, `data` is one JPEG and
/// `stride` is 0.
#[derive(Debug, Clone, Copy)]
pub struct FrameRef<'a> {
    pub format: PixelFormat,
    pub width: u32,
    pub height: u32,
    pub stride: usize,
    pub data: &'a [u8],
    /// When the frame was captured: the driver's timestamp for V4L2 (CLOCK_MONOTONIC on
    /// current kernels), the position in the file for replays, time since opening for pipes.
    pub timestamp: Duration,
    /// Counts frames handed out by this source from 0, across reconnects, without gaps.
    pub sequence: u64,
}

impl<'a> FrameRef<'a> {
    /// A tightly packed frame stamped zero, sequence 0: for still images and tests.
    pub fn new(format: PixelFormat, width: u32, height: u32, data: &'a [u8]) -> Self {
        Self {
            format,
            width,
            height,
            stride: 0,
            data,
            timestamp: Duration::ZERO,
            sequence: 0,
        }
    }
}

/// A tightly packed RGB888 image that owns its pixels; the reusable buffer of the pipeline and
/// the result of loading a still image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RgbImage {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

impl RgbImage {
    /// A black `width`×`height` image.
    pub fn new(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            data: vec![0; width as usize * height as usize * 3],
        }
    }

    /// Wraps `data`, which must hold exactly `width * height * 3` bytes.
    pub fn from_vec(width: u32, height: u32, data: Vec<u8>) -> Option<Self> {
        (data.len() == width as usize * height as usize * 3).then_some(Self {
            width,
            height,
            data,
        })
    }

    /// Makes this a `width`×`height` image, reusing the allocation when it is big enough.
    /// The pixels are left as they were (garbage after a size change).
    pub fn set_size(&mut self, width: u32, height: u32) {
        self.width = width;
        self.height = height;
        self.data.resize(width as usize * height as usize * 3, 0);
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }

    pub fn as_bytes_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }

    pub fn into_vec(self) -> Vec<u8> {
        self.data
    }

    /// A borrowed view of the pixels.
    pub fn view(&self) -> Rgb8View<'_> {
        Rgb8View {
            width: self.width,
            height: self.height,
            data: &self.data,
        }
    }
}

/// A borrowed, tightly packed RGB888 image.
#[derive(Debug, Clone, Copy)]
pub struct Rgb8View<'a> {
    pub width: u32,
    pub height: u32,
    pub data: &'a [u8],
}

/// A region of interest in normalised frame coordinates, applied before resizing.
pub type Roi = picket_geom::NormRect;
