//! [`Tiler`]: runs a [`Detector`] over the tiles of a frame and merges what it finds with the
//! whole-frame pass (see [`super::tiles`] for the grid and the merge).
//!
//! The caller keeps today's whole-frame path: it fills the detector's input with the whole frame
//! (or the `[source] roi`), runs it, and hands the result to [`Tiler::run`] together with the
//! frame at full size. With a grid of one tile, [`Tiler::plan`] says so and nothing else runs,
//! so `tiles = "1x1"` is exactly the whole-frame path.
//!
//! Owned by the hot thread. The grid, one [`Resizer`] per tile and the merge buffers are made
//! in [`Tiler::plan`] when the frame size changes; [`Tiler::run`] allocates nothing.

use super::config::DetectorConfig;
use super::tiles::{merge, Piece, TileGrid, TileSpec};
use super::{DetectError, Detections, Detector};
use picket_geom::NormRect;
use picket_image::resize::{CropBox, Resizer};
use picket_image::Rgb8View;

/// Detects in tiles of the frame; see the module's doc.
#[derive(Debug)]
pub struct Tiler {
    spec: TileSpec,
    overlap: f32,
    whole: bool,
    nms_iou: f32,
    max: usize,
    region: Option<NormRect>,
    /// The frame and input size the grid was laid out for.
    planned: Option<((u32, u32), (u32, u32))>,
    grid: TileGrid,
    resizers: Vec<Resizer>,
    scratch: Detections,
    pieces: Vec<Piece>,
}

impl Tiler {
    /// A tiler for `cfg`'s tiling over `region` of each frame (the whole frame when `None`).
    pub fn new(cfg: &DetectorConfig, region: Option<NormRect>) -> Self {
        Self {
            spec: cfg.tiles,
            overlap: cfg.tile_overlap,
            whole: cfg.tile_whole_frame,
            nms_iou: cfg.nms_iou,
            max: cfg.max_detections,
            region,
            planned: None,
            grid: TileGrid { tiles: Vec::new() },
            resizers: Vec::new(),
            scratch: Detections::with_capacity(cfg.max_detections),
            pieces: Vec::new(),
        }
    }

    /// Lays out the grid for `frame` (width, height) and a model `input`, unless done already;
    /// returns whether this frame is tiled. Errors when the grid is finer than the input allows.
    pub fn plan(&mut self, frame: (u32, u32), input: (u32, u32)) -> Result<bool, DetectError> {
        if self.planned == Some((frame, input)) {
            return Ok(self.grid.is_tiled());
        }
        let region = match &self.region {
            Some(r) => CropBox::from_roi(r, frame.0, frame.1),
            None => CropBox::full(frame.0, frame.1),
        };
        self.grid = TileGrid::new(self.spec, region, frame, input, self.overlap)?;
        self.resizers.clear();
        if self.grid.is_tiled() {
            for t in &self.grid.tiles {
                let r = Resizer::new(frame.0, frame.1, t.crop, input.0, input.1)
                    .map_err(|cause| DetectError::TileCrop { cause })?;
                self.resizers.push(r);
            }
        }
        let cap = (self.grid.tiles.len() + 1) * self.max;
        self.pieces = Vec::with_capacity(cap);
        self.planned = Some((frame, input));
        Ok(self.grid.is_tiled())
    }

    /// Tiles `region` (the whole frame when `None`) from the next frame on.
    pub fn look_at(&mut self, region: Option<NormRect>) {
        self.region = region;
        self.planned = None;
    }

    /// Whether the whole-frame pass is merged with the tiles (`tile_whole_frame`); when not,
    /// the caller may skip it on tiled frames.
    pub fn whole_frame(&self) -> bool {
        self.whole
    }

    /// The grid of the last [`Tiler::plan`].
    pub fn grid(&self) -> &TileGrid {
        &self.grid
    }

    /// Runs `det` on each tile of `rgb` (the frame at full size) and replaces `out`, which holds
    /// the whole-frame pass's detections in frame coordinates, with the merge of both, best
    /// first, at most `max_detections`. Call [`Tiler::plan`] for this frame first.
    pub fn run<D: Detector>(
        &mut self,
        det: &mut D,
        rgb: Rgb8View<'_>,
        out: &mut Detections,
    ) -> Result<(), DetectError> {
        self.pieces.clear();
        if self.whole {
            for d in out.as_slice() {
                push(
                    &mut self.pieces,
                    Piece {
                        det: *d,
                        cut: false,
                    },
                );
            }
        }
        for (tile, resizer) in self.grid.tiles.iter().zip(&mut self.resizers) {
            resizer
                .resize(rgb, det.input())
                .map_err(|cause| DetectError::TileCrop { cause })?;
            det.detect(&mut self.scratch)?;
            for d in self.scratch.as_slice() {
                let (bbox, cut) = tile.to_frame(&d.bbox);
                let det = super::Detection { bbox, ..*d };
                push(&mut self.pieces, Piece { det, cut });
            }
        }
        let kept = merge(&mut self.pieces, self.nms_iou);
        out.clear();
        for p in self.pieces[..kept].iter().take(self.max) {
            out.push(p.det);
        }
        Ok(())
    }
}

/// Pushes within the capacity reserved in `plan`: the hot path never grows the buffer.
fn push(pieces: &mut Vec<Piece>, p: Piece) {
    if pieces.len() < pieces.capacity() {
        pieces.push(p);
    }
}
