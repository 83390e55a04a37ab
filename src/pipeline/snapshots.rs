//! Snapshot slots: a few frame buffers, reserved once, that carry a frame as the source gave it
//! and its [`Scene`] from the hot thread to the worker.
//!
//! The hot thread only copies the frame's bytes and the scene into a free slot
//! ([`Slots::fill`]); the costly part happens on the worker ([`Slots::encode`]), which frees the
//! slot. An MJPEG frame is its own snapshot: the camera's JPEG is stored as it came (with the
//! standard Huffman tables put in when the camera left them out), so nothing is decoded or
//! encoded for it, and a slot holds tens of kilobytes, not a full-size RGB image. Raw frames
//! (YUYV, NV12, …) are converted to RGB and encoded on the worker. When every slot is busy the
//! event goes to the journal without a snapshot: a picture is never worth a stall.
//!
//! Memory: each slot reserves a full-size RGB frame's bytes, but pages are only touched as
//! bytes are written. `picket run` on the demo clip (640×480 MJPEG, LiteRT, one thread) with a
//! whole-frame intrusion rule peaked at 36.8–37.7 MiB (anonymous 21.1 MiB) when the slots held
//! the decoded RGB frame, and at 33.0 MiB (anonymous 17.1 MiB) holding the camera's JPEG; two
//! alternating rounds each, VmHWM and RssAnon from `/proc/PID/status`.

use super::scene::{self, Scene};
use picket_image::annotate::Overlay;
use picket_image::jpeg::with_standard_tables;
use picket_image::{convert, FrameRef, PixelFormat, RgbImage};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Snapshot slots: enough for a burst of rule events while the worker encodes.
pub const SLOTS: usize = 4;
/// JPEG quality of snapshots made from raw frames.
const QUALITY: u8 = 80;

/// A frame copied out of the source's buffer.
struct Held {
    format: PixelFormat,
    width: u32,
    height: u32,
    stride: usize,
    data: Vec<u8>,
    scene: Scene,
}

impl Held {
    fn frame(&self) -> FrameRef<'_> {
        FrameRef {
            stride: self.stride,
            ..FrameRef::new(self.format, self.width, self.height, &self.data)
        }
    }
}

struct Slot {
    busy: AtomicBool,
    held: Mutex<Held>,
}

/// The slots, shared by the hot thread (fills) and the worker (encodes and frees).
pub struct Slots {
    slots: [Slot; SLOTS],
    /// The worker's RGB image for raw frames.
    rgb: Mutex<RgbImage>,
}

impl Slots {
    /// Slots with room for `width`×`height` frames of any format; a bigger frame reallocates
    /// its slot once.
    pub fn new(width: u32, height: u32) -> Self {
        let room = width as usize * height as usize * 3;
        Self {
            slots: std::array::from_fn(|_| Slot {
                busy: AtomicBool::new(false),
                held: Mutex::new(Held {
                    format: PixelFormat::Rgb24,
                    width: 0,
                    height: 0,
                    stride: 0,
                    data: Vec::with_capacity(room),
                    scene: Scene::default(),
                }),
            }),
            rgb: Mutex::new(RgbImage::new(0, 0)),
        }
    }

    /// Copies `frame` and `scene` into a free slot and returns its index, or `None` when all
    /// are busy or the frame is empty. No allocation while the frame fits the room given to
    /// `new`.
    pub fn fill(&self, frame: &FrameRef<'_>, scene: &Scene) -> Option<u8> {
        if frame.data.is_empty() {
            return None;
        }
        let (i, slot) = self.slots.iter().enumerate().find(|(_, s)| {
            s.busy
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        })?;
        // A poisoned lock only means a panic elsewhere mid-copy; every field is overwritten.
        let mut held = slot.held.lock().unwrap_or_else(|p| p.into_inner());
        held.format = frame.format;
        held.width = frame.width;
        held.height = frame.height;
        held.stride = frame.stride;
        held.data.clear();
        held.data.extend_from_slice(frame.data);
        held.scene.clone_from(scene);
        Some(i as u8)
    }

    /// Slot `i` as a raw JPEG carrying the overlay `draw` makes of its scene
    /// ([`scene::attach`]); frees the slot. `None` (said in the log) when a raw frame cannot
    /// be converted or encoded.
    pub fn encode(&self, i: u8, draw: impl FnOnce(&Scene) -> Overlay) -> Option<Vec<u8>> {
        let slot = self.slots.get(usize::from(i))?;
        let (jpeg, overlay) = {
            let held = slot.held.lock().unwrap_or_else(|p| p.into_inner());
            (self.jpeg(&held), draw(&held.scene))
        };
        slot.busy.store(false, Ordering::Release);
        let jpeg = jpeg.map_err(|e| log::warn!("snapshot: {e}")).ok()?;
        Some(scene::attach(jpeg, &overlay))
    }

    /// The JPEG of a held frame: the camera's own for MJPEG, encoded here for raw frames.
    fn jpeg(&self, held: &Held) -> Result<Vec<u8>, String> {
        if held.format == PixelFormat::Mjpeg {
            return Ok(with_standard_tables(&held.data).into_owned());
        }
        // Only the worker takes this lock; a poisoned one holds pixels that are overwritten.
        let mut rgb = self.rgb.lock().unwrap_or_else(|p| p.into_inner());
        convert::to_rgb(&held.frame(), &mut rgb).map_err(|e| e.to_string())?;
        rgb.to_jpeg(QUALITY).map_err(|e| e.to_string())
    }

    /// Frees slot `i` without encoding it.
    pub fn release(&self, i: u8) {
        if let Some(s) = self.slots.get(usize::from(i)) {
            s.busy.store(false, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alloc_count::count;

    #[test]
    fn filling_allocates_nothing_and_a_full_set_refuses() {
        let slots = Slots::new(8, 4);
        let pixels = vec![7u8; 8 * 4 * 3];
        let view = FrameRef::new(PixelFormat::Rgb24, 8, 4, &pixels);
        let mut scene = Scene {
            armed: true,
            ..Scene::default()
        };
        let _ = scene.marks.push(picket_image::annotate::Mark {
            rect: picket_geom::NormRect::new(0.1, 0.1, 0.9, 0.9),
            track: Some(4),
            score: 0.8,
            firing: false,
        });
        let (got, n) = count(|| {
            (0..SLOTS + 1)
                .map(|_| slots.fill(&view, &scene))
                .fold(0, |a, s| a + s.is_some() as usize)
        });
        assert_eq!((got, n), (SLOTS, 0));
        let jpeg = slots
            .encode(2, |s| Overlay {
                marks: s.marks.to_vec(),
                ..Overlay::default()
            })
            .unwrap();
        assert_eq!(&jpeg[..2], &[0xff, 0xd8]);
        let carried = scene::attached(&jpeg).unwrap().unwrap();
        assert_eq!(
            carried.marks,
            scene.marks.to_vec(),
            "the scene went through the slot"
        );
        assert_eq!(slots.fill(&view, &scene), Some(2));
    }
}
