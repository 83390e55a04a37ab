//! Per-track motion judgements: which side of a line a foot is on (with hysteresis), and how
//! much a trajectory turns (wandering).
//!
//! ## The wandering formula
//! Over the last `window` seconds of a track's foot points `p_0 … p_n` (oldest first):
//! 1. **Smooth**: `s_i` is the mean of `p_{i-2}, p_{i-1}, p_i` (a 3-sample moving average),
//!    which removes most detector jitter.
//! 2. **Decimate**: keep `s_i` only once it is at least `min_step` (normalised distance) from the
//!    last kept point `k_j`. Standing still therefore produces no steps and no turning.
//! 3. **Turn**: with headings `θ_j = atan2(k_{j+1} - k_j)`, the total turning is
//!    `Θ = Σ |wrap(θ_{j+1} - θ_j)|`, each difference wrapped to `[-π, π]`.
//! 4. **Rate**: `Θ / T`, where `T` is the time spanned by the samples used (at least half the
//!    window must be covered, else there is no verdict yet).
//!
//! A purposeful walk, even a curved one, turns a little (a quarter circle in 5 s is 0.3 rad/s);
//! pacing back and forth turns π per reversal, and circling turns 2π per lap. The rule fires when
//! the rate is at least `min_turn_rate` (default 0.8 rad/s)
//! and `min_step` defaults to 0.05: detector jitter of a few thousandths of the frame then bends
//! a heading by well under 0.2 rad while the person has been inside the
//! zone for `min_seconds`. The window is capped by the track's history (64 samples).

use crate::event::Direction;
use crate::rules::shape::{cross, segments_intersect};
use crate::track::FootSample;
use picket_geom::NormPoint;
use std::f32::consts::PI;
use std::time::Duration;

/// A line a→b with its hysteresis band, ready for side tests.
#[derive(Debug, Clone, PartialEq)]
pub struct Tripwire {
    pub a: NormPoint,
    pub b: NormPoint,
    len: f32,
    band: f32,
}

impl Tripwire {
    pub fn new(a: NormPoint, b: NormPoint, band: f32) -> Self {
        let len = ((b.x - a.x).powi(2) + (b.y - a.y).powi(2)).sqrt().max(1e-6);
        Tripwire { a, b, len, band }
    }

    /// Signed distance from the line; positive on the right of a→b.
    pub fn distance(&self, p: NormPoint) -> f32 {
        cross(self.a, self.b, p) / self.len
    }
}

/// What one track last did relative to one line.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SideMemo {
    /// -1 left, +1 right, 0 not yet known.
    side: i8,
    /// The last point that was firmly (outside the band) on `side`.
    anchor: NormPoint,
}

impl SideMemo {
    /// Feeds the newest foot point; returns a crossing when the foot has left the band on the
    /// other side from where it was last firmly seen, and the path between the two firm points
    /// passes through the segment itself (not merely its extension).
    pub fn update(&mut self, wire: &Tripwire, p: NormPoint) -> Option<Direction> {
        let d = wire.distance(p);
        if d.abs() < wire.band || !d.is_finite() {
            return None;
        }
        let side = if d > 0.0 { 1 } else { -1 };
        let before = (self.side, self.anchor);
        self.side = side;
        self.anchor = p;
        match before {
            (0, _) => None,
            (s, _) if s == side => None,
            (_, from) if segments_intersect(from, p, wire.a, wire.b) => Some(if side > 0 {
                Direction::LeftToRight
            } else {
                Direction::RightToLeft
            }),
            _ => None,
        }
    }
}

/// The turning rate (rad/s) of the smoothed trajectory over the last `window` before `now`, per
/// the formula in the module docs; `None` while too little of the window is covered.
pub fn turn_rate<'a>(
    samples: impl Iterator<Item = &'a FootSample>,
    now: Duration,
    window: Duration,
    min_step: f32,
) -> Option<f32> {
    let since = now.saturating_sub(window);
    let mut raw: [NormPoint; 3] = [NormPoint::default(); 3];
    let mut n_raw = 0usize;
    let mut kept: Option<NormPoint> = None;
    let mut heading: Option<f32> = None;
    let mut turning = 0.0f32;
    let (mut first_t, mut last_t) = (None, Duration::ZERO);
    for s in samples.filter(|s| s.t >= since && s.t <= now) {
        raw[n_raw % 3] = s.at;
        n_raw += 1;
        if n_raw < 3 {
            continue;
        }
        let sm = NormPoint::new(
            (raw[0].x + raw[1].x + raw[2].x) / 3.0,
            (raw[0].y + raw[1].y + raw[2].y) / 3.0,
        );
        first_t.get_or_insert(s.t);
        last_t = s.t;
        let Some(k) = kept else {
            kept = Some(sm);
            continue;
        };
        let (dx, dy) = (sm.x - k.x, sm.y - k.y);
        if (dx * dx + dy * dy).sqrt() < min_step {
            continue;
        }
        let h = dy.atan2(dx);
        if let Some(prev) = heading {
            let mut d = h - prev;
            while d > PI {
                d -= 2.0 * PI;
            }
            while d < -PI {
                d += 2.0 * PI;
            }
            turning += d.abs();
        }
        heading = Some(h);
        kept = Some(sm);
    }
    let span = last_t.saturating_sub(first_t?);
    if span < window / 2 || span.is_zero() {
        return None;
    }
    Some(turning / span.as_secs_f32())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(f: impl Fn(f32) -> (f32, f32), secs: f32, fps: f32) -> Vec<FootSample> {
        let n = (secs * fps) as usize;
        (0..n)
            .map(|i| {
                let t = i as f32 / fps;
                let (x, y) = f(t);
                FootSample {
                    t: Duration::from_secs_f32(t),
                    at: NormPoint::new(x, y),
                }
            })
            .collect()
    }

    fn rate(s: &[FootSample]) -> Option<f32> {
        let now = s.last().unwrap().t;
        turn_rate(s.iter(), now, Duration::from_secs(6), 0.05)
    }

    #[test]
    fn a_straight_walk_with_jitter_barely_turns() {
        let jitter = |t: f32| ((t * 37.0).sin() * 0.004, (t * 53.0).cos() * 0.004);
        let s = samples(
            |t| (0.1 + 0.1 * t + jitter(t).0, 0.5 + jitter(t).1),
            6.0,
            10.0,
        );
        let r = rate(&s).unwrap();
        assert!(r < 0.4, "straight walk turned {r} rad/s");
    }

    #[test]
    fn pacing_back_and_forth_turns_a_lot() {
        // 0.2 of the frame every 2 s, back and forth: a reversal each 2 s.
        let pace = |t: f32| {
            let ph = t % 4.0;
            let x = if ph < 2.0 { ph } else { 4.0 - ph };
            (0.4 + 0.1 * x, 0.6 + 0.01 * (t * 3.0).sin())
        };
        let r = rate(&samples(pace, 6.0, 10.0)).unwrap();
        assert!(r > 1.0, "pacing turned only {r} rad/s");
    }

    #[test]
    fn standing_still_has_no_turning_and_short_history_no_verdict() {
        let still = samples(|t| (0.5 + 0.003 * (t * 29.0).sin(), 0.5), 6.0, 10.0);
        assert_eq!(rate(&still), Some(0.0));
        let short = samples(|t| (0.1 * t, 0.5), 2.0, 10.0);
        assert_eq!(rate(&short), None);
    }

    #[test]
    fn jitter_on_the_line_does_not_cross_but_leaving_the_band_does() {
        let wire = Tripwire::new(NormPoint::new(0.5, 0.0), NormPoint::new(0.5, 1.0), 0.02);
        let mut m = SideMemo::default();
        // From a→b pointing down the image, the right-hand side is to the left of the image.
        assert!(wire.distance(NormPoint::new(0.3, 0.5)) > 0.0);
        let mut got = Vec::new();
        for x in [0.3, 0.45, 0.49, 0.51, 0.495, 0.505, 0.49, 0.51, 0.55, 0.7] {
            if let Some(d) = m.update(&wire, NormPoint::new(x, 0.5)) {
                got.push(d);
            }
        }
        assert_eq!(got, vec![Direction::RightToLeft]);
    }
}
