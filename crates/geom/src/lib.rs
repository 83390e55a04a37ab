//! Picket's shared geometry: points and boxes in normalised frame coordinates.
//!
//! The image, detection, tracking, rules and event code all speak these types, so they live in
//! a crate of their own that depends on nothing of picket's.
//!
//! Inside the pipeline every position is a fraction of the frame, `0.0..=1.0` on both axes with
//! the origin at the top left, so zones and lines in the config do not depend on the camera's
//! resolution. Pixels appear only at the edges (decode, drawing snapshots), as [`PixelRect`].

use serde::{Deserialize, Serialize};

/// A point in normalised frame coordinates (`0..=1`, origin top left, y down).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct NormPoint {
    pub x: f32,
    pub y: f32,
}

impl NormPoint {
    pub const fn new(x: f32, y: f32) -> Self {
        Self { x, y }
    }
}

/// An axis-aligned box in normalised frame coordinates, as its two corners.
///
/// A valid rect has `x0 <= x1` and `y0 <= y1`; the constructors do not clamp, so a box from a
/// detector may reach slightly outside the frame.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct NormRect {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
}

impl NormRect {
    pub const fn new(x0: f32, y0: f32, x1: f32, y1: f32) -> Self {
        Self { x0, y0, x1, y1 }
    }

    /// From centre, width and height.
    pub fn from_center(cx: f32, cy: f32, w: f32, h: f32) -> Self {
        Self::new(cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0)
    }

    pub fn width(&self) -> f32 {
        self.x1 - self.x0
    }

    pub fn height(&self) -> f32 {
        self.y1 - self.y0
    }

    pub fn area(&self) -> f32 {
        self.width().max(0.0) * self.height().max(0.0)
    }

    pub fn center(&self) -> NormPoint {
        NormPoint::new((self.x0 + self.x1) / 2.0, (self.y0 + self.y1) / 2.0)
    }

    /// The bottom-centre: where a standing person touches the ground. Rules judge this point.
    pub fn foot(&self) -> NormPoint {
        NormPoint::new((self.x0 + self.x1) / 2.0, self.y1)
    }

    /// Intersection over union; 0 when either box is empty.
    pub fn iou(&self, other: &NormRect) -> f32 {
        let iw = (self.x1.min(other.x1) - self.x0.max(other.x0)).max(0.0);
        let ih = (self.y1.min(other.y1) - self.y0.max(other.y0)).max(0.0);
        let inter = iw * ih;
        let union = self.area() + other.area() - inter;
        if union <= 0.0 {
            0.0
        } else {
            inter / union
        }
    }

    /// Clamped to the frame.
    pub fn clamped(&self) -> Self {
        Self::new(
            self.x0.clamp(0.0, 1.0),
            self.y0.clamp(0.0, 1.0),
            self.x1.clamp(0.0, 1.0),
            self.y1.clamp(0.0, 1.0),
        )
    }

    /// In pixels of a `width`×`height` image, clamped to it.
    pub fn to_pixels(&self, width: u32, height: u32) -> PixelRect {
        let c = self.clamped();
        let (w, h) = (width as f32, height as f32);
        PixelRect {
            x0: (c.x0 * w).round() as u32,
            y0: (c.y0 * h).round() as u32,
            x1: (c.x1 * w).round() as u32,
            y1: (c.y1 * h).round() as u32,
        }
    }
}

/// A box in pixels of one particular image. Only decode and drawing use these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PixelRect {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_of_identical_disjoint_and_half_overlapping_boxes() {
        let a = NormRect::new(0.0, 0.0, 0.2, 0.2);
        assert_eq!(a.iou(&a), 1.0);
        assert_eq!(a.iou(&NormRect::new(0.5, 0.5, 0.6, 0.6)), 0.0);
        let b = NormRect::new(0.1, 0.0, 0.3, 0.2);
        assert!((a.iou(&b) - 1.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn foot_is_bottom_centre_and_pixels_are_clamped() {
        let r = NormRect::new(0.2, 0.1, 0.4, 0.9);
        assert_eq!(r.foot(), NormPoint::new(0.3, 0.9));
        let p = NormRect::new(-0.1, 0.5, 1.2, 1.0).to_pixels(640, 480);
        assert_eq!(
            p,
            PixelRect {
                x0: 0,
                y0: 240,
                x1: 640,
                y1: 480
            }
        );
    }
}
