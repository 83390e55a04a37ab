//! Small conversions between the stages of one frame's path: the luma plane the motion gate
//! reads, and boxes found in the region of interest mapped back to the whole frame.

use crate::motion::LumaInput;
use picket_geom::NormRect;
use picket_image::{FrameRef, PixelFormat};

/// What the preprocess stage decoded a compressed frame to.
pub(super) enum Decoded<'a> {
    /// Its luma plane, at the reduced size it was decoded at.
    Luma(picket_image::jpeg::Plane<'a>),
    /// The whole frame as RGB.
    Rgb(picket_image::Rgb8View<'a>),
}

/// The luma the gate reads: the raw frame's, or what a compressed one was decoded to. The gate
/// samples a fixed lattice in proportion to the frame, so a reduced plane serves as well.
pub(super) fn luma<'a>(
    frame: &FrameRef<'a>,
    decoded: Option<Decoded<'a>>,
) -> Option<LumaInput<'a>> {
    let (w, h) = (frame.width, frame.height);
    let stride = frame.stride.max(frame.format.min_stride(w));
    Some(match frame.format {
        PixelFormat::Mjpeg => match decoded? {
            Decoded::Luma(y) => LumaInput::luma(y.data, y.width, y.height, y.stride),
            Decoded::Rgb(v) => LumaInput::rgb(v.data, v.width, v.height, v.width as usize * 3),
        },
        PixelFormat::Rgb24 => LumaInput::rgb(frame.data, w, h, stride),
        PixelFormat::Yuyv => LumaInput::yuyv(frame.data, w, h, stride),
        PixelFormat::Nv12 | PixelFormat::I420 | PixelFormat::I422 => {
            LumaInput::luma(frame.data, w, h, stride)
        }
    })
}

/// `r`, normalised to the region `roi` of the frame, normalised to the whole frame.
pub fn from_roi(roi: &NormRect, r: &NormRect) -> NormRect {
    let (w, h) = (roi.x1 - roi.x0, roi.y1 - roi.y0);
    NormRect::new(
        roi.x0 + r.x0 * w,
        roi.y0 + r.y0 * h,
        roi.x0 + r.x1 * w,
        roi.y0 + r.y1 * h,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_in_the_roi_map_back_to_the_frame() {
        let roi = NormRect::new(0.5, 0.0, 1.0, 0.5);
        let r = from_roi(&roi, &NormRect::new(0.0, 0.5, 1.0, 1.0));
        assert_eq!(r, NormRect::new(0.5, 0.25, 1.0, 0.5));
    }
}
