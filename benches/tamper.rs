//! Time per frame of video tamper at 640×480: the judge on the motion gate's grid, and the
//! gate's sampling of the grid that tamper makes it do even with gating off.
//!
//! `cargo bench --bench tamper` prints, for a YUYV and an RGB frame, the median time per frame
//! over some thousands of frames (with the 90th and 99th percentiles) of: sampling the 64×48
//! grid (`MotionGate::decide` with gating off and the grid kept, as the pipeline runs it with
//! `[tamper]` on), judging it (`Tamper::observe`), and both. Each frame is timed alone; the
//! frames alternate between a textured scene and the same scene shifted, darkened and flashed,
//! so every branch of the judge runs. The goal is at most 0.1 ms per frame for both together.

// A benchmark: a panic here stops a measurement on its own fixtures, never the appliance.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use picket::motion::{LumaInput, MotionConfig, MotionGate, Tracks};
use picket::tamper::{Tamper, TamperConfig};
use std::hint::black_box;
use std::time::{Duration, Instant};

const W: usize = 640;
const H: usize = 480;
const WARM_UP: usize = 200;
const FRAMES: usize = 5000;

/// Frame `k` of a textured scene as luma: random 8-pixel blocks over a gradient; every 50th
/// frame of each hundred a variation (shifted, dark, white).
fn luma(k: usize) -> Vec<u8> {
    let mut seed = 0x9e37_79b9_u32;
    let blocks: Vec<u8> = (0..(W / 8 + 1) * (H / 8 + 1))
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            (seed % 120) as u8
        })
        .collect();
    let shift = if k % 4 == 1 { W / 4 } else { 0 };
    let scale = if k % 4 == 2 { 0.2 } else { 1.0 };
    (0..W * H)
        .map(|i| {
            let (x, y) = ((i % W + shift) % W, i / W);
            if k % 4 == 3 {
                return 255;
            }
            let v = 30 + x / 8 + usize::from(blocks[(y / 8) * (W / 8 + 1) + x / 8]);
            (v as f32 * scale) as u8
        })
        .collect()
}

/// A frame of `layout` as the gate reads it.
fn input<'a>(layout: &str, f: &'a [u8]) -> LumaInput<'a> {
    match layout {
        "yuyv" => LumaInput::yuyv(f, W as u32, H as u32, 2 * W),
        _ => LumaInput::rgb(f, W as u32, H as u32, 3 * W),
    }
}

fn quantiles(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    (q(0.5), q(0.9), q(0.99))
}

fn bench(layout: &str) {
    let frames: Vec<Vec<u8>> = (0..4)
        .map(|k| {
            let l = luma(k);
            match layout {
                "yuyv" => l.iter().flat_map(|&y| [y, 128]).collect(),
                _ => l.iter().flat_map(|&y| [y, y, y]).collect(),
            }
        })
        .collect();
    let mut gate = MotionGate::new(&MotionConfig::default())
        .unwrap()
        .keep_cells(true);
    let mut tamper = Tamper::new(&TamperConfig {
        enabled: true,
        ..TamperConfig::default()
    });
    let (mut sample, mut judge, mut both) = (Vec::new(), Vec::new(), Vec::new());
    let mut raised = 0;
    for n in 0..WARM_UP + FRAMES {
        // A hundred frames of the scene, then 50 of a variation, in turn.
        let k = if n % 150 < 100 { 0 } else { 1 + (n / 150) % 3 };
        let now = Duration::from_millis(100 * n as u64);
        let t0 = Instant::now();
        let _ = gate.decide(now, Tracks::None, input(layout, black_box(&frames[k])));
        let t1 = Instant::now();
        let (cells, grid) = gate.cells().unwrap();
        raised += usize::from(tamper.observe(now, black_box(cells), grid, true).is_some());
        let t2 = Instant::now();
        if n >= WARM_UP {
            sample.push((t1 - t0).as_secs_f64() * 1e3);
            judge.push((t2 - t1).as_secs_f64() * 1e3);
            both.push((t2 - t0).as_secs_f64() * 1e3);
        }
    }
    for (what, v) in [("grid", sample), ("judge", judge), ("both", both)] {
        let (p50, p90, p99) = quantiles(v);
        println!(
            "{layout} {W}x{H} {what:>5}: median {p50:.4} ms/frame (p90 {p90:.4}, p99 {p99:.4})"
        );
    }
    println!(
        "{layout}: {raised} tamper changes over {} frames",
        WARM_UP + FRAMES
    );
}

fn main() {
    bench("yuyv");
    bench("rgb");
}
