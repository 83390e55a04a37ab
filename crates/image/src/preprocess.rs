//! The preprocess stage: one frame of any [`PixelFormat`] to the detector's RGB input.

use crate::convert::{self, ConvertError};
use crate::jpeg::{JpegDecoder, JpegError};
use crate::resize::{CropBox, ResizeError, Resizer};
use crate::yuyv_resize::YuyvResizer;
use crate::{FrameRef, PixelFormat, Rgb8View, RgbImage, Roi};

/// Why one frame could not be preprocessed. Every variant concerns that frame alone: count it,
/// skip it, and go on with the next.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PreprocessError {
    #[error("frame {sequence}: {cause}")]
    Convert { sequence: u64, cause: ConvertError },
    #[error("frame {sequence}: {cause}")]
    Jpeg { sequence: u64, cause: JpegError },
    #[error("frame {sequence}: {cause}")]
    Resize { sequence: u64, cause: ResizeError },
}

/// What the stage has seen since it was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PreprocessStats {
    /// Frames written to the destination.
    pub frames: u64,
    /// Frames skipped because they were truncated, corrupt or unsupported.
    pub bad_frames: u64,
    /// JPEG frames that needed the general (allocating) decoder.
    pub general_jpeg_frames: u64,
}

/// Turns frames into the detector's `width`×`height` RGB888 input, through an optional region
/// of interest, writing straight into the caller's buffer (the model's input tensor).
///
/// YUYV frames are resized before they are converted ([`crate::yuyv_resize`]); every other
/// format is decoded or converted to full-size RGB first, then resized.
///
/// Owned by the hot thread. The full-size RGB image and the resizer are allocated on the first
/// frame and again only when the frame size changes; every other call allocates nothing (MJPEG
/// frames that need the general decoder excepted; see [`crate::jpeg`]). [`Preprocessor::rgb`]
/// gives a frame at full size for snapshots: kept from preprocessing, or converted when asked.
pub struct Preprocessor {
    width: u32,
    height: u32,
    roi: Option<Roi>,
    rgb: RgbImage,
    jpeg: JpegDecoder,
    resizer: Option<Resizer>,
    yuyv: Option<YuyvResizer>,
    /// The sequence number of the frame `rgb` holds, if it holds one.
    rgb_of: Option<u64>,
    stats: PreprocessStats,
}

impl Preprocessor {
    /// A stage producing `width`×`height` images of `roi` (the whole frame when `None`).
    pub fn new(width: u32, height: u32, roi: Option<Roi>) -> Self {
        Self {
            width,
            height,
            roi,
            rgb: RgbImage::default(),
            jpeg: JpegDecoder::new(),
            resizer: None,
            yuyv: None,
            rgb_of: None,
            stats: PreprocessStats::default(),
        }
    }

    /// The output size.
    pub fn output_size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Decodes or converts `frame`, then crops and resizes it into `dst`, which must hold
    /// `width * height * 3` bytes.
    pub fn run(&mut self, frame: &FrameRef<'_>, dst: &mut [u8]) -> Result<(), PreprocessError> {
        let sequence = frame.sequence;
        let result = self.run_inner(frame, dst).map_err(|e| e.at(sequence));
        match &result {
            Ok(()) => self.stats.frames += 1,
            Err(e) => {
                self.stats.bad_frames += 1;
                log::debug!("skipping {e}");
            }
        }
        self.stats.general_jpeg_frames = self.jpeg.general_path_frames();
        result
    }

    fn run_inner(&mut self, frame: &FrameRef<'_>, dst: &mut [u8]) -> Result<(), Failure> {
        self.rgb_of = None;
        if frame.format == PixelFormat::Yuyv {
            return self.yuyv(frame, dst);
        }
        self.full_size(frame)?;
        let (w, h) = (self.rgb.width(), self.rgb.height());
        if self.resizer.as_ref().map(Resizer::source_size) != Some((w, h)) {
            let crop = self.crop(w, h);
            self.resizer =
                Some(Resizer::new(w, h, crop, self.width, self.height).map_err(Failure::Resize)?);
        }
        match self.resizer.as_mut() {
            Some(r) => r.resize(self.rgb.view(), dst).map_err(Failure::Resize),
            None => Err(Failure::Resize(ResizeError::Empty)),
        }
    }

    /// YUYV is resized before it is converted; the full-size RGB waits until asked for.
    fn yuyv(&mut self, frame: &FrameRef<'_>, dst: &mut [u8]) -> Result<(), Failure> {
        let (w, h) = (frame.width, frame.height);
        let stride = convert::checked_stride(frame).map_err(Failure::Convert)?;
        if self.yuyv.as_ref().map(YuyvResizer::source_size) != Some((w, h)) {
            let crop = self.crop(w, h);
            let r = YuyvResizer::new(w, h, crop, self.width, self.height);
            self.yuyv = Some(r.map_err(Failure::Resize)?);
            // Reserved now, written only when a snapshot wants this size.
            self.rgb = RgbImage::new(w, h);
        }
        match self.yuyv.as_mut() {
            Some(r) => r.resize(frame.data, stride, dst).map_err(Failure::Resize),
            None => Err(Failure::Resize(ResizeError::Empty)),
        }
    }

    fn crop(&self, w: u32, h: u32) -> CropBox {
        match &self.roi {
            Some(roi) => CropBox::from_roi(roi, w, h),
            None => CropBox::full(w, h),
        }
    }

    /// Decodes or converts `frame` into `rgb`, unless it is there already.
    fn full_size(&mut self, frame: &FrameRef<'_>) -> Result<(), Failure> {
        if self.rgb_of == Some(frame.sequence) {
            return Ok(());
        }
        self.rgb_of = None;
        if frame.format == PixelFormat::Mjpeg {
            self.jpeg
                .decode(frame.data, &mut self.rgb)
                .map_err(Failure::Jpeg)?;
        } else {
            convert::to_rgb(frame, &mut self.rgb).map_err(Failure::Convert)?;
        }
        self.rgb_of = Some(frame.sequence);
        Ok(())
    }

    /// `frame` at full size, as RGB: kept from [`Preprocessor::run`] when that decoded or
    /// converted it whole, else converted now. Frames are told apart by their sequence number.
    /// `None` when the frame cannot be read.
    pub fn rgb(&mut self, frame: &FrameRef<'_>) -> Option<Rgb8View<'_>> {
        self.full_size(frame).ok()?;
        Some(self.rgb.view())
    }

    pub fn stats(&self) -> PreprocessStats {
        self.stats
    }
}

/// A failure before it is tagged with the frame's sequence number.
enum Failure {
    Convert(ConvertError),
    Jpeg(JpegError),
    Resize(ResizeError),
}

impl Failure {
    fn at(self, sequence: u64) -> PreprocessError {
        match self {
            Failure::Convert(cause) => PreprocessError::Convert { sequence, cause },
            Failure::Jpeg(cause) => PreprocessError::Jpeg { sequence, cause },
            Failure::Resize(cause) => PreprocessError::Resize { sequence, cause },
        }
    }
}
