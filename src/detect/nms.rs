//! Greedy non-maximum suppression over a caller-owned candidate list.

use picket_geom::NormRect;

/// A box that passed the score threshold, before suppression.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Candidate {
    pub bbox: NormRect,
    pub score: f32,
    pub class: u16,
    /// Where it came from (anchor or output row); breaks ties so the order is deterministic.
    pub index: u32,
}

/// Sorts `cands` by score (highest first; equal scores by index) and keeps, class by class,
/// each box whose IoU with every box kept before it is at most `iou`. Kept boxes are moved to
/// the front in score order; returns how many. Sorts in place and allocates nothing.
pub fn suppress(cands: &mut [Candidate], iou: f32) -> usize {
    cands.sort_unstable_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.index.cmp(&b.index))
    });
    let mut kept = 0;
    for i in 0..cands.len() {
        let c = cands[i];
        let overlaps = cands[..kept]
            .iter()
            .any(|k| k.class == c.class && k.bbox.iou(&c.bbox) > iou);
        if !overlaps {
            cands[kept] = c;
            kept += 1;
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(x0: f32, score: f32, class: u16, index: u32) -> Candidate {
        Candidate {
            bbox: NormRect::new(x0, 0.0, x0 + 0.2, 0.2),
            score,
            class,
            index,
        }
    }

    #[test]
    fn overlapping_boxes_of_one_class_keep_the_best() {
        // 0.0 and 0.02 overlap heavily; 0.5 is apart; class 2 at 0.01 is another class.
        let mut v = [
            c(0.02, 0.5, 1, 0),
            c(0.0, 0.9, 1, 1),
            c(0.5, 0.7, 1, 2),
            c(0.01, 0.6, 2, 3),
        ];
        let n = suppress(&mut v, 0.4);
        assert_eq!(n, 3);
        let idx: Vec<u32> = v[..n].iter().map(|c| c.index).collect();
        assert_eq!(idx, [1, 2, 3]);
    }

    #[test]
    fn equal_scores_are_ordered_by_index() {
        let mut v = [c(0.0, 0.5, 1, 7), c(0.01, 0.5, 1, 3)];
        assert_eq!(suppress(&mut v, 0.4), 1);
        assert_eq!(v[0].index, 3);
    }
}
