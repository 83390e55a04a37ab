//! Reading what was drawn on a snapshot: whether a person's box in the firing colour lies where
//! an event's `bbox` says (on its left edge, halfway down), give or take JPEG's rounding.

#![allow(dead_code)]

use picket_geom::NormRect;
use picket_image::annotate::colour;
use picket_image::RgbImage;
use std::path::Path;

/// An event's `bbox`, as `picket events list --json` gives it; `None` when it has none.
pub fn bbox(event: &serde_json::Value) -> Option<NormRect> {
    let b = |i: usize| event["bbox"][i].as_f64().map(|v| v as f32);
    Some(NormRect::new(b(0)?, b(1)?, b(2)?, b(3)?))
}

/// The pixel of `img` nearest the firing colour within 2 px of the left edge of `b`, halfway
/// down: the pen is 2 px wide, its placement rounds, and JPEG spreads colour across pixels.
pub fn left_edge(img: &RgbImage, b: NormRect) -> [u8; 3] {
    let p = b.to_pixels(img.width(), img.height());
    let y = (p.y0 + p.y1) / 2;
    let x0 = p.x0.saturating_sub(2);
    let x1 = (p.x0 + 2).min(img.width() - 1);
    let at = |x: u32| -> [u8; 3] {
        let i = ((y * img.width() + x) * 3) as usize;
        img.as_bytes()[i..i + 3].try_into().unwrap()
    };
    let off = |px: &[u8; 3]| -> u32 {
        px.iter()
            .zip(colour::FIRING)
            .map(|(&a, b)| u32::from(a.abs_diff(b)))
            .max()
            .unwrap_or(0)
    };
    (x0..=x1).map(at).min_by_key(off).unwrap()
}

/// Whether `px` is the firing colour, as far as a JPEG keeps it.
pub fn is_firing(px: [u8; 3]) -> bool {
    px.iter()
        .zip(colour::FIRING)
        .all(|(&x, y)| x.abs_diff(y) < 60)
}

/// The pixel of the JPEG `jpeg` on the left edge of `b`, halfway down.
pub fn left_edge_of(jpeg: &[u8], b: NormRect) -> [u8; 3] {
    let img = picket_image::still::decode(jpeg, Path::new("snapshot.jpg"))
        .unwrap_or_else(|e| panic!("{e}"));
    left_edge(&img, b)
}
