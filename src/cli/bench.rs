//! `picket bench`: time the detector on this machine: inference (median and p99), and the
//! pre- and post-processing around it, with the model's tensor spec. With `--input yuyv` or
//! `--input mjpeg` it times the hot thread's stages instead, on a 640×480 camera frame of that
//! format: everything but `Invoke` (convert or decode, resize, decode the outputs, track) as a
//! share of `Invoke`. Last, the time a frame takes for each tiling (`[detector] tiles`), side by
//! side in alternating rounds.

use super::detect::ModelArgs;
use crate::detect::config::DetectorConfig;
use crate::detect::detector::describe;
use crate::detect::tiles::TileSpec;
use crate::detect::{Detections, Detector, SsdDetector, Tiler};
use anyhow::Context;
use picket_image::resize::{CropBox, Resizer};
use picket_image::{still, RgbImage};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Timed runs, after 10 untimed warm-up runs.
    #[arg(long, default_value_t = 200)]
    pub runs: usize,
    /// A JPEG or PNG to run on; default: a synthetic 640×480 gradient.
    #[arg(long)]
    pub image: Option<PathBuf>,
    /// Time the per-frame stages on a camera frame of this format (`yuyv` or `mjpeg`).
    #[arg(long, value_name = "FORMAT")]
    pub input: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if let Some(f) = &args.input {
        return super::bench_stages::run(&args, f);
    }
    let (model, det_cfg) = args.model.sections()?;
    let mut det = SsdDetector::new(&model, &det_cfg)?;
    let (w, h) = det.input_size();
    let (img, name) = match &args.image {
        Some(p) => (still::load(p)?, p.display().to_string()),
        None => (gradient(640, 480), "synthetic gradient".to_owned()),
    };
    let mut found = Detections::with_capacity(det_cfg.max_detections);
    let (iw, ih) = (img.width(), img.height());
    let mut resizer = Resizer::new(iw, ih, CropBox::full(iw, ih), w, h).context("resizer")?;
    let runs = args.runs.max(1);
    let (mut pre, mut inv, mut post) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..runs + 10 {
        let t0 = Instant::now();
        resizer.resize(img.view(), det.input()).context("resize")?;
        let t1 = Instant::now();
        det.invoke().context("invoke")?;
        let t2 = Instant::now();
        det.decode(&mut found).context("decode")?;
        let t3 = Instant::now();
        if i >= 10 {
            pre.push(t1 - t0);
            inv.push(t2 - t1);
            post.push(t3 - t2);
        }
    }
    let (m, _) = crate::detect::model_paths(&model);
    println!("model    {}", m.display());
    println!("{}", describe(&det));
    println!(
        "threads  {}, {runs} runs after 10 warm-up, on {name} ({}×{})",
        model.threads, iw, ih
    );
    println!(
        "invoke   median {:.2} ms  p99 {:.2} ms",
        ms(pct(&mut inv, 50)),
        ms(pct(&mut inv, 99))
    );
    println!(
        "pre      median {:.3} ms  (stretch-resize to {w}×{h})",
        ms(pct(&mut pre, 50))
    );
    println!(
        "post     median {:.3} ms  (decode, threshold, NMS; {} found)",
        ms(pct(&mut post, 50)),
        found.len()
    );
    tilings(&mut det, &det_cfg, &img, runs)
}

/// The tilings `picket bench` compares.
const TILINGS: [&str; 4] = ["1x1", "auto", "2x1", "2x2"];
/// Rounds over all tilings, alternating, so that a busy moment weighs on each alike.
const ROUNDS: usize = 3;

/// Times a whole frame's detection (resize, inference, decode, tiles, merge) per tiling: the
/// median over [`ROUNDS`] alternating rounds of each round's mean, and its ratio to `1x1`.
fn tilings(
    det: &mut SsdDetector,
    cfg: &DetectorConfig,
    img: &RgbImage,
    runs: usize,
) -> anyhow::Result<()> {
    let input = det.input_size();
    let size = (img.width(), img.height());
    let mut found = Detections::with_capacity(cfg.max_detections);
    let mut tilers = Vec::new();
    for name in TILINGS {
        let spec: TileSpec = name.parse().map_err(anyhow::Error::msg)?;
        let mut t = Tiler::new(
            &DetectorConfig {
                tiles: spec,
                ..cfg.clone()
            },
            None,
        );
        match t.plan(size, input) {
            Ok(tiled) => tilers.push((name, t, tiled, Vec::new())),
            Err(e) => println!("tiles {name:<5} not possible: {e}"),
        }
    }
    let per_round = runs.div_ceil(ROUNDS).max(1);
    for _ in 0..ROUNDS {
        for (_, tiler, _, means) in &mut tilers {
            let t0 = Instant::now();
            for _ in 0..per_round {
                super::detect::detect_image(det, tiler, None, img, &mut found)?;
            }
            means.push(t0.elapsed() / per_round as u32);
        }
    }
    let base = tilers.first().map(|(_, _, _, m)| pct(&mut m.clone(), 50));
    for (name, tiler, _, means) in &mut tilers {
        let med = pct(means, 50);
        let ratio = base.map_or(1.0, |b| med.as_secs_f64() / b.as_secs_f64());
        println!(
            "tiles {name:<5} {} tiles{}  median {:.2} ms a frame  ({ratio:.2}× 1x1; {ROUNDS} \
             rounds of {per_round})",
            tiler.grid().tiles.len(),
            if tiler.whole_frame() && tiler.grid().is_tiled() {
                " + whole frame"
            } else {
                ""
            },
            ms(med),
        );
    }
    Ok(())
}

/// The `p`th percentile (nearest rank) of `v`.
pub(super) fn pct(v: &mut [Duration], p: usize) -> Duration {
    v.sort_unstable();
    let rank = (v.len() * p).div_ceil(100).clamp(1, v.len());
    v[rank - 1]
}

pub(super) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub(super) fn gradient(width: u32, height: u32) -> RgbImage {
    let mut img = RgbImage::new(width, height);
    // `new` sized the buffer, so every pixel has its 3 bytes and nothing can fail.
    let coords = (0..height).flat_map(|y| (0..width).map(move |x| (x, y)));
    for (px, (x, y)) in img.as_bytes_mut().chunks_exact_mut(3).zip(coords) {
        px.copy_from_slice(&[(x * 255 / width) as u8, (y * 255 / height) as u8, 128]);
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut v: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        assert_eq!(pct(&mut v, 50), Duration::from_millis(50));
        assert_eq!(pct(&mut v, 99), Duration::from_millis(99));
        assert_eq!(pct(&mut v[..1], 99), Duration::from_millis(1));
    }

    #[test]
    fn gradient_runs_red_along_x_and_green_along_y() {
        let img = gradient(4, 2);
        assert_eq!((img.width(), img.height()), (4, 2));
        let px = |x: usize, y: usize| &img.as_bytes()[(y * 4 + x) * 3..][..3];
        assert_eq!(px(0, 0), [0, 0, 128]);
        assert_eq!(px(3, 0), [191, 0, 128]);
        assert_eq!(px(1, 1), [63, 127, 128]);
        assert_eq!(px(3, 1), [191, 127, 128]);
    }
}
