//! Cheap frame differencing: a coarse luma grid against a slowly adapting background.
//!
//! Each frame is reduced to a `grid` of cells (64×48 by default). A cell's luma is the mean of
//! a fixed 4×4 lattice of samples inside it, not of every pixel: that costs about 50 k pixel
//! reads whatever the camera's resolution, and averaging 16 samples already divides sensor
//! noise by four. A cell *changed* when its luma differs from the background by more than
//! `pixel_threshold`; the frame *moves* when the changed fraction of the unmasked cells reaches
//! `changed_fraction`. The background then follows the frame as a running average with time
//! constant `background_s`, so lighting drifts and parked objects fade into it.
//!
//! All buffers are sized in [`MotionDetector::new`]; observing a frame never allocates.

use super::{MaskRegion, MotionConfig, MotionError};
use std::time::Duration;

/// Samples per cell along each axis.
const SAMPLES: usize = 4;

/// The pixel layouts the detector reads luma from directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Packed RGB888; luma is computed with BT.601 weights.
    Rgb24,
    /// Packed YUYV 4:2:2 (the usual USB webcam format); luma is every even byte.
    Yuyv,
    /// A plain 8-bit luma plane: grey frames, or the Y plane of I420 / NV12.
    Luma8,
}

impl Layout {
    const fn bytes_per_pixel(self) -> usize {
        match self {
            Layout::Rgb24 => 3,
            Layout::Yuyv => 2,
            Layout::Luma8 => 1,
        }
    }
}

/// A borrowed frame (or its luma plane) to observe. `stride` is the byte distance between rows.
#[derive(Debug, Clone, Copy)]
pub struct LumaInput<'a> {
    pub data: &'a [u8],
    pub width: u32,
    pub height: u32,
    pub stride: usize,
    pub layout: Layout,
}

impl<'a> LumaInput<'a> {
    /// Packed RGB888 rows, as the preprocess stage holds the frame.
    pub fn rgb(data: &'a [u8], width: u32, height: u32, stride: usize) -> Self {
        Self::new(data, width, height, stride, Layout::Rgb24)
    }

    /// Packed YUYV rows, straight from a V4L2 buffer.
    pub fn yuyv(data: &'a [u8], width: u32, height: u32, stride: usize) -> Self {
        Self::new(data, width, height, stride, Layout::Yuyv)
    }

    /// A luma plane: the first plane of I420 or NV12, or a grey image.
    pub fn luma(data: &'a [u8], width: u32, height: u32, stride: usize) -> Self {
        Self::new(data, width, height, stride, Layout::Luma8)
    }

    fn new(data: &'a [u8], width: u32, height: u32, stride: usize, layout: Layout) -> Self {
        Self {
            data,
            width,
            height,
            stride,
            layout,
        }
    }

    /// Checks that the rows the geometry promises are inside `data`.
    fn check(&self) -> Result<(), MotionError> {
        let row = self.width as usize * self.layout.bytes_per_pixel();
        if self.width == 0 || self.height == 0 || self.stride < row {
            return Err(MotionError::Geometry {
                width: self.width,
                height: self.height,
                stride: self.stride,
            });
        }
        let need = (self.height as usize - 1) * self.stride + row;
        if self.data.len() < need {
            return Err(MotionError::ShortFrame {
                need,
                got: self.data.len(),
            });
        }
        Ok(())
    }
}

/// What one observation found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Motion {
    /// Changed cells over unmasked cells, `0..=1`. The first frame reports 1.
    pub changed_fraction: f32,
    /// Whether `changed_fraction` reached the configured threshold.
    pub moving: bool,
}

/// The differencing state for one camera. Owned by the hot thread; see the module docs.
#[derive(Debug)]
pub struct MotionDetector {
    grid_w: usize,
    grid_h: usize,
    pixel_threshold: f32,
    changed_fraction: f32,
    background_s: f32,
    /// Per cell: false where a mask region hides it.
    watched: Vec<bool>,
    watched_cells: usize,
    /// The current frame's cell lumas, and the background, row-major.
    cells: Vec<f32>,
    background: Vec<f32>,
    /// One grid row's sample sums.
    acc: Vec<u32>,
    /// Byte offsets of the sample columns within a row, and the sample rows, for `geometry`.
    col_offsets: Vec<usize>,
    sample_rows: Vec<usize>,
    geometry: Option<(u32, u32, Layout)>,
    last: Option<Duration>,
}

impl MotionDetector {
    /// Sizes every buffer for `cfg.grid` and rasterises the masks. Fails on an empty grid or
    /// masks that hide every cell (validation reports both first).
    pub fn new(cfg: &MotionConfig) -> Result<Self, MotionError> {
        let [gw, gh] = cfg.grid;
        let (grid_w, grid_h) = (gw as usize, gh as usize);
        if grid_w == 0 || grid_h == 0 {
            return Err(MotionError::Grid(gw, gh));
        }
        let watched = watched_cells(&cfg.masks, grid_w, grid_h);
        let watched_cells = watched.iter().filter(|w| **w).count();
        if watched_cells == 0 {
            return Err(MotionError::AllMasked);
        }
        let n = grid_w * grid_h;
        Ok(Self {
            grid_w,
            grid_h,
            pixel_threshold: f32::from(cfg.pixel_threshold),
            changed_fraction: cfg.changed_fraction,
            background_s: cfg.background_s,
            watched,
            watched_cells,
            cells: vec![0.0; n],
            background: vec![0.0; n],
            acc: vec![0; grid_w],
            col_offsets: Vec::with_capacity(grid_w * SAMPLES),
            sample_rows: Vec::with_capacity(grid_h * SAMPLES),
            geometry: None,
            last: None,
        })
    }

    /// Compares `frame` with the background at monotonic time `now`, then folds it in.
    ///
    /// The first frame, and the first after a change of size or layout, becomes the background
    /// and reports full motion, so the gate runs inference on it.
    pub fn observe(&mut self, now: Duration, frame: LumaInput<'_>) -> Result<Motion, MotionError> {
        frame.check()?;
        let geometry = (frame.width, frame.height, frame.layout);
        let fresh = self.geometry != Some(geometry);
        if fresh {
            self.lay_samples(geometry);
        }
        self.sample(&frame);
        if fresh || self.last.is_none() {
            self.background.copy_from_slice(&self.cells);
            self.last = Some(now);
            return Ok(Motion {
                changed_fraction: 1.0,
                moving: true,
            });
        }
        let dt = now.saturating_sub(self.last.unwrap_or(now)).as_secs_f32();
        self.last = Some(now);
        // Exact for any frame rate: the weight a time constant gives `dt` seconds.
        let alpha = 1.0 - (-dt / self.background_s).exp();
        let mut changed = 0usize;
        let cells = self.cells.iter().zip(&self.watched);
        for ((c, watched), bg) in cells.zip(self.background.iter_mut()) {
            let d = c - *bg;
            if *watched && d.abs() > self.pixel_threshold {
                changed += 1;
            }
            *bg += alpha * d;
        }
        let changed_fraction = changed as f32 / self.watched_cells as f32;
        Ok(Motion {
            changed_fraction,
            moving: changed_fraction >= self.changed_fraction,
        })
    }

    /// Forgets the background; the next frame starts it afresh (e.g. after a reconnect).
    pub fn reset(&mut self) {
        self.last = None;
    }

    /// The current frame's cell lumas, row-major, `grid[0]` per row.
    pub fn cells(&self) -> &[f32] {
        &self.cells
    }

    /// The grid's `(columns, rows)`.
    pub fn grid(&self) -> (usize, usize) {
        (self.grid_w, self.grid_h)
    }

    /// Places the sample lattice for a new frame size. Capacities were reserved in `new`.
    fn lay_samples(&mut self, (width, height, layout): (u32, u32, Layout)) {
        let bpp = layout.bytes_per_pixel();
        let (w, h) = (width as usize, height as usize);
        let (nx, ny) = (self.grid_w * SAMPLES, self.grid_h * SAMPLES);
        self.col_offsets.clear();
        self.col_offsets
            .extend((0..nx).map(|i| (2 * i + 1) * w / (2 * nx) * bpp));
        self.sample_rows.clear();
        self.sample_rows
            .extend((0..ny).map(|j| (2 * j + 1) * h / (2 * ny)));
        self.geometry = Some((width, height, layout));
    }

    fn sample(&mut self, frame: &LumaInput<'_>) {
        // One loop per layout, so the per-sample work inlines and the layout is not re-tested.
        match frame.layout {
            Layout::Rgb24 => self.sample_with(frame, |row, o| rgb_luma(&row[o..o + 3])),
            Layout::Yuyv | Layout::Luma8 => self.sample_with(frame, |row, o| u32::from(row[o])),
        }
    }

    #[inline(always)]
    fn sample_with(&mut self, frame: &LumaInput<'_>, luma: impl Fn(&[u8], usize) -> u32) {
        let per_cell = (SAMPLES * SAMPLES) as f32;
        let row_bytes = frame.width as usize * frame.layout.bytes_per_pixel();
        for gy in 0..self.grid_h {
            self.acc.fill(0);
            for &y in &self.sample_rows[gy * SAMPLES..(gy + 1) * SAMPLES] {
                let row = &frame.data[y * frame.stride..][..row_bytes];
                let cols = self.col_offsets.chunks_exact(SAMPLES);
                for (acc, cols) in self.acc.iter_mut().zip(cols) {
                    *acc += cols.iter().map(|&o| luma(row, o)).sum::<u32>();
                }
            }
            let out = &mut self.cells[gy * self.grid_w..(gy + 1) * self.grid_w];
            for (c, a) in out.iter_mut().zip(&self.acc) {
                *c = *a as f32 / per_cell;
            }
        }
    }
}

/// BT.601 luma of one RGB pixel, in 8.8 fixed point.
#[inline(always)]
fn rgb_luma(p: &[u8]) -> u32 {
    (77 * u32::from(p[0]) + 150 * u32::from(p[1]) + 29 * u32::from(p[2])) >> 8
}

/// Per cell of a `w`×`h` grid, whether no mask region covers the cell's centre.
pub fn watched_cells(masks: &[MaskRegion], w: usize, h: usize) -> Vec<bool> {
    let mut watched = vec![true; w * h];
    for (i, cell) in watched.iter_mut().enumerate() {
        let x = ((i % w) as f32 + 0.5) / w as f32;
        let y = ((i / w) as f32 + 0.5) / h as f32;
        *cell = !masks.iter().any(|m| m.contains(x, y));
    }
    watched
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alloc_count::count;

    const W: u32 = 320;
    const H: u32 = 240;

    fn cfg() -> MotionConfig {
        MotionConfig {
            enabled: true,
            ..MotionConfig::default()
        }
    }

    fn input_rgb(f: &[u8]) -> LumaInput<'_> {
        LumaInput::rgb(f, W, H, W as usize * 3)
    }

    fn ms(t: u64) -> Duration {
        Duration::from_millis(t)
    }

    /// A grey-gradient RGB scene with a dark square of side `size` at (`x`, `y`) when given.
    fn scene(blob: Option<(u32, u32)>, size: u32) -> Vec<u8> {
        let mut v = Vec::with_capacity((W * H * 3) as usize);
        for y in 0..H {
            for x in 0..W {
                let inside = blob.is_some_and(|(bx, by)| {
                    (bx..bx + size).contains(&x) && (by..by + size).contains(&y)
                });
                let l = if inside {
                    20
                } else {
                    (80 + x / 4 + y / 8) as u8
                };
                v.extend_from_slice(&[l, l, l]);
            }
        }
        v
    }

    #[test]
    fn a_still_scene_does_not_move_and_a_blob_does() {
        let mut d = MotionDetector::new(&cfg()).unwrap();
        let still = scene(None, 0);
        let first = d.observe(ms(0), LumaInput::rgb(&still, W, H, W as usize * 3));
        assert!(
            first.unwrap().moving,
            "the first frame starts the background"
        );
        let m = d.observe(ms(100), LumaInput::rgb(&still, W, H, W as usize * 3));
        assert_eq!(m.unwrap().changed_fraction, 0.0);
        // A 30-pixel blob covers about 6×6 of the 64×48 cells (5 px each): over 1%.
        let blob = scene(Some((100, 100)), 30);
        let m = d
            .observe(ms(200), LumaInput::rgb(&blob, W, H, W as usize * 3))
            .unwrap();
        assert!(m.moving, "{m:?}");
        assert!(
            m.changed_fraction > 0.01 && m.changed_fraction < 0.02,
            "{m:?}"
        );
    }

    #[test]
    fn the_background_absorbs_a_parked_object() {
        let mut d = MotionDetector::new(&cfg()).unwrap();
        let (still, blob) = (scene(None, 0), scene(Some((100, 100)), 30));
        d.observe(ms(0), input_rgb(&still)).unwrap();
        let mut t = 0;
        let mut moving = true;
        // Ten time constants later the blob is part of the background.
        while t < 50_000 {
            t += 100;
            moving = d.observe(ms(t), input_rgb(&blob)).unwrap().moving;
        }
        assert!(!moving);
    }

    #[test]
    fn masked_regions_are_ignored() {
        let mut c = cfg();
        c.masks = vec![MaskRegion::rect([0.25, 0.3, 0.5, 0.7])];
        let mut d = MotionDetector::new(&c).unwrap();
        d.observe(ms(0), input_rgb(&scene(None, 0))).unwrap();
        // Inside the mask (x 80..160, y 72..168 pixels): nothing.
        let m = d
            .observe(ms(100), input_rgb(&scene(Some((100, 100)), 30)))
            .unwrap();
        assert_eq!(m.changed_fraction, 0.0);
        // A triangle mask over the top-left corner hides a blob there too.
        c.masks = vec![MaskRegion::polygon(&[[0.0, 0.0], [0.5, 0.0], [0.0, 0.5]])];
        let mut d = MotionDetector::new(&c).unwrap();
        d.observe(ms(0), input_rgb(&scene(None, 0))).unwrap();
        let m = d
            .observe(ms(100), input_rgb(&scene(Some((10, 10)), 30)))
            .unwrap();
        assert_eq!(m.changed_fraction, 0.0);
        let m = d
            .observe(ms(200), input_rgb(&scene(Some((200, 150)), 30)))
            .unwrap();
        assert!(m.moving, "outside the triangle");
    }

    #[test]
    fn yuyv_and_luma_planes_read_the_same_cells_as_rgb() {
        let rgb = scene(Some((40, 60)), 50);
        let luma: Vec<u8> = rgb.chunks(3).map(|p| rgb_luma(p) as u8).collect();
        let yuyv: Vec<u8> = luma.iter().flat_map(|&y| [y, 128]).collect();
        let mut cells = Vec::new();
        for input in [
            LumaInput::rgb(&rgb, W, H, W as usize * 3),
            LumaInput::yuyv(&yuyv, W, H, W as usize * 2),
            LumaInput::luma(&luma, W, H, W as usize),
        ] {
            let mut d = MotionDetector::new(&cfg()).unwrap();
            d.observe(ms(0), input).unwrap();
            cells.push(d.cells().to_vec());
        }
        assert_eq!(cells[0], cells[1]);
        assert_eq!(cells[0], cells[2]);
        // The top-left cell samples x 0, 1, 3, 4 of the gradient 80 + x/4: 80, 80, 80, 81.
        assert_eq!(cells[0][0], 80.25);
    }

    #[test]
    fn observing_never_allocates() {
        let mut d = MotionDetector::new(&cfg()).unwrap();
        let a = scene(None, 0);
        let b = scene(Some((50, 50)), 40);
        d.observe(ms(0), LumaInput::rgb(&a, W, H, W as usize * 3))
            .unwrap();
        let (_, n) = count(|| {
            for i in 1..100u64 {
                let f = if i % 2 == 0 { &a } else { &b };
                d.observe(ms(i * 100), LumaInput::rgb(f, W, H, W as usize * 3))
                    .unwrap();
            }
        });
        assert_eq!(n, 0);
    }

    #[test]
    fn short_or_malformed_frames_are_errors_not_panics() {
        let mut d = MotionDetector::new(&cfg()).unwrap();
        let buf = vec![0u8; 100];
        let e = d.observe(ms(0), LumaInput::rgb(&buf, 10, 10, 30));
        assert!(
            matches!(
                e,
                Err(MotionError::ShortFrame {
                    need: 300,
                    got: 100
                })
            ),
            "{e:?}"
        );
        let e = d.observe(ms(0), LumaInput::yuyv(&buf, 10, 5, 8));
        assert!(matches!(e, Err(MotionError::Geometry { .. })), "{e:?}");
        let e = d.observe(ms(0), LumaInput::luma(&buf, 0, 5, 8));
        assert!(matches!(e, Err(MotionError::Geometry { .. })), "{e:?}");
        // A frame smaller than the grid still works: samples repeat.
        assert!(d.observe(ms(0), LumaInput::luma(&buf, 10, 10, 10)).is_ok());
    }
}
