//! Snapshot slots: a few full-size RGB images, allocated once, that carry a frame from the hot
//! thread to the worker for drawing and JPEG encoding.
//!
//! The hot thread only copies pixels into a free slot ([`Slots::fill`]); the costly part (boxes,
//! encoding) happens on the worker ([`Slots::encode`]), which frees the slot. When every slot is
//! busy the event goes to the journal without a snapshot: a picture is never worth a stall.

use picket_geom::NormRect;
use picket_image::{Rgb8View, RgbImage};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Snapshot slots: enough for a burst of rule events while the worker encodes.
pub const SLOTS: usize = 4;
/// JPEG quality of snapshots.
const QUALITY: u8 = 80;

struct Slot {
    busy: AtomicBool,
    image: Mutex<RgbImage>,
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
                image: Mutex::new(RgbImage::new(width, height)),
            }),
        }
    }

    /// Copies `frame` into a free slot and returns its index, or `None` when all are busy or
    /// the frame is empty. No allocation while the frame size stays the one given to `new`.
    pub fn fill(&self, frame: Rgb8View<'_>) -> Option<u8> {
        if frame.data.is_empty() {
            return None;
        }
        let (i, slot) = self.slots.iter().enumerate().find(|(_, s)| {
            s.busy
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        })?;
        // A poisoned lock only means a panic elsewhere mid-copy; the pixels are overwritten.
        let mut img = slot.image.lock().unwrap_or_else(|p| p.into_inner());
        if (img.width(), img.height()) != (frame.width, frame.height) {
            img.set_size(frame.width, frame.height);
        }
        img.as_bytes_mut().copy_from_slice(frame.data);
        Some(i as u8)
    }

    /// Draws `bbox` on slot `i`, encodes it as JPEG and frees the slot.
    pub fn encode(&self, i: u8, bbox: Option<NormRect>) -> Option<Vec<u8>> {
        let slot = self.slots.get(usize::from(i))?;
        let jpeg = {
            let mut img = slot.image.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(b) = bbox {
                let thick = (img.width().min(img.height()) / 150).max(2);
                img.draw_rect(&b, thick, [255, 32, 32]);
            }
            img.to_jpeg(QUALITY)
        };
        slot.busy.store(false, Ordering::Release);
        jpeg.map_err(|e| log::warn!("snapshot: {e}")).ok()
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
        let (got, n) = count(|| {
            (0..SLOTS + 1)
                .map(|_| slots.fill(view))
                .fold(0, |a, s| a + s.is_some() as usize)
        });
        assert_eq!((got, n), (SLOTS, 0));
        let jpeg = slots
            .encode(2, Some(NormRect::new(0.1, 0.1, 0.9, 0.9)))
            .unwrap();
        assert_eq!(&jpeg[..2], &[0xff, 0xd8]);
        assert_eq!(slots.fill(view), Some(2));
    }
}
