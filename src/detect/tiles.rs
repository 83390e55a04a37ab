//! Tiles at near-native scale: how `[detector] tiles` cuts a frame into overlapping crops, and
//! how the detections of those crops are merged into one list.
//!
//! The shipped model sees 300×300 pixels. Squeezing a 768×576 frame into it shrinks a person
//! 60 px tall to 31 px, below what the model finds reliably; a crop of a third of the frame keeps
//! them near their own size. [`TileGrid`] lays out the crops; [`merge`] joins what they found.
//!
//! - **The grid.** `cols`×`rows` tiles of equal size that overlap their neighbours by a
//!   fraction of a tile and together cover the region exactly: every pixel lies in at least one
//!   tile, the outer tiles touch the region's edges. A grid whose tiles would be smaller than
//!   the model's input (the model would see them enlarged, gaining nothing) is refused.
//! - **`auto`** tiles only when the region's short side is at least 1.5× the model's input
//!   (768×576 is tiled for a 300×300 model, 640×360 is not), and then in two along the long side:
//!   two inferences a frame (three with `tile_whole_frame`).
//! - **Cut boxes.** A box that ends within [`EDGE`] of a tile's inner edge (one that is not the
//!   region's edge) is *cut*: it may be part of a person who goes on in the next tile.
//! - **Merging** ([`merge`]), best score first: two boxes of one class are the same object when
//!   their IoU passes `nms_iou` (as plain NMS), or when either is cut and the smaller lies mostly
//!   ([`CONTAINED`]) inside the larger. A plain duplicate is suppressed; a duplicate involving a cut
//!   box is *joined*: the kept box becomes the union of both, at the better score. So a person
//!   cut by a tile edge comes out as one box: the half in one tile joins the whole person seen by
//!   the neighbour (thanks to the overlap) or by the whole-frame pass, or the two halves join
//!   each other.

use super::Detection;
use picket_geom::NormRect;
use picket_image::resize::CropBox;
use std::fmt;
use std::str::FromStr;

/// How close (in fractions of the tile) to an inner tile edge a box must end to count as cut.
pub const EDGE: f32 = 0.02;
/// A cut box whose intersection with another covers this share of the smaller is the same object.
pub const CONTAINED: f32 = 0.6;
/// The most tiles along one axis.
pub const MAX_SPLIT: u8 = 4;
/// The largest overlap between neighbouring tiles, as a fraction of a tile.
pub const MAX_OVERLAP: f32 = 0.5;

/// `[detector] tiles`: `"auto"`, or a grid `"COLSxROWS"` (`"1x1"` is the whole frame alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(try_from = "String")]
pub enum TileSpec {
    #[default]
    Auto,
    Grid {
        cols: u8,
        rows: u8,
    },
}

impl TileSpec {
    /// The whole frame, as before tiles existed.
    pub const WHOLE: TileSpec = TileSpec::Grid { cols: 1, rows: 1 };

    /// The grid this spec means for a `w`×`h` region and a model input of `input`.
    pub fn resolve(self, w: f64, h: f64, input: (u32, u32)) -> (u8, u8) {
        match self {
            TileSpec::Grid { cols, rows } => (cols, rows),
            TileSpec::Auto => {
                let model_short = f64::from(input.0.min(input.1));
                if w.min(h) < 1.5 * model_short {
                    (1, 1)
                } else if w >= h {
                    (2, 1)
                } else {
                    (1, 2)
                }
            }
        }
    }
}

impl fmt::Display for TileSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TileSpec::Auto => f.write_str("auto"),
            TileSpec::Grid { cols, rows } => write!(f, "{cols}x{rows}"),
        }
    }
}

impl FromStr for TileSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "`{s}` is not a tiling: use \"auto\" or COLSxROWS with 1 to {MAX_SPLIT} each \
                 (\"1x1\", \"2x1\", \"2x2\")"
            )
        };
        if s.eq_ignore_ascii_case("auto") {
            return Ok(TileSpec::Auto);
        }
        let (c, r) = s.split_once(['x', 'X', '×']).ok_or_else(bad)?;
        let parse = |v: &str| {
            v.trim()
                .parse::<u8>()
                .ok()
                .filter(|n| (1..=MAX_SPLIT).contains(n))
        };
        match (parse(c), parse(r)) {
            (Some(cols), Some(rows)) => Ok(TileSpec::Grid { cols, rows }),
            _ => Err(bad()),
        }
    }
}

impl TryFrom<String> for TileSpec {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// Why a grid cannot be laid out on a frame.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TileError {
    #[error(
        "detector.tiles: {spec} on a {region_w}×{region_h} region gives {tile_w}×{tile_h} \
         tiles, smaller than the model's {input_w}×{input_h} input; use fewer tiles (\"1x1\" \
         for the whole frame) or a larger frame"
    )]
    TooFine {
        spec: TileSpec,
        region_w: u32,
        region_h: u32,
        tile_w: u32,
        tile_h: u32,
        input_w: u32,
        input_h: u32,
    },
}

/// One tile: the pixels it crops, where it lies in the frame, and which of its edges are inner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tile {
    pub crop: CropBox,
    /// The tile in normalised frame coordinates.
    pub rect: NormRect,
    /// Inner edges (left, top, right, bottom): a box ending there may go on in a neighbour.
    pub inner: [bool; 4],
}

impl Tile {
    /// `b`, found in this tile (normalised to it), in frame coordinates, and whether it is cut.
    pub fn to_frame(&self, b: &NormRect) -> (NormRect, bool) {
        let frame = from_region(&self.rect, b);
        let [left, top, right, bottom] = self.inner;
        let cut = (left && b.x0 < EDGE)
            || (top && b.y0 < EDGE)
            || (right && b.x1 > 1.0 - EDGE)
            || (bottom && b.y1 > 1.0 - EDGE);
        (frame, cut)
    }
}

/// `b`, normalised to `region` (itself normalised to the frame), in frame coordinates.
pub fn from_region(region: &NormRect, b: &NormRect) -> NormRect {
    let (w, h) = (region.width(), region.height());
    NormRect::new(
        region.x0 + b.x0 * w,
        region.y0 + b.y0 * h,
        region.x0 + b.x1 * w,
        region.y0 + b.y1 * h,
    )
}

/// The tiles of one grid over one region of a frame of one size.
#[derive(Debug, Clone, PartialEq)]
pub struct TileGrid {
    pub tiles: Vec<Tile>,
}

/// Starts and length of `n` equal spans overlapping by `overlap` of a span, covering `0..len`.
fn spans(n: u8, len: f64, overlap: f64) -> (f64, f64) {
    let n = f64::from(n);
    let span = len / (n - (n - 1.0) * overlap);
    (span, span * (1.0 - overlap))
}

impl TileGrid {
    /// Lays out `spec` over `region` (pixels of a `frame_w`×`frame_h` frame) for a model input
    /// of `input`. A 1×1 grid is one tile, the region itself.
    pub fn new(
        spec: TileSpec,
        region: CropBox,
        frame: (u32, u32),
        input: (u32, u32),
        overlap: f32,
    ) -> Result<Self, TileError> {
        let (cols, rows) = spec.resolve(region.width, region.height, input);
        let ov = f64::from(overlap.clamp(0.0, MAX_OVERLAP));
        let (tw, sx) = spans(cols, region.width, ov);
        let (th, sy) = spans(rows, region.height, ov);
        if cols * rows > 1 && (tw < f64::from(input.0) || th < f64::from(input.1)) {
            return Err(TileError::TooFine {
                spec: TileSpec::Grid { cols, rows },
                region_w: region.width.round() as u32,
                region_h: region.height.round() as u32,
                tile_w: tw.round() as u32,
                tile_h: th.round() as u32,
                input_w: input.0,
                input_h: input.1,
            });
        }
        let (fw, fh) = (f64::from(frame.0), f64::from(frame.1));
        let mut tiles = Vec::with_capacity(usize::from(cols * rows));
        for r in 0..rows {
            for c in 0..cols {
                let left = region.left + f64::from(c) * sx;
                let top = region.top + f64::from(r) * sy;
                // The last tile ends exactly on the region's edge, whatever the rounding.
                let right = if c + 1 == cols {
                    region.left + region.width
                } else {
                    left + tw
                };
                let bottom = if r + 1 == rows {
                    region.top + region.height
                } else {
                    top + th
                };
                tiles.push(Tile {
                    crop: CropBox {
                        left,
                        top,
                        width: right - left,
                        height: bottom - top,
                    },
                    rect: NormRect::new(
                        (left / fw) as f32,
                        (top / fh) as f32,
                        (right / fw) as f32,
                        (bottom / fh) as f32,
                    ),
                    inner: [c > 0, r > 0, c + 1 < cols, r + 1 < rows],
                });
            }
        }
        Ok(Self { tiles })
    }

    /// Whether this grid is more than the region itself.
    pub fn is_tiled(&self) -> bool {
        self.tiles.len() > 1
    }
}

/// A detection on its way to the merge, in frame coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Piece {
    pub det: Detection,
    /// It ends at an inner tile edge (see [`Tile::to_frame`]).
    pub cut: bool,
}

/// How much of the smaller box's area the intersection of `a` and `b` covers.
fn contained(a: &NormRect, b: &NormRect) -> f32 {
    let iw = (a.x1.min(b.x1) - a.x0.max(b.x0)).max(0.0);
    let ih = (a.y1.min(b.y1) - a.y0.max(b.y0)).max(0.0);
    let smaller = a.area().min(b.area());
    if smaller <= 0.0 {
        0.0
    } else {
        iw * ih / smaller
    }
}

fn union(a: &NormRect, b: &NormRect) -> NormRect {
    NormRect::new(
        a.x0.min(b.x0),
        a.y0.min(b.y0),
        a.x1.max(b.x1),
        a.y1.max(b.y1),
    )
}

/// Merges the pieces of all tiles (and the whole frame) in place: sorts them best first, then
/// keeps each piece that is not the same object as one kept before it; a duplicate involving a
/// cut piece is joined into the kept one (the union of the boxes), any other is suppressed (see
/// the module's doc). Kept pieces move to the front; returns how many. Allocates nothing.
pub fn merge(pieces: &mut [Piece], nms_iou: f32) -> usize {
    pieces.sort_unstable_by(|a, b| b.det.score.total_cmp(&a.det.score));
    let mut kept = 0;
    for i in 0..pieces.len() {
        let p = pieces[i];
        let same = pieces[..kept].iter().position(|k| {
            k.det.class == p.det.class
                && (k.det.bbox.iou(&p.det.bbox) > nms_iou
                    || ((k.cut || p.cut) && contained(&k.det.bbox, &p.det.bbox) > CONTAINED))
        });
        match same {
            Some(j) => {
                let k = &mut pieces[j];
                if k.cut || p.cut {
                    k.det.bbox = union(&k.det.bbox, &p.det.bbox);
                    k.cut = k.cut && p.cut;
                }
            }
            None => {
                pieces[kept] = p;
                kept += 1;
            }
        }
    }
    kept
}

#[cfg(test)]
#[path = "tiles_tests.rs"]
mod tests;
