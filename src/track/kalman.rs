//! The motion model: a constant-velocity Kalman filter on a box's centre, width and height.
//!
//! # Why x, y, w, h and not ByteTrack's x, y, a, h
//! ByteTrack (after DeepSORT) filters the aspect ratio `a = w/h` with a tiny, fixed noise. That
//! suits pedestrians seen side-on at a distance, but a walking person's width swings with every
//! stride and a person crouching or turning changes aspect quickly; with `a` nearly frozen the
//! filtered box lags and IoU with the next detection falls. Filtering width and height
//! independently (as BoT-SORT does) tracks both, and each axis's noise scales with its own side:
//! x and w with the width, y and h with the height.
//!
//! # Why four small filters instead of one 8×8
//! The state is `[x, y, w, h, vx, vy, vw, vh]`, but the transition, the measurement and every
//! noise matrix are block-diagonal per axis, and so is the initial covariance. The covariance
//! therefore *stays* block-diagonal: the 8-state filter is exactly four independent filters of
//! `[position, velocity]`, each with a symmetric 2×2 covariance. That is the same arithmetic with
//! no zeros multiplied, no matrix inverse, and no allocation.
//!
//! # Time
//! Velocities are per second and `predict` takes the elapsed time, so the model does not depend
//! on the frame rate. The noise weights are ByteTrack's, which are per frame at
//! [`REFERENCE_FPS`]; process noise grows linearly with elapsed time in those frames, so at the
//! reference rate the filter is ByteTrack's.

use picket_geom::NormRect;
use std::time::Duration;

/// The frame rate at which the noise weights below were tuned (ByteTrack's MOT17 rate).
pub const REFERENCE_FPS: f32 = 30.0;
/// Position noise, as a fraction of the box side, per reference frame.
const STD_POSITION: f32 = 1.0 / 20.0;
/// Velocity noise, as a fraction of the box side, per reference frame.
const STD_VELOCITY: f32 = 1.0 / 160.0;
/// The smallest side a filtered box may have, so noise never collapses to zero.
const MIN_SIDE: f32 = 1e-3;

/// One axis: position and velocity with their covariance `[[pp, pv], [pv, vv]]`.
#[derive(Debug, Clone, Copy, Default)]
struct Axis {
    p: f32,
    v: f32,
    pp: f32,
    pv: f32,
    vv: f32,
}

impl Axis {
    fn new(p: f32, side: f32) -> Self {
        let sp = 2.0 * STD_POSITION * side;
        let sv = 10.0 * STD_VELOCITY * side * REFERENCE_FPS;
        Self {
            p,
            v: 0.0,
            pp: sp * sp,
            pv: 0.0,
            vv: sv * sv,
        }
    }

    /// `x ← F x`, `P ← F P Fᵀ + Q` with `F = [[1, dt], [0, 1]]`; `frames` is `dt` in
    /// reference frames, which scales the process noise.
    fn predict(&mut self, dt: f32, frames: f32, side: f32) {
        self.p += self.v * dt;
        self.pp += dt * (2.0 * self.pv + dt * self.vv);
        self.pv += dt * self.vv;
        let qp = STD_POSITION * side;
        let qv = STD_VELOCITY * side * REFERENCE_FPS;
        self.pp += qp * qp * frames;
        self.vv += qv * qv * frames;
    }

    /// The measurement update with `H = [1, 0]` and variance `r`.
    fn update(&mut self, z: f32, r: f32) {
        let s = self.pp + r;
        let (kp, kv) = (self.pp / s, self.pv / s);
        let innovation = z - self.p;
        self.p += kp * innovation;
        self.v += kv * innovation;
        // P ← (I − K H) P, written out for the symmetric 2×2.
        let (pp, pv) = (self.pp, self.pv);
        self.pp = pp - kp * pp;
        self.pv = pv - kp * pv;
        self.vv -= kv * pv;
    }
}

/// A box's motion state. Owned by one track; created from its first detection, then advanced
/// with [`predict`](Self::predict) once per frame and corrected with [`update`](Self::update)
/// when the track is matched.
#[derive(Debug, Clone, Copy, Default)]
pub struct BoxFilter {
    x: Axis,
    y: Axis,
    w: Axis,
    h: Axis,
}

impl BoxFilter {
    /// Starts at `r` with zero velocity and ByteTrack's initial uncertainty.
    pub fn new(r: &NormRect) -> Self {
        let c = r.center();
        let (w, h) = (r.width().max(MIN_SIDE), r.height().max(MIN_SIDE));
        Self {
            x: Axis::new(c.x, w),
            y: Axis::new(c.y, h),
            w: Axis::new(w, w),
            h: Axis::new(h, h),
        }
    }

    /// Advances the state by `dt`.
    pub fn predict(&mut self, dt: Duration) {
        let dt = dt.as_secs_f32();
        let frames = dt * REFERENCE_FPS;
        let (w, h) = (self.w.p, self.h.p);
        self.x.predict(dt, frames, w);
        self.y.predict(dt, frames, h);
        self.w.predict(dt, frames, w);
        self.h.predict(dt, frames, h);
        self.w.p = self.w.p.max(MIN_SIDE);
        self.h.p = self.h.p.max(MIN_SIDE);
    }

    /// Corrects the state with a measured box.
    pub fn update(&mut self, r: &NormRect) {
        let c = r.center();
        let (w, h) = (self.w.p, self.h.p);
        let rw = (STD_POSITION * w) * (STD_POSITION * w);
        let rh = (STD_POSITION * h) * (STD_POSITION * h);
        self.x.update(c.x, rw);
        self.y.update(c.y, rh);
        self.w.update(r.width(), rw);
        self.h.update(r.height(), rh);
        self.w.p = self.w.p.max(MIN_SIDE);
        self.h.p = self.h.p.max(MIN_SIDE);
    }

    /// Stops the size from changing while the track coasts unseen, as ByteTrack does for lost
    /// tracks: a box shrinking or growing on its own for a second is never what happened.
    pub fn freeze_size(&mut self) {
        self.w.v = 0.0;
        self.h.v = 0.0;
    }

    /// The squared Mahalanobis distance of a measured box from the prediction: how many
    /// standard deviations of the innovation (`P + R`) it lies away, summed over the four axes.
    /// Under the model it follows χ² with 4 degrees of freedom.
    pub fn mahalanobis2(&self, r: &NormRect) -> f32 {
        let c = r.center();
        let (w, h) = (self.w.p, self.h.p);
        let rw = (STD_POSITION * w) * (STD_POSITION * w);
        let rh = (STD_POSITION * h) * (STD_POSITION * h);
        let d = |a: &Axis, z: f32, r: f32| (z - a.p) * (z - a.p) / (a.pp + r);
        d(&self.x, c.x, rw)
            + d(&self.y, c.y, rh)
            + d(&self.w, r.width(), rw)
            + d(&self.h, r.height(), rh)
    }

    /// The current estimate as a box.
    pub fn rect(&self) -> NormRect {
        NormRect::from_center(self.x.p, self.y.p, self.w.p, self.h.p)
    }

    /// The centre's velocity, in frame fractions per second.
    pub fn velocity(&self) -> (f32, f32) {
        (self.x.v, self.y.v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: Duration = Duration::from_millis(40);

    #[test]
    fn learns_a_constant_velocity_and_extrapolates_it() {
        // A box moving right at 0.25 frame widths per second, sampled at 25 fps.
        let at = |i: u32| NormRect::from_center(0.1 + 0.01 * i as f32, 0.5, 0.05, 0.2);
        let mut f = BoxFilter::new(&at(0));
        for i in 1..40 {
            f.predict(FRAME);
            f.update(&at(i));
        }
        let (vx, vy) = f.velocity();
        assert!((vx - 0.25).abs() < 0.01, "vx {vx}");
        assert!(vy.abs() < 1e-3, "vy {vy}");
        // One unseen second later the centre is where the motion says.
        f.freeze_size();
        f.predict(Duration::from_secs(1));
        let c = f.rect().center();
        assert!((c.x - (0.1 + 0.39 + 0.25)).abs() < 0.01, "x {}", c.x);
        assert!((f.rect().height() - 0.2).abs() < 1e-3);
    }

    #[test]
    fn a_measurement_pulls_the_state_toward_it_and_shrinks_uncertainty() {
        let mut f = BoxFilter::new(&NormRect::from_center(0.5, 0.5, 0.1, 0.3));
        f.predict(FRAME);
        let before = f.x.pp;
        f.update(&NormRect::from_center(0.52, 0.5, 0.1, 0.3));
        let x = f.rect().center().x;
        assert!(x > 0.5 && x < 0.52, "x {x}");
        assert!(f.x.pp < before);
        assert!(f.x.pp > 0.0 && f.x.vv > 0.0);
    }

    #[test]
    fn sizes_stay_positive() {
        let mut f = BoxFilter::new(&NormRect::from_center(0.5, 0.5, 0.1, 0.1));
        for i in 0..10 {
            f.predict(FRAME);
            let s = 0.1 - 0.01 * i as f32;
            f.update(&NormRect::from_center(0.5, 0.5, s, s));
        }
        f.predict(Duration::from_secs(5));
        assert!(f.rect().width() >= MIN_SIDE && f.rect().height() >= MIN_SIDE);
    }
}
