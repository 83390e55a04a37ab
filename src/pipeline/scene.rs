//! What picket draws on a frame, on the pipeline's side: the hot thread captures a [`Scene`]
//! (tracks, firing rules, line counters, armed, clock) into fixed-size storage, and whoever
//! draws later (the worker for event snapshots, `picket snapshot`) joins it with the config's
//! [`Scenery`] (zones, lines, the motion gate's mask) into a `picket_image::annotate::Overlay`.
//!
//! A journalled snapshot keeps its pixels raw and carries its overlay as JSON in a JPEG comment
//! ([`attach`]): an event's `detail` is capped at 192 bytes, which one zone's polygon can fill,
//! and the comment keeps the journal's schema as it is. `picket events show --snapshot` draws
//! it ([`draw`]); `--raw` writes the picture as stored. That format lives in
//! `picket_image::snapshot`, re-exported here, so the uplink draws with the same code.

use crate::config::Config;
use crate::preview::{Preview, Tap};
use crate::rules::Rules;
use crate::track::Track;
use picket_geom::NormPoint;
use picket_image::annotate::{Mark, Mask, Overlay, Shape, Status};
pub use picket_image::snapshot::{annotate_and_encode, attach, attached, draw, DrawError, TAG};
use picket_image::RgbImage;
use std::sync::{Arc, Mutex};

/// People drawn per frame; more are left out (the snapshot is still taken).
pub const MARKS: usize = 32;
/// Lines whose counters are drawn.
pub const LINES: usize = 16;

/// One frame's share of the overlay, captured on the hot thread without allocating.
#[derive(Debug, Clone, Default)]
pub struct Scene {
    pub marks: heapless::Vec<Mark, MARKS>,
    /// The rules firing, one bit per rule ([`Rules::firing`]).
    pub firing: u16,
    /// Each line's crossings, in config order.
    pub counts: heapless::Vec<[u64; 2], LINES>,
    pub armed: bool,
    pub clock_synced: bool,
}

impl Scene {
    /// Takes the confirmed tracks, the firing rules and the counters at `mono`.
    pub fn capture(
        &mut self,
        tracks: &[Track],
        rules: &Rules,
        mono: std::time::Duration,
        clock_synced: bool,
    ) {
        self.marks.clear();
        for t in tracks.iter().filter(|t| t.is_confirmed()) {
            let mark = Mark {
                rect: t.bbox,
                track: Some(t.id),
                score: t.score,
                firing: false,
            };
            if self.marks.push(mark).is_err() {
                break;
            }
        }
        self.firing = rules.firing(mono);
        self.counts.clear();
        for c in rules.line_counts_in_order().take(LINES) {
            let _ = self.counts.push(c);
        }
        self.armed = rules.armed();
        self.clock_synced = clock_synced;
    }
}

/// The config's share of the overlay: zones, lines, each rule's place, the motion mask. Built
/// at start and on a reload, off the per-frame path.
#[derive(Debug, Clone, Default)]
pub struct Scenery {
    zones: Vec<(String, Vec<NormPoint>)>,
    lines: Vec<(String, [NormPoint; 2])>,
    /// Per rule, in rule order: the zone or line it watches.
    places: Vec<Option<String>>,
    mask: Option<Mask>,
    /// fps and inference time for the status strip, as the worker last heard them.
    pub pace: Pace,
}

/// What the worker knows of speed, for the status strip: fps and inference ms (p50).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Pace {
    pub fps: f32,
    pub infer_ms: f32,
}

impl Scenery {
    pub fn of(cfg: &Config) -> Self {
        let pt = |p: &[f32; 2]| NormPoint::new(p[0], p[1]);
        let mask = (cfg.motion.enabled && !cfg.motion.masks.is_empty()).then(|| {
            let [cols, rows] = cfg.motion.grid;
            let watched = crate::motion::watched_cells(&cfg.motion.masks, cols as _, rows as _);
            Mask {
                cols,
                rows,
                masked: watched.iter().map(|w| !w).collect(),
            }
        });
        Scenery {
            zones: cfg
                .zones
                .iter()
                .map(|z| (z.name.clone(), z.polygon.iter().map(pt).collect()))
                .collect(),
            lines: cfg
                .lines
                .iter()
                .map(|l| (l.name.clone(), [pt(&l.a), pt(&l.b)]))
                .collect(),
            places: cfg
                .rules
                .iter()
                .map(|r| r.zone.clone().or_else(|| r.line.clone()))
                .collect(),
            mask,
            pace: Pace::default(),
        }
    }

    /// The overlay of `scene`; `event` (its place and track) is drawn as firing too.
    pub fn overlay(&self, scene: &Scene, event: Option<(&str, Option<u64>)>) -> Overlay {
        let pace = self.pace;
        let firing = |name: &str| {
            event.is_some_and(|(place, _)| place == name)
                || self.places.iter().enumerate().any(|(i, p)| {
                    i < 16 && scene.firing & (1 << i) != 0 && p.as_deref() == Some(name)
                })
        };
        let zones = self.zones.iter().map(|(name, points)| Shape {
            name: name.clone(),
            points: points.clone(),
            closed: true,
            firing: firing(name),
            counts: None,
        });
        let lines = self.lines.iter().enumerate().map(|(i, (name, ab))| Shape {
            name: name.clone(),
            points: ab.to_vec(),
            closed: false,
            firing: firing(name),
            counts: scene.counts.get(i).map(|c| {
                (
                    c[0].min(u32::MAX as u64) as u32,
                    c[1].min(u32::MAX as u64) as u32,
                )
            }),
        });
        let track = event.and_then(|(_, t)| t);
        let marks = scene.marks.iter().map(|m| Mark {
            firing: track.is_some() && m.track == track,
            ..*m
        });
        Overlay {
            marks: marks.collect(),
            shapes: zones.chain(lines).collect(),
            mask: self.mask.clone(),
            status: Some(Status {
                armed: scene.armed,
                fps: pace.fps,
                infer_ms: pace.infer_ms,
                clock_synced: scene.clock_synced,
            }),
        }
    }
}

/// The running live view and the hot thread's tap into it.
pub(super) type LiveView = (Preview<Scene>, Tap<Scene>);

/// Starts the live view when `[preview]` is on: its frames are drawn with `scenery`, which
/// the hot thread replaces on a reload.
pub(super) fn live_view(
    cfg: &Config,
    scenery: &Arc<Mutex<Scenery>>,
) -> Result<Option<LiveView>, crate::preview::SocketError> {
    let Some(p) = cfg.preview.as_ref().filter(|p| p.enabled) else {
        return Ok(None);
    };
    let scenery = scenery.clone();
    let draw = move |img: &mut RgbImage, scene: &Scene| {
        let o = scenery
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .overlay(scene, None);
        img.annotate(&o);
    };
    crate::preview::spawn(p, crate::config::check_text, draw).map(Some)
}

#[cfg(test)]
mod tests;
