//! Snapshot slots: a few full-size RGB images, allocated once, that carry a frame and its
//! [`Scene`] from the hot thread to the worker for JPEG encoding.
//!
//! The hot thread only copies pixels and the scene into a free slot ([`Slots::fill`]); the
//! costly part (encoding, the overlay) happens on the worker ([`Slots::encode`]), which frees
//! the slot. When every slot is busy the event goes to the journal without a snapshot: a
//! picture is never worth a stall.

use super::scene::{self, Scene};
use picket_image::annotate::Overlay;
use picket_image::{Rgb8View, RgbImage};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Snapshot slots: enough for a burst of rule events while the worker encodes.
pub const SLOTS: usize = 4;
/// JPEG quality of snapshots.
const QUALITY: u8 = 80;

struct Slot {
    busy: AtomicBool,
    image: Mutex<(RgbImage, Scene)>,
}

/// The slots, shared by the hot thread (fills) and the worker (encodes and frees).
pub struct Slots {
    slots: [Slot; SLOTS],
}

impl Slots {
    /// Slots sized for `width`×`height` frames; another size reallocates once on first use.
    pub fn new(width: u32, height: u32) -> Self {
        Self {
            slots: std::array::from_fn(|_| Slot {
                busy: AtomicBool::new(false),
                image: Mutex::new((RgbImage::new(width, height), Scene::default())),
            }),
        }
    }

    /// Copies `frame` and `scene` into a free slot and returns its index, or `None` when all
    /// are busy or the frame is empty. No allocation while the frame size stays the one given
    /// to `new`.
    pub fn fill(&self, frame: Rgb8View<'_>, scene: &Scene) -> Option<u8> {
        if frame.data.is_empty() {
            return None;
        }
        let (i, slot) = self.slots.iter().enumerate().find(|(_, s)| {
            s.busy
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        })?;
        // A poisoned lock only means a panic elsewhere mid-copy; the pixels are overwritten.
        let mut guard = slot.image.lock().unwrap_or_else(|p| p.into_inner());
        let (img, kept) = &mut *guard;
        if (img.width(), img.height()) != (frame.width, frame.height) {
            img.set_size(frame.width, frame.height);
        }
        img.as_bytes_mut().copy_from_slice(frame.data);
        kept.clone_from(scene);
        Some(i as u8)
    }

    /// Encodes slot `i` as a raw JPEG carrying the overlay `draw` makes of its scene
    /// ([`scene::attach`]), and frees the slot.
    pub fn encode(&self, i: u8, draw: impl FnOnce(&Scene) -> Overlay) -> Option<Vec<u8>> {
        let slot = self.slots.get(usize::from(i))?;
        let (jpeg, overlay) = {
            let guard = slot.image.lock().unwrap_or_else(|p| p.into_inner());
            (guard.0.to_jpeg(QUALITY), draw(&guard.1))
        };
        slot.busy.store(false, Ordering::Release);
        let jpeg = jpeg.map_err(|e| log::warn!("snapshot: {e}")).ok()?;
        Some(scene::attach(jpeg, &overlay))
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
        let frame = vec![7u8; 8 * 4 * 3];
        let view = Rgb8View {
            width: 8,
            height: 4,
            data: &frame,
        };
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
                .map(|_| slots.fill(view, &scene))
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
        assert_eq!(slots.fill(view, &scene), Some(2));
    }
}
