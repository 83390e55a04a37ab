//! What a frame is annotated with, and the one place it is drawn: each person's box with its
//! track id and score, every zone and line by name (coloured by whether a rule is firing on
//! it), line counters, the motion gate's mask when the gate is on, and a status strip (armed, fps,
//! inference time, clock).
//!
//! An [`Overlay`] holds normalised geometry only, so the same overlay draws on any size of the
//! same frame; sizes (pen, font scale) follow the image. Event snapshots, `picket snapshot` and
//! the live view all draw through [`RgbImage::annotate`], off the hot thread: building an
//! overlay allocates.

use crate::draw::{text_width, GLYPH};
use crate::RgbImage;
use picket_geom::{NormPoint, NormRect};
use serde::{Deserialize, Serialize};

/// The colours, in one place so the page, the tests and the snapshots agree.
pub mod colour {
    /// A zone or line with no rule firing on it.
    pub const ZONE: [u8; 3] = [255, 200, 0];
    pub const LINE: [u8; 3] = [0, 200, 255];
    /// A zone, line or box a rule is firing on.
    pub const FIRING: [u8; 3] = [255, 32, 32];
    /// A tracked person.
    pub const TRACK: [u8; 3] = [40, 220, 40];
    /// The cells the motion gate ignores (mixed into the picture).
    pub const MOTION: [u8; 3] = [64, 96, 255];
    /// Text on a label, and the status strip's background.
    pub const INK: [u8; 3] = [0, 0, 0];
    pub const STRIP_TEXT: [u8; 3] = [255, 255, 255];
}

/// Everything drawn on one frame.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Overlay {
    pub marks: Vec<Mark>,
    pub shapes: Vec<Shape>,
    pub mask: Option<Mask>,
    pub status: Option<Status>,
}

/// A person's box.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Mark {
    pub rect: NormRect,
    /// The track's id; `None` for a bare detection.
    pub track: Option<u64>,
    pub score: f32,
    /// A rule fired on this person in this frame.
    pub firing: bool,
}

impl Mark {
    /// The label text: `#id score` (or the score alone).
    pub fn label(&self) -> String {
        match self.track {
            Some(id) => format!("#{id} {:.2}", self.score),
            None => format!("{:.2}", self.score),
        }
    }
}

/// A zone (closed polygon) or a line (two points), with its name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shape {
    pub name: String,
    pub points: Vec<NormPoint>,
    /// A polygon rather than a line.
    pub closed: bool,
    /// A rule is firing on it.
    pub firing: bool,
    /// A line's crossings so far, `a→b` then `b→a`.
    pub counts: Option<(u32, u32)>,
}

impl Shape {
    /// The label text: the name, and a line's counters.
    pub fn label(&self) -> String {
        match self.counts {
            Some((ab, ba)) => format!("{} >{ab} <{ba}", self.name),
            None => self.name.clone(),
        }
    }
}

/// The motion gate's mask on its grid: `cols`×`rows` cells, row by row, `true` where the gate
/// ignores motion (a `[motion] masks` region covers the cell).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mask {
    pub cols: u32,
    pub rows: u32,
    pub masked: Vec<bool>,
}

/// The status strip's facts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub armed: bool,
    pub fps: f32,
    pub infer_ms: f32,
    pub clock_synced: bool,
}

impl Status {
    pub fn text(&self) -> String {
        format!(
            "{}  {:.1} fps  infer {:.0} ms  clock {}",
            if self.armed { "ARMED" } else { "disarmed" },
            self.fps,
            self.infer_ms,
            if self.clock_synced { "ok" } else { "UNSYNCED" }
        )
    }
}

/// Pen and font sizes for a `width`×`height` image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    /// Outline thickness in pixels.
    pub pen: u32,
    /// Font scale (glyphs are 8×`scale` pixels).
    pub scale: u32,
    /// Padding around label text.
    pub pad: u32,
}

impl Sizes {
    pub fn for_image(width: u32, height: u32) -> Self {
        let short = width.min(height);
        Self {
            pen: (short / 240).max(2),
            scale: (short / 320).max(1),
            pad: 2,
        }
    }

    /// The height of a label box.
    pub fn label_height(&self) -> u32 {
        GLYPH * self.scale + 2 * self.pad
    }
}

/// Where a label for `text` anchored at pixel (`x`, `y`) goes: `(x, y, w, h)`, above the anchor
/// when there is room, else below it; kept inside a `width`-wide image.
pub fn label_box(x: i32, y: i32, text: &str, s: Sizes, width: u32) -> (i32, i32, i32, i32) {
    let w = (text_width(text, s.scale) + 2 * s.pad) as i32;
    let h = s.label_height() as i32;
    let top = if y - h >= 0 { y - h } else { y };
    let left = x.min(width as i32 - w).max(0);
    (left, top, w, h)
}

impl RgbImage {
    /// Draws `o` on the image: motion, shapes, boxes, labels, then the status strip on top.
    pub fn annotate(&mut self, o: &Overlay) {
        let (w, h) = (self.width(), self.height());
        if w == 0 || h == 0 {
            return;
        }
        let s = Sizes::for_image(w, h);
        if let Some(m) = &o.mask {
            self.draw_mask(m);
        }
        let px = |p: &NormPoint| {
            (
                (p.x.clamp(0.0, 1.0) * w as f32).round() as i32,
                (p.y.clamp(0.0, 1.0) * h as f32).round() as i32,
            )
        };
        for shape in &o.shapes {
            let c = match (shape.firing, shape.closed) {
                (true, _) => colour::FIRING,
                (false, true) => colour::ZONE,
                (false, false) => colour::LINE,
            };
            let pts: Vec<(i32, i32)> = shape.points.iter().map(px).collect();
            for pair in pts.windows(2) {
                self.draw_line(pair[0], pair[1], s.pen, c);
            }
            if let (true, Some(first), Some(last)) = (shape.closed, pts.first(), pts.last()) {
                if pts.len() > 2 {
                    self.draw_line(*last, *first, s.pen, c);
                }
            }
            if let Some(&(x, y)) = pts.first() {
                self.label(x, y, &shape.label(), c, s);
            }
        }
        for m in &o.marks {
            let c = if m.firing {
                colour::FIRING
            } else {
                colour::TRACK
            };
            self.draw_rect(&m.rect, s.pen, c);
            let p = m.rect.to_pixels(w, h);
            self.label(p.x0 as i32, p.y0 as i32, &m.label(), c, s);
        }
        if let Some(st) = &o.status {
            let sh = s.label_height() as i32;
            let top = h as i32 - sh;
            self.fill_px(0, top, w as i32, sh, colour::INK);
            let (x, y) = ((s.pad) as i32, top + s.pad as i32);
            self.draw_text(x, y, s.scale, &st.text(), colour::STRIP_TEXT);
        }
    }

    fn label(&mut self, x: i32, y: i32, text: &str, bg: [u8; 3], s: Sizes) {
        let (lx, ly, lw, lh) = label_box(x, y, text, s, self.width());
        self.fill_px(lx, ly, lw, lh, bg);
        let (tx, ty) = (lx + s.pad as i32, ly + s.pad as i32);
        self.draw_text(tx, ty, s.scale, text, colour::INK);
    }

    fn draw_mask(&mut self, m: &Mask) {
        if m.cols == 0 || m.rows == 0 {
            return;
        }
        let (w, h) = (self.width() as u64, self.height() as u64);
        let (cols, rows) = (u64::from(m.cols), u64::from(m.rows));
        for (i, _) in m.masked.iter().enumerate().filter(|(_, &on)| on) {
            let (c, r) = (i as u64 % cols, i as u64 / cols);
            if r >= rows {
                break;
            }
            let (x0, x1) = (c * w / cols, (c + 1) * w / cols);
            let (y0, y1) = (r * h / rows, (r + 1) * h / rows);
            let (x, y) = (x0 as i32, y0 as i32);
            self.tint_px(x, y, (x1 - x0) as i32, (y1 - y0) as i32, colour::MOTION, 96);
        }
    }
}

#[cfg(test)]
mod tests;
