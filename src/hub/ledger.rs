//! Which of each box's journal ids the hub holds, and what it should ask to have again.
//!
//! A box's ids rise by one, so what the hub lacks is the holes below the highest id it knows
//! of: the highest it received, or the `last_id` of the box's state message. A hole is asked
//! for on `<prefix>/<box>/replay` only once the box has been quiet for [`QUIET`] (while events
//! stream, a hole is usually on its way), and the same request at most every [`ASK_AGAIN`].
//! An `uplink_gap` from the box (ids its journal pruned) fills its range: those are gone.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How long a box must send no event before its holes are asked for.
pub const QUIET: Duration = Duration::from_secs(2);
/// The same range is asked for again after this, if still missing.
pub const ASK_AGAIN: Duration = Duration::from_secs(10);

/// Sorted, disjoint, non-adjacent ranges of ids, `start -> end` inclusive.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Ranges(BTreeMap<i64, i64>);

impl Ranges {
    /// Adds `from..=to`, merging with neighbours.
    pub fn add(&mut self, from: i64, to: i64) {
        if to < from {
            return;
        }
        let (mut lo, mut hi) = (from, to);
        // The range starting at or before `from` that touches it.
        if let Some((&s, &e)) = self.0.range(..=from).next_back() {
            if e + 1 >= from {
                lo = s;
                hi = hi.max(e);
                self.0.remove(&s);
            }
        }
        while let Some((&s, &e)) = self.0.range(lo..).next() {
            if s > hi + 1 {
                break;
            }
            hi = hi.max(e);
            self.0.remove(&s);
        }
        self.0.insert(lo, hi);
    }

    pub fn max(&self) -> Option<i64> {
        self.0.values().next_back().copied()
    }

    pub fn min(&self) -> Option<i64> {
        self.0.keys().next().copied()
    }

    /// The holes in `from..=to`, in order.
    pub fn holes(&self, from: i64, to: i64) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        let mut next = from;
        for (&s, &e) in &self.0 {
            if e < next {
                continue;
            }
            if s > to {
                break;
            }
            if s > next {
                out.push((next, s - 1));
            }
            next = e + 1;
        }
        if next <= to {
            out.push((next, to));
        }
        out
    }
}

/// One box, as the hub knows it.
#[derive(Debug)]
pub struct BoxLedger {
    /// Ids held (or known lost, by an `uplink_gap`).
    pub have: Ranges,
    /// Holes are looked for from here: 1 for a box first met now, else the lowest id the hub
    /// journal held when the hub started (older rows were pruned by its own ring).
    pub floor: i64,
    /// The newest id the box's state message named.
    pub last_id: Option<i64>,
    pub last_event: Instant,
    pub last_heard: Instant,
    /// The last request sent, and when.
    pub asked: Option<((i64, i64), Instant)>,
    pub online: bool,
}

impl BoxLedger {
    pub fn new(now: Instant, floor: i64) -> Self {
        Self {
            have: Ranges::default(),
            floor,
            last_id: None,
            last_event: now,
            last_heard: now,
            asked: None,
            online: true,
        }
    }

    /// The range to ask for now, if any: the first hole, when the box is quiet and it was not
    /// just asked for.
    pub fn to_ask(&self, now: Instant) -> Option<(i64, i64)> {
        if now.duration_since(self.last_event) < QUIET {
            return None;
        }
        let top = self.have.max().max(self.last_id)?;
        let hole = *self.have.holes(self.floor, top).first()?;
        match self.asked {
            Some((r, at)) if r == hole && now.duration_since(at) < ASK_AGAIN => None,
            _ => Some(hole),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_merge_and_show_their_holes() {
        let mut r = Ranges::default();
        for id in [1, 2, 3, 7, 5, 4, 10] {
            r.add(id, id);
        }
        assert_eq!(
            r.0.iter().map(|(a, b)| (*a, *b)).collect::<Vec<_>>(),
            [(1, 5), (7, 7), (10, 10)]
        );
        assert_eq!(r.holes(1, 12), [(6, 6), (8, 9), (11, 12)]);
        r.add(6, 9);
        assert_eq!(r.holes(1, 10), []);
        assert_eq!((r.min(), r.max()), (Some(1), Some(10)));
        assert_eq!(r.holes(0, 3), [(0, 0)]);
    }

    #[test]
    fn a_hole_is_asked_for_once_the_box_is_quiet_and_not_again_at_once() {
        let t0 = Instant::now();
        let mut b = BoxLedger::new(t0, 1);
        b.have.add(1, 4);
        b.have.add(8, 9);
        assert_eq!(b.to_ask(t0), None, "events are streaming");
        let later = t0 + QUIET;
        assert_eq!(b.to_ask(later), Some((5, 7)));
        b.asked = Some(((5, 7), later));
        assert_eq!(b.to_ask(later + Duration::from_secs(1)), None);
        assert_eq!(b.to_ask(later + ASK_AGAIN), Some((5, 7)));
        b.have.add(5, 7);
        b.last_id = Some(12);
        assert_eq!(b.to_ask(later), Some((10, 12)), "the state names newer ids");
    }
}
