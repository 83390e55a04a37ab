//! Finding people: the [`Detector`] trait and the detections it fills.
//!
//! A detector owns its model's input buffer. The preprocess stage writes the resized RGB frame
//! straight into [`Detector::input`], then [`Detector::detect`] runs inference and decodes into a
//! caller-owned [`Detections`], whose storage is allocated once.

use crate::geom::NormRect;

/// One detected object, in normalised frame coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Detection {
    pub bbox: NormRect,
    /// Confidence in `0..=1`, after the sigmoid.
    pub score: f32,
    /// Index into the model's label map.
    pub class: u16,
}

/// A reusable list of detections with a fixed capacity.
///
/// `push` beyond the capacity drops the detection and counts it, so a pathological frame cannot
/// make the hot path allocate.
#[derive(Debug, Clone)]
pub struct Detections {
    items: Vec<Detection>,
    overflow: u64,
}

impl Detections {
    pub fn with_capacity(cap: usize) -> Self {
        Self {
            items: Vec::with_capacity(cap),
            overflow: 0,
        }
    }

    pub fn clear(&mut self) {
        self.items.clear();
    }

    /// Adds `d`; returns false (and counts it) when full.
    pub fn push(&mut self, d: Detection) -> bool {
        if self.items.len() == self.items.capacity() {
            self.overflow += 1;
            return false;
        }
        self.items.push(d);
        true
    }

    pub fn as_slice(&self) -> &[Detection] {
        &self.items
    }

    pub fn as_mut_slice(&mut self) -> &mut [Detection] {
        &mut self.items
    }

    /// Keeps only the detections for which `keep` is true, in order.
    pub fn retain(&mut self, keep: impl FnMut(&Detection) -> bool) {
        self.items.retain(keep);
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.items.capacity()
    }

    /// Detections dropped because the list was full, since creation.
    pub fn overflowed(&self) -> u64 {
        self.overflow
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_past_capacity_is_counted_not_grown() {
        let mut d = Detections::with_capacity(2);
        let cap = d.capacity();
        for _ in 0..cap {
            assert!(d.push(Detection::default()));
        }
        assert!(!d.push(Detection::default()));
        assert_eq!(d.len(), cap);
        assert_eq!(d.capacity(), cap);
        assert_eq!(d.overflowed(), 1);
    }
}
