//! Time per `Tracker::update` with 5, 20 and 50 people in view.
//!
//! `cargo bench --bench track` prints, for each crowd size, the median time of one update over
//! some thousands of frames, with the 90th and 99th percentiles. Each update is timed alone;
//! the rare update the scheduler preempts (other processes share the cores) shows in the tail,
//! not in the median. The scene is deterministic: people
//! walk across at different speeds; each frame a few boxes are missing or come back weak, a few
//! are jittered, and there is one clutter box. The goal is at most 20 µs with 20 people.

use picket::detect::config::DetectorConfig;
use picket::detect::{Detection, Detections};
use picket::track::{Tracker, TrackerConfig};
use picket_geom::NormRect;
use std::hint::black_box;
use std::time::{Duration, Instant};

const FPS: u32 = 25;
const WARM_UP: u32 = 100;
const FRAMES: usize = 3000;

/// A small deterministic generator (SplitMix64), so every run sees the same scene.
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f32 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// Fills `dets` with frame `f` of a scene of `people` walkers.
fn scene(people: usize, f: u32, rng: &mut Rng, dets: &mut Detections) {
    dets.clear();
    let s = f as f32 / FPS as f32;
    for i in 0..people {
        let lane = i % 10;
        let speed = 0.02 + 0.01 * (i % 7) as f32;
        let dir = if i % 2 == 0 { 1.0 } else { -1.0 };
        let cx = (0.05 + 0.9 * (i as f32 * 0.37).fract() + dir * speed * s).rem_euclid(1.0);
        let cy = 0.15 + 0.07 * lane as f32;
        let (w, h) = (0.04, 0.12);
        let r = rng.unit();
        if r < 0.1 {
            continue;
        }
        let score = if r < 0.15 {
            0.3
        } else {
            0.6 + 0.35 * rng.unit()
        };
        let jx = (rng.unit() - 0.5) * 0.1 * w;
        let jy = (rng.unit() - 0.5) * 0.1 * h;
        let bbox = NormRect::from_center(cx + jx, cy + jy, w, h);
        dets.push(Detection {
            bbox,
            score,
            class: 0,
        });
    }
    let clutter = NormRect::from_center(rng.unit(), rng.unit(), 0.03, 0.08);
    dets.push(Detection {
        bbox: clutter,
        score: 0.2 + 0.5 * rng.unit(),
        class: 0,
    });
}

fn bench(people: usize) {
    let mut tracker = Tracker::new(
        TrackerConfig::default(),
        DetectorConfig::default().threshold,
    );
    let mut dets = Detections::with_capacity(128);
    let mut rng = Rng(people as u64);
    let mut f = 0;
    for _ in 0..WARM_UP {
        scene(people, f, &mut rng, &mut dets);
        tracker.update(&dets, Duration::from_secs(1) * f / FPS);
        f += 1;
    }
    let mut per_update = Vec::with_capacity(FRAMES);
    let mut tracks = 0;
    for _ in 0..FRAMES {
        // The scene is built outside the timed section: only `update` is measured.
        scene(people, f, &mut rng, &mut dets);
        let t = Duration::from_secs(1) * f / FPS;
        let start = Instant::now();
        let out = tracker.update(black_box(&dets), t);
        per_update.push(start.elapsed().as_secs_f64() * 1e6);
        tracks += out.iter().filter(|k| k.is_confirmed()).count();
        f += 1;
    }
    per_update.sort_by(f64::total_cmp);
    let q = |p: f64| per_update[((per_update.len() - 1) as f64 * p).round() as usize];
    println!(
        "{people:>3} people: median {:>6.2} µs/update (p90 {:.2}, p99 {:.2}); {:.1} confirmed tracks per frame",
        q(0.5),
        q(0.9),
        q(0.99),
        tracks as f64 / FRAMES as f64
    );
}

fn main() {
    for people in [5, 20, 50] {
        bench(people);
    }
}
