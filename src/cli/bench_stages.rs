//! `picket bench --input yuyv|mjpeg`: the hot thread's per-frame stages on a 640×480 camera
//! frame, each timed apart, and their sum beside `Invoke`. The design's budget is that
//! everything but `Invoke` stays within 5% of it for YUYV input; MJPEG adds a JPEG decode.

use super::bench::{gradient, ms, pct, Args};
use crate::detect::{Detections, Detector, SsdDetector};
use crate::track::Tracker;
use anyhow::{bail, Context};
use picket_image::{FrameRef, PixelFormat, Preprocessor};
use std::time::{Duration, Instant};

const W: u32 = 640;
const H: u32 = 480;

pub fn run(args: &Args, format: &str) -> anyhow::Result<()> {
    let format: PixelFormat = format.parse().context("--input")?;
    let img = gradient(W, H);
    let data = match format {
        PixelFormat::Yuyv => yuyv(img.as_bytes()),
        PixelFormat::Mjpeg => img.to_jpeg(85)?,
        other => bail!("--input: {other} is not timed; use yuyv or mjpeg"),
    };
    let frame = FrameRef::new(format, W, H, &data);
    let (model, det_cfg) = args.model.sections()?;
    let mut det = SsdDetector::new(&model, &det_cfg)?;
    let (w, h) = det.input_size();
    let mut pre = Preprocessor::new(w, h, None);
    let mut found = Detections::with_capacity(det_cfg.max_detections);
    let mut tracker = Tracker::new(crate::track::TrackerConfig::default(), det_cfg.threshold);
    let runs = args.runs.max(1);
    let mut times: [Vec<Duration>; 4] = Default::default();
    for i in 0..runs + 10 {
        let t0 = Instant::now();
        pre.run(&frame, det.input()).context("preprocess")?;
        let t1 = Instant::now();
        det.invoke().context("invoke")?;
        let t2 = Instant::now();
        det.decode(&mut found).context("decode")?;
        let t3 = Instant::now();
        tracker.update(&found, Duration::from_millis(100 * i as u64));
        let t4 = Instant::now();
        if i >= 10 {
            for (v, d) in times.iter_mut().zip([t1 - t0, t2 - t1, t3 - t2, t4 - t3]) {
                v.push(d);
            }
        }
    }
    let [mut pre_t, mut inv, mut dec, mut trk] = times;
    let medians = [
        pct(&mut pre_t, 50),
        pct(&mut inv, 50),
        pct(&mut dec, 50),
        pct(&mut trk, 50),
    ];
    let others = medians[0] + medians[2] + medians[3];
    println!(
        "{format} {W}×{H} → {w}×{h}, {} thread(s), XNNPACK {}, {runs} runs after 10 warm-up (medians)",
        model.threads,
        if model.xnnpack { "on" } else { "off" }
    );
    for (name, d) in ["preprocess", "invoke", "decode", "track"]
        .iter()
        .zip(medians)
    {
        println!("  {name:<11} {:>8.3} ms", ms(d));
    }
    println!(
        "  all but invoke {:.3} ms = {:.1}% of invoke",
        ms(others),
        100.0 * others.as_secs_f64() / medians[1].as_secs_f64().max(1e-9)
    );
    Ok(())
}

/// Packed RGB as YUYV (BT.601 limited range), the way a webcam sends it.
fn yuyv(rgb: &[u8]) -> Vec<u8> {
    let y = |p: &[u8]| {
        (16.0 + 0.257 * f32::from(p[0]) + 0.504 * f32::from(p[1]) + 0.098 * f32::from(p[2])) as u8
    };
    let mut out = Vec::with_capacity(rgb.len() / 3 * 2);
    for px in rgb.chunks_exact(6) {
        let (a, b) = (&px[..3], &px[3..]);
        let (r, g, bl) = (f32::from(a[0]), f32::from(a[1]), f32::from(a[2]));
        let u = (128.0 - 0.148 * r - 0.291 * g + 0.439 * bl) as u8;
        let v = (128.0 + 0.439 * r - 0.368 * g - 0.071 * bl) as u8;
        out.extend_from_slice(&[y(a), u, y(b), v]);
    }
    out
}
