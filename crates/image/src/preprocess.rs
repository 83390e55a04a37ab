//! The preprocess stage: one frame of any [`PixelFormat`] to the detector's RGB input.

use crate::convert::{self, ConvertError};
use crate::jpeg::{JpegDecoder, JpegError, Plane, Planes};
use crate::planar_resize::{jpeg_scale, PlanarResizer, YuvRange};
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
/// YUYV frames are resized before they are converted ([`crate::yuyv_resize`]). MJPEG frames
/// big enough to be decoded at 1/2, 1/4 or 1/8 of their size and still cover the output
/// ([`jpeg_scale`]; 1280×720 and up for 300×300) are decoded so, to Y, Cb, Cr planes, and
/// those planes are resized before they are converted ([`crate::planar_resize`]); smaller
/// frames, and JPEGs the baseline decoder does not support, are decoded whole to RGB. NV12, I420 and I422 take the same planar way from their own
/// planes. RGB frames are resized as they are.
///
/// Owned by the hot thread. The full-size RGB image and the resizer are allocated on the first
/// frame and again only when the frame size changes; every other call allocates nothing (MJPEG
/// frames that need the general decoder excepted; see [`crate::jpeg`]). [`Preprocessor::rgb`]
/// gives a frame at full size for snapshots: kept from preprocessing, or decoded or converted
/// when asked. [`Preprocessor::luma`] gives the reduced luma plane an MJPEG frame was decoded
/// to, for the motion gate, so that no full-size decode happens unless a snapshot asks.
pub struct Preprocessor {
    width: u32,
    height: u32,
    roi: Option<Roi>,
    rgb: RgbImage,
    jpeg: JpegDecoder,
    resizer: Option<Resizer>,
    yuyv: Option<YuyvResizer>,
    /// The planar resizer, and the format and luma and chroma sizes it was built for.
    planar: Option<(PixelFormat, [u32; 4], PlanarResizer)>,
    /// The sequence number of the frame whose reduced planes the JPEG decoder holds.
    planes_of: Option<u64>,
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
            planar: None,
            planes_of: None,
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
        self.planes_of = None;
        if frame.format == PixelFormat::Yuyv {
            return self.yuyv(frame, dst);
        }
        match frame.format {
            PixelFormat::Mjpeg => match self.mjpeg(frame, dst) {
                Ok(true) => return Ok(()),
                // Decoded whole, below: full size, or a JPEG only the general decoder reads.
                Ok(false) | Err(Failure::Jpeg(JpegError::Unsupported(_))) => {}
                Err(e) => return Err(e),
            },
            PixelFormat::Nv12 | PixelFormat::I420 | PixelFormat::I422 => {
                return self.raw_planes(frame, dst)
            }
            PixelFormat::Rgb24 | PixelFormat::Yuyv => {}
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

    /// MJPEG decoded at reduced size to planes, resized, converted last. `false` when no
    /// reduced size applies, and the frame is to be decoded whole.
    fn mjpeg(&mut self, frame: &FrameRef<'_>, dst: &mut [u8]) -> Result<bool, Failure> {
        // The frame's own header says its size; the source's may be unset (0×0).
        let (fw, fh) = crate::jpeg::dimensions(frame.data).unwrap_or((frame.width, frame.height));
        let want = crop_of(self.roi.as_ref(), fw, fh);
        let scale = jpeg_scale(want.width, want.height, self.width, self.height);
        if scale == 1 {
            // No reduced transform applies: decode whole as before, which also gives the gate
            // and a snapshot their frame without a second decode. (Planes at full size would
            // save about a third of the time, but move the detector's input by rounding
            // enough to change the golden events of the 384×288 demo clip.)
            return Ok(false);
        }
        let p = self
            .jpeg
            .decode_planes(frame.data, scale)
            .map_err(Failure::Jpeg)?;
        let key = (
            PixelFormat::Mjpeg,
            [p.y.width, p.y.height, p.cb.width, p.cb.height],
        );
        if self.planar.as_ref().map(|r| (r.0, r.1)) != Some(key) {
            let crop = crop_of(self.roi.as_ref(), p.y.width, p.y.height);
            let r = PlanarResizer::new(
                (p.y.width, p.y.height),
                (p.cb.width, p.cb.height),
                (p.h_sub, p.v_sub),
                crop,
                (self.width, self.height),
                YuvRange::Full,
            );
            self.planar = Some((key.0, key.1, r.map_err(Failure::Resize)?));
            // Reserved now, written only when a snapshot wants the whole frame.
            self.rgb = RgbImage::new(fw, fh);
        }
        let r = match self.planar.as_mut() {
            Some((_, _, r)) => r,
            None => return Err(Failure::Resize(ResizeError::Empty)),
        };
        let Planes { y, cb, cr, .. } = p;
        r.resize(y.into(), cb.into(), cr.into(), dst)
            .map_err(Failure::Resize)?;
        self.planes_of = Some(frame.sequence);
        Ok(true)
    }

    /// NV12, I420 and I422 are resized plane by plane and converted last, like MJPEG.
    fn raw_planes(&mut self, frame: &FrameRef<'_>, dst: &mut [u8]) -> Result<(), Failure> {
        let ([y, u, v], sub) = convert::yuv_planes(frame).map_err(Failure::Convert)?;
        let key = (frame.format, [y.width, y.height, u.width, u.height]);
        if self.planar.as_ref().map(|r| (r.0, r.1)) != Some(key) {
            let crop = self.crop(frame.width, frame.height);
            let luma = (y.width, y.height);
            let r = PlanarResizer::new(
                luma,
                (u.width, u.height),
                sub,
                crop,
                (self.width, self.height),
                YuvRange::Limited,
            );
            self.planar = Some((key.0, key.1, r.map_err(Failure::Resize)?));
            self.rgb = RgbImage::new(frame.width, frame.height);
        }
        match self.planar.as_mut() {
            Some((_, _, r)) => r.resize(y, u, v, dst).map_err(Failure::Resize),
            None => Err(Failure::Resize(ResizeError::Empty)),
        }
    }

    fn crop(&self, w: u32, h: u32) -> CropBox {
        crop_of(self.roi.as_ref(), w, h)
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

    /// The luma plane `frame` was decoded to by [`Preprocessor::run`] if it was an MJPEG frame
    /// decoded to planes (at reduced size, so smaller than the frame); `None` otherwise.
    pub fn luma(&self, frame: &FrameRef<'_>) -> Option<Plane<'_>> {
        if self.planes_of != Some(frame.sequence) {
            return None;
        }
        self.jpeg.last_planes().map(|p| p.y)
    }

    pub fn stats(&self) -> PreprocessStats {
        self.stats
    }
}

/// The pixels of a `w`×`h` image that `roi` covers (all of them without one).
fn crop_of(roi: Option<&Roi>, w: u32, h: u32) -> CropBox {
    match roi {
        Some(roi) => CropBox::from_roi(roi, w, h),
        None => CropBox::full(w, h),
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
