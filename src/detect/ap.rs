//! Scoring detections against labelled boxes, as `picket eval-detect` reports them: average
//! precision (VOC all-point interpolation) at an IoU, and recall at a rate of false boxes per
//! frame.
//!
//! All detections of all frames are ranked by score. Going down the ranking, a detection is
//! *right* when it overlaps a labelled person of its frame not matched yet at IoU ≥ the bar (the
//! best such person); *left out* when it does not but overlaps an "ignore" region at that bar
//! (neither right nor wrong); else *false*.

use picket_geom::NormRect;

/// A labelled box of one frame; `ignore` marks a region where detections count neither way.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Truth {
    pub frame: u32,
    pub bbox: NormRect,
    pub ignore: bool,
}

/// A detection of one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub frame: u32,
    pub bbox: NormRect,
    pub score: f32,
}

/// The precision–recall curve at one IoU, best score first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Curve {
    /// (score, recall, precision, false boxes so far), one point per right or false detection.
    pub points: Vec<(f32, f32, f32, usize)>,
    /// Labelled people (not ignored).
    pub people: usize,
}

impl Curve {
    /// Ranks `dets` and matches them with `truths` at `iou`.
    pub fn new(dets: &[Scored], truths: &[Truth], iou: f32) -> Self {
        let mut order: Vec<&Scored> = dets.iter().collect();
        order.sort_by(|a, b| b.score.total_cmp(&a.score));
        let people = truths.iter().filter(|t| !t.ignore).count();
        let mut used = vec![false; truths.len()];
        let (mut right, mut wrong) = (0usize, 0usize);
        let mut points = Vec::with_capacity(order.len());
        for d in order {
            let best = truths
                .iter()
                .enumerate()
                .filter(|(i, t)| t.frame == d.frame && !t.ignore && !used[*i])
                .map(|(i, t)| (i, t.bbox.iou(&d.bbox)))
                .filter(|&(_, o)| o >= iou)
                .max_by(|a, b| a.1.total_cmp(&b.1));
            if let Some((i, _)) = best {
                used[i] = true;
                right += 1;
            } else if truths
                .iter()
                .any(|t| t.frame == d.frame && t.ignore && t.bbox.iou(&d.bbox) >= iou)
            {
                continue;
            } else {
                wrong += 1;
            }
            let recall = if people == 0 {
                0.0
            } else {
                right as f32 / people as f32
            };
            let precision = right as f32 / (right + wrong) as f32;
            points.push((d.score, recall, precision, wrong));
        }
        Self { points, people }
    }

    /// Average precision, VOC all-point: the area under the curve with each precision raised to
    /// the best at any higher recall.
    pub fn average_precision(&self) -> f32 {
        let mut ap = 0.0;
        let mut best_after = 0.0f32;
        for (i, p) in self.points.iter().enumerate().rev() {
            best_after = best_after.max(p.2);
            let prev_recall = if i == 0 { 0.0 } else { self.points[i - 1].1 };
            if p.1 > prev_recall {
                ap += (p.1 - prev_recall) * best_after;
            }
        }
        ap
    }

    /// The recall reached before more than `per_frame × frames` false boxes.
    pub fn recall_at_false(&self, per_frame: f32, frames: usize) -> f32 {
        let budget = per_frame * frames as f32;
        self.points
            .iter()
            .take_while(|p| p.3 as f32 <= budget)
            .map(|p| p.1)
            .fold(0.0, f32::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(x: f32) -> NormRect {
        NormRect::new(x, 0.1, x + 0.1, 0.4)
    }

    fn truth(frame: u32, x: f32) -> Truth {
        Truth {
            frame,
            bbox: r(x),
            ignore: false,
        }
    }

    fn det(frame: u32, x: f32, score: f32) -> Scored {
        Scored {
            frame,
            bbox: r(x),
            score,
        }
    }

    #[test]
    fn every_person_found_first_is_an_ap_of_one() {
        let truths = [truth(1, 0.1), truth(1, 0.5), truth(2, 0.3)];
        let dets = [
            det(1, 0.1, 0.9),
            det(1, 0.5, 0.8),
            det(2, 0.3, 0.7),
            det(2, 0.7, 0.2),
        ];
        let c = Curve::new(&dets, &truths, 0.5);
        assert_eq!(c.people, 3);
        assert!((c.average_precision() - 1.0).abs() < 1e-6);
        assert_eq!(c.recall_at_false(0.0, 2), 1.0);
    }

    #[test]
    fn a_false_box_ranked_first_and_a_miss_lower_the_ap_by_the_book() {
        // Ranking: false (0.9), right (0.8), right (0.7); one person never found.
        // Points: (r 0, p 0), (1/3, 1/2), (2/3, 2/3). AP = 1/3·2/3 + 1/3·2/3 = 4/9.
        let truths = [truth(1, 0.1), truth(1, 0.5), truth(1, 0.8)];
        let dets = [det(1, 0.3, 0.9), det(1, 0.1, 0.8), det(1, 0.5, 0.7)];
        let c = Curve::new(&dets, &truths, 0.5);
        assert!((c.average_precision() - 4.0 / 9.0).abs() < 1e-6, "{c:?}");
        // One false box a frame allowed: recall 2/3; none: nothing before the false box.
        assert!((c.recall_at_false(1.0, 1) - 2.0 / 3.0).abs() < 1e-6);
        assert_eq!(c.recall_at_false(0.5, 1), 0.0);
    }

    #[test]
    fn a_person_counts_once_and_ignore_regions_count_neither_way() {
        let mut truths = vec![truth(1, 0.1)];
        truths.push(Truth {
            ignore: true,
            ..truth(1, 0.6)
        });
        // A duplicate of the person (false), a box on the ignore region (left out).
        let dets = [det(1, 0.1, 0.9), det(1, 0.105, 0.8), det(1, 0.6, 0.85)];
        let c = Curve::new(&dets, &truths, 0.5);
        assert_eq!(c.people, 1);
        assert_eq!(c.points.len(), 2);
        assert_eq!(c.points[1].3, 1);
        assert!((c.average_precision() - 1.0).abs() < 1e-6);
        // A box in another frame never matches this frame's person.
        let c = Curve::new(&[det(2, 0.1, 0.9)], &truths, 0.5);
        assert_eq!(c.average_precision(), 0.0);
        // At a looser bar a shifted box is right.
        let shifted = [det(1, 0.14, 0.9)];
        assert_eq!(Curve::new(&shifted, &truths, 0.5).average_precision(), 0.0);
        assert!((Curve::new(&shifted, &truths, 0.3).average_precision() - 1.0).abs() < 1e-6);
    }
}
